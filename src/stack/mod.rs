//! Swarm stacks: what `docker stack deploy` does, as a plan and an
//! applier. [`convert`] turns a compose project into specs; [`plan`]
//! compares them with what the swarm runs under the stack's namespace
//! label and decides, per object, create / update / unchanged / remove;
//! [`apply`] sends the plan (networks, secrets and configs first, in
//! parallel, then services). Which steps to run and what
//! to print is the stdlib's (`stdlib/stack/deploy.rhai`).

pub mod convert;
mod service;
pub mod v3;

use std::collections::HashMap;

use bollard::query_parameters as qp;
use bollard::Docker;
use futures_util::{stream, StreamExt};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::engine_json as ej;

pub use convert::{Stack, LABEL_NAMESPACE};

/// Where orch keeps the hash of the spec it last sent for a service, so
/// that a key removed from the compose file is still seen as a change.
pub const LABEL_SPEC_HASH: &str = "com.docker.orch.stack.spec-hash";

/// How many network, secret and config calls run at once.
const CONCURRENCY: usize = 8;

/// Services are sent one after another, as docker does: measured on a
/// 3-node swarm (10 services × 3 replicas; bench/swarm.sh times 10 × 2 now), creating them
/// 8 at a time got every task running later (1.10× docker's time) than
/// one at a time (0.98×): the managers schedule a burst of new services
/// no faster, and the nodes then start their tasks in a worse order.
const SERVICE_CONCURRENCY: usize = 1;

/// One thing to do to one object of the stack.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Step {
    /// network, secret, config or service.
    pub kind: String,
    /// create, update, unchanged or remove.
    pub action: String,
    pub name: String,
    /// The existing object's ID (update, unchanged, remove).
    #[serde(default)]
    pub id: String,
    /// The spec to send (create, update).
    #[serde(default)]
    pub spec: Value,
    /// A service's `X-Registry-Auth` (`--with-registry-auth`), filled in
    /// by the caller of [`apply`]; never printed or kept.
    #[serde(default, skip_serializing)]
    pub registry_auth: Option<String>,
}

/// What happened to one step.
#[derive(Clone, Debug, Serialize)]
pub struct Outcome {
    pub kind: String,
    pub action: String,
    pub name: String,
    pub id: String,
    pub error: Option<String>,
}

fn err(what: impl std::fmt::Display, e: &bollard::errors::Error) -> crate::error::Error {
    crate::error::Error::from_engine(what, e)
}

fn ns_filter(ns: &str) -> HashMap<String, Vec<String>> {
    HashMap::from([("label".to_string(), vec![format!("{LABEL_NAMESPACE}={ns}")])])
}

/// `?filters=…` selecting the objects of stack `ns`.
fn ns_query(ns: &str) -> String {
    let label = [format!("{LABEL_NAMESPACE}={ns}")];
    ej::query(&[("filters", ej::filters([("label", &label[..])]))])
}

fn array(v: Value) -> Vec<Value> {
    match v {
        Value::Array(a) => a,
        _ => Vec::new(),
    }
}

/// `Spec.Name` → `ID` of a list of swarm objects.
fn names_to_ids(list: &Value) -> HashMap<String, String> {
    list.as_array()
        .into_iter()
        .flatten()
        .filter_map(|o| Some((o["Spec"]["Name"].as_str()?.to_string(), o["ID"].as_str()?.to_string())))
        .collect()
}

/// Whether everything `want` says is also so in `have` (the engine adds
/// defaults and IDs of its own; arrays must match item by item).
pub fn subset(want: &Value, have: &Value) -> bool {
    match (want, have) {
        (Value::Object(w), Value::Object(h)) => w.iter().all(|(k, v)| match h.get(k) {
            Some(hv) => subset(v, hv),
            None => v.is_null() || v == &json!({}) || v == &json!([]),
        }),
        (Value::Array(w), Value::Array(h)) => w.len() == h.len() && w.iter().zip(h).all(|(a, b)| subset(a, b)),
        (Value::Number(a), Value::Number(b)) => a.as_f64() == b.as_f64(),
        (a, b) => a == b,
    }
}

fn spec_hash(spec: &Value) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(spec.to_string().as_bytes());
    digest.iter().take(16).map(|b| format!("{b:02x}")).collect()
}

fn step(kind: &str, action: &str, name: &str, id: &str, spec: Value) -> Step {
    Step {
        kind: kind.into(),
        action: action.into(),
        name: name.into(),
        id: id.into(),
        spec,
        registry_auth: None,
    }
}

/// Decides what deploying `stack` changes. `prune`: services of the stack
/// that are no longer in it are removed.
pub async fn plan(d: &Docker, stack: &Stack, prune: bool) -> crate::error::Result<Vec<Step>> {
    let ns = &stack.name;
    let networks = d
        .list_networks(None::<qp::ListNetworksOptions>)
        .await
        .map_err(|e| err("network ls", &e))?;
    let net_ids: HashMap<String, String> = networks
        .iter()
        .filter_map(|n| Some((n.name.clone()?, n.id.clone()?)))
        .collect();
    let mut steps = Vec::new();
    for n in &stack.networks {
        match net_ids.get(&n.name) {
            Some(id) => steps.push(step("network", "unchanged", &n.name, id, Value::Null)),
            None if n.external => {
                return Err(format!(
                    "network {:?} is declared as external, but could not be found. You need to create a swarm-scoped network before the stack is deployed",
                    n.name
                ).into())
            }
            None => steps.push(step("network", "create", &n.name, "", n.spec.clone())),
        }
    }

    let secret_ids = names_to_ids(&ej::get(d, "/secrets").await.map_err(|e| err("secret ls", &e))?);
    let config_ids = names_to_ids(&ej::get(d, "/configs").await.map_err(|e| err("config ls", &e))?);
    for (kind, objects, ids) in [
        ("secret", &stack.secrets, &secret_ids),
        ("config", &stack.configs, &config_ids),
    ] {
        for o in objects {
            match ids.get(&o.name) {
                // Swarm refuses a changed content here rather than let it
                // pass unnoticed (as docker stack deploy does).
                Some(id) if !o.external => steps.push(step(kind, "update", &o.name, id, o.spec.clone())),
                Some(id) => steps.push(step(kind, "unchanged", &o.name, id, Value::Null)),
                None if o.external => {
                    return Err(format!("{kind} {:?} is declared as external, but could not be found", o.name).into())
                }
                None => steps.push(step(kind, "create", &o.name, "", o.spec.clone())),
            }
        }
    }

    let existing = ej::get(d, &format!("/services{}", ns_query(ns)))
        .await
        .map_err(|e| err("service ls", &e))?;
    let net_names: HashMap<&String, &String> = net_ids.iter().map(|(n, i)| (i, n)).collect();
    let mut by_name: HashMap<String, Value> = HashMap::new();
    for mut v in array(existing) {
        // The engine stores network IDs; compare by name.
        if let Some(nets) = v["Spec"]["TaskTemplate"]["Networks"].as_array_mut() {
            for n in nets {
                if let Some(name) = n["Target"].as_str().and_then(|t| net_names.get(&t.to_string())) {
                    n["Target"] = json!(name);
                }
            }
        }
        let name = v["Spec"]["Name"].as_str().unwrap_or_default().to_string();
        by_name.insert(name, v);
    }
    for svc in &stack.services {
        let mut spec = svc.spec.clone();
        // The hash is of what the file says, before the engine's IDs.
        let hash = spec_hash(&spec);
        // The image as the engine will hold it (`:latest` added).
        spec = ej::with_tagged_image(spec);
        spec["Labels"][LABEL_SPEC_HASH] = json!(hash);
        // IDs of secrets and configs that exist; `apply` adds those it creates.
        fill_ids(&mut spec, &secret_ids, &config_ids);
        match by_name.remove(&svc.name) {
            None => steps.push(step("service", "create", &svc.name, "", spec)),
            Some(current) => {
                let id = current["ID"].as_str().unwrap_or_default();
                let same = current["Spec"]["Labels"][LABEL_SPEC_HASH] == json!(hash) && subset(&spec, &current["Spec"]);
                let action = if same { "unchanged" } else { "update" };
                steps.push(step("service", action, &svc.name, id, spec));
            }
        }
    }
    let mut left: Vec<(String, Value)> = by_name.into_iter().collect();
    left.sort_by(|a, b| a.0.cmp(&b.0));
    if prune {
        for (name, current) in left {
            let id = current["ID"].as_str().unwrap_or_default();
            steps.push(step("service", "remove", &name, id, Value::Null));
        }
    }
    Ok(steps)
}

/// Sets `SecretID`/`ConfigID` of the references in a service spec whose
/// names are in the maps (the others are left as they are).
fn fill_ids(spec: &mut Value, secrets: &HashMap<String, String>, configs: &HashMap<String, String>) {
    let c = &mut spec["TaskTemplate"]["ContainerSpec"];
    for (key, name_key, id_key, ids) in [
        ("Secrets", "SecretName", "SecretID", secrets),
        ("Configs", "ConfigName", "ConfigID", configs),
    ] {
        if let Some(list) = c[key].as_array_mut() {
            for r in list {
                if let Some(id) = r[name_key].as_str().and_then(|n| ids.get(n)) {
                    r[id_key] = json!(id);
                }
            }
        }
    }
}

/// Runs `steps`: networks, secrets and configs in parallel, then services
/// one by one (see `SERVICE_CONCURRENCY`). Every step is tried; the
/// outcomes say which failed.
pub async fn apply(d: &Docker, steps: Vec<Step>) -> Vec<Outcome> {
    let (objects, services): (Vec<Step>, Vec<Step>) = steps
        .into_iter()
        .filter(|s| s.action != "unchanged")
        .partition(|s| s.kind != "service");
    let mut out: Vec<Outcome> = stream::iter(objects.into_iter().map(|s| run(d, s)))
        .buffer_unordered(CONCURRENCY)
        .collect()
        .await;
    // The IDs of what was just created; plan filled in the others.
    let created = |kind: &str| -> HashMap<String, String> {
        out.iter()
            .filter(|o| o.kind == kind && o.action == "create" && o.error.is_none())
            .map(|o| (o.name.clone(), o.id.clone()))
            .collect()
    };
    let ids = (created("secret"), created("config"));
    let services = services.into_iter().map(|mut s| {
        fill_ids(&mut s.spec, &ids.0, &ids.1);
        s
    });
    out.extend(
        stream::iter(services.map(|s| run(d, s)))
            .buffer_unordered(SERVICE_CONCURRENCY)
            .collect::<Vec<_>>()
            .await,
    );
    out
}

async fn run(d: &Docker, s: Step) -> Outcome {
    let r = run_step(d, &s).await;
    let (id, error) = match r {
        Ok(id) => (id, None),
        Err(e) => (s.id.clone(), Some(e.message)),
    };
    Outcome {
        kind: s.kind,
        action: s.action,
        name: s.name,
        id,
        error,
    }
}

/// A network's request body as bollard's model (networks are created,
/// never round-tripped, and the model has every field compose can set).
fn model<T: serde::de::DeserializeOwned>(s: &Step) -> crate::error::Result<T> {
    serde_json::from_value(s.spec.clone()).map_err(|e| format!("{} {}: bad spec: {e}", s.kind, s.name).into())
}

async fn run_step(d: &Docker, s: &Step) -> crate::error::Result<String> {
    let what = format!("{} {} {}", s.kind, s.action, s.name);
    match (s.kind.as_str(), s.action.as_str()) {
        ("network", "create") => {
            let req: bollard::models::NetworkCreateRequest = model(s)?;
            d.create_network(req).await.map(|r| r.id).map_err(|e| err(&what, &e))
        }
        ("network", "remove") => {
            // Tasks of just-removed services hold the network until their
            // nodes have shut them down; Swarm refuses until then.
            let start = std::time::Instant::now();
            loop {
                match d.remove_network(&s.id).await {
                    Ok(()) => return Ok(s.id.clone()),
                    Err(e) if crate::docker::flatten(&e).contains("in use") && start.elapsed().as_secs() < 60 => {
                        tokio::time::sleep(std::time::Duration::from_millis(250)).await
                    }
                    Err(e) => return Err(err(&what, &e)),
                }
            }
        }
        ("secret" | "config", "create") => {
            let r = ej::post(d, &format!("/{}s/create", s.kind), &s.spec)
                .await
                .map_err(|e| err(&what, &e))?;
            Ok(r["ID"].as_str().unwrap_or_default().to_string())
        }
        ("secret" | "config", "update") => {
            let path = format!("/{}s/{}", s.kind, ej::enc(&s.id));
            let cur = ej::get(d, &path).await.map_err(|e| err(&what, &e))?;
            let q = ej::query(&[("version", Some(ej::version(&cur).to_string()))]);
            ej::post(d, &format!("{path}/update{q}"), &s.spec)
                .await
                .map(|_| s.id.clone())
                .map_err(|e| changed_content(&what, &e))
        }
        ("secret" | "config", "remove") => ej::delete(d, &format!("/{}s/{}", s.kind, ej::enc(&s.id)))
            .await
            .map(|_| s.id.clone())
            .map_err(|e| err(&what, &e)),
        ("service", "create") => {
            let spec = ej::with_tagged_image(s.spec.clone());
            let r = ej::call_with(
                d,
                http::Method::POST,
                "/services/create",
                Some(&spec),
                s.registry_auth.clone(),
            )
            .await
            .map_err(|e| err(&what, &e))?;
            Ok(r["ID"].as_str().unwrap_or_default().to_string())
        }
        ("service", "update") => {
            let path = format!("/services/{}", ej::enc(&s.id));
            let cur = ej::get(d, &path).await.map_err(|e| err(&what, &e))?;
            let mut spec = ej::with_tagged_image(s.spec.clone());
            // Keep a `docker service update --force` counter as it is.
            let force = &cur["Spec"]["TaskTemplate"]["ForceUpdate"];
            if !force.is_null() && spec["TaskTemplate"].is_object() {
                spec["TaskTemplate"]["ForceUpdate"] = force.clone();
            }
            let q = ej::query(&[("version", Some(ej::version(&cur).to_string()))]);
            let update = format!("{path}/update{q}");
            ej::call_with(d, http::Method::POST, &update, Some(&spec), s.registry_auth.clone())
                .await
                .map(|_| s.id.clone())
                .map_err(|e| err(&what, &e))
        }
        ("service", "remove") => ej::delete(d, &format!("/services/{}", ej::enc(&s.id)))
            .await
            .map(|_| s.id.clone())
            .map_err(|e| err(&what, &e)),
        _ => Err(format!(
            "{what}: no such step (kinds: network, secret, config, service; actions: create, update, remove)"
        )
        .into()),
    }
}

fn changed_content(what: &str, e: &bollard::errors::Error) -> crate::error::Error {
    let mut engine = err(what, e);
    if engine.message.contains("only updates to Labels are allowed") {
        engine.message = format!("{what}: its content changed, and Swarm objects of this kind cannot change: give it a new name (name: in the compose file) or remove the stack first");
    }
    engine
}

/// (name, ID) of the `kind` objects the query selects.
async fn named(d: &Docker, kind: &str, q: &str) -> crate::error::Result<Vec<(String, String)>> {
    let list = ej::get(d, &format!("/{kind}s{q}"))
        .await
        .map_err(|e| err(format!("{kind} ls"), &e))?;
    Ok(names_to_ids(&list).into_iter().collect())
}

/// The objects of stack `ns` on the swarm, for `stack rm`: services,
/// secrets, configs and networks, in that removal order.
pub async fn objects(d: &Docker, ns: &str) -> crate::error::Result<Vec<Step>> {
    let f = ns_filter(ns);
    let q = ns_query(ns);
    let services = named(d, "service", &q).await?;
    let secrets = named(d, "secret", &q).await?;
    let configs = named(d, "config", &q).await?;
    let networks: Vec<_> = d
        .list_networks(Some(qp::ListNetworksOptions { filters: Some(f) }))
        .await
        .map_err(|e| err("network ls", &e))?
        .into_iter()
        .filter_map(|n| Some((n.name?, n.id?)))
        .collect();
    let mut steps = Vec::new();
    for (kind, mut found) in [
        ("service", services),
        ("secret", secrets),
        ("config", configs),
        ("network", networks),
    ] {
        found.sort();
        steps.extend(found.iter().map(|(n, i)| step(kind, "remove", n, i, Value::Null)));
    }
    Ok(steps)
}

/// Runs removal steps in docker's order: services first (in parallel),
/// then secrets, configs and networks, which services held.
pub async fn remove(d: &Docker, steps: Vec<Step>) -> Vec<Outcome> {
    let (services, rest): (Vec<Step>, Vec<Step>) = steps.into_iter().partition(|s| s.kind == "service");
    let mut out: Vec<Outcome> = stream::iter(services.into_iter().map(|s| run(d, s)))
        .buffer_unordered(CONCURRENCY)
        .collect()
        .await;
    out.extend(
        stream::iter(rest.into_iter().map(|s| run(d, s)))
            .buffer_unordered(CONCURRENCY)
            .collect::<Vec<_>>()
            .await,
    );
    out
}
