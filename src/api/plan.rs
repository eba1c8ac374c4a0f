//! The planner as primitives: compute what `up` would do, look at it,
//! filter it, then apply it.
//!
//! ```rhai
//! let p = plan::compute(doc, #{ services: ["web"] });
//! for s in p.steps { print(s.action + " " + s.name); }
//! let r = p.apply(#{ on_event: |e| print(`${e.kind} ${e.name}  ${e.status}`) });
//! if !r.ok { throw r.errors[0]; }
//! ```

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rhai::plugin::*;
use rhai::{Array, Dynamic, Engine, FnPtr, Map, NativeCallContext};

use super::options::{PlanApplyOpts, PlanComputeOpts};
use super::value::{call_back, to_dynamic, to_json};
use super::{client, fail, RhaiResult};
use crate::bridge;
use crate::docker::Endpoint;
use crate::plan::apply::{self, ApplyOptions};
use crate::plan::desired::{self, Desired};
use crate::plan::diff::{self, BuildPolicy, Plan as RawPlan};
use crate::plan::{lock, observed};

/// A computed plan for one project on one engine.
#[derive(Clone)]
pub struct Plan {
    pub ep: Arc<Endpoint>,
    pub desired: Arc<Desired>,
    pub plan: RawPlan,
    /// What the plan was computed with, to compute it again under the lock.
    pub options: diff::Options,
    /// What `filter` left out ([`diff::Step::key`]): left out of the plan
    /// computed again under the lock too (`run` leaves its service out).
    pub dropped: Vec<(Option<String>, Option<String>)>,
    /// The project lock's generation when the project was observed with
    /// nobody holding it ([`lock::quiet`]), and when: `apply` plans again
    /// only if a holder came in between or the observation is stale.
    pub generation: Option<u64>,
    pub observed_at: Instant,
}

/// How old an observation `apply` still acts on without looking again
/// (when no orch run changed the project since): a script that waits
/// between `plan::compute` and `apply` gets a fresh look, `up` does not
/// pay for a second one.
const FRESH: Duration = Duration::from_secs(1);

/// Services the active profiles left out, when `doc` is a loaded project
/// (a bare document does not say).
pub fn disabled_services(doc: &Dynamic) -> Vec<String> {
    doc.read_lock::<super::compose::Project>()
        .map(|p| p.0.disabled_services.clone())
        .unwrap_or_default()
}

/// What joins the names compose makes for the project `doc` (`_` with
/// `--compatibility`); a plain document is not loaded with it.
pub fn separator(doc: &Dynamic) -> &'static str {
    doc.read_lock::<super::compose::Project>()
        .map(|p| p.0.separator)
        .unwrap_or("-")
}

/// The compose document from a map or JSON text.
pub fn document(doc: &Dynamic) -> RhaiResult<serde_json::Value> {
    if let Some(p) = doc.read_lock::<super::compose::Project>() {
        return Ok(p.0.doc.clone());
    }
    if doc.is_string() {
        return serde_json::from_str(&doc.to_string())
            .map_err(|e| format!("plan: the compose document is not JSON: {e}").into());
    }
    if doc.is_map() {
        return to_json(doc);
    }
    fail(format!(
        "plan: expected a compose document (map or JSON text), not {}",
        doc.type_name()
    ))
}

/// The project's environment (a loaded project's, else the process's):
/// where `environment:` secrets and configs read.
pub(super) fn environment(doc: &Dynamic) -> HashMap<String, String> {
    match doc.read_lock::<super::compose::Project>() {
        Some(p) => p.0.environment.clone(),
        None => std::env::vars().collect(),
    }
}

/// A loaded project's explicit env files (compose's environment_file
/// label); none for a document given as a map.
pub(super) fn env_files(doc: &Dynamic) -> Vec<String> {
    doc.read_lock::<super::compose::Project>()
        .map(|p| p.0.env_files.clone())
        .unwrap_or_default()
}

fn compute(doc: Dynamic, opts: Map) -> RhaiResult<Plan> {
    let o: PlanComputeOpts = crate::api::opts::read("plan::compute", opts)?;
    let document = document(&doc)?;
    let ep = super::endpoint();
    let Some(name) = document["name"].as_str() else {
        return fail("plan: the compose document has no project name");
    };
    // Asked for (unless prefetched) before the desired state is worked out,
    // which fits inside the engine's answer.
    let listing = super::listing::for_plan(&ep, name);
    let (generation, observed_at) = (listing.generation, listing.observed_at);
    let mut d = desired::from_compose_with(&document, separator(&doc)).map_err(|e| format!("plan: {e}"))?;
    d.disabled = disabled_services(&doc);
    d.working_dir = o.working_dir.clone().unwrap_or_else(|| {
        std::env::current_dir()
            .map(|p| p.display().to_string())
            .unwrap_or_default()
    });
    d.config_files = o.config_files.clone().unwrap_or_default();
    d.env_files = env_files(&doc);
    let mut scale = HashMap::new();
    if let Some(m) = o.scale.clone() {
        for (k, v) in m {
            let n = v
                .as_int()
                .map_err(|_| format!("plan::compute: scale.{k} must be an integer"))?;
            scale.insert(k.to_string(), n.max(0) as usize);
        }
    }
    let options = diff::Options {
        services: o.services.clone().unwrap_or_default(),
        no_deps: o.no_deps.unwrap_or(false),
        force_recreate: o.force_recreate.unwrap_or(false),
        no_recreate: o.no_recreate.unwrap_or(false),
        always_recreate_deps: o.always_recreate_deps.unwrap_or(false),
        remove_orphans: o.remove_orphans.unwrap_or(false),
        ignore_orphans: o.ignore_orphans.unwrap_or(false),
        scale,
        recreate_volumes: o.recreate_volumes.unwrap_or(false),
        build: match o.build.clone().as_deref() {
            None | Some("missing") => BuildPolicy::Missing,
            Some("always") => BuildPolicy::Always,
            Some("never") => BuildPolicy::Never,
            Some(other) => {
                return fail(format!(
                    "plan::compute: build must be missing|always|never, not {other:?}"
                ))
            }
        },
    };
    if o.ignore_dependencies.unwrap_or(false) {
        d.drop_dependency_labels(&options.services);
    }
    let observed = bridge::block_on(async {
        let c = client(&ep).await?;
        observed::observe_with(c, &d, listing.containers())
            .await
            .map_err(Into::into)
    })?;
    let plan = diff::plan(&d, &observed, &options)?;
    crate::plan::secrets::prepare(&mut d, &plan.services, &environment(&doc))?;
    if options.build == BuildPolicy::Never {
        for name in &plan.services {
            let svc = d.service(name).expect("planned");
            if !observed.images.get(&svc.image).copied().unwrap_or(false) {
                return fail(format!(
                    "service {name}: image {} is missing and --no-build was given",
                    svc.image
                ));
            }
        }
    }
    Ok(Plan {
        ep,
        desired: Arc::new(d),
        plan,
        options,
        dropped: Vec::new(),
        generation,
        observed_at,
    })
}

fn apply_plan(ctx: &NativeCallContext, p: &Plan, opts: Map) -> RhaiResult<Map> {
    let o: PlanApplyOpts = crate::api::opts::read("Plan.apply", opts)?;
    let options = ApplyOptions {
        attach_hooks: o.attach_hooks.unwrap_or(false),
        renew_anon_volumes: o.renew_anon_volumes.unwrap_or(false),
        timeout: o.timeout,
        no_start: o.no_start.unwrap_or(false),
        parallel: o.parallel.map(|n| n.max(1) as usize).unwrap_or(64),
        wait_timeout: match o.wait_timeout {
            Some(t) => Some(crate::api::util::secs("Plan.apply: wait_timeout", t)?),
            None => None,
        },
        dry_run: o.dry_run.unwrap_or(false),
    };
    let on_event: Option<FnPtr> = o.on_event.clone();
    if options.dry_run {
        // Nothing is asked of the engine, nor locked: the plan says it all.
        let events = crate::plan::dry::events(&p.plan, &p.desired, &options);
        return run_with_events(ctx, on_event, move |tx| async move {
            for e in events {
                let _ = tx.send(e);
            }
            apply::Outcome::default()
        });
    }
    let ep = p.ep.clone();
    let d = bridge::block_on(async { client(&ep).await.cloned() })?;
    let host = ep.host.clone();
    let (desired, diff_options, dropped) = (p.desired.clone(), p.options.clone(), p.dropped.clone());
    let (generation, observed_at, planned) = (p.generation, p.observed_at, p.plan.clone());
    run_with_events(ctx, on_event, move |tx| async move {
        let lock = match lock::acquire(&d, &host, &desired.project, |m| eprintln!("{m}")).await {
            Ok(l) => l,
            Err(e) => return failed(e.to_string()),
        };
        // No orch run held the lock since the plan's look at the project,
        // a moment ago: the plan stands as it is.
        let current = lock.cut_short.is_none()
            && generation.is_some()
            && lock.generation == generation
            && observed_at.elapsed() < FRESH;
        if current {
            return apply::apply(d.clone(), desired.clone(), planned, options, tx).await;
        }
        // After a killed run, a request of it the engine was still carrying
        // out can land while this one applies: one more look, and a second
        // pass if the project is not where the plan left it.
        let passes = if lock.cut_short.is_some() { 2 } else { 1 };
        let mut outcome = failed("nothing applied".into());
        for pass in 0..passes {
            // Another run may have changed the project since this plan was
            // made (we waited for it, or it finished just before): plan
            // again, under the lock, against what is there now.
            let observed = match observed::observe(&d, &desired).await {
                Ok(o) => o,
                Err(e) => return failed(e.to_string()),
            };
            let mut plan = match diff::plan(&desired, &observed, &diff_options) {
                Ok(p) => p,
                Err(e) => return failed(e.to_string()),
            };
            plan.steps.retain(|s| !dropped.contains(&s.key()));
            plan.running
                .retain(|(s, n)| !dropped.contains(&(Some(s.clone()), Some(n.clone()))));
            if pass > 0 && (plan.steps.is_empty() || !outcome.errors.is_empty()) {
                break;
            }
            outcome = apply::apply(d.clone(), desired.clone(), plan, options.clone(), tx.clone()).await;
        }
        outcome
    })
}

pub use super::plan_events::{event_map, failed, run_with_events};

#[export_module]
pub mod api {
    use super::*;

    pub type Plan = super::Plan;

    /// Computes what `up` would do for a compose document (the canonical
    /// form, as `orch config --format json` prints it): compares it with
    /// what the engine has, by compose labels. Changes nothing. Options:
    /// `services`, `no_deps`, `force_recreate`, `no_recreate`,
    /// `always_recreate_deps`, `remove_orphans`, `ignore_orphans` (no orphan warning),
    /// `ignore_dependencies` (the named services' containers get an empty
    /// depends_on label, as compose's `up --no-deps` stamps it), `scale` (map),
    /// `build` ("missing" | "always" | "never"), `working_dir`,
    /// `config_files`.
    ///
    /// ```rhai
    /// let p = plan::compute(doc, #{ scale: #{ web: 3 } });
    /// ```
    #[rhai_fn(name = "compute", return_raw)]
    pub fn compute(ctx: NativeCallContext, doc: Dynamic, opts: Map) -> RhaiResult<Plan> {
        crate::api::at(&ctx, || super::compute(doc, opts))
    }

    /// `plan::compute` with default options.
    ///
    /// ```rhai
    /// let p = plan::compute(doc);
    /// ```
    #[rhai_fn(name = "compute", return_raw)]
    pub fn compute_default(ctx: NativeCallContext, doc: Dynamic) -> RhaiResult<Plan> {
        crate::api::at(&ctx, || super::compute(doc, Map::new()))
    }

    /// Starts listing project `name`'s containers now, for the next
    /// `plan::compute` of it on this engine: at 500 containers the list is
    /// what a plan waits for longest, and it then overlaps the loading of
    /// the file. Reads only; a plan of another project, or one computed
    /// more than a second later, lists again.
    ///
    /// ```rhai
    /// plan::prefetch("shop");
    /// let p = plan::compute(compose::load(#{ project_name: "shop" }));
    /// ```
    #[rhai_fn(name = "prefetch")]
    pub fn prefetch(name: &str) {
        super::super::listing::prefetch(&super::super::endpoint(), name)
    }

    /// The steps, as maps with `action` (create_network, create_volume,
    /// build, create, recreate, start, remove) and `service`, `name`,
    /// `number`, `reason` where they apply.
    ///
    /// ```rhai
    /// for s in p.steps { print(`${s.action} ${s.name}`); }
    /// ```
    #[rhai_fn(global, get = "steps", pure)]
    pub fn steps(p: &mut Plan) -> Array {
        p.plan.steps.iter().map(to_dynamic).collect()
    }

    /// Services the plan converges, dependencies first.
    ///
    /// ```rhai
    /// print(p.services);
    /// ```
    #[rhai_fn(global, get = "services", pure)]
    pub fn services(p: &mut Plan) -> Array {
        p.plan.services.iter().map(|s| Dynamic::from(s.clone())).collect()
    }

    /// What the plan noticed but will not do (orphans, unsupported keys).
    ///
    /// ```rhai
    /// for w in p.warnings { eprint(w); }
    /// ```
    #[rhai_fn(global, get = "warnings", pure)]
    pub fn warnings(p: &mut Plan) -> Array {
        p.plan.warnings.iter().map(|s| Dynamic::from(s.clone())).collect()
    }

    /// The project name.
    ///
    /// ```rhai
    /// print(p.project);
    /// ```
    #[rhai_fn(global, get = "project", pure)]
    pub fn project(p: &mut Plan) -> String {
        p.desired.project.clone()
    }

    /// Whether applying would change nothing.
    ///
    /// ```rhai
    /// if p.is_empty() { print("up to date"); }
    /// ```
    #[rhai_fn(global, pure)]
    pub fn is_empty(p: &mut Plan) -> bool {
        p.plan.steps.is_empty()
    }

    /// Keeps only the steps for which `keep(step)` returns true. The
    /// replicas kept as they are, which applying reports `Running`, are
    /// asked too, as `#{ action: "running", service, name }`.
    ///
    /// ```rhai
    /// let only_web = p.filter(|s| s.service == "web");
    /// ```
    #[rhai_fn(global, name = "filter", return_raw)]
    pub fn filter(ctx: NativeCallContext, p: &mut Plan, keep: FnPtr) -> RhaiResult<Plan> {
        let mut out = p.clone();
        let mut steps = Vec::new();
        for s in &p.plan.steps {
            let v = call_back(&ctx, &keep, vec![to_dynamic(s)], 1)?;
            if v.as_bool().unwrap_or(false) {
                steps.push(s.clone());
            } else {
                out.dropped.push(s.key());
            }
        }
        out.plan.steps = steps;
        let mut running = Vec::new();
        for (service, name) in &p.plan.running {
            let mut m = Map::new();
            m.insert("action".into(), "running".into());
            m.insert("service".into(), service.into());
            m.insert("name".into(), name.into());
            let v = call_back(&ctx, &keep, vec![m.into()], 1)?;
            if v.as_bool().unwrap_or(false) {
                running.push((service.clone(), name.clone()));
            } else {
                out.dropped.push((Some(service.clone()), Some(name.clone())));
            }
        }
        out.plan.running = running;
        Ok(out)
    }

    /// Applies the plan: networks and volumes, builds, then services in
    /// dependency order (in parallel where independent). Options:
    /// `timeout` (stop grace, seconds), `no_start`, `parallel`,
    /// `wait_timeout` (seconds, for health/completion of dependencies),
    /// `attach_hooks` (attached `up`: post_start hooks' output comes back
    /// as `kind: "Hook"` events, `name` the container's log name, `status`
    /// the line), `renew_anon_volumes` (`up -V`: recreated containers get
    /// fresh anonymous volumes), `dry_run` (compose's `--dry-run`: the
    /// events the apply would send, nothing sent to the engine), `on_event` (called with `#{ kind, name, status, done,
    /// error, elapsed }`). Returns `#{ ok, errors }`.
    ///
    /// ```rhai
    /// let r = p.apply(#{ on_event: |e| print(`${e.kind} ${e.name}  ${e.status}`) });
    /// ```
    #[rhai_fn(global, name = "apply", return_raw)]
    pub fn apply(ctx: NativeCallContext, p: &mut Plan, opts: Map) -> RhaiResult<Map> {
        super::apply_plan(&ctx, p, opts)
    }

    /// Applies the plan with default options.
    ///
    /// ```rhai
    /// p.apply();
    /// ```
    #[rhai_fn(global, name = "apply", return_raw)]
    pub fn apply_default(ctx: NativeCallContext, p: &mut Plan) -> RhaiResult<Map> {
        super::apply_plan(&ctx, p, Map::new())
    }

    /// Takes a project down: stops and removes its containers (in
    /// parallel), removes its networks; `volumes: true` also its volumes,
    /// `rmi: "local" | "all"` its images. Found by compose labels, so it
    /// works on what `docker compose` started too. With `document` (the
    /// compose document) only the file's services are removed unless
    /// `remove_orphans`. `services`: only those and their dependents (the
    /// networks and volumes go only if nothing uses them any more).
    /// Options also: `timeout`, `on_event`.
    ///
    /// ```rhai
    /// let r = plan::down("demo", #{ volumes: true });
    /// ```
    #[rhai_fn(name = "down", return_raw)]
    pub fn down(ctx: NativeCallContext, project: &str, opts: Map) -> RhaiResult<Map> {
        crate::api::at(&ctx, || crate::api::project_actions::down(&ctx, project, opts))
    }

    /// Starts a project's containers as `docker compose start` does: the
    /// named `services` and what they depend on (all without), in
    /// dependency order, waiting for `depends_on` conditions. With
    /// `document` (the compose document) dependencies come from the file,
    /// else from the containers' labels. Options also: `wait_timeout`
    /// (seconds), `on_event`. Returns `#{ ok, errors }`.
    ///
    /// ```rhai
    /// let r = plan::start("demo", #{ services: ["web"] });
    /// ```
    #[rhai_fn(name = "start", return_raw)]
    pub fn start(ctx: NativeCallContext, project: &str, opts: Map) -> RhaiResult<Map> {
        crate::api::at(&ctx, || {
            crate::api::project_actions::lifecycle(&ctx, project, crate::plan::lifecycle::Action::Start, opts)
        })
    }

    /// Stops a project's containers as `docker compose stop` does: the
    /// named `services` only (all without), dependents first. Options:
    /// `timeout` (seconds before a kill), `document`, `on_event`.
    ///
    /// ```rhai
    /// let r = plan::stop("demo", #{ timeout: 2 });
    /// ```
    #[rhai_fn(name = "stop", return_raw)]
    pub fn stop(ctx: NativeCallContext, project: &str, opts: Map) -> RhaiResult<Map> {
        crate::api::at(&ctx, || {
            crate::api::project_actions::lifecycle(&ctx, project, crate::plan::lifecycle::Action::Stop, opts)
        })
    }

    /// Restarts a project's containers as `docker compose restart` does:
    /// the named `services` and their `restart: true` dependents (all
    /// without), in dependency order over those entries. Options:
    /// `timeout`, `wait_timeout`, `no_deps` (the named services only),
    /// `document`, `on_event`.
    ///
    /// ```rhai
    /// let r = plan::restart("demo", #{ services: ["db"] });
    /// ```
    #[rhai_fn(name = "restart", return_raw)]
    pub fn restart(ctx: NativeCallContext, project: &str, opts: Map) -> RhaiResult<Map> {
        crate::api::at(&ctx, || {
            crate::api::project_actions::lifecycle(&ctx, project, crate::plan::lifecycle::Action::Restart, opts)
        })
    }

    /// Creates (does not start) a one-off container of a service, as
    /// `docker compose run` does: named `<project>-<service>-run-<id>`,
    /// labelled `oneoff=True`, no restart policy, no published ports.
    /// Options: `command`, `entrypoint` (string or list), `env` (list of
    /// `K=V`), `env_files` (read for what `env` leaves unset), `labels`
    /// (map), `user`, `workdir`, `name`, `auto_remove`, `service_ports`,
    /// `publish` (ports instead of the service's), `volumes` (added, short
    /// syntax), `cap_add`, `cap_drop`, `use_aliases`, `tty`,
    /// `interactive`, `working_dir`, `config_files`.
    ///
    /// ```rhai
    /// let c = plan::oneoff(compose::load(#{}), "web", #{ command: ["env"] });
    /// c.start();
    /// ```
    #[rhai_fn(name = "oneoff", return_raw)]
    pub fn oneoff(
        ctx: NativeCallContext,
        doc: Dynamic,
        service: &str,
        opts: Map,
    ) -> RhaiResult<super::super::container::Container> {
        crate::api::at(&ctx, || crate::api::oneoff::oneoff(doc, service, opts))
    }

    /// Checks `plan::oneoff`'s options (ports, volumes, environment
    /// files) without touching the engine: `run` calls it before it
    /// starts the dependencies, so bad input creates nothing. Returns the
    /// name the one-off would get (a dry run reports it).
    ///
    /// ```rhai
    /// let name = plan::oneoff_check(compose::load(#{}), "web", #{ publish: ["8080:80"] });
    /// ```
    #[rhai_fn(name = "oneoff_check", return_raw)]
    pub fn oneoff_check(ctx: NativeCallContext, doc: Dynamic, service: &str, opts: Map) -> RhaiResult<String> {
        crate::api::at(&ctx, || crate::api::oneoff::check(doc, service, opts))
    }

    /// The plan's steps, one a line, as `print` and `${...}` show them.
    ///
    /// ```rhai
    /// print(plan::compute(compose::load(#{}), #{}));
    /// ```
    #[rhai_fn(global, name = "to_string", pure)]
    pub fn to_string(p: &mut Plan) -> String {
        if p.plan.steps.is_empty() {
            return format!("project {}: nothing to do", p.desired.project);
        }
        p.plan.steps.iter().map(|s| s.describe()).collect::<Vec<_>>().join("\n")
    }

    /// The plan as `debug` shows it (the same as `to_string`).
    ///
    /// ```rhai
    /// debug(plan::compute(compose::load(#{}), #{}));
    /// ```
    #[rhai_fn(global, name = "to_debug", pure)]
    pub fn to_debug(p: &mut Plan) -> String {
        to_string(p)
    }
}

pub fn register_types(engine: &mut Engine) {
    engine.register_type_with_name::<Plan>("Plan");
}
