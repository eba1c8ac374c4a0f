//! `plan::oneoff`'s body: `run`'s one-off container, created from a
//! compose document as compose's `run` creates it (the service's
//! configuration with the command line's overrides), not started.

use rhai::{Dynamic, Map};

use super::options::OneoffOpts;
use super::plan::{document, env_files, environment};
use super::{client, RhaiResult};
use crate::bridge;
use crate::plan::desired;

/// Creates the one-off container of `service` (see `plan::oneoff`).
pub(super) fn oneoff(doc: Dynamic, service: &str, opts: Map) -> RhaiResult<super::container::Container> {
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
    let mut d = desired::from_compose(&document(&doc)?).map_err(|e| format!("plan: {e}"))?;
    if let Some(w) = o.working_dir {
        d.working_dir = w;
    }
    d.config_files = o.config_files.unwrap_or_default();
    d.env_files = env_files(&doc);
    crate::plan::secrets::prepare(&mut d, &[service.to_string()], &environment(&doc))?;
    let spec = crate::plan::oneoff::OneOff {
        command: words("command", &o.command)?.filter(|c| !c.is_empty()),
        entrypoint: words("entrypoint", &o.entrypoint)?,
        env: o.env.unwrap_or_default(),
        labels: o.labels.unwrap_or_default().into_iter().collect(),
        user: o.user,
        workdir: o.workdir,
        name: o.name,
        auto_remove: o.auto_remove.unwrap_or(false),
        service_ports: o.service_ports.unwrap_or(false),
        use_aliases: o.use_aliases.unwrap_or(false),
        tty: o.tty.unwrap_or(false),
        interactive: o.interactive.unwrap_or(false),
    };
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
