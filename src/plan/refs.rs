//! References from one service to another's containers: `network_mode`,
//! `ipc` and `pid` of the form `service:NAME`, and `volumes_from`.
//!
//! Docker Compose resolves them before it hashes a service: `service:x`
//! becomes `container:<ID of x's first container by name>`, a
//! `volumes_from` entry becomes that ID (or, for `container:NAME[:MODE]`,
//! the bare NAME). The config hash it stamps is the hash of the resolved
//! service, so a dependent's hash changes whenever x's container does, and
//! orch must resolve the same way to stamp the same hash.

use std::collections::{BTreeSet, HashMap};

use serde_json::{json, Value};

use super::desired::service_hash;
use super::observed::ObservedContainer;

const NAMESPACES: [(&str, &str, &str); 3] = [
    ("network_mode", "NetworkMode", "network"),
    ("ipc", "IpcMode", "IPC"),
    ("pid", "PidMode", "PID"),
];

/// Whether the service's hash depends on other containers.
pub fn has_refs(raw: &Value) -> bool {
    NAMESPACES
        .iter()
        .any(|(k, _, _)| raw[k].as_str().is_some_and(|m| m.starts_with("service:")))
        || raw["volumes_from"].as_array().is_some_and(|a| !a.is_empty())
}

/// The services whose containers `raw` refers to.
pub fn targets(raw: &Value) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for (k, _, _) in NAMESPACES {
        if let Some(x) = raw[k].as_str().and_then(|m| m.strip_prefix("service:")) {
            out.insert(x.to_string());
        }
    }
    for v in raw["volumes_from"].as_array().into_iter().flatten() {
        if let Some(v) = v.as_str().filter(|v| !v.starts_with("container:")) {
            out.insert(v.split(':').next().unwrap_or(v).to_string());
        }
    }
    out
}

/// Each service's first container (by name, as compose sorts them).
pub fn first_ids(containers: &[ObservedContainer]) -> HashMap<String, String> {
    let mut best: HashMap<String, (&str, &str)> = HashMap::new();
    for c in containers {
        let e = best.entry(c.service.clone()).or_insert((&c.name, &c.id));
        if c.name.as_str() < e.0 {
            *e = (&c.name, &c.id);
        }
    }
    best.into_iter().map(|(s, (_, id))| (s, id.to_string())).collect()
}

/// The service with its references resolved, as compose hashes and
/// creates it. `first` gives a service's first container ID.
pub fn resolve(raw: &Value, first: &dyn Fn(&str) -> Option<String>) -> crate::error::Result<Value> {
    let mut out = raw.clone();
    if let Some(list) = out.get_mut("volumes_from").and_then(Value::as_array_mut) {
        for v in list.iter_mut() {
            let Some(spec) = v.as_str().map(str::to_string) else {
                continue;
            };
            let parts: Vec<&str> = spec.split(':').collect();
            *v = if parts[0] == "container" {
                json!(parts.get(1).copied().unwrap_or(""))
            } else {
                let id = first(parts[0])
                    .ok_or_else(|| format!("cannot share volume with service {}: container missing", parts[0]))?;
                json!(id)
            };
        }
    }
    for (key, _, what) in NAMESPACES {
        if let Some(x) = raw[key].as_str().and_then(|m| m.strip_prefix("service:")) {
            let id =
                first(x).ok_or_else(|| format!("cannot share {what} namespace with service {x}: container missing"))?;
            out[key] = json!(format!("container:{id}"));
        }
    }
    Ok(out)
}

/// The config hash compose stamps on the service's containers.
pub fn hash(raw: &Value, first: &dyn Fn(&str) -> Option<String>) -> crate::error::Result<String> {
    Ok(service_hash(&resolve(raw, first)?))
}

/// Puts the resolved references into a container create body.
pub fn patch_body(body: &mut Value, resolved: &Value) {
    for (key, field, _) in NAMESPACES {
        if let Some(mode) = resolved[key].as_str() {
            body["HostConfig"][field] = json!(mode);
        }
    }
    if resolved["network_mode"]
        .as_str()
        .is_some_and(|m| m.starts_with("container:"))
    {
        if let Some(b) = body.as_object_mut() {
            b.remove("NetworkingConfig");
        }
    }
    if let Some(list) = resolved["volumes_from"].as_array() {
        body["HostConfig"]["VolumesFrom"] = json!(list);
    }
}

/// Resolves `svc`'s references against the project's containers as they
/// are now, and puts them and the hash they make into `body`. Nothing to
/// do for a service without references.
pub async fn apply_live(
    d: &bollard::Docker,
    project: &str,
    svc: &super::desired::ServiceSpec,
    body: &mut Value,
) -> crate::error::Result<()> {
    if !svc.has_refs {
        return Ok(());
    }
    let ids = first_ids(&super::observed::containers(d, project).await?);
    let resolved = resolve(&svc.raw, &|s| ids.get(s).cloned()).map_err(|e| format!("service {}: {e}", svc.name))?;
    patch_body(body, &resolved);
    body["Labels"][super::desired::LABEL_HASH] = json!(service_hash(&resolved));
    Ok(())
}

/// compose's getLinks: each `links` entry `SERVICE[:ALIAS]` names every
/// container of SERVICE (stopped ones too, in the engine's list order)
/// under ALIAS, `SERVICE-N` and `PROJECT-SERVICE-N` (`sep` for `-`
/// under `--compatibility`; N: the linking
/// replica's number); each `external_links` entry `CONTAINER[:ALIAS]` is
/// passed as is.
pub fn links(raw: &Value, project: &str, sep: &str, number: usize, containers: &[ObservedContainer]) -> Vec<String> {
    let mut out = Vec::new();
    for l in raw["links"].as_array().into_iter().flatten().filter_map(Value::as_str) {
        let (service, alias) = l.split_once(':').unwrap_or((l, l));
        for c in containers.iter().filter(|c| c.service == service) {
            out.push(format!("{}:{alias}", c.name));
            out.push(format!("{}:{service}{sep}{number}", c.name));
            out.push(format!("{}:{project}{sep}{service}{sep}{number}", c.name));
        }
    }
    for l in raw["external_links"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
    {
        let (name, alias) = l.split_once(':').unwrap_or((l, l));
        out.push(format!("{name}:{alias}"));
    }
    out
}

/// Puts replica `number`'s links into a create body: HostConfig and every
/// endpoint, as compose does. Nothing to do for a service without links.
pub async fn apply_links(
    d: &bollard::Docker,
    project: &str,
    svc: &super::desired::ServiceSpec,
    number: usize,
    body: &mut Value,
) -> crate::error::Result<Vec<String>> {
    let has = |k: &str| svc.raw[k].as_array().is_some_and(|a| !a.is_empty());
    if !has("links") && !has("external_links") {
        return Ok(Vec::new());
    }
    let containers = if has("links") {
        super::observed::containers(d, project).await?
    } else {
        Vec::new()
    };
    let list = links(&svc.raw, project, svc.separator, number, &containers);
    body["HostConfig"]["Links"] = json!(list);
    if let Some(eps) = body["NetworkingConfig"]["EndpointsConfig"].as_object_mut() {
        for ep in eps.values_mut() {
            ep["Links"] = json!(list);
        }
    }
    Ok(list)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_as_compose_does() {
        let raw =
            json!({"network_mode": "service:x", "ipc": "shareable", "volumes_from": ["x:ro", "container:foo:ro"]});
        let r = resolve(&raw, &|s| (s == "x").then(|| "abc".to_string())).unwrap();
        assert_eq!(r["network_mode"], "container:abc");
        assert_eq!(r["ipc"], "shareable");
        assert_eq!(r["volumes_from"], json!(["abc", "foo"]));
        let err = resolve(&json!({"pid": "service:y"}), &|_| None).unwrap_err();
        assert_eq!(err, "cannot share PID namespace with service y: container missing");
    }

    #[test]
    fn links_as_compose_sends_them() {
        let c = |service: &str, name: &str| ObservedContainer {
            id: format!("id-{name}"),
            name: name.to_string(),
            service: service.to_string(),
            number: 1,
            hash: String::new(),
            image: String::new(),
            state: "exited".to_string(),
            created: 0,
        };
        let raw = json!({"links": ["db:database", "cache"], "external_links": ["out:o", "plain"]});
        let all = [c("db", "p-db-1"), c("web", "p-web-1"), c("cache", "p-cache-2")];
        assert_eq!(
            links(&raw, "p", "-", 3, &all),
            [
                "p-db-1:database",
                "p-db-1:db-3",
                "p-db-1:p-db-3",
                "p-cache-2:cache",
                "p-cache-2:cache-3",
                "p-cache-2:p-cache-3",
                "out:o",
                "plain:plain"
            ]
        );
    }
}
