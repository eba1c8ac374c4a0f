//! `service::logs`: the log streams of a service's tasks merged, each line
//! with its task, node, slot and stream (stdout or stderr). Following a
//! service follows the tasks it starts later too (a scale-up, a restart
//! after a crash), as `docker service logs -f` does: the task list is
//! asked again every second while following.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use bollard::container::LogOutput;
use bollard::query_parameters as qp;
use bollard::Docker;
use futures_util::stream::{BoxStream, SelectAll, StreamExt};
use rhai::{Dynamic, Map, NativeCallContext};
use serde_json::Value;

use super::options::ServiceLogsOpts;
use super::swarm::{get, with};
use super::RhaiResult;
use crate::bridge;
use crate::engine_json as ej;

type Tagged = (Map, Result<LogOutput, bollard::errors::Error>);

/// The tasks of the service with ID `id`.
fn tasks(id: &str, name: &str) -> RhaiResult<Vec<Value>> {
    let f = ej::filters([("service", std::slice::from_ref(&id.to_string()))]);
    let list = get(
        format!("service logs {name}"),
        format!("/tasks{}", ej::query(&[("filters", f)])),
    )?;
    Ok(list.as_array().cloned().unwrap_or_default())
}

/// What a line's callback gets besides the line.
fn meta(t: &Value) -> Map {
    let mut m = Map::new();
    m.insert(
        "task".into(),
        Dynamic::from(t["ID"].as_str().unwrap_or_default().to_string()),
    );
    m.insert(
        "node".into(),
        Dynamic::from(t["NodeID"].as_str().unwrap_or_default().to_string()),
    );
    m.insert("slot".into(), Dynamic::from(t["Slot"].as_i64().unwrap_or_default()));
    m
}

/// The merged log streams of one service's tasks, and which tasks
/// already have one.
struct Follow {
    d: Docker,
    id: String,
    name: String,
    /// Only this task (an ID or its prefix), when given.
    only: Option<String>,
    merged: SelectAll<BoxStream<'static, Tagged>>,
    seen: HashSet<String>,
}

impl Follow {
    /// Asks for the service's tasks and adds a stream for each new one.
    fn add_new(&mut self, options: &qp::LogsOptions) -> RhaiResult<()> {
        for t in tasks(&self.id, &self.name)? {
            let id = t["ID"].as_str().unwrap_or_default().to_string();
            if self.only.as_deref().is_some_and(|o| !id.starts_with(o)) || !self.seen.insert(id.clone()) {
                continue;
            }
            let m = meta(&t);
            let s = self.d.task_logs(&id, Some(options.clone()));
            self.merged.push(s.map(move |item| (m.clone(), item)).boxed());
        }
        Ok(())
    }
}

pub(super) fn service_logs(ctx: &NativeCallContext, name: &str, opts: Map, each: rhai::FnPtr) -> RhaiResult<()> {
    let o: ServiceLogsOpts = crate::api::opts::read("service::logs", opts)?;
    let follow = o.follow.unwrap_or(false);
    let options = super::batch::logs_options(&super::batch::LogQuery {
        follow: o.follow,
        tail: o.tail,
        since: o.since,
        until: None,
        timestamps: o.timestamps,
    });
    // Tasks that start while following have all their lines shown.
    let later = qp::LogsOptions {
        tail: "all".into(),
        ..options.clone()
    };
    let svc = super::service::inspect_json("logs", name)?;
    let id = svc["ID"].as_str().unwrap_or_default().to_string();
    let mut f = Follow {
        d: with(|d| async move { Ok(d) })?,
        id,
        name: name.to_string(),
        only: o.task.clone(),
        merged: SelectAll::new(),
        seen: HashSet::new(),
    };
    f.add_new(&options)?;
    let mut partial: HashMap<(String, bool), String> = HashMap::new();
    let mut listed = Instant::now();
    loop {
        let next = bridge::block_on(async {
            Ok(if follow {
                tokio::time::timeout(Duration::from_secs(1), f.merged.next()).await.ok()
            } else {
                Some(f.merged.next().await)
            })
        })?;
        match next {
            Some(Some((m, Ok(out)))) => {
                let err = matches!(out, LogOutput::StdErr { .. });
                let key = (m.get("task").map(|t| t.to_string()).unwrap_or_default(), err);
                let buf = partial.entry(key).or_default();
                buf.push_str(&String::from_utf8_lossy(&out.into_bytes()));
                while let Some(pos) = buf.find('\n') {
                    let line: String = buf.drain(..=pos).collect();
                    let line = line.trim_end_matches(['\n', '\r']).to_string();
                    let mut m = m.clone();
                    m.insert("stream".into(), Dynamic::from(if err { "stderr" } else { "stdout" }));
                    let _ = super::value::call_back(ctx, &each, vec![line.into(), Dynamic::from_map(m)], 1)?;
                }
            }
            // A task whose node is gone has no logs to give: skip it.
            Some(Some((_, Err(_)))) => {}
            Some(None) if !follow => break,
            // Every stream ended (no task runs): wait for new ones.
            Some(None) => bridge::sleep(Duration::from_secs(1))?,
            None => {}
        }
        if follow && listed.elapsed() >= Duration::from_secs(1) {
            f.add_new(&later)?;
            listed = Instant::now();
        }
    }
    Ok(())
}
