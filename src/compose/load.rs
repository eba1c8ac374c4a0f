//! Loading a project as Docker Compose v2 does: find the files, read the
//! environment (`.env`, `--env-file`, the process), interpolate, validate,
//! normalise each file, resolve `extends`, merge the files, apply profiles,
//! and check references. The result is the canonical document.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use serde_json::{json, Map, Value};

use super::canon::{self, ordered, to_json, Invalid};
use super::error::LoadError;
use super::interp;
use super::yaml::{self, Node, Value as Y};

/// Everything `-f`, `-p`, `--profile`, `--env-file`, `--project-directory`
/// and a script's extra `env` say.
#[derive(Clone, Debug, Default)]
pub struct Options {
    pub files: Vec<PathBuf>,
    pub project_name: Option<String>,
    pub profiles: Vec<String>,
    pub env_files: Vec<PathBuf>,
    pub project_directory: Option<PathBuf>,
    /// Variables that win over the process environment.
    pub env: HashMap<String, String>,
    /// `--no-interpolate`: leave `${...}` as written.
    pub no_interpolate: bool,
    /// Where to look for compose files (the current directory).
    pub cwd: PathBuf,
}

/// A loaded project.
#[derive(Clone, Debug)]
pub struct Project {
    pub name: String,
    pub working_dir: PathBuf,
    pub config_files: Vec<String>,
    /// The canonical document (in memory: `$` not escaped).
    pub doc: Value,
    /// Profiles any service declares (for `config --profiles`).
    pub all_profiles: Vec<String>,
    /// Services left out by the active profiles: never orphans.
    pub disabled_services: Vec<String>,
    /// What compose would warn about (unset variables, obsolete keys).
    pub warnings: Vec<String>,
    /// Every file the project was read from: compose files with their
    /// `extends` and `include` targets, and the project's env files (the
    /// `.env` it would read, even if missing): what `orch watch` watches.
    pub source_files: Vec<String>,
    /// The project's environment (the process, `--env-file`/`.env`, a
    /// script's `env`): where `environment:` secrets and configs read.
    pub environment: HashMap<String, String>,
}

pub const DEFAULT_FILES: &[&str] = &[
    "compose.yaml",
    "compose.yml",
    "docker-compose.yaml",
    "docker-compose.yml",
];
const OVERRIDE_FILES: &[&str] = &[
    "compose.override.yaml",
    "compose.override.yml",
    "docker-compose.override.yaml",
    "docker-compose.override.yml",
];

const TOP_KEYS: &[&str] = &[
    "version", "name", "include", "services", "networks", "volumes", "secrets", "configs", "models",
];

/// Every attribute a service may have in Compose v2.40.
pub const SERVICE_KEYS: &[&str] = &[
    "annotations",
    "attach",
    "build",
    "blkio_config",
    "cap_add",
    "cap_drop",
    "cgroup",
    "cgroup_parent",
    "command",
    "configs",
    "container_name",
    "cpu_count",
    "cpu_percent",
    "cpu_shares",
    "cpu_quota",
    "cpu_period",
    "cpu_rt_period",
    "cpu_rt_runtime",
    "cpus",
    "cpuset",
    "credential_spec",
    "depends_on",
    "deploy",
    "develop",
    "device_cgroup_rules",
    "devices",
    "dns",
    "dns_opt",
    "dns_search",
    "domainname",
    "entrypoint",
    "env_file",
    "label_file",
    "environment",
    "expose",
    "extends",
    "external_links",
    "extra_hosts",
    "gpus",
    "group_add",
    "healthcheck",
    "hostname",
    "image",
    "init",
    "ipc",
    "isolation",
    "labels",
    "links",
    "logging",
    "mac_address",
    "mem_limit",
    "mem_reservation",
    "mem_swappiness",
    "memswap_limit",
    "models",
    "network_mode",
    "networks",
    "oom_kill_disable",
    "oom_score_adj",
    "pid",
    "pids_limit",
    "platform",
    "ports",
    "post_start",
    "pre_stop",
    "privileged",
    "profiles",
    "provider",
    "pull_policy",
    "pull_refresh_after",
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
    "volumes",
    "volumes_from",
    "working_dir",
];

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

const BUILD_ORDER: &[&str] = &[
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
const DEPLOY_ORDER: &[&str] = &[
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
const HEALTH_ORDER: &[&str] = &[
    "test",
    "timeout",
    "interval",
    "retries",
    "start_period",
    "start_interval",
    "disable",
];
const NETWORK_ORDER: &[&str] = &[
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
const VOLUME_ORDER: &[&str] = &["name", "driver", "driver_opts", "external", "labels"];

/// The files the project is read from, with their text (for diagnostics).
struct Files {
    list: Vec<(String, String)>,
}

impl Files {
    fn error_at(&self, node: &Node, message: impl Into<String>) -> LoadError {
        let (name, text) = self.list.get(node.span.file).cloned().unwrap_or_default();
        LoadError {
            message: message.into(),
            at: Some(Box::new((name, text, node.span))),
            help: None,
        }
    }

    fn invalid(&self, e: Invalid) -> LoadError {
        let (name, text) = self.list.get(e.span.file).cloned().unwrap_or_default();
        LoadError {
            message: e.message,
            at: Some(Box::new((name, text, e.span))),
            help: None,
        }
    }
}

/// The document without service-level `x-` extensions (also inside
/// `develop.watch` rules): compose leaves them out of its JSON and of the
/// config hash, and prints them only in YAML.
pub fn without_service_extensions(doc: &Value) -> Value {
    let mut doc = doc.clone();
    if let Some(Value::Object(services)) = doc.get_mut("services") {
        for svc in services.values_mut() {
            strip_service_extensions(svc);
        }
    }
    doc
}

/// Removes a service's own `x-` keys and those of its watch rules.
pub fn strip_service_extensions(svc: &mut Value) {
    if let Some(m) = svc.as_object_mut() {
        m.retain(|k, _| !k.starts_with("x-"));
    }
    if let Some(Value::Array(rules)) = svc.get_mut("develop").and_then(|d| d.get_mut("watch")) {
        for r in rules {
            if let Some(o) = r.as_object_mut() {
                o.retain(|k, _| !k.starts_with("x-"));
            }
        }
    }
}

/// Reads an env file in `format: raw`: `KEY=VALUE` lines taken literally
/// (no quotes removed, no comments after values, no interpolation).
fn read_raw_env(path: &Path) -> Result<Vec<(String, String)>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(text
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        .map(|l| match l.split_once('=') {
            Some((k, v)) => (k.trim().to_string(), v.to_string()),
            None => (l.trim().to_string(), String::new()),
        })
        .collect())
}

/// Reads a `.env` file: `KEY=VALUE`, comments, `export`, quotes, and
/// `${VAR}` in unquoted and double-quoted values.
pub fn read_dotenv(path: &Path, env: &HashMap<String, String>) -> Result<Vec<(String, String)>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut out: Vec<(String, String)> = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line.strip_prefix("export ").unwrap_or(line).trim_start();
        let Some((k, v)) = line.split_once('=') else {
            // A bare name takes its value from the environment, if any.
            if let Some(v) = env.get(line) {
                out.push((line.to_string(), v.clone()));
            }
            continue;
        };
        let key = k.trim().to_string();
        if key.is_empty() || key.contains(char::is_whitespace) {
            return Err(format!(
                "{}:{}: unexpected character in variable name {key:?}",
                path.display(),
                i + 1
            ));
        }
        let v = v.trim_start();
        let lookup: HashMap<String, String> = env.clone().into_iter().chain(out.iter().cloned()).collect();
        let value = if let Some(rest) = v.strip_prefix('\'') {
            rest.split_once('\'')
                .map(|(a, _)| a.to_string())
                .unwrap_or_else(|| rest.to_string())
        } else if let Some(rest) = v.strip_prefix('"') {
            let inner = rest.rsplit_once('"').map(|(a, _)| a).unwrap_or(rest);
            let unescaped = inner.replace("\\n", "\n").replace("\\\"", "\"").replace("\\\\", "\\");
            interp::interpolate(&unescaped, &lookup, &mut Vec::new()).unwrap_or(unescaped)
        } else {
            let v = match v.find(" #") {
                Some(i) => &v[..i],
                None => v,
            };
            let v = v.trim_end();
            interp::interpolate(v, &lookup, &mut Vec::new()).unwrap_or_else(|_| v.to_string())
        };
        out.retain(|(x, _)| x != &key);
        out.push((key, value));
    }
    Ok(out)
}

/// Lowercase and strip what a project name may not contain, as compose.
pub fn normalize_name(s: &str) -> String {
    let lowered: String = s
        .to_lowercase()
        .chars()
        .filter(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_' || *c == '-')
        .collect();
    lowered.trim_start_matches(['_', '-']).to_string()
}

fn find_default_files(dir: &Path) -> Option<Vec<PathBuf>> {
    let mut d = Some(dir.to_path_buf());
    while let Some(cur) = d {
        if let Some(f) = DEFAULT_FILES.iter().map(|f| cur.join(f)).find(|p| p.is_file()) {
            let mut files = vec![f];
            if let Some(o) = OVERRIDE_FILES.iter().map(|f| cur.join(f)).find(|p| p.is_file()) {
                files.push(o);
            }
            return Some(files);
        }
        d = cur.parent().map(Path::to_path_buf);
    }
    None
}

/// Interpolates every string value (not keys), tracking the path for errors.
fn interpolate_tree(
    n: &mut Node,
    path: &str,
    env: &HashMap<String, String>,
    files: &Files,
    unset: &mut Vec<String>,
) -> Result<(), LoadError> {
    match &mut n.value {
        Y::Str(s) => {
            if s.contains('$') {
                interpolate_str(n, path, env, files, unset)?;
            }
            // compose-go casts the strings at some paths, quoted or not.
            if let (Y::Str(s), Some(cast)) = (&n.value, cast_for(path)) {
                n.value = cast_value(s, cast).map_err(|e| {
                    files.error_at(
                        n,
                        format!("error while interpolating {path}: failed to cast to expected type: {e}"),
                    )
                })?;
            }
        }
        Y::Seq(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                interpolate_tree(item, &format!("{path}.[{i}]"), env, files, unset)?;
            }
        }
        Y::Map(entries) => {
            for (k, v) in entries.iter_mut() {
                let key = k.scalar_text().unwrap_or_default();
                let p = if path.is_empty() { key } else { format!("{path}.{key}") };
                interpolate_tree(v, &p, env, files, unset)?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// `develop:` against compose's schema (the watch loop trusts its shape).
fn check_develop(name: &str, v: &Node, files: &Files) -> Result<(), LoadError> {
    let at = |n: &Node, msg: String| Err(files.error_at(n, msg));
    let path = format!("services.{name}.develop");
    let entries = match &v.value {
        Y::Null => return Ok(()),
        Y::Map(m) => m,
        _ => return at(v, format!("{path} must be a mapping or null")),
    };
    for (k, w) in entries {
        let key = k.scalar_text().unwrap_or_default();
        if key.starts_with("x-") {
            continue;
        }
        if key != "watch" {
            return at(k, format!("{path} additional properties '{key}' not allowed"));
        }
        let rules = match &w.value {
            Y::Seq(items) => items,
            _ => return at(w, format!("{path}.watch must be a array")),
        };
        for (i, r) in rules.iter().enumerate() {
            let rp = format!("{path}.watch.{i}");
            let Y::Map(fields) = &r.value else {
                return at(r, format!("{rp} must be a mapping"));
            };
            let keys: Vec<String> = fields
                .iter()
                .map(|(k, _)| k.scalar_text().unwrap_or_default())
                .collect();
            let missing: Vec<String> = ["path", "action"]
                .iter()
                .filter(|k| !keys.iter().any(|x| x == *k))
                .map(|k| format!("'{k}'"))
                .collect();
            if !missing.is_empty() {
                return at(r, format!("{rp} missing properties {}", missing.join(", ")));
            }
            for (k, val) in fields {
                let key = k.scalar_text().unwrap_or_default();
                const KNOWN: &[&str] = &["path", "action", "target", "exec", "ignore", "include", "initial_sync"];
                if !KNOWN.contains(&key.as_str()) && !key.starts_with("x-") {
                    return at(k, format!("{rp} additional properties '{key}' not allowed"));
                }
                if key == "action" {
                    const ACTIONS: &[&str] = &["rebuild", "sync", "restart", "sync+restart", "sync+exec"];
                    if !val.as_str().is_some_and(|a| ACTIONS.contains(&a)) {
                        return at(
                            val,
                            format!(
                                "{rp}.action value must be one of 'rebuild', 'sync', 'restart', 'sync+restart', 'sync+exec'"
                            ),
                        );
                    }
                }
                if key == "exec" && !matches!(val.value, Y::Map(_)) {
                    return at(val, format!("{rp}.exec must be a mapping"));
                }
            }
            let action = r.get("action").and_then(Node::as_str).unwrap_or_default();
            if action != "rebuild" && !keys.iter().any(|k| k == "target") {
                return at(
                    r,
                    format!("{path}.watch: target is required for non-rebuild actions: invalid compose project"),
                );
            }
        }
    }
    Ok(())
}

#[derive(Clone, Copy)]
enum Cast {
    Int,
    Int64,
    Float,
    Bool,
}

/// compose-go converts the strings at these paths after interpolation
/// (its `interpolateTypeCastMapping`); `*` is one key, `[]` a list item.
const CASTS: &[(&str, Cast)] = &[
    ("services.*.configs.[].mode", Cast::Int),
    ("services.*.cpu_count", Cast::Int64),
    ("services.*.cpu_percent", Cast::Float),
    ("services.*.cpu_period", Cast::Int64),
    ("services.*.cpu_quota", Cast::Int64),
    ("services.*.cpu_rt_period", Cast::Int64),
    ("services.*.cpu_rt_runtime", Cast::Int64),
    ("services.*.cpus", Cast::Float),
    ("services.*.cpu_shares", Cast::Int64),
    ("services.*.init", Cast::Bool),
    ("services.*.deploy.replicas", Cast::Int),
    ("services.*.deploy.update_config.parallelism", Cast::Int),
    ("services.*.deploy.update_config.max_failure_ratio", Cast::Float),
    ("services.*.deploy.rollback_config.parallelism", Cast::Int),
    ("services.*.deploy.rollback_config.max_failure_ratio", Cast::Float),
    ("services.*.deploy.restart_policy.max_attempts", Cast::Int),
    ("services.*.deploy.placement.max_replicas_per_node", Cast::Int),
    ("services.*.healthcheck.retries", Cast::Int),
    ("services.*.healthcheck.disable", Cast::Bool),
    ("services.*.oom_kill_disable", Cast::Bool),
    ("services.*.oom_score_adj", Cast::Int64),
    ("services.*.pids_limit", Cast::Int64),
    ("services.*.ports.[].target", Cast::Int),
    ("services.*.privileged", Cast::Bool),
    ("services.*.read_only", Cast::Bool),
    ("services.*.scale", Cast::Int),
    ("services.*.secrets.[].mode", Cast::Int),
    ("services.*.stdin_open", Cast::Bool),
    ("services.*.tty", Cast::Bool),
    ("services.*.ulimits.*", Cast::Int),
    ("services.*.ulimits.*.hard", Cast::Int),
    ("services.*.ulimits.*.soft", Cast::Int),
    ("volumes.*.external", Cast::Bool),
    ("networks.*.external", Cast::Bool),
    ("networks.*.internal", Cast::Bool),
    ("configs.*.external", Cast::Bool),
    ("secrets.*.external", Cast::Bool),
];

fn cast_for(path: &str) -> Option<Cast> {
    // Called for every string in the file: reject by the last key first,
    // split patterns once.
    static PATTERNS: std::sync::OnceLock<Vec<(Vec<&'static str>, Cast)>> = std::sync::OnceLock::new();
    let patterns = PATTERNS.get_or_init(|| CASTS.iter().map(|(p, c)| (p.split('.').collect(), *c)).collect());
    let last = path.rsplit('.').next()?;
    let known_last = patterns.iter().any(|(p, _)| p.last() == Some(&last));
    if !known_last && !path.contains(".ulimits.") {
        return None;
    }
    let segs: Vec<&str> = path.split('.').collect();
    patterns.iter().find_map(|(pat, cast)| {
        let same = pat.len() == segs.len()
            && pat.iter().zip(&segs).all(|(p, s)| match *p {
                "*" => !s.starts_with('['),
                "[]" => s.starts_with('['),
                _ => p == s,
            });
        same.then_some(*cast)
    })
}

/// A string as the type compose-go casts it to, or Go's error text.
fn cast_value(s: &str, cast: Cast) -> Result<Y, String> {
    match cast {
        Cast::Int => s
            .parse::<i64>()
            .map(Y::Int)
            .map_err(|_| format!("strconv.Atoi: parsing {s:?}: invalid syntax")),
        Cast::Int64 => s
            .parse::<i64>()
            .map(Y::Int)
            .map_err(|_| format!("strconv.ParseInt: parsing {s:?}: invalid syntax")),
        Cast::Float => s
            .parse::<f64>()
            .map(Y::Float)
            .map_err(|_| format!("strconv.ParseFloat: parsing {s:?}: invalid syntax")),
        Cast::Bool => match s.to_lowercase().as_str() {
            "true" | "y" | "yes" | "on" => Ok(Y::Bool(true)),
            "false" | "n" | "no" | "off" => Ok(Y::Bool(false)),
            _ => Err(format!("invalid boolean: {s}")),
        },
    }
}

/// Interpolates one string node in place.
fn interpolate_str(
    n: &mut Node,
    path: &str,
    env: &HashMap<String, String>,
    files: &Files,
    unset: &mut Vec<String>,
) -> Result<(), LoadError> {
    let Y::Str(s) = &n.value else { return Ok(()) };
    match interp::interpolate(s, env, unset) {
        Ok(v) => {
            // Unquoted values are re-typed after interpolation
            // (`${PORT}` → 8080 is a number).
            n.value = match yaml::resolve_plain(&v) {
                _ if n.quoted => Y::Str(v),
                Y::Null => Y::Str(v),
                typed => typed,
            };
            Ok(())
        }
        Err(interp::Error::Invalid) => {
            let mut e = files.error_at(n, format!("invalid interpolation format for {path}"));
            e.help = Some("You may need to escape any $ with another $.".into());
            Err(e)
        }
        Err(interp::Error::Required { name, message }) => Err(files.error_at(
            n,
            format!("error while interpolating {path}: required variable {name} is missing a value: {message}"),
        )),
    }
}

/// One service, normalised: (canonical map, keys tagged !reset/!override).
/// Attributes tagged `!reset` / `!override`: (key, tag).
type Tags = Vec<(String, String)>;

fn service(
    name: &str,
    node: &Node,
    base: &Path,
    env: &HashMap<String, String>,
    files: &Files,
) -> Result<(Map<String, Value>, Tags), LoadError> {
    let entries = match &node.value {
        Y::Map(m) => m,
        _ => return Err(files.error_at(node, format!("services.{name} must be a mapping"))),
    };
    let mut out = Map::new();
    let mut tags = Vec::new();
    let mut env_file_values: Option<Map<String, Value>> = None;
    let lookup = |k: &str| env.get(k).cloned();
    for (k, v) in entries {
        let key = k.scalar_text().unwrap_or_default();
        if key.starts_with("x-") {
            // Kept (compose prints them in YAML, not in JSON or the hash).
            out.insert(key, to_json(v));
            continue;
        }
        if !SERVICE_KEYS.contains(&key.as_str()) {
            return Err(files.error_at(k, format!("services.{name} additional properties '{key}' not allowed")));
        }
        if let Some(t) = &v.tag {
            if t == "!reset" || t == "!override" {
                tags.push((key.clone(), t.clone()));
            }
        }
        let list_err = |what: &str| files.error_at(v, format!("services.{name}.{key} must be {what}"));
        let value = match key.as_str() {
            "build" => match &v.value {
                Y::Str(ctx) => json!({"context": canon::abs_path(base, ctx), "dockerfile": "Dockerfile"}),
                Y::Map(_) => {
                    let mut m = to_json(v).as_object().cloned().unwrap_or_default();
                    let ctx = m.get("context").and_then(Value::as_str).unwrap_or(".").to_string();
                    let is_remote = ctx.contains("://") || ctx.starts_with("git@");
                    m.insert(
                        "context".into(),
                        json!(if is_remote { ctx } else { canon::abs_path(base, &ctx) }),
                    );
                    if m.get("dockerfile").is_some_and(|d| d.as_str() == Some("")) {
                        m.shift_remove("dockerfile");
                    } else if !m.contains_key("dockerfile") && !m.contains_key("dockerfile_inline") {
                        m.insert("dockerfile".into(), json!("Dockerfile"));
                    }
                    for key in ["args", "labels"] {
                        if let Some(n) = v.get(key) {
                            let mut map = canon::mapping(n, '=', None).map_err(|e| files.invalid(e))?;
                            if key == "args" {
                                // An arg without a value takes the variable's,
                                // and is dropped when there is none.
                                map = map
                                    .into_iter()
                                    .filter_map(|(k, v)| match v {
                                        Value::Null => env.get(&k).map(|x| (k, json!(x))),
                                        v => Some((k, v)),
                                    })
                                    .collect();
                            }
                            m.insert(key.into(), Value::Object(map));
                        }
                    }
                    if let Some(sz) = v.get("shm_size") {
                        m.insert("shm_size".into(), canon::unit_bytes(sz).map_err(|e| files.invalid(e))?);
                    }
                    Value::Object(ordered(m, BUILD_ORDER))
                }
                _ => return Err(list_err("a string or a mapping")),
            },
            "command" | "entrypoint" => match &v.value {
                Y::Null => Value::Null,
                Y::Str(s) => match canon::shell_split(s) {
                    Some(words) => json!(words),
                    None => return Err(files.error_at(v, format!("services.{name}.{key}: unbalanced quotes"))),
                },
                Y::Seq(items) => json!(items
                    .iter()
                    .map(|i| i.scalar_text().unwrap_or_default())
                    .collect::<Vec<_>>()),
                _ => return Err(list_err("a string or a list")),
            },
            "environment" => Value::Object(canon::mapping(v, '=', Some(&lookup)).map_err(|e| files.invalid(e))?),
            "labels" | "annotations" | "sysctls" => {
                Value::Object(canon::mapping(v, '=', None).map_err(|e| files.invalid(e))?)
            }
            "env_file" => {
                // (path, required, raw format)
                let entries: Vec<(String, bool, bool)> = match &v.value {
                    Y::Str(s) => vec![(s.clone(), true, false)],
                    Y::Seq(items) => items
                        .iter()
                        .map(|i| match &i.value {
                            Y::Map(_) => (
                                i.get("path").and_then(Node::scalar_text).unwrap_or_default(),
                                !matches!(i.get("required").map(|r| &r.value), Some(Y::Bool(false))),
                                i.get("format").and_then(Node::scalar_text).as_deref() == Some("raw"),
                            ),
                            _ => (i.scalar_text().unwrap_or_default(), true, false),
                        })
                        .collect(),
                    _ => return Err(list_err("a string or a list")),
                };
                let mut vals = Map::new();
                for (p, required, raw) in entries {
                    let path = PathBuf::from(canon::abs_path(base, &p));
                    if !path.exists() {
                        if required {
                            return Err(files.error_at(
                                v,
                                format!(
                                    "service {name}: env file {} not found: stat {}: no such file or directory",
                                    path.display(),
                                    path.display()
                                ),
                            ));
                        }
                        continue;
                    }
                    let pairs = if raw {
                        read_raw_env(&path).map_err(|e| files.error_at(v, e))?
                    } else {
                        read_dotenv(&path, env).map_err(|e| files.error_at(v, e))?
                    };
                    for (k, val) in pairs {
                        vals.insert(k, json!(val));
                    }
                }
                env_file_values = Some(vals);
                continue;
            }
            "ports" => match &v.value {
                Y::Seq(items) => {
                    let mut all = Vec::new();
                    for i in items {
                        all.extend(canon::port(i).map_err(|e| files.invalid(e))?);
                    }
                    Value::Array(all)
                }
                _ => return Err(list_err("a array")),
            },
            "expose" => match &v.value {
                Y::Seq(items) => json!(items
                    .iter()
                    .map(|i| i.scalar_text().unwrap_or_default())
                    .collect::<Vec<_>>()),
                _ => return Err(list_err("a array")),
            },
            "volumes" => match &v.value {
                Y::Seq(items) => Value::Array(
                    items
                        .iter()
                        .map(|i| canon::volume(i, base))
                        .collect::<Result<_, _>>()
                        .map_err(|e| files.invalid(e))?,
                ),
                _ => return Err(list_err("a array")),
            },
            "depends_on" => {
                let mut m = Map::new();
                match &v.value {
                    Y::Seq(items) => {
                        for i in items {
                            m.insert(
                                i.scalar_text().unwrap_or_default(),
                                json!({"condition": "service_started", "required": true}),
                            );
                        }
                    }
                    Y::Map(entries) => {
                        for (dk, dv) in entries {
                            let mut d = to_json(dv).as_object().cloned().unwrap_or_default();
                            d.entry("condition").or_insert(json!("service_started"));
                            d.entry("required").or_insert(json!(true));
                            m.insert(
                                dk.scalar_text().unwrap_or_default(),
                                Value::Object(ordered(d, &["condition", "restart", "required"])),
                            );
                        }
                    }
                    _ => return Err(list_err("a array or a mapping")),
                }
                Value::Object(ordered(m, &[]))
            }
            "healthcheck" => {
                let mut m = to_json(v).as_object().cloned().unwrap_or_default();
                if let Some(t) = v.get("test") {
                    if let Y::Str(s) = &t.value {
                        m.insert("test".into(), json!(["CMD-SHELL", s]));
                    } else if let Y::Seq(items) = &t.value {
                        m.insert(
                            "test".into(),
                            json!(items
                                .iter()
                                .map(|i| i.scalar_text().unwrap_or_default())
                                .collect::<Vec<_>>()),
                        );
                    }
                }
                for d in ["timeout", "interval", "start_period", "start_interval"] {
                    if let Some(n) = v.get(d) {
                        m.insert(d.into(), json!(canon::go_duration(n).map_err(|e| files.invalid(e))?));
                    }
                }
                Value::Object(ordered(m, HEALTH_ORDER))
            }
            "deploy" => {
                let mut m = to_json(v).as_object().cloned().unwrap_or_default();
                let mut res = m
                    .get("resources")
                    .and_then(Value::as_object)
                    .cloned()
                    .unwrap_or_default();
                for part in ["limits", "reservations"] {
                    if let Some(Value::Object(mut l)) = res.get(part).cloned() {
                        if let Some(c) = l.get("cpus").cloned() {
                            let f = c.as_f64().or_else(|| c.as_str().and_then(|s| s.parse().ok()));
                            if let Some(f) = f {
                                l.insert("cpus".into(), json!(f));
                            }
                        }
                        if let Some(mem) = l.get("memory").cloned() {
                            let bytes = match &mem {
                                Value::String(s) => canon::ram_in_bytes(s),
                                Value::Number(n) => n.as_i64(),
                                _ => None,
                            };
                            if let Some(b) = bytes {
                                l.insert("memory".into(), json!(b.to_string()));
                            }
                        }
                        res.insert(
                            part.into(),
                            Value::Object(ordered(l, &["cpus", "memory", "pids", "devices", "generic_resources"])),
                        );
                    }
                }
                m.insert(
                    "resources".into(),
                    Value::Object(ordered(res, &["limits", "reservations"])),
                );
                m.entry("placement").or_insert(json!({}));
                Value::Object(ordered(m, DEPLOY_ORDER))
            }
            "networks" => {
                let mut m = Map::new();
                match &v.value {
                    Y::Seq(items) => {
                        for i in items {
                            m.insert(i.scalar_text().unwrap_or_default(), Value::Null);
                        }
                    }
                    Y::Map(entries) => {
                        for (nk, nv) in entries {
                            let val = match &nv.value {
                                Y::Null => Value::Null,
                                _ => Value::Object(ordered(
                                    to_json(nv).as_object().cloned().unwrap_or_default(),
                                    &[
                                        "aliases",
                                        "driver_opts",
                                        "ipv4_address",
                                        "ipv6_address",
                                        "link_local_ips",
                                        "mac_address",
                                        "priority",
                                        "gw_priority",
                                    ],
                                )),
                            };
                            m.insert(nk.scalar_text().unwrap_or_default(), val);
                        }
                    }
                    _ => return Err(list_err("a array or a mapping")),
                }
                Value::Object(ordered(m, &[]))
            }
            "tmpfs"
            | "dns"
            | "dns_search"
            | "dns_opt"
            | "cap_add"
            | "cap_drop"
            | "security_opt"
            | "external_links"
            | "links"
            | "volumes_from"
            | "profiles"
            | "group_add"
            | "device_cgroup_rules" => canon::strings_or_single(v).map_err(|e| files.invalid(e))?,
            "extra_hosts" => canon::extra_hosts(v).map_err(|e| files.invalid(e))?,
            "mem_limit" | "mem_reservation" | "memswap_limit" | "mem_swappiness" | "shm_size" => {
                canon::unit_bytes(v).map_err(|e| files.invalid(e))?
            }
            "stop_grace_period" => json!(canon::go_duration(v).map_err(|e| files.invalid(e))?),
            "secrets" | "configs" => match &v.value {
                Y::Seq(items) => Value::Array(
                    items
                        .iter()
                        .enumerate()
                        .map(|(n, i)| {
                            let mut m = match &i.value {
                                Y::Map(fields) => {
                                    for (k, _) in fields {
                                        let f = k.scalar_text().unwrap_or_default();
                                        if !["source", "target", "uid", "gid", "mode"].contains(&f.as_str())
                                            && !f.starts_with("x-")
                                        {
                                            return Err(files.error_at(
                                                k,
                                                format!(
                                                    "services.{name}.{key}.{n} additional properties '{f}' not allowed"
                                                ),
                                            ));
                                        }
                                    }
                                    to_json(i).as_object().cloned().unwrap_or_default()
                                }
                                Y::Str(s) => [("source".to_string(), json!(s))].into_iter().collect(),
                                other => {
                                    // compose-go's own (Go-formatted) words.
                                    let shown = match other {
                                        Y::Int(x) => format!("%!s(int={x})"),
                                        Y::Bool(x) => format!("%!s(bool={x})"),
                                        Y::Float(x) => format!("%!s(float64={x})"),
                                        _ => i.scalar_text().unwrap_or_else(|| format!("{}", to_json(i))),
                                    };
                                    return Err(files.error_at(
                                        i,
                                        format!("services.{name}.{key}.[{n}]: unsupported expose value {shown}"),
                                    ));
                                }
                            };
                            // Compose's default mount points.
                            if key == "secrets" && !m.contains_key("target") {
                                let src = m.get("source").and_then(Value::as_str).unwrap_or_default().to_string();
                                m.insert("target".into(), json!(format!("/run/secrets/{src}")));
                            }
                            if let Some(mode) = m.get("mode").and_then(canon::file_mode) {
                                m.insert("mode".into(), mode);
                            }
                            Ok(Value::Object(ordered(m, &["source", "target", "uid", "gid", "mode"])))
                        })
                        .collect::<Result<Vec<_>, LoadError>>()?,
                ),
                _ => return Err(list_err("a array")),
            },
            "develop" => {
                check_develop(name, v, files)?;
                let mut m = to_json(v).as_object().cloned().unwrap_or_default();
                if let Some(Value::Array(rules)) = m.get_mut("watch") {
                    for r in rules.iter_mut() {
                        if let Some(p) = r.get("path").and_then(Value::as_str).map(str::to_string) {
                            r["path"] = json!(canon::abs_path(base, &p));
                        }
                        // compose always prints an exec section; a command string is split.
                        let cmd = match r.get("exec").and_then(|e| e.get("command")).cloned() {
                            Some(Value::String(c)) => json!(canon::shell_split(&c).unwrap_or_default()),
                            Some(other) => other,
                            None => Value::Null,
                        };
                        if let Some(Value::String(inc)) = r.get("include").cloned() {
                            r["include"] = json!([inc]);
                        }
                        let mut exec = r.get("exec").and_then(Value::as_object).cloned().unwrap_or_default();
                        exec.insert("command".into(), cmd);
                        r["exec"] = Value::Object(ordered(
                            exec,
                            &["command", "user", "privileged", "working_dir", "environment"],
                        ));
                        if let Some(o) = r.as_object_mut() {
                            let sorted = ordered(
                                std::mem::take(o),
                                &["path", "action", "target", "exec", "ignore", "include", "initial_sync"],
                            );
                            *o = sorted;
                        }
                    }
                }
                Value::Object(m)
            }
            "extends" => match &v.value {
                Y::Str(s) => json!({"service": s}),
                _ => to_json(v),
            },
            _ => to_json(v),
        };
        out.insert(key, value);
    }
    if let Some(mut vals) = env_file_values.filter(|v| !v.is_empty() || out.contains_key("environment")) {
        // `environment` wins over env_file.
        if let Some(Value::Object(e)) = out.get("environment") {
            for (k, v) in e {
                vals.insert(k.clone(), v.clone());
            }
        }
        out.insert("environment".into(), Value::Object(ordered(vals, &[])));
    }
    Ok((out, tags))
}

/// Compose's merge of an override file's service into the base one.
fn merge_service(base: &mut Map<String, Value>, over: Map<String, Value>, tags: &[(String, String)]) {
    for (k, v) in over {
        if let Some((_, tag)) = tags.iter().find(|(t, _)| t == &k) {
            if tag == "!reset" {
                base.shift_remove(&k);
            } else {
                base.insert(k, v);
            }
            continue;
        }
        let merged = match (base.shift_remove(&k), v) {
            (Some(Value::Object(mut a)), Value::Object(b)) if !matches!(k.as_str(), "command" | "entrypoint") => {
                deep_merge(&mut a, b);
                Value::Object(a)
            }
            (Some(Value::Array(a)), Value::Array(b)) => match k.as_str() {
                "command" | "entrypoint" | "profiles" => Value::Array(b),
                "volumes" => merge_by(a, b, |x| x.get("target").cloned()),
                "secrets" | "configs" => merge_by(a, b, |x| x.get("source").cloned()),
                "ports" => merge_by(a, b, |x| Some(x.clone())),
                _ => {
                    let mut out = a;
                    for x in b {
                        if !out.contains(&x) {
                            out.push(x);
                        }
                    }
                    Value::Array(out)
                }
            },
            (_, v) => v,
        };
        base.insert(k, merged);
    }
    reorder_service(base);
}

fn merge_by(a: Vec<Value>, b: Vec<Value>, key: impl Fn(&Value) -> Option<Value>) -> Value {
    let mut out = a;
    for x in b {
        let k = key(&x);
        match out.iter().position(|y| k.is_some() && key(y) == k) {
            Some(i) => out[i] = x,
            None => out.push(x),
        }
    }
    Value::Array(out)
}

fn deep_merge(a: &mut Map<String, Value>, b: Map<String, Value>) {
    for (k, v) in b {
        match (a.get_mut(&k), v) {
            (Some(Value::Object(x)), Value::Object(y)) => deep_merge(x, y),
            (_, v) => {
                a.insert(k, v);
            }
        }
    }
}

/// One parsed file: its services (normalised) and top-level sections.
struct Parsed {
    root: Node,
    services: Vec<(String, Map<String, Value>, Tags, Node)>,
    dir: PathBuf,
}

fn parse_file(
    path: &Path,
    files: &mut Files,
    env: &HashMap<String, String>,
    no_interpolate: bool,
    unset: &mut Vec<String>,
    base: Option<&Path>,
) -> Result<Parsed, LoadError> {
    let text = std::fs::read_to_string(path).map_err(|e| LoadError::plain(format!("{}: {e}", path.display())))?;
    let id = files.list.len();
    files.list.push((path.display().to_string(), text.clone()));
    let mut root = yaml::parse(&text, id).map_err(|e| LoadError {
        message: format!("yaml: {}", e.message),
        at: Some(Box::new((path.display().to_string(), text.clone(), e.span))),
        help: None,
    })?;
    if matches!(root.value, Y::Null) {
        return Err(LoadError::plain("empty compose file"));
    }
    if !matches!(root.value, Y::Map(_)) {
        return Err(files.error_at(&root, "Top-level object must be a mapping"));
    }
    if !no_interpolate {
        interpolate_tree(&mut root, "", env, files, unset)?;
    }
    for (k, _) in root.as_map().into_iter().flatten() {
        let key = k.scalar_text().unwrap_or_default();
        if !key.starts_with("x-") && !TOP_KEYS.contains(&key.as_str()) {
            return Err(files.error_at(
                k,
                format!(
                    "validating {}:  additional properties '{key}' not allowed",
                    path.display()
                ),
            ));
        }
    }
    let dir = base
        .map(Path::to_path_buf)
        .unwrap_or_else(|| path.parent().map(Path::to_path_buf).unwrap_or_default());
    let mut services = Vec::new();
    if let Some(svcs) = root.get("services") {
        match &svcs.value {
            Y::Map(entries) => {
                for (k, v) in entries {
                    let name = k.scalar_text().unwrap_or_default();
                    let (m, tags) = service(&name, v, &dir, env, files).map_err(|mut e| {
                        // Schema errors carry the file, as compose words them.
                        let schema = e.message.contains("additional properties") || e.message.contains(" must be ");
                        if e.message.starts_with("services.") && schema {
                            e.message = format!("validating {}: {}", path.display(), e.message);
                        }
                        e
                    })?;
                    services.push((name, m, tags, v.clone()));
                }
            }
            Y::Null => {}
            _ => {
                return Err(files.error_at(
                    svcs,
                    format!("validating {}: services must be a mapping", path.display()),
                ))
            }
        }
    }
    Ok(Parsed { root, services, dir })
}

/// Resolves `extends` (same file or another) for every service of a file.
fn resolve_extends(
    parsed: &mut Parsed,
    files: &mut Files,
    env: &HashMap<String, String>,
    no_interpolate: bool,
    unset: &mut Vec<String>,
    depth: usize,
) -> Result<(), LoadError> {
    if depth > 16 {
        return Err(LoadError::plain("extends: too many levels (is there a cycle?)"));
    }
    let names: Vec<String> = parsed.services.iter().map(|s| s.0.clone()).collect();
    for name in names {
        let Some(idx) = parsed.services.iter().position(|s| s.0 == name) else {
            continue;
        };
        let Some(ext) = parsed.services[idx].1.get("extends").cloned() else {
            continue;
        };
        let base_name = ext["service"].as_str().unwrap_or_default().to_string();
        let node = parsed.services[idx].3.clone();
        let base = match ext.get("file").and_then(Value::as_str) {
            Some(f) => {
                let path = PathBuf::from(canon::abs_path(&parsed.dir, f));
                let mut other = parse_file(&path, files, env, no_interpolate, unset, None)?;
                resolve_extends(&mut other, files, env, no_interpolate, unset, depth + 1)?;
                other.services.into_iter().find(|s| s.0 == base_name).map(|s| s.1)
            }
            None => {
                if base_name == name {
                    return Err(files.error_at(
                        &node,
                        format!("services.{name}.extends: a service cannot extend itself"),
                    ));
                }
                let mut sub = Parsed {
                    root: parsed.root.clone(),
                    services: parsed.services.clone(),
                    dir: parsed.dir.clone(),
                };
                // Resolve the base's own extends first.
                let base_idx = sub.services.iter().position(|s| s.0 == base_name);
                if let Some(b) = base_idx {
                    if sub.services[b].1.contains_key("extends") {
                        sub.services.retain(|s| s.0 == base_name || s.0 != name);
                        resolve_extends(&mut sub, files, env, no_interpolate, unset, depth + 1)?;
                    }
                }
                sub.services.into_iter().find(|s| s.0 == base_name).map(|s| s.1)
            }
        };
        let Some(mut base) = base else {
            return Err(files.error_at(
                &node,
                format!("cannot extend service \"{name}\": service \"{base_name}\" not found"),
            ));
        };
        // `extends` itself is not inherited.
        base.shift_remove("extends");
        let (_, mut own, tags, _) = parsed.services[idx].clone();
        own.shift_remove("extends");
        merge_service(&mut base, own, &tags);
        parsed.services[idx].1 = base;
    }
    Ok(())
}

fn top_section(root: &Node, key: &str) -> Vec<(String, Node)> {
    match root.get(key).map(|n| &n.value) {
        Some(Y::Map(entries)) => entries
            .iter()
            .map(|(k, v)| (k.scalar_text().unwrap_or_default(), v.clone()))
            .collect(),
        _ => Vec::new(),
    }
}

/// What loading a list of files accumulates (the main project's `-f` files,
/// or one `include:` entry's).
#[derive(Default)]
struct Acc {
    merged: Vec<(String, Map<String, Value>)>,
    service_nodes: HashMap<String, Node>,
    /// Top-level sections: key, node, and the folder its relative paths
    /// (secret and config files, bind devices) are relative to.
    networks: Vec<(String, Node, PathBuf)>,
    volumes: Vec<(String, Node, PathBuf)>,
    secrets: Vec<(String, Node, PathBuf)>,
    configs: Vec<(String, Node, PathBuf)>,
    extensions: BTreeMap<String, Value>,
    file_name: Option<String>,
}

/// What every file of one load shares.
struct Cx<'a> {
    files: &'a mut Files,
    unset: &'a mut Vec<String>,
    warnings: &'a mut Vec<String>,
    no_interpolate: bool,
}

/// Loads `paths` in order, merging each onto the ones before (compose's
/// override rules). `dir` is the project directory relative paths and
/// `include:` paths are resolved against; `chain` is the include chain
/// that led here (to report include cycles as compose does).
fn load_files(
    cx: &mut Cx,
    paths: &[PathBuf],
    dir: &Path,
    env: &HashMap<String, String>,
    chain: &[PathBuf],
) -> Result<Acc, LoadError> {
    let mut acc = Acc::default();
    for p in paths {
        let mut parsed = parse_file(p, cx.files, env, cx.no_interpolate, cx.unset, Some(dir))?;
        resolve_extends(&mut parsed, cx.files, env, cx.no_interpolate, cx.unset, 0)?;
        if let Some(n) = parsed.root.get("name").and_then(Node::scalar_text) {
            acc.file_name = Some(n);
        }
        if parsed.root.get("version").is_some() {
            cx.warnings.push(format!("{}: the attribute `version` is obsolete, it will be ignored, please remove it to avoid potential confusion", p.display()));
        }
        // This file's own resources, then what its `include:` imports.
        let mut own = Acc::default();
        let mut tags_of: HashMap<String, Tags> = HashMap::new();
        for (name, m, tags, node) in std::mem::take(&mut parsed.services) {
            own.service_nodes.insert(name.clone(), node);
            tags_of.insert(name.clone(), tags);
            own.merged.push((name, m));
        }
        for (section, store) in [
            ("networks", &mut own.networks),
            ("volumes", &mut own.volumes),
            ("secrets", &mut own.secrets),
            ("configs", &mut own.configs),
        ] {
            for (k, v) in top_section(&parsed.root, section) {
                store.retain(|(x, _, _)| x != &k);
                store.push((k, v, dir.to_path_buf()));
            }
        }
        if let Some(inc) = parsed.root.get("include") {
            let mut chain = chain.to_vec();
            chain.push(p.clone());
            apply_include(cx, inc, &mut own, dir, env, &chain)?;
        }
        // Merge onto the files before (`!reset`/`!override` tags come from
        // this file's own services; imported ones have none).
        for (name, m) in own.merged {
            if let Some(node) = own.service_nodes.remove(&name) {
                acc.service_nodes.insert(name.clone(), node);
            }
            let tags = tags_of.get(&name).cloned().unwrap_or_default();
            match acc.merged.iter_mut().find(|(n, _)| n == &name) {
                Some((_, base)) => merge_service(base, m, &tags),
                None => acc.merged.push((name, m)),
            }
        }
        for (store, items) in [
            (&mut acc.networks, own.networks),
            (&mut acc.volumes, own.volumes),
            (&mut acc.secrets, own.secrets),
            (&mut acc.configs, own.configs),
        ] {
            for (k, v, d) in items {
                store.retain(|(x, _, _)| x != &k);
                store.push((k, v, d));
            }
        }
        for (k, v) in parsed.root.as_map().into_iter().flatten() {
            let key = k.scalar_text().unwrap_or_default();
            if key.starts_with("x-") {
                acc.extensions.insert(key, to_json(v));
            }
        }
    }
    Ok(acc)
}

/// `include:`: each entry is loaded as a project of its own (its own
/// project directory, `.env` and interpolation), and its services,
/// networks, volumes, secrets and configs are imported into the including
/// file. A resource both define differently is an error, as in compose.
fn apply_include(
    cx: &mut Cx,
    inc: &Node,
    own: &mut Acc,
    dir: &Path,
    env: &HashMap<String, String>,
    chain: &[PathBuf],
) -> Result<(), LoadError> {
    let entries = match &inc.value {
        Y::Seq(items) => items.clone(),
        Y::Null => return Ok(()),
        _ => {
            return Err(cx
                .files
                .error_at(inc, format!("`include` must be a list, got {}", scalar_or_kind(inc))))
        }
    };
    for entry in &entries {
        let (paths, project_directory, env_files) = include_entry(cx, entry)?;
        if paths.is_empty() {
            return Err(cx.files.error_at(entry, "include: `path` is required"));
        }
        let paths: Vec<PathBuf> = paths.iter().map(|p| PathBuf::from(canon::abs_path(dir, p))).collect();
        let sub_dir = match project_directory {
            None => paths[0].parent().map(Path::to_path_buf).unwrap_or_default(),
            Some(d) => PathBuf::from(canon::abs_path(dir, &d)),
        };
        if chain.contains(&paths[0]) {
            let mut seen: Vec<String> = chain.iter().map(|p| p.display().to_string()).collect();
            seen.push(paths[0].display().to_string());
            return Err(cx.files.error_at(
                entry,
                format!(
                    "include cycle detected:\n{}\n include {}",
                    seen[0],
                    seen[1..].join("\n include ")
                ),
            ));
        }
        for p in &paths {
            if !p.is_file() {
                return Err(cx
                    .files
                    .error_at(entry, format!("open {}: no such file or directory", p.display())));
            }
        }
        // The included project's variables: the including project's win
        // over its env files (`.env` in its directory unless given).
        let env_files: Vec<PathBuf> = if env_files.is_empty() {
            Some(sub_dir.join(".env")).filter(|f| f.is_file()).into_iter().collect()
        } else {
            let mut out = Vec::new();
            for f in env_files {
                let f = PathBuf::from(canon::abs_path(dir, &f));
                if !f.exists() {
                    return Err(cx
                        .files
                        .error_at(entry, format!("stat {}: no such file or directory", f.display())));
                }
                if f.is_dir() {
                    return Err(cx.files.error_at(entry, format!("{} is not a file", f.display())));
                }
                out.push(f);
            }
            out
        };
        let mut sub_env = env.clone();
        for f in &env_files {
            for (k, v) in read_dotenv(f, &sub_env).map_err(LoadError::plain)? {
                sub_env.entry(k).or_insert(v);
            }
        }
        let imported = load_files(cx, &paths, &sub_dir, &sub_env, chain)?;
        import(cx, own, imported, entry)?;
    }
    Ok(())
}

/// One `include:` entry: a path string, or `path` (string or list),
/// `project_directory` and `env_file` (string or list).
#[allow(clippy::type_complexity)]
fn include_entry(cx: &Cx, entry: &Node) -> Result<(Vec<String>, Option<String>, Vec<String>), LoadError> {
    let list = |n: &Node| -> Result<Vec<String>, LoadError> {
        match &n.value {
            Y::Seq(items) => items
                .iter()
                .map(|i| {
                    i.scalar_text()
                        .ok_or_else(|| cx.files.error_at(i, "include: expected a string"))
                })
                .collect(),
            _ => n
                .scalar_text()
                .map(|s| vec![s])
                .ok_or_else(|| cx.files.error_at(n, "include: expected a string or a list of strings")),
        }
    };
    match &entry.value {
        Y::Map(items) => {
            let (mut paths, mut pd, mut envs) = (Vec::new(), None, Vec::new());
            for (k, v) in items {
                match k.scalar_text().unwrap_or_default().as_str() {
                    "path" => paths = list(v)?,
                    "project_directory" => pd = v.scalar_text(),
                    "env_file" => envs = list(v)?,
                    other => {
                        return Err(cx
                            .files
                            .error_at(k, format!("include: additional properties '{other}' not allowed")))
                    }
                }
            }
            Ok((paths, pd, envs))
        }
        _ => Ok((list(entry)?, None, Vec::new())),
    }
}

/// Adds what an include loaded to the including file's resources.
fn import(cx: &mut Cx, own: &mut Acc, imported: Acc, entry: &Node) -> Result<(), LoadError> {
    for (name, m) in imported.merged {
        match own.merged.iter().find(|(n, _)| n == &name) {
            Some((_, existing)) if existing == &m => {}
            Some(_) => {
                return Err(cx
                    .files
                    .error_at(entry, format!("services.{name} conflicts with imported resource")))
            }
            None => {
                if let Some(node) = imported.service_nodes.get(&name) {
                    own.service_nodes.insert(name.clone(), node.clone());
                }
                own.merged.push((name, m));
            }
        }
    }
    for (section, store, items) in [
        ("networks", &mut own.networks, imported.networks),
        ("volumes", &mut own.volumes, imported.volumes),
        ("secrets", &mut own.secrets, imported.secrets),
        ("configs", &mut own.configs, imported.configs),
    ] {
        for (k, v, d) in items {
            match store.iter().find(|(x, _, _)| x == &k) {
                Some((_, existing, _)) if to_json(existing) == to_json(&v) => {}
                Some(_) => {
                    return Err(cx
                        .files
                        .error_at(entry, format!("{section}.{k} conflicts with imported resource")))
                }
                None => store.push((k, v, d)),
            }
        }
    }
    Ok(())
}

fn scalar_or_kind(n: &Node) -> String {
    n.scalar_text().unwrap_or_else(|| "a mapping".into())
}

/// Loads a project.
pub fn load(opts: &Options) -> Result<Project, LoadError> {
    let cwd = if opts.cwd.as_os_str().is_empty() {
        std::env::current_dir().unwrap_or_default()
    } else {
        opts.cwd.clone()
    };
    let mut env: HashMap<String, String> = std::env::vars().collect();
    env.extend(opts.env.clone());
    let search_dir = opts
        .project_directory
        .as_ref()
        .map(|d| cwd.join(d))
        .unwrap_or_else(|| cwd.clone());
    let mut paths: Vec<PathBuf> = opts.files.iter().map(|f| cwd.join(f)).collect();
    if paths.is_empty() {
        if let Some(cf) = env.get("COMPOSE_FILE").filter(|s| !s.is_empty()) {
            let sep = env.get("COMPOSE_PATH_SEPARATOR").cloned().unwrap_or_else(|| ":".into());
            paths = cf.split(sep.as_str()).map(|f| search_dir.join(f)).collect();
        }
    }
    if paths.is_empty() {
        paths = find_default_files(&search_dir)
            .ok_or_else(|| LoadError::plain("no configuration file provided: not found"))?;
    }
    for p in &paths {
        if !p.is_file() {
            return Err(LoadError::plain(format!(
                "open {}: no such file or directory",
                p.display()
            )));
        }
    }
    let working_dir = match &opts.project_directory {
        Some(d) => PathBuf::from(canon::clean(&cwd.join(d))),
        None => paths[0].parent().map(Path::to_path_buf).unwrap_or(cwd.clone()),
    };
    // .env (or --env-file): process variables win over the file's.
    let env_files: Vec<PathBuf> = if opts.env_files.is_empty() {
        vec![working_dir.join(".env")]
            .into_iter()
            .filter(|p| p.is_file())
            .collect()
    } else {
        opts.env_files.iter().map(|f| cwd.join(f)).collect()
    };
    let mut dotenv: HashMap<String, String> = HashMap::new();
    for f in &env_files {
        let both: HashMap<String, String> = env.clone().into_iter().chain(dotenv.clone()).collect();
        for (k, v) in read_dotenv(f, &both).map_err(LoadError::plain)? {
            dotenv.insert(k, v);
        }
    }
    for (k, v) in dotenv {
        env.entry(k).or_insert(v);
    }

    let mut files = Files { list: Vec::new() };
    let mut unset = Vec::new();
    let mut warnings = Vec::new();
    let mut cx = Cx {
        files: &mut files,
        unset: &mut unset,
        warnings: &mut warnings,
        no_interpolate: opts.no_interpolate,
    };
    let acc = load_files(&mut cx, &paths, &working_dir, &env, &[])?;
    let Acc {
        merged,
        service_nodes,
        mut networks,
        mut volumes,
        mut secrets,
        mut configs,
        extensions,
        file_name,
    } = acc;
    unset.sort();
    unset.dedup();
    for u in &unset {
        warnings.push(format!(
            "The \"{u}\" variable is not set. Defaulting to a blank string."
        ));
    }

    // Project name: -p, COMPOSE_PROJECT_NAME, name:, the folder.
    let name = if let Some(p) = &opts.project_name {
        let valid = p
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
            && p.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-');
        if !valid {
            return Err(LoadError::plain(format!("{p:?} is not a valid project name: it must contain only characters from [a-z0-9_-] and start with [a-z0-9]")));
        }
        p.clone()
    } else if let Some(n) = env.get("COMPOSE_PROJECT_NAME").filter(|s| !s.is_empty()) {
        normalize_name(n)
    } else if let Some(n) = file_name {
        normalize_name(&n)
    } else {
        normalize_name(
            &working_dir
                .file_name()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default(),
        )
    };
    if name.is_empty() {
        return Err(LoadError::plain("project name must not be empty"));
    }

    // Profiles: --profile, else COMPOSE_PROFILES.
    let mut active: BTreeSet<String> = opts.profiles.iter().cloned().collect();
    if active.is_empty() {
        if let Some(p) = env.get("COMPOSE_PROFILES") {
            active = p
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect();
        }
    }
    let mut all_profiles: BTreeSet<String> = BTreeSet::new();
    let mut services: BTreeMap<String, Map<String, Value>> = BTreeMap::new();
    let mut disabled_services = Vec::new();
    for (n, m) in merged {
        let profiles: Vec<String> = m
            .get("profiles")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(|x| x.as_str().map(str::to_string)).collect())
            .unwrap_or_default();
        all_profiles.extend(profiles.iter().cloned());
        if profiles.is_empty() || active.contains("*") || profiles.iter().any(|p| active.contains(p)) {
            services.insert(n, m);
        } else {
            disabled_services.push(n);
        }
    }

    // Defaults compose fills in, and references it checks.
    let mut uses_default = false;
    let declared_nets: BTreeSet<String> = networks.iter().map(|(k, _, _)| k.clone()).collect();
    let declared_vols: BTreeSet<String> = volumes.iter().map(|(k, _, _)| k.clone()).collect();
    let declared_secrets: BTreeSet<String> = secrets.iter().map(|(k, _, _)| k.clone()).collect();
    let declared_configs: BTreeSet<String> = configs.iter().map(|(k, _, _)| k.clone()).collect();
    for (sname, m) in services.iter_mut() {
        let node = service_nodes.get(sname).cloned();
        let at = |msg: String| match &node {
            Some(n) => files.error_at(n, msg),
            None => LoadError::plain(msg),
        };
        m.entry("command").or_insert(Value::Null);
        m.entry("entrypoint").or_insert(Value::Null);
        if !m.contains_key("image") && !m.contains_key("build") && !m.contains_key("provider") {
            return Err(at(format!(
                "service \"{sname}\" has neither an image nor a build context specified: invalid compose project"
            )));
        }
        if let (Some(p), Some(plats)) = (
            m.get("platform").and_then(Value::as_str),
            m.get("build")
                .and_then(|b| b.get("platforms"))
                .and_then(Value::as_array),
        ) {
            if !plats.iter().any(|x| x.as_str() == Some(p)) {
                return Err(at(format!(
                    "service.build.platforms MUST include service.platform {p:?}: invalid compose project"
                )));
            }
        }
        // What compose infers (compose-go's normalize, in its order): links
        // and shared namespaces make a dependency that restarts with its
        // target, volumes_from one that does not. The first entry wins.
        let mut implied: Vec<(String, bool)> = Vec::new();
        for l in m.get("links").and_then(Value::as_array).cloned().unwrap_or_default() {
            if let Some(x) = l.as_str() {
                let parts: Vec<&str> = x.split(':').collect();
                let target = if parts.len() == 2 { parts[0] } else { x };
                implied.push((target.to_string(), true));
            }
        }
        for key in ["network_mode", "ipc", "pid", "uts", "cgroup"] {
            if let Some(x) = m
                .get(key)
                .and_then(Value::as_str)
                .and_then(|v| v.strip_prefix("service:"))
            {
                implied.push((x.to_string(), true));
            }
        }
        for vf in m
            .get("volumes_from")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
        {
            if let Some(x) = vf.as_str().filter(|x| !x.starts_with("container:")) {
                implied.push((x.split(':').next().unwrap_or(x).to_string(), false));
            }
        }
        if !implied.is_empty() {
            let deps = m.entry("depends_on").or_insert_with(|| json!({}));
            if let Some(d) = deps.as_object_mut() {
                for (x, restart) in implied {
                    let dep = if restart {
                        json!({"condition": "service_started", "restart": true, "required": true})
                    } else {
                        json!({"condition": "service_started", "required": true})
                    };
                    d.entry(x).or_insert(dep);
                }
                let sorted = ordered(std::mem::take(d), &[]);
                *d = sorted;
            }
        }
        if !m.contains_key("network_mode") {
            let nets = m.entry("networks").or_insert_with(|| json!({"default": null}));
            for k in nets
                .as_object()
                .map(|o| o.keys().cloned().collect::<Vec<_>>())
                .unwrap_or_default()
            {
                if k == "default" {
                    uses_default = true;
                } else if !declared_nets.contains(&k) {
                    return Err(at(format!(
                        "service \"{sname}\" refers to undefined network {k}: invalid compose project"
                    )));
                }
            }
        }
        for v in m.get("volumes").and_then(Value::as_array).cloned().unwrap_or_default() {
            if v["type"] == "volume" {
                if let Some(src) = v["source"].as_str() {
                    if !declared_vols.contains(src) {
                        return Err(at(format!(
                            "service \"{sname}\" refers to undefined volume {src}: invalid compose project"
                        )));
                    }
                }
            }
        }
        for (kind, declared) in [("secret", &declared_secrets), ("config", &declared_configs)] {
            for r in m
                .get(&format!("{kind}s"))
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default()
            {
                let src = r["source"].as_str().unwrap_or_default();
                if !declared.contains(src) {
                    return Err(at(format!(
                        "service \"{sname}\" refers to undefined {kind} {src}: invalid compose project"
                    )));
                }
            }
        }
        // compose-go: `scale` wins into deploy.replicas; both, differing,
        // is an error.
        if let (Some(scale), Some(Value::Object(d))) = (m.get("scale").cloned(), m.get_mut("deploy")) {
            if d.get("replicas").is_some_and(|r| r != &scale) {
                return Err(at(format!(
                    "services.{sname}: can't set distinct values on 'scale' and 'deploy.replicas': invalid compose project"
                )));
            }
            d.insert("replicas".into(), scale);
        }
        // Go's omitempty: a false here is not printed.
        for k in [
            "privileged",
            "read_only",
            "stdin_open",
            "tty",
            "oom_kill_disable",
            "use_api_socket",
        ] {
            if m.get(k) == Some(&Value::Bool(false)) {
                m.shift_remove(k);
            }
        }
        reorder_service(m);
    }
    let names: BTreeSet<String> = services.keys().cloned().collect();
    for (sname, m) in &services {
        for (dep, cfg) in m
            .get("depends_on")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default()
        {
            if !names.contains(&dep) && cfg["required"].as_bool().unwrap_or(true) {
                let node = service_nodes
                    .get(sname)
                    .map(|n| n.get("depends_on").cloned().unwrap_or_else(|| n.clone()));
                return Err(match node {
                    Some(n) => files.error_at(
                        &n,
                        format!("service \"{sname}\" depends on undefined service \"{dep}\": invalid compose project"),
                    ),
                    None => LoadError::plain(format!(
                        "service \"{sname}\" depends on undefined service \"{dep}\": invalid compose project"
                    )),
                });
            }
        }
    }
    check_cycles(&services, &service_nodes, &files)?;

    // Like compose, keep only the networks, volumes, secrets and configs
    // some service uses.
    let mut used: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    for m in services.values() {
        for n in m
            .get("networks")
            .and_then(Value::as_object)
            .map(|o| o.keys().cloned().collect::<Vec<_>>())
            .unwrap_or_default()
        {
            used.entry("networks").or_default().insert(n);
        }
        for v in m.get("volumes").and_then(Value::as_array).cloned().unwrap_or_default() {
            if let Some(src) = v["source"].as_str().filter(|_| v["type"] == "volume") {
                used.entry("volumes").or_default().insert(src.to_string());
            }
        }
        for section in ["secrets", "configs"] {
            for x in m.get(section).and_then(Value::as_array).cloned().unwrap_or_default() {
                if let Some(src) = x["source"].as_str() {
                    used.entry(section).or_default().insert(src.to_string());
                }
            }
            if let Some(b) = m.get("build").and_then(|b| b.get("secrets")).and_then(Value::as_array) {
                for x in b {
                    if let Some(src) = x.as_str().or_else(|| x["source"].as_str()) {
                        used.entry("secrets").or_default().insert(src.to_string());
                    }
                }
            }
        }
    }
    let is_used = |section: &str, k: &str| used.get(section).is_some_and(|s| s.contains(k));
    networks.retain(|(k, _, _)| is_used("networks", k));
    volumes.retain(|(k, _, _)| is_used("volumes", k));
    secrets.retain(|(k, _, _)| is_used("secrets", k));
    configs.retain(|(k, _, _)| is_used("configs", k));

    let mut doc = Map::new();
    doc.insert("name".into(), json!(name));
    let mut nets = Map::new();
    if uses_default && !declared_nets.contains("default") {
        nets.insert("default".into(), json!({"name": format!("{name}_default"), "ipam": {}}));
    }
    for (k, v, _) in &networks {
        let mut m = top_level(&name, k, v, &files)?;
        m.entry("ipam").or_insert(json!({}));
        nets.insert(k.clone(), Value::Object(ordered(m, NETWORK_ORDER)));
    }
    if !nets.is_empty() {
        doc.insert("networks".into(), Value::Object(ordered(nets, &[])));
    }
    doc.insert(
        "services".into(),
        Value::Object(services.into_iter().map(|(k, v)| (k, Value::Object(v))).collect()),
    );
    let mut vols = Map::new();
    for (k, v, dir) in &volumes {
        let mut m = top_level(&name, k, v, &files)?;
        // A local volume bound to a host folder: the folder is a path.
        if let Some(Value::Object(opts)) = m.get_mut("driver_opts") {
            let bind = opts
                .get("o")
                .and_then(Value::as_str)
                .is_some_and(|o| o.split(',').any(|x| x == "bind"));
            if bind {
                if let Some(dev) = opts.get("device").and_then(Value::as_str).map(str::to_string) {
                    opts.insert("device".into(), json!(canon::abs_path(dir, &dev)));
                }
            }
        }
        vols.insert(k.clone(), Value::Object(ordered(m, VOLUME_ORDER)));
    }
    if !vols.is_empty() {
        doc.insert("volumes".into(), Value::Object(ordered(vols, &[])));
    }
    for (section, items) in [("secrets", &secrets), ("configs", &configs)] {
        let mut out = Map::new();
        for (k, v, dir) in items.iter() {
            let mut m = to_json(v).as_object().cloned().unwrap_or_default();
            let external = m.get("external").and_then(Value::as_bool) == Some(true);
            if !m.contains_key("name") {
                m.insert(
                    "name".into(),
                    json!(if external { k.clone() } else { format!("{name}_{k}") }),
                );
            }
            if let Some(f) = m.get("file").and_then(Value::as_str) {
                m.insert("file".into(), json!(canon::abs_path(dir, f)));
            }
            out.insert(
                k.clone(),
                Value::Object(ordered(
                    m,
                    &["name", "file", "environment", "content", "external", "labels", "driver"],
                )),
            );
        }
        if !out.is_empty() {
            doc.insert(section.into(), Value::Object(ordered(out, &[])));
        }
    }
    for (k, v) in extensions {
        doc.insert(k, v);
    }
    let doc = Value::Object(ordered(doc, &[]));
    let mut source_files: Vec<String> = files.list.iter().map(|(n, _)| n.clone()).collect();
    if opts.env_files.is_empty() {
        source_files.push(working_dir.join(".env").display().to_string());
    } else {
        source_files.extend(opts.env_files.iter().map(|f| cwd.join(f).display().to_string()));
    }
    source_files.sort();
    source_files.dedup();
    Ok(Project {
        name,
        working_dir,
        config_files: paths.iter().map(|p| p.display().to_string()).collect(),
        doc,
        all_profiles: all_profiles.into_iter().collect(),
        disabled_services,
        warnings,
        source_files,
        environment: env,
    })
}

/// A top-level network or volume in canonical form: its engine name
/// (`<project>_<key>`, or the key itself when external), `external`, and
/// labels as a map.
fn top_level(project: &str, key: &str, v: &Node, files: &Files) -> Result<Map<String, Value>, LoadError> {
    let mut m = match &v.value {
        Y::Map(_) => to_json(v).as_object().cloned().unwrap_or_default(),
        _ => Map::new(),
    };
    let external = m
        .get("external")
        .is_some_and(|e| e.as_bool() == Some(true) || e.is_object());
    if !m.contains_key("name") {
        m.insert(
            "name".into(),
            json!(if external {
                key.to_string()
            } else {
                format!("{project}_{key}")
            }),
        );
    }
    if external {
        m.insert("external".into(), json!(true));
    }
    if let Some(l) = v.get("labels") {
        m.insert(
            "labels".into(),
            Value::Object(canon::mapping(l, '=', None).map_err(|e| files.invalid(e))?),
        );
    }
    Ok(m)
}

fn check_cycles(
    services: &BTreeMap<String, Map<String, Value>>,
    nodes: &HashMap<String, Node>,
    files: &Files,
) -> Result<(), LoadError> {
    fn visit(
        s: &str,
        services: &BTreeMap<String, Map<String, Value>>,
        stack: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(i) = stack.iter().position(|x| x == s) {
            let mut cycle = stack[i..].to_vec();
            cycle.push(s.to_string());
            return Some(cycle);
        }
        if done.contains(s) {
            return None;
        }
        stack.push(s.to_string());
        let deps: Vec<String> = services
            .get(s)
            .and_then(|m| m.get("depends_on"))
            .and_then(Value::as_object)
            .map(|o| o.keys().cloned().collect())
            .unwrap_or_default();
        for d in deps {
            if services.contains_key(&d) {
                if let Some(c) = visit(&d, services, stack, done) {
                    return Some(c);
                }
            }
        }
        stack.pop();
        done.insert(s.to_string());
        None
    }
    let mut done = BTreeSet::new();
    for s in services.keys() {
        if let Some(cycle) = visit(s, services, &mut Vec::new(), &mut done) {
            let msg = format!("dependency cycle detected: {}", cycle.join(" -> "));
            return Err(match nodes.get(&cycle[0]).and_then(|n| n.get("depends_on")) {
                Some(n) => files.error_at(n, msg),
                None => LoadError::plain(msg),
            });
        }
    }
    Ok(())
}

/// The document as `config` prints it: every `$` escaped as `$$`, so the
/// output loads back to the same project.
pub fn escape_dollars(v: &Value) -> Value {
    match v {
        Value::String(s) => Value::String(s.replace('$', "$$")),
        Value::Array(a) => Value::Array(a.iter().map(escape_dollars).collect()),
        Value::Object(m) => Value::Object(m.iter().map(|(k, v)| (k.clone(), escape_dollars(v))).collect()),
        other => other.clone(),
    }
}

/// Normalises one attribute a script sets on a service, exactly as if it
/// had been written in the compose file.
pub fn normalize_attribute(
    service_name: &str,
    key: &str,
    value: Node,
    base: &Path,
) -> Result<Option<Value>, LoadError> {
    let env: HashMap<String, String> = std::env::vars().collect();
    let files = Files {
        list: vec![("(script)".into(), String::new())],
    };
    let map = Node::new(
        Y::Map(vec![(Node::new(Y::Str(key.to_string()), value.span), value)]),
        Default::default(),
    );
    let (m, _) = service(service_name, &map, base, &env, &files).map_err(|mut e| {
        e.at = None;
        e
    })?;
    Ok(m.get(key).cloned())
}
