//! Verdicts: a scenario's differences sorted into allowed, known gaps and
//! failures; the summary with timings (orch / compose) printed at the end.

use std::fmt::Write;
use std::path::Path;
use std::time::Duration;

use crate::compare::Lists;
use crate::run::{scenario, Report, Timing};
use crate::script;

/// A scenario's outcome.
pub struct Verdict {
    pub name: String,
    pub passed: bool,
    pub details: String,
    pub tolerated: Vec<String>,
    pub timings: Vec<Timing>,
}

fn failed(name: &str, why: String) -> Verdict {
    Verdict {
        name: name.into(),
        passed: false,
        details: why,
        tolerated: Vec::new(),
        timings: Vec::new(),
    }
}

/// Runs one scenario and judges it against the lists.
pub fn run_one(name: &str, dir: &Path, tag: &str, lists: &Lists) -> Verdict {
    let (verdict, engine_fault) = run_once(name, dir, tag, lists);
    if verdict.passed || !engine_fault {
        return verdict;
    }
    // dockerd 20.10 can keep a stale endpoint on a network whose
    // restarting container was just removed, and then refuses to remove
    // the network ("has active endpoints", no container listed; only a
    // restart of dockerd clears it). When that hit the reference, the
    // scenario says nothing about orch: it runs once more, under new names.
    println!("note: {name}: the reference met the engine's stale-endpoint fault; running it again");
    run_once(name, dir, &format!("{tag}r"), lists).0
}

/// One run of a scenario, and whether the reference's output shows the
/// engine's stale-endpoint fault.
fn run_once(name: &str, dir: &Path, tag: &str, lists: &Lists) -> (Verdict, bool) {
    let text = std::fs::read_to_string(dir.join("steps")).unwrap_or_default();
    let steps = match script::parse(&text) {
        Ok(s) => s,
        Err(e) => return (failed(name, format!("  {e}\n")), false),
    };
    let r = match std::panic::catch_unwind(|| scenario(name, dir, steps, tag)) {
        Ok(r) => r,
        Err(p) => {
            let msg = p
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()));
            return (
                failed(name, format!("  panicked: {}\n", msg.unwrap_or_default())),
                false,
            );
        }
    };
    let fault = r.outcomes.values().any(|(_, c)| {
        c.code != 0 && (c.stderr.contains("has active endpoints") || c.stdout.contains("has active endpoints"))
    });
    (judge(name, r, lists), fault)
}

fn judge(name: &str, r: Report, lists: &Lists) -> Verdict {
    let excused = lists.excuse(name, &r.diffs);
    let mut details = String::new();
    for e in &r.errors {
        let _ = writeln!(details, "  fixture error: {e}");
    }
    let mut last_line = 0;
    for d in &excused.unexcused {
        let line: usize = d.path.split(':').next().and_then(|l| l.parse().ok()).unwrap_or(0);
        if line != last_line {
            last_line = line;
            explain_step(&mut details, &r, line);
        }
        let _ = writeln!(
            details,
            "    {}\n      orch:    {}\n      compose: {}",
            d.path, d.orch, d.compose
        );
    }
    for s in &excused.stale {
        let _ = writeln!(details, "  {s}");
    }
    Verdict {
        name: name.into(),
        passed: details.is_empty(),
        details,
        tolerated: excused.tolerated,
        timings: r.timings,
    }
}

fn explain_step(out: &mut String, r: &Report, line: usize) {
    let text = r
        .steps
        .iter()
        .find(|s| s.line == line)
        .map(|s| s.text.as_str())
        .unwrap_or("?");
    let _ = writeln!(out, "  step {line} `{text}`:");
    if let Some((o, c)) = r.outcomes.get(&line) {
        if o.code != c.code || o.code != 0 {
            let tail = |s: &str| crate::runner::tail(s, 4);
            let _ = writeln!(out, "    orch exit {}: {}", o.code, tail(&o.stderr));
            let _ = writeln!(out, "    compose exit {}: {}", c.code, tail(&c.stderr));
        }
    }
}

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

/// Prints failures, tolerated gaps and timings; returns the failure count.
pub fn summary(results: &[Verdict]) -> usize {
    let failed: Vec<&Verdict> = results.iter().filter(|v| !v.passed).collect();
    if !failed.is_empty() {
        println!("\nfailures:");
        for v in &failed {
            println!("\n---- {} ----\n{}", v.name, v.details);
        }
    }
    let gaps: Vec<String> = results
        .iter()
        .flat_map(|v| v.tolerated.iter().map(move |g| format!("  {}: {g}", v.name)))
        .collect();
    if !gaps.is_empty() {
        println!(
            "\nknown gaps tolerated ({}; tests/differential/known-gaps.txt):",
            gaps.len()
        );
        for g in gaps {
            println!("{g}");
        }
    }
    println!("\nstep times (seconds): scenario  orch  compose  orch/compose");
    let (mut to, mut tc) = (0.0, 0.0);
    let mut slower = Vec::new();
    for v in results {
        let o: f64 = v.timings.iter().map(|t| secs(t.orch)).sum();
        let c: f64 = v.timings.iter().map(|t| secs(t.compose)).sum();
        to += o;
        tc += c;
        println!("  {:<40} {o:>7.2} {c:>7.2}  {:.2}", v.name, o / c.max(1e-9));
        for t in v.timings.iter().filter(|t| t.orch > t.compose) {
            slower.push(format!(
                "  {} step {} `{}`: orch {:.2}s, compose {:.2}s",
                v.name,
                t.line,
                t.text,
                secs(t.orch),
                secs(t.compose)
            ));
        }
    }
    println!("  {:<40} {to:>7.2} {tc:>7.2}  {:.2}", "TOTAL", to / tc.max(1e-9));
    if let Some(path) = std::env::var_os("DT_TIMES_FILE") {
        write_times(std::path::Path::new(&path), results);
    }
    if !slower.is_empty() {
        println!("\nsteps where orch was slower than compose ({}):", slower.len());
        for s in slower {
            println!("{s}");
        }
    }
    failed.len()
}

/// Every step's times as tab-separated lines (scenario, line, orch,
/// compose, step), for finding where the time goes (`DT_TIMES_FILE=PATH`).
fn write_times(path: &std::path::Path, results: &[Verdict]) {
    let mut out = String::from("scenario\tline\torch\tcompose\tstep\n");
    for v in results {
        for t in &v.timings {
            let _ = writeln!(
                out,
                "{}\t{}\t{:.3}\t{:.3}\t{}",
                v.name,
                t.line,
                secs(t.orch),
                secs(t.compose),
                t.text
            );
        }
    }
    if let Err(e) = std::fs::write(path, out) {
        println!("DT_TIMES_FILE {}: {e}", path.display());
    }
}
