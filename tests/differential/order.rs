//! Start and stop order, from the engine's events: compared only for the
//! pairs a dependency orders (compose starts unrelated services at once)
//! and, for stops, only for containers a tool stopped.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};

use serde_json::{json, Map, Value};

use crate::tool::docker;

/// A point in time as `docker events --since/--until` reads it.
pub fn now() -> String {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    format!("{}.{:09}", d.as_secs(), d.subsec_nanos())
}

/// The first time each service's containers did `action` between `since`
/// and `until`: service → nanoseconds.
fn firsts(events: &[Value], action: &str) -> Map<String, Value> {
    let mut out = Map::new();
    for e in events.iter().filter(|e| e["Action"] == action) {
        let svc = e["Actor"]["Attributes"]["com.docker.compose.service"]
            .as_str()
            .unwrap_or_default();
        let t = e["timeNano"].as_u64().unwrap_or(0);
        let entry = out.entry(svc.to_string()).or_insert(json!(t));
        if entry.as_u64().unwrap_or(u64::MAX) > t {
            *entry = json!(t);
        }
    }
    out
}

/// The project's container events, subscribed before a step runs: the
/// engine keeps only its last 256 events for later queries, and on a busy
/// engine (health probes of every parallel scenario) a step's first events
/// can be gone by the time it ends.
pub struct Recorder {
    child: Option<Child>,
    lines: Arc<Mutex<Vec<String>>>,
    reader: Option<std::thread::JoinHandle<()>>,
    since: String,
}

fn events_args<'a>(filter: &'a str, since: &'a str, until: Option<&'a str>) -> Vec<&'a str> {
    let mut v = vec!["events", "--since", since];
    if let Some(u) = until {
        v.extend(["--until", u]);
    }
    v.extend([
        "--filter",
        filter,
        "--filter",
        "type=container",
        "--format",
        "{{json .}}",
    ]);
    v
}

impl Recorder {
    /// Starts listening to `project`'s container events from now on.
    pub fn start(project: &str) -> Recorder {
        let since = now();
        let filter = format!("label=com.docker.compose.project={project}");
        let lines = Arc::new(Mutex::new(Vec::new()));
        let mut child = Command::new("docker")
            .args(events_args(&filter, &since, None))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .ok();
        let reader = child.as_mut().and_then(|c| c.stdout.take()).map(|out| {
            let lines = lines.clone();
            std::thread::spawn(move || {
                for l in BufReader::new(out).lines().map_while(Result::ok) {
                    lines.lock().unwrap().push(l);
                }
            })
        });
        Recorder {
            child,
            lines,
            reader,
            since,
        }
    }

    /// Stops listening; the step's events: what the subscription saw, plus
    /// a query of the engine's buffer for any delivered late.
    fn finish(mut self, project: &str, until: &str) -> Vec<Value> {
        let filter = format!("label=com.docker.compose.project={project}");
        let late = docker(&events_args(&filter, &self.since, Some(until)));
        if let Some(c) = self.child.as_mut() {
            let _ = c.kill();
            let _ = c.wait();
        }
        if let Some(r) = self.reader.take() {
            let _ = r.join();
        }
        let until_ns = to_nanos(until);
        let mut seen = std::collections::BTreeSet::new();
        let live = self.lines.lock().unwrap().clone();
        live.iter()
            .map(String::as_str)
            .chain(late.lines())
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter(|e| e["timeNano"].as_u64().is_some_and(|t| t <= until_ns))
            .filter(|e| seen.insert((e["id"].to_string(), e["Action"].to_string(), e["timeNano"].to_string())))
            .collect()
    }
}

/// `secs.nanos` (as [`now`] writes it) in nanoseconds.
fn to_nanos(t: &str) -> u64 {
    let (s, n) = t.split_once('.').unwrap_or((t, "0"));
    s.parse::<u64>().unwrap_or(0) * 1_000_000_000 + n.parse::<u64>().unwrap_or(0)
}

/// For each (dependent, dependency) pair where both started (or both
/// stopped) during the step, which went first: `start.web>db` is
/// `"db first"` when compose's order held.
pub fn relations(rec: Recorder, project: &str, until: &str, deps: &[(String, String)]) -> Value {
    let events = rec.finish(project, until);
    // A stop is the tool's only where the tool signalled the container
    // (`kill`, also sent by a stop): a container that exited by itself, or
    // died with the init of the PID namespace it shared (`pid: service:x`),
    // dies in an order neither tool chose.
    let signalled: Vec<Value> = events
        .iter()
        .filter(|e| e["Action"] == "kill")
        .map(|e| e["Actor"]["ID"].clone())
        .collect();
    let stopped: Vec<Value> = events
        .iter()
        .filter(|e| e["Action"] != "die" || signalled.contains(&e["Actor"]["ID"]))
        .cloned()
        .collect();
    let mut rel = Map::new();
    for action in ["start", "die"] {
        let t = firsts(&stopped, action);
        for (a, b) in deps {
            if let (Some(ta), Some(tb)) = (t.get(a).and_then(Value::as_u64), t.get(b).and_then(Value::as_u64)) {
                let first = if ta < tb { a } else { b };
                rel.insert(format!("{action}.{a}>{b}"), json!(format!("{first} first")));
            }
        }
    }
    Value::Object(rel)
}
