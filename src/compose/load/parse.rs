//! Parsing one compose file: YAML with positions, interpolation, the
//! top-level keys, and each service normalised on its own.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use super::interpolate::interpolate_tree;
use super::schema::TOP_KEYS;
use super::service::{service, Tags};
use super::Files;
use crate::compose::error::LoadError;
use crate::compose::yaml::{self, Node, Value as Y};

/// One parsed file: its services (normalised) and top-level sections.
pub(super) struct Parsed {
    /// The file, as read.
    pub(super) file: PathBuf,
    pub(super) root: Node,
    pub(super) services: Vec<(String, Map<String, Value>, Tags, Node)>,
    pub(super) dir: PathBuf,
}

pub(super) fn parse_file(
    path: &Path,
    files: &mut Files,
    env: &HashMap<String, String>,
    no_interpolate: bool,
    unset: &mut Vec<String>,
    base: Option<&Path>,
) -> Result<Parsed, LoadError> {
    let mut root = read_file(path, files)?;
    if !no_interpolate {
        interpolate_tree(&mut root, "", env, files, unset)?;
    }
    for (k, _) in root.as_map().into_iter().flatten() {
        let key = k.scalar_text().unwrap_or_default();
        if !key.starts_with("x-") && !TOP_KEYS.contains(&key.as_str()) {
            return Err(files.error_at(
                k,
                format!(
                    "validating {}:  additional properties '{key}' not allowed",
                    path.display()
                ),
            ));
        }
    }
    let dir = base
        .map(Path::to_path_buf)
        .unwrap_or_else(|| path.parent().map(Path::to_path_buf).unwrap_or_default());
    // An `extends` file's services (no `base`) show their paths from its
    // folder, which `--no-path-resolution` leaves relative.
    let service_base = match base {
        Some(_) => dir.clone(),
        None => crate::compose::mode::extends_base(&dir),
    };
    let mut services = Vec::new();
    if let Some(svcs) = root.get("services") {
        match &svcs.value {
            Y::Map(entries) => {
                for (k, v) in entries {
                    let name = k.scalar_text().unwrap_or_default();
                    let (m, tags) = service(&name, v, &service_base, env, files).map_err(|mut e| {
                        // Schema errors carry the file, as compose words them.
                        let schema = ["additional properties", " must be ", " missing property "]
                            .iter()
                            .any(|x| e.message.contains(x));
                        if e.message.starts_with("services.") && schema {
                            e.message = format!("validating {}: {}", path.display(), e.message);
                        }
                        e
                    })?;
                    services.push((name, m, tags, v.clone()));
                }
            }
            Y::Null => {}
            _ => {
                return Err(files.error_at(
                    svcs,
                    format!("validating {}: services must be a mapping", path.display()),
                ))
            }
        }
    }
    Ok(Parsed {
        file: path.to_path_buf(),
        root,
        services,
        dir,
    })
}

/// One file's YAML (positions kept, registered in `files` for
/// diagnostics); its top level must be a mapping.
pub(super) fn read_file(path: &Path, files: &mut Files) -> Result<Node, LoadError> {
    let text = if super::project::is_stdin(path) {
        super::project::stdin_text().map_err(LoadError::plain)?
    } else {
        std::fs::read_to_string(path).map_err(|e| LoadError::plain(format!("{}: {e}", path.display())))?
    };
    let id = files.list.len();
    files.list.push((path.display().to_string(), text.clone()));
    let root = yaml::parse(&text, id).map_err(|e| LoadError {
        message: format!("yaml: {}", e.message),
        at: Some(Box::new((path.display().to_string(), text.clone(), e.span))),
        help: None,
    })?;
    if matches!(root.value, Y::Null) {
        return Err(LoadError::plain("empty compose file"));
    }
    if !matches!(root.value, Y::Map(_)) {
        return Err(files.error_at(&root, "Top-level object must be a mapping"));
    }
    Ok(root)
}
