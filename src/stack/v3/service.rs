//! One service of `docker stack config`: docker's `ServiceConfig` field
//! order, and each value in the type docker's struct gives it (Go
//! durations, decimal modes, numbers where compose keeps text).

use std::path::Path;

use serde_json::{json, Map, Value};

use super::{absolute, pick, SERVICE_KEYS};
use crate::units;

/// One service in docker's field order, each value in docker's type.
pub(super) fn service(svc: &Value, written: &dyn Fn(&str) -> Option<Value>, working_dir: &Path) -> Value {
    let mut out = Map::new();
    let mut given = pick(svc, SERVICE_KEYS);
    // `init` is a pointer in docker's struct: false is printed too.
    if svc.get("init") == Some(&Value::Bool(false)) {
        given.insert("init".into(), Value::Bool(false));
    }
    for &key in SERVICE_KEYS {
        let v = match key {
            "env_file" | "shm_size" => written(key).or_else(|| given.get(key).cloned()),
            _ => given.get(key).cloned(),
        };
        let Some(v) = v else { continue };
        let v = match key {
            "env_file" | "dns" | "dns_search" | "tmpfs" if v.is_string() => json!([v]),
            "build" => Value::Object(pick(
                &v,
                &[
                    "context",
                    "dockerfile",
                    "args",
                    "labels",
                    "cache_from",
                    "extra_hosts",
                    "network",
                    "target",
                ],
            )),
            "depends_on" => json!(v
                .as_object()
                .map(|m| m.keys().cloned().collect::<Vec<_>>())
                .unwrap_or_default()),
            "deploy" => deploy(&v),
            "extra_hosts" => hosts(&v),
            "healthcheck" => durations(
                pick(
                    &v,
                    &[
                        "test",
                        "timeout",
                        "interval",
                        "retries",
                        "start_period",
                        "start_interval",
                        "disable",
                    ],
                ),
                &["timeout", "interval", "start_period", "start_interval"],
            ),
            "networks" => networks(&v),
            "ports" => ports(&v, written("ports")),
            "secrets" | "configs" => json!(v
                .as_array()
                .into_iter()
                .flatten()
                .map(|r| file_ref(key, r))
                .collect::<Vec<_>>()),
            "stop_grace_period" => go_duration(&v),
            "volumes" => mounts(&v, written("volumes"), working_dir),
            _ => v,
        };
        out.insert(key.into(), v);
    }
    super::extensions(svc, &mut out);
    Value::Object(out)
}

/// A compose duration printed as Go's `time.Duration` (`2m` → `2m0s`).
fn go_duration(v: &Value) -> Value {
    match v.as_str().map(units::parse_duration) {
        Some(Ok(ns)) => json!(units::format_duration(ns)),
        _ => v.clone(),
    }
}

fn durations(mut m: Map<String, Value>, keys: &[&str]) -> Value {
    for k in keys {
        if let Some(v) = m.get_mut(*k) {
            *v = go_duration(v);
        }
    }
    Value::Object(m)
}

/// `deploy:` as docker's `DeployConfig`.
fn deploy(v: &Value) -> Value {
    let mut m = pick(
        v,
        &[
            "mode",
            "replicas",
            "labels",
            "update_config",
            "rollback_config",
            "resources",
            "restart_policy",
            "placement",
            "endpoint_mode",
        ],
    );
    if let Some(labels) = m.get_mut("labels") {
        *labels = mapping(labels);
    }
    let update = [
        "parallelism",
        "delay",
        "failure_action",
        "monitor",
        "max_failure_ratio",
        "order",
    ];
    for k in ["update_config", "rollback_config"] {
        if let Some(u) = m.get_mut(k) {
            *u = durations(pick(u, &update), &["delay", "monitor"]);
        }
    }
    if let Some(r) = m.get_mut("resources") {
        let mut res = pick(r, &["limits", "reservations"]);
        for (k, fields) in [
            ("limits", &["cpus", "memory", "pids"][..]),
            ("reservations", &["cpus", "memory", "generic_resources"]),
        ] {
            if let Some(x) = res.get_mut(k) {
                let mut one = pick(x, fields);
                // docker keeps the string it was given; compose made it a number.
                if let Some(c) = one.get_mut("cpus") {
                    if let Some(f) = c.as_f64() {
                        *c = json!(if f.fract() == 0.0 {
                            format!("{}", f as i64)
                        } else {
                            f.to_string()
                        });
                    }
                }
                *x = Value::Object(one);
            }
        }
        *r = Value::Object(res);
    }
    if let Some(r) = m.get_mut("restart_policy") {
        *r = durations(
            pick(r, &["condition", "delay", "max_attempts", "window"]),
            &["delay", "window"],
        );
    }
    if let Some(p) = m.get_mut("placement") {
        *p = Value::Object(pick(p, &["constraints", "preferences", "max_replicas_per_node"]));
    }
    Value::Object(m)
}

/// `KEY=VALUE` items (as compose keeps them when not normalising) as a map.
fn mapping(v: &Value) -> Value {
    match v {
        Value::Array(items) => Value::Object(
            items
                .iter()
                .filter_map(Value::as_str)
                .map(|s| match s.split_once('=') {
                    Some((k, v)) => (k.to_string(), json!(v)),
                    None => (s.to_string(), json!("")),
                })
                .collect(),
        ),
        other => other.clone(),
    }
}

/// `extra_hosts` as docker's `host:ip` items.
fn hosts(v: &Value) -> Value {
    let items = |s: &str| s.replacen('=', ":", 1);
    match v {
        Value::Array(a) => json!(a.iter().filter_map(Value::as_str).map(items).collect::<Vec<_>>()),
        Value::Object(m) => json!(m
            .iter()
            .flat_map(|(h, ips)| {
                let ips: Vec<String> = match ips {
                    Value::Array(a) => a.iter().filter_map(Value::as_str).map(String::from).collect(),
                    x => x.as_str().map(String::from).into_iter().collect(),
                };
                ips.into_iter().map(move |ip| format!("{h}:{ip}"))
            })
            .collect::<Vec<_>>()),
        x => x.clone(),
    }
}

/// A service's networks: docker's fields, an empty entry as null.
fn networks(v: &Value) -> Value {
    let Some(m) = v.as_object() else { return v.clone() };
    let keys = ["aliases", "driver_opts", "ipv4_address", "ipv6_address"];
    Value::Object(
        m.iter()
            .map(|(name, n)| {
                let fields = pick(n, &keys);
                (
                    name.clone(),
                    if fields.is_empty() {
                        Value::Null
                    } else {
                        Value::Object(fields)
                    },
                )
            })
            .collect(),
    )
}

/// Ports: docker's four fields, the published port a number. docker
/// fills in `tcp` for the short syntax only: a long-syntax port the file
/// gives without a protocol (when the written list lines up with the
/// document's) has none.
fn ports(v: &Value, written: Option<Value>) -> Value {
    let list = v.as_array().cloned().unwrap_or_default();
    let written = written
        .and_then(|w| w.as_array().cloned())
        .filter(|w| w.len() == list.len());
    let ports = list.iter().enumerate().map(|(i, p)| {
        let mut m = pick(p, &["mode", "target", "published", "protocol"]);
        if let Some(n) = m
            .get("published")
            .and_then(Value::as_str)
            .and_then(|s| s.parse::<u64>().ok())
        {
            m.insert("published".into(), json!(n));
        }
        let long = written.as_ref().and_then(|w| w[i].as_object());
        if long.is_some_and(|l| !l.contains_key("protocol")) {
            m.remove("protocol");
        }
        Value::Object(m)
    });
    json!(ports.collect::<Vec<_>>())
}

/// A secret or config reference; docker prints a file mode in decimal
/// and leaves out the target compose fills in by default.
fn file_ref(kind: &str, r: &Value) -> Value {
    let mut m = pick(r, &["source", "target", "uid", "gid", "mode"]);
    let source = m.get("source").and_then(Value::as_str).unwrap_or_default();
    let default = if kind == "secrets" {
        format!("/run/secrets/{source}")
    } else {
        format!("/{source}")
    };
    if m.get("target").and_then(Value::as_str) == Some(default.as_str()) {
        m.remove("target");
    }
    if let Some(mode) = m.get_mut("mode") {
        if let Some(n) = mode.as_str().and_then(|s| u32::from_str_radix(s, 8).ok()) {
            *mode = json!(n);
        }
    }
    Value::Object(m)
}

/// The mounts; a target keeps the trailing `/` it was written with
/// (compose cleans it away, docker does not), when the written list lines
/// up with the document's.
fn mounts(v: &Value, written: Option<Value>, working_dir: &Path) -> Value {
    let list = v.as_array().cloned().unwrap_or_default();
    let written = written
        .and_then(|w| w.as_array().cloned())
        .filter(|w| w.len() == list.len());
    let target = |w: &Value| match w {
        Value::String(short) => {
            let parts: Vec<&str> = short.split(':').collect();
            parts.get(if parts.len() == 1 { 0 } else { 1 }).map(|t| t.to_string())
        }
        long => long["target"].as_str().map(String::from),
    };
    let mounts = list.iter().enumerate().map(|(i, m)| {
        let mut m = mount(m, working_dir);
        // A `bind:` (or `volume:` …) mapping written with only keys docker
        // lacks is an empty struct to docker, still printed.
        for k in ["bind", "volume", "image", "tmpfs"] {
            let given = written.as_ref().is_some_and(|w| w[i].get(k).is_some());
            if given && !m.contains_key(k) {
                m.insert(k.into(), json!({}));
            }
        }
        let as_written = written.as_ref().and_then(|w| target(&w[i]));
        if let (Some(t), Some(Value::String(cur))) = (as_written, m.get_mut("target")) {
            if t.trim_end_matches('/') == cur.as_str() && t != *cur {
                *cur = t;
            }
        }
        Value::Object(m)
    });
    json!(mounts.collect::<Vec<_>>())
}

/// A mount in docker's `ServiceVolumeConfig` shape: a relative bind
/// source resolved, sizes as numbers, compose-only options left out.
fn mount(v: &Value, working_dir: &Path) -> Map<String, Value> {
    let mut m = pick(
        v,
        &[
            "type",
            "source",
            "target",
            "read_only",
            "consistency",
            "bind",
            "volume",
            "image",
            "tmpfs",
        ],
    );
    if m.get("type").and_then(Value::as_str) == Some("bind") {
        if let Some(Value::String(s)) = m.get_mut("source") {
            if s.starts_with('.') {
                *s = absolute(s, working_dir);
            } else if let Some(rest) = s.strip_prefix('~') {
                *s = format!("{}{rest}", std::env::var("HOME").unwrap_or_default());
            }
        }
    }
    for (k, fields) in [
        ("bind", &["propagation"][..]),
        ("volume", &["nocopy", "subpath"]),
        ("image", &["subpath"]),
        ("tmpfs", &["size"]),
    ] {
        let Some(x) = m.get(k) else { continue };
        let mut one = pick(x, fields);
        if let Some(size) = one.get_mut("size") {
            if let Some(n) = size.as_str().and_then(|s| units::ram_in_bytes(s).ok()) {
                *size = json!(n);
            }
        }
        if one.is_empty() {
            m.remove(k);
        } else {
            m.insert(k.into(), Value::Object(one));
        }
    }
    m
}

/// docker merges a service given in several files through maps, keyed
/// and then sorted: ports by published port, secrets and configs by
/// source, volumes by target.
pub(super) fn merged_order(svc: &mut Value) {
    for (list, key) in [
        ("ports", "published"),
        ("secrets", "source"),
        ("configs", "source"),
        ("volumes", "target"),
    ] {
        if let Some(Value::Array(items)) = svc.get_mut(list) {
            let text = |v: &Value| match &v[key] {
                Value::Number(n) => format!("{:020}", n.as_u64().unwrap_or(0)),
                other => other.as_str().unwrap_or_default().to_string(),
            };
            items.sort_by_key(text);
        }
    }
}
