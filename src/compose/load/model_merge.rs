//! compose-go's `override.Merge` and `override.EnforceUnicity` on the
//! model's generic tree (`model`): a file merged onto the ones before by
//! compose-go's per-path rules, then lists that are sets by key (a
//! variable, a mount target, a port) keep one entry per key, the last.

use serde_json::{Map, Value};

use super::model::{go_sprint, matches};
use crate::compose::error::LoadError;

/// compose-go's `override.Merge`: `other` onto `base`, with its special
/// rules per path.
pub(super) fn merge_map(base: &mut Map<String, Value>, other: Map<String, Value>, path: &mut Vec<String>) {
    for (k, v) in other {
        match base.shift_remove(&k) {
            None => {
                base.insert(k, v);
            }
            Some(e) => {
                path.push(k.clone());
                let merged = merge_value(e, v, path);
                path.pop();
                base.insert(k, merged);
            }
        }
    }
}

const TO_SEQUENCE: &[&str] = &[
    "networks.*.labels",
    "volumes.*.labels",
    "services.*.annotations",
    "services.*.build.args",
    "services.*.build.additional_contexts",
    "services.*.build.labels",
    "services.*.deploy.labels",
    "services.*.dns",
    "services.*.dns_opt",
    "services.*.dns_search",
    "services.*.env_file",
    "services.*.label_file",
    "services.*.environment",
    "services.*.labels",
    "services.*.volumes.*.volume.labels",
    "services.*.sysctls",
    "services.*.tmpfs",
];

fn merge_value(e: Value, o: Value, path: &mut Vec<String>) -> Value {
    let is = |p: &str| matches(path, p);
    if TO_SEQUENCE.iter().any(|p| is(p)) {
        let mut out = into_sequence(e);
        out.extend(into_sequence(o));
        return Value::Array(out);
    }
    if [
        "services.*.command",
        "services.*.entrypoint",
        "services.*.healthcheck.test",
    ]
    .iter()
    .any(|p| is(p))
    {
        return o;
    }
    if is("services.*.extra_hosts") || is("services.*.build.extra_hosts") {
        let mut out = into_sequence(e);
        for x in into_sequence(o) {
            if !out.contains(&x) {
                out.push(x);
            }
        }
        return Value::Array(out);
    }
    if is("services.*.build") {
        let as_map = |v: Value| match v {
            Value::String(s) => Map::from_iter([("context".to_string(), Value::String(s))]),
            Value::Object(m) => m,
            _ => Map::new(),
        };
        let mut b = as_map(e);
        merge_map(&mut b, as_map(o), path);
        return Value::Object(b);
    }
    if is("services.*.depends_on") || is("services.*.networks") || is("services.*.models") {
        let default =
            is("services.*.depends_on").then(|| serde_json::json!({"condition": "service_started", "required": true}));
        let mut b = into_mapping(e, &default);
        merge_map(&mut b, into_mapping(o, &default), path);
        return Value::Object(b);
    }
    if is("services.*.logging") {
        if let (Value::Object(mut c), Value::Object(other)) = (e.clone(), o.clone()) {
            let same = match (other.get("driver"), c.get("driver")) {
                (Some(a), Some(b)) => a == b,
                _ => true,
            };
            if !same {
                return Value::Object(other);
            }
            merge_map(&mut c, other, path);
            return Value::Object(c);
        }
    }
    if is("services.*.ulimits.*") {
        // compose-go merges the override with itself: the override wins.
        return o;
    }
    match (e, o) {
        (e, Value::Null) => e,
        (Value::Object(mut a), Value::Object(b)) => {
            merge_map(&mut a, b, path);
            Value::Object(a)
        }
        (Value::Array(mut a), Value::Array(b)) => {
            a.extend(b);
            Value::Array(a)
        }
        (_, o) => o,
    }
}

/// compose-go's `convertIntoSequence`: a map becomes sorted `k=v` (or `k`)
/// entries.
fn into_sequence(v: Value) -> Vec<Value> {
    match v {
        Value::Object(m) => {
            let mut seq: Vec<String> = Vec::new();
            for (k, val) in m {
                match val {
                    Value::Null => seq.push(k),
                    Value::Array(items) => seq.extend(items.iter().map(|x| format!("{k}={}", go_sprint(x)))),
                    other => seq.push(format!("{k}={}", go_sprint(&other))),
                }
            }
            seq.sort();
            seq.into_iter().map(Value::String).collect()
        }
        Value::Array(a) => a,
        Value::String(s) => vec![Value::String(s)],
        _ => Vec::new(),
    }
}

fn into_mapping(v: Value, default: &Option<Value>) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        Value::Array(a) => a
            .iter()
            .map(|s| (go_sprint(s), default.clone().unwrap_or(Value::Null)))
            .collect(),
        _ => Map::new(),
    }
}

/// compose-go's indexers: the key under which a list entry is unique.
const UNIQUE: &[(&str, Index)] = &[
    ("networks.*.labels", Index::KeyValue),
    ("networks.*.ipam.options", Index::KeyValue),
    ("services.*.annotations", Index::KeyValue),
    ("services.*.build.args", Index::KeyValue),
    ("services.*.build.additional_contexts", Index::KeyValue),
    ("services.*.build.platform", Index::KeyValue),
    ("services.*.build.tags", Index::KeyValue),
    ("services.*.build.labels", Index::KeyValue),
    ("services.*.cap_add", Index::KeyValue),
    ("services.*.cap_drop", Index::KeyValue),
    ("services.*.devices", Index::Device),
    ("services.*.configs", Index::Mount("")),
    ("services.*.deploy.labels", Index::KeyValue),
    ("services.*.dns", Index::KeyValue),
    ("services.*.dns_opt", Index::KeyValue),
    ("services.*.dns_search", Index::KeyValue),
    ("services.*.environment", Index::KeyValue),
    ("services.*.env_file", Index::EnvFile),
    ("services.*.expose", Index::Plain),
    ("services.*.labels", Index::KeyValue),
    ("services.*.links", Index::KeyValue),
    ("services.*.networks.*.aliases", Index::KeyValue),
    ("services.*.networks.*.link_local_ips", Index::KeyValue),
    ("services.*.ports", Index::Port),
    ("services.*.profiles", Index::KeyValue),
    ("services.*.secrets", Index::Mount("/run/secrets")),
    ("services.*.sysctls", Index::KeyValue),
    ("services.*.tmpfs", Index::KeyValue),
    ("services.*.volumes", Index::Volume),
];

#[derive(Clone, Copy)]
enum Index {
    KeyValue,
    Device,
    Mount(&'static str),
    EnvFile,
    Plain,
    Port,
    Volume,
}

fn key_of(index: Index, v: &Value) -> String {
    let field = |k: &str| v.get(k).map(go_sprint);
    match (index, v) {
        (Index::KeyValue, Value::String(s)) => s.split_once('=').map_or(s.as_str(), |(k, _)| k).to_string(),
        (Index::Device, Value::String(s)) => {
            let parts: Vec<&str> = s.split(':').collect();
            parts.get(1).unwrap_or(&parts[0]).to_string()
        }
        (Index::Mount(dir), Value::String(s)) => format!("{dir}/{s}"),
        (Index::Mount(dir), Value::Object(_)) => {
            field("target").unwrap_or_else(|| format!("{dir}/{}", field("source").unwrap_or_default()))
        }
        (Index::Port, Value::Object(_)) => format!(
            "{}:{}:{}/{}",
            field("host_ip").unwrap_or_else(|| "0.0.0.0".into()),
            field("published").unwrap_or_default(),
            field("target").unwrap_or_default(),
            field("protocol").unwrap_or_else(|| "tcp".into())
        ),
        (Index::Volume | Index::Device, Value::Object(_)) => field("target").unwrap_or_default(),
        (Index::EnvFile, Value::Object(_)) => field("path").unwrap_or_default(),
        (_, other) => go_sprint(other),
    }
}

/// Whether an empty list at `path` is a non-nil slice in compose-go's
/// final model: every list goes nil when empty (`OmitEmpty` rebuilds
/// them), then unicity rebuilds its own, except the two that `Normalize`
/// resolves into a nil slice again.
pub(super) fn empty_list_kept(path: &[String]) -> bool {
    UNIQUE.iter().any(|(p, _)| matches(path, p))
        && !matches(path, "services.*.environment")
        && !matches(path, "services.*.build.args")
}

/// compose-go's `EnforceUnicity`: in the lists that are sets by key, a
/// later entry replaces an earlier one with the same key, in its place.
pub(super) fn unicity(dict: &mut Map<String, Value>) -> Result<(), LoadError> {
    unique_in(dict, &mut Vec::new())
}

/// The name Go's `%T` gives a decoded YAML value.
fn go_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "<nil>",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_f64() => "float64",
        Value::Number(_) => "int",
        Value::String(_) => "string",
        Value::Array(_) => "[]interface {}",
        Value::Object(_) => "map[string]interface {}",
    }
}

fn unique_in(m: &mut Map<String, Value>, path: &mut Vec<String>) -> Result<(), LoadError> {
    for (k, v) in m.iter_mut() {
        path.push(k.clone());
        match v {
            Value::Object(o) => unique_in(o, path)?,
            Value::Array(a) => {
                if let Some((_, index)) = UNIQUE.iter().find(|(p, _)| matches(path, p)) {
                    let mut seq: Vec<Value> = Vec::new();
                    let mut keys: Vec<String> = Vec::new();
                    for (i, entry) in a.drain(..).enumerate() {
                        if matches!(index, Index::KeyValue) && !entry.is_string() {
                            return Err(LoadError::plain(format!(
                                "{}.[{i}]: unexpected type {}",
                                path.join("."),
                                go_type(&entry)
                            )));
                        }
                        let key = key_of(*index, &entry);
                        match keys.iter().position(|x| x == &key) {
                            Some(j) => seq[j] = entry,
                            None => {
                                keys.push(key);
                                seq.push(entry);
                            }
                        }
                    }
                    *a = seq;
                }
            }
            _ => {}
        }
        path.pop();
    }
    Ok(())
}
