//! A compose service's rollout history: labels on its containers (so any
//! later orch reads it, and it goes away with the containers). Each
//! container a rollout creates carries its revision number and the last
//! [`KEEP`] revisions, each with the canonical service document it ran,
//! which is what `orch rollout undo` rolls out again.

use bollard::Docker;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::desired::{LABEL_HASH, LABEL_PROJECT, LABEL_SERVICE};

pub const LABEL_HISTORY: &str = "orch.rollout.history";
pub const LABEL_REVISION: &str = "orch.rollout.revision";
/// Revisions kept.
pub const KEEP: usize = 10;

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Revision {
    pub revision: u64,
    /// Unix seconds the rollout to it began.
    pub time: i64,
    pub image: String,
    /// compose's config hash of the service at this revision.
    pub hash: String,
    /// The canonical service document; None when orch could not know it
    /// (containers made before any rollout, by a different file).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<Value>,
}

/// What the service's containers say now: the history (oldest first), the
/// current revision, and a running container's image and config hash.
#[derive(Clone, Debug, Default)]
pub struct Current {
    pub history: Vec<Revision>,
    pub revision: Option<u64>,
    /// (image reference, config hash, created) of each running container.
    pub running: Vec<(String, String, i64)>,
}

/// Reads the history from the service's containers: the running one with
/// the highest revision speaks for them.
pub async fn read(d: &Docker, project: &str, service: &str) -> crate::error::Result<Current> {
    let labels = vec![
        format!("{LABEL_PROJECT}={project}"),
        format!("{LABEL_SERVICE}={service}"),
    ];
    let list = super::observed::labelled(d, labels)
        .await
        .map_err(|e| crate::error::Error::from_engine(format!("listing containers of service {service}"), &e))?;
    let mut cur = Current::default();
    let mut best: Option<(u64, String)> = None;
    for c in list {
        let labels = c.labels.unwrap_or_default();
        let running = c.state.map(|s| s.to_string()).as_deref() == Some("running");
        if !running {
            continue;
        }
        let hash = labels.get(LABEL_HASH).cloned().unwrap_or_default();
        cur.running
            .push((c.image.unwrap_or_default(), hash, c.created.unwrap_or_default()));
        let rev = labels.get(LABEL_REVISION).and_then(|r| r.parse::<u64>().ok());
        if let (Some(rev), Some(h)) = (rev, labels.get(LABEL_HISTORY)) {
            if best.as_ref().is_none_or(|(b, _)| rev > *b) {
                best = Some((rev, h.clone()));
            }
        }
    }
    if let Some((rev, text)) = best {
        cur.revision = Some(rev);
        cur.history = serde_json::from_str(&text).map_err(|e| {
            format!("service {service}: its containers' {LABEL_HISTORY} label is not a rollout history: {e}")
        })?;
    }
    Ok(cur)
}

/// The history after rolling out to `new` (its revision filled in): the
/// running configuration is recorded first when the history does not end
/// with it (containers `up` made). `old_service` is the document the old
/// containers ran, when known.
pub fn extend(cur: &Current, old: Option<Revision>, mut new: Revision) -> Vec<Revision> {
    let mut h = cur.history.clone();
    // A rollout to this configuration already began (and was killed):
    // its containers carry the history already.
    if h.last().map(|r| &r.hash) == Some(&new.hash) {
        return h;
    }
    let last = h.last().map(|r| r.revision).unwrap_or(0);
    let mut next = last + 1;
    if let Some(mut o) = old {
        if h.last().map(|r| &r.hash) != Some(&o.hash) {
            o.revision = next;
            next += 1;
            h.push(o);
        }
    }
    new.revision = next;
    h.push(new);
    let skip = h.len().saturating_sub(KEEP);
    h.drain(..skip);
    h
}

/// The labels a new container of the revision carries.
pub fn labels(history: &[Revision]) -> Vec<(String, String)> {
    let rev = history.last().map(|r| r.revision).unwrap_or(0);
    vec![
        (LABEL_REVISION.to_string(), rev.to_string()),
        (
            LABEL_HISTORY.to_string(),
            serde_json::to_string(history).unwrap_or_default(),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rev(hash: &str) -> Revision {
        Revision {
            revision: 0,
            time: 1,
            image: format!("img:{hash}"),
            hash: hash.into(),
            service: None,
        }
    }

    #[test]
    fn records_the_running_configuration_once_then_numbers_on() {
        let cur = Current::default();
        let h = extend(&cur, Some(rev("a")), rev("b"));
        assert_eq!(
            h.iter().map(|r| (r.revision, r.hash.as_str())).collect::<Vec<_>>(),
            [(1, "a"), (2, "b")]
        );
        let cur = Current {
            history: h,
            revision: Some(2),
            running: vec![],
        };
        let h = extend(&cur, Some(rev("b")), rev("c"));
        assert_eq!(h.iter().map(|r| r.revision).collect::<Vec<_>>(), [1, 2, 3]);
    }

    #[test]
    fn keeps_the_last_ten() {
        let mut cur = Current::default();
        for i in 0..15 {
            cur.history = extend(&cur, None, rev(&format!("h{i}")));
        }
        assert_eq!(cur.history.len(), KEEP);
        assert_eq!(cur.history[0].revision, 6);
        assert_eq!(cur.history[9].revision, 15);
    }
}
