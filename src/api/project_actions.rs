//! The project-wide actions as primitives' bodies: `plan::down` and
//! `plan::start|stop|restart`. Each reads the project's document when one
//! is given, takes the project lock, and reports progress as `Plan.apply`
//! does.

use rhai::{FnPtr, Map, NativeCallContext};
use tokio::sync::mpsc::UnboundedSender;

use super::options::{LifecycleOpts, PlanDownOpts};
use super::plan::{disabled_services, document, environment, failed, run_with_events};
use super::{client, fail, RhaiResult};
use crate::bridge;
use crate::plan::apply::{Event, Outcome};
use crate::plan::{desired, lock};

pub(super) fn down(ctx: &NativeCallContext, project: &str, opts: Map) -> RhaiResult<Map> {
    let o: PlanDownOpts = crate::api::opts::read("plan::down", opts)?;
    let rmi = o.rmi.clone();
    if let Some(r) = &rmi {
        if r != "local" && r != "all" {
            return fail(format!("plan::down: rmi must be \"local\" or \"all\", not {r:?}"));
        }
    }
    let desired = match o.document.as_ref() {
        Some(doc) => {
            let mut d = desired::from_compose_with(&document(doc)?, super::plan::separator(doc))
                .map_err(|e| format!("plan::down: {e}"))?;
            d.disabled = disabled_services(doc);
            Some(d)
        }
        None => None,
    };
    let options = crate::plan::down::DownOptions {
        volumes: o.volumes.unwrap_or(false),
        remove_orphans: o.remove_orphans.unwrap_or(false),
        rmi,
        timeout: o.timeout,
        services: o.services.clone().unwrap_or_default(),
        dry_run: o.dry_run.unwrap_or(false),
    };
    under_lock(ctx, o.on_event.clone(), project, move |d, project, tx| {
        crate::plan::down::down(d, project, desired, options, tx)
    })
}

pub(super) fn lifecycle(
    ctx: &NativeCallContext,
    project: &str,
    action: crate::plan::lifecycle::Action,
    opts: Map,
) -> RhaiResult<Map> {
    let what = format!("plan::{}", format!("{action:?}").to_lowercase());
    let o: LifecycleOpts = crate::api::opts::read(&what, opts)?;
    let desired = match o.document.as_ref() {
        Some(doc) => Some(
            desired::from_compose_with(&document(doc)?, super::plan::separator(doc))
                .map_err(|e| format!("{what}: {e}"))?,
        ),
        None => None,
    };
    let options = crate::plan::lifecycle::Options {
        services: o.services.clone().unwrap_or_default(),
        timeout: o.timeout,
        wait_timeout: match o.wait_timeout {
            Some(t) => Some(crate::api::util::secs(&format!("{what}: wait_timeout"), t)?),
            None => None,
        },
        no_deps: o.no_deps.unwrap_or(false),
        environment: o.document.as_ref().map(environment).unwrap_or_default(),
        dry_run: o.dry_run.unwrap_or(false),
    };
    under_lock(ctx, o.on_event.clone(), project, move |d, project, tx| {
        crate::plan::lifecycle::run(d, project, desired, action, options, tx)
    })
}

/// Runs `work` on the engine in use while holding the project's lock,
/// its progress reported to `on_event` as `Plan.apply` reports it.
fn under_lock<F, Fut>(ctx: &NativeCallContext, on_event: Option<FnPtr>, project: &str, work: F) -> RhaiResult<Map>
where
    F: FnOnce(bollard::Docker, String, UnboundedSender<Event>) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = Outcome> + Send + 'static,
{
    let ep = super::endpoint();
    let d = bridge::block_on(async { client(&ep).await.cloned() })?;
    let host = ep.host.clone();
    let project = project.to_string();
    run_with_events(ctx, on_event, move |tx| async move {
        let _lock = match lock::acquire(&d, &host, &project, |m| eprintln!("{m}")).await {
            Ok(l) => l,
            Err(e) => return failed(e.to_string()),
        };
        work(d, project, tx).await
    })
}
