//! Every function a script can call is documented in `orch docs`: the
//! test lists what the engine has registered (every namespace, method,
//! getter and setter, and Rhai's built-ins) and looks each one up in the
//! printed reference, so a new primitive without a doc comment fails here.

use std::collections::BTreeMap;
use std::process::Command;

fn orch_docs() -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_orch")).arg("docs").output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// `orch docs`'s entries: signature line → its doc lines.
fn printed(text: &str) -> Vec<(String, Vec<String>)> {
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    for line in text.lines() {
        if let Some(doc) = line.strip_prefix("    ") {
            if let Some(last) = out.last_mut() {
                last.1.push(doc.to_string());
            }
        } else if !line.is_empty() {
            out.push((line.to_string(), Vec::new()));
        }
    }
    out
}

/// The key an entry is found by: the signature up to its parameters.
fn key_of(signature: &str) -> &str {
    let end = [signature.find('('), signature.find(" -> "), signature.find(" = ")]
        .into_iter()
        .flatten()
        .min()
        .unwrap_or(signature.len());
    &signature[..end]
}

#[test]
fn every_registered_function_has_docs_in_orch_docs() {
    let registered = orch::docs::entries().unwrap();
    assert!(
        registered.len() > 300,
        "only {} functions registered?",
        registered.len()
    );
    let mut by_key: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (sig, docs) in printed(&orch_docs()) {
        by_key.entry(key_of(&sig).to_string()).or_default().extend(docs);
    }
    let mut missing = Vec::new();
    let mut no_example = Vec::new();
    for e in &registered {
        match by_key.get(&e.key) {
            Some(docs) if docs.iter().any(|d| !d.trim().is_empty()) => {
                // orch's own primitives show how they are called.
                if !e.builtin && !docs.iter().any(|d| d.starts_with("```rhai")) {
                    no_example.push(e.signature.clone());
                }
            }
            _ => missing.push(e.signature.clone()),
        }
    }
    missing.dedup();
    no_example.dedup();
    assert!(
        missing.is_empty(),
        "not in `orch docs` ({}):\n{}",
        missing.len(),
        missing.join("\n")
    );
    assert!(
        no_example.is_empty(),
        "documented without a ```rhai example ({}):\n{}",
        no_example.len(),
        no_example.join("\n")
    );
}

#[test]
fn builtins_are_found_by_name() {
    for (name, needle) in [
        ("timestamp", "timestamp() -> Instant"),
        ("elapsed", "Instant.elapsed -> any"),
        ("to_upper", "to_upper("),
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_orch"))
            .args(["docs", name])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(0), "orch docs {name}");
        assert!(text.contains(needle), "orch docs {name}:\n{text}");
        assert!(text.contains("```rhai"), "orch docs {name} has no example:\n{text}");
    }
}
