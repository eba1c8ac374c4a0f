//! Compose behaviours checked side by side with Docker Compose v2.40.3:
//! both tools run on the same project (each under its own project name,
//! or one after the other on the same one) and the engine's state, exit
//! codes and output are compared. This file: `start`, `stop`,
//! `restart`, `down`.

mod common;

use std::collections::BTreeSet;

use common::pair::*;
use common::*;

/// `down -v` never removes an external volume, even one named like an
/// engine ID with no labels (issue 13's data loss), and removes the
/// anonymous volumes of the project's containers. Compose agrees.
#[test]
fn down_v_keeps_external_volumes_whatever_their_names() {
    let image = test_image();
    let pair = Pair::new("extv");
    let ext: String = {
        use std::fmt::Write;
        let seed = format!("{}{}", pair.ours, "0123456789abcdef".repeat(4));
        let mut h = String::new();
        for b in seed.bytes().take(32) {
            let _ = write!(h, "{b:02x}");
        }
        h
    };
    assert_eq!(ext.len(), 64);
    let _vol = VolumeCleanup(ext.clone());
    docker(&["volume", "create", &ext]);
    docker(&[
        "run",
        "--rm",
        "-v",
        &format!("{ext}:/x"),
        image,
        "sh",
        "-c",
        "echo keep > /x/data",
    ]);
    write(
        pair.path(),
        &format!(
            "services:\n  app:\n    image: {image}\n    command: {LOOP}\n    volumes: [\"ext:/ext\", \"/anon\"]\nvolumes:\n  ext:\n    external: true\n    name: {ext}\n"
        ),
    );
    pair.up(&[], &[]);
    let anon = |p: &str| {
        docker(&[
            "inspect",
            "-f",
            "{{range .Mounts}}{{if eq .Destination \"/anon\"}}{{.Name}}{{end}}{{end}}",
            &format!("{p}-app-1"),
        ])
        .trim()
        .to_string()
    };
    let (ours_anon, theirs_anon) = (anon(&pair.ours), anon(&pair.theirs));
    let (o, c) = pair.both(&[], &["down", "-v", "-t", "0"]);
    ok("orch down -v", o);
    ok("reference down -v", c);
    let vols = docker(&["volume", "ls", "-q"]);
    assert!(vols.lines().any(|v| v == ext), "the external volume is gone");
    assert!(!vols.lines().any(|v| v == ours_anon), "orch left the anonymous volume");
    assert!(
        !vols.lines().any(|v| v == theirs_anon),
        "compose left the anonymous volume"
    );
    let data = docker(&["run", "--rm", "-v", &format!("{ext}:/x"), image, "cat", "/x/data"]);
    assert_eq!(data.trim(), "keep");
    // Without the compose file (`-p` alone) too.
    pair.up(&[], &[]);
    ok(
        "orch down -v -p",
        orch()
            .args(["-p", &pair.ours, "down", "-v", "-t", "0"])
            .output()
            .unwrap(),
    );
    assert!(docker(&["volume", "ls", "-q"]).lines().any(|v| v == ext));
}
/// Container events (action, service) of `project` during `f`, with
/// execs and health checks left out.
fn events_during(project: &str, f: impl FnOnce()) -> Vec<(String, String)> {
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    f();
    let until = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
        + 0.5;
    docker(&[
        "events",
        "--since",
        &format!("{since:.3}"),
        "--until",
        &format!("{until:.3}"),
        "--filter",
        "type=container",
        "--filter",
        &format!("label=com.docker.compose.project={project}"),
        "--format",
        "{{.Action}} {{index .Actor.Attributes \"com.docker.compose.service\"}}",
    ])
    .lines()
    .filter_map(|l| l.split_once(' '))
    .filter(|(a, _)| ["start", "stop", "restart", "create", "destroy"].contains(a))
    .map(|(a, s)| (a.to_string(), s.to_string()))
    .collect()
}

fn position(events: &[(String, String)], action: &str, service: &str) -> usize {
    events
        .iter()
        .position(|(a, s)| a == action && s == service)
        .unwrap_or_else(|| panic!("no {action} of {service} in {events:?}"))
}

/// start, stop and restart follow depends_on as compose does: start in
/// dependency order waiting for conditions (with a service's dependencies),
/// stop dependents first (only the named services), restart the named
/// services and their `restart: true` dependents.
#[test]
fn start_stop_restart_follow_dependencies() {
    let image = test_image();
    let pair = Pair::new("order");
    write(
        pair.path(),
        &format!(
            r#"
services:
  db:
    image: {image}
    command: {LOOP}
    healthcheck: {{test: ["CMD", "true"], interval: 1s}}
  web:
    image: {image}
    command: {LOOP}
    depends_on: {{db: {{condition: service_healthy}}}}
  worker:
    image: {image}
    command: {LOOP}
    depends_on: {{web: {{condition: service_started, restart: true}}}}
  other:
    image: {image}
    command: {LOOP}
"#
        ),
    );
    pair.up(&[], &["--wait"]);
    for (p, tool) in [(&pair.ours, "orch"), (&pair.theirs, "compose")] {
        let run = |args: &[&str]| {
            let mut c = if tool == "orch" {
                orch()
            } else {
                std::process::Command::new(compose_ref())
            };
            ok(
                &format!("{tool} {args:?}"),
                c.args(["-p", p]).args(args).current_dir(pair.path()).output().unwrap(),
            );
        };
        let stop = events_during(p, || run(&["stop", "-t", "1"]));
        assert_eq!(stop.len(), 4, "{tool}: {stop:?}");
        assert!(
            position(&stop, "stop", "worker") < position(&stop, "stop", "web"),
            "{tool}: {stop:?}"
        );
        assert!(
            position(&stop, "stop", "web") < position(&stop, "stop", "db"),
            "{tool}: {stop:?}"
        );
        let start = events_during(p, || run(&["start", "web"]));
        let services: BTreeSet<&str> = start.iter().map(|(_, s)| s.as_str()).collect();
        assert_eq!(services, BTreeSet::from(["db", "web"]), "{tool}: {start:?}");
        assert!(position(&start, "start", "db") < position(&start, "start", "web"));
        let start = events_during(p, || run(&["start"]));
        let services: BTreeSet<&str> = start.iter().map(|(_, s)| s.as_str()).collect();
        assert_eq!(services, BTreeSet::from(["other", "worker"]), "{tool}: {start:?}");
        let stop = events_during(p, || run(&["stop", "-t", "1", "web"]));
        assert_eq!(stop, [("stop".to_string(), "web".to_string())], "{tool}");
        run(&["start"]);
        let restart = events_during(p, || run(&["restart", "-t", "1", "web"]));
        let restarted: Vec<&str> = restart
            .iter()
            .filter(|(a, _)| a == "restart")
            .map(|(_, s)| s.as_str())
            .collect();
        assert_eq!(restarted, ["web", "worker"], "{tool}: {restart:?}");
    }
    // Unknown services: the same exit codes.
    for args in [&["start", "nope"][..], &["restart", "nope"], &["stop", "nope"]] {
        let (o, c) = pair.both(&[], args);
        assert_eq!(o.status.code(), c.status.code(), "{args:?}");
    }
}

/// Names of a project's volumes and networks, the project name made `P`.
fn resources(project: &str) -> Vec<String> {
    let mut out = Vec::new();
    for kind in ["volume", "network"] {
        let filter = format!("label=com.docker.compose.project={project}");
        for n in docker(&[kind, "ls", "--filter", &filter, "--format", "{{.Name}}"]).lines() {
            out.push(format!("{kind} {}", n.replacen(project, "P", 1)));
        }
    }
    out.sort();
    out
}

/// `down SERVICE…` removes those services and their dependents only; the
/// networks and volumes go once nothing uses them; unknown names fail as
/// compose fails (with a file) or are ignored (with `-p` alone).
#[test]
fn down_service_removes_only_those_and_their_dependents() {
    let image = test_image();
    let pair = Pair::new("downsvc");
    write(
        pair.path(),
        &format!(
            r#"
services:
  db: {{image: {image}, command: {LOOP}, volumes: ["data:/data"]}}
  web: {{image: {image}, command: {LOOP}, depends_on: [db], volumes: ["/anon"]}}
  worker: {{image: {image}, command: {LOOP}, depends_on: [web]}}
  other: {{image: {image}, command: {LOOP}}}
volumes:
  data: {{}}
"#
        ),
    );
    let anon = |p: &str| {
        docker(&[
            "inspect",
            "-f",
            "{{range .Mounts}}{{if eq .Destination \"/anon\"}}{{.Name}}{{end}}{{end}}",
            &format!("{p}-web-1"),
        ])
        .trim()
        .to_string()
    };
    let exists = |v: &str| docker(&["volume", "ls", "-q"]).lines().any(|x| x == v);
    for (args, anon_kept) in [
        (&["down", "-t", "0", "web"][..], true),
        (&["down", "-v", "-t", "0", "web"], false),
    ] {
        pair.up(&[], &[]);
        let (ours_anon, theirs_anon) = (anon(&pair.ours), anon(&pair.theirs));
        let (o, c) = pair.both(&[], args);
        ok("orch down web", o);
        ok("reference down web", c);
        let names: Vec<String> = shape(&pair.ours).into_iter().map(|x| x.0).collect();
        assert_eq!(names, ["P-db-1", "P-other-1"], "{args:?}");
        assert_eq!(shape(&pair.ours), shape(&pair.theirs), "{args:?}");
        assert_eq!(resources(&pair.ours), resources(&pair.theirs), "{args:?}");
        assert_eq!(
            (exists(&ours_anon), exists(&theirs_anon)),
            (anon_kept, anon_kept),
            "{args:?}"
        );
        if anon_kept {
            // Kept by both, as asserted: nothing will remove them now.
            docker(&["volume", "rm", &ours_anon, &theirs_anon]);
        }
    }
    let (o, c) = pair.both(&[], &["down", "-v", "-t", "0", "db", "other"]);
    ok("orch down db other", o);
    ok("reference down db other", c);
    assert!(shape(&pair.ours).is_empty() && shape(&pair.theirs).is_empty());
    assert_eq!(resources(&pair.ours), resources(&pair.theirs));
    assert!(resources(&pair.ours).is_empty(), "{:?}", resources(&pair.ours));
    // Unknown services: ignored with `-p` alone, an error with a file.
    let (o, c) = pair.both(&[], &["down", "nope"]);
    assert_eq!((o.status.code(), c.status.code()), (Some(0), Some(0)));
    let (o, c) = pair.both(&[], &["-f", "compose.yaml", "down", "nope"]);
    assert_eq!((o.status.code(), c.status.code()), (Some(1), Some(1)));
    assert!(stderr(&o).contains("no such service: nope"), "{}", stderr(&o));
}
