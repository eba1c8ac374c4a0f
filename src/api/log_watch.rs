//! What `logs -f` does besides streaming the containers it listed: it
//! watches the project's container events as compose's `logs -f` does (its
//! `monitor`), so a container started later (scaled, recreated, restarted
//! by its policy, `run`) is followed from its start, each exit prints
//! `NAME exited with code N` (`(restarting)` when the engine restarts it),
//! a recreation `NAME has been recreated`, and the command ends when every
//! container it waits for has exited for good. Like compose's, that set
//! starts as every container listed, stopped ones included: `logs -f` on a
//! project with a stopped container waits for new output until Ctrl-C.
//!
//! This module keeps that state and decides; `log_stream` opens the
//! streams and prints.
//!
//! ```rhai
//! let out = log_printer(#{ colour: false, prefix: true });
//! let listed = container::list(#{ all: true, label: ["com.docker.compose.project=demo"] });
//! container::logs(listed, #{ follow: true, project: "demo" }, out, #{});
//! ```

use std::collections::{HashMap, HashSet};

use bollard::models::EventMessage;
use bollard::query_parameters as qp;
use bollard::Docker;
use futures_util::stream::{BoxStream, StreamExt};

use super::follow::{stamp_of, state, Stamp};
use crate::plan::desired::{
    LABEL_NUMBER as NUMBER, LABEL_PROJECT as PROJECT, LABEL_REPLACE as REPLACE, LABEL_SERVICE as SERVICE,
};

/// What the printer should do about an event.
pub enum Action {
    /// Stream this container's logs after `after` (its previous run's
    /// end), shown as `shown`.
    Follow {
        id: String,
        name: String,
        shown: String,
        after: Stamp,
    },
    /// Print `shown text` as a status line now.
    Status { shown: String, text: String },
}

/// The project's events and compose's monitor state.
pub struct Watch {
    events: BoxStream<'static, Result<EventMessage, bollard::errors::Error>>,
    services: Vec<String>,
    /// Containers the command waits for (compose's monitor set): IDs.
    alive: HashSet<String>,
    /// Open log streams per container name.
    open: HashMap<String, usize>,
    /// Exits seen while the container's stream may still bring lines:
    /// printed when it ends, so the status follows the last line.
    pending: HashMap<String, (String, String)>,
    /// When each container's last run ended (its `die` event): the
    /// engine has read all of that run's output by then, so its next run's
    /// lines are those stamped after.
    died: HashMap<String, Stamp>,
}

impl Watch {
    /// Subscribes to `project`'s container events; `listed` are the IDs
    /// the command streams already (any state), `services` the services
    /// it shows (empty: all).
    pub fn start(d: &Docker, project: &str, services: Vec<String>, listed: Vec<String>) -> Watch {
        let filters = HashMap::from([
            ("type".to_string(), vec!["container".to_string()]),
            ("label".to_string(), vec![format!("{PROJECT}={project}")]),
        ]);
        let events = d
            .events(Some(qp::EventsOptions {
                since: None,
                until: None,
                filters: Some(filters),
            }))
            .boxed();
        Watch {
            events,
            services,
            alive: listed.into_iter().collect(),
            open: HashMap::new(),
            pending: HashMap::new(),
            died: HashMap::new(),
        }
    }

    /// The next event; `None` when the engine ends the stream.
    pub async fn next(&mut self) -> Option<Result<EventMessage, bollard::errors::Error>> {
        self.events.next().await
    }

    /// Whether the command is over: nothing left to wait for or to show.
    pub fn done(&self, streams_open: bool) -> bool {
        self.alive.is_empty() && !streams_open && self.pending.is_empty()
    }

    /// A stream of `name` opened.
    pub fn opened(&mut self, name: &str) {
        *self.open.entry(name.to_string()).or_default() += 1;
    }

    /// A stream of `name` ended: the exit it held back, if any.
    pub fn closed(&mut self, name: &str) -> Option<(String, String)> {
        if let Some(n) = self.open.get_mut(name) {
            *n = n.saturating_sub(1);
        }
        self.pending.remove(name)
    }

    /// What `e` asks for, as compose's monitor and printer read it.
    pub async fn on_event(&mut self, d: &Docker, e: EventMessage) -> Option<Action> {
        let actor = e.actor?;
        let id = actor.id.unwrap_or_default();
        let attrs = actor.attributes.unwrap_or_default();
        let service = attrs.get(SERVICE).map(String::as_str).unwrap_or("");
        if !self.services.is_empty() && !self.services.iter().any(|s| s == service) {
            return None;
        }
        let name = attrs.get("name").cloned().unwrap_or_default();
        match e.action.as_deref()? {
            "create" => {
                self.alive.insert(id);
                let replaced = attrs.get(REPLACE)?;
                Some(Action::Status {
                    shown: replaced.clone(),
                    text: "has been recreated".into(),
                })
            }
            "start" => {
                self.alive.insert(id.clone());
                let after = match self.died.get(&id) {
                    Some(t) => *t,
                    None => run_start(d, &id).await?,
                };
                Some(Action::Follow {
                    id,
                    shown: source(&name, &attrs),
                    name,
                    after,
                })
            }
            "die" => {
                let t = e.time_nano.unwrap_or(0);
                self.died.insert(
                    id.clone(),
                    (t.div_euclid(1_000_000_000), t.rem_euclid(1_000_000_000) as u32),
                );
                let code = attrs.get("exitCode").map_or("0", String::as_str);
                // Restarting, or already running again: compose's test.
                let restarting = state(d, &id).await.is_some_and(|(live, _)| live);
                if !restarting {
                    self.alive.remove(&id);
                }
                let text = format!(
                    "exited with code {code}{}",
                    if restarting { " (restarting)" } else { "" }
                );
                let shown = source(&name, &attrs);
                if self.open.get(&name).is_some_and(|n| *n > 0) {
                    self.pending.insert(name, (shown, text));
                    return None;
                }
                Some(Action::Status { shown, text })
            }
            _ => None,
        }
    }
}

/// The name compose shows a container by: without the project prefix when
/// it is the name compose gave it (`demo-web-1` → `web-1`).
fn source(name: &str, attrs: &HashMap<String, String>) -> String {
    let get = |k| attrs.get(k).map_or("", String::as_str);
    let (project, service, number) = (get(PROJECT), get(SERVICE), get(NUMBER));
    for sep in ["-", "_"] {
        if name == [project, service, number].join(sep) {
            return name[project.len() + 1..].to_string();
        }
    }
    name.to_string()
}

/// Where a container's current run begins in its log, when this command
/// did not see its previous run end: that run's `FinishedAt` (the engine
/// sets it once the run's output is read) while the current run goes on,
/// the beginning for a first run; when the current run is over already
/// (`FinishedAt` is its own), `StartedAt` less 100 ms, as a process's first
/// line can be stamped a little before `StartedAt`.
async fn run_start(d: &Docker, id: &str) -> Option<Stamp> {
    let i = d
        .inspect_container(id, None::<qp::InspectContainerOptions>)
        .await
        .ok()?;
    let state = i.state?;
    let stamp = |t: Option<String>| stamp_of(&t.unwrap_or_default()).filter(|s| s.0 > 0);
    let (started, finished) = (stamp(state.started_at)?, stamp(state.finished_at));
    Some(match finished {
        None => (0, 0),
        Some(f) if f < started => f,
        Some(_) if started.1 >= 100_000_000 => (started.0, started.1 - 100_000_000),
        Some(_) => (started.0 - 1, started.1 + 900_000_000),
    })
}

/// A line of a stream opened with timestamps from the second a
/// container's previous run ended: `None` when the engine stamped it at or
/// before `after` (that run's), else the line, its stamp kept only if
/// asked for.
///
/// Why not from `StartedAt`, as compose asks: the engine stamps a line when
/// it reads it, and a process's first line is often read before
/// `StartedAt` is set (by about a millisecond here): compose then loses it.
pub fn cut(line: &str, after: Stamp, keep_stamp: bool) -> Option<&str> {
    let (ts, rest) = line.split_once(' ').unwrap_or((line, ""));
    if stamp_of(ts).is_some_and(|s| s <= after) {
        return None;
    }
    Some(if keep_stamp { line } else { rest })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_starts_at_its_stamp() {
        let after = stamp_of("2026-11-28T15:00:01.500000000Z").unwrap();
        assert_eq!(cut("2026-11-28T15:00:01.400000000Z old", after, false), None);
        assert_eq!(cut("2026-11-28T15:00:01.500000000Z old", after, false), None);
        assert_eq!(cut("2026-11-28T15:00:01.500000001Z new", after, false), Some("new"));
        let kept = "2026-11-28T15:00:02Z x y";
        assert_eq!(cut(kept, after, true), Some(kept));
    }

    #[test]
    fn shown_without_the_project_only_when_compose_named_it() {
        let attrs: HashMap<String, String> = [(PROJECT, "demo"), (SERVICE, "web"), (NUMBER, "2")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        assert_eq!(source("demo-web-2", &attrs), "web-2");
        assert_eq!(source("demo_web_2", &attrs), "web_2");
        assert_eq!(source("my-web", &attrs), "my-web");
    }
}
