//! Container options as a script writes them → the engine's create body.
//!
//! Keys follow compose's service attributes (`image`, `command`, `env`,
//! `ports`, `volumes`, `networks`, `restart`, `healthcheck` …), so a script
//! reads like a compose file. Anything not covered goes in `raw`, a map in
//! the engine's own schema merged over the result.

use std::collections::HashMap;

use rhai::{Dynamic, Map};
use serde_json::{json, Map as JMap, Value};

use super::options::{CreateOpts, HealthcheckOpts, NetworkOpts};
use super::opts;
use super::value::to_json;
use super::{fail, resolve_path, RhaiResult};
use crate::plan::values::put;

/// What errors name.
const WHAT: &str = "container::create";

/// The create request: container name, platform, body, and the networks to
/// connect after creation (API 1.41 accepts only one network at create).
pub struct CreateSpec {
    pub name: Option<String>,
    pub platform: Option<String>,
    pub body: bollard::models::ContainerCreateBody,
    pub extra_networks: Vec<(String, Vec<String>)>,
}

/// A command given as a string runs through `/bin/sh -c`; a list is exact.
fn command(key: &str, v: &Option<Dynamic>) -> RhaiResult<Option<Vec<String>>> {
    match v {
        None => Ok(None),
        Some(v) if v.is_string() => Ok(Some(vec!["/bin/sh".into(), "-c".into(), v.to_string()])),
        Some(v) => opts::strings(WHAT, key, v).map(Some),
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

fn duration_ns(key: &str, v: &Option<Dynamic>) -> RhaiResult<Option<i64>> {
    match v {
        None => Ok(None),
        Some(v) if v.is_string() => match crate::units::parse_duration(&v.to_string()) {
            Ok(ns) => Ok(Some(ns)),
            Err(e) => fail(format!("healthcheck.{key}: {e} (e.g. \"1s\", \"500ms\")")),
        },
        Some(v) => {
            let s = match (v.as_float(), v.as_int()) {
                (Ok(f), _) => f,
                (_, Ok(i)) => i as f64,
                _ => return Err(opts::wrong_type(&format!("{WHAT} healthcheck"), key, "a number", v)),
            };
            Ok(Some(
                super::util::secs(&format!("healthcheck.{key}"), s)?.as_nanos() as i64
            ))
        }
    }
}

/// Ports: published ones are also exposed.
fn ports(o: &CreateOpts, body: &mut JMap<String, Value>, host: &mut JMap<String, Value>) -> RhaiResult<()> {
    let mut exposed = JMap::new();
    let mut bindings: HashMap<String, Vec<Value>> = HashMap::new();
    for p in o.expose.clone().unwrap_or_default() {
        let (key, _) = parse_port(&p).map_err(|e| format!("container::create: {e}"))?;
        exposed.insert(key, json!({}));
    }
    for p in o.ports.clone().unwrap_or_default() {
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
    Ok(())
}

/// Volumes: `name:/path[:ro]`, `./host:/path`, or `/path` (anonymous).
fn volumes(o: &CreateOpts, body: &mut JMap<String, Value>, host: &mut JMap<String, Value>) -> RhaiResult<()> {
    let mut binds = Vec::new();
    let mut anon = JMap::new();
    for v in o.volumes.clone().unwrap_or_default() {
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
    Ok(())
}

/// `restart`: `no`, `always`, `unless-stopped` or `on-failure[:N]`.
fn restart(o: &CreateOpts, host: &mut JMap<String, Value>) -> RhaiResult<()> {
    if let Some(r) = o.restart.clone() {
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
    Ok(())
}

/// `healthcheck`: a map as compose's (`test`, durations, `retries`, `disable`).
fn healthcheck(o: &CreateOpts, body: &mut JMap<String, Value>) -> RhaiResult<()> {
    if let Some(hc) = o.healthcheck.clone() {
        let h: HealthcheckOpts = opts::read(&format!("{WHAT} healthcheck"), hc)?;
        let mut out = JMap::new();
        if h.disable.unwrap_or(false) {
            out.insert("Test".into(), json!(["NONE"]));
        } else if let Some(t) = &h.test {
            let test = if t.is_string() {
                vec!["CMD-SHELL".to_string(), t.to_string()]
            } else {
                opts::strings(&format!("{WHAT} healthcheck"), "test", t)?
            };
            out.insert("Test".into(), json!(test));
        }
        for (k, v, f) in [
            ("interval", &h.interval, "Interval"),
            ("timeout", &h.timeout, "Timeout"),
            ("start_period", &h.start_period, "StartPeriod"),
        ] {
            put(&mut out, f, duration_ns(k, v)?);
        }
        put(&mut out, "Retries", h.retries);
        body.insert("Healthcheck".into(), Value::Object(out));
    }
    Ok(())
}

/// Host settings: flags, capabilities, DNS, tmpfs, memory and CPUs.
fn host_settings(o: &CreateOpts, host: &mut JMap<String, Value>) -> RhaiResult<()> {
    for (on, field) in [
        (o.init, "Init"),
        (o.privileged, "Privileged"),
        (o.read_only, "ReadonlyRootfs"),
        (o.auto_remove, "AutoRemove"),
    ] {
        put(host, field, on.filter(|on| *on));
    }
    for (value, f) in [
        (&o.cap_add, "CapAdd"),
        (&o.cap_drop, "CapDrop"),
        (&o.extra_hosts, "ExtraHosts"),
        (&o.dns, "Dns"),
    ] {
        put(host, f, value.as_ref());
    }
    put(host, "Tmpfs", o.tmpfs.clone().map(crate::plan::values::tmpfs_map));
    if let Some(m) = &o.memory {
        let bytes = match (m.as_int(), m.as_float()) {
            _ if m.is_string() => {
                crate::units::ram_in_bytes(&m.to_string()).map_err(|e| format!("container::create: memory: {e}"))?
            }
            (Ok(i), _) => i,
            (_, Ok(f)) if f.fract() == 0.0 => f as i64,
            _ => return Err(opts::wrong_type(WHAT, "memory", "an integer", m)),
        };
        host.insert("Memory".into(), json!(bytes));
    }
    put(host, "NanoCpus", o.cpus.map(|c| (c * 1e9) as i64));
    Ok(())
}

/// Networks: the first joins at create, the others right after (the
/// returned list).
fn networks(
    o: &CreateOpts,
    body: &mut JMap<String, Value>,
    host: &mut JMap<String, Value>,
) -> RhaiResult<Vec<(String, Vec<String>)>> {
    let aliases = o.aliases.clone().unwrap_or_default();
    let mut nets: Vec<(String, Vec<String>)> = Vec::new();
    if let Some(n) = o.network.clone() {
        nets.push((n, aliases.clone()));
    }
    match &o.networks {
        Some(v) if v.is_map() => {
            for (name, cfg) in v.clone().cast::<Map>() {
                let a = match cfg.try_cast::<Map>() {
                    Some(m) => opts::read::<NetworkOpts>(&format!("{WHAT} networks"), m)?
                        .aliases
                        .unwrap_or_default(),
                    None => aliases.clone(),
                };
                nets.push((name.to_string(), a));
            }
        }
        Some(v) => {
            for n in opts::strings(WHAT, "networks", v)? {
                nets.push((n, aliases.clone()));
            }
        }
        None => {}
    }
    if let Some((first, a)) = nets.first() {
        host.insert("NetworkMode".into(), json!(first));
        if !matches!(first.as_str(), "host" | "none" | "bridge") && !first.starts_with("container:") {
            body.insert(
                "NetworkingConfig".into(),
                json!({"EndpointsConfig": {first: {"Aliases": a}}}),
            );
        }
    }
    Ok(nets.get(1..).map(<[_]>::to_vec).unwrap_or_default())
}

/// Builds the create request from a script's option map.
pub fn create_spec(map: Map) -> RhaiResult<CreateSpec> {
    let o: CreateOpts = opts::read(WHAT, map)?;
    let mut body = JMap::new();
    let mut host = JMap::new();
    body.insert("Image".into(), json!(opts::need(WHAT, "image", o.image.clone())?));
    let cmd = match command("command", &o.command)? {
        Some(c) => Some(c),
        None => command("cmd", &o.cmd)?,
    };
    put(&mut body, "Cmd", cmd);
    put(&mut body, "Entrypoint", o.entrypoint.as_ref());
    put(
        &mut body,
        "Env",
        o.env.as_ref().map(|env| {
            let mut list: Vec<String> = env.iter().map(|(k, v)| format!("{k}={v}")).collect();
            list.sort();
            list
        }),
    );
    put(&mut body, "Labels", o.labels.as_ref());
    for (value, field) in [
        (&o.working_dir, "WorkingDir"),
        (&o.user, "User"),
        (&o.hostname, "Hostname"),
        (&o.domainname, "Domainname"),
        (&o.stop_signal, "StopSignal"),
    ] {
        put(&mut body, field, value.as_ref());
    }
    put(&mut body, "StopTimeout", o.stop_timeout);
    put(&mut body, "Tty", o.tty.filter(|on| *on));
    put(&mut body, "OpenStdin", o.stdin_open.filter(|on| *on));

    ports(&o, &mut body, &mut host)?;
    volumes(&o, &mut body, &mut host)?;
    restart(&o, &mut host)?;
    healthcheck(&o, &mut body)?;
    host_settings(&o, &mut host)?;
    let extra_networks = networks(&o, &mut body, &mut host)?;

    body.insert("HostConfig".into(), Value::Object(host));
    let mut body = Value::Object(body);
    if let Some(raw) = &o.raw {
        merge(&mut body, to_json(raw)?);
    }
    let body = serde_json::from_value(body).map_err(|e| format!("container::create: {e}"))?;
    Ok(CreateSpec {
        name: o.name.clone(),
        platform: o.platform.clone(),
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
