//! Docker Swarm as primitives: `swarm::` (the cluster) here; `node::`,
//! `service::`, `task::`, `secret::`, `config::` and `engine::` (which
//! engine calls go to) in their own files. Objects come back as maps in the
//! engine's own JSON shape (`ID`, `Spec`, `Version`, …), and specs go in the
//! same shape, so Docker's API reference documents both; a script builds a
//! spec, reads it back, changes it and sends it again. Specs travel as the
//! engine's raw JSON ([`crate::engine_json`]), never through bollard's
//! models, so no field is lost on the way.
//!
//! ```rhai
//! swarm::init(#{ advertise_addr: "10.0.0.1" });
//! let id = service::create(#{ Name: "web", TaskTemplate: #{ ContainerSpec: #{ Image: "busybox" } },
//!                             Mode: #{ Replicated: #{ Replicas: 3 } } });
//! service::scale("web", 6);
//! for t in task::list(#{ service: ["web"] }) { print(t.Status.State); }
//! ```

use std::sync::Arc;

use bollard::query_parameters as qp;
use bollard::Docker;
use rhai::plugin::*;
use rhai::{Array, Dynamic, Map, NativeCallContext};
use serde_json::Value;

use super::options::{SwarmInitOpts, SwarmJoinOpts, SwarmLeaveOpts, SwarmUpdateOpts};
use super::value::{from_json, to_json};
use super::{client, engine_err, fail, RhaiResult};
use crate::bridge;
use crate::docker::Endpoint;
use crate::engine_json as ej;

/// Runs `f` with the current engine's client.
pub(super) fn with<T, F, Fut>(f: F) -> RhaiResult<T>
where
    F: FnOnce(Docker) -> Fut,
    Fut: std::future::Future<Output = RhaiResult<T>>,
{
    let ep: Arc<Endpoint> = super::endpoint();
    bridge::block_on(async move {
        let d = client(&ep).await?.clone();
        f(d).await
    })
}

/// `GET path` on the current engine; `what` names the operation in errors
/// (`service inspect web`).
pub(super) fn get(what: String, path: String) -> RhaiResult<Value> {
    with(|d| async move { ej::get(&d, &path).await.map_err(|e| engine_err(what, &e)) })
}

/// `GET path` on the current engine: a JSON list read straight into a
/// Rhai array of maps (empty when the engine sends no list).
pub(super) fn get_list(what: String, path: String) -> RhaiResult<Array> {
    let v: Dynamic = with(|d| async move { ej::get_as(&d, &path).await.map_err(|e| engine_err(what, &e)) })?;
    Ok(v.try_cast::<Array>().unwrap_or_default())
}

/// `POST path` with `body` on the current engine.
pub(super) fn post(what: String, path: String, body: Value) -> RhaiResult<Value> {
    with(|d| async move { ej::post(&d, &path, &body).await.map_err(|e| engine_err(what, &e)) })
}

/// `POST path` with `X-Registry-Auth` (see [`ej::call_with`]).
pub(super) fn post_auth(what: String, path: String, body: Value, auth: Option<String>) -> RhaiResult<Value> {
    with(|d| async move {
        ej::call_with(&d, http::Method::POST, &path, Some(&body), auth)
            .await
            .map_err(|e| engine_err(what, &e))
    })
}

/// `DELETE path` on the current engine.
pub(super) fn delete(what: String, path: String) -> RhaiResult<()> {
    with(|d| async move { ej::delete(&d, &path).await.map_err(|e| engine_err(what, &e)) })
}

/// A Rhai map as the JSON spec the engine gets.
pub(super) fn spec_json(what: &str, spec: Map) -> RhaiResult<Value> {
    let v = to_json(&Dynamic::from_map(spec))?;
    if !v.is_object() {
        return fail(format!("{what}: the spec must be a map"));
    }
    Ok(v)
}

/// A filter struct (`#{ label: ["a=b"], name: "x" }` read by
/// `opts::read`) → the engine's `filters` query value.
pub(super) fn filters(o: &impl serde::Serialize) -> Option<String> {
    let set = match serde_json::to_value(o) {
        Ok(Value::Object(m)) => m,
        _ => return None,
    };
    let found: Vec<(String, Vec<String>)> = set
        .into_iter()
        .filter_map(|(k, v)| Some((filter_name(&k), serde_json::from_value(v).ok()?)))
        .collect();
    ej::filters(found.iter().map(|(k, v)| (k.as_str(), v.as_slice())))
}

/// The engine's name of a filter option: `desired_state` is
/// `desired-state`; `up_to_date` is `_up-to-date`, a filter the engine
/// keeps for docker's own progress display.
fn filter_name(option: &str) -> String {
    match option {
        "up_to_date" => "_up-to-date".into(),
        o => o.replace('_', "-"),
    }
}

/// Lists `kind` objects (`node`, `task`, `secret` …) that match the
/// script's filters, read as `F`.
pub(super) fn list_kind<F: serde::de::DeserializeOwned + serde::Serialize>(kind: &str, opts: Map) -> RhaiResult<Array> {
    let o: F = super::opts::read(&format!("{kind}::list"), opts)?;
    let q = ej::query(&[("filters", filters(&o))]);
    get_list(format!("{kind} ls"), format!("/{kind}s{q}"))
}

#[export_module]
pub mod api {
    use super::*;

    /// Makes this engine the first manager of a new swarm; returns the
    /// node ID. Options: `advertise_addr`, `listen_addr` (default
    /// `0.0.0.0:2377`), `data_path_addr`, `data_path_port`,
    /// `default_addr_pool` (subnets), `subnet_size`, `availability`
    /// (active, pause, drain), `force_new_cluster`, `autolock` (managers
    /// need the unlock key to start again: `swarm::unlock_key`), and `spec`: the
    /// swarm's spec in the engine's shape (`Orchestration`, `Raft`,
    /// `Dispatcher`, `CAConfig` …); what it leaves out gets Swarm's
    /// defaults.
    ///
    /// ```rhai
    /// let id = swarm::init(#{ advertise_addr: "10.0.0.1",
    ///     spec: #{ Orchestration: #{ TaskHistoryRetentionLimit: 3 } } });
    /// ```
    #[rhai_fn(return_raw)]
    pub fn init(ctx: NativeCallContext, opts: Map) -> RhaiResult<String> {
        crate::api::at(&ctx, || {
            let o: SwarmInitOpts = crate::api::opts::read("swarm::init", opts)?;
            let mut body = serde_json::json!({
                "ListenAddr": o.listen_addr.clone().unwrap_or_else(|| "0.0.0.0:2377".into()),
                "ForceNewCluster": o.force_new_cluster.unwrap_or(false),
                "AutoLockManagers": o.autolock.unwrap_or(false),
            });
            let fields = [
                ("AdvertiseAddr", o.advertise_addr.clone().map(Value::from)),
                ("DataPathAddr", o.data_path_addr.clone().map(Value::from)),
                ("DataPathPort", o.data_path_port.map(Value::from)),
                ("DefaultAddrPool", o.default_addr_pool.clone().map(Value::from)),
                ("SubnetSize", o.subnet_size.map(Value::from)),
                ("Availability", o.availability.clone().map(Value::from)),
                (
                    "Spec",
                    o.spec.clone().map(|m| to_json(&Dynamic::from_map(m))).transpose()?,
                ),
            ];
            for (k, v) in fields {
                if let Some(v) = v {
                    body[k] = v;
                }
            }
            let id = post("swarm init".into(), "/swarm/init".into(), body)?;
            Ok(id.as_str().unwrap_or_default().to_string())
        })
    }

    /// Joins this engine to a swarm. Options: `token` (required),
    /// `remote_addrs` (list) or `remote_addr`, `advertise_addr`,
    /// `listen_addr`, `data_path_addr`, `availability` (active, pause,
    /// drain: the node's from the start).
    ///
    /// ```rhai
    /// swarm::join(#{ token: t, remote_addr: "10.0.0.1:2377" });
    /// ```
    #[rhai_fn(return_raw)]
    pub fn join(ctx: NativeCallContext, opts: Map) -> RhaiResult<()> {
        let o: SwarmJoinOpts = crate::api::opts::read("swarm::join", opts)?;
        let mut remotes = o.remote_addrs.clone().unwrap_or_default();
        if let Some(r) = o.remote_addr.clone() {
            remotes.push(r);
        }
        if remotes.is_empty() {
            return fail("swarm::join: remote_addr is required");
        }
        let mut req = serde_json::json!({
            "ListenAddr": o.listen_addr.clone().unwrap_or_else(|| "0.0.0.0:2377".into()),
            "RemoteAddrs": remotes,
            "JoinToken": crate::api::opts::need("swarm::join", "token", o.token.clone())?,
        });
        for (k, v) in [
            ("AdvertiseAddr", &o.advertise_addr),
            ("DataPathAddr", &o.data_path_addr),
            ("Availability", &o.availability),
        ] {
            if let Some(v) = v {
                req[k] = Value::from(v.clone());
            }
        }
        crate::api::at(&ctx, || {
            post("swarm join".into(), "/swarm/join".into(), req).map(|_| ())
        })
    }

    /// The key that unlocks this swarm's managers after a restart when
    /// autolock is on; "" when it is off.
    ///
    /// ```rhai
    /// let key = swarm::unlock_key();
    /// ```
    #[rhai_fn(return_raw)]
    pub fn unlock_key(ctx: NativeCallContext) -> RhaiResult<String> {
        crate::api::at(&ctx, || {
            let r = get("swarm unlock-key".into(), "/swarm/unlockkey".into())?;
            Ok(r["UnlockKey"].as_str().unwrap_or_default().to_string())
        })
    }

    /// Unlocks this engine's manager, locked after a restart with autolock
    /// on, with the swarm's unlock key.
    ///
    /// ```rhai
    /// swarm::unlock("SWMKEY-1-…");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn unlock(ctx: NativeCallContext, key: &str) -> RhaiResult<()> {
        let body = serde_json::json!({ "UnlockKey": key });
        crate::api::at(&ctx, || {
            post("swarm unlock".into(), "/swarm/unlock".into(), body).map(|_| ())
        })
    }

    /// Leaves the swarm (`force` to leave as the last manager).
    ///
    /// ```rhai
    /// swarm::leave(#{ force: true });
    /// ```
    #[rhai_fn(return_raw)]
    pub fn leave(ctx: NativeCallContext, opts: Map) -> RhaiResult<()> {
        let o: SwarmLeaveOpts = crate::api::opts::read("swarm::leave", opts)?;
        let force = o.force.unwrap_or(false);
        crate::api::at(&ctx, || {
            with(|d| async move {
                d.leave_swarm(Some(qp::LeaveSwarmOptions { force }))
                    .await
                    .map_err(|e| engine_err("swarm leave", &e))
            })
        })
    }

    /// The swarm as the engine reports it (`ID`, `Spec`, `JoinTokens`, …);
    /// only managers can answer.
    ///
    /// ```rhai
    /// print(swarm::inspect().JoinTokens.Worker);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn inspect(ctx: NativeCallContext) -> RhaiResult<Dynamic> {
        crate::api::at(&ctx, || {
            get("swarm inspect".into(), "/swarm".into()).map(|v| from_json(&v))
        })
    }

    /// What this engine says about its own swarm membership (`docker
    /// info`'s `Swarm` section): `LocalNodeState`, `NodeID`,
    /// `ControlAvailable`, `NodeAddr`, …. Works on workers too.
    ///
    /// ```rhai
    /// if swarm::info().LocalNodeState == "active" { print("in a swarm"); }
    /// ```
    #[rhai_fn(return_raw)]
    pub fn info(ctx: NativeCallContext) -> RhaiResult<Dynamic> {
        crate::api::at(&ctx, || {
            get("info".into(), "/info".into()).map(|v| from_json(&v["Swarm"]))
        })
    }

    /// Replaces the swarm's spec (read it with `inspect`, change it, send it
    /// back); the version check is done for you. Options:
    /// `rotate_worker_token`, `rotate_manager_token`,
    /// `rotate_manager_unlock_key`.
    ///
    /// ```rhai
    /// let spec = swarm::inspect().Spec;
    /// spec.Orchestration.TaskHistoryRetentionLimit = 3;
    /// swarm::update(spec, #{ rotate_worker_token: true });
    /// ```
    #[rhai_fn(return_raw)]
    pub fn update(ctx: NativeCallContext, spec: Map, opts: Map) -> RhaiResult<()> {
        crate::api::at(&ctx, || {
            let o: SwarmUpdateOpts = crate::api::opts::read("swarm::update", opts)?;
            let spec = spec_json("swarm::update", spec)?;
            let current = get("swarm update".into(), "/swarm".into())?;
            let mut q = vec![("version", Some(ej::version(&current).to_string()))];
            for (rotate, param) in [
                (o.rotate_worker_token, "rotateWorkerToken"),
                (o.rotate_manager_token, "rotateManagerToken"),
                (o.rotate_manager_unlock_key, "rotateManagerUnlockKey"),
            ] {
                q.push((param, rotate.unwrap_or(false).then(|| "true".to_string())));
            }
            post("swarm update".into(), format!("/swarm/update{}", ej::query(&q)), spec).map(|_| ())
        })
    }

    /// The token that joins a node as a `"worker"` or a `"manager"`.
    ///
    /// ```rhai
    /// let t = swarm::join_token("worker");
    /// ```
    #[rhai_fn(name = "join_token", return_raw)]
    pub fn token_for(ctx: NativeCallContext, role: &str) -> RhaiResult<String> {
        let key = match role {
            "worker" => "Worker",
            "manager" => "Manager",
            other => {
                return fail(format!(
                    "swarm::join_token: role must be \"worker\" or \"manager\", not {other:?}"
                ))
            }
        };
        crate::api::at(&ctx, || {
            get("swarm join-token".into(), "/swarm".into())
                .map(|s| s["JoinTokens"][key].as_str().unwrap_or_default().to_string())
        })
    }
}
