//! `node::` primitives: the swarm's nodes, as the engine's JSON (see
//! `swarm.rs`). A node update changes only what it is asked to and sends
//! the rest of the node's spec back as the engine gave it.
//!
//! ```rhai
//! for n in node::list(#{ role: "worker" }) { print(n.Description.Hostname); }
//! node::update("node3", #{ availability: "drain" });
//! ```

use rhai::plugin::*;
use rhai::{Array, Dynamic, Map, NativeCallContext};
use serde_json::Value;

use super::options::{ForceOpts, NodeFilters, NodeUpdateOpts};
use super::swarm::{delete, get, list_kind, post};
use super::value::from_json;
use super::{fail, RhaiResult};
use crate::engine_json as ej;

/// Reads node `id`'s spec, lets `change` edit it, and sends it back at the
/// version read.
fn spec_update(id: &str, change: impl FnOnce(&mut Value)) -> RhaiResult<()> {
    let what = format!("node update {id}");
    let node = get(what.clone(), format!("/nodes/{}", ej::enc(id)))?;
    let mut spec = node["Spec"].clone();
    change(&mut spec);
    let q = ej::query(&[("version", Some(ej::version(&node).to_string()))]);
    let node_id = node["ID"].as_str().unwrap_or(id);
    post(what, format!("/nodes/{}/update{q}", ej::enc(node_id)), spec).map(|_| ())
}

fn check(what: &str, value: &Option<String>, allowed: &[&str]) -> RhaiResult<()> {
    match value {
        Some(v) if !allowed.contains(&v.as_str()) => fail(format!(
            "node::update: {what} must be {}, not {v:?}",
            allowed.join(" or ")
        )),
        _ => Ok(()),
    }
}

#[export_module]
pub mod api {
    use super::*;

    /// The swarm's nodes (ask a manager). Filters: `id`, `label`, `role`,
    /// `membership`, `name`, `node_label`.
    ///
    /// ```rhai
    /// for n in node::list(#{}) { print(`${n.Description.Hostname} ${n.Status.State}`); }
    /// ```
    #[rhai_fn(return_raw)]
    pub fn list(ctx: NativeCallContext, opts: Map) -> RhaiResult<Array> {
        crate::api::at(&ctx, || list_kind::<NodeFilters>("node", opts))
    }

    /// One node by ID or hostname (`"self"` is this engine's node).
    ///
    /// ```rhai
    /// print(node::inspect("node2").Spec.Availability);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn inspect(ctx: NativeCallContext, id: &str) -> RhaiResult<Dynamic> {
        let r = get(format!("node inspect {id}"), format!("/nodes/{}", ej::enc(id)));
        crate::api::at(&ctx, || r.map(|n| from_json(&n)))
    }

    /// Changes a node: `availability` (active, pause, drain), `role`
    /// (worker, manager), `labels` (map, replaces them), `label_add`
    /// (map), `label_rm` (list). Every other field of its spec is kept.
    ///
    /// ```rhai
    /// node::update("node3", #{ availability: "drain" });
    /// ```
    #[rhai_fn(return_raw)]
    pub fn update(ctx: NativeCallContext, id: &str, opts: Map) -> RhaiResult<()> {
        crate::api::at(&ctx, || {
            let o: NodeUpdateOpts = crate::api::opts::read("node::update", opts)?;
            let availability = o.availability.clone();
            check("availability", &availability, &["active", "pause", "drain"])?;
            let role = o.role.clone();
            check("role", &role, &["worker", "manager"])?;
            let labels = o.labels.clone();
            let add = o.label_add.clone().unwrap_or_default();
            let rm = o.label_rm.clone().unwrap_or_default();
            spec_update(id, move |spec| {
                if let Some(a) = availability {
                    spec["Availability"] = Value::String(a);
                }
                if let Some(r) = role {
                    spec["Role"] = Value::String(r);
                }
                let mut current = spec["Labels"].as_object().cloned().unwrap_or_default();
                if let Some(l) = labels {
                    current = l.into_iter().map(|(k, v)| (k, Value::String(v))).collect();
                }
                for (k, v) in add {
                    current.insert(k, Value::String(v));
                }
                for k in rm {
                    current.remove(&k);
                }
                spec["Labels"] = Value::Object(current);
            })
        })
    }

    /// Removes a node from the swarm (`force` for one that is not down).
    ///
    /// ```rhai
    /// node::remove("node3", #{ force: true });
    /// ```
    #[rhai_fn(return_raw)]
    pub fn remove(ctx: NativeCallContext, id: &str, opts: Map) -> RhaiResult<()> {
        crate::api::at(&ctx, || {
            crate::api::opts::read::<ForceOpts>("node::remove", opts).and_then(|o| {
                let q = ej::query(&[("force", o.force.unwrap_or(false).then(|| "true".to_string()))]);
                delete(format!("node rm {id}"), format!("/nodes/{}{q}", ej::enc(id)))
            })
        })
    }
}
