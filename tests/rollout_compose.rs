//! One-host rolling updates (`orch rollout`, `compose::rollout`) under
//! load: a client container asks the service by name ≥ 20 times a second
//! (`timeout 2 wget`, one retry as a proxy would, retries counted) while
//! the rollout runs; a monitor counts healthy replicas and asks the
//! reference `docker compose ps` what it sees, throughout.

mod common;
#[path = "rollout_compose/fixture.rs"]
mod fixture;

use std::thread;
use std::time::{Duration, Instant};

use common::*;
use fixture::fixture;

#[test]
fn start_first_rollout_under_load_loses_no_request_and_compose_agrees() {
    let fx = fixture("ro-load");
    let before = fx.containers();
    let load = fx.load();
    thread::sleep(Duration::from_secs(1));
    let mon = fx.monitor();
    let out = fx.orch("v2", &["rollout", "web"]);
    thread::sleep(Duration::from_millis(500));
    let seen = mon.stop();
    let counts = load.stop();
    eprintln!("monitor: {seen:?}\n{}", stderr(&out));
    assert!(out.status.success(), "rollout: {}", stderr(&out));
    assert_eq!(
        counts.failed,
        0,
        "failed requests: {} of {}",
        counts.failed,
        counts.ok + counts.failed
    );
    thick_enough(&counts);
    assert!(seen.samples >= 3, "monitor sampled too little: {seen:?}");
    assert!(seen.min_healthy >= 3, "fewer than 3 healthy replicas: {seen:?}");
    assert!(seen.problems.is_empty(), "{:?}", seen.problems);
    assert!(seen.min_rows >= 3 && seen.max_rows <= 4, "compose ps rows: {seen:?}");
    // Three new containers, none of the old ones, all on v2.
    let after = fx.containers();
    assert_eq!(after.len(), 3, "{after:?}");
    assert!(
        after.values().all(|id| !before.values().any(|b| b == id)),
        "{before:?} {after:?}"
    );
    assert_eq!(fx.images(), vec![format!("{}:v2", fx.project); 3]);
    assert_eq!(fx.answer(), "v2");
    // Compose sees them as current: `up -d` recreates nothing.
    let up = fx.compose_v2(&["up", "-d"]);
    assert!(up.status.success(), "compose up: {}", stderr(&up));
    assert_eq!(fx.containers(), after, "compose up -d recreated: {}", stderr(&up));
    // And a second rollout has nothing to do.
    let again = fx.orch("v2", &["rollout", "web"]);
    assert!(
        again.status.success() && stdout(&again).contains("up to date"),
        "{}",
        stdout(&again)
    );
    assert_eq!(fx.containers(), after);
}

/// "No request failed" means something only if requests kept coming
/// through the rollout: at least 100 in all and 10 a second. The rate is
/// the load loops' (nominally 40 a second and more); under a busy CI
/// machine 19 a second was seen, which still covers every switch.
fn thick_enough(counts: &fixture::Counts) {
    let total = counts.ok + counts.failed;
    assert!(
        total >= 100 && counts.per_second >= 10.0,
        "load too thin: {total} requests, {:.1}/s",
        counts.per_second
    );
}

#[test]
fn failing_healthcheck_rolls_back_under_load() {
    let fx = fixture("ro-bad");
    let before = fx.containers();
    let load = fx.load();
    thread::sleep(Duration::from_secs(1));
    let mon = fx.monitor();
    let image = format!("{}:bad", fx.project);
    let out = fx.orch("v1", &["rollout", "web", "--image", &image]);
    let seen = mon.stop();
    let counts = load.stop();
    eprintln!("monitor: {seen:?}\n{}", stderr(&out));
    assert_eq!(out.status.code(), Some(1), "rollout: {}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("rolled back") && err.contains("unhealthy"), "{err}");
    assert_eq!(
        counts.failed,
        0,
        "failed requests: {} of {}",
        counts.failed,
        counts.ok + counts.failed
    );
    thick_enough(&counts);
    assert!(seen.min_healthy >= 3, "fewer than 3 healthy replicas: {seen:?}");
    assert!(seen.problems.is_empty(), "{:?}", seen.problems);
    assert_eq!(fx.containers(), before, "the old containers serve, nothing left over");
    assert_eq!(fx.answer(), "v1");
}

#[test]
fn gate_rejecting_the_second_replica_rolls_back_to_the_same_containers() {
    let fx = fixture("ro-gate");
    let before = fx.containers();
    let load = fx.load();
    thread::sleep(Duration::from_secs(1));
    // The first new replica (number 4) passes and serves; the second (5)
    // is "healthy but wrong": the rollback starts the parked old one again.
    let script = r#"
        let p = compose::load(#{});
        let seen = [];
        let r = compose::rollout(p, "web", #{
            gate: |c| !c.name.ends_with("-5"),
            on_event: |e| if e.kind == "Service" { print(e.status) },
        });
        print(`ok=${r.ok} rolled_back=${r.rolled_back} error=${r.error}`);
    "#;
    std::fs::write(fx.dir.path().join("gate.rhai"), script).unwrap();
    let out = fx.orch("v2", &["run", "gate.rhai"]);
    let counts = load.stop();
    let text = stdout(&out);
    eprintln!("{text}\n{}", stderr(&out));
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        text.contains("ok=false rolled_back=true") && text.contains("the gate rejected"),
        "{text}"
    );
    assert!(text.contains("Updating 2/3"), "the second batch ran: {text}");
    assert_eq!(
        counts.failed,
        0,
        "failed requests: {} of {}",
        counts.failed,
        counts.ok + counts.failed
    );
    assert_eq!(fx.containers(), before, "the same old containers serve again");
    assert_eq!(fx.images(), vec![format!("{}:v1", fx.project); 3]);
    assert_eq!(fx.answer(), "v1");
}

#[test]
fn killed_rollout_converges_when_run_again() {
    let fx = fixture("ro-kill");
    let mut child = orch()
        .current_dir(fx.dir.path())
        .env("TAG", "v2")
        .args(["rollout", "web", "--delay", "1"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn orch");
    // Kill it once the second new replica exists (the first has served
    // and an old one is parked, or being drained).
    let second = format!("{}-web-5", fx.project);
    let t = Instant::now();
    while !fx.containers().contains_key(&second) {
        assert!(
            t.elapsed() < Duration::from_secs(60),
            "the rollout never reached {second}"
        );
        thread::sleep(Duration::from_millis(50));
    }
    unsafe {
        libc::kill(child.id() as i32, libc::SIGKILL);
    }
    let _ = child.wait();
    let out = fx.orch("v2", &["rollout", "web"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let after = fx.containers();
    assert_eq!(
        after.len(),
        3,
        "exactly the requested replicas, no leftovers: {after:?}"
    );
    assert_eq!(fx.images(), vec![format!("{}:v2", fx.project); 3]);
    let states = docker(&[
        "ps",
        "-a",
        "--filter",
        &format!("label=com.docker.compose.project={}", fx.project),
        "--format",
        "{{.State}}",
    ]);
    assert!(states.lines().all(|s| s == "running"), "{states}");
    assert_eq!(fx.answer(), "v2");
    let up = fx.compose_v2(&["up", "-d"]);
    assert!(up.status.success(), "compose up: {}", stderr(&up));
    assert_eq!(fx.containers(), after, "compose up -d recreated: {}", stderr(&up));
}

#[test]
fn up_rolls_a_start_first_service_instead_of_recreating_it() {
    let fx = fixture("ro-up");
    let before = fx.containers();
    let load = fx.load();
    thread::sleep(Duration::from_secs(1));
    let mon = fx.monitor();
    let out = fx.orch("v2", &["up", "-d"]);
    let seen = mon.stop();
    let counts = load.stop();
    eprintln!("monitor: {seen:?}\n{}", stderr(&out));
    assert!(out.status.success(), "up: {}", stderr(&out));
    assert_eq!(
        counts.failed,
        0,
        "failed requests: {} of {}",
        counts.failed,
        counts.ok + counts.failed
    );
    assert!(seen.min_healthy >= 3, "fewer than 3 healthy replicas: {seen:?}");
    assert!(seen.problems.is_empty(), "{:?}", seen.problems);
    let after = fx.containers();
    assert_eq!(after.len(), 3, "{after:?}");
    assert!(
        after.values().all(|id| !before.values().any(|b| b == id)),
        "{before:?} {after:?}"
    );
    assert_eq!(fx.images(), vec![format!("{}:v2", fx.project); 3]);
    // Nothing left to do for either tool.
    let up = fx.compose_v2(&["up", "-d"]);
    assert!(up.status.success(), "compose up: {}", stderr(&up));
    let again = fx.orch("v2", &["up", "-d"]);
    assert!(again.status.success(), "{}", stderr(&again));
    assert_eq!(fx.containers(), after);
}

#[test]
fn history_records_revisions_and_undo_goes_back_without_downtime() {
    let fx = fixture("ro-hist");
    let none = fx.orch("v1", &["rollout", "history", "web"]);
    assert!(stdout(&none).contains("no rollout recorded"), "{}", stdout(&none));
    let out = fx.orch("v2", &["rollout", "web"]);
    assert!(out.status.success(), "{}", stderr(&out));
    // Revision 1 is what `up` made (known: the file's service with its
    // image hashes the same), 2 the rollout, running.
    let h = stdout(&fx.orch("v2", &["rollout", "history", "web"]));
    let lines: Vec<&str> = h.lines().collect();
    assert_eq!(lines.len(), 3, "{h}");
    assert!(lines[1].starts_with("1 ") && lines[1].contains(":v1"), "{h}");
    assert!(lines[2].starts_with("2 *") && lines[2].contains(":v2"), "{h}");
    assert!(!h.contains("not recorded"), "{h}");
    // Undo under load: back to v1 with no failed request.
    let load = fx.load();
    thread::sleep(Duration::from_secs(1));
    let undo = fx.orch("v2", &["rollout", "undo", "web"]);
    let counts = load.stop();
    assert!(undo.status.success(), "{}", stderr(&undo));
    assert_eq!(counts.failed, 0, "failed requests during undo: {}", counts.failed);
    assert_eq!(fx.images(), vec![format!("{}:v1", fx.project); 3]);
    assert_eq!(fx.answer(), "v1");
    let h = stdout(&fx.orch("v2", &["rollout", "history", "web"]));
    assert!(
        h.lines()
            .nth(3)
            .is_some_and(|l| l.starts_with("3 *") && l.contains(":v1")),
        "{h}"
    );
    // To a revision that is not there: one line saying so.
    let bad = fx.orch("v2", &["rollout", "undo", "web", "--to", "9"]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(stderr(&bad).contains("has no revision 9"), "{}", stderr(&bad));
    // --to an explicit revision.
    let to2 = fx.orch("v1", &["rollout", "undo", "web", "--to", "2"]);
    assert!(to2.status.success(), "{}", stderr(&to2));
    assert_eq!(fx.answer(), "v2");
}

#[test]
fn engine_error_mid_rollout_rolls_back_with_a_clear_message() {
    let fx = fixture("ro-err");
    let before = fx.containers();
    let load = fx.load();
    thread::sleep(Duration::from_secs(1));
    // The second new replica vanishes between its gate and joining the
    // service (as if someone removed it): the engine's error ends the
    // rollout, which puts the old containers back.
    let script = r#"
        let p = compose::load(#{});
        let r = compose::rollout(p, "web", #{
            gate: |c| { if c.name.ends_with("-5") { c.remove(#{ force: true }); } true },
        });
        print(`ok=${r.ok} rolled_back=${r.rolled_back} error=${r.error}`);
    "#;
    std::fs::write(fx.dir.path().join("err.rhai"), script).unwrap();
    let out = fx.orch("v2", &["run", "err.rhai"]);
    let counts = load.stop();
    let text = stdout(&out);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(text.contains("ok=false rolled_back=true"), "{text}");
    assert!(
        text.contains("joining ") && text.contains("-web-5 to service web") && text.contains("No such container"),
        "{text}"
    );
    assert_eq!(counts.failed, 0, "failed requests: {}", counts.failed);
    assert_eq!(fx.containers(), before, "the same old containers serve again");
    assert_eq!(fx.answer(), "v1");
}

#[test]
fn a_replica_failing_while_monitored_rolls_the_update_back() {
    let fx = fixture("ro-mon");
    let before = fx.containers();
    let image = format!("{}:flaky", fx.project);
    let out = fx.orch("v1", &["rollout", "web", "--image", &image, "--monitor", "5s"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("rolled back") && err.contains("while monitored"), "{err}");
    assert_eq!(fx.containers(), before, "the same old containers serve again");
    assert_eq!(fx.answer(), "v1");
}

#[test]
fn a_fixed_host_port_needs_stop_first() {
    let fx = fixture("ro-port");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let file = fx.dir.path().join("compose.yaml");
    let text = std::fs::read_to_string(&file).unwrap().replace(
        "    healthcheck:",
        &format!("    ports: [\"127.0.0.1:{port}:80\"]\n    healthcheck:"),
    );
    std::fs::write(&file, text.replace("replicas: 3", "replicas: 1")).unwrap();
    // `up` recreates it (two containers cannot hold the port) and says why.
    let up = fx.orch("v1", &["up", "-d", "--wait"]);
    assert!(up.status.success(), "{}", stderr(&up));
    assert!(
        stderr(&up).contains(&format!(
            "service web publishes host port {port}: recreated, not rolled"
        )),
        "{}",
        stderr(&up)
    );
    let out = fx.orch("v2", &["rollout", "web"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("use order stop-first"), "{}", stderr(&out));
    let out = fx.orch("v2", &["rollout", "web", "--order", "stop-first"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(fx.images(), vec![format!("{}:v2", fx.project)]);
    assert_eq!(fx.answer(), "v2");
}

#[test]
fn failure_action_pause_stops_where_it_is_with_every_replica_serving() {
    let fx = fixture("ro-pause");
    let before = fx.containers();
    let image = format!("{}:bad", fx.project);
    for order in ["start-first", "stop-first"] {
        let out = fx.orch(
            "v1",
            &[
                "rollout",
                "web",
                "--image",
                &image,
                "--failure-action",
                "pause",
                "--order",
                order,
            ],
        );
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{err}");
        assert!(err.contains("is paused") && err.contains("unhealthy"), "{order}: {err}");
        // The first replica failed: the old ones all serve (stop-first
        // started the one it had stopped again), nothing else is left.
        assert_eq!(fx.containers(), before, "{order}");
        let states = docker(&[
            "ps",
            "-a",
            "--filter",
            &format!("label=com.docker.compose.project={}", fx.project),
            "--format",
            "{{.State}}",
        ]);
        assert!(states.lines().all(|s| s == "running"), "{order}: {states}");
        assert_eq!(fx.answer(), "v1");
    }
}

/// A rollout of a project that is not up, or of a service it does not
/// have, is refused in one line, and nothing is created: before, the
/// rollout started replicas on a missing network and the engine made the
/// project's named volume, unlabelled.
#[test]
fn a_rollout_needs_the_project_up_and_creates_nothing_otherwise() {
    let project = unique("ro-notup");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("compose.yaml"),
        format!(
            "services:\n  web:\n    image: {}\n    command: [\"sh\", \"-c\", \"sleep 300\"]\n    volumes: [data:/data]\nvolumes:\n  data: {{}}\n",
            test_image()
        ),
    )
    .unwrap();
    let _cleanup = ProjectCleanup {
        dir: dir.path().to_path_buf(),
        project: project.clone(),
    };
    for (svc, message) in [
        (
            "web",
            "Error: service web has no container to roll out; 'orch up' starts it",
        ),
        ("nosuch", "no such service: nosuch"),
    ] {
        let out = orch()
            .current_dir(dir.path())
            .args(["-p", &project, "rollout", svc])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
        assert_eq!(stderr(&out).trim(), message);
    }
    let named = |kind: &str| docker(&[kind, "ls", "-q", "--filter", &format!("name={project}")]);
    assert!(named("volume").trim().is_empty(), "a volume was created");
    assert!(named("network").trim().is_empty(), "a network was created");
    let containers = docker(&["ps", "-aq", "--filter", &format!("name={project}")]);
    assert!(containers.trim().is_empty(), "a container was created");
}
