//! The loader against Docker Compose v2.40.3 on compose's own fixtures
//! (`../shared/conformance`): both must accept or both reject every file,
//! and for accepted files print the same document, byte for byte, as JSON
//! and as YAML; and the same for `config --no-interpolate` (compose-go's
//! model, which compose prints even for some projects it rejects).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;

/// Fixtures where orch and the reference differ, each with the reason.
const KNOWN_DIFFERENCES: &[(&str, &str)] = &[
    ("compose-e2e/build-test/ssh/compose.yaml", "the reference itself fails: `json: error calling MarshalJSON for type types.SSHKey` (a compose bug printing build.ssh); orch prints the document"),
];

fn fixtures(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            // Expected outputs of other tools, not compose files.
            if !p
                .file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("expected-"))
            {
                fixtures(&p, out);
            }
        } else if p.extension().is_some_and(|x| x == "yaml" || x == "yml") {
            out.push(p);
        }
    }
}

/// Runs a compose CLI as `BIN -f FILE config --format json` in the file's
/// folder with a minimal environment; (accepted, document).
fn config(bin: &Path, file: &Path) -> (bool, Option<serde_json::Value>) {
    let name = file.file_name().unwrap().to_string_lossy().into_owned();
    run_config(bin, file.parent().unwrap(), &["-f", &name], &[])
}

/// `BIN ARGS config --format json` and `BIN ARGS config` (YAML), and both
/// again with `--no-interpolate` (compose-go's model, another pipeline),
/// in `dir` with only PATH, HOME and `env`: (accepted, the outputs; the
/// model's acceptance is part of them).
fn run_config(bin: &Path, dir: &Path, args: &[&str], env: &[(String, String)]) -> (bool, Option<serde_json::Value>) {
    let (ok, json) = run_format(bin, dir, args, env, "json", false);
    let (_, yaml) = run_format(bin, dir, args, env, "yaml", false);
    let (raw_ok, raw_json) = run_format(bin, dir, args, env, "json", true);
    let (_, raw_yaml) = run_format(bin, dir, args, env, "yaml", true);
    let raw = serde_json::json!({"ok": raw_ok, "json": raw_json, "yaml": raw_yaml});
    // Always a document: a project compose rejects may still have a model
    // (`--no-interpolate` checks no consistency), which must agree too.
    (
        ok,
        Some(serde_json::json!({"json": json, "yaml": yaml, "no_interpolate": raw})),
    )
}

fn run_format(
    bin: &Path,
    dir: &Path,
    args: &[&str],
    env: &[(String, String)],
    format: &str,
    no_interpolate: bool,
) -> (bool, Option<serde_json::Value>) {
    let out = Command::new(bin)
        .args(args)
        .args(["config", "--format", format])
        .args(no_interpolate.then_some("--no-interpolate"))
        .current_dir(dir)
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("HOME", std::env::var("HOME").unwrap_or_default())
        .envs(env.iter().cloned())
        .output()
        .expect("run");
    // The value, and the printed text (key order is part of compose's
    // config hash, so orch must print the same bytes, trailing newline aside).
    let doc: Option<serde_json::Value> = match format {
        "json" => serde_json::from_slice(&out.stdout).ok(),
        _ => Some(serde_json::Value::Null),
    };
    let text = String::from_utf8_lossy(&out.stdout).trim_end().to_string();
    let ok = out.status.success() && doc.is_some();
    (ok, doc.map(|d| serde_json::json!({"doc": d, "text": text})))
}

/// orch's own cases (`tests/fixtures/differential/<case>/`): every
/// interpolation form, short syntax and merge rule, each checked against
/// the reference. A case folder may hold `args` (global flags, e.g. `-f a
/// -f b`, `--profile x`) and `env` (`KEY=VALUE` lines set in the process
/// environment); without `args` both tools find the default files.
#[test]
fn loader_matches_docker_compose_on_orchs_own_cases() {
    let reference = compose_ref();
    let orch = PathBuf::from(env!("CARGO_BIN_EXE_orch"));
    let root = repo().join("tests/fixtures/differential");
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&root)
        .expect("differential cases")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    cases.sort();
    assert!(cases.len() >= 15, "only {} cases", cases.len());
    let (mut passed, mut failed, mut rejected) = (0, Vec::new(), 0);
    for case in &cases {
        let name = case.file_name().unwrap().to_string_lossy().into_owned();
        let args = std::fs::read_to_string(case.join("args")).unwrap_or_default();
        let args: Vec<&str> = args.split_whitespace().collect();
        let env: Vec<(String, String)> = std::fs::read_to_string(case.join("env"))
            .unwrap_or_default()
            .lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let (r_ok, r_doc) = run_config(&reference, case, &args, &env);
        let (o_ok, o_doc) = run_config(&orch, case, &args, &env);
        match (r_ok, o_ok) {
            (false, false) if r_doc == o_doc => {
                passed += 1;
                rejected += 1;
            }
            (true, true) | (false, false) if r_doc == o_doc => passed += 1,
            (true, true) | (false, false) => failed.push(format!(
                "{name}: documents differ\n reference: {}\n orch:      {}",
                serde_json::to_string(&r_doc).unwrap_or_default(),
                serde_json::to_string(&o_doc).unwrap_or_default()
            )),
            (r, _) => failed.push(format!(
                "{name}: reference {} / orch {}",
                if r { "accepts" } else { "rejects" },
                if r { "rejects" } else { "accepts" }
            )),
        }
    }
    for f in &failed {
        eprintln!("DIFFERS {f}");
    }
    use std::io::Write;
    let _ = writeln!(
        std::io::stdout(),
        "own cases: {passed} passed ({rejected} rejected by both), {} failed",
        failed.len()
    );
    assert!(
        failed.is_empty(),
        "{} of orch's own cases differ from the reference",
        failed.len()
    );
}

#[test]
fn loader_matches_docker_compose_on_its_fixtures() {
    let root = repo().join("../shared/conformance");
    assert!(
        root.is_dir(),
        "{} is missing (CI has shared/ beside the clone)",
        root.display()
    );
    let reference = compose_ref();
    let orch = PathBuf::from(env!("CARGO_BIN_EXE_orch"));
    let mut files = Vec::new();
    fixtures(&root, &mut files);
    files.sort();
    assert!(files.len() > 90, "only {} fixtures found", files.len());
    let (mut passed, mut failed, mut skipped) = (0, Vec::new(), 0);
    for f in &files {
        let rel = f.strip_prefix(&root).unwrap().to_string_lossy().into_owned();
        let (r_ok, r_doc) = config(&reference, f);
        let (o_ok, o_doc) = config(&orch, f);
        let same = r_ok == o_ok && r_doc == o_doc;
        let known = KNOWN_DIFFERENCES.iter().find(|(k, _)| *k == rel);
        match (same, known) {
            (true, None) => passed += 1,
            (true, Some(_)) => failed.push(format!(
                "{rel}: listed as a known difference but now agrees; remove it from the list"
            )),
            (false, Some(_)) => skipped += 1,
            (false, None) => failed.push(format!(
                "{rel}: reference {} / orch {}",
                if r_ok { "accepts" } else { "rejects" },
                match (r_ok, o_ok) {
                    (true, true) => "prints another document (or --no-interpolate model)",
                    (false, false) => "rejects too, but the --no-interpolate models differ",
                    (_, true) => "accepts",
                    (_, false) => "rejects",
                }
            )),
        }
    }
    for f in &failed {
        eprintln!("DIFFERS {f}");
    }
    for (k, why) in KNOWN_DIFFERENCES {
        eprintln!("known difference: {k}: {why}");
    }
    // Straight to stdout (println! is captured by the test harness): CI
    // shows this count.
    use std::io::Write;
    let _ = writeln!(
        std::io::stdout(),
        "{passed} passed, {} failed, {skipped} skipped",
        failed.len()
    );
    assert!(failed.is_empty(), "{} fixtures differ from the reference", failed.len());
}
