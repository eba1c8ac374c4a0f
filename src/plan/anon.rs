//! Which volumes `down -v` may remove besides the project's own: the
//! anonymous volumes of the project's containers, known by the
//! containers' mount records. A volume is anonymous only if its name is
//! the engine's 64-hex ID, it carries no labels, the project declares no
//! volume of that name (an `external: true` volume may have any name), and
//! either the engine created it for the container (the create request
//! named no source) or it sits where the service declares a source-less
//! volume (a recreate carried it over by name). Anything else, external
//! volumes above all, is never removed.

use std::collections::BTreeSet;

use bollard::query_parameters as qp;
use bollard::Docker;
use serde_json::Value;

use super::desired::Desired;

fn is_engine_id(name: &str) -> bool {
    name.len() == 64 && name.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Where `service` declares source-less (anonymous) volumes.
pub fn declared_targets(desired: &Desired, service: &str) -> BTreeSet<String> {
    let Some(svc) = desired.service(service) else {
        return BTreeSet::new();
    };
    svc.body["HostConfig"]["Mounts"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|m| m["Type"] == "volume" && m.get("Source").is_none_or(Value::is_null))
        .filter_map(|m| m["Target"].as_str().map(str::to_string))
        .collect()
}

/// The anonymous volumes of container `id` (see the module comment).
/// `declared`: every volume name the project declares; `targets`: where
/// the container's service declares anonymous volumes, if known.
pub async fn of_container(
    d: &Docker,
    id: &str,
    declared: &BTreeSet<String>,
    targets: &BTreeSet<String>,
) -> Vec<String> {
    let Ok(info) = d.inspect_container(id, None::<qp::InspectContainerOptions>).await else {
        return Vec::new();
    };
    let host = info.host_config.unwrap_or_default();
    let specs = host.mounts.unwrap_or_default();
    let binds = host.binds.unwrap_or_default();
    let mut out = Vec::new();
    for m in info.mounts.unwrap_or_default() {
        let is_volume = m.typ.map(|t| t.to_string()) == Some("volume".into());
        let (Some(name), Some(dest)) = (m.name, m.destination) else {
            continue;
        };
        if !is_volume || !is_engine_id(&name) || declared.contains(&name) {
            continue;
        }
        // The source the create request named for this target, if any.
        let named = specs
            .iter()
            .find(|s| s.target.as_deref() == Some(dest.as_str()))
            .and_then(|s| s.source.clone())
            .filter(|s| !s.is_empty())
            .or_else(|| {
                binds.iter().find_map(|b| {
                    let parts: Vec<&str> = b.split(':').collect();
                    (parts.len() >= 2 && parts[1] == dest).then(|| parts[0].to_string())
                })
            });
        if named.is_some() && !targets.contains(&dest) {
            continue;
        }
        let unlabelled = d
            .inspect_volume(&name)
            .await
            .is_ok_and(|v| v.labels.keys().all(|k| k == "com.docker.volume.anonymous"));
        if unlabelled {
            out.push(name);
        }
    }
    out
}
