//! Embeds every `stdlib/**/*.rhai` into the binary as a sorted table, so the
//! commands ship inside `orch` while staying plain files a user can read.
use std::{env, fs, path::Path};

fn collect(dir: &Path, root: &Path, out: &mut Vec<(String, String)>) {
    let Ok(entries) = fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(&path, root, out);
        } else if path.extension().is_some_and(|e| e == "rhai") {
            let rel = path.strip_prefix(root).unwrap().to_string_lossy().replace('\\', "/");
            out.push((rel, path.canonicalize().unwrap().to_string_lossy().into_owned()));
        }
    }
}

fn main() {
    link_without_pie();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("stdlib");
    println!("cargo:rerun-if-changed=stdlib");
    let mut files = Vec::new();
    collect(&root, &root, &mut files);
    for (_, abs) in &files {
        println!("cargo:rerun-if-changed={abs}");
    }
    files.sort();
    let mut code = String::from("pub static FILES: &[(&str, &str)] = &[\n");
    for (rel, abs) in &files {
        code.push_str(&format!("    ({rel:?}, include_str!({abs:?})),\n"));
    }
    code.push_str("];\n");
    let out = Path::new(&env::var("OUT_DIR").unwrap()).join("stdlib_files.rs");
    fs::write(out, code).unwrap();
}

/// Links the `orch` binary as a position-dependent executable on Linux.
/// A PIE's dynamic loader writes every pointer in its 700 KB of
/// `.data.rel.ro` (vtables, static tables) at each start: ~180 page
/// faults, ~0.5 ms of the ~7 ms an `orch service ls` takes beside the
/// docker CLI's ~17 (bench/README.md). Without PIE the linker resolves
/// them once. The cost: the binary's own code loses address
/// randomisation (libraries, heap and stacks keep it), as Go's default
/// binaries, the docker CLI among them, do. `ORCH_PIE=1` builds a PIE.
/// Only the binary: tests and proc-macros link as before (the flag
/// cannot go in `.cargo/config.toml`, which also reaches proc-macro
/// libraries).
fn link_without_pie() {
    println!("cargo:rerun-if-env-changed=ORCH_PIE");
    let linux = env::var("CARGO_CFG_TARGET_OS").is_ok_and(|os| os == "linux");
    if linux && env::var_os("ORCH_PIE").is_none() {
        println!("cargo:rustc-link-arg-bins=-no-pie");
    }
}
