//! Finding containers: the list call by Docker filters, and lookup by
//! name or ID; each answer becomes a `Container` handle whose `info` holds
//! what the engine reported.

use std::sync::Arc;

use bollard::models::ContainerSummary;
use bollard::query_parameters as qp;
use rhai::{Array, Dynamic, Map};

use super::container::Container;
use super::value::{map_of, to_dynamic};
use super::{engine_call, engine_find, RhaiResult};
use crate::docker::Endpoint;

impl Container {
    fn from_summary(ep: Arc<Endpoint>, s: ContainerSummary) -> Self {
        let name = crate::docker::summary_name(&s);
        // The summary is ours: its parts move into the map (500 listed
        // containers made `ps` copy every label map and port list twice).
        let networks: Vec<String> = s
            .network_settings
            .and_then(|n| n.networks)
            .map(|n| n.into_keys().collect())
            .unwrap_or_default();
        let mut info = Map::new();
        info.insert("image".into(), s.image.unwrap_or_default().into());
        info.insert("image_id".into(), s.image_id.unwrap_or_default().into());
        info.insert("command".into(), s.command.unwrap_or_default().into());
        info.insert("created".into(), s.created.unwrap_or_default().into());
        info.insert(
            "state".into(),
            s.state.map(|x| x.to_string()).unwrap_or_default().into(),
        );
        info.insert("status".into(), s.status.unwrap_or_default().into());
        info.insert("labels".into(), map_of(s.labels.unwrap_or_default()).into());
        info.insert("ports".into(), to_dynamic(&s.ports.unwrap_or_default()));
        info.insert("mounts".into(), to_dynamic(&s.mounts.unwrap_or_default()));
        info.insert("networks".into(), to_dynamic(&networks));
        Container {
            ep,
            id: s.id.unwrap_or_default(),
            name,
            info,
        }
    }
}

/// Lists containers matching Docker filters (`label`, `name`, `status` …).
pub(super) fn list(ep: Arc<Endpoint>, filter: Map) -> RhaiResult<Array> {
    let mut all = false;
    let mut filters = std::collections::HashMap::new();
    for (k, v) in filter {
        if k == "all" {
            all = v
                .as_bool()
                .map_err(|_| "container::list: `all` must be true or false")?;
            continue;
        }
        let vals: Vec<String> = match v.clone().try_cast::<Array>() {
            Some(a) => a.into_iter().map(|x| x.to_string()).collect(),
            None => vec![v.to_string()],
        };
        filters.insert(k.to_string(), vals);
    }
    let opts = qp::ListContainersOptions {
        all,
        filters: Some(filters),
        ..Default::default()
    };
    let found = engine_call(&ep, "container list", |d| d.list_containers(Some(opts)))?;
    Ok(found
        .into_iter()
        .map(|s| Dynamic::from(Container::from_summary(ep.clone(), s)))
        .collect())
}

/// Looks a container up by name or ID; `None` when the engine has none.
pub(super) fn lookup(ep: Arc<Endpoint>, name: &str) -> RhaiResult<Option<Container>> {
    let found = engine_find(&ep, format!("container inspect {name}"), |d| {
        d.inspect_container(name, None::<qp::InspectContainerOptions>)
    })?;
    Ok(found.map(|i| {
        let mut info = Map::new();
        let cfg = i.config.clone().unwrap_or_default();
        info.insert("image".into(), cfg.image.unwrap_or_default().into());
        info.insert("image_id".into(), i.image.clone().unwrap_or_default().into());
        let st = i.state.clone().unwrap_or_default();
        info.insert(
            "state".into(),
            st.status.map(|s| s.to_string()).unwrap_or_default().into(),
        );
        info.insert("status".into(), Dynamic::from(String::new()));
        info.insert("labels".into(), map_of(cfg.labels.unwrap_or_default()).into());
        Container {
            ep: ep.clone(),
            id: i.id.unwrap_or_default(),
            name: i.name.unwrap_or_default().trim_start_matches('/').to_string(),
            info,
        }
    }))
}
