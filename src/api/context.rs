//! `context::` primitives: the docker CLI's contexts (`$DOCKER_CONFIG/
//! contexts/`), read and selected through the same files, so `docker
//! context ls` and `orch context ls` agree. Creating a context stays the
//! docker CLI's job (`docker context create NAME --docker host=…`).
//!
//! ```rhai
//! for c in context::list() { print(`${c.name} ${c.host}`); }
//! ```

use rhai::plugin::*;
use rhai::{Array, Map};

use super::{fail, RhaiResult};
use crate::context::{self as ctx, ContextError};

fn rhai_err<T>(e: ContextError) -> RhaiResult<T> {
    fail(e.to_string())
}

#[export_module]
pub mod api {
    use super::*;

    /// Every context, `default` first, as `docker context ls` lists them:
    /// `#{ name, description, host, current }`.
    ///
    /// ```rhai
    /// for c in context::list() { if c.current { print(c.name); } }
    /// ```
    #[rhai_fn(return_raw)]
    pub fn list() -> RhaiResult<Array> {
        let current = ctx::current_name(&[], None).or_else(rhai_err)?;
        Ok(ctx::list(&ctx::config_dir())
            .into_iter()
            .map(|c| {
                let mut m = Map::new();
                m.insert("current".into(), (c.name == current).into());
                m.insert("name".into(), c.name.into());
                m.insert("description".into(), c.description.into());
                m.insert("host".into(), c.host.into());
                Dynamic::from_map(m)
            })
            .collect())
    }

    /// The name of the context in effect (`--context`, `DOCKER_HOST`,
    /// `DOCKER_CONTEXT`, then `docker context use`'s choice).
    ///
    /// ```rhai
    /// print(context::current());
    /// ```
    #[rhai_fn(return_raw)]
    pub fn current() -> RhaiResult<String> {
        ctx::current_name(&[], None).or_else(rhai_err)
    }

    /// A context's `meta.json` as `docker context inspect` shows it, with
    /// its `TLSMaterial` and `Storage`; an unknown name throws, listing
    /// the known ones.
    ///
    /// ```rhai
    /// print(context::inspect("prod").Endpoints.docker.Host);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn inspect(name: &str) -> RhaiResult<Map> {
        let dir = ctx::config_dir();
        let meta = ctx::meta(&dir, name).or_else(rhai_err)?;
        let (meta, storage) = match meta {
            Some(m) => (m, ctx::storage(&dir, name)),
            None => (
                ctx::default_meta(),
                ("<IN MEMORY>".to_string(), "<IN MEMORY>".to_string()),
            ),
        };
        let mut out: Map = crate::api::value::to_dynamic(&meta)
            .try_cast::<Map>()
            .unwrap_or_default();
        let tls: Map = ctx::tls_material(&dir, name)
            .into_iter()
            .map(|(k, v)| {
                (
                    k.into(),
                    Dynamic::from_array(v.into_iter().map(Dynamic::from).collect()),
                )
            })
            .collect();
        out.insert("TLSMaterial".into(), tls.into());
        let mut s = Map::new();
        s.insert("MetadataPath".into(), storage.0.into());
        s.insert("TLSPath".into(), storage.1.into());
        out.insert("Storage".into(), s.into());
        Ok(out)
    }

    /// Makes `name` the current context for this and every later docker
    /// or orch command (`currentContext` in config.json), as `docker
    /// context use` does; `"default"` goes back to `DOCKER_HOST` or the
    /// local socket.
    ///
    /// ```rhai
    /// context::select("prod");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn select(name: &str) -> RhaiResult<()> {
        ctx::set_current(&ctx::config_dir(), name).or_else(rhai_err)
    }
}
