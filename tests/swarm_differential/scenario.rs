//! Runs one swarm scenario: every step with docker, then with orch; after
//! each, the exit codes, stdout (as the step asks) and the specs the swarm
//! holds under each side's prefix are compared; the differences judged
//! by allowed.txt and known-gaps.txt. Both sides' objects are removed at
//! the end, also on panic (`Side`'s drop).

use std::fmt::Write;
use std::path::Path;
use std::time::Duration;

use crate::common::cluster::Cluster;
use crate::compare::{diff, Diff, Lists};
use crate::side::{Outcome, Side, Tool};
use crate::step::{parse, Action, Output, Step};

/// Runs scenario `name` from folder `dir`; what failed, or "" if nothing.
pub fn run(cluster: &Cluster, name: &str, dir: &Path, (family, prefix): (&str, &str), lists: &Lists) -> String {
    let steps = match std::fs::read_to_string(dir.join("steps"))
        .map_err(|e| e.to_string())
        .and_then(|t| parse(&t))
    {
        Ok(steps) => steps,
        Err(e) => return format!("  {e}\n"),
    };
    let result = std::panic::catch_unwind(|| {
        let docker = Side::new(cluster, Tool::Docker, format!("{prefix}d"), family, dir);
        let orch = Side::new(cluster, Tool::Orch, format!("{prefix}o"), family, dir);
        steps
            .iter()
            .map(|s| compare_step(s, &docker, &orch))
            .collect::<Vec<_>>()
    });
    let results = match result {
        Ok(r) => r,
        Err(p) => {
            let msg = p
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()));
            return format!("  panicked: {}\n", msg.unwrap_or_default());
        }
    };
    let diffs: Vec<Diff> = results.iter().flat_map(|r| r.diffs.clone()).collect();
    let excused = lists.excuse(name, &diffs);
    let mut out = String::new();
    for r in &results {
        for e in &r.errors {
            let _ = writeln!(out, "  step {} `{}`: {e}", r.step.line, r.step.text);
        }
    }
    let mut last = 0;
    for d in &excused.unexcused {
        let line: usize = d.path.split(':').next().and_then(|l| l.parse().ok()).unwrap_or(0);
        if line != last {
            last = line;
            if let Some(r) = results.iter().find(|r| r.step.line == line) {
                explain(&mut out, r);
            }
        }
        let _ = writeln!(
            out,
            "    {}\n      orch:   {}\n      docker: {}",
            d.path, d.orch, d.compose
        );
    }
    for s in &excused.stale {
        let _ = writeln!(out, "  {s}");
    }
    let took = |t: Tool| -> Duration {
        results
            .iter()
            .filter_map(|r| r.took.map(|d| if t == Tool::Orch { d.1 } else { d.0 }))
            .sum()
    };
    println!(
        "  {name}: docker {:.2}s, orch {:.2}s over {} steps",
        took(Tool::Docker).as_secs_f64(),
        took(Tool::Orch).as_secs_f64(),
        results.len()
    );
    out
}

/// One step's findings.
struct StepResult<'a> {
    step: &'a Step,
    diffs: Vec<Diff>,
    /// Broken fixtures: always failures.
    errors: Vec<String>,
    /// (docker, orch) outcomes of a command step.
    outcomes: Option<(Outcome, Outcome)>,
    took: Option<(Duration, Duration)>,
}

fn compare_step<'a>(step: &'a Step, docker: &Side, orch: &Side) -> StepResult<'a> {
    let mut r = StepResult {
        step,
        diffs: Vec::new(),
        errors: Vec::new(),
        outcomes: None,
        took: None,
    };
    let args = match &step.action {
        Action::WaitRunning(service, n) => {
            for side in [docker, orch] {
                if let Err(e) = side.wait_running(service, *n) {
                    r.errors.push(format!("{:?}: {e}", side.tool));
                }
            }
            return r;
        }
        Action::WaitGone(kind, name) => {
            for side in [docker, orch] {
                if let Err(e) = side.wait_gone(kind, name) {
                    r.errors.push(format!("{:?}: {e}", side.tool));
                }
            }
            return r;
        }
        Action::Command(args) => args,
    };
    let d = run_docker(docker, args, step);
    // docker's objects are its own: one reading serves its snapshot and
    // its stdout after orch's step too.
    let d_norm = docker.norm();
    let d_snap = docker.snapshot(&d_norm);
    let o = orch.run(args, step.stdin.as_deref());
    let o_norm = orch.norm();
    let o_snap = orch.snapshot(&o_norm);
    let at = step.line;
    if step.expect_fail && d.code == 0 {
        r.errors
            .push("docker succeeded where the step expects it to fail: the fixture is wrong".into());
    }
    if !step.expect_fail && d.code != 0 {
        r.errors
            .push(format!("docker failed (exit {}): {}", d.code, d.stderr.trim()));
    }
    if o.code != d.code {
        r.diffs.push(Diff {
            path: format!("{at}:exit"),
            orch: o.code.to_string(),
            compose: d.code.to_string(),
        });
    }
    if step.output != Output::Ignored {
        let (ov, dv) = (
            o_norm.output(step.output, &o.stdout),
            d_norm.output(step.output, &d.stdout),
        );
        diff(&format!("{at}:stdout"), Some(&ov), Some(&dv), &mut r.diffs);
    }
    diff(&format!("{at}:"), Some(&o_snap), Some(&d_snap), &mut r.diffs);
    r.took = Some((d.took, o.took));
    r.outcomes = Some((d, o));
    r
}

/// The docker CLI's own races, as (command, what its error says): `stack
/// rm` removes the services and at once their networks, which the engine
/// refuses while the services' tasks are still shutting down (moby/moby
/// #31068, docker/for-linux#531). It lost the race once in CI under load;
/// docker's users run the command again, and so does the runner, for up to
/// 30 s. orch waits for the tasks before removing a network.
const DOCKER_RACES: [(&str, &str); 1] = [("stack rm", "is in use by task")];

/// Runs the step with docker, again while it fails with one of
/// [`DOCKER_RACES`]: the first run's stdout (what docker prints when it
/// wins the race: the lost run printed every step before failing), the
/// last run's exit code and stderr, the time of them all.
fn run_docker(docker: &Side, args: &[String], step: &Step) -> Outcome {
    let command = args.iter().take(2).cloned().collect::<Vec<_>>().join(" ");
    let mut d = docker.run(args, step.stdin.as_deref());
    let (first_stdout, mut took) = (d.stdout.clone(), d.took);
    for _ in 0..30 {
        let raced = DOCKER_RACES
            .iter()
            .any(|(c, error)| command == *c && d.stderr.contains(error));
        if d.code == 0 || !raced {
            break;
        }
        println!(
            "  step {} `{}`: docker lost its own race ({}), running it again",
            step.line,
            step.text,
            d.stderr.trim()
        );
        std::thread::sleep(Duration::from_secs(1));
        d = docker.run(args, step.stdin.as_deref());
        took += d.took;
    }
    d.took = took;
    d.stdout = first_stdout;
    d
}

fn explain(out: &mut String, r: &StepResult) {
    let _ = writeln!(out, "  step {} `{}`:", r.step.line, r.step.text);
    if let Some((d, o)) = &r.outcomes {
        let tail = |s: &str| crate::runner::tail(s, 3);
        if d.code != o.code || o.code != 0 {
            let _ = writeln!(out, "    orch exit {}: {}", o.code, tail(&o.stderr));
            let _ = writeln!(out, "    docker exit {}: {}", d.code, tail(&d.stderr));
        }
        if r.step.output != Output::Ignored {
            let _ = writeln!(out, "    orch stdout:   {:?}", tail(&o.stdout));
            let _ = writeln!(out, "    docker stdout: {:?}", tail(&d.stdout));
        }
    }
}
