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
    /// `labels` (map), `template_driver` (e.g. `golang`).
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

    /// One config by name, ID or ID prefix, as the engine's JSON (its
    /// `Spec.Data` base64, as the engine sends it: `config::data` decodes it).
    ///
    /// ```rhai
    /// print(config::inspect("app.conf").Spec.Name);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn inspect(ctx: NativeCallContext, name: &str) -> RhaiResult<Dynamic> {
        crate::api::at(&ctx, || secret::inspect("config", name))
    }

    /// A config's data (`config::inspect`'s `Spec.Data`) as text; invalid
    /// UTF-8 is replaced, as text has to be.
    ///
    /// ```rhai
    /// print(config::data(config::inspect("app.conf")));
    /// ```
    #[rhai_fn(return_raw)]
    pub fn data(config: Map) -> RhaiResult<String> {
        use base64::Engine as _;
        let spec = config.get("Spec").and_then(|s| s.read_lock::<Map>().map(|m| m.clone()));
        let text = spec
            .and_then(|s| s.get("Data").map(|d| d.to_string()))
            .unwrap_or_default();
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(text.as_bytes())
            .map_err(|e| format!("config::data: the data is not base64: {e}"))?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
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
