//! The layer rule (ARCHITECTURE.md): a module imports only modules of its
//! own layer or below, so the loader, planner and engine access stand alone
//! (testable without Rhai, reusable without the CLI). This reads every
//! `crate::MODULE` path in `src/` (test modules excluded) and fails on an
//! import from a higher layer, naming the file, line and both layers.

use std::path::Path;

/// Top-level modules, top layer first. A module may import its own layer
/// and the ones after it.
const LAYERS: &[(&str, &[&str])] = &[
    ("CLI", &["main", "cli"]),
    ("script", &["script", "docs"]),
    ("diagnostics", &["diag"]),
    ("primitives", &["api"]),
    ("planner", &["plan", "stack", "autoscale"]),
    ("model", &["compose", "build"]),
    (
        "leaves",
        &[
            "bridge",
            "context",
            "docker",
            "engine_json",
            "error",
            "gojson",
            "memo",
            "oci",
            "source",
            "ssh",
            "stdlib",
            "template",
            "units",
        ],
    ),
];

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|(_, mods)| mods.contains(&module))
}

/// The top-level module a file belongs to (`src/api/x.rs` → `api`).
fn module_of(rel: &Path) -> String {
    let first = rel
        .components()
        .next()
        .unwrap()
        .as_os_str()
        .to_string_lossy()
        .to_string();
    first.trim_end_matches(".rs").to_string()
}

fn files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            // Unit-test folders (`load/tests/`) are tests, not layers.
            if p.file_name().is_some_and(|n| n != "tests") {
                files(&p, out);
            }
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// `(line, module)` for every `crate::MODULE` outside a comment, up to the
/// file's `#[cfg(test)]` module.
fn imports(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let code = line.trim_start();
        if code.starts_with("#[cfg(test)]") {
            break;
        }
        if code.starts_with("//") {
            continue;
        }
        let mut rest = code;
        while let Some(at) = rest.find("crate::") {
            rest = &rest[at + "crate::".len()..];
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            out.push((i + 1, name));
        }
    }
    out
}

fn violations(src: &Path) -> Vec<String> {
    let mut all = Vec::new();
    files(src, &mut all);
    all.sort();
    let mut bad = Vec::new();
    for path in all {
        let rel = path.strip_prefix(src).unwrap();
        let module = module_of(rel);
        if module == "lib" {
            continue;
        }
        let Some(own) = layer_of(&module) else {
            bad.push(format!(
                "src/{}: module `{module}` has no layer in tests/layers.rs",
                rel.display()
            ));
            continue;
        };
        let text = std::fs::read_to_string(&path).unwrap();
        for (line, target) in imports(&text) {
            match layer_of(&target) {
                Some(l) if l < own => bad.push(format!(
                    "src/{}:{line}: `{module}` ({} layer) imports `crate::{target}` ({} layer, above it)",
                    rel.display(),
                    LAYERS[own].0,
                    LAYERS[l].0
                )),
                Some(_) => {}
                None => bad.push(format!(
                    "src/{}:{line}: `crate::{target}` is not a module with a layer in tests/layers.rs",
                    rel.display()
                )),
            }
        }
    }
    bad
}

#[test]
fn layers_import_only_downward() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let bad = violations(&src);
    assert!(bad.is_empty(), "upward imports:\n{}", bad.join("\n"));
}

/// The check itself can fail: an upward import planted in a copy of a
/// lower file is reported with its file and line.
#[test]
fn an_upward_import_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let plan = dir.path().join("plan");
    std::fs::create_dir(&plan).unwrap();
    std::fs::write(
        plan.join("x.rs"),
        "use crate::units;\n// crate::cli in a comment\nuse crate::api::Opts;\n",
    )
    .unwrap();
    let bad = violations(dir.path());
    assert_eq!(
        bad,
        ["src/plan/x.rs:3: `plan` (planner layer) imports `crate::api` (primitives layer, above it)"]
    );
}

/// Files over 600 lines and functions over 100 in `text` (the style rule
/// of ARCHITECTURE.md). rustfmt's layout makes a function's end the first
/// line after its `fn` that is its indentation and `}`.
fn too_long(name: &str, text: &str) -> Vec<String> {
    let lines: Vec<&str> = text.lines().collect();
    let mut bad = Vec::new();
    if lines.len() > 600 {
        bad.push(format!("{name}: {} lines (at most 600)", lines.len()));
    }
    for (i, line) in lines.iter().enumerate() {
        let code = line.trim_start();
        let indent = &line[..line.len() - code.len()];
        let signature = [
            "fn ",
            "pub fn ",
            "pub(crate) fn ",
            "pub(super) fn ",
            "async fn ",
            "pub async fn ",
        ]
        .iter()
        .any(|p| code.starts_with(p));
        if !signature || code.ends_with(';') {
            continue;
        }
        let close = format!("{indent}}}");
        if let Some(end) = lines[i + 1..].iter().position(|l| *l == close) {
            if end + 2 > 100 {
                bad.push(format!(
                    "{name}:{}: a function of {} lines (at most 100)",
                    i + 1,
                    end + 2
                ));
            }
        }
    }
    bad
}

#[test]
fn source_files_and_functions_stay_readable() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut all = Vec::new();
    files(&src, &mut all);
    let bad: Vec<String> = all
        .iter()
        .flat_map(|p| too_long(&p.display().to_string(), &std::fs::read_to_string(p).unwrap()))
        .collect();
    assert!(bad.is_empty(), "{}", bad.join("\n"));
    // The check can fail: a long function and a long file are reported.
    let body = "    let x = 1;\n".repeat(120);
    let planted = format!("fn long() {{\n{body}}}\n{}", "// filler\n".repeat(500));
    assert_eq!(
        too_long("x.rs", &planted),
        [
            "x.rs: 622 lines (at most 600)",
            "x.rs:1: a function of 122 lines (at most 100)"
        ]
    );
}
