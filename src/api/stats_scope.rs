//! Stats of a whole service at once: a compose service's running
//! containers (`compose::stats`) or a swarm service's running tasks, each
//! read from the engine of the node it runs on (`service::stats`). Every
//! container is sampled at the same time, so a service of ten replicas
//! takes as long as one `docker stats --no-stream`.
//!
//! ```rhai
//! let cpu = compose::stats("shop", "web").map(|s| s.cpu_pct_limit);
//! for s in service::stats("web") { print(`${s.node}: ${s.cpu_pct}`); }
//! ```

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use bollard::query_parameters as qp;
use rhai::plugin::*;
use rhai::{Array, Dynamic, Map, NativeCallContext};

use super::options::ServiceStatsOpts;
use super::stats::sample_all;
use super::{client, engine_err, RhaiResult};
use crate::bridge;
use crate::docker::Endpoint;
use crate::engine_json as ej;

/// Node engines by address, kept so a controller sampling every few
/// seconds reuses their connections (and negotiated API versions).
static ENGINES: Mutex<Option<HashMap<String, Arc<Endpoint>>>> = Mutex::new(None);

fn engine_at(host: &str) -> Arc<Endpoint> {
    let current = super::endpoint();
    if current.host == host {
        return current;
    }
    let mut all = ENGINES.lock().unwrap();
    all.get_or_insert_with(HashMap::new)
        .entry(host.to_string())
        .or_insert_with(|| super::node_engines::endpoint_for(host))
        .clone()
}

/// `service` None: every service of the project (each sample says which).
fn compose_stats(project: &str, service: Option<&str>) -> RhaiResult<Array> {
    let ep = super::endpoint();
    let mut labels = vec![
        format!("com.docker.compose.project={project}"),
        "com.docker.compose.oneoff=False".to_string(),
    ];
    if let Some(s) = service {
        labels.push(format!("com.docker.compose.service={s}"));
    }
    let filters = HashMap::from([
        ("label".to_string(), labels),
        ("status".to_string(), vec!["running".to_string()]),
    ]);
    let opts = qp::ListContainersOptions {
        filters: Some(filters),
        ..Default::default()
    };
    let what = format!("compose::stats {project} {}", service.unwrap_or(""));
    let ep2 = ep.clone();
    let found = bridge::block_on(async move {
        let d = client(&ep2).await?;
        d.list_containers(Some(opts)).await.map_err(|e| engine_err(&what, &e))
    })?;
    let mut meta = Vec::new();
    let list: Vec<(Arc<Endpoint>, String)> = found
        .into_iter()
        .filter_map(|c| {
            let id = c.id?;
            let label = |k: &str| c.labels.as_ref().and_then(|l| l.get(k)).cloned().unwrap_or_default();
            let n = label("com.docker.compose.container-number").parse::<i64>().unwrap_or(0);
            meta.push((label("com.docker.compose.service"), n));
            Some((ep.clone(), id))
        })
        .collect();
    let mut out: Vec<Map> = bridge::block_on_infallible(sample_all(list))?;
    for (m, (svc, n)) in out.iter_mut().zip(meta) {
        m.insert("service".into(), svc.into());
        m.insert("number".into(), n.into());
    }
    let key = |m: &Map| {
        let svc = m.get("service").map(|v| v.to_string()).unwrap_or_default();
        (svc, m.get("number").and_then(|v| v.as_int().ok()).unwrap_or(0))
    };
    out.sort_by_key(key);
    Ok(out.into_iter().map(Dynamic::from_map).collect())
}

fn service_stats(name: &str, opts: Map) -> RhaiResult<Array> {
    let o: ServiceStatsOpts = super::opts::read("service::stats", opts)?;
    let given = o.node_hosts.unwrap_or_default();
    let ep = super::endpoint();
    let what = format!("service stats {name}");
    let filters = ej::filters([
        ("service", &[name.to_string()][..]),
        ("desired-state", &["running".to_string()][..]),
    ]);
    let tasks_path = format!("/tasks{}", ej::query(&[("filters", filters)]));
    let (tasks, nodes, info) = bridge::block_on(async move {
        let d = client(&ep).await?;
        let (t, n, i) = futures_util::join!(ej::get(d, &tasks_path), ej::get(d, "/nodes"), ej::get(d, "/info"));
        let err = |e| engine_err(&what, &e);
        Ok((t.map_err(err)?, n.map_err(err)?, i.map_err(err)?))
    })?;
    let self_id = info["Swarm"]["NodeID"].as_str().unwrap_or("");
    let engines: HashMap<String, (String, Option<String>)> = super::node_engines::engines_of(&nodes, self_id, &given)
        .into_iter()
        .map(|e| (e.id, (e.node, e.host)))
        .collect();
    let mut meta = Vec::new();
    let mut list = Vec::new();
    let mut missing = Vec::new();
    for t in tasks.as_array().into_iter().flatten() {
        let cid = t["Status"]["ContainerStatus"]["ContainerID"].as_str().unwrap_or("");
        if t["Status"]["State"] != "running" || cid.is_empty() {
            continue;
        }
        let node = t["NodeID"].as_str().unwrap_or("");
        let Some((hostname, host)) = engines.get(node) else {
            continue;
        };
        let Some(host) = host else {
            missing.push((
                t["ID"].as_str().unwrap_or("").to_string(),
                t["Slot"].as_i64().unwrap_or(0),
                hostname.clone(),
                cid.to_string(),
            ));
            continue;
        };
        list.push((engine_at(host), cid.to_string()));
        meta.push((
            t["ID"].as_str().unwrap_or("").to_string(),
            t["Slot"].as_i64().unwrap_or(0),
            hostname.clone(),
        ));
    }
    let samples = bridge::block_on_infallible(sample_all(list))?;
    let mut out: Vec<Map> = samples
        .into_iter()
        .zip(meta)
        .map(|(mut m, (task, slot, node))| {
            m.insert("task".into(), task.into());
            m.insert("slot".into(), slot.into());
            m.insert("node".into(), node.into());
            m
        })
        .collect();
    // A task on a node whose engine nothing names: its sample says why.
    for (task, slot, node, cid) in missing {
        let mut m = Map::new();
        m.insert("id".into(), cid.into());
        m.insert("task".into(), task.into());
        m.insert("slot".into(), slot.into());
        m.insert("error".into(), super::node_engines::no_engine(&node).into());
        m.insert("node".into(), node.into());
        out.push(m);
    }
    out.sort_by_key(|m| m.get("slot").and_then(|v| v.as_int().ok()).unwrap_or(0));
    Ok(out.into_iter().map(Dynamic::from_map).collect())
}

#[export_module]
pub mod compose_api {
    use super::*;

    /// One sample (`Container.stats()`'s shape, plus `service`, `number`
    /// and `host`)
    /// of every running container of a compose service, taken at once,
    /// ordered by container number. A container that could not be read
    /// comes back as `#{ id, host, error }`.
    ///
    /// ```rhai
    /// let s = compose::stats("shop", "web");
    /// let avg = s.reduce(|sum, x| sum + x.cpu_pct_limit, 0.0) / s.len();
    /// ```
    #[rhai_fn(return_raw)]
    pub fn stats(ctx: NativeCallContext, project: &str, service: &str) -> RhaiResult<Array> {
        crate::api::at(&ctx, || compose_stats(project, Some(service)))
    }

    /// As `compose::stats(project, service)` for every service of the
    /// project at once (each sample has its `service`), ordered by service
    /// and number: one round of sampling for many autoscaled services.
    ///
    /// ```rhai
    /// for s in compose::stats("shop") { print(`${s.service}-${s.number}: ${s.cpu_pct}`); }
    /// ```
    #[rhai_fn(name = "stats", return_raw)]
    pub fn stats_all(ctx: NativeCallContext, project: &str) -> RhaiResult<Array> {
        crate::api::at(&ctx, || compose_stats(project, None))
    }
}

#[export_module]
pub mod service_api {
    use super::*;

    /// One sample of every running task of a swarm service, each read from
    /// the engine of its node (found as `orch image push-nodes` finds it),
    /// all at once: `Container.stats()`'s shape plus `task`, `slot`,
    /// `node` (hostname) and `host`. A task whose engine cannot be read
    /// comes back as `#{ id, host, task, slot, node, error }`.
    ///
    /// ```rhai
    /// for s in service::stats("web") { print(`${s.node} ${s.cpu_pct_limit}`); }
    /// ```
    #[rhai_fn(return_raw)]
    pub fn stats(ctx: NativeCallContext, name: &str) -> RhaiResult<Array> {
        crate::api::at(&ctx, || service_stats(name, Map::new()))
    }

    /// As `service::stats(name)`; `node_hosts` maps node hostnames to
    /// their engines' addresses (as `--node-host`).
    ///
    /// ```rhai
    /// let s = service::stats("web", #{ node_hosts: #{ node2: "tcp://10.0.0.2:2375" } });
    /// ```
    #[rhai_fn(name = "stats", return_raw)]
    pub fn stats_opts(ctx: NativeCallContext, name: &str, opts: Map) -> RhaiResult<Array> {
        crate::api::at(&ctx, || service_stats(name, opts))
    }
}
