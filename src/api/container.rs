//! Containers: create, start, stop, inspect, logs, exec, wait, remove.
//!
//! ```rhai
//! let c = container::create(#{ image: "busybox", name: "hi", command: ["echo", "hi"] });
//! c.start();
//! print(c.wait());      // 0
//! print(c.logs());      // "hi\n"
//! c.remove();
//! ```

use std::sync::Arc;

use bollard::query_parameters as qp;
use futures_util::StreamExt;
use rhai::plugin::*;
use rhai::{Array, Dynamic, Engine, FnPtr, Map, NativeCallContext};

use super::container_find::{list, lookup};
use super::handles::{Doc, Handle};
use super::options::RemoveOpts;
use super::value::to_dynamic;
use super::{client, engine_err, fail, RhaiResult};
use crate::bridge;
use crate::docker::Endpoint;

/// A container on an engine. Properties: `id`, `name`, `image`, `state`,
/// `status`, `labels` (a snapshot from when the handle was made; call
/// `inspect()` for the engine's current view).
#[derive(Clone, Debug)]
pub struct Container {
    pub ep: Arc<Endpoint>,
    pub id: String,
    pub name: String,
    pub info: Map,
}

impl Container {
    /// `f` on the label map the list call reported; `None` when there is
    /// none.
    pub(super) fn with_labels<R>(&self, f: impl FnOnce(&Map) -> R) -> Option<R> {
        self.info
            .get("labels")
            .and_then(|l| l.read_lock::<Map>().map(|m| f(&m)))
    }

    pub(super) fn what(&self, op: &str) -> String {
        format!(
            "container {op} {}",
            if self.name.is_empty() { &self.id } else { &self.name }
        )
    }
}

/// Runs one engine call on a container handle, with the error naming it.
macro_rules! call {
    ($c:expr, $op:expr, |$d:ident, $id:ident| $body:expr) => {{
        let ep = $c.ep.clone();
        let what = $c.what($op);
        let $id = $c.id.clone();
        bridge::block_on(async move {
            let $d = client(&ep).await?;
            $body.await.map_err(|e| engine_err(&what, &e))
        })
    }};
}

/// The properties read from `info`, with their doc comments.
const PROPERTIES: &[(&str, Doc)] = &[
    (
        "image",
        &[
            "The image the container was created from.",
            "",
            "```rhai",
            "print(container::get(\"web\").image);",
            "```",
        ],
    ),
    (
        "state",
        &[
            "The state when the handle was made: created, running, exited …",
            "",
            "```rhai",
            "if container::get(\"web\").state == \"exited\" { print(\"stopped\"); }",
            "```",
        ],
    ),
    (
        "status",
        &[
            "Docker's human status (\"Up 2 minutes\"), when listed.",
            "",
            "```rhai",
            "for c in container::list(#{}) { print(`${c.name}: ${c.status}`); }",
            "```",
        ],
    ),
    (
        "labels",
        &[
            "The container's labels.",
            "",
            "```rhai",
            "print(container::get(\"web\").labels[\"com.docker.compose.service\"]);",
            "```",
        ],
    ),
];

/// How the module adds the handle's properties.
pub const HANDLE: Handle<Container> = Handle::new(|h| &h.info, PROPERTIES, None);

#[export_module]
pub mod api {
    use super::*;

    pub type Container = super::Container;

    /// Creates a container from options named like compose's service keys:
    /// `image` (required), `name`, `command`, `entrypoint`, `env`, `labels`,
    /// `ports`, `expose`, `volumes`, `network`/`networks`, `aliases`,
    /// `restart`, `healthcheck`, `working_dir`, `user`, `hostname`, `init`,
    /// `tty`, `memory`, `cpus`, `raw` (engine-schema fields merged last) …
    ///
    /// ```rhai
    /// let c = container::create(#{ image: "busybox", name: "web", ports: ["8080:80"] });
    /// ```
    #[rhai_fn(return_raw)]
    pub fn create(ctx: NativeCallContext, opts: Map) -> RhaiResult<Container> {
        crate::api::at(&ctx, || create_from(opts))
    }

    fn create_from(opts: Map) -> RhaiResult<Container> {
        let spec = crate::api::spec::create_spec(opts.clone())?;
        let ep = crate::api::endpoint();
        let image = opts.get("image").map(|v| v.to_string()).unwrap_or_default();
        let labels = opts.get("labels").cloned().unwrap_or_else(|| Map::new().into());
        let label = spec.name.clone().unwrap_or_else(|| image.clone());
        let e2 = ep.clone();
        let (id, name) = bridge::block_on(async move {
            let d = client(&e2).await?;
            let what = format!("container create {label}");
            let options = qp::CreateContainerOptions {
                name: spec.name.clone(),
                platform: spec.platform.clone().unwrap_or_default(),
            };
            let created = d
                .create_container(Some(options), spec.body)
                .await
                .map_err(|e| engine_err(&what, &e))?;
            for (net, aliases) in spec.extra_networks {
                let req = bollard::models::NetworkConnectRequest {
                    container: created.id.clone(),
                    endpoint_config: Some(bollard::models::EndpointSettings {
                        aliases: Some(aliases),
                        ..Default::default()
                    }),
                };
                if let Err(e) = d.connect_network(&net, req).await {
                    // Leave nothing half-made behind.
                    let _ = d
                        .remove_container(
                            &created.id,
                            Some(qp::RemoveContainerOptions {
                                force: true,
                                ..Default::default()
                            }),
                        )
                        .await;
                    return Err(engine_err(format!("{what}: connect to network {net}"), &e));
                }
            }
            let name = match spec.name {
                Some(n) => n,
                None => d
                    .inspect_container(&created.id, None::<qp::InspectContainerOptions>)
                    .await
                    .ok()
                    .and_then(|i| i.name)
                    .unwrap_or_default()
                    .trim_start_matches('/')
                    .to_string(),
            };
            Ok((created.id, name))
        })?;
        let mut info = Map::new();
        info.insert("image".into(), image.into());
        info.insert("state".into(), "created".into());
        info.insert("labels".into(), labels);
        Ok(Container { ep, id, name, info })
    }

    /// Creates and starts a container (options as `container::create`).
    ///
    /// ```rhai
    /// let c = container::run(#{ image: "busybox", command: "sleep 60" });
    /// ```
    #[rhai_fn(return_raw)]
    pub fn run(ctx: NativeCallContext, opts: Map) -> RhaiResult<Container> {
        crate::api::at(&ctx, || {
            let mut c = create_from(opts)?;
            start(&mut c)?;
            Ok(c)
        })
    }

    /// The container with this name or ID; throws if there is none.
    ///
    /// ```rhai
    /// let c = container::get("web");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn get(ctx: NativeCallContext, name: &str) -> RhaiResult<Container> {
        crate::api::at(&ctx, || match lookup(crate::api::endpoint(), name)? {
            Some(c) => Ok(c),
            None => fail(format!("container {name}: no such container")),
        })
    }

    /// The container with this name or ID, or `()` if there is none.
    ///
    /// ```rhai
    /// if container::find("web") == () { print("not there"); }
    /// ```
    #[rhai_fn(return_raw)]
    pub fn find(ctx: NativeCallContext, name: &str) -> RhaiResult<Dynamic> {
        crate::api::at(&ctx, || {
            Ok(lookup(crate::api::endpoint(), name)?
                .map(Dynamic::from)
                .unwrap_or(Dynamic::UNIT))
        })
    }

    /// Running containers.
    ///
    /// ```rhai
    /// for c in container::list() { print(c.name); }
    /// ```
    #[rhai_fn(name = "list", return_raw)]
    pub fn list_running(ctx: NativeCallContext) -> RhaiResult<Array> {
        crate::api::at(&ctx, || super::list(crate::api::endpoint(), Map::new()))
    }

    /// Containers matching Docker filters; `all: true` includes stopped ones.
    ///
    /// ```rhai
    /// let mine = container::list(#{ all: true, label: "com.docker.compose.project=demo" });
    /// ```
    #[rhai_fn(name = "list", return_raw)]
    pub fn list_filtered(ctx: NativeCallContext, filter: Map) -> RhaiResult<Array> {
        crate::api::at(&ctx, || super::list(crate::api::endpoint(), filter))
    }

    /// Runs one operation on many containers in parallel: "start", "stop",
    /// "restart", "kill", "pause", "unpause" or "remove". Options:
    /// `timeout`, `signal`, `force`, `volumes`, `on_event` (called with
    /// `#{ kind, name, status, done, error, elapsed }`), `kill_on_force`
    /// (a second Ctrl-C kills them). Returns `#{ ok, errors }`.
    ///
    /// ```rhai
    /// container::batch(container::list(#{ label: "app=demo" }), "stop", #{ timeout: 2 });
    /// ```
    #[rhai_fn(name = "batch", return_raw)]
    pub fn batch(ctx: NativeCallContext, list: Array, op: &str, opts: Map) -> RhaiResult<Map> {
        crate::api::at(&ctx, || crate::api::batch::batch(&ctx, list, op, opts))
    }

    /// Streams the logs of several containers merged, calling
    /// `each(name, line, stream)` per line as they arrive. Options:
    /// `follow`, `tail`, `timestamps`, `since`, `until`.
    ///
    /// ```rhai
    /// container::logs(container::list(), #{ follow: true }, |name, line| print(`${name} | ${line}`));
    /// ```
    #[rhai_fn(name = "logs", return_raw)]
    pub fn logs_many(ctx: NativeCallContext, list: Array, opts: Map, each: FnPtr) -> RhaiResult<()> {
        crate::api::at(&ctx, || crate::api::log_stream::stream_logs(&ctx, list, opts, each))
    }

    /// Prints the logs of several containers merged through a
    /// `log_printer`, every line on stdout, each container shown by the
    /// name `sources` maps it to (its own name where absent), with no
    /// script call per line. Options as above, plus `project` (and
    /// `services`, empty for all): with `follow`, the project's containers
    /// are watched as compose's `logs -f` watches them: those started later
    /// are followed from their start, each exit prints `NAME exited with
    /// code N`, and the call returns when every listed or started
    /// container has exited for good.
    ///
    /// ```rhai
    /// let out = log_printer(#{ colour: false, prefix: true });
    /// container::logs(container::list(), #{ tail: 10 }, out, #{ "demo-web-1": "web-1" });
    /// ```
    #[rhai_fn(name = "logs", return_raw)]
    pub fn logs_printed(
        ctx: NativeCallContext,
        list: Array,
        opts: Map,
        printer: crate::api::logprint::LogPrinter,
        sources: Map,
    ) -> RhaiResult<()> {
        crate::api::at(&ctx, || {
            crate::api::log_stream::print_logs(list, opts, printer, sources)
        })
    }

    /// Follows project `project`'s containers (one-off `run` containers
    /// excluded) as attached `up` does. Options: `watch` (services whose
    /// containers are tracked; empty or absent: all), `attach` (services
    /// whose logs stream), `since` (unix seconds, e.g. `unix_now()` taken
    /// before `plan.apply`: containers started since then are streamed
    /// from their start, older running ones from now on; default now),
    /// `timestamps`. `f.next()` returns `#{ kind: "log", name, service,
    /// number, id, stream, line }` or `#{ kind: "exit", name, service,
    /// number, id, code, restarting }` (after that container's last log
    /// line), and `()` once every tracked container has exited.
    ///
    /// ```rhai
    /// let f = container::follow("demo", #{ attach: ["web"], since: unix_now() });
    /// let e = f.next();
    /// ```
    #[rhai_fn(return_raw)]
    pub fn follow(ctx: NativeCallContext, project: &str, opts: Map) -> RhaiResult<crate::api::follow::Follow> {
        crate::api::at(&ctx, || crate::api::follow::start(project, opts))
    }

    /// The container's ID.
    ///
    /// ```rhai
    /// print(container::get("web").id);
    /// ```
    #[rhai_fn(global, get = "id", pure)]
    pub fn id(c: &mut Container) -> String {
        c.id.clone()
    }

    /// The container's name (without the leading `/`).
    ///
    /// ```rhai
    /// for c in container::list(#{}) { print(c.name); }
    /// ```
    #[rhai_fn(global, get = "name", pure)]
    pub fn name(c: &mut Container) -> String {
        c.name.clone()
    }

    /// One label's value, or `()` when the container has no such label;
    /// unlike `labels[key]` it copies no map (cheap in a sort key over
    /// hundreds of containers).
    ///
    /// ```rhai
    /// print(container::get("web").label("com.docker.compose.service"));
    /// ```
    #[rhai_fn(global, pure)]
    pub fn label(c: &mut Container, key: &str) -> Dynamic {
        c.with_labels(|m| m.get(key).cloned())
            .flatten()
            .unwrap_or(Dynamic::UNIT)
    }

    /// Everything the list call reported (ports, created, command …).
    ///
    /// ```rhai
    /// for c in container::list(#{}) { print(c.info.Ports); }
    /// ```
    #[rhai_fn(global, get = "info", pure)]
    pub fn info(c: &mut Container) -> Map {
        c.info.clone()
    }

    /// Starts the container.
    ///
    /// ```rhai
    /// container::get("web").start();
    /// ```
    #[rhai_fn(global, return_raw)]
    pub fn start(c: &mut Container) -> RhaiResult<()> {
        call!(c, "start", |d, id| d
            .start_container(&id, None::<qp::StartContainerOptions>))
    }

    /// Stops the container (SIGTERM, then SIGKILL after its stop timeout).
    #[rhai_fn(global, name = "stop", return_raw)]
    pub fn stop_default(c: &mut Container) -> RhaiResult<()> {
        call!(c, "stop", |d, id| crate::docker::patient(d, None)
            .stop_container(&id, None::<qp::StopContainerOptions>))
    }

    /// Stops the container, killing it after `timeout` seconds.
    ///
    /// ```rhai
    /// c.stop(2);
    /// ```
    #[rhai_fn(global, name = "stop", return_raw)]
    pub fn stop_timeout(c: &mut Container, timeout: i64) -> RhaiResult<()> {
        let opts = qp::StopContainerOptions {
            t: Some(timeout as i32),
            signal: None,
        };
        call!(c, "stop", |d, id| crate::docker::patient(d, Some(timeout))
            .stop_container(&id, Some(opts)))
    }

    /// Restarts the container.
    ///
    /// ```rhai
    /// container::get("web").restart();
    /// ```
    #[rhai_fn(global, return_raw)]
    pub fn restart(c: &mut Container) -> RhaiResult<()> {
        call!(c, "restart", |d, id| crate::docker::patient(d, None)
            .restart_container(&id, None::<qp::RestartContainerOptions>))
    }

    /// Sends SIGKILL.
    #[rhai_fn(global, name = "kill", return_raw)]
    pub fn kill_default(c: &mut Container) -> RhaiResult<()> {
        kill_signal(c, "SIGKILL")
    }

    /// Sends a signal.
    ///
    /// ```rhai
    /// c.kill("SIGHUP");
    /// ```
    #[rhai_fn(global, name = "kill", return_raw)]
    pub fn kill_signal(c: &mut Container, signal: &str) -> RhaiResult<()> {
        let opts = qp::KillContainerOptions {
            signal: signal.to_string(),
        };
        call!(c, "kill", |d, id| d.kill_container(&id, Some(opts)))
    }

    /// Pauses every process in the container.
    ///
    /// ```rhai
    /// let c = container::get("web");
    /// c.pause();
    /// c.unpause();
    /// ```
    #[rhai_fn(global, return_raw)]
    pub fn pause(c: &mut Container) -> RhaiResult<()> {
        call!(c, "pause", |d, id| d.pause_container(&id))
    }

    /// Resumes a paused container.
    ///
    /// ```rhai
    /// container::get("web").unpause();
    /// ```
    #[rhai_fn(global, return_raw)]
    pub fn unpause(c: &mut Container) -> RhaiResult<()> {
        call!(c, "unpause", |d, id| d.unpause_container(&id))
    }

    /// Removes a stopped container (and nothing else).
    #[rhai_fn(global, name = "remove", return_raw)]
    pub fn remove_default(c: &mut Container) -> RhaiResult<()> {
        remove_opts(c, Map::new())
    }

    /// Removes the container: `force` kills it first, `volumes` also removes
    /// its anonymous volumes.
    ///
    /// ```rhai
    /// c.remove(#{ force: true, volumes: true });
    /// ```
    #[rhai_fn(global, name = "remove", return_raw)]
    pub fn remove_opts(c: &mut Container, opts: Map) -> RhaiResult<()> {
        let o: RemoveOpts = crate::api::opts::read("remove", opts)?;
        let opts = qp::RemoveContainerOptions {
            force: o.force.unwrap_or(false),
            v: o.volumes.unwrap_or(false),
            link: false,
        };
        call!(c, "remove", |d, id| crate::docker::remove_container(d, &id, opts))
    }

    /// The engine's full view of the container (Docker's keys: `State`,
    /// `Config`, `NetworkSettings` …).
    ///
    /// ```rhai
    /// print(c.inspect().State.Status);
    /// ```
    #[rhai_fn(global, return_raw)]
    pub fn inspect(c: &mut Container) -> RhaiResult<Dynamic> {
        let i = call!(c, "inspect", |d, id| d
            .inspect_container(&id, None::<qp::InspectContainerOptions>))?;
        Ok(to_dynamic(&i))
    }

    /// Waits until the container stops and returns its exit code.
    ///
    /// ```rhai
    /// let code = c.wait();
    /// ```
    #[rhai_fn(global, return_raw)]
    pub fn wait(c: &mut Container) -> RhaiResult<i64> {
        let ep = c.ep.clone();
        let what = c.what("wait");
        let id = c.id.clone();
        bridge::block_on(async move {
            let d = client(&ep).await?;
            let mut s = d.wait_container(&id, None::<qp::WaitContainerOptions>);
            match s.next().await {
                Some(Ok(r)) => Ok(r.status_code),
                Some(Err(bollard::errors::Error::DockerContainerWaitError { code, error })) if error.is_empty() => {
                    Ok(code)
                }
                Some(Err(e)) => Err(engine_err(&what, &e)),
                None => Err(format!("{what}: the engine closed the wait without a result").into()),
            }
        })
    }

    /// The container in one line, as `print` and `${...}` show it.
    ///
    /// ```rhai
    /// let c = container::get("web");
    /// print(`${c}`);   // container web (0123456789ab)
    /// ```
    #[rhai_fn(global, name = "to_string", pure)]
    pub fn to_string(c: &mut Container) -> String {
        format!("container {} ({})", c.name, &c.id[..c.id.len().min(12)])
    }

    /// The container with its details, as `debug` shows it.
    ///
    /// ```rhai
    /// let c = container::get("web");
    /// debug(c);
    /// ```
    #[rhai_fn(global, name = "to_debug", pure)]
    pub fn to_debug(c: &mut Container) -> String {
        to_string(c)
    }

    #[rhai_fn(global, name = "==", pure)]
    pub fn eq(a: &mut Container, b: Container) -> bool {
        a.id == b.id
    }
}

pub fn register_types(engine: &mut Engine) {
    engine.register_type_with_name::<Container>("Container");
}
