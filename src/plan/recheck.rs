//! The applier's second look at kept replicas whose fate the plan could
//! not know (see `replicas::Check`): once the service's image is built and
//! the services it refers to converged, a replica whose config hash or
//! image ID differs from what compose would stamp now is recreated.

use bollard::Docker;

use super::desired::ServiceSpec;
use super::diff::Step;
use super::replicas::Check;

/// `steps` with a recreate for every checked replica that turned out
/// obsolete (replacing its start or restart step).
pub async fn steps(
    d: &Docker,
    project: &str,
    svc: &ServiceSpec,
    checks: &[Check],
    image_id: &str,
    mut steps: Vec<Step>,
) -> crate::error::Result<Vec<Step>> {
    if checks.is_empty() {
        return Ok(steps);
    }
    let hash = if svc.has_refs {
        let ids = super::refs::first_ids(&super::observed::containers(d, project).await?);
        super::refs::hash(&svc.raw, &|s| ids.get(s).cloned()).map_err(|e| format!("service {}: {e}", svc.name))?
    } else {
        svc.hash.clone()
    };
    for c in checks {
        let reason = if c.hash != hash {
            "configuration changed"
        } else if !image_id.is_empty() && c.image != image_id {
            "image changed"
        } else {
            continue;
        };
        steps.retain(|s| !matches!(s, Step::Start { id, .. } | Step::Restart { id, .. } if id == &c.id));
        steps.push(Step::Recreate {
            service: c.service.clone(),
            number: c.number,
            name: c.name.clone(),
            id: c.id.clone(),
            reason: reason.into(),
        });
    }
    Ok(steps)
}
