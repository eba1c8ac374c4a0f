//! One service's containers in a plan, decided as Docker Compose's
//! convergence decides them: which replicas are obsolete (config hash,
//! image ID, references to other services' containers), which go on scale
//! down (obsolete ones first, then the highest numbers), and which numbers
//! new replicas take (after the highest existing one).

use std::collections::{BTreeSet, HashMap};

use super::desired::{Desired, ServiceSpec};
use super::diff::{BuildPolicy, Options, Step};
use super::observed::{Observed, ObservedContainer};
use super::refs;

/// What the plan knows of a value a replica is compared with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Expect {
    Known(String),
    /// Certainly different from what any existing container carries.
    Changes,
    /// Only known once the plan runs (an image being built, a reference
    /// to such a service): decided by the applier.
    Pending,
}

/// A kept replica the applier compares again once its image is built and
/// its references converged.
#[derive(Clone, Debug)]
pub struct Check {
    pub service: String,
    pub number: usize,
    pub name: String,
    pub id: String,
    pub hash: String,
    pub image: String,
}

/// A service's steps, its checks, and what its first container will be.
pub struct ServicePlan {
    pub steps: Vec<Step>,
    pub checks: Vec<Check>,
    /// Kept replicas that run and need nothing: compose reports each as
    /// `Running` when it converges the service.
    pub running: Vec<String>,
    pub first: Expect,
    pub recreates: bool,
}

/// The hash `svc`'s containers should carry, given what the plan knows of
/// the first container of each service planned before it.
fn expected_hash(svc: &ServiceSpec, observed: &Observed, firsts: &HashMap<String, Expect>) -> Expect {
    if !svc.has_refs {
        return Expect::Known(svc.hash.clone());
    }
    let current = refs::first_ids(&observed.containers);
    let mut ids = HashMap::new();
    for t in refs::targets(&svc.raw) {
        match firsts.get(&t) {
            Some(Expect::Known(id)) => ids.insert(t, id.clone()),
            Some(other) => return other.clone(),
            None => match current.get(&t) {
                Some(id) => ids.insert(t, id.clone()),
                None => return Expect::Pending,
            },
        };
    }
    match refs::hash(&svc.raw, &|s| ids.get(s).cloned()) {
        Ok(h) => Expect::Known(h),
        Err(_) => Expect::Pending,
    }
}

/// One container per replica number; duplicates (a recreate cut short by
/// a kill) go, keeping the one with the current config, else the newest.
fn dedupe<'a>(
    name: &str,
    svc: &ServiceSpec,
    existing: Vec<&'a ObservedContainer>,
    steps: &mut Vec<Step>,
) -> Vec<&'a ObservedContainer> {
    let mut by_number: HashMap<usize, &ObservedContainer> = HashMap::new();
    let remove = |c: &ObservedContainer| Step::Remove {
        service: name.to_string(),
        name: c.name.clone(),
        id: c.id.clone(),
        reason: "duplicate".into(),
    };
    for c in existing {
        match by_number.get(&c.number) {
            Some(kept) if kept.hash == svc.hash || c.hash != svc.hash => steps.push(remove(c)),
            Some(kept) => {
                steps.push(remove(kept));
                by_number.insert(c.number, c);
            }
            None => {
                by_number.insert(c.number, c);
            }
        }
    }
    let mut v: Vec<_> = by_number.into_values().collect();
    v.sort_by_key(|c| c.number);
    v
}

/// Whether a replica is obsolete, as compose's `mustRecreate` decides.
struct Judge<'a> {
    opts: &'a Options,
    hash: Expect,
    image: Expect,
    dep_recreated: bool,
    /// --force-recreate (or -V) for this service: compose forces the
    /// services named on the command line (all when none is), and
    /// recreates their dependencies only when they diverged.
    forced: bool,
}

impl Judge<'_> {
    /// (why it must be recreated, whether the applier must look again).
    fn verdict(&self, c: &ObservedContainer) -> (Option<&'static str>, bool) {
        if self.opts.no_recreate {
            return (None, false);
        }
        if self.forced {
            return (Some("forced"), false);
        }
        match &self.hash {
            Expect::Known(h) if &c.hash != h => return (Some("configuration changed"), false),
            Expect::Changes => return (Some("dependency recreated"), false),
            _ => {}
        }
        if matches!(&self.image, Expect::Known(id) if &c.image != id) {
            return (Some("image changed"), false);
        }
        if self.dep_recreated {
            return (Some("dependency recreated"), false);
        }
        (None, self.hash == Expect::Pending || self.image == Expect::Pending)
    }
}

/// The steps for the existing replicas: up-to-date ones by number, then
/// obsolete ones; the tail beyond `want` goes (scale down). Returns each
/// kept replica's name with what is known of its ID afterwards.
fn existing_steps(
    name: &str,
    judge: &Judge,
    containers: Vec<&ObservedContainer>,
    want: usize,
    restart_for: Option<&String>,
    out: &mut ServicePlan,
) -> Vec<(String, Expect)> {
    let (current, stale): (Vec<_>, Vec<_>) = containers.into_iter().partition(|c| judge.verdict(c).0.is_none());
    let mut kept = Vec::new();
    for (i, c) in current.iter().chain(stale.iter()).enumerate() {
        let (service, cname, id) = (name.to_string(), c.name.clone(), c.id.clone());
        if i >= want || c.number == 0 {
            out.steps.push(Step::Remove {
                service,
                name: cname,
                id,
                reason: "scale down".into(),
            });
            continue;
        }
        let (reason, pending) = judge.verdict(c);
        if let Some(r) = reason {
            out.recreates = true;
            kept.push((cname.clone(), Expect::Changes));
            out.steps.push(Step::Recreate {
                service,
                number: c.number,
                name: cname,
                id,
                reason: r.into(),
            });
            continue;
        }
        if pending {
            out.checks.push(Check {
                service: service.clone(),
                number: c.number,
                name: cname.clone(),
                id: id.clone(),
                hash: c.hash.clone(),
                image: c.image.clone(),
            });
        }
        let first = if pending {
            Expect::Pending
        } else {
            Expect::Known(id.clone())
        };
        kept.push((cname.clone(), first));
        if c.state != "running" {
            out.steps.push(Step::Start {
                service,
                name: cname,
                id,
                reason: c.state.clone(),
            });
        } else if let Some(dep) = restart_for {
            out.steps.push(Step::Restart {
                service,
                name: cname,
                id,
                reason: format!("{dep} recreated, depends_on restart: true"),
            });
        } else {
            out.running.push(cname);
        }
    }
    kept
}

/// Decides service `name`'s steps.
pub fn service(
    desired: &Desired,
    observed: &Observed,
    opts: &Options,
    name: &str,
    recreated: &BTreeSet<String>,
    firsts: &HashMap<String, Expect>,
) -> ServicePlan {
    let svc = desired.service(name).expect("in scope");
    let mut out = ServicePlan {
        steps: Vec::new(),
        checks: Vec::new(),
        running: Vec::new(),
        first: Expect::Pending,
        recreates: false,
    };
    let has_image = observed.images.get(&svc.image).copied().unwrap_or(false);
    let wants_build = opts.build == BuildPolicy::Always || (opts.build == BuildPolicy::Missing && !has_image);
    let builds = svc.build.is_some() && wants_build;
    if builds {
        let reason = if has_image { "--build" } else { "image missing" };
        out.steps.push(Step::Build {
            service: name.to_string(),
            image: svc.image.clone(),
            reason: reason.into(),
        });
    }
    // Compose labels containers with the ID of the image they run and
    // recreates them when the image behind the name changed.
    let image = match observed.image_ids.get(&svc.image) {
        _ if builds => Expect::Pending,
        Some(id) => Expect::Known(id.clone()),
        None => Expect::Pending,
    };
    let judge = Judge {
        opts,
        hash: expected_hash(svc, observed, firsts),
        image,
        dep_recreated: opts.always_recreate_deps && svc.depends_on.iter().any(|d| recreated.contains(&d.service)),
        forced: opts.force_recreate && (opts.services.is_empty() || opts.services.iter().any(|s| s == name)),
    };
    let restart_for = svc
        .depends_on
        .iter()
        .find(|d| d.restart && recreated.contains(&d.service))
        .map(|d| d.service.clone());
    let want = opts.scale.get(name).copied().unwrap_or(svc.replicas);
    let existing = super::repair::temp_copies(svc, &desired.project, observed.of_service(name), &mut out.steps);
    let next = existing.iter().map(|c| c.number).max().unwrap_or(0) + 1;
    let containers = dedupe(name, svc, existing.iter().collect(), &mut out.steps);
    let mut names = existing_steps(name, &judge, containers, want, restart_for.as_ref(), &mut out);
    // New replicas are numbered after the highest existing number.
    let reason = if names.is_empty() { "no container" } else { "scale up" };
    for number in (next..).take(want.saturating_sub(names.len())) {
        let cname = svc.container_name(&desired.project, number);
        names.push((cname.clone(), Expect::Changes));
        out.steps.push(Step::Create {
            service: name.to_string(),
            number,
            name: cname,
            reason: reason.into(),
        });
    }
    // Compose resolves `service:NAME` to the first container by name.
    out.first = names
        .into_iter()
        .min_by(|a, b| a.0.cmp(&b.0))
        .map(|(_, e)| e)
        .unwrap_or(Expect::Pending);
    out
}
