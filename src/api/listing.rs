//! A project's containers, listed ahead of the plan that needs them.
//!
//! At 500 containers the engine's list is the slowest answer a plan waits
//! for (30–40 ms here: more than loading the compose file, checking its
//! images and computing the desired state together). So the list is asked
//! for as soon as the script knows the project's name — with `-p NAME`
//! before the file is even read (`plan::prefetch`) — and runs on the
//! runtime while the script thread goes on; `plan::compute` takes the
//! answer. A list nobody takes is dropped with the process: it only reads.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::bridge;
use crate::docker::Endpoint;
use crate::error::{Error, Result};
use crate::plan::{lock, observed};

/// How old a prefetched list may be when the plan takes it: a slow pull
/// between the two (minutes) must not leave the plan with what was there
/// before it. The apply's own freshness rule is the same second.
const FRESH: Duration = Duration::from_secs(1);

/// One list of a project's containers, under way or done.
pub struct Listing {
    ep: Arc<Endpoint>,
    project: String,
    /// The project lock's generation, read just before the list was asked
    /// for (see `lock::quiet`): the plan's observation starts here.
    pub generation: Option<u64>,
    pub observed_at: Instant,
    task: tokio::task::JoinHandle<Result<Vec<observed::ObservedContainer>>>,
}

/// The list `plan::prefetch` started, until a plan takes it.
static AHEAD: Mutex<Option<Listing>> = Mutex::new(None);

impl Listing {
    /// Asks `ep` for `project`'s containers now.
    pub fn start(ep: &Arc<Endpoint>, project: &str) -> Listing {
        // Read before anything is observed (see lock::quiet).
        let generation = lock::quiet(&ep.host, project);
        let (client, name) = (ep.clone(), project.to_string());
        let task = bridge::handle().spawn(async move {
            let d = client.client().await.map_err(|e| Error::connect(e.to_string()))?;
            observed::containers(d, &name).await
        });
        Listing {
            ep: ep.clone(),
            project: project.to_string(),
            generation,
            observed_at: Instant::now(),
            task,
        }
    }

    /// The engine's answer.
    pub async fn containers(self) -> Result<Vec<observed::ObservedContainer>> {
        let project = self.project;
        self.task
            .await
            .unwrap_or_else(|e| Err(format!("listing containers of project {project}: {e}").into()))
    }

    fn is_for(&self, ep: &Arc<Endpoint>, project: &str) -> bool {
        Arc::ptr_eq(&self.ep, ep) && self.project == project
    }
}

/// Starts listing `project`'s containers on `ep` for the next plan of it;
/// a list of the same project already under way is kept.
pub fn prefetch(ep: &Arc<Endpoint>, project: &str) {
    let mut ahead = AHEAD.lock().unwrap_or_else(|e| e.into_inner());
    if ahead.as_ref().is_some_and(|l| l.is_for(ep, project)) {
        return;
    }
    if let Some(old) = ahead.replace(Listing::start(ep, project)) {
        old.task.abort();
    }
}

/// The list of `project` on `ep` for a plan: the prefetched one when it is
/// for this project and recent, else one asked for now.
pub fn for_plan(ep: &Arc<Endpoint>, project: &str) -> Listing {
    let ahead = AHEAD.lock().unwrap_or_else(|e| e.into_inner()).take();
    match ahead {
        Some(l) if l.is_for(ep, project) && l.observed_at.elapsed() < FRESH => l,
        other => {
            if let Some(old) = other {
                old.task.abort();
            }
            Listing::start(ep, project)
        }
    }
}
