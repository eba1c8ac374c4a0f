//! The swarm differential suite (issue 19): every scenario in
//! tests/swarm_differential/scenarios runs step by step once with the
//! docker CLI and once with orch, on one 3-node test swarm, each side on
//! its own services, stacks, secrets and configs; exit codes, stdout and
//! the specs the engine holds are compared after every step. See
//! tests/swarm_differential/README.md.
//!
//! `cargo test --test swarm_differential -- NAME...` runs the scenarios
//! whose name contains a NAME; `SD_JOBS` sets how many run at once
//! (default 3).

mod common;
#[allow(dead_code)]
#[path = "differential/compare.rs"]
mod compare;
#[path = "swarm_differential/normalise.rs"]
mod normalise;
#[path = "differential/runner.rs"]
mod runner;
#[path = "swarm_differential/scenario.rs"]
mod scenario;
#[allow(dead_code)]
#[path = "differential/script.rs"]
mod script;
#[path = "swarm_differential/side.rs"]
mod side;
#[path = "swarm_differential/step.rs"]
mod step;

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Instant;

use common::cluster::shared_swarm;

fn scenarios_dir() -> PathBuf {
    common::repo().join("tests/swarm_differential/scenarios")
}

fn main() {
    let started = Instant::now();
    let (scenarios, filtered) = runner::selected(&scenarios_dir());
    println!("\nrunning {} swarm differential scenarios", scenarios.len());
    let lists = compare::Lists::load(&common::repo().join("tests/differential"));
    let mut failed = 0;
    if !scenarios.is_empty() {
        let cluster = shared_swarm(3, &[common::test_image()]);
        let family = format!("sd{:04x}", std::process::id() & 0xffff);
        let jobs: usize = std::env::var("SD_JOBS")
            .ok()
            .and_then(|j| j.parse().ok())
            .unwrap_or(3)
            .max(1);
        // Scenarios run `jobs` at a time; within one, each step runs with
        // docker, then orch. Every object is named with its side's
        // prefix, and lines naming another scenario's are dropped, so
        // cluster-wide lists (`stack ls`) compare alike.
        let queue = Mutex::new(scenarios.iter().enumerate().collect::<VecDeque<_>>());
        let failures = Mutex::new(0);
        std::thread::scope(|s| {
            for _ in 0..jobs {
                s.spawn(|| loop {
                    let Some((i, (name, dir))) = queue.lock().unwrap().pop_front() else {
                        break;
                    };
                    let prefix = format!("{family}{i}");
                    let verdict = scenario::run(cluster, name, dir, (&family, &prefix), &lists);
                    println!("test {name} ... {}", if verdict.is_empty() { "ok" } else { "FAILED" });
                    if !verdict.is_empty() {
                        *failures.lock().unwrap() += 1;
                        println!("{verdict}");
                    }
                });
            }
        });
        failed += *failures.lock().unwrap();
    }
    if filtered == 0 {
        for s in lists.stale_shared(|s| s.starts_with("swarm-")) {
            println!("{s}");
            failed += 1;
        }
    }
    let passed = scenarios.len().saturating_sub(failed);
    runner::finish(passed, failed, filtered, started);
}
