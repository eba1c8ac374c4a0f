//! One service's container create body, built from its canonical compose
//! JSON as Docker Compose's `getCreateConfigs` builds it: the container
//! config, the host config (ports, mounts, resources and options) and the
//! networks, each by its own builder, plus the labels compose identifies
//! its containers by and the build to run when the image is missing.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use super::desired::*;
use super::values::{bytes, duration_ns, healthcheck, put, s, string_map, strings, tmpfs_map};

/// Service attributes this body applies (anything else a service has is
/// handled elsewhere or reported as not applied).
pub(super) const SUPPORTED: &[&str] = &[
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

/// The desired state of service `name` of `d` from its canonical JSON.
pub(super) fn service(project: &str, d: &Desired, name: &str, svc: &Value) -> crate::error::Result<ServiceSpec> {
    let image = svc["image"]
        .as_str()
        .map(str::to_string)
        .unwrap_or_else(|| format!("{project}{}{name}", d.separator));
    let replicas = svc["scale"]
        .as_u64()
        .or_else(|| svc["deploy"]["replicas"].as_u64())
        .unwrap_or(1) as usize;
    let hash = service_hash(svc);
    let depends_on = dependencies(svc);
    let mut body = config(svc, &image);
    let mut host = Map::new();
    ports(name, svc, &mut body, &mut host)?;
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
    super::limits::apply(svc, &mut host);
    host_options(svc, &mut host);
    let (networks, endpoints) = networks(d, name, svc, &mut host);
    body.insert("Labels".into(), json!(labels(project, name, svc, &hash, &depends_on)));
    body.insert("HostConfig".into(), Value::Object(host));
    if let Some(p) = svc["platform"].as_str() {
        body.insert("Platform".into(), json!(p));
    }
    Ok(ServiceSpec {
        name: name.to_string(),
        replicas,
        hash,
        image,
        build: build(project, name, svc),
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
        separator: d.separator,
    })
}

fn dependencies(svc: &Value) -> Vec<Dependency> {
    let none = Map::new();
    let deps = svc["depends_on"].as_object().unwrap_or(&none);
    deps.iter()
        .map(|(dep, cfg)| Dependency {
            service: dep.clone(),
            condition: match cfg["condition"].as_str().unwrap_or("service_started") {
                "service_healthy" => Condition::Healthy,
                "service_completed_successfully" => Condition::CompletedSuccessfully,
                _ => Condition::Started,
            },
            required: cfg["required"].as_bool().unwrap_or(true),
            restart: cfg["restart"].as_bool().unwrap_or(false),
        })
        .collect()
}

/// The service's own labels and the ones compose finds its containers by.
fn labels(project: &str, name: &str, svc: &Value, hash: &str, deps: &[Dependency]) -> BTreeMap<String, String> {
    let deps_label: Vec<String> = deps
        .iter()
        .map(|x| format!("{}:{}:{}", x.service, x.condition.as_str(), x.restart))
        .collect();
    let mut labels = string_map(svc.get("labels"));
    labels.insert(LABEL_PROJECT.into(), project.into());
    labels.insert(LABEL_SERVICE.into(), name.into());
    labels.insert(LABEL_ONEOFF.into(), "False".into());
    labels.insert(LABEL_HASH.into(), hash.into());
    labels.insert(LABEL_VERSION.into(), COMPOSE_VERSION.into());
    labels.insert(LABEL_DEPENDS_ON.into(), deps_label.join(","));
    labels
}

/// The container config: what runs, its environment and its identity.
fn config(svc: &Value, image: &str) -> Map<String, Value> {
    let mut body = Map::new();
    body.insert("Image".into(), json!(image));
    put(&mut body, "Cmd", strings(svc.get("command")));
    put(&mut body, "Entrypoint", strings(svc.get("entrypoint")));
    let env = svc.get("environment").and_then(Value::as_object).map(|env| {
        let list = env.iter().filter_map(|(k, v)| s(v).map(|v| format!("{k}={v}")));
        list.collect::<Vec<_>>()
    });
    put(&mut body, "Env", env);
    for (key, field) in [
        ("working_dir", "WorkingDir"),
        ("user", "User"),
        ("hostname", "Hostname"),
        ("domainname", "Domainname"),
        ("stop_signal", "StopSignal"),
        ("mac_address", "MacAddress"),
    ] {
        put(&mut body, field, svc.get(key).and_then(s));
    }
    // compose creates every service container with stdout and stderr
    // attached (`AttachStdin` only for `run -i`).
    body.insert("AttachStdout".into(), json!(true));
    body.insert("AttachStderr".into(), json!(true));
    for (key, field) in [("tty", "Tty"), ("stdin_open", "OpenStdin")] {
        put(&mut body, field, svc[key].as_bool().filter(|on| *on));
    }
    put(
        &mut body,
        "StopTimeout",
        duration_ns(svc.get("stop_grace_period")).map(|ns| ns / 1_000_000_000),
    );
    put(
        &mut body,
        "Healthcheck",
        svc.get("healthcheck").filter(|h| h.is_object()).map(healthcheck),
    );
    body
}

/// Ports: published ones are also exposed.
fn ports(
    name: &str,
    svc: &Value,
    body: &mut Map<String, Value>,
    host: &mut Map<String, Value>,
) -> crate::error::Result<()> {
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
    Ok(())
}

/// The host config's plain options: flags, lists, sizes and modes.
fn host_options(svc: &Value, host: &mut Map<String, Value>) {
    put(host, "Tmpfs", strings(svc.get("tmpfs")).map(tmpfs_map));
    for (key, field) in [
        ("init", "Init"),
        ("privileged", "Privileged"),
        ("read_only", "ReadonlyRootfs"),
    ] {
        put(host, field, svc[key].as_bool());
    }
    for (key, field) in [("cap_add", "CapAdd"), ("cap_drop", "CapDrop")] {
        put(host, field, strings(svc.get(key)).map(|v| capabilities(&v)));
    }
    for (key, field) in [
        ("dns", "Dns"),
        ("dns_search", "DnsSearch"),
        ("dns_opt", "DnsOptions"),
        ("security_opt", "SecurityOpt"),
        ("group_add", "GroupAdd"),
    ] {
        put(host, field, strings(svc.get(key)));
    }
    put(host, "ExtraHosts", extra_hosts(svc.get("extra_hosts")));
    put(host, "ShmSize", bytes(svc.get("shm_size")));
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
        let driver = l["driver"].as_str().unwrap_or("");
        host.insert(
            "LogConfig".into(),
            json!({"Type": driver, "Config": string_map(l.get("options"))}),
        );
    }
    if svc.get("sysctls").is_some() {
        host.insert("Sysctls".into(), json!(string_map(svc.get("sysctls"))));
    }
    for (key, field) in [("pid", "PidMode"), ("ipc", "IpcMode"), ("runtime", "Runtime")] {
        put(host, field, svc.get(key).and_then(s));
    }
    put(host, "OomScoreAdj", svc["oom_score_adj"].as_i64());
}

/// Docker's Go client (so compose) sends capabilities upper-cased with the
/// `CAP_` prefix, deduplicated and sorted (moby client's
/// normalizeCapabilities); the engine stores what it gets.
fn capabilities(v: &[String]) -> Vec<String> {
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
    caps
}

/// `extra_hosts` as `host:ip` lines, from a map (host → IPs) or a list.
fn extra_hosts(v: Option<&Value>) -> Option<Vec<String>> {
    match v? {
        Value::Object(m) => Some(
            m.iter()
                .flat_map(|(h, ips)| {
                    strings(Some(ips))
                        .unwrap_or_default()
                        .into_iter()
                        .map(move |ip| format!("{h}:{ip}"))
                })
                .collect(),
        ),
        v => strings(Some(v)).map(|list| list.iter().map(|x| x.replacen('=', ":", 1)).collect()),
    }
}

/// The networks a container joins with their aliases, by priority (highest
/// first) then by key as compose-go's NetworksByPriority; endpoint settings
/// by engine name. The first is the container's `NetworkMode`.
type Joined = (Vec<(String, Vec<String>)>, BTreeMap<String, Value>);

fn networks(d: &Desired, name: &str, svc: &Value, host: &mut Map<String, Value>) -> Joined {
    let mut endpoints = BTreeMap::new();
    match svc["network_mode"].as_str() {
        // Resolved to a container when created (see `refs`).
        Some(mode) if mode.starts_with("service:") => return (Vec::new(), endpoints),
        Some(mode) => {
            host.insert("NetworkMode".into(), json!(mode));
            return (Vec::new(), endpoints);
        }
        None => {}
    }
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
    let networks: Vec<_> = nets.into_iter().map(|(_, _, n, a)| (n, a)).collect();
    if let Some((first, _)) = networks.first() {
        host.insert("NetworkMode".into(), json!(first));
    }
    (networks, endpoints)
}

/// The build to run when the image is missing, with compose's labels on
/// the image so `down --rmi local` knows it.
fn build(project: &str, name: &str, svc: &Value) -> Option<BuildSpec> {
    let b = svc.get("build").filter(|b| b.is_object())?;
    let mut labels = string_map(b.get("labels"));
    labels.insert(LABEL_VERSION.into(), COMPOSE_VERSION.into());
    labels.insert(LABEL_PROJECT.into(), project.into());
    labels.insert(LABEL_SERVICE.into(), name.into());
    Some(BuildSpec {
        context: b["context"].as_str().unwrap_or(".").to_string(),
        dockerfile: b["dockerfile"].as_str().unwrap_or("Dockerfile").to_string(),
        args: string_map(b.get("args")),
        target: b["target"].as_str().map(str::to_string),
        labels,
        no_cache: b["no_cache"].as_bool().unwrap_or(false),
    })
}
