//! compose-go's tree passes for the model (`model`): `transform.Canonical`
//! (short syntax → long, per file), then on the merged tree
//! `SetDefaultValues`, `ResolveRelativePaths`, `ResolveEnvironment`, and
//! `Normalize`. Each works on generic YAML values, as compose-go's do, so
//! what a pass does not touch stays as written.

use std::collections::HashMap;
use std::path::Path;

use serde_json::{json, Map, Value};

use super::model::go_sprint;
use crate::compose::canon;
use crate::compose::error::LoadError;
use crate::compose::yaml::{Node, Value as Y};

fn scalar_node(v: &Value) -> Option<Node> {
    let y = match v {
        Value::String(s) => Y::Str(s.clone()),
        Value::Number(n) => Y::Int(n.as_i64()?),
        _ => return None,
    };
    let mut n = Node::new(y, Default::default());
    n.quoted = true;
    Some(n)
}

fn string_to_list(v: &mut Value) {
    if let Value::String(s) = v {
        *v = json!([s]);
    }
}

/// `transform.Canonical` with `ignoreParseError` (interpolation skipped: a
/// short form that does not parse is kept as written).
pub(super) fn canonical(cfg: &mut Map<String, Value>, warnings: &mut Vec<String>) -> Result<(), LoadError> {
    if let Some(Value::Object(services)) = cfg.get_mut("services") {
        for svc in services.values_mut() {
            if let Value::Object(s) = svc {
                service(s);
            }
        }
    }
    for section in ["volumes", "networks", "secrets", "configs"] {
        if let Some(Value::Object(items)) = cfg.get_mut(section) {
            for (name, item) in items.iter_mut() {
                maybe_external(item, &format!("{section}.{name}"), warnings)?;
            }
        }
    }
    if let Some(Value::Array(items)) = cfg.get_mut("include") {
        for i in items {
            if let Value::String(s) = i {
                *i = json!({ "path": s });
            }
        }
    }
    Ok(())
}

/// compose-go's `transformMaybeExternal`: `external: {name}` (deprecated)
/// becomes `external: true` and the resource's `name`.
fn maybe_external(item: &mut Value, path: &str, warnings: &mut Vec<String>) -> Result<(), LoadError> {
    let Value::Object(r) = item else { return Ok(()) };
    let Some(Value::Object(ext)) = r.get("external") else {
        return Ok(());
    };
    let ext_name = ext.get("name").cloned();
    r.insert("external".into(), json!(true));
    if let Some(n) = ext_name {
        warnings.push(format!(
            "{path}: external.name is deprecated. Please set name and external: true"
        ));
        match r.get("name") {
            Some(named) if named != &n => {
                return Err(LoadError::plain(format!(
                    "{path}: name and external.name conflict; only use name"
                )));
            }
            Some(_) => {}
            None => {
                r.insert("name".into(), n);
            }
        }
    }
    Ok(())
}

fn file_mounts(v: &mut Value) {
    if let Value::Array(items) = v {
        for i in items {
            if let Value::String(s) = i {
                *i = json!({ "source": s });
            }
        }
    }
}

fn service(s: &mut Map<String, Value>) {
    for (k, v) in s.iter_mut() {
        match k.as_str() {
            "build" => build(v),
            "depends_on" => depends_on(v),
            "env_file" => env_file(v),
            "label_file" | "dns" => string_to_list(v),
            "extends" => {
                if let Value::String(x) = v {
                    *v = json!({ "service": x });
                }
            }
            "gpus" if v.is_string() => *v = json!([{ "count": "all" }]),
            "networks" | "models" => {
                if let Value::Array(a) = v {
                    *v = Value::Object(a.iter().map(|x| (go_sprint(x), Value::Null)).collect());
                }
            }
            "volumes" => volumes(v),
            "devices" => devices(v),
            "secrets" | "configs" => file_mounts(v),
            "ports" => ports(v),
            "develop" => {
                if let Some(Value::Array(watch)) = v.get_mut("watch") {
                    for w in watch.iter_mut().filter_map(Value::as_object_mut) {
                        for key in ["ignore", "include"] {
                            if let Some(x) = w.get_mut(key) {
                                string_to_list(x);
                            }
                        }
                    }
                }
            }
            _ => {}
        }
    }
    if let Some(Value::Array(dns)) = s.get_mut("dns") {
        dns.retain(|x| !(x.is_null() || x.as_str() == Some("")));
    }
}

fn build(v: &mut Value) {
    if let Value::String(ctx) = v {
        *v = json!({ "context": ctx });
        return;
    }
    let Value::Object(b) = v else { return };
    if let Some(secrets) = b.get_mut("secrets") {
        file_mounts(secrets);
    }
    for key in ["provenance", "sbom"] {
        if let Some(x) = b.get_mut(key).filter(|x| !x.is_string()) {
            *x = Value::String(go_sprint(x));
        }
    }
    if let Some(Value::Array(a)) = b.get("additional_contexts") {
        let pairs: Option<Map<String, Value>> = a
            .iter()
            .map(|e| {
                let (k, v) = e.as_str()?.split_once('=')?;
                Some((k.to_string(), json!(v)))
            })
            .collect();
        if let Some(m) = pairs {
            b.insert("additional_contexts".into(), Value::Object(m));
        }
    }
    if let Some(Value::Array(a)) = b.get("ssh") {
        let mut m = Map::new();
        for e in a {
            let s = go_sprint(e);
            match s.split_once('=') {
                Some((id, p)) => m.insert(id.to_string(), json!(p)),
                None => m.insert(s, Value::Null),
            };
        }
        b.insert("ssh".into(), Value::Object(m));
    }
}

fn depends_on(v: &mut Value) {
    match v {
        Value::Array(a) => {
            *v = Value::Object(
                a.iter()
                    .map(|x| (go_sprint(x), json!({"condition": "service_started", "required": true})))
                    .collect(),
            );
        }
        Value::Object(m) => {
            for d in m.values_mut().filter_map(Value::as_object_mut) {
                d.entry("condition").or_insert(json!("service_started"));
                d.entry("required").or_insert(json!(true));
            }
        }
        _ => {}
    }
}

fn env_file(v: &mut Value) {
    string_to_list(v);
    if let Value::Array(a) = v {
        for e in a {
            match e {
                Value::String(p) => *e = json!({ "path": p, "required": true }),
                Value::Object(m) => {
                    m.entry("required").or_insert(json!(true));
                }
                _ => *e = Value::Null,
            }
        }
    }
}

fn volumes(v: &mut Value) {
    let Value::Array(a) = v else { return };
    for e in a {
        if let Some(n) = scalar_node(e).filter(|_| e.is_string()) {
            // No base folder: `ResolveRelativePaths` makes a bind's source
            // absolute later, against the right project directory.
            if let Ok(parsed) = canon::volume(&n, Path::new("")) {
                *e = parsed;
            }
        }
    }
}

fn devices(v: &mut Value) {
    let Value::Array(a) = v else { return };
    for e in a {
        let Value::String(s) = e else { continue };
        let parts: Vec<&str> = s.split(':').collect();
        let (src, dst, perm) = match parts.as_slice() {
            [a] => (*a, "", "rwm"),
            [a, b] => (*a, *b, "rwm"),
            [a, b, c] => (*a, *b, *c),
            _ => ("", "", "rwm"),
        };
        let dst = if dst.is_empty() { src } else { dst };
        *e = json!({ "source": src, "target": dst, "permissions": perm });
    }
}

fn ports(v: &mut Value) {
    let Value::Array(a) = v else { return };
    let mut out = Vec::new();
    for e in a.iter() {
        match e {
            Value::Object(_) => out.push(e.clone()),
            _ => match scalar_node(e).map(|n| canon::port(&n)) {
                Some(Ok(parsed)) => out.extend(parsed),
                // Unparsed (a `${VAR}` left as written): the list stays.
                _ => return,
            },
        }
    }
    *a = out;
}

/// What compose-go does to the merged tree before normalising: default
/// values, relative paths made absolute, the environment resolved.
pub(super) fn defaults_paths_env(dict: &mut Map<String, Value>, wd: &Path, env: &HashMap<String, String>) {
    if let Some(Value::Object(services)) = dict.get_mut("services") {
        for s in services.values_mut().filter_map(Value::as_object_mut) {
            service_defaults(s);
            service_paths(s, wd);
            if let Some(Value::Array(e)) = s.get("environment") {
                let resolved = e
                    .iter()
                    .filter_map(Value::as_str)
                    .map(|x| match env.get(x) {
                        Some(val) => json!(format!("{x}={val}")),
                        None => json!(x),
                    })
                    .collect();
                s.insert("environment".into(), Value::Array(resolved));
            }
        }
    }
    for (section, target) in [("secrets", "x-#value"), ("configs", "content")] {
        if let Some(Value::Object(items)) = dict.get_mut(section) {
            for r in items.values_mut().filter_map(Value::as_object_mut) {
                if let Some(file) = r.get("file").and_then(Value::as_str) {
                    let abs = unix_path(wd, file);
                    r.insert("file".into(), json!(abs));
                }
                let found = r.get("environment").and_then(Value::as_str).and_then(|k| env.get(k));
                if let Some(val) = found.cloned() {
                    r.insert(target.into(), json!(val));
                }
            }
        }
    }
    if let Some(Value::Object(vols)) = dict.get_mut("volumes") {
        for vol in vols.values_mut().filter_map(Value::as_object_mut) {
            if vol.get("driver").and_then(Value::as_str) != Some("local") {
                continue;
            }
            if let Some(Value::Object(o)) = vol.get_mut("driver_opts") {
                if o.get("o").and_then(Value::as_str) == Some("bind") {
                    if let Some(dev) = o.get("device").and_then(Value::as_str) {
                        let abs = unix_path(wd, dev);
                        o.insert("device".into(), json!(abs));
                    }
                }
            }
        }
    }
}

fn service_defaults(s: &mut Map<String, Value>) {
    if let Some(Value::Object(b)) = s.get_mut("build") {
        b.entry("context").or_insert(json!("."));
    }
    if let Some(Value::Array(secrets)) = s.get_mut("secrets") {
        for m in secrets.iter_mut().filter_map(Value::as_object_mut) {
            if !m.contains_key("target") {
                let src = m.get("source").map(go_sprint).unwrap_or_else(|| "%!s(<nil>)".into());
                m.insert("target".into(), json!(format!("/run/secrets/{src}")));
            }
        }
    }
    if let Some(Value::Array(ports)) = s.get_mut("ports") {
        for m in ports.iter_mut().filter_map(Value::as_object_mut) {
            m.entry("protocol").or_insert(json!("tcp"));
            m.entry("mode").or_insert(json!("ingress"));
        }
    }
    let devices = s
        .get_mut("deploy")
        .and_then(|d| d.pointer_mut("/resources/reservations/devices"))
        .and_then(Value::as_array_mut);
    for m in devices.into_iter().flatten().filter_map(Value::as_object_mut) {
        count_all(m);
    }
    if let Some(Value::Array(gpus)) = s.get_mut("gpus") {
        for m in gpus.iter_mut().filter_map(Value::as_object_mut) {
            count_all(m);
        }
    }
}

fn count_all(m: &mut Map<String, Value>) {
    if !m.contains_key("count") && !m.contains_key("device_ids") {
        m.insert("count".into(), json!("all"));
    }
}

/// compose-go's `maybeUnixPath`: `~` expanded, a relative path joined to
/// the working directory (cleaned), an absolute one kept as written.
fn unix_path(wd: &Path, p: &str) -> String {
    let p = expand_user(p);
    if p.starts_with('/') || is_windows_abs(&p) {
        p
    } else {
        canon::clean(&wd.join(p))
    }
}

fn is_windows_abs(p: &str) -> bool {
    let b = p.as_bytes();
    (b.len() >= 3 && b[0].is_ascii_alphabetic() && b[1] == b':' && (b[2] == b'\\' || b[2] == b'/'))
        || p.starts_with("\\\\")
}

fn expand_user(p: &str) -> String {
    match p.strip_prefix('~') {
        Some(rest) => {
            canon::clean(&Path::new(&std::env::var("HOME").unwrap_or_default()).join(rest.trim_start_matches('/')))
        }
        None => p.to_string(),
    }
}

/// compose-go's `absPath`: as `maybeUnixPath`, but an absolute path is
/// cleaned too (`filepath.Join`).
fn abs_path(wd: &Path, p: &str) -> String {
    let p = expand_user(p);
    if p.starts_with('/') || p.is_empty() {
        p
    } else {
        canon::clean(&wd.join(p))
    }
}

pub(super) fn service_paths(s: &mut Map<String, Value>, wd: &Path) {
    if let Some(Value::Object(b)) = s.get_mut("build") {
        let context = |v: &mut Value| {
            if let Value::String(c) = v {
                let remote = c.contains("://")
                    || c.starts_with("service:")
                    || ["https://", "http://", "git://", "ssh://", "github.com/", "git@"]
                        .iter()
                        .any(|p| c.starts_with(p));
                if !remote {
                    *c = abs_path(wd, c);
                }
            }
        };
        if let Some(c) = b.get_mut("context") {
            context(c);
        }
        if let Some(Value::Object(ac)) = b.get_mut("additional_contexts") {
            ac.values_mut().for_each(context);
        }
        if let Some(Value::Object(ssh)) = b.get_mut("ssh") {
            for v in ssh.values_mut() {
                if let Value::String(p) = v {
                    *p = unix_path(wd, p);
                }
            }
        }
    }
    for m in array_maps(s, "env_file") {
        if let Some(Value::String(p)) = m.get_mut("path") {
            *p = abs_path(wd, p);
        }
    }
    if let Some(Value::Array(files)) = s.get_mut("label_file") {
        for f in files {
            if let Value::String(p) = f {
                *p = abs_path(wd, p);
            }
        }
    }
    if let Some(Value::String(f)) = s.get_mut("extends").and_then(|e| e.get_mut("file")) {
        *f = abs_path(wd, f);
    }
    for m in array_maps(s, "volumes") {
        if m.get("type").and_then(Value::as_str) == Some("bind") {
            if let Some(Value::String(src)) = m.get_mut("source") {
                *src = unix_path(wd, src);
            }
        }
    }
    if let Some(Value::Array(watch)) = s.get_mut("develop").and_then(|d| d.get_mut("watch")) {
        for w in watch.iter_mut().filter_map(Value::as_object_mut) {
            if let Some(Value::String(p)) = w.get_mut("path") {
                *p = abs_path(wd, p);
            }
        }
    }
}

pub(super) fn array_maps<'a>(
    s: &'a mut Map<String, Value>,
    key: &str,
) -> impl Iterator<Item = &'a mut Map<String, Value>> {
    s.get_mut(key)
        .and_then(Value::as_array_mut)
        .into_iter()
        .flatten()
        .filter_map(Value::as_object_mut)
}
