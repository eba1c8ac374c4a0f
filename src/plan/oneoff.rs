//! One-off containers (`orch run`): a service's container made the way
//! Docker Compose makes them for `docker compose run`, so both tools list
//! and remove each other's: named `<project>-<service>-run-<id>`, labelled
//! `oneoff=True` with a random slug and no container number, no restart
//! policy, and no published ports unless asked.

use bollard::models::EndpointSettings;
use bollard::Docker;
use serde_json::{json, Map, Value};

use super::desired::{
    Desired, ServiceSpec, LABEL_CONFIG_FILES, LABEL_IMAGE, LABEL_NUMBER, LABEL_ONEOFF, LABEL_WORKING_DIR,
};
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
    /// Ports to publish (`-p`), unless `service_ports`: compose's `run`
    /// publishes these instead of the service's.
    pub publish: Vec<String>,
    /// Mounts added to the service's (`-v`, short syntax).
    pub volumes: Vec<String>,
    pub cap_add: Vec<String>,
    pub cap_drop: Vec<String>,
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

/// What `create` would refuse in `run`'s overrides (a bad `-p` or `-v`),
/// found before anything is created; else the name the container would
/// get (`--name`, or a new `<project>-<service>-run-<id>`).
pub fn check(desired: &Desired, service: &str, o: &OneOff) -> crate::error::Result<String> {
    let svc = desired
        .service(service)
        .ok_or_else(|| format!("no such service: {service}"))?;
    let doc = run_document(&svc.raw, o, "").map_err(|e| format!("service {service}: {e}"))?;
    super::body::service(&desired.project, desired, service, &doc).map_err(|e| format!("service {service}: {e}"))?;
    Ok(name(desired, service, o, &slug()))
}

/// The one-off's name: `--name`, or compose's `<project>-<service>-run-`
/// and 12 hex digits.
fn name(desired: &Desired, service: &str, o: &OneOff, slug: &str) -> String {
    o.name
        .clone()
        .unwrap_or_else(|| [desired.project.as_str(), service, "run", &slug[..12]].join(desired.separator))
}

/// Creates (does not start) a one-off container of `service`; returns its
/// ID and name.
pub async fn create(d: &Docker, desired: &Desired, service: &str, o: OneOff) -> crate::error::Result<(String, String)> {
    let svc = desired
        .service(service)
        .ok_or_else(|| format!("no such service: {service}"))?;
    let image_id = match d.inspect_image(&svc.image).await {
        Ok(i) => i.id.unwrap_or_default(),
        Err(e) if crate::docker::status(&e) == Some(404) => {
            return Err(format!(
                "service {service}: image {} not found (build it, or `orch pull` where a registry is reachable)",
                svc.image
            )
            .into())
        }
        Err(e) => return Err(format!("service {service}: image {}: {}", svc.image, flatten(&e)).into()),
    };
    let slug = slug();
    let name = name(desired, service, &o, &slug);
    // compose changes the service as `run` asks, then creates and hashes
    // the container from that service.
    let doc = run_document(&svc.raw, &o, &name).map_err(|e| format!("service {service}: {e}"))?;
    let mut body = svc.body.clone();
    rebuild_settings(desired, svc, &doc, &mut body)?;
    let labels = &mut body["Labels"];
    labels[LABEL_ONEOFF] = json!("True");
    labels[LABEL_SLUG] = json!(slug);
    labels[LABEL_IMAGE] = json!(image_id);
    labels[LABEL_WORKING_DIR] = json!(desired.working_dir);
    labels[LABEL_CONFIG_FILES] = json!(desired.config_files.join(","));
    if !desired.env_files.is_empty() {
        labels[super::desired::LABEL_ENV_FILE] = json!(desired.env_files.join(","));
    }
    if let Some(m) = labels.as_object_mut() {
        m.shift_remove(LABEL_NUMBER);
        for (k, v) in &o.labels {
            m.insert(k.clone(), json!(v));
        }
    }
    apply_flags(&mut body, &o);
    if let Some((net, aliases)) = svc.networks.first() {
        body["NetworkingConfig"] =
            json!({"EndpointsConfig": {net: {"Aliases": run_aliases(&name, aliases, o.use_aliases)}}});
    }
    // compose hashes the service as `run` changed it.
    let mut svc = svc.clone();
    svc.raw = doc;
    body["Labels"][super::desired::LABEL_HASH] = json!(super::desired::service_hash(&svc.raw));
    let svc = &svc;
    super::refs::apply_live(d, &desired.project, svc, &mut body).await?;
    let v = d.client_version();
    let body = super::create::body(body, &svc.raw, (v.major_version, v.minor_version))
        .map_err(|e| format!("service {service}: {e}"))?;
    let created = super::create::post(d, &name, &body)
        .await
        .map_err(|e| format!("service {service}: creating container {name}: {}", flatten(&e)))?;
    for (net, aliases) in svc.networks.iter().skip(1) {
        let ep = EndpointSettings {
            aliases: Some(run_aliases(&name, aliases, o.use_aliases)),
            ..Default::default()
        };
        if let Err(e) = super::containers::connect_or_discard(d, &created, net, ep).await {
            return Err(format!("service {service}: connecting {name} to network {net}: {}", flatten(&e)).into());
        }
    }
    super::secrets::inject(d, svc, &created).await?;
    Ok((created, name))
}

/// `run`'s flags over the service's body: entrypoint, command, environment,
/// user, working folder, terminal and stdin, and the host config a one-off
/// container has (no restart policy).
fn apply_flags(body: &mut Value, o: &OneOff) {
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
        host.insert("AutoRemove".into(), json!(o.auto_remove));
    }
}

/// A one-off container's aliases on a network, as compose's `getAliases`:
/// its name, then (`--use-aliases`) the service's (`aliases` holds the
/// service name first, then the configured ones).
fn run_aliases(name: &str, aliases: &[String], use_aliases: bool) -> Vec<String> {
    let mut a = vec![name.to_string()];
    if use_aliases {
        a.extend(aliases.iter().cloned());
    }
    a
}

/// The settings `run`'s ports, mounts and capabilities shape, rebuilt
/// from the run-changed service document by the builder `up` uses. The
/// secret and config mounts added after that builder are kept.
fn rebuild_settings(desired: &Desired, svc: &ServiceSpec, doc: &Value, body: &mut Value) -> crate::error::Result<()> {
    let fresh = super::body::service(&desired.project, &run_project(desired, &svc.name), &svc.name, doc)
        .map_err(|e| format!("service {}: {e}", svc.name))?
        .body;
    let (_, own) = super::mounts::build(desired, &svc.name, &svc.raw)?;
    let mut mounts: Vec<Value> = fresh["HostConfig"]["Mounts"].as_array().cloned().unwrap_or_default();
    mounts.extend(
        body["HostConfig"]["Mounts"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|m| !own.contains(m))
            .cloned(),
    );
    let set = |m: &mut Map<String, Value>, key: &str, v: Option<&Value>| match v {
        Some(v) if !v.is_null() => {
            m.insert(key.to_string(), v.clone());
        }
        _ => {
            m.shift_remove(key);
        }
    };
    if let Some(b) = body.as_object_mut() {
        set(b, "ExposedPorts", fresh.get("ExposedPorts"));
    }
    if let Some(host) = body["HostConfig"].as_object_mut() {
        for key in ["PortBindings", "Binds", "CapAdd", "CapDrop"] {
            set(host, key, fresh["HostConfig"].get(key));
        }
        let mounts = (!mounts.is_empty()).then(|| json!(mounts));
        set(host, "Mounts", mounts.as_ref());
    }
    Ok(())
}

/// The project as compose loads it for `run`: only the service and its
/// dependencies, so a volume none of them mounts is not the project's,
/// and `-v NAME:/x` then names a plain engine volume, not `<project>_NAME`.
fn run_project(desired: &Desired, service: &str) -> Desired {
    let mut selected = vec![service.to_string()];
    let mut i = 0;
    while i < selected.len() {
        for dep in desired
            .service(&selected[i])
            .map(|s| s.depends_on.as_slice())
            .unwrap_or_default()
        {
            if !selected.contains(&dep.service) {
                selected.push(dep.service.clone());
            }
        }
        i += 1;
    }
    let used: Vec<&str> = selected
        .iter()
        .filter_map(|n| desired.service(n))
        .flat_map(|s| s.raw["volumes"].as_array().into_iter().flatten())
        .filter(|v| v["type"] == "volume")
        .filter_map(|v| v["source"].as_str())
        .collect();
    let mut d = desired.clone();
    d.volumes.retain(|v| used.contains(&v.key.as_str()));
    d
}

/// The service document as compose's `run` changes it before creating and
/// hashing (`applyRunOptions`, `prepareRun`, the command's `-p`/`-v`).
fn run_document(raw: &Value, o: &OneOff, name: &str) -> crate::error::Result<Value> {
    let mut doc = raw.clone();
    let Some(m) = doc.as_object_mut() else {
        return Ok(doc);
    };
    for (key, on) in [("tty", o.tty), ("stdin_open", o.interactive)] {
        if on {
            m.insert(key.into(), json!(true));
        } else {
            m.shift_remove(key);
        }
    }
    m.insert("container_name".into(), json!(name));
    if let Some(entry) = &o.entrypoint {
        m.insert("entrypoint".into(), json!(entry));
        if o.command.is_none() {
            m.insert("command".into(), json!([]));
        }
    }
    if let Some(cmd) = &o.command {
        m.insert("command".into(), json!(cmd));
    }
    for (key, v) in [("user", &o.user), ("working_dir", &o.workdir)] {
        if let Some(v) = v {
            m.insert(key.into(), json!(v));
        }
    }
    for e in &o.env {
        let (k, v) = match e.split_once('=') {
            Some((k, v)) => (k.to_string(), Some(v.to_string())),
            None => (e.clone(), std::env::var(e).ok()),
        };
        if let Some(v) = v {
            let env = m.entry("environment").or_insert_with(|| json!({}));
            env[k] = json!(v);
        }
    }
    if !o.labels.is_empty() {
        let labels = m.entry("labels").or_insert_with(|| json!({}));
        for (k, v) in &o.labels {
            labels[k] = json!(v);
        }
    }
    if !o.service_ports {
        let mut ports = Vec::new();
        for p in &o.publish {
            ports.extend(crate::compose::canon::port_flag(p)?);
        }
        set_list(m, "ports", ports);
    }
    if !o.volumes.is_empty() {
        // compose makes a relative bind source absolute from where it runs.
        let cwd = std::env::current_dir().map_err(|e| format!("the current folder: {e}"))?;
        let mut vols = m.get("volumes").and_then(Value::as_array).cloned().unwrap_or_default();
        for v in &o.volumes {
            vols.push(crate::compose::canon::volume_flag(v, &cwd)?);
        }
        set_list(m, "volumes", vols);
    }
    capabilities(m, &o.cap_add, &o.cap_drop);
    m.shift_remove("restart");
    if let Some(deploy) = m.get_mut("deploy").and_then(Value::as_object_mut) {
        deploy.shift_remove("restart_policy");
    }
    Ok(doc)
}

/// `--cap-add` and `--cap-drop` as compose's `applyRunOptions`: each list
/// grows by its flag's values, which leave the other list.
fn capabilities(m: &mut Map<String, Value>, add: &[String], drop: &[String]) {
    let list = |m: &Map<String, Value>, key: &str| -> Vec<String> {
        m.get(key)
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(|x| x.as_str().map(str::to_string)).collect())
            .unwrap_or_default()
    };
    for (grow, shrink, values) in [("cap_add", "cap_drop", add), ("cap_drop", "cap_add", drop)] {
        if values.is_empty() {
            continue;
        }
        let mut g = list(m, grow);
        g.extend(values.iter().cloned());
        let mut s = list(m, shrink);
        s.retain(|c| !values.contains(c));
        set_list(m, grow, g.into_iter().map(Value::String).collect());
        set_list(m, shrink, s.into_iter().map(Value::String).collect());
    }
}

/// Sets a list, or drops the key when it is empty (compose's `omitempty`).
fn set_list(m: &mut Map<String, Value>, key: &str, items: Vec<Value>) {
    if items.is_empty() {
        m.shift_remove(key);
    } else {
        m.insert(key.to_string(), Value::Array(items));
    }
}
