//! Short syntax → the canonical long forms Docker Compose prints, key for
//! key and in its key order: maps sorted by key at the project and service
//! level, nested objects in compose-go's struct order.

use std::path::Path;

use serde_json::{json, Map, Value};

use super::yaml::{Node, Value as Y};

/// A normalisation failure at a node.
#[derive(Debug, Clone)]
pub struct Invalid {
    pub message: String,
    pub span: super::yaml::Span,
}

pub type Result<T> = std::result::Result<T, Invalid>;

fn invalid<T>(node: &Node, message: impl Into<String>) -> Result<T> {
    Err(Invalid {
        message: message.into(),
        span: node.span,
    })
}

/// A YAML node as plain JSON (maps sorted, as Go marshals maps).
pub fn to_json(n: &Node) -> Value {
    match &n.value {
        Y::Null => Value::Null,
        Y::Bool(b) => json!(b),
        Y::Int(i) => json!(i),
        Y::Float(f) => json!(f),
        Y::Str(s) => json!(s),
        Y::Seq(items) => Value::Array(items.iter().map(to_json).collect()),
        Y::Map(entries) => {
            let mut sorted: Vec<(String, Value)> = entries
                .iter()
                .map(|(k, v)| (k.scalar_text().unwrap_or_default(), to_json(v)))
                .collect();
            sorted.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(sorted.into_iter().collect())
        }
    }
}

/// Puts the keys of `m` in `order` (unknown keys after, sorted).
pub fn ordered(m: Map<String, Value>, order: &[&str]) -> Map<String, Value> {
    // One sort of the few keys present, by their place in `order`: a
    // service has ~5 keys and the schema's order ~90, and a removal per
    // schema key was a tenth of `config` on 1,000 services.
    let rank = |k: &str| order.iter().position(|o| *o == k).unwrap_or(order.len());
    let mut entries: Vec<(usize, String, Value)> = m.into_iter().map(|(k, v)| (rank(&k), k, v)).collect();
    entries.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.cmp(&b.1)));
    entries.into_iter().map(|(_, k, v)| (k, v)).collect()
}

fn text(n: &Node) -> Option<String> {
    n.scalar_text()
}

/// A string or a list of strings as a list.
fn string_list(n: &Node) -> Result<Vec<String>> {
    match &n.value {
        Y::Seq(items) => items
            .iter()
            .map(|i| {
                text(i).ok_or_else(|| Invalid {
                    message: "must be a string".into(),
                    span: i.span,
                })
            })
            .collect(),
        Y::Null => Ok(vec![]),
        _ => Ok(vec![text(n).unwrap_or_default()]),
    }
}

/// `KEY=VAL` lists or maps as a sorted map of strings (a missing value is
/// null, or `lookup`'s answer when given).
/// Looks up a variable for `KEY` entries that have no value.
pub type Lookup<'a> = &'a dyn Fn(&str) -> Option<String>;

pub fn mapping(n: &Node, sep: char, lookup: Option<Lookup>) -> Result<Map<String, Value>> {
    let mut out: Vec<(String, Value)> = Vec::new();
    let mut put = |k: String, v: Value| {
        out.retain(|(x, _)| x != &k);
        out.push((k, v));
    };
    match &n.value {
        Y::Map(entries) => {
            for (k, v) in entries {
                let key = text(k).unwrap_or_default();
                let value = match &v.value {
                    Y::Null => match lookup.and_then(|l| l(&key)) {
                        Some(x) => json!(x),
                        None => Value::Null,
                    },
                    Y::Seq(_) | Y::Map(_) => {
                        return invalid(v, format!("{key} must be a string, number, boolean or null"))
                    }
                    _ => json!(text(v).unwrap_or_default()),
                };
                put(key, value);
            }
        }
        Y::Seq(items) => {
            for item in items {
                let s = text(item).ok_or_else(|| Invalid {
                    message: "must be a string".into(),
                    span: item.span,
                })?;
                match s.split_once(sep) {
                    Some((k, v)) => put(k.to_string(), json!(v)),
                    None => {
                        let v = lookup.and_then(|l| l(&s)).map(Value::String).unwrap_or(Value::Null);
                        put(s, v)
                    }
                }
            }
        }
        Y::Null => {}
        _ => return invalid(n, "must be a mapping or a list"),
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out.into_iter().collect())
}

/// Go's `time.Duration.String()` of a compose duration ("90s" → "1m30s").
pub fn go_duration(n: &Node) -> Result<String> {
    let s = text(n).unwrap_or_default();
    let ns = match &n.value {
        Y::Int(i) => Some(i * 1_000_000_000),
        _ => crate::units::parse_duration(&s).ok(),
    };
    let Some(ns) = ns else {
        return invalid(n, format!("invalid duration {s:?}"));
    };
    Ok(format_go_duration(ns))
}

pub use super::shell::shell_split;
pub use crate::units::format_duration as format_go_duration;

/// Resolves a path against the project folder, as compose does (`~` too).
pub fn abs_path(base: &Path, p: &str) -> String {
    // A Windows absolute path is already absolute (compose leaves it).
    let b = p.as_bytes();
    if b.len() >= 3 && b[0].is_ascii_alphabetic() && b[1] == b':' && (b[2] == b'\\' || b[2] == b'/') {
        return p.to_string();
    }
    let path = if let Some(rest) = p.strip_prefix("~/") {
        Path::new(&std::env::var("HOME").unwrap_or_default()).join(rest)
    } else if p == "~" {
        std::path::PathBuf::from(std::env::var("HOME").unwrap_or_default())
    } else {
        base.join(p)
    };
    clean(&path)
}

/// A bind mount's source as compose-go resolves it: `~` expanded and
/// relative paths joined to the project directory (both cleaned), an
/// absolute path kept exactly as written (`/tmp/` stays `/tmp/`, which
/// the config hash covers).
fn volume_source(base: &Path, p: &str) -> String {
    if p.starts_with('/') {
        p.to_string()
    } else {
        super::mode::shown_path(base, p)
    }
}

/// Lexical path clean-up (Go's `filepath.Clean`).
pub fn clean(p: &Path) -> String {
    let mut parts: Vec<String> = Vec::new();
    let abs = p.is_absolute();
    for c in p.components() {
        match c {
            std::path::Component::ParentDir => {
                let popped = parts.pop();
                if popped.is_none() && !abs {
                    parts.push("..".into());
                }
            }
            std::path::Component::Normal(s) => parts.push(s.to_string_lossy().into_owned()),
            _ => {}
        }
    }
    let joined = parts.join("/");
    if abs {
        format!("/{joined}")
    } else if joined.is_empty() {
        ".".into()
    } else {
        joined
    }
}

/// A port in short syntax → compose's long form(s).
pub fn port(n: &Node) -> Result<Vec<Value>> {
    if let Y::Map(_) = n.value {
        let mut m = to_json(n).as_object().cloned().unwrap_or_default();
        m.entry("mode").or_insert(json!("ingress"));
        m.entry("protocol").or_insert(json!("tcp"));
        if let Some(p) = m.get("published").cloned() {
            if !p.is_string() {
                m.insert("published".into(), json!(p.to_string()));
            }
        }
        if let Some(t) = m
            .get("target")
            .and_then(|t| t.as_str().and_then(|s| s.parse::<i64>().ok()))
        {
            m.insert("target".into(), json!(t));
        }
        return Ok(vec![Value::Object(ordered(
            m,
            &[
                "name",
                "mode",
                "host_ip",
                "target",
                "published",
                "protocol",
                "app_protocol",
            ],
        ))]);
    }
    let spec = text(n).unwrap_or_default();
    let (rest, proto) = match spec.rsplit_once('/') {
        Some((r, p)) => (r.to_string(), p.to_string()),
        None => (spec.clone(), "tcp".to_string()),
    };
    // [ip:]published:target, where ip may be [v6].
    let (ip, host, target) = if let Some(close) = rest.find(']').filter(|_| rest.starts_with('[')) {
        let ip = rest[1..close].to_string();
        let after = rest[close + 1..].trim_start_matches(':');
        match after.split_once(':') {
            Some((h, t)) => (Some(ip), Some(h.to_string()), t.to_string()),
            None => (Some(ip), None, after.to_string()),
        }
    } else {
        let parts: Vec<&str> = rest.split(':').collect();
        match parts.as_slice() {
            [t] => (None, None, t.to_string()),
            [h, t] => (None, Some(h.to_string()), t.to_string()),
            [ip, h, t] => (Some(ip.to_string()), Some(h.to_string()), t.to_string()),
            _ => {
                let ip = parts[..parts.len() - 2].join(":");
                return invalid(n, format!("invalid IP address: {ip}"));
            }
        }
    };
    if let Some(ip) = &ip {
        if !ip.is_empty() && ip.parse::<std::net::IpAddr>().is_err() {
            return invalid(n, format!("invalid IP address: {ip}"));
        }
    }
    // Ports are 16-bit, as Go's nat.ParsePortRange parses them: 70000
    // is an invalid port, not a container create failure later.
    let range = |s: &str| -> Option<(u32, u32)> {
        let port = |x: &str| x.parse::<u16>().ok().map(u32::from);
        match s.split_once('-') {
            Some((a, b)) => Some((port(a)?, port(b)?)),
            None => port(s).map(|x| (x, x)),
        }
    };
    let Some((t0, t1)) = range(&target) else {
        return invalid(n, format!("invalid containerPort: {target}"));
    };
    let host_range = match host.as_deref() {
        None | Some("") => None,
        Some(h) => Some(range(h).ok_or_else(|| Invalid {
            message: format!("invalid hostPort: {h}"),
            span: n.span,
        })?),
    };
    let mut out = Vec::new();
    for (i, t) in (t0..=t1).enumerate() {
        let mut m = Map::new();
        m.insert("mode".into(), json!("ingress"));
        if let Some(ip) = ip.as_ref().filter(|ip| !ip.is_empty()) {
            m.insert("host_ip".into(), json!(ip));
        }
        m.insert("target".into(), json!(t));
        if let Some((h0, h1)) = host_range {
            let published = if t0 == t1 && h0 != h1 {
                format!("{h0}-{h1}")
            } else {
                (h0 + i as u32).to_string()
            };
            m.insert("published".into(), json!(published));
        }
        m.insert("protocol".into(), json!(proto));
        out.push(Value::Object(m));
    }
    Ok(out)
}

/// A port given on a command line (`run -p`) → its long form(s).
pub fn port_flag(spec: &str) -> crate::error::Result<Vec<Value>> {
    port(&flag_node(spec)).map_err(|e| crate::error::Error::usage(e.message))
}

/// A volume given on a command line (`run -v`) → its long form; a
/// relative bind source is taken from `base`.
pub fn volume_flag(spec: &str, base: &Path) -> crate::error::Result<Value> {
    volume(&flag_node(spec), base).map_err(|e| crate::error::Error::usage(e.message))
}

fn flag_node(spec: &str) -> Node {
    Node {
        value: Y::Str(spec.to_string()),
        span: Default::default(),
        tag: None,
        quoted: true,
    }
}

/// A volume mount in short syntax → the long form.
pub fn volume(n: &Node, base: &Path) -> Result<Value> {
    if let Y::Map(_) = n.value {
        return Ok(volume_long(n, base));
    }
    let spec = text(n).unwrap_or_default();
    let parts = volume_spec_parts(&spec);
    let parts: Vec<&str> = parts.iter().map(String::as_str).collect();
    let (src, target, mode) = match parts.as_slice() {
        [t] => (None, t.to_string(), None),
        [s, t] => (Some(s.to_string()), t.to_string(), None),
        [s, t, m, ..] => (Some(s.to_string()), t.to_string(), Some(m.to_string())),
        [] => return invalid(n, "empty volume specification"),
    };
    let mut m = Map::new();
    let is_path = |s: &str| s.starts_with('.') || s.starts_with('/') || s.starts_with('~');
    let typ = match &src {
        Some(s) if is_path(s) => "bind",
        _ => "volume",
    };
    m.insert("type".into(), json!(typ));
    if let Some(s) = &src {
        m.insert(
            "source".into(),
            json!(if typ == "bind" {
                volume_source(base, s)
            } else {
                s.clone()
            }),
        );
    }
    m.insert("target".into(), json!(clean(Path::new(&target))));
    let modes: Vec<&str> = mode.as_deref().map(|m| m.split(',').collect()).unwrap_or_default();
    if modes.contains(&"ro") {
        m.insert("read_only".into(), json!(true));
    }
    if typ == "bind" {
        let mut bind = Map::new();
        for md in &modes {
            if matches!(*md, "z" | "Z") {
                bind.insert("selinux".into(), json!(md));
            }
            if matches!(*md, "shared" | "rshared" | "slave" | "rslave" | "private" | "rprivate") {
                bind.insert("propagation".into(), json!(md));
            }
        }
        bind.insert("create_host_path".into(), json!(true));
        m.insert(
            "bind".into(),
            Value::Object(ordered(
                bind,
                &["selinux", "propagation", "create_host_path", "recursive"],
            )),
        );
    } else {
        let mut vol = Map::new();
        if modes.contains(&"nocopy") {
            vol.insert("nocopy".into(), json!(true));
        }
        m.insert("volume".into(), Value::Object(vol));
    }
    Ok(Value::Object(m))
}

/// A volume mount in long syntax, normalised as compose-go writes it: bind
/// sources absolute, targets clean, zero fields dropped, keys in its
/// structs' order, tmpfs sizes in bytes.
fn volume_long(n: &Node, base: &Path) -> Value {
    let mut m = to_json(n).as_object().cloned().unwrap_or_default();
    let typ = m.get("type").and_then(Value::as_str).unwrap_or("volume").to_string();
    if typ == "bind" {
        if let Some(src) = m.get("source").and_then(Value::as_str) {
            let abs = volume_source(base, src);
            m.insert("source".into(), json!(abs));
        }
    }
    if let Some(t) = m.get("target").and_then(Value::as_str).filter(|t| !t.is_empty()) {
        let t = clean(Path::new(t));
        m.insert("target".into(), json!(t));
    }
    // compose-go's types: false and empty fields are `omitempty`,
    // nested options in their struct's field order.
    drop_zero(&mut m, &["read_only", "consistency"]);
    for (key, order) in [
        ("bind", &["selinux", "propagation", "create_host_path", "recursive"][..]),
        ("volume", &["labels", "nocopy", "subpath"][..]),
        ("tmpfs", &["size", "mode"][..]),
    ] {
        if let Some(Value::Object(o)) = m.get_mut(key) {
            drop_zero(o, order);
            *o = ordered(std::mem::take(o), order);
        }
    }
    if let Some(Value::Object(t)) = m.get_mut("tmpfs") {
        let size = match t.get("size") {
            Some(Value::Number(n)) => n.as_i64(),
            Some(Value::String(s)) => ram_in_bytes(s),
            _ => None,
        };
        if let Some(b) = size {
            t.insert("size".into(), json!(b.to_string()));
        }
    }
    Value::Object(ordered(
        m,
        &[
            "type",
            "source",
            "target",
            "read_only",
            "consistency",
            "bind",
            "volume",
            "tmpfs",
            "image",
        ],
    ))
}

/// A short volume spec split at its colons, except inside `${...}` (as
/// compose-go's `ParseVolume`: a default may hold a path).
fn volume_spec_parts(spec: &str) -> Vec<String> {
    let mut parts = vec![String::new()];
    let mut depth = 0usize;
    let mut chars = spec.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '$' if chars.peek() == Some(&'{') => depth += 1,
            '}' if depth > 0 => depth -= 1,
            ':' if depth == 0 => {
                parts.push(String::new());
                continue;
            }
            _ => {}
        }
        parts.last_mut().expect("never empty").push(c);
    }
    parts
}

/// Removes `keys` whose value Go's `omitempty` drops (false, "", 0).
fn drop_zero(m: &mut Map<String, Value>, keys: &[&str]) {
    for k in keys {
        let zero = match m.get(*k) {
            Some(Value::Bool(b)) => !b,
            Some(Value::String(s)) => s.is_empty(),
            Some(Value::Number(n)) => n.as_f64() == Some(0.0),
            _ => false,
        };
        if zero {
            m.shift_remove(*k);
        }
    }
}

/// A size in bytes as compose prints it (its `UnitBytes`): the number of
/// bytes as a string; `512m`, `1.5g`, `100 KiB` use powers of 1024.
pub fn unit_bytes(n: &Node) -> Result<Value> {
    let bytes = match &n.value {
        Y::Int(i) => Some(*i),
        Y::Str(s) => ram_in_bytes(s),
        _ => None,
    };
    match bytes {
        Some(b) => Ok(json!(b.to_string())),
        None => invalid(n, format!("invalid size: {:?}", text(n).unwrap_or_default())),
    }
}

/// docker/go-units' RAMInBytes: `<number>[ ]<k|m|g|t|p>[i][b]`.
pub fn ram_in_bytes(s: &str) -> Option<i64> {
    let num_end = s.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(s.len());
    let (num, rest) = s.split_at(num_end);
    if num.is_empty() || !num.starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    let rest = rest.strip_prefix(' ').unwrap_or(rest).to_ascii_lowercase();
    let mut chars = rest.chars().peekable();
    let exp = match chars.peek() {
        Some('k') => 1,
        Some('m') => 2,
        Some('g') => 3,
        Some('t') => 4,
        Some('p') => 5,
        _ => 0,
    };
    if exp > 0 {
        chars.next();
    }
    if chars.peek() == Some(&'i') {
        chars.next();
    }
    if chars.peek() == Some(&'b') {
        chars.next();
    }
    if chars.next().is_some() {
        return None;
    }
    let n: f64 = num.parse().ok()?;
    Some((n * 1024f64.powi(exp)) as i64)
}

/// A secret's or config's file `mode` as compose prints it: octal with a
/// leading 0 (`mode: 0440` is octal in YAML 1.1, a string is read as octal).
pub fn file_mode(v: &Value) -> Option<Value> {
    let m = match v {
        Value::Number(n) => n.as_i64()?,
        Value::String(s) => i64::from_str_radix(s, 8).ok()?,
        _ => return None,
    };
    Some(json!(format!("0{m:o}")))
}

/// `extra_hosts` as compose prints it: sorted `host=ip` strings.
pub fn extra_hosts(n: &Node) -> Result<Value> {
    let mut v = extra_hosts_unsorted(n)?;
    if let Value::Array(items) = &mut v {
        items.sort_by(|a, b| a.as_str().cmp(&b.as_str()));
    }
    Ok(v)
}

fn extra_hosts_unsorted(n: &Node) -> Result<Value> {
    match &n.value {
        Y::Map(entries) => {
            let mut out = Vec::new();
            for (k, v) in entries {
                for ip in string_list(v)? {
                    out.push(json!(format!("{}={ip}", text(k).unwrap_or_default())));
                }
            }
            Ok(Value::Array(out))
        }
        _ => Ok(Value::Array(
            string_list(n)?
                .into_iter()
                .map(|h| {
                    // host:ip (an IPv6 ip keeps its colons) → host=ip
                    if h.contains('=') {
                        json!(h)
                    } else {
                        match h.split_once(':') {
                            Some((host, ip)) => json!(format!("{host}={ip}")),
                            None => json!(h),
                        }
                    }
                })
                .collect(),
        )),
    }
}

pub fn strings_or_single(n: &Node) -> Result<Value> {
    Ok(json!(string_list(n)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_words_and_durations() {
        assert_eq!(
            shell_split(r#"echo "hello world" $$HOME 'a b'"#).unwrap(),
            vec!["echo", "hello world", "$$HOME", "a b"]
        );
        assert_eq!(format_go_duration(90_000_000_000), "1m30s");
        assert_eq!(format_go_duration(30_000_000_000), "30s");
        assert_eq!(format_go_duration(500_000_000), "500ms");
        assert_eq!(format_go_duration(3_600_000_000_000), "1h0m0s");
        assert_eq!(clean(Path::new("/a/b/../c/./d")), "/a/c/d");
    }

    #[test]
    fn ordered_puts_known_keys_first_then_the_rest_sorted() {
        let m: Map<String, Value> = serde_json::from_str(r#"{"z":1,"image":2,"a":3,"build":4}"#).unwrap();
        let keys: Vec<String> = ordered(m, &["build", "image"]).into_iter().map(|(k, _)| k).collect();
        assert_eq!(keys, ["build", "image", "a", "z"]);
    }
}
