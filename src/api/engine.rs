//! `engine::` primitives: which engine the other primitives talk to, so
//! one script can drive a swarm's manager and each node's own engine.
//!
//! ```rhai
//! engine::connect("unix:///run/node2/docker.sock");
//! print(engine::host());
//! ```

use rhai::plugin::*;

use super::{client, RhaiResult};
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
    #[rhai_fn(return_raw)]
    pub fn connect(host: &str) -> RhaiResult<()> {
        crate::api::host_access("engine::connect")?;
        super::super::set_endpoint(Endpoint::new(host));
        Ok(())
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
