//! What a project should look like on the engine, computed from the
//! compose document in its canonical JSON form (what `docker compose config
//! --format json` prints, and what orch's loader produces).
//!
//! Working from the canonical document keeps the planner independent of how
//! the project was loaded or changed by a script, and lets orch compute the
//! same `com.docker.compose.config-hash` as Docker Compose.

use std::collections::{BTreeMap, HashMap};

use serde_json::{json, Map, Value};

use super::body::{service, SUPPORTED};
use super::values::string_map;
use crate::gojson;

/// The compose version orch writes into `com.docker.compose.version`, so
/// Docker Compose treats orch's resources as its own.
pub const COMPOSE_VERSION: &str = "2.40.3";

pub const LABEL_PROJECT: &str = "com.docker.compose.project";
pub const LABEL_SERVICE: &str = "com.docker.compose.service";
pub const LABEL_NUMBER: &str = "com.docker.compose.container-number";
pub const LABEL_ONEOFF: &str = "com.docker.compose.oneoff";
pub const LABEL_HASH: &str = "com.docker.compose.config-hash";
pub const LABEL_VERSION: &str = "com.docker.compose.version";
pub const LABEL_NETWORK: &str = "com.docker.compose.network";
pub const LABEL_VOLUME: &str = "com.docker.compose.volume";
pub const LABEL_IMAGE: &str = "com.docker.compose.image";
pub const LABEL_DEPENDS_ON: &str = "com.docker.compose.depends_on";
pub const LABEL_WORKING_DIR: &str = "com.docker.compose.project.working_dir";
pub const LABEL_CONFIG_FILES: &str = "com.docker.compose.project.config_files";
pub const LABEL_ENV_FILE: &str = "com.docker.compose.project.environment_file";
pub const LABEL_REPLACE: &str = "com.docker.compose.replace";

/// A `depends_on` condition.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Condition {
    Started,
    Healthy,
    CompletedSuccessfully,
}

impl Condition {
    pub fn as_str(self) -> &'static str {
        match self {
            Condition::Started => "service_started",
            Condition::Healthy => "service_healthy",
            Condition::CompletedSuccessfully => "service_completed_successfully",
        }
    }
}

#[derive(Clone, Debug)]
pub struct Dependency {
    pub service: String,
    pub condition: Condition,
    pub required: bool,
    pub restart: bool,
}

#[derive(Clone, Debug)]
pub struct BuildSpec {
    pub context: String,
    pub dockerfile: String,
    pub args: BTreeMap<String, String>,
    pub target: Option<String>,
    pub labels: BTreeMap<String, String>,
    pub no_cache: bool,
}

#[derive(Clone, Debug)]
pub struct ServiceSpec {
    pub name: String,
    pub replicas: usize,
    pub hash: String,
    pub image: String,
    pub build: Option<BuildSpec>,
    pub container_name: Option<String>,
    pub depends_on: Vec<Dependency>,
    /// The engine create body, labels included but for the per-container
    /// ones (number, image ID), and without networks.
    pub body: Value,
    /// Engine network names with the aliases the container gets there,
    /// primary first. Empty when `network_mode` decides.
    pub networks: Vec<(String, Vec<String>)>,
    /// Engine network name → the rest of the container's endpoint
    /// settings there (`IPAMConfig`, `DriverOpts`), when the service sets any.
    pub endpoints: BTreeMap<String, Value>,
    /// Secrets and configs written into the container before it starts.
    pub injects: Vec<super::secrets::Inject>,
    /// Why compose would refuse to create its containers (secrets and
    /// configs it cannot apply); `up` reports the first.
    pub refused: Vec<String>,
    /// The canonical service document: what `refs` resolves and hashes
    /// when the service refers to other services' containers.
    pub raw: Value,
    /// Whether it refers to other containers (`service:`, `volumes_from`),
    /// so its hash is only known once they are.
    pub has_refs: bool,
    /// Hooks exec'd after each start and before each stop (see `hooks`).
    pub post_start: Vec<super::hooks::Hook>,
    pub pre_stop: Vec<super::hooks::Hook>,
    /// `tty: true`: compose starts hook execs with a TTY then.
    pub tty: bool,
    /// The project's name separator (see `Desired::separator`).
    pub separator: &'static str,
}

impl ServiceSpec {
    /// The name of replica `n` (1-based), as Docker Compose names it.
    pub fn container_name(&self, project: &str, n: usize) -> String {
        match &self.container_name {
            Some(c) => c.clone(),
            None => [project, &self.name, &n.to_string()].join(self.separator),
        }
    }
}

/// A project's network or volume: its key in the file, engine name and
/// create body.
#[derive(Clone, Debug)]
pub struct ResourceSpec {
    pub key: String,
    pub name: String,
    pub external: bool,
    /// compose's config hash of the definition (its label on the object).
    pub hash: String,
    pub body: Value,
}

pub type NetworkSpec = ResourceSpec;
pub type VolumeSpec = ResourceSpec;

/// The desired state of one project.
#[derive(Clone, Debug, Default)]
pub struct Desired {
    pub project: String,
    pub working_dir: String,
    pub config_files: Vec<String>,
    /// `--env-file`s (or `COMPOSE_ENV_FILES`) as absolute paths: compose
    /// labels every container with them (none for the default `.env`).
    pub env_files: Vec<String>,
    pub networks: Vec<NetworkSpec>,
    pub volumes: Vec<VolumeSpec>,
    pub services: Vec<ServiceSpec>,
    /// Attributes orch cannot apply yet, said out loud rather than dropped.
    pub warnings: Vec<String>,
    /// Services the active profiles leave out: never orphans.
    pub disabled: Vec<String>,
    /// Joins project, service and number in the names compose makes
    /// (`-`; `_` under `--compatibility`).
    pub separator: &'static str,
    /// Where each service is in `services`, made on the first lookup.
    index: std::sync::OnceLock<HashMap<String, usize>>,
}

impl Desired {
    /// The service named `name`. Planning and applying ask this for every
    /// service and container: a scan each time was 250,000 comparisons at
    /// 500 services. The index is checked against the entry it points to,
    /// so a list changed after it was made is scanned instead.
    pub fn service(&self, name: &str) -> Option<&ServiceSpec> {
        let index = self.index.get_or_init(|| {
            self.services
                .iter()
                .enumerate()
                .map(|(i, s)| (s.name.clone(), i))
                .collect()
        });
        match index.get(name).and_then(|&i| self.services.get(i)) {
            Some(s) if s.name == name => Some(s),
            _ => self.services.iter().find(|s| s.name == name),
        }
    }

    /// Empties the depends_on label of the named services' containers, as
    /// compose stamps it under `--no-deps` (its project drops their
    /// dependencies, `types.IgnoreDependencies`). The dependencies stay
    /// known to the planner; the config hash leaves depends_on out anyway.
    pub fn drop_dependency_labels(&mut self, names: &[String]) {
        for s in self.services.iter_mut().filter(|s| names.contains(&s.name)) {
            if let Some(labels) = s.body["Labels"].as_object_mut() {
                labels.insert(LABEL_DEPENDS_ON.into(), Value::String(String::new()));
            }
        }
    }
}

/// Docker Compose's service hash: the service with build, pull policy,
/// scale, replicas, depends_on and profiles cleared, marshalled as Go does.
pub fn service_hash(service: &Value) -> String {
    use sha2::Digest;
    let mut o = service.clone();
    crate::compose::load::strip_service_extensions(&mut o);
    if let Some(m) = o.as_object_mut() {
        for k in ["build", "pull_policy", "scale", "depends_on", "profiles"] {
            m.shift_remove(k);
        }
        if let Some(d) = m.get_mut("deploy").and_then(Value::as_object_mut) {
            d.shift_remove("replicas");
        }
    }
    hex(&sha2::Sha256::digest(gojson::marshal(&o).as_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Service attributes that shape no container setting (handled elsewhere
/// or meaningless for a container create).
const NOT_FOR_CREATE: &[&str] = &[
    "name",
    "build",
    "depends_on",
    "profiles",
    "scale",
    "deploy",
    "develop",
    "pull_policy",
    "container_name",
    "networks",
    "network_mode",
    "image",
    "extends",
    "secrets",
    "configs",
    "env_file",
    "label_file",
    "models",
    "provider",
    "attach",
    // src/plan/hooks.rs
    "post_start",
    "pre_stop",
    "use_api_socket",
    "gpus",
    "annotations",
    "volumes_from",
];

/// Converts the canonical compose document into the desired state.
pub fn from_compose(doc: &Value) -> crate::error::Result<Desired> {
    from_compose_with(doc, "-")
}

/// `from_compose` with compose's name `separator` (`_` under
/// `--compatibility`).
pub fn from_compose_with(doc: &Value, separator: &'static str) -> crate::error::Result<Desired> {
    // What compose creates is the project after its `use_api_socket`
    // rewrite (hashes included).
    let doc = &super::apisocket::apply(doc);
    let project = doc["name"]
        .as_str()
        .ok_or("the compose document has no project name")?
        .to_string();
    let mut d = Desired {
        project: project.clone(),
        separator,
        ..Default::default()
    };
    let empty = Map::new();
    for (key, n) in doc["networks"].as_object().unwrap_or(&empty) {
        d.networks.push(network(&project, key, n));
    }
    for (key, v) in doc["volumes"].as_object().unwrap_or(&empty) {
        d.volumes.push(volume(&project, key, v));
    }
    let mut warnings = Vec::new();
    let services = doc["services"].as_object().unwrap_or(&empty);
    for (name, svc) in services {
        // compose-go drops optional (`required: false`) dependencies on
        // services its profiles leave out: they are not in the
        // depends_on label compose stamps.
        let mut svc = svc.clone();
        if let Some(deps) = svc["depends_on"].as_object_mut() {
            deps.retain(|dep, cfg| services.contains_key(dep) || cfg["required"].as_bool() != Some(false));
        }
        let svc = &svc;
        let mut spec = service(&project, &d, name, svc)?;
        let refs = super::secrets::file_refs(doc, svc)?;
        if let Some(host) = spec.body["HostConfig"].as_object_mut() {
            super::secrets::add_mounts(host, &refs.mounts);
        }
        warnings.extend(refs.warnings);
        spec.injects = refs.injects;
        spec.refused = refs.errors;
        d.services.push(spec);
    }
    warnings.extend(not_applied(services));
    d.warnings = warnings;
    Ok(d)
}

/// The labels compose puts on a project's network or volume (`kind_label`
/// names its key), with the user's labels and the config hash.
fn resource_labels(project: &str, kind_label: &str, key: &str, user: Option<&Value>, hash: &str) -> Value {
    let mut labels = json!({ kind_label: key, LABEL_PROJECT: project, LABEL_VERSION: COMPOSE_VERSION });
    for (k, v) in string_map(user) {
        labels[k] = Value::String(v);
    }
    labels[LABEL_HASH] = json!(hash);
    labels
}

/// A network's or volume's engine name: its `name`, else `{project}_{key}`.
fn resource_name(project: &str, key: &str, v: &Value) -> String {
    v["name"]
        .as_str()
        .map(str::to_string)
        .unwrap_or_else(|| format!("{project}_{key}"))
}

/// A network's or volume's spec from its definition `v`, with its config
/// `hash` and the create `body` made from its engine name and hash.
fn resource(project: &str, key: &str, v: &Value, hash: String, body: impl FnOnce(&str, &str) -> Value) -> ResourceSpec {
    let name = resource_name(project, key, v);
    ResourceSpec {
        key: key.to_string(),
        body: body(&name, &hash),
        name,
        external: v["external"].as_bool().unwrap_or(false),
        hash,
    }
}

fn network(project: &str, key: &str, n: &Value) -> NetworkSpec {
    resource(project, key, n, super::resources::network_hash(n), |name, hash| {
        json!({
            "Name": name,
            "Driver": n["driver"].as_str().unwrap_or("bridge"),
            "Internal": n["internal"].as_bool().unwrap_or(false),
            "Attachable": n["attachable"].as_bool().unwrap_or(false),
            "EnableIPv6": n["enable_ipv6"].as_bool().unwrap_or(false),
            "Options": string_map(n.get("driver_opts")),
            "Labels": resource_labels(project, LABEL_NETWORK, key, n.get("labels"), hash),
            "IPAM": super::limits::network_ipam(n),
        })
    })
}

fn volume(project: &str, key: &str, v: &Value) -> VolumeSpec {
    resource(project, key, v, super::resources::volume_hash(v), |name, hash| {
        json!({
            "Name": name,
            "Driver": v["driver"].as_str().unwrap_or("local"),
            "DriverOpts": string_map(v.get("driver_opts")),
            "Labels": resource_labels(project, LABEL_VOLUME, key, v.get("labels"), hash),
        })
    })
}

/// A warning for each service attribute orch does not apply yet.
fn not_applied(services: &Map<String, Value>) -> Vec<String> {
    let mut warnings = Vec::new();
    for (name, svc) in services {
        for key in svc.as_object().into_iter().flat_map(|m| m.keys()) {
            if !SUPPORTED.contains(&key.as_str()) && !NOT_FOR_CREATE.contains(&key.as_str()) && !key.starts_with("x-") {
                warnings.push(format!(
                    "service {name}: `{key}` is not applied by orch yet; it is ignored"
                ));
            }
        }
    }
    warnings
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The document and hashes `docker compose config --format json` and
    /// `config --hash '*'` printed for the same file (Compose v2.40.3).
    #[test]
    fn hash_matches_docker_compose() {
        let web: Value = serde_json::from_str(r#"{"command":["sh","-c","echo <a&b>"],"depends_on":{"db":{"condition":"service_started","required":true}},"deploy":{"replicas":2,"resources":{},"placement":{}},"entrypoint":null,"environment":{"A":"1"},"image":"orch-test/busybox","networks":{"default":null},"ports":[{"mode":"ingress","target":5000,"published":"5000","protocol":"tcp"}]}"#).unwrap();
        let db: Value = serde_json::from_str(r#"{"build":{"context":"/tmp/hashx","dockerfile":"Dockerfile"},"command":null,"entrypoint":null,"healthcheck":{"test":["CMD","true"],"interval":"1s"},"networks":{"default":null},"volumes":[{"type":"volume","source":"data","target":"/data","volume":{}},{"type":"volume","target":"/anon","volume":{}}]}"#).unwrap();
        assert_eq!(
            service_hash(&web),
            "48ea3aff7906f91544244f304a9036751c6fe4412364c49ae1f13b3ae1260ce6"
        );
        assert_eq!(
            service_hash(&db),
            "5bc22e9492ea94d577b58c6444c157a8e9949da2ca2ef8d3ee24a5ad648e7691"
        );
    }

    /// The lookup index is made once, and a list changed after it (a
    /// service removed, one added) is still answered right.
    #[test]
    fn service_lookup_survives_changes_after_the_index() {
        let doc = json!({"name": "p", "services": {
            "a": {"image": "x"}, "b": {"image": "y"}, "c": {"image": "z"}
        }});
        let mut d = from_compose_with(&doc, "-").unwrap();
        assert_eq!(d.service("b").map(|s| s.image.as_str()), Some("y"));
        assert!(d.service("nope").is_none());
        let b = d.services.remove(1);
        assert!(d.service("b").is_none());
        assert_eq!(d.service("c").map(|s| s.image.as_str()), Some("z"));
        d.services.insert(0, b);
        assert_eq!(d.service("b").map(|s| s.image.as_str()), Some("y"));
        assert_eq!(d.service("a").map(|s| s.image.as_str()), Some("x"));
    }
}
