//! `plan::oneoff`'s body: `run`'s one-off container, created from a
//! compose document as compose's `run` creates it (the service's
//! configuration with the command line's overrides), not started.

use rhai::{Dynamic, Map};

use super::options::OneoffOpts;
use super::plan::{document, env_files, environment};
use super::{client, RhaiResult};
use crate::bridge;
use crate::plan::desired;
use crate::plan::oneoff::OneOff;

/// The project's desired state and `run`'s overrides, from `opts`.
fn prepare(doc: &Dynamic, service: &str, opts: Map) -> RhaiResult<(desired::Desired, OneOff)> {
    let o: OneoffOpts = super::opts::read("plan::oneoff", opts)?;
    // A command given as one string is split as a shell would.
    let words = |key: &str, v: &Option<Dynamic>| -> RhaiResult<Option<Vec<String>>> {
        match v {
            None => Ok(None),
            Some(v) if v.is_string() => Ok(Some(
                crate::compose::canon::shell_split(&v.to_string())
                    .ok_or_else(|| format!("plan::oneoff: {key}: unbalanced quotes"))?,
            )),
            Some(v) => super::opts::strings("plan::oneoff", key, v).map(Some),
        }
    };
    let mut d =
        desired::from_compose_with(&document(doc)?, super::plan::separator(doc)).map_err(|e| format!("plan: {e}"))?;
    if let Some(w) = o.working_dir {
        d.working_dir = w;
    }
    d.config_files = o.config_files.unwrap_or_default();
    d.env_files = env_files(doc);
    crate::plan::secrets::prepare(&mut d, &[service.to_string()], &environment(doc))?;
    let spec = OneOff {
        command: words("command", &o.command)?.filter(|c| !c.is_empty()),
        entrypoint: words("entrypoint", &o.entrypoint)?,
        env: run_env(o.env.unwrap_or_default(), o.env_files.unwrap_or_default())?,
        labels: o.labels.unwrap_or_default().into_iter().collect(),
        user: o.user,
        workdir: o.workdir,
        name: o.name,
        auto_remove: o.auto_remove.unwrap_or(false),
        service_ports: o.service_ports.unwrap_or(false),
        use_aliases: o.use_aliases.unwrap_or(false),
        tty: o.tty.unwrap_or(false),
        interactive: o.interactive.unwrap_or(false),
        publish: o.publish.unwrap_or_default(),
        volumes: o.volumes.unwrap_or_default(),
        cap_add: o.cap_add.unwrap_or_default(),
        cap_drop: o.cap_drop.unwrap_or_default(),
    };
    Ok((d, spec))
}

/// Checks `run`'s overrides without touching the engine (see
/// `plan::oneoff_check`).
pub(super) fn check(doc: Dynamic, service: &str, opts: Map) -> RhaiResult<String> {
    let (d, spec) = prepare(&doc, service, opts)?;
    crate::plan::oneoff::check(&d, service, &spec).map_err(|e| e.to_string().into())
}

/// Creates the one-off container of `service` (see `plan::oneoff`).
pub(super) fn oneoff(doc: Dynamic, service: &str, opts: Map) -> RhaiResult<super::container::Container> {
    let (d, spec) = prepare(&doc, service, opts)?;
    let ep = super::endpoint();
    let service = service.to_string();
    let image = d.service(&service).map(|s| s.image.clone()).unwrap_or_default();
    let (id, name) = bridge::block_on(async {
        let c = client(&ep).await?;
        crate::plan::oneoff::create(c, &d, &service, spec)
            .await
            .map_err(Into::into)
    })?;
    let mut info = Map::new();
    info.insert("image".into(), image.into());
    info.insert("state".into(), "created".into());
    Ok(super::container::Container { ep, id, name, info })
}

/// `-e` values, then those of `--env-from-file` files (read in order, a
/// file's `${VAR}` seeing the `-e` values) for the names `-e` leaves
/// unset, as compose's `run` reads them.
fn run_env(env: Vec<String>, files: Vec<String>) -> RhaiResult<Vec<String>> {
    if files.is_empty() {
        return Ok(env);
    }
    super::host_access("plan::oneoff: env_files")?;
    let mut known: std::collections::HashMap<String, String> = env
        .iter()
        .filter_map(|e| e.split_once('=').map(|(k, v)| (k.to_string(), v.to_string())))
        .collect();
    let mut out = env;
    for f in files {
        let path = super::resolve_path(&f);
        let vars = crate::compose::load::read_dotenv(&path, &known).map_err(|e| format!("env file {e}"))?;
        for (k, v) in vars {
            if !known.contains_key(&k) && !out.iter().any(|e| e == &k) {
                out.push(format!("{k}={v}"));
                known.insert(k, v);
            }
        }
    }
    Ok(out)
}
