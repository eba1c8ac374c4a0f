//! Networks: create, list, inspect, connect/disconnect containers, remove.
//!
//! ```rhai
//! let net = network::create(#{ name: "demo_default", labels: #{ app: "demo" } });
//! net.connect(container::get("web"), #{ aliases: ["www"] });
//! net.remove();
//! ```

use std::sync::Arc;

use bollard::models::{
    EndpointSettings, Ipam, IpamConfig, NetworkConnectRequest, NetworkCreateRequest, NetworkDisconnectRequest,
};
use bollard::query_parameters as qp;
use rhai::plugin::*;
use rhai::{Array, Dynamic, Engine, Map};

use super::handles::{Doc, Handle, Lookup};
use super::options::{NetworkConnectOpts, NetworkCreateOpts};
use super::value::{map_of, name_of, to_dynamic};
use super::{engine_call, engine_find, RhaiResult};
use crate::docker::Endpoint;

/// A network on an engine. Properties: `id`, `name`, `driver`, `labels`.
#[derive(Clone, Debug)]
pub struct Network {
    pub ep: Arc<Endpoint>,
    pub id: String,
    pub name: String,
    pub info: Map,
}

/// The engine answers list and inspect with two types of the same shape.
macro_rules! from_model {
    ($ep:expr, $n:expr) => {{
        let n = $n;
        let mut info = Map::new();
        info.insert("driver".into(), n.driver.unwrap_or_default().into());
        info.insert("scope".into(), n.scope.unwrap_or_default().into());
        info.insert("labels".into(), map_of(n.labels.unwrap_or_default()).into());
        Network {
            ep: $ep,
            id: n.id.unwrap_or_default(),
            name: n.name.unwrap_or_default(),
            info,
        }
    }};
}

fn lookup(name: &str) -> RhaiResult<Option<Network>> {
    let ep = super::endpoint();
    let found = engine_find(&ep, format!("network inspect {name}"), |d| {
        d.inspect_network(name, None::<qp::InspectNetworkOptions>)
    })?;
    Ok(found.map(|n| from_model!(ep.clone(), n)))
}

/// The name of `container` (a handle or a name), for `what`.
fn container_name(what: &str, container: &Dynamic) -> RhaiResult<String> {
    name_of(container).ok_or_else(|| crate::api::value::expected(what, "a container or its name", container))
}

fn list_where(filter: Map) -> RhaiResult<Array> {
    let ep = crate::api::endpoint();
    let opts = qp::ListNetworksOptions {
        filters: Some(crate::api::value::filters(filter)),
    };
    let found = engine_call(&ep, "network list", |d| d.list_networks(Some(opts)))?;
    Ok(found
        .into_iter()
        .map(|n| Dynamic::from(from_model!(ep.clone(), n)))
        .collect())
}

/// The doc comments of `network::get`, `find`, `list()` and `list(filters)`.
const LOOKUP_DOCS: [Doc; 4] = [
    &[
        "The network with this name or ID; throws if there is none.",
        "",
        "```rhai",
        "let n = network::get(\"demo_default\");",
        "```",
    ],
    &[
        "The network with this name or ID, or `()`.",
        "",
        "```rhai",
        "if network::find(\"demo_default\") == () { print(\"no network\"); }",
        "```",
    ],
    &["Every network."],
    &[
        "Networks matching Docker filters (`label`, `name`, `driver` …).",
        "",
        "```rhai",
        "let nets = network::list(#{ label: \"com.docker.compose.project=demo\" });",
        "```",
    ],
];

/// The properties read from `info`, with their doc comments.
const PROPERTIES: &[(&str, Doc)] = &[
    (
        "driver",
        &[
            "The network's `driver`.",
            "",
            "```rhai",
            "print(network::get(\"demo_default\").driver);",
            "```",
        ],
    ),
    (
        "labels",
        &[
            "The network's `labels`.",
            "",
            "```rhai",
            "print(network::get(\"demo_default\").labels);",
            "```",
        ],
    ),
];

/// How the module adds the handle's properties, finds networks and lists them.
pub const HANDLE: Handle<Network> = Handle::new(|h| &h.info, PROPERTIES, Some(LOOKUP));

/// Finds networks by name or ID, and lists them.
const LOOKUP: Lookup<Network> = Lookup::new("network", lookup, list_where, LOOKUP_DOCS);

#[export_module]
pub mod api {
    use super::*;

    pub type Network = super::Network;

    /// Creates a network. Options: `name` (required), `driver` (default
    /// bridge), `labels`, `internal`, `attachable`, `subnet`, `gateway`,
    /// `options` (driver options), `enable_ipv6`.
    ///
    /// ```rhai
    /// let net = network::create(#{ name: "backend", internal: true });
    /// ```
    #[rhai_fn(name = "create", return_raw)]
    pub fn create(ctx: NativeCallContext, opts: Map) -> RhaiResult<Network> {
        crate::api::at(&ctx, || create_from(opts))
    }

    fn create_from(opts: Map) -> RhaiResult<Network> {
        let o: NetworkCreateOpts = crate::api::opts::read("network::create", opts)?;
        let name = crate::api::opts::need("network::create", "name", o.name.clone())?;
        let ipam = match (o.subnet.clone(), o.gateway.clone()) {
            (None, None) => None,
            (subnet, gateway) => Some(Ipam {
                config: Some(vec![IpamConfig {
                    subnet,
                    gateway,
                    ..Default::default()
                }]),
                ..Default::default()
            }),
        };
        let req = NetworkCreateRequest {
            name: name.clone(),
            driver: Some(o.driver.clone().unwrap_or_else(|| "bridge".into())),
            internal: o.internal,
            attachable: o.attachable,
            labels: o.labels.clone(),
            options: o.options.clone(),
            enable_ipv6: o.enable_ipv6,
            scope: o.scope.clone(),
            ipam,
            ..Default::default()
        };
        let ep = crate::api::endpoint();
        let id = engine_call(&ep, format!("network create {name}"), |d| d.create_network(req))?.id;
        let mut n = LOOKUP.get(&id)?;
        n.ep = ep;
        Ok(n)
    }

    /// Creates a bridge network with this name.
    ///
    /// ```rhai
    /// let net = network::create("demo");
    /// ```
    #[rhai_fn(name = "create", return_raw)]
    pub fn create_named(ctx: NativeCallContext, name: &str) -> RhaiResult<Network> {
        crate::api::at(&ctx, || {
            let mut m = Map::new();
            m.insert("name".into(), name.into());
            create_from(m)
        })
    }

    /// The network's `id`.
    ///
    /// ```rhai
    /// print(network::get("demo_default").id);
    /// ```
    #[rhai_fn(global, get = "id", pure)]
    pub fn id(n: &mut Network) -> String {
        n.id.clone()
    }

    /// The network's `name`.
    ///
    /// ```rhai
    /// print(network::get("demo_default").name);
    /// ```
    #[rhai_fn(global, get = "name", pure)]
    pub fn name(n: &mut Network) -> String {
        n.name.clone()
    }

    /// The engine's full view of the network (Docker's keys).
    ///
    /// ```rhai
    /// print(network::get("demo_default").inspect().IPAM);
    /// ```
    #[rhai_fn(global, return_raw)]
    pub fn inspect(n: &mut Network) -> RhaiResult<Dynamic> {
        let r = engine_call(&n.ep, format!("network inspect {}", n.name), |d| {
            d.inspect_network(&n.id, None::<qp::InspectNetworkOptions>)
        })?;
        Ok(to_dynamic(&r))
    }

    /// Connects a container (handle or name) to the network.
    #[rhai_fn(global, name = "connect", return_raw)]
    pub fn connect(n: &mut Network, container: Dynamic) -> RhaiResult<()> {
        connect_opts(n, container, Map::new())
    }

    /// Connects a container with options: `aliases`, `ipv4_address`.
    ///
    /// ```rhai
    /// net.connect("web", #{ aliases: ["www"] });
    /// ```
    #[rhai_fn(global, name = "connect", return_raw)]
    pub fn connect_opts(n: &mut Network, container: Dynamic, opts: Map) -> RhaiResult<()> {
        let o: NetworkConnectOpts = crate::api::opts::read("network connect", opts)?;
        let c = container_name("network connect", &container)?;
        let req = NetworkConnectRequest {
            container: c.clone(),
            endpoint_config: Some(EndpointSettings {
                aliases: o.aliases.clone(),
                ip_address: o.ipv4_address.clone(),
                ..Default::default()
            }),
        };
        engine_call(&n.ep, format!("network connect {} {c}", n.name), |d| {
            d.connect_network(&n.id, req)
        })
    }

    /// Disconnects a container (handle or name) from the network.
    ///
    /// ```rhai
    /// network::get("demo_default").disconnect("demo-web-1");
    /// ```
    #[rhai_fn(global, return_raw)]
    pub fn disconnect(n: &mut Network, container: Dynamic) -> RhaiResult<()> {
        let c = container_name("network disconnect", &container)?;
        let req = NetworkDisconnectRequest {
            container: c.clone(),
            force: Some(true),
        };
        engine_call(&n.ep, format!("network disconnect {} {c}", n.name), |d| {
            d.disconnect_network(&n.id, req)
        })
    }

    /// Removes the network (throws while containers are attached).
    ///
    /// ```rhai
    /// network::get("scratch").remove();
    /// ```
    #[rhai_fn(global, return_raw)]
    pub fn remove(n: &mut Network) -> RhaiResult<()> {
        engine_call(&n.ep, format!("network remove {}", n.name), |d| d.remove_network(&n.id))
    }

    /// The network in one line, as `print` and `${...}` show it.
    ///
    /// ```rhai
    /// let n = network::create(#{ name: "backend" });
    /// print(`${n}`);   // network backend
    /// ```
    #[rhai_fn(global, name = "to_string", pure)]
    pub fn to_string(n: &mut Network) -> String {
        format!("network {}", n.name)
    }

    /// The network with its details, as `debug` shows it.
    ///
    /// ```rhai
    /// let n = network::create(#{ name: "backend" });
    /// debug(n);
    /// ```
    #[rhai_fn(global, name = "to_debug", pure)]
    pub fn to_debug(n: &mut Network) -> String {
        to_string(n)
    }
}

pub fn register_types(engine: &mut Engine) {
    engine.register_type_with_name::<Network>("Network");
}
