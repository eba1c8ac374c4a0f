//! `ssh://[user@]host[:port]` engines, reached as the docker CLI reaches
//! them: the system `ssh` client runs `docker system dial-stdio` on the
//! remote host, and each HTTP connection is one such channel. One ssh
//! master per run (`ControlMaster`) carries every channel, so a run logs
//! in once and parallel calls stay parallel (bollard's own ssh transport
//! starts a master per connection).
//!
//! bollard speaks HTTP over a unix socket, so a run's tunnel is a socket
//! in a private folder; each connection made to it is piped through its
//! own channel. `ORCH_SSH_COMMAND` replaces `ssh` (with options, as git's
//! `GIT_SSH_COMMAND`), e.g. `ssh -F ~/.ssh/deploy_config`. Connections are
//! kept alive and reused ([`pool`]), as the docker CLI keeps its one.

mod pool;
pub use pool::client;

use std::collections::HashMap;
use std::io::Read;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::Duration;

/// Tunnels of this run by ssh URL.
static TUNNELS: Mutex<Option<HashMap<String, Tunnel>>> = Mutex::new(None);

enum Tunnel {
    /// Its folder and local socket.
    Open(PathBuf, PathBuf),
    /// A login begun by [`warm_up`] failed: told to the first real use,
    /// then forgotten (a later use tries again).
    Failed(crate::error::Error),
}

/// `ssh://[user@]host[:port]` taken apart: (destination, port).
fn parse(url: &str) -> crate::error::Result<(String, Option<String>)> {
    let rest = url.strip_prefix("ssh://").ok_or("not an ssh:// URL")?;
    if rest.is_empty() || rest.contains('/') && !rest.ends_with('/') {
        return Err(format!("malformed ssh URL {url}: expected ssh://[user@]host[:port]").into());
    }
    let rest = rest.trim_end_matches('/');
    let (userhost, port) = match rest.rsplit_once(':') {
        Some((h, p)) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => (h, Some(p.to_string())),
        Some(_) => return Err(format!("malformed ssh URL {url}: the port must be a number").into()),
        None => (rest, None),
    };
    if userhost.is_empty() || userhost.ends_with('@') {
        return Err(format!("malformed ssh URL {url}: no host").into());
    }
    Ok((userhost.to_string(), port))
}

/// The ssh command line: `ORCH_SSH_COMMAND` or `ssh`, then the control
/// options; the caller adds its own options, then [`to`] the destination.
fn ssh(control: &std::path::Path, port: &Option<String>) -> Command {
    let line = std::env::var("ORCH_SSH_COMMAND").ok().filter(|s| !s.trim().is_empty());
    let words: Vec<String> = line
        .as_deref()
        .unwrap_or("ssh")
        .split_whitespace()
        .map(str::to_string)
        .collect();
    let mut c = Command::new(&words[0]);
    c.args(&words[1..])
        .arg("-o")
        .arg(format!("ControlPath={}", control.display()))
        .args(["-o", "BatchMode=yes", "-T"]);
    if let Some(p) = port {
        c.args(["-p", p]);
    }
    c
}

/// Ends the options: the destination, then the remote command if any.
fn to(mut c: Command, dest: &str) -> Command {
    c.arg("--").arg(dest);
    c
}

/// The local socket that reaches the engine at `url`, logging in (the ssh
/// master) on first use. Errors carry ssh's own words.
pub fn tunnel(url: &str) -> crate::error::Result<PathBuf> {
    open(url, false)
}

/// Starts logging in to `url` in the background, for a command certain to
/// need its engine: the login and the first channel are most of a remote
/// command's time, and they overlap the command's own start (reading its
/// compose files) instead of following it.
pub fn warm_up(url: &str) {
    let url = url.to_string();
    std::thread::spawn(move || open(&url, true));
}

fn open(url: &str, warm: bool) -> crate::error::Result<PathBuf> {
    let mut all = TUNNELS.lock().unwrap_or_else(|e| e.into_inner());
    let known = all.get_or_insert_with(HashMap::new);
    match known.get(url) {
        Some(Tunnel::Open(_, sock)) => return Ok(sock.clone()),
        Some(Tunnel::Failed(e)) if warm => return Err(e.clone()),
        Some(Tunnel::Failed(e)) => {
            let e = e.clone();
            known.remove(url);
            return Err(e);
        }
        None => {}
    }
    let n = known.len();
    match log_in(url, n) {
        Ok((dir, sock)) => {
            known.insert(url.to_string(), Tunnel::Open(dir, sock.clone()));
            Ok(sock)
        }
        Err(e) => {
            if warm {
                known.insert(url.to_string(), Tunnel::Failed(e.clone()));
            }
            Err(e)
        }
    }
}

/// The `n`th tunnel of this run: its folder and local socket.
fn log_in(url: &str, n: usize) -> crate::error::Result<(PathBuf, PathBuf)> {
    let (dest, port) = parse(url)?;
    let dir = std::env::temp_dir().join(format!("orch-ssh-{}-{n}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    use std::os::unix::fs::PermissionsExt;
    let _ = std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700));
    let control = dir.join("ctl");
    let log = dir.join("master.log");
    let first = login(&control, &port, &dest, &log).inspect_err(|_| {
        let _ = std::fs::remove_dir_all(&dir);
    })?;
    let sock = dir.join("docker.sock");
    let listener = UnixListener::bind(&sock).map_err(|e| format!("{}: {e}", sock.display()))?;
    std::thread::spawn(move || {
        let mut first = Some(first);
        for conn in listener.incoming().flatten() {
            // The first connection takes the channel the login opened.
            let child = match first.take() {
                Some(c) => Ok(c),
                None => {
                    let mut cmd = ssh(&control, &port);
                    cmd.args(["-o", "ControlMaster=no"]);
                    dial(to(cmd, &dest), Stdio::null())
                }
            };
            if let Ok(child) = child {
                std::thread::spawn(move || pipe(conn, child));
            }
        }
    });
    Ok((dir, sock))
}

/// Logs in: the master (it goes to the background, ControlPersist, and
/// ends a while after the run's last channel) runs the first channel
/// itself, so the first request waits for one login, as the docker CLI's
/// does, not for a login and then a channel. Returns that channel once the
/// control socket is there (the login succeeded); ssh's own words when not.
fn login(
    control: &std::path::Path,
    port: &Option<String>,
    dest: &str,
    log: &std::path::Path,
) -> crate::error::Result<Child> {
    let mut master = ssh(control, port);
    master.args(["-o", "ControlMaster=yes", "-o", "ControlPersist=30"]);
    let stderr = std::fs::File::create(log).map_err(|e| format!("{}: {e}", log.display()))?;
    let mut child = dial(to(master, dest), stderr.into()).map_err(|e| format!("cannot run ssh: {e}"))?;
    loop {
        if control.exists() {
            return Ok(child);
        }
        if let Ok(Some(_)) | Err(_) = child.try_wait() {
            let said = std::fs::read_to_string(log).unwrap_or_default();
            let said = said.trim().lines().last().unwrap_or("ssh failed").to_string();
            return Err(format!("ssh to {dest}: {said}").into());
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// Starts a `docker system dial-stdio` channel: HTTP in on its stdin, out
/// on its stdout.
fn dial(mut cmd: Command, stderr: Stdio) -> std::io::Result<Child> {
    cmd.args(["docker", "system", "dial-stdio"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(stderr)
        .spawn()
}

/// One connection over its channel, bytes both ways.
fn pipe(conn: UnixStream, mut child: Child) {
    let (Some(mut to_remote), Some(mut from_remote)) = (child.stdin.take(), child.stdout.take()) else {
        return;
    };
    let Ok(mut reader) = conn.try_clone() else {
        return;
    };
    // Plain reads and writes: std::io::copy splices socket to pipe, and a
    // splice waits for more than one request's bytes before passing any.
    let up = std::thread::spawn(move || relay(&mut reader, &mut to_remote));
    let mut writer = conn;
    relay(&mut from_remote, &mut writer);
    let _ = writer.shutdown(std::net::Shutdown::Both);
    let _ = up.join();
    let _ = child.kill();
    let _ = child.wait();
}

/// Copies `from` to `to` as bytes arrive, until either side ends.
fn relay(from: &mut impl Read, to: &mut impl std::io::Write) {
    let mut buf = [0u8; 64 * 1024];
    loop {
        match from.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => {
                if to.write_all(&buf[..n]).and_then(|_| to.flush()).is_err() {
                    return;
                }
            }
        }
    }
}

/// Ends this run's ssh masters and removes their folders. A login still
/// under way (a warm-up the command did not wait for) is left alone: its
/// master ends by itself (ControlPersist) once this process is gone.
pub fn close_all() {
    let Ok(mut all) = TUNNELS.try_lock() else {
        return;
    };
    for (url, t) in all.take().unwrap_or_default() {
        let (Tunnel::Open(dir, _), Ok((dest, port))) = (t, parse(&url)) else {
            continue;
        };
        let control = dir.join("ctl");
        if end_master(&control).is_err() {
            let mut c = ssh(&control, &port);
            c.args(["-O", "exit"]);
            let _ = to(c, &dest).stdout(Stdio::null()).stderr(Stdio::null()).status();
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}

/// What `ssh -O exit` asks the master at `control` (OpenSSH's
/// PROTOCOL.mux: a hello, then a terminate request), without starting a
/// process for it: that process was a tenth of a no-op `up`'s time here.
fn end_master(control: &std::path::Path) -> std::io::Result<()> {
    use std::io::Write;
    const HELLO: u32 = 1;
    const VERSION: u32 = 4;
    const TERMINATE: u32 = 0x1000_0005;
    const OK: u32 = 0x8000_0001;
    let mut s = UnixStream::connect(control)?;
    s.set_read_timeout(Some(Duration::from_secs(2)))?;
    let message = |kind: u32, arg: u32| [8u32, kind, arg].map(u32::to_be_bytes).concat();
    s.write_all(&message(HELLO, VERSION))?;
    read_message(&mut s)?;
    s.write_all(&message(TERMINATE, 1))?;
    // The master may end before its answer is out: as `ssh -O exit`, the
    // connection closing is the sign it did.
    match read_message(&mut s) {
        Ok(reply) if reply.starts_with(&OK.to_be_bytes()) => Ok(()),
        Ok(_) => Err(std::io::Error::other("the ssh master refused to exit")),
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => Ok(()),
        Err(e) => Err(e),
    }
}

/// One mux message (a 4-byte length, then that many bytes).
fn read_message(s: &mut UnixStream) -> std::io::Result<Vec<u8>> {
    let mut len = [0u8; 4];
    s.read_exact(&mut len)?;
    let len = u32::from_be_bytes(len) as usize;
    if len > 64 * 1024 {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "not an ssh mux message",
        ));
    }
    let mut body = vec![0u8; len];
    s.read_exact(&mut body)?;
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn ssh_urls() {
        assert_eq!(parse("ssh://root@10.0.0.2").unwrap(), ("root@10.0.0.2".into(), None));
        assert_eq!(parse("ssh://h:2222").unwrap(), ("h".into(), Some("2222".into())));
        assert!(parse("ssh://").is_err());
        assert!(parse("ssh://h:x").is_err());
        assert!(parse("ssh://root@").is_err());
    }
}
