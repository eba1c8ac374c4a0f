//! A build context as the engine receives it: the context folder packed
//! into a tar, `.dockerignore` honoured, the Dockerfile always included
//! (under a generated name when it lives outside the context), as the
//! Docker CLI packs it.

use std::path::{Path, PathBuf};

use super::dockerignore::DockerIgnore;

/// Where the Dockerfile goes in the build tar when it lives outside the
/// context (the Docker CLI does the same with a generated name).
const OUTSIDE_DOCKERFILE: &str = ".dockerfile.orch";

/// Packs a build context into a tar: `.dockerignore` honoured, but the
/// Dockerfile and `.dockerignore` always sent, as the Docker CLI does.
/// `extra` adds host files at given paths inside the context.
pub fn context_tar(
    context: &Path,
    dockerfile: &Path,
    extra: &[(String, PathBuf)],
) -> crate::error::Result<(Vec<u8>, String)> {
    let ignore =
        DockerIgnore::load(context).map_err(|e| format!("{}: {e}", context.join(".dockerignore").display()))?;
    let mut files = Vec::new();
    walk(context, context, &ignore, &mut files)
        .map_err(|e| format!("reading build context {}: {e}", context.display()))?;
    let df_in_context = dockerfile
        .strip_prefix(context)
        .ok()
        .map(|p| p.to_string_lossy().replace('\\', "/"));
    let mut tar = tar::Builder::new(Vec::new());
    tar.follow_symlinks(false);
    for rel in &files {
        tar.append_path_with_name(context.join(rel), rel)
            .map_err(|e| format!("adding {rel} to the build context: {e}"))?;
    }
    let df_name = match &df_in_context {
        Some(rel) => {
            if !files.contains(rel) {
                tar.append_path_with_name(dockerfile, rel)
                    .map_err(|e| format!("{}: {e}", dockerfile.display()))?;
            }
            rel.clone()
        }
        None => {
            tar.append_path_with_name(dockerfile, OUTSIDE_DOCKERFILE)
                .map_err(|e| format!("{}: {e}", dockerfile.display()))?;
            OUTSIDE_DOCKERFILE.to_string()
        }
    };
    let di = context.join(".dockerignore");
    if di.exists() && !files.iter().any(|f| f == ".dockerignore") {
        tar.append_path_with_name(&di, ".dockerignore")
            .map_err(|e| e.to_string())?;
    }
    for (inside, host) in extra {
        if !host.exists() {
            return Err(format!("file {} to add to the build context does not exist", host.display()).into());
        }
        let mut f = std::fs::File::open(host).map_err(|e| format!("{}: {e}", host.display()))?;
        tar.append_file(inside, &mut f)
            .map_err(|e| format!("{}: {e}", host.display()))?;
    }
    let bytes = tar.into_inner().map_err(|e| e.to_string())?;
    Ok((bytes, df_name))
}

fn walk(root: &Path, dir: &Path, ignore: &DockerIgnore, out: &mut Vec<String>) -> std::io::Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let path = entry.path();
        let rel = path.strip_prefix(root).unwrap().to_string_lossy().replace('\\', "/");
        let ft = entry.file_type()?;
        let ignored = ignore.is_ignored(&rel);
        if ft.is_dir() {
            if ignored && !ignore.has_exceptions() {
                continue;
            }
            if !ignored {
                out.push(rel.clone());
            }
            walk(root, &path, ignore, out)?;
        } else if !ignored {
            out.push(rel);
        }
    }
    Ok(())
}
