//! Networks and volumes as Docker Compose keeps them: each carries
//! `com.docker.compose.config-hash` (the SHA-256 of its definition as Go
//! marshals it), and a definition that changed is applied as compose
//! applies it. A network is recreated in place: the containers on it are
//! stopped and disconnected, the network removed and made anew, the
//! containers reconnected (they start again with their service). A volume
//! is recreated only when the user says yes (`-y`): its containers go,
//! then the volume (its data is lost).

use std::collections::HashMap;
use std::time::Instant;

use bollard::models::{NetworkConnectRequest, NetworkDisconnectRequest};
use bollard::query_parameters as qp;
use serde_json::Value;

use super::apply::Ctx;
use crate::docker::flatten;
use crate::gojson;

fn sha256(text: &str) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// compose's `NetworkHash`: the network's definition, as in the canonical
/// document.
pub fn network_hash(n: &Value) -> String {
    sha256(&gojson::marshal(n))
}

/// compose's `VolumeHash`: the definition with an unset driver taken as
/// "local" (in its place, right after `name`).
pub fn volume_hash(v: &Value) -> String {
    let Some(m) = v.as_object() else {
        return sha256(&gojson::marshal(v));
    };
    if m.get("driver").and_then(Value::as_str).is_some_and(|d| !d.is_empty()) {
        return sha256(&gojson::marshal(v));
    }
    let mut out = serde_json::Map::new();
    if let Some(name) = m.get("name") {
        out.insert("name".into(), name.clone());
    }
    out.insert("driver".into(), Value::String("local".into()));
    for (k, x) in m {
        if k != "name" && k != "driver" {
            out.insert(k.clone(), x.clone());
        }
    }
    sha256(&gojson::marshal(&Value::Object(out)))
}

/// The project's containers of `services` (one-offs excluded).
async fn containers_of(
    ctx: &Ctx,
    services: &[String],
) -> crate::error::Result<Vec<super::observed::ObservedContainer>> {
    Ok(super::observed::containers(&ctx.d, &ctx.desired.project)
        .await?
        .into_iter()
        .filter(|c| services.contains(&c.service))
        .collect())
}

async fn stop_all(ctx: &Ctx, list: &[super::observed::ObservedContainer]) -> crate::error::Result<()> {
    let stops = list.iter().filter(|c| c.state == "running").map(|c| async move {
        let t = Instant::now();
        ctx.emit("Container", &c.name, "Stopping", false, t);
        let opts = qp::StopContainerOptions {
            t: ctx.opts.timeout.map(|t| t as i32),
            signal: None,
        };
        match ctx.d.stop_container(&c.id, Some(opts)).await {
            Ok(()) => {
                ctx.emit("Container", &c.name, "Stopped", true, t);
                Ok(())
            }
            Err(e) if crate::docker::status(&e) == Some(304) => Ok(()),
            Err(e) => Err(crate::error::Error::from_engine(format!("stopping {}", c.name), &e)),
        }
    });
    futures_util::future::join_all(stops).await.into_iter().collect()
}

/// Replaces a network whose definition changed, as compose does.
pub(super) async fn recreate_network(ctx: Ctx, name: String, services: Vec<String>) -> Result<(), (String, String)> {
    let (ctx, name) = (&ctx, &name);
    recreate(ctx, "Network", name, &services, |list| async move {
        for c in &list {
            let req = NetworkDisconnectRequest {
                container: c.id.clone(),
                force: Some(true),
            };
            match ctx.d.disconnect_network(name, req).await {
                Ok(()) => {}
                // Not connected (a container of the service on other networks).
                Err(e) if matches!(crate::docker::status(&e), Some(403) | Some(404)) => {}
                Err(e) => return Err(format!("disconnecting {} from {name}: {}", c.name, flatten(&e))),
            }
        }
        ctx.d
            .remove_network(name)
            .await
            .map_err(|e| format!("removing network {name}: {}", flatten(&e)))?;
        ctx.emit("Network", name, "Removed", true, Instant::now());
        super::apply::create_network(ctx.clone(), name.clone())
            .await
            .map_err(|(_, e)| e)?;
        // Reconnected as compose does: no endpoint settings (so no aliases
        // but the container's short ID, until it is recreated).
        for c in &list {
            let req = NetworkConnectRequest {
                container: c.id.clone(),
                endpoint_config: None,
            };
            ctx.d
                .connect_network(name, req)
                .await
                .map_err(|e| format!("connecting {} to {name}: {}", c.name, flatten(&e)))?;
        }
        Ok(())
    })
    .await
}

/// Replaces a volume whose definition changed (the user said yes): its
/// containers are stopped and removed, then the volume, then it is made
/// anew; the services' containers are created again by their own steps.
pub(super) async fn recreate_volume(ctx: Ctx, name: String, services: Vec<String>) -> Result<(), (String, String)> {
    let (ctx, name) = (&ctx, &name);
    recreate(ctx, "Volume", name, &services, |list| async move {
        for c in &list {
            let t = Instant::now();
            ctx.emit("Container", &c.name, "Removing", false, t);
            let opts = qp::RemoveContainerOptions {
                force: true,
                ..Default::default()
            };
            crate::docker::remove_container(&ctx.d, &c.id, opts)
                .await
                .map_err(|e| format!("removing {}: {}", c.name, flatten(&e)))?;
            ctx.emit("Container", &c.name, "Removed", true, t);
        }
        let opts = qp::RemoveVolumeOptions { force: true };
        ctx.d
            .remove_volume(name, Some(opts))
            .await
            .map_err(|e| format!("removing volume {name}: {}", flatten(&e)))?;
        super::apply::create_volume(ctx.clone(), name.clone())
            .await
            .map_err(|(_, e)| e)
    })
    .await
}

/// Recreates a network or volume (`kind`): the running containers of
/// `services` stop, then `replace` does the rest with them; an error is
/// the object's failure event and error.
async fn recreate<Fut>(
    ctx: &Ctx,
    kind: &'static str,
    name: &str,
    services: &[String],
    replace: impl FnOnce(Vec<super::observed::ObservedContainer>) -> Fut,
) -> Result<(), (String, String)>
where
    Fut: std::future::Future<Output = Result<(), String>>,
{
    let r = async {
        let list = containers_of(ctx, services).await?;
        stop_all(ctx, &list).await?;
        replace(list).await
    }
    .await;
    r.map_err(|e| {
        ctx.fail(kind, name, &e, Instant::now());
        (format!("{} {name}", kind.to_lowercase()), e)
    })
}

/// What the plan does about networks and volumes that exist with another
/// definition than the project's.
#[derive(Debug, Default)]
pub struct Divergence {
    pub steps: Vec<super::diff::Step>,
    pub warnings: Vec<String>,
    /// Services whose running containers the network recreation stops
    /// (they start again).
    pub restarted: Vec<String>,
    /// Services whose containers a volume recreation removes (they are
    /// created again).
    pub removed: Vec<String>,
}

/// Compares the existing networks and volumes' labels with the project,
/// as compose's `ensureNetwork`/`ensureVolume` do.
pub fn divergence(
    desired: &super::desired::Desired,
    observed: &super::observed::Observed,
    recreate_volumes: bool,
) -> crate::error::Result<Divergence> {
    use super::desired::{LABEL_HASH, LABEL_NETWORK};
    use super::diff::Step;
    let mut out = Divergence::default();
    for n in desired.networks.iter().filter(|n| !n.external) {
        let Some(labels) = observed.labels.get(&n.name) else {
            continue;
        };
        out.warnings.extend(foreign(false, &n.name, labels, &desired.project));
        let key = labels.get(LABEL_NETWORK).map(String::as_str).unwrap_or("");
        if key != n.key {
            return Err(format!(
                "network {} was found but has incorrect label {LABEL_NETWORK} set to {key:?} (expected: {:?})",
                n.name, n.key
            )
            .into());
        }
        let hash = labels.get(LABEL_HASH).map(String::as_str).unwrap_or("");
        if hash.is_empty() || hash == n.hash {
            continue;
        }
        let services = users(desired, |s| s.networks.iter().any(|(net, _)| net == &n.name));
        out.restarted.extend(services.iter().cloned());
        out.steps.push(Step::RecreateNetwork {
            name: n.name.clone(),
            services,
        });
    }
    for v in desired.volumes.iter().filter(|v| !v.external) {
        let Some(labels) = observed.labels.get(&format!("volume {}", v.name)) else {
            continue;
        };
        out.warnings.extend(foreign(true, &v.name, labels, &desired.project));
        match labels.get(LABEL_HASH) {
            Some(h) if h != &v.hash => {}
            _ => continue,
        }
        if !recreate_volumes {
            out.warnings.push(format!(
                "Volume {:?} exists but doesn't match configuration in compose file. Recreate (data will be lost)? (not recreated: answer with -y)",
                v.name
            ));
            continue;
        }
        let services = users(desired, |s| super::mounts::uses_volume(&s.body, &v.name));
        out.removed.extend(services.iter().cloned());
        out.steps.push(Step::RecreateVolume {
            name: v.name.clone(),
            services,
        });
    }
    Ok(out)
}

/// Compose's warning for an existing network or (`volume`) volume that it
/// did not create, or created for another project than `project`.
fn foreign(volume: bool, name: &str, labels: &HashMap<String, String>, project: &str) -> Option<String> {
    let owner = labels.get(super::desired::LABEL_PROJECT);
    if owner.is_some_and(|p| p == project) {
        return None;
    }
    Some(match (volume, owner) {
        (false, None) => format!(
            "a network with name {name} exists but was not created by compose.\nSet `external: true` to use an existing network"
        ),
        (false, Some(_)) => format!(
            "a network with name {name} exists but was not created for project {project:?}.\nSet `external: true` to use an existing network"
        ),
        (true, None) => format!(
            "volume {name:?} already exists but was not created by Docker Compose. Use `external: true` to use an existing volume"
        ),
        (true, Some(p)) => format!(
            "volume {name:?} already exists but was created for project {p:?} (expected {project:?}). Use `external: true` to use an existing volume"
        ),
    })
}

/// The services `uses` says use a network or volume.
fn users(desired: &super::desired::Desired, uses: impl Fn(&super::desired::ServiceSpec) -> bool) -> Vec<String> {
    desired
        .services
        .iter()
        .filter(|s| uses(s))
        .map(|s| s.name.clone())
        .collect()
}
