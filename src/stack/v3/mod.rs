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

use std::path::Path;

use serde_json::{json, Map, Value};

use service::{merged_order, service};

use crate::compose::yaml::{self, Node, Value as Y};

mod check;
mod service;

pub use check::check;

/// The version docker prints when the files give none (`schema.defaultVersion`).
const DEFAULT_VERSION: &str = "3.13";

/// The keys of each top-level section's entries, in docker's schema
/// and in its structs' order (a config's `driver` is only in the struct:
/// the schema refuses it, so it never reaches the document).
const SECTION_KEYS: &[(&str, &[&str])] = &[
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
        ],
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
    ("configs", &["name", "file", "external", "labels", "template_driver"]),
];

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

/// One compose file as written: its parsed YAML.
pub struct RawFile {
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
            std::fs::read_to_string(p).map_err(|e| match e.kind() {
                // Go's words, as docker prints them.
                std::io::ErrorKind::NotFound => format!("open {p}: no such file or directory"),
                _ => format!("open {p}: {e}"),
            })?
        };
        let root = yaml::parse(&text, i).map_err(|e| format!("{p}: {}", e.message))?;
        out.push(RawFile { root });
    }
    Ok(out)
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
    for &(section, keys) in SECTION_KEYS {
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
    extensions(doc, &mut out);
    Value::Object(out)
}

/// `from`'s `x-*` keys copied into `into` (docker's inline `Extras`).
fn extensions(from: &Value, into: &mut Map<String, Value>) {
    let extras = from
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(k, _)| k.starts_with("x-"));
    into.extend(extras.map(|(k, v)| (k.clone(), v.clone())));
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
    crate::compose::canon::clean(&working_dir.join(p))
}
