//! A compose project as Swarm specs, converted the way `docker stack
//! deploy` converts it (docker/cli's `cli/compose/convert`): every name
//! scoped to the stack (`<stack>_<name>`), the `com.docker.stack.namespace`
//! label on everything, `deploy:` keys mapped onto the service spec. The
//! specs are JSON in the engine's own shape, so a script can read and
//! change them before they are sent.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use crate::plan::values::string_map;

/// Marks every object of a stack; `docker stack ls` groups by it.
pub const LABEL_NAMESPACE: &str = "com.docker.stack.namespace";
/// The image as written in the compose file (docker stack sets it too).
pub const LABEL_IMAGE: &str = "com.docker.stack.image";

/// One object to create: its full name and its spec.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct Object {
    pub name: String,
    pub spec: Value,
    /// Declared `external`: must exist, is never created or removed.
    #[serde(default)]
    pub external: bool,
}

/// Everything a stack deploy sends, in the order it is created.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct Stack {
    pub name: String,
    pub networks: Vec<Object>,
    pub secrets: Vec<Object>,
    pub configs: Vec<Object>,
    pub services: Vec<Object>,
    /// Compose keys Swarm has no use for, as docker stack warns.
    #[serde(default)]
    pub warnings: Vec<String>,
}

/// Service keys Swarm ignores (docker stack deploy says the same).
const UNSUPPORTED: &[&str] = &[
    "build",
    "cgroup_parent",
    "container_name",
    "depends_on",
    "devices",
    "domainname",
    "external_links",
    "links",
    "mac_address",
    "network_mode",
    "pid",
    "ipc",
    "privileged",
    "security_opt",
    "shm_size",
    "userns_mode",
];

/// Stack names prefix service, network and secret names, which Swarm
/// checks as DNS name components.
pub fn check_name(name: &str) -> crate::error::Result<()> {
    let ok = name.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || "_-".contains(c));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "invalid stack name {name:?}: use letters, digits, '_' and '-', starting with a letter or digit (it prefixes names Swarm checks as DNS labels)"
        ).into())
    }
}

pub(super) fn with_namespace(mut labels: BTreeMap<String, String>, ns: &str) -> BTreeMap<String, String> {
    labels.insert(LABEL_NAMESPACE.into(), ns.into());
    labels
}

/// The compose document (canonical, as the loader gives it) as a stack
/// named `ns`. File-backed secrets and configs are read here, so a missing
/// file fails before anything is sent.
pub fn convert(doc: &Value, ns: &str) -> crate::error::Result<Stack> {
    check_name(ns)?;
    let project = doc["name"].as_str().unwrap_or(ns);
    let mut stack = Stack {
        name: ns.to_string(),
        ..Default::default()
    };
    let empty = Map::new();
    let services = doc["services"].as_object().unwrap_or(&empty);

    // Only the networks some service uses, as docker does.
    let mut used = std::collections::BTreeSet::new();
    for svc in services.values() {
        match svc["networks"].as_object() {
            Some(n) if !n.is_empty() => used.extend(n.keys().cloned()),
            _ => {
                used.insert("default".to_string());
            }
        }
    }
    for key in &used {
        let cfg = &doc["networks"][key];
        stack.networks.push(network(project, ns, key, cfg));
    }
    for (key, cfg) in doc["secrets"].as_object().unwrap_or(&empty) {
        stack.secrets.push(object(project, ns, "secret", key, cfg)?);
    }
    for (key, cfg) in doc["configs"].as_object().unwrap_or(&empty) {
        stack.configs.push(object(project, ns, "config", key, cfg)?);
    }
    let mut ignored = std::collections::BTreeSet::new();
    for (name, svc) in services {
        for k in UNSUPPORTED {
            if svc.get(*k).is_some_and(|v| !v.is_null()) {
                ignored.insert(*k);
            }
        }
        stack
            .services
            .push(super::service::service(ns, doc, name, svc).map_err(|e| format!("service {name}: {e}"))?);
    }
    if !ignored.is_empty() {
        let list: Vec<&str> = ignored.into_iter().collect();
        stack
            .warnings
            .push(format!("Ignoring unsupported options: {}", list.join(", ")));
    }
    Ok(stack)
}

pub(super) fn project_of<'a>(doc: &'a Value, ns: &'a str) -> &'a str {
    doc["name"].as_str().unwrap_or(ns)
}

/// The object's name in stack `ns`: its own `name:`, else `<ns>_<key>`.
/// The loader fills in `<project>_<key>` for objects without a name; that
/// one is re-scoped, as the project name may be a normalised stack name.
pub(super) fn scoped(project: &str, ns: &str, key: &str, cfg: &Value) -> String {
    match cfg["name"].as_str() {
        Some(n) if n != format!("{project}_{key}") || is_external(cfg) => n.to_string(),
        _ => format!("{ns}_{key}"),
    }
}

pub(super) fn is_external(cfg: &Value) -> bool {
    match &cfg["external"] {
        Value::Bool(b) => *b,
        Value::Object(_) => true,
        _ => false,
    }
}

fn network(project: &str, ns: &str, key: &str, cfg: &Value) -> Object {
    let name = scoped(project, ns, key, cfg);
    let external = is_external(cfg);
    let mut spec = Map::new();
    spec.insert("Name".into(), json!(name));
    spec.insert("Driver".into(), json!(cfg["driver"].as_str().unwrap_or("overlay")));
    spec.insert("Scope".into(), json!("swarm"));
    spec.insert(
        "Labels".into(),
        json!(with_namespace(string_map(cfg.get("labels")), ns)),
    );
    let opts = string_map(cfg.get("driver_opts"));
    if !opts.is_empty() {
        spec.insert("Options".into(), json!(opts));
    }
    for (k, f) in [("internal", "Internal"), ("attachable", "Attachable")] {
        if cfg[k].as_bool() == Some(true) {
            spec.insert(f.into(), json!(true));
        }
    }
    let ipam = &cfg["ipam"];
    if ipam["driver"].is_string() || ipam["config"].is_array() {
        let mut out = Map::new();
        if let Some(d) = ipam["driver"].as_str() {
            out.insert("Driver".into(), json!(d));
        }
        let pools: Vec<Value> = ipam["config"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|p| Value::Object(crate::plan::limits::ipam_pool(p)))
            .collect();
        if !pools.is_empty() {
            out.insert("Config".into(), json!(pools));
        }
        spec.insert("IPAM".into(), Value::Object(out));
    }
    Object {
        name,
        spec: Value::Object(spec),
        external,
    }
}

/// A secret or config: `file`, `environment` or `content` becomes its data.
fn object(project: &str, ns: &str, what: &str, key: &str, cfg: &Value) -> crate::error::Result<Object> {
    use base64::Engine as _;
    let name = scoped(project, ns, key, cfg);
    let external = is_external(cfg);
    let mut spec = Map::new();
    spec.insert("Name".into(), json!(name));
    spec.insert(
        "Labels".into(),
        json!(with_namespace(string_map(cfg.get("labels")), ns)),
    );
    if !external {
        let data: Vec<u8> = if let Some(path) = cfg["file"].as_str() {
            std::fs::read(path).map_err(|e| format!("{what} {key}: cannot read {path}: {e}"))?
        } else if let Some(var) = cfg["environment"].as_str() {
            std::env::var(var)
                .map_err(|_| format!("{what} {key}: environment variable {var} is not set"))?
                .into_bytes()
        } else if let Some(text) = cfg["content"].as_str() {
            text.as_bytes().to_vec()
        } else {
            return Err(format!("{what} {key}: set one of file, environment, content or external").into());
        };
        spec.insert(
            "Data".into(),
            json!(base64::engine::general_purpose::STANDARD.encode(data)),
        );
    }
    if let Some(d) = cfg["driver"].as_str() {
        spec.insert(
            "Driver".into(),
            json!({ "Name": d, "Options": string_map(cfg.get("driver_opts")) }),
        );
    }
    if let Some(t) = cfg["template_driver"].as_str() {
        spec.insert("Templating".into(), json!({ "Name": t }));
    }
    Ok(Object {
        name,
        spec: Value::Object(spec),
        external,
    })
}
