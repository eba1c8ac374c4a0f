//! `Container.exec_attached`: a command run in a container with its
//! streams tied to orch's own, as `docker exec` and `docker compose exec`
//! run one: output copied as it comes, orch's stdin forwarded (its end
//! closes the command's stdin, so `echo 'exit 5' | orch exec -T db sh`
//! exits 5), and with a TTY orch's terminal in raw mode, sized and
//! resized with it. `Container.exec` (output collected) stays for scripts.

use std::io::IsTerminal;

use bollard::exec::{CreateExecOptions, ResizeExecOptions, StartExecOptions, StartExecResults};
use bollard::Docker;
use futures_util::StreamExt;
use rhai::plugin::*;
use rhai::{Array, Map};

use super::attach::{follow_size, forward, stdin_chunks, write_out, AbortOnDrop, RawMode};
use super::container::Container;
use super::options::ExecAttachedOpts;
use super::{client, engine_err, fail, RhaiResult};
use crate::bridge;

/// [`follow_size`] for an exec's TTY.
async fn follow_exec_size(d: Docker, exec: String) {
    follow_size(|(height, width)| {
        let (d, exec) = (d.clone(), exec.clone());
        async move {
            let opts = ResizeExecOptions {
                height: height as u16,
                width: width as u16,
            };
            let _ = d.resize_exec(&exec, opts).await;
        }
    })
    .await
}

fn exec_attached(c: &Container, cmd: Array, opts: Map) -> RhaiResult<i64> {
    let o: ExecAttachedOpts = crate::api::opts::read("exec_attached", opts)?;
    let cmd: Vec<String> = cmd.into_iter().map(|x| x.to_string()).collect();
    if cmd.is_empty() {
        return fail("exec_attached: no command");
    }
    let (tty, stdin) = (o.tty.unwrap_or(false), o.stdin.unwrap_or(false));
    let config = CreateExecOptions {
        cmd: Some(cmd),
        env: o.env.map(|m| m.into_iter().map(|(k, v)| format!("{k}={v}")).collect()),
        user: o.user,
        working_dir: o.working_dir,
        privileged: o.privileged,
        tty: Some(tty),
        attach_stdin: Some(stdin),
        attach_stdout: Some(true),
        attach_stderr: Some(true),
        detach_keys: o.detach_keys,
    };
    let (ep, id, what) = (c.ep.clone(), c.id.clone(), c.what("exec"));
    bridge::block_on_until_interrupt(async move {
        let d = client(&ep).await?;
        let exec = d.create_exec(&id, config).await.map_err(|e| engine_err(&what, &e))?.id;
        let _raw = if tty && stdin { RawMode::enable() } else { None };
        let start = StartExecOptions {
            detach: false,
            tty,
            output_capacity: None,
        };
        let started = d
            .start_exec(&exec, Some(start))
            .await
            .map_err(|e| engine_err(&what, &e))?;
        if let StartExecResults::Attached { mut output, input } = started {
            let _writer = AbortOnDrop(tokio::spawn(forward(stdin.then(stdin_chunks), input)));
            let _resizer = (tty && std::io::stdout().is_terminal())
                .then(|| AbortOnDrop(tokio::spawn(follow_exec_size(d.clone(), exec.clone()))));
            while let Some(frame) = output.next().await {
                write_out(frame.map_err(|e| engine_err(&what, &e))?);
            }
        }
        let info = d.inspect_exec(&exec).await.map_err(|e| engine_err(&what, &e))?;
        Ok(info.exit_code.unwrap_or(0))
    })
}

#[export_module]
pub mod api {
    use super::*;

    /// Runs `cmd` (a list) in the running container with its output on
    /// orch's stdout and stderr as it comes, and returns its exit code, as
    /// `docker exec`. Options: `stdin` (forward orch's stdin; its end
    /// closes the command's), `tty` (a terminal: orch's in raw mode, sized
    /// and resized with it), `env` (map), `user`, `working_dir`,
    /// `privileged`, `detach_keys`.
    ///
    /// ```rhai
    /// let code = c.exec_attached(["sh"], #{ stdin: true, tty: is_terminal("stdin") });
    /// ```
    #[rhai_fn(global, return_raw)]
    pub fn exec_attached(ctx: NativeCallContext, c: &mut Container, cmd: Array, opts: Map) -> RhaiResult<i64> {
        crate::api::at(&ctx, || super::exec_attached(c, cmd, opts))
    }
}
