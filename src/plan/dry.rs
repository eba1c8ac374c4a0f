//! `--dry-run` as Docker Compose does it: the progress a plan's apply would
//! show, each line marked by the progress display, and nothing sent to the
//! engine. compose gets there by swapping its engine client for one that
//! answers every change with success (its `DryRunClient`), so its usual
//! code prints its usual events. orch's plan already lists every change,
//! so the events are read off its steps, in the order compose's create and
//! start phases print them.

use sha1::{Digest, Sha1};

use super::apply::{ApplyOptions, Event};
use super::desired::{Condition, Desired};
use super::diff::{Plan, Step};

/// The events of applying `plan` with `opts`, in compose's order: builds,
/// networks and volumes, orphans, every container created (dependencies
/// first), then (unless `no_start`) every container started, a
/// dependency's health or completion reported before its dependents start.
pub fn events(plan: &Plan, desired: &Desired, opts: &ApplyOptions) -> Vec<Event> {
    let mut out = Vec::new();
    builds(plan, &mut out);
    for step in &plan.steps {
        match step {
            Step::RemoveNetwork { name, .. } => both(&mut out, "Network", name, "Removing", "Removed"),
            Step::CreateNetwork { name } => both(&mut out, "Network", name, "Creating", "Created"),
            Step::CreateVolume { name } => both(&mut out, "Volume", name, "Creating", "Created"),
            Step::RecreateNetwork { name, .. } => {
                both(&mut out, "Network", name, "Removing", "Removed");
                both(&mut out, "Network", name, "Creating", "Created");
            }
            Step::RecreateVolume { name, .. } => {
                both(&mut out, "Volume", name, "Removing", "Removed");
                both(&mut out, "Volume", name, "Creating", "Created");
            }
            Step::Remove { name, reason, .. } if reason == "orphan" => removed(&mut out, name),
            _ => {}
        }
    }
    for service in &plan.services {
        create_phase(plan, service, opts.no_start, &mut out);
    }
    if !opts.no_start {
        for service in &plan.services {
            waits(plan, desired, service, &mut out);
            for step in steps_of(plan, service) {
                match step {
                    Step::Create { name, .. } | Step::Start { name, .. } => {
                        both(&mut out, "Container", name, "Starting", "Started")
                    }
                    // compose's dry engine never renames, so its start
                    // reports the replacement under its temporary name.
                    Step::Recreate { name, id, .. } => {
                        both(&mut out, "Container", &temporary(name, id), "Starting", "Started")
                    }
                    Step::Restart { name, .. } => both(&mut out, "Container", name, "Restarting", "Restarted"),
                    _ => {}
                }
            }
        }
    }
    out
}

/// compose's dry build: two lines per image, then each service `Built`.
/// The fake image ID is compose's: `dryRun-` and the SHA-1 of the service.
fn builds(plan: &Plan, out: &mut Vec<Event>) {
    let built: Vec<(&String, &String)> = plan
        .steps
        .iter()
        .filter_map(|s| match s {
            Step::Build { service, image, .. } => Some((service, image)),
            _ => None,
        })
        .collect();
    for (service, image) in &built {
        out.push(line(
            format!("{service} ==>"),
            format!("==> writing image {}", build_id(service)),
        ));
        out.push(line(format!("{service} ==> ==>"), format!("naming to {image}")));
    }
    for (service, _) in built {
        out.push(event("", service, "Built", true));
    }
}

/// The image ID compose's dry run reports for a build of `service`.
pub fn build_id(service: &str) -> String {
    let sum = Sha1::digest(service.as_bytes());
    let hex: String = sum.iter().map(|b| format!("{b:02x}")).collect();
    format!("dryRun-{hex}")
}

/// What a service's containers go through before any starts: removals
/// (scale-down), renames, creates and recreates; kept ones `Running`.
fn create_phase(plan: &Plan, service: &str, no_start: bool, out: &mut Vec<Event>) {
    let mut acted = Vec::new();
    for step in steps_of(plan, service) {
        match step {
            Step::Remove { name, .. } => removed(out, name),
            Step::Rename { to, .. } => both(out, "Container", to, "Recreate", "Recreated"),
            Step::Create { name, .. } => {
                out.push(event("Container", name, "Creating", false));
                out.push(event("Container", name, "Created", no_start));
            }
            Step::Recreate { name, .. } => {
                out.push(event("Container", name, "Recreate", false));
                out.push(event("Container", name, "Recreated", no_start));
            }
            _ => {}
        }
        if let (_, Some(name)) = step.key() {
            acted.push(name);
        }
    }
    for (_, name) in plan.running.iter().filter(|(s, n)| s == service && !acted.contains(n)) {
        out.push(event("Container", name, "Running", true));
    }
}

/// compose's start waits for each dependency's condition and reports it
/// on the dependency's containers; its dry engine answers "healthy" and
/// "exited 0" at once.
fn waits(plan: &Plan, desired: &Desired, service: &str, out: &mut Vec<Event>) {
    let Some(svc) = desired.service(service) else {
        return;
    };
    // Nothing of it in the plan (filtered out): nothing starts, nothing waits.
    let kept = plan.running.iter().any(|(s, _)| s == service) || plan.checks.iter().any(|c| c.service == service);
    if steps_of(plan, service).next().is_none() && !kept {
        return;
    }
    for dep in &svc.depends_on {
        let status = match dep.condition {
            Condition::Started => continue,
            Condition::Healthy => "Healthy",
            Condition::CompletedSuccessfully => "Exited",
        };
        for name in containers_of(plan, &dep.service) {
            both(out, "Container", &name, "Waiting", status);
        }
    }
}

/// The containers compose's dry start finds for `service`: those the plan
/// keeps or makes, and a replacement both under its name (the engine
/// still has the old one) and under its temporary name (the dry engine's).
fn containers_of(plan: &Plan, service: &str) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for step in steps_of(plan, service) {
        match step {
            Step::Create { name, .. } | Step::Start { name, .. } | Step::Restart { name, .. } => {
                names.push(name.clone())
            }
            Step::Recreate { name, id, .. } => {
                names.push(name.clone());
                names.push(temporary(name, id));
            }
            _ => {}
        }
    }
    for (_, name) in plan.running.iter().filter(|(s, _)| s == service) {
        if !names.contains(name) {
            names.push(name.clone());
        }
    }
    names
}

/// compose's name for a replacement until the old container is gone.
fn temporary(name: &str, old_id: &str) -> String {
    format!("{}_{name}", &old_id[..old_id.len().min(12)])
}

fn steps_of<'a>(plan: &'a Plan, service: &'a str) -> impl Iterator<Item = &'a Step> {
    plan.steps
        .iter()
        .filter(move |s| s.service() == Some(service) && !matches!(s, Step::Build { .. }))
        .filter(|s| !matches!(s, Step::Remove { reason, .. } if reason == "orphan"))
}

fn removed(out: &mut Vec<Event>, name: &str) {
    out.push(event("Container", name, "Stopping", false));
    out.push(event("Container", name, "Stopped", false));
    both(out, "Container", name, "Removing", "Removed");
}

fn both(out: &mut Vec<Event>, kind: &'static str, name: &str, doing: &str, done: &str) {
    out.push(event(kind, name, doing, false));
    out.push(event(kind, name, done, true));
}

fn event(kind: &'static str, name: &str, status: &str, done: bool) -> Event {
    Event {
        kind,
        name: name.to_string(),
        status: status.to_string(),
        done,
        ..Default::default()
    }
}

/// A line compose prints with a text and no status (its build lines).
fn line(id: String, text: String) -> Event {
    Event {
        name: id,
        text,
        done: true,
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn build_ids_are_composes() {
        // compose v2.40.3, `--dry-run build` of a service named c.
        assert_eq!(super::build_id("c"), "dryRun-84a516841ba77a5b4648de2cd0dfcb30ea46dbb4");
    }
}
