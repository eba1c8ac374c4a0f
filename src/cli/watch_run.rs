//! `orch run --watch FILE.rhai`: run a deployment script, then run it
//! again on every save of the script or a module it imported. Each round
//! is a child `orch run` process (a fresh engine, runtime and memory), so a
//! round that throws or panics cannot leave state behind; the child writes
//! the files it imported to `ORCH_LOADED_FILES`. What a script deploys is
//! reconciled by its own plan/apply calls, so re-running it changes only
//! what its edit changed.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use notify::{EventKind, RecursiveMode, Watcher};

use crate::api::watch::normalized;
use crate::script::Limits;

/// Saves closer together than this are one change.
const QUIET: Duration = Duration::from_millis(100);

/// Set by Ctrl-C (or SIGTERM): the child handles it during a round; the
/// loop ends at the next wait.
static STOP: AtomicBool = AtomicBool::new(false);

/// One round: the child's exit code and the files it was made from.
fn round(file: &Path, args: &[String], limits: &Limits, list: &Path) -> (i32, Vec<PathBuf>) {
    let _ = std::fs::remove_file(list);
    let exe = std::env::current_exe().unwrap_or_else(|_| PathBuf::from("orch"));
    let status = Command::new(exe)
        .arg("run")
        .arg(file)
        .args(args)
        .env("ORCH_LOADED_FILES", list)
        .env("ORCH_MAX_OPERATIONS", limits.max_operations.to_string())
        .env("ORCH_MAX_CALL_DEPTH", limits.max_call_depth.to_string())
        .env("ORCH_MAX_STRING_SIZE", limits.max_string_size.to_string())
        .env("ORCH_MAX_ARRAY_SIZE", limits.max_array_size.to_string())
        .env("ORCH_MAX_MAP_SIZE", limits.max_map_size.to_string())
        .status();
    let code = match status {
        Ok(s) => s.code().unwrap_or(130),
        Err(e) => {
            eprintln!("[watch] cannot run {}: {e}", file.display());
            1
        }
    };
    let mut files = vec![normalized(file)];
    if let Ok(text) = std::fs::read_to_string(list) {
        files.extend(text.lines().filter(|l| !l.is_empty()).map(|l| normalized(Path::new(l))));
    }
    files.sort();
    files.dedup();
    (code, files)
}

/// Blocks until one of `files` changes and saves settle; `None` when the
/// watch cannot be set up.
fn wait_for_change(files: &[PathBuf]) -> Option<Vec<PathBuf>> {
    let (tx, rx) = mpsc::channel();
    let mut w = notify::recommended_watcher(move |res: notify::Result<notify::Event>| {
        if let Ok(ev) = res {
            if !matches!(ev.kind, EventKind::Access(_)) {
                for p in ev.paths {
                    let _ = tx.send(p);
                }
            }
        }
    })
    .map_err(|e| eprintln!("[watch] {e}"))
    .ok()?;
    // Through their folders: editors save by renaming a new file over the
    // old one.
    let dirs: BTreeSet<&Path> = files.iter().filter_map(|f| f.parent()).collect();
    for d in dirs {
        if let Err(e) = w.watch(d, RecursiveMode::NonRecursive) {
            eprintln!("[watch] cannot watch {}: {e}", d.display());
            return None;
        }
    }
    let wanted: BTreeSet<&PathBuf> = files.iter().collect();
    let mut changed = BTreeSet::new();
    while changed.is_empty() {
        match rx.recv_timeout(Duration::from_millis(100)) {
            Ok(p) if wanted.contains(&p) => {
                changed.insert(p);
            }
            Ok(_) => {}
            Err(mpsc::RecvTimeoutError::Timeout) if !STOP.load(Ordering::SeqCst) => {}
            Err(_) => return None,
        }
    }
    while let Ok(p) = rx.recv_timeout(QUIET) {
        if wanted.contains(&p) {
            changed.insert(p);
        }
    }
    Some(changed.into_iter().collect())
}

/// Runs the loop until Ctrl-C (which the child, in the foreground process
/// group, also receives and handles).
pub fn run(file: &str, args: &[String], limits: &Limits) -> i32 {
    let file = Path::new(file);
    // Catch Ctrl-C so the parent outlives the child's cleanup.
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build();
    let _signals = rt.map(|rt| {
        std::thread::spawn(move || {
            rt.block_on(async {
                use tokio::signal::unix::{signal, SignalKind};
                let (Ok(mut int), Ok(mut term)) = (signal(SignalKind::interrupt()), signal(SignalKind::terminate()))
                else {
                    return;
                };
                loop {
                    tokio::select! {
                        _ = int.recv() => {},
                        _ = term.recv() => {},
                    }
                    STOP.store(true, Ordering::SeqCst);
                }
            })
        })
    });
    let list = std::env::temp_dir().join(format!("orch-watch-{}.files", std::process::id()));
    let mut reason = String::new();
    let mut watched: BTreeSet<PathBuf> = BTreeSet::new();
    loop {
        let started = Instant::now();
        let (code, files) = round(file, args, limits, &list);
        // A round that failed before importing a module still watches it.
        watched.extend(files);
        let files: Vec<PathBuf> = watched.iter().cloned().collect();
        if code == 130 || STOP.load(Ordering::SeqCst) {
            let _ = std::fs::remove_file(&list);
            return 130;
        }
        let outcome = if code == 0 {
            "done".to_string()
        } else {
            format!("failed (exit {code})")
        };
        eprintln!(
            "[watch] {reason}{} {outcome} in {} ms; watching {} file(s)",
            file.display(),
            started.elapsed().as_millis(),
            files.len()
        );
        let Some(changed) = wait_for_change(&files) else {
            let _ = std::fs::remove_file(&list);
            return if STOP.load(Ordering::SeqCst) { 130 } else { 1 };
        };
        let names: Vec<String> = changed
            .iter()
            .map(|p| {
                p.file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default()
            })
            .collect();
        reason = format!("{} changed: ", names.join(", "));
    }
}
