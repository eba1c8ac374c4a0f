//! The connection to a Docker Engine.
//!
//! An [`Endpoint`] is one engine: the default one from `DOCKER_HOST` (or the
//! local socket), or any other a script names (e.g. each node of a swarm).
//! Connecting is lazy: `orch config` and other scripts that never touch the
//! engine work without one. The API version is always negotiated, because
//! bollard speaks a newer API than the Engine 20.10 (API 1.41) we run on.

use std::path::PathBuf;
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
    client: OnceCell<Docker>,
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

    /// The connected client, connecting and negotiating on first use.
    pub async fn client(&self) -> Result<&Docker, ConnectError> {
        self.client.get_or_try_init(|| connect(&self.host)).await
    }
}

fn error(host: &str, cause: impl ToString, hint: &str) -> ConnectError {
    ConnectError {
        host: host.to_string(),
        cause: cause.to_string(),
        hint: hint.to_string(),
    }
}

async fn connect(host: &str) -> Result<Docker, ConnectError> {
    // Requests such as `wait` or a followed log legitimately last for hours;
    // orch cancels them itself (Ctrl-C), so the client-side timeout is long.
    const TIMEOUT: u64 = 24 * 3600;
    let fix = "Is dockerd running? Start it, or point DOCKER_HOST at a running engine";
    let docker = if let Some(path) = host.strip_prefix("unix://") {
        if !std::path::Path::new(path).exists() {
            return Err(error(host, format!("socket {path} does not exist"), fix));
        }
        Docker::connect_with_unix(host, TIMEOUT, API_DEFAULT_VERSION)
    } else if host.starts_with("tcp://") || host.starts_with("http://") || host.starts_with("https://") {
        let verify = std::env::var("DOCKER_TLS_VERIFY").is_ok_and(|v| !v.is_empty() && v != "0");
        if verify || host.starts_with("https://") {
            let certs = cert_path();
            for f in ["key.pem", "cert.pem", "ca.pem"] {
                if !certs.join(f).exists() {
                    return Err(error(
                        host,
                        format!("TLS is on but {} is missing", certs.join(f).display()),
                        "Set DOCKER_CERT_PATH to the folder holding key.pem, cert.pem and ca.pem",
                    ));
                }
            }
            Docker::connect_with_ssl(
                host,
                &certs.join("key.pem"),
                &certs.join("cert.pem"),
                &certs.join("ca.pem"),
                TIMEOUT,
                API_DEFAULT_VERSION,
            )
        } else {
            Docker::connect_with_http(host, TIMEOUT, API_DEFAULT_VERSION)
        }
    } else {
        return Err(error(
            host,
            "unsupported address scheme",
            "Use unix:///path/to/docker.sock or tcp://host:port",
        ));
    };
    let docker = docker.map_err(|e| error(host, e, fix))?;
    // Negotiation asks the engine for its version: this is also the ping.
    match tokio::time::timeout(Duration::from_secs(30), docker.negotiate_version()).await {
        Ok(Ok(d)) => Ok(d),
        Ok(Err(e)) => Err(error(host, flatten(&e), fix)),
        Err(_) => Err(error(host, "no answer within 30 s", fix)),
    }
}

fn cert_path() -> PathBuf {
    std::env::var_os("DOCKER_CERT_PATH")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".docker"))
}

/// An engine error as one line: the engine's own message when it sent one.
pub fn flatten(e: &bollard::errors::Error) -> String {
    use bollard::errors::Error as E;
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
