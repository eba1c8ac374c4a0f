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
