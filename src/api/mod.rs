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
pub mod config;
pub mod container;
pub mod container_cp;
pub mod container_image;
pub mod container_io;
pub mod context;
pub mod distribute;
pub mod engine;
pub mod exec_attached;
pub mod follow;
pub mod format;
pub mod health;
pub mod image;
pub mod json_text;
pub mod logprint;
pub mod network;
pub mod node;
pub mod node_engines;
pub mod oneoff;
pub mod options;
pub mod opts;
pub mod plan;
pub mod progress;
pub mod project_actions;
pub mod rollout;
pub mod rows;
pub mod secret;
pub mod service;
mod service_logs;
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
use rhai::{exported_module, Engine, EvalAltResult};

use crate::docker::Endpoint;
use crate::error::Error;

pub type RhaiResult<T> = Result<T, Box<EvalAltResult>>;

/// Registers every primitive module and handle type on `engine`.
pub fn register(engine: &mut Engine) {
    let mut container = exported_module!(container::api);
    container.combine_flatten(exported_module!(container_io::api));
    container.combine_flatten(exported_module!(container_cp::api));
    container.combine_flatten(exported_module!(container_image::api));
    container.combine_flatten(exported_module!(health::api));
    container.combine_flatten(exported_module!(attach::api));
    container.combine_flatten(exported_module!(exec_attached::api));
    container.combine_flatten(exported_module!(stats::api));
    engine.register_static_module("container", container.into());
    engine.register_static_module("image", exported_module!(image::api).into());
    engine.register_static_module("network", exported_module!(network::api).into());
    engine.register_static_module("volume", exported_module!(volume::api).into());
    engine.register_static_module("plan", exported_module!(plan::api).into());
    let mut compose = exported_module!(compose::api);
    compose.set_var("LABELS", compose::labels());
    compose.combine_flatten(exported_module!(rollout::api));
    compose.combine_flatten(exported_module!(stats_scope::compose_api));
    compose.combine_flatten(exported_module!(rows::compose_api));
    engine.register_static_module("compose", compose.into());
    engine.register_static_module("progress", exported_module!(progress::api).into());
    engine.register_static_module("swarm", exported_module!(swarm::api).into());
    let mut node = exported_module!(node::api);
    node.combine_flatten(exported_module!(node_engines::api));
    engine.register_static_module("node", node.into());
    let mut service = exported_module!(service::api);
    service.combine_flatten(exported_module!(stats_scope::service_api));
    engine.register_static_module("service", service.into());
    let mut task = exported_module!(task::api);
    task.combine_flatten(exported_module!(health::task_api));
    engine.register_static_module("task", task.into());
    engine.register_static_module("secret", exported_module!(secret::api).into());
    engine.register_static_module("config", exported_module!(config::api).into());
    engine.register_static_module("stack", exported_module!(stack::api).into());
    engine.register_static_module("autoscale", exported_module!(autoscale::api).into());
    engine.register_static_module("watch", exported_module!(watch::api).into());
    engine.register_static_module("engine", exported_module!(engine::api).into());
    engine.register_static_module("context", exported_module!(context::api).into());
    engine.register_global_module(exported_module!(util::api).into());
    engine.register_global_module(exported_module!(json_text::api).into());
    engine.register_global_module(exported_module!(follow::api).into());
    engine.register_global_module(exported_module!(logprint::api).into());
    engine.register_global_module(exported_module!(format::api).into());
    engine.register_global_module(exported_module!(ticker::api).into());
    engine.register_global_module(exported_module!(rows::global_api).into());
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
    crate::error::register(engine);
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
