//! Swarm stacks as primitives: convert a compose project to Swarm specs,
//! plan a deploy against what the swarm runs, apply the plan, list and
//! remove a stack's objects. Steps are plain maps (`kind`, `action`,
//! `name`, `id`, `spec`), so a script can print, filter or change them.
//!
//! ```rhai
//! let p = compose::load(#{ files: ["compose.yml"], project_name: "demo" });
//! let s = stack::convert(p, "demo");
//! s.services[0].spec.Mode.Replicated.Replicas = 5;
//! let steps = stack::plan(s, #{ prune: true });
//! for r in stack::apply(steps) { if r.error != () { print(r.error); } }
//! ```

use rhai::plugin::*;
use rhai::{Array, Dynamic, Map, NativeCallContext};

use super::options::{ServiceSendOpts, StackPlanOpts};
use super::value::{to_dynamic, to_json};
use super::{client, fail, RhaiResult};
use crate::bridge;
use crate::stack::{self, Stack, Step};

fn steps_of(steps: Array) -> RhaiResult<Vec<Step>> {
    steps
        .iter()
        .map(|s| {
            let json = to_json(s)?;
            serde_json::from_value(json).map_err(|e| format!("stack: not a plan step ({e}): {s}").into())
        })
        .collect()
}

fn on_engine<T, E, F, Fut>(f: F) -> RhaiResult<T>
where
    F: FnOnce(bollard::Docker) -> Fut,
    Fut: std::future::Future<Output = Result<T, E>>,
    E: Into<crate::error::Error>,
{
    let ep = super::endpoint();
    bridge::block_on(async move {
        let d = client(&ep).await?.clone();
        f(d).await.map_err(|e| e.into().into_rhai())
    })
}

#[export_module]
pub mod api {
    use super::*;

    /// A compose project as the Swarm specs of stack `name`, converted as
    /// `docker stack deploy` does: `#{ name, networks, secrets, configs,
    /// services, warnings }`, each object `#{ name, spec, external }`.
    /// Secret and config files are read now.
    ///
    /// ```rhai
    /// let s = stack::convert(compose::load(#{ files: ["compose.yml"] }), "demo");
    /// print(s.services.map(|x| x.name));
    /// ```
    #[rhai_fn(return_raw)]
    pub fn convert(ctx: NativeCallContext, project: Dynamic, name: &str) -> RhaiResult<Dynamic> {
        crate::api::at(&ctx, || {
            super::super::plan::document(&project)
                .and_then(|doc| stack::convert::convert(&doc, name).map_err(Into::into))
                .map(|s| to_dynamic(&s))
        })
    }

    /// The project as `docker stack config` prints it: docker's own (v3)
    /// loader's document in its YAML (check the files first with
    /// `config_check`). Load the project with `no_normalize`,
    /// `no_path_resolution` and `no_consistency`, as
    /// `stdlib/stack/config.rhai` does: docker resolves only some paths
    /// and checks no references.
    ///
    /// ```rhai
    /// let p = compose::load(#{ files: ["stack.yml"], no_normalize: true, no_path_resolution: true, no_consistency: true });
    /// print(stack::config_text(p));
    /// ```
    #[rhai_fn(return_raw)]
    pub fn config_text(ctx: NativeCallContext, project: Dynamic) -> RhaiResult<String> {
        crate::api::at(&ctx, || {
            let Some(p) = project.read_lock::<crate::api::compose::Project>() else {
                return fail(format!(
                    "stack::config_text: expected a loaded project, not {}",
                    project.type_name()
                ));
            };
            let raw = stack::v3::raw_files(&p.0.config_files)?;
            let doc = stack::v3::document(&p.0.doc, &raw, &p.0.working_dir);
            Ok(crate::compose::emit::to_yaml_verbatim(&doc))
        })
    }

    /// docker's checks of stack files before `stack config` loads them
    /// (keys it forbids or does not know, compose's long forms its schema
    /// refuses, versions that differ); throws docker's one line.
    ///
    /// ```rhai
    /// stack::config_check(["stack.yml"]);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn config_check(ctx: NativeCallContext, files: Array) -> RhaiResult<()> {
        crate::api::at(&ctx, || {
            let files: Vec<String> = files.into_iter().map(|f| f.to_string()).collect();
            stack::v3::check(&stack::v3::raw_files(&files)?).map_err(Into::into)
        })
    }

    /// Checks a stack name as docker does (it prefixes every object's
    /// name); throws saying what is wrong.
    ///
    /// ```rhai
    /// stack::check_name("demo");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn check_name(ctx: NativeCallContext, name: &str) -> RhaiResult<()> {
        crate::api::at(&ctx, || stack::convert::check_name(name).map_err(Into::into))
    }

    /// What deploying a converted stack would change, as steps in the
    /// order they run: networks, secrets, configs, services. Actions:
    /// `create`, `update`, `unchanged`, `remove` (with `prune: true`,
    /// services of the stack that are no longer in it). Sends nothing.
    ///
    /// ```rhai
    /// for s in stack::plan(s, #{ prune: true }) { print(`${s.action} ${s.kind} ${s.name}`); }
    /// ```
    #[rhai_fn(return_raw)]
    pub fn plan(ctx: NativeCallContext, stack: Map, opts: Map) -> RhaiResult<Array> {
        crate::api::at(&ctx, || {
            let o: StackPlanOpts = crate::api::opts::read("stack::plan", opts)?;
            let prune = o.prune.unwrap_or(false);
            let s: Stack = serde_json::from_value(to_json(&Dynamic::from_map(stack))?)
                .map_err(|e| format!("stack::plan: not a converted stack (stack::convert): {e}"))?;
            let steps = on_engine(|d| async move { stack::plan(&d, &s, prune).await })?;
            Ok(steps.iter().map(to_dynamic).collect())
        })
    }

    /// Runs plan steps: networks, secrets and configs first, then
    /// services one by one (faster to converge, measured). Returns one outcome per step that
    /// did something: `#{ kind, action, name, id, error }` (`error` is
    /// `()` when it worked). Never stops half-way: every step is tried.
    ///
    /// ```rhai
    /// let failed = stack::apply(steps).filter(|r| r.error != ());
    /// ```
    #[rhai_fn(return_raw)]
    pub fn apply(ctx: NativeCallContext, steps: Array) -> RhaiResult<Array> {
        apply_with(ctx, steps, Map::new())
    }

    /// `apply` with options: `registry_auth: true` sends the Docker CLI's
    /// credentials for each service's image along (docker's
    /// `--with-registry-auth`), so the nodes can pull from a private
    /// registry.
    ///
    /// ```rhai
    /// stack::apply(steps, #{ registry_auth: true });
    /// ```
    #[rhai_fn(name = "apply", return_raw)]
    pub fn apply_with(ctx: NativeCallContext, steps: Array, opts: Map) -> RhaiResult<Array> {
        crate::api::at(&ctx, || {
            let o: ServiceSendOpts = crate::api::opts::read("stack::apply", opts)?;
            let mut steps = steps_of(steps)?;
            for s in steps
                .iter_mut()
                .filter(|s| o.registry_auth == Some(true) && s.kind == "service")
            {
                s.registry_auth = crate::api::service::registry_auth(&s.spec);
            }
            let out = on_engine(|d| async move { Ok::<_, crate::error::Error>(stack::apply(&d, steps).await) })?;
            Ok(out.iter().map(to_dynamic).collect())
        })
    }

    /// The objects of stack `name` (services, secrets, configs, networks
    /// carrying its namespace label) as `remove` steps.
    ///
    /// ```rhai
    /// let steps = stack::objects("demo");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn objects(ctx: NativeCallContext, name: &str) -> RhaiResult<Array> {
        let name = name.to_string();
        crate::api::at(&ctx, || {
            on_engine(|d| async move { stack::objects(&d, &name).await })
                .map(|steps| steps.iter().map(to_dynamic).collect())
        })
    }

    /// Runs `remove` steps: services first, in parallel, then secrets,
    /// configs and networks (waiting while the services' tasks still hold
    /// a network). Returns the outcomes as `apply` does.
    ///
    /// ```rhai
    /// stack::remove(stack::objects("demo"));
    /// ```
    #[rhai_fn(return_raw)]
    pub fn remove(ctx: NativeCallContext, steps: Array) -> RhaiResult<Array> {
        crate::api::at(&ctx, || {
            steps_of(steps).and_then(|steps| {
                if let Some(s) = steps.iter().find(|s| s.action != "remove") {
                    return fail(format!(
                        "stack::remove: step {} {} is not a remove step",
                        s.kind, s.name
                    ));
                }
                let out = on_engine(|d| async move { Ok::<_, crate::error::Error>(stack::remove(&d, steps).await) })?;
                Ok(out.iter().map(to_dynamic).collect())
            })
        })
    }
}
