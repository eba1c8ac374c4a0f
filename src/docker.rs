//! The connection to a Docker Engine.
//!
//! An [`Endpoint`] is one engine: the default one from `DOCKER_HOST` (or the
//! local socket), or any other a script names (e.g. each node of a swarm).
//! Connecting is lazy: `orch config` and other scripts that never touch the
//! engine work without one. The API version is always negotiated, because
//! bollard speaks a newer API than the Engine 20.10 (API 1.41) we run on.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bollard::{Docker, API_DEFAULT_VERSION};
use tokio::sync::OnceCell;

/// The socket dockerd listens on when `DOCKER_HOST` is not set.
pub const DEFAULT_HOST: &str = "unix:///var/run/docker.sock";

/// One engine orch talks to.
#[derive(Debug)]
pub struct Endpoint {
    /// Where it is, as the user wrote it (`unix:///…`, `tcp://…`).
    pub host: String,
    /// TLS files given by a context or by `--tlscacert`/`--tlscert`/
    /// `--tlskey`, used instead of `DOCKER_CERT_PATH`'s.
    tls: Option<Tls>,
    client: OnceCell<Docker>,
}

/// A TLS client's files: the CA that signed the engine's certificate,
/// and this client's certificate and key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tls {
    pub ca: PathBuf,
    pub cert: PathBuf,
    pub key: PathBuf,
}

impl Tls {
    /// `ca.pem`, `cert.pem` and `key.pem` in `dir` (the docker CLI's names).
    pub fn in_dir(dir: &std::path::Path) -> Tls {
        Tls {
            ca: dir.join("ca.pem"),
            cert: dir.join("cert.pem"),
            key: dir.join("key.pem"),
        }
    }
}

/// Why an engine could not be reached, written to fit on one line.
#[derive(Debug, Clone, thiserror::Error)]
#[error("cannot connect to the Docker engine at {host}: {cause}. {hint}")]
pub struct ConnectError {
    pub host: String,
    pub cause: String,
    pub hint: String,
}

impl Endpoint {
    /// An endpoint for `host`; nothing is contacted until first use.
    pub fn new(host: impl Into<String>) -> Arc<Self> {
        Arc::new(Endpoint {
            host: host.into(),
            tls: None,
            client: OnceCell::new(),
        })
    }

    /// The engine named by `DOCKER_HOST`, or the local socket.
    pub fn from_env() -> Arc<Self> {
        let host = std::env::var("DOCKER_HOST")
            .ok()
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| DEFAULT_HOST.to_string());
        Self::new(host)
    }

    /// An endpoint for `host` (the local socket when `None`) spoken to
    /// over TLS with `tls`'s files when given.
    pub fn with_tls(host: Option<String>, tls: Option<Tls>) -> Arc<Self> {
        Arc::new(Endpoint {
            host: host.unwrap_or_else(|| DEFAULT_HOST.to_string()),
            tls,
            client: OnceCell::new(),
        })
    }

    /// The connected client, connecting and negotiating on first use.
    pub async fn client(&self) -> Result<&Docker, ConnectError> {
        self.client
            .get_or_try_init(|| connect(&self.host, self.tls.as_ref()))
            .await
    }
}

fn error(host: &str, cause: impl ToString, hint: &str) -> ConnectError {
    ConnectError {
        host: host.to_string(),
        cause: cause.to_string(),
        hint: hint.to_string(),
    }
}

/// Seconds an engine may take to start answering a call before orch gives
/// up on it (0 = wait for ever): `--engine-timeout` / `ORCH_ENGINE_TIMEOUT`.
/// The deadline runs until the answer's headers arrive, so a followed log,
/// an attach or a wait (answered at once, then streamed) is not cut short.
pub const DEFAULT_TIMEOUT_SECS: u64 = 120;
static TIMEOUT_SECS: AtomicU64 = AtomicU64::new(DEFAULT_TIMEOUT_SECS);

/// A deadline for calls the engine answers only when done.
const PATIENT_SECS: u64 = 24 * 3600;

/// Sets the deadline of engine calls (before any engine is contacted).
pub fn set_timeout(secs: u64) {
    TIMEOUT_SECS.store(secs, Ordering::SeqCst);
}

fn timeout_secs() -> u64 {
    match TIMEOUT_SECS.load(Ordering::SeqCst) {
        0 => PATIENT_SECS,
        s => s,
    }
}

/// The client for a call the engine answers only when the work is done,
/// which may rightly take longer than the deadline: a stop's grace period
/// more (`grace_secs`), or without a practical limit when that is unknown
/// (`None`: the container's own stop timeout, builds, pulls, transfers).
pub fn patient(d: &Docker, grace_secs: Option<i64>) -> Docker {
    let secs = match grace_secs {
        Some(g) => timeout_secs().saturating_add(g.max(0) as u64 + 1),
        None => PATIENT_SECS,
    };
    d.clone().with_timeout(Duration::from_secs(secs))
}

async fn connect(host: &str, tls: Option<&Tls>) -> Result<Docker, ConnectError> {
    let timeout = timeout_secs();
    let fix = "Is dockerd running? Start it, or point DOCKER_HOST at a running engine";
    // A version remembered for this very socket needs no `/version`
    // (negotiating makes the engine run its components to learn theirs).
    let remembered = crate::memo::recall(host, "api").and_then(|v| parse_version(&v));
    let version = remembered.as_ref().unwrap_or(API_DEFAULT_VERSION);
    let docker = if let Some(path) = host.strip_prefix("unix://") {
        if !std::path::Path::new(path).exists() {
            return Err(error(host, format!("socket {path} does not exist"), fix));
        }
        Docker::connect_with_unix(host, timeout, version)
    } else if host.starts_with("tcp://") || host.starts_with("http://") || host.starts_with("https://") {
        let verify = std::env::var("DOCKER_TLS_VERIFY").is_ok_and(|v| !v.is_empty() && v != "0");
        if verify || tls.is_some() || host.starts_with("https://") {
            let files = tls.cloned().unwrap_or_else(|| Tls::in_dir(&cert_path()));
            for f in [&files.key, &files.cert, &files.ca] {
                if !f.exists() {
                    return Err(error(
                        host,
                        format!("TLS is on but {} is missing", f.display()),
                        "Set DOCKER_CERT_PATH to the folder holding key.pem, cert.pem and ca.pem, or give --tlscacert, --tlscert and --tlskey",
                    ));
                }
            }
            Docker::connect_with_ssl(host, &files.key, &files.cert, &files.ca, timeout, version)
        } else {
            Docker::connect_with_http(host, timeout, version)
        }
    } else if host.starts_with("ssh://") {
        let url = host.to_string();
        let sock = tokio::task::spawn_blocking(move || crate::ssh::tunnel(&url))
            .await
            .map_err(|e| error(host, e, ""))?
            .map_err(|e| {
                error(
                    host,
                    e,
                    "`ssh HOST docker version` must work without a prompt (a key in ssh-agent or ~/.ssh, the host known), as for the docker CLI",
                )
            })?;
        crate::ssh::client(sock, timeout, version)
    } else {
        return Err(error(
            host,
            "unsupported address scheme",
            "Use unix:///path/to/docker.sock or tcp://host:port",
        ));
    };
    let docker = docker.map_err(|e| error(host, e, fix))?;
    let wait = Duration::from_secs(timeout.min(30));
    let late = || error(host, format!("no answer within {} s", wait.as_secs()), fix);
    // A local socket whose file is the one the version was remembered
    // from is the same daemon: its first real call tells whether it
    // answers (`describe` words a refusal or a freeze, naming the call),
    // so it needs no ping of its own, a round trip on every command (the
    // docker CLI's `service ls` is the yardstick, bench/swarm.sh). A
    // remote engine's memo is only an hour old: it is pinged.
    if remembered.is_some() && host.starts_with("unix://") {
        return Ok(docker);
    }
    if remembered.is_some() {
        return match tokio::time::timeout(wait, docker.ping()).await {
            Ok(Ok(_)) => Ok(docker),
            Ok(Err(e)) => Err(error(host, flatten(&e), fix)),
            Err(_) => Err(late()),
        };
    }
    match tokio::time::timeout(wait, docker.negotiate_version()).await {
        Ok(Ok(d)) => {
            let v = d.client_version();
            crate::memo::remember(host, "api", &format!("{}.{}", v.major_version, v.minor_version));
            Ok(d)
        }
        Ok(Err(e)) => Err(error(host, flatten(&e), fix)),
        Err(_) => Err(late()),
    }
}

/// `1.41` as bollard's version.
fn parse_version(s: &str) -> Option<bollard::ClientVersion> {
    let (major, minor) = s.split_once('.')?;
    Some(bollard::ClientVersion {
        major_version: major.parse().ok()?,
        minor_version: minor.parse().ok()?,
    })
}

fn cert_path() -> PathBuf {
    std::env::var_os("DOCKER_CERT_PATH")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".docker"))
}

/// The engine the primitives talk to now (set with [`note_current`]):
/// the one messages about a lost connection name.
static CURRENT: std::sync::Mutex<Option<String>> = std::sync::Mutex::new(None);

/// Records the engine the primitives talk to from now on (the chosen
/// context's, or the one `engine::connect` named).
pub fn note_current(host: &str) {
    *CURRENT.lock().unwrap_or_else(|e| e.into_inner()) = Some(host.to_string());
}

/// The engine orch talks to unless a script names another.
fn default_host() -> String {
    if let Some(h) = CURRENT.lock().unwrap_or_else(|e| e.into_inner()).clone() {
        return h;
    }
    std::env::var("DOCKER_HOST")
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| DEFAULT_HOST.to_string())
}

/// What went wrong on the way to or from the engine, in users' words
/// ("the Docker engine at ADDR closed the connection"), when the error is
/// about the connection rather than an answer of the engine's.
fn transport_problem(e: &bollard::errors::Error) -> Option<String> {
    use bollard::errors::Error as E;
    use std::io::ErrorKind as K;
    let host = default_host();
    if matches!(e, E::RequestTimeoutError) {
        return Some(format!(
            "the Docker engine at {host} did not answer within {} s (is it frozen or overloaded? \
             --engine-timeout / ORCH_ENGINE_TIMEOUT sets the deadline)",
            timeout_secs()
        ));
    }
    let mut src: Option<&(dyn std::error::Error + 'static)> = Some(e);
    let mut closed = false;
    // A refused certificate surfaces as a failed connect: name it.
    while let Some(s) = src {
        let text = s.to_string();
        if text.contains("certificate") || text.contains("HandshakeFailure") || text.contains("handshake") {
            return Some(format!("TLS with the Docker engine at {host} failed: {text}"));
        }
        src = s.source();
    }
    let mut src: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(s) = src {
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            match io.kind() {
                K::ConnectionReset | K::BrokenPipe | K::UnexpectedEof | K::ConnectionAborted => closed = true,
                K::ConnectionRefused | K::NotFound => {
                    return Some(format!("the Docker engine at {host} is not accepting connections"))
                }
                _ => {}
            }
        }
        if let Some(h) = s.downcast_ref::<hyper::Error>() {
            closed |= h.is_incomplete_message() || h.is_closed() || h.is_canceled();
        }
        src = s.source();
    }
    match e {
        E::HyperResponseError { err } => closed |= err.is_incomplete_message() || err.is_closed() || err.is_canceled(),
        E::HyperLegacyError { err } if err.is_connect() => {
            return Some(format!("the Docker engine at {host} is not accepting connections"))
        }
        _ => {}
    }
    closed.then(|| format!("the Docker engine at {host} closed the connection"))
}

/// An engine error for the call `what` (e.g. "container create web-1"):
/// `what: the engine's message`, or, when the connection failed,
/// "the Docker engine at ADDR closed the connection during `what`".
pub fn describe(what: impl std::fmt::Display, e: &bollard::errors::Error) -> String {
    match transport_problem(e) {
        Some(p) => format!("{p} during `{what}`"),
        None => format!("{what}: {}", flatten(e)),
    }
}

/// An engine error as one line: the engine's own message when it sent one.
pub fn flatten(e: &bollard::errors::Error) -> String {
    use bollard::errors::Error as E;
    if let Some(p) = transport_problem(e) {
        return p;
    }
    match e {
        E::DockerResponseServerError { message, .. } => message.trim().to_string(),
        E::DockerStreamError { error } => error.trim().to_string(),
        E::DockerContainerWaitError { error, code } => {
            if error.is_empty() {
                format!("container exited with code {code}")
            } else {
                error.clone()
            }
        }
        other => {
            // Hyper errors hide the useful part in their source chain.
            let mut msg = other.to_string();
            let mut src = std::error::Error::source(other);
            while let Some(s) = src {
                let s_msg = s.to_string();
                if !msg.contains(&s_msg) {
                    msg.push_str(": ");
                    msg.push_str(&s_msg);
                }
                src = s.source();
            }
            msg
        }
    }
}

/// The HTTP status of an engine error, if it has one (404 = not found …).
pub fn status(e: &bollard::errors::Error) -> Option<u16> {
    match e {
        bollard::errors::Error::DockerResponseServerError { status_code, .. } => Some(*status_code),
        _ => None,
    }
}

/// Removes a container, again when the engine failed only to delete its
/// files: dockerd 20.10 on fuse-overlayfs, removing hundreds of containers
/// at once, answers one of them "unable to remove filesystem … directory
/// not empty" and leaves it `Dead`; a second removal a moment later
/// succeeds (seen in `down` of 500 containers, for orch and compose alike;
/// compose stops there). Three more tries, 0.2, 0.4 and 0.8 s apart.
/// Every removal of a project's container goes through here (down, rm,
/// recreate, scale-in, rollouts, `c.remove()`); only the clean-up of a
/// container that was never started does not.
pub async fn remove_container(
    d: &Docker,
    id: &str,
    opts: bollard::query_parameters::RemoveContainerOptions,
) -> Result<(), bollard::errors::Error> {
    let mut pause = Duration::from_millis(200);
    for _ in 0..3 {
        match d.remove_container(id, Some(opts.clone())).await {
            Err(e) if files_left_behind(&e) => tokio::time::sleep(pause).await,
            done => return done,
        }
        pause *= 2;
    }
    d.remove_container(id, Some(opts)).await
}

/// Whether a removal failed only on the container's files (dockerd 20.10
/// says "unable to remove filesystem", later versions "failed to remove
/// root filesystem").
fn files_left_behind(e: &bollard::errors::Error) -> bool {
    status(e) == Some(500) && {
        let m = flatten(e);
        m.contains("unable to remove filesystem") || m.contains("failed to remove root filesystem")
    }
}

/// A listed container's name without the engine's leading `/` (empty if
/// it has none).
pub fn summary_name(c: &bollard::models::ContainerSummary) -> String {
    listed_name(c.names.as_deref().unwrap_or_default())
}

/// The first of a list answer's `Names` without its leading `/`.
pub fn listed_name(names: &[String]) -> String {
    names
        .first()
        .map(|n| n.trim_start_matches('/').to_string())
        .unwrap_or_default()
}

/// An engine timestamp as the engine wrote it (RFC 3339, nanoseconds kept),
/// for places that show or sort it as text.
pub fn rfc3339(t: &time::OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use bollard::errors::Error;

    fn answer(status_code: u16, message: &str) -> Error {
        Error::DockerResponseServerError {
            status_code,
            message: message.into(),
        }
    }

    #[test]
    fn only_a_failed_removal_of_files_is_tried_again() {
        let left = |e: Error| super::files_left_behind(&e);
        assert!(left(answer(
            500,
            "unable to remove filesystem for 4f2a: unlinkat /var/lib/docker/fuse-overlayfs/4f2a/merged: directory not empty"
        )));
        assert!(left(answer(
            500,
            "container 4f2a: driver \"overlay2\" failed to remove root filesystem: device or resource busy"
        )));
        assert!(!left(answer(409, "removal of container 4f2a is already in progress")));
        assert!(!left(answer(500, "driver failed programming external connectivity")));
        assert!(!left(answer(404, "No such container: 4f2a")));
    }
}
