//! `orch autoscale` on real containers: a CPU rule scaling a compose
//! service up under load and down only after the down-stabilization
//! window, without overshoot from the new replicas' start-up CPU; the
//! tolerance holding; a custom metric from a closure; a failing metric
//! holding the replicas; bad rules (in the compose file or a rules
//! script) refused with file:line:col.

mod common;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::time::{Duration, Instant};

use common::*;
use serde_json::Value;

/// A running `orch autoscale`, its decision lines (JSON) as they come.
struct Autoscaler {
    child: Child,
    lines: Receiver<(Instant, Value)>,
    errors: Receiver<String>,
}

impl Autoscaler {
    fn start(dir: &Path, project: &str, args: &[&str]) -> Self {
        let mut child = orch()
            .args(["-p", project, "autoscale", "--format", "json"])
            .args(args)
            .current_dir(dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let (tx, lines) = channel();
        let out = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for l in BufReader::new(out).lines().map_while(Result::ok) {
                let v = serde_json::from_str(&l).unwrap_or(Value::String(l));
                if tx.send((Instant::now(), v)).is_err() {
                    break;
                }
            }
        });
        let (etx, errors) = channel();
        let err = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for l in BufReader::new(err).lines().map_while(Result::ok) {
                let _ = etx.send(l);
            }
        });
        Autoscaler { child, lines, errors }
    }

    fn next(&self, within: Duration) -> (Instant, Value) {
        self.lines.recv_timeout(within).expect("a decision line in time")
    }

    fn stderr(&self) -> String {
        self.errors.try_iter().collect::<Vec<_>>().join("\n")
    }
}

impl Drop for Autoscaler {
    fn drop(&mut self) {
        unsafe { libc::kill(self.child.id() as i32, libc::SIGINT) };
        let _ = self.child.wait();
    }
}

/// A compose project in a temp folder, taken down (and its containers
/// removed) however the test ends.
struct Project {
    dir: tempfile::TempDir,
    name: String,
    _cleanup: Cleanup,
}

impl Project {
    fn new(tag: &str, compose: &str) -> Self {
        let name = unique(tag);
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("compose.yaml"), compose).unwrap();
        Project {
            dir,
            _cleanup: Cleanup(name.clone()),
            name,
        }
    }

    fn orch(&self, args: &[&str]) -> std::process::Output {
        orch()
            .args(["-p", &self.name])
            .args(args)
            .current_dir(self.dir.path())
            .output()
            .unwrap()
    }

    fn up(&self) {
        let out = self.orch(&["up", "-d"]);
        assert!(out.status.success(), "up: {}", stderr(&out));
    }

    fn running(&self, service: &str) -> Vec<String> {
        let mut names: Vec<String> = docker(&[
            "ps",
            "--filter",
            &format!("label=com.docker.compose.project={}", self.name),
            "--filter",
            &format!("label=com.docker.compose.service={service}"),
            "--format",
            "{{.Names}}",
        ])
        .lines()
        .map(str::to_string)
        .collect();
        names.sort();
        names
    }
}

impl Drop for Project {
    fn drop(&mut self) {
        let _ = self.orch(&["down", "-t", "0"]);
    }
}

/// Burns CPU for 5 s at start-up, then whenever /flag/on exists.
const BURNER: &str = r#"["sh", "-c", "end=$$(( $$(date +%s) + 5 )); while [ $$(date +%s) -lt $$end ]; do :; done; while :; do if [ -f /flag/on ]; then i=0; while [ $$i -lt 5000 ]; do i=$$((i+1)); done; else sleep 0.5; fi; done"]"#;

#[test]
fn cpu_scales_up_under_load_and_down_after_the_window() {
    let img = test_image();
    let flag = tempfile::tempdir().unwrap();
    let p = Project::new(
        "as-cpu",
        &format!(
            "services:\n  web:\n    image: {img}\n    cpus: 0.1\n    volumes: [\"{}:/flag\"]\n    command: {BURNER}\n    x-orch-autoscale:\n      min: 1\n      max: 5\n      initialization_period: 8\n      metrics:\n        cpu: 40\n      behavior:\n        scaleDown:\n          stabilizationWindowSeconds: 20\n  other:\n    image: {img}\n    command: sleep 600\n",
            flag.path().display()
        ),
    );
    p.up();
    let other_id = docker(&["ps", "-q", "--filter", &format!("name={}-other-1", p.name)]);
    // Past the start-up burn and the initialization period: idle, held.
    std::thread::sleep(Duration::from_secs(9));
    let once = p.orch(&["autoscale", "--once"]);
    assert!(
        stdout(&once).starts_with("web: cpu "),
        "{}{}",
        stdout(&once),
        stderr(&once)
    );
    assert!(stdout(&once).contains("holding 1"), "{}", stdout(&once));

    // Under load (one replica at its limit, 100 % against a target of
    // 40 %: 3 replicas).
    std::fs::write(flag.path().join("on"), "").unwrap();
    std::thread::sleep(Duration::from_secs(2));
    let a = Autoscaler::start(p.dir.path(), &p.name, &["--interval", "3"]);
    let mut ticks = 0;
    let (up_at, up) = loop {
        let (at, d) = a.next(Duration::from_secs(20));
        ticks += 1;
        let n = d["replicas"].as_i64().unwrap();
        // 100 % of the limit against 40 %: 3. A sample read at a loaded
        // moment can count a little over the limit (seen in CI: 4, i.e.
        // over 120 %); more than that is an overshoot.
        assert!(n <= 4, "{d}");
        if n >= 3 {
            assert_eq!(d["scaled"], true, "{d}");
            break (at, n);
        }
        assert!(ticks < 3, "not at 3 replicas within 3 intervals: {d}\n{}", a.stderr());
    };
    // The new replicas burn CPU for 5 s as they start: the initialization
    // period keeps that from counting, so no 3 → 5.
    std::fs::remove_file(flag.path().join("on")).unwrap();
    let web = p.running("web");
    assert_eq!(web, (1..=up).map(|i| format!("{}-web-{i}", p.name)).collect::<Vec<_>>());
    let down_at = loop {
        let (at, d) = a.next(Duration::from_secs(20));
        let n = d["replicas"].as_i64().unwrap();
        assert!(n <= up, "overshoot: {d}");
        if n == 1 {
            assert_eq!(d["current"], up, "{d}");
            break at;
        }
        assert!(at - up_at < Duration::from_secs(60), "no scale-down: {d}");
    };
    let held = down_at - up_at;
    assert!(
        held >= Duration::from_secs(20),
        "scaled down after {held:?}, inside the 20 s window"
    );
    assert_eq!(p.running("web"), vec![format!("{}-web-1", p.name)]);
    // No other service touched.
    assert_eq!(
        docker(&["ps", "-q", "--filter", &format!("name={}-other-1", p.name)]),
        other_id
    );
}

/// A rules script whose metric reads a file the test writes.
fn custom_rules(dir: &Path, target: f64) -> String {
    let metric = dir.join("metric");
    std::fs::write(&metric, "50").unwrap();
    let rules = dir.join("rules.rhai");
    std::fs::write(
        &rules,
        format!(
            r#"fn rules() {{
    [#{{ service: "web", min: 1, max: 4, metrics: [#{{ name: "queue", target: {target},
        value: |s| {{ let t = read_file("{}"); t.trim(); parse_float(t) / s.replicas }} }}] }}]
}}"#,
            metric.display()
        ),
    )
    .unwrap();
    rules.display().to_string()
}

#[test]
fn custom_metric_tolerance_and_failing_source() {
    let img = test_image();
    let p = Project::new(
        "as-custom",
        &format!("services:\n  web:\n    image: {img}\n    command: sleep 600\n"),
    );
    p.up();
    // 50 against a target of 47: within 10 %, five intervals, no change.
    let rules = custom_rules(p.dir.path(), 47.0);
    {
        let a = Autoscaler::start(p.dir.path(), &p.name, &[&rules, "--interval", "0.5"]);
        for _ in 0..5 {
            let (_, d) = a.next(Duration::from_secs(10));
            assert_eq!(
                (d["replicas"].as_i64(), d["rule"].as_str()),
                (Some(1), Some("WithinTolerance")),
                "{d}"
            );
        }
    }
    assert_eq!(p.running("web").len(), 1);
    // Target 20: 50 → ceil(2.5) = 3; then the source fails: hold, logged;
    // then it recovers.
    let rules = custom_rules(p.dir.path(), 20.0);
    let a = Autoscaler::start(p.dir.path(), &p.name, &[&rules, "--interval", "1"]);
    let (_, d) = a.next(Duration::from_secs(20));
    assert_eq!(
        (d["current"].as_i64(), d["replicas"].as_i64()),
        (Some(1), Some(3)),
        "{d}"
    );
    assert_eq!(p.running("web").len(), 3);
    std::fs::write(p.dir.path().join("metric"), "not a number").unwrap();
    let (_, d) = a.next(Duration::from_secs(10));
    assert!(d["error"].as_str().is_some_and(|e| !e.is_empty()), "{d}");
    assert_eq!(d["scaled"], false);
    std::fs::write(p.dir.path().join("metric"), "150").unwrap();
    let d = loop {
        let (_, d) = a.next(Duration::from_secs(10));
        if d["error"].is_null() {
            break d;
        }
    };
    // 150 / 3 = 50 per replica against 20: 3 × 2.5 → 8, max 4.
    assert_eq!(d["replicas"], 4, "{d}");
}

#[test]
fn bad_rules_are_refused_with_their_position() {
    let img = test_image();
    let cases = [
        (
            "min: 3\n      max: 2\n      metrics: { cpu: 50 }",
            "min (3) is greater than max (2)",
            "compose.yaml:6:7",
        ),
        (
            "max: 2\n      metrics: { gpu: 50 }",
            "unknown metric gpu",
            "compose.yaml:7:23",
        ),
        (
            "max: 2\n      metrics:\n        cpu: 0",
            "target must be a number above 0",
            "compose.yaml:8:14",
        ),
        (
            "max: 2\n      metric: { cpu: 50 }",
            "unknown key metric",
            "compose.yaml:7:15",
        ),
    ];
    for (rule, want, at) in cases {
        let p = Project::new(
            "as-bad",
            &format!(
                "services:\n  web:\n    image: {img}\n    command: sleep 600\n    x-orch-autoscale:\n      {rule}\n"
            ),
        );
        let out = p.orch(&["autoscale", "--once"]);
        let err = stderr(&out);
        assert!(!out.status.success(), "{rule}");
        assert!(
            err.contains(want) && err.contains(at),
            "{rule}: want {want} at {at}:\n{err}"
        );
        assert!(err.contains("autoscale rule for web"), "{err}");
        assert!(p.running("web").is_empty(), "nothing started or scaled");
    }
    // The same mistakes in a rules script: the position is the rule's map
    // literal in the script (line 2: `    [#{` puts it at column 6), or the
    // metric's when the metric is what is wrong.
    let script_cases = [
        (
            r#"#{ service: "web", min: 3, max: 2, metrics: [#{ name: "cpu", target: 50 }] }"#,
            "min (3) is greater than max (2)",
            "rules.rhai:2:6",
        ),
        (
            r#"#{ service: "web", max: 2, metrics: [#{ name: "gpu", target: 50 }] }"#,
            "unknown metric gpu",
            "rules.rhai:2:43",
        ),
        (
            r#"#{ service: "web", max: 2, metrics: [#{ name: "cpu", target: 0 }] }"#,
            "target must be a number above 0",
            "rules.rhai:2:43",
        ),
        (
            r#"#{ max: 2, metrics: [#{ name: "cpu", target: 50 }] }"#,
            "no service",
            "rules.rhai:2:6",
        ),
        (
            r#"#{ service: "nope", max: 2, metrics: [#{ name: "cpu", target: 50 }] }"#,
            "no such service: nope",
            "rules.rhai:2:6",
        ),
    ];
    for (rule, want, at) in script_cases {
        let p = Project::new(
            "as-bad",
            &format!("services:\n  web:\n    image: {img}\n    command: sleep 600\n"),
        );
        std::fs::write(
            p.dir.path().join("rules.rhai"),
            format!("fn rules() {{\n    [{rule}]\n}}\n"),
        )
        .unwrap();
        let out = p.orch(&["autoscale", "rules.rhai", "--once"]);
        let err = stderr(&out);
        assert!(!out.status.success(), "{rule}");
        assert!(
            err.contains(want) && err.contains(at) && err.contains("autoscale rule"),
            "{rule}: want {want} at {at}:\n{err}"
        );
        assert!(p.running("web").is_empty(), "nothing started or scaled");
    }
    let p = Project::new(
        "as-bad",
        &format!("services:\n  web:\n    image: {img}\n    x-orch-autoscale: {{ max: 2, metrics: {{ cpu: 50 }} }}\n"),
    );
    let out = p.orch(&["autoscale", "--once", "--service", "nope"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("no such service: nope"), "{}", stderr(&out));
}

#[test]
fn up_leaves_an_autoscaled_service_as_set_and_says_so() {
    let img = test_image();
    let p = Project::new(
        "as-up",
        &format!(
            "services:\n  web:\n    image: {img}\n    command: sleep 600\n    x-orch-autoscale: {{ max: 4, metrics: {{ cpu: 50 }} }}\n  db:\n    image: {img}\n    command: sleep 600\n"
        ),
    );
    p.up();
    // What the autoscaler does: web scaled through the planner.
    let out = p.orch(&["up", "-d", "--scale", "web=3"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = p.orch(&["up", "-d"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("web: keeping 3 replica(s) as set by orch autoscale"),
        "{}",
        stderr(&out)
    );
    assert_eq!(p.running("web").len(), 3);
    assert!(!stderr(&out).contains("db: keeping"), "only autoscaled services");
    // --scale still decides when given.
    let out = p.orch(&["up", "-d", "--scale", "web=2"]);
    assert!(
        out.status.success() && !stderr(&out).contains("keeping"),
        "{}",
        stderr(&out)
    );
    assert_eq!(p.running("web").len(), 2);
}
