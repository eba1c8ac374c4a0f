//! The reference's reading of a side's project as it stands (files, flags,
//! variables): its canonical document and its config hashes. Snapshots use
//! it to name config hashes (a hash is shown as `service@version`, the first
//! version of the files where the reference computed it, so the two sides
//! compare although their host ports differ) and to find the files a
//! container should hold (secrets and configs targets).

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::Value;

use crate::tool::{run, Kind, Side};

/// The reference's view at one version of the files.
#[derive(Default, Clone)]
pub struct View {
    pub doc: Value,
    /// service → hash
    pub hashes: BTreeMap<String, String>,
}

/// Hashes seen so far on one side, with the version they first appeared in.
#[derive(Default)]
pub struct History {
    pub versions: usize,
    pub names: BTreeMap<String, String>,
    pub current: View,
    key: String,
}

impl History {
    /// Re-reads the view when the files or flags changed since the last read.
    pub fn refresh(&mut self, side: &Side, flags: &[String]) {
        let key = format!("{flags:?}{:?}{}", side.env, files_digest(&side.dir));
        if key == self.key {
            return;
        }
        self.key = key;
        let view = read(side, flags);
        for (svc, h) in &view.hashes {
            self.names
                .entry(h.clone())
                .or_insert_with(|| format!("{svc}@{}", self.versions));
        }
        self.versions += 1;
        self.current = view;
    }

    /// The name of a config hash: `service@version`, or `unknown` when the
    /// reference never computed it for these files.
    pub fn hash_name(&self, hash: &str) -> String {
        self.names
            .get(hash)
            .cloned()
            .unwrap_or_else(|| "<unknown hash>".to_string())
    }
}

/// The project flags of a compose step's arguments (`-f`, `--env-file`,
/// `--project-directory`, `--profile`), so the view reads the same files.
pub fn project_flags(args: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let a = &args[i];
        if matches!(a.as_str(), "-f" | "--file" | "--env-file" | "--project-directory") && i + 1 < args.len() {
            out.push(a.clone());
            out.push(args[i + 1].clone());
            i += 2;
        } else if a.starts_with("--file=") || a.starts_with("--env-file=") {
            out.push(a.clone());
            i += 1;
        } else if a.starts_with('-') && a != "-p" {
            i += 1;
            if matches!(a.as_str(), "--profile" | "--ansi" | "--progress") {
                i += 1;
            }
        } else {
            break;
        }
    }
    out
}

fn read(side: &Side, flags: &[String]) -> View {
    let config = |extra: &[&str]| {
        let mut args: Vec<String> = flags.iter().filter(|f| f.as_str() != "-").cloned().collect();
        // `-f -` is read from stdin: the view cannot see it.
        if flags.iter().any(|f| f == "-") {
            return None;
        }
        args.push("config".into());
        args.extend(extra.iter().map(|s| s.to_string()));
        let mut cmd = side.command(Kind::Compose, &args);
        cmd.env("COMPOSE_PROFILES", "*");
        let out = run(cmd, None, Duration::from_secs(30));
        (out.code == 0).then_some(out.stdout)
    };
    let doc = config(&["--format", "json"])
        .and_then(|s| serde_json::from_str(&s).ok())
        .unwrap_or(Value::Null);
    let hashes = config(&["--hash", "*"])
        .map(|s| {
            s.lines()
                .filter_map(|l| l.split_once(' '))
                .map(|(a, b)| (a.to_string(), b.trim().to_string()))
                .collect()
        })
        .unwrap_or_default();
    View { doc, hashes }
}

/// A cheap fingerprint of the folder's files (names, sizes, contents).
fn files_digest(dir: &std::path::Path) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    let mut stack = vec![dir.to_path_buf()];
    let mut files = Vec::new();
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                files.push(p);
            }
        }
    }
    files.sort();
    for f in files {
        h.update(f.to_string_lossy().as_bytes());
        h.update(std::fs::read(&f).unwrap_or_default());
    }
    format!("{:x}", h.finalize())
}

/// The files a service's containers should hold: secrets and configs
/// targets, as compose places them.
pub fn file_targets(doc: &Value, service: &str) -> Vec<String> {
    let svc = &doc["services"][service];
    let mut out = Vec::new();
    for (key, base) in [("secrets", "/run/secrets/"), ("configs", "/")] {
        for s in svc[key].as_array().into_iter().flatten() {
            let source = s["source"].as_str().unwrap_or_default();
            let target = match s["target"].as_str() {
                Some(t) if t.starts_with('/') => t.to_string(),
                Some(t) if key == "secrets" => format!("{base}{t}"),
                Some(t) => format!("/{t}"),
                None => format!("{base}{source}"),
            };
            out.push(target);
        }
    }
    out
}

/// Dependency pairs (dependent, dependency) of the document that order
/// `command`: `restart` orders only `restart: true` dependencies (compose
/// restarts the others at once).
pub fn dependencies(doc: &Value, command: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (name, svc) in doc["services"].as_object().into_iter().flatten() {
        for (dep, how) in svc["depends_on"].as_object().into_iter().flatten() {
            if command != "restart" || how["restart"] == true {
                out.push((name.clone(), dep.clone()));
            }
        }
    }
    out
}

/// The compose command of a step's arguments (after the global flags).
pub fn subcommand(args: &[String]) -> String {
    let mut i = 0;
    while i < args.len() {
        let a = args[i].as_str();
        if !a.starts_with('-') {
            return a.to_string();
        }
        let takes_value = matches!(
            a,
            "-f" | "--file" | "--env-file" | "--project-directory" | "--profile" | "--ansi" | "--progress" | "-p"
        );
        i += if takes_value { 2 } else { 1 };
    }
    String::new()
}
