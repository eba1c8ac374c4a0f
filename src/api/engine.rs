//! `engine::` primitives: which engine the other primitives talk to, so
//! one script can drive a swarm's manager and each node's own engine.
//!
//! ```rhai
//! engine::connect("unix:///run/node2/docker.sock");
//! print(engine::host());
//! ```

use std::collections::HashMap;

use bollard::query_parameters as qp;
use futures_util::StreamExt;
use rhai::plugin::*;
use rhai::{FnPtr, Map};

use super::options::EventsOpts;
use super::value::{call_back, to_dynamic};
use super::{client, engine_err, RhaiResult};
use crate::bridge;
use crate::docker::Endpoint;

/// Streams the engine's events to `each` until `until` passes, the
/// engine closes the stream, or `each` returns `false`.
fn events(ctx: &NativeCallContext, opts: Map, each: &FnPtr) -> RhaiResult<()> {
    let o: EventsOpts = crate::api::opts::read("engine::events", opts)?;
    let mut filters: HashMap<String, Vec<String>> = HashMap::new();
    if let Some(l) = o.label.filter(|l| !l.is_empty()) {
        filters.insert("label".into(), l);
    }
    if let Some(t) = o.kind.filter(|t| !t.is_empty()) {
        filters.insert("type".into(), t);
    }
    let options = qp::EventsOptions {
        since: o.since.map(|s| s.to_string()),
        until: o.until.map(|s| s.to_string()),
        filters: (!filters.is_empty()).then_some(filters),
    };
    let ep = super::endpoint();
    let d = bridge::block_on(async { client(&ep).await.cloned() })?;
    let mut stream = d.events(Some(options));
    loop {
        let next = bridge::block_on(async { Ok(stream.next().await) })?;
        let Some(item) = next else { return Ok(()) };
        let e = item.map_err(|e| engine_err("engine events", &e))?;
        let r = call_back(ctx, each, vec![to_dynamic(&e)], 1)?;
        if r.as_bool() == Ok(false) {
            return Ok(());
        }
    }
}

#[export_module]
pub mod api {
    use super::*;

    /// Sends the primitives' engine calls from now on to `host`
    /// (`unix:///…/docker.sock`, `tcp://host:2375`): how a script works
    /// with a swarm's manager and each node's own engine.
    ///
    /// ```rhai
    /// engine::connect("unix:///run/node2/docker.sock");
    /// swarm::join(#{ token: t, remote_addr: "10.0.0.1:2377" });
    /// ```
    #[rhai_fn(return_raw)]
    pub fn connect(host: &str) -> RhaiResult<()> {
        crate::api::host_access("engine::connect")?;
        super::super::set_endpoint(Endpoint::new(host));
        Ok(())
    }

    /// Sends the primitives' engine calls from now on to the engine a
    /// docker context names (or an engine URL), as `--context` would; an
    /// unknown context throws, listing the known ones. Handles keep the
    /// engine they came from.
    ///
    /// ```rhai
    /// engine::select("staging");
    /// print(engine::host());
    /// ```
    #[rhai_fn(return_raw)]
    pub fn select(name_or_url: &str) -> Result<(), Box<EvalAltResult>> {
        crate::api::host_access("engine::select")?;
        let choice = crate::context::lookup(name_or_url).map_err(|e| e.to_string())?;
        super::super::set_endpoint(choice.endpoint());
        Ok(())
    }

    /// Runs `f` with the primitives' engine calls going to the engine a
    /// context (or URL) names, then goes back to the engine before, also
    /// when `f` throws. Returns what `f` returns.
    ///
    /// ```rhai
    /// let n = engine::within("prod", || container::list().len());
    /// ```
    #[rhai_fn(return_raw)]
    pub fn within(ctx: NativeCallContext, name_or_url: &str, f: FnPtr) -> Result<Dynamic, Box<EvalAltResult>> {
        crate::api::host_access("engine::within")?;
        let choice = crate::context::lookup(name_or_url).map_err(|e| e.to_string())?;
        let before = super::super::endpoint();
        super::super::set_endpoint(choice.endpoint());
        let r = f.call_within_context::<Dynamic>(&ctx, ());
        super::super::set_endpoint(before);
        r
    }

    /// Whether the engine answers now (`GET /_ping`); never throws.
    ///
    /// ```rhai
    /// if !engine::ping() { print("the engine is down"); }
    /// ```
    pub fn ping() -> bool {
        let ep = super::super::endpoint();
        bridge::block_on(async move {
            Ok(match client(&ep).await {
                Ok(d) => d.ping().await.is_ok(),
                Err(_) => false,
            })
        })
        .unwrap_or(false)
    }

    /// Calls `each(event)` for every engine event (the engine's own
    /// shape: `Type`, `Action`, `Actor.ID`, `Actor.Attributes`, `time`,
    /// `timeNano`) until `until` passes or `each` returns `false`.
    /// Options: `since`, `until` (unix seconds), `label` and `kind`
    /// (the engine's `label` and `type` filters).
    ///
    /// ```rhai
    /// engine::events(#{ label: ["com.docker.compose.project=demo"], kind: ["container"] }, |e| print(e.Action));
    /// ```
    #[rhai_fn(name = "events", return_raw)]
    pub fn events_fn(ctx: NativeCallContext, opts: Map, each: FnPtr) -> RhaiResult<()> {
        crate::api::at(&ctx, || super::events(&ctx, opts, &each))
    }

    /// The engine calls go to now.
    ///
    /// ```rhai
    /// print(engine::host());
    /// ```
    pub fn host() -> String {
        super::super::endpoint().host.clone()
    }
}
