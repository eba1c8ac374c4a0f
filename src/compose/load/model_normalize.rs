//! compose-go's `Normalize` on the model's tree (`model`): the default
//! network, dependencies implied by links, shared namespaces and
//! `volumes_from`, build defaults, variables resolved in `environment` and
//! `build.args`, and each resource's `name`.

use std::collections::HashMap;
use std::path::Path;

use serde_json::{json, Map, Value};

use super::model::go_sprint;
use super::model_canon::array_maps;
use crate::compose::canon;

/// compose-go's `Normalize` on the tree: the default network, implied
/// dependencies, build defaults, variables resolved in `environment` and
/// `build.args`, and each resource's `name`.
pub(super) fn normalize(dict: &mut Map<String, Value>, env: &HashMap<String, String>) {
    normalize_networks(dict);
    if let Some(Value::Object(services)) = dict.get_mut("services") {
        for s in services.values_mut().filter_map(Value::as_object_mut) {
            normalize_service(s, env);
        }
    }
    let project = dict.get("name").map(go_sprint).unwrap_or_default();
    for section in ["networks", "volumes", "configs", "secrets"] {
        let Some(Value::Object(items)) = dict.get_mut(section) else {
            continue;
        };
        for (key, r) in items.iter_mut() {
            if r.is_null() {
                *r = json!({});
            }
            let Value::Object(m) = r else { continue };
            if m.get("name").is_none_or(Value::is_null) {
                let external = m
                    .get("external")
                    .is_some_and(|x| matches!(go_sprint(x).as_str(), "1" | "t" | "T" | "true" | "TRUE" | "True"));
                let name = if external {
                    key.clone()
                } else {
                    format!("{project}_{key}")
                };
                m.insert("name".into(), json!(name));
            }
        }
    }
}

fn normalize_networks(dict: &mut Map<String, Value>) {
    let mut uses_default = false;
    if let Some(Value::Object(services)) = dict.get_mut("services") {
        for s in services.values_mut().filter_map(Value::as_object_mut) {
            if s.contains_key("provider") || s.contains_key("network_mode") {
                continue;
            }
            match s.get("networks") {
                Some(Value::Object(n)) if !n.is_empty() => uses_default |= n.contains_key("default"),
                _ => {
                    s.insert("networks".into(), json!({ "default": null }));
                    uses_default = true;
                }
            }
        }
    }
    let mut networks = match dict.shift_remove("networks") {
        Some(Value::Object(n)) => n,
        _ => Map::new(),
    };
    if uses_default && !networks.contains_key("default") {
        networks.insert("default".into(), Value::Null);
    }
    if !networks.is_empty() {
        dict.insert("networks".into(), Value::Object(networks));
    }
}

fn normalize_service(s: &mut Map<String, Value>, env: &HashMap<String, String>) {
    if s.get("pull_policy").and_then(Value::as_str) == Some("if_not_present") {
        s.insert("pull_policy".into(), json!("missing"));
    }
    if let Some(Value::Object(b)) = s.get_mut("build") {
        if b.get("context").is_none_or(Value::is_null) {
            b.insert("context".into(), json!("."));
        }
        if b.get("dockerfile").is_none_or(Value::is_null) && b.get("dockerfile_inline").is_none_or(Value::is_null) {
            b.insert("dockerfile".into(), json!("Dockerfile"));
        }
        if let Some(a) = b.get_mut("args") {
            resolve(a, env, false);
        }
    }
    if let Some(e) = s.get_mut("environment") {
        resolve(e, env, true);
    }
    let mut deps = match s.get("depends_on") {
        Some(Value::Object(d)) => d.clone(),
        _ => Map::new(),
    };
    let implied = |deps: &mut Map<String, Value>, name: &str, restart: bool| {
        if !deps.contains_key(name) {
            deps.insert(
                name.to_string(),
                json!({"condition": "service_started", "restart": restart, "required": true}),
            );
        }
    };
    for link in s.get("links").and_then(Value::as_array).into_iter().flatten() {
        let link = go_sprint(link);
        let parts: Vec<&str> = link.split(':').collect();
        implied(&mut deps, if parts.len() == 2 { parts[0] } else { &link }, true);
    }
    for ns in ["network_mode", "ipc", "pid", "uts", "cgroup"] {
        if let Some(shared) = s
            .get(ns)
            .and_then(Value::as_str)
            .and_then(|r| r.strip_prefix("service:"))
        {
            implied(&mut deps, shared, true);
        }
    }
    for m in array_maps(s, "volumes") {
        if let Some(Value::String(t)) = m.get_mut("target") {
            *t = canon::clean(Path::new(t.as_str()));
        }
    }
    for v in s.get("volumes_from").and_then(Value::as_array).into_iter().flatten() {
        let v = go_sprint(v);
        if !v.starts_with("container:") {
            implied(&mut deps, v.split(':').next().unwrap_or_default(), false);
        }
    }
    if !deps.is_empty() {
        s.insert("depends_on".into(), Value::Object(deps));
    }
}

/// compose-go's `resolve`: variables without a value take the project's;
/// without one they are kept (`environment`) or dropped (`build.args`).
fn resolve(v: &mut Value, env: &HashMap<String, String>, keep_empty: bool) {
    match v {
        Value::Array(a) => {
            let mut out = Vec::new();
            for x in a.drain(..) {
                match x {
                    Value::String(s) if !s.contains('=') => match env.get(&s) {
                        Some(val) => out.push(json!(format!("{s}={val}"))),
                        None if keep_empty => out.push(Value::String(s)),
                        None => {}
                    },
                    Value::String(_) => out.push(x),
                    // Go drops what is not a string or map here.
                    Value::Object(_) => out.push(x),
                    _ => {}
                }
            }
            *a = out;
        }
        Value::Object(m) => {
            let keys: Vec<String> = m.keys().cloned().collect();
            for k in keys {
                if !m[&k].is_null() {
                    continue;
                }
                match env.get(&k) {
                    Some(val) => {
                        m.insert(k, json!(val));
                    }
                    None if keep_empty => {}
                    None => {
                        m.shift_remove(&k);
                    }
                }
            }
        }
        _ => {}
    }
}
