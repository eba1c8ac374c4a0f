//! The canonical document: the services with the top-level networks,
//! volumes, secrets and configs they use (compose drops the rest), each
//! in compose's form, keys in compose's print order; and the forms the
//! document is printed in.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{json, Map, Value};

use super::merge::Acc;
use super::schema::{NETWORK_ORDER, VOLUME_ORDER};
use super::Files;
use crate::compose::canon::{self, ordered, to_json};
use crate::compose::error::LoadError;
use crate::compose::mode;
use crate::compose::yaml::{Node, Value as Y};

type Section = Vec<(String, Node, std::path::PathBuf)>;

/// The document of project `name`: `services` (checked, completed), the
/// sections and `x-` extensions `acc` holds; `default_network` adds
/// `<name>_default`; `all_resources` keeps unused resources.
pub(super) fn build(
    name: &str,
    services: BTreeMap<String, Map<String, Value>>,
    mut acc: Acc,
    default_network: bool,
    all_resources: bool,
    files: &Files,
) -> Result<Value, LoadError> {
    if !all_resources {
        drop_unused(&services, &mut acc);
    }
    let mut doc = Map::new();
    doc.insert("name".into(), json!(name));
    if let Some(nets) = networks(name, &acc.networks, default_network, files)? {
        doc.insert("networks".into(), nets);
    }
    doc.insert(
        "services".into(),
        Value::Object(services.into_iter().map(|(k, v)| (k, Value::Object(v))).collect()),
    );
    if let Some(vols) = volumes(name, &acc.volumes, files)? {
        doc.insert("volumes".into(), vols);
    }
    for (section, items) in [("secrets", &acc.secrets), ("configs", &acc.configs)] {
        if let Some(out) = secrets_or_configs(name, items) {
            doc.insert(section.into(), out);
        }
    }
    for (k, v) in acc.extensions {
        doc.insert(k, v);
    }
    Ok(Value::Object(ordered(doc, &[])))
}

/// Like compose, keep only the networks, volumes, secrets and configs
/// some service uses.
fn drop_unused(services: &BTreeMap<String, Map<String, Value>>, acc: &mut Acc) {
    let mut used: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    for m in services.values() {
        for n in m
            .get("networks")
            .and_then(Value::as_object)
            .map(|o| o.keys().cloned().collect::<Vec<_>>())
            .unwrap_or_default()
        {
            used.entry("networks").or_default().insert(n);
        }
        for v in m.get("volumes").and_then(Value::as_array).cloned().unwrap_or_default() {
            if let Some(src) = v["source"].as_str().filter(|_| v["type"] == "volume") {
                used.entry("volumes").or_default().insert(src.to_string());
            }
        }
        for section in ["secrets", "configs"] {
            for x in m.get(section).and_then(Value::as_array).cloned().unwrap_or_default() {
                if let Some(src) = x["source"].as_str() {
                    used.entry(section).or_default().insert(src.to_string());
                }
            }
            if let Some(b) = m.get("build").and_then(|b| b.get("secrets")).and_then(Value::as_array) {
                for x in b {
                    if let Some(src) = x.as_str().or_else(|| x["source"].as_str()) {
                        used.entry("secrets").or_default().insert(src.to_string());
                    }
                }
            }
        }
    }
    let is_used = |section: &str, k: &str| used.get(section).is_some_and(|s| s.contains(k));
    acc.networks.retain(|(k, _, _)| is_used("networks", k));
    acc.volumes.retain(|(k, _, _)| is_used("volumes", k));
    acc.secrets.retain(|(k, _, _)| is_used("secrets", k));
    acc.configs.retain(|(k, _, _)| is_used("configs", k));
}

fn networks(name: &str, networks: &Section, default_network: bool, files: &Files) -> Result<Option<Value>, LoadError> {
    let mut nets = Map::new();
    if default_network {
        nets.insert("default".into(), json!({"name": format!("{name}_default"), "ipam": {}}));
    }
    for (k, v, _) in networks {
        let mut m = top_level(name, k, v, files)?;
        m.entry("ipam").or_insert(json!({}));
        nets.insert(k.clone(), Value::Object(ordered(m, NETWORK_ORDER)));
    }
    Ok((!nets.is_empty()).then(|| Value::Object(ordered(nets, &[]))))
}

fn volumes(name: &str, volumes: &Section, files: &Files) -> Result<Option<Value>, LoadError> {
    let mut vols = Map::new();
    for (k, v, dir) in volumes {
        let mut m = top_level(name, k, v, files)?;
        // A local volume bound to a host folder: the folder is a path
        // (compose-go's volumeDriverOpts: only `driver: local` written
        // out and `o: bind` exactly).
        let local = m.get("driver").and_then(Value::as_str) == Some("local");
        if let (Some(Value::Object(opts)), true) = (m.get_mut("driver_opts"), local) {
            if opts.get("o").and_then(Value::as_str) == Some("bind") {
                if let Some(dev) = opts.get("device").and_then(Value::as_str).map(str::to_string) {
                    opts.insert("device".into(), json!(mode::shown_path(dir, &dev)));
                }
            }
        }
        vols.insert(k.clone(), Value::Object(ordered(m, VOLUME_ORDER)));
    }
    Ok((!vols.is_empty()).then(|| Value::Object(ordered(vols, &[]))))
}

/// Top-level secrets or configs: named `<project>_<key>` unless external
/// or named, `file` absolute.
fn secrets_or_configs(name: &str, items: &Section) -> Option<Value> {
    let mut out = Map::new();
    for (k, v, dir) in items.iter() {
        let mut m = to_json(v).as_object().cloned().unwrap_or_default();
        let external = m.get("external").and_then(Value::as_bool) == Some(true);
        // Named after their key by compose-go's Normalize.
        if !m.contains_key("name") && mode::normalizing() {
            m.insert(
                "name".into(),
                json!(if external { k.clone() } else { format!("{name}_{k}") }),
            );
        }
        if let Some(f) = m.get("file").and_then(Value::as_str) {
            m.insert("file".into(), json!(mode::shown_path(dir, f)));
        }
        out.insert(
            k.clone(),
            Value::Object(ordered(
                m,
                &["name", "file", "environment", "content", "external", "labels", "driver"],
            )),
        );
    }
    (!out.is_empty()).then(|| Value::Object(ordered(out, &[])))
}

/// A top-level network or volume in canonical form: its engine name
/// (`<project>_<key>`, or the key itself when external), `external`, and
/// labels as a map.
fn top_level(project: &str, key: &str, v: &Node, files: &Files) -> Result<Map<String, Value>, LoadError> {
    let mut m = match &v.value {
        Y::Map(_) => to_json(v).as_object().cloned().unwrap_or_default(),
        _ => Map::new(),
    };
    let external = m
        .get("external")
        .is_some_and(|e| e.as_bool() == Some(true) || e.is_object());
    if !m.contains_key("name") && mode::normalizing() {
        m.insert(
            "name".into(),
            json!(if external {
                key.to_string()
            } else {
                format!("{project}_{key}")
            }),
        );
    }
    if external {
        m.insert("external".into(), json!(true));
    }
    if let Some(l) = v.get("labels") {
        m.insert(
            "labels".into(),
            Value::Object(canon::mapping(l, '=', None).map_err(|e| files.invalid(e))?),
        );
    }
    Ok(m)
}

/// The document as `config` prints it: every `$` escaped as `$$`, so the
/// output loads back to the same project.
pub fn escape_dollars(v: &Value) -> Value {
    match v {
        Value::String(s) => Value::String(s.replace('$', "$$")),
        Value::Array(a) => Value::Array(a.iter().map(escape_dollars).collect()),
        Value::Object(m) => Value::Object(m.iter().map(|(k, v)| (k.clone(), escape_dollars(v))).collect()),
        other => other.clone(),
    }
}

/// The document without service-level `x-` extensions (also inside
/// `develop.watch` rules, and in networks, volumes, secrets, configs): compose leaves them out of its JSON and of the
/// config hash, and prints them only in YAML.
pub fn without_service_extensions(doc: &Value) -> Value {
    let mut doc = doc.clone();
    if let Some(Value::Object(services)) = doc.get_mut("services") {
        for svc in services.values_mut() {
            strip_service_extensions(svc);
        }
    }
    // Networks', volumes', secrets' and configs' own `x-` keys too (their
    // compose-go types tag Extensions `json:"-"`).
    for section in ["networks", "volumes", "secrets", "configs"] {
        if let Some(Value::Object(items)) = doc.get_mut(section) {
            for item in items.values_mut().filter_map(Value::as_object_mut) {
                item.retain(|k, _| !k.starts_with("x-"));
            }
        }
    }
    doc
}

/// Removes a service's own `x-` keys and those of its watch rules and
/// lifecycle hooks.
pub fn strip_service_extensions(svc: &mut Value) {
    if let Some(m) = svc.as_object_mut() {
        m.retain(|k, _| !k.starts_with("x-"));
    }
    for key in ["post_start", "pre_stop"] {
        if let Some(Value::Array(hooks)) = svc.get_mut(key) {
            for h in hooks.iter_mut().filter_map(Value::as_object_mut) {
                h.retain(|k, _| !k.starts_with("x-"));
            }
        }
    }
    if let Some(Value::Array(rules)) = svc.get_mut("develop").and_then(|d| d.get_mut("watch")) {
        for r in rules {
            if let Some(o) = r.as_object_mut() {
                o.retain(|k, _| !k.starts_with("x-"));
            }
        }
    }
}
