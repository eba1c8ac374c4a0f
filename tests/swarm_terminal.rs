//! Swarm service commands in a real pseudo terminal (tests/common/pty.rs)
//! on a 3-node test cluster, side by side with Docker's CLI: the progress
//! of `service create --detach=false` and `service ps`' task history, as
//! the final screens after IDs, names and times are made comparable; and
//! bad input (swarm_terminal/bad_input.rs).

#[path = "swarm_terminal/bad_input.rs"]
mod bad_input;
mod common;

use std::process::Command;

use common::cluster::{shared_swarm, Cluster};
use common::pty::Pty;
use common::*;

const LOOP: &str = "trap 'exit 0' TERM; while true; do sleep 1; done";

/// `docker -H node1 ARGS` (not run).
fn docker_on(cluster: &Cluster, args: &[&str]) -> Command {
    let mut c = Command::new("docker");
    c.arg("-H").arg(&cluster.node(1).host).args(args);
    c
}

/// Removes the named services from the swarm when dropped.
struct Services<'a>(&'a Cluster, Vec<String>);

impl Drop for Services<'_> {
    fn drop(&mut self) {
        for s in &self.1 {
            let _ = docker_on(self.0, &["service", "rm", s]).output();
        }
    }
}

/// Whether `w` is an ID as the engine prints them (25 or 12+ characters
/// of lowercase letters and digits, with at least one digit).
fn id_like(w: &str) -> bool {
    w.len() >= 12
        && w.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        && w.chars().any(|c| c.is_ascii_digit())
}

/// A screen made comparable: `name` → `<name>`, IDs → `<id>`, relative
/// times (`5 seconds ago`) → `<ago>`, runs of spaces collapsed.
fn normalise(lines: &[String], name: &str) -> Vec<String> {
    lines
        .iter()
        .map(|l| {
            let l = l.replace(name, "<name>");
            let mut words: Vec<&str> = l
                .split_whitespace()
                .map(|w| if id_like(w) { "<id>" } else { w })
                .collect();
            while let Some(i) = words.iter().position(|w| *w == "ago") {
                let from = i.saturating_sub(2);
                words.splice(from..=i, ["<ago>"]);
            }
            words.join(" ")
        })
        .filter(|l| !l.is_empty())
        .collect()
}

/// The final screen of `cmd` in a 40x200 terminal, after its exit 0.
fn screen(cmd: Command, what: &str) -> Vec<String> {
    let mut pty = Pty::spawn_sized(cmd, 40, 200);
    assert_eq!(pty.wait(180), 0, "{what}: {}", pty.text());
    pty.screen()
}

/// `service create --detach=false` shows, as docker does, the overall
/// progress, one bar per replica and `verify: Service … converged`.
#[test]
fn service_create_progress_in_a_terminal_matches_docker() {
    let image = test_image();
    let cluster = shared_swarm(3, &[image]);
    let names = ["pty-create-docker", "pty-create-orch"].map(String::from);
    let _guard = Services(cluster, names.to_vec());
    let args = |name: &str| {
        [
            "service",
            "create",
            "--detach=false",
            "--name",
            name,
            "--replicas",
            "3",
            image,
            "sh",
            "-c",
            LOOP,
        ]
        .map(str::to_string)
    };
    let want = screen(
        docker_on(cluster, &args(&names[0]).each_ref().map(String::as_str)),
        "docker",
    );
    let mut orch = cluster.orch(1);
    orch.args(args(&names[1]));
    let got = screen(orch, "orch");
    let (want, got) = (normalise(&want, &names[0]), normalise(&got, &names[1]));
    // docker first warns (stderr) that the local-only image has no registry
    // digest to pin; orch pins none and says nothing (a known difference).
    let want = want[want.iter().position(|l| l == "<id>").expect("docker's service ID")..].to_vec();
    assert!(
        want.iter().any(|l| l == "verify: Service <id> converged"),
        "docker: {want:#?}"
    );
    assert!(want.iter().any(|l| l.starts_with("3/3: running")), "docker: {want:#?}");
    assert_eq!(got, want, "orch's final screen vs docker's");
}

/// After an update, `service ps` shows each slot's running task and its
/// shut-down predecessor on a ` \_ ` row under it, as docker's does.
#[test]
fn service_ps_history_in_a_terminal_matches_docker() {
    let image = test_image();
    let cluster = shared_swarm(3, &[image]);
    let name = "pty-history";
    let _guard = Services(cluster, vec![name.to_string()]);
    let create = [
        "service",
        "create",
        "-q",
        "--detach=false",
        "--name",
        name,
        "--replicas",
        "2",
        image,
        "sh",
        "-c",
        LOOP,
    ];
    cluster.docker(1, &create);
    cluster.docker(
        1,
        &["service", "update", "-q", "--detach=false", "--env-add", "A=1", name],
    );
    let want = normalise(&screen(docker_on(cluster, &["service", "ps", name]), "docker"), name);
    let mut orch = cluster.orch(1);
    orch.args(["service", "ps", name]);
    let got = normalise(&screen(orch, "orch"), name);
    assert_eq!(want.len(), 5, "docker: {want:#?}");
    assert_eq!(
        want.iter().filter(|l| l.contains(r"\_ <name>")).count(),
        2,
        "docker: {want:#?}"
    );
    assert_eq!(got, want, "orch's service ps vs docker's");
}
