//! Autoscaling a swarm service on the 3-node test swarm: `service::stats`
//! reads every task's container from its own node's engine, and a custom
//! metric closure over those samples drives `orch autoscale`, which scales
//! with `service::scale` (the spec otherwise unchanged).

mod common;

use common::cluster::{wait_for, Cluster};
use common::*;
use serde_json::Value;

fn node_hosts(cluster: &Cluster) -> Vec<String> {
    (1..=3)
        .map(|i| format!("{}={}", cluster.node(i).name, cluster.node(i).host))
        .collect()
}

/// One swarm for both scenarios (one cluster per test binary): the
/// manager's loss comes last, as it leaves the swarm unfit for more.
#[test]
fn custom_metric_then_a_lost_manager_on_one_swarm() {
    let image = test_image();
    let cluster = Cluster::start(3, &[image]);
    cluster.swarm();
    swarm_service_stats_from_each_node_drive_a_custom_metric(&cluster, image);
    a_stopped_manager_is_reported_and_the_next_host_takes_over(&cluster, image);
}

fn swarm_service_stats_from_each_node_drive_a_custom_metric(cluster: &Cluster, image: &str) {
    cluster.docker(
        1,
        &[
            "service",
            "create",
            "-d",
            "--name",
            "web",
            "--replicas",
            "3",
            "--no-resolve-image",
            "--limit-cpu",
            "0.2",
            "--placement-pref",
            "spread=node.id",
            image,
            "sleep",
            "600",
        ],
    );
    wait_for("3 running tasks", 60, || {
        cluster
            .docker(
                1,
                &[
                    "service",
                    "ps",
                    "web",
                    "--filter",
                    "desired-state=running",
                    "--format",
                    "{{.CurrentState}}",
                ],
            )
            .lines()
            .filter(|l| l.starts_with("Running"))
            .count()
            == 3
    });
    let spec_before: Value =
        serde_json::from_str(&cluster.docker(1, &["service", "inspect", "web", "--format", "{{json .Spec}}"])).unwrap();

    // Each task's sample comes from its node's engine.
    let hosts = node_hosts(cluster);
    let map = hosts
        .iter()
        .map(|kv| {
            let (n, h) = kv.split_once('=').unwrap();
            format!("{n}: \"{h}\"")
        })
        .collect::<Vec<_>>()
        .join(", ");
    let (_d, path) = script(&format!(
        "print(to_json(service::stats(\"web\", #{{ node_hosts: #{{ {map} }} }})));"
    ));
    let out = cluster.orch(1).arg("run").arg(&path).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let samples: Value = serde_json::from_str(stdout(&out).trim()).unwrap();
    let samples = samples.as_array().unwrap();
    assert_eq!(samples.len(), 3, "{samples:?}");
    let mut nodes: Vec<&str> = samples.iter().map(|s| s["node"].as_str().unwrap()).collect();
    nodes.sort();
    assert_eq!(nodes, ["node1", "node2", "node3"], "{samples:?}");
    for s in samples {
        assert!(s["error"].is_null(), "{s}");
        let i: usize = s["node"].as_str().unwrap()[4..].parse().unwrap();
        // The container is on that node's engine, under that name.
        let names = cluster.docker(i, &["ps", "--format", "{{.Names}}"]);
        assert!(
            names.contains(s["name"].as_str().unwrap()),
            "{s} not on node{i}: {names}"
        );
        assert_eq!(s["cpu_limit"], 0.2);
        assert_eq!(s["pids"], 1);
    }

    // A custom metric over those samples: 20 per task against a target
    // of 10 → twice the replicas.
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules.rhai");
    std::fs::write(
        &rules,
        r#"fn rules() {
    [#{ service: "web", kind: "swarm", min: 1, max: 6, metrics: [#{ name: "work", target: 10.0,
        value: |s| s.samples.map(|x| #{ value: if x.error == () { x.pids * 20.0 } else { () }, ready: true }) }] }]
}"#,
    )
    .unwrap();
    let mut cmd = cluster.orch(1);
    cmd.args(["autoscale", rules.to_str().unwrap(), "--once", "--format", "json"]);
    for h in &hosts {
        cmd.args(["--node-host", h]);
    }
    let out = cmd.current_dir(dir.path()).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let d: Value = serde_json::from_str(stdout(&out).trim()).unwrap();
    assert_eq!(
        (d["current"].as_i64(), d["replicas"].as_i64()),
        (Some(3), Some(6)),
        "{d}"
    );
    assert_eq!(d["metrics"]["work"], 20.0);
    let spec_after: Value =
        serde_json::from_str(&cluster.docker(1, &["service", "inspect", "web", "--format", "{{json .Spec}}"])).unwrap();
    assert_eq!(spec_after["Mode"]["Replicated"]["Replicas"], 6);
    let mut expected = spec_before.clone();
    expected["Mode"]["Replicated"]["Replicas"] = 6.into();
    assert_eq!(spec_after, expected, "only the replica count changed");
}

/// The manager `orch autoscale` talks to is killed: the tick that finds it
/// gone reports the error, scales nothing, moves to the next `--host`, and
/// the decisions go on from there.
fn a_stopped_manager_is_reported_and_the_next_host_takes_over(cluster: &Cluster, image: &str) {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;
    cluster.docker(1, &["node", "promote", "node2", "node3"]);
    // Three managers in the raft, so two keep a quorum when one is lost.
    wait_for("node2 and node3 managers", 60, || {
        [2, 3].iter().all(|&i| {
            cluster
                .docker(i, &["info", "--format", "{{.Swarm.ControlAvailable}}"])
                .trim()
                == "true"
        })
    });
    cluster.docker(
        1,
        &[
            "service",
            "create",
            "-d",
            "--name",
            "failover",
            "--replicas",
            "2",
            "--no-resolve-image",
            image,
            "sleep",
            "600",
        ],
    );
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules.rhai");
    std::fs::write(
        &rules,
        r#"fn rules() { [#{ service: "failover", kind: "swarm", max: 5, metrics: [#{ name: "steady", target: 10.0, value: |s| 10.0 }] }] }"#,
    )
    .unwrap();
    let mut cmd = common::orch();
    cmd.args([
        "autoscale",
        rules.to_str().unwrap(),
        "--interval",
        "1",
        "--format",
        "json",
    ])
    .args(["--host", &cluster.node(1).host, "--host", &cluster.node(2).host]);
    for h in node_hosts(cluster) {
        cmd.args(["--node-host", &h]);
    }
    let mut child = cmd
        .current_dir(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap())
        .lines()
        .map_while(Result::ok);
    let mut next = || serde_json::from_str::<Value>(&lines.next().expect("a decision line")).unwrap();
    let first = next();
    assert_eq!(
        (first["replicas"].as_i64(), first["rule"].as_str()),
        (Some(2), Some("WithinTolerance")),
        "{first}"
    );
    cluster.kill(1);
    let mut errors = Vec::new();
    let resumed = loop {
        let d = next();
        assert_ne!(d["scaled"], true, "nothing scaled while the manager is gone: {d}");
        if d["error"].is_null() && !errors.is_empty() {
            break d;
        }
        if !d["error"].is_null() {
            errors.push(d["error"].as_str().unwrap().to_string());
        }
        assert!(errors.len() < 60, "no recovery: {:?}", &errors[..4]);
    };
    assert!(
        errors[0].contains(&format!("next: {}", cluster.node(2).host)),
        "{errors:?}"
    );
    assert_eq!(resumed["current"], 2, "{resumed}");
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let _ = child.wait();
}
