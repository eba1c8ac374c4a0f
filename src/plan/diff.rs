//! The plan: the steps that take the engine from what it has to what the
//! project wants. Computing it changes nothing, so `orch plan` and
//! `up --dry-run` are this and a print.

use std::collections::{BTreeSet, HashMap};

use serde::Serialize;

use super::desired::Desired;
use super::observed::Observed;

/// When images with a `build:` section are built.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum BuildPolicy {
    /// Only when the image is missing (compose's default).
    #[default]
    Missing,
    /// Always (`up --build`).
    Always,
    /// Never (`up --no-build`): a missing image is an error.
    Never,
}

#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Services to converge; empty means all. Their dependencies are
    /// included unless `no_deps`.
    pub services: Vec<String>,
    pub no_deps: bool,
    pub force_recreate: bool,
    pub no_recreate: bool,
    pub always_recreate_deps: bool,
    pub remove_orphans: bool,
    /// No warning about orphans (`COMPOSE_IGNORE_ORPHANS`).
    pub ignore_orphans: bool,
    pub scale: HashMap<String, usize>,
    pub build: BuildPolicy,
    /// Recreate volumes whose definition changed (`-y`; their data is lost).
    pub recreate_volumes: bool,
}

/// One step of a plan.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Step {
    CreateNetwork {
        name: String,
    },
    /// A copy of one of the project's networks (racing `up`s), by ID.
    RemoveNetwork {
        name: String,
        id: String,
    },
    CreateVolume {
        name: String,
    },
    /// A network whose definition changed: the `services`' containers are
    /// stopped, disconnected and reconnected to the new one.
    RecreateNetwork {
        name: String,
        services: Vec<String>,
    },
    /// A volume whose definition changed (`-y`): the `services`'
    /// containers are removed with it and created again.
    RecreateVolume {
        name: String,
        services: Vec<String>,
    },
    Build {
        service: String,
        image: String,
        /// "image missing" or "--build".
        reason: String,
    },
    Create {
        service: String,
        number: usize,
        name: String,
        /// "no container", "scale up".
        reason: String,
    },
    Recreate {
        service: String,
        number: usize,
        name: String,
        id: String,
        reason: String,
    },
    Start {
        service: String,
        name: String,
        id: String,
        /// The container's state ("exited", "created"), or why it stopped.
        reason: String,
    },
    Remove {
        service: String,
        name: String,
        id: String,
        reason: String,
    },
    /// A recreate's temporary copy, renamed to its replica's name.
    Rename {
        service: String,
        name: String,
        id: String,
        to: String,
    },
    /// A running container whose `depends_on` entry says `restart: true`
    /// for a dependency this plan recreates.
    Restart {
        service: String,
        name: String,
        id: String,
        reason: String,
    },
}

impl Step {
    pub fn service(&self) -> Option<&str> {
        match self {
            Step::CreateNetwork { .. }
            | Step::RemoveNetwork { .. }
            | Step::CreateVolume { .. }
            | Step::RecreateNetwork { .. }
            | Step::RecreateVolume { .. } => None,
            Step::Build { service, .. }
            | Step::Create { service, .. }
            | Step::Recreate { service, .. }
            | Step::Start { service, .. }
            | Step::Remove { service, .. }
            | Step::Restart { service, .. }
            | Step::Rename { service, .. } => Some(service),
        }
    }

    /// What a step acts on, whatever the action: its service and the
    /// container, network or volume name. A script's `filter` is kept by
    /// it when the plan is computed again.
    pub fn key(&self) -> (Option<String>, Option<String>) {
        let v = serde_json::to_value(self).unwrap_or_default();
        let name = v["name"].as_str().or(v["image"].as_str()).map(str::to_string);
        (self.service().map(str::to_string), name)
    }

    /// One line, for `orch plan`.
    pub fn describe(&self) -> String {
        match self {
            Step::CreateNetwork { name } => format!("create network {name}"),
            Step::RemoveNetwork { name, id } => format!("remove network {name} ({id:.12}, a duplicate)"),
            Step::CreateVolume { name } => format!("create volume {name}"),
            Step::RecreateNetwork { name, .. } => format!("recreate network {name} (configuration changed)"),
            Step::RecreateVolume { name, .. } => format!("recreate volume {name} (configuration changed, data lost)"),
            Step::Build { service, image, reason } => format!("build {image} (service {service}, {reason})"),
            Step::Create { name, reason, .. } => format!("create and start container {name} ({reason})"),
            Step::Recreate { name, reason, .. } => format!("recreate container {name} ({reason})"),
            Step::Start { name, reason, .. } => format!("start container {name} ({reason})"),
            Step::Remove { name, reason, .. } => format!("remove container {name} ({reason})"),
            Step::Restart { name, reason, .. } => format!("restart container {name} ({reason})"),
            Step::Rename { name, to, .. } => format!("rename container {name} to {to} (unfinished recreate)"),
        }
    }
}

#[derive(Clone, Debug, Default)]
pub struct Plan {
    pub steps: Vec<Step>,
    /// Services the plan converges, in dependency order.
    pub services: Vec<String>,
    pub warnings: Vec<String>,
    /// Kept replicas the applier compares again once images are built and
    /// references converged (see `replicas`).
    pub checks: Vec<super::replicas::Check>,
    /// (service, container) of the kept replicas that run and need
    /// nothing: the applier reports them `Running`, as compose does.
    pub running: Vec<(String, String)>,
    /// The IDs of the images the plan does not build, as planned against:
    /// the applier needs them for labels and need not ask again.
    pub image_ids: HashMap<String, String>,
}

/// The plan as `orch plan` prints it: a line per step, then the warnings.
impl std::fmt::Display for Plan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.steps.is_empty() {
            writeln!(f, "nothing to do")?;
        }
        for s in &self.steps {
            writeln!(f, "{}", s.describe())?;
        }
        for w in &self.warnings {
            writeln!(f, "warning: {w}")?;
        }
        Ok(())
    }
}

/// Services in `selected` plus (unless `no_deps`) what they depend on, in
/// an order where dependencies come first. Unknown names are errors.
pub fn scope(desired: &Desired, opts: &Options) -> crate::error::Result<Vec<String>> {
    let by_name: HashMap<&str, &super::desired::ServiceSpec> =
        desired.services.iter().map(|s| (s.name.as_str(), s)).collect();
    let mut wanted: BTreeSet<&str> = BTreeSet::new();
    let mut stack: Vec<&str> = if opts.services.is_empty() {
        desired.services.iter().map(|s| s.name.as_str()).collect()
    } else {
        opts.services.iter().map(String::as_str).collect()
    };
    while let Some(name) = stack.pop() {
        // A name the user typed: a usage error, printed as compose's line.
        let svc = by_name
            .get(name)
            .ok_or_else(|| crate::error::Error::usage(format!("no such service: {name}")))?;
        if wanted.insert(svc.name.as_str()) && !opts.no_deps {
            for dep in &svc.depends_on {
                if by_name.contains_key(dep.service.as_str()) {
                    stack.push(dep.service.as_str());
                } else if dep.required {
                    return Err(format!("service {name} depends on undefined service {}", dep.service).into());
                }
            }
        }
    }
    // Kahn's topological sort, level by level: a service's level is its
    // longest chain of dependencies in scope; within a level, by name. (The
    // loader rejects cycles; be safe anyway.) Linear in services + edges.
    let deps_in_scope = |name: &str| {
        by_name[name]
            .depends_on
            .iter()
            .filter(|d| wanted.contains(d.service.as_str()))
    };
    let mut waiting: HashMap<&str, usize> = HashMap::new();
    let mut dependents: HashMap<&str, Vec<&str>> = HashMap::new();
    for &name in &wanted {
        waiting.insert(name, deps_in_scope(name).count());
        for d in deps_in_scope(name) {
            dependents.entry(d.service.as_str()).or_default().push(name);
        }
    }
    let mut level: Vec<&str> = wanted.iter().copied().filter(|n| waiting[n] == 0).collect();
    let mut ordered: Vec<String> = Vec::with_capacity(wanted.len());
    while !level.is_empty() {
        let mut next = Vec::new();
        for &name in &level {
            ordered.push(name.to_string());
            for &up in dependents.get(name).into_iter().flatten() {
                let w = waiting.get_mut(up).expect("in scope");
                *w -= 1;
                if *w == 0 {
                    next.push(up);
                }
            }
        }
        next.sort_unstable();
        level = next;
    }
    if ordered.len() < wanted.len() {
        let done: BTreeSet<&str> = ordered.iter().map(String::as_str).collect();
        return Err(format!(
            "dependency cycle among services {:?}",
            wanted.difference(&done).collect::<Vec<_>>()
        )
        .into());
    }
    Ok(ordered)
}

/// Computes the plan.
pub fn plan(desired: &Desired, observed: &Observed, opts: &Options) -> crate::error::Result<Plan> {
    let services = scope(desired, opts)?;
    refusals(desired, observed, opts, &services)?;
    let mut steps = Vec::new();
    let mut warnings = desired.warnings.clone();
    for (name, id) in &observed.extra_networks {
        steps.push(Step::RemoveNetwork {
            name: name.clone(),
            id: id.clone(),
        });
    }
    for n in desired.networks.iter().filter(|n| !n.external) {
        if !observed.networks.contains(&n.name) {
            steps.push(Step::CreateNetwork { name: n.name.clone() });
        }
    }
    for v in desired.volumes.iter().filter(|v| !v.external) {
        if !observed.volumes.contains(&v.name) {
            steps.push(Step::CreateVolume { name: v.name.clone() });
        }
    }
    let diverged = super::resources::divergence(desired, observed, opts.recreate_volumes)?;
    steps.extend(diverged.steps);
    warnings.extend(diverged.warnings);
    // What the engine will hold once those run: a recreated network's
    // containers stopped (they start again), a recreated volume's gone.
    let mut after = observed.clone();
    after.containers.retain(|c| !diverged.removed.contains(&c.service));
    for c in after
        .containers
        .iter_mut()
        .filter(|c| diverged.restarted.contains(&c.service))
    {
        if c.state == "running" {
            c.state = "exited".into();
        }
    }
    let observed = &after;
    let mut recreated: BTreeSet<String> = BTreeSet::new();
    let mut firsts = HashMap::new();
    let mut checks = Vec::new();
    let mut running = Vec::new();
    for name in &services {
        let sp = super::replicas::service(desired, observed, opts, name, &recreated, &firsts);
        if sp.recreates {
            recreated.insert(name.clone());
        }
        firsts.insert(name.clone(), sp.first);
        steps.extend(sp.steps);
        checks.extend(sp.checks);
        running.extend(sp.running.into_iter().map(|c| (name.clone(), c)));
    }
    orphans(desired, observed, opts, &mut steps, &mut warnings);
    let image_ids = known_image_ids(observed, &steps);
    Ok(Plan {
        steps,
        services,
        warnings,
        checks,
        running,
        image_ids,
    })
}

/// What compose refuses before it touches anything: an image reference the
/// engine cannot look up, a missing external network or volume, a fixed
/// container name on a service scaled beyond one.
fn refusals(desired: &Desired, observed: &Observed, opts: &Options, services: &[String]) -> crate::error::Result<()> {
    // compose looks every image up before creating anything, and stops at
    // one the engine refuses to look up (an invalid reference).
    for name in services {
        let image = desired.service(name).map(|s| s.image.as_str()).unwrap_or_default();
        if let Some(e) = observed.image_errors.get(image) {
            return Err(format!("unable to get image '{image}': Error response from daemon: {e}").into());
        }
    }
    // External resources must exist before anything is created (compose
    // checks them one by one as it creates; orch, all first).
    for n in desired.networks.iter().filter(|n| n.external) {
        if !observed.networks.contains(&n.name) {
            return Err(format!("network {} declared as external, but could not be found", n.name).into());
        }
    }
    for v in desired.volumes.iter().filter(|v| v.external) {
        if !observed.volumes.contains(&v.name) {
            return Err(format!("external volume {:?} not found", v.name).into());
        }
    }
    // Compose refuses this as it converges the service (`getScale`), before
    // any of its containers is touched; a conflict on the second name would
    // otherwise surface only after the first replica was recreated.
    for name in services {
        let Some(svc) = desired.service(name) else {
            continue;
        };
        let scale = opts.scale.get(name).copied().unwrap_or(svc.replicas);
        if let (true, Some(fixed)) = (scale > 1, &svc.container_name) {
            return Err(format!(
                "WARNING: The {name:?} service is using the custom container name {fixed:?}. \
                 Docker requires each container to have a unique name. \
                 Remove the custom name to scale the service"
            )
            .into());
        }
    }
    Ok(())
}

/// Containers of services the file no longer has (a profile's are no
/// orphans): removed with `--remove-orphans`, else a warning as compose's.
fn orphans(desired: &Desired, observed: &Observed, opts: &Options, steps: &mut Vec<Step>, warnings: &mut Vec<String>) {
    let orphans: Vec<_> = observed
        .containers
        .iter()
        .filter(|c| desired.service(&c.service).is_none() && !desired.disabled.contains(&c.service))
        .collect();
    if orphans.is_empty() {
        return;
    }
    if opts.remove_orphans {
        for c in orphans {
            steps.push(Step::Remove {
                service: c.service.clone(),
                name: c.name.clone(),
                id: c.id.clone(),
                reason: "orphan".into(),
            });
        }
    } else if !opts.ignore_orphans {
        let names: Vec<&str> = orphans.iter().map(|c| c.name.as_str()).collect();
        warnings.push(format!(
            "Found orphan containers ({}) for this project. If you removed or renamed this service in your compose file, you can run this command with the --remove-orphans flag to clean it up.",
            names.join(", ")
        ));
    }
}

/// The image IDs observed, for the applier to reuse: all but those the
/// plan builds anew.
fn known_image_ids(observed: &Observed, steps: &[Step]) -> HashMap<String, String> {
    let built: BTreeSet<&str> = steps
        .iter()
        .filter_map(|s| match s {
            Step::Build { image, .. } => Some(image.as_str()),
            _ => None,
        })
        .collect();
    observed
        .image_ids
        .iter()
        .filter(|(image, _)| !built.contains(image.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}
