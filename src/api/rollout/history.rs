//! The rollout history as `compose::rollout` and the scripts use it.

use rhai::{Dynamic, Map};
use serde_json::Value;

use super::super::compose::Project;
use crate::api::{client, fail, RhaiResult};
use crate::bridge;
use crate::plan::desired;
use crate::plan::history::{self, Revision};

/// The service document of `revision` in the history.
pub(super) fn revision_document(cur: &history::Current, service: &str, revision: i64) -> RhaiResult<Value> {
    let Some(r) = cur.history.iter().find(|r| r.revision as i64 == revision) else {
        let known: Vec<String> = cur.history.iter().map(|r| r.revision.to_string()).collect();
        return fail(format!(
            "service {service} has no revision {revision} (its history: {}; see `orch rollout history {service}`)",
            if known.is_empty() {
                "empty".to_string()
            } else {
                known.join(", ")
            }
        ));
    };
    r.service.clone().ok_or_else(|| {
        format!("revision {revision} of {service} ran a configuration orch did not record (made before any rollout)")
            .into()
    })
}

/// The document the running containers with (`image`, `hash`) were made
/// from, when orch can know it: a recorded revision with that hash, or
/// the project's service with that image (if that hashes the same).
fn known_document(p: &Project, service: &str, cur: &history::Current, image: &str, hash: &str) -> Option<Value> {
    if let Some(r) = cur.history.iter().rev().find(|r| r.hash == hash && r.service.is_some()) {
        return r.service.clone();
    }
    let mut doc = p.0.doc["services"][service].clone();
    doc["image"] = Value::String(image.to_string());
    (desired::service_hash(&doc) == hash).then_some(doc)
}

/// The history the new replicas carry (the running configuration
/// recorded first if it is not yet).
pub(super) fn history_for(p: &Project, svc: &desired::ServiceSpec, cur: &history::Current) -> Vec<(String, String)> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let old = cur
        .running
        .iter()
        .find(|(_, h, _)| *h != svc.hash)
        .map(|(image, hash, created)| Revision {
            revision: 0,
            time: *created,
            image: image.clone(),
            hash: hash.clone(),
            service: known_document(p, &svc.name, cur, image, hash),
        });
    let new = Revision {
        revision: 0,
        time: now,
        image: svc.image.clone(),
        hash: svc.hash.clone(),
        service: Some(svc.raw.clone()),
    };
    history::labels(&history::extend(cur, old, new))
}

pub(super) fn history_of(project: &str, service: &str) -> RhaiResult<rhai::Array> {
    let ep = crate::api::endpoint();
    let cur = bridge::block_on(async {
        let d = client(&ep).await?;
        history::read(d, project, service).await.map_err(Into::into)
    })?;
    Ok(cur
        .history
        .iter()
        .map(|r| {
            let mut m = Map::new();
            m.insert("revision".into(), (r.revision as i64).into());
            m.insert("time".into(), r.time.into());
            m.insert("image".into(), r.image.clone().into());
            m.insert("hash".into(), r.hash.clone().into());
            m.insert("current".into(), (Some(r.revision) == cur.revision).into());
            m.insert("known".into(), r.service.is_some().into());
            Dynamic::from_map(m)
        })
        .collect())
}
