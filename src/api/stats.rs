//! Resource usage as data: one sample of a container's CPU, memory,
//! network, block I/O and processes, computed from the engine's stats API
//! exactly as `docker stats` computes them (the Docker CLI's
//! `stats_helpers.go`: cgroup v1 and v2), plus the CPU as a share of the
//! container's own limit (what an autoscaling target is written in).
//!
//! ```rhai
//! let s = container::get("web").stats();
//! print(`${s.cpu_pct}% of a core, ${s.cpu_pct_limit}% of its limit, ${s.mem} bytes`);
//! container::stats_stream(container::get("web"), |s| { print(s.cpu_pct); s.cpu_pct < 90.0 });
//! ```

use std::sync::Arc;

use bollard::query_parameters as qp;
use futures_util::StreamExt;
use rhai::plugin::*;
use rhai::{Dynamic, FnPtr, Map, NativeCallContext};
use serde_json::Value;

use super::container::Container;
use super::value::call_back;
use super::{client, engine_err, RhaiResult};
use crate::bridge;
use crate::docker::Endpoint;
use crate::engine_json as ej;

/// One sample, in `docker stats`' units (bytes, percent of one core).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Sample {
    pub cpu_pct: f64,
    /// `cpu_pct` divided by the cores the container may use.
    pub cpu_pct_limit: f64,
    /// Cores the container may use: its `cpus` (NanoCpus), else its CPU
    /// quota over its period, else the engine's online CPUs.
    pub cpu_limit: f64,
    pub online_cpus: f64,
    /// Memory without the inactive page cache, as `docker stats` shows it.
    pub mem: f64,
    pub mem_limit: f64,
    pub mem_pct: f64,
    pub net_rx: f64,
    pub net_tx: f64,
    pub block_read: f64,
    pub block_write: f64,
    pub pids: i64,
}

fn u(v: &Value) -> f64 {
    v.as_u64().map(|x| x as f64).or_else(|| v.as_f64()).unwrap_or(0.0)
}

/// The CLI's `calculateCPUPercentUnix`: the container's CPU time over the
/// host's between the previous and this reading, times the online CPUs.
fn cpu_percent(pre: &Value, cur: &Value) -> (f64, f64) {
    let cpu_delta = u(&cur["cpu_usage"]["total_usage"]) - u(&pre["cpu_usage"]["total_usage"]);
    let system_delta = u(&cur["system_cpu_usage"]) - u(&pre["system_cpu_usage"]);
    let mut online = u(&cur["online_cpus"]);
    if online == 0.0 {
        online = cur["cpu_usage"]["percpu_usage"]
            .as_array()
            .map(|a| a.len() as f64)
            .unwrap_or(0.0);
    }
    let pct = if system_delta > 0.0 && cpu_delta > 0.0 {
        cpu_delta / system_delta * online * 100.0
    } else {
        0.0
    };
    (pct, online)
}

/// The CLI's `calculateMemUsageUnixNoCache`: usage less the inactive file
/// cache (`total_inactive_file` on cgroup v1, `inactive_file` on v2).
fn mem_no_cache(mem: &Value) -> f64 {
    let usage = u(&mem["usage"]);
    let stats = &mem["stats"];
    if let Some(v) = stats.get("total_inactive_file") {
        if u(v) < usage {
            return usage - u(v);
        }
    }
    // A missing key reads as 0 in Go's map, so usage stands.
    let v = u(&stats["inactive_file"]);
    if v < usage {
        return usage - v;
    }
    usage
}

/// The CLI's `calculateBlockIO`: bytes by the first letter of each op.
fn block_io(blkio: &Value) -> (f64, f64) {
    let (mut r, mut w) = (0.0, 0.0);
    for e in blkio["io_service_bytes_recursive"].as_array().into_iter().flatten() {
        match e["op"].as_str().and_then(|s| s.chars().next()) {
            Some('r' | 'R') => r += u(&e["value"]),
            Some('w' | 'W') => w += u(&e["value"]),
            _ => {}
        }
    }
    (r, w)
}

/// Cores a container may use, from its inspected `HostConfig`; `None`
/// when it has no CPU limit.
pub fn cpu_limit_of(host_config: &Value) -> Option<f64> {
    let nano = u(&host_config["NanoCpus"]);
    if nano > 0.0 {
        return Some(nano / 1e9);
    }
    let quota = host_config["CpuQuota"].as_i64().unwrap_or(0);
    if quota > 0 {
        // The kernel's default period (100 ms) when none is set.
        let period = match host_config["CpuPeriod"].as_i64().unwrap_or(0) {
            p if p > 0 => p,
            _ => 100_000,
        };
        return Some(quota as f64 / period as f64);
    }
    None
}

/// One stats reading (the engine's JSON) → a sample; `cpu_limit` from
/// [`cpu_limit_of`].
pub fn compute(v: &Value, cpu_limit: Option<f64>) -> Sample {
    let (cpu_pct, online_cpus) = cpu_percent(&v["precpu_stats"], &v["cpu_stats"]);
    let mem = mem_no_cache(&v["memory_stats"]);
    let mem_limit = u(&v["memory_stats"]["limit"]);
    let (mut net_rx, mut net_tx) = (0.0, 0.0);
    for n in v["networks"].as_object().into_iter().flat_map(|m| m.values()) {
        net_rx += u(&n["rx_bytes"]);
        net_tx += u(&n["tx_bytes"]);
    }
    let (block_read, block_write) = block_io(&v["blkio_stats"]);
    let cpu_limit = cpu_limit.unwrap_or(online_cpus);
    Sample {
        cpu_pct,
        cpu_pct_limit: if cpu_limit > 0.0 { cpu_pct / cpu_limit } else { 0.0 },
        cpu_limit,
        online_cpus,
        mem,
        mem_limit,
        mem_pct: if mem_limit != 0.0 { mem / mem_limit * 100.0 } else { 0.0 },
        net_rx,
        net_tx,
        block_read,
        block_write,
        pids: v["pids_stats"]["current"].as_i64().unwrap_or(0),
    }
}

/// What the inspect adds to a sample: the limit, and what an autoscaler
/// needs to tell a replica still starting (HPA's readiness and CPU
/// initialization period).
struct Facts {
    name: String,
    cpu_limit: Option<f64>,
    running: bool,
    started: Option<f64>,
    health: String,
}

fn facts(inspect: &Value) -> Facts {
    let state = &inspect["State"];
    let started = state["StartedAt"].as_str().and_then(unix_seconds);
    Facts {
        name: inspect["Name"]
            .as_str()
            .unwrap_or("")
            .trim_start_matches('/')
            .to_string(),
        cpu_limit: cpu_limit_of(&inspect["HostConfig"]),
        running: state["Running"].as_bool().unwrap_or(false),
        started,
        health: state["Health"]["Status"].as_str().unwrap_or("none").to_string(),
    }
}

/// An engine timestamp in unix seconds with its fraction; `None` for Go's
/// zero time (a container never started).
fn unix_seconds(s: &str) -> Option<f64> {
    let whole = super::util::parse_rfc3339(s)?;
    if whole < 0 {
        return None;
    }
    let frac = s
        .split_once('.')
        .map(|(_, f)| f.chars().take_while(char::is_ascii_digit).collect::<String>())
        .filter(|f| !f.is_empty())
        .and_then(|f| format!("0.{f}").parse::<f64>().ok())
        .unwrap_or(0.0);
    Some(whole as f64 + frac)
}

fn to_map(id: &str, f: &Facts, s: &Sample, read: &str) -> Map {
    let mut m = Map::new();
    let mut put = |k: &str, v: Dynamic| {
        m.insert(k.into(), v);
    };
    put("id", id.to_string().into());
    put("name", f.name.clone().into());
    put("read", read.to_string().into());
    put("running", f.running.into());
    put("started", f.started.map(Dynamic::from_float).unwrap_or(Dynamic::UNIT));
    put("health", f.health.clone().into());
    for (k, v) in [
        ("cpu_pct", s.cpu_pct),
        ("cpu_pct_limit", s.cpu_pct_limit),
        ("cpu_limit", s.cpu_limit),
        ("online_cpus", s.online_cpus),
        ("mem", s.mem),
        ("mem_limit", s.mem_limit),
        ("mem_pct", s.mem_pct),
        ("net_rx", s.net_rx),
        ("net_tx", s.net_tx),
        ("block_read", s.block_read),
        ("block_write", s.block_write),
    ] {
        put(k, Dynamic::from_float(v));
    }
    put("pids", s.pids.into());
    m
}

/// One sample of container `id` on `ep`: the stats request `docker stats
/// --no-stream` sends (not streamed, with the previous CPU reading, which
/// the engine answers after its next collection) and an inspect, together.
pub async fn sample(ep: Arc<Endpoint>, id: String) -> RhaiResult<Map> {
    let d = client(&ep).await?;
    let what = format!("container stats {id}");
    let stats_path = format!("/containers/{}/stats?stream=false", ej::enc(&id));
    let inspect_path = format!("/containers/{}/json", ej::enc(&id));
    let (st, ins) = futures_util::join!(ej::get(d, &stats_path), ej::get(d, &inspect_path));
    let st = st.map_err(|e| engine_err(&what, &e))?;
    let ins = ins.map_err(|e| engine_err(&what, &e))?;
    let f = facts(&ins);
    let s = compute(&st, f.cpu_limit);
    Ok(to_map(&id, &f, &s, st["read"].as_str().unwrap_or("")))
}

/// Samples of many containers (each on its own engine), taken at once:
/// one result per container, in order, an error as `#{ id, error }`.
pub async fn sample_all(list: Vec<(Arc<Endpoint>, String)>) -> Vec<Map> {
    let jobs = list.into_iter().map(|(ep, id)| async move {
        let host = ep.host.clone();
        match sample(ep, id.clone()).await {
            Ok(mut m) => {
                m.insert("host".into(), host.into());
                m
            }
            Err(e) => {
                let mut m = Map::new();
                m.insert("id".into(), id.into());
                m.insert("host".into(), host.into());
                m.insert("error".into(), e.to_string().into());
                m
            }
        }
    });
    futures_util::future::join_all(jobs).await
}

fn stream_impl(ctx: &NativeCallContext, c: &Container, each: &FnPtr) -> RhaiResult<()> {
    let (ep, id) = (c.ep.clone(), c.id.clone());
    let what = c.name.clone();
    let (d, ins) = bridge::block_on(async {
        let d = client(&ep).await?.clone();
        let ins = ej::get(&d, &format!("/containers/{}/json", ej::enc(&id)))
            .await
            .map_err(|e| engine_err(format!("container stats {what}"), &e))?;
        Ok((d, ins))
    })?;
    let mut f = facts(&ins);
    let opts = qp::StatsOptions {
        stream: true,
        one_shot: false,
    };
    let mut stream = d.stats(&c.id, Some(opts));
    loop {
        let next = bridge::block_on(async { Ok(stream.next().await) })?;
        let Some(item) = next else { return Ok(()) };
        let item = item.map_err(|e| engine_err(format!("container stats {what}"), &e))?;
        let v = serde_json::to_value(&item).unwrap_or(Value::Null);
        let s = compute(&v, f.cpu_limit);
        f.running = true;
        let m = to_map(&c.id, &f, &s, v["read"].as_str().unwrap_or(""));
        let r = call_back(ctx, each, vec![Dynamic::from_map(m)], 1)?;
        if r.as_bool() == Ok(false) {
            return Ok(());
        }
    }
}

#[export_module]
pub mod api {
    use super::*;

    /// One sample of the container's resource use, as `docker stats
    /// --no-stream` computes it: `#{ id, name, read, running, started,
    /// health, cpu_pct, cpu_pct_limit, cpu_limit, online_cpus, mem,
    /// mem_limit, mem_pct, net_rx, net_tx, block_read, block_write, pids }`.
    /// `cpu_pct` is percent of one core (docker's CPU %), `cpu_pct_limit`
    /// percent of the cores the container may use (`cpus:`), memory and
    /// I/O in bytes, `started` in seconds since the epoch.
    ///
    /// ```rhai
    /// let s = container::get("web").stats();
    /// if s.cpu_pct_limit > 80.0 { print(`${s.name} is busy`); }
    /// ```
    #[rhai_fn(global, return_raw)]
    pub fn stats(c: &mut Container) -> RhaiResult<Map> {
        let (ep, id) = (c.ep.clone(), c.id.clone());
        bridge::block_on(sample(ep, id))
    }

    /// Calls `each(sample)` for every reading the engine streams (about
    /// one a second) until the container stops or `each` returns `false`.
    /// Samples have the shape of `Container.stats()`.
    ///
    /// ```rhai
    /// container::stats_stream(c, |s| { print(s.mem); s.cpu_pct < 50.0 });
    /// ```
    #[rhai_fn(return_raw)]
    pub fn stats_stream(ctx: NativeCallContext, c: Container, each: FnPtr) -> RhaiResult<()> {
        crate::api::at(&ctx, || stream_impl(&ctx, &c, &each))
    }
}

#[cfg(test)]
mod tests;
