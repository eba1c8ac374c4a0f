//! The fixture of the one-host rollout tests: a project, its images, a
//! load client and a monitor.

use std::process::{Command, Output};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use crate::common::*;

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
pub struct Fx {
    _containers: Cleanup,
    _project: ProjectCleanup,
    _images: Images,
    pub dir: tempfile::TempDir,
    pub project: String,
}

pub fn fixture(tag: &str) -> Fx {
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
    pub fn orch(&self, tag: &str, args: &[&str]) -> Output {
        orch()
            .current_dir(self.dir.path())
            .env("TAG", tag)
            .args(args)
            .output()
            .expect("run orch")
    }

    /// The reference compose with `TAG=v2`.
    pub fn compose_v2(&self, args: &[&str]) -> Output {
        Command::new(compose_ref())
            .args(args)
            .current_dir(self.dir.path())
            .env("TAG", "v2")
            .output()
            .expect("run docker-compose")
    }

    /// The service's containers: name → ID.
    pub fn containers(&self) -> std::collections::BTreeMap<String, String> {
        project_containers(&self.project)
    }

    /// The image each of the service's containers runs.
    pub fn images(&self) -> Vec<String> {
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
    pub fn answer(&self) -> String {
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
    pub fn load(&self) -> Load {
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
    pub fn monitor(&self) -> Monitor {
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
pub struct Seen {
    pub samples: usize,
    pub min_healthy: usize,
    pub min_rows: usize,
    pub max_rows: usize,
    pub problems: Vec<String>,
}

pub struct Monitor {
    stop: Arc<AtomicBool>,
    seen: Arc<Mutex<Seen>>,
    handle: thread::JoinHandle<()>,
}

impl Monitor {
    pub fn stop(self) -> Seen {
        self.stop.store(true, Ordering::SeqCst);
        self.handle.join().expect("monitor");
        let s = self.seen.lock().unwrap().clone();
        s
    }
}

pub struct Load {
    name: String,
    started: Instant,
}

#[derive(Debug)]
pub struct Counts {
    pub ok: u64,
    pub retries: u64,
    pub failed: u64,
    pub per_second: f64,
}

impl Load {
    pub fn stop(self) -> Counts {
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
