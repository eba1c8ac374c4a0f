//! Kubernetes' Horizontal Pod Autoscaler algorithm, reproduced step by step
//! (pkg/controller/podautoscaler: `GetResourceReplicas`,
//! `stabilizeRecommendationWithBehaviors`,
//! `convertDesiredReplicasWithBehaviorRate`), as a pure function of its
//! inputs and a [`State`] the caller keeps between calls.
//!
//! One call = one HPA reconcile: per metric a proposal
//! (`ceil(current × value / target)`, or the per-pod computation with its
//! not-ready / missing-metric rules), the maximum over metrics, then the
//! stabilization windows over the recommendation history, then the scaling
//! policies over the scale-event history and the min/max clamp. The decision
//! is assumed applied: the returned state records it as a scale event (as
//! the HPA records one after a successful rescale).

use serde::{Deserialize, Serialize};

/// HPA's `behavior:` for one direction.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Rules {
    /// Seconds of recommendation history considered (scale-up default 0,
    /// scale-down default 300).
    pub stabilization_window_seconds: Option<i64>,
    /// `Max` (default), `Min` or `Disabled`.
    pub select_policy: Option<Select>,
    /// Rate limits; HPA's defaults when absent.
    pub policies: Option<Vec<Policy>>,
}

/// Which policy wins when several apply.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq)]
pub enum Select {
    Max,
    Min,
    Disabled,
}

/// One scaling policy: at most `value` pods (or percent) per `periodSeconds`.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Policy {
    #[serde(rename = "type")]
    pub kind: PolicyType,
    pub value: i64,
    pub period_seconds: i64,
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq)]
pub enum PolicyType {
    Pods,
    Percent,
}

/// `behavior: { scaleUp, scaleDown }` as in an HPA spec.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Behavior {
    pub scale_up: Option<Rules>,
    pub scale_down: Option<Rules>,
}

fn default_min() -> i64 {
    1
}
fn default_tolerance() -> f64 {
    0.1
}

/// Options of one recommendation.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Options {
    /// minReplicas (default 1).
    #[serde(default = "default_min")]
    pub min: i64,
    /// maxReplicas (required, as in HPA).
    pub max: i64,
    /// No change while |1 − value/target| ≤ tolerance (default 0.1).
    #[serde(default = "default_tolerance")]
    pub tolerance: f64,
    /// The time of this evaluation in seconds (e.g. `timestamp()`-based);
    /// the system clock when absent.
    #[serde(default)]
    pub now: Option<f64>,
    #[serde(default)]
    pub behavior: Behavior,
}

impl Options {
    /// Options with HPA's defaults and the given bounds.
    pub fn new(min: i64, max: i64) -> Self {
        Options {
            min,
            max,
            tolerance: 0.1,
            now: None,
            behavior: Behavior::default(),
        }
    }

    /// Rejects bounds and policies HPA would reject.
    pub fn validate(&self) -> crate::error::Result<()> {
        if self.min < 0 {
            return Err(format!("min ({}) must be ≥ 0", self.min).into());
        }
        if self.max < 1 {
            return Err(format!("max ({}) must be ≥ 1", self.max).into());
        }
        if self.min > self.max {
            return Err(format!("min ({}) is greater than max ({})", self.min, self.max).into());
        }
        if !(self.tolerance >= 0.0 && self.tolerance.is_finite()) {
            return Err(format!("tolerance ({}) must be a number ≥ 0", self.tolerance).into());
        }
        for (dir, r) in [
            ("scaleUp", &self.behavior.scale_up),
            ("scaleDown", &self.behavior.scale_down),
        ] {
            let Some(r) = r else { continue };
            if let Some(w) = r.stabilization_window_seconds {
                if !(0..=3600).contains(&w) {
                    return Err(
                        format!("behavior.{dir}.stabilizationWindowSeconds ({w}) must be within 0..=3600").into(),
                    );
                }
            }
            for p in r.policies.iter().flatten() {
                if p.value <= 0 {
                    return Err(format!("behavior.{dir}: policy value ({}) must be > 0", p.value).into());
                }
                if !(1..=1800).contains(&p.period_seconds) {
                    return Err(format!(
                        "behavior.{dir}: policy periodSeconds ({}) must be within 1..=1800",
                        p.period_seconds
                    )
                    .into());
                }
            }
        }
        Ok(())
    }

    /// The scale-up (`up`) or scale-down rules with HPA's defaults: no
    /// stabilization window up, 300 s down; 100 % per 15 s, and up also 4
    /// pods per 15 s.
    fn rules(&self, up: bool) -> Resolved {
        let (r, window) = if up {
            (&self.behavior.scale_up, 0)
        } else {
            (&self.behavior.scale_down, 300)
        };
        let r = r.clone().unwrap_or_default();
        let per_15s = |kind, value| Policy {
            kind,
            value,
            period_seconds: 15,
        };
        let mut defaults = vec![per_15s(PolicyType::Percent, 100)];
        if up {
            defaults.push(per_15s(PolicyType::Pods, 4));
        }
        Resolved {
            window: r.stabilization_window_seconds.unwrap_or(window),
            select: r.select_policy.unwrap_or(Select::Max),
            policies: r.policies.unwrap_or(defaults),
        }
    }

    fn up(&self) -> Resolved {
        self.rules(true)
    }

    fn down(&self) -> Resolved {
        self.rules(false)
    }
}

/// A direction's rules with HPA's defaults filled in.
struct Resolved {
    window: i64,
    select: Select,
    policies: Vec<Policy>,
}

/// One per-pod sample: `value` absent when the pod has no metric yet.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PodSample {
    #[serde(default)]
    pub value: Option<f64>,
    /// Ready and past its initialization period (default true).
    #[serde(default = "yes")]
    pub ready: bool,
}

fn yes() -> bool {
    true
}

/// What a metric measured.
#[derive(Debug, Clone, PartialEq)]
pub enum Observed {
    /// The average per replica.
    Average(f64),
    /// One sample per pod (HPA's resource-metric path).
    Pods(Vec<PodSample>),
}

/// One metric and its target (the desired average per replica).
#[derive(Debug, Clone, PartialEq)]
pub struct Metric {
    pub name: String,
    pub observed: Observed,
    pub target: f64,
}

/// A timestamped recommendation or scale event (seconds).
#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Stamped {
    pub at: f64,
    pub replicas: i64,
}

/// What the caller keeps between calls: HPA's per-target memory.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct State {
    /// Unstabilized recommendations (replica counts).
    #[serde(default)]
    pub recommendations: Vec<Stamped>,
    /// Scale-up events (replicas added).
    #[serde(default)]
    pub scale_ups: Vec<Stamped>,
    /// Scale-down events (replicas removed).
    #[serde(default)]
    pub scale_downs: Vec<Stamped>,
}

/// One metric's proposal.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Proposal {
    pub name: String,
    /// The average used (after HPA's not-ready / missing substitutions).
    pub value: Option<f64>,
    pub target: f64,
    /// value / target.
    pub ratio: Option<f64>,
    /// Replicas this metric asks for (None: no data).
    pub replicas: Option<i64>,
    pub reason: String,
}

/// One decision.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Decision {
    /// The replica count to run.
    pub replicas: i64,
    pub current: i64,
    /// The metrics' recommendation (maximum over metrics), before
    /// stabilization and policies.
    pub desired: i64,
    /// After the stabilization windows.
    pub stabilized: i64,
    /// HPA's condition reason for what decided (`DesiredWithinRange`,
    /// `WithinTolerance`, `ScaleUpStabilized`, `ScaleDownStabilized`,
    /// `ScaleUpLimit`, `ScaleDownLimit`, `TooManyReplicas`,
    /// `TooFewReplicas`, `AboveMax`, `BelowMin`, `ScalingDisabled`,
    /// `MetricUnavailable`).
    pub rule: String,
    /// The metric whose proposal was taken.
    pub metric: Option<String>,
    /// One line a person reads.
    pub reason: String,
    pub metrics: Vec<Proposal>,
}

/// The seconds since the epoch, for callers without their own clock.
pub fn now_seconds() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

/// One HPA reconcile: returns the decision and the state to keep.
pub fn recommend(
    state: &State,
    current: i64,
    metrics: &[Metric],
    opts: &Options,
) -> crate::error::Result<(Decision, State)> {
    check(current, metrics, opts)?;
    let now = opts.now.unwrap_or_else(now_seconds);
    let mut st = state.clone();
    let mut d = Decision {
        replicas: current,
        current,
        desired: current,
        stabilized: current,
        rule: String::new(),
        metric: None,
        reason: String::new(),
        metrics: Vec::new(),
    };
    let done = |mut d: Decision, rule: &str, reason: String, st: State| {
        d.rule = rule.into();
        d.reason = reason;
        Ok((d, st))
    };
    if current == 0 && opts.min != 0 {
        return done(
            d,
            "ScalingDisabled",
            "scaling is disabled since the replica count is 0".into(),
            st,
        );
    }
    if let Some((target, rule, why)) = out_of_bounds(current, opts) {
        d.replicas = target;
        d.desired = target;
        d.stabilized = target;
        record_event(&mut st, current, target, now, opts);
        return done(d, rule, why, st);
    }
    // computeReplicasForMetrics: the largest proposal; a metric without
    // data blocks any scale-down (and everything if all lack data).
    d.metrics = metrics.iter().map(|m| propose(m, current, opts.tolerance)).collect();
    let valid: Vec<&Proposal> = d.metrics.iter().filter(|p| p.replicas.is_some()).collect();
    let invalid: Vec<&str> = d
        .metrics
        .iter()
        .filter(|p| p.replicas.is_none())
        .map(|p| p.name.as_str())
        .collect();
    let Some(best) = valid.iter().max_by_key(|p| p.replicas) else {
        let why = format!("no metric available ({}): holding {current}", invalid.join(", "));
        return done(d, "MetricUnavailable", why, st);
    };
    let desired = best.replicas.unwrap_or(current);
    d.metric = Some(best.name.clone());
    let metric_reason = best.reason.clone();
    if !invalid.is_empty() && desired < current {
        let why = format!(
            "{} unavailable: not scaling down to {desired}, holding {current}",
            invalid.join(", ")
        );
        d.desired = desired;
        return done(d, "MetricUnavailable", why, st);
    }
    d.desired = desired;

    // stabilizeRecommendationWithBehaviors
    let (up, down) = (opts.up(), opts.down());
    let stabilized = stabilize(&mut st, current, desired, now, (up.window, down.window));
    d.stabilized = stabilized;
    let (mut rule, mut reason) = match held(current, desired, stabilized, (up.window, down.window)) {
        Some((rule, why)) => (rule, metric_reason + why.as_str()),
        None => ("DesiredWithinRange", metric_reason),
    };

    // convertDesiredReplicasWithBehaviorRate
    let mut replicas = stabilized;
    if let Some((allowed, r, why)) = rate_limit(&st, opts, current, stabilized, now) {
        replicas = allowed;
        rule = r;
        reason += &format!("; limited to {allowed}: {why}");
    }
    if rule == "DesiredWithinRange" && desired == current && d.metrics.iter().all(|p| p.replicas == Some(current)) {
        rule = "WithinTolerance";
    }
    d.replicas = replicas;
    record_event(&mut st, current, replicas, now, opts);
    done(d, rule, reason, st)
}

/// A replica count outside min/max: where it goes, the rule and why.
fn out_of_bounds(current: i64, opts: &Options) -> Option<(i64, &'static str, String)> {
    if current > opts.max {
        return Some((
            opts.max,
            "AboveMax",
            format!("current {current} above max {}", opts.max),
        ));
    }
    if current < opts.min {
        return Some((
            opts.min,
            "BelowMin",
            format!("current {current} below min {}", opts.min),
        ));
    }
    None
}

/// When a stabilization window held the recommendation: the rule and why
/// (`windows`: up, down in seconds).
fn held(current: i64, desired: i64, stabilized: i64, windows: (i64, i64)) -> Option<(&'static str, String)> {
    if stabilized == desired {
        return None;
    }
    Some(if desired >= current {
        (
            "ScaleUpStabilized",
            format!(
                "; held at {stabilized} by the scale-up stabilization window ({} s): lowest recent recommendation",
                windows.0
            ),
        )
    } else {
        (
            "ScaleDownStabilized",
            format!(
                "; held at {stabilized} by the scale-down stabilization window ({} s): highest recent recommendation",
                windows.1
            ),
        )
    })
}

/// The inputs HPA refuses: bad options, a target that is not > 0, no
/// metric, a negative replica count.
fn check(current: i64, metrics: &[Metric], opts: &Options) -> crate::error::Result<()> {
    opts.validate()?;
    for m in metrics {
        if !(m.target > 0.0 && m.target.is_finite()) {
            return Err(format!("metric {}: target ({}) must be > 0", m.name, m.target).into());
        }
    }
    if metrics.is_empty() {
        return Err("no metric given".into());
    }
    if current < 0 {
        return Err(format!("current replicas ({current}) must be ≥ 0").into());
    }
    Ok(())
}

/// `stabilizeRecommendationWithBehaviors`: `desired` held between the
/// lowest recommendation of the scale-up window and the highest of the
/// scale-down window (`windows`: up, down in seconds); the history in
/// `st` trimmed to the windows and `desired` recorded.
fn stabilize(st: &mut State, current: i64, desired: i64, now: f64, windows: (i64, i64)) -> i64 {
    if st.recommendations.is_empty() {
        // maybeInitScaleDownStabilizationWindow
        st.recommendations.push(Stamped {
            at: now,
            replicas: current,
        });
    }
    let up_cut = now - windows.0 as f64;
    let down_cut = now - windows.1 as f64;
    let (mut up_rec, mut down_rec) = (desired, desired);
    for r in &st.recommendations {
        if r.at > up_cut {
            up_rec = up_rec.min(r.replicas);
        }
        if r.at > down_cut {
            down_rec = down_rec.max(r.replicas);
        }
    }
    st.recommendations.retain(|r| r.at > up_cut || r.at > down_cut);
    st.recommendations.push(Stamped {
        at: now,
        replicas: desired,
    });
    current.max(up_rec).min(down_rec)
}

/// `convertDesiredReplicasWithBehaviorRate`: when the scaling policies or
/// min/max hold `stabilized` back, the replicas allowed, the rule and why.
fn rate_limit(
    st: &State,
    opts: &Options,
    current: i64,
    stabilized: i64,
    now: f64,
) -> Option<(i64, &'static str, String)> {
    if stabilized == current {
        return None;
    }
    let up = stabilized > current;
    // What bounds a scale up, or down: its policies, then max or min.
    let rules = opts.rules(up);
    let (word, rule, bound, bound_rule, bound_word) = if up {
        ("up", "ScaleUpLimit", opts.max, "TooManyReplicas", "max")
    } else {
        ("down", "ScaleDownLimit", opts.min, "TooFewReplicas", "min")
    };
    // Whether `a` is further than `b` in the direction of the scale.
    let beyond = |a: i64, b: i64| if up { a > b } else { a < b };
    let limit = scale_limit(up, current, st, &rules, now);
    let limit = if beyond(current, limit) { current } else { limit };
    let (allowed, r, why) = if beyond(bound, limit) {
        let why = if rules.select == Select::Disabled {
            format!("scale-{word} disabled (selectPolicy Disabled)")
        } else {
            format!(
                "scale-{word} policies ({}, select {:?}) allow {limit}",
                describe(&rules.policies),
                rules.select
            )
        };
        (limit, rule, why)
    } else {
        (bound, bound_rule, format!("{bound_word} {bound}"))
    };
    beyond(stabilized, allowed).then_some((allowed, r, why))
}

mod policy;
mod propose;
use policy::{describe, record_event, scale_limit};
pub use propose::propose;

#[cfg(test)]
mod tests;
