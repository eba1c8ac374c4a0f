//! `autoscale::recommend`: Kubernetes HPA's algorithm
//! ([`crate::autoscale::recommend`]) for scripts. The script keeps the
//! state between calls (the recommendation and scale-event history the
//! stabilization windows and policies read) and decides what to do with
//! the decision.
//!
//! ```rhai
//! let state = #{};
//! every(15, || {
//!     let cpu = compose::stats("shop", "web").map(|s| s.cpu_pct_limit);
//!     let avg = cpu.reduce(|a, x| a + x, 0.0) / cpu.len();
//!     let d = autoscale::recommend(state, cpu.len(), avg, 60.0, #{ min: 1, max: 5 });
//!     state = d.state;
//!     print(d.reason);
//! });
//! ```

use rhai::plugin::*;
use rhai::{Array, Dynamic, Map, NativeCallContext};
use serde_json::Value;

use super::compose::Project;
use super::value::{to_dynamic, to_json};
use super::{fail, RhaiResult};
use crate::autoscale::recommend::{self as hpa, Metric, Observed, Options, PodSample, State};

fn number(v: &Value, what: &str) -> RhaiResult<f64> {
    match v.as_f64() {
        Some(f) if f.is_finite() => Ok(f),
        _ => fail(format!("autoscale::recommend: {what} must be a number, not {v}")),
    }
}

/// A metric's observation: a number (the average per replica) or one
/// entry per replica (`#{ value, ready }`, `value` () when it has none).
fn observed(v: &Value, name: &str) -> RhaiResult<Observed> {
    if let Some(list) = v.as_array() {
        let pods = list
            .iter()
            .map(|p| match p {
                Value::Number(_) => Ok(PodSample {
                    value: p.as_f64(),
                    ready: true,
                }),
                _ => serde_json::from_value::<PodSample>(p.clone())
                    .map_err(|e| format!("autoscale::recommend: metric {name}: a replica's sample: {e}").into()),
            })
            .collect::<RhaiResult<Vec<_>>>()?;
        return Ok(Observed::Pods(pods));
    }
    Ok(Observed::Average(number(v, &format!("metric {name}'s value"))?))
}

/// `[#{ name, target, value }]` (value a number or per-replica samples).
fn metrics(list: &Value) -> RhaiResult<Vec<Metric>> {
    let Some(items) = list.as_array() else {
        return fail("autoscale::recommend: metrics must be a list of #{ name, target, value }");
    };
    items
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let name = m["name"]
                .as_str()
                .map(str::to_string)
                .unwrap_or_else(|| format!("metric{}", i + 1));
            if let Some(k) = m
                .as_object()
                .and_then(|o| o.keys().find(|k| !["name", "target", "value"].contains(&k.as_str())))
            {
                return fail(format!(
                    "autoscale::recommend: metric {name}: unknown key {k:?} (known: name, target, value)"
                ));
            }
            Ok(Metric {
                target: number(&m["target"], &format!("metric {name}'s target"))?,
                observed: observed(&m["value"], &name)?,
                name,
            })
        })
        .collect()
}

/// Where `path` (keys from the document's root) is written in the
/// project's files: `file:line:col` of the key's value in the last file
/// that has it (a later file overrides), else of its nearest written
/// ancestor; "" when none is found.
fn locate(files: &[String], path: &[String]) -> String {
    let docs: Vec<(String, crate::compose::yaml::Node)> = files
        .iter()
        .filter_map(|f| {
            let text = std::fs::read_to_string(f).ok()?;
            Some((f.clone(), crate::compose::yaml::parse(&text, 0).ok()?))
        })
        .collect();
    for len in (1..=path.len()).rev() {
        for (file, root) in docs.iter().rev() {
            let mut node = Some(root);
            for key in &path[..len] {
                node = node.and_then(|n| n.get(key));
            }
            if let Some(n) = node {
                return format!("{file}:{}:{}", n.span.line, n.span.col);
            }
        }
    }
    String::new()
}

fn decide(state: Dynamic, current: i64, metrics: Vec<Metric>, opts: Map) -> RhaiResult<Map> {
    let state: State = if state.is_unit() {
        State::default()
    } else {
        serde_json::from_value(to_json(&state)?).map_err(|e| format!("autoscale::recommend: state: {e}"))?
    };
    let opts: Options = serde_json::from_value(to_json(&Dynamic::from_map(opts))?)
        .map_err(|e| format!("autoscale::recommend: options: {e}"))?;
    let (d, st) = hpa::recommend(&state, current, &metrics, &opts).map_err(|e| format!("autoscale::recommend: {e}"))?;
    let mut m = to_dynamic(&d).try_cast::<Map>().unwrap_or_default();
    m.insert("state".into(), to_dynamic(&st));
    Ok(m)
}

#[export_module]
pub mod api {
    use super::*;

    /// One HPA decision over several metrics (the largest proposal wins):
    /// `metrics` is `[#{ name, target, value }]`, `value` the average per
    /// replica or one `#{ value, ready }` per replica (HPA's not-ready and
    /// missing-metric rules then apply). Options: `min` (1), `max`,
    /// `tolerance` (0.1), `now` (seconds; the clock when absent),
    /// `behavior` (HPA's: `scaleUp`/`scaleDown` with
    /// `stabilizationWindowSeconds`, `selectPolicy`, `policies`). Returns
    /// `#{ replicas, current, desired, stabilized, rule, metric, reason,
    /// metrics, state }`; pass `state` to the next call (`()` or `#{}` the
    /// first time).
    ///
    /// ```rhai
    /// let d = autoscale::recommend(#{}, 2, [#{ name: "cpu", target: 50.0, value: 90.0 }], #{ max: 10 });
    /// print(d.replicas);   // 4
    /// ```
    #[rhai_fn(return_raw)]
    pub fn recommend(ctx: NativeCallContext, state: Dynamic, current: i64, list: Array, opts: Map) -> RhaiResult<Map> {
        let r = to_json(&Dynamic::from_array(list)).and_then(|v| metrics(&v));
        crate::api::at(&ctx, || r.and_then(|m| decide(state, current, m, opts)))
    }

    /// Where a key of the project's compose files is written, as
    /// `file:line:col` (the last file that sets it; its nearest written
    /// parent when it is not written; "" when neither is): for errors
    /// about rules read from the files.
    ///
    /// ```rhai
    /// let at = autoscale::locate(p, ["services", "web", "x-orch-autoscale", "max"]);
    /// throw `web: max must be at least 1 (${at})`;
    /// ```
    pub fn locate(p: Project, path: Array) -> String {
        let keys: Vec<String> = path.iter().map(|k| k.to_string()).collect();
        super::locate(&p.0.config_files, &keys)
    }

    /// Where a rule of a rules script is written, as `file:line:col`: the
    /// map literal that made the rule for `path[0]` (its service; `()` for
    /// a rule that names none), then the keys after it inside that literal
    /// (a metric by its `name`). The literal is found when it writes the
    /// service as a string, or is the only one that could have made the
    /// rule; else `fn rules()`'s body; else just the file.
    ///
    /// ```rhai
    /// let at = autoscale::locate("rules.rhai", ["web", "metrics", "cpu", "target"]);
    /// throw `web: metric cpu: target must be above 0 (${at})`;
    /// ```
    #[rhai_fn(name = "locate")]
    pub fn locate_in_script(file: &str, path: Array) -> String {
        let service = path.first().filter(|s| !s.is_unit()).map(|s| s.to_string());
        let keys: Vec<String> = path.iter().skip(1).map(|k| k.to_string()).collect();
        let found = std::fs::read_to_string(file)
            .ok()
            .and_then(|text| crate::autoscale::script_at::locate(&text, service.as_deref(), &keys));
        match found {
            Some((line, col)) => format!("{file}:{line}:{col}"),
            None => file.to_string(),
        }
    }

    /// One metric: `value` (a number, or per-replica samples) against
    /// `target`, otherwise as `recommend(state, current, metrics, opts)`.
    ///
    /// ```rhai
    /// let d = autoscale::recommend(state, 3, 80.0, 60.0, #{ min: 1, max: 6 });
    /// state = d.state;
    /// ```
    #[rhai_fn(name = "recommend", return_raw)]
    pub fn recommend_one(
        ctx: NativeCallContext,
        state: Dynamic,
        current: i64,
        value: Dynamic,
        target: Dynamic,
        opts: Map,
    ) -> RhaiResult<Map> {
        let r = (|| {
            let v = to_json(&value)?;
            let t = to_json(&target)?;
            Ok(vec![Metric {
                name: "metric".into(),
                observed: observed(&v, "metric")?,
                target: number(&t, "the target")?,
            }])
        })();
        crate::api::at(&ctx, || r.and_then(|m| decide(state, current, m, opts)))
    }
}
