//! `engine::` primitives: which engine the other primitives talk to, so
//! one script can drive a swarm's manager and each node's own engine.
//!
//! ```rhai
//! engine::connect("unix:///run/node2/docker.sock");
//! print(engine::host());
//! ```

use rhai::plugin::*;
use rhai::FnPtr;

use super::client;
use crate::bridge;
use crate::docker::Endpoint;

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
    pub fn connect(host: &str) {
        super::super::set_endpoint(Endpoint::new(host));
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

    /// The engine calls go to now.
    ///
    /// ```rhai
    /// print(engine::host());
    /// ```
    pub fn host() -> String {
        super::super::endpoint().host.clone()
    }
}
