//! A normalised snapshot of what the engine holds for one side's project:
//! containers, networks, volumes and the images built for it. Names, IDs,
//! folders and host ports of the side are replaced by placeholders
//! (`P`, `<DIR>`, `<PORT1>`, `<ctr:P-web-1>`, `img:…`) so two sides compare.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;

use serde_json::{json, Map, Value};

use crate::refview::{file_targets, History};
use crate::tool::{docker, Side};

/// Literal replacements, applied to every string of a snapshot.
pub struct Subst {
    pairs: Vec<(String, String)>,
    ports: Vec<(String, String)>,
}

impl Subst {
    pub fn new(side: &Side) -> Subst {
        let mut pairs = vec![(side.project.clone(), "P".to_string())];
        let dir = side.dir.to_string_lossy().into_owned();
        if let Ok(real) = side.dir.canonicalize() {
            pairs.push((real.to_string_lossy().into_owned(), "<DIR>".into()));
        }
        pairs.push((dir, "<DIR>".into()));
        pairs.push((format!("10.{}.", side.net), "10.<NET>.".into()));
        let ports = side
            .ports
            .iter()
            .enumerate()
            .map(|(i, p)| (p.to_string(), format!("<PORT{}>", i + 1)))
            .collect();
        Subst { pairs, ports }
    }

    pub fn add(&mut self, from: &str, to: &str) {
        if !from.is_empty() {
            self.pairs.push((from.to_string(), to.to_string()));
        }
    }

    pub fn apply(&self, s: &str) -> String {
        let mut pairs: Vec<&(String, String)> = self.pairs.iter().collect();
        pairs.sort_by_key(|(f, _)| std::cmp::Reverse(f.len()));
        let mut out = s.to_string();
        for (f, t) in pairs {
            if out.contains(f.as_str()) {
                out = out.replace(f.as_str(), t);
            }
        }
        for (p, t) in &self.ports {
            out = replace_number(&out, p, t);
        }
        if is_hex64(out.trim_start_matches("sha256:")) {
            return "<id>".into();
        }
        out
    }

    /// Every string (and number equal to a port) of a value, recursively;
    /// map keys too.
    pub fn value(&self, v: &Value) -> Value {
        match v {
            Value::String(s) => Value::String(self.apply(s)),
            Value::Number(n) => match self.ports.iter().find(|(p, _)| *p == n.to_string()) {
                Some((_, t)) => Value::String(t.clone()),
                None => v.clone(),
            },
            Value::Array(a) => Value::Array(a.iter().map(|x| self.value(x)).collect()),
            Value::Object(m) => Value::Object(m.iter().map(|(k, x)| (self.apply(k), self.value(x))).collect()),
            _ => v.clone(),
        }
    }
}

/// Anonymous volumes seen on each project's containers. Both tools leave
/// them when a scenario's own `down` (without `-v`) removes their
/// containers, so the runner's cleanup asks for them here instead of
/// looking only at the containers left at the end.
static ANONYMOUS: Mutex<BTreeMap<String, BTreeSet<String>>> = Mutex::new(BTreeMap::new());

/// The anonymous volumes seen on `project`'s containers in any snapshot.
pub fn anonymous_volumes(project: &str) -> BTreeSet<String> {
    ANONYMOUS
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .remove(project)
        .unwrap_or_default()
}

fn remember_anonymous(project: &str, ctrs: &[Value]) {
    let names = ctrs
        .iter()
        .flat_map(|c| c["Mounts"].as_array().into_iter().flatten())
        .filter(|m| m["Type"] == "volume")
        .filter_map(|m| m["Name"].as_str().filter(|n| is_hex64(n)));
    let mut seen = ANONYMOUS.lock().unwrap_or_else(|e| e.into_inner());
    seen.entry(project.to_string())
        .or_default()
        .extend(names.map(str::to_string));
}

fn is_hex64(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Replaces `num` where it is not part of a longer number.
fn replace_number(s: &str, num: &str, to: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find(num) {
        let before = rest[..i].chars().last().is_some_and(|c| c.is_ascii_digit());
        let after = rest[i + num.len()..].chars().next().is_some_and(|c| c.is_ascii_digit());
        out.push_str(&rest[..i]);
        out.push_str(if before || after { num } else { to });
        rest = &rest[i + num.len()..];
    }
    out.push_str(rest);
    out
}

/// The engine objects of one side, normalised, and the container IDs by
/// normalised name (to tell recreated containers at the next step).
pub struct Snap {
    pub value: Value,
    pub ids: BTreeMap<String, String>,
    pub subst: Subst,
}

fn lines(s: String) -> Vec<String> {
    s.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

/// IDs of a kind of object carrying the project's label or named after it.
fn project_ids(kind: &[&str], project: &str, fmt: &str) -> Vec<String> {
    let label = format!("label=com.docker.compose.project={project}");
    let name = format!("name={project}");
    let mut ids = Vec::new();
    for filter in [label, name] {
        let mut args: Vec<&str> = kind.to_vec();
        args.extend(["--filter", &filter, "--format", fmt]);
        for l in lines(docker(&args)) {
            let (id, n) = l.split_once(' ').unwrap_or((&l, ""));
            let named = n.trim_start_matches('/').starts_with(&format!("{project}-"))
                || n.trim_start_matches('/').starts_with(&format!("{project}_"));
            let labelled = filter.starts_with("label");
            if (labelled || named) && !ids.contains(&id.to_string()) {
                ids.push(id.to_string());
            }
        }
    }
    ids
}

fn inspect(kind: &str, ids: &[String]) -> Vec<Value> {
    if ids.is_empty() {
        return Vec::new();
    }
    let mut args = vec![kind, "inspect"];
    args.extend(ids.iter().map(String::as_str));
    serde_json::from_str(&docker(&args)).unwrap_or_default()
}

/// Takes the snapshot. `prev` are the container IDs of the previous step.
/// `gone` holds the IDs of containers seen at earlier steps (ID → name),
/// so a reference to a removed container reads `<old:P-web-1>`.
pub fn take(side: &Side, hist: &History, prev: &BTreeMap<String, String>, gone: &BTreeMap<String, String>) -> Snap {
    let p = &side.project;
    let ctr_ids = project_ids(&["ps", "-a", "--no-trunc"], p, "{{.ID}} {{.Names}}");
    let ctrs = inspect("container", &ctr_ids);
    remember_anonymous(p, &ctrs);
    let mut subst = Subst::new(side);
    for (id, name) in gone.iter().filter(|(id, _)| !ctr_ids.contains(id)) {
        subst.add(id, &format!("<old:{name}>"));
        subst.add(&id[..12.min(id.len())], &format!("<old:{name}>"));
    }
    let mut ids = BTreeMap::new();
    for c in &ctrs {
        let id = c["Id"].as_str().unwrap_or_default();
        let name = subst.apply(c["Name"].as_str().unwrap_or_default().trim_start_matches('/'));
        subst.add(id, &format!("<ctr:{name}>"));
        subst.add(&id[..12.min(id.len())], &format!("<ctr:{name}>"));
        ids.insert(name, id.to_string());
    }
    // Config hashes inside other strings (`ps --format json`'s Labels).
    for (hash, name) in &hist.names {
        subst.add(hash, name);
    }
    let images = images(side, &ctrs);
    for (id, token) in &images.tokens {
        subst.add(id, token);
        // Without the digest prefix, whole (`images -q`) or cut to 12
        // (`images`' IMAGE ID column).
        let hex = id.trim_start_matches("sha256:");
        subst.add(hex, token);
        subst.add(&hex[..12.min(hex.len())], token);
    }
    let mut containers = Map::new();
    for c in &ctrs {
        let name = subst.apply(c["Name"].as_str().unwrap_or_default().trim_start_matches('/'));
        let mut v = container(c, &subst, hist);
        let change = match prev.get(&name) {
            None => "created",
            Some(old) if Some(old.as_str()) == c["Id"].as_str() => "kept",
            Some(_) => "recreated",
        };
        v["change"] = json!(change);
        let svc = c["Config"]["Labels"]["com.docker.compose.service"]
            .as_str()
            .unwrap_or_default();
        let id = c["Id"].as_str().unwrap_or_default();
        let files: Map<String, Value> = file_targets(&hist.current.doc, svc)
            .into_iter()
            .map(|path| {
                let f = read_file(id, &path, &subst);
                (path, f)
            })
            .collect();
        if !files.is_empty() {
            v["Files"] = Value::Object(files);
        }
        containers.insert(name, v);
    }
    let networks = objects("network", p, &subst, network);
    let volumes = objects("volume", p, &subst, volume);
    let value = json!({
        "containers": containers,
        "networks": networks,
        "volumes": volumes,
        "images": images.built,
    });
    Snap { value, ids, subst }
}

/// Removes keys by dotted path.
fn drop_paths(v: &mut Value, paths: &[&str]) {
    for path in paths {
        let mut cur = &mut *v;
        let parts: Vec<&str> = path.split('.').collect();
        for (i, part) in parts.iter().enumerate() {
            if i + 1 == parts.len() {
                if let Some(m) = cur.as_object_mut() {
                    m.remove(*part);
                }
            } else {
                match cur.get_mut(*part) {
                    Some(next) => cur = next,
                    None => break,
                }
            }
        }
    }
}

const CONTAINER_VOLATILE: &[&str] = &[
    "Id",
    "Created",
    "Name",
    "ResolvConfPath",
    "HostnamePath",
    "HostsPath",
    "LogPath",
    "ExecIDs",
    "GraphDriver",
    "SizeRw",
    "SizeRootFs",
    "MountLabel",
    "ProcessLabel",
    "State.Pid",
    "State.StartedAt",
    "State.FinishedAt",
    "State.Health.Log",
    "State.Health.FailingStreak",
    "NetworkSettings.Bridge",
    "NetworkSettings.SandboxID",
    "NetworkSettings.HairpinMode",
    "NetworkSettings.LinkLocalIPv6Address",
    "NetworkSettings.LinkLocalIPv6PrefixLen",
    "NetworkSettings.SandboxKey",
    "NetworkSettings.SecondaryIPAddresses",
    "NetworkSettings.SecondaryIPv6Addresses",
    "NetworkSettings.EndpointID",
    "NetworkSettings.Gateway",
    "NetworkSettings.GlobalIPv6Address",
    "NetworkSettings.GlobalIPv6PrefixLen",
    "NetworkSettings.IPAddress",
    "NetworkSettings.IPPrefixLen",
    "NetworkSettings.IPv6Gateway",
    "NetworkSettings.MacAddress",
];

const ENDPOINT_VOLATILE: &[&str] = &[
    "NetworkID",
    "EndpointID",
    "Gateway",
    "IPAddress",
    "IPPrefixLen",
    "IPv6Gateway",
    "GlobalIPv6Address",
    "GlobalIPv6PrefixLen",
    "MacAddress",
];

fn container(c: &Value, subst: &Subst, hist: &History) -> Value {
    let mut v = c.clone();
    drop_paths(&mut v, CONTAINER_VOLATILE);
    // Whether the first probe has run yet is a matter of timing.
    if matches!(v["State"]["Health"]["Status"].as_str(), Some("starting" | "healthy")) {
        v["State"]["Health"]["Status"] = json!("starting or healthy");
    }
    if let Some(env) = v["Config"]["Env"].as_array_mut() {
        env.sort_by_key(|e| e.as_str().unwrap_or_default().to_string());
    }
    // compose-go keeps extra_hosts in a Go map: compose sends them in a
    // random order (the engine writes /etc/hosts in that order).
    if let Some(hosts) = v["HostConfig"]["ExtraHosts"].as_array_mut() {
        hosts.sort_by_key(|e| e.as_str().unwrap_or_default().to_string());
    }
    // On the legacy bridge the engine rebuilds HostConfig.Links from its
    // link graph (a Go map): a random order, whoever sent them.
    if let Some(links) = v["HostConfig"]["Links"].as_array_mut() {
        links.sort_by_key(|e| e.as_str().unwrap_or_default().to_string());
    }
    // Ulimits too (a Go map in compose-go).
    if let Some(u) = v["HostConfig"]["Ulimits"].as_array_mut() {
        u.sort_by_key(|e| e["Name"].as_str().unwrap_or_default().to_string());
    }
    // compose joins depends_on from a Go map: a random order.
    if let Some(d) = v["Config"]["Labels"]["com.docker.compose.depends_on"].as_str() {
        let mut parts: Vec<&str> = d.split(',').collect();
        parts.sort();
        v["Config"]["Labels"]["com.docker.compose.depends_on"] = json!(parts.join(","));
    }
    if let Some(h) = v["Config"]["Labels"]["com.docker.compose.config-hash"].as_str() {
        v["Config"]["Labels"]["com.docker.compose.config-hash"] = json!(hist.hash_name(h));
    }
    let mut mounts = Map::new();
    for m in c["Mounts"].as_array().into_iter().flatten() {
        let mut m = m.clone();
        if m["Type"] == "volume" {
            drop_paths(&mut m, &["Source"]);
            if m["Name"].as_str().is_some_and(is_hex64) {
                m["Name"] = json!("<anonymous>");
            }
        }
        let dest = m["Destination"].as_str().unwrap_or_default().to_string();
        mounts.insert(dest, m);
    }
    v["Mounts"] = Value::Object(mounts);
    if let Some(nets) = v["NetworkSettings"]["Networks"].as_object_mut() {
        for ep in nets.values_mut() {
            drop_paths(ep, ENDPOINT_VOLATILE);
        }
    }
    let mut v = subst.value(&v);
    // compose fills Binds and Mounts from a Go map: their order is random.
    if let Some(b) = v["HostConfig"]["Binds"].as_array_mut() {
        b.sort_by_key(|x| x.as_str().unwrap_or_default().to_string());
    }
    if let Some(m) = v["HostConfig"]["Mounts"].as_array_mut() {
        m.sort_by_key(|x| x["Target"].as_str().unwrap_or_default().to_string());
    }
    for ep in v["NetworkSettings"]["Networks"]
        .as_object_mut()
        .into_iter()
        .flat_map(|m| m.values_mut())
    {
        if let Some(a) = ep["Aliases"].as_array_mut() {
            a.sort_by_key(|x| x.as_str().unwrap_or_default().to_string());
        }
    }
    ephemeral_ports(&mut v);
    prune_empty(&mut v);
    v
}

/// Host ports the engine picked (`ports: ["80"]`, ranges without a host
/// side) differ per run: every published port that is not one of the
/// side's `DT_PORT_N` (already `<PORTN>`) reads `<ephemeral>`.
fn ephemeral_ports(v: &mut Value) {
    for bindings in v["NetworkSettings"]["Ports"]
        .as_object_mut()
        .into_iter()
        .flat_map(|m| m.values_mut())
    {
        for b in bindings.as_array_mut().into_iter().flatten() {
            if b["HostPort"]
                .as_str()
                .is_some_and(|p| !p.is_empty() && !p.starts_with("<PORT"))
            {
                b["HostPort"] = json!("<ephemeral>");
            }
        }
    }
}

/// The engine reports an unset list as `null` or `[]` depending on how it
/// was created; both mean the same, so empty values are dropped.
pub fn prune_empty(v: &mut Value) {
    if let Some(m) = v.as_object_mut() {
        for x in m.values_mut() {
            prune_empty(x);
        }
        m.retain(|_, x| !is_empty(x));
    }
}

fn is_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Array(a) => a.is_empty(),
        Value::Object(m) => m.is_empty(),
        _ => false,
    }
}

/// Reads a file out of a container (works on stopped ones): mode, owner
/// and content (short text as is, else its SHA-256).
fn read_file(id: &str, path: &str, subst: &Subst) -> Value {
    let out = std::process::Command::new("docker")
        .args(["cp", &format!("{id}:{path}"), "-"])
        .output();
    let Ok(out) = out else { return json!("docker cp failed") };
    if !out.status.success() {
        return json!("<missing>");
    }
    let mut ar = tar::Archive::new(&out.stdout[..]);
    let Ok(mut entries) = ar.entries() else {
        return json!("<bad archive>");
    };
    let Some(Ok(mut e)) = entries.next() else {
        return json!("<empty archive>");
    };
    let h = e.header().clone();
    let mut data = Vec::new();
    let _ = std::io::Read::read_to_end(&mut e, &mut data);
    let content = match String::from_utf8(data.clone()) {
        Ok(s) if s.len() <= 80 => json!(subst.apply(&s)),
        _ => {
            use sha2::{Digest, Sha256};
            json!(format!("sha256:{:x}", Sha256::digest(&data))
                .chars()
                .take(24)
                .collect::<String>())
        }
    };
    json!({
        "type": format!("{:?}", h.entry_type()),
        "mode": format!("{:o}", h.mode().unwrap_or(0)),
        "uid": h.uid().unwrap_or(0),
        "gid": h.gid().unwrap_or(0),
        "content": content,
    })
}

fn objects(kind: &str, project: &str, subst: &Subst, norm: fn(&Value, &Subst) -> Value) -> Value {
    let ids = project_ids(&[kind, "ls"], project, "{{.Name}} {{.Name}}");
    let mut out = Map::new();
    for o in inspect(kind, &ids) {
        let name = subst.apply(o["Name"].as_str().unwrap_or_default());
        out.insert(name, norm(&o, subst));
    }
    Value::Object(out)
}

/// Compose's config-hash of networks and volumes covers their project
/// name, so the two sides' hashes differ by construction: only presence
/// is compared (interop steps check that each tool accepts the other's).
fn hide_hash(v: &mut Value) {
    if let Some(l) = v["Labels"].as_object_mut() {
        if l.contains_key("com.docker.compose.config-hash") {
            l.insert("com.docker.compose.config-hash".into(), json!("<present>"));
        }
    }
}

fn network(n: &Value, subst: &Subst) -> Value {
    let mut v = n.clone();
    drop_paths(&mut v, &["Id", "Created", "Containers", "Name"]);
    hide_hash(&mut v);
    let mut v = subst.value(&v);
    // Subnets the engine picked differ per run; a fixture's own
    // (`10.${DT_NET}...`, now `10.<NET>...`) compare.
    for c in v["IPAM"]["Config"].as_array_mut().into_iter().flatten() {
        for key in ["Subnet", "Gateway", "IPRange"] {
            if !c[key].as_str().is_some_and(|a| a.contains("<NET>")) {
                drop_paths(c, &[key]);
            }
        }
    }
    prune_empty(&mut v);
    v
}

fn volume(n: &Value, subst: &Subst) -> Value {
    let mut v = n.clone();
    drop_paths(&mut v, &["CreatedAt", "Mountpoint", "Name"]);
    hide_hash(&mut v);
    let mut v = subst.value(&v);
    prune_empty(&mut v);
    v
}

struct Images {
    /// image ID → `img:NAME`
    tokens: Vec<(String, String)>,
    /// the project's own images (named after it or labelled with it)
    built: Value,
}

/// Names image IDs: an image used by a container is `img:REF` when REF
/// (its configured name) still points at it, else `img:REF(stale)`.
fn images(side: &Side, ctrs: &[Value]) -> Images {
    let p = &side.project;
    let mut refs: Vec<String> = ctrs
        .iter()
        .filter_map(|c| c["Config"]["Image"].as_str().map(str::to_string))
        .collect();
    let label = format!("label=com.docker.compose.project={p}");
    let reference = format!("reference={p}*");
    let mut own = lines(docker(&[
        "images",
        "--filter",
        &label,
        "--format",
        "{{.Repository}}:{{.Tag}}",
    ]));
    own.extend(lines(docker(&[
        "images",
        "--filter",
        &reference,
        "--format",
        "{{.Repository}}:{{.Tag}}",
    ])));
    own.retain(|r| !r.contains("<none>"));
    own.sort();
    own.dedup();
    refs.extend(own.iter().cloned());
    refs.sort();
    refs.dedup();
    let mut tokens = Vec::new();
    let subst = Subst::new(side);
    let mut built = Map::new();
    for r in &refs {
        let found = inspect("image", std::slice::from_ref(r));
        let Some(img) = found.first() else { continue };
        let id = img["Id"].as_str().unwrap_or_default().to_string();
        tokens.push((id.clone(), format!("img:{}", subst.apply(r))));
        if own.contains(r) {
            // Only this side's names: a retagged shared image also carries
            // other projects' tags.
            let mut tags: Vec<String> = img["RepoTags"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|t| t.as_str())
                .filter(|t| t.contains(p.as_str()))
                .map(|t| subst.apply(t))
                .collect();
            tags.sort();
            built.insert(
                subst.apply(r),
                json!({"RepoTags": tags, "Labels": subst.value(&img["Config"]["Labels"])}),
            );
        }
    }
    // An ID no configured name points at any more: the container runs a
    // stale image.
    for c in ctrs {
        let id = c["Image"].as_str().unwrap_or_default();
        if !tokens.iter().any(|(i, _)| i == id) {
            let r = subst.apply(c["Config"]["Image"].as_str().unwrap_or_default());
            tokens.push((id.to_string(), format!("img:{r}(stale)")));
        }
    }
    Images {
        tokens,
        built: Value::Object(built),
    }
}
