//! The two tools under comparison, each with its own project name, folder,
//! host ports and environment, and the way a command is run (with a
//! timeout, timed, stdout and stderr captured).

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Which binary runs a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Orch,
    Compose,
}

impl Kind {
    pub fn other(self) -> Kind {
        match self {
            Kind::Orch => Kind::Compose,
            Kind::Compose => Kind::Orch,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Kind::Orch => "orch",
            Kind::Compose => "compose",
        }
    }

    pub fn binary(self) -> PathBuf {
        match self {
            // `ORCH_DIFF_BIN`: time an optimised build (CI passes the
            // release binary it installed from this same tree); the debug
            // binary cargo builds for tests is the default.
            Kind::Orch => std::env::var_os("ORCH_DIFF_BIN")
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_orch"))),
            Kind::Compose => crate::common::compose_ref(),
        }
    }
}

/// One side of a scenario: the tool and everything that is its own.
pub struct Side {
    pub kind: Kind,
    pub project: String,
    pub dir: PathBuf,
    pub ports: Vec<u16>,
    /// The second octet of a /16 under 10.0.0.0/8 no network uses
    /// (`DT_NET`): fixtures with fixed subnets and addresses
    /// (`10.${DT_NET}.0.0/16`) run on both sides at once.
    pub net: u8,
    /// Variables from `env` steps, in order.
    pub env: Vec<(String, String)>,
}

impl Side {
    /// The variables a fixture and a `docker` step may use.
    pub fn vars(&self) -> Vec<(String, String)> {
        let mut v = vec![("DT_PROJECT".to_string(), self.project.clone())];
        for (i, p) in self.ports.iter().enumerate() {
            v.push((format!("DT_PORT_{}", i + 1), p.to_string()));
        }
        v.push(("DT_NET".to_string(), self.net.to_string()));
        v.extend(self.env.iter().cloned());
        v
    }

    /// `BIN -p PROJECT ARGS` in this side's folder, with its variables.
    pub fn command(&self, bin: Kind, args: &[String]) -> Command {
        let mut c = Command::new(bin.binary());
        c.arg("-p").arg(&self.project).args(args).current_dir(&self.dir);
        for k in [
            "COMPOSE_FILE",
            "COMPOSE_PROFILES",
            "COMPOSE_PROJECT_NAME",
            "COMPOSE_REMOVE_ORPHANS",
        ] {
            c.env_remove(k);
        }
        c.envs(self.vars());
        c
    }
}

/// What a command did.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    pub took: Duration,
}

/// Runs a command to its end or `limit`, feeding `stdin` if given.
pub fn run(mut cmd: Command, stdin: Option<&Path>, limit: Duration) -> Outcome {
    let start = Instant::now();
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    match stdin {
        Some(p) => match std::fs::File::open(p) {
            Ok(f) => cmd.stdin(f),
            Err(e) => return failed(format!("stdin {}: {e}", p.display())),
        },
        None => cmd.stdin(Stdio::null()),
    };
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => return failed(format!("spawn {cmd:?}: {e}")),
    };
    let mut out = child.stdout.take().expect("piped");
    let mut err = child.stderr.take().expect("piped");
    let t_out = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = out.read_to_end(&mut s);
        s
    });
    let t_err = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = err.read_to_end(&mut s);
        s
    });
    let mut timed_out = false;
    let status = loop {
        match child.try_wait() {
            Ok(Some(s)) => break Some(s),
            Ok(None) if start.elapsed() > limit => {
                timed_out = true;
                let _ = child.kill();
                break child.wait().ok();
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(10)),
            Err(_) => break None,
        }
    };
    let took = start.elapsed();
    let stdout = String::from_utf8_lossy(&t_out.join().unwrap_or_default()).into_owned();
    let mut stderr = String::from_utf8_lossy(&t_err.join().unwrap_or_default()).into_owned();
    if timed_out {
        stderr.push_str(&format!("\n(killed after {}s)", limit.as_secs()));
    }
    let code = status.and_then(|s| s.code()).unwrap_or(-1);
    Outcome {
        code,
        stdout,
        stderr,
        took,
    }
}

fn failed(msg: String) -> Outcome {
    Outcome {
        code: -1,
        stdout: String::new(),
        stderr: msg,
        took: Duration::ZERO,
    }
}

/// `docker ARGS` → stdout ("" when it fails).
pub fn docker(args: &[&str]) -> String {
    Command::new("docker")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default()
}

/// Free host ports, found by binding port 0 (released before use: a
/// scenario binds them a moment later).
pub fn free_ports(n: usize) -> Vec<u16> {
    let held: Vec<_> = (0..n)
        .filter_map(|_| std::net::TcpListener::bind("0.0.0.0:0").ok())
        .collect();
    held.iter()
        .filter_map(|l| l.local_addr().ok())
        .map(|a| a.port())
        .collect()
}

/// A second octet N for `10.N.0.0/16` that no existing network's subnet
/// starts with and no other side of this run got. Picked from a
/// per-process start so concurrent runs (other worktrees) rarely meet.
pub fn free_net() -> u8 {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let ids = docker(&["network", "ls", "-q"]);
    let mut args = vec![
        "network",
        "inspect",
        "--format",
        "{{range .IPAM.Config}}{{.Subnet}} {{end}}",
    ];
    args.extend(ids.split_whitespace());
    let used = docker(&args);
    let seed = std::process::id() % 200;
    loop {
        let n = (seed + NEXT.fetch_add(1, Ordering::Relaxed)) % 200 + 40;
        if !used.contains(&format!("10.{n}.")) {
            return n as u8;
        }
    }
}
