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
    let mut steps = Vec::new();
    let mut checks = Vec::new();
    let has_image = observed.images.get(&svc.image).copied().unwrap_or(false);
    let wants_build = opts.build == BuildPolicy::Always || (opts.build == BuildPolicy::Missing && !has_image);
    let builds = svc.build.is_some() && wants_build;
    if builds {
        steps.push(Step::Build {
            service: name.to_string(),
            image: svc.image.clone(),
        });
    }
    let hash = expected_hash(svc, observed, firsts);
    // Compose labels containers with the ID of the image they run and
    // recreates them when the image behind the name changed.
    let image = match observed.image_ids.get(&svc.image) {
        _ if builds => Expect::Pending,
        Some(id) => Expect::Known(id.clone()),
        None => Expect::Pending,
    };
    let want = opts.scale.get(name).copied().unwrap_or(svc.replicas);
    let existing = super::repair::temp_copies(svc, &desired.project, observed.of_service(name), &mut steps);
    let next = existing.iter().map(|c| c.number).max().unwrap_or(0) + 1;
    let containers = dedupe(name, svc, existing.iter().collect(), &mut steps);
    let dep_recreated = opts.always_recreate_deps && svc.depends_on.iter().any(|d| recreated.contains(&d.service));
    let restart_for = svc
        .depends_on
        .iter()
        .find(|d| d.restart && recreated.contains(&d.service))
        .map(|d| d.service.clone());
    let obsolete = |c: &ObservedContainer| -> (Option<&'static str>, bool) {
        if opts.no_recreate {
            return (None, false);
        }
        if opts.force_recreate {
            return (Some("forced"), false);
        }
        match &hash {
            Expect::Known(h) if &c.hash != h => return (Some("configuration changed"), false),
            Expect::Changes => return (Some("dependency recreated"), false),
            _ => {}
        }
        if matches!(&image, Expect::Known(id) if &c.image != id) {
            return (Some("image changed"), false);
        }
        if dep_recreated {
            return (Some("dependency recreated"), false);
        }
        (None, hash == Expect::Pending || image == Expect::Pending)
    };
    // Up-to-date replicas by number, then obsolete ones: the tail goes on
    // scale down.
    let (current, stale): (Vec<_>, Vec<_>) = containers.into_iter().partition(|c| obsolete(c).0.is_none());
    let mut kept_names: Vec<(String, Expect)> = Vec::new();
    let mut recreates = false;
    for (i, c) in current.iter().chain(stale.iter()).enumerate() {
        if i >= want || c.number == 0 {
            steps.push(Step::Remove {
                service: name.to_string(),
                name: c.name.clone(),
                id: c.id.clone(),
                reason: "scale down".into(),
            });
            continue;
        }
        let (reason, pending) = obsolete(c);
        if let Some(r) = reason {
            recreates = true;
            kept_names.push((c.name.clone(), Expect::Changes));
            steps.push(Step::Recreate {
                service: name.to_string(),
                number: c.number,
                name: c.name.clone(),
                id: c.id.clone(),
                reason: r.into(),
            });
            continue;
        }
        if pending {
            checks.push(Check {
                service: name.to_string(),
                number: c.number,
                name: c.name.clone(),
                id: c.id.clone(),
                hash: c.hash.clone(),
                image: c.image.clone(),
            });
        }
        kept_names.push((
            c.name.clone(),
            if pending {
                Expect::Pending
            } else {
                Expect::Known(c.id.clone())
            },
        ));
        if c.state != "running" {
            steps.push(Step::Start {
                service: name.to_string(),
                name: c.name.clone(),
                id: c.id.clone(),
            });
        } else if let Some(dep) = &restart_for {
            steps.push(Step::Restart {
                service: name.to_string(),
                name: c.name.clone(),
                id: c.id.clone(),
                reason: format!("{dep} recreated, depends_on restart: true"),
            });
        }
    }
    let kept = kept_names.len();
    for number in (next..).take(want.saturating_sub(kept)) {
        let cname = svc.container_name(&desired.project, number);
        kept_names.push((cname.clone(), Expect::Changes));
        steps.push(Step::Create {
            service: name.to_string(),
            number,
            name: cname,
        });
    }
    // Compose resolves `service:NAME` to the first container by name.
    let first = kept_names
        .into_iter()
        .min_by(|a, b| a.0.cmp(&b.0))
        .map(|(_, e)| e)
        .unwrap_or(Expect::Pending);
    ServicePlan {
        steps,
        checks,
        first,
        recreates,
    }
}
