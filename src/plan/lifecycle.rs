//! `start`, `stop` and `restart` as Docker Compose orders them:
//!
//! - start: the named services and what they depend on (all services
//!   without names), in dependency order; before a service starts, its
//!   `depends_on` conditions (healthy, completed) are waited for.
//! - stop: the named services only (all without names), dependents
//!   before what they depend on.
//! - restart: the named services and, transitively, their dependents
//!   through `restart: true` entries (all without names); in dependency
//!   order over those entries, waiting for their conditions.
//!
//! Dependencies come from the compose file when there is one, else from
//! the containers' `com.docker.compose.depends_on` labels. Unrelated
//! services go in parallel; a failure stops only what depends on it.

use std::collections::{BTreeSet, HashMap};
use std::time::{Duration, Instant};

use bollard::query_parameters as qp;
use bollard::Docker;
use futures_util::future::join_all;
use tokio::sync::{mpsc, watch};

use super::apply::{Event, Outcome};
use super::desired::{Condition, Desired, ServiceSpec};
use super::observed::ObservedContainer;
use crate::docker::{flatten, status};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Start,
    Stop,
    Restart,
}

impl Action {
    /// What compose's progress says during and after the action.
    fn statuses(self) -> (&'static str, &'static str) {
        match self {
            Action::Start => ("Starting", "Started"),
            Action::Stop => ("Stopping", "Stopped"),
            Action::Restart => ("Restarting", "Started"),
        }
    }
}

#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Services named on the command line; empty means all.
    pub services: Vec<String>,
    /// Seconds a stop waits before killing.
    pub timeout: Option<i64>,
    /// How long to wait for a dependency's condition.
    pub wait_timeout: Option<Duration>,
    /// `restart --no-deps`: the named services only, in no order.
    pub no_deps: bool,
    /// The project's environment, for `environment:` secret and config
    /// sources written into containers before they start.
    pub environment: HashMap<String, String>,
    /// compose's `--dry-run`: each container is reported as acted on, in
    /// the usual order, with no engine call, hook or condition wait.
    pub dry_run: bool,
}

#[derive(Clone, Debug)]
struct Edge {
    to: String,
    condition: Condition,
    restart: bool,
}

/// service → what it depends on.
type Graph = HashMap<String, Vec<Edge>>;

fn graph(desired: Option<&Desired>, containers: &[(ObservedContainer, String)]) -> Graph {
    let mut g: Graph = HashMap::new();
    if let Some(d) = desired {
        for s in &d.services {
            let edges = s
                .depends_on
                .iter()
                .map(|x| Edge {
                    to: x.service.clone(),
                    condition: x.condition,
                    restart: x.restart,
                })
                .collect();
            g.insert(s.name.clone(), edges);
        }
        return g;
    }
    // "db:service_healthy:false,cache:service_started:true"
    for (c, label) in containers {
        let edges = g.entry(c.service.clone()).or_default();
        for item in label.split(',').filter(|x| !x.is_empty()) {
            let parts: Vec<&str> = item.split(':').collect();
            if edges.iter().any(|e| e.to == parts[0]) {
                continue;
            }
            edges.push(Edge {
                to: parts[0].to_string(),
                condition: match parts.get(1).copied() {
                    Some("service_healthy") => Condition::Healthy,
                    Some("service_completed_successfully") => Condition::CompletedSuccessfully,
                    _ => Condition::Started,
                },
                restart: parts.get(2) == Some(&"true"),
            });
        }
    }
    g
}

/// The services an action touches, with the edges that order it.
fn selection(g: &Graph, action: Action, named: &[String]) -> (BTreeSet<String>, Graph) {
    let edges: Graph = g
        .iter()
        .map(|(s, e)| {
            let kept = e
                .iter()
                .filter(|x| action != Action::Restart || x.restart)
                .filter(|x| g.contains_key(&x.to))
                .cloned()
                .collect();
            (s.clone(), kept)
        })
        .collect();
    if named.is_empty() {
        return (g.keys().cloned().collect(), edges);
    }
    let mut chosen: BTreeSet<String> = BTreeSet::new();
    let mut todo: Vec<String> = named.iter().filter(|s| g.contains_key(*s)).cloned().collect();
    while let Some(s) = todo.pop() {
        if !chosen.insert(s.clone()) {
            continue;
        }
        match action {
            Action::Stop => {}
            Action::Start => todo.extend(edges[&s].iter().map(|e| e.to.clone())),
            Action::Restart => todo.extend(
                edges
                    .iter()
                    .filter(|(_, e)| e.iter().any(|x| x.to == s))
                    .map(|(d, _)| d.clone()),
            ),
        }
    }
    (chosen, edges)
}

fn send(tx: &mpsc::UnboundedSender<Event>, name: &str, st: &str, done: bool, err: Option<String>, t: Instant) {
    let _ = tx.send(Event {
        kind: "Container",
        name: name.to_string(),
        status: if err.is_some() { "Error".into() } else { st.into() },
        done,
        error: err,
        elapsed: t.elapsed(),
        ..Default::default()
    });
}

/// One container's part of the action. `spec`: the service as the
/// compose file has it, whose secrets and configs a start writes in first
/// (as compose's start does, so `create` then `start` equals `up`), and
/// whose hooks run around the start, stop or restart.
async fn act(
    d: &Docker,
    tx: &mpsc::UnboundedSender<Event>,
    action: Action,
    c: &ObservedContainer,
    timeout: Option<i64>,
    spec: Option<&ServiceSpec>,
    dry_run: bool,
) -> crate::error::Result<()> {
    let t = Instant::now();
    if dry_run {
        let (during, after) = action.statuses();
        send(tx, &c.name, during, false, None, t);
        send(tx, &c.name, after, true, None, t);
        return Ok(());
    }
    if let (Action::Start, Some(spec)) = (action, spec) {
        if let Err(e) = super::secrets::inject(d, spec, &c.id).await {
            send(tx, &c.name, "", true, Some(e.to_string()), t);
            return Err(e);
        }
    }
    let (during, after) = action.statuses();
    send(tx, &c.name, during, false, None, t);
    // pre_stop hooks before a stop or restart; a stop of a container gone
    // or not running is then skipped, as compose skips it (a restart
    // reports the hook's error instead).
    if action != Action::Start {
        let hooked = match action {
            Action::Stop => super::hooks::pre_stop(d, spec, &c.id).await,
            _ => super::hooks::run_for(d, spec, &c.id, |s| &s.pre_stop)
                .await
                .map(|()| true),
        };
        match hooked {
            Ok(true) => {}
            Ok(false) => return Ok(()),
            Err(e) => {
                send(tx, &c.name, "", true, Some(e.to_string()), t);
                return Err(e.to_string().into());
            }
        }
    }
    let r = match action {
        Action::Start => d.start_container(&c.id, None::<qp::StartContainerOptions>).await,
        Action::Stop => {
            let o = qp::StopContainerOptions {
                t: timeout.map(|t| t as i32),
                signal: None,
            };
            match d.stop_container(&c.id, Some(o)).await {
                Err(e) if status(&e) == Some(304) => Ok(()),
                other => other,
            }
        }
        Action::Restart => {
            let o = qp::RestartContainerOptions {
                t: timeout.map(|t| t as i32),
                signal: None,
            };
            d.restart_container(&c.id, Some(o)).await
        }
    };
    match r {
        Ok(()) => {
            // compose reports it started once its post_start hooks succeeded.
            if action != Action::Stop {
                if let Err(e) = super::hooks::post_start(d, spec, &c.id).await {
                    send(tx, &c.name, "", true, Some(e.to_string()), t);
                    return Err(e.to_string().into());
                }
            }
            send(tx, &c.name, after, true, None, t);
            Ok(())
        }
        Err(e) => {
            let verb = match action {
                Action::Start => "starting",
                Action::Stop => "stopping",
                Action::Restart => "restarting",
            };
            let msg = format!("{verb} container {}: {}", c.name, flatten(&e));
            send(tx, &c.name, "", true, Some(msg.clone()), t);
            Err(msg.into())
        }
    }
}

type Done = Option<crate::error::Result<()>>;

/// One service's part: wait for what comes first, then act on its
/// containers in parallel.
struct Job {
    d: Docker,
    tx: mpsc::UnboundedSender<Event>,
    project: String,
    name: String,
    action: Action,
    /// Tasks to finish first (with the edge when a failure there counts).
    before: Vec<(Option<Edge>, watch::Receiver<Done>)>,
    /// Conditions to wait for.
    waits: Vec<Edge>,
    mine: Vec<ObservedContainer>,
    /// A service to start that has no container.
    missing: bool,
    timeout: Option<i64>,
    wait_timeout: Option<Duration>,
    /// The service's definition, when the compose file was loaded.
    spec: Option<ServiceSpec>,
    dry_run: bool,
}

impl Job {
    async fn run(self) -> crate::error::Result<()> {
        for (edge, mut rx) in self.before {
            let prior = rx.wait_for(|x| x.is_some()).await.map(|x| x.clone()).unwrap_or(None);
            if let (Some(Err(_)), Some(e)) = (prior, edge) {
                return Err(format!("dependency {} failed to start", e.to).into());
            }
        }
        let (d, tx) = (&self.d, &self.tx);
        for e in self.waits.iter().filter(|_| !self.dry_run) {
            super::wait::condition(d, &self.project, tx, self.wait_timeout, &self.name, &e.to, e.condition).await?;
        }
        if self.missing {
            return Err(format!("service {:?} has no container to start", self.name).into());
        }
        let spec = self.spec.as_ref();
        let jobs = self
            .mine
            .iter()
            .map(|c| act(d, tx, self.action, c, self.timeout, spec, self.dry_run));
        join_all(jobs)
            .await
            .into_iter()
            .collect::<Result<Vec<_>, _>>()
            .map(|_| ())
    }
}

/// What service `s` waits for first: its dependencies (start, restart) or
/// its dependents (stop), among the chosen services; and the dependency
/// conditions it waits on.
type Prerequisites = (Vec<(Option<Edge>, watch::Receiver<Done>)>, Vec<Edge>);

fn prerequisites(
    action: Action,
    edges: &Graph,
    chosen: &BTreeSet<String>,
    rxs: &HashMap<String, watch::Receiver<Done>>,
    s: &String,
) -> Prerequisites {
    match action {
        Action::Stop => {
            let before = edges
                .iter()
                .filter(|(x, e)| chosen.contains(*x) && e.iter().any(|y| &y.to == s))
                .map(|(x, _)| (None, rxs[x].clone()))
                .collect();
            (before, Vec::new())
        }
        _ => {
            let before = edges[s]
                .iter()
                .map(|e| (Some(e.clone()), rxs.get(&e.to).cloned()))
                .filter_map(|(e, r)| Some((e, r?)))
                .collect();
            (before, edges[s].clone())
        }
    }
}

/// Service `s`'s containers the action touches (start: those not running),
/// and whether a start finds none where the file expects some.
fn containers_of(
    listed: &[(ObservedContainer, String)],
    desired: Option<&Desired>,
    action: Action,
    s: &String,
) -> (Vec<ObservedContainer>, bool) {
    let mine = listed
        .iter()
        .map(|(c, _)| c)
        .filter(|c| &c.service == s)
        .filter(|c| action != Action::Start || c.state != "running")
        .cloned()
        .collect();
    let expected = desired.and_then(|x| x.service(s)).is_none_or(|x| x.replicas > 0);
    let missing = action == Action::Start && expected && !listed.iter().any(|(c, _)| &c.service == s);
    (mine, missing)
}

/// Runs `action` on `project`'s containers in compose's order.
pub async fn run(
    d: Docker,
    project: String,
    desired: Option<Desired>,
    action: Action,
    opts: Options,
    tx: mpsc::UnboundedSender<Event>,
) -> Outcome {
    let mut outcome = Outcome::default();
    let listed = match super::observed::containers_with_labels(&d, &project).await {
        Ok(l) => l,
        Err(e) => {
            outcome.errors.push(("project".into(), e.to_string()));
            return outcome;
        }
    };
    let g = graph(desired.as_ref(), &listed);
    // Unknown names, as compose reports them (a stop by labels alone
    // ignores them: the service may just have no container left).
    let unknown = opts.services.iter().find(|s| !g.contains_key(*s));
    if let Some(bad) = unknown.filter(|_| action != Action::Stop || desired.is_some()) {
        let msg = match (action, desired.is_some()) {
            (Action::Start, false) => format!("no such service: {bad:?}: not found"),
            _ => format!("no such service: {bad}"),
        };
        outcome.errors.push(("project".into(), msg));
        return outcome;
    }
    let (mut chosen, mut edges) = selection(&g, action, &opts.services);
    if opts.no_deps && !opts.services.is_empty() {
        chosen.retain(|s| opts.services.contains(s));
        edges.values_mut().for_each(Vec::clear);
    }
    // What start writes into containers (compose fails on an unset
    // variable of an `environment:` source, before starting it).
    let mut desired = desired;
    if let (Action::Start, Some(d)) = (action, desired.as_mut()) {
        let names: Vec<String> = chosen.iter().cloned().collect();
        if let Err(e) = super::secrets::prepare(d, &names, &opts.environment) {
            outcome.errors.push(("project".into(), e.to_string()));
            return outcome;
        }
    }
    let mut txs: HashMap<String, watch::Sender<Done>> = HashMap::new();
    let mut rxs: HashMap<String, watch::Receiver<Done>> = HashMap::new();
    for s in &chosen {
        let (t, r) = watch::channel(None);
        txs.insert(s.clone(), t);
        rxs.insert(s.clone(), r);
    }
    let mut tasks = Vec::new();
    for s in &chosen {
        let (before, waits) = prerequisites(action, &edges, &chosen, &rxs, s);
        let (mine, missing) = containers_of(&listed, desired.as_ref(), action, s);
        let job = Job {
            d: d.clone(),
            tx: tx.clone(),
            project: project.clone(),
            name: s.clone(),
            action,
            before,
            waits,
            mine,
            missing,
            timeout: opts.timeout,
            wait_timeout: opts.wait_timeout,
            spec: desired.as_ref().and_then(|x| x.service(s)).cloned(),
            dry_run: opts.dry_run,
        };
        let done = txs.remove(s).expect("channel");
        tasks.push(tokio::spawn(async move {
            let name = job.name.clone();
            let r = job.run().await;
            let _ = done.send(Some(r.clone()));
            (name, r)
        }));
    }
    outcome.join_services(tasks).await;
    outcome
}
