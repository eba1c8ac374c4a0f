//! A container's filesystem as an image (`commit`) or as a tar
//! (`export`), as `docker commit` / `docker export` make them. Merged into
//! the `container` namespace; methods on `Container`.

use std::io::Write;

use bollard::query_parameters as qp;
use futures_util::StreamExt;
use rhai::plugin::*;
use rhai::Map;

use super::container::Container;
use super::options::CommitOpts;
use super::{client, engine_err, RhaiResult};
use crate::bridge;

/// `REPOSITORY[:TAG]` as the engine's commit takes it: the tag after the
/// last `:` that follows the last `/`, else `latest` (the Docker client's
/// `TagNameOnly`).
fn split_reference(r: &str) -> (String, String) {
    let slash = r.rfind('/').map_or(0, |i| i + 1);
    match r[slash..].rfind(':') {
        Some(i) => (r[..slash + i].to_string(), r[slash + i + 1..].to_string()),
        None => (r.to_string(), "latest".into()),
    }
}

async fn commit(c: &Container, o: CommitOpts) -> RhaiResult<String> {
    let what = c.what("commit");
    let d = client(&c.ep).await?;
    let (repo, tag) = match o.reference.as_deref() {
        Some(r) if !r.is_empty() => {
            let (repo, tag) = split_reference(r);
            if repo.chars().any(|ch| ch.is_ascii_uppercase()) {
                let full = if repo.contains('/') {
                    repo
                } else {
                    format!("library/{repo}")
                };
                return Err(format!("invalid reference format: repository name ({full}) must be lowercase").into());
            }
            (Some(repo), Some(tag))
        }
        _ => (None, None),
    };
    let changes = o.changes.unwrap_or_default();
    let opts = qp::CommitContainerOptions {
        container: Some(c.id.clone()),
        repo,
        tag,
        comment: o.comment,
        author: o.author,
        pause: o.pause.unwrap_or(true),
        // The engine parses the changes as Dockerfile lines, one a line.
        changes: (!changes.is_empty()).then(|| changes.join("\n")),
    };
    let r = d
        .commit_container(opts, bollard::models::ContainerConfig::default())
        .await;
    r.map(|id| id.id).map_err(|e| engine_err(&what, &e))
}

async fn export(c: &Container, output: &str) -> RhaiResult<()> {
    let what = c.what("export");
    let d = client(&c.ep).await?;
    let mut out: Box<dyn Write> = if output.is_empty() || output == "-" {
        Box::new(std::io::stdout().lock())
    } else {
        let path = crate::api::resolve_path(output);
        // (docker's ValidateOutputPath, with its messages.)
        if path.is_dir() {
            return Err("cannot write to a directory".into());
        }
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty() && !d.is_dir()) {
            let msg = format!("directory {:?} does not exist", dir.display().to_string());
            return Err(format!("failed to export container: invalid output path: {msg}").into());
        }
        // Written beside the target and renamed in: no half-written file
        // under the name (as docker's atomic writer).
        let tmp = path.with_extension("orch-export.tmp");
        let f = std::fs::File::create(&tmp).map_err(|e| format!("failed to export container: {output}: {e}"))?;
        let mut stream = d.export_container(&c.id);
        let mut w = std::io::BufWriter::new(f);
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| {
                let _ = std::fs::remove_file(&tmp);
                engine_err(&what, &e)
            })?;
            w.write_all(&chunk).map_err(|e| format!("{what}: {output}: {e}"))?;
        }
        w.flush().map_err(|e| format!("{what}: {output}: {e}"))?;
        return std::fs::rename(&tmp, &path).map_err(|e| format!("{what}: {output}: {e}").into());
    };
    let mut stream = d.export_container(&c.id);
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| engine_err(&what, &e))?;
        out.write_all(&chunk).map_err(|e| format!("{what}: {e}"))?;
    }
    out.flush().map_err(|e| format!("{what}: {e}").into())
}

#[export_module]
pub mod api {
    use super::*;

    /// Makes an image of the container's changes, as `docker commit`;
    /// returns its ID. Options: `reference` (`repo[:tag]`), `comment`,
    /// `author`, `changes` (Dockerfile lines, e.g. `"ENV A=1"`), `pause`
    /// (default true).
    ///
    /// ```rhai
    /// let id = container::get("demo-web-1").commit(#{ reference: "demo-web:snap", changes: ["ENV SNAP=1"] });
    /// ```
    #[rhai_fn(global, return_raw)]
    pub fn commit(c: &mut Container, opts: Map) -> RhaiResult<String> {
        let o: CommitOpts = crate::api::opts::read("commit", opts)?;
        bridge::block_on(super::commit(c, o))
    }

    /// Writes the container's filesystem as a tar to `output` (a file,
    /// or `""` / `"-"` for stdout), as `docker export`. (`export` is a
    /// Rhai keyword.)
    ///
    /// ```rhai
    /// container::get("demo-web-1").export_tar("web.tar");
    /// ```
    #[rhai_fn(global, return_raw)]
    pub fn export_tar(c: &mut Container, output: &str) -> RhaiResult<()> {
        bridge::block_on(super::export(c, output))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn references_split_into_repository_and_tag() {
        let s = |r: &str| super::split_reference(r);
        assert_eq!(s("demo"), ("demo".into(), "latest".into()));
        assert_eq!(s("demo:v1"), ("demo".into(), "v1".into()));
        assert_eq!(
            s("localhost:5000/demo"),
            ("localhost:5000/demo".into(), "latest".into())
        );
        assert_eq!(s("localhost:5000/demo:v2"), ("localhost:5000/demo".into(), "v2".into()));
    }
}
