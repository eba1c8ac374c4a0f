//! `secret::` primitives: Swarm secrets, as the engine's JSON (see
//! `swarm.rs`); their data never comes back. `config.rs` is the same for
//! configs, through the functions here.
//!
//! ```rhai
//! secret::create(#{ name: "token", data: "s3cret", labels: #{ team: "a" } });
//! for s in secret::list(#{ label: ["team=a"] }) { print(s.Spec.Name); }
//! ```

use rhai::plugin::*;
use rhai::{Array, Map, NativeCallContext};
use serde_json::{json, Value};

use super::swarm::{delete, get, list_kind, post};
use super::value::to_dynamic;

use super::options::{ObjectFilters, SecretCreateOpts};
use super::RhaiResult;
use crate::engine_json as ej;

/// A secret's or config's spec from `#{ name, data, labels, driver,
/// template_driver }` (a secret from a `driver` has no data).
fn object_spec(what: &str, opts: Map) -> RhaiResult<(String, Value)> {
    use base64::Engine as _;
    let o: SecretCreateOpts = crate::api::opts::read(what, opts)?;
    let name = crate::api::opts::need(what, "name", o.name.clone())?;
    let mut spec = json!({ "Name": name });
    if let Some(l) = o.labels.clone() {
        spec["Labels"] = json!(l);
    }
    if o.driver.is_none() || o.data.is_some() {
        let data = o.data.clone().unwrap_or_default();
        spec["Data"] = json!(base64::engine::general_purpose::STANDARD.encode(data.as_bytes()));
    }
    if let Some(d) = o.driver.clone() {
        spec["Driver"] = json!({ "Name": d });
    }
    if let Some(t) = o.template_driver.clone() {
        spec["Templating"] = json!({ "Name": t });
    }
    Ok((name, spec))
}

/// One `kind` object by name, ID or ID prefix, as the engine finds it.
pub(super) fn inspect(kind: &str, name: &str) -> RhaiResult<Dynamic> {
    get(format!("{kind} inspect {name}"), format!("/{kind}s/{}", ej::enc(name))).map(|v| to_dynamic(&v))
}

/// Creates a `kind` ("secret", "config") object; returns its ID.
pub(super) fn create(kind: &str, opts: Map) -> RhaiResult<String> {
    let (name, spec) = object_spec(&format!("{kind}::create"), opts)?;
    let r = post(format!("{kind} create {name}"), format!("/{kind}s/create"), spec)?;
    Ok(r["ID"].as_str().unwrap_or_default().to_string())
}

/// Lists `kind` objects; filters `name`, `label`, `id`.
pub(super) fn list(kind: &str, opts: Map) -> RhaiResult<Array> {
    list_kind::<ObjectFilters>(kind, opts)
}

/// Removes a `kind` object by name or ID.
pub(super) fn remove(kind: &str, name: &str) -> RhaiResult<()> {
    delete(format!("{kind} rm {name}"), format!("/{kind}s/{}", ej::enc(name)))
}

#[export_module]
pub mod api {
    use super::*;

    /// Creates a secret; returns its ID. Options: `name`, `data` (text),
    /// `labels` (map), `driver` (an external secret driver plugin, which
    /// then holds the data), `template_driver` (e.g. `golang`).
    ///
    /// ```rhai
    /// secret::create(#{ name: "token", data: "s3cret" });
    /// ```
    #[rhai_fn(return_raw)]
    pub fn create(ctx: NativeCallContext, opts: Map) -> RhaiResult<String> {
        crate::api::at(&ctx, || super::create("secret", opts))
    }

    /// The secrets (their data never comes back). Filters: `name`,
    /// `label`, `id`.
    ///
    /// ```rhai
    /// for s in secret::list(#{}) { print(s.Spec.Name); }
    /// ```
    #[rhai_fn(return_raw)]
    pub fn list(ctx: NativeCallContext, opts: Map) -> RhaiResult<Array> {
        crate::api::at(&ctx, || super::list("secret", opts))
    }

    /// One secret by name, ID or ID prefix (its data never comes back).
    ///
    /// ```rhai
    /// print(secret::inspect("token").Spec.Name);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn inspect(ctx: NativeCallContext, name: &str) -> RhaiResult<Dynamic> {
        crate::api::at(&ctx, || super::inspect("secret", name))
    }

    /// Removes a secret by name or ID.
    ///
    /// ```rhai
    /// secret::remove("token");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn remove(ctx: NativeCallContext, name: &str) -> RhaiResult<()> {
        crate::api::at(&ctx, || super::remove("secret", name))
    }
}
