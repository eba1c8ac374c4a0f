//! Facts about a local engine that orch remembers between runs.
//!
//! Every orch command is a new process, and some facts cost the engine real
//! work to tell: `/info` gathers counts from every subsystem (0.1–0.3 s
//! here) and `/version` runs `runc --version` and friends (several ms, more
//! under load), while Docker Compose only sends `/_ping`. A fact is kept in
//! a small file beside the project locks, stamped with the identity of the
//! socket file it came from: a restarted (or upgraded) daemon makes a new
//! socket, so the fact is asked again. A remote engine (`tcp://`,
//! `ssh://`) has no such file: its facts are kept for an hour, as through
//! ssh every fact asked again is a round trip and `/info` a slow one.

use std::path::PathBuf;

/// The folder shared with the project locks (`ORCH_LOCK_DIR`, or
/// `orch-locks` in the temporary folder): one for every user of the
/// machine, as they share its engine.
pub fn folder() -> PathBuf {
    std::env::var_os("ORCH_LOCK_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("orch-locks"))
}

/// A name usable as a file name.
pub fn safe(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// How long a remote engine's facts are trusted.
const REMOTE_TTL: std::time::Duration = std::time::Duration::from_secs(3600);

/// What tells one socket file from its successor: device, inode and the
/// time it was made; `remote` for an engine that is not a local socket.
fn socket_identity(host: &str) -> Option<String> {
    use std::os::unix::fs::MetadataExt;
    let Some(path) = host.strip_prefix("unix://") else {
        return Some("remote".into());
    };
    let m = std::fs::metadata(path).ok()?;
    Some(format!("{} {} {}.{}", m.dev(), m.ino(), m.ctime(), m.ctime_nsec()))
}

fn file(host: &str, fact: &str) -> PathBuf {
    folder().join("engines").join(format!("{}.{fact}", safe(host)))
}

/// The remembered `fact` (`id`, `api`) of the engine at `host`, if it was
/// written for the socket file that is there now.
pub fn recall(host: &str, fact: &str) -> Option<String> {
    let ident = socket_identity(host)?;
    let path = file(host, fact);
    if ident == "remote" {
        let age = std::fs::metadata(&path)
            .and_then(|m| m.modified())
            .ok()?
            .elapsed()
            .ok()?;
        if age > REMOTE_TTL {
            return None;
        }
    }
    let text = std::fs::read_to_string(path).ok()?;
    let (seen, value) = text.split_once('\n')?;
    let value = value.trim();
    (seen == ident && !value.is_empty()).then(|| value.to_string())
}

/// Remembers `fact` of the engine at `host`. Best effort: a folder that cannot be written only
/// means the engine is asked again next time.
pub fn remember(host: &str, fact: &str, value: &str) {
    let Some(ident) = socket_identity(host) else {
        return;
    };
    let path = file(host, fact);
    // Written whole, then renamed: a concurrent reader sees the old file
    // or the new one, never half of one.
    let tmp = path.with_extension(format!("{fact}.{}.tmp", std::process::id()));
    let written = path
        .parent()
        .map(|dir| std::fs::create_dir_all(dir).and_then(|_| std::fs::write(&tmp, format!("{ident}\n{value}\n"))));
    if matches!(written, Some(Ok(()))) {
        let _ = std::fs::rename(&tmp, &path);
    }
}

/// Forgets `fact`, when the engine turned out to disagree with it.
pub fn forget(host: &str, fact: &str) {
    let _ = std::fs::remove_file(file(host, fact));
}
