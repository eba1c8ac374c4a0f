//! Waiting for a `depends_on` condition: a dependency's containers
//! healthy or exited 0, polled as compose polls them. Used by `up` before a
//! service's containers start, and by `start`/`restart`.

use std::time::{Duration, Instant};

use bollard::query_parameters as qp;
use bollard::Docker;
use tokio::sync::mpsc;

use super::apply::{send_error as fail, send_event as emit, Event};
use super::desired::Condition;
use crate::docker::flatten;

/// Blocks until `dep`'s containers meet `cond`.
pub async fn condition(
    d: &Docker,
    project: &str,
    tx: &mpsc::UnboundedSender<Event>,
    wait_timeout: Option<Duration>,
    service: &str,
    dep: &str,
    cond: Condition,
) -> crate::error::Result<()> {
    if cond == Condition::Started {
        return Ok(());
    }
    let t = Instant::now();
    let ids: Vec<(String, String)> = super::observed::containers(d, project)
        .await?
        .into_iter()
        .filter(|c| c.service == dep)
        .map(|c| (c.id, c.name))
        .collect();
    for (id, name) in ids {
        emit(tx, "Container", &name, "Waiting", false, t);
        loop {
            if let Some(limit) = wait_timeout {
                if t.elapsed() > limit {
                    let msg = format!(
                        "service {service}: timed out waiting for {name} to be {}",
                        cond.as_str()
                    );
                    fail(tx, "Container", &name, &msg, t);
                    return Err(msg.into());
                }
            }
            let info = d
                .inspect_container(&id, None::<qp::InspectContainerOptions>)
                .await
                .map_err(|e| format!("{name}: {}", flatten(&e)))?;
            let state = info.state.unwrap_or_default();
            let status = state.status.map(|s| s.to_string()).unwrap_or_default();
            match cond {
                Condition::Healthy => {
                    let health = state.health.and_then(|h| h.status).map(|s| s.to_string());
                    match health.as_deref() {
                        Some("healthy") => {
                            emit(tx, "Container", &name, "Healthy", true, t);
                            break;
                        }
                        Some("unhealthy") => {
                            let msg = format!("dependency failed to start: container {name} is unhealthy");
                            fail(tx, "Container", &name, &msg, t);
                            return Err(msg.into());
                        }
                        None | Some("none") | Some("") => {
                            let msg = format!(
                                "dependency {dep} has no healthcheck configured (needed by {service}: service_healthy)"
                            );
                            fail(tx, "Container", &name, &msg, t);
                            return Err(msg.into());
                        }
                        _ => {}
                    }
                    if status == "exited" || status == "dead" {
                        let msg = format!(
                            "dependency failed to start: container {name} exited ({})",
                            state.exit_code.unwrap_or(-1)
                        );
                        fail(tx, "Container", &name, &msg, t);
                        return Err(msg.into());
                    }
                }
                Condition::CompletedSuccessfully => {
                    if status == "exited" || status == "dead" {
                        let code = state.exit_code.unwrap_or(-1);
                        if code == 0 {
                            emit(tx, "Container", &name, "Exited", true, t);
                            break;
                        }
                        let msg = format!("service {dep:?} didn't complete successfully: exit {code}");
                        fail(tx, "Container", &name, &msg, t);
                        return Err(msg.into());
                    }
                }
                Condition::Started => unreachable!(),
            }
            // Compose looks every 0.5 s; an inspect costs the engine
            // well under a millisecond, so look more often and go on sooner.
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    Ok(())
}
