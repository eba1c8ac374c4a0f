//! Swarm commands given bad input, each beside docker's CLI on the same
//! swarm: the same exit code, one clear line on stderr, nothing created.

use std::process::Output;

use super::common::cluster::{shared_swarm, Cluster};
use super::common::pty::Pty;
use super::common::*;
use super::{docker_on, normalise, Services, LOOP};

fn code(o: &Output) -> i32 {
    o.status.code().unwrap_or(-1)
}

/// Runs `args` with docker and orch on node `i`; asserts the same exit
/// code (not 0) and one line from orch on stderr; (docker's, orch's)
/// stderr, trimmed.
fn both_fail(cluster: &Cluster, i: usize, args: &[&str]) -> (String, String) {
    let mut d = std::process::Command::new("docker");
    let want = d.arg("-H").arg(&cluster.node(i).host).args(args).output().unwrap();
    let got = cluster.orch(i).args(args).output().unwrap();
    let (w, g) = (stderr(&want).trim().to_string(), stderr(&got).trim().to_string());
    assert_ne!(code(&want), 0, "docker {args:?} succeeded: {}", stdout(&want));
    assert_eq!(code(&got), code(&want), "{args:?}: exit codes\norch: {g}\ndocker: {w}");
    assert_eq!(g.lines().count(), 1, "{args:?}: orch's stderr is not one line:\n{g}");
    (w, g)
}

/// An unknown service: docker's exit code and message, for each command.
#[test]
fn unknown_service_fails_as_docker() {
    let cluster = shared_swarm(3, &[test_image()]);
    for args in [
        &["service", "ps", "nosuch"][..],
        &["service", "inspect", "nosuch"],
        &["service", "rm", "nosuch"],
        &["service", "scale", "nosuch=2"],
        &["service", "update", "--env-add", "A=1", "nosuch"],
    ] {
        let (want, got) = both_fail(cluster, 1, args);
        assert_eq!(got, want, "{args:?}");
    }
}

/// Malformed `--publish`, `--mount` and `--constraint` on create: refused
/// with docker's exit code, the first line of docker's message, and no
/// service made.
#[test]
fn malformed_create_flags_fail_as_docker_and_create_nothing() {
    let image = test_image();
    let cluster = shared_swarm(3, &[image]);
    let name = "pty-bad-flags";
    let _guard = Services(cluster, vec![name.to_string()]);
    for flag in [
        ["--publish", "80:abc"],
        ["--mount", "type=volume,nosuchkey=1"],
        ["--constraint", "node.role"],
    ] {
        let args = [
            "service", "create", "--name", name, flag[0], flag[1], image, "sh", "-c", LOOP,
        ];
        let (want, got) = both_fail(cluster, 1, &args);
        let first = want.lines().next().unwrap_or("");
        assert_eq!(got, first.replace("docker ", "orch "), "{flag:?}");
        let listed = cluster.docker(1, &["service", "ls", "-q", "--filter", &format!("name={name}")]);
        assert!(listed.trim().is_empty(), "{flag:?}: a service was created");
    }
}

/// A constraint no node satisfies, `--detach=false`: docker shows the
/// pending task's scheduling error and keeps waiting; orch's screen a few
/// seconds in is the same, and Ctrl-C ends both the same way (exit 0,
/// "Operation continuing in background.", the service left to converge).
#[test]
fn unsatisfiable_constraint_waits_as_docker() {
    let image = test_image();
    let cluster = shared_swarm(3, &[image]);
    let names = ["pty-pending-docker", "pty-pending-orch"].map(String::from);
    let _guard = Services(cluster, names.to_vec());
    #[rustfmt::skip]
    let args = |name: &str| ["service", "create", "--detach=false", "--name", name, "--constraint", "node.labels.nosuch==1", image, "sh", "-c", LOOP].map(String::from).to_vec();
    waits_then_ctrl_c(cluster, &names, args);
}

/// An update whose new task can go nowhere: the same wait, and Ctrl-C
/// leaves the update running, as docker's does.
#[test]
fn pending_update_continues_in_the_background_as_docker() {
    let image = test_image();
    let cluster = shared_swarm(3, &[image]);
    let names = ["pty-upd-docker", "pty-upd-orch"].map(String::from);
    let _guard = Services(cluster, names.to_vec());
    for name in &names {
        #[rustfmt::skip]
        cluster.docker(1, &["service", "create", "-d", "--no-resolve-image", "--name", name, image, "sh", "-c", LOOP]);
    }
    #[rustfmt::skip]
    let args = |name: &str| ["service", "update", "--detach=false", "--constraint-add", "node.labels.nosuch==1", name].map(String::from).to_vec();
    waits_then_ctrl_c(cluster, &names, args);
}

/// Runs `args(name)` with docker (names[0]) and orch (names[1]) in a
/// terminal until a task is reported pending (`no suitable node`), then
/// Ctrl-C: the screens, the exit codes and what follows must match.
fn waits_then_ctrl_c(cluster: &Cluster, names: &[String; 2], args: impl Fn(&str) -> Vec<String>) {
    let mut screens = Vec::new();
    let mut codes = Vec::new();
    let mut afters = Vec::new();
    for (i, name) in names.iter().enumerate() {
        let args = args(name);
        let cmd = if i == 0 {
            docker_on(cluster, &args.iter().map(String::as_str).collect::<Vec<_>>())
        } else {
            let mut c = cluster.orch(1);
            c.args(&args);
            c
        };
        let mut pty = Pty::spawn_sized(cmd, 40, 200);
        pty.wait_for_text("no suitable node", 30);
        std::thread::sleep(std::time::Duration::from_secs(2));
        let screen = normalise(&pty.screen(), name);
        screens.push(screen[screen.iter().position(|l| l == "<id>" || l == "<name>").unwrap_or(0)..].to_vec());
        let before = pty.text();
        pty.send(&[3]);
        codes.push(pty.wait(30));
        let after = pty.text()[before.len()..].replace("^C", "").replace('`', " ");
        let after: Vec<String> = after.lines().map(str::to_string).collect();
        afters.push(
            normalise(&after, name)
                .join("\n")
                .replace("docker service", "orch service"),
        );
    }
    assert!(
        screens[0].iter().any(|l| l.starts_with("1/1: no suitable node")),
        "docker: {:#?}",
        screens[0]
    );
    assert_eq!(screens[1], screens[0], "orch's screen vs docker's");
    assert_eq!(codes[1], codes[0], "exit code after Ctrl-C");
    // docker's exit races its own lines (its Ctrl-C handler ends the
    // process, at times before the first is out): what it printed must
    // begin what orch prints, and orch prints both lines.
    assert!(
        afters[1].starts_with(&afters[0])
            && (afters[0].is_empty() || afters[0].starts_with("Operation continuing in background.")),
        "after Ctrl-C\ndocker: {}\norch: {}",
        afters[0],
        afters[1]
    );
    assert!(
        afters[1].starts_with("Operation continuing in background.\nUse orch service ps "),
        "orch after Ctrl-C: {}",
        afters[1]
    );
}

/// `service ls` and `node ls` on a worker: docker's "not a swarm manager".
#[test]
fn manager_commands_on_a_worker_fail_as_docker() {
    let cluster = shared_swarm(3, &[test_image()]);
    for args in [&["service", "ls"][..], &["node", "ls"]] {
        let (want, got) = both_fail(cluster, 2, args);
        assert_eq!(got, want, "{args:?}");
    }
}
