//! Which engine a run talks to, chosen exactly as the docker CLI chooses
//! it, so a user who switched to a production context with `docker context
//! use prod` deploys there with orch too, and never to the local socket by
//! surprise.
//!
//! The docker CLI's order (cli/command/cli.go, `resolveContextName`):
//! `--context`, then `-H/--host` (the `default` context), then
//! `DOCKER_HOST` (also `default`), then `DOCKER_CONTEXT`, then
//! `currentContext` in `$DOCKER_CONFIG/config.json`, then `default`. Giving
//! both `--context` and `--host` is an error. A named context is a folder
//! under `$DOCKER_CONFIG/contexts/meta/<sha256 of its name>/meta.json`; its
//! TLS files sit under `contexts/tls/<same>/docker/`.
//!
//! This module reads and writes those files only; connecting is
//! `docker.rs`'s job.

use std::path::{Path, PathBuf};

use serde_json::Value;
use sha2::{Digest, Sha256};

/// The context the docker CLI calls `default`: `DOCKER_HOST` or `-H`, or
/// the local socket.
pub const DEFAULT: &str = "default";

/// Why no engine could be chosen.
#[derive(Debug, thiserror::Error)]
pub enum ContextError {
    #[error("conflicting options: cannot specify both --host and --context")]
    Conflict,
    #[error("context \"{name}\": context not found: {path} does not exist (contexts: {known})")]
    NotFound { name: String, path: String, known: String },
    #[error("context \"{name}\": {path}: {why}")]
    Unreadable { name: String, path: String, why: String },
    #[error("{0}")]
    Config(String),
}

/// The engine a context names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Choice {
    /// The context's name (`default` for `-H`, `DOCKER_HOST` or nothing).
    pub context: String,
    /// `unix:///…`, `tcp://…`, `ssh://…`; `None`: the local socket.
    pub host: Option<String>,
    /// The context's TLS files (`ca.pem`, `cert.pem`, `key.pem`), when it
    /// has TLS material.
    pub tls: Option<crate::docker::Tls>,
    pub skip_tls_verify: bool,
}

impl Choice {
    /// The engine this choice names, not yet contacted.
    pub fn endpoint(&self) -> std::sync::Arc<crate::docker::Endpoint> {
        crate::docker::Endpoint::with_tls(self.host.clone(), self.tls.clone())
    }
}

impl Default for Choice {
    /// The `default` context without `-H` or `DOCKER_HOST`: the local socket.
    fn default() -> Self {
        Choice {
            context: DEFAULT.into(),
            host: None,
            tls: None,
            skip_tls_verify: false,
        }
    }
}

/// What `orch context ls` shows of a context.
#[derive(Clone, Debug)]
pub struct Context {
    pub name: String,
    pub description: String,
    pub host: String,
}

/// `$DOCKER_CONFIG`, or `~/.docker`.
pub fn config_dir() -> PathBuf {
    match std::env::var_os("DOCKER_CONFIG").filter(|v| !v.is_empty()) {
        Some(d) => PathBuf::from(d),
        None => PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".docker"),
    }
}

fn key(name: &str) -> String {
    format!("{:x}", Sha256::digest(name.as_bytes()))
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

fn config_file(dir: &Path) -> Result<serde_json::Map<String, Value>, ContextError> {
    let path = dir.join("config.json");
    match std::fs::read_to_string(&path) {
        Ok(text) if text.trim().is_empty() => Ok(Default::default()),
        Ok(text) => match serde_json::from_str::<Value>(&text) {
            Ok(Value::Object(m)) => Ok(m),
            Ok(_) => Err(ContextError::Config(format!("{}: not a JSON object", path.display()))),
            Err(e) => Err(ContextError::Config(format!("{}: {e}", path.display()))),
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Default::default()),
        Err(e) => Err(ContextError::Config(format!("{}: {e}", path.display()))),
    }
}

/// The name of the context in effect, given the global `--host` values and
/// `--context`.
pub fn current_name(hosts: &[String], context: Option<&str>) -> Result<String, ContextError> {
    if context.is_some_and(|c| !c.is_empty()) && !hosts.is_empty() {
        return Err(ContextError::Conflict);
    }
    if let Some(c) = context.filter(|c| !c.is_empty()) {
        return Ok(c.to_string());
    }
    if !hosts.is_empty() || env("DOCKER_HOST").is_some() {
        return Ok(DEFAULT.into());
    }
    if let Some(c) = env("DOCKER_CONTEXT") {
        return Ok(c);
    }
    // A config file the docker CLI cannot read is a warning there, and the
    // default context: the same here.
    static WARNED: std::sync::Once = std::sync::Once::new();
    let cfg = config_file(&config_dir()).unwrap_or_else(|e| {
        WARNED.call_once(|| eprintln!("WARNING: Error parsing config file: {e}"));
        Default::default()
    });
    Ok(cfg
        .get("currentContext")
        .and_then(Value::as_str)
        .filter(|c| !c.is_empty())
        .unwrap_or(DEFAULT)
        .to_string())
}

/// The engine to talk to, given the global `--host` values and `--context`.
pub fn choose(hosts: &[String], context: Option<&str>) -> Result<Choice, ContextError> {
    let name = current_name(hosts, context)?;
    if name == DEFAULT {
        return Ok(Choice {
            context: name,
            host: hosts.first().cloned().or_else(|| env("DOCKER_HOST")),
            tls: None,
            skip_tls_verify: false,
        });
    }
    named(&config_dir(), &name)
}

/// The engine a context name or an engine URL (`unix://…`, `tcp://…`)
/// names, for scripts that talk to several engines.
pub fn lookup(name_or_url: &str) -> Result<Choice, ContextError> {
    if name_or_url.contains("://") {
        return Ok(Choice {
            context: DEFAULT.into(),
            host: Some(name_or_url.to_string()),
            ..Choice::default()
        });
    }
    if name_or_url == DEFAULT {
        return Ok(Choice {
            host: env("DOCKER_HOST"),
            ..Choice::default()
        });
    }
    named(&config_dir(), name_or_url)
}

fn meta_path(dir: &Path, name: &str) -> PathBuf {
    dir.join("contexts").join("meta").join(key(name)).join("meta.json")
}

fn read_meta(path: &Path, name: &str) -> Result<Value, ContextError> {
    let unreadable = |why: String| ContextError::Unreadable {
        name: name.to_string(),
        path: path.display().to_string(),
        why,
    };
    let text = std::fs::read_to_string(path).map_err(|e| unreadable(e.to_string()))?;
    serde_json::from_str(&text).map_err(|e| unreadable(e.to_string()))
}

fn named(dir: &Path, name: &str) -> Result<Choice, ContextError> {
    let path = meta_path(dir, name);
    if !path.exists() {
        let mut known: Vec<String> = list(dir).into_iter().map(|c| c.name).collect();
        known.sort();
        return Err(ContextError::NotFound {
            name: name.to_string(),
            path: path.display().to_string(),
            known: known.join(", "),
        });
    }
    let meta = read_meta(&path, name)?;
    let ep = &meta["Endpoints"]["docker"];
    let tls = dir.join("contexts").join("tls").join(key(name)).join("docker");
    Ok(Choice {
        context: name.to_string(),
        host: ep["Host"].as_str().filter(|h| !h.is_empty()).map(str::to_string),
        tls: tls.is_dir().then(|| crate::docker::Tls::in_dir(&tls)),
        skip_tls_verify: ep["SkipTLSVerify"].as_bool().unwrap_or(false),
    })
}

/// Every context: `default` (what `DOCKER_HOST` or the local socket
/// names) first, then the named ones by name, as `docker context ls`.
pub fn list(dir: &Path) -> Vec<Context> {
    let mut out = vec![Context {
        name: DEFAULT.into(),
        description: "Current DOCKER_HOST based configuration".into(),
        host: env("DOCKER_HOST").unwrap_or_else(|| crate::docker::DEFAULT_HOST.to_string()),
    }];
    let mut named = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir.join("contexts").join("meta")) {
        for e in entries.flatten() {
            let Ok(meta) = read_meta(&e.path().join("meta.json"), "") else {
                continue;
            };
            named.push(Context {
                name: meta["Name"].as_str().unwrap_or_default().to_string(),
                description: meta["Metadata"]["Description"].as_str().unwrap_or_default().to_string(),
                host: meta["Endpoints"]["docker"]["Host"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
            });
        }
    }
    named.sort_by(|a, b| a.name.cmp(&b.name));
    out.extend(named);
    out
}

/// The raw `meta.json` of a named context (`docker context inspect`'s
/// source), or `None` for `default`.
pub fn meta(dir: &Path, name: &str) -> Result<Option<Value>, ContextError> {
    if name == DEFAULT {
        return Ok(None);
    }
    named(dir, name)?;
    read_meta(&meta_path(dir, name), name).map(Some)
}

/// Where a named context's files are: (meta folder, TLS folder).
pub fn storage(dir: &Path, name: &str) -> (String, String) {
    let k = key(name);
    let c = dir.join("contexts");
    (
        c.join("meta").join(&k).display().to_string(),
        c.join("tls").join(k).display().to_string(),
    )
}

/// The `default` context's metadata, as `docker context inspect default`.
pub fn default_meta() -> Value {
    let host = env("DOCKER_HOST").unwrap_or_else(|| crate::docker::DEFAULT_HOST.to_string());
    serde_json::json!({"Name": DEFAULT, "Metadata": {}, "Endpoints": {"docker": {"Host": host, "SkipTLSVerify": false}}})
}

/// The TLS files a context holds, by endpoint (`docker` → `ca.pem` …).
pub fn tls_material(dir: &Path, name: &str) -> std::collections::BTreeMap<String, Vec<String>> {
    let mut out = std::collections::BTreeMap::new();
    let Ok(endpoints) = std::fs::read_dir(dir.join("contexts").join("tls").join(key(name))) else {
        return out;
    };
    for ep in endpoints.flatten() {
        let mut files: Vec<String> = std::fs::read_dir(ep.path())
            .map(|r| {
                r.flatten()
                    .map(|f| f.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        files.sort();
        out.insert(ep.file_name().to_string_lossy().into_owned(), files);
    }
    out
}

/// Makes `name` the current context (`currentContext` in config.json,
/// every other key kept; `default` removes the key, as the docker CLI does).
pub fn set_current(dir: &Path, name: &str) -> Result<(), ContextError> {
    if name != DEFAULT {
        named(dir, name)?;
    }
    let mut cfg = config_file(dir)?;
    if name == DEFAULT {
        cfg.remove("currentContext");
    } else {
        cfg.insert("currentContext".into(), Value::String(name.into()));
    }
    let path = dir.join("config.json");
    // Tab-indented, as the docker CLI writes it.
    let mut text = Vec::new();
    let fmt = serde_json::ser::PrettyFormatter::with_indent(b"\t");
    let mut ser = serde_json::Serializer::with_formatter(&mut text, fmt);
    serde::Serialize::serialize(&Value::Object(cfg), &mut ser)
        .map_err(|e| ContextError::Config(format!("{}: {e}", path.display())))?;
    std::fs::create_dir_all(dir)
        .and_then(|_| std::fs::write(&path, text))
        .map_err(|e| ContextError::Config(format!("{}: {e}", path.display())))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write_context(dir: &Path, name: &str, host: &str) {
        let p = meta_path(dir, name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        let meta = serde_json::json!({"Name": name, "Metadata": {}, "Endpoints": {"docker": {"Host": host, "SkipTLSVerify": false}}});
        std::fs::write(p, meta.to_string()).unwrap();
    }

    #[test]
    fn named_contexts_and_the_current_one() {
        let d = tempfile::tempdir().unwrap();
        write_context(d.path(), "n2", "tcp://10.0.0.2:2375");
        let c = named(d.path(), "n2").unwrap();
        assert_eq!(c.host.as_deref(), Some("tcp://10.0.0.2:2375"));
        assert_eq!(c.tls, None);
        let names: Vec<String> = list(d.path()).into_iter().map(|c| c.name).collect();
        assert_eq!(names, ["default", "n2"]);
        let err = named(d.path(), "prod").unwrap_err().to_string();
        assert!(
            err.contains("context \"prod\": context not found") && err.ends_with("(contexts: default, n2)"),
            "{err}"
        );
        std::fs::write(d.path().join("config.json"), "{\"auths\": {}}").unwrap();
        set_current(d.path(), "n2").unwrap();
        let cfg = config_file(d.path()).unwrap();
        assert_eq!(cfg["currentContext"], "n2");
        assert!(cfg.contains_key("auths"), "other keys kept");
        set_current(d.path(), DEFAULT).unwrap();
        assert!(!config_file(d.path()).unwrap().contains_key("currentContext"));
        assert!(set_current(d.path(), "prod").is_err());
    }
}
