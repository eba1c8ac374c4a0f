//! What the engine has for a project, found by Docker Compose's labels —
//! so containers `docker compose` made are seen exactly like orch's own.

use std::collections::HashMap;

use bollard::query_parameters as qp;
use bollard::Docker;
use futures_util::future::{join_all, try_join_all};

use super::desired::{
    Desired, LABEL_DEPENDS_ON, LABEL_HASH, LABEL_IMAGE, LABEL_NUMBER, LABEL_ONEOFF, LABEL_PROJECT, LABEL_SERVICE,
};
use crate::docker::flatten;
use crate::engine_json;

#[derive(Clone, Debug)]
pub struct ObservedContainer {
    pub id: String,
    pub name: String,
    pub service: String,
    pub number: usize,
    pub hash: String,
    /// The image ID it was created from (`com.docker.compose.image`).
    pub image: String,
    /// created, running, paused, restarting, exited, dead
    pub state: String,
    pub created: i64,
}

#[derive(Clone, Debug, Default)]
pub struct Observed {
    pub containers: Vec<ObservedContainer>,
    /// Engine names of the networks and volumes that exist.
    pub networks: Vec<String>,
    pub volumes: Vec<String>,
    /// Their labels, by engine name (config hash, project, key).
    pub labels: HashMap<String, HashMap<String, String>>,
    /// Image reference → whether the engine has it.
    pub images: HashMap<String, bool>,
    /// Image reference → its ID, for the images the engine has.
    pub image_ids: HashMap<String, String>,
    /// Image reference → the engine's answer when looking it up failed for
    /// another reason than its absence (e.g. upper case in the name).
    pub image_errors: HashMap<String, String>,
    /// (name, ID) of the project's networks that duplicate an older one.
    pub extra_networks: Vec<(String, String)>,
}

/// A network found by name.
pub struct NetworkCopy {
    pub id: String,
    pub project: Option<String>,
    pub labels: HashMap<String, String>,
    created: String,
}

/// RFC 3339 with its fraction padded to nanoseconds, so that it sorts
/// (the engine trims trailing zeros: `.1Z` is later than `.12Z` as text).
fn sortable(created: &str) -> String {
    match created.split_once('.') {
        Some((head, rest)) => {
            let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
            format!("{head}.{digits:0<9}{}", &rest[digits.len()..])
        }
        None => created.to_string(),
    }
}

/// Every network called exactly `name`, oldest first.
pub async fn networks_named(d: &Docker, name: &str) -> crate::error::Result<Vec<NetworkCopy>> {
    let filters = HashMap::from([("name".to_string(), vec![name.to_string()])]);
    let list = d
        .list_networks(Some(qp::ListNetworksOptions { filters: Some(filters) }))
        .await
        .map_err(|e| format!("listing networks named {name}: {}", flatten(&e)))?;
    let mut out: Vec<NetworkCopy> = list
        .into_iter()
        .filter(|n| n.name.as_deref() == Some(name))
        .filter_map(|n| {
            Some(NetworkCopy {
                id: n.id?,
                project: n.labels.as_ref().and_then(|l| l.get(LABEL_PROJECT).cloned()),
                labels: n.labels.unwrap_or_default(),
                created: sortable(&n.created.as_ref().map(crate::docker::rfc3339).unwrap_or_default()),
            })
        })
        .collect();
    out.sort_by(|a, b| a.created.cmp(&b.created).then(a.id.cmp(&b.id)));
    Ok(out)
}

impl Observed {
    pub fn of_service(&self, service: &str) -> Vec<&ObservedContainer> {
        let mut v: Vec<_> = self.containers.iter().filter(|c| c.service == service).collect();
        v.sort_by_key(|c| (c.number, -c.created));
        v
    }
}

/// The container's own name: with links the engine also lists it as
/// `/linker/alias`, in no set order (compose's getCanonicalContainerName).
fn canonical_name(names: &[String]) -> Option<String> {
    let own = names.iter().find(|n| n.rfind('/') == Some(0)).or(names.first())?;
    Some(own.trim_start_matches('/').to_string())
}

/// Lists the project's containers (one-off `run` containers excluded).
pub async fn containers(d: &Docker, project: &str) -> crate::error::Result<Vec<ObservedContainer>> {
    Ok(containers_with_labels(d, project)
        .await?
        .into_iter()
        .map(|(c, _)| c)
        .collect())
}

/// Every container (running or not) carrying all the `labels` (`k=v`).
pub async fn labelled(
    d: &Docker,
    labels: Vec<String>,
) -> Result<Vec<bollard::models::ContainerSummary>, bollard::errors::Error> {
    let filters = HashMap::from([("label".to_string(), labels)]);
    d.list_containers(Some(qp::ListContainersOptions {
        all: true,
        filters: Some(filters),
        ..Default::default()
    }))
    .await
}

/// The list call's answer for one container, only what the planner reads:
/// the rest of each record (network endpoints, mounts, ports, host config)
/// is skipped unread rather than built into bollard's model, which at 500
/// containers (0.7 MB) was a few ms of every plan, waited for.
#[derive(serde::Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
struct Listed {
    id: Option<String>,
    names: Option<Vec<String>>,
    labels: Option<HashMap<String, String>>,
    state: Option<String>,
    created: Option<i64>,
}

/// The same, each with its `com.docker.compose.depends_on` label.
pub async fn containers_with_labels(
    d: &Docker,
    project: &str,
) -> crate::error::Result<Vec<(ObservedContainer, String)>> {
    let label = [format!("{LABEL_PROJECT}={project}")];
    let path = format!(
        "/containers/json{}",
        engine_json::query(&[
            ("all", Some("true".into())),
            ("filters", engine_json::filters([("label", &label[..])])),
        ])
    );
    let list: Vec<Listed> = engine_json::get_as(d, &path)
        .await
        .map_err(|e| format!("listing containers of project {project}: {}", flatten(&e)))?;
    Ok(list
        .into_iter()
        .filter_map(|c| {
            let labels = c.labels.unwrap_or_default();
            if labels.get(LABEL_ONEOFF).map(String::as_str) == Some("True") {
                return None;
            }
            let deps = labels.get(LABEL_DEPENDS_ON).cloned().unwrap_or_default();
            let c = ObservedContainer {
                id: c.id?,
                name: canonical_name(c.names.as_deref()?)?,
                service: labels.get(LABEL_SERVICE)?.clone(),
                number: labels.get(LABEL_NUMBER).and_then(|n| n.parse().ok()).unwrap_or(0),
                hash: labels.get(LABEL_HASH).cloned().unwrap_or_default(),
                image: labels.get(LABEL_IMAGE).cloned().unwrap_or_default(),
                state: c.state.unwrap_or_default(),
                created: c.created.unwrap_or(0),
            };
            Some((c, deps))
        })
        .collect())
}

/// Observes everything the plan for `desired` depends on. The reads are
/// independent, so they go to the engine at once: a run's fixed cost is
/// one round trip, not one per network, volume and image.
pub async fn observe(d: &Docker, desired: &Desired) -> crate::error::Result<Observed> {
    observe_with(d, desired, containers(d, &desired.project)).await
}

/// The same with the project's containers from `listing` (a list the
/// caller asked for earlier, so that it overlaps the caller's own work).
pub async fn observe_with(
    d: &Docker,
    desired: &Desired,
    listing: impl std::future::Future<Output = crate::error::Result<Vec<ObservedContainer>>>,
) -> crate::error::Result<Observed> {
    let mut seen = std::collections::HashSet::new();
    let refs: Vec<&str> = desired
        .services
        .iter()
        .map(|s| s.image.as_str())
        .filter(|i| seen.insert(*i))
        .collect();
    let (containers, copies, found_volumes, found_images) = futures_util::future::join4(
        listing,
        try_join_all(desired.networks.iter().map(|n| networks_named(d, &n.name))),
        join_all(desired.volumes.iter().map(|v| d.inspect_volume(&v.name))),
        join_all(refs.iter().map(|r| d.inspect_image(r))),
    )
    .await;
    let containers = containers?;
    let mut networks = Vec::new();
    let mut extra_networks = Vec::new();
    let mut labels = HashMap::new();
    for (n, copies) in desired.networks.iter().zip(copies?) {
        if let Some((adopted, oldest)) = copies.split_first() {
            networks.push(n.name.clone());
            labels.insert(n.name.clone(), adopted.labels.clone());
            // Two racing `up`s each made one: the oldest is adopted, the
            // project's other copies go (by ID; the name is ambiguous).
            extra_networks.extend(
                oldest
                    .iter()
                    .filter(|x| x.project.as_deref() == Some(desired.project.as_str()))
                    .map(|x| (n.name.clone(), x.id.clone())),
            );
        }
    }
    let mut volumes = Vec::new();
    for (v, found) in desired.volumes.iter().zip(found_volumes) {
        if let Ok(info) = found {
            volumes.push(v.name.clone());
            labels.insert(format!("volume {}", v.name), info.labels);
        }
    }
    let mut images = HashMap::new();
    let mut image_ids = HashMap::new();
    let mut image_errors = HashMap::new();
    for (r, found) in refs.into_iter().zip(found_images) {
        let found = match found {
            Ok(i) => Some(i),
            Err(e) => {
                if crate::docker::status(&e).is_some_and(|c| c != 404) {
                    image_errors.insert(r.to_string(), flatten(&e));
                }
                None
            }
        };
        if let Some(id) = found.as_ref().and_then(|i| i.id.clone()) {
            image_ids.insert(r.to_string(), id);
        }
        images.insert(r.to_string(), found.is_some());
    }
    Ok(Observed {
        containers,
        networks,
        volumes,
        labels,
        images,
        image_ids,
        image_errors,
        extra_networks,
    })
}
