//! One metric's proposal, as HPA's `GetResourceReplicas` and
//! `GetMetricReplicas` compute it: the ratio of the observed value to the
//! target scales the replicas, within a tolerance; per-replica samples
//! count the ready replicas first and the others conservatively.

use super::{Metric, Observed, PodSample, Proposal};

fn ceil_i(x: f64) -> i64 {
    x.ceil() as i64
}

fn average(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len() as f64
}

/// `GetResourceReplicas` (generalised from utilization to any per-pod
/// value): the replicas one metric asks for.
pub fn propose(m: &Metric, current: i64, tolerance: f64) -> Proposal {
    let p = Proposal {
        name: m.name.clone(),
        value: None,
        target: m.target,
        ratio: None,
        replicas: None,
        reason: String::new(),
    };
    match &m.observed {
        Observed::Average(v) => by_ratio(m, *v, current, current as f64, current.to_string(), tolerance, p),
        Observed::Pods(pods) => propose_pods(m, pods, current, tolerance, p),
    }
}

/// `propose` from per-replica samples, as HPA treats pods: the ready ones
/// first; replicas without metrics, or not ready, counted conservatively
/// (so they never cause a scale the ready ones do not ask for).
/// The proposal for `value` against the target: `current` within the
/// tolerance, else the ratio times the `n` replicas the value is over
/// (`counted` words them in the reason).
fn by_ratio(
    m: &Metric,
    value: f64,
    current: i64,
    n: f64,
    counted: String,
    tolerance: f64,
    mut p: Proposal,
) -> Proposal {
    let ratio = value / m.target;
    p.value = Some(value);
    p.ratio = Some(ratio);
    if (1.0 - ratio).abs() <= tolerance {
        p.replicas = Some(current);
        p.reason = format!("{} {value} within {tolerance} of target {}", m.name, m.target);
    } else {
        let r = ceil_i(ratio * n);
        p.replicas = Some(r);
        p.reason = format!("{} {value} / target {} × {counted} → {r}", m.name, m.target);
    }
    p
}

fn propose_pods(m: &Metric, pods: &[PodSample], current: i64, tolerance: f64, mut p: Proposal) -> Proposal {
    let within = |r: f64| (1.0 - r).abs() <= tolerance;
    let ready: Vec<f64> = pods.iter().filter(|s| s.ready).filter_map(|s| s.value).collect();
    let missing = pods.iter().filter(|s| s.ready && s.value.is_none()).count();
    let unready = pods.iter().filter(|s| !s.ready).count();
    if ready.is_empty() {
        p.reason = format!("{}: no metrics from ready replicas", m.name);
        return p;
    }
    let ratio = average(&ready) / m.target;
    let scale_up_with_unready = unready > 0 && ratio > 1.0;
    if !scale_up_with_unready && missing == 0 {
        let n = ready.len();
        return by_ratio(
            m,
            average(&ready),
            current,
            n as f64,
            format!("{n} ready"),
            tolerance,
            p,
        );
    }
    // Recompute conservatively: missing metrics count as 100 % of
    // the target on a scale-down and 0 on a scale-up; not-ready
    // replicas count as 0 on a scale-up (ignored otherwise).
    let mut all = ready.clone();
    let fill = if ratio < 1.0 { m.target } else { 0.0 };
    all.extend(std::iter::repeat_n(fill, missing));
    if scale_up_with_unready {
        all.extend(std::iter::repeat_n(0.0, unready));
    }
    let new_ratio = average(&all) / m.target;
    p.value = Some(average(&all));
    p.ratio = Some(new_ratio);
    let note = format!(
        "{missing} without metrics as {}, {} not ready{}",
        if ratio < 1.0 { "100 %" } else { "0" },
        unready,
        if scale_up_with_unready { " as 0" } else { " ignored" }
    );
    if within(new_ratio) || (ratio < 1.0 && new_ratio > 1.0) || (ratio > 1.0 && new_ratio < 1.0) {
        p.replicas = Some(current);
        p.reason = format!(
            "{} {} (ready {}) within tolerance or reversed once {note}",
            m.name,
            average(&all),
            average(&ready)
        );
        return p;
    }
    let r = ceil_i(new_ratio * all.len() as f64);
    if (new_ratio < 1.0 && r > current) || (new_ratio > 1.0 && r < current) {
        p.replicas = Some(current);
        p.reason = format!("{} would scale against its direction ({note})", m.name);
        return p;
    }
    p.replicas = Some(r);
    p.reason = format!(
        "{} {} / target {} × {} → {r} ({note})",
        m.name,
        average(&all),
        m.target,
        all.len()
    );
    p
}
