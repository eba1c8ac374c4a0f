//! Each swarm node's own engine, for the work that must reach a task's
//! node (its stats, copying images to it, probing its containers). Found
//! in one order everywhere: an explicit `--node-host NODE=URL`, a docker
//! context named after the node, the node's `orch.engine` label. The node
//! this engine is keeps this engine. Never a guessed plaintext
//! `tcp://ADDR:2375`: an engine without TLS on the network is root for
//! anyone who reaches it, so only the user may name one.
//!
//! ```rhai
//! for n in node::engines(#{}) { print(`${n.node} ${n.host}`); }
//! ```

use std::collections::HashMap;
use std::sync::Arc;

use rhai::plugin::*;
use rhai::{Array, Dynamic, Map};
use serde_json::Value;

use super::swarm::get;
use super::RhaiResult;
use crate::docker::Endpoint;

/// One node's engine: `host` is a URL or a docker context name, `None`
/// when nothing names one.
#[derive(Clone, Debug)]
pub struct NodeEngine {
    pub id: String,
    pub node: String,
    pub host: Option<String>,
    pub ready: bool,
}

/// The engines of `nodes` (the engine's `/nodes` answer).
pub fn engines_of(nodes: &Value, self_id: &str, given: &HashMap<String, String>) -> Vec<NodeEngine> {
    let contexts: Vec<String> = crate::context::list(&crate::context::config_dir())
        .into_iter()
        .map(|c| c.name)
        .collect();
    let mut out = Vec::new();
    for n in nodes.as_array().into_iter().flatten() {
        let id = n["ID"].as_str().unwrap_or("").to_string();
        let node = n["Description"]["Hostname"].as_str().unwrap_or("").to_string();
        let host = if id == self_id {
            Some(super::endpoint().host.clone())
        } else if let Some(h) = given.get(&node) {
            Some(h.clone())
        } else if contexts.contains(&node) {
            Some(node.clone())
        } else {
            n["Spec"]["Labels"]["orch.engine"].as_str().map(str::to_string)
        };
        let ready = n["Status"]["State"] == "ready";
        out.push(NodeEngine { id, node, host, ready });
    }
    out
}

/// What to do about a node whose engine nothing names.
pub fn no_engine(node: &str) -> String {
    format!(
        "node {node}: no engine address known: give --node-host {node}=URL, create a docker context named {node} \
         (docker context create {node} --docker host=URL), or label the node (orch node update --label-add orch.engine=URL {node})"
    )
}

/// The engine a URL or a docker context name names; an unknown name is
/// an engine at that (unusable) address, whose error says so on first use.
pub fn endpoint_for(name_or_url: &str) -> Arc<Endpoint> {
    crate::context::lookup(name_or_url)
        .map(|c| c.endpoint())
        .unwrap_or_else(|_| Endpoint::new(name_or_url))
}

#[export_module]
pub mod api {
    use super::*;

    /// Every node's own engine, `[#{ id, node, host, ready }]`: `host` from
    /// `node_hosts` (hostname → URL), else a docker context named after
    /// the node, else its `orch.engine` label; `()` when none names one.
    ///
    /// ```rhai
    /// let all = node::engines(#{ node2: "tcp://10.0.0.12:2376" });
    /// ```
    #[rhai_fn(return_raw)]
    pub fn engines(ctx: NativeCallContext, node_hosts: Map) -> RhaiResult<Array> {
        crate::api::at(&ctx, || {
            let given: HashMap<String, String> = node_hosts
                .into_iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            let nodes = get("node engines".into(), "/nodes".into())?;
            let info = get("node engines".into(), "/info".into())?;
            let self_id = info["Swarm"]["NodeID"].as_str().unwrap_or("");
            Ok(engines_of(&nodes, self_id, &given)
                .into_iter()
                .map(|e| {
                    let mut m = Map::new();
                    m.insert("id".into(), e.id.into());
                    m.insert("node".into(), e.node.into());
                    m.insert("host".into(), e.host.map(Dynamic::from).unwrap_or(Dynamic::UNIT));
                    m.insert("ready".into(), e.ready.into());
                    Dynamic::from_map(m)
                })
                .collect())
        })
    }

    /// The message for a node whose engine nothing names, with the ways
    /// to name one.
    ///
    /// ```rhai
    /// throw node::no_engine("node3");
    /// ```
    #[rhai_fn(name = "no_engine")]
    pub fn no_engine_message(node: &str) -> String {
        no_engine(node)
    }
}
