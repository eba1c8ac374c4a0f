//! Volumes: create, list, inspect, remove.
//!
//! ```rhai
//! let v = volume::create(#{ name: "data", labels: #{ app: "demo" } });
//! v.remove();
//! ```

use std::sync::Arc;

use bollard::models::VolumeCreateRequest;
use bollard::query_parameters as qp;
use rhai::plugin::*;
use rhai::{Array, Dynamic, Engine, Map};

use super::handles::{Doc, Handle, Lookup};
use super::options::VolumeCreateOpts;
use super::value::{map_of, to_dynamic};
use super::{engine_call, engine_find, RhaiResult};
use crate::docker::Endpoint;

/// A volume on an engine. Properties: `name`, `driver`, `mountpoint`,
/// `labels`.
#[derive(Clone, Debug)]
pub struct Volume {
    pub ep: Arc<Endpoint>,
    pub name: String,
    pub info: Map,
}

fn from_model(ep: Arc<Endpoint>, v: bollard::models::Volume) -> Volume {
    let mut info = Map::new();
    info.insert("driver".into(), v.driver.into());
    info.insert("mountpoint".into(), v.mountpoint.into());
    info.insert("labels".into(), map_of(v.labels).into());
    Volume { ep, name: v.name, info }
}

fn lookup(name: &str) -> RhaiResult<Option<Volume>> {
    let ep = super::endpoint();
    let found = engine_find(&ep, format!("volume inspect {name}"), |d| d.inspect_volume(name))?;
    Ok(found.map(|v| from_model(ep.clone(), v)))
}

fn list_where(filter: Map) -> RhaiResult<Array> {
    let filters = crate::api::value::filters(filter);
    let ep = crate::api::endpoint();
    let opts = qp::ListVolumesOptions { filters: Some(filters) };
    let found = engine_call(&ep, "volume list", |d| d.list_volumes(Some(opts)))?;
    Ok(found
        .volumes
        .unwrap_or_default()
        .into_iter()
        .map(|v| Dynamic::from(from_model(ep.clone(), v)))
        .collect())
}

/// The doc comments of `volume::get`, `find`, `list()` and `list(filters)`.
const LOOKUP_DOCS: [Doc; 4] = [
    &[
        "The volume with this name; throws if there is none.",
        "",
        "```rhai",
        "let v = volume::get(\"demo_data\");",
        "```",
    ],
    &[
        "The volume with this name, or `()`.",
        "",
        "```rhai",
        "if volume::find(\"demo_data\") == () { print(\"no volume\"); }",
        "```",
    ],
    &["Every volume."],
    &[
        "Volumes matching Docker filters (`label`, `name`, `dangling`).",
        "",
        "```rhai",
        "let vols = volume::list(#{ label: \"com.docker.compose.project=demo\" });",
        "```",
    ],
];

/// The properties read from `info`, with their doc comments.
const PROPERTIES: &[(&str, Doc)] = &[
    (
        "driver",
        &[
            "The volume's `driver`.",
            "",
            "```rhai",
            "print(volume::get(\"demo_data\").driver);",
            "```",
        ],
    ),
    (
        "mountpoint",
        &[
            "The volume's `mountpoint`.",
            "",
            "```rhai",
            "print(volume::get(\"demo_data\").mountpoint);",
            "```",
        ],
    ),
    (
        "labels",
        &[
            "The volume's `labels`.",
            "",
            "```rhai",
            "print(volume::get(\"demo_data\").labels);",
            "```",
        ],
    ),
];

/// How the module adds the handle's properties, finds volumes and lists them.
pub const HANDLE: Handle<Volume> = Handle::new(|h| &h.info, PROPERTIES, Some(LOOKUP));

/// Finds volumes by name or ID, and lists them.
const LOOKUP: Lookup<Volume> = Lookup::new("volume", lookup, list_where, LOOKUP_DOCS);

#[export_module]
pub mod api {
    use super::*;

    pub type Volume = super::Volume;

    /// Creates a volume. Options: `name` (omit for an anonymous one),
    /// `driver`, `driver_opts`, `labels`.
    ///
    /// ```rhai
    /// let v = volume::create(#{ name: "db-data" });
    /// ```
    #[rhai_fn(name = "create", return_raw)]
    pub fn create(ctx: NativeCallContext, opts: Map) -> RhaiResult<Volume> {
        crate::api::at(&ctx, || create_from(opts))
    }

    fn create_from(opts: Map) -> RhaiResult<Volume> {
        let o: VolumeCreateOpts = crate::api::opts::read("volume::create", opts)?;
        let req = VolumeCreateRequest {
            name: o.name.clone(),
            driver: o.driver.clone(),
            driver_opts: o.driver_opts.clone(),
            labels: o.labels.clone(),
            ..Default::default()
        };
        let label = req.name.clone().unwrap_or_else(|| "(anonymous)".into());
        let ep = crate::api::endpoint();
        let v = engine_call(&ep, format!("volume create {label}"), |d| d.create_volume(req))?;
        Ok(from_model(ep, v))
    }

    /// Creates a volume with this name.
    #[rhai_fn(name = "create", return_raw)]
    pub fn create_named(ctx: NativeCallContext, name: &str) -> RhaiResult<Volume> {
        crate::api::at(&ctx, || {
            let mut m = Map::new();
            m.insert("name".into(), name.into());
            create_from(m)
        })
    }

    /// The volume's `name`.
    ///
    /// ```rhai
    /// print(volume::get("demo_data").name);
    /// ```
    #[rhai_fn(global, get = "name", pure)]
    pub fn name(v: &mut Volume) -> String {
        v.name.clone()
    }

    /// The engine's full view of the volume (Docker's keys).
    ///
    /// ```rhai
    /// print(volume::get("demo_data").inspect().Mountpoint);
    /// ```
    #[rhai_fn(global, return_raw)]
    pub fn inspect(v: &mut Volume) -> RhaiResult<Dynamic> {
        let r = engine_call(&v.ep, format!("volume inspect {}", v.name), |d| {
            d.inspect_volume(&v.name)
        })?;
        Ok(to_dynamic(&r))
    }

    /// Removes the volume (throws while a container uses it).
    ///
    /// ```rhai
    /// volume::get("scratch").remove();
    /// ```
    #[rhai_fn(global, name = "remove", return_raw)]
    pub fn remove(v: &mut Volume) -> RhaiResult<()> {
        engine_call(&v.ep, format!("volume remove {}", v.name), |d| {
            d.remove_volume(&v.name, None::<qp::RemoveVolumeOptions>)
        })
    }

    /// The volume in one line, as `print` and `${...}` show it.
    ///
    /// ```rhai
    /// let v = volume::create(#{ name: "data" });
    /// print(`${v}`);   // volume data
    /// ```
    #[rhai_fn(global, name = "to_string", pure)]
    pub fn to_string(v: &mut Volume) -> String {
        format!("volume {}", v.name)
    }

    /// The volume with its details, as `debug` shows it.
    ///
    /// ```rhai
    /// let v = volume::create(#{ name: "data" });
    /// debug(v);
    /// ```
    #[rhai_fn(global, name = "to_debug", pure)]
    pub fn to_debug(v: &mut Volume) -> String {
        to_string(v)
    }
}

pub fn register_types(engine: &mut Engine) {
    engine.register_type_with_name::<Volume>("Volume");
}
