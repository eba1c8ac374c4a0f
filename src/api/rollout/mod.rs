//! `compose::rollout`: a rolling update of one compose service on one host
//! with no downtime. The engine steps live in `plan::rollout`; this is the
//! policy: batches of `parallelism`, start-first or stop-first, each new
//! replica healthy (and stable for `min_healthy_time`) and accepted by the
//! script's `gate` before clients reach it, `monitor` after each batch,
//! and on failure (beyond `max_failure_ratio`) the `failure_action`:
//! rollback (the parked old containers started again, the new removed),
//! pause (stop here) or continue. Defaults come from the service's
//! `deploy.update_config` / `rollback_config`; options override them.

use std::sync::Arc;
use std::time::{Duration, Instant};

use rhai::plugin::*;
use rhai::{Dynamic, FnPtr, Map, NativeCallContext};
use serde_json::Value;
use tokio::sync::mpsc;

use super::compose::Project;
use super::container::Container;
use super::options::RolloutOpts;
use super::value::call_back;
use super::{client, fail, RhaiResult};
use crate::bridge;
use crate::docker::Endpoint;
use crate::error::{self, Error};
use crate::plan::apply::Event;
use crate::plan::desired;
use crate::plan::history as rev_history;
use crate::plan::rollout::{highest, Replica, Rollout};

mod history;
mod policy;
mod recover;
use policy::{policy, secs, single_instance, Policy};

/// A rollout in progress, driven from the script thread (the gate and
/// `on_event` are script closures).
struct Run<'a, 'c> {
    ctx: &'a NativeCallContext<'c>,
    ep: Arc<Endpoint>,
    r: Rollout,
    rx: std::cell::RefCell<mpsc::UnboundedReceiver<Event>>,
    on_event: Option<FnPtr>,
    gate: Option<FnPtr>,
    min_healthy: Duration,
    deadline: Duration,
    drain: Duration,
    /// New replicas serving (created by this run or found current).
    fresh: Vec<Replica>,
    /// New replicas this run created (removed on a rollback).
    created: Vec<Replica>,
    /// Old replicas still serving.
    old: Vec<Replica>,
    /// Old replicas taken out and stopped, kept for a rollback.
    parked: Vec<Replica>,
    next: usize,
    failed: usize,
}

impl Run<'_, '_> {
    /// Runs engine work, then hands the events it sent to `on_event`.
    fn step<T>(&self, f: impl std::future::Future<Output = error::Result<T>>) -> RhaiResult<error::Result<T>> {
        let out = bridge::block_on(async { Ok(f.await) });
        self.flush()?;
        out
    }

    fn flush(&self) -> RhaiResult<()> {
        loop {
            let Ok(ev) = self.rx.borrow_mut().try_recv() else { break };
            self.send(crate::api::plan::event_map(ev))?;
        }
        Ok(())
    }

    fn send(&self, m: Map) -> RhaiResult<()> {
        if let Some(f) = &self.on_event {
            let _ = call_back(self.ctx, f, vec![m.into()], 1)?;
        }
        Ok(())
    }

    /// A rollout-level event: `#{ kind: "Service", name, status }`.
    fn say(&self, status: &str) -> RhaiResult<()> {
        let mut m = Map::new();
        m.insert("kind".into(), "Service".into());
        m.insert("name".into(), self.r.service().name.clone().into());
        m.insert("status".into(), status.into());
        m.insert("done".into(), true.into());
        m.insert("error".into(), Dynamic::UNIT);
        m.insert("elapsed".into(), 0.0.into());
        self.send(m)
    }

    /// Whether the script's gate accepts `rep`; a throwing gate rejects.
    fn gate(&self, rep: &Replica) -> RhaiResult<error::Result<()>> {
        let Some(g) = &self.gate else { return Ok(Ok(())) };
        let c = Container {
            ep: self.ep.clone(),
            id: rep.id.clone(),
            name: rep.name.clone(),
            info: Map::new(),
        };
        match call_back(self.ctx, g, vec![Dynamic::from(c)], 1) {
            Ok(v) if v.as_bool() == Ok(true) => Ok(Ok(())),
            Ok(v) if v.is_bool() => Ok(Err(Error::script(format!("the gate rejected {}", rep.name)))),
            Ok(v) => fail(format!(
                "compose::rollout: the gate must return true or false, not {}",
                v.type_name()
            )),
            Err(e) if matches!(*e, rhai::EvalAltResult::ErrorTerminated(..)) => Err(e),
            Err(e) => Ok(Err(Error::script(format!(
                "the gate failed on {}: {}",
                rep.name,
                error::message(&e)
            )))),
        }
    }

    /// Starts `n` new replicas hidden, waits for them and gates them;
    /// those accepted join the service. Returns the reasons of the others
    /// (already removed).
    fn bring_up(&mut self, n: usize) -> RhaiResult<Vec<Error>> {
        let numbers: Vec<usize> = (0..n).map(|i| self.next + i).collect();
        self.next += n;
        let launched = {
            let r = &self.r;
            self.step(async { Ok(futures_util::future::join_all(numbers.iter().map(|&k| r.launch(k))).await) })??
        };
        let mut up = Vec::new();
        let mut reasons = Vec::new();
        for l in launched {
            match l {
                Ok(rep) => up.push(rep),
                Err(e) => reasons.push(e),
            }
        }
        let (stable, deadline) = (self.min_healthy, self.deadline);
        let ready = {
            let r = &self.r;
            self.step(async {
                Ok(futures_util::future::join_all(up.iter().map(|rep| r.wait_ready(rep, stable, deadline))).await)
            })??
        };
        for (mut rep, ok) in up.into_iter().zip(ready) {
            let verdict = match ok {
                Ok(()) => self.gate(&rep)?,
                Err(e) => Err(e),
            };
            let joined = match verdict {
                Ok(()) => {
                    let r = &self.r;
                    let j = bridge::block_on(async { Ok(r.join(&mut rep).await) })?;
                    self.flush()?;
                    j
                }
                Err(e) => Err(e),
            };
            match joined {
                Ok(()) => {
                    self.created.push(rep.clone());
                    self.fresh.push(rep);
                }
                Err(e) => {
                    reasons.push(e);
                    let r = &self.r;
                    self.step(r.remove(&rep))?.ok();
                }
            }
        }
        Ok(reasons)
    }

    /// Takes up to `n` old replicas out (drained, stopped, parked).
    fn take_down(&mut self, n: usize) -> RhaiResult<error::Result<()>> {
        let k = n.min(self.old.len());
        // The highest numbers go first, as compose scales down.
        let mut batch: Vec<Replica> = self.old.split_off(self.old.len() - k);
        let drain = self.drain;
        let results = {
            let r = &self.r;
            self.step(async {
                Ok(futures_util::future::join_all(batch.iter_mut().map(|rep| r.retire(rep, drain))).await)
            })??
        };
        self.parked.extend(batch);
        Ok(results.into_iter().collect::<Result<Vec<_>, _>>().map(|_| ()))
    }

    /// Takes replicas this run created out and removes them.
    fn drop_replicas(&mut self, batch: &[Replica]) -> RhaiResult<()> {
        let ids: Vec<&str> = batch.iter().map(|r| r.id.as_str()).collect();
        self.created.retain(|c| !ids.contains(&c.id.as_str()));
        for rep in batch {
            let mut rep = rep.clone();
            let r = &self.r;
            self.step(async { r.retire(&mut rep, Duration::ZERO).await.and(r.remove(&rep).await) })?
                .ok();
        }
        Ok(())
    }

    /// Watches the replicas of the last batch for `monitor`: any that stops
    /// or turns unhealthy fails the batch.
    fn watch(&mut self, monitor: Duration, batch: &[Replica]) -> RhaiResult<Vec<Error>> {
        let t = Instant::now();
        let mut bad = Vec::new();
        while t.elapsed() < monitor && bad.is_empty() {
            for rep in batch {
                let h = self.step(self.r.health(&rep.id))?;
                match h {
                    Ok(h) if h.state == "running" && h.health != "unhealthy" => {}
                    Ok(h) => bad.push(Error::script(format!(
                        "{} turned {} while monitored; {}",
                        rep.name, h.health, h.output
                    ))),
                    Err(e) => bad.push(e),
                }
            }
            bridge::sleep(Duration::from_millis(250))?;
        }
        Ok(bad)
    }
}

/// The forward pass: batches until `want` new replicas serve and no old
/// one does. `Err(reason)` when the failure action says stop.
fn forward(run: &mut Run, p: &Policy, want: usize) -> RhaiResult<error::Result<()>> {
    let mut reasons = Vec::new();
    while run.fresh.len() < want {
        let n = p.batch.min(want - run.fresh.len());
        let before = run.fresh.len();
        run.say(&format!("Updating {}/{want}", before + n))?;
        if !p.start_first {
            if let Err(e) = run.take_down(n)? {
                return Ok(Err(e));
            }
        }
        let mut failed = run.bring_up(n)?;
        let batch: Vec<Replica> = run.fresh[before..].to_vec();
        if failed.is_empty() && !p.monitor.is_zero() {
            failed = run.watch(p.monitor, &batch)?;
            if !failed.is_empty() {
                // The batch failed as a whole: out of service at once.
                run.fresh.truncate(before);
                run.drop_replicas(&batch)?;
            }
        }
        let ok = run.fresh.len() - before;
        if p.start_first && ok > 0 {
            if let Err(e) = run.take_down(ok)? {
                return Ok(Err(e));
            }
        }
        if !failed.is_empty() {
            run.failed += failed.len();
            reasons.extend(failed);
            let ratio = run.failed as f64 / want.max(1) as f64;
            if p.failure_action != "continue" && ratio > p.max_failure_ratio {
                return Ok(Err(all_of(&reasons)));
            }
            run.say(&format!("Continuing past: {}", all_of(&reasons)))?;
            if run.failed >= want {
                return Ok(Err(all_of(&reasons)));
            }
        }
        if !p.delay.is_zero() && run.fresh.len() < want {
            bridge::sleep(p.delay)?;
        }
    }
    // Old replicas beyond the wanted count (a scale-down, or batches that
    // failed and continued) go last.
    let extra = run.old.len();
    if let Err(e) = run.take_down(extra)? {
        return Ok(Err(e));
    }
    Ok(Ok(()))
}

/// Several reasons as one error: their messages, `; `-separated.
fn all_of(reasons: &[Error]) -> Error {
    let messages: Vec<&str> = reasons.iter().map(|e| e.message.as_str()).collect();
    Error::script(messages.join("; "))
}

/// The result map: `#{ ok, changed, rolled_back, paused, failed, error, replicas }`.
fn outcome(ok: bool, changed: bool, run: &Run, error: Option<String>, rolled_back: bool, paused: bool) -> Map {
    let mut m = Map::new();
    m.insert("ok".into(), ok.into());
    m.insert("changed".into(), changed.into());
    m.insert("rolled_back".into(), rolled_back.into());
    m.insert("paused".into(), paused.into());
    m.insert("failed".into(), (run.failed as i64).into());
    m.insert("error".into(), error.map(Dynamic::from).unwrap_or(Dynamic::UNIT));
    let names: rhai::Array = run
        .fresh
        .iter()
        .chain(run.old.iter())
        .map(|r| Dynamic::from(r.name.clone()))
        .collect();
    m.insert("replicas".into(), names.into());
    m
}

/// The desired project with `document` (a revision's) as `service`, and
/// `image` (if given) as its image.
fn desired_for(
    p: &Project,
    service: &str,
    document: Option<Value>,
    image: Option<String>,
) -> RhaiResult<desired::Desired> {
    let mut doc = p.0.doc.clone();
    if doc["services"].get(service).is_none() {
        return fail(format!("no such service: {service}"));
    }
    if let Some(s) = document {
        doc["services"][service] = s;
    }
    if let Some(img) = image {
        doc["services"][service]["image"] = Value::String(img);
    }
    let mut d = desired::from_compose_with(&doc, p.0.separator).map_err(|e| format!("compose::rollout: {e}"))?;
    d.disabled = p.0.disabled_services.clone();
    d.working_dir = p.0.working_dir.display().to_string();
    d.config_files = p.0.config_files.clone();
    d.env_files = p.0.env_files.clone();
    crate::plan::secrets::prepare(&mut d, &[service.to_string()], &p.0.environment)?;
    Ok(d)
}

pub fn rollout(ctx: &NativeCallContext, p: &Project, service: &str, opts: Map) -> RhaiResult<Map> {
    let o: RolloutOpts = super::opts::read("compose::rollout", opts)?;
    let ep = super::endpoint();
    let d = bridge::block_on(async { client(&ep).await.cloned() })?;
    let cur = bridge::block_on(async { rev_history::read(&d, &p.0.name, service).await.map_err(Into::into) })?;
    let document = match o.revision {
        Some(n) => Some(history::revision_document(&cur, service, n)?),
        None => None,
    };
    let desired = Arc::new(desired_for(p, service, document, o.image.clone())?);
    let raw = desired.service(service).expect("checked").raw.clone();
    let want = match o.replicas {
        Some(n) => n.max(0) as usize,
        None => desired.service(service).expect("checked").replicas,
    };
    let update = policy(&raw, "update_config", None, &o, want)?;
    if update.start_first {
        if let Some(why) = single_instance(&raw) {
            return fail(format!(
                "service {service} {why}: a start-first rollout runs a second container beside each old one; use order stop-first"
            ));
        }
    }
    let back = policy(&raw, "rollback_config", Some(&update), &RolloutOpts::default(), want)?;
    let (tx, rx) = mpsc::unbounded_channel();
    let timeout = o.timeout;
    let host = ep.host.clone();
    let project = desired.project.clone();
    // The project's lock for the whole rollout: a concurrent `up` waits.
    let lock = bridge::block_on(async {
        crate::plan::lock::acquire(&d, &host, &project, |m| eprintln!("{m}"))
            .await
            .map_err(Into::into)
    })?;
    let mut r = bridge::block_on(async {
        Rollout::new(d.clone(), desired.clone(), service, timeout, tx)
            .await
            .map_err(Into::into)
    })?;
    r.label_new(history::history_for(p, r.service(), &cur));
    let mut run = Run {
        ctx,
        ep,
        r,
        rx: std::cell::RefCell::new(rx),
        on_event: o.on_event.clone(),
        gate: o.gate.clone(),
        min_healthy: secs("min_healthy_time", &o.min_healthy_time)?.unwrap_or_default(),
        deadline: secs("progress_deadline", &o.progress_deadline)?.unwrap_or(Duration::from_secs(300)),
        // Off its networks a replica gets no request (nor answers one still
        // in flight), so by default it is stopped at once; `drain` is for
        // work it finishes on its own.
        drain: secs("drain", &o.drain)?.unwrap_or_default(),
        fresh: Vec::new(),
        created: Vec::new(),
        old: Vec::new(),
        parked: Vec::new(),
        next: 0,
        failed: 0,
    };
    let result = drive(&mut run, &update, &back, want);
    drop(lock);
    result
}

/// Sorts what exists, then runs the rollout and its failure action.
fn drive(run: &mut Run, update: &Policy, back: &Policy, want: usize) -> RhaiResult<Map> {
    let all = run
        .step(run.r.replicas())?
        .map_err(|e| -> Box<rhai::EvalAltResult> { e.into() })?;
    run.next = highest(&all) + 1;
    // What a killed run left: new replicas that never served, stopped
    // ones. Old stopped ones are parked (removed once the rollout is done).
    let mut stale = Vec::new();
    for rep in all {
        match (rep.current, rep.joined && rep.running) {
            (true, true) => run.fresh.push(rep),
            (true, false) => stale.push(rep),
            (false, _) if rep.running => run.old.push(rep),
            (false, _) => run.parked.push(rep),
        }
    }
    // More current replicas than wanted: the highest numbers are extra.
    while run.fresh.len() > want {
        run.old.push(run.fresh.pop().expect("non-empty"));
    }
    if run.old.is_empty() && run.parked.is_empty() && stale.is_empty() && run.fresh.len() == want {
        run.say("Up to date")?;
        return Ok(outcome(true, false, run, None, false, false));
    }
    for rep in &stale {
        let r = &run.r;
        run.step(r.remove(rep))?
            .map_err(|e| -> Box<rhai::EvalAltResult> { e.into() })?;
    }
    let verdict = forward(run, update, want)?;
    match verdict {
        Ok(()) => {
            let parked = std::mem::take(&mut run.parked);
            for rep in &parked {
                let r = &run.r;
                run.step(r.remove(rep))?
                    .map_err(|e| -> Box<rhai::EvalAltResult> { e.into() })?;
            }
            run.say("Rolled out")?;
            Ok(outcome(true, true, run, None, false, false))
        }
        Err(reason) if update.failure_action != "rollback" => {
            recover::hold(run, want, update.failure_action == "pause")?;
            let paused = update.failure_action == "pause";
            Ok(outcome(false, true, run, Some(reason.message), false, paused))
        }
        Err(reason) => match recover::roll_back(run, back)? {
            Ok(()) => {
                run.say("Rolled back")?;
                Ok(outcome(false, true, run, Some(reason.message), true, false))
            }
            Err(e) => Ok(outcome(false, true, run, Some(format!("{reason}; {e}")), false, false)),
        },
    }
}

#[export_module]
pub mod api {
    use super::*;

    /// Rolls `service` of a loaded project out to its configuration in
    /// that project (or `image`), replica by replica, with no downtime.
    /// Each new replica (compose's name, number, labels and config hash)
    /// starts beside the old ones, hidden from the service's DNS name; once
    /// healthy, stable for `min_healthy_time` and accepted by `gate`, it
    /// joins the name, and an old one is drained (out of DNS, `drain`
    /// seconds, stopped). Defaults come from `deploy.update_config` /
    /// `rollback_config`; options: `image`, `replicas`, `parallelism`,
    /// `revision` (a revision of `compose::rollout_history` to go back
    /// to), `delay`, `order` ("start-first" default | "stop-first"),
    /// `failure_action` ("rollback" default | "pause" | "continue"),
    /// `monitor`, `max_failure_ratio`, `max_surge`, `max_unavailable`,
    /// `progress_deadline` (300 s), `min_healthy_time`, `drain` (0 s),
    /// `timeout` (stop grace), `gate: |container| bool`, `on_event: |e|`.
    /// Durations are seconds or strings ("1m30s"). Returns `#{ ok, changed,
    /// rolled_back, paused, failed, error, replicas }`; on a rollback the
    /// old containers serve again, exactly as before. Each rollout records
    /// its revision on the new containers (`orch rollout history`).
    ///
    /// ```rhai
    /// let p = compose::load(#{});
    /// let r = compose::rollout(p, "web", #{
    ///     image: "web:2", parallelism: 1,
    ///     gate: |c| c.exec(["wget", "-qO-", "localhost/version"]).stdout.contains("2"),
    ///     on_event: |e| print(`${e.name} ${e.status}`),
    /// });
    /// if !r.ok { print(`rolled back: ${r.error}`); }
    /// ```
    #[rhai_fn(name = "rollout", return_raw)]
    pub fn rollout(ctx: NativeCallContext, p: Project, service: &str, opts: Map) -> RhaiResult<Map> {
        crate::api::at(&ctx, || super::rollout(&ctx, &p, service, opts))
    }

    /// Why a service (a document from `Project.service(name)`) cannot run
    /// two containers at once (`"has container_name x"`, `"publishes host
    /// port 8080"`), or `()`: a start-first rollout needs that.
    ///
    /// ```rhai
    /// let why = compose::single_instance(p.service("web"));
    /// if why != () { print(`web ${why}: rolling stop-first`); }
    /// ```
    #[rhai_fn(name = "single_instance", return_raw)]
    pub fn single_instance_of(service: Dynamic) -> RhaiResult<Dynamic> {
        let v = crate::api::value::to_json(&service)?;
        Ok(super::single_instance(&v).map(Dynamic::from).unwrap_or(Dynamic::UNIT))
    }

    /// The rollout history of `service` in project `project` (a name), as
    /// recorded on its containers: the last 10 revisions, oldest first,
    /// each `#{ revision, time, image, hash, current, known }` (`known`:
    /// whether orch recorded its configuration, so `undo` can go back).
    ///
    /// ```rhai
    /// for r in compose::rollout_history("shop", "web") { print(`${r.revision} ${r.image}`); }
    /// ```
    #[rhai_fn(name = "rollout_history", return_raw)]
    pub fn rollout_history(ctx: NativeCallContext, project: &str, service: &str) -> RhaiResult<rhai::Array> {
        crate::api::at(&ctx, || super::history::history_of(project, service))
    }
}
