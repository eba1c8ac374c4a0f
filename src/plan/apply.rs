//! Runs a plan. Builds first, then networks and volumes, then every
//! service as its own task: a service waits for its dependencies' conditions
//! (started, healthy, completed successfully), then converges its containers
//! in parallel. Independent services run at the same time; a failure stops
//! only the services that depend on the one that failed.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bollard::models::{NetworkCreateRequest, VolumeCreateRequest};
use bollard::query_parameters as qp;
use bollard::Docker;
use futures_util::future::join_all;
use tokio::sync::{mpsc, watch, Semaphore};

use super::containers::{create_container, create_only, recreate, remove_step, restart, start};
use super::desired::{Desired, ServiceSpec};
use super::diff::{Plan, Step};
use crate::docker::flatten;

/// Progress of one resource, as compose shows it ("Container x  Started").
#[derive(Clone, Debug, Default)]
pub struct Event {
    /// "Network", "Volume", "Image", "Container" or "Service".
    pub kind: &'static str,
    pub name: String,
    /// Creating, Created, Starting, Started, Recreate, Recreated, Waiting,
    /// Healthy, Exited, Stopping, Stopped, Removing, Removed, Building,
    /// Built, Error.
    pub status: String,
    /// compose's text between the resource and its status (its build
    /// lines: "c ==>  ==> writing image …"); mostly empty.
    pub text: String,
    pub done: bool,
    pub error: Option<String>,
    pub elapsed: Duration,
}

#[derive(Clone, Debug)]
pub struct ApplyOptions {
    /// Seconds a stop waits before killing (`-t`); None = each container's.
    pub timeout: Option<i64>,
    /// Create containers without starting them (`orch create`).
    pub no_start: bool,
    /// Engine operations in flight at once.
    pub parallel: usize,
    /// How long to wait for a dependency's health or completion.
    pub wait_timeout: Option<Duration>,
    /// Attached `up`: post_start hooks run attached, their output sent as
    /// `Hook` events (name: the container's log name, status: the line).
    pub attach_hooks: bool,
    /// `up -V`: a recreated container gets new anonymous volumes instead
    /// of its predecessor's (compose's `Inherit: false`).
    pub renew_anon_volumes: bool,
    /// `--dry-run`: report what would be done (`dry::events`), send the
    /// engine nothing.
    pub dry_run: bool,
}

impl Default for ApplyOptions {
    fn default() -> Self {
        ApplyOptions {
            timeout: None,
            no_start: false,
            parallel: 32,
            wait_timeout: None,
            attach_hooks: false,
            renew_anon_volumes: false,
            dry_run: false,
        }
    }
}

/// What went wrong, per resource; empty when everything applied.
#[derive(Clone, Debug, Default)]
pub struct Outcome {
    pub errors: Vec<(String, String)>,
}

impl Outcome {
    /// Waits for one task per service and records each failure under
    /// "service NAME" (a task that panicked under "orch").
    pub(super) async fn join_services<T, E: std::fmt::Display>(
        &mut self,
        tasks: Vec<tokio::task::JoinHandle<(String, Result<T, E>)>>,
    ) {
        for t in join_all(tasks).await {
            match t {
                Ok((name, Err(e))) => self.errors.push((format!("service {name}"), e.to_string())),
                Err(e) => self.errors.push(("orch".into(), format!("a service task failed: {e}"))),
                _ => {}
            }
        }
    }
}

#[derive(Clone)]
pub(super) struct Ctx {
    pub(super) d: Docker,
    pub(super) desired: Arc<Desired>,
    pub(super) opts: ApplyOptions,
    pub(super) events: mpsc::UnboundedSender<Event>,
    pub(super) ops: Arc<Semaphore>,
    /// Image reference → ID, inspected once per apply, not per service.
    image_ids: Arc<tokio::sync::Mutex<HashMap<String, String>>>,
    /// Dependents stopped before a recreate, started in their own turn.
    stopped: super::dependents::Stopped,
    /// The services this apply converges.
    scope: Arc<Vec<String>>,
}

impl Ctx {
    /// A context for work outside a plan (a rollout of `service`).
    pub(super) fn for_service(
        d: Docker,
        desired: Arc<Desired>,
        opts: ApplyOptions,
        events: mpsc::UnboundedSender<Event>,
        service: &str,
    ) -> Ctx {
        Ctx {
            d,
            desired,
            ops: Arc::new(Semaphore::new(opts.parallel.max(1))),
            opts,
            events,
            image_ids: Default::default(),
            stopped: Default::default(),
            scope: Arc::new(vec![service.to_string()]),
        }
    }

    pub(super) fn emit(&self, kind: &'static str, name: &str, status: &str, done: bool, started: Instant) {
        send_event(&self.events, kind, name, status, done, started);
    }

    pub(super) fn fail(&self, kind: &'static str, name: &str, err: &dyn std::fmt::Display, started: Instant) {
        send_error(&self.events, kind, name, err, started);
    }
}

/// Sends a progress event: `kind` ("Container", "Network" …) `name` is at
/// `status`, `done` when that is its last.
pub(super) fn send_event(
    tx: &mpsc::UnboundedSender<Event>,
    kind: &'static str,
    name: &str,
    status: &str,
    done: bool,
    started: Instant,
) {
    let _ = tx.send(Event {
        kind,
        name: name.to_string(),
        status: status.into(),
        done,
        error: None,
        elapsed: started.elapsed(),
        ..Default::default()
    });
}

/// Sends `kind` `name`'s failure event (its last).
pub(super) fn send_error(
    tx: &mpsc::UnboundedSender<Event>,
    kind: &'static str,
    name: &str,
    err: &dyn std::fmt::Display,
    started: Instant,
) {
    let _ = tx.send(Event {
        kind,
        name: name.to_string(),
        status: "Error".into(),
        done: true,
        error: Some(err.to_string()),
        elapsed: started.elapsed(),
        ..Default::default()
    });
}

/// Result of a service task, shared with the services that depend on it.
type Done = Option<crate::error::Result<()>>;

/// Applies `plan`; events stream to `events` as work progresses.
pub async fn apply(
    d: Docker,
    desired: Arc<Desired>,
    plan: Plan,
    opts: ApplyOptions,
    events: mpsc::UnboundedSender<Event>,
) -> Outcome {
    let ops = Arc::new(Semaphore::new(opts.parallel.max(1)));
    let ctx = Ctx {
        d,
        desired: desired.clone(),
        opts,
        events,
        ops,
        image_ids: Arc::new(tokio::sync::Mutex::new(plan.image_ids.clone())),
        stopped: Default::default(),
        scope: Arc::new(plan.services.clone()),
    };
    let mut outcome = Outcome::default();
    if !prepare(&ctx, &plan, &mut outcome).await {
        return outcome;
    }
    let tasks = spawn_services(&ctx, &plan);
    // Orphans (steps whose service is not in the project).
    let orphan_steps: Vec<Step> = plan
        .steps
        .iter()
        .filter(|s| matches!(s, Step::Remove { reason, .. } if reason == "orphan"))
        .cloned()
        .collect();
    for r in join_all(orphan_steps.into_iter().map(|s| remove_step(ctx.clone(), s))).await {
        if let Err((what, e)) = r {
            outcome.errors.push((what, e));
        }
    }
    outcome.join_services(tasks).await;
    outcome
}

/// What must exist before any container: images built (as compose's
/// create: a build that fails ends the run before anything else exists),
/// duplicate networks removed, networks and volumes created, and every
/// service checked against what the engine can honour. False: stop here.
async fn prepare(ctx: &Ctx, plan: &Plan, outcome: &mut Outcome) -> bool {
    // Images first, as compose's create does: a build that fails ends the
    // run before any network, volume or container exists.
    for step in &plan.steps {
        if let Step::Build { service, image, .. } = step {
            if let Err(e) = super::build::build(ctx, service, image).await {
                outcome.errors.push((format!("service {service}"), e.to_string()));
                return false;
            }
        }
    }

    // The project's duplicate networks first: while they exist, their
    // name is ambiguous to the engine.
    for step in &plan.steps {
        if let Step::RemoveNetwork { name, id } = step {
            if let Err(e) = super::repair::remove_network(&ctx.d, &ctx.events, name, id).await {
                outcome.errors.push((format!("network {name}"), e.to_string()));
            }
        }
    }
    // Networks and volumes: every service may need them.
    let mut infra: Vec<futures_util::future::BoxFuture<'static, Result<(), (String, String)>>> = Vec::new();
    for step in &plan.steps {
        match step {
            Step::CreateNetwork { name } => infra.push(Box::pin(create_network(ctx.clone(), name.clone()))),
            Step::CreateVolume { name } => infra.push(Box::pin(create_volume(ctx.clone(), name.clone()))),
            Step::RecreateNetwork { name, services } => infra.push(Box::pin(super::resources::recreate_network(
                ctx.clone(),
                name.clone(),
                services.clone(),
            ))),
            Step::RecreateVolume { name, services } => infra.push(Box::pin(super::resources::recreate_volume(
                ctx.clone(),
                name.clone(),
                services.clone(),
            ))),
            _ => {}
        }
    }
    for r in join_all(infra).await {
        if let Err((what, e)) = r {
            outcome.errors.push((what, e));
        }
    }
    if !outcome.errors.is_empty() {
        return false;
    }
    // As compose (after networks and volumes, before any container): a
    // service the engine cannot honour fails the run and no container is
    // created.
    for step in &plan.steps {
        if let Step::Create { service, name, .. } | Step::Recreate { service, name, .. } = step {
            let svc = ctx.desired.service(service).expect("planned");
            if let Some(e) = super::features::unsupported(&ctx.d, svc) {
                ctx.fail("container", name, &e, Instant::now());
                outcome.errors.push((format!("service {service}"), e));
                return false;
            }
        }
    }
    true
}

/// One task per service, each waiting on its dependencies' tasks.
fn spawn_services(ctx: &Ctx, plan: &Plan) -> Vec<tokio::task::JoinHandle<(String, crate::error::Result<()>)>> {
    let mut done_tx: HashMap<String, watch::Sender<Done>> = HashMap::new();
    let mut done_rx: HashMap<String, watch::Receiver<Done>> = HashMap::new();
    for s in &plan.services {
        let (tx, rx) = watch::channel(None);
        done_tx.insert(s.clone(), tx);
        done_rx.insert(s.clone(), rx);
    }
    // Each service's share of the plan, in one pass over it (a filter per
    // service was quadratic: 250,000 comparisons at 500 services).
    let mut work: HashMap<&str, Work> = plan.services.iter().map(|s| (s.as_str(), Work::default())).collect();
    for step in plan.steps.iter().filter(|s| !matches!(s, Step::Build { .. })) {
        if let Some(w) = step.service().and_then(|n| work.get_mut(n)) {
            w.steps.push(step.clone());
        }
    }
    for c in &plan.checks {
        if let Some(w) = work.get_mut(c.service.as_str()) {
            w.checks.push(c.clone());
        }
    }
    for (service, c) in &plan.running {
        if let Some(w) = work.get_mut(service.as_str()) {
            w.running.push(c.clone());
        }
    }
    let mut tasks = Vec::new();
    for name in &plan.services {
        let svc = ctx.desired.service(name).expect("planned");
        let deps: Vec<(super::desired::Dependency, Option<watch::Receiver<Done>>)> = svc
            .depends_on
            .iter()
            .map(|dep| (dep.clone(), done_rx.get(&dep.service).cloned()))
            .collect();
        let tx = done_tx.remove(name).expect("channel");
        let ctx = ctx.clone();
        let mine = work.remove(name.as_str()).unwrap_or_default();
        let name = name.clone();
        // The task reads its service from the shared desired state: a
        // copy per service (its create body included) was most of a
        // no-change `up`'s apply at 500 services.
        tasks.push(tokio::spawn(async move {
            let svc = ctx.desired.service(&name).expect("planned");
            let r = run_service(&ctx, svc, mine, deps).await;
            let _ = tx.send(Some(r.clone()));
            (name, r)
        }));
    }
    tasks
}

pub(super) async fn create_network(ctx: Ctx, name: String) -> Result<(), (String, String)> {
    create_object(&ctx, "Network", &name, |r: NetworkCreateRequest| {
        ctx.d.create_network(r)
    })
    .await
}

pub(super) async fn create_volume(ctx: Ctx, name: String) -> Result<(), (String, String)> {
    create_object(&ctx, "Volume", &name, |r: VolumeCreateRequest| ctx.d.create_volume(r)).await
}

/// Creates a network or volume (`kind`) from its planned body, with its
/// Creating/Created events, or its failure event and error.
async fn create_object<R, T, Fut>(
    ctx: &Ctx,
    kind: &'static str,
    name: &str,
    create: impl FnOnce(R) -> Fut,
) -> Result<(), (String, String)>
where
    R: serde::de::DeserializeOwned,
    Fut: std::future::Future<Output = Result<T, bollard::errors::Error>>,
{
    let t = Instant::now();
    let planned = if kind == "Network" {
        &ctx.desired.networks
    } else {
        &ctx.desired.volumes
    };
    let body = planned.iter().find(|o| o.name == name).expect("planned").body.clone();
    let what = format!("{} {name}", kind.to_lowercase());
    ctx.emit(kind, name, "Creating", false, t);
    let req: R = serde_json::from_value(body).map_err(|e| (what.clone(), e.to_string()))?;
    match create(req).await {
        Ok(_) => {
            ctx.emit(kind, name, "Created", true, t);
            Ok(())
        }
        Err(e) => {
            let msg = format!("{what}: {}", flatten(&e));
            ctx.fail(kind, name, &msg, t);
            Err((what, msg))
        }
    }
}

/// What the plan holds for one service.
#[derive(Default)]
struct Work {
    steps: Vec<Step>,
    checks: Vec<super::replicas::Check>,
    /// Kept replicas that run and need nothing (`Plan::running`).
    running: Vec<String>,
}

/// Waits for the dependencies, then converges the service's containers.
async fn run_service(
    ctx: &Ctx,
    svc: &ServiceSpec,
    work: Work,
    deps: Vec<(super::desired::Dependency, Option<watch::Receiver<Done>>)>,
) -> crate::error::Result<()> {
    let Work { steps, checks, running } = work;
    // Nothing of it to converge (a script's filter took it all, as `run`
    // does with its own service): no dependency to wait for either.
    if steps.is_empty() && checks.is_empty() && running.is_empty() {
        return Ok(());
    }
    let steps = if precreatable(svc, &steps, &checks) {
        precreate(ctx, svc, steps).await?
    } else {
        steps
    };
    wait_for_dependencies(ctx, svc, deps).await?;
    // Removals first (they may free a name or a port), then the rest in
    // parallel within the service.
    let (removes, rest): (Vec<Step>, Vec<Step>) = steps.into_iter().partition(|s| matches!(s, Step::Remove { .. }));
    for r in join_all(removes.into_iter().map(|s| remove_step(ctx.clone(), s))).await {
        r.map_err(|(_, e)| e)?;
    }
    let (renames, rest): (Vec<Step>, Vec<Step>) = rest.into_iter().partition(|s| matches!(s, Step::Rename { .. }));
    for r in &renames {
        super::repair::rename(&ctx.d, &ctx.events, r).await?;
    }
    let image_id = image_id(ctx, svc).await;
    let rest = super::recheck::steps(&ctx.d, &ctx.desired.project, svc, &checks, &image_id, rest).await?;
    report_running(ctx, &running, &rest);
    let rest = super::dependents::restart_stopped(&svc.name, &ctx.stopped, rest).await;
    if rest.iter().any(|s| matches!(s, Step::Recreate { .. })) {
        super::dependents::stop_for_recreate(
            &ctx.d,
            &ctx.desired,
            &svc.name,
            &ctx.scope,
            ctx.opts.timeout,
            &ctx.events,
            &ctx.stopped,
        )
        .await?;
    }
    let results = join_all(rest.into_iter().map(|s| {
        let ctx = ctx.clone();
        let image_id = image_id.clone();
        async move {
            let _permit = ctx.ops.acquire().await;
            match s {
                Step::Create { number, name, .. } => create_container(&ctx, svc, number, &name, &image_id, None).await,
                Step::Recreate { number, name, id, .. } => recreate(&ctx, svc, number, &name, &id, &image_id).await,
                Step::Start { .. } if ctx.opts.no_start => Ok(()),
                Step::Start { name, id, .. } => {
                    // It may have vanished since we looked (the engine rolls
                    // back creates of a killed client): then make it anew.
                    match ctx.d.inspect_container(&id, None::<qp::InspectContainerOptions>).await {
                        Err(e) if crate::docker::status(&e) == Some(404) => {
                            let number = name.rsplit('-').next().and_then(|n| n.parse().ok()).unwrap_or(1);
                            create_container(&ctx, svc, number, &name, &image_id, None).await
                        }
                        _ => start(&ctx, &svc.name, &name, &id).await,
                    }
                }
                Step::Restart { name, id, .. } => restart(&ctx, &svc.name, &name, &id).await,
                _ => Ok(()),
            }
        }
    }))
    .await;
    results.into_iter().collect::<Result<Vec<_>, _>>().map(|_| ())
}

/// Waits for each dependency's task, then (unless nothing starts) for the
/// condition its `depends_on` entry asks; a required one that fails fails
/// the service.
async fn wait_for_dependencies(
    ctx: &Ctx,
    svc: &ServiceSpec,
    deps: Vec<(super::desired::Dependency, Option<watch::Receiver<Done>>)>,
) -> crate::error::Result<()> {
    for (dep, rx) in deps {
        if let Some(mut rx) = rx {
            let done = rx.wait_for(|d| d.is_some()).await.map(|d| d.clone()).unwrap_or(None);
            if let Some(Err(_)) = done {
                if dep.required {
                    return Err(format!("dependency {} failed to start", dep.service).into());
                }
                continue;
            }
        }
        // Created, not started (`create`, `up --no-start`): compose creates
        // in dependency order but waits for no condition.
        if ctx.opts.no_start {
            continue;
        }
        if let Err(e) = super::wait::condition(
            &ctx.d,
            &ctx.desired.project,
            &ctx.events,
            ctx.opts.wait_timeout,
            &svc.name,
            &dep.service,
            dep.condition,
        )
        .await
        {
            if dep.required {
                return Err(e);
            }
        }
    }
    Ok(())
}

/// compose's convergence reports each running replica it keeps
/// (`Running`): those the recheck left with nothing to do.
fn report_running(ctx: &Ctx, running: &[String], rest: &[Step]) {
    let acted_on = |n: &String| rest.iter().any(|s| s.key().1.as_deref() == Some(n.as_str()));
    for name in running.iter().filter(|n| !acted_on(n)) {
        ctx.emit("Container", name, "Running", true, Instant::now());
    }
}

/// The ID of the image `svc` runs, as planned or (built since) asked.
async fn image_id(ctx: &Ctx, svc: &ServiceSpec) -> String {
    let mut ids = ctx.image_ids.lock().await;
    if let Some(id) = ids.get(&svc.image) {
        return id.clone();
    }
    let id = ctx
        .d
        .inspect_image(&svc.image)
        .await
        .ok()
        .and_then(|i| i.id)
        .unwrap_or_default();
    ids.insert(svc.image.clone(), id.clone());
    id
}

/// Compose creates every container of a run before it starts any (its
/// `create`, then its `start`), so a dependent's containers exist while
/// its dependencies start and its own start waits only for their
/// conditions. The applier does the same for a service whose steps are
/// all new containers, unless they refer to another service's containers
/// (`service:` namespaces, `volumes_from`, links), which must exist and
/// be resolved first.
fn precreatable(svc: &ServiceSpec, steps: &[Step], checks: &[super::replicas::Check]) -> bool {
    let links = svc.raw["links"].as_array().is_some_and(|l| !l.is_empty());
    !svc.has_refs
        && !links
        && checks.is_empty()
        && !steps.is_empty()
        && steps.iter().all(|s| matches!(s, Step::Create { .. }))
}

/// Creates the containers of `steps` (all `Create`) and returns the
/// starts still to do once the dependencies are ready.
async fn precreate(ctx: &Ctx, svc: &ServiceSpec, steps: Vec<Step>) -> crate::error::Result<Vec<Step>> {
    let image_id = image_id(ctx, svc).await;
    let created = join_all(steps.into_iter().map(|s| {
        let ctx = ctx.clone();
        let image_id = image_id.clone();
        async move {
            let Step::Create { number, name, .. } = s else {
                return Ok(None);
            };
            let _permit = ctx.ops.acquire().await;
            let t = Instant::now();
            ctx.emit("Container", &name, "Creating", false, t);
            match create_only(&ctx, svc, number, &name, &name, &image_id, None, None).await {
                Ok(id) => {
                    ctx.emit("Container", &name, "Created", !ctx.opts.no_start, t);
                    Ok(Some(Step::Start {
                        service: svc.name.clone(),
                        name,
                        id,
                        reason: "created ahead of its dependencies".into(),
                    }))
                }
                Err(e) => {
                    ctx.fail("Container", &name, &e, t);
                    Err(e)
                }
            }
        }
    }))
    .await;
    let starts: Vec<Step> = created
        .into_iter()
        .collect::<Result<Vec<_>, _>>()?
        .into_iter()
        .flatten()
        .collect();
    Ok(if ctx.opts.no_start { Vec::new() } else { starts })
}
