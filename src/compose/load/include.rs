//! `include:`: other compose projects imported into a file (compose-go's
//! `include.go`).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::env::read_dotenv;
use super::merge::{load_files, Acc, Cx};
use crate::compose::canon::{self, to_json};
use crate::compose::error::LoadError;
use crate::compose::yaml::{Node, Value as Y};

/// `include:`: each entry is loaded as a project of its own (its own
/// project directory, `.env` and interpolation), and its services,
/// networks, volumes, secrets and configs are imported into the including
/// file. A resource both define differently is an error, as in compose.
pub(super) fn apply_include(
    cx: &mut Cx,
    inc: &Node,
    own: &mut Acc,
    dir: &Path,
    env: &HashMap<String, String>,
    chain: &[PathBuf],
) -> Result<(), LoadError> {
    let entries = match &inc.value {
        Y::Seq(items) => items.clone(),
        Y::Null => return Ok(()),
        _ => {
            return Err(cx
                .files
                .error_at(inc, format!("`include` must be a list, got {}", scalar_or_kind(inc))))
        }
    };
    for entry in &entries {
        let (paths, project_directory, env_files) = include_entry(cx, entry)?;
        if paths.is_empty() {
            return Err(cx.files.error_at(entry, "include: `path` is required"));
        }
        let paths: Vec<PathBuf> = paths.iter().map(|p| PathBuf::from(canon::abs_path(dir, p))).collect();
        let sub_dir = match project_directory {
            None => paths[0].parent().map(Path::to_path_buf).unwrap_or_default(),
            Some(d) => PathBuf::from(canon::abs_path(dir, &d)),
        };
        if chain.contains(&paths[0]) {
            return Err(cx.files.error_at(entry, cycle_message(chain, &paths[0])));
        }
        for p in &paths {
            if !p.is_file() {
                return Err(cx
                    .files
                    .error_at(entry, format!("open {}: no such file or directory", p.display())));
            }
        }
        let env_files: Vec<PathBuf> = env_files
            .iter()
            .map(|f| PathBuf::from(canon::abs_path(dir, f)))
            .collect();
        let sub_env = include_env(&env_files, &sub_dir, env).map_err(|e| match e {
            IncludeEnvError::File(m) => cx.files.error_at(entry, m),
            IncludeEnvError::Read(m) => LoadError::plain(m),
        })?;
        let imported = load_files(cx, &paths, &sub_dir, &sub_env, chain)?;
        import(cx, own, imported, entry)?;
    }
    Ok(())
}

/// compose-go's message for an include that includes itself again.
pub(super) fn cycle_message(chain: &[PathBuf], next: &Path) -> String {
    let mut seen: Vec<String> = chain.iter().map(|p| p.display().to_string()).collect();
    seen.push(next.display().to_string());
    format!(
        "include cycle detected:\n{}\n include {}",
        seen[0],
        seen[1..].join("\n include ")
    )
}

/// Why an include entry's variables could not be read: a named env file
/// that is missing or a folder, or an env file that does not parse.
pub(super) enum IncludeEnvError {
    File(String),
    Read(String),
}

/// An included project's variables: the including project's win over its
/// env files (`env_files`, absolute; `.env` in `project_dir` when none are
/// given), as compose-go's include does.
pub(super) fn include_env(
    env_files: &[PathBuf],
    project_dir: &Path,
    env: &HashMap<String, String>,
) -> Result<HashMap<String, String>, IncludeEnvError> {
    let files: Vec<PathBuf> = if env_files.is_empty() {
        Some(project_dir.join(".env"))
            .filter(|f| f.is_file())
            .into_iter()
            .collect()
    } else {
        for f in env_files {
            if !f.exists() {
                return Err(IncludeEnvError::File(format!(
                    "stat {}: no such file or directory",
                    f.display()
                )));
            }
            if f.is_dir() {
                return Err(IncludeEnvError::File(format!("{} is not a file", f.display())));
            }
        }
        env_files.to_vec()
    };
    let mut sub_env = env.clone();
    for f in &files {
        for (k, v) in read_dotenv(f, &sub_env).map_err(IncludeEnvError::Read)? {
            sub_env.entry(k).or_insert(v);
        }
    }
    Ok(sub_env)
}

/// One `include:` entry: a path string, or `path` (string or list),
/// `project_directory` and `env_file` (string or list).
#[allow(clippy::type_complexity)]
fn include_entry(cx: &Cx, entry: &Node) -> Result<(Vec<String>, Option<String>, Vec<String>), LoadError> {
    let list = |n: &Node| -> Result<Vec<String>, LoadError> {
        match &n.value {
            Y::Seq(items) => items
                .iter()
                .map(|i| {
                    i.scalar_text()
                        .ok_or_else(|| cx.files.error_at(i, "include: expected a string"))
                })
                .collect(),
            _ => n
                .scalar_text()
                .map(|s| vec![s])
                .ok_or_else(|| cx.files.error_at(n, "include: expected a string or a list of strings")),
        }
    };
    match &entry.value {
        Y::Map(items) => {
            let (mut paths, mut pd, mut envs) = (Vec::new(), None, Vec::new());
            for (k, v) in items {
                match k.scalar_text().unwrap_or_default().as_str() {
                    "path" => paths = list(v)?,
                    "project_directory" => pd = v.scalar_text(),
                    "env_file" => envs = list(v)?,
                    other => {
                        return Err(cx
                            .files
                            .error_at(k, format!("include: additional properties '{other}' not allowed")))
                    }
                }
            }
            Ok((paths, pd, envs))
        }
        _ => Ok((list(entry)?, None, Vec::new())),
    }
}

/// Adds what an include loaded to the including file's resources.
fn import(cx: &mut Cx, own: &mut Acc, imported: Acc, entry: &Node) -> Result<(), LoadError> {
    for (name, m) in imported.merged {
        match own.merged.iter().find(|(n, _)| n == &name) {
            Some((_, existing)) if existing == &m => {}
            Some(_) => {
                return Err(cx
                    .files
                    .error_at(entry, format!("services.{name} conflicts with imported resource")))
            }
            None => {
                if let Some(node) = imported.service_nodes.get(&name) {
                    own.service_nodes.insert(name.clone(), node.clone());
                }
                own.merged.push((name, m));
            }
        }
    }
    for (section, store, items) in [
        ("networks", &mut own.networks, imported.networks),
        ("volumes", &mut own.volumes, imported.volumes),
        ("secrets", &mut own.secrets, imported.secrets),
        ("configs", &mut own.configs, imported.configs),
    ] {
        for (k, v, d) in items {
            match store.iter().find(|(x, _, _)| x == &k) {
                Some((_, existing, _)) if to_json(existing) == to_json(&v) => {}
                Some(_) => {
                    return Err(cx
                        .files
                        .error_at(entry, format!("{section}.{k} conflicts with imported resource")))
                }
                None => store.push((k, v, d)),
            }
        }
    }
    Ok(())
}

fn scalar_or_kind(n: &Node) -> String {
    n.scalar_text().unwrap_or_else(|| "a mapping".into())
}
