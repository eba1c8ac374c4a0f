//! Compose's schema as the loader needs it: the keys a file and a service
//! may have, and the order compose prints a service's keys in (the printed
//! document is what the config hash is computed from).

use serde_json::{Map, Value};

use crate::compose::canon::ordered;

pub(super) const TOP_KEYS: &[&str] = &[
    "version", "name", "include", "services", "networks", "volumes", "secrets", "configs", "models",
];

/// Whether a service may have this attribute in Compose v2.40: every
/// key compose prints but the legacy ones it only prints, and
/// `pull_refresh_after`, which it reads but does not print.
pub fn is_service_key(k: &str) -> bool {
    k == "pull_refresh_after" || (SERVICE_ORDER.contains(&k) && !PRINT_ONLY.contains(&k))
}

/// Keys in [`SERVICE_ORDER`] that a service may not have.
const PRINT_ONLY: &[&str] = &["dockerfile", "log_driver", "log_opt", "net", "volume_driver"];

/// compose-go declares `profiles` first, then the rest alphabetically.
/// Service attributes in the order compose prints them (its Go struct's
/// field order); maps it prints (Go maps) are sorted instead.
pub const SERVICE_ORDER: &[&str] = &[
    "profiles",
    "annotations",
    "attach",
    "build",
    "develop",
    "blkio_config",
    "cap_add",
    "cap_drop",
    "cgroup_parent",
    "cgroup",
    "cpu_count",
    "cpu_percent",
    "cpu_period",
    "cpu_quota",
    "cpu_rt_period",
    "cpu_rt_runtime",
    "cpus",
    "cpuset",
    "cpu_shares",
    "command",
    "configs",
    "container_name",
    "credential_spec",
    "depends_on",
    "deploy",
    "device_cgroup_rules",
    "devices",
    "dns",
    "dns_opt",
    "dns_search",
    "dockerfile",
    "domainname",
    "entrypoint",
    "provider",
    "environment",
    "env_file",
    "expose",
    "extends",
    "external_links",
    "extra_hosts",
    "group_add",
    "gpus",
    "hostname",
    "healthcheck",
    "image",
    "init",
    "ipc",
    "isolation",
    "labels",
    "label_file",
    "links",
    "logging",
    "log_driver",
    "log_opt",
    "mem_limit",
    "mem_reservation",
    "memswap_limit",
    "mem_swappiness",
    "mac_address",
    "models",
    "net",
    "network_mode",
    "networks",
    "oom_kill_disable",
    "oom_score_adj",
    "pid",
    "pids_limit",
    "platform",
    "ports",
    "privileged",
    "pull_policy",
    "read_only",
    "restart",
    "runtime",
    "scale",
    "secrets",
    "security_opt",
    "shm_size",
    "stdin_open",
    "stop_grace_period",
    "stop_signal",
    "storage_opt",
    "sysctls",
    "tmpfs",
    "tty",
    "ulimits",
    "use_api_socket",
    "user",
    "userns_mode",
    "uts",
    "volume_driver",
    "volumes",
    "volumes_from",
    "working_dir",
    "post_start",
    "pre_stop",
];

/// Puts a service's keys, and those of its nested sections, in the order
/// compose prints them: struct fields in field order, maps sorted. Needed
/// after merging (an override's new keys land at the end) and because the
/// printed document is what the config hash is computed from.
pub fn reorder_service(m: &mut Map<String, Value>) {
    fn sort(v: Option<&mut Value>) {
        if let Some(Value::Object(o)) = v {
            let sorted = ordered(std::mem::take(o), &[]);
            *o = sorted;
        }
    }
    fn order(v: Option<&mut Value>, keys: &[&str]) {
        if let Some(Value::Object(o)) = v {
            let sorted = ordered(std::mem::take(o), keys);
            *o = sorted;
        }
    }
    for k in [
        "environment",
        "labels",
        "annotations",
        "sysctls",
        "depends_on",
        "networks",
        "storage_opt",
        "ulimits",
    ] {
        sort(m.get_mut(k));
    }
    if let Some(Value::Object(u)) = m.get_mut("ulimits") {
        for v in u.values_mut() {
            order(Some(v), &["single", "soft", "hard"]);
        }
    }
    if let Some(Value::Array(h)) = m.get_mut("extra_hosts") {
        h.sort_by(|a, b| a.as_str().cmp(&b.as_str()));
    }
    if let Some(b) = m.get_mut("build") {
        sort(b.get_mut("args"));
        sort(b.get_mut("labels"));
        order(Some(b), BUILD_ORDER);
    }
    order(m.get_mut("healthcheck"), HEALTH_ORDER);
    if let Some(l) = m.get_mut("logging") {
        sort(l.get_mut("options"));
        order(Some(l), &["driver", "options"]);
    }
    if let Some(d) = m.get_mut("deploy") {
        sort(d.get_mut("labels"));
        for k in ["update_config", "rollback_config"] {
            order(
                d.get_mut(k),
                &[
                    "parallelism",
                    "delay",
                    "failure_action",
                    "monitor",
                    "max_failure_ratio",
                    "order",
                ],
            );
        }
        order(Some(d), DEPLOY_ORDER);
    }
    let sorted = ordered(std::mem::take(m), SERVICE_ORDER);
    *m = sorted;
}

pub(super) const BUILD_ORDER: &[&str] = &[
    "context",
    "dockerfile",
    "dockerfile_inline",
    "entitlements",
    "args",
    "ssh",
    "labels",
    "cache_from",
    "cache_to",
    "no_cache",
    "additional_contexts",
    "network",
    "provenance",
    "sbom",
    "pull",
    "target",
    "shm_size",
    "extra_hosts",
    "isolation",
    "privileged",
    "secrets",
    "tags",
    "ulimits",
    "platforms",
];
pub(super) const DEPLOY_ORDER: &[&str] = &[
    "mode",
    "replicas",
    "labels",
    "update_config",
    "rollback_config",
    "resources",
    "restart_policy",
    "placement",
    "endpoint_mode",
];
pub(super) const HEALTH_ORDER: &[&str] = &[
    "test",
    "timeout",
    "interval",
    "retries",
    "start_period",
    "start_interval",
    "disable",
];
pub(super) const NETWORK_ORDER: &[&str] = &[
    "name",
    "driver",
    "driver_opts",
    "ipam",
    "external",
    "internal",
    "enable_ipv4",
    "enable_ipv6",
    "attachable",
    "labels",
];
pub(super) const VOLUME_ORDER: &[&str] = &["name", "driver", "driver_opts", "external", "labels"];
