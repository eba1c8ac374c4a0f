//! Taking a project down: its containers (in parallel, dependents before
//! what they depend on, as compose), then its networks,
//! and with `volumes` its volumes, with `rmi` its images. Everything is
//! found by compose labels, so it works on what `docker compose` started
//! too, and never touches a resource of another project or of none.

use std::collections::{BTreeSet, HashMap};
use std::time::Instant;

use bollard::query_parameters as qp;
use bollard::Docker;
use futures_util::future::join_all;
use tokio::sync::mpsc;

use super::apply::{send_event as send, Event, Outcome};
use super::desired::{Desired, LABEL_DEPENDS_ON, LABEL_ONEOFF, LABEL_PROJECT, LABEL_SERVICE};
use crate::docker::{flatten, status};
use crate::error::Error;

#[derive(Clone, Debug, Default)]
pub struct DownOptions {
    /// Also remove named volumes of the project and anonymous volumes of
    /// its containers (`-v`).
    pub volumes: bool,
    /// Remove containers of services no longer in the project.
    pub remove_orphans: bool,
    /// `local`: images built for services with no image name; `all`: every
    /// image the services use.
    pub rmi: Option<String>,
    /// Seconds a stop waits before killing.
    pub timeout: Option<i64>,
    /// `down SERVICE…`: only these and their dependents; empty means all.
    pub services: Vec<String>,
    /// compose's `--dry-run`: the usual progress, no engine change. What
    /// would go is reported removed; networks its containers still hold
    /// are "still in use", as in compose's dry run.
    pub dry_run: bool,
}

/// The services `down SERVICE…` takes down, as compose picks them: the
/// named ones and, transitively, what depends on them. Names the compose
/// file lacks are an error; without a file, names no container has are
/// dropped. None: all services.
fn selection(
    named: &[String],
    desired: Option<&Desired>,
    containers: &[bollard::models::ContainerSummary],
) -> crate::error::Result<Option<BTreeSet<String>>> {
    if named.is_empty() {
        return Ok(None);
    }
    let mut depends: HashMap<String, BTreeSet<String>> = HashMap::new();
    match desired {
        Some(d) => {
            for s in &d.services {
                depends.insert(s.name.clone(), s.depends_on.iter().map(|x| x.service.clone()).collect());
            }
            if let Some(bad) = named.iter().find(|n| d.service(n).is_none()) {
                return Err(format!("no such service: {bad}").into());
            }
        }
        None => {
            for c in containers {
                let labels = c.labels.clone().unwrap_or_default();
                let Some(svc) = labels.get(LABEL_SERVICE) else { continue };
                depends.entry(svc.clone()).or_default().extend(label_deps(&labels));
            }
        }
    }
    let mut chosen = BTreeSet::new();
    let mut todo: Vec<String> = named.iter().filter(|n| depends.contains_key(*n)).cloned().collect();
    while let Some(s) = todo.pop() {
        if chosen.insert(s.clone()) {
            todo.extend(depends.iter().filter(|(_, d)| d.contains(&s)).map(|(x, _)| x.clone()));
        }
    }
    Ok(Some(chosen))
}

fn label_filter(project: &str) -> HashMap<String, Vec<String>> {
    HashMap::from([("label".to_string(), vec![format!("{LABEL_PROJECT}={project}")])])
}

/// Runs each service's container jobs (in parallel) once every service
/// that depends on it is done, as compose stops dependents before their
/// dependencies; services unrelated by `depends_on` go at once. Labels that
/// form a cycle (not from a valid file) lose their order, not their jobs.
async fn in_reverse_dependency_order<F, T>(
    work: HashMap<String, Vec<F>>,
    depends: &HashMap<String, BTreeSet<String>>,
) -> Vec<T>
where
    F: std::future::Future<Output = T>,
{
    use futures_util::FutureExt;
    let present: BTreeSet<&String> = work.keys().collect();
    let mut dependents: HashMap<&String, Vec<&String>> = HashMap::new();
    for (svc, deps) in depends {
        for d in deps
            .iter()
            .filter(|d| present.contains(d) && present.contains(svc) && *d != svc)
        {
            dependents.entry(d).or_default().push(svc);
        }
    }
    // Kahn: if not every service can be ordered, give up the order.
    let mut pending: HashMap<&String, usize> = present.iter().map(|s| (*s, 0)).collect();
    for (d, list) in &dependents {
        *pending.get_mut(d).expect("present") = list.len();
    }
    let mut ready: Vec<&String> = pending.iter().filter(|(_, n)| **n == 0).map(|(s, _)| *s).collect();
    let mut ordered = 0;
    while let Some(s) = ready.pop() {
        ordered += 1;
        for d in depends.get(s).into_iter().flatten() {
            if let Some(n) = pending.get_mut(d) {
                *n -= 1;
                if *n == 0 {
                    ready.push(d);
                }
            }
        }
    }
    if ordered != present.len() {
        dependents.clear();
    }
    let mut senders = HashMap::new();
    let mut gates = HashMap::new();
    for s in &present {
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        senders.insert((*s).clone(), tx);
        gates.insert((*s).clone(), rx.shared());
    }
    let jobs = work.into_iter().map(|(svc, futs)| {
        let waits: Vec<_> = dependents
            .get(&svc)
            .into_iter()
            .flatten()
            .map(|d| gates[*d].clone())
            .collect();
        let tx = senders.remove(&svc);
        async move {
            for w in waits {
                let _ = w.await;
            }
            let out = join_all(futs).await;
            if let Some(tx) = tx {
                let _ = tx.send(());
            }
            out
        }
    });
    let jobs: Vec<_> = jobs.collect();
    join_all(jobs).await.into_iter().flatten().collect()
}

/// The services a container's `depends_on` label names
/// ("db:service_healthy:false,cache:service_started:true").
fn label_deps(labels: &HashMap<String, String>) -> impl Iterator<Item = String> + '_ {
    labels
        .get(LABEL_DEPENDS_ON)
        .map(String::as_str)
        .unwrap_or("")
        .split(',')
        .filter_map(|d| d.split(':').next().filter(|x| !x.is_empty()).map(str::to_string))
}

/// A one-line notice about the whole project (compose's "Project" events).
fn notice(tx: &mpsc::UnboundedSender<Event>, project: &str, status: String) {
    let _ = tx.send(Event {
        kind: "Project",
        name: project.to_string(),
        status,
        done: true,
        error: None,
        elapsed: Default::default(),
        ..Default::default()
    });
}

/// One container to stop and remove.
struct Removal {
    id: String,
    name: String,
    /// Its service's spec, for `pre_stop` hooks (never an orphan's, as compose).
    spec: Option<super::desired::ServiceSpec>,
}

/// What `down` found among the project's containers.
#[derive(Default)]
struct Found {
    /// Removals by service, run in reverse dependency order.
    work: HashMap<String, Vec<Removal>>,
    depends: HashMap<String, BTreeSet<String>>,
    /// Images the removed containers use, and those compose named itself.
    images: BTreeSet<String>,
    local_images: BTreeSet<String>,
    /// Anonymous volumes a recreate carried over are mounted by name, so
    /// the engine no longer removes them with their container (Docker
    /// Compose leaves them behind). `-v` removes them too.
    anonymous: BTreeSet<String>,
    orphans: Vec<String>,
}

/// Takes `project` down. `desired` (when a compose file was loaded) limits
/// containers to its services unless `remove_orphans`.
pub async fn down(
    d: Docker,
    project: String,
    desired: Option<Desired>,
    opts: DownOptions,
    tx: mpsc::UnboundedSender<Event>,
) -> Outcome {
    let mut outcome = Outcome::default();
    let listed = super::observed::labelled(&d, vec![format!("{LABEL_PROJECT}={project}")]).await;
    let containers = match listed {
        Ok(c) => c,
        Err(e) => {
            let e = format!("listing containers of {project}: {}", flatten(&e));
            outcome.errors.push(("project".into(), e));
            return outcome;
        }
    };
    let chosen = match selection(&opts.services, desired.as_ref(), &containers) {
        Ok(c) => c,
        Err(e) => {
            outcome.errors.push(("project".into(), e.to_string()));
            return outcome;
        }
    };
    if chosen.as_ref().is_some_and(BTreeSet::is_empty) {
        let why = format!(
            "Any of the services {:?} not running in project {project:?}",
            opts.services
        );
        notice(&tx, &project, why);
        return outcome;
    }
    let found = find(&d, &project, desired.as_ref(), &opts, chosen.as_ref(), containers).await;
    let work: HashMap<_, Vec<_>> = found
        .work
        .into_iter()
        .map(|(svc, list)| {
            let jobs = list.into_iter().map(|r| stop_and_remove(&d, &tx, &opts, r)).collect();
            (svc, jobs)
        })
        .collect();
    for r in in_reverse_dependency_order(work, &found.depends).await {
        if let Err(e) = r {
            outcome.errors.push(("container".into(), e.into()));
        }
    }
    if !found.orphans.is_empty() {
        notice(&tx, &project, format!(
            "Warning: found orphan containers ({}) for this project. If you removed or renamed this service in your compose file, you can run this command with the --remove-orphans flag to clean it up.",
            found.orphans.join(", ")
        ));
    }
    if !outcome.errors.is_empty() {
        return outcome;
    }
    remove_networks(&d, &project, desired.as_ref(), &tx, &mut outcome, opts.dry_run).await;
    if opts.volumes {
        // Anonymous volumes go with their containers: in a dry run they
        // stay, unreported, as compose reports none.
        let anonymous = if opts.dry_run { BTreeSet::new() } else { found.anonymous };
        remove_volumes(
            &d,
            &project,
            desired.as_ref(),
            anonymous,
            &tx,
            &mut outcome,
            opts.dry_run,
        )
        .await;
    }
    if let Some(mode) = opts.rmi.as_deref() {
        let mut targets = rmi_targets(mode, desired.as_ref());
        targets.extend(found.local_images);
        if mode == "all" {
            targets.extend(found.images);
        }
        remove_images(&d, targets, &tx, &mut outcome, opts.dry_run).await;
    }
    outcome
}

/// Sorts the project's containers into what `down` removes (by service),
/// the orphans it only warns about, and what it removes afterwards.
async fn find(
    d: &Docker,
    project: &str,
    desired: Option<&Desired>,
    opts: &DownOptions,
    chosen: Option<&BTreeSet<String>>,
    containers: Vec<bollard::models::ContainerSummary>,
) -> Found {
    let known: Option<BTreeSet<&String>> = desired.map(|d| d.services.iter().map(|s| &s.name).collect());
    let declared_volumes: BTreeSet<String> = desired
        .iter()
        .flat_map(|x| x.volumes.iter().map(|v| v.name.clone()))
        .collect();
    let disabled: BTreeSet<&String> = desired.iter().flat_map(|d| d.disabled.iter()).collect();
    let mut found = Found::default();
    for c in containers {
        let labels = c.labels.clone().unwrap_or_default();
        let service = labels.get(LABEL_SERVICE).cloned().unwrap_or_default();
        // compose leaves `run`'s one-off containers alone, but for exited
        // (or dead) ones with --remove-orphans (its oneOffExclude and
        // isOrphaned).
        if labels.get(LABEL_ONEOFF).is_some_and(|v| v == "True") {
            let state = c.state.as_ref().map(|s| s.to_string()).unwrap_or_default();
            if !opts.remove_orphans || !matches!(state.as_str(), "exited" | "dead") {
                continue;
            }
        }
        let deps = found.depends.entry(service.clone()).or_default();
        // Compose orders by the loaded model: a label written while a
        // profile was off lacks that profile's services.
        if let Some(svc) = desired.and_then(|d| d.service(&service)) {
            deps.extend(svc.depends_on.iter().map(|x| x.service.clone()));
        }
        deps.extend(label_deps(&labels));
        let name = crate::docker::summary_name(&c);
        // Services a profile leaves out are no orphans: compose takes
        // them down with the rest.
        let is_orphan = known.as_ref().is_some_and(|k| !k.contains(&service)) && !disabled.contains(&service);
        if is_orphan && !opts.remove_orphans {
            found.orphans.push(name);
            continue;
        }
        if !is_orphan && chosen.is_some_and(|c| !c.contains(&service)) {
            continue;
        }
        if let Some(img) = c.image.clone() {
            // `local` images are the ones compose named itself.
            // Without the compose file, either separator's name (the
            // project may have been made under `--compatibility`).
            let seps: &[&str] = match desired {
                Some(d) => &[d.separator],
                None => &["-", "_"],
            };
            if seps.iter().any(|sep| img == format!("{project}{sep}{service}")) {
                found.local_images.insert(img.clone());
            }
            found.images.insert(img);
        }
        let id = c.id.clone().unwrap_or_default();
        if opts.volumes {
            let targets = desired
                .map(|x| super::anon::declared_targets(x, &service))
                .unwrap_or_default();
            found
                .anonymous
                .extend(super::anon::of_container(d, &id, &declared_volumes, &targets).await);
        }
        let spec = desired
            .and_then(|x| x.service(&service))
            .filter(|_| !is_orphan)
            .cloned();
        found.work.entry(service).or_default().push(Removal { id, name, spec });
    }
    found
}

/// Stops one container (after its `pre_stop` hooks) and removes it;
/// already gone or not running is no error, as in compose.
async fn stop_and_remove(
    d: &Docker,
    tx: &mpsc::UnboundedSender<Event>,
    opts: &DownOptions,
    r: Removal,
) -> crate::error::Result<()> {
    let (t, name, id) = (Instant::now(), r.name, r.id);
    send(tx, "Container", &name, "Stopping", false, t);
    if opts.dry_run {
        for (status, done) in [("Stopped", false), ("Removing", false), ("Removed", true)] {
            send(tx, "Container", &name, status, done, t);
        }
        return Ok(());
    }
    // Ok(false): gone or not running, nothing to stop.
    let go_on = super::hooks::pre_stop(d, r.spec.as_ref(), &id).await?;
    if go_on {
        let stop = qp::StopContainerOptions {
            t: opts.timeout.map(|t| t as i32),
            signal: None,
        };
        match crate::docker::patient(d, opts.timeout)
            .stop_container(&id, Some(stop))
            .await
        {
            Ok(()) => {}
            Err(e) if matches!(status(&e), Some(304) | Some(404)) => {}
            Err(e) => return Err(Error::from_engine(format!("stopping container {name}"), &e)),
        }
    }
    send(tx, "Container", &name, "Stopped", false, t);
    send(tx, "Container", &name, "Removing", false, t);
    let remove = qp::RemoveContainerOptions {
        force: true,
        v: opts.volumes,
        link: false,
    };
    match crate::docker::remove_container(d, &id, remove).await {
        Ok(()) => {}
        Err(e) if status(&e) == Some(404) => {}
        Err(e) => return Err(Error::from_engine(format!("removing container {name}"), &e)),
    }
    send(tx, "Container", &name, "Removed", true, t);
    Ok(())
}

/// The project's own networks (external ones carry no project label), by
/// ID: two racing `up`s may have made two networks of one name.
async fn remove_networks(
    d: &Docker,
    project: &str,
    desired: Option<&Desired>,
    tx: &mpsc::UnboundedSender<Event>,
    outcome: &mut Outcome,
    dry_run: bool,
) {
    let external: BTreeSet<&String> = desired
        .iter()
        .flat_map(|x| x.networks.iter().filter(|n| n.external).map(|n| &n.name))
        .collect();
    let networks = d
        .list_networks(Some(qp::ListNetworksOptions {
            filters: Some(label_filter(project)),
        }))
        .await
        .unwrap_or_default();
    let work = networks
        .into_iter()
        .filter(|n| n.name.as_ref().is_none_or(|x| !external.contains(x)))
        .filter_map(|n| Some((n.id?, n.name?)))
        .map(|(id, name)| async move {
            let t = Instant::now();
            send(tx, "Network", &name, "Removing", false, t);
            // Still used (by a service `down SERVICE` kept, or a profile's):
            // compose warns and goes on.
            let attached = d
                .inspect_network(&id, None::<qp::InspectNetworkOptions>)
                .await
                .ok()
                .map(|n| n.containers.map_or(0, |c| c.len()));
            if attached.is_some_and(|n| n > 0) {
                send(tx, "Network", &name, "Resource is still in use", true, t);
                return Ok(());
            }
            let removed = if dry_run { Ok(()) } else { d.remove_network(&id).await };
            match removed {
                Ok(()) => {
                    send(tx, "Network", &name, "Removed", true, t);
                    Ok(())
                }
                Err(e) if status(&e) == Some(404) => Ok(()),
                Err(e) => Err(format!(
                    "removing network {name}: {}{}",
                    flatten(&e),
                    stale_endpoint_hint(attached, &e)
                )),
            }
        });
    for r in join_all(work).await {
        if let Err(e) = r {
            outcome.errors.push(("network".into(), e));
        }
    }
}

/// What to do when the engine refuses to remove a network "with active
/// endpoints" although no container is attached to it: dockerd 20.10,
/// after hundreds of containers are removed at once, can keep a removed
/// container's endpoint, and only a restart of dockerd forgets it (seen
/// in `down` of 500 containers, for compose as for orch).
fn stale_endpoint_hint(attached: Option<usize>, e: &bollard::errors::Error) -> &'static str {
    if attached == Some(0) && flatten(e).contains("has active endpoints") {
        " (no container is attached to it: the engine kept the endpoint of a removed container; restarting dockerd clears it)"
    } else {
        ""
    }
}

/// `-v`: the project's named volumes (never an external one, whatever
/// labels it carries) and the anonymous ones `find` collected.
async fn remove_volumes(
    d: &Docker,
    project: &str,
    desired: Option<&Desired>,
    anonymous: BTreeSet<String>,
    tx: &mpsc::UnboundedSender<Event>,
    outcome: &mut Outcome,
    dry_run: bool,
) {
    let vols = d
        .list_volumes(Some(qp::ListVolumesOptions {
            filters: Some(label_filter(project)),
        }))
        .await
        .map(|v| v.volumes.unwrap_or_default())
        .unwrap_or_default();
    let mut names: BTreeSet<String> = vols.into_iter().map(|v| v.name).collect();
    for v in desired.iter().flat_map(|x| x.volumes.iter()).filter(|v| v.external) {
        names.remove(&v.name);
    }
    names.extend(anonymous);
    let work = names.into_iter().map(|name| async move {
        let t = Instant::now();
        // Already gone (the engine removes a container's anonymous
        // volumes with it): nothing to say, as compose.
        if d.inspect_volume(&name).await.is_err_and(|e| status(&e) == Some(404)) {
            return Ok(());
        }
        send(tx, "Volume", &name, "Removing", false, t);
        let removed = if dry_run {
            Ok(())
        } else {
            d.remove_volume(&name, None::<qp::RemoveVolumeOptions>).await
        };
        match removed {
            Ok(()) => {
                send(tx, "Volume", &name, "Removed", true, t);
                Ok(())
            }
            Err(e) if status(&e) == Some(404) => Ok(()),
            // Still used (by a service `down SERVICE` kept, or by a
            // container of another project): compose warns, goes on.
            Err(e) if status(&e) == Some(409) => {
                send(tx, "Volume", &name, "Resource is still in use", true, t);
                Ok(())
            }
            Err(e) => Err(format!("removing volume {name}: {}", flatten(&e))),
        }
    });
    for r in join_all(work).await {
        if let Err(e) = r {
            outcome.errors.push(("volume".into(), e));
        }
    }
}

/// `--rmi`'s images from the compose file: `local` only those compose
/// named itself (built, no `image:`), `all` every service's.
fn rmi_targets(mode: &str, desired: Option<&Desired>) -> BTreeSet<String> {
    let Some(desired) = desired else { return BTreeSet::new() };
    desired
        .services
        .iter()
        .filter(|s| {
            let own = format!("{}{}{}", desired.project, desired.separator, s.name);
            mode == "all" || (s.build.is_some() && s.image == own)
        })
        .map(|s| s.image.clone())
        .collect()
}

async fn remove_images(
    d: &Docker,
    targets: BTreeSet<String>,
    tx: &mpsc::UnboundedSender<Event>,
    outcome: &mut Outcome,
    dry_run: bool,
) {
    for img in targets {
        let t = Instant::now();
        send(tx, "Image", &img, "Removing", false, t);
        let removed = if dry_run {
            d.inspect_image(&img).await.map(|_| Vec::new())
        } else {
            d.remove_image(&img, None::<qp::RemoveImageOptions>, None).await
        };
        match removed {
            Ok(_) => send(tx, "Image", &img, "Removed", true, t),
            Err(e) if status(&e) == Some(404) => {}
            Err(e) => {
                let e = format!("removing image {img}: {}", flatten(&e));
                outcome.errors.push(("image".into(), e));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_stale_endpoint_is_named_only_when_no_container_is_attached() {
        let e = bollard::errors::Error::DockerResponseServerError {
            status_code: 403,
            message: "error while removing network: network p_default id 4b5e has active endpoints".into(),
        };
        assert!(super::stale_endpoint_hint(Some(0), &e).contains("restarting dockerd"));
        assert_eq!(super::stale_endpoint_hint(Some(2), &e), "");
        assert_eq!(super::stale_endpoint_hint(None, &e), "");
    }
}
