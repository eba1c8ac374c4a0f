//! The README's main job, examples/flask-redis (Flask and Redis from
//! Debian packages, images made by .ci/setup), end to end on the engine:
//! the tutorial walkthrough, the count kept by the named volume, the watch
//! loop on app.py, and a broken route failing `up --wait`. Each test runs
//! a copy of the example under its own project name on a free host port,
//! so the suite runs while the README's main job holds port 5000.

mod common;

use std::path::Path;
use std::process::{Child, Output, Stdio};
use std::time::{Duration, Instant};

use common::*;

const PAGE: &str = "Hello World! I have been seen";

/// A copy of the example in a temp folder, its project and its port; the
/// project's containers, volumes, network and built image go when dropped.
struct Example {
    dir: tempfile::TempDir,
    project: String,
    port: u16,
}

impl Example {
    fn new(tag: &str) -> Example {
        for image in ["orch-examples/python:3-flask", "orch-examples/redis:7"] {
            assert!(
                std::process::Command::new("docker")
                    .args(["image", "inspect", image])
                    .output()
                    .is_ok_and(|o| o.status.success()),
                "{image} is missing: run .ci/setup (it builds it from Debian's packages)"
            );
        }
        let dir = tempfile::tempdir().unwrap();
        let src = repo().join("examples/flask-redis");
        for entry in std::fs::read_dir(&src).unwrap() {
            let entry = entry.unwrap();
            std::fs::copy(entry.path(), dir.path().join(entry.file_name())).unwrap();
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .unwrap()
            .port();
        Example {
            dir,
            project: unique(tag),
            port,
        }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// `orch -p PROJECT ARGS` in the copy, with WEB_PORT set (it wins over .env).
    fn orch(&self, args: &[&str]) -> Output {
        orch()
            .args(["-p", &self.project])
            .args(args)
            .current_dir(self.path())
            .env("WEB_PORT", self.port.to_string())
            .output()
            .unwrap()
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.orch(args);
        assert!(out.status.success(), "orch {args:?}: {}", stderr(&out));
        stdout(&out)
    }

    /// The reference's Go binary (its exit codes are real, unlike the shim's).
    fn reference(&self, args: &[&str]) -> Output {
        std::process::Command::new(compose_ref())
            .args(["-p", &self.project])
            .args(args)
            .current_dir(self.path())
            .env("WEB_PORT", self.port.to_string())
            .output()
            .unwrap()
    }

    /// The page, once it answers with `prefix` (Flask may still be starting).
    fn visit(&self, prefix: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(90);
        let mut last = String::new();
        while Instant::now() < deadline {
            last = get(self.port).unwrap_or_else(|e| e);
            if last.starts_with(prefix) {
                return last;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        panic!("port {}: no page starting {prefix:?}; last: {last:?}", self.port);
    }

    fn hits_in_redis(&self) -> String {
        self.ok(&["exec", "-T", "redis", "redis-cli", "get", "hits"])
            .trim()
            .to_string()
    }

    fn container_of(&self, service: &str) -> String {
        project_containers(&self.project)
            .into_iter()
            .find(|(name, _)| name == &format!("{}-{service}-1", self.project))
            .map(|(_, id)| id)
            .unwrap_or_default()
    }
}

impl Drop for Example {
    fn drop(&mut self) {
        drop(ProjectCleanup {
            dir: self.path().to_path_buf(),
            project: self.project.clone(),
        });
        let _ = std::process::Command::new("docker")
            .args(["rmi", &format!("{}-web", self.project)])
            .output();
    }
}

/// One GET / over HTTP/1.0: the body, or what went wrong.
fn get(port: u16) -> Result<String, String> {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
    // A request that reached Flask counted a visit: wait for its answer
    // (a busy machine is slow) rather than ask again.
    s.set_read_timeout(Some(Duration::from_secs(120))).ok();
    s.write_all(b"GET / HTTP/1.0\r\nHost: localhost\r\n\r\n")
        .map_err(|e| e.to_string())?;
    let mut text = String::new();
    s.read_to_string(&mut text).map_err(|e| e.to_string())?;
    match text.find("\r\n\r\n") {
        Some(i) => Ok(text[i + 4..].trim().to_string()),
        None => Err(text),
    }
}

/// `ps --format json` rows by name, without the fields that are times.
fn ps_rows(json: &str) -> std::collections::BTreeMap<String, serde_json::Map<String, serde_json::Value>> {
    json.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let mut row: serde_json::Map<String, serde_json::Value> = serde_json::from_str(l).unwrap();
            for k in ["CreatedAt", "RunningFor", "Status"] {
                row.remove(k);
            }
            // Labels are one comma-joined string in map order: compare as a set.
            if let Some(serde_json::Value::String(labels)) = row.get("Labels") {
                let mut set: Vec<&str> = labels.split(',').collect();
                set.sort();
                let sorted = set.join(",");
                row.insert("Labels".into(), sorted.into());
            }
            (row["Name"].as_str().unwrap().to_string(), row)
        })
        .collect()
}

#[test]
fn tutorial_walkthrough_counts_in_redis_keeps_the_count_over_down_and_resets_on_down_v() {
    let ex = Example::new("flask");
    ex.ok(&["up", "-d"]);
    assert_eq!(ex.visit(PAGE), format!("{PAGE} 1 times."));
    assert_eq!(ex.visit(PAGE), format!("{PAGE} 2 times."));
    assert_eq!(ex.hits_in_redis(), "2");

    // ps: both services, the free port published; the reference agrees on
    // every field orch prints.
    ex.ok(&["up", "-d", "--wait"]);
    let ps = ex.ok(&["ps"]);
    assert!(ps.contains(&format!("0.0.0.0:{}->5000/tcp", ex.port)), "{ps}");
    let ours = ps_rows(&ex.ok(&["ps", "--format", "json"]));
    let theirs = ps_rows(&stdout(&ex.reference(&["ps", "--format", "json"])));
    assert_eq!(
        ours.keys().collect::<Vec<_>>(),
        [format!("{}-redis-1", ex.project), format!("{}-web-1", ex.project)]
            .iter()
            .collect::<Vec<_>>()
    );
    for (name, row) in &ours {
        for key in ["Service", "State", "Health", "Image", "Publishers", "Project", "ID"] {
            assert!(row.contains_key(key), "{name}: no {key} in {row:?}");
        }
        for (key, value) in row {
            assert_eq!(
                Some(value),
                theirs[name].get(key),
                "{name}.{key}: orch {value} vs reference"
            );
        }
    }
    let images = ex.ok(&["images"]);
    assert!(
        images.contains(&format!("{}-web ", ex.project)) && images.contains("orch-examples/redis "),
        "{images}"
    );

    // Unchanged: up touches nothing. Edited: only the changed service is recreated.
    let before = project_containers(&ex.project);
    ex.ok(&["up", "-d"]);
    assert_eq!(project_containers(&ex.project), before);
    let file = ex.path().join("compose.yaml");
    let yaml = std::fs::read_to_string(&file).unwrap();
    std::fs::write(
        &file,
        yaml.replace("    build: .\n", "    build: .\n    environment:\n      GREETING: hi\n"),
    )
    .unwrap();
    let redis = ex.container_of("redis");
    let web = ex.container_of("web");
    ex.ok(&["up", "-d"]);
    assert_eq!(ex.container_of("redis"), redis, "redis did not change: kept");
    assert_ne!(ex.container_of("web"), web, "web changed: recreated");
    assert_eq!(ex.visit(PAGE), format!("{PAGE} 3 times."));

    // stop, start, restart: the count goes on.
    ex.ok(&["stop"]);
    assert!(!ex.ok(&["ps"]).contains("Up "));
    ex.ok(&["start"]);
    assert_eq!(ex.visit(PAGE), format!("{PAGE} 4 times."));
    ex.ok(&["restart"]);
    assert_eq!(ex.visit(PAGE), format!("{PAGE} 5 times."));

    // down keeps the named volume (appendonly): the count survives.
    ex.ok(&["down"]);
    assert!(project_containers(&ex.project).is_empty());
    ex.ok(&["up", "-d"]);
    assert_eq!(ex.visit(PAGE), format!("{PAGE} 6 times."));
    assert_eq!(ex.hits_in_redis(), "6");

    // down -v removes it: the count starts again.
    ex.ok(&["down", "-v"]);
    assert!(
        resources_named(&ex.project).is_empty(),
        "{:?}",
        resources_named(&ex.project)
    );
    ex.ok(&["up", "-d"]);
    assert_eq!(ex.visit(PAGE), format!("{PAGE} 1 times."));

    // rm -s -f removes the containers; the reference's down takes the rest.
    ex.ok(&["rm", "-s", "-f"]);
    assert!(project_containers(&ex.project).is_empty());
    let down = ex.reference(&["down", "-v"]);
    assert!(down.status.success(), "{}", stderr(&down));
    assert!(
        resources_named(&ex.project).is_empty(),
        "{:?}",
        resources_named(&ex.project)
    );
}

/// `orch watch` in the copy; killed when dropped (before the project goes).
struct Watching(Child);

impl Drop for Watching {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn editing_app_py_under_watch_changes_the_page_without_recreating_web() {
    let ex = Example::new("flaskwatch");
    // Outside the build context (a write there would be a change to it).
    let logs = tempfile::tempdir().unwrap();
    let log = logs.path().join("watch.log");
    let file = std::fs::File::create(&log).unwrap();
    let _watch = Watching(
        orch()
            .args(["-p", &ex.project, "watch"])
            .current_dir(ex.path())
            .env("WEB_PORT", ex.port.to_string())
            .env("NO_COLOR", "1")
            .stdout(Stdio::from(file.try_clone().unwrap()))
            .stderr(Stdio::from(file))
            .spawn()
            .unwrap(),
    );
    assert_eq!(ex.visit(PAGE), format!("{PAGE} 1 times."));
    let web = ex.container_of("web");
    let started = docker(&["inspect", "-f", "{{.State.StartedAt}}", &web]);

    let app = ex.path().join("app.py");
    let text = std::fs::read_to_string(&app).unwrap();
    std::fs::write(&app, text.replace("Hello World!", "Hello from orch watch!")).unwrap();
    // The old code answers (and counts) until Flask's reloader has the new one.
    let page = ex.visit("Hello from orch watch!");
    let hits = ex.hits_in_redis();
    assert_eq!(page, format!("Hello from orch watch! I have been seen {hits} times."));
    let reports = std::fs::read_to_string(&log).unwrap();
    assert!(reports.contains("app.py changed: synced web"), "{reports}");
    assert_eq!(ex.container_of("web"), web, "the container was not recreated");
    assert_eq!(
        docker(&["inspect", "-f", "{{.State.StartedAt}}", &web]),
        started,
        "nor restarted"
    );
    let synced = docker(&["exec", &web, "cat", "/code/app.py"]);
    assert!(synced.contains("Hello from orch watch!"), "{synced}");
}

#[test]
fn a_route_that_raises_makes_web_unhealthy_and_up_wait_fail_naming_it() {
    let ex = Example::new("flaskbroken");
    let app = ex.path().join("app.py");
    let text = std::fs::read_to_string(&app).unwrap();
    let broken = text.replace(
        "def hello():\n",
        "def hello():\n    raise RuntimeError('broken on purpose')\n",
    );
    assert_ne!(broken, text);
    std::fs::write(&app, broken).unwrap();

    let out = ex.orch(&["up", "-d", "--wait", "--wait-timeout", "120"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    let web = format!("{}-web-1", ex.project);
    let state = docker(&["inspect", "-f", "{{.State.Health.Status}}", &web]);
    assert_eq!(state.trim(), "unhealthy");
    // The message names the container and its last health output (the
    // probe's error: HTTP 500 from the route that raises).
    let line = err
        .lines()
        .find(|l| l.contains(&web) && l.contains("unhealthy"))
        .unwrap_or_else(|| panic!("no line naming {web} unhealthy: {err}"));
    assert!(line.contains("HTTP Error 500"), "{line}");

    // The reference fails the same way (exit code 1) on the same project.
    ex.ok(&["down"]);
    let theirs = ex.reference(&["up", "-d", "--wait", "--wait-timeout", "120"]);
    assert_eq!(theirs.status.code(), Some(1), "{}", stderr(&theirs));
    assert!(
        stderr(&theirs).contains(&format!("{web} is unhealthy")),
        "{}",
        stderr(&theirs)
    );
}
