//! The logs of several containers, merged as they arrive (`orch logs`,
//! `logs -f`): either handed to a script callback line by line, or
//! printed through a [`LogPrinter`] without a script call per line.
//!
//! Why two ways: a callback per line costs a script call and a wait on the
//! runtime per line; `logs` of 50 services × 1,000 lines took 2.6× compose's
//! time that way (bench/output.sh). The printer path keeps the policy in
//! the script (prefixes, colours, which name each container shows) and does
//! the per-line work here, writing in blocks while lines are ready.
//!
//! ```rhai
//! let out = log_printer(#{ colour: false, prefix: true });
//! container::logs(container::list(), #{ follow: false }, out, #{});
//! ```

use std::collections::HashMap;
use std::io::Write;
use std::pin::Pin;
use std::sync::Arc;

use bollard::container::LogOutput;
use futures_util::stream::{select_all, SelectAll, Stream, StreamExt};
use futures_util::FutureExt;
use rhai::{Array, FnPtr, Map, NativeCallContext};

use super::batch::{containers, logs_options, LogQuery};
use super::container::Container;
use super::logprint::LogPrinter;
use super::options::StreamLogsOpts;
use super::value::call_back;
use super::{client, RhaiResult};
use crate::bridge;
use crate::docker::Endpoint;

/// One container's log items, then `None` when its stream ends.
type Item = (String, Option<Result<LogOutput, bollard::errors::Error>>);
type Merged = SelectAll<Pin<Box<dyn Stream<Item = Item> + Send>>>;

/// The script's options of `container::logs`.
fn read_opts(opts: Map) -> RhaiResult<StreamLogsOpts> {
    crate::api::opts::read("container::logs", opts)
}

/// The merged streams of `list`, and whether to stop at the first end.
fn open(list: &[Container], o: &StreamLogsOpts) -> RhaiResult<(Merged, bool)> {
    let options = logs_options(&LogQuery {
        follow: o.follow,
        tail: o.tail.clone(),
        since: o.since,
        until: o.until,
        timestamps: o.timestamps,
    });
    let mut streams: Vec<Pin<Box<dyn Stream<Item = Item> + Send>>> = Vec::new();
    for c in list {
        let d = bridge::block_on(async { client(&c.ep).await.cloned() })?;
        let (name, end_name) = (c.name.clone(), c.name.clone());
        // Each stream ends with a marker, so the end of one container's
        // logs (it stopped) is seen even while others go on.
        let s = d
            .logs(&c.id, Some(options.clone()))
            .map(move |item| (name.clone(), Some(item)))
            .chain(futures_util::stream::once(async move { (end_name, None) }));
        streams.push(Box::pin(s));
    }
    Ok((select_all(streams), o.until_first_exit.unwrap_or(false)))
}

/// Whole lines out of each container's stdout and stderr, so output is
/// never torn.
#[derive(Default)]
struct Lines {
    partial: HashMap<(String, bool), String>,
}

impl Lines {
    /// Feeds one item; `each(name, line, is_err)` per complete line.
    fn push(
        &mut self,
        name: &str,
        item: Result<LogOutput, bollard::errors::Error>,
        mut each: impl FnMut(&str, &str, bool),
    ) {
        let (is_err, bytes) = match item {
            Ok(LogOutput::StdErr { message }) => (true, message),
            Ok(LogOutput::StdOut { message }) | Ok(LogOutput::Console { message }) => (false, message),
            // A container removed while followed ends its stream.
            Ok(LogOutput::StdIn { .. }) | Err(_) => return,
        };
        let buf = self.partial.entry((name.to_string(), is_err)).or_default();
        buf.push_str(&String::from_utf8_lossy(&bytes));
        let mut start = 0;
        while let Some(pos) = buf[start..].find('\n') {
            each(name, buf[start..start + pos].trim_end_matches('\r'), is_err);
            start += pos + 1;
        }
        buf.drain(..start);
    }

    /// What is left without a final newline.
    fn finish(self, mut each: impl FnMut(&str, &str, bool)) {
        for ((name, is_err), rest) in self.partial {
            if !rest.is_empty() {
                each(&name, &rest, is_err);
            }
        }
    }
}

fn stream_name(is_err: bool) -> &'static str {
    if is_err {
        "stderr"
    } else {
        "stdout"
    }
}

/// Streams the logs of several containers merged, calling
/// `each(name, line, stream)` as lines arrive. Options as `Container.logs`,
/// plus `until_first_exit` (stop when any container's logs end).
pub fn stream_logs(ctx: &NativeCallContext, list: Array, opts: Map, each: FnPtr) -> RhaiResult<()> {
    let (mut merged, until_first_exit) = open(&containers(list)?, &read_opts(opts)?)?;
    let mut lines = Lines::default();
    let mut ready: Vec<(String, String, bool)> = Vec::new();
    loop {
        let next = bridge::block_on(async { Ok(merged.next().await) })?;
        let Some((name, item)) = next else { break };
        let Some(item) = item else {
            if until_first_exit {
                break;
            }
            continue;
        };
        lines.push(&name, item, |n, l, e| ready.push((n.into(), l.into(), e)));
        for (name, line, is_err) in ready.drain(..) {
            let _ = call_back(
                ctx,
                &each,
                vec![name.into(), line.into(), stream_name(is_err).into()],
                2,
            )?;
        }
    }
    lines.finish(|n, l, e| ready.push((n.into(), l.into(), e)));
    for (name, line, is_err) in ready {
        let _ = call_back(
            ctx,
            &each,
            vec![name.into(), line.into(), stream_name(is_err).into()],
            2,
        )?;
    }
    Ok(())
}

/// Prints the logs of several containers merged through `printer`, every
/// line on stdout, each container shown as `sources[name]` (its own name
/// where absent). Options as [`stream_logs`]. Output is written whenever no
/// more lines are ready, so `-f` shows each line as it comes.
pub fn print_logs(list: Array, opts: Map, printer: LogPrinter, sources: Map) -> RhaiResult<()> {
    let (list, o) = (containers(list)?, read_opts(opts)?);
    // Followed containers that run now: compose's `logs -f` prints
    // `NAME exited with code N` when one of them stops.
    let mut running: HashMap<String, (Arc<Endpoint>, String)> = HashMap::new();
    if o.follow.unwrap_or(false) {
        for c in list
            .iter()
            .filter(|c| c.info.get("state").is_some_and(|s| s.to_string() == "running"))
        {
            running.insert(c.name.clone(), (c.ep.clone(), c.id.clone()));
        }
    }
    let (mut merged, until_first_exit) = open(&list, &o)?;
    let sources: HashMap<String, String> = sources
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    // On a runtime worker, beside the connections' own tasks: read on the
    // script thread, every frame was a wake-up across threads (two thirds
    // of the time went to context switches).
    let task = bridge::handle().spawn(async move {
        let mut lines = Lines::default();
        let mut buf = Vec::with_capacity(64 << 10);
        loop {
            let next = match merged.next().now_or_never() {
                Some(next) => next,
                None => {
                    flush(&mut buf);
                    merged.next().await
                }
            };
            let Some((name, item)) = next else { break };
            match item {
                Some(item) => lines.push(&name, item, |n, l, _| {
                    printer.format_line(&mut buf, shown(&sources, n), l)
                }),
                None if until_first_exit => break,
                None => {
                    if let Some((ep, id)) = running.remove(&name) {
                        let code = exit_code(&ep, &id).await;
                        printer.format_status(&mut buf, shown(&sources, &name), &format!("exited with code {code}"));
                    }
                }
            }
        }
        lines.finish(|n, l, _| printer.format_line(&mut buf, shown(&sources, n), l));
        flush(&mut buf);
    });
    let abort = task.abort_handle();
    let done =
        bridge::block_on_until_interrupt(async { task.await.map_err(|e| format!("container::logs: {e}").into()) });
    if done.is_err() {
        abort.abort();
    }
    done
}

/// A stopped container's exit code, as the engine reports it (-1 when it
/// cannot say).
async fn exit_code(ep: &Endpoint, id: &str) -> i64 {
    let Ok(d) = client(ep).await else { return -1 };
    match d
        .inspect_container(id, None::<bollard::query_parameters::InspectContainerOptions>)
        .await
    {
        Ok(i) => i.state.and_then(|s| s.exit_code).unwrap_or(-1),
        Err(_) => -1,
    }
}

/// The name `sources` shows container `name` by, its own where absent.
fn shown<'a>(sources: &'a HashMap<String, String>, name: &'a str) -> &'a str {
    sources.get(name).map_or(name, String::as_str)
}

/// Writes out what is buffered; a closed pipe (`orch logs | head`) only
/// ends the output.
fn flush(buf: &mut Vec<u8>) {
    if !buf.is_empty() {
        let _ = std::io::stdout().lock().write_all(buf);
        buf.clear();
    }
}
