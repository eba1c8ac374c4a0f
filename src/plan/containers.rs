//! One container's operations as the applier runs them: create (with
//! compose's per-container labels, adopting a replica a killed run left
//! half-made), start (secrets and configs written in first, `post_start`
//! hooks after), restart, recreate (compose's temporary name, then stop,
//! remove and rename) and remove. Each reports progress as events and
//! returns an error the user can act on ("port 5000 is already allocated
//! by container x").

use std::collections::HashMap;
use std::time::Instant;

use bollard::models::{EndpointSettings, NetworkConnectRequest};
use bollard::query_parameters as qp;
use bollard::Docker;
use serde_json::{json, Value};

use super::apply::Ctx;
use super::desired::{ServiceSpec, LABEL_CONFIG_FILES, LABEL_IMAGE, LABEL_NUMBER, LABEL_REPLACE, LABEL_WORKING_DIR};
use super::diff::Step;
use crate::docker::flatten;

/// The create body for replica `number`, with compose's per-container
/// labels and the primary network's aliases.
pub(super) fn body_for(
    ctx: &Ctx,
    svc: &ServiceSpec,
    number: usize,
    name: &str,
    image_id: &str,
    replaces: Option<&str>,
) -> Value {
    let mut body = svc.body.clone();
    let labels = &mut body["Labels"];
    labels[LABEL_NUMBER] = json!(number.to_string());
    labels[LABEL_IMAGE] = json!(image_id);
    labels[LABEL_WORKING_DIR] = json!(ctx.desired.working_dir);
    labels[LABEL_CONFIG_FILES] = json!(ctx.desired.config_files.join(","));
    if !ctx.desired.env_files.is_empty() {
        labels[super::desired::LABEL_ENV_FILE] = json!(ctx.desired.env_files.join(","));
    }
    if replaces.is_some() {
        // Compose names the replaced replica, not its ID.
        let replaced = svc
            .container_name
            .clone()
            .unwrap_or_else(|| format!("{}-{number}", svc.name));
        labels[LABEL_REPLACE] = json!(replaced);
    }
    if let Some((net, aliases)) = svc.networks.first() {
        let mut a = aliases.clone();
        a.push(name.to_string());
        let mut ep = svc.endpoints.get(net).cloned().unwrap_or_else(|| json!({}));
        ep["Aliases"] = json!(a);
        body["NetworkingConfig"] = json!({"EndpointsConfig": {net: ep}});
    }
    body
}

pub(super) async fn create_container(
    ctx: &Ctx,
    svc: &ServiceSpec,
    number: usize,
    name: &str,
    image_id: &str,
    anon: Option<&HashMap<String, String>>,
) -> crate::error::Result<()> {
    let t = Instant::now();
    ctx.emit("Container", name, "Creating", false, t);
    let id = match create_only(ctx, svc, number, name, name, image_id, anon, None).await {
        Ok(id) => id,
        Err(e) => {
            ctx.fail("Container", name, &e, t);
            return Err(e);
        }
    };
    ctx.emit("Container", name, "Created", !ctx.opts.no_start, t);
    if ctx.opts.no_start {
        return Ok(());
    }
    start(ctx, &svc.name, name, &id).await
}

#[allow(clippy::too_many_arguments)]
pub(super) async fn create_only(
    ctx: &Ctx,
    svc: &ServiceSpec,
    number: usize,
    create_name: &str,
    final_name: &str,
    image_id: &str,
    anon: Option<&HashMap<String, String>>,
    replaces: Option<&str>,
) -> crate::error::Result<String> {
    let mut body = body_for(ctx, svc, number, final_name, image_id, replaces);
    super::refs::apply_live(&ctx.d, &ctx.desired.project, svc, &mut body).await?;
    let links = super::refs::apply_links(&ctx.d, &ctx.desired.project, svc, number, &mut body).await?;
    let hash = body["Labels"][super::desired::LABEL_HASH]
        .as_str()
        .unwrap_or_default()
        .to_string();
    // Anonymous volumes of the container being replaced keep their data,
    // the image's `VOLUME`s too.
    if let Some(anon) = anon {
        let image_volumes = match ctx.d.inspect_image(image_id).await {
            Ok(i) => i.config.and_then(|c| c.volumes).unwrap_or_default(),
            Err(_) => Vec::new(),
        };
        super::mounts::inherit(&mut body, anon, &image_volumes);
    }
    let v = ctx.d.client_version();
    let body = super::create::body(body, &svc.raw, (v.major_version, v.minor_version))
        .map_err(|e| format!("service {}: {e}", svc.name))?;
    // A run killed mid-way leaves the engine finishing (or rolling back)
    // its last creates after we looked: a name may be held by this very
    // replica (adopt it) or by a container being removed (wait, retry).
    let mut attempt = 0;
    let created = loop {
        match super::create::post(&ctx.d, create_name, &body).await {
            Ok(id) => break id,
            Err(e) if crate::docker::status(&e) == Some(409) && create_name == final_name => {
                if let Some(id) = adopt(ctx, svc, number, final_name, &hash).await {
                    return Ok(id);
                }
                attempt += 1;
                // Another project's (or a hand-made) container holds the
                // name: waiting would not free it.
                if attempt > 20 || held_by_another_project(ctx, final_name).await {
                    return Err(
                        format!("service {}: creating container {final_name}: {}", svc.name, flatten(&e)).into(),
                    );
                }
                tokio::time::sleep(std::time::Duration::from_millis(250)).await;
            }
            // A recreate's temporary name held by a copy the killed run
            // made after we looked: ours (same project, service and
            // number), so it goes and the create is tried again.
            Err(e) if crate::docker::status(&e) == Some(409) && attempt < 3 => {
                attempt += 1;
                if !remove_stale_copy(ctx, svc, number, create_name).await {
                    return Err(
                        format!("service {}: creating container {final_name}: {}", svc.name, flatten(&e)).into(),
                    );
                }
            }
            Err(e) => {
                return Err(format!("service {}: creating container {final_name}: {}", svc.name, flatten(&e)).into())
            }
        }
    };
    for (net, aliases) in svc.networks.iter().skip(1) {
        let mut a = aliases.clone();
        a.push(final_name.to_string());
        // The service's addresses and driver_opts there (compose-shaped
        // JSON, so read through the engine's model).
        let mut ep: EndpointSettings = svc
            .endpoints
            .get(net)
            .and_then(|v| serde_json::from_value(v.clone()).ok())
            .unwrap_or_default();
        ep.aliases = Some(a);
        ep.links = (!links.is_empty()).then(|| links.clone());
        if let Err(e) = connect_or_discard(&ctx.d, &created, net, ep).await {
            return Err(format!(
                "service {}: connecting {final_name} to network {net}: {}",
                svc.name,
                flatten(&e)
            )
            .into());
        }
    }
    Ok(created)
}

/// The ID of the container called `name` if it is this project's replica
/// `number` of `svc` with the current configuration.
pub(super) async fn adopt(ctx: &Ctx, svc: &ServiceSpec, number: usize, name: &str, hash: &str) -> Option<String> {
    let info = ctx
        .d
        .inspect_container(name, None::<qp::InspectContainerOptions>)
        .await
        .ok()?;
    let labels = info.config?.labels?;
    let ours = labels.get(super::desired::LABEL_PROJECT) == Some(&ctx.desired.project)
        && labels.get(super::desired::LABEL_SERVICE) == Some(&svc.name)
        && labels.get(LABEL_NUMBER) == Some(&number.to_string())
        && labels.get(super::desired::LABEL_HASH).map(String::as_str) == Some(hash);
    if ours {
        info.id
    } else {
        None
    }
}

/// Whether the container called `name` exists and is not this project's.
/// Removes the container named `name` when it is a copy of this very
/// replica (project, service and number labels); false when it is not.
async fn remove_stale_copy(ctx: &Ctx, svc: &ServiceSpec, number: usize, name: &str) -> bool {
    use super::desired::{LABEL_NUMBER, LABEL_PROJECT, LABEL_SERVICE};
    let Ok(info) = ctx.d.inspect_container(name, None::<qp::InspectContainerOptions>).await else {
        return true; // gone meanwhile: try again
    };
    let labels = info.config.and_then(|c| c.labels).unwrap_or_default();
    let ours = labels.get(LABEL_PROJECT) == Some(&ctx.desired.project)
        && labels.get(LABEL_SERVICE) == Some(&svc.name)
        && labels.get(LABEL_NUMBER) == Some(&number.to_string());
    if !ours {
        return false;
    }
    let remove = qp::RemoveContainerOptions {
        force: true,
        ..Default::default()
    };
    let id = info.id.unwrap_or_default();
    crate::docker::remove_container(&ctx.d, &id, remove).await.is_ok()
        || ctx
            .d
            .inspect_container(&id, None::<qp::InspectContainerOptions>)
            .await
            .is_err()
}

pub(super) async fn held_by_another_project(ctx: &Ctx, name: &str) -> bool {
    let Ok(info) = ctx.d.inspect_container(name, None::<qp::InspectContainerOptions>).await else {
        return false;
    };
    let labels = info.config.and_then(|c| c.labels).unwrap_or_default();
    labels.get(super::desired::LABEL_PROJECT) != Some(&ctx.desired.project)
}

pub(super) async fn start(ctx: &Ctx, service: &str, name: &str, id: &str) -> crate::error::Result<()> {
    let t = Instant::now();
    if let Some(svc) = ctx.desired.service(service) {
        if let Err(e) = super::secrets::inject(&ctx.d, svc, id).await {
            ctx.fail("Container", name, &e, t);
            return Err(e);
        }
    }
    ctx.emit("Container", name, "Starting", false, t);
    match ctx.d.start_container(id, None::<qp::StartContainerOptions>).await {
        Ok(()) => {
            // compose reports it started only once its hooks succeeded.
            super::hooks::after_start(ctx, service, name, id).await?;
            ctx.emit("Container", name, "Started", true, t);
            Ok(())
        }
        Err(e) => {
            let msg = format!(
                "service {service}: starting container {name}: {}",
                port_hint(&ctx.d, &flatten(&e)).await
            );
            ctx.fail("Container", name, &msg, t);
            Err(msg.into())
        }
    }
}

/// Restarts a dependent whose dependency was recreated (`restart: true`):
/// compose stops it (its `pre_stop` hooks first) and starts it again (then
/// its `post_start` hooks).
pub(super) async fn restart(ctx: &Ctx, service: &str, name: &str, id: &str) -> crate::error::Result<()> {
    let t = Instant::now();
    let spec = ctx.desired.service(service);
    ctx.emit("Container", name, "Restarting", false, t);
    super::hooks::pre_stop(&ctx.d, spec, id).await?;
    let opts = qp::RestartContainerOptions {
        t: ctx.opts.timeout.map(|x| x as i32),
        signal: None,
    };
    let grace = ctx.opts.timeout;
    match crate::docker::patient(&ctx.d, grace)
        .restart_container(id, Some(opts))
        .await
    {
        Ok(()) => {
            super::hooks::after_start(ctx, service, name, id).await?;
            ctx.emit("Container", name, "Restarted", true, t);
            Ok(())
        }
        Err(e) => {
            let msg = format!("restarting container {name}: {}", flatten(&e));
            ctx.fail("Container", name, &msg, t);
            Err(msg.into())
        }
    }
}

/// Makes the engine's port-conflict message say who holds the port and
/// what to do: "Bind for 0.0.0.0:5000 failed: port is already allocated"
/// becomes "port 5000 is already allocated by container x …".
pub(super) async fn port_hint(d: &Docker, msg: &str) -> String {
    let conflict = msg.contains("port is already allocated") || msg.contains("address already in use");
    if !conflict {
        return msg.to_string();
    }
    let port: Option<u16> = msg
        .split("Bind for ")
        .nth(1)
        .and_then(|r| r.split(" failed").next())
        .and_then(|addr| addr.rsplit(':').next())
        .and_then(|p| p.parse().ok());
    let holder = match port {
        Some(p) => d
            .list_containers(Some(qp::ListContainersOptions {
                all: false,
                ..Default::default()
            }))
            .await
            .ok()
            .and_then(|list| {
                list.into_iter()
                    .find(|c| c.ports.iter().flatten().any(|x| x.public_port == Some(p)))
            })
            .and_then(|c| c.names.and_then(|n| n.first().cloned()))
            .map(|n| n.trim_start_matches('/').to_string()),
        None => None,
    };
    match (port, holder) {
        (Some(p), Some(h)) => {
            format!("port {p} is already allocated by container {h}; stop it or change the published port ({msg})")
        }
        (Some(p), None) => {
            format!("port {p} is already in use by another process; stop it or change the published port ({msg})")
        }
        _ => format!("{msg} (another container or process publishes that port; stop it or change the published port)"),
    }
}

/// Replaces a container the way compose does: create the new one under a
/// temporary name, stop and remove the old, rename the new, start it.
pub(super) async fn recreate(
    ctx: &Ctx,
    svc: &ServiceSpec,
    number: usize,
    name: &str,
    old_id: &str,
    image_id: &str,
) -> crate::error::Result<()> {
    let t = Instant::now();
    ctx.emit("Container", name, "Recreate", false, t);
    let old = ctx
        .d
        .inspect_container(old_id, None::<qp::InspectContainerOptions>)
        .await
        .map_err(|e| format!("inspecting {name}: {}", flatten(&e)))?;
    let anon: HashMap<String, String> = old
        .mounts
        .unwrap_or_default()
        .into_iter()
        .filter(|m| m.typ.as_ref().map(|t| t.to_string()) == Some("volume".into()))
        .filter_map(|m| Some((m.destination?, m.name?)))
        .collect();
    let tmp = format!("{}_{name}", &old_id[..old_id.len().min(12)]);
    let result = async {
        let inherit = (!ctx.opts.renew_anon_volumes).then_some(&anon);
        let new_id = create_only(ctx, svc, number, &tmp, name, image_id, inherit, Some(old_id)).await?;
        let stop = qp::StopContainerOptions {
            t: ctx.opts.timeout.map(|t| t as i32),
            signal: None,
        };
        crate::docker::patient(&ctx.d, ctx.opts.timeout)
            .stop_container(old_id, Some(stop))
            .await
            .map_err(|e| format!("stopping {name}: {}", flatten(&e)))?;
        crate::docker::remove_container(
            &ctx.d,
            old_id,
            qp::RemoveContainerOptions {
                force: true,
                ..Default::default()
            },
        )
        .await
        .map_err(|e| format!("removing {name}: {}", flatten(&e)))?;
        ctx.d
            .rename_container(&new_id, qp::RenameContainerOptions { name: name.to_string() })
            .await
            .map_err(|e| format!("renaming {tmp} to {name}: {}", flatten(&e)))?;
        Ok::<_, String>(new_id)
    }
    .await;
    match result {
        Ok(id) => {
            ctx.emit("Container", name, "Recreated", ctx.opts.no_start, t);
            if ctx.opts.no_start {
                return Ok(());
            }
            start(ctx, &svc.name, name, &id).await
        }
        Err(e) => {
            ctx.fail("Container", name, &e, t);
            Err(e.into())
        }
    }
}

pub(super) async fn remove_step(ctx: Ctx, step: Step) -> Result<(), (String, String)> {
    let Step::Remove {
        service,
        name,
        id,
        reason,
        ..
    } = step
    else {
        return Ok(());
    };
    let t = Instant::now();
    let _permit = ctx.ops.acquire().await;
    ctx.emit("Container", &name, "Stopping", false, t);
    let stop = qp::StopContainerOptions {
        t: ctx.opts.timeout.map(|t| t as i32),
        signal: None,
    };
    // A scale-down runs the service's pre_stop hooks; an orphan has no
    // service definition (compose passes none).
    let spec = ctx.desired.service(&service).filter(|_| reason != "orphan");
    let r = async {
        // Ok(false): gone or not running, nothing to stop.
        if super::hooks::pre_stop(&ctx.d, spec, &id)
            .await
            .map_err(|e| e.to_string())?
        {
            match crate::docker::patient(&ctx.d, ctx.opts.timeout)
                .stop_container(&id, Some(stop))
                .await
            {
                Ok(()) => {}
                Err(e) if crate::docker::status(&e) == Some(304) || crate::docker::status(&e) == Some(404) => {}
                Err(e) => return Err(flatten(&e)),
            }
        }
        ctx.emit("Container", &name, "Removing", false, t);
        let remove = qp::RemoveContainerOptions {
            force: true,
            ..Default::default()
        };
        match crate::docker::remove_container(&ctx.d, &id, remove).await {
            Ok(()) => Ok(()),
            Err(e) if crate::docker::status(&e) == Some(404) => Ok(()),
            Err(e) => Err(flatten(&e)),
        }
    }
    .await;
    match r {
        Ok(()) => {
            ctx.emit("Container", &name, "Removed", true, t);
            Ok(())
        }
        Err(e) => {
            let msg = format!("removing container {name}: {e}");
            ctx.fail("Container", &name, &msg, t);
            Err((format!("container {name}"), msg))
        }
    }
}

/// Connects a just-created container to one more network; when the engine
/// refuses, the half-made container is removed (a later run would
/// otherwise adopt it without that network).
pub(super) async fn connect_or_discard(
    d: &Docker,
    created: &str,
    net: &str,
    ep: EndpointSettings,
) -> Result<(), bollard::errors::Error> {
    let req = NetworkConnectRequest {
        container: created.to_string(),
        endpoint_config: Some(ep),
    };
    let connected = d.connect_network(net, req).await;
    if connected.is_err() {
        let opts = qp::RemoveContainerOptions {
            force: true,
            ..Default::default()
        };
        let _ = d.remove_container(created, Some(opts)).await;
    }
    connected
}
