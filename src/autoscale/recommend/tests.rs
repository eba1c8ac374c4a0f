//! The HPA documentation's worked examples
//! (kubernetes.io/docs/tasks/run-application/horizontal-pod-autoscale/).

use super::*;

fn avg(name: &str, value: f64, target: f64) -> Metric {
    Metric {
        name: name.into(),
        observed: Observed::Average(value),
        target,
    }
}

fn pods(name: &str, samples: &[(Option<f64>, bool)], target: f64) -> Metric {
    let samples = samples
        .iter()
        .map(|&(value, ready)| PodSample { value, ready })
        .collect();
    Metric {
        name: name.into(),
        observed: Observed::Pods(samples),
        target,
    }
}

fn opts(min: i64, max: i64, now: f64) -> Options {
    Options {
        now: Some(now),
        ..Options::new(min, max)
    }
}

fn no_down_window(mut o: Options) -> Options {
    let mut r = o.behavior.scale_down.take().unwrap_or_default();
    r.stabilization_window_seconds = Some(0);
    o.behavior.scale_down = Some(r);
    o
}

fn down_policies(mut o: Options, select: Option<Select>, p: Vec<Policy>) -> Options {
    let mut r = o.behavior.scale_down.take().unwrap_or_default();
    r.select_policy = select;
    r.policies = Some(p);
    o.behavior.scale_down = Some(r);
    o
}

fn policy(kind: PolicyType, value: i64, period_seconds: i64) -> Policy {
    Policy {
        kind,
        value,
        period_seconds,
    }
}

fn run(st: &State, current: i64, m: &[Metric], o: &Options) -> (Decision, State) {
    recommend(st, current, m, o).expect("recommend")
}

/// "if the current metric value is 200m, and the desired value is 100m,
/// the number of replicas will be doubled … If the current value is
/// instead 50m, you'll halve the number of replicas."
#[test]
fn ratio_doubles_and_halves() {
    let o = no_down_window(opts(1, 100, 1000.0));
    let (d, _) = run(&State::default(), 4, &[avg("cpu", 200.0, 100.0)], &o);
    assert_eq!((d.desired, d.replicas, d.rule.as_str()), (8, 8, "DesiredWithinRange"));
    assert_eq!(d.metric.as_deref(), Some("cpu"));
    let (d, _) = run(&State::default(), 4, &[avg("cpu", 50.0, 100.0)], &o);
    assert_eq!((d.desired, d.replicas), (2, 2));
    // ceil: 3 × 70 / 50 = 4.2 → 5
    let (d, _) = run(&State::default(), 3, &[avg("cpu", 70.0, 50.0)], &o);
    assert_eq!(d.replicas, 5);
}

/// "The control plane skips any scaling action if the ratio is
/// sufficiently close to 1.0 (within a configurable tolerance, 0.1 by
/// default)."
#[test]
fn tolerance() {
    let o = no_down_window(opts(1, 100, 0.0));
    for v in [91.0, 100.0, 109.0] {
        let (d, _) = run(&State::default(), 10, &[avg("cpu", v, 100.0)], &o);
        assert_eq!((d.replicas, d.rule.as_str()), (10, "WithinTolerance"), "value {v}");
    }
    let (d, _) = run(&State::default(), 10, &[avg("cpu", 111.0, 100.0)], &o);
    assert_eq!(d.replicas, 12);
    let (d, _) = run(&State::default(), 10, &[avg("cpu", 89.0, 100.0)], &o);
    assert_eq!(d.replicas, 9);
    // configurable: 0.25 → 120 is within
    let o = Options { tolerance: 0.25, ..o };
    let (d, _) = run(&State::default(), 10, &[avg("cpu", 120.0, 100.0)], &o);
    assert_eq!(d.replicas, 10);
}

/// Several metrics: "the controller … chooses the largest".
#[test]
fn several_metrics_take_the_largest() {
    let o = no_down_window(opts(1, 100, 0.0));
    let m = [
        avg("cpu", 50.0, 100.0),
        avg("rps", 300.0, 100.0),
        avg("mem", 100.0, 100.0),
    ];
    let (d, _) = run(&State::default(), 2, &m, &o);
    assert_eq!((d.replicas, d.metric.as_deref()), (6, Some("rps")));
    assert_eq!(
        d.metrics.iter().map(|p| p.replicas).collect::<Vec<_>>(),
        [Some(1), Some(6), Some(2)]
    );
}

/// minReplicas / maxReplicas bound the decision and name the rule.
#[test]
fn min_max_clamp() {
    let o = no_down_window(opts(2, 5, 0.0));
    let (d, _) = run(&State::default(), 4, &[avg("cpu", 400.0, 100.0)], &o);
    assert_eq!((d.desired, d.replicas, d.rule.as_str()), (16, 5, "TooManyReplicas"));
    let (d, _) = run(&State::default(), 4, &[avg("cpu", 10.0, 100.0)], &o);
    assert_eq!((d.replicas, d.rule.as_str()), (2, "TooFewReplicas"));
    let (d, _) = run(&State::default(), 9, &[avg("cpu", 10.0, 100.0)], &o);
    assert_eq!((d.replicas, d.rule.as_str()), (5, "AboveMax"));
    let (d, _) = run(&State::default(), 1, &[avg("cpu", 100.0, 100.0)], &o);
    assert_eq!((d.replicas, d.rule.as_str()), (2, "BelowMin"));
    let (d, _) = run(&State::default(), 0, &[avg("cpu", 100.0, 100.0)], &o);
    assert_eq!((d.replicas, d.rule.as_str()), (0, "ScalingDisabled"));
}

/// Default scale-down stabilization (300 s): "uses the highest value from
/// the specified interval", and the window starts with the current size.
#[test]
fn scale_down_stabilization_window() {
    let half = [avg("cpu", 50.0, 100.0)];
    let full = [avg("cpu", 100.0, 100.0)];
    let (d, st) = run(&State::default(), 6, &full, &opts(1, 10, 0.0));
    assert_eq!(d.replicas, 6);
    let (d, st) = run(&st, 6, &half, &opts(1, 10, 60.0));
    assert_eq!((d.desired, d.replicas, d.rule.as_str()), (3, 6, "ScaleDownStabilized"));
    assert!(
        d.reason.contains("scale-down stabilization window (300 s)"),
        "{}",
        d.reason
    );
    let (d, st) = run(&st, 6, &half, &opts(1, 10, 299.0));
    assert_eq!(d.replicas, 6);
    // t=301: the recommendations of t=0 (6, 6) left the window; 3 remains
    let (d, st) = run(&st, 6, &half, &opts(1, 10, 301.0));
    assert_eq!((d.replicas, d.rule.as_str()), (3, "DesiredWithinRange"));
    // the window's memory is pruned: nothing older than 300 s is kept
    assert!(st.recommendations.iter().all(|r| r.at > 1.0));
    // a spike: 3 → 8 asked, the scale-up policies allow max(3 + 100 %, 3 + 4) = 7
    let (d, st) = run(&st, 3, &[avg("cpu", 266.0, 100.0)], &opts(1, 10, 320.0));
    assert_eq!((d.desired, d.replicas, d.rule.as_str()), (8, 7, "ScaleUpLimit"));
    // then the load halves: 4 asked, but 8 was recommended 20 s ago → hold 7
    let (d, _) = run(&st, 7, &[avg("cpu", 50.0, 100.0)], &opts(1, 10, 340.0));
    assert_eq!((d.desired, d.replicas, d.rule.as_str()), (4, 7, "ScaleDownStabilized"));
}

/// A scale-up window holds a rise back to the lowest recent
/// recommendation.
#[test]
fn scale_up_stabilization_window() {
    let mut o = opts(1, 20, 0.0);
    o.behavior.scale_up = Some(Rules {
        stabilization_window_seconds: Some(60),
        ..Rules::default()
    });
    let (d, st) = run(&State::default(), 2, &[avg("cpu", 100.0, 100.0)], &o);
    assert_eq!(d.replicas, 2);
    o.now = Some(30.0);
    let (d, st) = run(&st, 2, &[avg("cpu", 300.0, 100.0)], &o);
    assert_eq!((d.desired, d.replicas, d.rule.as_str()), (6, 2, "ScaleUpStabilized"));
    o.now = Some(61.0);
    let (d, _) = run(&st, 2, &[avg("cpu", 300.0, 100.0)], &o);
    // default policies allow max(2 + 100 %, 2 + 4) = 6
    assert_eq!((d.replicas, d.rule.as_str()), (6, "DesiredWithinRange"), "{}", d.reason);
}

/// Default scale-up policies: "4 pods or a 100% of the currently running
/// replicas may at most be added every 15 seconds".
#[test]
fn default_scale_up_policies() {
    let o = |t| opts(1, 100, t);
    let m = [avg("cpu", 2000.0, 100.0)];
    let (d, st) = run(&State::default(), 1, &m, &o(0.0));
    assert_eq!((d.desired, d.replicas, d.rule.as_str()), (20, 5, "ScaleUpLimit"));
    assert!(d.reason.contains("allow 5"), "{}", d.reason);
    // same period: the 4 added count against it
    let (d, st) = run(&st, 5, &m, &o(10.0));
    assert_eq!(d.replicas, 5);
    // next period: 100 % of 5 beats 4 pods
    let (d, st) = run(&st, 5, &m, &o(16.0));
    assert_eq!(d.replicas, 10);
    let (d, _) = run(&st, 10, &m, &o(32.0));
    assert_eq!(d.replicas, 20);
}

/// The Percent proposal is rounded up on a scale-up (3 × 1.1 → 4).
#[test]
fn percent_scale_up_rounds_up() {
    let mut o = opts(1, 100, 0.0);
    o.behavior.scale_up = Some(Rules {
        policies: Some(vec![policy(PolicyType::Percent, 10, 60)]),
        ..Rules::default()
    });
    let (d, _) = run(&State::default(), 3, &[avg("cpu", 1000.0, 100.0)], &o);
    assert_eq!(d.replicas, 4);
}

/// "When the number of pods is more than 40 the second policy will be used
/// … if there are 80 replicas and the target has to be scaled down to 10
/// replicas then during the first step 8 replicas will be reduced. In the
/// next iteration when the number of replicas is 72, 10% of the pods is 7.2
/// but the number is rounded up to 8 … When the number of replicas falls
/// below 40 the first policy (Pods) is applied and 4 replicas will be
/// reduced at a time."
#[test]
fn scale_down_pods_and_percent_policies() {
    let p = vec![policy(PolicyType::Pods, 4, 60), policy(PolicyType::Percent, 10, 60)];
    let o = |t| down_policies(no_down_window(opts(1, 100, t)), None, p.clone());
    let mut st = State::default();
    let mut current = 80;
    let mut seen = vec![];
    let mut t = 0.0;
    while current > 12 {
        // the metric always asks for 10
        let m = [avg("cpu", 10.0 * 100.0 / current as f64, 100.0)];
        let (d, next) = run(&st, current, &m, &o(t));
        assert!((10..=11).contains(&d.desired), "{}", d.desired);
        assert_eq!(d.rule, "ScaleDownLimit");
        seen.push(d.replicas);
        // within the same period nothing more may go
        let (held, _) = run(&next, d.replicas, &m, &o(t + 30.0));
        assert_eq!(held.replicas, d.replicas, "same period at {t}");
        current = d.replicas;
        st = next;
        t += 61.0;
        assert!(seen.len() < 30);
    }
    assert_eq!(&seen[..3], &[72, 64, 57]);
    let below40 = seen.iter().position(|&r| r < 40).unwrap();
    for w in seen[below40..].windows(2) {
        assert_eq!(w[0] - w[1], 4, "{seen:?}");
    }
}

/// "selectPolicy … Min which would select the policy which allows the
/// smallest change": no more than 5 pods per minute despite 10 %.
#[test]
fn select_min_and_max() {
    let p = vec![policy(PolicyType::Percent, 10, 60), policy(PolicyType::Pods, 5, 60)];
    let m = [avg("cpu", 10.0, 100.0)];
    let o = down_policies(no_down_window(opts(1, 200, 0.0)), Some(Select::Min), p.clone());
    let (d, _) = run(&State::default(), 100, &m, &o);
    assert_eq!(d.replicas, 95);
    let o = down_policies(no_down_window(opts(1, 200, 0.0)), Some(Select::Max), p);
    let (d, _) = run(&State::default(), 100, &m, &o);
    assert_eq!(d.replicas, 90);
    assert!(d.reason.contains("select Max"), "{}", d.reason);
}

/// "selectPolicy: Disabled" turns a direction off.
#[test]
fn select_disabled() {
    let o = down_policies(no_down_window(opts(1, 200, 0.0)), Some(Select::Disabled), vec![]);
    let (d, _) = run(&State::default(), 10, &[avg("cpu", 10.0, 100.0)], &o);
    assert_eq!((d.replicas, d.rule.as_str()), (10, "ScaleDownLimit"));
    assert!(d.reason.contains("disabled"), "{}", d.reason);
    let (d, _) = run(&State::default(), 10, &[avg("cpu", 200.0, 100.0)], &o);
    assert_eq!(d.replicas, 20, "scale-up still allowed");
}

/// Not-ready replicas on a scale-up count as 0: a new replica's start-up
/// CPU does not cause an overshoot (the scale-up is held when it reverses).
#[test]
fn not_ready_pods_count_as_zero_on_scale_up() {
    let o = opts(1, 10, 0.0);
    // 1 ready at 80 % of a 50 % target, 2 starting (not ready) burning CPU
    let m = [pods(
        "cpu",
        &[(Some(80.0), true), (Some(100.0), false), (Some(100.0), false)],
        50.0,
    )];
    let (d, _) = run(&State::default(), 3, &m, &o);
    assert_eq!(d.replicas, 3, "{}", d.reason);
    // 2 ready at 100 with 1 not ready → avg 66.7 / 50 → ceil(1.33 × 3) = 4,
    // where the ready ones alone would say ceil(2 × 2) = 4 as well; with
    // two not ready: avg 50 → within tolerance → hold
    let m = [pods(
        "cpu",
        &[(Some(100.0), true), (Some(100.0), true), (None, false), (None, false)],
        50.0,
    )];
    let (d, _) = run(&State::default(), 4, &m, &o);
    assert_eq!(d.replicas, 4, "{}", d.reason);
    let m = [pods(
        "cpu",
        &[(Some(100.0), true), (Some(100.0), true), (None, false)],
        50.0,
    )];
    let (d, _) = run(&State::default(), 3, &m, &o);
    assert_eq!(d.replicas, 4, "{}", d.reason);
    // on a scale-down the not-ready ones are ignored
    let m = [pods(
        "cpu",
        &[(Some(10.0), true), (Some(10.0), true), (Some(90.0), false)],
        50.0,
    )];
    let (d, _) = run(&State::default(), 3, &m, &no_down_window(o));
    assert_eq!(d.replicas, 1, "{}", d.reason);
}

/// Missing metrics: "assuming those pods were consuming 100% of the desired
/// value in case of a scale down, and 0% in case of a scale up".
#[test]
fn missing_metrics() {
    let o = no_down_window(opts(1, 10, 0.0));
    // scale-down: 3 at 10 and one missing (as 50) → avg 20 / 50 × 4 = 1.6 → 2
    let m = [pods(
        "cpu",
        &[(Some(10.0), true), (Some(10.0), true), (Some(10.0), true), (None, true)],
        50.0,
    )];
    let (d, _) = run(&State::default(), 4, &m, &o);
    assert_eq!(d.replicas, 2, "{}", d.reason);
    // scale-up: 2 at 60 and two missing (as 0) → avg 30 reverses → hold 4
    let m = [pods(
        "cpu",
        &[(Some(60.0), true), (Some(60.0), true), (None, true), (None, true)],
        50.0,
    )];
    let (d, _) = run(&State::default(), 4, &m, &o);
    assert_eq!(d.replicas, 4, "{}", d.reason);
    // no metric at all → hold, named
    let m = [pods("cpu", &[(None, true)], 50.0)];
    let (d, _) = run(&State::default(), 4, &m, &o);
    assert_eq!((d.replicas, d.rule.as_str()), (4, "MetricUnavailable"));
    // one metric missing blocks a scale-down the others ask for
    let m = [pods("cpu", &[(None, true)], 50.0), avg("rps", 10.0, 100.0)];
    let (d, _) = run(&State::default(), 4, &m, &o);
    assert_eq!((d.replicas, d.rule.as_str()), (4, "MetricUnavailable"));
    assert!(d.reason.contains("cpu unavailable"), "{}", d.reason);
}

#[test]
fn bad_options() {
    let m = [avg("cpu", 1.0, 1.0)];
    let e = recommend(&State::default(), 1, &m, &Options::new(5, 2)).unwrap_err();
    assert_eq!(e, "min (5) is greater than max (2)");
    let e = recommend(&State::default(), 1, &[avg("cpu", 1.0, 0.0)], &Options::new(1, 2)).unwrap_err();
    assert_eq!(e, "metric cpu: target (0) must be > 0");
    let e = recommend(&State::default(), 1, &[], &Options::new(1, 2)).unwrap_err();
    assert_eq!(e, "no metric given");
}
