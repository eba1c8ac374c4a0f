//! One change at a time to a project on an engine, from this machine.
//!
//! Two `up -d` on a new project would each see no `<project>_default`
//! network and each create one (the engine allows two networks of one
//! name); `down` then fails on the ambiguous name. So applying a plan and
//! tearing a project down take a lock keyed by the engine's ID and the
//! project: an advisory file lock (`flock`) under `/tmp/orch-locks`, which
//! the kernel drops when its holder exits, even by SIGKILL, so a killed run
//! never leaves a stale lock. Reading (`ps`, `logs`, planning) never takes
//! it. The holder writes who it is into the file, so a waiting run can say
//! whom it waits for, and clears it on release: a line still there when
//! the lock is taken is the mark of a holder that was killed. The engine
//! may still be carrying out that holder's last requests (a create the
//! engine had accepted lands after its client died), so the new holder
//! first waits for the project's containers to settle.
//!
//! Each holder also counts itself into a generation file beside the lock.
//! A plan made while nobody held the lock, applied under it while the
//! generation is still the one read before observing, rests on what is
//! still there (no orch on this machine changed the project in between):
//! `Plan.apply` then skips observing the project again, which at 500
//! containers is the engine's slowest read of a no-change `up`.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use bollard::Docker;

use crate::memo::{folder, safe};

/// Set by `--no-lock-wait`: fail at once instead of waiting for the holder.
static NO_WAIT: AtomicBool = AtomicBool::new(false);

/// Fail instead of waiting when another run holds a project's lock.
pub fn set_no_wait(no_wait: bool) {
    NO_WAIT.store(no_wait, Ordering::SeqCst);
}

/// A held lock; released when dropped (or when the process ends).
#[derive(Debug)]
pub struct ProjectLock {
    file: File,
    /// The previous holder, when it was killed holding the lock.
    pub cut_short: Option<String>,
    /// The generation before this holder's (see [`quiet`]).
    pub generation: Option<u64>,
}

impl Drop for ProjectLock {
    fn drop(&mut self) {
        // Cleared before the descriptor (and with it the flock) goes.
        let _ = self.file.set_len(0);
    }
}

fn path_for(engine_id: &str, project: &str) -> PathBuf {
    folder().join(format!("{}--{}.lock", safe(engine_id), safe(project)))
}

fn open(path: &PathBuf) -> std::io::Result<File> {
    if let Some(dir) = path.parent() {
        if !dir.exists() {
            use std::os::unix::fs::PermissionsExt;
            std::fs::create_dir_all(dir)?;
            let _ = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o1777));
        }
    }
    use std::os::unix::fs::OpenOptionsExt;
    // Another user's lock file may be read-only for us: flock works on it.
    OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o666)
        .open(path)
        .or_else(|_| File::open(path))
}

/// The generation file of the lock at `path`.
fn generation_path(path: &std::path::Path) -> PathBuf {
    let mut p = path.as_os_str().to_owned();
    p.push(".gen");
    PathBuf::from(p)
}

/// The count of holders the lock at `path` has had: 0 before the first;
/// `None` when the file cannot be read, is half written, or is not
/// writable by every user (a holder that could not count itself in would
/// go unseen).
fn read_generation(path: &std::path::Path) -> Option<u64> {
    use std::os::unix::fs::PermissionsExt;
    let path = generation_path(path);
    match std::fs::metadata(&path) {
        Ok(m) if m.permissions().mode() & 0o666 == 0o666 => {}
        Ok(_) => return None,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Some(0),
        Err(_) => return None,
    }
    std::fs::read_to_string(&path).ok()?.trim().parse().ok()
}

/// The lock's generation when nobody holds it now (nor was killed holding
/// it), read without taking it, for a plan about to observe the project:
/// if [`acquire`] later returns the same generation, no holder came in
/// between. Only from remembered facts: `None` (observe again) when the
/// engine's ID is not known yet, rather than asking the engine for it.
pub fn quiet(host: &str, project: &str) -> Option<u64> {
    let engine_id = crate::memo::recall(host, "id")?;
    let path = path_for(&engine_id, project);
    // The generation first, then the holder line: a holder writes its line
    // before it counts itself, so one coming in between is seen either way.
    let generation = read_generation(&path)?;
    match std::fs::read(&path) {
        Ok(text) if text.iter().all(u8::is_ascii_whitespace) => Some(generation),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Some(generation),
        _ => None,
    }
}

/// Counts a new holder in (under the lock); the generation before it.
fn advance_generation(path: &std::path::Path) -> Option<u64> {
    let before = read_generation(path);
    let next = before.unwrap_or(0) + 1;
    let path = generation_path(path);
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(&path, format!("{next}\n")).ok()?;
    // Every user's runs count themselves in (the umask would narrow it).
    let _ = std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o666));
    before
}

/// What [`holder`] says of a lock file nobody wrote into (or a released one).
const NOBODY: &str = "another orch";

/// Who holds the lock, as the holder wrote it ("pid 123: orch up -d, since …").
fn holder(file: &mut File) -> String {
    let mut text = String::new();
    let _ = file.rewind().and_then(|_| file.read_to_string(&mut text));
    let text = text.trim();
    if text.is_empty() {
        NOBODY.into()
    } else {
        text.to_string()
    }
}

fn write_holder(file: &mut File) {
    let cmd: Vec<String> = std::env::args().collect();
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let (h, m, s) = (secs / 3600 % 24, secs / 60 % 60, secs % 60);
    let who = format!(
        "pid {} ({}, since {h:02}:{m:02}:{s:02} UTC)\n",
        std::process::id(),
        cmd.join(" ")
    );
    let _ = file
        .set_len(0)
        .and_then(|_| file.rewind())
        .and_then(|_| file.write_all(who.as_bytes()));
}

/// The engine's ID (`docker info`'s `ID`, kept by the engine across
/// restarts). `/info` is the engine's slowest read (it gathers counts from
/// every subsystem: 0.1–0.3 s here, more than the rest of a no-change `up`),
/// so it is remembered ([`crate::memo`]: per socket file, or an hour for a
/// remote engine).
async fn engine_id(d: &Docker, host: &str) -> Result<String, bollard::errors::Error> {
    if let Some(id) = crate::memo::recall(host, "id") {
        return Ok(id);
    }
    let id = d.info().await?.id.unwrap_or_default();
    crate::memo::remember(host, "id", &id);
    Ok(id)
}

/// Takes the lock of `project` on the engine `d`, waiting for its holder
/// (saying whom, once, through `notice`) unless `--no-lock-wait` was given.
/// `host` is the endpoint as the user gave it (`unix:///…`, `tcp://…`).
pub async fn acquire(
    d: &Docker,
    host: &str,
    project: &str,
    notice: impl Fn(String),
) -> crate::error::Result<ProjectLock> {
    let engine_id = engine_id(d, host)
        .await
        .map_err(|e| format!("locking project {project}: {}", crate::docker::flatten(&e)))?;
    let path = path_for(&engine_id, project);
    let mut file = open(&path).map_err(|e| format!("locking project {project}: {}: {e}", path.display()))?;
    let mut told = false;
    loop {
        match rustix::fs::flock(&file, rustix::fs::FlockOperation::NonBlockingLockExclusive) {
            Ok(()) => {
                let dead = holder(&mut file);
                let cut_short = (dead != NOBODY).then_some(dead);
                if cut_short.is_some() {
                    super::repair::settle(d, project).await?;
                }
                write_holder(&mut file);
                let generation = advance_generation(&path);
                return Ok(ProjectLock {
                    file,
                    cut_short,
                    generation,
                });
            }
            Err(rustix::io::Errno::WOULDBLOCK) => {
                let who = holder(&mut file);
                if NO_WAIT.load(Ordering::SeqCst) {
                    return Err(
                        format!("project {project} is being changed by {who}; not waiting (--no-lock-wait)").into(),
                    );
                }
                if !told {
                    notice(format!("waiting for {who}, which is changing project {project}"));
                    told = true;
                }
                // Polling keeps the wait cancellable by Ctrl-C.
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => {
                return Err(format!("locking project {project}: {}: {e}", path.display()).into());
            }
        }
    }
}
