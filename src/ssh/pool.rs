//! Kept-alive HTTP connections to an ssh engine's tunnel. bollard's unix
//! client keeps no idle connection (every request is a new one), which
//! through ssh is a new `docker system dial-stdio` channel per request: a
//! round trip to open it and a remote process to start (0.1–0.8 s here,
//! where the request itself takes a few ms). The docker CLI and Docker
//! Compose, on Go's `http.Transport`, keep their one channel and reuse it;
//! so does this pool. A request that finds no idle connection waits a
//! moment for one to come back before opening another channel: the reads
//! of one step (observing a project asks for its containers, networks and
//! images at once) each finish long before a new channel would be up.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bollard::{BollardRequest, Docker};
use http::header::{HeaderValue, HOST};
use http::uri::{PathAndQuery, Uri};
use hyper::body::Incoming;
use hyper::client::conn::http1::{self, SendRequest};
use hyper::Response;
use hyper_util::rt::TokioIo;
use tokio::sync::Notify;

type Body = <BollardRequest as RequestBody>::Body;

/// Names the body type bollard sends (its `BodyType` is not exported).
trait RequestBody {
    type Body;
}
impl<B> RequestBody for http::Request<B> {
    type Body = B;
}

/// How long a request waits for a busy connection to come back before it
/// opens a channel of its own (long streams, such as a followed log, hold
/// theirs: the requests after them wait this once, then open their own).
const GRACE: Duration = Duration::from_millis(50);

/// The host header the docker CLI sends through a connection helper.
const HOST_NAME: &str = "api.moby.localhost";

struct Pool {
    sock: PathBuf,
    state: Mutex<State>,
    freed: Notify,
}

#[derive(Default)]
struct State {
    idle: Vec<SendRequest<Body>>,
    /// Connections open or being opened, idle or not.
    live: usize,
}

/// A bollard client whose requests go through the tunnel socket `sock`
/// over kept-alive connections.
pub fn client(sock: PathBuf, timeout: u64, version: &bollard::ClientVersion) -> Result<Docker, bollard::errors::Error> {
    let pool = Arc::new(Pool {
        sock,
        state: Mutex::new(State::default()),
        freed: Notify::new(),
    });
    Docker::connect_with_custom_transport(
        move |req: BollardRequest| {
            let pool = pool.clone();
            async move { pool.request(req).await }
        },
        Some(format!("http://{HOST_NAME}")),
        timeout,
        version,
    )
}

impl Pool {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    async fn request(self: Arc<Self>, req: BollardRequest) -> Result<Response<Incoming>, bollard::errors::Error> {
        // A connection speaks origin-form (`/v1.41/…`) and needs a Host.
        let (mut parts, body) = req.into_parts();
        let pq = parts
            .uri
            .path_and_query()
            .cloned()
            .unwrap_or_else(|| PathAndQuery::from_static("/"));
        parts.uri = Uri::from(pq);
        parts.headers.insert(HOST, HeaderValue::from_static(HOST_NAME));
        let mut req = http::Request::from_parts(parts, body);
        loop {
            let (mut sender, reused) = self.checkout().await?;
            match sender.try_send_request(req).await {
                Ok(resp) => {
                    self.give_back(sender);
                    return Ok(resp);
                }
                Err(mut e) => match e.take_message() {
                    // A kept connection the other end had closed: the
                    // request was not sent, so it goes on another.
                    Some(again) if reused => req = again,
                    _ => return Err(e.into_error().into()),
                },
            }
        }
    }

    /// An idle connection (true: reused), or a new one when none is idle
    /// and none came back within [`GRACE`].
    async fn checkout(self: &Arc<Self>) -> Result<(SendRequest<Body>, bool), bollard::errors::Error> {
        let deadline = tokio::time::Instant::now() + GRACE;
        loop {
            let freed = self.freed.notified();
            {
                let mut st = self.state();
                while let Some(s) = st.idle.pop() {
                    if s.is_ready() {
                        return Ok((s, true));
                    }
                }
                if st.live == 0 || tokio::time::Instant::now() >= deadline {
                    st.live += 1;
                    break;
                }
            }
            let _ = tokio::time::timeout_at(deadline, freed).await;
        }
        let mut opening = Opening(Some(self.clone()));
        let sender = self.connect().await?;
        // From here the connection's task uncounts it when it closes.
        opening.0 = None;
        Ok((sender, false))
    }

    async fn connect(self: &Arc<Self>) -> Result<SendRequest<Body>, bollard::errors::Error> {
        let stream = tokio::net::UnixStream::connect(&self.sock).await?;
        let (sender, conn) = http1::handshake(TokioIo::new(stream)).await?;
        let pool = self.clone();
        tokio::spawn(async move {
            // Ends when the connection closes or is taken over (attach, exec).
            let _ = conn.with_upgrades().await;
            pool.state().live -= 1;
        });
        Ok(sender)
    }

    /// Puts `sender` back once its answer has been read to the end (never,
    /// for a connection taken over or closed).
    fn give_back(self: &Arc<Self>, mut sender: SendRequest<Body>) {
        let pool = self.clone();
        tokio::spawn(async move {
            if sender.ready().await.is_ok() {
                pool.state().idle.push(sender);
                pool.freed.notify_one();
            }
        });
    }
}

/// A connection being opened: counted in `live` (so requests arriving
/// meanwhile wait for it rather than open more), uncounted again if the
/// opening fails or its request is dropped on the way.
struct Opening(Option<Arc<Pool>>);

impl Drop for Opening {
    fn drop(&mut self) {
        if let Some(pool) = &self.0 {
            pool.state().live -= 1;
        }
    }
}
