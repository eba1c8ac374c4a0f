//! The compose files of a published project, as `docker compose publish`
//! puts them in its artifact: each file as written, but with its local
//! `env_file` and `extends.file` paths swapped for content names (the
//! SHA-256 of the resolved path, `<hex>.env` / `<hex>.yaml`), since the
//! files travel beside it under those names. The swap edits the text in
//! place, from the value to the end of its line, exactly as compose's
//! `transform` package does, so formatting and comments elsewhere stay.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

use sha2::{Digest as _, Sha256};

use super::canon::abs_path;
use super::interp::interpolate;
use super::yaml::{self, Node, Value};

/// One file of the artifact.
#[derive(Debug, Clone, PartialEq)]
pub struct Layer {
    /// The name it travels under: the compose file's base name, or an
    /// `extends` target's content name.
    pub name: String,
    pub content: Vec<u8>,
    /// An `extends` target rather than one of the project's files.
    pub extends: bool,
}

/// The artifact's compose files, and the env files they name.
#[derive(Debug, Default)]
pub struct Files {
    /// The compose files in the project's order, then `extends` targets.
    pub layers: Vec<Layer>,
    /// Every local env file named: resolved path → content name.
    pub env_files: BTreeMap<String, String>,
    /// The services of the project's own files that name env files.
    pub env_file_services: BTreeSet<String>,
}

/// Why the files cannot be published.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PublishError {
    #[error("cannot publish compose file with local includes")]
    LocalInclude,
    #[error("{path}: {reason}")]
    Read { path: String, reason: String },
}

/// Reads and rewrites the project's compose files (`config_files`), with
/// paths resolved against `working_dir` and variables from `env`.
pub fn files(
    config_files: &[String],
    working_dir: &Path,
    env: &HashMap<String, String>,
) -> Result<Files, PublishError> {
    let mut out = Files::default();
    let mut extends: BTreeMap<String, String> = BTreeMap::new();
    for file in config_files {
        let (content, found) = rewrite(file, working_dir, env, &mut out)?;
        out.layers.push(Layer {
            name: base_name(file),
            content,
            extends: false,
        });
        extends.extend(found);
    }
    // Targets that extend further are read in turn, each once.
    let mut done: BTreeMap<String, String> = BTreeMap::new();
    while let Some((path, name)) = extends.pop_first() {
        let (content, found) = rewrite(&path, working_dir, env, &mut out)?;
        out.layers.push(Layer {
            name: name.clone(),
            content,
            extends: true,
        });
        done.insert(path, name);
        extends.extend(found.into_iter().filter(|(p, _)| !done.contains_key(p)));
    }
    Ok(out)
}

/// One file with its paths swapped; returns the text and the local
/// `extends` targets it names (path → content name).
fn rewrite(
    file: &str,
    working_dir: &Path,
    env: &HashMap<String, String>,
    out: &mut Files,
) -> Result<(Vec<u8>, BTreeMap<String, String>), PublishError> {
    let read_err = |reason: String| PublishError::Read {
        path: file.to_string(),
        reason,
    };
    let mut text = std::fs::read(file).map_err(|e| read_err(e.to_string()))?;
    let utf8 = String::from_utf8_lossy(&text).into_owned();
    let doc = yaml::parse(&utf8, 0).map_err(|e| read_err(format!("{e:?}")))?;
    if has_local_include(&doc) {
        return Err(PublishError::LocalInclude);
    }
    let resolve = |n: &Node| -> Option<String> {
        let raw = n.scalar_text()?;
        let value = interpolate(&raw, env, &mut Vec::new()).unwrap_or(raw);
        Some(abs_path(working_dir, &value))
    };
    let mut edits: Vec<(usize, usize, String)> = Vec::new();
    let mut extends = BTreeMap::new();
    for (key, svc) in doc.get("services").and_then(Node::as_map).into_iter().flatten() {
        for node in env_file_nodes(svc) {
            if let Some(path) = resolve(node) {
                let name = format!("{}.env", hex_sha256(&path));
                edits.push((node.span.line, node.span.col, name.clone()));
                out.env_files.insert(path, name);
                out.env_file_services.extend(key.scalar_text());
            }
        }
        let Some(node) = svc.get("extends").and_then(|x| x.get("file")) else {
            continue;
        };
        match resolve(node) {
            Some(path) if Path::new(&path).exists() => {
                let name = format!("{}.yaml", hex_sha256(&path));
                edits.push((node.span.line, node.span.col, name.clone()));
                extends.insert(path, name);
            }
            _ => {}
        }
    }
    for (line, col, value) in edits {
        text = replace(&text, line, col, &value);
    }
    Ok((text, extends))
}

/// The path nodes of a service's `env_file` (a string, or a list of
/// strings and `{path: …}` maps).
fn env_file_nodes(svc: &Node) -> Vec<&Node> {
    match svc.get("env_file").map(|n| &n.value) {
        Some(Value::Str(_)) => svc.get("env_file").into_iter().collect(),
        Some(Value::Seq(items)) => items
            .iter()
            .filter_map(|i| match &i.value {
                Value::Map(_) => i.get("path"),
                _ => Some(i),
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// An `include` of a file on this machine (a remote one, `oci://` or a
/// git URL, travels as its reference).
fn has_local_include(doc: &Node) -> bool {
    let Some(Value::Seq(items)) = doc.get("include").map(|n| &n.value) else {
        return false;
    };
    let remote = |p: &str| p.starts_with("oci://") || p.starts_with("git@") || p.contains("://");
    items.iter().any(|i| {
        let paths: Vec<String> = match &i.value {
            Value::Str(s) => vec![s.clone()],
            Value::Map(_) => match i.get("path").map(|p| &p.value) {
                Some(Value::Str(s)) => vec![s.clone()],
                Some(Value::Seq(ps)) => ps.iter().filter_map(Node::scalar_text).collect(),
                _ => Vec::new(),
            },
            _ => Vec::new(),
        };
        paths.iter().any(|p| !remote(p))
    })
}

/// compose's `transform.replace`: the text of line `line` from column
/// `col` (both 1-based) to the end of the line becomes `value`.
fn replace(text: &[u8], line: usize, col: usize, value: &str) -> Vec<u8> {
    let mut pos = 0;
    let mut l = 1;
    for &b in text {
        if b == b'\n' {
            l += 1;
            if l == line {
                break;
            }
        }
        pos += 1;
    }
    // Columns count characters; the text before the value may not be ASCII.
    let line_start = if line <= 1 { 0 } else { pos + 1 };
    let rest = String::from_utf8_lossy(&text[line_start.min(text.len())..]);
    let offset: usize = rest.chars().take(col.saturating_sub(1)).map(char::len_utf8).sum();
    let start = (line_start + offset).min(text.len());
    let end = text[start..]
        .iter()
        .position(|&b| b == b'\n')
        .map_or(text.len(), |i| start + i);
    let mut out = text[..start].to_vec();
    out.extend_from_slice(value.as_bytes());
    out.extend_from_slice(&text[end..]);
    out
}

fn hex_sha256(s: &str) -> String {
    format!("{:x}", Sha256::digest(s.as_bytes()))
}

fn base_name(file: &str) -> String {
    Path::new(file)
        .file_name()
        .map_or_else(|| file.to_string(), |n| n.to_string_lossy().into_owned())
}

/// compose's `image-digests.yaml` layer: each service's image pinned
/// (`services: NAME: image: REF@sha256:…`), as go-yaml writes it.
pub fn digests_override(images: &BTreeMap<String, String>) -> Vec<u8> {
    let mut out = String::from("services:\n");
    for (service, image) in images {
        out.push_str(&format!("  {}:\n    image: {}\n", yaml_key(service), image));
    }
    out.into_bytes()
}

fn yaml_key(s: &str) -> String {
    match yaml::resolve_plain(s) {
        Value::Str(_) if !s.is_empty() && !s.contains(": ") && !s.starts_with(['-', '?', '&', '*', '!', '"', '\'']) => {
            s.to_string()
        }
        _ => format!("{s:?}"),
    }
}

/// A secret found in a file about to be published: what kind, under
/// which key, and the value.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    pub kind: &'static str,
    pub key: String,
    pub value: String,
}

/// Patterns of well-known credentials, with the names compose's scanner
/// (DefangLabs' secret-detector) gives them. Its generic detectors (high
/// entropy, keywords) are not among them.
const SECRETS: &[(&str, &str)] = &[
    ("Private Key", r"-----BEGIN[ A-Z]*PRIVATE KEY( BLOCK)?-----"),
    (
        "AWS Client ID",
        r"(?:A3T[A-Z0-9]|AKIA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA|ASIA)[A-Z0-9]{16}",
    ),
    ("Github authentication", r"gh[pousr]_[A-Za-z0-9_]{36}"),
    (
        "JSON Web Token",
        r"eyJ[A-Za-z0-9\-_=]+\.eyJ[A-Za-z0-9\-_=]+\.?[A-Za-z0-9\-_.+/=]*",
    ),
    (
        "Slack token",
        r"(?:(?:xoxe\.)?xox[bp]|xox[aeosr]|xapp)-\d+-[\-a-zA-Z0-9]+",
    ),
    ("Stripe API key", r"[rs]k_(live|test)_[0-9a-zA-Z]{24}"),
    ("npm auth token", r"npm_[a-zA-Z0-9]{36}"),
];

/// The well-known credentials in `text`, a line at a time; a line's key
/// is what precedes its first `:` or `=`.
pub fn sensitive(text: &str) -> Vec<Finding> {
    let res: Vec<_> = SECRETS
        .iter()
        .filter_map(|(kind, re)| Some((*kind, regex_automata::meta::Regex::new(re).ok()?)))
        .collect();
    let mut out = Vec::new();
    for line in text.lines() {
        let Some((kind, _)) = res.iter().find(|(_, re)| re.is_match(line)) else {
            continue;
        };
        let (key, value) = line.split_once([':', '=']).unwrap_or(("", line));
        out.push(Finding {
            kind,
            key: key.trim().trim_start_matches("- ").to_string(),
            value: value.trim().to_string(),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_swapped_to_the_end_of_their_line_as_compose_does() {
        let t = b"services:\n  web:\n    env_file: \"./a.env\" # note\n    image: x\n";
        let out = replace(t, 3, 15, "abc.env");
        assert_eq!(out, b"services:\n  web:\n    env_file: abc.env\n    image: x\n");
    }

    #[test]
    fn env_files_and_extends_travel_under_their_hashes() {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path().join("base.yaml");
        std::fs::write(&base, "services:\n  b:\n    image: x\n").unwrap();
        let main = dir.path().join("compose.yaml");
        let text = "services:\n  a:\n    extends:\n      file: base.yaml\n      service: b\n    env_file:\n      - ${E}.env\n      - path: c.env\n";
        std::fs::write(&main, text).unwrap();
        let env = HashMap::from([("E".to_string(), "x".to_string())]);
        let f = files(&[main.display().to_string()], dir.path(), &env).unwrap();
        let hash = |p: &Path| hex_sha256(&p.display().to_string());
        let want = format!(
            "services:\n  a:\n    extends:\n      file: {}.yaml\n      service: b\n    env_file:\n      - {}.env\n      - path: {}.env\n",
            hash(&base),
            hash(&dir.path().join("x.env")),
            hash(&dir.path().join("c.env"))
        );
        assert_eq!(String::from_utf8(f.layers[0].content.clone()).unwrap(), want);
        assert_eq!(f.layers[1].name, format!("{}.yaml", hash(&base)));
        assert!(f.layers[1].extends);
        assert_eq!(f.env_files.len(), 2);
    }

    #[test]
    fn well_known_credentials_are_found() {
        let f = sensitive("A=1\nAWS_KEY=AKIAABCDEFGHIJKLMNOP\n  token: ghp_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n");
        assert_eq!(f.len(), 2);
        assert_eq!(
            (f[0].kind, f[0].key.as_str(), f[0].value.as_str()),
            ("AWS Client ID", "AWS_KEY", "AKIAABCDEFGHIJKLMNOP")
        );
        assert_eq!(f[1].kind, "Github authentication");
    }

    #[test]
    fn local_includes_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let main = dir.path().join("compose.yaml");
        std::fs::write(&main, "include:\n  - other.yaml\nservices: {}\n").unwrap();
        let err = files(&[main.display().to_string()], dir.path(), &HashMap::new()).unwrap_err();
        assert_eq!(err, PublishError::LocalInclude);
    }
}
