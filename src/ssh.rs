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
//! `GIT_SSH_COMMAND`), e.g. `ssh -F ~/.ssh/deploy_config`.

use std::collections::HashMap;
use std::io::Read;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::Mutex;

/// Tunnels opened by this run: ssh URL → (folder, local socket).
static TUNNELS: Mutex<Option<HashMap<String, (PathBuf, PathBuf)>>> = Mutex::new(None);

/// `ssh://[user@]host[:port]` taken apart: (destination, port).
fn parse(url: &str) -> Result<(String, Option<String>), String> {
    let rest = url.strip_prefix("ssh://").ok_or("not an ssh:// URL")?;
    if rest.is_empty() || rest.contains('/') && !rest.ends_with('/') {
        return Err(format!("malformed ssh URL {url}: expected ssh://[user@]host[:port]"));
    }
    let rest = rest.trim_end_matches('/');
    let (userhost, port) = match rest.rsplit_once(':') {
        Some((h, p)) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => (h, Some(p.to_string())),
        Some(_) => return Err(format!("malformed ssh URL {url}: the port must be a number")),
        None => (rest, None),
    };
    if userhost.is_empty() || userhost.ends_with('@') {
        return Err(format!("malformed ssh URL {url}: no host"));
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
pub fn tunnel(url: &str) -> Result<PathBuf, String> {
    let mut all = TUNNELS.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((_, sock)) = all.get_or_insert_with(HashMap::new).get(url) {
        return Ok(sock.clone());
    }
    let (dest, port) = parse(url)?;
    let dir = std::env::temp_dir().join(format!(
        "orch-ssh-{}-{}",
        std::process::id(),
        all.as_ref().map_or(0, |m| m.len())
    ));
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    use std::os::unix::fs::PermissionsExt;
    let _ = std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700));
    let control = dir.join("ctl");
    let log = dir.join("master.log");
    // The master logs in, then goes to the background (ControlPersist)
    // and ends a while after the run's last channel.
    let mut master = ssh(&control, &port);
    master.args(["-o", "ControlMaster=yes", "-o", "ControlPersist=30", "-N"]);
    let status = to(master, &dest)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).map_err(|e| format!("{}: {e}", log.display()))?)
        .status()
        .map_err(|e| format!("cannot run ssh: {e}"))?;
    if !status.success() {
        let said = std::fs::read_to_string(&log).unwrap_or_default();
        let _ = std::fs::remove_dir_all(&dir);
        let said = said.trim().lines().last().unwrap_or("ssh failed").to_string();
        return Err(format!("ssh to {dest}: {said}"));
    }
    let sock = dir.join("docker.sock");
    let listener = UnixListener::bind(&sock).map_err(|e| format!("{}: {e}", sock.display()))?;
    std::thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            let mut cmd = ssh(&control, &port);
            cmd.args(["-o", "ControlMaster=no"]);
            let cmd = to(cmd, &dest);
            std::thread::spawn(move || pipe(conn, cmd));
        }
    });
    all.get_or_insert_with(HashMap::new)
        .insert(url.to_string(), (dir, sock.clone()));
    Ok(sock)
}

/// One connection: a `docker system dial-stdio` channel, bytes both ways.
fn pipe(conn: UnixStream, mut cmd: Command) {
    let child = cmd
        .args(["docker", "system", "dial-stdio"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn();
    let Ok(mut child) = child else {
        return;
    };
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

/// Ends this run's ssh masters and removes their folders.
pub fn close_all() {
    let mut all = TUNNELS.lock().unwrap_or_else(|e| e.into_inner());
    for (url, (dir, _)) in all.take().unwrap_or_default() {
        if let Ok((dest, port)) = parse(&url) {
            let mut c = ssh(&dir.join("ctl"), &port);
            c.args(["-O", "exit"]);
            let _ = to(c, &dest).stdout(Stdio::null()).stderr(Stdio::null()).status();
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
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
