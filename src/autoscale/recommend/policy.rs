//! HPA's rate limits: the scaling policies over the scale-event history
//! (`calculateScaleUpLimitWithScalingRules`,
//! `calculateScaleDownLimitWithBehaviors`, `storeScaleEvent`).

use super::{Options, Policy, PolicyType, Resolved, Select, Stamped, State};

/// Replicas changed by events within `period` seconds before `now`.
fn change_in_period(events: &[Stamped], period: i64, now: f64) -> i64 {
    let cutoff = now - period as f64;
    events.iter().filter(|e| e.at > cutoff).map(|e| e.replicas).sum()
}

/// The replicas at the start of a policy's period: `current` less the
/// scale-ups and plus the scale-downs within it.
fn period_start(current: i64, st: &State, period_seconds: i64, now: f64) -> i64 {
    current - change_in_period(&st.scale_ups, period_seconds, now)
        + change_in_period(&st.scale_downs, period_seconds, now)
}

/// The replicas the policies `r` let `current` reach, scaling up (`up`)
/// or down: `calculateScaleUpLimitWithScalingRules` and
/// `calculateScaleDownLimitWithBehaviors`.
pub(super) fn scale_limit(up: bool, current: i64, st: &State, r: &Resolved, now: f64) -> i64 {
    // `Min` selects the policy that changes the least: the fewest
    // replicas up, the most down.
    let (mut result, pick): (i64, fn(i64, i64) -> i64) = match r.select {
        Select::Disabled => return current,
        s if (s == Select::Min) == up => (i64::MAX, std::cmp::min),
        _ => (i64::MIN, std::cmp::max),
    };
    for p in &r.policies {
        let start = period_start(current, st, p.period_seconds, now);
        let proposed = match (p.kind, up) {
            (PolicyType::Pods, true) => start + p.value,
            (PolicyType::Pods, false) => start - p.value,
            (PolicyType::Percent, true) => (start as f64 * (1.0 + p.value as f64 / 100.0)).ceil() as i64,
            (PolicyType::Percent, false) => (start as f64 * (1.0 - p.value as f64 / 100.0)) as i64,
        };
        result = pick(result, proposed);
    }
    result
}

pub(super) fn describe(p: &[Policy]) -> String {
    p.iter()
        .map(|p| {
            let unit = if p.kind == PolicyType::Pods { " pods" } else { " %" };
            format!("{}{unit} per {} s", p.value, p.period_seconds)
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// `storeScaleEvent`, dropping events older than the longest policy period.
pub(super) fn record_event(st: &mut State, from: i64, to: i64, now: f64, opts: &Options) {
    let longest = |r: &Resolved| r.policies.iter().map(|p| p.period_seconds).max().unwrap_or(0) as f64;
    let (up, down) = (longest(&opts.up()), longest(&opts.down()));
    st.scale_ups.retain(|e| e.at > now - up);
    st.scale_downs.retain(|e| e.at > now - down);
    if to > from {
        st.scale_ups.push(Stamped {
            at: now,
            replicas: to - from,
        });
    } else if to < from {
        st.scale_downs.push(Stamped {
            at: now,
            replicas: from - to,
        });
    }
}
