//! `plan::oneoff`'s body: `run`'s one-off container, created from a
//! compose document as compose's `run` creates it (the service's
//! configuration with the command line's overrides), not started.

use rhai::{Dynamic, Map};

use super::plan::{document, env_files, environment};
use super::value::Opts;
use super::{client, RhaiResult};
use crate::bridge;
use crate::plan::desired;

/// Creates the one-off container of `service` (see `plan::oneoff`).
pub(super) fn oneoff(doc: Dynamic, service: &str, opts: Map) -> RhaiResult<super::container::Container> {
    let o = Opts::new(
        "plan::oneoff",
        opts,
        &[
            "command",
            "entrypoint",
            "env",
            "labels",
            "user",
            "workdir",
            "name",
            "auto_remove",
            "service_ports",
            "use_aliases",
            "tty",
            "interactive",
            "working_dir",
            "config_files",
        ],
    )?;
    let words = |key: &str| -> RhaiResult<Option<Vec<String>>> {
        match o.raw(key) {
            Some(v) if v.is_string() => Ok(Some(
                crate::compose::canon::shell_split(&v.to_string())
                    .ok_or_else(|| format!("plan::oneoff: {key}: unbalanced quotes"))?,
            )),
            _ => o.strings(key),
        }
    };
    let mut d = desired::from_compose(&document(&doc)?).map_err(|e| format!("plan: {e}"))?;
    if let Some(w) = o.str("working_dir")? {
        d.working_dir = w;
    }
    d.config_files = o.strings("config_files")?.unwrap_or_default();
    d.env_files = env_files(&doc);
    crate::plan::secrets::prepare(&mut d, &[service.to_string()], &environment(&doc))?;
    let spec = crate::plan::oneoff::OneOff {
        command: words("command")?.filter(|c| !c.is_empty()),
        entrypoint: words("entrypoint")?,
        env: o.strings("env")?.unwrap_or_default(),
        labels: o.string_map("labels")?.unwrap_or_default().into_iter().collect(),
        user: o.str("user")?,
        workdir: o.str("workdir")?,
        name: o.str("name")?,
        auto_remove: o.flag("auto_remove")?,
        service_ports: o.flag("service_ports")?,
        use_aliases: o.flag("use_aliases")?,
        tty: o.flag("tty")?,
        interactive: o.flag("interactive")?,
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
