//! Docker Swarm as primitives: `swarm::` (the cluster), `node::`,
//! `service::`, `task::`, `secret::`, `config::`, and `engine::` (which
//! engine calls go to). Objects come back as maps in the engine's own JSON
//! shape (`ID`, `Spec`, `Version`, …), and specs go in the same shape, so
//! Docker's API reference documents both; a script builds a spec, reads it
//! back, changes it and sends it again.
//!
//! ```rhai
//! swarm::init(#{ advertise_addr: "10.0.0.1" });
//! let id = service::create(#{ Name: "web", TaskTemplate: #{ ContainerSpec: #{ Image: "busybox" } },
//!                             Mode: #{ Replicated: #{ Replicas: 3 } } });
//! service::scale("web", 6);
//! for t in task::list(#{ service: ["web"] }) { print(t.Status.State); }
//! ```

use std::collections::HashMap;
use std::sync::Arc;

use bollard::query_parameters as qp;
use bollard::Docker;
use rhai::plugin::*;
use rhai::{Array, Dynamic, Map, NativeCallContext};
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::value::{to_dynamic, to_json, Opts};
use super::{client, engine_err, fail, RhaiResult};
use crate::bridge;
use crate::docker::Endpoint;

/// Runs `f` with the current engine's client.
fn with<T, F, Fut>(f: F) -> RhaiResult<T>
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

/// A Rhai map as an engine model.
fn model<T: DeserializeOwned>(what: &str, v: &Dynamic) -> RhaiResult<T> {
    let json = to_json(v)?;
    serde_json::from_value(json).map_err(|e| format!("{what}: {e}").into())
}

/// `#{ label: ["a=b"], name: "x" }` → the engine's filters.
fn filters(o: &Opts, keys: &[&str]) -> RhaiResult<Option<HashMap<String, Vec<String>>>> {
    let mut out = HashMap::new();
    for k in keys {
        if let Some(v) = o.strings(k)? {
            out.insert(k.replace('_', "-"), v);
        }
    }
    Ok((!out.is_empty()).then_some(out))
}

fn list_of<T: serde::Serialize>(items: Vec<T>) -> Array {
    items.iter().map(to_dynamic).collect()
}

fn node_spec_update(
    d: &Docker,
    id: &str,
    change: impl FnOnce(&mut Value),
) -> impl std::future::Future<Output = RhaiResult<()>> {
    let d = d.clone();
    let id = id.to_string();
    let mut change = Some(change);
    async move {
        let node = d
            .inspect_node(&id)
            .await
            .map_err(|e| engine_err(format!("node inspect {id}"), &e))?;
        let version = node.version.as_ref().and_then(|v| v.index).unwrap_or_default() as i64;
        let mut spec = serde_json::to_value(node.spec.unwrap_or_default()).unwrap_or_default();
        if let Some(c) = change.take() {
            c(&mut spec);
        }
        let spec = serde_json::from_value(spec).map_err(|e| format!("node update {id}: {e}"))?;
        d.update_node(&id, spec, qp::UpdateNodeOptions { version })
            .await
            .map_err(|e| engine_err(format!("node update {id}"), &e))
    }
}

#[export_module]
pub mod swarm_api {
    use super::*;

    /// Makes this engine the first manager of a new swarm; returns the
    /// node ID. Options: `advertise_addr`, `listen_addr` (default
    /// `0.0.0.0:2377`), `data_path_addr`, `force_new_cluster`.
    ///
    /// ```rhai
    /// let id = swarm::init(#{ advertise_addr: "10.0.0.1" });
    /// ```
    #[rhai_fn(return_raw)]
    pub fn init(ctx: NativeCallContext, opts: Map) -> RhaiResult<String> {
        let o = Opts::new(
            "swarm::init",
            opts,
            &["advertise_addr", "listen_addr", "data_path_addr", "force_new_cluster"],
        )?;
        let req = bollard::models::SwarmInitRequest {
            advertise_addr: o.str("advertise_addr")?,
            listen_addr: Some(o.str("listen_addr")?.unwrap_or_else(|| "0.0.0.0:2377".into())),
            data_path_addr: o.str("data_path_addr")?,
            force_new_cluster: Some(o.flag("force_new_cluster")?),
            ..Default::default()
        };
        super::super::located(
            &ctx,
            with(|d| async move { d.init_swarm(req).await.map_err(|e| engine_err("swarm init", &e)) }),
        )
    }

    /// Joins this engine to a swarm. Options: `token` (required),
    /// `remote_addrs` (list) or `remote_addr`, `advertise_addr`,
    /// `listen_addr`.
    ///
    /// ```rhai
    /// swarm::join(#{ token: t, remote_addr: "10.0.0.1:2377" });
    /// ```
    #[rhai_fn(return_raw)]
    pub fn join(ctx: NativeCallContext, opts: Map) -> RhaiResult<()> {
        let o = Opts::new(
            "swarm::join",
            opts,
            &[
                "token",
                "remote_addrs",
                "remote_addr",
                "advertise_addr",
                "listen_addr",
                "data_path_addr",
            ],
        )?;
        let mut remotes = o.strings("remote_addrs")?.unwrap_or_default();
        if let Some(r) = o.str("remote_addr")? {
            remotes.push(r);
        }
        if remotes.is_empty() {
            return fail("swarm::join: remote_addr is required");
        }
        let req = bollard::models::SwarmJoinRequest {
            join_token: Some(o.req_str("token")?),
            remote_addrs: Some(remotes),
            advertise_addr: o.str("advertise_addr")?,
            listen_addr: Some(o.str("listen_addr")?.unwrap_or_else(|| "0.0.0.0:2377".into())),
            data_path_addr: o.str("data_path_addr")?,
        };
        super::super::located(
            &ctx,
            with(|d| async move { d.join_swarm(req).await.map_err(|e| engine_err("swarm join", &e)) }),
        )
    }

    /// Leaves the swarm (`force` to leave as the last manager).
    ///
    /// ```rhai
    /// swarm::leave(#{ force: true });
    /// ```
    #[rhai_fn(return_raw)]
    pub fn leave(ctx: NativeCallContext, opts: Map) -> RhaiResult<()> {
        let o = Opts::new("swarm::leave", opts, &["force"])?;
        let force = o.flag("force")?;
        super::super::located(
            &ctx,
            with(|d| async move {
                d.leave_swarm(Some(qp::LeaveSwarmOptions { force }))
                    .await
                    .map_err(|e| engine_err("swarm leave", &e))
            }),
        )
    }

    /// The swarm as the engine reports it (`ID`, `Spec`, `JoinTokens`, …);
    /// only managers can answer.
    ///
    /// ```rhai
    /// print(swarm::inspect().JoinTokens.Worker);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn inspect(ctx: NativeCallContext) -> RhaiResult<Dynamic> {
        super::super::located(
            &ctx,
            with(|d| async move {
                let s = d.inspect_swarm().await.map_err(|e| engine_err("swarm inspect", &e))?;
                Ok(to_dynamic(&s))
            }),
        )
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
        super::super::located(
            &ctx,
            with(|d| async move {
                let i = d.info().await.map_err(|e| engine_err("info", &e))?;
                Ok(to_dynamic(&i.swarm.unwrap_or_default()))
            }),
        )
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
        let r = (|| {
            let o = Opts::new(
                "swarm::update",
                opts,
                &[
                    "rotate_worker_token",
                    "rotate_manager_token",
                    "rotate_manager_unlock_key",
                ],
            )?;
            let (worker, manager, unlock) = (
                o.flag("rotate_worker_token")?,
                o.flag("rotate_manager_token")?,
                o.flag("rotate_manager_unlock_key")?,
            );
            let spec: bollard::models::SwarmSpec = model("swarm::update", &Dynamic::from_map(spec))?;
            with(|d| async move {
                let current = d.inspect_swarm().await.map_err(|e| engine_err("swarm update", &e))?;
                let version = current.version.and_then(|v| v.index).unwrap_or_default() as i64;
                let options = qp::UpdateSwarmOptions {
                    version,
                    rotate_worker_token: worker,
                    rotate_manager_token: manager,
                    rotate_manager_unlock_key: unlock,
                };
                d.update_swarm(spec, options)
                    .await
                    .map_err(|e| engine_err("swarm update", &e))
            })
        })();
        super::super::located(&ctx, r)
    }

    /// The token that joins a node as a `"worker"` or a `"manager"`.
    ///
    /// ```rhai
    /// let t = swarm::join_token("worker");
    /// ```
    #[rhai_fn(name = "join_token", return_raw)]
    pub fn token_for(ctx: NativeCallContext, role: &str) -> RhaiResult<String> {
        let role = role.to_string();
        super::super::located(
            &ctx,
            with(|d| async move {
                let s = d
                    .inspect_swarm()
                    .await
                    .map_err(|e| engine_err("swarm join-token", &e))?;
                let t = s.join_tokens.unwrap_or_default();
                match role.as_str() {
                    "worker" => Ok(t.worker.unwrap_or_default()),
                    "manager" => Ok(t.manager.unwrap_or_default()),
                    other => fail(format!(
                        "swarm::join_token: role must be \"worker\" or \"manager\", not {other:?}"
                    )),
                }
            }),
        )
    }
}

#[export_module]
pub mod node_api {
    use super::*;

    /// The swarm's nodes (ask a manager). Filters: `id`, `label`, `role`,
    /// `membership`, `name`, `node_label`.
    ///
    /// ```rhai
    /// for n in node::list(#{}) { print(`${n.Description.Hostname} ${n.Status.State}`); }
    /// ```
    #[rhai_fn(return_raw)]
    pub fn list(ctx: NativeCallContext, opts: Map) -> RhaiResult<Array> {
        let o = Opts::new(
            "node::list",
            opts,
            &["id", "label", "role", "membership", "name", "node_label"],
        )?;
        let filters = filters(&o, &["id", "label", "role", "membership", "name", "node_label"])?;
        super::super::located(
            &ctx,
            with(|d| async move {
                let nodes = d
                    .list_nodes(Some(qp::ListNodesOptions { filters }))
                    .await
                    .map_err(|e| engine_err("node ls", &e))?;
                Ok(list_of(nodes))
            }),
        )
    }

    /// One node by ID or hostname (`"self"` is this engine's node).
    ///
    /// ```rhai
    /// print(node::inspect("node2").Spec.Availability);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn inspect(ctx: NativeCallContext, id: &str) -> RhaiResult<Dynamic> {
        let id = id.to_string();
        super::super::located(
            &ctx,
            with(|d| async move {
                let n = d
                    .inspect_node(&id)
                    .await
                    .map_err(|e| engine_err(format!("node inspect {id}"), &e))?;
                Ok(to_dynamic(&n))
            }),
        )
    }

    /// Changes a node: `availability` (active, pause, drain), `role`
    /// (worker, manager), `labels` (map, replaces them), `label_add`
    /// (map), `label_rm` (list).
    ///
    /// ```rhai
    /// node::update("node3", #{ availability: "drain" });
    /// ```
    #[rhai_fn(return_raw)]
    pub fn update(ctx: NativeCallContext, id: &str, opts: Map) -> RhaiResult<()> {
        let o = Opts::new(
            "node::update",
            opts,
            &["availability", "role", "labels", "label_add", "label_rm"],
        )?;
        let availability = o.str("availability")?;
        if let Some(a) = &availability {
            if !matches!(a.as_str(), "active" | "pause" | "drain") {
                return fail(format!(
                    "node::update: availability must be active, pause or drain, not {a:?}"
                ));
            }
        }
        let role = o.str("role")?;
        if let Some(r) = &role {
            if !matches!(r.as_str(), "worker" | "manager") {
                return fail(format!("node::update: role must be worker or manager, not {r:?}"));
            }
        }
        let labels = o.string_map("labels")?;
        let add = o.string_map("label_add")?.unwrap_or_default();
        let rm = o.strings("label_rm")?.unwrap_or_default();
        let id = id.to_string();
        super::super::located(
            &ctx,
            with(|d| async move {
                node_spec_update(&d, &id, move |spec| {
                    if let Some(a) = availability {
                        spec["Availability"] = Value::String(a);
                    }
                    if let Some(r) = role {
                        spec["Role"] = Value::String(r);
                    }
                    let mut current: serde_json::Map<String, Value> =
                        spec["Labels"].as_object().cloned().unwrap_or_default();
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
                .await
            }),
        )
    }

    /// Removes a node from the swarm (`force` for one that is not down).
    ///
    /// ```rhai
    /// node::remove("node3", #{ force: true });
    /// ```
    #[rhai_fn(return_raw)]
    pub fn remove(ctx: NativeCallContext, id: &str, opts: Map) -> RhaiResult<()> {
        let o = Opts::new("node::remove", opts, &["force"])?;
        let force = o.flag("force")?;
        let id = id.to_string();
        super::super::located(
            &ctx,
            with(|d| async move {
                d.delete_node(&id, Some(qp::DeleteNodeOptions { force }))
                    .await
                    .map_err(|e| engine_err(format!("node rm {id}"), &e))
            }),
        )
    }
}

#[export_module]
pub mod service_api {
    use super::*;

    /// Creates a service from a spec in the engine's shape; returns its ID.
    /// The image is used as given (no registry lookup of its digest).
    ///
    /// ```rhai
    /// service::create(#{ Name: "web", TaskTemplate: #{ ContainerSpec: #{ Image: "busybox" } } });
    /// ```
    #[rhai_fn(return_raw)]
    pub fn create(ctx: NativeCallContext, spec: Map) -> RhaiResult<String> {
        let spec: bollard::models::ServiceSpec = model("service::create", &Dynamic::from_map(spec))?;
        let name = spec.name.clone().unwrap_or_default();
        super::super::located(
            &ctx,
            with(|d| async move {
                let r = d
                    .create_service(spec, None)
                    .await
                    .map_err(|e| engine_err(format!("service create {name}"), &e))?;
                Ok(r.id.unwrap_or_default())
            }),
        )
    }

    /// The services, with their running/desired task counts
    /// (`ServiceStatus`). Filters: `id`, `label`, `mode`, `name`.
    ///
    /// ```rhai
    /// for s in service::list(#{}) { print(s.Spec.Name); }
    /// ```
    #[rhai_fn(return_raw)]
    pub fn list(ctx: NativeCallContext, opts: Map) -> RhaiResult<Array> {
        let o = Opts::new("service::list", opts, &["id", "label", "mode", "name"])?;
        let filters = filters(&o, &["id", "label", "mode", "name"])?;
        super::super::located(
            &ctx,
            with(|d| async move {
                let list = d
                    .list_services(Some(qp::ListServicesOptions {
                        filters,
                        status: Some(true),
                    }))
                    .await
                    .map_err(|e| engine_err("service ls", &e))?;
                Ok(list_of(list))
            }),
        )
    }

    /// One service by name or ID (`Spec`, `Version`, `PreviousSpec`,
    /// `UpdateStatus`, …).
    ///
    /// ```rhai
    /// let s = service::inspect("web");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn inspect(ctx: NativeCallContext, name: &str) -> RhaiResult<Dynamic> {
        let name = name.to_string();
        super::super::located(
            &ctx,
            with(|d| async move {
                let s = d
                    .inspect_service(&name, None::<qp::InspectServiceOptions>)
                    .await
                    .map_err(|e| engine_err(format!("service inspect {name}"), &e))?;
                Ok(to_dynamic(&s))
            }),
        )
    }

    /// Replaces a service's spec (read it with `inspect`, change it, send
    /// it back); the version check is done for you. Returns the engine's
    /// warnings.
    ///
    /// ```rhai
    /// let s = service::inspect("web").Spec;
    /// s.TaskTemplate.ContainerSpec.Env = ["MODE=2"];
    /// service::update("web", s);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn update(ctx: NativeCallContext, name: &str, spec: Map) -> RhaiResult<Array> {
        let spec: bollard::models::ServiceSpec = model("service::update", &Dynamic::from_map(spec))?;
        super::super::located(&ctx, super::update_spec(name, Some(spec), false))
    }

    /// Sets a replicated service's replica count.
    ///
    /// ```rhai
    /// service::scale("web", 4);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn scale(ctx: NativeCallContext, name: &str, replicas: i64) -> RhaiResult<()> {
        if replicas < 0 {
            return fail(format!(
                "service::scale {name}: replicas must be 0 or more, not {replicas}"
            ));
        }
        let name_s = name.to_string();
        let r = with(|d| async move {
            let s = d
                .inspect_service(&name_s, None::<qp::InspectServiceOptions>)
                .await
                .map_err(|e| engine_err(format!("service scale {name_s}"), &e))?;
            let mut spec = s.spec.unwrap_or_default();
            match spec.mode.as_mut().and_then(|m| m.replicated.as_mut()) {
                Some(r) => r.replicas = Some(replicas),
                None => {
                    return fail(format!(
                        "service {name_s} is not a replicated service: scale works on replicated services only"
                    ))
                }
            }
            Ok(spec)
        })
        .and_then(|spec| update_spec(name, Some(spec), false).map(|_| ()));
        super::super::located(&ctx, r)
    }

    /// Goes back to the previous spec (`docker service rollback`).
    ///
    /// ```rhai
    /// service::rollback("web");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn rollback(ctx: NativeCallContext, name: &str) -> RhaiResult<Array> {
        super::super::located(&ctx, super::update_spec(name, None, true))
    }

    /// Streams a service's logs (all its tasks, on every node), calling
    /// `each(line, meta)` per line; `meta` has `task`, `node` and
    /// `service` IDs. Options: `follow`, `tail` (number or "all"),
    /// `since` (unix seconds), `timestamps`.
    ///
    /// ```rhai
    /// service::logs("web", #{ tail: 10 }, |line, m| print(`${m.task}: ${line}`));
    /// ```
    #[rhai_fn(return_raw)]
    pub fn logs(ctx: NativeCallContext, name: &str, opts: Map, each: rhai::FnPtr) -> RhaiResult<()> {
        let r = super::service_logs(&ctx, name, opts, each);
        super::super::located(&ctx, r)
    }

    /// Removes a service (its tasks stop).
    ///
    /// ```rhai
    /// service::remove("web");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn remove(ctx: NativeCallContext, name: &str) -> RhaiResult<()> {
        let name = name.to_string();
        super::super::located(
            &ctx,
            with(|d| async move {
                d.delete_service(&name)
                    .await
                    .map_err(|e| engine_err(format!("service rm {name}"), &e))
            }),
        )
    }
}

fn service_logs(ctx: &NativeCallContext, name: &str, opts: Map, each: rhai::FnPtr) -> RhaiResult<()> {
    use futures_util::stream::{select_all, StreamExt};
    let o = Opts::new("service::logs", opts, &["follow", "tail", "since", "timestamps"])?;
    let options = super::batch::logs_options(&o)?;
    let name_s = name.to_string();
    // One stream per task (bollard's service_logs cannot ask for the
    // task details), each line tagged with its task.
    let (d, tasks) = with(|d| async move {
        let svc = d
            .inspect_service(&name_s, None::<qp::InspectServiceOptions>)
            .await
            .map_err(|e| engine_err(format!("service logs {name_s}"), &e))?;
        let filters = HashMap::from([("service".to_string(), vec![svc.id.unwrap_or_default()])]);
        let tasks = d
            .list_tasks(Some(qp::ListTasksOptions { filters: Some(filters) }))
            .await
            .map_err(|e| engine_err(format!("service logs {name_s}"), &e))?;
        Ok((d, tasks))
    })?;
    let mut streams = Vec::new();
    for t in tasks {
        let mut meta = Map::new();
        let id = t.id.clone().unwrap_or_default();
        meta.insert("task".into(), Dynamic::from(id.clone()));
        meta.insert("node".into(), Dynamic::from(t.node_id.clone().unwrap_or_default()));
        meta.insert("slot".into(), Dynamic::from(t.slot.unwrap_or_default()));
        let s = d
            .task_logs(&id, Some(options.clone()))
            .map(move |item| (meta.clone(), item));
        streams.push(Box::pin(s));
    }
    let mut merged = select_all(streams);
    let mut partial: HashMap<String, String> = HashMap::new();
    loop {
        let next = bridge::block_on(async { Ok(merged.next().await) })?;
        let Some((meta, item)) = next else { break };
        // A task whose node is gone has no logs to give: skip it.
        let Ok(out) = item else { continue };
        let key = meta.get("task").map(|t| t.to_string()).unwrap_or_default();
        let buf = partial.entry(key).or_default();
        buf.push_str(&String::from_utf8_lossy(&out.into_bytes()));
        while let Some(pos) = buf.find('\n') {
            let line: String = buf.drain(..=pos).collect();
            let line = line.trim_end_matches(['\n', '\r']).to_string();
            let _ = super::value::call_back(ctx, &each, vec![line.into(), Dynamic::from_map(meta.clone())], 1)?;
        }
    }
    Ok(())
}

/// Sends `spec` (or the previous spec, for a rollback) at the service's
/// current version.
pub fn update_spec(name: &str, spec: Option<bollard::models::ServiceSpec>, rollback: bool) -> RhaiResult<Array> {
    let name = name.to_string();
    with(|d| async move {
        let current = d
            .inspect_service(&name, None::<qp::InspectServiceOptions>)
            .await
            .map_err(|e| engine_err(format!("service update {name}"), &e))?;
        let version = current.version.and_then(|v| v.index).unwrap_or_default() as i32;
        let spec = match spec {
            Some(s) => s,
            None => current.spec.unwrap_or_default(),
        };
        let opts = qp::UpdateServiceOptions {
            version,
            rollback: rollback.then(|| "previous".to_string()),
            ..Default::default()
        };
        let r = d
            .update_service(&name, spec, opts, None)
            .await
            .map_err(|e| engine_err(format!("service update {name}"), &e))?;
        Ok(r.warnings.unwrap_or_default().into_iter().map(Dynamic::from).collect())
    })
}

#[export_module]
pub mod task_api {
    use super::*;

    /// Tasks (a service's replicas, wherever they run). Filters:
    /// `service`, `node`, `desired_state` (running, shutdown, accepted),
    /// `id`, `label`, `name`.
    ///
    /// ```rhai
    /// let running = task::list(#{ service: "web", desired_state: "running" });
    /// ```
    #[rhai_fn(return_raw)]
    pub fn list(ctx: NativeCallContext, opts: Map) -> RhaiResult<Array> {
        let keys = ["service", "node", "desired_state", "id", "label", "name"];
        let o = Opts::new("task::list", opts, &keys)?;
        let filters = filters(&o, &keys)?;
        super::super::located(
            &ctx,
            with(|d| async move {
                let list = d
                    .list_tasks(Some(qp::ListTasksOptions { filters }))
                    .await
                    .map_err(|e| engine_err("task ls", &e))?;
                Ok(list_of(list))
            }),
        )
    }
}

#[export_module]
pub mod secret_api {
    use super::*;

    /// Creates a secret; returns its ID. Options: `name`, `data` (text),
    /// `labels` (map).
    ///
    /// ```rhai
    /// secret::create(#{ name: "token", data: "s3cret" });
    /// ```
    #[rhai_fn(return_raw)]
    pub fn create(ctx: NativeCallContext, opts: Map) -> RhaiResult<String> {
        let (name, data, labels) = object_spec("secret::create", opts)?;
        let spec = bollard::models::SecretSpec {
            name: Some(name.clone()),
            data: Some(data),
            labels,
            ..Default::default()
        };
        super::super::located(
            &ctx,
            with(|d| async move {
                let r = d
                    .create_secret(spec)
                    .await
                    .map_err(|e| engine_err(format!("secret create {name}"), &e))?;
                Ok(r.id)
            }),
        )
    }

    /// The secrets (their data never comes back). Filters: `name`,
    /// `label`, `id`.
    ///
    /// ```rhai
    /// for s in secret::list(#{}) { print(s.Spec.Name); }
    /// ```
    #[rhai_fn(return_raw)]
    pub fn list(ctx: NativeCallContext, opts: Map) -> RhaiResult<Array> {
        let o = Opts::new("secret::list", opts, &["name", "label", "id"])?;
        let filters = filters(&o, &["name", "label", "id"])?;
        super::super::located(
            &ctx,
            with(|d| async move {
                let l = d
                    .list_secrets(Some(qp::ListSecretsOptions { filters }))
                    .await
                    .map_err(|e| engine_err("secret ls", &e))?;
                Ok(list_of(l))
            }),
        )
    }

    /// Removes a secret by name or ID.
    ///
    /// ```rhai
    /// secret::remove("token");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn remove(ctx: NativeCallContext, name: &str) -> RhaiResult<()> {
        let name = name.to_string();
        super::super::located(
            &ctx,
            with(|d| async move {
                d.delete_secret(&name)
                    .await
                    .map_err(|e| engine_err(format!("secret rm {name}"), &e))
            }),
        )
    }
}

#[export_module]
pub mod config_api {
    use super::*;

    /// Creates a config; returns its ID. Options: `name`, `data` (text),
    /// `labels` (map).
    ///
    /// ```rhai
    /// config::create(#{ name: "app.conf", data: "port=80" });
    /// ```
    #[rhai_fn(return_raw)]
    pub fn create(ctx: NativeCallContext, opts: Map) -> RhaiResult<String> {
        let (name, data, labels) = object_spec("config::create", opts)?;
        let spec = bollard::models::ConfigSpec {
            name: Some(name.clone()),
            data: Some(data),
            labels,
            ..Default::default()
        };
        super::super::located(
            &ctx,
            with(|d| async move {
                let r = d
                    .create_config(spec)
                    .await
                    .map_err(|e| engine_err(format!("config create {name}"), &e))?;
                Ok(r.id)
            }),
        )
    }

    /// The configs. Filters: `name`, `label`, `id`.
    ///
    /// ```rhai
    /// for c in config::list(#{}) { print(c.Spec.Name); }
    /// ```
    #[rhai_fn(return_raw)]
    pub fn list(ctx: NativeCallContext, opts: Map) -> RhaiResult<Array> {
        let o = Opts::new("config::list", opts, &["name", "label", "id"])?;
        let filters = filters(&o, &["name", "label", "id"])?;
        super::super::located(
            &ctx,
            with(|d| async move {
                let l = d
                    .list_configs(Some(qp::ListConfigsOptions { filters }))
                    .await
                    .map_err(|e| engine_err("config ls", &e))?;
                Ok(list_of(l))
            }),
        )
    }

    /// Removes a config by name or ID.
    ///
    /// ```rhai
    /// config::remove("app.conf");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn remove(ctx: NativeCallContext, name: &str) -> RhaiResult<()> {
        let name = name.to_string();
        super::super::located(
            &ctx,
            with(|d| async move {
                d.delete_config(&name)
                    .await
                    .map_err(|e| engine_err(format!("config rm {name}"), &e))
            }),
        )
    }
}

/// Name, base64 data and labels of a secret or config.
type ObjectSpec = (String, String, Option<HashMap<String, String>>);

fn object_spec(what: &str, opts: Map) -> RhaiResult<ObjectSpec> {
    use base64::Engine as _;
    let o = Opts::new(what, opts, &["name", "data", "labels"])?;
    let name = o.req_str("name")?;
    let data = o.str("data")?.unwrap_or_default();
    Ok((
        name,
        base64::engine::general_purpose::STANDARD.encode(data.as_bytes()),
        o.string_map("labels")?,
    ))
}

#[export_module]
pub mod engine_api {
    use super::*;

    /// Sends the primitives' engine calls from now on to `host`
    /// (`unix:///…/docker.sock`, `tcp://host:2375`): how a script works
    /// with a swarm's manager and each node's own engine.
    ///
    /// ```rhai
    /// engine::connect("unix:///run/node2/docker.sock");
    /// swarm::join(#{ token: t, remote_addr: "10.0.0.1:2377" });
    /// ```
    pub fn connect(host: &str) {
        super::super::set_endpoint(Endpoint::new(host));
    }

    /// Whether the engine answers now (`GET /_ping`); never throws.
    ///
    /// ```rhai
    /// if !engine::ping() { print("the engine is down"); }
    /// ```
    pub fn ping() -> bool {
        let ep = super::super::endpoint();
        bridge::block_on(async move {
            Ok(match client(&ep).await {
                Ok(d) => d.ping().await.is_ok(),
                Err(_) => false,
            })
        })
        .unwrap_or(false)
    }

    /// The engine calls go to now.
    ///
    /// ```rhai
    /// print(engine::host());
    /// ```
    pub fn host() -> String {
        super::super::endpoint().host.clone()
    }
}
