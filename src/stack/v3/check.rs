//! docker's checks of stack files, before anything is loaded, with its
//! words: the service keys it forbids, the files' versions, then the
//! parts of its v3.13 JSON schema that compose files most often break
//! (keys it does not know, compose's long forms it has no room for).
//! docker reports one schema error, its validator's most specific (the
//! deepest field); among equals, here, the first by field name.

use super::{version, RawFile, SECTION_KEYS, SERVICE_KEYS};
use crate::compose::yaml::{Node, Value as Y};

/// Top-level keys of docker's v3.13 schema (plus `x-*`).
const TOP_KEYS: &[&str] = &["configs", "networks", "secrets", "services", "version", "volumes"];

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

/// Forbidden keys, versions that differ between files, then the most
/// specific schema error.
pub fn check(raw: &[RawFile]) -> crate::error::Result<()> {
    let forbidden = raw
        .iter()
        .flat_map(|f| entries(f.root.get("services")))
        .any(|(_, svc)| entries(Some(svc)).iter().any(|(k, _)| FORBIDDEN.contains(&k.as_str())));
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
    let mut errors = Vec::new();
    for f in raw {
        schema_errors(&f.root, &mut errors);
    }
    let depth = |field: &str| field.split('.').count();
    let most = errors.iter().map(|(f, _)| depth(f)).max();
    match errors.into_iter().filter(|(f, _)| Some(depth(f)) == most).min() {
        Some((field, what)) => Err(format!("{field} {what}").into()),
        None => Ok(()),
    }
}

/// A mapping's entries by their keys' text (nothing for any other node).
fn entries(n: Option<&Node>) -> Vec<(String, &Node)> {
    n.and_then(Node::as_map)
        .into_iter()
        .flatten()
        .map(|(k, v)| (k.scalar_text().unwrap_or_default(), v))
        .collect()
}

/// `(field, what is wrong)` for keys of `n` outside `allowed` (and `x-*`).
fn extra_keys(field: &str, n: &Node, allowed: &[&str], out: &mut Vec<(String, String)>) {
    for (k, _) in entries(Some(n)) {
        if !k.starts_with("x-") && !allowed.contains(&k.as_str()) {
            out.push((field.to_string(), format!("Additional property {k} is not allowed")));
        }
    }
}

/// The schema errors of one file, as `(field, what)`.
fn schema_errors(root: &Node, out: &mut Vec<(String, String)>) {
    extra_keys("(root)", root, TOP_KEYS, out);
    for (name, svc) in entries(root.get("services")) {
        let field = format!("services.{name}");
        extra_keys(&field, svc, SERVICE_KEYS, out);
        service_types(&field, svc, out);
    }
    for (section, keys) in SECTION_KEYS {
        for (name, obj) in entries(root.get(section)) {
            let field = format!("{section}.{name}");
            extra_keys(&field, obj, keys, out);
            let pools = obj.get("ipam").and_then(|i| i.get("config"));
            if let Some(Y::Seq(pools)) = pools.map(|p| &p.value) {
                for (i, pool) in pools.iter().enumerate() {
                    extra_keys(&format!("{field}.ipam.config.{i}"), pool, &["subnet"], out);
                }
            }
        }
    }
}

/// The long forms compose takes and docker's v3 schema does not.
fn service_types(field: &str, svc: &Node, out: &mut Vec<(String, String)>) {
    let mut wrong = |f: String, what: &str| out.push((f, what.to_string()));
    if let Some(Y::Map(_)) = svc.get("depends_on").map(|d| &d.value) {
        wrong(format!("{field}.depends_on"), "must be a list");
    }
    if let Some(Y::Seq(items)) = svc.get("env_file").map(|e| &e.value) {
        for (i, _) in items.iter().enumerate().filter(|(_, n)| n.as_str().is_none()) {
            wrong(format!("{field}.env_file.{i}"), "must be a string");
        }
    }
    for (host, ip) in entries(svc.get("extra_hosts")) {
        if matches!(ip.value, Y::Seq(_) | Y::Map(_)) {
            wrong(
                format!("{field}.extra_hosts.{host}"),
                "must be a string, number or null",
            );
        }
    }
    if let Some(Y::Seq(mounts)) = svc.get("volumes").map(|v| &v.value) {
        for (i, m) in mounts.iter().enumerate() {
            let size = m.get("tmpfs").and_then(|t| t.get("size"));
            if size.is_some_and(|s| !matches!(s.value, Y::Int(_))) {
                wrong(format!("{field}.volumes.{i}.tmpfs.size"), "must be a integer");
            }
        }
    }
}
