//! Secrets and configs outside Swarm, as Docker Compose applies them: a
//! `file` source is bind-mounted read-only (secrets at `/run/secrets/NAME`
//! or their target, configs at `/NAME` or theirs); an `environment` or
//! `content` source is written into the container through the archive API
//! before it starts, with its `mode`, `uid` and `gid`.

use std::collections::{BTreeSet, HashMap};

use serde_json::{json, Map, Value};

/// Where an injected file's content comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    Content(String),
    /// A variable of the project's environment, read at plan time.
    Env(String),
    /// `use_api_socket`'s Docker CLI config, read when containers are
    /// about to be created or started (see `apisocket`).
    CliConfig,
}

/// A file written into a container before it starts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Inject {
    /// "secret" or "config" (for messages).
    pub kind: &'static str,
    /// The object's engine-side name (`<project>_<key>` unless named).
    pub name: String,
    pub target: String,
    pub source: Source,
    pub mode: u32,
    pub uid: Option<u64>,
    pub gid: Option<u64>,
}

/// What a service's `secrets:` and `configs:` add to its container.
#[derive(Clone, Debug, Default)]
pub struct FileRefs {
    /// Engine `Mounts` (bind, read-only) for `file` sources.
    pub mounts: Vec<Value>,
    pub injects: Vec<Inject>,
    pub warnings: Vec<String>,
    /// Why compose would refuse to create the container (an external or
    /// driver-backed object, a `file` source that does not exist).
    pub errors: Vec<String>,
}

fn target_of(kind: &str, source: &str, target: Option<&str>) -> String {
    let base = if kind == "secret" { "/run/secrets/" } else { "/" };
    match target.filter(|t| !t.is_empty()) {
        None => format!("{base}{source}"),
        Some(t) if t.starts_with('/') => t.to_string(),
        Some(t) => format!("{base}{t}"),
    }
}

/// `mode` as compose-go prints it: an octal string ("0400"), or a number.
fn mode_of(v: &Value) -> crate::error::Result<Option<u32>> {
    match v {
        Value::Null => Ok(None),
        Value::Number(n) => Ok(n.as_u64().map(|m| m as u32)),
        Value::String(s) => u32::from_str_radix(s.trim_start_matches("0o"), 8)
            .map(Some)
            .map_err(|_| format!("invalid file mode {s:?}").into()),
        _ => Err(format!("invalid file mode {v}").into()),
    }
}

fn id_of(v: &Value) -> crate::error::Result<Option<u64>> {
    match super::values::s(v).filter(|x| !x.is_empty()) {
        None => Ok(None),
        Some(x) => x
            .parse()
            .map(Some)
            .map_err(|_| format!("strconv.Atoi: parsing {x:?}: invalid syntax").into()),
    }
}

/// The service's secret and config references, resolved against the
/// project's top-level `secrets:` and `configs:`. Errors are compose's.
pub fn file_refs(doc: &Value, svc: &Value) -> crate::error::Result<FileRefs> {
    let mut out = FileRefs::default();
    // A volume at the same target wins, then a secret over a config.
    let mut taken: BTreeSet<String> = svc["volumes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v["target"].as_str().map(str::to_string))
        .collect();
    for (kind, section) in [("secret", "secrets"), ("config", "configs")] {
        for r in svc[section].as_array().into_iter().flatten() {
            let source = r["source"].as_str().unwrap_or_default();
            let def = &doc[section][source];
            let name = def["name"].as_str().unwrap_or(source).to_string();
            let target = target_of(kind, source, r["target"].as_str());
            if def["external"].as_bool() == Some(true) {
                out.errors.push(format!("unsupported external {kind} {name}"));
                continue;
            }
            for key in ["driver", "template_driver"] {
                if def.get(key).and_then(Value::as_str).is_some_and(|d| !d.is_empty()) {
                    out.errors
                        .push(format!("Docker Compose does not support {section}.*.{key}"));
                }
            }
            let content = def["content"].as_str().filter(|c| !c.is_empty());
            let env = def["environment"].as_str().filter(|e| !e.is_empty());
            let cli_config = kind == "config" && source == super::apisocket::CONFIG_KEY;
            if content.is_some() || env.is_some() || cli_config {
                let source = match (content, env) {
                    _ if cli_config => Source::CliConfig,
                    (Some(c), _) => Source::Content(c.to_string()),
                    (None, e) => Source::Env(e.unwrap_or_default().to_string()),
                };
                out.injects.push(Inject {
                    kind,
                    name,
                    target,
                    source,
                    mode: mode_of(&r["mode"])?.unwrap_or(0o444),
                    uid: id_of(&r["uid"])?,
                    gid: id_of(&r["gid"])?,
                });
                continue;
            }
            if !r["uid"].is_null() || !r["gid"].is_null() || !r["mode"].is_null() {
                let w = format!("{section} `uid`, `gid` and `mode` are not supported, they will be ignored");
                if !out.warnings.contains(&w) {
                    out.warnings.push(w);
                }
            }
            let file = def["file"].as_str().unwrap_or_default();
            if !std::path::Path::new(file).exists() {
                if kind == "secret" {
                    out.warnings.push(format!("secret file {name} does not exist"));
                }
                out.errors.push(format!(
                    "{kind} {name}: invalid mount config for type \"bind\": bind source path does not exist: {file}"
                ));
            }
            if !taken.insert(target.clone()) {
                continue;
            }
            let mut m = json!({"Type": "bind", "Source": file, "Target": target, "ReadOnly": true});
            if kind == "secret" {
                // compose sets bind options (create_host_path: false) here only.
                m["BindOptions"] = json!({});
            }
            out.mounts.push(m);
        }
    }
    Ok(out)
}

impl Inject {
    /// The content, from the project's environment where it comes from one.
    pub fn resolve(&self, env: &HashMap<String, String>) -> crate::error::Result<String> {
        match &self.source {
            Source::Content(c) => Ok(c.clone()),
            Source::CliConfig => super::apisocket::content(),
            Source::Env(var) => env.get(var).cloned().ok_or_else(|| {
                format!(
                    "environment variable {var:?} required by {} {:?} is not set",
                    self.kind, self.name
                )
                .into()
            }),
        }
    }

    /// A one-file tar, as compose writes it (no parent directory entries;
    /// the engine creates them).
    pub fn tar(&self, content: &str) -> std::io::Result<Vec<u8>> {
        let mut h = tar::Header::new_gnu();
        h.set_size(content.len() as u64);
        h.set_mode(self.mode);
        h.set_uid(self.uid.unwrap_or(0));
        h.set_gid(self.gid.unwrap_or(0));
        h.set_mtime(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0),
        );
        let mut b = tar::Builder::new(Vec::new());
        b.append_data(&mut h, self.target.trim_start_matches('/'), content.as_bytes())?;
        b.into_inner()
    }
}

/// Adds file-source mounts to a container body's `HostConfig.Mounts`.
pub fn add_mounts(host: &mut Map<String, Value>, mounts: &[Value]) {
    if mounts.is_empty() {
        return;
    }
    let list = host.entry("Mounts").or_insert_with(|| json!([]));
    if let Some(a) = list.as_array_mut() {
        a.extend(mounts.iter().cloned());
    }
}

/// Checks what compose would fail on when it creates or starts the
/// `services`' containers (a missing `file` source, an unset variable),
/// before anything is created, and reads `environment` sources from `env`.
pub fn prepare(
    d: &mut crate::plan::desired::Desired,
    services: &[String],
    env: &HashMap<String, String>,
) -> crate::error::Result<()> {
    for svc in d.services.iter_mut().filter(|s| services.contains(&s.name)) {
        if let Some(e) = svc.refused.first() {
            return Err(format!("service {}: {e}", svc.name).into());
        }
        let read_only = svc.body["HostConfig"]["ReadonlyRootfs"].as_bool() == Some(true);
        for inj in &mut svc.injects {
            let content = inj.resolve(env)?;
            if read_only && !content.is_empty() {
                return Err(format!(
                    "cannot create {} {:?} in read-only service {}: `file` is the sole supported option",
                    inj.kind, inj.name, svc.name
                )
                .into());
            }
            inj.source = Source::Content(content);
        }
    }
    Ok(())
}

/// Writes the service's `environment`/`content` secrets and configs into
/// container `id` (compose does it before each start of a stopped one).
pub async fn inject(
    d: &bollard::Docker,
    svc: &crate::plan::desired::ServiceSpec,
    id: &str,
) -> crate::error::Result<()> {
    for inj in &svc.injects {
        let Source::Content(content) = &inj.source else {
            continue;
        };
        if content.is_empty() {
            continue;
        }
        let tar = inj
            .tar(content)
            .map_err(|e| format!("{} {}: {e}", inj.kind, inj.name))?;
        let opts = bollard::query_parameters::UploadToContainerOptions {
            path: "/".into(),
            no_overwrite_dir_non_dir: Some("true".into()),
            copy_uidgid: (inj.uid.is_some() || inj.gid.is_some()).then(|| "true".into()),
        };
        d.upload_to_container(id, Some(opts), bollard::body_full(tar.into()))
            .await
            .map_err(|e| {
                format!(
                    "service {}: writing {} {} to {}: {}",
                    svc.name,
                    inj.kind,
                    inj.name,
                    inj.target,
                    crate::docker::flatten(&e)
                )
            })?;
    }
    Ok(())
}
