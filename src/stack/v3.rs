//! `docker stack config`: a stack file as the docker CLI's own loader
//! (docker/cli `cli/compose`, the "v3" format) prints it after merging and
//! interpolation. That loader is older and stricter than compose's: it
//! refuses keys outside its schema, keeps `env_file` and `shm_size` as
//! written, prints durations as Go does (`2m0s`) and file modes in decimal.
//!
//! The input is compose's canonical document loaded without normalising or
//! resolving paths (what `config --no-normalize --no-path-resolution`
//! prints), plus the raw files for what that document no longer holds (the
//! `version` key, `env_file`, keys compose accepts and docker refuses). The
//! output keeps docker's struct order; its maps keep the document's order,
//! which is already go-yaml's.

use std::path::{Component, Path, PathBuf};

use serde_json::{json, Map, Value};

use crate::compose::yaml::{self, Node, Value as Y};
use crate::units;

/// The version docker prints when the files give none (`schema.defaultVersion`).
const DEFAULT_VERSION: &str = "3.13";

/// Top-level keys of docker's v3.13 schema (plus `x-*`).
const TOP_KEYS: &[&str] = &["configs", "networks", "secrets", "services", "version", "volumes"];

/// Service keys of docker's v3.13 schema, in its `ServiceConfig` order.
const SERVICE_KEYS: &[&str] = &[
    "build",
    "cap_add",
    "cap_drop",
    "cgroupns_mode",
    "cgroup_parent",
    "command",
    "configs",
    "container_name",
    "credential_spec",
    "depends_on",
    "deploy",
    "devices",
    "dns",
    "dns_search",
    "domainname",
    "entrypoint",
    "environment",
    "env_file",
    "expose",
    "external_links",
    "extra_hosts",
    "hostname",
    "healthcheck",
    "image",
    "init",
    "ipc",
    "isolation",
    "labels",
    "links",
    "logging",
    "mac_address",
    "network_mode",
    "networks",
    "pid",
    "ports",
    "privileged",
    "read_only",
    "restart",
    "secrets",
    "security_opt",
    "shm_size",
    "stdin_open",
    "stop_grace_period",
    "stop_signal",
    "sysctls",
    "tmpfs",
    "tty",
    "ulimits",
    "user",
    "oom_score_adj",
    "userns_mode",
    "volumes",
    "working_dir",
];

/// Service keys docker's loader refuses outright (`types.ForbiddenProperties`).
const FORBIDDEN: &[&str] = &[
    "extends",
    "volume_driver",
    "volumes_from",
    "cpu_quota",
    "cpu_shares",
    "cpuset",
    "mem_limit",
    "memswap_limit",
];

/// One compose file as written: its path and its parsed YAML.
pub struct RawFile {
    pub path: PathBuf,
    pub root: Node,
}

/// Reads and parses the compose files (`-`: the text the loader read
/// from stdin).
pub fn raw_files(paths: &[String]) -> crate::error::Result<Vec<RawFile>> {
    let mut out = Vec::new();
    for (i, p) in paths.iter().enumerate() {
        let text = if p == "-" {
            crate::compose::load::stdin_text()?
        } else {
            std::fs::read_to_string(p).map_err(|e| format!("open {p}: {e}"))?
        };
        let root = yaml::parse(&text, i).map_err(|e| format!("{p}: {}", e.message))?;
        out.push(RawFile {
            path: PathBuf::from(p),
            root,
        });
    }
    Ok(out)
}

/// docker's checks before it loads: forbidden service keys, then its
/// schema's top-level and service keys. The error text is docker's.
pub fn check(raw: &[RawFile]) -> crate::error::Result<()> {
    let entries = |n: Option<&Node>| n.and_then(Node::as_map).cloned().unwrap_or_default();
    let services = |f: &RawFile| entries(f.root.get("services"));
    let forbidden = raw.iter().flat_map(services).any(|(_, svc)| {
        entries(Some(&svc))
            .iter()
            .any(|(k, _)| k.as_str().is_some_and(|k| FORBIDDEN.contains(&k)))
    });
    if forbidden {
        return Err("Configuration contains forbidden properties".to_string().into());
    }
    let versions: Vec<String> = raw.iter().map(version).collect();
    if let Some(other) = versions.iter().find(|v| **v != versions[0]) {
        return Err(format!(
            "version mismatched between two composefiles : {} and {other}",
            versions[0]
        )
        .into());
    }
    // docker reports one schema error, the most specific (deepest) one;
    // among equals, its validator's first: by name.
    let extra = |k: &str, allowed: &[&str]| !k.starts_with("x-") && !allowed.contains(&k);
    let mut root = Vec::new();
    let mut service = Vec::new();
    for f in raw {
        for (k, _) in entries(Some(&f.root)) {
            let k = k.scalar_text().unwrap_or_default();
            if extra(&k, TOP_KEYS) {
                root.push(format!("(root) Additional property {k} is not allowed"));
            }
        }
        for (name, svc) in services(f) {
            let name = name.scalar_text().unwrap_or_default();
            for (k, _) in entries(Some(&svc)) {
                let k = k.scalar_text().unwrap_or_default();
                if extra(&k, SERVICE_KEYS) {
                    service.push((name.clone(), k));
                }
            }
        }
    }
    if let Some((name, k)) = service.into_iter().min() {
        return Err(format!("services.{name} Additional property {k} is not allowed").into());
    }
    root.sort();
    match root.into_iter().next() {
        Some(e) => Err(e.into()),
        None => Ok(()),
    }
}

/// The document `docker stack config` prints, from compose's canonical
/// `doc` (not normalised, paths as written) and the raw files.
pub fn document(doc: &Value, raw: &[RawFile], working_dir: &Path) -> Value {
    let version = raw.first().map_or_else(|| DEFAULT_VERSION.to_string(), version);
    let mut out = Map::new();
    out.insert("version".into(), json!(version));
    let mut services = Map::new();
    for (name, svc) in doc["services"].as_object().into_iter().flatten() {
        let written = |key: &str| written(raw, name, key);
        let mut svc = service(svc, &written, working_dir);
        let files = raw
            .iter()
            .filter(|f| f.root.get("services").and_then(|s| s.get(name)).is_some());
        if files.count() > 1 {
            merged_order(&mut svc);
        }
        services.insert(name.clone(), svc);
    }
    out.insert("services".into(), Value::Object(services));
    for (section, keys) in [
        (
            "networks",
            &[
                "name",
                "driver",
                "driver_opts",
                "ipam",
                "external",
                "internal",
                "attachable",
                "labels",
            ][..],
        ),
        (
            "volumes",
            &["name", "driver", "driver_opts", "external", "labels", "x-cluster-spec"],
        ),
        (
            "secrets",
            &[
                "name",
                "file",
                "external",
                "labels",
                "driver",
                "driver_opts",
                "template_driver",
            ],
        ),
        (
            "configs",
            &[
                "name",
                "file",
                "external",
                "labels",
                "driver",
                "driver_opts",
                "template_driver",
            ],
        ),
    ] {
        let objects: Map<String, Value> = doc[section]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(k, v)| (k.clone(), top_object(k, v, keys, working_dir)))
            .collect();
        if !objects.is_empty() {
            out.insert(section.into(), Value::Object(objects));
        }
    }
    for (k, v) in doc
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(k, _)| k.starts_with("x-"))
    {
        out.insert(k.clone(), v.clone());
    }
    Value::Object(out)
}

/// docker merges a service given in several files through maps, keyed
/// and then sorted: ports by published port, secrets and configs by
/// source, volumes by target.
fn merged_order(svc: &mut Value) {
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

/// A file's `version` as docker reads it (none, `""` and `3` are 3.13).
fn version(f: &RawFile) -> String {
    f.root
        .get("version")
        .and_then(Node::scalar_text)
        .filter(|v| !v.is_empty() && v != "3")
        .unwrap_or_else(|| DEFAULT_VERSION.to_string())
}

/// The last value a raw file gives to `services.NAME.KEY` (scalars as
/// text), unless it holds a `${...}`: a value still to interpolate is the
/// document's business.
fn written(raw: &[RawFile], service: &str, key: &str) -> Option<Value> {
    let node = raw
        .iter()
        .rev()
        .find_map(|f| f.root.get("services")?.get(service)?.get(key).cloned())?;
    let v = as_json(&node)?;
    match (key, v) {
        // env_file items may be `{path, required}`: docker keeps the path.
        ("env_file", Value::Array(items)) => Some(json!(items
            .into_iter()
            .map(|i| i.get("path").cloned().unwrap_or(i))
            .collect::<Vec<_>>())),
        (_, v) => Some(v),
    }
}

/// A raw node as JSON, every scalar as text; `None` if any holds a `$`.
fn as_json(n: &Node) -> Option<Value> {
    Some(match &n.value {
        Y::Seq(items) => Value::Array(items.iter().map(as_json).collect::<Option<_>>()?),
        Y::Map(entries) => Value::Object(
            entries
                .iter()
                .map(|(k, v)| Some((k.scalar_text()?, as_json(v)?)))
                .collect::<Option<_>>()?,
        ),
        Y::Null => Value::Null,
        _ => Value::String(n.scalar_text().filter(|t| !t.contains('$'))?),
    })
}

/// A network, volume, secret or config: docker's fields, external ones
/// named after their key (docker's loader fills the name in).
fn top_object(key: &str, v: &Value, keys: &[&str], working_dir: &Path) -> Value {
    let mut m = pick(v, keys);
    if m.get("external").and_then(Value::as_bool) == Some(true) && !m.contains_key("name") {
        let mut named = Map::new();
        named.insert("name".into(), json!(key));
        named.extend(m);
        m = named;
    }
    if let Some(Value::String(f)) = m.get_mut("file") {
        *f = absolute(f, working_dir);
    }
    if let Some(Value::Object(ipam)) = m.get_mut("ipam") {
        *ipam = pick(&Value::Object(std::mem::take(ipam)), &["driver", "config"]);
    }
    Value::Object(m)
}

/// `v`'s entries among `keys`, in that order, without the empty ones
/// (go-yaml's `omitempty`: null, false, "", an empty list or map).
fn pick(v: &Value, keys: &[&str]) -> Map<String, Value> {
    let empty = |x: &Value| match x {
        Value::Null | Value::Bool(false) => true,
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(m) => m.is_empty(),
        Value::Number(_) | Value::Bool(true) => false,
    };
    keys.iter()
        .filter_map(|k| v.get(*k).filter(|x| !empty(x)).map(|x| (k.to_string(), x.clone())))
        .collect()
}

/// A path as docker's loader resolves it: relative to the working
/// directory, cleaned.
fn absolute(p: &str, working_dir: &Path) -> String {
    let joined = working_dir.join(p);
    let mut out = PathBuf::new();
    for c in joined.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            c => out.push(c),
        }
    }
    out.display().to_string()
}

/// One service in docker's field order, each value in docker's type.
fn service(svc: &Value, written: &dyn Fn(&str) -> Option<Value>, working_dir: &Path) -> Value {
    let mut out = Map::new();
    let given = pick(svc, SERVICE_KEYS);
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
            "volumes" => json!(v
                .as_array()
                .into_iter()
                .flatten()
                .map(|m| mount(m, working_dir))
                .collect::<Vec<_>>()),
            _ => v,
        };
        out.insert(key.into(), v);
    }
    for (k, v) in svc
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(k, _)| k.starts_with("x-"))
    {
        out.insert(k.clone(), v.clone());
    }
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

/// A mount in docker's `ServiceVolumeConfig` shape: a relative bind
/// source resolved, sizes as numbers, compose-only options left out.
fn mount(v: &Value, working_dir: &Path) -> Value {
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
    Value::Object(m)
}
