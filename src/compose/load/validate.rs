//! The checks compose makes on the merged project: every service has an
//! image or a build, references resolve (networks, volumes, secrets,
//! configs, `depends_on`), no dependency cycle (compose-go's
//! `validate.go` and `checkConsistency`).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde_json::{Map, Value};

use super::merge::Acc;
use super::Files;
use crate::compose::error::LoadError;
use crate::compose::yaml::Node;

/// The names the top-level sections declare.
#[derive(Default)]
pub(super) struct Declared {
    pub(super) networks: BTreeSet<String>,
    pub(super) volumes: BTreeSet<String>,
    pub(super) secrets: BTreeSet<String>,
    pub(super) configs: BTreeSet<String>,
    /// `--no-consistency`: `service` checks nothing.
    pub(super) unchecked: bool,
}

impl Declared {
    pub(super) fn of(acc: &Acc) -> Declared {
        let names = |items: &[(String, Node, std::path::PathBuf)]| items.iter().map(|(k, _, _)| k.clone()).collect();
        Declared {
            networks: names(&acc.networks),
            volumes: names(&acc.volumes),
            secrets: names(&acc.secrets),
            configs: names(&acc.configs),
            unchecked: false,
        }
    }
}

/// One service's own checks, in compose's order; the error's text.
pub(super) fn service(sname: &str, m: &Map<String, Value>, declared: &Declared) -> Result<(), String> {
    if declared.unchecked {
        return Ok(());
    }
    image_and_platform(sname, m)?;
    references(sname, m, declared)?;
    // compose-go: `scale` wins into deploy.replicas; both, differing,
    // is an error.
    if let (Some(scale), Some(Value::Object(d))) = (m.get("scale"), m.get("deploy")) {
        if d.get("replicas").is_some_and(|r| r != scale) {
            return Err(format!(
                "services.{sname}: can't set distinct values on 'scale' and 'deploy.replicas': invalid compose project"
            ));
        }
    }
    // compose-go's checkConsistency: a fixed name cannot be given to two
    // containers (`scale` is folded into deploy.replicas before it runs).
    let replicas = m
        .get("deploy")
        .and_then(|d| d.get("replicas"))
        .or_else(|| m.get("scale"))
        .and_then(Value::as_u64);
    if m.contains_key("container_name") && replicas.is_some_and(|r| r > 1) {
        return Err(format!(
            "services.deploy.replicas: can't set container_name and {sname} as container name must be unique: invalid compose project"
        ));
    }
    Ok(())
}

fn image_and_platform(sname: &str, m: &Map<String, Value>) -> Result<(), String> {
    if !m.contains_key("image") && !m.contains_key("build") && !m.contains_key("provider") {
        return Err(format!(
            "service \"{sname}\" has neither an image nor a build context specified: invalid compose project"
        ));
    }
    if let (Some(p), Some(plats)) = (
        m.get("platform").and_then(Value::as_str),
        m.get("build")
            .and_then(|b| b.get("platforms"))
            .and_then(Value::as_array),
    ) {
        if !plats.iter().any(|x| x.as_str() == Some(p)) {
            return Err(format!(
                "service.build.platforms MUST include service.platform {p:?}: invalid compose project"
            ));
        }
    }
    Ok(())
}

/// Networks (unless `network_mode`), named volumes, secrets and configs
/// a service uses must be declared (`default` needs not be, unless
/// `--no-normalize`).
fn references(sname: &str, m: &Map<String, Value>, declared: &Declared) -> Result<(), String> {
    if !m.contains_key("network_mode") {
        for k in m
            .get("networks")
            .and_then(Value::as_object)
            .map(|o| o.keys().cloned().collect::<Vec<_>>())
            .unwrap_or_default()
        {
            // `default` is declared by compose-go's Normalize, so with
            // `--no-normalize` it must be declared like any other.
            let implied = k == "default" && crate::compose::mode::normalizing();
            if !implied && !declared.networks.contains(&k) {
                return Err(undefined(sname, "network", &k));
            }
        }
    }
    for v in m.get("volumes").and_then(Value::as_array).cloned().unwrap_or_default() {
        if v["type"] == "volume" {
            if let Some(src) = v["source"].as_str() {
                if !declared.volumes.contains(src) {
                    return Err(undefined(sname, "volume", src));
                }
            }
        }
    }
    for (kind, declared) in [("secret", &declared.secrets), ("config", &declared.configs)] {
        for r in m
            .get(&format!("{kind}s"))
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
        {
            let src = r["source"].as_str().unwrap_or_default();
            if !declared.contains(src) {
                return Err(undefined(sname, kind, src));
            }
        }
    }
    Ok(())
}

/// Service `sname` names a `kind` object `name` the project does not declare.
fn undefined(sname: &str, kind: &str, name: &str) -> String {
    format!("service \"{sname}\" refers to undefined {kind} {name}: invalid compose project")
}

/// A required `depends_on` entry must name a service of the project (after
/// profiles): the error points at the service's `depends_on`.
pub(super) fn depends_on(
    services: &BTreeMap<String, Map<String, Value>>,
    service_nodes: &HashMap<String, Node>,
    files: &Files,
) -> Result<(), LoadError> {
    for (sname, m) in services {
        for (dep, cfg) in m
            .get("depends_on")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default()
        {
            if !services.contains_key(&dep) && cfg["required"].as_bool().unwrap_or(true) {
                let node = service_nodes
                    .get(sname)
                    .map(|n| n.get("depends_on").cloned().unwrap_or_else(|| n.clone()));
                let msg =
                    format!("service \"{sname}\" depends on undefined service \"{dep}\": invalid compose project");
                return Err(match node {
                    Some(n) => files.error_at(&n, msg),
                    None => LoadError::plain(msg),
                });
            }
        }
    }
    Ok(())
}

pub(super) fn check_cycles(
    services: &BTreeMap<String, Map<String, Value>>,
    nodes: &HashMap<String, Node>,
    files: &Files,
) -> Result<(), LoadError> {
    fn visit(
        s: &str,
        services: &BTreeMap<String, Map<String, Value>>,
        stack: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(i) = stack.iter().position(|x| x == s) {
            let mut cycle = stack[i..].to_vec();
            cycle.push(s.to_string());
            return Some(cycle);
        }
        if done.contains(s) {
            return None;
        }
        stack.push(s.to_string());
        let deps: Vec<String> = services
            .get(s)
            .and_then(|m| m.get("depends_on"))
            .and_then(Value::as_object)
            .map(|o| o.keys().cloned().collect())
            .unwrap_or_default();
        for d in deps {
            if services.contains_key(&d) {
                if let Some(c) = visit(&d, services, stack, done) {
                    return Some(c);
                }
            }
        }
        stack.pop();
        done.insert(s.to_string());
        None
    }
    let mut done = BTreeSet::new();
    for s in services.keys() {
        if let Some(cycle) = visit(s, services, &mut Vec::new(), &mut done) {
            let msg = format!("dependency cycle detected: {}", cycle.join(" -> "));
            return Err(match nodes.get(&cycle[0]).and_then(|n| n.get("depends_on")) {
                Some(n) => files.error_at(n, msg),
                None => LoadError::plain(msg),
            });
        }
    }
    Ok(())
}
