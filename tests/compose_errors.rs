//! Bad compose files: one diagnostic each, with file:line:col and the
//! marked source line, compared with the snapshots in tests/snapshots/.

mod common;

use common::*;

fn diagnostic(name: &str) -> (Option<i32>, String) {
    let dir = repo().join("tests/fixtures/errors");
    let out = orch()
        .args(["-f", &format!("{name}.yaml"), "config"])
        .current_dir(&dir)
        .env("NO_COLOR", "1")
        .env_remove("X")
        .output()
        .unwrap();
    let text = stderr(&out).replace(&repo().display().to_string(), "<repo>");
    (out.status.code(), text)
}

fn check(name: &str, location: &str) {
    let (code, got) = diagnostic(name);
    assert_eq!(code, Some(1), "{got}");
    assert!(got.contains(location), "{name}: expected {location} in\n{got}");
    let want = std::fs::read_to_string(repo().join(format!("tests/snapshots/{name}.txt"))).unwrap();
    assert_eq!(
        got, want,
        "{name}: the diagnostic changed (update tests/snapshots/{name}.txt if intended)"
    );
    assert_eq!(got.matches('×').count(), 1, "one diagnostic, not several");
}

#[test]
fn typo_in_a_key() {
    check("typo", "typo.yaml:4:5]");
}

#[test]
fn bad_port() {
    check("port", "port.yaml:5:9]");
}

#[test]
fn dependency_cycle() {
    check("cycle", "cycle.yaml:4:17]");
}

#[test]
fn required_variable_unset() {
    check("unset", "unset.yaml:5:14]");
}
