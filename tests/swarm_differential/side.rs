//! One side of a swarm scenario: a tool (the docker CLI or orch), the
//! prefix every object it makes is named with, its own copy of the
//! scenario folder; running a step, reading back what the swarm holds
//! under the prefix (always with the docker CLI, the neutral reader), and
//! removing it all.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Map, Value};

use crate::common::cluster::Cluster;
use crate::normalise::Norm;

const STEP_LIMIT: Duration = Duration::from_secs(150);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tool {
    Docker,
    Orch,
}

/// What one run of a step gave.
pub struct Outcome {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    pub took: Duration,
}

pub struct Side<'a> {
    pub cluster: &'a Cluster,
    pub tool: Tool,
    /// Every object of this side is named `${S}…`: this.
    pub prefix: String,
    /// What every side's prefix in this run starts with.
    pub family: String,
    pub dir: tempfile::TempDir,
}

impl<'a> Side<'a> {
    pub fn new(cluster: &'a Cluster, tool: Tool, prefix: String, family: &str, src: &Path) -> Side<'a> {
        let dir = tempfile::Builder::new().prefix("orch-sd-").tempdir().expect("tempdir");
        for e in std::fs::read_dir(src).expect("scenario folder").flatten() {
            if e.path().is_file() {
                std::fs::copy(e.path(), dir.path().join(e.file_name())).expect("copy scenario file");
            }
        }
        let side = Side {
            cluster,
            tool,
            prefix,
            family: family.to_string(),
            dir,
        };
        side.cleanup();
        side
    }

    /// `${S}`, `${IMAGE}` and `${DIR}` in a step's word.
    pub fn expand(&self, word: &str) -> String {
        word.replace("${S}", &self.prefix)
            .replace("${IMAGE}", crate::common::test_image())
            .replace("${DIR}", &self.dir.path().to_string_lossy())
    }

    fn command(&self) -> Command {
        let host = &self.cluster.node(1).host;
        let mut c = match self.tool {
            Tool::Docker => {
                let mut c = Command::new("docker");
                c.arg("-H").arg(host);
                c
            }
            Tool::Orch => {
                let mut c = crate::common::orch();
                c.env("DOCKER_HOST", host);
                c
            }
        };
        c.current_dir(self.dir.path()).env("NO_COLOR", "1");
        c
    }

    /// Runs the step's arguments (expanded) with this side's tool, killed
    /// after [`STEP_LIMIT`] (then the exit code is -1).
    pub fn run(&self, args: &[String], stdin: Option<&str>) -> Outcome {
        let mut c = self.command();
        c.args(args.iter().map(|a| self.expand(a)));
        c.stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() });
        c.stdout(Stdio::piped()).stderr(Stdio::piped());
        let started = Instant::now();
        let mut child = c.spawn().expect("spawn the tool");
        if let Some(file) = stdin {
            let text = std::fs::read(self.dir.path().join(file)).expect("stdin file");
            let mut pipe = child.stdin.take().unwrap();
            let _ = pipe.write_all(&text);
        }
        let pid = child.id();
        let watchdog = std::thread::spawn(move || {
            let t = Instant::now();
            while t.elapsed() < STEP_LIMIT {
                std::thread::sleep(Duration::from_millis(200));
                // SAFETY: signal 0 only asks whether the process exists.
                if unsafe { libc::kill(pid as i32, 0) } != 0 {
                    return;
                }
            }
            // SAFETY: kills the child this runner spawned.
            unsafe { libc::kill(pid as i32, libc::SIGKILL) };
        });
        let out = child.wait_with_output().expect("wait for the tool");
        let took = started.elapsed();
        drop(watchdog);
        Outcome {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            took,
        }
    }

    /// `docker -H node1 ARGS`' stdout ("" when it fails).
    pub fn docker(&self, args: &[&str]) -> String {
        let out = Command::new("docker")
            .arg("-H")
            .arg(&self.cluster.node(1).host)
            .args(args)
            .output()
            .expect("docker CLI");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn listed(&self, args: &[&str]) -> Vec<String> {
        self.docker(args)
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(String::from)
            .collect()
    }

    fn inspect(&self, kind: &str, ids: &[String]) -> Vec<Value> {
        if ids.is_empty() {
            return Vec::new();
        }
        let mut args = vec![kind, "inspect"];
        args.extend(ids.iter().map(String::as_str));
        serde_json::from_str(&self.docker(&args)).unwrap_or_default()
    }

    /// IDs of the side's objects of `kind` (service, secret, config, network).
    fn ids(&self, kind: &str) -> Vec<String> {
        let filter = format!("name={}", self.prefix);
        let mut ids = self.listed(&[kind, "ls", "-q", "--filter", &filter]);
        if kind == "network" {
            // dockerd 20.10 leaves the swarm's networks out of `network ls`
            // when its query to the swarm fails (it drops the error), as it
            // did once under CI load: the networks named with the prefix
            // that the side's services use are the side's too.
            for v in self.inspect("service", &self.ids("service")) {
                for net in v["Spec"]["TaskTemplate"]["Networks"].as_array().into_iter().flatten() {
                    let id = net["Target"].as_str().unwrap_or_default();
                    let found = self.docker(&["network", "inspect", "-f", "{{.Id}} {{.Name}}", id]);
                    if let Some((full, name)) = found.trim().split_once(' ') {
                        let listed = ids.iter().any(|i| full.starts_with(i.as_str()));
                        if name.contains(&self.prefix) && !listed {
                            ids.push(full.to_string());
                        }
                    }
                }
            }
        }
        ids
    }

    /// What names the side's IDs stand for in its output: every object's
    /// and task's ID (full and cut to 12) and the prefix itself.
    pub fn norm(&self) -> Norm {
        let mut norm = Norm::new(&self.prefix, &self.family);
        for kind in ["service", "secret", "config", "network"] {
            for v in self.inspect(kind, &self.ids(kind)) {
                let name = v["Spec"]["Name"].as_str().or(v["Name"].as_str()).unwrap_or("?");
                let name = name.replace(&self.prefix, "S");
                if let Some(id) = v["ID"].as_str().or(v["Id"].as_str()) {
                    norm.id(id, &format!("<{kind}:{name}>"));
                }
                if kind == "service" {
                    // A stack's new overlay network may not be listed on
                    // the manager yet: name it from the service's target.
                    for net in v["Spec"]["TaskTemplate"]["Networks"].as_array().into_iter().flatten() {
                        let id = net["Target"].as_str().unwrap_or("?");
                        let name = self.docker(&["network", "inspect", "-f", "{{.Name}}", id]);
                        if !name.trim().is_empty() {
                            norm.id(id, &format!("<network:{}>", name.trim().replace(&self.prefix, "S")));
                        }
                    }
                    for task in self.listed(&["service", "ps", "-q", "--no-trunc", v["ID"].as_str().unwrap_or("?")]) {
                        norm.id(&task, "<task>");
                    }
                }
            }
        }
        norm
    }

    /// What the swarm holds under the prefix: services (spec and previous
    /// spec), secrets and configs (spec), networks (their settings).
    pub fn snapshot(&self, norm: &Norm) -> Value {
        let mut out = Map::new();
        for kind in ["service", "secret", "config", "network"] {
            let mut objects = Map::new();
            for v in self.inspect(kind, &self.ids(kind)) {
                let (name, kept) = if kind == "network" {
                    let kept = json!({
                        "Driver": v["Driver"], "Scope": v["Scope"], "Internal": v["Internal"],
                        "Attachable": v["Attachable"], "Labels": v["Labels"], "Options": v["Options"],
                    });
                    (v["Name"].clone(), kept)
                } else {
                    let mut kept = json!({ "Spec": v["Spec"] });
                    if !v["PreviousSpec"].is_null() {
                        kept["PreviousSpec"] = v["PreviousSpec"].clone();
                    }
                    (v["Spec"]["Name"].clone(), kept)
                };
                let name = name.as_str().unwrap_or("?").replace(&self.prefix, "S");
                objects.insert(name, settled(norm.json(&kept)));
            }
            out.insert(format!("{kind}s"), Value::Object(objects));
        }
        Value::Object(out)
    }

    /// Waits until SERVICE (expanded) has `n` running tasks.
    pub fn wait_running(&self, service: &str, n: usize) -> Result<(), String> {
        let service = self.expand(service);
        let t = Instant::now();
        loop {
            let states = self.listed(&[
                "service",
                "ps",
                "--filter",
                "desired-state=running",
                "--format",
                "{{.CurrentState}}",
                &service,
            ]);
            if states.iter().filter(|s| s.starts_with("Running")).count() == n {
                return Ok(());
            }
            if t.elapsed() > STEP_LIMIT {
                return Err(format!(
                    "{service}: not {n} tasks running after {STEP_LIMIT:?}: {states:?}"
                ));
            }
            std::thread::sleep(Duration::from_millis(250));
        }
    }

    /// Waits until `docker KIND inspect NAME` (expanded) finds nothing.
    pub fn wait_gone(&self, kind: &str, name: &str) -> Result<(), String> {
        let name = self.expand(name);
        let t = Instant::now();
        while !self
            .docker(&[kind, "inspect", "-f", "{{.Name}}", &name])
            .trim()
            .is_empty()
        {
            if t.elapsed() > STEP_LIMIT {
                return Err(format!("{kind} {name} still there after {STEP_LIMIT:?}"));
            }
            std::thread::sleep(Duration::from_millis(250));
        }
        Ok(())
    }

    /// Removes every stack, service, secret, config and network named
    /// with the prefix (stacks first, their networks once free).
    pub fn cleanup(&self) {
        let stacks: Vec<String> = self
            .listed(&["stack", "ls", "--format", "{{.Name}}"])
            .into_iter()
            .filter(|s| s.starts_with(&self.prefix))
            .collect();
        for s in &stacks {
            self.docker(&["stack", "rm", s]);
        }
        for kind in ["service", "secret", "config"] {
            let ids = self.ids(kind);
            if !ids.is_empty() {
                let mut args = vec![kind, "rm"];
                args.extend(ids.iter().map(String::as_str));
                self.docker(&args);
            }
        }
        let t = Instant::now();
        while t.elapsed() < Duration::from_secs(60) {
            let ids = self.ids("network");
            if ids.is_empty() {
                break;
            }
            let mut args = vec!["network", "rm"];
            args.extend(ids.iter().map(String::as_str));
            self.docker(&args);
            std::thread::sleep(Duration::from_millis(500));
        }
    }
}

impl Drop for Side<'_> {
    fn drop(&mut self) {
        self.cleanup();
    }
}

/// What the engine decides, not the client, made equal: the VXLAN ID an
/// overlay network got; and the order of a service's secrets, configs and
/// (after `--env-add`) environment, which docker's CLI sends in Go map
/// order (random).
fn settled(mut v: Value) -> Value {
    if let Some(o) = v.get_mut("Options").and_then(Value::as_object_mut) {
        o.remove("com.docker.network.driver.overlay.vxlanid_list");
    }
    for spec in ["Spec", "PreviousSpec"] {
        let Some(c) = v.pointer_mut(&format!("/{spec}/TaskTemplate/ContainerSpec")) else {
            continue;
        };
        // `Env` too: docker's `--env-add` rebuilds the list from a Go map.
        for list in ["Secrets", "Configs", "Env"] {
            if let Some(items) = c.get_mut(list).and_then(Value::as_array_mut) {
                items.sort_by_key(|i| i.to_string());
            }
        }
    }
    v
}
