//! Health as data: a container's health-check status and its last outputs,
//! waiting until a container is healthy (and stays so), and the same for a
//! swarm task's container on whichever engine it runs.
//!
//! ```rhai
//! let c = container::get("web");
//! container::wait_healthy(c, #{ timeout: 60, stable_for: 5 });
//! print(c.health);                 // "healthy"
//! print(c.health_log[-1].output);  // the last check's output
//! ```

use std::sync::Arc;
use std::time::Instant;

use bollard::models::HealthStatusEnum;
use bollard::query_parameters as qp;
use rhai::plugin::*;
use rhai::{Array, Dynamic, Map, NativeCallContext};

use super::container::Container;

use super::options::WaitHealthyOpts;
use super::{client, engine_err, fail, RhaiResult};
use crate::bridge;
use crate::docker::Endpoint;

/// What the engine says about a container's health right now.
struct Health {
    /// healthy | unhealthy | starting | none
    status: String,
    /// The container's state (running, exited …) and exit code.
    state: String,
    exit_code: i64,
    log: Array,
}

impl Health {
    /// The newest check's output, trimmed, for error messages.
    fn last_output(&self) -> String {
        match self.log.last().and_then(|e| e.read_lock::<Map>().map(|m| m.clone())) {
            Some(m) => {
                let code = m.get("exit_code").map(|v| v.to_string()).unwrap_or_default();
                let out = m.get("output").map(|v| v.to_string()).unwrap_or_default();
                format!("last health check exited {code}: {:?}", out.trim())
            }
            None => "no health check has run yet".into(),
        }
    }
}

fn observe(ep: &Arc<Endpoint>, id: &str, what: &str) -> RhaiResult<Health> {
    let (ep, id, what) = (ep.clone(), id.to_string(), what.to_string());
    let i = bridge::block_on(async move {
        let d = client(&ep).await?;
        d.inspect_container(&id, None::<qp::InspectContainerOptions>)
            .await
            .map_err(|e| engine_err(&what, &e))
    })?;
    let st = i.state.unwrap_or_default();
    let h = st.health.unwrap_or_default();
    let status = match h.status {
        Some(HealthStatusEnum::HEALTHY) => "healthy",
        Some(HealthStatusEnum::UNHEALTHY) => "unhealthy",
        Some(HealthStatusEnum::STARTING) => "starting",
        _ => "none",
    };
    let log = h
        .log
        .unwrap_or_default()
        .into_iter()
        .map(|r| {
            let mut m = Map::new();
            m.insert(
                "start".into(),
                r.start.as_ref().map(crate::docker::rfc3339).unwrap_or_default().into(),
            );
            m.insert(
                "end".into(),
                r.end.as_ref().map(crate::docker::rfc3339).unwrap_or_default().into(),
            );
            m.insert("exit_code".into(), r.exit_code.unwrap_or_default().into());
            m.insert("output".into(), r.output.unwrap_or_default().into());
            Dynamic::from_map(m)
        })
        .collect();
    Ok(Health {
        status: status.into(),
        state: st.status.map(|s| s.to_string()).unwrap_or_default(),
        exit_code: st.exit_code.unwrap_or_default(),
        log,
    })
}

/// Seconds from a number or a duration string (`"1m30s"`).
fn seconds(func: &str, key: &str, v: Option<&Dynamic>, default: f64) -> RhaiResult<f64> {
    match v {
        None => Ok(default),
        Some(v) if v.is_string() => {
            let s = v.to_string();
            crate::units::parse_duration(&s)
                .map(|ns| ns as f64 / 1e9)
                .map_err(|e| format!("{func}: `{key}`: {e}").into())
        }
        Some(v) => match (v.as_float(), v.as_int()) {
            (Ok(f), _) => Ok(f),
            (_, Ok(i)) => Ok(i as f64),
            _ => Err(crate::api::opts::wrong_type(func, key, "a number", v)),
        },
    }
}

/// `wait_healthy`'s options, read and checked once, up front: a bad value
/// is an error, not a panic in the loop.
struct Waiting {
    timeout: f64,
    stable_for: f64,
    interval: std::time::Duration,
}

fn waiting(func: &str, opts: Map) -> RhaiResult<Waiting> {
    let o: WaitHealthyOpts = crate::api::opts::read(func, opts)?;
    let interval = seconds(func, "interval", o.interval.as_ref(), 0.25)?.max(0.05);
    Ok(Waiting {
        timeout: seconds(func, "timeout", o.timeout.as_ref(), 60.0)?,
        stable_for: seconds(func, "stable_for", o.stable_for.as_ref(), 0.0)?,
        interval: crate::api::util::secs(&format!("{func}: `interval`"), interval)?,
    })
}

fn wait_until_healthy(c: &Container, opts: Map) -> RhaiResult<()> {
    let w = waiting("container::wait_healthy", opts)?;
    let who = if c.name.is_empty() { &c.id } else { &c.name };
    wait_healthy_for(c, &w, &format!("container::wait_healthy {who}"), Instant::now())
}

/// Polls `c` until it is healthy and has stayed so for `w.stable_for`,
/// counting the timeout from `started`; `what` starts every message.
fn wait_healthy_for(c: &Container, w: &Waiting, what: &str, started: Instant) -> RhaiResult<()> {
    let (timeout, stable_for, interval) = (w.timeout, w.stable_for, w.interval);
    let mut healthy_since: Option<Instant> = None;
    loop {
        let h = observe(&c.ep, &c.id, what)?;
        if h.status == "none" {
            return fail(format!(
                "{what}: the container has no healthcheck (wait on its state instead)"
            ));
        }
        if h.state != "running" {
            return fail(format!(
                "{what}: the container is {} (exit code {}), not running; {}",
                h.state,
                h.exit_code,
                h.last_output()
            ));
        }
        if h.status == "unhealthy" {
            return fail(format!("{what}: the container is unhealthy; {}", h.last_output()));
        }
        if h.status == "healthy" {
            let since = *healthy_since.get_or_insert_with(Instant::now);
            if since.elapsed().as_secs_f64() >= stable_for {
                return Ok(());
            }
        } else {
            healthy_since = None;
        }
        if started.elapsed().as_secs_f64() >= timeout {
            return fail(format!(
                "{what}: not healthy after {timeout}s (health: {}); {}",
                h.status,
                h.last_output()
            ));
        }
        bridge::sleep(interval)?;
    }
}

/// A task's state and, when its container runs on `ep`, that container's
/// health; `"unknown"` when it runs elsewhere (or has no container yet).
fn task_health(ep: &Arc<Endpoint>, task: &Map) -> RhaiResult<Map> {
    let j = super::value::to_json(&Dynamic::from_map(task.clone()))?;
    let status = &j["Status"];
    let container = status["ContainerStatus"]["ContainerID"]
        .as_str()
        .unwrap_or("")
        .to_string();
    let mut m = Map::new();
    m.insert("id".into(), j["ID"].as_str().unwrap_or("").into());
    m.insert("node".into(), j["NodeID"].as_str().unwrap_or("").into());
    m.insert("state".into(), status["State"].as_str().unwrap_or("").into());
    m.insert("desired_state".into(), j["DesiredState"].as_str().unwrap_or("").into());
    m.insert(
        "message".into(),
        status["Err"]
            .as_str()
            .or(status["Message"].as_str())
            .unwrap_or("")
            .into(),
    );
    m.insert("container".into(), container.clone().into());
    let (health, log) = if container.is_empty() {
        ("unknown".to_string(), Array::new())
    } else {
        let (ep2, id) = (ep.clone(), container.clone());
        let found = bridge::block_on(async move {
            let d = client(&ep2).await?;
            Ok(d.inspect_container(&id, None::<qp::InspectContainerOptions>)
                .await
                .is_ok())
        })?;
        if found {
            let h = observe(ep, &container, &format!("task::health {container}"))?;
            (h.status, h.log)
        } else {
            ("unknown".to_string(), Array::new())
        }
    };
    m.insert("health".into(), health.into());
    m.insert("log".into(), log.into());
    Ok(m)
}

/// A task's container once the task runs, asked of the manager (the
/// current engine) every `w.interval`; fails at once on a task that ended
/// or was refused, naming its state and the engine's message.
fn running_container(id: &str, w: &Waiting, what: &str, started: Instant) -> RhaiResult<String> {
    loop {
        let t = super::swarm::get(format!("task inspect {id}"), format!("/tasks/{id}"))?;
        let status = &t["Status"];
        let state = status["State"].as_str().unwrap_or("");
        let message = status["Err"].as_str().or(status["Message"].as_str()).unwrap_or("");
        if matches!(
            state,
            "complete" | "shutdown" | "failed" | "rejected" | "orphaned" | "remove"
        ) {
            return fail(format!("{what}: the task is {state}: {message}"));
        }
        let container = status["ContainerStatus"]["ContainerID"].as_str().unwrap_or("");
        if state == "running" && !container.is_empty() {
            return Ok(container.to_string());
        }
        if started.elapsed().as_secs_f64() >= w.timeout {
            return fail(format!(
                "{what}: not running after {}s (state: {state}: {message})",
                w.timeout
            ));
        }
        bridge::sleep(w.interval)?;
    }
}

/// `task::wait_healthy`: the task running, then its container healthy on
/// `ep` (the engine of the task's node), within one timeout.
fn wait_task_healthy(ep: Arc<Endpoint>, task: &Map, opts: Map) -> RhaiResult<()> {
    let w = waiting("task::wait_healthy", opts)?;
    let j = super::value::to_json(&Dynamic::from_map(task.clone()))?;
    let Some(id) = j["ID"].as_str().filter(|id| !id.is_empty()) else {
        return fail("task::wait_healthy: the task has no `ID` (pass one of task::list's tasks)");
    };
    let what = format!("task::wait_healthy {id}");
    let started = Instant::now();
    let container = running_container(id, &w, &what, started)?;
    let c = Container {
        ep,
        id: container,
        name: String::new(),
        info: Map::new(),
    };
    wait_healthy_for(&c, &w, &what, started)
}

#[export_module]
pub mod api {
    use super::*;

    /// The container's health now, asked of the engine: `"healthy"`,
    /// `"unhealthy"`, `"starting"`, or `"none"` (no healthcheck).
    ///
    /// ```rhai
    /// if c.health == "unhealthy" { print(c.health_log[-1].output); }
    /// ```
    #[rhai_fn(global, get = "health", pure, return_raw)]
    pub fn health(c: &mut Container) -> RhaiResult<String> {
        observe(&c.ep, &c.id, &format!("container health {}", c.name)).map(|h| h.status)
    }

    /// The engine's last health-check results (up to 5, oldest first), each
    /// `#{ start, end, exit_code, output }`.
    ///
    /// ```rhai
    /// for r in c.health_log { print(`${r.exit_code}: ${r.output}`); }
    /// ```
    #[rhai_fn(global, get = "health_log", pure, return_raw)]
    pub fn health_log(c: &mut Container) -> RhaiResult<Array> {
        observe(&c.ep, &c.id, &format!("container health {}", c.name)).map(|h| h.log)
    }

    /// Waits until the container is healthy and has stayed healthy for
    /// `stable_for` (default 0); `timeout` defaults to 60 (seconds, or
    /// duration strings such as `"1m"`). Throws at once if the container is
    /// unhealthy, stops, or has no healthcheck, and on timeout; the error
    /// names the container and its last health-check output.
    ///
    /// ```rhai
    /// container::wait_healthy(c, #{ timeout: "2m", stable_for: 5 });
    /// ```
    #[rhai_fn(return_raw)]
    pub fn wait_healthy(ctx: NativeCallContext, c: Container, opts: Map) -> RhaiResult<()> {
        crate::api::at(&ctx, || wait_until_healthy(&c, opts))
    }
}

#[export_module]
pub mod task_api {
    use super::*;

    /// A swarm task's health: `#{ id, node, state, desired_state, message,
    /// container, health, log }`. `health` and `log` are its container's
    /// when that container runs on the current engine (`engine::connect`
    /// to the task's node to reach it), else `health` is `"unknown"`.
    ///
    /// ```rhai
    /// for t in task::list(#{ service: "web" }) { print(task::health(t).health); }
    /// ```
    #[rhai_fn(return_raw)]
    pub fn health(ctx: NativeCallContext, task: Map) -> RhaiResult<Map> {
        crate::api::at(&ctx, || super::task_health(&crate::api::endpoint(), &task))
    }

    /// As `task::health(task)`, asking the engine at `host` (the task's
    /// node, e.g. `"unix:///run/node2/docker.sock"`) for its container.
    ///
    /// ```rhai
    /// let h = task::health(t, "unix:///run/node2/docker.sock");
    /// ```
    #[rhai_fn(name = "health", return_raw)]
    pub fn health_on(ctx: NativeCallContext, task: Map, host: &str) -> RhaiResult<Map> {
        crate::api::at(&ctx, || {
            super::task_health(&crate::api::node_engines::endpoint_for(host), &task)
        })
    }

    /// Waits until the task runs and its container is healthy and has
    /// stayed healthy for `stable_for`: `container::wait_healthy` for a
    /// swarm task, with the same options (`timeout` counts both). The task
    /// is re-read from the manager (the current engine), its container
    /// asked of the current engine: use the form with `host` when the task
    /// runs on another node. Throws at once when the task ends or is
    /// refused, or its container turns unhealthy, with the reason.
    ///
    /// ```rhai
    /// for t in task::list(#{ service: "web", desired_state: "running" }) {
    ///     task::wait_healthy(t, #{ timeout: "2m", stable_for: 5 });
    /// }
    /// ```
    #[rhai_fn(return_raw)]
    pub fn wait_healthy(ctx: NativeCallContext, task: Map, opts: Map) -> RhaiResult<()> {
        crate::api::at(&ctx, || super::wait_task_healthy(crate::api::endpoint(), &task, opts))
    }

    /// As `task::wait_healthy(task, opts)`, asking the engine at `host`
    /// (the task's node) for its container.
    ///
    /// ```rhai
    /// task::wait_healthy(t, "unix:///run/node2/docker.sock", #{ timeout: 60 });
    /// ```
    #[rhai_fn(name = "wait_healthy", return_raw)]
    pub fn wait_healthy_on(ctx: NativeCallContext, task: Map, host: &str, opts: Map) -> RhaiResult<()> {
        crate::api::at(&ctx, || {
            super::wait_task_healthy(crate::api::node_engines::endpoint_for(host), &task, opts)
        })
    }
}
