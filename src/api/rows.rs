//! Work a command does once per container, done natively: at 500
//! containers `ps` spent most of its time building compose's rows and
//! sorting in Rhai (each comparison a closure call copying two label maps),
//! far more than the engine took to list them.
//!
//! ```rhai
//! let list = container::list(#{ label: "com.docker.compose.project=demo" });
//! list.sort_by_key(|c| c.name);
//! print(format_template("{{.Name}} {{.Status}}", compose::ps_rows(list, "demo", true)));
//! ```

use std::cmp::Ordering;

use bollard::models::{MountPoint, PortSummary};
use rhai::plugin::*;
use rhai::{Array, Dynamic, FnPtr, Map, NativeCallContext};

use super::container::Container;
use super::value::call_back;
use super::RhaiResult;

/// Orders two sort keys: numbers by value, strings by text, arrays
/// element by element; a unit sorts first; other kinds by their text.
fn compare(a: &Dynamic, b: &Dynamic) -> Ordering {
    if let (Ok(x), Ok(y)) = (a.as_int(), b.as_int()) {
        return x.cmp(&y);
    }
    // Strings as they are: through `to_string` each comparison made two
    // copies, most of a 500-row sort.
    if let (Ok(x), Ok(y)) = (a.as_immutable_string_ref(), b.as_immutable_string_ref()) {
        return x.as_str().cmp(y.as_str());
    }
    if let (Some(x), Some(y)) = (a.read_lock::<Array>(), b.read_lock::<Array>()) {
        for (p, q) in x.iter().zip(y.iter()) {
            match compare(p, q) {
                Ordering::Equal => {}
                other => return other,
            }
        }
        return x.len().cmp(&y.len());
    }
    match (a.is_unit(), b.is_unit()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Less,
        (false, true) => Ordering::Greater,
        _ => a.to_string().cmp(&b.to_string()),
    }
}

/// Go's net.JoinHostPort: IPv6 addresses in brackets.
fn join_host(ip: &str, port: &str) -> String {
    if ip.contains(':') {
        format!("[{ip}]:{port}")
    } else {
        format!("{ip}:{port}")
    }
}

/// docker/cli's formGroup: "80/tcp", "80-81/tcp", "0.0.0.0:80->80/tcp".
fn form_group(key: &str, first: i64, last: i64) -> String {
    let group = if first == last {
        first.to_string()
    } else {
        format!("{first}-{last}")
    };
    match key.split_once('/') {
        Some((ip, proto)) => format!("{}->{group}/{proto}", join_host(ip, &group)),
        None => format!("{group}/{key}"),
    }
}

fn port_type(p: &PortSummary) -> String {
    p.typ.map(|t| t.to_string()).unwrap_or_default()
}

/// Docker's port column (docker/cli's DisplayablePorts): sorted by private
/// port, IP, public port, protocol; consecutive ports published on the
/// same number grouped as ranges; other mappings after them.
fn ports(list: &[PortSummary]) -> String {
    let mut sorted: Vec<&PortSummary> = list.iter().collect();
    sorted.sort_by(|a, b| {
        (
            a.private_port,
            a.ip.as_deref().unwrap_or(""),
            a.public_port.unwrap_or(0),
            port_type(a),
        )
            .cmp(&(
                b.private_port,
                b.ip.as_deref().unwrap_or(""),
                b.public_port.unwrap_or(0),
                port_type(b),
            ))
    });
    let mut groups: Vec<(String, i64, i64)> = Vec::new();
    let mut result = Vec::new();
    let mut mappings = Vec::new();
    for p in sorted {
        let current = i64::from(p.private_port);
        let mut key = port_type(p);
        let ip = p.ip.as_deref().unwrap_or("");
        if !ip.is_empty() {
            let public = i64::from(p.public_port.unwrap_or(0));
            if public != current {
                mappings.push(format!("{}->{current}/{key}", join_host(ip, &public.to_string())));
                continue;
            }
            key = format!("{ip}/{key}");
        }
        match groups.iter_mut().find(|g| g.0 == key) {
            None => groups.push((key, current, current)),
            Some(g) if current == g.2 + 1 => g.2 = current,
            Some(g) => {
                result.push(form_group(&g.0, g.1, g.2));
                (g.1, g.2) = (current, current);
            }
        }
    }
    result.extend(groups.iter().map(|g| form_group(&g.0, g.1, g.2)));
    result.extend(mappings);
    result.join(", ")
}

/// The first `n` characters of `s` and "…" when it is longer than `max`.
fn cut(s: &str, max: usize, n: usize) -> String {
    if s.chars().count() > max {
        s.chars().take(n).collect::<String>() + "…"
    } else {
        s.to_string()
    }
}

fn text(info: &Map, key: &str) -> String {
    info.get(key)
        .map(|v| match v.as_immutable_string_ref() {
            Ok(s) => s.as_str().to_owned(),
            Err(_) => v.to_string(),
        })
        .unwrap_or_default()
}

fn decoded<T: serde::de::DeserializeOwned>(info: &Map, key: &str) -> Vec<T> {
    info.get(key)
        .and_then(|v| rhai::serde::from_dynamic(v).ok())
        .unwrap_or_default()
}

/// Compose's health from the status text.
fn health(status: &str) -> &'static str {
    if status.contains("(healthy)") {
        "healthy"
    } else if status.contains("(unhealthy)") {
        "unhealthy"
    } else if status.contains("(health: starting)") {
        "starting"
    } else {
        ""
    }
}

/// The labels as compose's `k=v` list (Rhai's maps keep their keys
/// sorted: compose's order).
fn labels(c: &Container) -> String {
    c.with_labels(|m| {
        let text: Vec<String> = m.iter().map(|(k, v)| format!("{k}={v}")).collect();
        text.join(",")
    })
    .unwrap_or_default()
}

/// The service label, `()` when there is none.
fn service(c: &Container) -> Dynamic {
    c.with_labels(|m| m.get(crate::plan::desired::LABEL_SERVICE).cloned())
        .flatten()
        .unwrap_or(Dynamic::UNIT)
}

/// The mounts' names (cut as compose's table cuts them) and how many are
/// local volumes.
fn mounts(info: &Map, trunc: bool) -> (Vec<String>, usize) {
    let mut names = Vec::new();
    let mut local = 0;
    for m in decoded::<MountPoint>(info, "mounts") {
        let name = m
            .name
            .clone()
            .filter(|n| !n.is_empty())
            .or(m.source.clone())
            .unwrap_or_default();
        names.push(if trunc { cut(&name, 15, 14) } else { name });
        if m.driver.as_deref() == Some("local") {
            local += 1;
        }
    }
    (names, local)
}

/// compose's `Publishers`: the ports by container port.
fn publishers(ports: &[PortSummary]) -> Array {
    let mut by_private: Vec<&PortSummary> = ports.iter().collect();
    by_private.sort_by_key(|p| p.private_port);
    by_private
        .iter()
        .map(|p| {
            let mut m = Map::new();
            m.insert("URL".into(), p.ip.clone().unwrap_or_default().into());
            m.insert("TargetPort".into(), i64::from(p.private_port).into());
            m.insert("PublishedPort".into(), i64::from(p.public_port.unwrap_or(0)).into());
            m.insert("Protocol".into(), port_type(p).into());
            Dynamic::from(m)
        })
        .collect()
}

/// Compose's JSON row (its ContainerSummary) of one listed container: the
/// fields `only` names, or all of them.
fn row(c: &Container, project: &str, trunc: bool, now: i64, only: Option<&[String]>) -> Map {
    let want = |k: &str| only.is_none_or(|o| o.iter().any(|f| f == k));
    let info = &c.info;
    let mut out = Map::new();
    let mut put = |k: &str, v: &dyn Fn() -> Dynamic| {
        if want(k) {
            out.insert(k.into(), v());
        }
    };
    let status = text(info, "status");
    let created = info.get("created").and_then(|v| v.as_int().ok()).unwrap_or(0);
    // What two fields share is worked out once, and only if one is wanted.
    let mount_parts = if want("Mounts") || want("LocalVolumes") {
        mounts(info, trunc)
    } else {
        Default::default()
    };
    let port_list: Vec<PortSummary> = if want("Ports") || want("Publishers") {
        decoded(info, "ports")
    } else {
        Vec::new()
    };
    put("Command", &|| {
        let command = text(info, "command");
        let command = if trunc { cut(&command, 20, 19) } else { command };
        // Go's strconv.Quote, as far as the engine's command text goes.
        format!("\"{}\"", command.replace('\\', "\\\\").replace('"', "\\\"")).into()
    });
    put("CreatedAt", &|| super::format::go_time_utc(created).into());
    put("ExitCode", &|| {
        let code = status
            .strip_prefix("Exited (")
            .and_then(|rest| rest.split_once(')'))
            .and_then(|(code, _)| code.parse::<i64>().ok());
        code.unwrap_or(0).into()
    });
    put("Health", &|| health(&status).into());
    put("ID", &|| {
        let id: String = if trunc {
            c.id.chars().take(12).collect()
        } else {
            c.id.clone()
        };
        id.into()
    });
    put("Image", &|| info.get("image").cloned().unwrap_or(Dynamic::UNIT));
    put("Labels", &|| labels(c).into());
    put("LocalVolumes", &|| mount_parts.1.to_string().into());
    put("Mounts", &|| mount_parts.0.join(",").into());
    put("Name", &|| c.name.clone().into());
    put("Names", &|| c.name.clone().into());
    put("Networks", &|| decoded::<String>(info, "networks").join(",").into());
    put("Ports", &|| ports(&port_list).into());
    put("Project", &|| project.into());
    put("Service", &|| service(c));
    put("Publishers", &|| publishers(&port_list).into());
    put("RunningFor", &|| {
        format!("{} ago", super::util::human_duration(now - created)).into()
    });
    put("Size", &|| "0B".into());
    put("State", &|| info.get("state").cloned().unwrap_or(Dynamic::UNIT));
    put("Status", &|| status.clone().into());
    out
}

fn rows(list: &[Dynamic], project: &str, trunc: bool, only: Option<&[String]>) -> Array {
    let now = crate::api::util::unix_now_secs() as i64;
    list.iter()
        .filter_map(|c| {
            c.read_lock::<Container>()
                .map(|c| row(&c, project, trunc, now, only).into())
        })
        .collect()
}

#[export_module]
pub mod compose_api {
    /// Docker Compose's `ps` rows (its ContainerSummary, the data of
    /// `--format`) for listed containers of `project`: `Name`, `Image`,
    /// `Command` (quoted, cut at 20 characters when `trunc`), `Service`,
    /// `RunningFor`, `Status`, `Ports` (Docker's port column), `State`,
    /// `Health`, `ExitCode`, `ID`, `Labels`, `Mounts`, `Networks`,
    /// `Publishers` …
    ///
    /// ```rhai
    /// let rows = compose::ps_rows(container::list(#{ label: "com.docker.compose.project=demo" }), "demo", true);
    /// print(format_template("{{.Name}}\t{{.Ports}}", rows));
    /// ```
    #[rhai_fn(pure)]
    pub fn ps_rows(list: &mut Array, project: &str, trunc: bool) -> Array {
        super::rows(list, project, trunc, None)
    }

    /// `ps_rows` with only the fields in `fields` (`template_fields` of
    /// the `--format` about to render them), or all of them when
    /// `fields` is `()`: a table of 500 rows reads 7 of the 22.
    ///
    /// ```rhai
    /// let format = "table {{.Name}}\t{{.Status}}";
    /// let rows = compose::ps_rows(container::list(#{ label: "com.docker.compose.project=demo" }), "demo", true, template_fields(format));
    /// print(format_template(format, rows));
    /// ```
    #[rhai_fn(pure, name = "ps_rows")]
    pub fn ps_rows_of(list: &mut Array, project: &str, trunc: bool, fields: Dynamic) -> Array {
        let only: Option<Vec<String>> = fields
            .try_cast::<Array>()
            .map(|a| a.into_iter().map(|f| f.to_string()).collect());
        super::rows(list, project, trunc, only.as_deref())
    }
}

/// See `global_api::natural_key`.
fn natural_key(name: &str) -> String {
    fn flush(key: &mut String, run: &mut String) {
        for _ in run.len()..20 {
            key.push('0');
        }
        key.push_str(run);
        run.clear();
    }
    let mut key = String::with_capacity(name.len() + 20);
    let mut run = String::new();
    for c in name.chars() {
        if c.is_ascii_digit() {
            run.push(c);
            continue;
        }
        if !run.is_empty() {
            flush(&mut key, &mut run);
        }
        key.push(c);
    }
    if !run.is_empty() {
        flush(&mut key, &mut run);
    }
    key
}

#[export_module]
pub mod global_api {
    /// The docker CLI's natural order (`sortorder.NaturalLess`: `s2`
    /// before `s10`) as a sort key: each run of digits padded with zeros
    /// to 20 places, so keys compare as text.
    ///
    /// ```rhai
    /// let names = ["s10", "s2"];
    /// names.sort_by_key(|n| natural_key(n));   // ["s2", "s10"]
    /// ```
    #[rhai_fn(global)]
    pub fn natural_key(name: &str) -> String {
        super::natural_key(name)
    }

    /// Sorts the array in place by `key(item)`, computed once per item:
    /// numbers by value, strings by text, arrays (`[service, number]`)
    /// element by element. Stable. Much cheaper than `sort` with a
    /// comparison closure on long lists.
    ///
    /// ```rhai
    /// let list = container::list();
    /// list.sort_by_key(|c| [c.labels["com.docker.compose.service"], c.name]);
    /// ```
    #[rhai_fn(global, return_raw)]
    pub fn sort_by_key(ctx: NativeCallContext, list: &mut Array, key: FnPtr) -> RhaiResult<()> {
        // Each item goes to `key` shared, not copied: a container's
        // copy (its whole engine record) was most of a 500-row sort.
        let items: Vec<Dynamic> = std::mem::take(list).into_iter().map(Dynamic::into_shared).collect();
        let mut keyed = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            match call_back(&ctx, &key, vec![item.clone()], 1) {
                Ok(k) => keyed.push((k, i)),
                Err(e) => {
                    // On a failing key the list stays whole, in its old order.
                    *list = items.into_iter().map(Dynamic::flatten).collect();
                    return Err(e);
                }
            }
        }
        keyed.sort_by(|a, b| super::compare(&a.0, &b.0));
        let mut items: Vec<Option<Dynamic>> = items.into_iter().map(Some).collect();
        *list = keyed
            .into_iter()
            .filter_map(|(_, i)| items[i].take())
            .map(Dynamic::flatten)
            .collect();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use bollard::models::{PortSummary, PortSummaryTypeEnum};
    use rhai::Dynamic;

    #[test]
    fn natural_keys_order_digit_runs_by_value() {
        let mut names = ["f_s10.1", "f_s2.1", "f_s1.10", "f_s1.9", "a", "node38x", "node9x"];
        names.sort_by_key(|n| super::natural_key(n));
        assert_eq!(
            names,
            ["a", "f_s1.9", "f_s1.10", "f_s2.1", "f_s10.1", "node9x", "node38x"]
        );
        assert_eq!(super::natural_key("s12"), format!("s{}12", "0".repeat(18)));
    }

    fn port(ip: &str, private: u16, public: Option<u16>) -> PortSummary {
        PortSummary {
            ip: (!ip.is_empty()).then(|| ip.to_string()),
            private_port: private,
            public_port: public,
            typ: Some(PortSummaryTypeEnum::TCP),
        }
    }

    #[test]
    fn ports_group_as_docker_does() {
        let list = [
            port("0.0.0.0", 81, Some(81)),
            port("0.0.0.0", 80, Some(80)),
            port("", 9000, None),
            port("::", 80, Some(80)),
            port("0.0.0.0", 443, Some(8443)),
            port("0.0.0.0", 90, Some(90)),
        ];
        assert_eq!(
            super::ports(&list),
            "0.0.0.0:80-81->80-81/tcp, 0.0.0.0:90->90/tcp, [::]:80->80/tcp, 9000/tcp, 0.0.0.0:8443->443/tcp"
        );
        assert_eq!(super::ports(&[]), "");
    }

    #[test]
    fn keys_compare_by_kind() {
        use std::cmp::Ordering::*;
        let key = |s: &str, n: i64| Dynamic::from(vec![Dynamic::from(s.to_string()), Dynamic::from(n)]);
        assert_eq!(super::compare(&key("web", 2), &key("web", 10)), Less);
        assert_eq!(super::compare(&key("db", 9), &key("web", 1)), Less);
        assert_eq!(super::compare(&Dynamic::UNIT, &Dynamic::from("a".to_string())), Less);
        assert_eq!(super::compare(&Dynamic::from(3_i64), &Dynamic::from(3_i64)), Equal);
    }
}
