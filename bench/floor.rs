//! The engine's floor for `up`: create and start the same containers as a
//! compose project straight through the Docker API, each dependency level
//! fully in parallel, then report the wall time. Used by bench/compose.sh
//! and bench/scale.sh.
//!
//!   engine-floor PROJECT SERVICES CHAIN IMAGE     (prints seconds)
//!   engine-floor --clean PROJECT                  (removes what it made)
//!   engine-floor --one NAME IMAGE                 (create+start one container
//!                                                  on the default bridge, seconds)
//!
//! Everything it makes carries the label `orch.floor=PROJECT`, and only
//! what carries it is removed. A run first removes what an interrupted run
//! of the same PROJECT left, and its containers join the network by ID: a
//! leftover network of the same name can neither make the name ambiguous
//! nor be used by mistake.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use bollard::models::ContainerCreateBody;
use bollard::query_parameters as qp;
use bollard::Docker;
use futures_util::future::join_all;

/// Hundreds of parallel calls on a slow engine outlast bollard's default
/// two minutes; the floor waits as compose would.
const CALL_TIMEOUT: Duration = Duration::from_secs(900);

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let d = match Docker::connect_with_local_defaults() {
        Ok(d) => d.with_timeout(CALL_TIMEOUT),
        Err(e) => die(format!("cannot reach the Docker engine: {e}")),
    };
    let d = d
        .negotiate_version()
        .await
        .unwrap_or_else(|e| die(format!("the Docker engine does not answer: {e}")));
    match args.first().map(String::as_str) {
        Some("--clean") if args.len() == 2 => {
            if let Err(e) = clean(&d, &args[1]).await {
                die(e);
            }
        }
        Some("--one") if args.len() == 3 => {
            let (name, image) = (&args[1], &args[2]);
            let started = Instant::now();
            create_and_start(&d, name, image, name, None)
                .await
                .unwrap_or_else(|e| die(e));
            println!("{:.3}", started.elapsed().as_secs_f64());
        }
        _ if args.len() == 4 => match up(&d, &args).await {
            Ok(secs) => println!("{secs:.3}"),
            Err(e) => {
                // Leaves nothing behind for the next run to trip on.
                let _ = clean(&d, &args[0]).await;
                die(e)
            }
        },
        _ => die("usage: engine-floor PROJECT SERVICES CHAIN IMAGE | --clean PROJECT | --one NAME IMAGE".into()),
    }
}

fn die(msg: String) -> ! {
    eprintln!("engine-floor: {msg}");
    std::process::exit(1)
}

fn labelled(project: &str) -> HashMap<String, Vec<String>> {
    HashMap::from([("label".to_string(), vec![format!("orch.floor={project}")])])
}

/// `PROJECT SERVICES CHAIN IMAGE`: the timed run; its seconds.
async fn up(d: &Docker, args: &[String]) -> Result<f64, String> {
    let (project, image) = (&args[0], &args[3]);
    let services: usize = args[1].parse().map_err(|e| format!("SERVICES {:?}: {e}", args[1]))?;
    let chain: usize = args[2].parse().map_err(|e| format!("CHAIN {:?}: {e}", args[2]))?;
    let chain = chain.max(1);
    clean(d, project).await?;
    let started = Instant::now();
    // Like compose and orch: the project's own network, every container on it.
    let net = d
        .create_network(bollard::models::NetworkCreateRequest {
            name: format!("{project}_default"),
            driver: Some("bridge".into()),
            labels: Some(HashMap::from([("orch.floor".to_string(), project.to_string())])),
            ..Default::default()
        })
        .await
        .map_err(|e| format!("create network {project}_default: {e}"))?
        .id;
    // Level k holds service i where i % chain == k: a chain's members are
    // one per level, so each level must wait for the previous one.
    for level in 0..chain {
        let jobs = (0..services).filter(|i| i % chain == level).map(|i| {
            let name = format!("{project}-s{i}-1");
            let net = net.clone();
            async move { create_and_start(d, &name, image, project, Some(net)).await }
        });
        join_all(jobs).await.into_iter().collect::<Result<Vec<()>, String>>()?;
    }
    Ok(started.elapsed().as_secs_f64())
}

/// Removes the containers and networks labelled for `project`, checking
/// that none is left (a removal that failed under load used to go
/// unnoticed, and the next run then made a second network of the name).
async fn clean(d: &Docker, project: &str) -> Result<(), String> {
    for _round in 0..3 {
        let list = d
            .list_containers(Some(qp::ListContainersOptions {
                all: true,
                filters: Some(labelled(project)),
                ..Default::default()
            }))
            .await
            .map_err(|e| format!("list containers of {project}: {e}"))?;
        let force = Some(qp::RemoveContainerOptions {
            force: true,
            ..Default::default()
        });
        join_all(
            list.iter()
                .map(|c| d.remove_container(c.id.as_deref().unwrap_or_default(), force.clone())),
        )
        .await;
        let nets = d
            .list_networks(Some(qp::ListNetworksOptions {
                filters: Some(labelled(project)),
            }))
            .await
            .map_err(|e| format!("list networks of {project}: {e}"))?;
        for n in &nets {
            let _ = d.remove_network(n.id.as_deref().unwrap_or_default()).await;
        }
        if list.is_empty() && nets.is_empty() {
            return Ok(());
        }
    }
    Err(format!(
        "containers or networks labelled orch.floor={project} are still there after three rounds of removal"
    ))
}

/// One container as compose would run the benchmark's service: created,
/// then started; labelled for `--clean`.
async fn create_and_start(
    d: &Docker,
    name: &str,
    image: &str,
    label: &str,
    network: Option<String>,
) -> Result<(), String> {
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
    let opts = qp::CreateContainerOptions {
        name: Some(name.to_string()),
        platform: String::new(),
    };
    let c = d
        .create_container(Some(opts), body)
        .await
        .map_err(|e| format!("create container {name}: {e}"))?;
    d.start_container(&c.id, None::<qp::StartContainerOptions>)
        .await
        .map_err(|e| format!("start container {name}: {e}"))
}
