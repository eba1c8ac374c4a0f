//! What a project should look like on the engine, computed from the
//! compose document in its canonical JSON form (what `docker compose config
//! --format json` prints, and what orch's loader produces).
//!
//! Working from the canonical document keeps the planner independent of how
//! the project was loaded or changed by a script, and lets orch compute the
//! same `com.docker.compose.config-hash` as Docker Compose.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use super::gojson;
use crate::units::{parse_duration, ram_in_bytes};

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
}

impl ServiceSpec {
    /// The name of replica `n` (1-based), as Docker Compose names it.
    pub fn container_name(&self, project: &str, n: usize) -> String {
        match &self.container_name {
            Some(c) => c.clone(),
            None => format!("{project}-{}-{n}", self.name),
        }
    }
}

#[derive(Clone, Debug)]
pub struct NetworkSpec {
    pub key: String,
    pub name: String,
    pub external: bool,
    /// compose's config hash of the definition (its label on the network).
    pub hash: String,
    pub body: Value,
}

#[derive(Clone, Debug)]
pub struct VolumeSpec {
    pub key: String,
    pub name: String,
    pub external: bool,
    /// compose's config hash of the definition (its label on the volume).
    pub hash: String,
    pub body: Value,
}

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
}

impl Desired {
    pub fn service(&self, name: &str) -> Option<&ServiceSpec> {
        self.services.iter().find(|s| s.name == name)
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

pub(crate) fn s(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

pub(crate) fn strings(v: Option<&Value>) -> Option<Vec<String>> {
    match v? {
        Value::Array(a) => Some(a.iter().filter_map(s).collect()),
        Value::String(x) => Some(vec![x.clone()]),
        _ => None,
    }
}

pub(crate) fn string_map(v: Option<&Value>) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    match v {
        Some(Value::Object(m)) => {
            for (k, v) in m {
                if let Some(v) = s(v) {
                    out.insert(k.clone(), v);
                }
            }
        }
        Some(Value::Array(a)) => {
            for item in a.iter().filter_map(s) {
                match item.split_once('=') {
                    Some((k, v)) => out.insert(k.to_string(), v.to_string()),
                    None => out.insert(item, String::new()),
                };
            }
        }
        _ => {}
    }
    out
}

pub(crate) fn duration_ns(v: Option<&Value>) -> Option<i64> {
    match v? {
        Value::String(x) => parse_duration(x).ok(),
        Value::Number(n) => n.as_i64(),
        _ => None,
    }
}

pub(crate) fn bytes(v: Option<&Value>) -> Option<i64> {
    match v? {
        Value::String(x) => ram_in_bytes(x).ok(),
        Value::Number(n) => n.as_i64(),
        _ => None,
    }
}

/// A compose `healthcheck` as the engine's `HealthConfig` (containers and
/// Swarm services take the same shape).
pub(crate) fn healthcheck(hc: &Value) -> Value {
    let mut out = Map::new();
    if hc["disable"].as_bool() == Some(true) {
        out.insert("Test".into(), json!(["NONE"]));
    } else if let Some(t) = strings(hc.get("test")) {
        out.insert("Test".into(), json!(t));
    }
    for (k, f) in [
        ("interval", "Interval"),
        ("timeout", "Timeout"),
        ("start_period", "StartPeriod"),
        ("start_interval", "StartInterval"),
    ] {
        if let Some(ns) = duration_ns(hc.get(k)) {
            out.insert(f.into(), json!(ns));
        }
    }
    if let Some(r) = hc["retries"].as_u64() {
        out.insert("Retries".into(), json!(r));
    }
    Value::Object(out)
}

/// Converts the canonical compose document into the desired state.
pub fn from_compose(doc: &Value) -> crate::error::Result<Desired> {
    // What compose creates is the project after its `use_api_socket`
    // rewrite (hashes included).
    let doc = &super::apisocket::apply(doc);
    let project = doc["name"]
        .as_str()
        .ok_or("the compose document has no project name")?
        .to_string();
    let mut d = Desired {
        project: project.clone(),
        ..Default::default()
    };
    let version_labels = |kind_label: &str, key: &str| json!({ kind_label: key, LABEL_PROJECT: project, LABEL_VERSION: COMPOSE_VERSION });
    let empty = Map::new();
    for (key, n) in doc["networks"].as_object().unwrap_or(&empty) {
        let name = n["name"]
            .as_str()
            .map(str::to_string)
            .unwrap_or_else(|| format!("{project}_{key}"));
        let mut labels = version_labels(LABEL_NETWORK, key);
        for (k, v) in string_map(n.get("labels")) {
            labels[k] = Value::String(v);
        }
        let hash = super::resources::network_hash(n);
        labels[LABEL_HASH] = json!(hash);
        let body = json!({
            "Name": name,
            "Driver": n["driver"].as_str().unwrap_or("bridge"),
            "Internal": n["internal"].as_bool().unwrap_or(false),
            "Attachable": n["attachable"].as_bool().unwrap_or(false),
            "EnableIPv6": n["enable_ipv6"].as_bool().unwrap_or(false),
            "Options": string_map(n.get("driver_opts")),
            "Labels": labels,
            "IPAM": super::limits::network_ipam(n),
        });
        d.networks.push(NetworkSpec {
            key: key.clone(),
            name,
            external: n["external"].as_bool().unwrap_or(false),
            hash,
            body,
        });
    }
    for (key, v) in doc["volumes"].as_object().unwrap_or(&empty) {
        let name = v["name"]
            .as_str()
            .map(str::to_string)
            .unwrap_or_else(|| format!("{project}_{key}"));
        let mut labels = version_labels(LABEL_VOLUME, key);
        for (k, val) in string_map(v.get("labels")) {
            labels[k] = Value::String(val);
        }
        let hash = super::resources::volume_hash(v);
        labels[LABEL_HASH] = json!(hash);
        let body = json!({
            "Name": name,
            "Driver": v["driver"].as_str().unwrap_or("local"),
            "DriverOpts": string_map(v.get("driver_opts")),
            "Labels": labels,
        });
        d.volumes.push(VolumeSpec {
            key: key.clone(),
            name,
            external: v["external"].as_bool().unwrap_or(false),
            hash,
            body,
        });
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
        let mut spec = service(&project, &d, name, svc, &mut d.warnings.clone())?;
        let refs = super::secrets::file_refs(doc, svc)?;
        if let Some(host) = spec.body["HostConfig"].as_object_mut() {
            super::secrets::add_mounts(host, &refs.mounts);
        }
        warnings.extend(refs.warnings);
        spec.injects = refs.injects;
        spec.refused = refs.errors;
        d.services.push(spec);
    }
    for (name, svc) in doc["services"].as_object().unwrap_or(&empty) {
        for key in svc
            .as_object()
            .map(|m| m.keys().cloned().collect::<Vec<_>>())
            .unwrap_or_default()
        {
            if !SUPPORTED.contains(&key.as_str()) && !NOT_FOR_CREATE.contains(&key.as_str()) && !key.starts_with("x-") {
                warnings.push(format!(
                    "service {name}: `{key}` is not applied by orch yet; it is ignored"
                ));
            }
        }
    }
    d.warnings = warnings;
    Ok(d)
}

/// Service attributes the container body below applies.
const SUPPORTED: &[&str] = &[
    "command",
    "entrypoint",
    "environment",
    "labels",
    "working_dir",
    "user",
    "hostname",
    "domainname",
    "tty",
    "stdin_open",
    "stop_signal",
    "stop_grace_period",
    "healthcheck",
    "ports",
    "expose",
    "volumes",
    "tmpfs",
    "restart",
    "init",
    "privileged",
    "read_only",
    "cap_add",
    "cap_drop",
    "extra_hosts",
    "dns",
    "dns_search",
    "mem_limit",
    "memswap_limit",
    "cpus",
    "shm_size",
    "ulimits",
    "logging",
    "sysctls",
    "security_opt",
    "pid",
    "ipc",
    "group_add",
    "platform",
    "runtime",
    "oom_score_adj",
    "mac_address",
    "stop_timeout",
    // src/plan/limits.rs
    "dns_opt",
    "mem_reservation",
    "mem_swappiness",
    "oom_kill_disable",
    "cpu_period",
    "cpu_quota",
    "cpu_rt_period",
    "cpu_rt_runtime",
    "cpu_shares",
    "cpu_count",
    "cpu_percent",
    "cpuset",
    "pids_limit",
    "cgroup_parent",
    "device_cgroup_rules",
    "devices",
    "blkio_config",
    "cgroup",
    "userns_mode",
    "uts",
    "isolation",
    "volume_driver",
    "storage_opt",
];

fn service(project: &str, d: &Desired, name: &str, svc: &Value, _w: &mut Vec<String>) -> Result<ServiceSpec, String> {
    let image = svc["image"]
        .as_str()
        .map(str::to_string)
        .unwrap_or_else(|| format!("{project}-{name}"));
    let replicas = svc["scale"]
        .as_u64()
        .or_else(|| svc["deploy"]["replicas"].as_u64())
        .unwrap_or(1) as usize;
    let mut labels = string_map(svc.get("labels"));
    let hash = service_hash(svc);
    let mut depends_on = Vec::new();
    for (dep, cfg) in svc["depends_on"].as_object().unwrap_or(&Map::new()) {
        let condition = match cfg["condition"].as_str().unwrap_or("service_started") {
            "service_healthy" => Condition::Healthy,
            "service_completed_successfully" => Condition::CompletedSuccessfully,
            _ => Condition::Started,
        };
        depends_on.push(Dependency {
            service: dep.clone(),
            condition,
            required: cfg["required"].as_bool().unwrap_or(true),
            restart: cfg["restart"].as_bool().unwrap_or(false),
        });
    }
    let deps_label: Vec<String> = depends_on
        .iter()
        .map(|x| format!("{}:{}:{}", x.service, x.condition.as_str(), x.restart))
        .collect();
    labels.insert(LABEL_PROJECT.into(), project.into());
    labels.insert(LABEL_SERVICE.into(), name.into());
    labels.insert(LABEL_ONEOFF.into(), "False".into());
    labels.insert(LABEL_HASH.into(), hash.clone());
    labels.insert(LABEL_VERSION.into(), COMPOSE_VERSION.into());
    labels.insert(LABEL_DEPENDS_ON.into(), deps_label.join(","));

    let mut body = Map::new();
    let mut host = Map::new();
    body.insert("Image".into(), json!(image));
    if let Some(c) = strings(svc.get("command")) {
        body.insert("Cmd".into(), json!(c));
    }
    if let Some(e) = strings(svc.get("entrypoint")) {
        body.insert("Entrypoint".into(), json!(e));
    }
    if let Some(Value::Object(env)) = svc.get("environment") {
        let list: Vec<String> = env
            .iter()
            .filter_map(|(k, v)| s(v).map(|v| format!("{k}={v}")))
            .collect();
        body.insert("Env".into(), json!(list));
    }
    for (key, field) in [
        ("working_dir", "WorkingDir"),
        ("user", "User"),
        ("hostname", "Hostname"),
        ("domainname", "Domainname"),
        ("stop_signal", "StopSignal"),
        ("mac_address", "MacAddress"),
    ] {
        if let Some(v) = svc.get(key).and_then(s) {
            body.insert(field.into(), json!(v));
        }
    }
    // compose creates every service container with stdout and stderr
    // attached (`AttachStdin` only for `run -i`).
    body.insert("AttachStdout".into(), json!(true));
    body.insert("AttachStderr".into(), json!(true));
    for (key, field) in [("tty", "Tty"), ("stdin_open", "OpenStdin")] {
        if svc[key].as_bool() == Some(true) {
            body.insert(field.into(), json!(true));
        }
    }
    if let Some(ns) = duration_ns(svc.get("stop_grace_period")) {
        body.insert("StopTimeout".into(), json!(ns / 1_000_000_000));
    }
    if let Some(hc) = svc.get("healthcheck").filter(|h| h.is_object()) {
        body.insert("Healthcheck".into(), healthcheck(hc));
    }

    // Ports: published ones are also exposed.
    let mut exposed = Map::new();
    let mut bindings: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for e in strings(svc.get("expose")).unwrap_or_default() {
        let key = if e.contains('/') { e } else { format!("{e}/tcp") };
        exposed.insert(key, json!({}));
    }
    for p in svc["ports"].as_array().into_iter().flatten() {
        let target = p
            .get("target")
            .and_then(s)
            .ok_or_else(|| format!("service {name}: a port has no target"))?;
        let key = format!("{target}/{}", p["protocol"].as_str().unwrap_or("tcp"));
        exposed.insert(key.clone(), json!({}));
        let published = p.get("published").and_then(s).unwrap_or_default();
        bindings.entry(key).or_default().push(json!({
            "HostIp": p["host_ip"].as_str().unwrap_or(""),
            "HostPort": published,
        }));
    }
    if !exposed.is_empty() {
        body.insert("ExposedPorts".into(), Value::Object(exposed));
    }
    if !bindings.is_empty() {
        host.insert("PortBindings".into(), json!(bindings));
    }

    // Mounts, split between Binds and Mounts as compose splits them.
    // Anonymous volumes get a name from the engine (and are carried over
    // on recreate).
    let (binds, mounts) = super::mounts::build(d, name, svc)?;
    if !mounts.is_empty() {
        host.insert("Mounts".into(), json!(mounts));
    }
    if !binds.is_empty() {
        host.insert("Binds".into(), json!(binds));
    }
    if let Some(t) = strings(svc.get("tmpfs")) {
        let m: BTreeMap<String, String> = t
            .into_iter()
            .map(|x| match x.split_once(':') {
                Some((p, o)) => (p.to_string(), o.to_string()),
                None => (x, String::new()),
            })
            .collect();
        host.insert("Tmpfs".into(), json!(m));
    }
    super::limits::apply(svc, &mut host);
    for (key, field) in [
        ("init", "Init"),
        ("privileged", "Privileged"),
        ("read_only", "ReadonlyRootfs"),
    ] {
        if let Some(b) = svc[key].as_bool() {
            host.insert(field.into(), json!(b));
        }
    }
    // Docker's Go client (so compose) sends capabilities upper-cased with
    // the `CAP_` prefix, deduplicated and sorted (moby client's
    // normalizeCapabilities); the engine stores what it gets.
    for (key, field) in [("cap_add", "CapAdd"), ("cap_drop", "CapDrop")] {
        if let Some(v) = strings(svc.get(key)) {
            let mut caps: Vec<String> = v
                .iter()
                .map(|c| c.to_uppercase())
                .map(|c| {
                    if c == "ALL" || c.starts_with("CAP_") {
                        c
                    } else {
                        format!("CAP_{c}")
                    }
                })
                .collect();
            caps.sort();
            caps.dedup();
            host.insert(field.into(), json!(caps));
        }
    }
    for (key, field) in [
        ("dns", "Dns"),
        ("dns_search", "DnsSearch"),
        ("dns_opt", "DnsOptions"),
        ("security_opt", "SecurityOpt"),
        ("group_add", "GroupAdd"),
    ] {
        if let Some(v) = strings(svc.get(key)) {
            host.insert(field.into(), json!(v));
        }
    }
    match svc.get("extra_hosts") {
        Some(Value::Object(m)) => {
            let list: Vec<String> = m
                .iter()
                .flat_map(|(h, ips)| {
                    strings(Some(ips))
                        .unwrap_or_default()
                        .into_iter()
                        .map(move |ip| format!("{h}:{ip}"))
                })
                .collect();
            host.insert("ExtraHosts".into(), json!(list));
        }
        Some(v) => {
            if let Some(list) = strings(Some(v)) {
                host.insert(
                    "ExtraHosts".into(),
                    json!(list.iter().map(|x| x.replacen('=', ":", 1)).collect::<Vec<_>>()),
                );
            }
        }
        None => {}
    }
    if let Some(sz) = bytes(svc.get("shm_size")) {
        host.insert("ShmSize".into(), json!(sz));
    }
    if let Some(Value::Object(u)) = svc.get("ulimits") {
        let list: Vec<Value> = u
            .iter()
            .map(|(n, v)| match v {
                Value::Number(x) => json!({"Name": n, "Soft": x, "Hard": x}),
                _ => json!({"Name": n, "Soft": v["soft"], "Hard": v["hard"]}),
            })
            .collect();
        host.insert("Ulimits".into(), json!(list));
    }
    if let Some(l) = svc.get("logging").filter(|l| l.is_object()) {
        host.insert(
            "LogConfig".into(),
            json!({"Type": l["driver"].as_str().unwrap_or(""), "Config": string_map(l.get("options"))}),
        );
    }
    if svc.get("sysctls").is_some() {
        host.insert("Sysctls".into(), json!(string_map(svc.get("sysctls"))));
    }
    for (key, field) in [("pid", "PidMode"), ("ipc", "IpcMode"), ("runtime", "Runtime")] {
        if let Some(v) = svc.get(key).and_then(s) {
            host.insert(field.into(), json!(v));
        }
    }
    if let Some(o) = svc["oom_score_adj"].as_i64() {
        host.insert("OomScoreAdj".into(), json!(o));
    }

    // Networks: by priority (highest first), then by name, as compose does.
    let mut networks = Vec::new();
    let mut endpoints = BTreeMap::new();
    match svc["network_mode"].as_str() {
        // Resolved to a container when created (see `refs`).
        Some(mode) if mode.starts_with("service:") => {}
        Some(mode) => {
            host.insert("NetworkMode".into(), json!(mode));
        }
        None => {
            // (priority, key, engine name, aliases): compose-go's
            // NetworksByPriority orders by priority, then by the key.
            let mut nets: Vec<(i64, String, String, Vec<String>)> = Vec::new();
            for (key, cfg) in svc["networks"].as_object().unwrap_or(&Map::new()) {
                let engine_name = d
                    .networks
                    .iter()
                    .find(|n| &n.key == key)
                    .map(|n| n.name.clone())
                    .unwrap_or_else(|| key.clone());
                let mut aliases = vec![name.to_string()];
                aliases.extend(strings(cfg.get("aliases")).unwrap_or_default());
                if let Some(ep) = super::limits::endpoint(cfg) {
                    endpoints.insert(engine_name.clone(), ep);
                }
                nets.push((cfg["priority"].as_i64().unwrap_or(0), key.clone(), engine_name, aliases));
            }
            nets.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
            networks = nets.into_iter().map(|(_, _, n, a)| (n, a)).collect();
            if let Some((first, _)) = networks.first() {
                host.insert("NetworkMode".into(), json!(first));
            }
        }
    }
    body.insert("Labels".into(), json!(labels));
    body.insert("HostConfig".into(), Value::Object(host));
    if let Some(p) = svc["platform"].as_str() {
        body.insert("Platform".into(), json!(p));
    }

    let build = svc.get("build").filter(|b| b.is_object()).map(|b| BuildSpec {
        context: b["context"].as_str().unwrap_or(".").to_string(),
        dockerfile: b["dockerfile"].as_str().unwrap_or("Dockerfile").to_string(),
        args: string_map(b.get("args")),
        target: b["target"].as_str().map(str::to_string),
        labels: {
            // compose's labels, so `down --rmi local` knows the image.
            let mut l = string_map(b.get("labels"));
            l.insert(LABEL_VERSION.into(), COMPOSE_VERSION.into());
            l.insert(LABEL_PROJECT.into(), project.into());
            l.insert(LABEL_SERVICE.into(), name.into());
            l
        },
        no_cache: b["no_cache"].as_bool().unwrap_or(false),
    });
    Ok(ServiceSpec {
        name: name.to_string(),
        replicas,
        hash,
        image,
        build,
        container_name: svc["container_name"].as_str().map(str::to_string),
        depends_on,
        body: Value::Object(body),
        networks,
        endpoints,
        injects: Vec::new(),
        refused: Vec::new(),
        raw: svc.clone(),
        has_refs: super::refs::has_refs(svc),
        post_start: super::hooks::parse(svc, "post_start"),
        pre_stop: super::hooks::parse(svc, "pre_stop"),
        tty: svc["tty"].as_bool() == Some(true),
    })
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
}
