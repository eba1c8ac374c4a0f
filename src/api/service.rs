//! `service::` primitives: Swarm services as the engine's raw JSON (see
//! `swarm.rs` and [`crate::engine_json`]). Every field the engine sends
//! comes back to the script (`Spec` with its `Healthcheck`, `PreviousSpec`,
//! `UpdateStatus`, …) and every field of a spec the script sends reaches
//! the engine: `inspect` → change → `update` changes only what the script
//! changed. An update that changes nothing is not sent.
//!
//! ```rhai
//! let s = service::inspect("web").Spec;
//! s.TaskTemplate.ContainerSpec.Image = "web:2";
//! let r = service::update("web", s);
//! if !r.changed { print("nothing to update"); }
//! ```

use rhai::plugin::*;
use rhai::{Array, Dynamic, Map, NativeCallContext};
use serde_json::{json, Value};

use super::options::ServiceFilters;
use super::options::ServiceSendOpts;
use super::swarm::{delete, filters, get, get_list, post_auth, spec_json};
use super::value::from_json;
use super::{fail, RhaiResult};
use crate::engine_json as ej;

pub(super) fn inspect_json(op: &str, name: &str) -> RhaiResult<Value> {
    get(format!("service {op} {name}"), format!("/services/{}", ej::enc(name)))
}

/// What `update` reports: whether a spec was sent, and the engine's
/// warnings.
fn outcome(changed: bool, warnings: &Value) -> Map {
    let mut m = Map::new();
    m.insert("changed".into(), Dynamic::from(changed));
    let w: Array = warnings
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|w| w.as_str().map(|s| Dynamic::from(s.to_string())))
        .collect();
    m.insert("warnings".into(), Dynamic::from_array(w));
    m
}

/// Sends `spec` to service `name` at its current version, unless it says
/// what the service already has (then nothing is sent and `changed` is
/// false). `rollback`: Swarm's own rollback to `PreviousSpec` instead.
///
/// Swarm's own updater bumps a service's version as a running update
/// moves on, so the version read can be stale by the time the spec
/// arrives ("update out of sequence"). When the service's spec is still
/// the one read, only its status moved: the spec is sent again at the
/// new version (a few times); a spec changed by someone else is an error.
pub fn update_spec(name: &str, spec: Option<Value>, rollback: bool) -> RhaiResult<Map> {
    update_spec_with(name, spec, rollback, None)
}

/// The registry credentials the Docker CLI holds for `spec`'s image,
/// encoded as `X-Registry-Auth` (`--with-registry-auth`); none when it
/// holds none, as docker then sends nothing useful either.
pub(super) fn registry_auth(spec: &Value) -> Option<String> {
    use base64::Engine as _;
    let image = spec["TaskTemplate"]["ContainerSpec"]["Image"].as_str()?;
    let creds = super::image_registry::credentials_for(image);
    tracing::debug!(image, found = creds.is_some(), "registry credentials for a service");
    let creds = creds?;
    let json = serde_json::to_string(&creds).ok()?;
    Some(base64::engine::general_purpose::URL_SAFE.encode(json))
}

/// [`update_spec`], with `X-Registry-Auth` when given.
fn update_spec_with(name: &str, spec: Option<Value>, rollback: bool, auth: Option<String>) -> RhaiResult<Map> {
    let op = if rollback { "rollback" } else { "update" };
    let mut current = inspect_json(op, name)?;
    let spec = match spec.map(ej::with_tagged_image) {
        Some(s) if ej::same(&s, &current["Spec"]) => return Ok(outcome(false, &Value::Null)),
        Some(s) => s,
        None => current["Spec"].clone(),
    };
    let read = current["Spec"].clone();
    let mut tries = 0;
    loop {
        let q = ej::query(&[
            ("version", Some(ej::version(&current).to_string())),
            ("rollback", rollback.then(|| "previous".to_string())),
        ]);
        let id = current["ID"].as_str().unwrap_or(name).to_string();
        match post_auth(
            format!("service {op} {name}"),
            format!("/services/{}/update{q}", ej::enc(&id)),
            spec.clone(),
            auth.clone(),
        ) {
            Ok(r) => return Ok(outcome(true, &r["Warnings"])),
            Err(e) if tries < 5 && e.to_string().contains("update out of sequence") => {
                tries += 1;
                current = inspect_json(op, name)?;
                if !ej::same(&current["Spec"], &read) {
                    return Err(e);
                }
            }
            Err(e) => return Err(e),
        }
    }
}

#[export_module]
pub mod api {
    use super::*;

    /// Creates a service from a spec in the engine's shape; returns its ID.
    /// The image gets `:latest` when it has no tag, as Docker's client
    /// does, and no registry lookup of its digest.
    ///
    /// ```rhai
    /// service::create(#{ Name: "web", TaskTemplate: #{ ContainerSpec: #{ Image: "busybox" } } });
    /// ```
    #[rhai_fn(return_raw)]
    pub fn create(ctx: NativeCallContext, spec: Map) -> RhaiResult<String> {
        create_with(ctx, spec, Map::new())
    }

    /// `create` with options: `registry_auth: true` sends the Docker CLI's
    /// credentials for the image's registry along (docker's
    /// `--with-registry-auth`), so the nodes can pull it from a private
    /// registry.
    ///
    /// ```rhai
    /// service::create(#{ Name: "web", TaskTemplate: #{ ContainerSpec: #{ Image: "reg.example:5000/web:1" } } },
    ///                 #{ registry_auth: true });
    /// ```
    #[rhai_fn(name = "create", return_raw)]
    pub fn create_with(ctx: NativeCallContext, spec: Map, opts: Map) -> RhaiResult<String> {
        crate::api::at(&ctx, || {
            let o: ServiceSendOpts = crate::api::opts::read("service::create", opts)?;
            let spec = spec_json("service::create", spec).map(ej::with_tagged_image)?;
            let auth = o.registry_auth.unwrap_or(false).then(|| registry_auth(&spec)).flatten();
            let name = spec["Name"].as_str().unwrap_or_default().to_string();
            let r = post_auth(format!("service create {name}"), "/services/create".into(), spec, auth)?;
            Ok(r["ID"].as_str().unwrap_or_default().to_string())
        })
    }

    /// The services, with their running/desired task counts
    /// (`ServiceStatus`). Filters: `id`, `label`, `mode`, `name`.
    ///
    /// ```rhai
    /// for s in service::list(#{}) { print(s.Spec.Name); }
    /// ```
    #[rhai_fn(return_raw)]
    pub fn list(ctx: NativeCallContext, opts: Map) -> RhaiResult<Array> {
        crate::api::at(&ctx, || {
            crate::api::opts::read::<ServiceFilters>("service::list", opts)
                .map(|o| filters(&o))
                .and_then(|f| {
                    let q = ej::query(&[("filters", f), ("status", Some("true".into()))]);
                    get_list("service ls".into(), format!("/services{q}"))
                })
        })
    }

    /// One service by name or ID, every field the engine sends (`Spec`,
    /// `Version`, `PreviousSpec`, `UpdateStatus`, `Endpoint`, …).
    ///
    /// ```rhai
    /// let s = service::inspect("web");
    /// print(s.Spec.TaskTemplate.ContainerSpec.Healthcheck);
    /// if s.UpdateStatus != () { print(s.UpdateStatus.State); }
    /// ```
    #[rhai_fn(return_raw)]
    pub fn inspect(ctx: NativeCallContext, name: &str) -> RhaiResult<Dynamic> {
        crate::api::at(&ctx, || inspect_json("inspect", name).map(|v| from_json(&v)))
    }

    /// A service as `docker service inspect` shows it: the engine fills in
    /// the defaults of the fields its spec leaves out (`insertDefaults`:
    /// `UpdateConfig`, `RollbackConfig`, `Resources` …). Send back what
    /// `inspect` reads, not this.
    ///
    /// ```rhai
    /// print(service::inspect_with_defaults("web").Spec.UpdateConfig.Order);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn inspect_with_defaults(ctx: NativeCallContext, name: &str) -> RhaiResult<Dynamic> {
        crate::api::at(&ctx, || {
            get(
                format!("service inspect {name}"),
                format!("/services/{}?insertDefaults=true", ej::enc(name)),
            )
            .map(|v| from_json(&v))
        })
    }

    /// Replaces a service's spec (read it with `inspect`, change it, send
    /// it back); the version check is done for you, and every field sent
    /// reaches the engine. Returns `#{ changed, warnings }`: a spec equal
    /// to the current one is not sent (`changed: false`), so no update
    /// starts and nothing waits for one.
    ///
    /// ```rhai
    /// let s = service::inspect("web").Spec;
    /// s.TaskTemplate.ContainerSpec.Env = ["MODE=2"];
    /// let r = service::update("web", s);
    /// for w in r.warnings { print(w); }
    /// ```
    #[rhai_fn(return_raw)]
    pub fn update(ctx: NativeCallContext, name: &str, spec: Map) -> RhaiResult<Map> {
        update_with(ctx, name, spec, Map::new())
    }

    /// `update` with options: `registry_auth: true` as for `create`.
    ///
    /// ```rhai
    /// let s = service::inspect("web").Spec;
    /// s.TaskTemplate.ContainerSpec.Image = "reg.example:5000/web:2";
    /// service::update("web", s, #{ registry_auth: true });
    /// ```
    #[rhai_fn(name = "update", return_raw)]
    pub fn update_with(ctx: NativeCallContext, name: &str, spec: Map, opts: Map) -> RhaiResult<Map> {
        crate::api::at(&ctx, || {
            let o: ServiceSendOpts = crate::api::opts::read("service::update", opts)?;
            let s = spec_json("service::update", spec)?;
            let auth = o.registry_auth.unwrap_or(false).then(|| registry_auth(&s)).flatten();
            update_spec_with(name, Some(s), false, auth)
        })
    }

    /// Sets a replicated service's replica count, keeping every other field
    /// of its spec; returns whether it changed (scaling to the current
    /// count sends nothing).
    ///
    /// ```rhai
    /// if service::scale("web", 4) { print("scaling"); }
    /// ```
    #[rhai_fn(return_raw)]
    pub fn scale(ctx: NativeCallContext, name: &str, replicas: i64) -> RhaiResult<bool> {
        if replicas < 0 {
            return fail(format!(
                "service::scale {name}: replicas must be 0 or more, not {replicas}"
            ));
        }
        crate::api::at(&ctx, || {
            inspect_json("scale", name).and_then(|s| {
                let mut spec = s["Spec"].clone();
                match spec["Mode"]["Replicated"].as_object_mut() {
                    Some(r) => r.insert("Replicas".into(), json!(replicas)),
                    None => {
                        return fail(format!(
                            "service {name} is not a replicated service: scale works on replicated services only"
                        ))
                    }
                };
                let r = update_spec(name, Some(spec), false)?;
                Ok(r.get("changed").and_then(|c| c.as_bool().ok()).unwrap_or(true))
            })
        })
    }

    /// Goes back to the previous spec (`docker service rollback`): Swarm
    /// rolls back to `PreviousSpec` with the service's `RollbackConfig`.
    /// Returns `#{ changed, warnings }` as `update` does.
    ///
    /// ```rhai
    /// service::rollback("web");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn rollback(ctx: NativeCallContext, name: &str) -> RhaiResult<Map> {
        crate::api::at(&ctx, || update_spec(name, None, true))
    }

    /// Streams a service's logs (all its tasks, on every node), calling
    /// `each(line, meta)` per line; `meta` has the `task` and `node` IDs,
    /// the task's `slot`, and `stream` ("stdout" or "stderr"). Options:
    /// `follow` (tasks started later are followed too), `tail` (number
    /// or "all"), `since` (unix seconds), `timestamps`, `task` (only that
    /// task: an ID or its prefix).
    ///
    /// ```rhai
    /// service::logs("web", #{ tail: 10 }, |line, m| print(`${m.task}: ${line}`));
    /// ```
    #[rhai_fn(return_raw)]
    pub fn logs(ctx: NativeCallContext, name: &str, opts: Map, each: rhai::FnPtr) -> RhaiResult<()> {
        crate::api::at(&ctx, || crate::api::service_logs::service_logs(&ctx, name, opts, each))
    }

    /// Removes a service (its tasks stop).
    ///
    /// ```rhai
    /// service::remove("web");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn remove(ctx: NativeCallContext, name: &str) -> RhaiResult<()> {
        crate::api::at(&ctx, || {
            delete(format!("service rm {name}"), format!("/services/{}", ej::enc(name)))
        })
    }
}
