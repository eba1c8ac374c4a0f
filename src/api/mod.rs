//! The primitives a script calls, grouped by what they act on.
//!
//! Each submodule is a Rhai module (`container::create(...)`,
//! `image::build(...)`) plus the methods of its handle type
//! (`c.start()`, `img.tag("x")`). Every primitive is a thin, honest wrapper
//! over one engine operation: it blocks the script thread through
//! [`crate::bridge`], and turns engine errors into Rhai exceptions carrying
//! the engine's own message.

pub mod attach;
pub mod autoscale;
pub mod batch;
pub mod compose;
pub mod console;
pub mod container;
pub mod container_cp;
pub mod container_find;
pub mod container_image;
pub mod container_io;
pub mod context;
pub mod digest;
pub mod distribute;
pub mod engine;
pub mod exec_attached;
pub mod follow;
pub mod format;
pub mod handles;
pub mod health;
pub mod image;
pub mod image_registry;
pub mod json_text;
pub mod keyboard;
pub mod listing;
pub mod log_stream;
pub mod log_watch;
pub mod logprint;
pub mod menu;
pub mod network;
pub mod node;
pub mod node_engines;
pub mod oneoff;
pub mod options;
pub mod options_swarm;
pub mod opts;
pub mod plan;
pub mod plan_events;
pub mod progress;
pub mod project_actions;
pub mod publish;
pub mod rollout;
pub mod rows;
pub mod secret;
pub mod service;
pub mod service_find;
mod service_logs;
pub mod service_rows;
pub mod spec;
pub mod stack;
pub mod stats;
pub mod stats_scope;
pub mod swarm;
pub mod task;
pub mod ticker;
pub mod util;
pub mod value;
pub mod volume;
pub mod watch;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use bollard::Docker;
use rhai::{exported_module, Engine, EvalAltResult, Module};

use crate::docker::Endpoint;
use crate::error::Error;

pub type RhaiResult<T> = Result<T, Box<EvalAltResult>>;

/// The Rhai modules these `#[export_module]` paths generate, in order.
macro_rules! modules {
    ($($($seg:ident)::+),+ $(,)?) => {
        [$(exported_module!($($seg)::+)),+]
    };
}

/// Which namespaced modules (`container::`, `service::`, …) an engine
/// registers: every one, or those a script names (`script::namespaces`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Namespaces {
    All,
    Named(std::collections::BTreeSet<String>),
}

/// Namespaces whose values (containers, images, networks, volumes,
/// projects, plans, progress bars, watchers, keys) carry methods
/// registered globally by another of them: `compose::load(f).containers()`
/// hands out containers whose methods are `container`'s. They are
/// registered together. The other namespaces hand out plain maps and
/// arrays, and are registered one by one.
const COMPOSE_FAMILY: [&str; 9] = [
    "container",
    "image",
    "network",
    "volume",
    "plan",
    "compose",
    "progress",
    "watch",
    "keyboard",
];

impl Namespaces {
    /// Whether an engine for this registers namespace `name`.
    pub fn wants(&self, name: &str) -> bool {
        match self {
            Namespaces::All => true,
            Namespaces::Named(set) => {
                set.contains(name)
                    || (COMPOSE_FAMILY.contains(&name) && COMPOSE_FAMILY.iter().any(|n| set.contains(*n)))
            }
        }
    }

    /// Whether an engine built for `self` has every namespace `other` wants.
    pub fn covers(&self, other: &Namespaces) -> bool {
        STATICS.iter().all(|(name, _)| !other.wants(name) || self.wants(name))
    }
}

/// How a namespaced module is built.
type Build = fn() -> Module;

/// Every namespaced module: its name and how it is built.
const STATICS: [(&str, Build); 19] = [
    ("container", || {
        container::HANDLE.module(merged(modules![
            container::api,
            container_io::api,
            container_cp::api,
            container_image::api,
            health::api,
            attach::api,
            exec_attached::api,
            stats::api
        ]))
    }),
    ("image", || {
        image::HANDLE.module(merged(modules![image::api, image_registry::api]))
    }),
    ("network", || network::HANDLE.module(exported_module!(network::api))),
    ("volume", || volume::HANDLE.module(exported_module!(volume::api))),
    ("plan", || exported_module!(plan::api)),
    ("compose", || {
        let mut compose = merged(modules![
            compose::api,
            publish::api,
            rollout::api,
            stats_scope::compose_api,
            rows::compose_api
        ]);
        compose.set_var("LABELS", compose::labels());
        compose
    }),
    ("progress", || exported_module!(progress::api)),
    ("swarm", || exported_module!(swarm::api)),
    ("node", || merged(modules![node::api, node_engines::api])),
    ("service", || {
        merged(modules![
            service::api,
            service_find::api,
            service_rows::api,
            stats_scope::service_api
        ])
    }),
    ("task", || merged(modules![task::api, health::task_api])),
    ("stack", || exported_module!(stack::api)),
    ("autoscale", || exported_module!(autoscale::api)),
    ("watch", || exported_module!(watch::api)),
    ("engine", || exported_module!(engine::api)),
    ("context", || exported_module!(context::api)),
    ("keyboard", || exported_module!(keyboard::api)),
    ("secret", || secret::module("secret")),
    ("config", || secret::module("config")),
];

/// Registers the primitive modules `namespaces` wants, the global ones and
/// every handle type on `engine`.
pub fn register(engine: &mut Engine, namespaces: &Namespaces) {
    for (name, build) in STATICS {
        if namespaces.wants(name) {
            engine.register_static_module(name, build().into());
        }
    }
    for module in modules![
        util::api,
        console::api,
        json_text::api,
        digest::api,
        follow::api,
        logprint::api,
        format::api,
        ticker::api,
        rows::global_api
    ] {
        engine.register_global_module(module.into());
    }
    container::register_types(engine);
    image::register_types(engine);
    network::register_types(engine);
    volume::register_types(engine);
    plan::register_types(engine);
    compose::register_types(engine);
    progress::register_types(engine);
    watch::register_types(engine);
    follow::register_types(engine);
    logprint::register_types(engine);
    keyboard::register_types(engine);
    crate::error::register(engine);
}

/// One Rhai module with the functions of all `parts`.
fn merged<const N: usize>(parts: [Module; N]) -> Module {
    let mut parts = parts.into_iter();
    let mut all = parts.next().unwrap_or_default();
    for part in parts {
        all.combine_flatten(part);
    }
    all
}

static BASE_DIR: OnceLock<PathBuf> = OnceLock::new();
static ENDPOINT: Mutex<Option<Arc<Endpoint>>> = Mutex::new(None);

/// Sets the folder relative paths in primitives resolve against (the
/// script's folder for `orch run`, the working directory for commands).
pub fn set_base_dir(dir: PathBuf) {
    let _ = BASE_DIR.set(dir);
}

/// `p` resolved against the base folder.
pub fn resolve_path(p: &str) -> PathBuf {
    let p = Path::new(p);
    if p.is_absolute() {
        return p.to_path_buf();
    }
    match BASE_DIR.get() {
        Some(base) => base.join(p),
        None => p.to_path_buf(),
    }
}

/// Off once `confine` is called: see `host_access`.
static HOST_ACCESS: AtomicBool = AtomicBool::new(true);

/// Turns off, for the rest of the process, every primitive that reaches
/// past the engine `DOCKER_HOST` names: the host's files, environment and
/// terminal (README's trust-model table) and `engine::connect`. For
/// embedders running scripts they trust less than root, such as the
/// script fuzz target; the CLI never calls it.
pub fn confine() {
    HOST_ACCESS.store(false, Ordering::SeqCst);
}

/// Checked first by each primitive in README's trust-model table: an
/// error naming the call once `confine` has turned host access off.
pub fn host_access(what: &str) -> RhaiResult<()> {
    if HOST_ACCESS.load(Ordering::SeqCst) {
        return Ok(());
    }
    fail(format!(
        "{what}: host access is turned off in this process (orch::api::confine)"
    ))
}

/// The engine primitives talk to unless told otherwise.
pub fn endpoint() -> Arc<Endpoint> {
    ENDPOINT
        .lock()
        .unwrap()
        .get_or_insert_with(|| {
            let ep = Endpoint::from_env();
            crate::docker::note_current(&ep.host);
            ep
        })
        .clone()
}

/// Points the primitives at another engine (the CLI's chosen context,
/// `engine::connect`).
pub fn set_endpoint(ep: Arc<Endpoint>) {
    crate::docker::note_current(&ep.host);
    *ENDPOINT.lock().unwrap() = Some(ep);
}

/// The connected client of `ep`, or the one-line connect error (which
/// the CLI prints alone, without a script trace, when it ends a script).
pub async fn client(ep: &Endpoint) -> RhaiResult<&Docker> {
    ep.client().await.map_err(|e| Error::connect(e.to_string()).into_rhai())
}

/// A script error with `msg`.
pub fn fail<T>(msg: impl Into<String>) -> RhaiResult<T> {
    Err(Error::script(msg).into_rhai())
}

/// An engine error in `what` (e.g. "container start web"), with the
/// engine's message and status.
pub fn engine_err(what: impl std::fmt::Display, e: &bollard::errors::Error) -> Box<EvalAltResult> {
    Error::from_engine(what, e).into_rhai()
}

/// One engine call on `ep`, blocking the script thread: connects, runs
/// `call` with the client, and turns its error into an engine error in
/// `what` (e.g. "network remove backend").
pub fn engine_call<'a, T, Fut>(
    ep: &'a Endpoint,
    what: impl std::fmt::Display,
    call: impl FnOnce(&'a Docker) -> Fut,
) -> RhaiResult<T>
where
    Fut: std::future::Future<Output = Result<T, bollard::errors::Error>>,
{
    engine_answer(ep, call)?.map_err(|e| engine_err(what, &e))
}

/// Like [`engine_call`] for a lookup: `None` when the engine answers
/// "no such object".
pub fn engine_find<'a, T, Fut>(
    ep: &'a Endpoint,
    what: impl std::fmt::Display,
    call: impl FnOnce(&'a Docker) -> Fut,
) -> RhaiResult<Option<T>>
where
    Fut: std::future::Future<Output = Result<T, bollard::errors::Error>>,
{
    match engine_answer(ep, call)? {
        Ok(v) => Ok(Some(v)),
        Err(e) if is_not_found(&e) => Ok(None),
        Err(e) => Err(engine_err(what, &e)),
    }
}

/// The engine's own answer to `call`; only a failure to connect is an error.
fn engine_answer<'a, T, Fut>(
    ep: &'a Endpoint,
    call: impl FnOnce(&'a Docker) -> Fut,
) -> RhaiResult<Result<T, bollard::errors::Error>>
where
    Fut: std::future::Future<Output = Result<T, bollard::errors::Error>>,
{
    crate::bridge::block_on(async move { Ok(call(client(ep).await?).await) })
}

/// Whether an engine error means "no such object".
pub fn is_not_found(e: &bollard::errors::Error) -> bool {
    crate::docker::status(e) == Some(404)
}

/// Runs a namespaced primitive's body and gives its error the position of
/// the call, which Rhai fills in for methods and global functions but not
/// for `ns::f()`: the one way primitives attach positions (the body is
/// written inline, `at(&ctx, || { ... })`).
pub fn at<T>(ctx: &rhai::NativeCallContext, body: impl FnOnce() -> RhaiResult<T>) -> RhaiResult<T> {
    body().map_err(|e| crate::error::at(e, ctx.call_position()))
}

#[cfg(test)]
mod tests {
    /// Only the compose family may register global functions (methods on
    /// its handles): the others are left out of an engine whose script
    /// does not name them, so a global function there would go missing.
    #[test]
    fn only_the_compose_family_has_global_functions() {
        for (name, build) in super::STATICS {
            let mut engine = rhai::Engine::new_raw();
            engine.register_static_module(name, build().into());
            let json: serde_json::Value =
                serde_json::from_str(&engine.gen_fn_metadata_to_json(false).unwrap()).unwrap();
            let functions = json["modules"][name]["functions"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            assert!(!functions.is_empty(), "{name}: no functions read");
            let global: Vec<_> = functions
                .iter()
                .filter(|f| f["namespace"] == "global")
                .map(|f| f["name"].to_string())
                .collect();
            let family = super::COMPOSE_FAMILY.contains(&name);
            assert!(
                family || global.is_empty(),
                "{name}: global functions {global:?} outside COMPOSE_FAMILY"
            );
        }
        assert!(super::Namespaces::All.covers(&super::Namespaces::Named(["service".to_string()].into())));
    }
}
