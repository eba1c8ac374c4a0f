//! One compose service as a Swarm service spec, converted as docker/cli's
//! `convert.Service` does: the container spec, the task template (resources,
//! restart policy, placement, networks, logging) and the service's mode,
//! update and rollback configs and endpoint.

use serde_json::{json, Map, Value};

use super::convert::{is_external, project_of, scoped, with_namespace, Object, LABEL_IMAGE};
use crate::plan::values::{bytes, duration_ns, healthcheck, s, string_map, strings};

fn insert_some(m: &mut Map<String, Value>, key: &str, v: Option<Value>) {
    if let Some(v) = v {
        m.insert(key.into(), v);
    }
}

fn ns_of(v: Option<&Value>) -> Option<Value> {
    duration_ns(v).map(|n| json!(n))
}

/// One compose service as a Swarm service spec (docker/cli's
/// `convert.Service`).
pub(super) fn service(ns: &str, doc: &Value, name: &str, svc: &Value) -> crate::error::Result<Object> {
    let full = format!("{ns}_{name}");
    let deploy = &svc["deploy"];
    let image = svc["image"]
        .as_str()
        .ok_or("no image: swarm services run images, they are not built (build it, then set image:)")?;
    let mut task = Map::new();
    task.insert(
        "ContainerSpec".into(),
        Value::Object(container_spec(ns, doc, svc, image)?),
    );
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

/// The task's container: what runs, with its environment, options, health
/// check, mounts, secrets and configs.
fn container_spec(ns: &str, doc: &Value, svc: &Value, image: &str) -> crate::error::Result<Map<String, Value>> {
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
    Ok(c)
}

fn mode(svc: &Value) -> crate::error::Result<Value> {
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
            return Err(
                format!("unknown deploy mode {other:?}: use replicated, global, replicated-job or global-job").into(),
            )
        }
    })
}

fn endpoint(svc: &Value) -> crate::error::Result<Value> {
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
fn restart_policy(svc: &Value) -> crate::error::Result<Option<Value>> {
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
        _ => return Err(format!("invalid restart policy {restart:?}").into()),
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

fn mounts(ns: &str, doc: &Value, svc: &Value) -> crate::error::Result<Vec<Value>> {
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
                        return Err(format!("undefined volume {src:?}").into());
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
fn references(ns: &str, doc: &Value, svc: &Value, what: &str) -> crate::error::Result<Vec<Value>> {
    let mut out = Vec::new();
    for r in svc[what].as_array().into_iter().flatten() {
        let source = r["source"].as_str().ok_or("a reference has no source")?;
        let cfg = &doc[what][source];
        if cfg.is_null() {
            return Err(format!("undefined {} {source:?}", &what[..what.len() - 1]).into());
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
