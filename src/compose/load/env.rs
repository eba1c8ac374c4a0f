//! The project's variables: the process environment, a script's `env`,
//! and the env files (`.env`, `--env-file`, a service's `env_file`).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde_json::{json, Map, Value};

use super::{Files, Options};
use crate::compose::canon;
use crate::compose::error::LoadError;
use crate::compose::interp;
use crate::compose::yaml::{Node, Value as Y};

/// The variables a project starts from: the process's, a script's `env`
/// over them.
pub(super) fn process_env(opts: &Options) -> HashMap<String, String> {
    let mut env: HashMap<String, String> = std::env::vars().collect();
    env.extend(opts.env.clone());
    env
}

/// `--env-file`s, else the working directory's `.env` when there is one
/// and `COMPOSE_DISABLE_ENV_FILE` (a Go boolean, as compose-go parses it)
/// is not true.
pub(super) fn project_env_files(
    opts: &Options,
    cwd: &Path,
    working_dir: &Path,
    env: &HashMap<String, String>,
) -> Result<Vec<PathBuf>, LoadError> {
    if !opts.env_files.is_empty() {
        return Ok(opts.env_files.iter().map(|f| cwd.join(f)).collect());
    }
    if let Some(v) = env.get("COMPOSE_DISABLE_ENV_FILE") {
        match v.as_str() {
            "1" | "t" | "T" | "TRUE" | "true" | "True" => return Ok(Vec::new()),
            "0" | "f" | "F" | "FALSE" | "false" | "False" => {}
            _ => {
                return Err(LoadError::plain(format!(
                    "strconv.ParseBool: parsing {v:?}: invalid syntax"
                )))
            }
        }
    }
    Ok(vec![working_dir.join(".env")]
        .into_iter()
        .filter(|p| p.is_file())
        .collect())
}

/// The `--env-file`s as compose's normalizeProjectOptions makes them:
/// `~` expanded, absolute from the current directory, cleaned.
pub(super) fn explicit_env_files(opts: &Options, cwd: &Path) -> Vec<String> {
    let home = std::env::var("HOME").unwrap_or_default();
    opts.env_files
        .iter()
        .map(|f| {
            let text = f.to_string_lossy();
            let f = match text.strip_prefix('~') {
                Some(rest) if rest.is_empty() || rest.starts_with('/') => PathBuf::from(format!("{home}{rest}")),
                _ => f.clone(),
            };
            canon::clean(&cwd.join(f))
        })
        .collect()
}

/// Adds the env files' variables to `env`: those already set (process,
/// script) win over the files'; a later file wins over an earlier one.
pub(super) fn add_env_files(env: &mut HashMap<String, String>, env_files: &[PathBuf]) -> Result<(), LoadError> {
    let mut dotenv: HashMap<String, String> = HashMap::new();
    for f in env_files {
        let both: HashMap<String, String> = env.clone().into_iter().chain(dotenv.clone()).collect();
        for (k, v) in read_dotenv(f, &both).map_err(LoadError::plain)? {
            dotenv.insert(k, v);
        }
    }
    for (k, v) in dotenv {
        env.entry(k).or_insert(v);
    }
    Ok(())
}

/// Reads an env file in `format: raw`: `KEY=VALUE` lines taken literally
/// (no quotes removed, no comments after values, no interpolation).
pub(super) fn read_raw_env(path: &Path) -> Result<Vec<(String, String)>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(text
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        .map(|l| match l.split_once('=') {
            Some((k, v)) => (k.trim().to_string(), v.to_string()),
            None => (l.trim().to_string(), String::new()),
        })
        .collect())
}

/// Reads a `.env` file: `KEY=VALUE`, comments, `export`, quotes, and
/// `${VAR}` in unquoted and double-quoted values.
pub fn read_dotenv(path: &Path, env: &HashMap<String, String>) -> Result<Vec<(String, String)>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    // In file order, a redefined variable moved to its last place (a
    // tombstone where it was); `lookup` is what `${VAR}` sees so far. Both
    // grow by one per line, so a long file reads in linear time.
    let mut out: Vec<Option<(String, String)>> = Vec::new();
    let mut at: HashMap<String, usize> = HashMap::new();
    let mut lookup: HashMap<String, String> = env.clone();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line.strip_prefix("export ").unwrap_or(line).trim_start();
        let Some((k, v)) = line.split_once('=') else {
            // A bare name takes its value from the environment, if any.
            if let Some(v) = env.get(line) {
                let (key, value) = (line.to_string(), v.clone());
                lookup.insert(key.clone(), value.clone());
                if let Some(old) = at.insert(key.clone(), out.len()) {
                    out[old] = None;
                }
                out.push(Some((key, value)));
            }
            continue;
        };
        let key = k.trim().to_string();
        if key.is_empty() || key.contains(char::is_whitespace) {
            return Err(format!(
                "{}:{}: unexpected character in variable name {key:?}",
                path.display(),
                i + 1
            ));
        }
        let v = v.trim_start();
        let value = if let Some(rest) = v.strip_prefix('\'') {
            rest.split_once('\'')
                .map(|(a, _)| a.to_string())
                .unwrap_or_else(|| rest.to_string())
        } else if let Some(rest) = v.strip_prefix('"') {
            let inner = rest.rsplit_once('"').map(|(a, _)| a).unwrap_or(rest);
            let unescaped = inner.replace("\\n", "\n").replace("\\\"", "\"").replace("\\\\", "\\");
            interp::interpolate(&unescaped, &lookup, &mut Vec::new()).unwrap_or(unescaped)
        } else {
            let v = match v.find(" #") {
                Some(i) => &v[..i],
                None => v,
            };
            let v = v.trim_end();
            interp::interpolate(v, &lookup, &mut Vec::new()).unwrap_or_else(|_| v.to_string())
        };
        // compose-go asks the environment first, then the file's own
        // earlier lines: a file never shadows what the caller passed.
        if !env.contains_key(&key) {
            lookup.insert(key.clone(), value.clone());
        }
        if let Some(old) = at.insert(key.clone(), out.len()) {
            out[old] = None;
        }
        out.push(Some((key, value)));
    }
    Ok(out.into_iter().flatten().collect())
}

/// A service's `env_file:` read now (relative to the file's folder): the variables,
/// later files winning; a missing required file is an error.
pub(super) fn service_env_files(
    name: &str,
    v: &Node,
    base: &Path,
    env: &HashMap<String, String>,
    files: &Files,
) -> Result<Map<String, Value>, LoadError> {
    // (path, required, raw format)
    let entries: Vec<(String, bool, bool)> = match &v.value {
        Y::Str(s) => vec![(s.clone(), true, false)],
        Y::Seq(items) => items
            .iter()
            .map(|i| match &i.value {
                Y::Map(_) => (
                    i.get("path").and_then(Node::scalar_text).unwrap_or_default(),
                    !matches!(i.get("required").map(|r| &r.value), Some(Y::Bool(false))),
                    i.get("format").and_then(Node::scalar_text).as_deref() == Some("raw"),
                ),
                _ => (i.scalar_text().unwrap_or_default(), true, false),
            })
            .collect(),
        _ => return Err(files.error_at(v, format!("services.{name}.env_file must be a string or a list"))),
    };
    let mut vals = Map::new();
    for (p, required, raw) in entries {
        let path = PathBuf::from(canon::abs_path(base, &p));
        if !path.exists() {
            if required {
                return Err(files.error_at(
                    v,
                    format!(
                        "service {}: env file {} not found: stat {}: no such file or directory",
                        name,
                        path.display(),
                        path.display()
                    ),
                ));
            }
            continue;
        }
        let pairs = if raw {
            read_raw_env(&path).map_err(|e| files.error_at(v, e))?
        } else {
            read_dotenv(&path, env).map_err(|e| files.error_at(v, e))?
        };
        for (k, val) in pairs {
            vals.insert(k, json!(val));
        }
    }
    Ok(vals)
}

/// A service's `label_file:` (string or list, relative to the file's
/// folder) read now: the labels, later files winning. As compose-go's
/// `loadLabelFile`, a missing file is an error and a file's `${VAR}`
/// resolves only against the labels read before it, never the
/// environment.
pub(super) fn service_label_files(
    name: &str,
    v: &Node,
    base: &Path,
    files: &Files,
) -> Result<Map<String, Value>, LoadError> {
    let paths: Vec<String> = match &v.value {
        Y::Str(s) => vec![s.clone()],
        Y::Seq(items) => items.iter().map(|i| i.scalar_text().unwrap_or_default()).collect(),
        _ => return Err(files.error_at(v, format!("services.{name}.label_file must be a string or a list"))),
    };
    let mut vals = Map::new();
    let mut seen: HashMap<String, String> = HashMap::new();
    for p in paths {
        let path = PathBuf::from(canon::abs_path(base, &p));
        if !path.exists() {
            return Err(files.error_at(
                v,
                format!(
                    "label file {} not found: stat {}: no such file or directory",
                    path.display(),
                    path.display()
                ),
            ));
        }
        for (k, val) in read_dotenv(&path, &seen).map_err(|e| files.error_at(v, e))? {
            seen.insert(k.clone(), val.clone());
            vals.insert(k, json!(val));
        }
    }
    Ok(vals)
}
