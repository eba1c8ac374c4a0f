//! One-off containers (`orch run`): a service's container made the way
//! Docker Compose makes them for `docker compose run`, so both tools list
//! and remove each other's: named `<project>-<service>-run-<id>`, labelled
//! `oneoff=True` with a random slug and no container number, no restart
//! policy, and no published ports unless asked.

use bollard::models::{ContainerCreateBody, EndpointSettings, NetworkConnectRequest};
use bollard::query_parameters as qp;
use bollard::Docker;
use serde_json::json;

use super::desired::{Desired, LABEL_CONFIG_FILES, LABEL_IMAGE, LABEL_NUMBER, LABEL_ONEOFF, LABEL_WORKING_DIR};
use crate::docker::flatten;

const LABEL_SLUG: &str = "com.docker.compose.slug";

/// What `run`'s flags change in the service's container.
#[derive(Clone, Debug, Default)]
pub struct OneOff {
    pub command: Option<Vec<String>>,
    pub entrypoint: Option<Vec<String>>,
    /// `KEY=VALUE` (or `KEY` to take orch's own environment's value).
    pub env: Vec<String>,
    pub labels: Vec<(String, String)>,
    pub user: Option<String>,
    pub workdir: Option<String>,
    pub name: Option<String>,
    /// The engine removes the container when it exits (`run -d --rm`).
    pub auto_remove: bool,
    /// Publish the service's ports (`--service-ports`).
    pub service_ports: bool,
    /// Give the container the service's network aliases (`--use-aliases`).
    pub use_aliases: bool,
    pub tty: bool,
    pub interactive: bool,
}

/// A random 64-hex id, as compose's slug (no RNG crate needed: hashing the
/// time, the process and a counter is unique enough for a name).
fn slug() -> String {
    use sha2::Digest;
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let seed = format!(
        "{:?}-{}-{}",
        std::time::SystemTime::now(),
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    );
    sha2::Sha256::digest(seed.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Creates (does not start) a one-off container of `service`; returns its
/// ID and name.
pub async fn create(d: &Docker, desired: &Desired, service: &str, o: OneOff) -> Result<(String, String), String> {
    let svc = desired
        .service(service)
        .ok_or_else(|| format!("no such service: {service}"))?;
    let image_id = match d.inspect_image(&svc.image).await {
        Ok(i) => i.id.unwrap_or_default(),
        Err(e) if crate::docker::status(&e) == Some(404) => {
            return Err(format!(
                "service {service}: image {} not found (build it, or `orch pull` where a registry is reachable)",
                svc.image
            ))
        }
        Err(e) => return Err(format!("service {service}: image {}: {}", svc.image, flatten(&e))),
    };
    let slug = slug();
    let name = o
        .name
        .clone()
        .unwrap_or_else(|| format!("{}-{service}-run-{}", desired.project, &slug[..12]));
    let mut body = svc.body.clone();
    let labels = &mut body["Labels"];
    labels[LABEL_ONEOFF] = json!("True");
    labels[LABEL_SLUG] = json!(slug);
    labels[LABEL_IMAGE] = json!(image_id);
    labels[LABEL_WORKING_DIR] = json!(desired.working_dir);
    labels[LABEL_CONFIG_FILES] = json!(desired.config_files.join(","));
    if let Some(m) = labels.as_object_mut() {
        m.shift_remove(LABEL_NUMBER);
        for (k, v) in &o.labels {
            m.insert(k.clone(), json!(v));
        }
    }
    if let Some(entry) = &o.entrypoint {
        body["Entrypoint"] = json!(entry);
        // A new entrypoint drops the service's command unless one is given.
        if o.command.is_none() {
            body["Cmd"] = json!([]);
        }
    }
    if let Some(cmd) = &o.command {
        body["Cmd"] = json!(cmd);
    }
    if !o.env.is_empty() {
        let mut env: Vec<String> = body["Env"]
            .as_array()
            .map(|a| a.iter().filter_map(|x| x.as_str().map(str::to_string)).collect())
            .unwrap_or_default();
        for e in &o.env {
            let (k, v) = match e.split_once('=') {
                Some((k, v)) => (k.to_string(), Some(v.to_string())),
                None => (e.clone(), std::env::var(e).ok()),
            };
            env.retain(|x| x.split('=').next() != Some(k.as_str()));
            if let Some(v) = v {
                env.push(format!("{k}={v}"));
            }
        }
        body["Env"] = json!(env);
    }
    if let Some(u) = &o.user {
        body["User"] = json!(u);
    }
    if let Some(w) = &o.workdir {
        body["WorkingDir"] = json!(w);
    }
    body["Tty"] = json!(o.tty);
    body["OpenStdin"] = json!(o.interactive);
    body["AttachStdin"] = json!(o.interactive);
    // compose: StdinOnce = AttachStdin && OpenStdin, both `-i` here.
    body["StdinOnce"] = json!(o.interactive);
    if let Some(host) = body["HostConfig"].as_object_mut() {
        host.shift_remove("RestartPolicy");
        if !o.service_ports {
            host.shift_remove("PortBindings");
        }
        host.insert("AutoRemove".into(), json!(o.auto_remove));
    }
    if let Some((net, aliases)) = svc.networks.first() {
        let a: Vec<String> = if o.use_aliases { aliases.clone() } else { Vec::new() };
        body["NetworkingConfig"] = json!({"EndpointsConfig": {net: {"Aliases": a}}});
    }
    super::refs::apply_live(d, &desired.project, svc, &mut body).await?;
    let body: ContainerCreateBody =
        serde_json::from_value::<ContainerCreateBody>(body.clone()).map_err(|e| format!("service {service}: {e}"))?;
    let created = d
        .create_container(
            Some(qp::CreateContainerOptions {
                name: Some(name.clone()),
                platform: String::new(),
            }),
            body,
        )
        .await
        .map_err(|e| format!("service {service}: creating container {name}: {}", flatten(&e)))?;
    for (net, aliases) in svc.networks.iter().skip(1) {
        let req = NetworkConnectRequest {
            container: created.id.clone(),
            endpoint_config: Some(EndpointSettings {
                aliases: o.use_aliases.then(|| aliases.clone()),
                ..Default::default()
            }),
        };
        if let Err(e) = d.connect_network(net, req).await {
            let _ = d
                .remove_container(
                    &created.id,
                    Some(qp::RemoveContainerOptions {
                        force: true,
                        ..Default::default()
                    }),
                )
                .await;
            return Err(format!(
                "service {service}: connecting {name} to network {net}: {}",
                flatten(&e)
            ));
        }
    }
    super::secrets::inject(d, svc, &created.id).await?;
    Ok((created.id, name))
}
