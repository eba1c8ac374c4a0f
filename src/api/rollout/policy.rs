//! A rollout's policy: the service's `deploy.update_config` (or
//! `rollback_config`, the update's filling its gaps), options over both.

use std::time::Duration;

use serde_json::Value;

use crate::api::options::RolloutOpts;
use crate::api::{fail, RhaiResult};

/// How a rollout (or its rollback) proceeds.
#[derive(Clone, Debug)]
pub(super) struct Policy {
    /// Replicas replaced at once.
    pub(super) batch: usize,
    pub(super) delay: Duration,
    pub(super) start_first: bool,
    pub(super) failure_action: String,
    pub(super) monitor: Duration,
    pub(super) max_failure_ratio: f64,
}

/// Seconds from a number or a compose duration (`"1m30s"`): option `key`.
pub(super) fn secs(key: &str, v: &Option<rhai::Dynamic>) -> RhaiResult<Option<Duration>> {
    let what = format!("compose::rollout: {key}");
    match v {
        None => Ok(None),
        Some(v) if v.is_string() => crate::units::parse_duration(&v.to_string())
            .map(|ns| Some(Duration::from_nanos(ns.max(0) as u64)))
            .map_err(|e| format!("{what}: {e}").into()),
        Some(v) => {
            let n = match (v.as_float(), v.as_int()) {
                (Ok(f), _) => f,
                (_, Ok(i)) => i as f64,
                _ => {
                    return Err(crate::api::opts::wrong_type(
                        "compose::rollout",
                        key,
                        "seconds or a duration",
                        v,
                    ))
                }
            };
            Ok(Some(crate::api::util::secs(&what, n)?))
        }
    }
}

fn ns(v: Option<&Value>) -> Option<Duration> {
    crate::plan::values::duration_ns(v).map(|n| Duration::from_nanos(n.max(0) as u64))
}

/// The policy of `deploy.<key>` (update_config or rollback_config),
/// `base` filling what it leaves out, the options over both.
pub(super) fn policy(
    raw: &Value,
    key: &str,
    base: Option<&Policy>,
    o: &RolloutOpts,
    replicas: usize,
) -> RhaiResult<Policy> {
    let c = &raw["deploy"][key];
    let parallelism = match o.parallelism {
        Some(n) => n.max(0) as usize,
        None => c["parallelism"]
            .as_u64()
            .map(|n| n as usize)
            .or(base.map(|b| b.batch))
            .unwrap_or(1),
    };
    // Swarm's parallelism 0: everything at once.
    let mut batch = if parallelism == 0 { replicas.max(1) } else { parallelism };
    let order = match o.order.clone() {
        Some(s) => s,
        None => c["order"]
            .as_str()
            .map(String::from)
            .or(base.map(|b| {
                if b.start_first {
                    "start-first".into()
                } else {
                    "stop-first".into()
                }
            }))
            .unwrap_or_else(|| "start-first".into()),
    };
    let start_first = match order.as_str() {
        "start-first" => true,
        "stop-first" => false,
        other => {
            return fail(format!(
                "compose::rollout: order must be start-first or stop-first, not {other:?}"
            ))
        }
    };
    // Kubernetes' bounds: extra replicas at once (start-first) and missing
    // ones (stop-first).
    let bound = if start_first { o.max_surge } else { o.max_unavailable };
    if let Some(b) = bound {
        batch = batch.min(b.max(1) as usize);
    }
    let failure_action = match o.failure_action.clone() {
        Some(s) => s,
        None => c["failure_action"]
            .as_str()
            .map(String::from)
            .or(base.map(|b| b.failure_action.clone()))
            .unwrap_or_else(|| "rollback".into()),
    };
    if !["rollback", "pause", "continue"].contains(&failure_action.as_str()) {
        return fail(format!(
            "compose::rollout: failure_action must be rollback, pause or continue, not {failure_action:?}"
        ));
    }
    Ok(Policy {
        batch,
        delay: secs("delay", &o.delay)?
            .or(ns(c.get("delay")))
            .or(base.map(|b| b.delay))
            .unwrap_or_default(),
        start_first,
        failure_action,
        monitor: secs("monitor", &o.monitor)?
            .or(ns(c.get("monitor")))
            .or(base.map(|b| b.monitor))
            .unwrap_or_default(),
        max_failure_ratio: o
            .max_failure_ratio
            .or(c["max_failure_ratio"].as_f64())
            .or(base.map(|b| b.max_failure_ratio))
            .unwrap_or(0.0),
    })
}

/// Why two containers of the service cannot run at once, if they cannot:
/// a fixed container name or a fixed published host port.
pub fn single_instance(service: &Value) -> Option<String> {
    if let Some(n) = service["container_name"].as_str() {
        return Some(format!("has container_name {n}"));
    }
    let ports = service["ports"].as_array()?;
    ports
        .iter()
        .filter_map(|p| p["published"].as_str())
        .find(|p| !p.is_empty() && !p.contains('-'))
        .map(|p| format!("publishes host port {p}"))
}
