//! Repairs what a recreate cut short leaves behind. Compose (and orch)
//! recreate a replica by creating `<old id12>_<name>`, removing the old
//! container, then renaming the new one; a kill in between leaves the
//! temporary name for good (compose never repairs it). The next plan does:
//! if the replica's own container is gone, the temporary copy (it holds
//! the newest configuration and the carried-over volumes) is renamed to
//! the replica's name; if both exist, the copy is removed and the usual
//! rules recreate the replica again if it is obsolete. Also: the copies
//! of a network two racing `up`s both created, and the requests a killed
//! run's engine was still carrying out.

use std::time::{Duration, Instant};

use bollard::query_parameters as qp;
use bollard::Docker;
use tokio::sync::mpsc;

use super::apply::Event;
use super::desired::ServiceSpec;
use super::diff::Step;
use super::observed::ObservedContainer;
use crate::docker::flatten;

/// Whether `name` is a recreate's temporary name for `proper`.
pub fn is_temp_of(name: &str, proper: &str) -> bool {
    name.strip_suffix(proper)
        .and_then(|p| p.strip_suffix('_'))
        .is_some_and(|id| id.len() == 12 && id.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// The service's containers with temporary copies renamed or removed
/// (the steps that do it are pushed to `steps`).
pub fn temp_copies(
    svc: &ServiceSpec,
    project: &str,
    existing: Vec<&ObservedContainer>,
    steps: &mut Vec<Step>,
) -> Vec<ObservedContainer> {
    let mut out: Vec<ObservedContainer> = Vec::new();
    let (temps, proper): (Vec<_>, Vec<_>) = existing
        .into_iter()
        .partition(|c| is_temp_of(&c.name, &svc.container_name(project, c.number)));
    out.extend(proper.into_iter().cloned());
    for t in temps {
        let target = svc.container_name(project, t.number);
        if out.iter().any(|c| c.name == target) {
            steps.push(Step::Remove {
                service: svc.name.clone(),
                name: t.name.clone(),
                id: t.id.clone(),
                reason: "unfinished recreate".into(),
            });
            continue;
        }
        steps.push(Step::Rename {
            service: svc.name.clone(),
            name: t.name.clone(),
            id: t.id.clone(),
            to: target.clone(),
        });
        let mut c = t.clone();
        c.name = target;
        out.push(c);
    }
    out
}

/// Waits until the project's containers (IDs and states) have not changed
/// for a second, or 15 s passed: a killed run's last requests land on the
/// engine after the run died, and a plan made before they land counts a
/// replica too few (then creates one too many).
pub async fn settle(d: &Docker, project: &str) -> crate::error::Result<()> {
    const QUIET: Duration = Duration::from_secs(1);
    let started = Instant::now();
    let mut last = None;
    let mut since = Instant::now();
    loop {
        let mut now: Vec<(String, String)> = super::observed::containers(d, project)
            .await?
            .into_iter()
            .map(|c| (c.id, c.state))
            .collect();
        now.sort();
        if last.as_ref() != Some(&now) {
            last = Some(now);
            since = Instant::now();
        } else if since.elapsed() >= QUIET || started.elapsed() >= Duration::from_secs(15) {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Runs a rename step.
pub async fn rename(d: &Docker, tx: &mpsc::UnboundedSender<Event>, step: &Step) -> crate::error::Result<()> {
    let Step::Rename { name, id, to, .. } = step else {
        return Ok(());
    };
    let t = Instant::now();
    let r = match d
        .rename_container(id, qp::RenameContainerOptions { name: to.clone() })
        .await
    {
        // The killed run's own rename landed after we looked: done.
        Err(e) if flatten(&e).contains("same name as its current name") => Ok(()),
        r => r.map_err(|e| crate::error::Error::from(format!("renaming {name} to {to}: {}", flatten(&e)))),
    };
    let (status, error) = match &r {
        Ok(()) => ("Renamed".to_string(), None),
        Err(e) => ("Error".to_string(), Some(e.to_string())),
    };
    let _ = tx.send(Event {
        kind: "Container",
        name: to.clone(),
        status,
        done: true,
        error,
        elapsed: t.elapsed(),
        ..Default::default()
    });
    r
}

/// Removes a duplicate of one of the project's networks, by ID.
pub async fn remove_network(
    d: &Docker,
    tx: &mpsc::UnboundedSender<Event>,
    name: &str,
    id: &str,
) -> crate::error::Result<()> {
    let t = Instant::now();
    let r = match d.remove_network(id).await {
        Ok(()) => Ok(()),
        Err(e) if crate::docker::status(&e) == Some(404) => Ok(()),
        Err(e) => Err(format!("removing duplicate network {name} ({id:.12}): {}", flatten(&e)).into()),
    };
    let _ = tx.send(Event {
        kind: "Network",
        name: name.to_string(),
        status: if r.is_ok() { "Removed" } else { "Error" }.into(),
        done: true,
        error: r.as_ref().err().map(ToString::to_string),
        elapsed: t.elapsed(),
        ..Default::default()
    });
    r
}

#[cfg(test)]
mod tests {
    use super::is_temp_of;

    #[test]
    fn temporary_names() {
        assert!(is_temp_of("0123456789ab_p-web-1", "p-web-1"));
        assert!(!is_temp_of("p-web-1", "p-web-1"));
        assert!(!is_temp_of("0123456789ab-p-web-1", "p-web-1"));
        assert!(!is_temp_of("xyz_p-web-1", "p-web-1"));
    }
}
