//! Compose stops the dependents of a service (those whose `depends_on`
//! entry says `restart: true`, which includes every `service:` namespace
//! reference) before it recreates the service, and starts them again once
//! their own turn comes. The applier does the same: the service's task
//! stops them and records which; each dependent's task then starts what
//! its own steps do not already recreate or start.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use bollard::query_parameters as qp;
use bollard::Docker;
use futures_util::future::join_all;
use tokio::sync::{mpsc, Mutex};

use super::apply::Event;
use super::desired::Desired;
use super::diff::Step;
use crate::docker::{flatten, status};

/// Dependents' containers stopped for a recreate: service → (id, name).
pub type Stopped = Arc<Mutex<HashMap<String, Vec<(String, String)>>>>;

fn send(tx: &mpsc::UnboundedSender<Event>, name: &str, st: &str, done: bool, t: Instant) {
    let _ = tx.send(Event {
        kind: "Container",
        name: name.to_string(),
        status: st.into(),
        done,
        error: None,
        elapsed: t.elapsed(),
        ..Default::default()
    });
}

/// Stops the running containers of `service`'s `restart: true` dependents
/// among `in_scope`, before `service` is recreated.
pub async fn stop_for_recreate(
    d: &Docker,
    desired: &Desired,
    service: &str,
    in_scope: &[String],
    timeout: Option<i64>,
    tx: &mpsc::UnboundedSender<Event>,
    stopped: &Stopped,
) -> crate::error::Result<()> {
    let dependents: Vec<&str> = desired
        .services
        .iter()
        .filter(|s| in_scope.contains(&s.name))
        .filter(|s| s.depends_on.iter().any(|dep| dep.service == service && dep.restart))
        .map(|s| s.name.as_str())
        .collect();
    if dependents.is_empty() {
        return Ok(());
    }
    let running: Vec<_> = super::observed::containers(d, &desired.project)
        .await?
        .into_iter()
        .filter(|c| dependents.contains(&c.service.as_str()) && c.state == "running")
        .collect();
    let jobs = running.into_iter().map(|c| async move {
        let t = Instant::now();
        send(tx, &c.name, "Stopping", false, t);
        let opts = qp::StopContainerOptions {
            t: timeout.map(|t| t as i32),
            signal: None,
        };
        // compose stops them with its `stop`, pre_stop hooks included.
        let spec = desired.service(&c.service);
        if super::hooks::pre_stop(d, spec, &c.id)
            .await
            .map_err(|e| e.to_string())?
        {
            match d.stop_container(&c.id, Some(opts)).await {
                Ok(()) => {}
                Err(e) if matches!(status(&e), Some(304) | Some(404)) => {}
                Err(e) => return Err(format!("stopping container {}: {}", c.name, flatten(&e))),
            }
        }
        send(tx, &c.name, "Stopped", true, t);
        Ok(c)
    });
    for r in join_all(jobs).await {
        let c = r?;
        stopped.lock().await.entry(c.service).or_default().push((c.id, c.name));
    }
    Ok(())
}

/// `steps` with a start for each of the service's containers stopped for a
/// dependency's recreate that no step recreates or starts (a restart step
/// becomes a start: the container is already stopped).
pub async fn restart_stopped(service: &str, stopped: &Stopped, mut steps: Vec<Step>) -> Vec<Step> {
    let ours = stopped.lock().await.remove(service).unwrap_or_default();
    for (id, name) in ours {
        steps.retain(|s| !matches!(s, Step::Restart { id: x, .. } if x == &id));
        let covered = steps
            .iter()
            .any(|s| matches!(s, Step::Recreate { id: x, .. } | Step::Start { id: x, .. } if x == &id));
        if !covered {
            steps.push(Step::Start {
                service: service.to_string(),
                name,
                id,
                reason: "stopped for a dependency's recreate".into(),
            });
        }
    }
    steps
}
