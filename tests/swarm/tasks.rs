//! Docker's task table beside docker's on the shared swarm: `service|
//! node|stack ps` with `--format`, `--no-resolve`, `-q`, and `service
//! logs --no-resolve`; `node|service inspect --pretty`; `stack rm --detach=false`.

use crate::common::cluster::{ok, shared_swarm, wait_for};
use crate::common::*;

#[test]
fn task_tables_and_logs_as_docker() {
    let image = test_image();
    let cluster = shared_swarm(3, &[image]);
    let run = [
        image,
        "sh",
        "-c",
        "echo hello; trap 'exit 0' TERM; while true; do sleep 1; done",
    ];
    for (name, n) in [("tk-a", "2"), ("tk-b", "1")] {
        ok(cluster
            .orch(1)
            .args(["service", "create", "--name", name, "--replicas", n])
            .args(run));
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("compose.yml");
    std::fs::write(
        &file,
        format!("services:\n  web:\n    image: {image}\n    command: sleep 600\n"),
    )
    .unwrap();
    cluster.docker(1, &["stack", "deploy", "-d", "-c", file.to_str().unwrap(), "tkst"]);
    wait_for("the stack's task", 60, || {
        cluster.docker(1, &["stack", "ps", "-q", "tkst"]).lines().count() == 1
    });
    // A service with most of what `inspect --pretty` shows.
    #[rustfmt::skip]
    cluster.docker(1, &[
        "service", "create", "-d", "--no-resolve-image", "--name", "tk-p", "--replicas", "0", "-l", "a=1", "-l", "b",
        "--constraint", "node.role==manager", "--placement-pref", "spread=node.id", "--update-delay", "3s",
        "--rollback-monitor", "7s", "--env", "A=1", "--workdir", "/tmp", "--user", "5", "--init", "--cap-add", "NET_ADMIN",
        "--sysctl", "net.core.somaxconn=1024", "--ulimit", "nofile=10:20", "--mount", "type=volume,source=v1,target=/data",
        "--log-driver", "json-file", "--log-opt", "max-size=1m", "--reserve-cpu", "0.5", "--limit-memory", "64m",
        "--limit-pids", "50", "-p", "8089:80", "--health-cmd", "true", "--health-interval", "5s", image, "sleep", "600",
    ]);
    for args in [
        &["service", "inspect", "--pretty", "tk-p", "tk-a"][..],
        &["service", "ps", "tk-b", "tk-a"],
        &["service", "ps", "-q", "tk-b", "tk-a"],
        &["service", "ps", "--no-resolve", "tk-a"],
        &[
            "service",
            "ps",
            "--format",
            "{{.Name}} {{.Node}} {{.DesiredState}}",
            "tk-a",
            "tk-b",
        ],
        &[
            "service",
            "ps",
            "--format",
            "table {{.ID}}\t{{.Name}}",
            "--no-trunc",
            "tk-a",
        ],
        &["service", "ps", "--format", "json", "tk-b"],
        &[
            "node",
            "ps",
            "-f",
            "name=tk-a",
            "--no-resolve",
            "--format",
            "{{.Name}} {{.Node}}",
            "self",
        ],
        // One node each: docker's node ps of several nodes adds each node to
        // the filter of the next query (its filter value is shared), so it
        // lists the first node's tasks again; orch lists each task once.
        &["node", "ps", "-q", "-f", "name=tk-", "node2"],
        &["stack", "ps", "--no-resolve", "tkst"],
        &["node", "inspect", "--pretty", "self", "node3"],
        &["stack", "ps", "--format", "{{.Name}}\t{{.Image}}", "tkst"],
    ] {
        super::same_table_as_docker(cluster, args);
    }
    wait_for("tk-b's log line", 60, || {
        cluster.docker(1, &["service", "logs", "tk-b"]).contains("hello")
    });
    for args in [
        &["service", "logs", "--no-resolve", "tk-b"][..],
        &["service", "logs", "--no-resolve", "--no-task-ids", "tk-b"],
    ] {
        super::same_table_as_docker(cluster, args);
    }
    // `stack rm --detach=false` returns once the stack's tasks stopped.
    let rm = ok(cluster.orch(1).args(["stack", "rm", "--detach=false", "tkst"]));
    assert!(rm.contains("Removing service tkst_web"), "{rm}");
    let left = std::process::Command::new("docker")
        .args([
            "-H",
            &cluster.node(1).host,
            "stack",
            "ps",
            "--format",
            "{{.CurrentState}}",
            "tkst",
        ])
        .output()
        .unwrap();
    assert!(!stdout(&left).contains("Running"), "{}", stdout(&left));
    cluster.docker(1, &["service", "rm", "tk-a", "tk-b", "tk-p"]);
}
