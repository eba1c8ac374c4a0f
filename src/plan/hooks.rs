//! Lifecycle hooks (`post_start`, `pre_stop`), run as Docker Compose runs
//! them (its `runHook`): an exec in the container, created unattached,
//! started detached, then inspected every 100 ms until it ends.
//!
//! Where they run is the callers' policy, as in compose: `post_start`
//! after each container start of `up`/`start` (and after a restart),
//! `pre_stop` before each stop of `stop`/`down`/a scale-down/the stop of a
//! `restart: true` dependent (and before a restart); never around a
//! recreate's stop of the old container.

use std::time::{Duration, Instant};

use bollard::exec::{CreateExecOptions, CreateExecResults, StartExecOptions, StartExecResults};
use bollard::Docker;
use futures_util::StreamExt;
use serde_json::Value;

use super::apply::Ctx;
use super::desired::ServiceSpec;
use super::values::{s, strings};
use crate::docker::{flatten, status};

/// One hook of the canonical document (compose-go's `ServiceHook`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hook {
    pub command: Vec<String>,
    pub user: Option<String>,
    pub privileged: bool,
    pub working_dir: Option<String>,
    /// `KEY=VALUE`, or `KEY` alone for an entry without a value (the
    /// engine then takes it from the container's environment).
    pub env: Vec<String>,
}

/// The hooks under `key` (`post_start` or `pre_stop`) of a canonical
/// service document.
pub fn parse(svc: &Value, key: &str) -> Vec<Hook> {
    let Some(list) = svc.get(key).and_then(Value::as_array) else {
        return Vec::new();
    };
    list.iter()
        .map(|h| Hook {
            command: strings(h.get("command")).unwrap_or_default(),
            user: h.get("user").and_then(s),
            privileged: h["privileged"].as_bool() == Some(true),
            working_dir: h.get("working_dir").and_then(s),
            env: h["environment"]
                .as_object()
                .map(|m| {
                    m.iter()
                        .map(|(k, v)| match s(v) {
                            Some(v) => format!("{k}={v}"),
                            None => k.clone(),
                        })
                        .collect()
                })
                .unwrap_or_default(),
        })
        .collect()
}

/// Why a hook did not succeed.
#[derive(Debug, thiserror::Error)]
pub enum HookError {
    /// The command ran and exited non-zero (compose's message, word for word).
    #[error("{service} hook exited with status {code}")]
    Failed { service: String, code: i64 },
    /// The engine refused the exec (the container is gone or not running,
    /// an unknown user...).
    #[error("{what}: {message}")]
    Engine {
        what: String,
        message: String,
        status: Option<u16>,
    },
}

impl HookError {
    /// The container is gone or not running: compose then treats a
    /// `pre_stop` as done (there is nothing left to stop).
    pub fn container_gone(&self) -> bool {
        matches!(
            self,
            HookError::Engine {
                status: Some(404 | 409),
                ..
            }
        )
    }
}

/// A hook's failure as orch's error: an engine refusal keeps its status.
impl From<HookError> for crate::error::Error {
    fn from(e: HookError) -> Self {
        let message = e.to_string();
        match e {
            HookError::Engine { what, status, .. } => crate::error::Error::engine(what, status, message),
            HookError::Failed { .. } => crate::error::Error::script(message),
        }
    }
}

/// `spec`'s `post_start` hooks in container `id`, just started (none when
/// the compose file was not loaded: compose then knows no hooks either).
pub async fn post_start(d: &Docker, spec: Option<&ServiceSpec>, id: &str) -> Result<(), HookError> {
    run_for(d, spec, id, |s| &s.post_start).await
}

/// The service's post_start hooks in a container just started; attached,
/// their lines go out as `Hook` events named as compose names the
/// container in logs (`service-N`, or its `container_name`).
pub(super) async fn after_start(ctx: &Ctx, service: &str, name: &str, id: &str) -> crate::error::Result<()> {
    let spec = ctx.desired.service(service);
    if !ctx.opts.attach_hooks {
        return Ok(post_start(&ctx.d, spec, id).await?);
    }
    let prefix = format!("{}-", ctx.desired.project);
    let source = match spec.and_then(|s| s.container_name.as_ref()) {
        Some(_) => name,
        None => name.strip_prefix(&prefix).unwrap_or(name),
    };
    let t = Instant::now();
    Ok(post_start_attached(&ctx.d, spec, id, |line| ctx.emit("Hook", source, &line, false, t)).await?)
}

/// `post_start` as attached `up` runs it (compose passes its log printer):
/// each hook's exec attached, its output (stdout and stderr alike, the
/// engine's own error when the exec cannot run) handed to `line` as it
/// comes, then its exit code checked. Every failure counts.
pub async fn post_start_attached(
    d: &Docker,
    spec: Option<&ServiceSpec>,
    id: &str,
    mut line: impl FnMut(String),
) -> Result<(), HookError> {
    let Some(sp) = spec else {
        return Ok(());
    };
    for h in &sp.post_start {
        let engine = |what: &str, e: &bollard::errors::Error| engine_error(&sp.name, what, e);
        let exec = create_exec(d, &sp.name, id, h, true).await?;
        let start = StartExecOptions {
            detach: false,
            tty: sp.tty,
            output_capacity: None,
        };
        let started = d
            .start_exec(&exec.id, Some(start))
            .await
            .map_err(|e| engine("starting", &e))?;
        if let StartExecResults::Attached { mut output, .. } = started {
            let mut pending = String::new();
            while let Some(chunk) = output.next().await {
                let chunk = chunk.map_err(|e| engine("reading", &e))?;
                pending.push_str(&String::from_utf8_lossy(&chunk.into_bytes()));
                while let Some(i) = pending.find('\n') {
                    line(pending[..i].to_string());
                    pending.drain(..=i);
                }
            }
            if !pending.is_empty() {
                line(pending);
            }
        }
        let info = d.inspect_exec(&exec.id).await.map_err(|e| engine("inspecting", &e))?;
        match info.exit_code.unwrap_or(0) {
            0 => {}
            code => {
                return Err(HookError::Failed {
                    service: sp.name.clone(),
                    code,
                })
            }
        }
    }
    Ok(())
}

/// The hooks `which` picks from `spec` in container `id`; every error
/// counts (as in compose's `restart`).
pub async fn run_for(
    d: &Docker,
    spec: Option<&ServiceSpec>,
    id: &str,
    which: impl Fn(&ServiceSpec) -> &Vec<Hook>,
) -> Result<(), HookError> {
    match spec {
        Some(sp) => run(d, &sp.name, id, sp.tty, which(sp)).await,
        None => Ok(()),
    }
}

/// `spec`'s `pre_stop` hooks in container `id`, about to be stopped, as
/// compose's `stopContainer` runs them: Ok(true) to go on with the stop,
/// Ok(false) when the container is gone or not running (compose then
/// skips the stop), Err when a hook failed (the container is not stopped).
pub async fn pre_stop(d: &Docker, spec: Option<&ServiceSpec>, id: &str) -> Result<bool, HookError> {
    let Some(sp) = spec else {
        return Ok(true);
    };
    match run(d, &sp.name, id, sp.tty, &sp.pre_stop).await {
        Ok(()) => Ok(true),
        Err(e) if e.container_gone() => Ok(false),
        Err(e) => Err(e),
    }
}

/// Runs `hooks` in order in container `id` of `service`; the first failure
/// ends the run.
pub async fn run(d: &Docker, service: &str, id: &str, tty: bool, hooks: &[Hook]) -> Result<(), HookError> {
    for h in hooks {
        run_one(d, service, id, tty, h).await?;
    }
    Ok(())
}

async fn run_one(d: &Docker, service: &str, id: &str, tty: bool, h: &Hook) -> Result<(), HookError> {
    let exec = create_exec(d, service, id, h, false).await?;
    let start = StartExecOptions {
        detach: true,
        tty,
        output_capacity: None,
    };
    // compose ignores a failed start (an exec whose user or working
    // directory does not exist): the hook is then silently skipped.
    if d.start_exec(&exec.id, Some(start)).await.is_err() {
        return Ok(());
    }
    // The engine has no "wait for an exec": poll, as compose does (which
    // also gives up quietly when the inspect fails). Compose looks every
    // 100 ms; a hook usually ends within a few, and an inspect costs the
    // engine well under one, so look every 20 ms.
    loop {
        tokio::time::sleep(Duration::from_millis(20)).await;
        let Ok(info) = d.inspect_exec(&exec.id).await else {
            return Ok(());
        };
        if info.running != Some(true) {
            return match info.exit_code.unwrap_or(0) {
                0 => Ok(()),
                code => Err(HookError::Failed {
                    service: service.to_string(),
                    code,
                }),
            };
        }
    }
}

/// The engine's error `e` while `what` (creating, starting …) a hook of
/// `service`.
fn engine_error(service: &str, what: &str, e: &bollard::errors::Error) -> HookError {
    HookError::Engine {
        what: format!("service {service}: {what} a hook"),
        message: flatten(e),
        status: status(e),
    }
}

/// Creates hook `h`'s exec in container `id` of `service`.
async fn create_exec(
    d: &Docker,
    service: &str,
    id: &str,
    h: &Hook,
    attach: bool,
) -> Result<CreateExecResults, HookError> {
    d.create_exec(id, create_options(h, attach))
        .await
        .map_err(|e| engine_error(service, "creating", &e))
}

/// compose's `ExecOptions` for a hook (no TTY at create: compose sets
/// it only when starting).
fn create_options(h: &Hook, attach: bool) -> CreateExecOptions<String> {
    CreateExecOptions {
        cmd: Some(h.command.clone()),
        user: h.user.clone(),
        privileged: Some(h.privileged),
        working_dir: h.working_dir.clone(),
        env: (!h.env.is_empty()).then(|| h.env.clone()),
        attach_stdout: Some(attach),
        attach_stderr: Some(attach),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_canonical_form() {
        let svc = serde_json::json!({"post_start": [
            {"command": ["sh", "-c", "x"], "user": "root", "privileged": true, "working_dir": "/d",
             "environment": {"A": "1", "B": null}},
            {"command": ["true"]}
        ]});
        let hooks = parse(&svc, "post_start");
        assert_eq!(
            hooks[0],
            Hook {
                command: vec!["sh".into(), "-c".into(), "x".into()],
                user: Some("root".into()),
                privileged: true,
                working_dir: Some("/d".into()),
                env: vec!["A=1".into(), "B".into()],
            }
        );
        assert_eq!(hooks[1].env, Vec::<String>::new());
        assert!(!hooks[1].privileged);
        assert!(parse(&svc, "pre_stop").is_empty());
    }
}
