//! A service's cgroup resources, namespace modes and restart policy, as compose's
//! `getDeployResources` and `getRestartPolicy` (pkg/compose/create.go)
//! put them in the container's HostConfig: the service keys first, then
//! `deploy.resources` limits and reservations and `deploy.restart_policy`
//! over them.

use serde_json::{json, Map, Value};

use super::values::{bytes, s, strings};

/// Compose-go keeps `cpus` as a float32 and compose multiplies in
/// float32: `int64(s.CPUS * 1e9)`.
fn nano_cpus(v: &Value) -> Option<i64> {
    let f = v.as_f64().or_else(|| v.as_str().and_then(|c| c.parse().ok()))?;
    Some((f as f32 * 1e9_f32) as i64)
}

/// The resource fields compose sets from the service's own keys.
fn service_resources(svc: &Value, host: &mut Map<String, Value>) {
    for (key, field) in [
        ("mem_limit", "Memory"),
        ("memswap_limit", "MemorySwap"),
        ("mem_reservation", "MemoryReservation"),
    ] {
        if let Some(b) = bytes(svc.get(key)).filter(|b| *b != 0) {
            host.insert(field.into(), json!(b));
        }
    }
    if let Some(sw) = bytes(svc.get("mem_swappiness")).filter(|b| *b != 0) {
        host.insert("MemorySwappiness".into(), json!(sw));
    }
    // Sent always (a pointer to the service's bool).
    host.insert(
        "OomKillDisable".into(),
        json!(svc["oom_kill_disable"].as_bool().unwrap_or(false)),
    );
    for (key, field) in [
        ("cpu_period", "CpuPeriod"),
        ("cpu_quota", "CpuQuota"),
        ("cpu_rt_period", "CpuRealtimePeriod"),
        ("cpu_rt_runtime", "CpuRealtimeRuntime"),
        ("cpu_shares", "CpuShares"),
        ("cpu_count", "CpuCount"),
        ("pids_limit", "PidsLimit"),
    ] {
        if let Some(n) = svc[key].as_i64().filter(|n| *n != 0) {
            host.insert(field.into(), json!(n));
        }
    }
    if let Some(p) = svc["cpu_percent"].as_f64().filter(|p| *p != 0.0) {
        host.insert("CpuPercent".into(), json!((p as f32 * 100_f32) as i64));
    }
    if let Some(n) = svc.get("cpus").and_then(nano_cpus).filter(|n| *n != 0) {
        host.insert("NanoCpus".into(), json!(n));
    }
    for (key, field) in [("cpuset", "CpusetCpus"), ("cgroup_parent", "CgroupParent")] {
        if let Some(v) = svc.get(key).and_then(s) {
            host.insert(field.into(), json!(v));
        }
    }
    if let Some(rules) = strings(svc.get("device_cgroup_rules")) {
        host.insert("DeviceCgroupRules".into(), json!(rules));
    }
    blkio(&svc["blkio_config"], host);
    let devices: Vec<Value> = svc["devices"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|d| {
            json!({
                "PathOnHost": d["source"].as_str().unwrap_or_default(),
                "PathInContainer": d["target"].as_str().unwrap_or_default(),
                "CgroupPermissions": d["permissions"].as_str().unwrap_or_default(),
            })
        })
        .collect();
    if !devices.is_empty() {
        host.insert("Devices".into(), json!(devices));
    }
}

/// compose's `setBlkio`: the weight and the per-device lists (`rate`
/// in bytes or operations, as compose-go's UnitBytes reads it).
fn blkio(b: &Value, host: &mut Map<String, Value>) {
    if let Some(w) = b["weight"].as_i64().filter(|w| *w != 0) {
        host.insert("BlkioWeight".into(), json!(w));
    }
    let entries = |key: &str, field: &str| -> Vec<Value> {
        b[key]
            .as_array()
            .into_iter()
            .flatten()
            .map(|d| {
                let path = d.get("path").or_else(|| d.get("Path")).cloned().unwrap_or(json!(""));
                let raw = d.get(field.to_lowercase().as_str()).or_else(|| d.get(field));
                json!({"Path": path, field: bytes(raw).unwrap_or(0)})
            })
            .collect()
    };
    for (key, field, out) in [
        ("weight_device", "Weight", "BlkioWeightDevice"),
        ("device_read_bps", "Rate", "BlkioDeviceReadBps"),
        ("device_read_iops", "Rate", "BlkioDeviceReadIOps"),
        ("device_write_bps", "Rate", "BlkioDeviceWriteBps"),
        ("device_write_iops", "Rate", "BlkioDeviceWriteIOps"),
    ] {
        let list = entries(key, field);
        if !list.is_empty() {
            host.insert(out.into(), json!(list));
        }
    }
}

/// Namespace and storage settings compose copies as they are.
fn plain_fields(svc: &Value, host: &mut Map<String, Value>) {
    for (key, field) in [
        ("cgroup", "CgroupnsMode"),
        ("userns_mode", "UsernsMode"),
        ("uts", "UTSMode"),
        ("isolation", "Isolation"),
        ("volume_driver", "VolumeDriver"),
    ] {
        if let Some(v) = svc.get(key).and_then(s).filter(|v| !v.is_empty()) {
            host.insert(field.into(), json!(v));
        }
    }
    if let Some(m) = svc["storage_opt"].as_object().filter(|m| !m.is_empty()) {
        host.insert("StorageOpt".into(), json!(m));
    }
}

/// `deploy.resources`: limits (memory, cpus, pids) and the memory
/// reservation win over the service keys when set.
fn deploy_resources(svc: &Value, host: &mut Map<String, Value>) {
    let res = &svc["deploy"]["resources"];
    let limits = &res["limits"];
    if let Some(m) = bytes(limits.get("memory")).filter(|m| *m != 0) {
        host.insert("Memory".into(), json!(m));
    }
    if let Some(n) = limits.get("cpus").and_then(nano_cpus).filter(|n| *n != 0) {
        host.insert("NanoCpus".into(), json!(n));
    }
    if let Some(p) = limits["pids"].as_i64().filter(|p| *p > 0) {
        host.insert("PidsLimit".into(), json!(p));
    }
    if let Some(m) = bytes(res["reservations"].get("memory")).filter(|m| *m != 0) {
        host.insert("MemoryReservation".into(), json!(m));
    }
}

/// compose's `mapRestartPolicyCondition`.
fn restart_name(condition: &str) -> &str {
    match condition {
        "none" | "no" => "no",
        "any" | "always" => "always",
        other => other,
    }
}

/// `restart:` (`NAME[:RETRIES]`), replaced by `deploy.restart_policy`
/// when the service has one.
fn restart_policy(svc: &Value, host: &mut Map<String, Value>) {
    if let Some(r) = svc["restart"].as_str().filter(|r| !r.is_empty()) {
        let mut parts = r.split(':');
        let name = parts.next().unwrap_or_default();
        let count = parts.next().and_then(|c| c.parse::<i64>().ok()).unwrap_or(0);
        host.insert(
            "RestartPolicy".into(),
            json!({"Name": restart_name(name), "MaximumRetryCount": count}),
        );
    }
    if let Some(p) = svc["deploy"]["restart_policy"].as_object() {
        let name = p.get("condition").and_then(Value::as_str).unwrap_or_default();
        let count = p.get("max_attempts").and_then(Value::as_i64).unwrap_or(0);
        host.insert(
            "RestartPolicy".into(),
            json!({"Name": restart_name(name), "MaximumRetryCount": count}),
        );
    }
}

/// A service's settings on one network beyond its aliases, as compose's
/// `createEndpointSettings`: addresses (`IPAMConfig`), `mac_address` and
/// `driver_opts`.
pub(crate) fn endpoint(cfg: &Value) -> Option<Value> {
    let mut ep = Map::new();
    let mut ipam = Map::new();
    for (key, field) in [("ipv4_address", "IPv4Address"), ("ipv6_address", "IPv6Address")] {
        if let Some(a) = cfg[key].as_str().filter(|a| !a.is_empty()) {
            ipam.insert(field.into(), json!(a));
        }
    }
    if let Some(l) = strings(cfg.get("link_local_ips")).filter(|l| !l.is_empty()) {
        ipam.insert("LinkLocalIPs".into(), json!(l));
    }
    if !ipam.is_empty() {
        ep.insert("IPAMConfig".into(), Value::Object(ipam));
    }
    if let Some(m) = cfg["mac_address"].as_str().filter(|m| !m.is_empty()) {
        ep.insert("MacAddress".into(), json!(m));
    }
    if let Some(o) = cfg["driver_opts"].as_object().filter(|o| !o.is_empty()) {
        let opts: Map<String, Value> = o
            .iter()
            .filter_map(|(k, v)| s(v).map(|v| (k.clone(), json!(v))))
            .collect();
        ep.insert("DriverOpts".into(), Value::Object(opts));
    }
    (!ep.is_empty()).then_some(Value::Object(ep))
}

/// An `ipam.config` entry's addresses (`subnet`, `ip_range`, `gateway`)
/// under the engine's names.
pub(crate) fn ipam_pool(p: &Value) -> Map<String, Value> {
    let mut c = Map::new();
    for (key, field) in [("subnet", "Subnet"), ("ip_range", "IPRange"), ("gateway", "Gateway")] {
        if let Some(v) = p[key].as_str() {
            c.insert(field.into(), json!(v));
        }
    }
    c
}

/// A network's `ipam:` as compose sends it (only when `config` is given;
/// otherwise the engine's defaults).
pub(crate) fn network_ipam(n: &Value) -> Value {
    let Some(pools) = n["ipam"]["config"].as_array() else {
        return Value::Null;
    };
    let config: Vec<Value> = pools
        .iter()
        .map(|p| {
            let mut c = ipam_pool(p);
            if let Some(aux) = p["aux_addresses"].as_object() {
                c.insert("AuxiliaryAddresses".into(), json!(aux));
            }
            Value::Object(c)
        })
        .collect();
    let mut ipam = json!({"Driver": n["ipam"]["driver"].as_str().unwrap_or(""), "Config": config});
    if let Some(o) = n["ipam"]["options"].as_object() {
        ipam["Options"] = json!(o);
    }
    ipam
}

/// Every resource field, the namespace modes and the restart policy,
/// into `host`.
pub(crate) fn apply(svc: &Value, host: &mut Map<String, Value>) {
    service_resources(svc, host);
    plain_fields(svc, host);
    deploy_resources(svc, host);
    restart_policy(svc, host);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host(svc: Value) -> Map<String, Value> {
        let mut h = Map::new();
        apply(&svc, &mut h);
        h
    }

    #[test]
    fn deploy_limits_win_over_service_keys() {
        let h = host(json!({"mem_limit": "1073741824", "cpus": 1.5,
            "deploy": {"resources": {"limits": {"memory": "52428800", "cpus": 0.25, "pids": 64},
                                     "reservations": {"memory": "20971520"}}}}));
        assert_eq!(h["Memory"], json!(52428800));
        assert_eq!(h["NanoCpus"], json!(250000000));
        assert_eq!(h["PidsLimit"], json!(64));
        assert_eq!(h["MemoryReservation"], json!(20971520));
        assert_eq!(h["OomKillDisable"], json!(false));
    }

    #[test]
    fn restart_policy_from_deploy_replaces_restart() {
        let h = host(
            json!({"restart": "always", "deploy": {"restart_policy": {"condition": "on-failure", "max_attempts": 3}}}),
        );
        assert_eq!(
            h["RestartPolicy"],
            json!({"Name": "on-failure", "MaximumRetryCount": 3})
        );
        let h = host(json!({"restart": "no"}));
        assert_eq!(h["RestartPolicy"], json!({"Name": "no", "MaximumRetryCount": 0}));
        let h = host(json!({"deploy": {"restart_policy": {"condition": "any"}}}));
        assert_eq!(h["RestartPolicy"]["Name"], json!("always"));
    }

    #[test]
    fn devices_and_cgroup_keys() {
        let h = host(
            json!({"devices": [{"source": "/dev/null", "target": "/dev/x", "permissions": "rwm"}],
            "cpuset": "0", "cpu_shares": 512, "pids_limit": 0, "mem_swappiness": "10"}),
        );
        assert_eq!(h["Devices"][0]["PathInContainer"], json!("/dev/x"));
        assert_eq!(h["CpusetCpus"], json!("0"));
        assert_eq!(h["CpuShares"], json!(512));
        assert!(!h.contains_key("PidsLimit"));
        assert_eq!(h["MemorySwappiness"], json!(10));
    }
}
