//! docker's `service ls` rows, built natively from the engine's service
//! objects. In Rhai, a row per service (a closure call and a copy of the
//! whole service object each) was a third of `orch service ls`'s script
//! time on 50 services, measured beside `docker service ls`
//! (bench/swarm.sh). The script still picks the columns and the format.
//!
//! ```rhai
//! let rows = service::rows(service::list(#{}), false);
//! print(format_template("{{.Name}}\t{{.Replicas}}", rows));
//! ```

use rhai::plugin::*;
use rhai::{Array, Dynamic, Map};

/// The value at `path` inside nested maps, copied; `None` where a step is
/// missing, not a map, or `()`.
fn get(v: &Dynamic, path: &[&str]) -> Option<Dynamic> {
    let (first, rest) = path.split_first()?;
    let m = v.read_lock::<Map>()?;
    let x = m.get(*first).filter(|x| !x.is_unit())?;
    if rest.is_empty() {
        Some(x.clone())
    } else {
        get(x, rest)
    }
}

fn int(v: &Dynamic, path: &[&str]) -> i64 {
    get(v, path).and_then(|x| x.as_int().ok()).unwrap_or(0)
}

/// A number as the script's string interpolation printed it.
fn shown(v: &Dynamic, path: &[&str]) -> String {
    get(v, path).map_or_else(|| "0".to_string(), |x| x.to_string())
}

/// docker's mode column: `replicated`, `global`, `replicated job`, `global job`.
fn mode(s: &Dynamic) -> &'static str {
    let has = |k: &str| get(s, &["Spec", "Mode", k]).is_some();
    if has("Global") {
        "global"
    } else if has("Replicated") {
        "replicated"
    } else if has("ReplicatedJob") {
        "replicated job"
    } else if has("GlobalJob") {
        "global job"
    } else {
        ""
    }
}

/// docker's Replicas(): running/desired, a job's completions, or the
/// per-node maximum of a replicated service.
fn replicas(s: &Dynamic, mode: &str) -> String {
    let mut out = format!(
        "{}/{}",
        shown(s, &["ServiceStatus", "RunningTasks"]),
        shown(s, &["ServiceStatus", "DesiredTasks"])
    );
    let done = int(s, &["ServiceStatus", "CompletedTasks"]);
    match mode {
        "replicated job" => {
            let total = shown(s, &["Spec", "Mode", "ReplicatedJob", "TotalCompletions"]);
            out += &format!(" ({done}/{total} completed)");
        }
        "global job" => {
            let desired = int(s, &["ServiceStatus", "DesiredTasks"]);
            out += &format!(" ({done}/{} completed)", desired + done);
        }
        "replicated" => {
            let max = int(s, &["Spec", "TaskTemplate", "Placement", "MaxReplicas"]);
            if max > 0 {
                out += &format!(" (max {max} per node)");
            }
        }
        _ => {}
    }
    out
}

/// `*:8080->80/tcp, …`: the published ports, from the service's endpoint
/// (its spec's until the engine has assigned them).
fn ports(s: &Dynamic) -> String {
    let list = get(s, &["Endpoint", "Ports"])
        .or_else(|| get(s, &["Spec", "EndpointSpec", "Ports"]))
        .and_then(|p| p.try_cast::<Array>())
        .unwrap_or_default();
    let mut out = Vec::new();
    for p in &list {
        let Some(published) = get(p, &["PublishedPort"]) else {
            continue;
        };
        if published.as_int().ok() == Some(0) {
            continue;
        }
        let target = get(p, &["TargetPort"]).map(|t| t.to_string()).unwrap_or_default();
        let proto = get(p, &["Protocol"]).map_or_else(|| "tcp".to_string(), |x| x.to_string());
        out.push(format!("*:{published}->{target}/{proto}"));
    }
    out.join(", ")
}

/// One service as docker's `service ls` row.
fn row(s: &Dynamic, no_trunc: bool) -> Map {
    let mode = mode(s);
    let id = get(s, &["ID"]).map(|x| x.to_string()).unwrap_or_default();
    let id = if no_trunc { id } else { id.chars().take(12).collect() };
    let mut out = Map::new();
    out.insert("ID".into(), id.into());
    out.insert("Name".into(), get(s, &["Spec", "Name"]).unwrap_or(Dynamic::UNIT));
    out.insert("Mode".into(), mode.into());
    out.insert("Replicas".into(), replicas(s, mode).into());
    let image = get(s, &["Spec", "TaskTemplate", "ContainerSpec", "Image"]);
    out.insert("Image".into(), image.unwrap_or(Dynamic::UNIT));
    out.insert("Ports".into(), ports(s).into());
    out
}

#[export_module]
pub mod api {
    /// docker's `service ls` rows (`cli/command/service/formatter.go`) for
    /// services as `service::list` returns them, in their order: `ID` (cut
    /// to 12 unless `no_trunc`), `Name`, `Mode`, `Replicas` (`1/2`, a
    /// job's `(n/m completed)`, `(max n per node)`), `Image`, `Ports`.
    ///
    /// ```rhai
    /// for r in service::rows(service::list(#{}), false) { print(`${r.Name} ${r.Replicas}`); }
    /// ```
    #[rhai_fn(name = "rows", pure)]
    pub fn rows(list: &mut Array, no_trunc: bool) -> Array {
        list.iter().map(|s| super::row(s, no_trunc).into()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn service(json: &str) -> Dynamic {
        crate::api::value::from_json(&serde_json::from_str(json).unwrap())
    }

    #[test]
    fn rows_as_docker_prints_them() {
        let replicated = service(
            r#"{"ID":"abcdefghijklmnop","Spec":{"Name":"web","Mode":{"Replicated":{"Replicas":2}},
            "TaskTemplate":{"ContainerSpec":{"Image":"nginx:1"},"Placement":{"MaxReplicas":1}}},
            "Endpoint":{"Ports":[{"Protocol":"tcp","TargetPort":80,"PublishedPort":8080},{"TargetPort":81,"PublishedPort":0}]},
            "ServiceStatus":{"RunningTasks":1,"DesiredTasks":2}}"#,
        );
        let r = row(&replicated, false);
        assert_eq!(r["ID"].to_string(), "abcdefghijkl");
        assert_eq!(r["Mode"].to_string(), "replicated");
        assert_eq!(r["Replicas"].to_string(), "1/2 (max 1 per node)");
        assert_eq!(r["Ports"].to_string(), "*:8080->80/tcp");
        assert_eq!(r["Image"].to_string(), "nginx:1");
        let job = service(
            r#"{"ID":"x","Spec":{"Name":"j","Mode":{"GlobalJob":{}},"TaskTemplate":{"ContainerSpec":{"Image":"i"}}},
            "ServiceStatus":{"RunningTasks":0,"DesiredTasks":1,"CompletedTasks":2}}"#,
        );
        let r = row(&job, true);
        assert_eq!(r["Mode"].to_string(), "global job");
        assert_eq!(r["Replicas"].to_string(), "0/1 (2/3 completed)");
        assert_eq!(r["Ports"].to_string(), "");
        let bare = service(
            r#"{"ID":"y","Spec":{"Name":"b","Mode":{"Replicated":{}},"EndpointSpec":{"Ports":[{"TargetPort":5,"PublishedPort":6,"Protocol":"udp"}]}}}"#,
        );
        let r = row(&bare, false);
        assert_eq!(r["Replicas"].to_string(), "0/0");
        assert_eq!(r["Ports"].to_string(), "*:6->5/udp");
        assert!(r["Image"].is_unit());
    }
}
