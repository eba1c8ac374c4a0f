//! The tasks of services named on a command line, found as the docker
//! CLI's `service ps` finds them: by whole ID, then whole name, then a
//! unique ID prefix. The four engine reads (services by ID, services by
//! name, the tasks, the nodes) go out at once: one after the other they
//! were most of `orch service ps`'s time beside `docker service ps`
//! (bench/swarm.sh). The tasks are asked for by the names as given, which
//! the engine resolves in the same order; when one is missing or
//! ambiguous they are asked for again by the IDs found. The script prints.
//!
//! ```rhai
//! let f = service::find_tasks(["web", "api"], #{ desired_state: "running" });
//! for t in f.tasks { print(`${f.services[t.ServiceID]} on ${f.nodes[t.NodeID]}`); }
//! ```

use rhai::plugin::*;
use rhai::{Array, Dynamic, Map, NativeCallContext};
use serde::Deserialize;
use serde_json::Value;

use super::options::TaskFilters;
use super::swarm::{filters, with};
use super::{engine_err, RhaiResult};
use crate::engine_json as ej;

/// A service as far as finding it goes.
#[derive(Deserialize, Default)]
#[serde(default)]
struct Named {
    #[serde(rename = "ID")]
    id: String,
    #[serde(rename = "Spec")]
    spec: NamedSpec,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct NamedSpec {
    #[serde(rename = "Name")]
    name: String,
}

/// A node as far as a task table goes.
#[derive(Deserialize, Default)]
#[serde(default)]
struct Host {
    #[serde(rename = "ID")]
    id: String,
    #[serde(rename = "Description")]
    description: HostDescription,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct HostDescription {
    #[serde(rename = "Hostname")]
    hostname: String,
}

/// What the references name: the services found, in order, each once (ID,
/// name), the references not found, and the first ambiguous one.
#[derive(Default)]
struct Found {
    services: Vec<(String, String)>,
    missing: Vec<String>,
    ambiguous: Option<String>,
}

/// docker's createFilter: for each reference, a service whose whole ID it
/// is (`by_id`, the engine's ID-prefix list), else one whose whole name
/// it is (`by_name`, the name-prefix list), else the one service whose ID
/// it begins; two such services stop the search.
fn resolve(refs: &[String], by_id: &[Named], by_name: &[Named]) -> Found {
    let mut f = Found::default();
    for r in refs {
        let whole = by_id.iter().find(|s| &s.id == r);
        let named = || by_name.iter().find(|s| &s.spec.name == r);
        let s = match whole.or_else(named) {
            Some(s) => s,
            None => {
                let mut prefixed = by_id.iter().filter(|s| s.id.starts_with(r.as_str()));
                match (prefixed.next(), prefixed.next()) {
                    (Some(_), Some(_)) => {
                        f.ambiguous = Some(r.clone());
                        return f;
                    }
                    (Some(s), None) => s,
                    _ => {
                        f.missing.push(r.clone());
                        continue;
                    }
                }
            }
        };
        if !f.services.iter().any(|(id, _)| id == &s.id) {
            f.services.push((s.id.clone(), s.spec.name.clone()));
        }
    }
    f
}

/// The task list's path: the script's filters with `service` set.
fn tasks_path(task_filters: &Value, services: &[String]) -> String {
    let mut f = task_filters.clone();
    f["service"] = Value::from(services.to_vec());
    format!("/tasks{}", ej::query(&[("filters", filters(&f))]))
}

fn find(refs: Vec<String>, opts: Map) -> RhaiResult<Map> {
    let o: TaskFilters = super::opts::read("service::find_tasks", opts)?;
    let task_filters = serde_json::to_value(&o).map_err(|e| e.to_string())?;
    let list = |key: &str| {
        let f = ej::filters([(key, refs.as_slice())]);
        format!("/services{}", ej::query(&[("filters", f)]))
    };
    let (by_id_path, by_name_path) = (list("id"), list("name"));
    let guess_path = tasks_path(&task_filters, &refs);
    let (by_id, by_name, hosts, guess): (Vec<Named>, Vec<Named>, Vec<Host>, _) = with(|d| async move {
        let (a, b, n, t) = tokio::join!(
            ej::get_as::<Vec<Named>>(&d, &by_id_path),
            ej::get_as::<Vec<Named>>(&d, &by_name_path),
            ej::get_as::<Vec<Host>>(&d, "/nodes"),
            ej::get_as::<Dynamic>(&d, &guess_path),
        );
        let err = |what: &str, e| engine_err(what, &e);
        Ok((
            a.map_err(|e| err("service ls", e))?,
            b.map_err(|e| err("service ls", e))?,
            n.map_err(|e| err("node ls", e))?,
            t,
        ))
    })?;
    let found = resolve(&refs, &by_id, &by_name);
    let tasks = match guess {
        _ if found.ambiguous.is_some() || found.services.is_empty() => Dynamic::from_array(Array::new()),
        Ok(t) if found.missing.is_empty() => t,
        _ => {
            let ids: Vec<String> = found.services.iter().map(|(id, _)| id.clone()).collect();
            let path = tasks_path(&task_filters, &ids);
            with(|d| async move {
                ej::get_as::<Dynamic>(&d, &path)
                    .await
                    .map_err(|e| engine_err("task ls", &e))
            })?
        }
    };
    let mut out = Map::new();
    let names: Map = found
        .services
        .into_iter()
        .map(|(id, n)| (id.into(), n.into()))
        .collect();
    let nodes: Map = hosts
        .into_iter()
        .map(|h| (h.id.into(), h.description.hostname.into()))
        .collect();
    out.insert("services".into(), names.into());
    out.insert("nodes".into(), nodes.into());
    out.insert("tasks".into(), tasks);
    out.insert(
        "missing".into(),
        found.missing.into_iter().map(Dynamic::from).collect::<Array>().into(),
    );
    out.insert("ambiguous".into(), found.ambiguous.map_or(Dynamic::UNIT, Dynamic::from));
    Ok(out)
}

#[export_module]
pub mod api {
    /// The tasks of the services `refs` name, each found as the docker
    /// CLI finds it (whole ID, whole name, unique ID prefix), and
    /// `filters` as `task::list` takes them. Returns `tasks`, `services`
    /// (ID → name of each found), `nodes` (ID → hostname), `missing` (the
    /// references that name none) and `ambiguous` (the first reference
    /// that begins several IDs; then no tasks, as docker lists none).
    ///
    /// ```rhai
    /// let f = service::find_tasks(["web"], #{});
    /// if f.ambiguous != () { throw `multiple services found with provided prefix: ${f.ambiguous}`; }
    /// print(f.tasks.len());
    /// ```
    #[rhai_fn(return_raw)]
    pub fn find_tasks(ctx: NativeCallContext, refs: Array, filters: Map) -> RhaiResult<Map> {
        let refs = refs.into_iter().map(|r| r.to_string()).collect();
        crate::api::at(&ctx, || super::find(refs, filters))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn svc(id: &str, name: &str) -> Named {
        Named {
            id: id.into(),
            spec: NamedSpec { name: name.into() },
        }
    }

    fn refs(r: &[&str]) -> Vec<String> {
        r.iter().map(|s| s.to_string()).collect()
    }

    /// Whole ID before whole name before ID prefix, each service once,
    /// the missing kept in order, an ambiguous prefix ending the search.
    #[test]
    fn resolves_as_dockers_create_filter() {
        let by_id = [svc("abc123", "web"), svc("abd456", "api"), svc("ff0000", "abc")];
        let by_name = [svc("ff0000", "abc"), svc("abc123", "web")];
        let f = resolve(
            &refs(&["abc123", "abc", "web", "nope", "abd", "gone"]),
            &by_id,
            &by_name,
        );
        let ids: Vec<&str> = f.services.iter().map(|(id, _)| id.as_str()).collect();
        assert_eq!(ids, ["abc123", "ff0000", "abd456"]);
        assert_eq!(f.services[1], ("ff0000".to_string(), "abc".to_string()));
        assert_eq!(f.missing, refs(&["nope", "gone"]));
        assert_eq!(f.ambiguous, None);
        let f = resolve(&refs(&["web", "ab", "api"]), &by_id, &by_name);
        let ids: Vec<&str> = f.services.iter().map(|(id, _)| id.as_str()).collect();
        assert_eq!((ids, f.ambiguous), (vec!["abc123"], Some("ab".to_string())));
    }
}
