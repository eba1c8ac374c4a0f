//! `--with-registry-auth` on `service create|update` and `stack deploy`,
//! beside docker's: a registry that wants credentials, on the cluster's
//! bridge where the node reaches it; images only it holds; the Docker
//! CLI's credentials in a config folder. A task starts only if whoever
//! made the service sent the credentials along. Its own one-node swarm:
//! the shared one's tasks never pull.

use std::process::Command;

use crate::common::cluster::{ok, wait_for, Cluster};
use crate::common::registry::Registry;
use crate::common::*;

const LOOP: &str = "trap 'exit 0' TERM; while true; do sleep 1; done";

/// The current state and error of each task of `service`, one a line.
fn states(cluster: &Cluster, service: &str) -> String {
    cluster.docker(
        1,
        &[
            "service",
            "ps",
            "--no-trunc",
            "--format",
            "{{.Image}} {{.CurrentState}} {{.Error}}",
            service,
        ],
    )
}

/// Waits until a task of `service` runs `image`.
fn wait_running(cluster: &Cluster, service: &str, image: &str) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(90);
    loop {
        let now = states(cluster, service);
        // docker pins the image to its digest (it can ask the registry).
        let runs = |l: &str| l.starts_with(image) && l.split(' ').nth(1) == Some("Running");
        if now.lines().any(runs) {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{service} never ran {image}:\n{now}"
        );
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
}

#[test]
fn with_registry_auth_as_docker() {
    let image = test_image();
    let cluster = &Cluster::start_pulling(1, &[image]);
    cluster.swarm();
    let bridge = format!("{}.1", cluster.node(1).ip.rsplit_once('.').unwrap().0);
    let registry = Registry::start_with_auth_on(&bridge);
    let config = registry.cli_config();
    let with_config = |mut c: Command| {
        c.env("DOCKER_CONFIG", config.path());
        c
    };
    // An image only the registry has: pushed from the node (the CLI sends
    // the credentials for the push), then untagged there.
    let only_in_registry = |tag: &str| {
        let r = format!("{}/wra:{tag}", registry.addr);
        cluster.docker(1, &["tag", image, &r]);
        let mut push = with_config(Command::new("docker"));
        ok(push.args(["-H", &cluster.node(1).host, "push", &r]));
        cluster.docker(1, &["rmi", &r]);
        r
    };
    let create = |tool: Command, name: &str, r: &str, auth: bool| {
        let mut c = with_config(tool);
        c.args(["service", "create", "-d", "--name", name]);
        if auth {
            c.arg("--with-registry-auth");
        }
        ok(c.args([r, "sh", "-c", LOOP]))
    };

    // Without the flag the node cannot pull: the registry wants credentials.
    let r0 = only_in_registry("none");
    create(cluster.orch(1), "wra-n", &r0, false);
    wait_for("wra-n rejected", 90, || states(cluster, "wra-n").contains("Rejected"));

    let (r1, r2) = (only_in_registry("orch"), only_in_registry("docker"));
    create(cluster.orch(1), "wra-o", &r1, true);
    let mut docker = Command::new("docker");
    docker.args(["-H", &cluster.node(1).host]);
    create(docker, "wra-d", &r2, true);
    wait_running(cluster, "wra-o", &r1);
    wait_running(cluster, "wra-d", &r2);

    // An update to another image only the registry has.
    let r3 = only_in_registry("update");
    let mut update = with_config(cluster.orch(1));
    ok(update.args([
        "service",
        "update",
        "-d",
        "--with-registry-auth",
        "--image",
        &r3,
        "wra-o",
    ]));
    wait_running(cluster, "wra-o", &r3);

    // A stack whose service's image only the registry has.
    let r4 = only_in_registry("stack");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("stack.yml");
    std::fs::write(
        &file,
        format!("services:\n  s:\n    image: {r4}\n    command: [\"sh\", \"-c\", \"{LOOP}\"]\n"),
    )
    .unwrap();
    let mut deploy = with_config(cluster.orch(1));
    let file = file.to_str().unwrap();
    ok(deploy.args(["stack", "deploy", "--with-registry-auth", "-c", file, "wra"]));
    wait_running(cluster, "wra_s", &r4);
}
