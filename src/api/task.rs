//! `task::` primitives: a service's replicas wherever they run, as the
//! engine's JSON (see `swarm.rs`).
//!
//! ```rhai
//! for t in task::list(#{ service: "web" }) { print(`${t.Slot} ${t.Status.State}`); }
//! ```

use rhai::plugin::*;
use rhai::{Array, Map, NativeCallContext};

use super::swarm::list_kind;

use super::options::TaskFilters;
use super::RhaiResult;

#[export_module]
pub mod api {
    use super::*;

    /// Tasks (a service's replicas, wherever they run). Filters:
    /// `service`, `node`, `desired_state` (running, shutdown, accepted),
    /// `id`, `label`, `name`, and `up_to_date: "true"`: only tasks of the
    /// service's current spec (the engine's `_up-to-date`, what docker's
    /// update progress counts).
    ///
    /// ```rhai
    /// let running = task::list(#{ service: "web", desired_state: "running" });
    /// let current = task::list(#{ service: "web", up_to_date: "true" });
    /// ```
    #[rhai_fn(return_raw)]
    pub fn list(ctx: NativeCallContext, opts: Map) -> RhaiResult<Array> {
        crate::api::at(&ctx, || list_kind::<TaskFilters>("task", opts))
    }
}
