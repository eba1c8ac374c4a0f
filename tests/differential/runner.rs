//! What the compose runner (tests/differential.rs) and the swarm runner
//! (tests/swarm_differential.rs) share: which scenarios the command line
//! picks, the lines of a `steps` file, and a short tail of a tool's output
//! for a failure's explanation.

use std::path::{Path, PathBuf};

/// Scenario folders of `dir` (those with a `steps` file), by name,
/// filtered by the command line's free words (libtest's flags are
/// accepted and ignored; `--exact` is honoured); and how many the filter
/// left out.
pub fn selected(dir: &Path) -> (Vec<(String, PathBuf)>, usize) {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let exact = args.iter().any(|a| a == "--exact");
    let filters: Vec<&String> = args.iter().filter(|a| !a.starts_with('-')).collect();
    let mut all: Vec<(String, PathBuf)> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .flatten()
        .filter(|e| e.path().join("steps").is_file())
        .map(|e| (e.file_name().to_string_lossy().into_owned(), e.path()))
        .collect();
    all.sort();
    let total = all.len();
    all.retain(|(n, _)| {
        filters.is_empty()
            || filters
                .iter()
                .any(|f| if exact { n == *f } else { n.contains(f.as_str()) })
    });
    let left_out = total - all.len();
    (all, left_out)
}

/// A `steps` file's steps: (line number, trimmed text), blank lines and
/// `#` comments skipped.
pub fn step_lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim()))
        .filter(|(_, l)| !l.is_empty() && !l.starts_with('#'))
}

/// The last `n` lines of `s`, joined by ` | `.
pub fn tail(s: &str, n: usize) -> String {
    let lines: Vec<&str> = s.lines().collect();
    lines[lines.len().saturating_sub(n)..].join(" | ")
}

/// Prints libtest's closing line for a runner and exits 101 on failures,
/// as `cargo test` expects of a harness-less test binary.
pub fn finish(passed: usize, failed: usize, filtered: usize, started: std::time::Instant) {
    println!(
        "\ntest result: {}. {passed} passed; {failed} failed; 0 ignored; 0 measured; {filtered} filtered out; finished in {:.2}s\n",
        if failed == 0 { "ok" } else { "FAILED" },
        started.elapsed().as_secs_f64()
    );
    if failed > 0 {
        std::process::exit(101);
    }
}
