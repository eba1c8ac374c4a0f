//! Work on many containers at once: the engine calls run in parallel on
//! the runtime, their progress comes back to the script one event at a time.
//! `orch stop`, `start`, `restart`, `kill`, `pause`, `rm` are this plus
//! policy; `orch logs -f` and attached `up` use the merged log stream.
//!
//! ```rhai
//! let r = container::batch(container::list(#{ label: "app=demo" }), "stop", #{ timeout: 5 });
//! ```

use std::time::Instant;

use bollard::query_parameters as qp;
use rhai::{Array, Dynamic, Map, NativeCallContext};

use super::container::Container;
use super::options::ContainerBatchOpts;
use super::{fail, RhaiResult};
use crate::bridge;
use crate::docker::{flatten, status};
use crate::plan::apply::{Event, Outcome};

pub(super) fn containers(list: Array) -> RhaiResult<Vec<Container>> {
    list.into_iter()
        .map(|c| match c.try_cast::<Container>() {
            Some(c) => Ok(c),
            None => fail("container::batch: the list must hold containers (from container::list or ::get)"),
        })
        .collect()
}

/// Runs `op` on every container in parallel. Options: `timeout` (stop and
/// restart), `signal` (kill), `force` and `volumes` (remove), `on_event`,
/// `kill_on_force` (a second Ctrl-C kills the containers instead of
/// leaving them to the engine's stop), `dry_run` (report each container
/// as done and send the engine nothing, as compose's `--dry-run`).
pub fn batch(ctx: &NativeCallContext, list: Array, op: &str, opts: Map) -> RhaiResult<Map> {
    let o: ContainerBatchOpts = crate::api::opts::read("container::batch", opts)?;
    // compose reports a pause or an unpause only when done.
    let (done_status, busy_status) = match op {
        "start" => ("Started", Some("Starting")),
        "stop" => ("Stopped", Some("Stopping")),
        "restart" => ("Started", Some("Restarting")),
        "kill" => ("Killed", Some("Killing")),
        "pause" => ("Paused", None),
        "unpause" => ("Unpaused", None),
        "remove" => ("Removed", Some("Removing")),
        other => {
            return fail(format!(
                "container::batch: unknown operation {other:?} (start, stop, restart, kill, pause, unpause, remove)"
            ))
        }
    };
    let timeout = o.timeout.map(|t| t as i32);
    let signal = o.signal.clone().unwrap_or_else(|| "SIGKILL".into());
    let (force, volumes) = (o.force.unwrap_or(false), o.volumes.unwrap_or(false));
    let dry_run = o.dry_run.unwrap_or(false);
    let on_event = o.on_event.clone();
    let list = containers(list)?;
    let _force = o
        .kill_on_force
        .unwrap_or(false)
        .then(|| bridge::on_force(kill_all(list.clone())));
    let op = op.to_string();
    super::plan::run_with_events(ctx, on_event, move |tx| async move {
        let jobs = list.into_iter().map(|c| {
            let (tx, op, signal) = (tx.clone(), op.clone(), signal.clone());
            async move {
                let t = Instant::now();
                let send = |status: &str, done: bool, error: Option<String>| {
                    let _ = tx.send(Event {
                        kind: "Container",
                        name: c.name.clone(),
                        status: status.into(),
                        done,
                        error,
                        elapsed: t.elapsed(),
                        ..Default::default()
                    });
                };
                if let Some(busy) = busy_status {
                    send(busy, false, None);
                }
                if dry_run {
                    send(done_status, true, None);
                    return Ok(());
                }
                let d = match c.ep.client().await {
                    Ok(d) => d,
                    Err(e) => return Err(e.to_string()),
                };
                let r = one(
                    d,
                    &c.id,
                    &op,
                    &Settings {
                        timeout,
                        signal,
                        force,
                        volumes,
                    },
                )
                .await;
                match r {
                    // Already in the wanted state (304) is success, as for docker.
                    Ok(_) => {}
                    Err(e) if status(&e) == Some(304) => {}
                    Err(e) => {
                        let msg = format!("container {op} {}: {}", c.name, flatten(&e));
                        send("Error", true, Some(msg.clone()));
                        return Err(msg);
                    }
                }
                send(done_status, true, None);
                Ok(())
            }
        });
        let errors = futures_util::future::join_all(jobs)
            .await
            .into_iter()
            .filter_map(Result::err)
            .map(|e| ("container".to_string(), e))
            .collect();
        Outcome { errors }
    })
}

/// What `container::batch`'s options set for each operation.
struct Settings {
    timeout: Option<i32>,
    signal: String,
    force: bool,
    volumes: bool,
}

/// One container's engine call for `op` (`remove` for any other).
async fn one(d: &bollard::Docker, id: &str, op: &str, s: &Settings) -> Result<(), bollard::errors::Error> {
    let patient = crate::docker::patient(d, s.timeout.map(i64::from));
    match op {
        "start" => d.start_container(id, None::<qp::StartContainerOptions>).await,
        "stop" => {
            let o = qp::StopContainerOptions {
                t: s.timeout,
                signal: None,
            };
            patient.stop_container(id, Some(o)).await
        }
        "restart" => {
            let o = qp::RestartContainerOptions {
                t: s.timeout,
                signal: None,
            };
            patient.restart_container(id, Some(o)).await
        }
        "kill" => {
            let o = qp::KillContainerOptions {
                signal: s.signal.clone(),
            };
            d.kill_container(id, Some(o)).await
        }
        "pause" => d.pause_container(id).await,
        "unpause" => d.unpause_container(id).await,
        _ => {
            let o = qp::RemoveContainerOptions {
                force: s.force,
                v: s.volumes,
                link: false,
            };
            crate::docker::remove_container(d, id, o).await
        }
    }
}

/// SIGKILL to every container, errors ignored (some are already gone).
async fn kill_all(list: Vec<Container>) {
    let kills = list.into_iter().map(|c| async move {
        if let Ok(d) = c.ep.client().await {
            let opts = qp::KillContainerOptions {
                signal: "SIGKILL".into(),
            };
            let _ = d.kill_container(&c.id, Some(opts)).await;
        }
    });
    futures_util::future::join_all(kills).await;
}

/// The log options containers and tasks share: `follow`, `tail` (number
/// or "all"), `since`/`until` (unix seconds), `timestamps`.
pub struct LogQuery {
    pub follow: Option<bool>,
    pub tail: Option<Dynamic>,
    pub since: Option<i64>,
    pub until: Option<i64>,
    pub timestamps: Option<bool>,
}

/// The engine's log query for `q`.
pub fn logs_options(q: &LogQuery) -> qp::LogsOptions {
    let tail = match &q.tail {
        Some(v) if v.is_int() => v.as_int().unwrap_or(0).to_string(),
        Some(v) => v.to_string(),
        None => "all".into(),
    };
    qp::LogsOptions {
        follow: q.follow.unwrap_or(false),
        stdout: true,
        stderr: true,
        since: q.since.unwrap_or(0) as i32,
        until: q.until.unwrap_or(0) as i32,
        timestamps: q.timestamps.unwrap_or(false),
        tail,
    }
}
