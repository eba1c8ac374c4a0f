//! `orch autoscale` across an engine restart, on a private engine of the
//! test harness (never the shared one): the ticks while the engine is
//! down report the error and scale nothing; once it is back, orch
//! reconnects and the decisions go on.

mod common;

use std::io::{BufRead, BufReader};
use std::process::Stdio;

use common::cluster::Cluster;
use common::*;
use serde_json::Value;

#[test]
fn engine_restart_under_a_running_autoscaler() {
    let image = test_image();
    let cluster = Cluster::start(1, &[image]);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("compose.yaml"),
        format!("services:\n  web:\n    image: {image}\n    command: sleep 600\n    restart: always\n    scale: 2\n"),
    )
    .unwrap();
    let up = cluster
        .orch(1)
        .args(["-p", "faults", "up", "-d"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(up.status.success(), "{}", stderr(&up));
    // A steady custom metric: every decision holds 2.
    std::fs::write(
        dir.path().join("rules.rhai"),
        r#"fn rules() { [#{ service: "web", max: 5, metrics: [#{ name: "steady", target: 10.0, value: |s| 10.0 }] }] }"#,
    )
    .unwrap();
    let mut child = cluster
        .orch(1)
        .args([
            "-p",
            "faults",
            "autoscale",
            "rules.rhai",
            "--interval",
            "1",
            "--format",
            "json",
        ])
        .current_dir(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap())
        .lines()
        .map_while(Result::ok);
    let mut next = || serde_json::from_str::<Value>(&lines.next().expect("a decision line")).unwrap();
    let d = next();
    assert_eq!(
        (d["current"].as_i64(), d["rule"].as_str()),
        (Some(2), Some("WithinTolerance")),
        "{d}"
    );

    let restarter = std::thread::spawn({
        let name = cluster.name.clone();
        move || {
            let out = std::process::Command::new(repo().join("tests/harness/cluster.sh"))
                .args(["restart", &name, "1"])
                .output()
                .unwrap();
            assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        }
    });
    let mut errors = 0;
    let resumed = loop {
        let d = next();
        assert_ne!(d["scaled"], true, "nothing scaled while the engine is away: {d}");
        if d["error"].is_null() {
            if errors > 0 && d["current"] == 2 {
                break d;
            }
        } else {
            errors += 1;
        }
        assert!(errors < 120, "the autoscaler did not reconnect: {d}");
    };
    restarter.join().unwrap();
    assert!(errors > 0, "the restart was seen");
    assert_eq!(resumed["rule"], "WithinTolerance", "{resumed}");
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let _ = child.wait();
    let down = cluster
        .orch(1)
        .args(["-p", "faults", "down", "-t", "0"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(down.status.success(), "{}", stderr(&down));
}
