//! One service normalised on its own, as compose-go's per-attribute
//! transforms do: short syntax to long forms, relative paths made
//! absolute, units parsed, `env_file`s read into `environment` and `label_file`s
//! into `labels`; a key
//! compose's schema does not know is an error pointing at it.

use std::collections::HashMap;
use std::path::Path;

use serde_json::{json, Map, Value};

use super::develop;
use super::env;
use super::hooks;
use super::schema::{is_service_key, BUILD_ORDER, DEPLOY_ORDER, HEALTH_ORDER};
use super::Files;
use crate::compose::canon::{self, ordered, to_json};
use crate::compose::error::LoadError;
use crate::compose::mode;
use crate::compose::yaml::{Node, Value as Y};

/// Attributes tagged `!reset` / `!override`: (key, tag).
pub(super) type Tags = Vec<(String, String)>;

/// One service, normalised: (canonical map, keys tagged !reset/!override).
pub(super) fn service(
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
    let svc = Svc { name, base, env, files };
    let mut out = Map::new();
    let mut tags = Vec::new();
    let mut env_file_values: Option<Map<String, Value>> = None;
    let mut label_file_values: Option<Map<String, Value>> = None;
    for (k, v) in entries {
        let key = k.scalar_text().unwrap_or_default();
        if key.starts_with("x-") {
            // Kept (compose prints them in YAML, not in JSON or the hash).
            out.insert(key, to_json(v));
            continue;
        }
        if !is_service_key(&key) {
            return Err(files.error_at(k, format!("services.{name} additional properties '{key}' not allowed")));
        }
        if let Some(t) = &v.tag {
            if t == "!reset" || t == "!override" {
                tags.push((key.clone(), t.clone()));
            }
        }
        if key == "env_file" {
            env_file_values = Some(env::service_env_files(name, v, base, env, files)?);
            continue;
        }
        if key == "label_file" {
            label_file_values = Some(env::service_label_files(name, v, base, files)?);
            continue;
        }
        let value = svc.attribute(&key, v)?;
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
    // compose-go's WithServicesLabelsResolved: the files' labels, then
    // `labels` winning; the key itself is dropped as env_file is.
    if let Some(mut vals) = label_file_values.filter(|v| !v.is_empty()) {
        if let Some(Value::Object(l)) = out.get("labels") {
            for (k, v) in l {
                vals.insert(k.clone(), v.clone());
            }
        }
        out.insert("labels".into(), Value::Object(ordered(vals, &[])));
    }
    Ok((out, tags))
}

/// What normalising one service's attributes needs: its name (for
/// messages), the folder relative paths are taken from, the variables.
struct Svc<'a> {
    name: &'a str,
    base: &'a Path,
    env: &'a HashMap<String, String>,
    files: &'a Files,
}

impl Svc<'_> {
    /// A wrong shape: "services.NAME.KEY must be WHAT" at the node.
    fn must_be(&self, key: &str, v: &Node, what: &str) -> LoadError {
        self.files
            .error_at(v, format!("services.{}.{key} must be {what}", self.name))
    }

    /// Scalars of a list, as strings.
    fn strings(items: &[Node]) -> Value {
        json!(items
            .iter()
            .map(|i| i.scalar_text().unwrap_or_default())
            .collect::<Vec<_>>())
    }

    /// One attribute (not `x-`, not `env_file`) in canonical form.
    fn attribute(&self, key: &str, v: &Node) -> Result<Value, LoadError> {
        let invalid = |e| self.files.invalid(e);
        let lookup = |k: &str| self.env.get(k).cloned();
        Ok(match key {
            "build" => self.build(v)?,
            "command" | "entrypoint" => match &v.value {
                Y::Null => Value::Null,
                Y::Str(s) => match canon::shell_split(s) {
                    Some(words) => json!(words),
                    None => {
                        return Err(self
                            .files
                            .error_at(v, format!("services.{}.{key}: unbalanced quotes", self.name)))
                    }
                },
                Y::Seq(items) => Self::strings(items),
                _ => return Err(self.must_be(key, v, "a string or a list")),
            },
            "environment" => Value::Object(canon::mapping(v, '=', Some(&lookup)).map_err(invalid)?),
            "labels" | "annotations" | "sysctls" => Value::Object(canon::mapping(v, '=', None).map_err(invalid)?),
            "ports" => match &v.value {
                Y::Seq(items) => {
                    let mut all = Vec::new();
                    for i in items {
                        all.extend(canon::port(i).map_err(invalid)?);
                    }
                    Value::Array(all)
                }
                _ => return Err(self.must_be(key, v, "a array")),
            },
            "expose" => match &v.value {
                Y::Seq(items) => Self::strings(items),
                _ => return Err(self.must_be(key, v, "a array")),
            },
            "volumes" => match &v.value {
                Y::Seq(items) => Value::Array(
                    items
                        .iter()
                        .map(|i| canon::volume(i, self.base))
                        .collect::<Result<_, _>>()
                        .map_err(invalid)?,
                ),
                _ => return Err(self.must_be(key, v, "a array")),
            },
            "depends_on" => self.depends_on(v)?,
            "healthcheck" => self.healthcheck(v)?,
            "deploy" => deploy(v),
            "networks" => self.networks(v)?,
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
            | "device_cgroup_rules" => canon::strings_or_single(v).map_err(invalid)?,
            "extra_hosts" => canon::extra_hosts(v).map_err(invalid)?,
            "devices" => devices(v),
            "blkio_config" => blkio(v).map_err(invalid)?,
            "mem_limit" | "mem_reservation" | "memswap_limit" | "mem_swappiness" | "shm_size" => {
                canon::unit_bytes(v).map_err(invalid)?
            }
            "stop_grace_period" => json!(canon::go_duration(v).map_err(invalid)?),
            "secrets" | "configs" => self.mounts(key, v)?,
            "develop" => develop::develop(self.name, v, self.base, self.files)?,
            "post_start" | "pre_stop" => hooks::hooks(self.name, key, v, self.files)?,
            "extends" => match &v.value {
                Y::Str(s) => json!({"service": s}),
                _ => to_json(v),
            },
            _ => to_json(v),
        })
    }

    /// `build:`: a context string, or the long form with the context made
    /// absolute (unless remote), the default Dockerfile, args and labels.
    fn build(&self, v: &Node) -> Result<Value, LoadError> {
        let mut m = match &v.value {
            Y::Str(ctx) => {
                let mut m = Map::new();
                m.insert("context".into(), json!(mode::shown_path(self.base, ctx)));
                if mode::normalizing() {
                    m.insert("dockerfile".into(), json!("Dockerfile"));
                }
                return Ok(Value::Object(m));
            }
            Y::Map(_) => to_json(v).as_object().cloned().unwrap_or_default(),
            _ => return Err(self.must_be("build", v, "a string or a mapping")),
        };
        let ctx = m.get("context").and_then(Value::as_str).unwrap_or(".").to_string();
        let is_remote = is_remote_context(&ctx);
        m.insert(
            "context".into(),
            json!(if is_remote {
                ctx
            } else {
                mode::shown_path(self.base, &ctx)
            }),
        );
        // compose-go's absContextPath: local additional contexts are paths.
        if let Some(Value::Object(ac)) = m.get_mut("additional_contexts") {
            for v in ac.values_mut() {
                if let Some(c) = v.as_str().filter(|c| !is_remote_context(c)) {
                    *v = json!(mode::shown_path(self.base, c));
                }
            }
        }
        if m.get("dockerfile").is_some_and(|d| d.as_str() == Some("")) {
            m.shift_remove("dockerfile");
        } else if !m.contains_key("dockerfile") && !m.contains_key("dockerfile_inline") && mode::normalizing() {
            m.insert("dockerfile".into(), json!("Dockerfile"));
        }
        for key in ["args", "labels"] {
            if let Some(n) = v.get(key) {
                let mut map = canon::mapping(n, '=', None).map_err(|e| self.files.invalid(e))?;
                if key == "args" && mode::normalizing() {
                    // An arg without a value takes the variable's,
                    // and is dropped when there is none.
                    map = map
                        .into_iter()
                        .filter_map(|(k, v)| match v {
                            Value::Null => self.env.get(&k).map(|x| (k, json!(x))),
                            v => Some((k, v)),
                        })
                        .collect();
                }
                // Go's omitempty: args every one of which was dropped
                // are not printed (nor hashed).
                if key == "args" && map.is_empty() {
                    m.shift_remove(key);
                } else {
                    m.insert(key.into(), Value::Object(map));
                }
            }
        }
        if let Some(sz) = v.get("shm_size") {
            m.insert(
                "shm_size".into(),
                canon::unit_bytes(sz).map_err(|e| self.files.invalid(e))?,
            );
        }
        Ok(Value::Object(ordered(m, BUILD_ORDER)))
    }

    /// `depends_on:` as a map of `{condition, restart, required}`.
    fn depends_on(&self, v: &Node) -> Result<Value, LoadError> {
        let listed = json!({"condition": "service_started", "required": true});
        self.names_or_map("depends_on", v, listed, |dv| {
            let mut d = to_json(dv).as_object().cloned().unwrap_or_default();
            d.entry("condition").or_insert(json!("service_started"));
            d.entry("required").or_insert(json!(true));
            Value::Object(ordered(d, &["condition", "restart", "required"]))
        })
    }

    /// A list of names or a map of name → settings (`key` in errors), as a
    /// sorted map: a listed name gets `listed`, a mapped one `entry` of its
    /// settings.
    fn names_or_map(
        &self,
        key: &str,
        v: &Node,
        listed: Value,
        entry: impl Fn(&Node) -> Value,
    ) -> Result<Value, LoadError> {
        let mut m = Map::new();
        match &v.value {
            Y::Seq(items) => {
                for i in items {
                    m.insert(i.scalar_text().unwrap_or_default(), listed.clone());
                }
            }
            Y::Map(entries) => {
                for (k, settings) in entries {
                    m.insert(k.scalar_text().unwrap_or_default(), entry(settings));
                }
            }
            _ => return Err(self.must_be(key, v, "a array or a mapping")),
        }
        Ok(Value::Object(ordered(m, &[])))
    }

    /// `healthcheck:`: a string test runs in a shell; durations in Go's form.
    fn healthcheck(&self, v: &Node) -> Result<Value, LoadError> {
        let mut m = to_json(v).as_object().cloned().unwrap_or_default();
        if let Some(t) = v.get("test") {
            if let Y::Str(s) = &t.value {
                m.insert("test".into(), json!(["CMD-SHELL", s]));
            } else if let Y::Seq(items) = &t.value {
                m.insert("test".into(), Self::strings(items));
            }
        }
        for d in ["timeout", "interval", "start_period", "start_interval"] {
            if let Some(n) = v.get(d) {
                m.insert(
                    d.into(),
                    json!(canon::go_duration(n).map_err(|e| self.files.invalid(e))?),
                );
            }
        }
        Ok(Value::Object(ordered(m, HEALTH_ORDER)))
    }

    /// `networks:`: a list or a map, as a map of per-network settings.
    fn networks(&self, v: &Node) -> Result<Value, LoadError> {
        self.names_or_map("networks", v, Value::Null, |nv| match &nv.value {
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
        })
    }

    /// `secrets:` / `configs:` (`key`): each a name or `{source, target,
    /// uid, gid, mode}`; secrets mount at `/run/secrets/<source>`.
    fn mounts(&self, key: &str, v: &Node) -> Result<Value, LoadError> {
        let Y::Seq(items) = &v.value else {
            return Err(self.must_be(key, v, "a array"));
        };
        let mut out = Vec::new();
        for (n, i) in items.iter().enumerate() {
            let mut m = self.mount(key, n, i)?;
            // Compose's default mount points.
            if key == "secrets" && !m.contains_key("target") {
                let src = m.get("source").and_then(Value::as_str).unwrap_or_default().to_string();
                m.insert("target".into(), json!(format!("/run/secrets/{src}")));
            }
            if let Some(mode) = m.get("mode").and_then(canon::file_mode) {
                m.insert("mode".into(), mode);
            }
            out.push(Value::Object(ordered(m, &["source", "target", "uid", "gid", "mode"])));
        }
        Ok(Value::Array(out))
    }

    /// Entry `n` of `secrets:` / `configs:` as a map, its keys checked.
    fn mount(&self, key: &str, n: usize, i: &Node) -> Result<Map<String, Value>, LoadError> {
        let name = self.name;
        match &i.value {
            Y::Map(fields) => {
                for (k, _) in fields {
                    let f = k.scalar_text().unwrap_or_default();
                    if !["source", "target", "uid", "gid", "mode"].contains(&f.as_str()) && !f.starts_with("x-") {
                        return Err(self.files.error_at(
                            k,
                            format!("services.{name}.{key}.{n} additional properties '{f}' not allowed"),
                        ));
                    }
                }
                Ok(to_json(i).as_object().cloned().unwrap_or_default())
            }
            Y::Str(s) => Ok([("source".to_string(), json!(s))].into_iter().collect()),
            other => {
                // compose-go's own (Go-formatted) words.
                let shown = match other {
                    Y::Int(x) => format!("%!s(int={x})"),
                    Y::Bool(x) => format!("%!s(bool={x})"),
                    Y::Float(x) => format!("%!s(float64={x})"),
                    _ => i.scalar_text().unwrap_or_else(|| format!("{}", to_json(i))),
                };
                Err(self.files.error_at(
                    i,
                    format!("services.{name}.{key}.[{n}]: unsupported expose value {shown}"),
                ))
            }
        }
    }
}

/// `devices:` in the long form, as compose-go's `ParseDeviceMapping` reads
/// the short one: `SRC[:DST[:PERMISSIONS]]`, DST defaulting to SRC and
/// PERMISSIONS to `rwm`.
fn devices(v: &Node) -> Value {
    let Y::Seq(items) = &v.value else { return to_json(v) };
    let out = items.iter().map(|i| match &i.value {
        Y::Str(s) => {
            let parts: Vec<&str> = s.split(':').collect();
            let src = parts[0];
            let dst = parts.get(1).copied().filter(|d| !d.is_empty()).unwrap_or(src);
            let perms = parts.get(2).copied().unwrap_or("rwm");
            json!({"source": src, "target": dst, "permissions": perms})
        }
        _ => Value::Object(ordered(
            to_json(i).as_object().cloned().unwrap_or_default(),
            &["source", "target", "permissions"],
        )),
    });
    Value::Array(out.collect())
}

/// `blkio_config:` as compose-go's JSON (and so its config hash) has it:
/// the device lists' entries carry no json tags, so their keys are the Go
/// field names (`Path`, `Rate`, `Weight`), and a rate is UnitBytes (bytes
/// as a string, `12mb` = "12582912").
const BLKIO_ORDER: &[&str] = &[
    "weight",
    "weight_device",
    "device_read_bps",
    "device_read_iops",
    "device_write_bps",
    "device_write_iops",
];

fn blkio(v: &Node) -> canon::Result<Value> {
    let mut m = to_json(v).as_object().cloned().unwrap_or_default();
    for key in [
        "device_read_bps",
        "device_read_iops",
        "device_write_bps",
        "device_write_iops",
        "weight_device",
    ] {
        let Some(Y::Seq(items)) = v.get(key).map(|n| &n.value) else {
            continue;
        };
        let mut list = Vec::new();
        for i in items {
            let mut e = Map::new();
            if let Some(p) = i.get("path") {
                e.insert("Path".into(), to_json(p));
            }
            if let Some(r) = i.get("rate") {
                e.insert("Rate".into(), canon::unit_bytes(r)?);
            }
            if let Some(w) = i.get("weight") {
                e.insert("Weight".into(), to_json(w));
            }
            list.push(Value::Object(e));
        }
        m.insert(key.into(), Value::Array(list));
    }
    Ok(Value::Object(ordered(m, BLKIO_ORDER)))
}

/// `deploy:`: resources' `cpus` as a number and `memory` in bytes (a
/// string), an empty `placement` as compose prints it.
fn deploy(v: &Node) -> Value {
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

/// A build context that is no local path (compose-go's absContextPath:
/// any `scheme://`, `service:NAME`, a git or HTTP reference).
fn is_remote_context(c: &str) -> bool {
    c.contains("://") || c.starts_with("service:") || ["git@", "github.com/"].iter().any(|p| c.starts_with(p))
}
