//! Container options as a script writes them → the engine's create body.
//!
//! Keys follow compose's service attributes (`image`, `command`, `env`,
//! `ports`, `volumes`, `networks`, `restart`, `healthcheck` …), so a script
//! reads like a compose file. Anything not covered goes in `raw`, a map in
//! the engine's own schema merged over the result.

use std::collections::HashMap;

use rhai::Map;
use serde_json::{json, Map as JMap, Value};

use super::value::{to_json, Opts};
use super::{fail, resolve_path, RhaiResult};

/// The keys `container::create` accepts.
pub const KEYS: &[&str] = &[
    "name",
    "image",
    "command",
    "cmd",
    "entrypoint",
    "env",
    "labels",
    "working_dir",
    "user",
    "hostname",
    "domainname",
    "tty",
    "stdin_open",
    "network",
    "networks",
    "aliases",
    "ports",
    "expose",
    "volumes",
    "restart",
    "healthcheck",
    "stop_signal",
    "stop_timeout",
    "init",
    "privileged",
    "cap_add",
    "cap_drop",
    "extra_hosts",
    "dns",
    "memory",
    "cpus",
    "read_only",
    "tmpfs",
    "platform",
    "auto_remove",
    "raw",
];

/// The create request: container name, platform, body, and the networks to
/// connect after creation (API 1.41 accepts only one network at create).
pub struct CreateSpec {
    pub name: Option<String>,
    pub platform: Option<String>,
    pub body: bollard::models::ContainerCreateBody,
    pub extra_networks: Vec<(String, Vec<String>)>,
}

/// A command given as a string runs through `/bin/sh -c`; a list is exact.
fn command(opts: &Opts, key: &str) -> RhaiResult<Option<Vec<String>>> {
    match opts.raw(key) {
        Some(v) if v.is_string() => Ok(Some(vec!["/bin/sh".into(), "-c".into(), v.to_string()])),
        _ => opts.strings(key),
    }
}

/// Parses `[ip:][host[-range]:]container[/proto]`, Docker's port syntax.
pub fn parse_port(spec: &str) -> crate::error::Result<(String, Option<(String, String)>)> {
    let (rest, proto) = match spec.rsplit_once('/') {
        Some((r, p)) => (r, p),
        None => (spec, "tcp"),
    };
    if !matches!(proto, "tcp" | "udp" | "sctp") {
        return Err(format!("port {spec:?}: unknown protocol {proto:?}").into());
    }
    let parts: Vec<&str> = rest.rsplitn(3, ':').collect();
    let (container, host, ip) = match parts.as_slice() {
        [c] => (*c, None, ""),
        [c, h] => (*c, Some(*h), ""),
        [c, h, ip] => (*c, Some(*h), ip.trim_matches(|c| c == '[' || c == ']')),
        _ => unreachable!(),
    };
    let valid = |p: &str| !p.is_empty() && p.split('-').all(|n| n.parse::<u16>().is_ok());
    if !valid(container) {
        return Err(format!("port {spec:?}: {container:?} is not a port number").into());
    }
    if let Some(h) = host {
        if !h.is_empty() && !valid(h) {
            return Err(format!("port {spec:?}: {h:?} is not a port number").into());
        }
    }
    let key = format!("{container}/{proto}");
    Ok((key, host.map(|h| (ip.to_string(), h.to_string()))))
}

fn duration_ns(opts: &Opts, hc: &Opts, key: &str) -> RhaiResult<Option<i64>> {
    let _ = opts;
    match hc.raw(key) {
        None => Ok(None),
        Some(v) if v.is_string() => match crate::units::parse_duration(&v.to_string()) {
            Ok(ns) => Ok(Some(ns)),
            Err(e) => fail(format!("healthcheck.{key}: {e} (e.g. \"1s\", \"500ms\")")),
        },
        Some(_) => match hc.float(key)? {
            Some(s) => Ok(Some(
                super::util::secs(&format!("healthcheck.{key}"), s)?.as_nanos() as i64
            )),
            None => Ok(None),
        },
    }
}

/// Builds the create request from a script's option map.
pub fn create_spec(map: Map) -> RhaiResult<CreateSpec> {
    let o = Opts::new("container::create", map, KEYS)?;
    let mut body = JMap::new();
    let mut host = JMap::new();
    body.insert("Image".into(), json!(o.req_str("image")?));
    let cmd = match command(&o, "command")? {
        Some(c) => Some(c),
        None => command(&o, "cmd")?,
    };
    if let Some(c) = cmd {
        body.insert("Cmd".into(), json!(c));
    }
    if let Some(e) = o.strings("entrypoint")? {
        body.insert("Entrypoint".into(), json!(e));
    }
    if let Some(env) = o.string_map("env")? {
        let mut list: Vec<String> = env.into_iter().map(|(k, v)| format!("{k}={v}")).collect();
        list.sort();
        body.insert("Env".into(), json!(list));
    }
    if let Some(l) = o.string_map("labels")? {
        body.insert("Labels".into(), json!(l));
    }
    for (key, field) in [
        ("working_dir", "WorkingDir"),
        ("user", "User"),
        ("hostname", "Hostname"),
        ("domainname", "Domainname"),
        ("stop_signal", "StopSignal"),
    ] {
        if let Some(v) = o.str(key)? {
            body.insert(field.into(), json!(v));
        }
    }
    if let Some(t) = o.int("stop_timeout")? {
        body.insert("StopTimeout".into(), json!(t));
    }
    if o.flag("tty")? {
        body.insert("Tty".into(), json!(true));
    }
    if o.flag("stdin_open")? {
        body.insert("OpenStdin".into(), json!(true));
    }

    // Ports: published ones are also exposed.
    let mut exposed = JMap::new();
    let mut bindings: HashMap<String, Vec<Value>> = HashMap::new();
    for p in o.strings("expose")?.unwrap_or_default() {
        let (key, _) = parse_port(&p).map_err(|e| format!("container::create: {e}"))?;
        exposed.insert(key, json!({}));
    }
    for p in o.strings("ports")?.unwrap_or_default() {
        let (key, host_part) = parse_port(&p).map_err(|e| format!("container::create: {e}"))?;
        exposed.insert(key.clone(), json!({}));
        if let Some((ip, hp)) = host_part {
            bindings
                .entry(key)
                .or_default()
                .push(json!({"HostIp": ip, "HostPort": hp}));
        }
    }
    if !exposed.is_empty() {
        body.insert("ExposedPorts".into(), Value::Object(exposed));
    }
    if !bindings.is_empty() {
        host.insert("PortBindings".into(), json!(bindings));
    }

    // Volumes: `name:/path[:ro]`, `./host:/path`, or `/path` (anonymous).
    let mut binds = Vec::new();
    let mut anon = JMap::new();
    for v in o.strings("volumes")?.unwrap_or_default() {
        let parts: Vec<&str> = v.split(':').collect();
        match parts.as_slice() {
            [target] => {
                anon.insert(target.to_string(), json!({}));
            }
            [src, rest @ ..] if rest.len() <= 2 => {
                let src = if src.starts_with('.') || src.starts_with('/') || src.starts_with('~') {
                    resolve_path(src).display().to_string()
                } else {
                    src.to_string()
                };
                let mut b = format!("{src}:{}", rest[0]);
                if let Some(mode) = rest.get(1) {
                    b.push(':');
                    b.push_str(mode);
                }
                binds.push(b);
            }
            _ => {
                return fail(format!(
                    "container::create: volume {v:?} is not SRC:DST[:MODE] or /path"
                ))
            }
        }
    }
    if !anon.is_empty() {
        body.insert("Volumes".into(), Value::Object(anon));
    }
    if !binds.is_empty() {
        host.insert("Binds".into(), json!(binds));
    }

    if let Some(r) = o.str("restart")? {
        let (name, count) = match r.split_once(':') {
            Some((n, c)) => (
                n.to_string(),
                c.parse::<i64>()
                    .map_err(|_| format!("container::create: restart {r:?}: bad retry count"))?,
            ),
            None => (r.clone(), 0),
        };
        if !matches!(name.as_str(), "no" | "always" | "unless-stopped" | "on-failure") {
            return fail(format!(
                "container::create: restart {r:?} is not no|always|unless-stopped|on-failure[:N]"
            ));
        }
        let name = if name == "no" { String::new() } else { name };
        host.insert(
            "RestartPolicy".into(),
            json!({"Name": name, "MaximumRetryCount": count}),
        );
    }
    if let Some(hc) = o.map("healthcheck")? {
        let h = Opts::new(
            "container::create healthcheck",
            hc,
            &["test", "interval", "timeout", "retries", "start_period", "disable"],
        )?;
        let mut out = JMap::new();
        if h.flag("disable")? {
            out.insert("Test".into(), json!(["NONE"]));
        } else if let Some(t) = h.raw("test") {
            let test = if t.is_string() {
                vec!["CMD-SHELL".to_string(), t.to_string()]
            } else {
                h.strings("test")?.unwrap_or_default()
            };
            out.insert("Test".into(), json!(test));
        }
        for (k, f) in [
            ("interval", "Interval"),
            ("timeout", "Timeout"),
            ("start_period", "StartPeriod"),
        ] {
            if let Some(ns) = duration_ns(&o, &h, k)? {
                out.insert(f.into(), json!(ns));
            }
        }
        if let Some(r) = h.int("retries")? {
            out.insert("Retries".into(), json!(r));
        }
        body.insert("Healthcheck".into(), Value::Object(out));
    }
    if o.flag("init")? {
        host.insert("Init".into(), json!(true));
    }
    if o.flag("privileged")? {
        host.insert("Privileged".into(), json!(true));
    }
    if o.flag("read_only")? {
        host.insert("ReadonlyRootfs".into(), json!(true));
    }
    if o.flag("auto_remove")? {
        host.insert("AutoRemove".into(), json!(true));
    }
    for (k, f) in [
        ("cap_add", "CapAdd"),
        ("cap_drop", "CapDrop"),
        ("extra_hosts", "ExtraHosts"),
        ("dns", "Dns"),
    ] {
        if let Some(v) = o.strings(k)? {
            host.insert(f.into(), json!(v));
        }
    }
    if let Some(t) = o.strings("tmpfs")? {
        let m: HashMap<String, String> = t
            .into_iter()
            .map(|s| match s.split_once(':') {
                Some((p, opt)) => (p.to_string(), opt.to_string()),
                None => (s, String::new()),
            })
            .collect();
        host.insert("Tmpfs".into(), json!(m));
    }
    if let Some(m) = o.raw("memory") {
        let bytes = if m.is_string() {
            crate::units::ram_in_bytes(&m.to_string()).map_err(|e| format!("container::create: memory: {e}"))?
        } else {
            o.int("memory")?.unwrap_or(0)
        };
        host.insert("Memory".into(), json!(bytes));
    }
    if let Some(c) = o.float("cpus")? {
        host.insert("NanoCpus".into(), json!((c * 1e9) as i64));
    }

    // Networks: the first joins at create, the others right after.
    let aliases = o.strings("aliases")?.unwrap_or_default();
    let mut nets: Vec<(String, Vec<String>)> = Vec::new();
    if let Some(n) = o.str("network")? {
        nets.push((n, aliases.clone()));
    }
    match o.raw("networks") {
        Some(v) if v.is_map() => {
            for (name, cfg) in v.clone().cast::<Map>() {
                let a = match cfg.try_cast::<Map>() {
                    Some(m) => Opts::new("container::create networks", m, &["aliases"])?
                        .strings("aliases")?
                        .unwrap_or_default(),
                    None => aliases.clone(),
                };
                nets.push((name.to_string(), a));
            }
        }
        Some(_) => {
            for n in o.strings("networks")?.unwrap_or_default() {
                nets.push((n, aliases.clone()));
            }
        }
        None => {}
    }
    let mut extra_networks = Vec::new();
    if let Some((first, a)) = nets.first() {
        host.insert("NetworkMode".into(), json!(first));
        if !matches!(first.as_str(), "host" | "none" | "bridge") && !first.starts_with("container:") {
            body.insert(
                "NetworkingConfig".into(),
                json!({"EndpointsConfig": {first: {"Aliases": a}}}),
            );
        }
        extra_networks = nets[1..].to_vec();
    }

    body.insert("HostConfig".into(), Value::Object(host));
    let mut body = Value::Object(body);
    if let Some(raw) = o.raw("raw") {
        merge(&mut body, to_json(raw)?);
    }
    let body = serde_json::from_value(body).map_err(|e| format!("container::create: {e}"))?;
    Ok(CreateSpec {
        name: o.str("name")?,
        platform: o.str("platform")?,
        body,
        extra_networks,
    })
}

/// Deep-merges `patch` into `base` (objects merge, everything else replaces).
pub fn merge(base: &mut Value, patch: Value) {
    match (base, patch) {
        (Value::Object(b), Value::Object(p)) => {
            for (k, v) in p {
                merge(b.entry(k).or_insert(Value::Null), v);
            }
        }
        (b, p) => *b = p,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports() {
        assert_eq!(parse_port("80").unwrap(), ("80/tcp".into(), None));
        assert_eq!(
            parse_port("8080:80").unwrap(),
            ("80/tcp".into(), Some(("".into(), "8080".into())))
        );
        assert_eq!(
            parse_port("127.0.0.1:53:53/udp").unwrap(),
            ("53/udp".into(), Some(("127.0.0.1".into(), "53".into())))
        );
        assert!(parse_port("x:80").is_err());
        assert!(parse_port("80/xyz").is_err());
    }
}
