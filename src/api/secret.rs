//! `secret::` primitives: Swarm secrets, as the engine's JSON (see
//! `swarm.rs`); their data never comes back. `config::` is the same for
//! configs, registered by the same code.
//!
//! ```rhai
//! secret::create(#{ name: "token", data: "s3cret", labels: #{ team: "a" } });
//! for s in secret::list(#{ label: ["team=a"] }) { print(s.Spec.Name); }
//! ```

use rhai::{Array, Dynamic, FuncRegistration, Map, Module, NativeCallContext};
use serde_json::{json, Value};

use super::swarm::{delete, get, list_kind, post};
use super::value::from_json;

use super::handles::{comment, Doc};
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
fn inspect(kind: &str, name: &str) -> RhaiResult<Dynamic> {
    get(format!("{kind} inspect {name}"), format!("/{kind}s/{}", ej::enc(name))).map(|v| from_json(&v))
}

/// A config's data (`config::inspect`'s `Spec.Data`) as text; invalid
/// UTF-8 is replaced, as text has to be.
fn config_data(config: Map) -> RhaiResult<String> {
    use base64::Engine as _;
    let spec = config.get("Spec").and_then(|s| s.read_lock::<Map>().map(|m| m.clone()));
    let text = spec
        .and_then(|s| s.get("Data").map(|d| d.to_string()))
        .unwrap_or_default();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text.as_bytes())
        .map_err(|e| format!("config::data: the data is not base64: {e}"))?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// Creates a `kind` ("secret", "config") object; returns its ID.
fn create(kind: &str, opts: Map) -> RhaiResult<String> {
    let (name, spec) = object_spec(&format!("{kind}::create"), opts)?;
    let r = post(format!("{kind} create {name}"), format!("/{kind}s/create"), spec)?;
    Ok(r["ID"].as_str().unwrap_or_default().to_string())
}

/// Lists `kind` objects; filters `name`, `label`, `id`.
fn list(kind: &str, opts: Map) -> RhaiResult<Array> {
    list_kind::<ObjectFilters>(kind, opts)
}

/// Removes a `kind` object by name or ID.
fn remove(kind: &str, name: &str) -> RhaiResult<()> {
    delete(format!("{kind} rm {name}"), format!("/{kind}s/{}", ej::enc(name)))
}

/// `secret::` and `config::`: the same primitives on two kinds, each with
/// the doc comments of its `create`, `list`, `inspect` and `remove`.
const KINDS: [(&str, [Doc; 4]); 2] = [
    (
        "secret",
        [
            &[
                "Creates a secret; returns its ID. Options: `name`, `data` (text),",
                "`labels` (map), `driver` (an external secret driver plugin, which",
                "then holds the data), `template_driver` (e.g. `golang`).",
                "",
                "```rhai",
                "secret::create(#{ name: \"token\", data: \"s3cret\" });",
                "```",
            ],
            &[
                "The secrets (their data never comes back). Filters: `name`,",
                "`label`, `id`.",
                "",
                "```rhai",
                "for s in secret::list(#{}) { print(s.Spec.Name); }",
                "```",
            ],
            &[
                "One secret by name, ID or ID prefix (its data never comes back).",
                "",
                "```rhai",
                "print(secret::inspect(\"token\").Spec.Name);",
                "```",
            ],
            &[
                "Removes a secret by name or ID.",
                "",
                "```rhai",
                "secret::remove(\"token\");",
                "```",
            ],
        ],
    ),
    (
        "config",
        [
            &[
                "Creates a config; returns its ID. Options: `name`, `data` (text),",
                "`labels` (map), `template_driver` (e.g. `golang`).",
                "",
                "```rhai",
                "config::create(#{ name: \"app.conf\", data: \"port=80\" });",
                "```",
            ],
            &[
                "The configs. Filters: `name`, `label`, `id`.",
                "",
                "```rhai",
                "for c in config::list(#{}) { print(c.Spec.Name); }",
                "```",
            ],
            &[
                "One config by name, ID or ID prefix, as the engine's JSON (its",
                "`Spec.Data` base64, as the engine sends it: `config::data` decodes it).",
                "",
                "```rhai",
                "print(config::inspect(\"app.conf\").Spec.Name);",
                "```",
            ],
            &[
                "Removes a config by name or ID.",
                "",
                "```rhai",
                "config::remove(\"app.conf\");",
                "```",
            ],
        ],
    ),
];

const CONFIG_DATA: Doc = &[
    "A config's data (`config::inspect`'s `Spec.Data`) as text; invalid",
    "UTF-8 is replaced, as text has to be.",
    "",
    "```rhai",
    "print(config::data(config::inspect(\"app.conf\")));",
    "```",
];

/// The `secret::` or `config::` module (`kind`).
pub fn module(kind: &'static str) -> Module {
    let docs = KINDS
        .into_iter()
        .find(|(k, _)| *k == kind)
        .map(|(_, docs)| docs)
        .expect("secret or config");
    let mut m = Module::new();
    FuncRegistration::new("create")
        .with_params_info(["opts: Map", "RhaiResult<String>"])
        .with_comments([comment(docs[0])])
        .set_into_module(&mut m, move |ctx: NativeCallContext, opts: Map| {
            crate::api::at(&ctx, || create(kind, opts))
        });
    FuncRegistration::new("list")
        .with_params_info(["opts: Map", "RhaiResult<Array>"])
        .with_comments([comment(docs[1])])
        .set_into_module(&mut m, move |ctx: NativeCallContext, opts: Map| {
            crate::api::at(&ctx, || list(kind, opts))
        });
    FuncRegistration::new("inspect")
        .with_params_info(["name: &str", "RhaiResult<Dynamic>"])
        .with_comments([comment(docs[2])])
        .set_into_module(&mut m, move |ctx: NativeCallContext, name: &str| {
            crate::api::at(&ctx, || inspect(kind, name))
        });
    if kind == "config" {
        FuncRegistration::new("data")
            .with_params_info(["config: Map", "RhaiResult<String>"])
            .with_comments([comment(CONFIG_DATA)])
            .set_into_module(&mut m, config_data);
    }
    FuncRegistration::new("remove")
        .with_params_info(["name: &str", "RhaiResult<()>"])
        .with_comments([comment(docs[3])])
        .set_into_module(&mut m, move |ctx: NativeCallContext, name: &str| {
            crate::api::at(&ctx, || remove(kind, name))
        });
    m
}
