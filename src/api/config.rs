//! `config::` primitives: Swarm configs, as the engine's JSON (the same
//! calls as secrets, in `secret.rs`).
//!
//! ```rhai
//! config::create(#{ name: "app.conf", data: "port=80" });
//! for c in config::list(#{ name: ["app.conf"] }) { print(c.ID); }
//! ```

use rhai::plugin::*;
use rhai::{Array, Map, NativeCallContext};

use super::secret;
use super::RhaiResult;

#[export_module]
pub mod api {
    use super::*;

    /// Creates a config; returns its ID. Options: `name`, `data` (text),
    /// `labels` (map).
    ///
    /// ```rhai
    /// config::create(#{ name: "app.conf", data: "port=80" });
    /// ```
    #[rhai_fn(return_raw)]
    pub fn create(ctx: NativeCallContext, opts: Map) -> RhaiResult<String> {
        crate::api::at(&ctx, || secret::create("config", opts))
    }

    /// The configs. Filters: `name`, `label`, `id`.
    ///
    /// ```rhai
    /// for c in config::list(#{}) { print(c.Spec.Name); }
    /// ```
    #[rhai_fn(return_raw)]
    pub fn list(ctx: NativeCallContext, opts: Map) -> RhaiResult<Array> {
        crate::api::at(&ctx, || secret::list("config", opts))
    }

    /// Removes a config by name or ID.
    ///
    /// ```rhai
    /// config::remove("app.conf");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn remove(ctx: NativeCallContext, name: &str) -> RhaiResult<()> {
        crate::api::at(&ctx, || secret::remove("config", name))
    }
}
