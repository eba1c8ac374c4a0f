//! What compose fills in on the merged services: `command`/`entrypoint`
//! printed as null, the dependencies it infers, the default network,
//! `scale` into `deploy.replicas`, Go's omitempty, compose's key order
//! (compose-go's `normalize.go`), each service checked first.

use std::collections::{BTreeMap, HashMap};

use serde_json::{json, Map, Value};

use super::schema::reorder_service;
use super::validate::{self, Declared};
use super::Files;
use crate::compose::canon::ordered;
use crate::compose::error::LoadError;
use crate::compose::mode;
use crate::compose::yaml::Node;

/// Checks and completes every service, in name order (so the first error
/// is compose's); returns whether any service is on the default network.
pub(super) fn services(
    services: &mut BTreeMap<String, Map<String, Value>>,
    service_nodes: &HashMap<String, Node>,
    declared: &Declared,
    files: &Files,
) -> Result<bool, LoadError> {
    let mut uses_default = false;
    for (sname, m) in services.iter_mut() {
        validate::service(sname, m, declared).map_err(|msg| match service_nodes.get(sname) {
            Some(n) => files.error_at(n, msg),
            None => LoadError::plain(msg),
        })?;
        m.entry("command").or_insert(Value::Null);
        m.entry("entrypoint").or_insert(Value::Null);
        // compose-go's Normalize (skipped by `config --no-normalize`).
        if mode::normalizing() {
            implied_depends_on(m);
            uses_default |= default_network(m);
            if m.get("pull_policy").and_then(Value::as_str) == Some("if_not_present") {
                m.insert("pull_policy".into(), json!("missing"));
            }
        }
        // compose-go folds scale into deploy.replicas in its consistency
        // check: not with --no-consistency.
        if let (Some(scale), Some(Value::Object(d)), false) =
            (m.get("scale").cloned(), m.get_mut("deploy"), declared.unchecked)
        {
            d.insert("replicas".into(), scale);
        }
        // Go's omitempty: a false here is not printed.
        for k in [
            "privileged",
            "read_only",
            "stdin_open",
            "tty",
            "oom_kill_disable",
            "use_api_socket",
        ] {
            if m.get(k) == Some(&Value::Bool(false)) {
                m.shift_remove(k);
            }
        }
        reorder_service(m);
    }
    Ok(uses_default)
}

/// What compose infers (compose-go's normalize, in its order): links and
/// shared namespaces make a dependency that restarts with its target,
/// volumes_from one that does not. The first entry wins.
fn implied_depends_on(m: &mut Map<String, Value>) {
    let mut implied: Vec<(String, bool)> = Vec::new();
    for l in m.get("links").and_then(Value::as_array).cloned().unwrap_or_default() {
        if let Some(x) = l.as_str() {
            let parts: Vec<&str> = x.split(':').collect();
            let target = if parts.len() == 2 { parts[0] } else { x };
            implied.push((target.to_string(), true));
        }
    }
    for key in ["network_mode", "ipc", "pid", "uts", "cgroup"] {
        if let Some(x) = m
            .get(key)
            .and_then(Value::as_str)
            .and_then(|v| v.strip_prefix("service:"))
        {
            implied.push((x.to_string(), true));
        }
    }
    for vf in m
        .get("volumes_from")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
    {
        if let Some(x) = vf.as_str().filter(|x| !x.starts_with("container:")) {
            implied.push((x.split(':').next().unwrap_or(x).to_string(), false));
        }
    }
    if !implied.is_empty() {
        let deps = m.entry("depends_on").or_insert_with(|| json!({}));
        if let Some(d) = deps.as_object_mut() {
            for (x, restart) in implied {
                let dep = if restart {
                    json!({"condition": "service_started", "restart": true, "required": true})
                } else {
                    json!({"condition": "service_started", "required": true})
                };
                d.entry(x).or_insert(dep);
            }
            let sorted = ordered(std::mem::take(d), &[]);
            *d = sorted;
        }
    }
}

/// A service without `network_mode` or `networks` is on `default`; true
/// when it is on `default`.
fn default_network(m: &mut Map<String, Value>) -> bool {
    if m.contains_key("network_mode") {
        return false;
    }
    let nets = m.entry("networks").or_insert_with(|| json!({"default": null}));
    nets.as_object().is_some_and(|o| o.contains_key("default"))
}
