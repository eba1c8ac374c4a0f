//! `docker cp` between a container and the local filesystem, as the Docker
//! CLI does it (and compose's `cp`, a port of it): tars through the
//! engine's archive API, with moby's copy rules (`pkg/archive/copy.go`)
//! deciding where a tar is extracted and how its entries are renamed:
//! `dir` into an existing folder lands as `folder/dir`, onto a missing
//! path as that path; `dir/.` copies the contents; a file onto a file
//! replaces it; `-` is a tar on stdin or stdout.

use std::io::{Read, Write};

use bollard::query_parameters as qp;
use futures_util::StreamExt;
use rhai::plugin::*;
use rhai::Map;

use super::container::Container;
use super::options::CpOpts;
use super::{client, engine_err, fail, RhaiResult};
use crate::bridge;

/// Go's `os.ModeDir` and `os.ModeSymlink` in the engine's path stat.
const MODE_DIR: u32 = 1 << 31;
const MODE_SYMLINK: u32 = 1 << 27;

/// moby's `CopyInfo`: a path, whether it exists and is a folder, and the
/// name its tar entries must take (a followed link keeps the link's name).
#[derive(Debug, Default)]
struct CopyInfo {
    path: String,
    exists: bool,
    is_dir: bool,
    rebase: Option<String>,
}

/// Go's `filepath.Clean`.
fn clean(p: &str) -> String {
    let rooted = p.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in p.split('/') {
        match part {
            "" | "." => {}
            ".." if parts.last().is_some_and(|l| *l != "..") => {
                parts.pop();
            }
            ".." if rooted => {}
            _ => parts.push(part),
        }
    }
    match (rooted, parts.is_empty()) {
        (true, _) => format!("/{}", parts.join("/")),
        (false, true) => ".".into(),
        (false, false) => parts.join("/"),
    }
}

fn specifies_current_dir(p: &str) -> bool {
    p == "." || p.ends_with("/.")
}

fn asserts_directory(p: &str) -> bool {
    p.ends_with('/') || specifies_current_dir(p)
}

/// moby's `SplitPathDirEntry`: the folder and the entry in it (`.` for
/// `dir/.`, so that the contents are meant).
fn split(p: &str) -> (String, String) {
    let mut c = clean(p);
    if specifies_current_dir(p) {
        c = if c == "/" { "/.".into() } else { format!("{c}/.") };
    }
    match c.rfind('/') {
        Some(0) => ("/".into(), c[1..].to_string()),
        Some(i) => (clean(&c[..i]), c[i + 1..].to_string()),
        None => (".".into(), c),
    }
}

/// moby's `GetRebaseName`: a resolved link keeps the requested name.
fn rebase_name(path: &str, resolved: &str) -> (String, Option<String>) {
    let mut resolved = resolved.to_string();
    if specifies_current_dir(path) && !specifies_current_dir(&resolved) {
        resolved.push_str("/.");
    }
    if path.ends_with('/') && !resolved.ends_with('/') {
        resolved.push('/');
    }
    let (base, rbase) = (split(path).1, split(&resolved).1);
    let rebase = (base != rbase).then_some(base);
    (resolved, rebase)
}

/// moby's `PrepareArchiveCopy`: the folder to extract in, and the entry
/// rename (old base, new base) the tar needs.
type Prepared = (String, Option<(String, String)>);
fn prepare(src: &CopyInfo, dst: &CopyInfo) -> crate::error::Result<Prepared> {
    let (dst_dir, dst_base) = split(&dst.path);
    let src_base = src.rebase.clone().unwrap_or_else(|| split(&src.path).1);
    match () {
        _ if dst.exists && dst.is_dir => Ok((dst.path.clone(), None)),
        _ if dst.exists && src.is_dir => Err("cannot copy directory".into()),
        _ if !dst.exists && !src.is_dir && asserts_directory(&dst.path) => Err("no such directory".into()),
        _ => Ok((dst_dir, Some((src_base, dst_base)))),
    }
}

/// The tar with entries under `old` renamed under `new` (moby's
/// `RebaseArchiveEntries`; hard link targets too).
fn rebase_tar(tar: &[u8], old: &str, new: &str) -> std::io::Result<Vec<u8>> {
    if old == new {
        return Ok(tar.to_vec());
    }
    let rename = |name: &str| -> String {
        match name.strip_prefix(old) {
            Some(rest) if rest.is_empty() || rest.starts_with('/') => format!("{new}{rest}"),
            _ => name.to_string(),
        }
    };
    let mut out = tar::Builder::new(Vec::new());
    let mut archive = tar::Archive::new(tar);
    for entry in archive.entries()? {
        let mut entry = entry?;
        let mut header = entry.header().clone();
        let path = rename(&entry.path()?.to_string_lossy());
        let link = entry.link_name()?.map(|l| l.to_string_lossy().into_owned());
        match (header.entry_type(), link) {
            (tar::EntryType::Link, Some(l)) => out.append_link(&mut header, &path, rename(&l))?,
            (tar::EntryType::Symlink, Some(l)) => out.append_link(&mut header, &path, l)?,
            _ => out.append_data(&mut header, &path, &mut entry)?,
        }
    }
    out.into_inner()
}

/// moby's `CopyInfoSourcePath` for a local source (`-L`: links followed).
fn local_source(path: &str, follow: bool) -> std::io::Result<CopyInfo> {
    let (resolved, rebase) = if follow {
        let real = std::fs::canonicalize(path)?.to_string_lossy().into_owned();
        rebase_name(path, &real)
    } else {
        // Links in the parent folders are resolved, the entry itself not.
        let (dir, base) = path.rsplit_once('/').unwrap_or((".", path));
        let dir = if dir.is_empty() { "/" } else { dir };
        let real = std::fs::canonicalize(dir)?.to_string_lossy().into_owned();
        let resolved = format!("{}/{base}", real.trim_end_matches('/'));
        let rebase = (path.ends_with('/') && split(path).1 != split(&resolved).1).then(|| split(path).1);
        (resolved, rebase)
    };
    let meta = std::fs::symlink_metadata(&resolved)?;
    Ok(CopyInfo {
        path: resolved,
        exists: true,
        is_dir: meta.is_dir(),
        rebase,
    })
}

/// moby's `CopyInfoDestinationPath` for a local destination: links
/// followed; a missing path needs an existing parent folder.
fn local_destination(path: &str) -> crate::error::Result<CopyInfo> {
    match std::fs::metadata(path) {
        Ok(m) => Ok(CopyInfo {
            path: path.into(),
            exists: true,
            is_dir: m.is_dir(),
            rebase: None,
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let parent = split(path).0;
            match std::fs::metadata(&parent) {
                Ok(m) if m.is_dir() => Ok(CopyInfo {
                    path: path.into(),
                    ..Default::default()
                }),
                Ok(_) => Err("not a directory".into()),
                Err(e) => Err(format!("stat {parent}: {e}").into()),
            }
        }
        Err(e) => Err(format!("stat {path}: {e}").into()),
    }
}

/// The tar of a local source, its entry named `name` (moby's
/// `TarResourceRebase`); owners kept, for `-a`.
fn tar_resource(src: &CopyInfo, name: &str) -> std::io::Result<Vec<u8>> {
    let mut b = tar::Builder::new(Vec::new());
    b.follow_symlinks(false);
    if src.is_dir {
        b.append_dir_all(name, &src.path)?;
    } else {
        b.append_path_with_name(&src.path, name)?;
    }
    b.into_inner()
}

/// Go's `filepath.Join(dir, rel)` for a link target relative to `path`.
fn link_target(path: &str, target: &str) -> String {
    if target.starts_with('/') {
        target.to_string()
    } else {
        clean(&format!("{}/{target}", split(path).0))
    }
}

/// The engine's stat of a path in the container.
async fn stat(
    d: &bollard::Docker,
    id: &str,
    path: &str,
) -> Result<bollard::container::PathStatResponse, bollard::errors::Error> {
    let opts = qp::ContainerArchiveInfoOptions { path: path.into() };
    d.get_container_archive_info(id, Some(opts)).await
}

/// The tar on stdin, read once: copied into every replica alike.
fn stdin_tar() -> std::io::Result<Vec<u8>> {
    static TAR: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    if let Some(t) = TAR.get() {
        return Ok(t.clone());
    }
    let mut tar = Vec::new();
    std::io::stdin().read_to_end(&mut tar)?;
    Ok(TAR.get_or_init(|| tar).clone())
}

/// `docker cp SRC CONTAINER:DEST`.
async fn copy_to(c: &Container, src: &str, dst: &str, o: &CpOpts) -> RhaiResult<()> {
    let what = c.what("cp");
    let d = client(&c.ep).await?;
    let mut dst_info = CopyInfo {
        path: dst.into(),
        ..Default::default()
    };
    let mut st = stat(d, &c.id, dst).await;
    if let Ok(s) = &st {
        if s.file_mode & MODE_SYMLINK != 0 {
            dst_info.path = link_target(dst, &s.link_target);
            st = stat(d, &c.id, &dst_info.path).await;
        }
    }
    if let Ok(s) = &st {
        (dst_info.exists, dst_info.is_dir) = (true, s.file_mode & MODE_DIR != 0);
    }
    let (dir, tar) = if src == "-" {
        if !dst_info.is_dir {
            return fail(format!("destination \"{}:{dst}\" must be a directory", c.name));
        }
        (
            dst_info.path.clone(),
            stdin_tar().map_err(|e| format!("{what}: reading stdin: {e}"))?,
        )
    } else {
        let local = crate::api::resolve_path(src).to_string_lossy().into_owned();
        let local = if src.ends_with('/') && !local.ends_with('/') {
            format!("{local}/")
        } else {
            local
        };
        let src_info =
            local_source(&local, o.follow_link.unwrap_or(false)).map_err(|e| format!("{what}: {src}: {e}"))?;
        let (dir, rename) = prepare(&src_info, &dst_info).map_err(|e| format!("{what}: {e}"))?;
        let name = match rename {
            Some((_, new)) => new,
            None => src_info.rebase.clone().unwrap_or_else(|| split(&src_info.path).1),
        };
        (
            dir,
            tar_resource(&src_info, &name).map_err(|e| format!("{what}: {src}: {e}"))?,
        )
    };
    let opts = qp::UploadToContainerOptions {
        path: dir,
        copy_uidgid: o.archive.unwrap_or(false).then(|| "true".into()),
        // (docker cp never replaces a folder with a file or the reverse.)
        no_overwrite_dir_non_dir: Some("true".into()),
    };
    let up = d
        .upload_to_container(&c.id, Some(opts), bollard::body_full(tar.into()))
        .await;
    up.map_err(|e| engine_err(&what, &e))
}

/// `docker cp CONTAINER:SRC DEST` (`-`: the tar on stdout).
async fn copy_from(c: &Container, src: &str, dst: &str, o: &CpOpts) -> RhaiResult<()> {
    let what = c.what("cp");
    let d = client(&c.ep).await?;
    let (mut path, mut rebase) = (src.to_string(), None);
    if o.follow_link.unwrap_or(false) {
        if let Ok(s) = stat(d, &c.id, src).await {
            if s.file_mode & MODE_SYMLINK != 0 {
                (path, rebase) = rebase_name(src, &link_target(src, &s.link_target));
            }
        }
    }
    let st = stat(d, &c.id, &path)
        .await
        .map_err(|e| match crate::docker::status(&e) {
            Some(404) => crate::error::Error::script(format!("Could not find the file {path} in container {}", c.name))
                .into_rhai(),
            _ => engine_err(&what, &e),
        })?;
    let mut tar = Vec::new();
    let mut stream = d.download_from_container(&c.id, Some(qp::DownloadFromContainerOptions { path: path.clone() }));
    while let Some(chunk) = stream.next().await {
        tar.extend_from_slice(&chunk.map_err(|e| engine_err(&what, &e))?);
    }
    if dst == "-" {
        let mut out = std::io::stdout().lock();
        return out
            .write_all(&tar)
            .and_then(|_| out.flush())
            .map_err(|e| format!("{what}: {e}").into());
    }
    let local = crate::api::resolve_path(dst).to_string_lossy().into_owned();
    let local = if dst.ends_with('/') && !local.ends_with('/') {
        format!("{local}/")
    } else {
        local
    };
    let dst_info = local_destination(&local).map_err(|e| format!("{what}: {dst}: {e}"))?;
    let io = |e: std::io::Error| -> Box<EvalAltResult> { format!("{what}: {dst}: {e}").into() };
    if let Some(r) = &rebase {
        tar = rebase_tar(&tar, &split(&path).1, r).map_err(io)?;
    }
    let src_info = CopyInfo {
        path,
        exists: true,
        is_dir: st.file_mode & MODE_DIR != 0,
        rebase,
    };
    let (dir, rename) = prepare(&src_info, &dst_info).map_err(|e| format!("{what}: {e}"))?;
    if let Some((old, new)) = rename {
        tar = rebase_tar(&tar, &old, &new).map_err(io)?;
    }
    let mut archive = tar::Archive::new(tar.as_slice());
    archive.set_preserve_permissions(true);
    archive.set_preserve_mtime(true);
    archive.set_overwrite(true);
    archive.unpack(&dir).map_err(io)
}

#[export_module]
pub mod api {
    use super::*;

    /// Copies a local file or folder (`"-"`: a tar on stdin) into the
    /// container, as `docker cp SRC CONTAINER:DEST` does: into `dest` when
    /// it is a folder, else as `dest`; `src/.` copies the contents.
    /// Options: `archive` (keep the files' uid/gid), `follow_link`.
    ///
    /// ```rhai
    /// container::get("demo-web-1").cp_to("./site", "/usr/share/html", #{});
    /// ```
    #[rhai_fn(global, return_raw)]
    pub fn cp_to(c: &mut Container, src: &str, dest: &str, opts: Map) -> RhaiResult<()> {
        let o: CpOpts = crate::api::opts::read("cp_to", opts)?;
        bridge::block_on(copy_to(c, src, dest, &o))
    }

    /// Copies a file or folder out of the container to a local path
    /// (`"-"`: a tar on stdout), as `docker cp CONTAINER:SRC DEST` does.
    /// Options: `follow_link` (copy what a link points to).
    ///
    /// ```rhai
    /// container::get("demo-web-1").cp_from("/etc/hostname", "./hostname", #{});
    /// ```
    #[rhai_fn(global, return_raw)]
    pub fn cp_from(c: &mut Container, src: &str, dest: &str, opts: Map) -> RhaiResult<()> {
        let o: CpOpts = crate::api::opts::read("cp_from", opts)?;
        bridge::block_on(copy_from(c, src, dest, &o))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_split_as_moby_does() {
        assert_eq!(clean("/a/./b/../c/"), "/a/c");
        assert_eq!(clean("a/.."), ".");
        assert_eq!(split("/a/b"), ("/a".into(), "b".into()));
        assert_eq!(split("/a/b/"), ("/a".into(), "b".into()));
        assert_eq!(split("/a/b/."), ("/a/b".into(), ".".into()));
        assert_eq!(split("/b"), ("/".into(), "b".into()));
        assert_eq!(split("b"), (".".into(), "b".into()));
    }

    #[test]
    fn destination_rules() {
        let file = |p: &str| CopyInfo {
            path: p.into(),
            exists: true,
            ..Default::default()
        };
        let dir = |p: &str| CopyInfo {
            path: p.into(),
            exists: true,
            is_dir: true,
            rebase: None,
        };
        let missing = |p: &str| CopyInfo {
            path: p.into(),
            ..Default::default()
        };
        // Into an existing folder: entries as they are.
        assert_eq!(prepare(&file("/src/f"), &dir("/d")), Ok(("/d".into(), None)));
        // Onto a missing path: renamed to it, extracted in its parent.
        assert_eq!(
            prepare(&dir("/src/x"), &missing("/d/y")),
            Ok(("/d".into(), Some(("x".into(), "y".into()))))
        );
        assert_eq!(
            prepare(&dir("/src/x/."), &missing("/d/y")),
            Ok(("/d".into(), Some((".".into(), "y".into()))))
        );
        assert_eq!(
            prepare(&dir("/src/x"), &file("/d/f")),
            Err("cannot copy directory".into())
        );
        assert_eq!(
            prepare(&file("/src/f"), &missing("/d/new/")),
            Err("no such directory".into())
        );
        assert_eq!(
            rebase_name("/a/link/", "/a/real"),
            ("/a/real/".into(), Some("link".into()))
        );
    }

    #[test]
    fn tar_entries_are_renamed_under_the_new_base() {
        let mut b = tar::Builder::new(Vec::new());
        for name in ["x", "x/a", "xy"] {
            let mut h = tar::Header::new_gnu();
            h.set_size(1);
            h.set_mode(0o644);
            b.append_data(&mut h, name, &b"z"[..]).unwrap();
        }
        let out = rebase_tar(&b.into_inner().unwrap(), "x", "y").unwrap();
        let mut a = tar::Archive::new(out.as_slice());
        let names: Vec<String> = a
            .entries()
            .unwrap()
            .map(|e| e.unwrap().path().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["y", "y/a", "xy"]);
    }
}
