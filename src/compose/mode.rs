//! What `config --no-normalize` and `--no-path-resolution` change in the
//! document the loader builds (compose-go's `SkipNormalization` and
//! `ResolvePaths: false`). Both only change what is printed, deep inside
//! the per-file service canonicalisation (`canon::volume`, `build:`,
//! `develop:`), so the loader sets them once for the load on its thread
//! instead of threading two flags through every helper.

use std::cell::RefCell;
use std::path::{Path, PathBuf};

#[derive(Clone, Debug, Default)]
struct Mode {
    skip_normalization: bool,
    /// The project's working directory when paths stay as written.
    unresolved: Option<PathBuf>,
}

thread_local! {
    static MODE: RefCell<Mode> = RefCell::new(Mode::default());
}

/// Restores compose's defaults when the load ends (also on error).
pub struct Scope(Mode);

impl Drop for Scope {
    fn drop(&mut self) {
        let previous = std::mem::take(&mut self.0);
        MODE.with(|m| *m.borrow_mut() = previous);
    }
}

/// Sets the mode for this thread until the returned scope is dropped.
pub fn scope(skip_normalization: bool, no_path_resolution: bool, working_dir: &Path) -> Scope {
    let mode = Mode {
        skip_normalization,
        unresolved: no_path_resolution.then(|| working_dir.to_path_buf()),
    };
    Scope(MODE.with(|m| std::mem::replace(&mut *m.borrow_mut(), mode)))
}

/// Whether compose-go's `Normalize` runs (false with `--no-normalize`).
pub fn normalizing() -> bool {
    MODE.with(|m| !m.borrow().skip_normalization)
}

/// The folder an `extends` file's service paths are shown from: the
/// file's own, or with `--no-path-resolution` that folder relative to the
/// project's (as compose-go's `getExtendsBaseFromFile` rebases them, so
/// `./x` in an `extends` file beside the compose file shows as `x`).
pub fn extends_base(dir: &Path) -> PathBuf {
    match MODE.with(|m| m.borrow().unresolved.clone()) {
        Some(wd) => PathBuf::from(relative(dir, &wd)),
        None => dir.to_path_buf(),
    }
}

/// A relative path of a file in `base`, as the document shows it:
/// absolute (compose's default), or with `--no-path-resolution` as
/// written in the project's own files, and from a folder elsewhere (an
/// included project's) or an `extends_base` joined to that folder
/// relative to the project's, cleaned.
pub fn shown_path(base: &Path, p: &str) -> String {
    match MODE.with(|m| m.borrow().unresolved.clone()) {
        Some(wd) if wd == base => p.to_string(),
        Some(wd) if base.is_absolute() => super::canon::abs_path(Path::new(&relative(base, &wd)), p),
        _ => super::canon::abs_path(base, p),
    }
}

/// `p` relative to `base` (with `..` where needed), as Go's `filepath.Rel`.
pub fn relative(p: &Path, base: &Path) -> String {
    let (pc, bc): (Vec<_>, Vec<_>) = (p.components().collect(), base.components().collect());
    let common = pc.iter().zip(&bc).take_while(|(a, b)| a == b).count();
    let mut parts: Vec<String> = vec!["..".into(); bc.len() - common];
    parts.extend(
        pc[common..]
            .iter()
            .map(|c| c.as_os_str().to_string_lossy().into_owned()),
    );
    if parts.is_empty() {
        ".".into()
    } else {
        parts.join("/")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_resolved_by_default_and_as_written_without_resolution() {
        let wd = Path::new("/p");
        assert_eq!(shown_path(wd, "./data"), "/p/data");
        {
            let _s = scope(false, true, wd);
            assert_eq!(shown_path(wd, "./data"), "./data");
            assert_eq!(shown_path(&extends_base(Path::new("/p/lib")), "./x"), "lib/x");
            assert_eq!(shown_path(&extends_base(wd), "./x"), "x");
            assert_eq!(shown_path(&extends_base(Path::new("/q")), "x"), "../q/x");
            assert_eq!(shown_path(Path::new("/p/inc"), "./y"), "inc/y");
            assert!(normalizing());
        }
        assert_eq!(shown_path(wd, "./data"), "/p/data");
        let _s = scope(true, false, wd);
        assert!(!normalizing());
    }
}
