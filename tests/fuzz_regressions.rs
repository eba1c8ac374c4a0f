//! Inputs that once crashed, hung or exhausted the loader (found by the
//! fuzz targets in fuzz/ or written against a known YAML attack). Each
//! must be rejected quickly with one diagnostic, never a panic.

mod common;

use common::*;
use std::process::Stdio;
use std::time::{Duration, Instant};

/// Run `orch config -q` on a fixture and return (exit code, stderr, time).
fn load(name: &str) -> (Option<i32>, String, Duration) {
    let dir = repo().join("tests/fixtures/fuzz");
    let start = Instant::now();
    let mut child = orch()
        .args(["-f", name, "config", "-q"])
        .current_dir(&dir)
        .env("NO_COLOR", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // A hang is the bug these guard against: kill rather than wait forever.
    let deadline = start + Duration::from_secs(20);
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("{name}: orch config did not finish in 20 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    (out.status.code(), stderr(&out), start.elapsed())
}

fn rejected(name: &str, message: &str) {
    let (code, err, took) = load(name);
    assert_eq!(code, Some(1), "{name}: {err}");
    assert!(!err.contains("panicked"), "{name} panicked: {err}");
    assert!(err.contains(message), "{name}: expected {message:?} in\n{err}");
    assert!(err.contains(&format!("{name}:")), "{name}: no file:line:col in\n{err}");
    assert!(took < Duration::from_secs(10), "{name}: took {took:?}");
}

#[test]
fn billion_laughs_is_refused_before_it_expands() {
    rejected("alias-bomb.yaml", "excessive aliasing");
}

#[test]
fn deep_nesting_hits_the_recursion_limit() {
    rejected("deep-nesting.yaml", "recursion limit exceeded");
}

#[test]
fn unterminated_nested_interpolation() {
    rejected("unterminated-interpolation.yaml", "invalid interpolation format");
}

#[test]
fn multibyte_text_keeps_char_boundaries() {
    // Spans are byte offsets; a multi-byte char before an error must not
    // split a char when the diagnostic marks the source.
    rejected("multibyte-everywhere.yaml", "invalid interpolation format");
}

#[test]
fn develop_watch_rule_that_is_not_a_mapping() {
    // Found by `cargo fuzz run load`: a watch rule that is a string made
    // the loader index into it as a map and panic.
    rejected("develop-watch-not-a-map.yaml", "services.alpine.develop.watch.0");
}

#[test]
fn secret_entry_without_source() {
    // Found by `cargo fuzz run load`: a service's secret given as a map
    // with no `source` panicked on the missing key.
    rejected(
        "secret-entry-without-source.yaml",
        "services.test.secrets.0 additional properties",
    );
}

/// Replays every command line kept in `tests/fixtures/fuzz/cli/` (found
/// by `cargo fuzz run cli`; words separated by NUL, any bytes, as the
/// target reads them): each must end as a usage error or a command's own
/// failure, never a panic (exit 101) or a hang. No engine is reachable.
#[test]
fn cli_inputs_that_once_panicked() {
    use std::ffi::OsString;
    use std::os::unix::ffi::OsStringExt;
    let dir = repo().join("tests/fixtures/fuzz/cli");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let bytes = std::fs::read(&path).unwrap();
        let argv: Vec<OsString> = bytes
            .split(|b| *b == 0)
            .map(|w| OsString::from_vec(w.to_vec()))
            .collect();
        let mut child = orch()
            .args(&argv)
            .current_dir(&dir)
            .env("DOCKER_HOST", "unix:///nonexistent/orch-fuzz.sock")
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        while child.try_wait().unwrap().is_none() {
            if Instant::now() > deadline {
                let _ = child.kill();
                panic!("{}: orch did not finish in 20 s", path.display());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let out = child.wait_with_output().unwrap();
        let err = stderr(&out);
        assert!(!err.contains("panicked"), "{}: {err}", path.display());
        assert_ne!(out.status.code(), Some(101), "{}: {err}", path.display());
        assert!(
            out.status.code().is_some(),
            "{}: killed by a signal: {err}",
            path.display()
        );
        seen += 1;
    }
    assert!(seen > 0, "no fixtures in {}", dir.display());
}
