//! How a plan's engine work reports back to a script: the work runs on
//! the runtime, its progress events come back to the script's thread as
//! `#{ kind, name, status, text, done, error, elapsed }` maps for the
//! script's `on_event`, and its outcome as `#{ ok, errors }`.

use rhai::{Array, Dynamic, FnPtr, Map, NativeCallContext};

use super::value::call_back;
use super::RhaiResult;
use crate::bridge;
use crate::plan::apply;

/// An outcome that failed before anything was applied.
pub fn failed(e: String) -> apply::Outcome {
    apply::Outcome {
        errors: vec![("project".into(), e)],
    }
}

/// A progress event as scripts get it: `#{ kind, name, status, done,
/// error, elapsed }`, and `text` when it has one.
pub fn event_map(ev: crate::plan::apply::Event) -> Map {
    let mut m = Map::new();
    m.insert("kind".into(), ev.kind.into());
    m.insert("name".into(), ev.name.into());
    m.insert("status".into(), ev.status.into());
    if !ev.text.is_empty() {
        m.insert("text".into(), ev.text.into());
    }
    m.insert("done".into(), ev.done.into());
    m.insert("error".into(), ev.error.map(Dynamic::from).unwrap_or(Dynamic::UNIT));
    m.insert("elapsed".into(), ev.elapsed.as_secs_f64().into());
    m
}

/// Runs engine work on the runtime while its progress events come back to
/// this (the script) thread, where `on_event` is called for each. Returns
/// `#{ ok, errors }`.
pub fn run_with_events<F, Fut>(ctx: &NativeCallContext, on_event: Option<FnPtr>, work: F) -> RhaiResult<Map>
where
    F: FnOnce(tokio::sync::mpsc::UnboundedSender<apply::Event>) -> Fut,
    Fut: std::future::Future<Output = apply::Outcome> + Send + 'static,
{
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let task = bridge::handle().spawn(work(tx));
    // Events are taken in batches: a no-change `up` of 500 services sends
    // 500 "Running" at once, and waking this thread for each cost more
    // than printing them.
    let mut batch = Vec::new();
    loop {
        match bridge::block_on(async { Ok(rx.recv_many(&mut batch, 256).await) }) {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) => {
                task.abort();
                return Err(e);
            }
        }
        for ev in batch.drain(..) {
            if let Some(f) = &on_event {
                let _ = call_back(ctx, f, vec![event_map(ev).into()], 1)?;
            }
        }
    }
    let outcome = bridge::block_on(async { task.await.map_err(|e| format!("engine work failed: {e}").into()) })?;
    let mut r = Map::new();
    r.insert("ok".into(), outcome.errors.is_empty().into());
    r.insert(
        "errors".into(),
        outcome
            .errors
            .iter()
            .map(|(_, e)| Dynamic::from(e.clone()))
            .collect::<Array>()
            .into(),
    );
    Ok(r)
}
