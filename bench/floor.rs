//! The engine's floor for `up`: create and start the same containers as a
//! compose project straight through the Docker API, each dependency level
//! fully in parallel, then report the wall time. Used by bench/compose.sh.
//!
//!   engine-floor PROJECT SERVICES CHAIN IMAGE     (prints seconds)
//!   engine-floor --clean PROJECT                  (removes what it made)
//!   engine-floor --one NAME IMAGE                 (create+start one container
//!                                                  on the default bridge, seconds)

use std::collections::HashMap;
use std::time::Instant;

use bollard::models::ContainerCreateBody;
use bollard::query_parameters as qp;
use bollard::Docker;
use futures_util::future::join_all;

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let d = Docker::connect_with_local_defaults()
        .expect("docker")
        .negotiate_version()
        .await
        .expect("engine");
    if args.first().map(String::as_str) == Some("--clean") {
        let project = &args[1];
        let filters = HashMap::from([("label".to_string(), vec![format!("orch.floor={project}")])]);
        let list = d
            .list_containers(Some(qp::ListContainersOptions {
                all: true,
                filters: Some(filters),
                ..Default::default()
            }))
            .await
            .expect("list");
        join_all(list.into_iter().map(|c| {
            let d = d.clone();
            async move {
                let _ = d
                    .remove_container(
                        &c.id.unwrap_or_default(),
                        Some(qp::RemoveContainerOptions {
                            force: true,
                            ..Default::default()
                        }),
                    )
                    .await;
            }
        }))
        .await;
        // The network goes once its containers are gone (all of them, if
        // an earlier run left several with this name).
        let filters = HashMap::from([("name".to_string(), vec![format!("{project}_default")])]);
        for n in d
            .list_networks(Some(qp::ListNetworksOptions { filters: Some(filters) }))
            .await
            .unwrap_or_default()
        {
            let _ = d.remove_network(&n.id.unwrap_or_default()).await;
        }
        return;
    }
    if args.first().map(String::as_str) == Some("--one") {
        let (name, image) = (&args[1], &args[2]);
        let started = Instant::now();
        create_and_start(&d, name, image, name, None).await;
        println!("{:.3}", started.elapsed().as_secs_f64());
        return;
    }
    let (project, services, chain, image) = (
        &args[0],
        args[1].parse::<usize>().unwrap(),
        args[2].parse::<usize>().unwrap(),
        &args[3],
    );
    let chain = chain.max(1);
    let started = Instant::now();
    // Like compose and orch: the project's own network, every container on it.
    let net = format!("{project}_default");
    d.create_network(bollard::models::NetworkCreateRequest {
        name: net.clone(),
        driver: Some("bridge".into()),
        ..Default::default()
    })
    .await
    .expect("network");
    // Level k holds service i where i % chain == k: a chain's members are
    // one per level, so each level must wait for the previous one.
    for level in 0..chain {
        let jobs = (0..services).filter(|i| i % chain == level).map(|i| {
            let d = d.clone();
            let name = format!("{project}-s{i}-1");
            let net = net.clone();
            async move { create_and_start(&d, &name, image, project, Some(net)).await }
        });
        join_all(jobs).await;
    }
    println!("{:.3}", started.elapsed().as_secs_f64());
}

/// One container as compose would run the benchmark's service: created,
/// then started; labelled for `--clean`.
async fn create_and_start(d: &Docker, name: &str, image: &str, label: &str, network: Option<String>) {
    let body = ContainerCreateBody {
        image: Some(image.to_string()),
        cmd: Some(vec![
            "sh".into(),
            "-c".into(),
            "trap 'exit 0' TERM; sleep 3600 & wait".into(),
        ]),
        labels: Some(HashMap::from([("orch.floor".to_string(), label.to_string())])),
        host_config: network.map(|n| bollard::models::HostConfig {
            network_mode: Some(n),
            ..Default::default()
        }),
        ..Default::default()
    };
    let c = d
        .create_container(
            Some(qp::CreateContainerOptions {
                name: Some(name.to_string()),
                platform: String::new(),
            }),
            body,
        )
        .await
        .expect("create");
    d.start_container(&c.id, None::<qp::StartContainerOptions>)
        .await
        .expect("start");
}
