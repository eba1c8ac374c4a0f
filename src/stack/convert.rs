//! A compose project as Swarm specs, converted the way `docker stack
//! deploy` converts it (docker/cli's `cli/compose/convert`): every name
//! scoped to the stack (`<stack>_<name>`), the `com.docker.stack.namespace`
//! label on everything, `deploy:` keys mapped onto the service spec. The
//! specs are JSON in the engine's own shape, so a script can read and
//! change them before they are sent.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use crate::plan::desired::{bytes, duration_ns, healthcheck, s, string_map, strings};

/// Marks every object of a stack; `docker stack ls` groups by it.
pub const LABEL_NAMESPACE: &str = "com.docker.stack.namespace";
/// The image as written in the compose file (docker stack sets it too).
pub const LABEL_IMAGE: &str = "com.docker.stack.image";

/// One object to create: its full name and its spec.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct Object {
    pub name: String,
    pub spec: Value,
    /// Declared `external`: must exist, is never created or removed.
    #[serde(default)]
    pub external: bool,
}

/// Everything a stack deploy sends, in the order it is created.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct Stack {
    pub name: String,
    pub networks: Vec<Object>,
    pub secrets: Vec<Object>,
    pub configs: Vec<Object>,
    pub services: Vec<Object>,
    /// Compose keys Swarm has no use for, as docker stack warns.
    #[serde(default)]
    pub warnings: Vec<String>,
}

/// Service keys Swarm ignores (docker stack deploy says the same).
const UNSUPPORTED: &[&str] = &[
    "build",
    "cgroup_parent",
    "container_name",
    "depends_on",
    "devices",
    "domainname",
    "external_links",
    "links",
    "mac_address",
    "network_mode",
    "pid",
    "ipc",
    "privileged",
    "security_opt",
    "shm_size",
    "userns_mode",
];

/// Stack names prefix service, network and secret names, which Swarm
/// checks as DNS name components.
pub fn check_name(name: &str) -> crate::error::Result<()> {
    let ok = name.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || "_-".contains(c));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "invalid stack name {name:?}: use letters, digits, '_' and '-', starting with a letter or digit (it prefixes names Swarm checks as DNS labels)"
        ).into())
    }
}

fn with_namespace(mut labels: BTreeMap<String, String>, ns: &str) -> BTreeMap<String, String> {
    labels.insert(LABEL_NAMESPACE.into(), ns.into());
    labels
}

/// The compose document (canonical, as the loader gives it) as a stack
/// named `ns`. File-backed secrets and configs are read here, so a missing
/// file fails before anything is sent.
pub fn convert(doc: &Value, ns: &str) -> crate::error::Result<Stack> {
    check_name(ns)?;
    let project = doc["name"].as_str().unwrap_or(ns);
    let mut stack = Stack {
        name: ns.to_string(),
        ..Default::default()
    };
    let empty = Map::new();
    let services = doc["services"].as_object().unwrap_or(&empty);

    // Only the networks some service uses, as docker does.
    let mut used = std::collections::BTreeSet::new();
    for svc in services.values() {
        match svc["networks"].as_object() {
            Some(n) if !n.is_empty() => used.extend(n.keys().cloned()),
            _ => {
                used.insert("default".to_string());
            }
        }
    }
    for key in &used {
        let cfg = &doc["networks"][key];
        stack.networks.push(network(project, ns, key, cfg));
    }
    for (key, cfg) in doc["secrets"].as_object().unwrap_or(&empty) {
        stack.secrets.push(object(project, ns, "secret", key, cfg)?);
    }
    for (key, cfg) in doc["configs"].as_object().unwrap_or(&empty) {
        stack.configs.push(object(project, ns, "config", key, cfg)?);
    }
    let mut ignored = std::collections::BTreeSet::new();
    for (name, svc) in services {
        for k in UNSUPPORTED {
            if svc.get(*k).is_some_and(|v| !v.is_null()) {
                ignored.insert(*k);
            }
        }
        stack
            .services
            .push(service(ns, doc, name, svc).map_err(|e| format!("service {name}: {e}"))?);
    }
    if !ignored.is_empty() {
        let list: Vec<&str> = ignored.into_iter().collect();
        stack
            .warnings
            .push(format!("Ignoring unsupported options: {}", list.join(", ")));
    }
    Ok(stack)
}

fn project_of<'a>(doc: &'a Value, ns: &'a str) -> &'a str {
    doc["name"].as_str().unwrap_or(ns)
}

/// The object's name in stack `ns`: its own `name:`, else `<ns>_<key>`.
/// The loader fills in `<project>_<key>` for objects without a name; that
/// one is re-scoped, as the project name may be a normalised stack name.
fn scoped(project: &str, ns: &str, key: &str, cfg: &Value) -> String {
    match cfg["name"].as_str() {
        Some(n) if n != format!("{project}_{key}") || is_external(cfg) => n.to_string(),
        _ => format!("{ns}_{key}"),
    }
}

fn is_external(cfg: &Value) -> bool {
    match &cfg["external"] {
        Value::Bool(b) => *b,
        Value::Object(_) => true,
        _ => false,
    }
}

fn network(project: &str, ns: &str, key: &str, cfg: &Value) -> Object {
    let name = scoped(project, ns, key, cfg);
    let external = is_external(cfg);
    let mut spec = Map::new();
    spec.insert("Name".into(), json!(name));
    spec.insert("Driver".into(), json!(cfg["driver"].as_str().unwrap_or("overlay")));
    spec.insert("Scope".into(), json!("swarm"));
    spec.insert(
        "Labels".into(),
        json!(with_namespace(string_map(cfg.get("labels")), ns)),
    );
    let opts = string_map(cfg.get("driver_opts"));
    if !opts.is_empty() {
        spec.insert("Options".into(), json!(opts));
    }
    for (k, f) in [("internal", "Internal"), ("attachable", "Attachable")] {
        if cfg[k].as_bool() == Some(true) {
            spec.insert(f.into(), json!(true));
        }
    }
    let ipam = &cfg["ipam"];
    if ipam["driver"].is_string() || ipam["config"].is_array() {
        let mut out = Map::new();
        if let Some(d) = ipam["driver"].as_str() {
            out.insert("Driver".into(), json!(d));
        }
        let pools: Vec<Value> = ipam["config"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|p| {
                let mut m = Map::new();
                for (k, f) in [("subnet", "Subnet"), ("ip_range", "IPRange"), ("gateway", "Gateway")] {
                    if let Some(v) = p[k].as_str() {
                        m.insert(f.into(), json!(v));
                    }
                }
                Value::Object(m)
            })
            .collect();
        if !pools.is_empty() {
            out.insert("Config".into(), json!(pools));
        }
        spec.insert("IPAM".into(), Value::Object(out));
    }
    Object {
        name,
        spec: Value::Object(spec),
        external,
    }
}

/// A secret or config: `file`, `environment` or `content` becomes its data.
fn object(project: &str, ns: &str, what: &str, key: &str, cfg: &Value) -> Result<Object, String> {
    use base64::Engine as _;
    let name = scoped(project, ns, key, cfg);
    let external = is_external(cfg);
    let mut spec = Map::new();
    spec.insert("Name".into(), json!(name));
    spec.insert(
        "Labels".into(),
        json!(with_namespace(string_map(cfg.get("labels")), ns)),
    );
    if !external {
        let data: Vec<u8> = if let Some(path) = cfg["file"].as_str() {
            std::fs::read(path).map_err(|e| format!("{what} {key}: cannot read {path}: {e}"))?
        } else if let Some(var) = cfg["environment"].as_str() {
            std::env::var(var)
                .map_err(|_| format!("{what} {key}: environment variable {var} is not set"))?
                .into_bytes()
        } else if let Some(text) = cfg["content"].as_str() {
            text.as_bytes().to_vec()
        } else {
            return Err(format!(
                "{what} {key}: set one of file, environment, content or external"
            ));
        };
        spec.insert(
            "Data".into(),
            json!(base64::engine::general_purpose::STANDARD.encode(data)),
        );
    }
    if let Some(d) = cfg["driver"].as_str() {
        spec.insert(
            "Driver".into(),
            json!({ "Name": d, "Options": string_map(cfg.get("driver_opts")) }),
        );
    }
    if let Some(t) = cfg["template_driver"].as_str() {
        spec.insert("Templating".into(), json!({ "Name": t }));
    }
    Ok(Object {
        name,
        spec: Value::Object(spec),
        external,
    })
}

fn insert_some(m: &mut Map<String, Value>, key: &str, v: Option<Value>) {
    if let Some(v) = v {
        m.insert(key.into(), v);
    }
}

fn ns_of(v: Option<&Value>) -> Option<Value> {
    duration_ns(v).map(|n| json!(n))
}

fn service(ns: &str, doc: &Value, name: &str, svc: &Value) -> Result<Object, String> {
    let full = format!("{ns}_{name}");
    let deploy = &svc["deploy"];
    let image = svc["image"]
        .as_str()
        .ok_or("no image: swarm services run images, they are not built (build it, then set image:)")?;

    let mut c = Map::new();
    c.insert("Image".into(), json!(image));
    insert_some(&mut c, "Command", strings(svc.get("entrypoint")).map(|v| json!(v)));
    insert_some(&mut c, "Args", strings(svc.get("command")).map(|v| json!(v)));
    if let Some(Value::Object(env)) = svc.get("environment") {
        let mut list: Vec<String> = env
            .iter()
            .map(|(k, v)| match s(v) {
                Some(v) => format!("{k}={v}"),
                None => k.clone(),
            })
            .collect();
        list.sort();
        c.insert("Env".into(), json!(list));
    }
    c.insert(
        "Labels".into(),
        json!(with_namespace(string_map(svc.get("labels")), ns)),
    );
    for (key, field) in [
        ("working_dir", "Dir"),
        ("user", "User"),
        ("hostname", "Hostname"),
        ("stop_signal", "StopSignal"),
        ("isolation", "Isolation"),
    ] {
        insert_some(&mut c, field, svc.get(key).and_then(s).map(|v| json!(v)));
    }
    for (key, field) in [
        ("tty", "TTY"),
        ("stdin_open", "OpenStdin"),
        ("read_only", "ReadOnly"),
        ("init", "Init"),
    ] {
        if let Some(b) = svc[key].as_bool() {
            c.insert(field.into(), json!(b));
        }
    }
    insert_some(&mut c, "StopGracePeriod", ns_of(svc.get("stop_grace_period")));
    insert_some(&mut c, "CapabilityAdd", strings(svc.get("cap_add")).map(|v| json!(v)));
    insert_some(&mut c, "CapabilityDrop", strings(svc.get("cap_drop")).map(|v| json!(v)));
    let sysctls = string_map(svc.get("sysctls"));
    if !sysctls.is_empty() {
        c.insert("Sysctls".into(), json!(sysctls));
    }
    if let Some(hosts) = svc["extra_hosts"].as_object() {
        // Swarm takes /etc/hosts lines: "IP host".
        let mut lines = Vec::new();
        for (host, ips) in hosts {
            for ip in strings(Some(ips)).unwrap_or_default() {
                lines.push(format!("{ip} {host}"));
            }
        }
        c.insert("Hosts".into(), json!(lines));
    }
    let mut dns = Map::new();
    insert_some(&mut dns, "Nameservers", strings(svc.get("dns")).map(|v| json!(v)));
    insert_some(&mut dns, "Search", strings(svc.get("dns_search")).map(|v| json!(v)));
    insert_some(&mut dns, "Options", strings(svc.get("dns_opt")).map(|v| json!(v)));
    if !dns.is_empty() {
        c.insert("DNSConfig".into(), Value::Object(dns));
    }
    if let Some(hc) = svc.get("healthcheck").filter(|h| h.is_object()) {
        c.insert("Healthcheck".into(), healthcheck(hc));
    }
    if let Some(ul) = svc["ulimits"].as_object() {
        let list: Vec<Value> = ul
            .iter()
            .map(|(k, v)| match v {
                Value::Object(o) => json!({ "Name": k, "Soft": o.get("soft"), "Hard": o.get("hard") }),
                n => json!({ "Name": k, "Soft": n, "Hard": n }),
            })
            .collect();
        c.insert("Ulimits".into(), json!(list));
    }
    let mounts = mounts(ns, doc, svc)?;
    if !mounts.is_empty() {
        c.insert("Mounts".into(), json!(mounts));
    }
    let secrets = references(ns, doc, svc, "secrets")?;
    if !secrets.is_empty() {
        c.insert("Secrets".into(), json!(secrets));
    }
    let configs = references(ns, doc, svc, "configs")?;
    if !configs.is_empty() {
        c.insert("Configs".into(), json!(configs));
    }

    let mut task = Map::new();
    task.insert("ContainerSpec".into(), Value::Object(c));
    if let Some(r) = resources(&deploy["resources"]) {
        task.insert("Resources".into(), r);
    }
    insert_some(&mut task, "RestartPolicy", restart_policy(svc)?);
    if let Some(p) = placement(&deploy["placement"]) {
        task.insert("Placement".into(), p);
    }
    task.insert("Networks".into(), json!(attachments(ns, doc, name, svc)));
    if let Some(log) = svc["logging"].as_object() {
        let mut d = Map::new();
        insert_some(&mut d, "Name", log.get("driver").cloned());
        let opts = string_map(log.get("options"));
        if !opts.is_empty() {
            d.insert("Options".into(), json!(opts));
        }
        task.insert("LogDriver".into(), Value::Object(d));
    }

    let mut spec = Map::new();
    spec.insert("Name".into(), json!(full));
    let mut labels = with_namespace(string_map(deploy.get("labels")), ns);
    labels.insert(LABEL_IMAGE.into(), image.into());
    spec.insert("Labels".into(), json!(labels));
    spec.insert("TaskTemplate".into(), Value::Object(task));
    spec.insert("Mode".into(), mode(svc)?);
    insert_some(&mut spec, "UpdateConfig", update_config(&deploy["update_config"]));
    insert_some(&mut spec, "RollbackConfig", update_config(&deploy["rollback_config"]));
    spec.insert("EndpointSpec".into(), endpoint(svc)?);
    Ok(Object {
        name: full,
        spec: Value::Object(spec),
        external: false,
    })
}

fn mode(svc: &Value) -> Result<Value, String> {
    let deploy = &svc["deploy"];
    let replicas = deploy["replicas"].as_u64().or_else(|| svc["scale"].as_u64());
    Ok(match deploy["mode"].as_str().unwrap_or("replicated") {
        "replicated" => json!({ "Replicated": { "Replicas": replicas.unwrap_or(1) } }),
        "global" => {
            if replicas.is_some() {
                return Err("replicas can only be used with replicated or replicated-job mode".into());
            }
            json!({ "Global": {} })
        }
        "replicated-job" => {
            let n = replicas.unwrap_or(1);
            json!({ "ReplicatedJob": { "MaxConcurrent": n, "TotalCompletions": n } })
        }
        "global-job" => json!({ "GlobalJob": {} }),
        other => {
            return Err(format!(
                "unknown deploy mode {other:?}: use replicated, global, replicated-job or global-job"
            ))
        }
    })
}

fn endpoint(svc: &Value) -> Result<Value, String> {
    let mut e = Map::new();
    insert_some(
        &mut e,
        "Mode",
        svc["deploy"]["endpoint_mode"].as_str().map(|m| json!(m)),
    );
    let mut ports = Vec::new();
    for p in svc["ports"].as_array().into_iter().flatten() {
        let target = p["target"].as_u64().ok_or("a port has no target")?;
        let mut port = Map::new();
        port.insert("Protocol".into(), json!(p["protocol"].as_str().unwrap_or("tcp")));
        port.insert("TargetPort".into(), json!(target));
        if let Some(published) = p.get("published").and_then(s).filter(|x| !x.is_empty()) {
            let n: u64 = published
                .parse()
                .map_err(|_| format!("published port {published:?}: Swarm takes one port, not a range"))?;
            port.insert("PublishedPort".into(), json!(n));
        }
        port.insert("PublishMode".into(), json!(p["mode"].as_str().unwrap_or("ingress")));
        ports.push(Value::Object(port));
    }
    ports.sort_by_key(|p| p["PublishedPort"].as_u64().unwrap_or(0));
    if !ports.is_empty() {
        e.insert("Ports".into(), json!(ports));
    }
    Ok(Value::Object(e))
}

fn resources(r: &Value) -> Option<Value> {
    let one = |x: &Value| {
        let mut m = Map::new();
        if let Some(cpus) = x.get("cpus").and_then(s).and_then(|c| c.parse::<f64>().ok()) {
            m.insert("NanoCPUs".into(), json!((cpus * 1e9).round() as i64));
        }
        insert_some(&mut m, "MemoryBytes", bytes(x.get("memory")).map(|b| json!(b)));
        insert_some(&mut m, "Pids", x["pids"].as_i64().map(|b| json!(b)));
        let generic: Vec<Value> = x["generic_resources"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|g| {
                let d = &g["discrete_resource_spec"];
                d.is_object()
                    .then(|| json!({ "DiscreteResourceSpec": { "Kind": d["kind"], "Value": d["value"] } }))
            })
            .collect();
        if !generic.is_empty() {
            m.insert("GenericResources".into(), json!(generic));
        }
        m
    };
    let limits = one(&r["limits"]);
    let reservations = one(&r["reservations"]);
    if limits.is_empty() && reservations.is_empty() {
        return None;
    }
    let mut out = Map::new();
    if !limits.is_empty() {
        out.insert("Limits".into(), Value::Object(limits));
    }
    if !reservations.is_empty() {
        out.insert("Reservations".into(), Value::Object(reservations));
    }
    Some(Value::Object(out))
}

/// `deploy.restart_policy`, or else the service's `restart:` as docker
/// maps it.
fn restart_policy(svc: &Value) -> Result<Option<Value>, String> {
    let rp = &svc["deploy"]["restart_policy"];
    if rp.is_object() {
        let mut m = Map::new();
        insert_some(&mut m, "Condition", rp["condition"].as_str().map(|c| json!(c)));
        insert_some(&mut m, "Delay", ns_of(rp.get("delay")));
        insert_some(&mut m, "MaxAttempts", rp["max_attempts"].as_u64().map(|c| json!(c)));
        insert_some(&mut m, "Window", ns_of(rp.get("window")));
        return Ok(Some(Value::Object(m)));
    }
    let Some(restart) = svc["restart"].as_str() else {
        return Ok(None);
    };
    let (policy, max) = restart.split_once(':').unwrap_or((restart, ""));
    Ok(Some(match policy {
        "no" | "" => json!({ "Condition": "none" }),
        "always" | "unless-stopped" => json!({ "Condition": "any" }),
        "on-failure" => match max {
            "" => json!({ "Condition": "on-failure" }),
            n => json!({ "Condition": "on-failure", "MaxAttempts": n.parse::<u64>()
                .map_err(|_| format!("invalid restart policy {restart:?}"))? }),
        },
        _ => return Err(format!("invalid restart policy {restart:?}")),
    }))
}

fn placement(p: &Value) -> Option<Value> {
    let mut m = Map::new();
    insert_some(&mut m, "Constraints", strings(p.get("constraints")).map(|v| json!(v)));
    let prefs: Vec<Value> = p["preferences"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|x| x["spread"].as_str())
        .map(|d| json!({ "Spread": { "SpreadDescriptor": d } }))
        .collect();
    if !prefs.is_empty() {
        m.insert("Preferences".into(), json!(prefs));
    }
    insert_some(
        &mut m,
        "MaxReplicas",
        p["max_replicas_per_node"].as_u64().map(|v| json!(v)),
    );
    (!m.is_empty()).then_some(Value::Object(m))
}

fn update_config(u: &Value) -> Option<Value> {
    if !u.is_object() {
        return None;
    }
    let mut m = Map::new();
    // docker stack deploy: parallelism 1 unless given.
    m.insert("Parallelism".into(), json!(u["parallelism"].as_u64().unwrap_or(1)));
    insert_some(&mut m, "Delay", ns_of(u.get("delay")));
    insert_some(&mut m, "FailureAction", u["failure_action"].as_str().map(|v| json!(v)));
    insert_some(&mut m, "Monitor", ns_of(u.get("monitor")));
    insert_some(
        &mut m,
        "MaxFailureRatio",
        u["max_failure_ratio"].as_f64().map(|v| json!(v)),
    );
    insert_some(&mut m, "Order", u["order"].as_str().map(|v| json!(v)));
    Some(Value::Object(m))
}

/// Network attachments, with the service's short name as an alias so
/// tasks reach each other as `web`, not only `<stack>_web`.
fn attachments(ns: &str, doc: &Value, name: &str, svc: &Value) -> Vec<Value> {
    let mut keys: Vec<(String, Value)> = match svc["networks"].as_object() {
        Some(n) if !n.is_empty() => n.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
        _ => vec![("default".into(), Value::Null)],
    };
    keys.sort_by(|a, b| a.0.cmp(&b.0));
    let mut out: Vec<Value> = keys
        .into_iter()
        .map(|(key, cfg)| {
            let mut aliases = vec![name.to_string()];
            aliases.extend(strings(cfg.get("aliases")).unwrap_or_default());
            json!({ "Target": scoped(project_of(doc, ns), ns, &key, &doc["networks"][&key]), "Aliases": aliases })
        })
        .collect();
    out.sort_by(|a, b| a["Target"].as_str().cmp(&b["Target"].as_str()));
    out
}

fn mounts(ns: &str, doc: &Value, svc: &Value) -> Result<Vec<Value>, String> {
    let mut out = Vec::new();
    for v in svc["volumes"].as_array().into_iter().flatten() {
        let kind = v["type"].as_str().unwrap_or("volume");
        let target = v["target"].as_str().ok_or("a volume has no target")?;
        let mut m = Map::new();
        m.insert("Type".into(), json!(kind));
        m.insert("Target".into(), json!(target));
        if v["read_only"].as_bool() == Some(true) {
            m.insert("ReadOnly".into(), json!(true));
        }
        match kind {
            "volume" => {
                let mut opts = Map::new();
                if let Some(src) = v["source"].as_str().filter(|x| !x.is_empty()) {
                    let cfg = &doc["volumes"][src];
                    if cfg.is_null() {
                        return Err(format!("undefined volume {src:?}"));
                    }
                    m.insert("Source".into(), json!(scoped(project_of(doc, ns), ns, src, cfg)));
                    if !is_external(cfg) {
                        opts.insert(
                            "Labels".into(),
                            json!(with_namespace(string_map(cfg.get("labels")), ns)),
                        );
                        if let Some(d) = cfg["driver"].as_str() {
                            opts.insert(
                                "DriverConfig".into(),
                                json!({ "Name": d, "Options": string_map(cfg.get("driver_opts")) }),
                            );
                        }
                    }
                }
                if v["volume"]["nocopy"].as_bool() == Some(true) {
                    opts.insert("NoCopy".into(), json!(true));
                }
                if !opts.is_empty() {
                    m.insert("VolumeOptions".into(), Value::Object(opts));
                }
            }
            "bind" => {
                insert_some(&mut m, "Source", v.get("source").cloned());
                if let Some(p) = v["bind"]["propagation"].as_str() {
                    m.insert("BindOptions".into(), json!({ "Propagation": p }));
                }
            }
            "tmpfs" => {
                if let Some(size) = bytes(v["tmpfs"].get("size")) {
                    m.insert("TmpfsOptions".into(), json!({ "SizeBytes": size }));
                }
            }
            _ => insert_some(&mut m, "Source", v.get("source").cloned()),
        }
        out.push(Value::Object(m));
    }
    Ok(out)
}

/// A service's `secrets:` or `configs:` as references by name; the IDs
/// are filled in when the stack is applied (the objects may not exist
/// yet).
fn references(ns: &str, doc: &Value, svc: &Value, what: &str) -> Result<Vec<Value>, String> {
    let mut out = Vec::new();
    for r in svc[what].as_array().into_iter().flatten() {
        let source = r["source"].as_str().ok_or("a reference has no source")?;
        let cfg = &doc[what][source];
        if cfg.is_null() {
            return Err(format!("undefined {} {source:?}", &what[..what.len() - 1]));
        }
        let name = scoped(project_of(doc, ns), ns, source, cfg);
        let target = r["target"].as_str().unwrap_or(source);
        // Secrets live in /run/secrets/; Swarm wants the file name.
        let target = if what == "secrets" {
            target.strip_prefix("/run/secrets/").unwrap_or(target)
        } else {
            target
        };
        let mode = r["mode"]
            .as_u64()
            .or_else(|| {
                r["mode"]
                    .as_str()
                    .and_then(|m| u64::from_str_radix(m.trim_start_matches("0o"), 8).ok())
            })
            .unwrap_or(0o444);
        let file = json!({
            "Name": target,
            "UID": r.get("uid").and_then(s).unwrap_or_else(|| "0".into()),
            "GID": r.get("gid").and_then(s).unwrap_or_else(|| "0".into()),
            "Mode": mode,
        });
        out.push(if what == "secrets" {
            json!({ "SecretName": name, "File": file })
        } else {
            json!({ "ConfigName": name, "File": file })
        });
    }
    Ok(out)
}
