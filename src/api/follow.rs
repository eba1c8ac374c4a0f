//! Following a compose project's containers as attached `up` does: every
//! container of the watched services that runs (or ran since a moment the
//! script names) is tracked through the engine's event stream; the logs of
//! the attached services stream as lines; each container's exit is an
//! event of its own, delivered after its last log line. Containers started
//! later (scaled, recreated, restarted) are followed too. The stream ends
//! when every tracked container has exited. Prefixes, colours and what an
//! exit means are the script's.
//!
//! ```rhai
//! let f = container::follow("demo", #{ attach: ["web"] });
//! loop {
//!     let e = f.next();
//!     if e == () { break; }
//!     if e.kind == "log" { print(`${e.name} | ${e.line}`); } else { print(`${e.name} exited with code ${e.code}`); }
//! }
//! ```

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use bollard::container::LogOutput;
use bollard::query_parameters as qp;
use bollard::Docker;
use futures_util::StreamExt;
use rhai::plugin::*;
use rhai::Map;
use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver, UnboundedSender};

use super::options::ContainerFollowOpts;
use super::{client, RhaiResult};
use crate::bridge;
use crate::plan::desired::{LABEL_NUMBER as NUMBER, LABEL_PROJECT as PROJECT, LABEL_SERVICE as SERVICE};

/// Which container a message is about.
#[derive(Clone, Debug, Default)]
struct Who {
    id: String,
    name: String,
    service: String,
    number: String,
}

/// What the script receives, one at a time.
#[derive(Debug)]
enum Msg {
    Log { who: Who, stderr: bool, line: String },
    Exit { who: Who, code: i64, restarting: bool },
    Failed(String),
}

/// Internal: a log follower finished (the container stopped or went away).
struct LogEnd(String, Stamp);

/// A running follow; `next()` returns the next event, `()` at the end.
#[derive(Clone)]
pub struct Follow(Arc<tokio::sync::Mutex<UnboundedReceiver<Msg>>>);

struct Setup {
    project: String,
    watch: Vec<String>,
    attach: Vec<String>,
    since: f64,
    timestamps: bool,
}

impl Setup {
    fn watched(&self, service: &str) -> bool {
        self.watch.is_empty() || self.watch.iter().any(|s| s == service)
    }
    fn attached(&self, service: &str) -> bool {
        self.attach.iter().any(|s| s == service)
    }
}

fn who_of(id: &str, attrs: &HashMap<String, String>) -> Who {
    Who {
        id: id.to_string(),
        name: attrs.get("name").cloned().unwrap_or_default(),
        service: attrs.get(SERVICE).cloned().unwrap_or_default(),
        number: attrs.get(NUMBER).cloned().unwrap_or_default(),
    }
}

/// A log line's engine timestamp: unix seconds and nanoseconds.
pub(super) type Stamp = (i64, u32);

/// The stamp of an RFC 3339 time with up to nine fraction digits.
pub(super) fn stamp_of(ts: &str) -> Option<Stamp> {
    let secs = super::util::parse_rfc3339(ts)?;
    let nanos = match ts.split_once('.') {
        Some((_, f)) => {
            let digits: String = f.chars().take_while(char::is_ascii_digit).take(9).collect();
            format!("{digits:0<9}").parse().unwrap_or(0)
        }
        None => 0,
    };
    Some((secs, nanos))
}

/// Streams one container's logs as lines until its stream ends, skipping
/// what the engine stamped at or before `after`.
///
/// Why the stamps: the engine stamps a line when it reads it, which can be
/// before the container's start event (its `time` is whole seconds, and
/// `StartedAt` is set after the process runs), so `since` alone either
/// loses a container's first lines or repeats a restarted one's last.
/// The lines are asked for with timestamps, from the second before, and
/// cut here to the nanosecond.
async fn follow_logs(
    d: Docker,
    who: Who,
    opts: qp::LogsOptions,
    after: Stamp,
    keep_ts: bool,
    tx: UnboundedSender<Msg>,
    end: UnboundedSender<LogEnd>,
) {
    let mut stream = d.logs(&who.id, Some(opts));
    let mut partial = [String::new(), String::new()];
    let mut last = after;
    while let Some(item) = stream.next().await {
        let (stderr, bytes) = match item {
            Ok(LogOutput::StdErr { message }) => (true, message),
            Ok(LogOutput::StdOut { message }) | Ok(LogOutput::Console { message }) => (false, message),
            Ok(LogOutput::StdIn { .. }) => continue,
            Err(_) => break,
        };
        let text = String::from_utf8_lossy(&bytes);
        let (ts, rest) = text.split_once(' ').unwrap_or(("", &text));
        if let Some(stamp) = stamp_of(ts) {
            if stamp <= after {
                continue;
            }
            last = last.max(stamp);
        }
        let buf = &mut partial[stderr as usize];
        buf.push_str(if keep_ts { &text } else { rest });
        while let Some(pos) = buf.find('\n') {
            let line: String = buf.drain(..=pos).collect();
            let line = line.trim_end_matches(['\n', '\r']).to_string();
            let _ = tx.send(Msg::Log {
                who: who.clone(),
                stderr,
                line,
            });
        }
    }
    for (i, rest) in partial.into_iter().enumerate() {
        if !rest.is_empty() {
            let _ = tx.send(Msg::Log {
                who: who.clone(),
                stderr: i == 1,
                line: rest,
            });
        }
    }
    let _ = end.send(LogEnd(who.id, last));
}

fn log_options(since: i64, tail: &str) -> qp::LogsOptions {
    qp::LogsOptions {
        follow: true,
        stdout: true,
        stderr: true,
        since: since as i32,
        until: 0,
        timestamps: true,
        tail: tail.into(),
    }
}

/// (running or restarting, StartedAt in unix seconds) of a container.
pub(super) async fn state(d: &Docker, id: &str) -> Option<(bool, i64)> {
    let i = d
        .inspect_container(id, None::<qp::InspectContainerOptions>)
        .await
        .ok()?;
    let st = i.state?;
    let live = st.running.unwrap_or(false) || st.restarting.unwrap_or(false);
    let started = st
        .started_at
        .as_deref()
        .and_then(super::util::parse_rfc3339)
        .unwrap_or(0);
    Some((live, started))
}

struct Tracker {
    d: Docker,
    s: Setup,
    tx: UnboundedSender<Msg>,
    end_tx: UnboundedSender<LogEnd>,
    /// Containers that run or ran in this session and have not exited for good.
    alive: HashSet<String>,
    /// Containers whose logs are being streamed.
    streaming: HashSet<String>,
    /// Exits seen while the container's last log lines may still be coming.
    pending: HashMap<String, Msg>,
    /// The stamp of the last line shown of each container: a restart shows
    /// only what follows it.
    seen: HashMap<String, Stamp>,
}

impl Tracker {
    /// Streams a container's lines from after the last one shown, or from
    /// the session's start; `tail` "0" for only what comes next.
    fn stream(&mut self, who: Who, tail: &str) {
        if !self.s.attached(&who.service) || !self.streaming.insert(who.id.clone()) {
            return;
        }
        let session = (self.s.since.floor() as i64, (self.s.since.fract() * 1e9) as u32);
        let after = self.seen.get(&who.id).copied().unwrap_or(session);
        let opts = log_options(after.0, tail);
        let (d, tx, end) = (self.d.clone(), self.tx.clone(), self.end_tx.clone());
        tokio::spawn(follow_logs(d, who, opts, after, self.s.timestamps, tx, end));
    }

    /// The project's containers now: which to track, and the logs of those
    /// that ran before this session (only their new output, as compose
    /// attaches to them).
    async fn initial(&mut self) -> crate::error::Result<()> {
        let mut filters = HashMap::new();
        filters.insert(
            "label".to_string(),
            vec![
                format!("{PROJECT}={}", self.s.project),
                "com.docker.compose.oneoff=False".into(),
            ],
        );
        let list = self
            .d
            .list_containers(Some(qp::ListContainersOptions {
                all: true,
                filters: Some(filters),
                ..Default::default()
            }))
            .await
            .map_err(|e| crate::error::Error::from_engine("container list", &e))?;
        let since = self.s.since.floor() as i64;
        for c in list {
            let labels = c.labels.clone().unwrap_or_default();
            let Some(id) = c.id.clone() else { continue };
            if !self.s.watched(labels.get(SERVICE).map(String::as_str).unwrap_or("")) {
                continue;
            }
            let Some((live, started)) = state(&self.d, &id).await else {
                continue;
            };
            if live || started >= since {
                self.alive.insert(id.clone());
            }
            // Started in this session: its start event (replayed) streams it.
            if live && started < since {
                let mut attrs = labels;
                let name = c.names.as_ref().and_then(|n| n.first()).cloned().unwrap_or_default();
                attrs.insert("name".into(), name.trim_start_matches('/').to_string());
                self.stream(who_of(&id, &attrs), "0");
            }
        }
        Ok(())
    }

    async fn on_event(&mut self, e: bollard::models::EventMessage) {
        let Some(actor) = e.actor else { return };
        let id = actor.id.unwrap_or_default();
        let attrs = actor.attributes.unwrap_or_default();
        if !self.s.watched(attrs.get(SERVICE).map(String::as_str).unwrap_or("")) {
            return;
        }
        let who = who_of(&id, &attrs);
        match e.action.as_deref() {
            Some("start") => {
                self.alive.insert(id);
                self.stream(who, "all");
            }
            Some("die") => {
                let code = attrs.get("exitCode").and_then(|c| c.parse().ok()).unwrap_or(0);
                let restarting = state(&self.d, &id).await.map(|(live, _)| live).unwrap_or(false);
                if !restarting {
                    self.alive.remove(&id);
                }
                let exit = Msg::Exit { who, code, restarting };
                if self.streaming.contains(&id) {
                    self.pending.insert(id, exit);
                } else {
                    let _ = self.tx.send(exit);
                }
            }
            _ => {}
        }
    }

    fn on_log_end(&mut self, id: String, last: Stamp) {
        self.streaming.remove(&id);
        self.seen.insert(id.clone(), last);
        if let Some(exit) = self.pending.remove(&id) {
            let _ = self.tx.send(exit);
        }
    }

    fn done(&self) -> bool {
        self.alive.is_empty() && self.streaming.is_empty() && self.pending.is_empty()
    }
}

async fn run(d: Docker, s: Setup, tx: UnboundedSender<Msg>) -> crate::error::Result<()> {
    let mut filters = HashMap::new();
    filters.insert("type".to_string(), vec!["container".to_string()]);
    filters.insert(
        "label".to_string(),
        vec![
            format!("{PROJECT}={}", s.project),
            "com.docker.compose.oneoff=False".into(),
        ],
    );
    // Replayed from `since`, so containers that started (and even exited)
    // before this call are seen as compose sees them by attaching first.
    let since = format!("{}.{:09}", s.since.floor() as i64, ((s.since.fract()) * 1e9) as i64);
    let mut events = d.events(Some(qp::EventsOptions {
        since: Some(since),
        until: None,
        filters: Some(filters),
    }));
    let (end_tx, mut end_rx) = unbounded_channel();
    let mut t = Tracker {
        d: d.clone(),
        s,
        tx,
        end_tx,
        alive: HashSet::new(),
        streaming: HashSet::new(),
        pending: HashMap::new(),
        seen: HashMap::new(),
    };
    t.initial().await?;
    while !t.done() {
        tokio::select! {
            e = events.next() => match e {
                Some(Ok(e)) => t.on_event(e).await,
                Some(Err(e)) => return Err(crate::error::Error::from_engine("engine events", &e)),
                None => return Err("engine events: the stream ended".into()),
            },
            Some(LogEnd(id, last)) = end_rx.recv() => t.on_log_end(id, last),
        }
    }
    Ok(())
}

pub fn start(project: &str, opts: Map) -> RhaiResult<Follow> {
    let o: ContainerFollowOpts = crate::api::opts::read("container::follow", opts)?;
    let since = match o.since {
        Some(t) => t,
        None => super::util::unix_now_secs(),
    };
    let s = Setup {
        project: project.to_string(),
        watch: o.watch.clone().unwrap_or_default(),
        attach: o.attach.clone().unwrap_or_default(),
        since,
        timestamps: o.timestamps.unwrap_or(false),
    };
    let ep = super::endpoint();
    let d = bridge::block_on(async { client(&ep).await.cloned() })?;
    let (tx, rx) = unbounded_channel();
    bridge::handle().spawn(async move {
        if let Err(e) = run(d, s, tx.clone()).await {
            let _ = tx.send(Msg::Failed(e.message));
        }
    });
    Ok(Follow(Arc::new(tokio::sync::Mutex::new(rx))))
}

fn who_map(m: &mut Map, who: Who) {
    m.insert("id".into(), who.id.into());
    m.insert("name".into(), who.name.into());
    m.insert("service".into(), who.service.into());
    m.insert("number".into(), who.number.into());
}

fn next(f: &Follow, timeout: Option<std::time::Duration>) -> RhaiResult<Dynamic> {
    let rx = f.0.clone();
    let msg = bridge::block_on_until_interrupt(async move {
        let mut rx = rx.lock().await;
        Ok(match timeout {
            Some(t) => tokio::time::timeout(t, rx.recv()).await.map_err(|_| ()),
            None => Ok(rx.recv().await),
        })
    })?;
    let mut m = Map::new();
    let Ok(msg) = msg else {
        m.insert("kind".into(), "idle".into());
        return Ok(m.into());
    };
    match msg {
        None => return Ok(Dynamic::UNIT),
        Some(Msg::Failed(e)) => return super::fail(e),
        Some(Msg::Log { who, stderr, line }) => {
            m.insert("kind".into(), "log".into());
            m.insert("stream".into(), (if stderr { "stderr" } else { "stdout" }).into());
            m.insert("line".into(), line.into());
            who_map(&mut m, who);
        }
        Some(Msg::Exit { who, code, restarting }) => {
            m.insert("kind".into(), "exit".into());
            m.insert("code".into(), code.into());
            m.insert("restarting".into(), restarting.into());
            who_map(&mut m, who);
        }
    }
    Ok(m.into())
}

#[export_module]
pub mod api {
    use super::*;

    /// The next event of a follow, `()` when every tracked container has
    /// exited. Ctrl-C interrupts the wait.
    ///
    /// ```rhai
    /// loop { let e = f.next(); if e == () { break; } print(e); }
    /// ```
    #[rhai_fn(global, name = "next", return_raw)]
    pub fn follow_next(f: &mut Follow) -> RhaiResult<Dynamic> {
        next(f, None)
    }

    /// `next`, giving up after `timeout` seconds: then `#{ kind: "idle" }`
    /// (a loop that also watches something else polls in between).
    ///
    /// ```rhai
    /// let e = f.next(0.5);
    /// if e != () && e.kind == "idle" { print("quiet"); }
    /// ```
    #[rhai_fn(global, name = "next", return_raw)]
    pub fn follow_next_within(f: &mut Follow, timeout: f64) -> RhaiResult<Dynamic> {
        next(f, Some(crate::api::util::secs("Follow.next", timeout)?))
    }
}

pub fn register_types(engine: &mut rhai::Engine) {
    engine.register_type_with_name::<Follow>("Follow");
}
