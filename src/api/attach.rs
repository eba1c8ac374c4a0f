//! `Container.start_attached`: a container started with its streams tied
//! to orch's own, as the Docker CLI's `RunStart` does for `docker start -a
//! -i` and for `docker compose run` without `-d`: attach first (so no
//! early output is lost), forward orch's stdin when asked, start, copy the
//! output until the container closes it, then report its exit code.

use std::io::{IsTerminal, Read};

use bollard::container::LogOutput;
use bollard::query_parameters as qp;
use bollard::Docker;
use futures_util::StreamExt;
use rhai::plugin::*;
use rhai::Map;
use rustix::termios::{self, OptionalActions, Termios};
use tokio::io::{AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc;

use super::container::Container;

use super::options::{AttachOpts, StartAttachedOpts};
use super::{client, engine_err, RhaiResult};
use crate::bridge;

/// Chunks of orch's stdin, read on a thread of their own: a read from a
/// terminal cannot be cancelled, so it must not hold up the runtime when
/// the container exits first (the thread dies with the process). The
/// channel closes at end of input (or a read error, which ends it too).
pub(super) fn stdin_chunks() -> mpsc::Receiver<Vec<u8>> {
    let (tx, rx) = mpsc::channel(16);
    std::thread::spawn(move || {
        let mut stdin = std::io::stdin();
        let mut buf = vec![0u8; 32 * 1024];
        loop {
            match stdin.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if tx.blocking_send(buf[..n].to_vec()).is_err() {
                        break;
                    }
                }
            }
        }
    });
    rx
}

/// Copies `input` chunks into the attach connection, then half-closes it
/// (the CLI's `CloseWrite`): with `StdinOnce` the engine then closes the
/// container's stdin, so a command reading it sees end of input.
pub(super) async fn forward(mut input: Option<mpsc::Receiver<Vec<u8>>>, mut conn: impl AsyncWrite + Unpin) {
    if let Some(rx) = input.as_mut() {
        while let Some(chunk) = rx.recv().await {
            if conn.write_all(&chunk).await.is_err() || conn.flush().await.is_err() {
                return;
            }
        }
    }
    let _ = conn.shutdown().await;
}

/// Writes one frame of the container's output to orch's stdout or stderr.
/// Blocking is fine: this runs on the script's thread (`bridge::block_on`),
/// not on the runtime's. A closed stdout (`orch run … | head -1`) is not an
/// error: the container keeps running to its own end, as with the CLI.
pub(super) fn write_out(frame: LogOutput) {
    use std::io::Write;
    let _ = match frame {
        LogOutput::StdErr { message } => {
            let mut e = std::io::stderr().lock();
            e.write_all(&message).and_then(|_| e.flush())
        }
        LogOutput::StdOut { message } | LogOutput::Console { message } => {
            let mut o = std::io::stdout().lock();
            o.write_all(&message).and_then(|_| o.flush())
        }
        LogOutput::StdIn { .. } => Ok(()),
    };
}

/// orch's terminal (stdin) in raw mode while a TTY container has it, as
/// the Docker CLI's `SetRawTerminal`: keys (Ctrl-C too) go to the
/// container's terminal, which echoes them. Restored when dropped, also
/// when Ctrl-C (SIGTERM) drops the call.
pub(super) struct RawMode(Termios);

impl RawMode {
    pub(super) fn enable() -> Option<RawMode> {
        let stdin = std::io::stdin();
        let saved = termios::tcgetattr(&stdin).ok()?;
        let mut raw = saved.clone();
        raw.make_raw();
        termios::tcsetattr(&stdin, OptionalActions::Now, &raw).ok()?;
        Some(RawMode(saved))
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        let _ = termios::tcsetattr(std::io::stdin(), OptionalActions::Now, &self.0);
    }
}

/// orch's terminal size (rows, columns), from stdout as the CLI reads it.
pub(super) fn terminal_size() -> Option<(i32, i32)> {
    let ws = termios::tcgetwinsize(std::io::stdout()).ok()?;
    (ws.ws_row > 0).then_some((i32::from(ws.ws_row), i32::from(ws.ws_col)))
}

/// Keeps a TTY the size of orch's terminal: `resize` now, and on every
/// SIGWINCH (the CLI's `MonitorTtySize`), for a container or an exec.
pub(super) async fn follow_size<F, Fut>(resize: F)
where
    F: Fn((i32, i32)) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    if let Some(size) = terminal_size() {
        resize(size).await;
    }
    let Ok(mut winch) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::window_change()) else {
        return;
    };
    while winch.recv().await.is_some() {
        if let Some(size) = terminal_size() {
            resize(size).await;
        }
    }
}

/// [`follow_size`] for a container's TTY.
async fn follow_container_size(d: Docker, id: String) {
    follow_size(|(h, w)| {
        let (d, id) = (d.clone(), id.clone());
        async move {
            let _ = d
                .resize_container_tty(&id, qp::ResizeContainerTTYOptions { h, w })
                .await;
        }
    })
    .await
}

/// Ends the stdin forwarder with the call, also when Ctrl-C drops it.
pub(super) struct AbortOnDrop(pub(super) tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// The container's exit code once it is not running.
async fn exit_code(d: &Docker, id: &str, what: &str) -> RhaiResult<i64> {
    let opts = qp::WaitContainerOptions {
        condition: "not-running".into(),
    };
    match d.wait_container(id, Some(opts)).next().await {
        Some(Ok(r)) => Ok(r.status_code),
        Some(Err(bollard::errors::Error::DockerContainerWaitError { code, error })) if error.is_empty() => Ok(code),
        Some(Err(e)) => Err(engine_err(what, &e)),
        None => Err(format!("{what}: the engine closed the wait without a result").into()),
    }
}

fn start_attached(c: &Container, opts: Map) -> RhaiResult<i64> {
    let o: StartAttachedOpts = crate::api::opts::read("start_attached", opts)?;
    attached(c, o.stdin.unwrap_or(false), None, true)
}

fn attach(c: &Container, opts: Map) -> RhaiResult<i64> {
    let o: AttachOpts = crate::api::opts::read("attach", opts)?;
    attached(
        c,
        o.stdin.unwrap_or(false),
        o.detach_keys.filter(|k| !k.is_empty()),
        false,
    )
}

/// Attaches to the container (starting it when `start`), copies its
/// output until it ends, and returns its exit code; 0 when it still runs
/// (left with the detach keys).
fn attached(c: &Container, want_stdin: bool, detach_keys: Option<String>, start: bool) -> RhaiResult<i64> {
    let ep = c.ep.clone();
    let id = c.id.clone();
    let op = if start { "start" } else { "attach" };
    let what = format!("container {op} {}", if c.name.is_empty() { &c.id } else { &c.name });
    bridge::block_on_until_interrupt(async move {
        let d = client(&ep).await?;
        let info = d
            .inspect_container(&id, None::<qp::InspectContainerOptions>)
            .await
            .map_err(|e| engine_err(&what, &e))?;
        let state = info.state.clone().unwrap_or_default();
        if !start && state.paused == Some(true) {
            return Err("You cannot attach to a paused container, unpause it first".into());
        }
        if !start && state.running != Some(true) {
            return Err("You cannot attach to a stopped container, start it first".into());
        }
        // As the CLI: stdin only reaches a container created to take it.
        let config = info.config.unwrap_or_default();
        let stdin = want_stdin && config.open_stdin.unwrap_or(false);
        let tty = config.tty.unwrap_or(false);
        let _raw = if tty && stdin { RawMode::enable() } else { None };
        let attach = qp::AttachContainerOptions {
            stdin,
            stdout: true,
            stderr: true,
            stream: true,
            logs: false,
            detach_keys,
        };
        let conn = d
            .attach_container(&id, Some(attach))
            .await
            .map_err(|e| engine_err(&what, &e))?;
        let mut output = conn.output;
        let _writer = AbortOnDrop(tokio::spawn(forward(stdin.then(stdin_chunks), conn.input)));
        if start {
            d.start_container(&id, None::<qp::StartContainerOptions>)
                .await
                .map_err(|e| engine_err(&what, &e))?;
        }
        let _resizer = (tty && std::io::stdout().is_terminal())
            .then(|| AbortOnDrop(tokio::spawn(follow_container_size(d.clone(), id.clone()))));
        while let Some(frame) = output.next().await {
            write_out(frame.map_err(|e| engine_err(&what, &e))?);
        }
        let now = d.inspect_container(&id, None::<qp::InspectContainerOptions>).await;
        if now.ok().and_then(|i| i.state).and_then(|s| s.running) == Some(true) {
            return Ok(0);
        }
        exit_code(d, &id, &what).await
    })
}

#[export_module]
pub mod api {
    use super::*;

    /// Starts the container with its output on orch's stdout and stderr
    /// (byte for byte) until it ends, and returns its exit code, as `docker
    /// start -a`. `stdin: true` also forwards orch's stdin to a container
    /// created with `stdin_open` (as `-i`); its end closes the container's
    /// stdin when it was created `StdinOnce` (`docker compose run`'s). A
    /// container with a TTY gets orch's terminal: raw mode while it runs
    /// (with stdin), and its size, kept on every resize.
    ///
    /// ```rhai
    /// let code = c.start_attached(#{ stdin: true });
    /// ```
    #[rhai_fn(global, return_raw)]
    pub fn start_attached(ctx: NativeCallContext, c: &mut Container, opts: Map) -> RhaiResult<i64> {
        crate::api::at(&ctx, || super::start_attached(c, opts))
    }

    /// Attaches to the running container as `docker attach`: its output
    /// on orch's stdout and stderr until it ends, and its exit code (0
    /// when left running with the detach keys). Options: `stdin` (forward
    /// orch's stdin to a container created with `stdin_open`),
    /// `detach_keys` (e.g. `"ctrl-p,ctrl-q"`).
    ///
    /// ```rhai
    /// let code = container::get("demo-web-1").attach(#{ stdin: false });
    /// ```
    #[rhai_fn(global, return_raw)]
    pub fn attach(ctx: NativeCallContext, c: &mut Container, opts: Map) -> RhaiResult<i64> {
        crate::api::at(&ctx, || super::attach(c, opts))
    }
}
