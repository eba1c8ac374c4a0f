//! The differential behaviour suite (issue 11): every scenario in
//! tests/differential/scenarios runs once with orch and once with Docker
//! Compose v2.40.3, step by step, and the engine states, exit codes and
//! machine-readable outputs are compared. See tests/differential/README.md.
//!
//! `cargo test --test differential -- NAME...` runs the scenarios whose
//! name contains a NAME; `DT_JOBS` sets how many run at once (default 3).

#[path = "common/mod.rs"]
mod common;
#[path = "differential/compare.rs"]
mod compare;
#[path = "differential/order.rs"]
mod order;
#[path = "differential/refview.rs"]
mod refview;
#[path = "differential/report.rs"]
mod report;
#[path = "differential/run.rs"]
mod run;
#[path = "differential/runner.rs"]
mod runner;
#[path = "differential/script.rs"]
mod script;
#[path = "differential/snapshot.rs"]
mod snapshot;
#[path = "differential/tool.rs"]
mod tool;

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Instant;

fn root() -> PathBuf {
    common::repo().join("tests/differential")
}

fn main() {
    let started = Instant::now();
    let (scenarios, filtered) = runner::selected(&root().join("scenarios"));
    common::test_image();
    let tag = format!(
        "{:04x}",
        (std::process::id() ^ started.elapsed().subsec_nanos()) & 0xffff
    );
    let jobs: usize = std::env::var("DT_JOBS")
        .ok()
        .and_then(|j| j.parse().ok())
        .unwrap_or(3)
        .max(1);
    println!(
        "\nrunning {} differential scenarios ({jobs} at a time)",
        scenarios.len()
    );
    let queue = Arc::new(Mutex::new(scenarios.into_iter().collect::<VecDeque<_>>()));
    let lists = Arc::new(compare::Lists::load(&root()));
    let results = Arc::new(Mutex::new(Vec::new()));
    let workers: Vec<_> = (0..jobs)
        .map(|_| {
            let (queue, results, lists, tag) = (queue.clone(), results.clone(), lists.clone(), tag.clone());
            std::thread::spawn(move || loop {
                let Some((name, dir)) = queue.lock().unwrap().pop_front() else {
                    break;
                };
                let verdict = report::run_one(&name, &dir, &tag, &lists);
                println!("test {name} ... {}", if verdict.passed { "ok" } else { "FAILED" });
                results.lock().unwrap().push(verdict);
            })
        })
        .collect();
    for w in workers {
        let _ = w.join();
    }
    let mut results = std::mem::take(&mut *results.lock().unwrap());
    results.sort_by(|a, b| a.name.cmp(&b.name));
    let mut failed = report::summary(&results);
    let passed = results.len() - failed;
    if filtered == 0 {
        // A shared entry (scenario `*`) that excused nothing is stale: the
        // run counts it as one more failed test so the lists stay true.
        // Entries for the swarm runner's scenarios are its to judge.
        let stale = lists.stale_shared(|s| !s.starts_with("swarm-"));
        for s in &stale {
            println!("{s}");
        }
        if !stale.is_empty() {
            failed += 1;
        }
    }
    runner::finish(passed, failed, filtered, started);
}
