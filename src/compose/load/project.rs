//! What the project is before any file is read: its compose files (`-f`,
//! `COMPOSE_FILE`, or the defaults searched upwards), its working
//! directory, its name and its active profiles.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use super::Options;
use crate::compose::canon;
use crate::compose::error::LoadError;

pub const DEFAULT_FILES: &[&str] = &[
    "compose.yaml",
    "compose.yml",
    "docker-compose.yaml",
    "docker-compose.yml",
];
const OVERRIDE_FILES: &[&str] = &[
    "compose.override.yaml",
    "compose.override.yml",
    "docker-compose.override.yaml",
    "docker-compose.override.yml",
];

/// The directory relative `-f` paths are taken from.
pub(super) fn cwd(opts: &Options) -> PathBuf {
    if opts.cwd.as_os_str().is_empty() {
        std::env::current_dir().unwrap_or_default()
    } else {
        opts.cwd.clone()
    }
}

/// The compose files: `-f`, else `COMPOSE_FILE`, else the default names
/// in the project directory or the nearest folder above it.
pub(super) fn compose_files(
    opts: &Options,
    cwd: &Path,
    env: &HashMap<String, String>,
) -> Result<Vec<PathBuf>, LoadError> {
    let search_dir = opts
        .project_directory
        .as_ref()
        .map(|d| cwd.join(d))
        .unwrap_or_else(|| cwd.to_path_buf());
    // `-f -`: the compose file is read from stdin (compose-go keeps "-").
    let mut paths: Vec<PathBuf> = opts
        .files
        .iter()
        .map(|f| if is_stdin(f) { f.clone() } else { cwd.join(f) })
        .collect();
    if paths.is_empty() {
        if let Some(cf) = env.get("COMPOSE_FILE").filter(|s| !s.is_empty()) {
            let sep = env.get("COMPOSE_PATH_SEPARATOR").cloned().unwrap_or_else(|| ":".into());
            paths = cf.split(sep.as_str()).map(|f| search_dir.join(f)).collect();
        }
    }
    if paths.is_empty() {
        paths = find_default_files(&search_dir)
            .ok_or_else(|| LoadError::plain("no configuration file provided: not found"))?;
    }
    for p in &paths {
        // compose reads the path: a folder is "is a directory".
        if !is_stdin(p) && p.is_dir() {
            return Err(LoadError::plain(format!("read {}: is a directory", p.display())));
        }
        if !is_stdin(p) && !p.is_file() {
            return Err(LoadError::plain(format!(
                "open {}: no such file or directory",
                p.display()
            )));
        }
    }
    Ok(paths)
}

/// `--project-directory`, else the first compose file's folder.
pub(super) fn working_dir(opts: &Options, cwd: &Path, paths: &[PathBuf]) -> PathBuf {
    match &opts.project_directory {
        Some(d) => PathBuf::from(canon::clean(&cwd.join(d))),
        // A file from stdin has no folder: compose-go takes the current one.
        None if is_stdin(&paths[0]) => cwd.to_path_buf(),
        None => paths[0].parent().map(Path::to_path_buf).unwrap_or(cwd.to_path_buf()),
    }
}

/// Whether a compose file path means stdin (`-f -`).
pub(super) fn is_stdin(p: &Path) -> bool {
    p.as_os_str() == "-"
}

/// Stdin's text, read once per process (a script may load the project
/// more than once; stdin can be read only once).
pub fn stdin_text() -> Result<String, String> {
    static TEXT: std::sync::OnceLock<Result<String, String>> = std::sync::OnceLock::new();
    TEXT.get_or_init(|| {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut s)
            .map(|_| s)
            .map_err(|e| format!("reading the compose file from stdin: {e}"))
    })
    .clone()
}

/// The project name: `-p` (checked, not changed), `COMPOSE_PROJECT_NAME`,
/// the files' `name:`, the working directory's name (those normalised).
pub(super) fn name(
    opts: &Options,
    env: &HashMap<String, String>,
    file_name: Option<String>,
    working_dir: &Path,
) -> Result<String, LoadError> {
    // `-p ""` means unset, as in compose (the folder name then).
    let name = if let Some(p) = opts.project_name.as_ref().filter(|p| !p.is_empty()) {
        let valid = p
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
            && p.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-');
        if !valid {
            return Err(LoadError::plain(format!("invalid project name {p:?}: must consist only of lowercase alphanumeric characters, hyphens, and underscores as well as start with a letter or number")));
        }
        p.clone()
    } else if let Some(n) = env.get("COMPOSE_PROJECT_NAME").filter(|s| !s.is_empty()) {
        normalize_name(n)
    } else if let Some(n) = file_name {
        normalize_name(&n)
    } else {
        normalize_name(
            &working_dir
                .file_name()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default(),
        )
    };
    if name.is_empty() {
        return Err(LoadError::plain("project name must not be empty"));
    }
    Ok(name)
}

/// Active profiles: `--profile`, else `COMPOSE_PROFILES`.
pub(super) fn active_profiles(opts: &Options, env: &HashMap<String, String>) -> BTreeSet<String> {
    let mut active: BTreeSet<String> = opts.profiles.iter().cloned().collect();
    if active.is_empty() {
        if let Some(p) = env.get("COMPOSE_PROFILES") {
            active = p
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect();
        }
    }
    active
}

/// Services by name.
pub(super) type Services = BTreeMap<String, Map<String, Value>>;

/// The services the active profiles enable (by name), every profile any
/// service declares, and the services the profiles leave out.
pub(super) fn by_profiles(
    merged: Vec<(String, Map<String, Value>)>,
    active: &BTreeSet<String>,
) -> (Services, Vec<String>, Vec<String>) {
    let mut all_profiles: BTreeSet<String> = BTreeSet::new();
    let mut services: BTreeMap<String, Map<String, Value>> = BTreeMap::new();
    let mut disabled = Vec::new();
    for (n, m) in merged {
        let profiles: Vec<String> = m
            .get("profiles")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(|x| x.as_str().map(str::to_string)).collect())
            .unwrap_or_default();
        all_profiles.extend(profiles.iter().cloned());
        if profiles.is_empty() || active.contains("*") || profiles.iter().any(|p| active.contains(p)) {
            services.insert(n, m);
        } else {
            disabled.push(n);
        }
    }
    (services, all_profiles.into_iter().collect(), disabled)
}

/// Every file the project was read from, and the env files it reads (the
/// `.env` it would read, even if missing): what `orch watch` watches.
pub(super) fn source_files(opts: &Options, cwd: &Path, working_dir: &Path, read: &[(String, String)]) -> Vec<String> {
    let mut source_files: Vec<String> = read.iter().map(|(n, _)| n.clone()).collect();
    if opts.env_files.is_empty() {
        source_files.push(working_dir.join(".env").display().to_string());
    } else {
        source_files.extend(opts.env_files.iter().map(|f| cwd.join(f).display().to_string()));
    }
    source_files.sort();
    source_files.dedup();
    source_files
}

/// Lowercase and strip what a project name may not contain, as compose.
pub fn normalize_name(s: &str) -> String {
    let lowered: String = s
        .to_lowercase()
        .chars()
        .filter(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_' || *c == '-')
        .collect();
    lowered.trim_start_matches(['_', '-']).to_string()
}

fn find_default_files(dir: &Path) -> Option<Vec<PathBuf>> {
    let mut d = Some(dir.to_path_buf());
    while let Some(cur) = d {
        if let Some(f) = DEFAULT_FILES.iter().map(|f| cur.join(f)).find(|p| p.is_file()) {
            let mut files = vec![f];
            if let Some(o) = OVERRIDE_FILES.iter().map(|f| cur.join(f)).find(|p| p.is_file()) {
                files.push(o);
            }
            return Some(files);
        }
        d = cur.parent().map(Path::to_path_buf);
    }
    None
}
