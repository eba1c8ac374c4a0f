//! Finding containers: the list call by Docker filters, and lookup by
//! name or ID; each answer becomes a `Container` handle whose `info` holds
//! what the engine reported.

use std::sync::Arc;

use bollard::models::{MountPoint, PortSummary};
use bollard::query_parameters as qp;
use indexmap::IndexMap;
use rhai::{Array, Dynamic, Identifier, ImmutableString, Map};
use serde::de::IgnoredAny;
use serde::Deserialize;

use super::container::Container;
use super::value::{map_of, to_dynamic};
use super::{engine_call, engine_find, RhaiResult};
use crate::docker::Endpoint;
use crate::engine_json as ej;

/// The list call's answer for one container, only the fields a `Container`
/// keeps: the rest of each record (most of it: every network's endpoint
/// settings, the host config) is skipped unread rather than built into a
/// model and dropped, a fifth of `orch ps` on 500 containers.
#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
struct Listed {
    id: String,
    #[serde(deserialize_with = "nullable")]
    names: Vec<String>,
    image: String,
    #[serde(rename = "ImageID")]
    image_id: String,
    command: String,
    created: i64,
    state: String,
    status: String,
    #[serde(deserialize_with = "nullable")]
    labels: Labels,
    #[serde(deserialize_with = "nullable")]
    ports: Vec<PortSummary>,
    #[serde(deserialize_with = "nullable")]
    mounts: Vec<MountPoint>,
    #[serde(deserialize_with = "nullable")]
    network_settings: ListedNetworks,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
struct ListedNetworks {
    #[serde(deserialize_with = "nullable")]
    networks: IndexMap<String, IgnoredAny>,
}

/// A JSON object of strings read straight into the Rhai map a
/// container's `labels` is; a `HashMap<String, String>` in between hashed
/// every label only for `map_of` to copy it again.
#[derive(Default)]
struct Labels(Map);

impl<'de> Deserialize<'de> for Labels {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = Labels;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an object of strings")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut m: A) -> Result<Labels, A::Error> {
                let mut pairs = Vec::with_capacity(m.size_hint().unwrap_or(0));
                while let Some((Text(k), Text(v))) = m.next_entry::<Text<Identifier>, Text<ImmutableString>>()? {
                    pairs.push((k, Dynamic::from(v)));
                }
                Ok(Labels(pairs.into_iter().collect()))
            }
        }
        d.deserialize_map(Visit)
    }
}

/// A JSON string made into `T` from the text as it is read (no `String`
/// in between).
struct Text<T>(T);

impl<'de, T: for<'a> From<&'a str>> Deserialize<'de> for Text<T> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visit<T>(std::marker::PhantomData<T>);
        impl<'de, T: for<'a> From<&'a str>> serde::de::Visitor<'de> for Visit<T> {
            type Value = Text<T>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a string")
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<Text<T>, E> {
                Ok(Text(T::from(s)))
            }
        }
        d.deserialize_str(Visit(std::marker::PhantomData))
    }
}

/// `null` (Go's nil map or slice) as the empty value.
fn nullable<'de, D: serde::Deserializer<'de>, T: Deserialize<'de> + Default>(d: D) -> Result<T, D::Error> {
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

impl Container {
    fn from_listed(ep: Arc<Endpoint>, s: Listed) -> Self {
        let networks: Array = s.network_settings.networks.into_keys().map(Dynamic::from).collect();
        let mut info = Map::new();
        info.insert("image".into(), s.image.into());
        info.insert("image_id".into(), s.image_id.into());
        info.insert("command".into(), s.command.into());
        info.insert("created".into(), s.created.into());
        info.insert("state".into(), s.state.into());
        info.insert("status".into(), s.status.into());
        info.insert("labels".into(), s.labels.0.into());
        info.insert("ports".into(), to_dynamic(&s.ports));
        info.insert("mounts".into(), to_dynamic(&s.mounts));
        info.insert("networks".into(), networks.into());
        Container {
            ep,
            id: s.id,
            name: crate::docker::listed_name(&s.names),
            info,
        }
    }
}

/// Lists containers matching Docker filters (`label`, `name`, `status` …).
pub(super) fn list(ep: Arc<Endpoint>, filter: Map) -> RhaiResult<Array> {
    let mut all = false;
    let mut filters = Vec::new();
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
        filters.push((k.to_string(), vals));
    }
    let path = format!(
        "/containers/json{}",
        crate::engine_json::query(&[
            ("all", Some(all.to_string())),
            ("size", Some("false".into())),
            (
                "filters",
                ej::filters(filters.iter().map(|(k, v)| (k.as_str(), v.as_slice())))
            ),
        ])
    );
    let found: Vec<Listed> = engine_call(&ep, "container list", |d| async move {
        crate::engine_json::get_as(d, &path).await
    })?;
    Ok(found
        .into_iter()
        .map(|s| Dynamic::from(Container::from_listed(ep.clone(), s)))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listed_reads_what_a_container_keeps_and_takes_nulls_as_empty() {
        let text = r#"[{"Id":"abc","Names":["/p-web-1"],"Image":"nginx","ImageID":"sha256:1","Command":"run",
            "Created":7,"State":"running","Status":"Up 1 second","Labels":{"a":"b"},
            "Ports":[{"IP":"0.0.0.0","PrivatePort":80,"PublicPort":8080,"Type":"tcp"}],
            "Mounts":[{"Type":"volume","Name":"v","Driver":"local"}],"HostConfig":{"NetworkMode":"x"},
            "NetworkSettings":{"Networks":{"p_default":{"IPAMConfig":null,"Aliases":null}}}},
            {"Id":"def","Names":null,"Labels":null,"Ports":null,"Mounts":null,"NetworkSettings":{"Networks":null}}]"#;
        let listed: Vec<Listed> = serde_json::from_str(text).unwrap();
        let ep = Endpoint::new("unix:///nowhere.sock");
        let mut it = listed.into_iter().map(|l| Container::from_listed(ep.clone(), l));
        let web = it.next().unwrap();
        assert_eq!((web.id.as_str(), web.name.as_str()), ("abc", "p-web-1"));
        assert_eq!(web.info["state"].to_string(), "running");
        assert_eq!(web.info["created"].as_int().unwrap(), 7);
        assert_eq!(web.info["networks"].to_string(), r#"["p_default"]"#);
        assert_eq!(
            crate::api::value::to_json(&web.info["ports"]).unwrap().to_string(),
            r#"[{"IP":"0.0.0.0","PrivatePort":80,"PublicPort":8080,"Type":"tcp"}]"#
        );
        assert_eq!(web.with_labels(|m| m["a"].to_string()).unwrap(), "b");
        let bare = it.next().unwrap();
        assert_eq!((bare.id.as_str(), bare.name.as_str()), ("def", ""));
        assert!(bare.info["mounts"].clone().cast::<Array>().is_empty());
    }
}
