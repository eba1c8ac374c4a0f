//! The commands orch ships, as Rhai scripts embedded at build time.
//!
//! `orch <group> <cmd>` runs `stdlib/<group>/<cmd>.rhai`. Setting
//! `ORCH_STDLIB=DIR` reads them from a folder instead, so a command can be
//! edited and re-run without rebuilding orch.

use std::path::PathBuf;

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/stdlib_files.rs"));
}

/// A stdlib script ready to run: its text and the name errors should show.
pub struct Script {
    pub name: String,
    pub text: String,
    /// Folder that `import` statements in the script resolve against.
    pub dir: Option<PathBuf>,
}

/// Finds `rel` (e.g. `compose/up.rhai`) in `ORCH_STDLIB` or in the binary.
pub fn load(rel: &str) -> crate::error::Result<Script> {
    if let Some(dir) = std::env::var_os("ORCH_STDLIB") {
        let path = PathBuf::from(dir).join(rel);
        return match std::fs::read_to_string(&path) {
            Ok(text) => Ok(Script {
                name: path.display().to_string(),
                dir: path.parent().map(PathBuf::from),
                text,
            }),
            Err(e) => Err(format!("cannot read {} (ORCH_STDLIB is set): {e}", path.display()).into()),
        };
    }
    embedded::FILES
        .binary_search_by(|(name, _)| (*name).cmp(rel))
        .map(|i| Script {
            name: format!("stdlib/{rel}"),
            text: embedded::FILES[i].1.to_string(),
            dir: None,
        })
        .map_err(|_| format!("orch has no stdlib script {rel}").into())
}

/// Text of an embedded script by the name `load` gave it (for diagnostics).
pub fn embedded_text(name: &str) -> Option<&'static str> {
    let rel = name.strip_prefix("stdlib/")?;
    embedded::FILES.iter().find(|(n, _)| *n == rel).map(|(_, t)| *t)
}

impl From<Script> for crate::source::Source {
    fn from(s: crate::stdlib::Script) -> Self {
        crate::source::Source {
            name: s.name,
            text: s.text,
            dir: s.dir,
        }
    }
}

/// Every embedded script, for `import "stdlib/..."` and for listings.
pub fn files() -> &'static [(&'static str, &'static str)] {
    embedded::FILES
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    /// Every shipped command compiles: a syntax error in a stdlib script
    /// fails the build's tests, not a user's command.
    #[test]
    fn every_stdlib_script_compiles() {
        let engine = crate::script::engine(
            &crate::script::Limits::default(),
            None,
            Arc::new(Mutex::new(Vec::new())),
            &crate::api::Namespaces::All,
        );
        let mut failures = Vec::new();
        for (name, text) in super::files() {
            if let Err(e) = engine.compile(text) {
                failures.push(format!("stdlib/{name}: {e}"));
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
        assert!(super::files().len() >= 20, "the stdlib went missing");
    }
}
