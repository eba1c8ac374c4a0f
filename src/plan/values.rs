//! Readers for the canonical compose document's values, shared by the
//! container body (`body.rs`), the desired state and the stack converter:
//! compose-go writes the same attribute as a string, a number or a list
//! depending on how the user wrote it, and these accept every form.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use crate::units::{parse_duration, ram_in_bytes};

/// Sets `field` of an engine body to `value` when there is one (left out,
/// the engine's default applies).
pub fn put<T: serde::Serialize>(map: &mut Map<String, Value>, field: &str, value: Option<T>) {
    if let Some(v) = value {
        map.insert(field.into(), json!(v));
    }
}

/// A scalar as text (`"80"`, `80` and `true` alike).
pub fn s(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A list of scalars, or one string as a list of one.
pub fn strings(v: Option<&Value>) -> Option<Vec<String>> {
    match v? {
        Value::Array(a) => Some(a.iter().filter_map(s).collect()),
        Value::String(x) => Some(vec![x.clone()]),
        _ => None,
    }
}

/// A map, or a `KEY=VALUE` list, as a map of strings.
pub fn string_map(v: Option<&Value>) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    match v {
        Some(Value::Object(m)) => {
            for (k, v) in m {
                if let Some(v) = s(v) {
                    out.insert(k.clone(), v);
                }
            }
        }
        Some(Value::Array(a)) => {
            for item in a.iter().filter_map(s) {
                match item.split_once('=') {
                    Some((k, v)) => out.insert(k.to_string(), v.to_string()),
                    None => out.insert(item, String::new()),
                };
            }
        }
        _ => {}
    }
    out
}

/// A Go duration (`"1m30s"`) or a number of nanoseconds.
pub fn duration_ns(v: Option<&Value>) -> Option<i64> {
    match v? {
        Value::String(x) => parse_duration(x).ok(),
        Value::Number(n) => n.as_i64(),
        _ => None,
    }
}

/// A size (`"64m"`, as go-units reads it) or a number of bytes.
pub fn bytes(v: Option<&Value>) -> Option<i64> {
    match v? {
        Value::String(x) => ram_in_bytes(x).ok(),
        Value::Number(n) => n.as_i64(),
        _ => None,
    }
}

/// `tmpfs` entries (`/path[:options]`) as the engine's path → options map.
pub fn tmpfs_map(list: Vec<String>) -> BTreeMap<String, String> {
    list.into_iter()
        .map(|x| match x.split_once(':') {
            Some((p, o)) => (p.to_string(), o.to_string()),
            None => (x, String::new()),
        })
        .collect()
}

/// A compose `healthcheck` as the engine's `HealthConfig` (containers and
/// Swarm services take the same shape).
pub fn healthcheck(hc: &Value) -> Value {
    let mut out = Map::new();
    if hc["disable"].as_bool() == Some(true) {
        out.insert("Test".into(), json!(["NONE"]));
    } else if let Some(t) = strings(hc.get("test")) {
        out.insert("Test".into(), json!(t));
    }
    for (k, f) in [
        ("interval", "Interval"),
        ("timeout", "Timeout"),
        ("start_period", "StartPeriod"),
        ("start_interval", "StartInterval"),
    ] {
        put(&mut out, f, duration_ns(hc.get(k)));
    }
    put(&mut out, "Retries", hc["retries"].as_u64());
    Value::Object(out)
}
