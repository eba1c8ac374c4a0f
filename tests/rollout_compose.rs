//! One-host rolling updates (`orch rollout`, `compose::rollout`) under
//! load: a client container asks the service by name ≥ 20 times a second
//! (`timeout 2 wget`, one retry as a proxy would, retries counted) while
//! the rollout runs; a monitor counts healthy replicas and asks the
//! reference `docker compose ps` what it sees, throughout.

mod common;

use std::process::{Command, Output};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use common::*;

/// The load client's request loops.
const LOOPS: usize = 4;

/// Images built for a test, removed last (after its containers).
struct Images(Vec<String>);

impl Drop for Images {
    fn drop(&mut self) {
        let _ = Command::new("docker").arg("rmi").arg("-f").args(&self.0).output();
    }
}

/// A project `web` (3 replicas of `<project>:${TAG:-v1}`, start-first,
/// parallelism 1, a wget healthcheck) and its images: v1, v2 (serving
/// their version), bad (serving nothing, so its healthcheck fails) and
/// flaky (v2's page for 2 s, then nothing).
/// Fields drop in order: containers and networks, the project, images.
struct Fx {
    _containers: Cleanup,
    _project: ProjectCleanup,
    _images: Images,
    dir: tempfile::TempDir,
    project: String,
}

fn fixture(tag: &str) -> Fx {
    let base = test_image();
    let project = unique(tag);
    let dir = tempfile::tempdir().expect("tempdir");
    let mut images = Vec::new();
    for v in ["v1", "v2", "bad", "flaky"] {
        let ctx = dir.path().join(format!("img-{v}"));
        std::fs::create_dir_all(ctx.join("www")).unwrap();
        if v != "bad" {
            let page = if v == "flaky" { "v2" } else { v };
            std::fs::write(ctx.join("www/index.html"), format!("{page}\n")).unwrap();
        }
        // sh as PID 1 with a TERM trap: the replica stops on SIGTERM.
        // flaky serves for 2 s, then loses its page (healthy, then not).
        let breaks = if v == "flaky" {
            "(sleep 2; rm /www/index.html) & "
        } else {
            ""
        };
        let dockerfile = format!(
            "FROM {base}\nCOPY www /www\nCMD [\"sh\", \"-c\", \"trap 'exit 0' TERM; httpd -f -p 80 -h /www & {breaks}wait\"]\n"
        );
        std::fs::write(ctx.join("Dockerfile"), dockerfile).unwrap();
        let name = format!("{project}:{v}");
        docker(&["build", "-q", "-t", &name, ctx.to_str().unwrap()]);
        images.push(name);
    }
    let compose = format!(
        r#"name: {project}
services:
  web:
    image: {project}:${{TAG:-v1}}
    deploy:
      replicas: 3
      update_config:
        parallelism: 1
        order: start-first
    healthcheck:
      test: ["CMD", "wget", "-qO-", "http://127.0.0.1/"]
      interval: 500ms
      retries: 2
"#
    );
    std::fs::write(dir.path().join("compose.yaml"), compose).unwrap();
    let fx = Fx {
        _containers: Cleanup(project.clone()),
        _project: ProjectCleanup {
            dir: dir.path().to_path_buf(),
            project: project.clone(),
        },
        _images: Images(images),
        dir,
        project,
    };
    let up = fx.orch("v1", &["up", "-d", "--wait"]);
    assert!(up.status.success(), "up: {}", stderr(&up));
    fx
}

impl Fx {
    fn orch(&self, tag: &str, args: &[&str]) -> Output {
        orch()
            .current_dir(self.dir.path())
            .env("TAG", tag)
            .args(args)
            .output()
            .expect("run orch")
    }

    /// The reference compose with `TAG=v2`.
    fn compose_v2(&self, args: &[&str]) -> Output {
        Command::new(compose_ref())
            .args(args)
            .current_dir(self.dir.path())
            .env("TAG", "v2")
            .output()
            .expect("run docker-compose")
    }

    /// The service's containers: name → ID.
    fn containers(&self) -> std::collections::BTreeMap<String, String> {
        project_containers(&self.project)
    }

    /// The image each of the service's containers runs.
    fn images(&self) -> Vec<String> {
        let out = docker(&[
            "ps",
            "-a",
            "--filter",
            &format!("label=com.docker.compose.project={}", self.project),
            "--format",
            "{{.Image}}",
        ]);
        let mut v: Vec<String> = out.lines().map(str::to_string).collect();
        v.sort();
        v
    }

    /// What `web` answers now, asked from inside the project's network.
    fn answer(&self) -> String {
        docker(&[
            "run",
            "--rm",
            "--network",
            &format!("{}_default", self.project),
            test_image(),
            "wget",
            "-qO-",
            "http://web/",
        ])
        .trim()
        .to_string()
    }

    /// Starts the load client; `stop` returns its counts.
    fn load(&self) -> Load {
        let name = format!("{}-client", self.project);
        // Four loops (as a proxy's connections): one request, retried once
        // on failure; counts in /statsK. A request in flight to a replica
        // as it leaves the network waits for its timeout, and the machine
        // may be busy: the other loops keep the rate up meanwhile.
        let script = "for k in 1 2 3 4; do ( ok=0; retry=0; fail=0; \
            while [ ! -f /stop ]; do \
              if timeout 2 wget -qO- http://web/ >/dev/null 2>&1; then ok=$((ok+1)); \
              else retry=$((retry+1)); \
                if timeout 2 wget -qO- http://web/ >/dev/null 2>&1; then ok=$((ok+1)); else fail=$((fail+1)); fi; \
              fi; \
              echo \"$ok $retry $fail\" > /stats$k; sleep 0.05; \
            done; touch /done$k ) & done; sleep 3600";
        docker(&[
            "run",
            "-d",
            "--name",
            &name,
            "--network",
            &format!("{}_default", self.project),
            test_image(),
            "sh",
            "-c",
            script,
        ]);
        Load {
            name,
            started: Instant::now(),
        }
    }

    /// Samples, until stopped, the healthy replicas (the engine's count)
    /// and what the reference `docker compose ps` shows.
    fn monitor(&self) -> Monitor {
        let stop = Arc::new(AtomicBool::new(false));
        let seen = Arc::new(Mutex::new(Seen {
            min_healthy: usize::MAX,
            min_rows: usize::MAX,
            ..Default::default()
        }));
        let (project, dir) = (self.project.clone(), self.dir.path().to_path_buf());
        let (s2, seen2) = (stop.clone(), seen.clone());
        let handle = thread::spawn(move || {
            while !s2.load(Ordering::SeqCst) {
                let healthy = docker(&[
                    "ps",
                    "-q",
                    "--filter",
                    &format!("label=com.docker.compose.project={project}"),
                    "--filter",
                    "health=healthy",
                ])
                .lines()
                .count();
                let ps = compose(&dir, &["ps", "--format", "json"]);
                let mut s = seen2.lock().unwrap();
                s.samples += 1;
                s.min_healthy = s.min_healthy.min(healthy);
                if !ps.status.success() {
                    s.problems.push(format!("compose ps failed: {}", stderr(&ps)));
                }
                let rows: Vec<serde_json::Value> = stdout(&ps)
                    .lines()
                    .filter(|l| !l.trim().is_empty())
                    .filter_map(|l| serde_json::from_str(l).ok())
                    .collect();
                for r in &rows {
                    if r["Service"] != "web" || r["Project"] != project.as_str() {
                        s.problems.push(format!("compose ps shows a foreign row: {r}"));
                    }
                }
                s.max_rows = s.max_rows.max(rows.len());
                s.min_rows = s.min_rows.min(rows.len());
            }
        });
        Monitor { stop, seen, handle }
    }
}

#[derive(Default, Debug, Clone)]
struct Seen {
    samples: usize,
    min_healthy: usize,
    min_rows: usize,
    max_rows: usize,
    problems: Vec<String>,
}

struct Monitor {
    stop: Arc<AtomicBool>,
    seen: Arc<Mutex<Seen>>,
    handle: thread::JoinHandle<()>,
}

impl Monitor {
    fn stop(self) -> Seen {
        self.stop.store(true, Ordering::SeqCst);
        self.handle.join().expect("monitor");
        let s = self.seen.lock().unwrap().clone();
        s
    }
}

struct Load {
    name: String,
    started: Instant,
}

#[derive(Debug)]
struct Counts {
    ok: u64,
    retries: u64,
    failed: u64,
    per_second: f64,
}

impl Load {
    fn stop(self) -> Counts {
        let elapsed = self.started.elapsed().as_secs_f64();
        docker(&["exec", &self.name, "touch", "/stop"]);
        let t = Instant::now();
        let done = |l: &str| l.starts_with("done");
        while docker(&["exec", &self.name, "sh", "-c", "ls /"])
            .lines()
            .filter(|l| done(l))
            .count()
            < LOOPS
        {
            assert!(t.elapsed() < Duration::from_secs(10), "load client did not stop");
            thread::sleep(Duration::from_millis(100));
        }
        let mut n = [0u64; 3];
        for k in 1..=LOOPS {
            let stats = docker(&["exec", &self.name, "cat", &format!("/stats{k}")]);
            for (i, x) in stats.split_whitespace().enumerate() {
                n[i] += x.parse::<u64>().unwrap();
            }
        }
        let _ = Command::new("docker").args(["rm", "-f", &self.name]).output();
        let c = Counts {
            ok: n[0],
            retries: n[1],
            failed: n[2],
            per_second: (n[0] + n[2]) as f64 / elapsed,
        };
        eprintln!(
            "load: {} ok, {} retried, {} failed, {:.1} requests/s",
            c.ok, c.retries, c.failed, c.per_second
        );
        c
    }
}

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
    assert!(counts.per_second >= 20.0, "load too thin: {:.1}/s", counts.per_second);
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
    assert!(counts.per_second >= 20.0, "load too thin: {:.1}/s", counts.per_second);
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
