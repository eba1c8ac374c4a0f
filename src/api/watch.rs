//! File watching for the dev loop (`orch watch`, `orch run --watch`):
//! `watch::start(roots)` watches files and folders through the OS
//! (inotify on Linux: no polling, no CPU while idle), and `w.next()`
//! returns the changes once saves have settled (each with the root it is
//! under and its path relative to it), so a burst of saves is one batch. Which change means what (reload, rebuild, sync) is the
//! script's to decide.
//!
//! ```rhai
//! let w = watch::start(["compose.yaml", #{ path: "./web", ignore: ["*.log"] }], #{});
//! loop { for c in w.next() { print(`${c.root}: ${c.rel}`); } }
//! ```

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use notify::{EventKind, RecursiveMode, Watcher as _};
use rhai::plugin::*;
use rhai::{Array, Dynamic, Map, NativeCallContext};
use tokio::sync::mpsc;

use super::options::{WatchStart1Opts, WatchStartOpts};
use super::{fail, resolve_path, RhaiResult};
use crate::bridge;
use crate::build::dockerignore::DockerIgnore;

/// One watched file or folder.
struct Root {
    /// As the script wrote it: the key changes are reported under.
    given: String,
    path: PathBuf,
    dir: bool,
    /// `.dockerignore`-style rules, relative to a folder root.
    ignore: Option<DockerIgnore>,
}

struct Inner {
    _watcher: notify::RecommendedWatcher,
    rx: mpsc::UnboundedReceiver<PathBuf>,
    roots: Vec<Root>,
    quiet: Duration,
}

/// A running watch; `next()` waits for the next settled batch of changes.
#[derive(Clone)]
pub struct Watcher(Arc<tokio::sync::Mutex<Inner>>);

/// Editors' scratch files and VCS folders: never a change to deploy.
fn scratch(p: &Path) -> bool {
    let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
    name.ends_with('~')
        || name.ends_with(".swp")
        || name.ends_with(".swx")
        || name.starts_with(".#")
        || name == "4913"
        || p.components().any(|c| c.as_os_str() == ".git")
}

impl Inner {
    fn relevant(&self, p: &Path) -> bool {
        self.roots.iter().any(|r| r.rel(p).is_some())
    }

    /// A change as scripts get it: its path, the first root (in the order
    /// given) it counts for with the path relative to it ("" for the root
    /// itself), and every root it counts for (`roots`: root → relative).
    fn change(&self, p: &Path) -> Map {
        let mut m = Map::new();
        let mut roots = Map::new();
        for r in &self.roots {
            if let Some(rel) = r.rel(p) {
                if roots.is_empty() {
                    m.insert("root".into(), r.given.clone().into());
                    m.insert("rel".into(), rel.clone().into());
                }
                roots.insert(r.given.as_str().into(), rel.into());
            }
        }
        m.insert("path".into(), p.display().to_string().into());
        m.insert("roots".into(), roots.into());
        m
    }
}

impl Root {
    /// `p` relative to this root when a change there counts ("" for the
    /// root itself); None outside it, or for scratch and ignored files.
    fn rel(&self, p: &Path) -> Option<String> {
        if !self.dir {
            return (p == self.path).then(String::new);
        }
        let rel = p.strip_prefix(&self.path).ok()?;
        if scratch(rel) {
            return None;
        }
        let rel = rel.to_string_lossy();
        let ignored = self
            .ignore
            .as_ref()
            .is_some_and(|i| !rel.is_empty() && i.is_ignored(&rel));
        (!ignored).then(|| rel.into_owned())
    }
}

/// Absolute and without `..`, to compare with the paths the OS reports.
pub fn normalized(p: &Path) -> PathBuf {
    PathBuf::from(crate::compose::canon::clean(
        &std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf()),
    ))
}

fn root_of(v: &Dynamic) -> RhaiResult<Root> {
    let (given, path, ignore) = if let Some(m) = v.clone().try_cast::<Map>() {
        let o: WatchStartOpts = crate::api::opts::read("watch::start", m)?;
        let given = crate::api::opts::need("watch::start", "path", o.path.clone())?;
        let path = resolve_path(&given);
        let mut rules = String::new();
        if o.dockerignore.unwrap_or(false) {
            if let Ok(text) = std::fs::read_to_string(path.join(".dockerignore")) {
                rules.push_str(&text);
                rules.push('\n');
            }
        }
        for pat in o.ignore.clone().unwrap_or_default() {
            rules.push_str(&pat);
            rules.push('\n');
        }
        let ignore = (!rules.trim().is_empty()).then(|| DockerIgnore::parse(&rules));
        (given, path, ignore)
    } else if v.is_string() {
        (v.to_string(), resolve_path(&v.to_string()), None)
    } else {
        return fail(format!(
            "watch::start: a root is a path or #{{ path, ignore, dockerignore }}, not {}",
            v.type_name()
        ));
    };
    let path = normalized(&path);
    let dir = path.is_dir();
    Ok(Root {
        given,
        path,
        dir,
        ignore,
    })
}

fn start(roots: Array, opts: Map) -> RhaiResult<Watcher> {
    crate::api::host_access("watch::start")?;
    let o: WatchStart1Opts = crate::api::opts::read("watch::start", opts)?;
    let quiet = crate::api::util::secs("watch::start: quiet", o.quiet.unwrap_or(0.1))?;
    let roots: Vec<Root> = roots.iter().map(root_of).collect::<RhaiResult<_>>()?;
    let (tx, rx) = mpsc::unbounded_channel();
    let mut watcher = notify::recommended_watcher(move |res: notify::Result<notify::Event>| {
        if let Ok(ev) = res {
            if matches!(ev.kind, EventKind::Access(_)) {
                return;
            }
            for p in ev.paths {
                let _ = tx.send(p);
            }
        }
    })
    .map_err(|e| format!("watch::start: {e}"))?;
    // Files are watched through their folder: editors save by writing a
    // new file and renaming it over the old one.
    let mut watched: BTreeSet<(PathBuf, bool)> = BTreeSet::new();
    for r in &roots {
        if r.dir {
            watched.insert((r.path.clone(), true));
        } else if let Some(parent) = r.path.parent().filter(|p| p.is_dir()) {
            watched.insert((parent.to_path_buf(), false));
        }
    }
    for (p, recursive) in &watched {
        let mode = if *recursive {
            RecursiveMode::Recursive
        } else {
            RecursiveMode::NonRecursive
        };
        watcher
            .watch(p, mode)
            .map_err(|e| format!("watch::start: cannot watch {}: {e}", p.display()))?;
    }
    Ok(Watcher(Arc::new(tokio::sync::Mutex::new(Inner {
        _watcher: watcher,
        rx,
        roots,
        quiet,
    }))))
}

/// Waits for a relevant change (at most `timeout`), then until none has
/// come for the quiet period; returns the changes, sorted by path.
fn next(w: &Watcher, timeout: Option<Duration>) -> RhaiResult<Array> {
    let inner = w.0.clone();
    let changed = bridge::block_on(async move {
        let mut inner = inner.lock().await;
        let mut changed: BTreeSet<PathBuf> = BTreeSet::new();
        let first = async {
            loop {
                match inner.rx.recv().await {
                    Some(p) if inner.relevant(&p) => return Some(p),
                    Some(_) => continue,
                    None => return None,
                }
            }
        };
        let first = match timeout {
            Some(t) => tokio::time::timeout(t, first).await.ok().flatten(),
            None => first.await,
        };
        let Some(first) = first else {
            return Ok(Array::new());
        };
        changed.insert(first);
        let quiet = inner.quiet;
        while let Ok(Some(p)) = tokio::time::timeout(quiet, inner.rx.recv()).await {
            if inner.relevant(&p) {
                changed.insert(p);
            }
        }
        let changes: Array = changed.iter().map(|p| Dynamic::from_map(inner.change(p))).collect();
        Ok::<_, Box<rhai::EvalAltResult>>(changes)
    })?;
    Ok(changed)
}

#[export_module]
pub mod api {
    use super::*;

    pub type Watcher = super::Watcher;

    /// Starts watching `roots`: paths (files or folders, relative to the
    /// script's folder), or `#{ path, ignore: [patterns], dockerignore:
    /// true }` for a folder with `.dockerignore`-style rules. Options:
    /// `quiet` (seconds without a change that end a batch, default 0.1).
    ///
    /// ```rhai
    /// let w = watch::start(["compose.yaml", #{ path: "./web", dockerignore: true }], #{ quiet: 0.2 });
    /// ```
    #[rhai_fn(return_raw)]
    pub fn start(ctx: NativeCallContext, roots: Array, opts: Map) -> RhaiResult<Watcher> {
        crate::api::at(&ctx, || super::start(roots, opts))
    }

    /// Waits for changes, then returns them once saves have settled, each
    /// once, sorted by path: `#{ path, root, rel, roots }` with the
    /// absolute `path`, the first watched `root` it is under (as given to
    /// `start`) and the path `rel`ative to it ("" for the root itself), and
    /// `roots`, every root it is under → its relative path.
    ///
    /// ```rhai
    /// for c in w.next() { print(`changed: ${c.rel} in ${c.root}`); }
    /// ```
    #[rhai_fn(global, name = "next", return_raw)]
    pub fn next(w: &mut Watcher) -> RhaiResult<Array> {
        super::next(w, None)
    }

    /// `next`, giving up after `timeout` seconds (then the list is empty).
    ///
    /// ```rhai
    /// let changed = w.next(5.0);
    /// ```
    #[rhai_fn(global, name = "next", return_raw)]
    pub fn next_timeout(w: &mut Watcher, timeout: f64) -> RhaiResult<Array> {
        super::next(w, Some(crate::api::util::secs("Watcher.next", timeout)?))
    }
}

pub fn register_types(engine: &mut rhai::Engine) {
    engine.register_type_with_name::<Watcher>("Watcher");
}
