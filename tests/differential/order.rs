//! Start and stop order, from the engine's events: compared only for the
//! pairs a dependency orders (compose starts unrelated services at once).

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

/// For each (dependent, dependency) pair where both started (or both
/// stopped) during the step, which went first: `start.web>db` is
/// `"db first"` when compose's order held.
pub fn relations(project: &str, since: &str, until: &str, deps: &[(String, String)]) -> Value {
    let filter = format!("label=com.docker.compose.project={project}");
    let out = docker(&[
        "events",
        "--since",
        since,
        "--until",
        until,
        "--filter",
        &filter,
        "--filter",
        "type=container",
        "--format",
        "{{json .}}",
    ]);
    let events: Vec<Value> = out.lines().filter_map(|l| serde_json::from_str(l).ok()).collect();
    let mut rel = Map::new();
    for action in ["start", "die"] {
        let t = firsts(&events, action);
        for (a, b) in deps {
            if let (Some(ta), Some(tb)) = (t.get(a).and_then(Value::as_u64), t.get(b).and_then(Value::as_u64)) {
                let first = if ta < tb { a } else { b };
                rel.insert(format!("{action}.{a}>{b}"), json!(format!("{first} first")));
            }
        }
    }
    Value::Object(rel)
}
