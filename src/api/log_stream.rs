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
//! With `follow` and a `project`, the printer also follows what compose's
//! `logs -f` follows (see `log_watch`): containers started later, exits
//! and recreations, and ends when compose's would.
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
use bollard::query_parameters as qp;
use bollard::Docker;
use futures_util::stream::{select_all, SelectAll, Stream, StreamExt};
use futures_util::FutureExt;
use rhai::{Array, FnPtr, Map, NativeCallContext};

use super::batch::{containers, logs_options, LogQuery};
use super::container::Container;
use super::follow::Stamp;
use super::log_watch::{cut, Action, Watch};
use super::logprint::LogPrinter;
use super::options::StreamLogsOpts;
use super::value::call_back;
use super::{client, RhaiResult};
use crate::bridge;
use crate::docker::Endpoint;
use crate::error::Error;

/// One stream's log items (the stream's key: its index in the list of
/// streams opened), then `None` when it ends.
type Item = (usize, Option<Result<LogOutput, bollard::errors::Error>>);
type Merged = SelectAll<Pin<Box<dyn Stream<Item = Item> + Send>>>;

/// The script's options of `container::logs`.
fn read_opts(opts: Map) -> RhaiResult<StreamLogsOpts> {
    crate::api::opts::read("container::logs", opts)
}

/// One container's logs as keyed items, ending with a marker, so the end
/// of one container's logs (it stopped) is seen even while others go on.
fn stream_of(d: &Docker, key: usize, id: &str, options: qp::LogsOptions) -> Pin<Box<dyn Stream<Item = Item> + Send>> {
    let s = d
        .logs(id, Some(options))
        .map(move |item| (key, Some(item)))
        .chain(futures_util::stream::once(async move { (key, None) }));
    Box::pin(s)
}

/// The merged streams of `list` (keyed by their index), and whether to
/// stop at the first end.
fn open(list: &[Container], o: &StreamLogsOpts) -> RhaiResult<(Merged, bool)> {
    let options = logs_options(&LogQuery {
        follow: o.follow,
        tail: o.tail.clone(),
        since: o.since,
        until: o.until,
        timestamps: o.timestamps,
    });
    let mut streams = Vec::new();
    for (key, c) in list.iter().enumerate() {
        let d = bridge::block_on(async { client(&c.ep).await.cloned() })?;
        streams.push(stream_of(&d, key, &c.id, options.clone()));
    }
    Ok((select_all(streams), o.until_first_exit.unwrap_or(false)))
}

/// Whole lines out of each stream's stdout and stderr, so output is never
/// torn.
#[derive(Default)]
struct Lines {
    partial: HashMap<(usize, bool), String>,
}

impl Lines {
    /// Feeds one item; `each(key, line, is_err)` per complete line.
    fn push(
        &mut self,
        key: usize,
        item: Result<LogOutput, bollard::errors::Error>,
        mut each: impl FnMut(usize, &str, bool),
    ) {
        let (is_err, bytes) = match item {
            Ok(LogOutput::StdErr { message }) => (true, message),
            Ok(LogOutput::StdOut { message }) | Ok(LogOutput::Console { message }) => (false, message),
            // A container removed while followed ends its stream.
            Ok(LogOutput::StdIn { .. }) | Err(_) => return,
        };
        let buf = self.partial.entry((key, is_err)).or_default();
        buf.push_str(&String::from_utf8_lossy(&bytes));
        let mut start = 0;
        while let Some(pos) = buf[start..].find('\n') {
            each(key, buf[start..start + pos].trim_end_matches('\r'), is_err);
            start += pos + 1;
        }
        buf.drain(..start);
    }

    /// What is left without a final newline.
    fn finish(self, mut each: impl FnMut(usize, &str, bool)) {
        for ((key, is_err), rest) in self.partial {
            if !rest.is_empty() {
                each(key, &rest, is_err);
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
    let list = containers(list)?;
    let (mut merged, until_first_exit) = open(&list, &read_opts(opts)?)?;
    let mut lines = Lines::default();
    let mut ready: Vec<(usize, String, bool)> = Vec::new();
    let deliver = |ready: &mut Vec<(usize, String, bool)>| -> RhaiResult<()> {
        for (key, line, is_err) in ready.drain(..) {
            let args = vec![list[key].name.clone().into(), line.into(), stream_name(is_err).into()];
            let _ = call_back(ctx, &each, args, 2)?;
        }
        Ok(())
    };
    loop {
        let next = bridge::block_on(async { Ok(merged.next().await) })?;
        let Some((key, item)) = next else { break };
        let Some(item) = item else {
            if until_first_exit {
                break;
            }
            continue;
        };
        lines.push(key, item, |k, l, e| ready.push((k, l.into(), e)));
        deliver(&mut ready)?;
    }
    lines.finish(|k, l, e| ready.push((k, l.into(), e)));
    deliver(&mut ready)
}

/// A stream the printer reads: whose, shown as what, and for a container
/// followed from its start, the stamp its lines are cut at.
struct Shown {
    name: String,
    shown: String,
    cut: Option<Stamp>,
}

/// What the printer waits for next.
enum Next {
    Log(Item),
    Event(bollard::models::EventMessage),
    Done,
}

/// The printing side of `print_logs`, run on a runtime worker.
struct Print {
    merged: Merged,
    streams: Vec<Shown>,
    printer: LogPrinter,
    lines: Lines,
    buf: Vec<u8>,
    until_first_exit: bool,
    /// The log query of containers followed from their start.
    query: qp::LogsOptions,
    /// `--timestamps`: keep the engine's stamp on each line.
    timestamps: bool,
    /// Without a watch: followed containers that ran, whose stream's end
    /// prints `NAME exited with code N`.
    running: HashMap<String, (Arc<Endpoint>, String)>,
    watch: Option<(Docker, Watch)>,
}

/// Prints the logs of several containers merged through `printer`, every
/// line on stdout, each container shown as `sources[name]` (its own name
/// where absent). Options as [`stream_logs`], plus `project` and `services`:
/// with `follow`, the project's containers are watched as compose's
/// `logs -f` watches them (see `log_watch`). Output is written whenever no
/// more lines are ready, so `-f` shows each line as it comes.
pub fn print_logs(list: Array, opts: Map, printer: LogPrinter, sources: Map) -> RhaiResult<()> {
    let (list, o) = (containers(list)?, read_opts(opts)?);
    let follow = o.follow.unwrap_or(false);
    let (merged, until_first_exit) = open(&list, &o)?;
    let sources: HashMap<String, String> = sources
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let streams = list
        .iter()
        .map(|c| Shown {
            name: c.name.clone(),
            shown: sources.get(&c.name).unwrap_or(&c.name).clone(),
            cut: None,
        })
        .collect();
    let watch = match (&o.project, follow) {
        (Some(project), true) => {
            let d = bridge::block_on(async { client(&super::endpoint()).await.cloned() })?;
            let ids = list.iter().map(|c| c.id.clone()).collect();
            let mut w = Watch::start(&d, project, o.services.clone().unwrap_or_default(), ids);
            list.iter().for_each(|c| w.opened(&c.name));
            Some((d, w))
        }
        _ => None,
    };
    // Without a watch, compose's `NAME exited with code N` for the
    // followed containers that run now, when their stream ends.
    let running = list
        .iter()
        .filter(|_| follow && watch.is_none())
        .filter(|c| c.info.get("state").is_some_and(|s| s.to_string() == "running"))
        .map(|c| (c.name.clone(), (c.ep.clone(), c.id.clone())))
        .collect();
    let query = logs_options(&LogQuery {
        follow: Some(true),
        tail: o.tail.clone(),
        since: None,
        until: o.until,
        timestamps: Some(true),
    });
    let print = Print {
        merged,
        streams,
        printer,
        lines: Lines::default(),
        buf: Vec::with_capacity(64 << 10),
        until_first_exit,
        query,
        timestamps: o.timestamps.unwrap_or(false),
        running,
        watch,
    };
    // On a runtime worker, beside the connections' own tasks: read on the
    // script thread, every frame was a wake-up across threads (two thirds
    // of the time went to context switches).
    let task = bridge::handle().spawn(print.run());
    let abort = task.abort_handle();
    let done = bridge::block_on_until_interrupt(async {
        match task.await {
            Ok(r) => r.map_err(Into::into),
            Err(e) => Err(format!("container::logs: {e}").into()),
        }
    });
    if done.is_err() {
        abort.abort();
    }
    done
}

impl Print {
    async fn run(mut self) -> Result<(), Error> {
        loop {
            let next = match self.merged.next().now_or_never() {
                Some(Some(item)) => Next::Log(item),
                Some(None) if self.watch.is_none() => break,
                _ => {
                    flush(&mut self.buf);
                    self.wait().await?
                }
            };
            match next {
                Next::Log((key, Some(item))) => self.line(key, item),
                Next::Log((_, None)) if self.until_first_exit => break,
                Next::Log((key, None)) => self.ended(key).await,
                Next::Event(e) => self.event(e).await,
                Next::Done => break,
            }
        }
        std::mem::take(&mut self.lines)
            .finish(|k, l, _| show(&self.printer, &mut self.buf, &self.streams[k], l, self.timestamps));
        flush(&mut self.buf);
        Ok(())
    }

    /// The next log item or event, or the end.
    async fn wait(&mut self) -> Result<Next, Error> {
        let Some((_, w)) = &mut self.watch else {
            return Ok(self.merged.next().await.map_or(Next::Done, Next::Log));
        };
        if w.done(!self.merged.is_empty()) {
            return Ok(Next::Done);
        }
        let merged = &mut self.merged;
        tokio::select! {
            Some(item) = merged.next(), if !merged.is_empty() => Ok(Next::Log(item)),
            e = w.next() => match e {
                Some(Ok(e)) => Ok(Next::Event(e)),
                Some(Err(e)) => Err(Error::from_engine("engine events", &e)),
                None => Err("engine events: the stream ended".into()),
            },
        }
    }

    fn line(&mut self, key: usize, item: Result<LogOutput, bollard::errors::Error>) {
        // Disjoint fields: the closure borrows what `lines` does not.
        self.lines.push(key, item, |k, l, _| {
            show(&self.printer, &mut self.buf, &self.streams[k], l, self.timestamps)
        });
    }

    /// Stream `key` ended: the exit status it held back, if any.
    async fn ended(&mut self, key: usize) {
        let name = &self.streams[key].name;
        let status = match &mut self.watch {
            Some((_, w)) => w.closed(name),
            None => match self.running.remove(name) {
                Some((ep, id)) => {
                    let code = exit_code(&ep, &id).await;
                    Some((self.streams[key].shown.clone(), format!("exited with code {code}")))
                }
                None => None,
            },
        };
        if let Some((shown, text)) = status {
            self.printer.format_status(&mut self.buf, &shown, &text);
        }
    }

    async fn event(&mut self, e: bollard::models::EventMessage) {
        let Some((d, w)) = &mut self.watch else { return };
        match w.on_event(d, e).await {
            Some(Action::Status { shown, text }) => self.printer.format_status(&mut self.buf, &shown, &text),
            Some(Action::Follow { id, name, shown, after }) => {
                // From the second its previous run ended, with stamps,
                // cut to the nanosecond (see `log_watch::cut`).
                let mut query = self.query.clone();
                query.since = after.0 as i32;
                let key = self.streams.len();
                self.merged.push(stream_of(d, key, &id, query));
                w.opened(&name);
                self.streams.push(Shown {
                    name,
                    shown,
                    cut: Some(after),
                });
            }
            None => {}
        }
    }
}

/// Prints one line of stream `s`.
fn show(printer: &LogPrinter, buf: &mut Vec<u8>, s: &Shown, line: &str, timestamps: bool) {
    let line = match s.cut {
        Some(after) => match cut(line, after, timestamps) {
            Some(l) => l,
            None => return,
        },
        None => line,
    };
    printer.format_line(buf, &s.shown, line);
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

/// Writes out what is buffered; a closed pipe (`orch logs | head`) only
/// ends the output.
fn flush(buf: &mut Vec<u8>) {
    if !buf.is_empty() {
        let _ = std::io::stdout().lock().write_all(buf);
        buf.clear();
    }
}
