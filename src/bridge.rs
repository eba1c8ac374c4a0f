//! The async bridge: scripts are synchronous, the engine client is async.
//!
//! A script runs on its own OS thread. Every primitive that talks to the
//! engine calls [`block_on`], which parks only that thread while the tokio
//! runtime (owned by the main thread) drives the request.
//!
//! Ctrl-C is an *interrupt*, not a kill: the first SIGINT cancels the engine
//! calls in flight, which fail with an error the script can `catch`, so its
//! cleanup code runs. Calls made after that (the cleanup) go through, until
//! the grace period ends or a second SIGINT arrives; then everything still
//! running is cancelled and orch exits with 130.

use std::future::Future;
use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use rhai::EvalAltResult;
use tokio::runtime::Handle;
use tokio::sync::watch;

/// How far the interrupt has gone. Calls started in one phase are cancelled
/// when the next one begins.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
#[repr(u8)]
pub enum Phase {
    Running = 0,
    Interrupted = 1,
    Stopping = 2,
}

struct Bridge {
    handle: Handle,
    phase_tx: watch::Sender<Phase>,
    phase: AtomicU8,
}

static BRIDGE: OnceLock<Bridge> = OnceLock::new();

/// The message of the error a cancelled call throws into the script.
pub const INTERRUPTED: &str = "interrupted (Ctrl-C)";

/// Installs the runtime handle the script thread will use. Called once by
/// the CLI before a script starts.
pub fn install(handle: Handle) {
    let (phase_tx, _) = watch::channel(Phase::Running);
    let _ = BRIDGE.set(Bridge {
        handle,
        phase_tx,
        phase: AtomicU8::new(Phase::Running as u8),
    });
}

fn bridge() -> &'static Bridge {
    BRIDGE.get().expect("bridge::install must run before any primitive")
}

/// The current interrupt phase.
pub fn phase() -> Phase {
    match BRIDGE.get().map(|b| b.phase.load(Ordering::SeqCst)) {
        Some(1) => Phase::Interrupted,
        Some(2) => Phase::Stopping,
        _ => Phase::Running,
    }
}

/// Moves to `phase` (never backwards), cancelling calls of earlier phases.
pub fn advance(phase: Phase) {
    let b = bridge();
    let prev = b.phase.fetch_max(phase as u8, Ordering::SeqCst);
    if prev < phase as u8 {
        b.phase_tx.send_replace(phase);
    }
}

type ForceAction = std::pin::Pin<Box<dyn Future<Output = ()> + Send>>;

/// Work to do if the user forces the interrupt (a second Ctrl-C), by id.
static FORCE_ACTIONS: Mutex<Vec<(u64, ForceAction)>> = Mutex::new(Vec::new());
static FORCE_IDS: AtomicU64 = AtomicU64::new(0);

/// Registered force work; dropping it (the work finished normally)
/// unregisters it.
pub struct ForceGuard(u64);

impl Drop for ForceGuard {
    fn drop(&mut self) {
        FORCE_ACTIONS.lock().unwrap().retain(|(id, _)| *id != self.0);
    }
}

/// Registers `action` to run if a second Ctrl-C forces the interrupt
/// while the guard lives: e.g. attached `up` kills the containers a
/// graceful stop is still waiting on, as compose does.
pub fn on_force(action: impl Future<Output = ()> + Send + 'static) -> ForceGuard {
    let id = FORCE_IDS.fetch_add(1, Ordering::SeqCst);
    FORCE_ACTIONS.lock().unwrap().push((id, Box::pin(action)));
    ForceGuard(id)
}

/// Takes the registered force work (the supervisor runs it).
pub fn take_force_actions() -> Vec<ForceAction> {
    std::mem::take(&mut *FORCE_ACTIONS.lock().unwrap())
        .into_iter()
        .map(|(_, a)| a)
        .collect()
}

/// The runtime handle, for primitives that spawn parallel work.
pub fn handle() -> Handle {
    bridge().handle.clone()
}

/// Runs `fut` to completion on the runtime, blocking the calling (script)
/// thread. Returns the interrupt error if Ctrl-C cancels it first.
pub fn block_on<T, F>(fut: F) -> Result<T, Box<EvalAltResult>>
where
    F: Future<Output = Result<T, Box<EvalAltResult>>>,
{
    block_on_from(phase(), fut)
}

/// Like [`block_on`] for waits that are never cleanup (following logs
/// until Ctrl-C): an interrupt cancels them even when it came before the
/// call, so one that lands between two calls is not missed.
pub fn block_on_until_interrupt<T, F>(fut: F) -> Result<T, Box<EvalAltResult>>
where
    F: Future<Output = Result<T, Box<EvalAltResult>>>,
{
    block_on_from(Phase::Running, fut)
}

fn block_on_from<T, F>(started: Phase, fut: F) -> Result<T, Box<EvalAltResult>>
where
    F: Future<Output = Result<T, Box<EvalAltResult>>>,
{
    let b = bridge();
    if started == Phase::Stopping || phase() > started {
        return Err(interrupted_error());
    }
    let mut rx = b.phase_tx.subscribe();
    b.handle
        .block_on(async move {
            tokio::select! {
                r = fut => r,
                _ = rx.wait_for(|p| *p > started) => Err(interrupted_error()),
            }
        })
        .map_err(crate::error::typed)
}

/// Like [`block_on`] for plain futures that cannot fail.
pub fn block_on_infallible<T, F: Future<Output = T>>(fut: F) -> Result<T, Box<EvalAltResult>> {
    block_on(async { Ok(fut.await) })
}

/// Sleeps on the script thread, interruptibly.
pub fn sleep(d: Duration) -> Result<(), Box<EvalAltResult>> {
    // The timer must be made inside the runtime (it registers with its
    // time driver), not on the script thread.
    block_on_infallible(async move { tokio::time::sleep(d).await })
}

fn interrupted_error() -> Box<EvalAltResult> {
    crate::error::Error::interrupted(INTERRUPTED).into_rhai()
}

/// How long cleanup may run after the first Ctrl-C, in milliseconds;
/// scripts raise it with `set_interrupt_grace` (e.g. to stop containers).
/// `u64::MAX` means no limit.
pub static INTERRUPT_GRACE_MS: AtomicU64 = AtomicU64::new(1500);

/// What is printed at the first Ctrl-C; `None` is orch's default notice.
pub static INTERRUPT_NOTICE: Mutex<Option<String>> = Mutex::new(None);
