//! What goes in and out of a running container: its logs (all at once,
//! or line by line as they come), commands run in it (`exec`), files
//! copied into it, and its processes. Merged into the `container`
//! namespace; methods on `Container`.

use bollard::container::LogOutput;
use bollard::query_parameters as qp;
use futures_util::StreamExt;
use rhai::plugin::*;
use rhai::{Array, Dynamic, FnPtr, Map, NativeCallContext};

use super::container::Container;
use super::options::{ExecOpts, LogsOpts};
use super::value::{call_back, to_dynamic};
use super::{client, engine_err, fail, RhaiResult};
use crate::bridge;

/// Streams a container's logs, calling `each(line, stream)` per line, or
/// collecting them into one string when there is no callback.
fn logs(ctx: &NativeCallContext, c: &Container, opts: Map, each: Option<FnPtr>) -> RhaiResult<String> {
    let o: LogsOpts = crate::api::opts::read("logs", opts)?;
    let tail = match o.tail.as_ref() {
        Some(v) if v.is_int() => v.as_int().unwrap().to_string(),
        Some(v) => v.to_string(),
        None => "all".into(),
    };
    let options = qp::LogsOptions {
        follow: o.follow.unwrap_or(false),
        stdout: o.stdout.unwrap_or(true),
        stderr: o.stderr.unwrap_or(true),
        since: o.since.unwrap_or(0) as i32,
        until: o.until.unwrap_or(0) as i32,
        timestamps: o.timestamps.unwrap_or(false),
        tail,
    };
    if options.follow && each.is_none() {
        return fail("logs: `follow: true` needs a callback, e.g. c.logs(#{follow: true}, |line| print(line))");
    }
    let ep = c.ep.clone();
    let d = bridge::block_on(async { client(&ep).await.cloned() })?;
    let mut stream = d.logs(&c.id, Some(options));
    let mut out = String::new();
    let mut partial: [String; 2] = Default::default();
    loop {
        let next = bridge::block_on(async { Ok(stream.next().await) })?;
        let Some(item) = next else { break };
        let item = item.map_err(|e| engine_err(c.what("logs"), &e))?;
        let (idx, bytes) = match item {
            LogOutput::StdErr { message } => (1, message),
            LogOutput::StdOut { message } | LogOutput::Console { message } => (0, message),
            LogOutput::StdIn { .. } => continue,
        };
        match &each {
            None => out.push_str(&String::from_utf8_lossy(&bytes)),
            Some(f) => {
                partial[idx].push_str(&String::from_utf8_lossy(&bytes));
                while let Some(pos) = partial[idx].find('\n') {
                    let line: String = partial[idx].drain(..=pos).collect();
                    let stream_name = if idx == 0 { "stdout" } else { "stderr" };
                    let _ = call_back(ctx, f, vec![line.trim_end_matches('\n').into(), stream_name.into()], 1)?;
                }
            }
        }
    }
    if let Some(f) = &each {
        for (idx, rest) in partial.iter().enumerate() {
            if !rest.is_empty() {
                let stream_name = if idx == 0 { "stdout" } else { "stderr" };
                let _ = call_back(ctx, f, vec![rest.as_str().into(), stream_name.into()], 1)?;
            }
        }
    }
    Ok(out)
}

fn exec(c: &Container, cmd: Dynamic, opts: Map) -> RhaiResult<Map> {
    let o: ExecOpts = crate::api::opts::read("exec", opts)?;
    let cmd: Vec<String> = if cmd.is_string() {
        vec!["/bin/sh".into(), "-c".into(), cmd.to_string()]
    } else if let Some(a) = cmd.clone().try_cast::<Array>() {
        a.into_iter().map(|x| x.to_string()).collect()
    } else {
        return fail("exec: the command must be a string (run by /bin/sh -c) or a list");
    };
    let env = o
        .env
        .clone()
        .map(|m| m.into_iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>());
    let config = bollard::exec::CreateExecOptions {
        cmd: Some(cmd),
        env,
        user: o.user.clone(),
        working_dir: o.working_dir.clone(),
        privileged: o.privileged,
        tty: o.tty,
        attach_stdout: Some(true),
        attach_stderr: Some(true),
        ..Default::default()
    };
    let ep = c.ep.clone();
    let what = c.what("exec");
    let id = c.id.clone();
    bridge::block_on(async move {
        let d = client(&ep).await?;
        let exec = d.create_exec(&id, config).await.map_err(|e| engine_err(&what, &e))?;
        let started = d
            .start_exec(&exec.id, None::<bollard::exec::StartExecOptions>)
            .await
            .map_err(|e| engine_err(&what, &e))?;
        let (mut stdout, mut stderr) = (String::new(), String::new());
        if let bollard::exec::StartExecResults::Attached { mut output, .. } = started {
            while let Some(item) = output.next().await {
                match item.map_err(|e| engine_err(&what, &e))? {
                    LogOutput::StdErr { message } => stderr.push_str(&String::from_utf8_lossy(&message)),
                    other => stdout.push_str(&String::from_utf8_lossy(&other.into_bytes())),
                }
            }
        }
        let info = d.inspect_exec(&exec.id).await.map_err(|e| engine_err(&what, &e))?;
        let mut m = Map::new();
        m.insert("exit_code".into(), info.exit_code.unwrap_or(-1).into());
        m.insert("stdout".into(), stdout.into());
        m.insert("stderr".into(), stderr.into());
        Ok(m)
    })
}

/// A tar holding `src` (file or folder) at path `target` (absolute in
/// the container), extracted at `/`.
fn tar_for(src: &std::path::Path, target: &str) -> std::io::Result<Vec<u8>> {
    let mut b = tar::Builder::new(Vec::new());
    b.follow_symlinks(false);
    let inside = target.trim_start_matches('/');
    if src.is_dir() {
        b.append_dir_all(inside, src)?;
    } else {
        b.append_path_with_name(src, inside)?;
    }
    b.into_inner()
}

#[export_module]
pub mod api {
    use super::*;

    /// All logs so far (stdout and stderr interleaved) as one string.
    ///
    /// ```rhai
    /// print(c.logs());
    /// ```
    #[rhai_fn(global, name = "logs", return_raw)]
    pub fn logs_all(ctx: NativeCallContext, c: &mut Container) -> RhaiResult<String> {
        super::logs(&ctx, c, Map::new(), None)
    }

    /// Logs with options: `tail`, `since`, `until` (unix seconds),
    /// `timestamps`, `stdout`, `stderr`.
    ///
    /// ```rhai
    /// print(c.logs(#{ tail: 10, timestamps: true }));
    /// ```
    #[rhai_fn(global, name = "logs", return_raw)]
    pub fn logs_opts(ctx: NativeCallContext, c: &mut Container, opts: Map) -> RhaiResult<String> {
        super::logs(&ctx, c, opts, None)
    }

    /// Calls `each(line, stream)` for every log line; with `follow: true`
    /// it keeps going until the container stops (or Ctrl-C).
    ///
    /// ```rhai
    /// c.logs(#{ follow: true }, |line, stream| print(`${stream}: ${line}`));
    /// ```
    #[rhai_fn(global, name = "logs", return_raw)]
    pub fn logs_each(ctx: NativeCallContext, c: &mut Container, opts: Map, each: FnPtr) -> RhaiResult<()> {
        super::logs(&ctx, c, opts, Some(each)).map(|_| ())
    }

    /// Runs a command in the running container and returns
    /// `#{ exit_code, stdout, stderr }`. A string runs through `/bin/sh -c`.
    ///
    /// ```rhai
    /// let r = c.exec(["cat", "/etc/hostname"]);
    /// print(r.stdout);
    /// ```
    #[rhai_fn(global, name = "exec", return_raw)]
    pub fn exec(c: &mut Container, cmd: Dynamic) -> RhaiResult<Map> {
        super::exec(c, cmd, Map::new())
    }

    /// `exec` with options: `env`, `user`, `working_dir`, `privileged`.
    #[rhai_fn(global, name = "exec", return_raw)]
    pub fn exec_opts(c: &mut Container, cmd: Dynamic, opts: Map) -> RhaiResult<Map> {
        super::exec(c, cmd, opts)
    }

    /// Copies a local file or folder into the running container at
    /// `target` (a path in the container; a folder is copied as its
    /// contents), as `docker cp` does through the engine's archive API. No
    /// restart: the sync action of `develop.watch`.
    ///
    /// ```rhai
    /// c.copy_in("./static/index.html", "/www/index.html");
    /// ```
    #[rhai_fn(global, return_raw)]
    pub fn copy_in(c: &mut Container, source: &str, target: &str) -> RhaiResult<()> {
        crate::api::host_access("copy_in")?;
        let src = crate::api::resolve_path(source);
        let tar = super::tar_for(&src, target).map_err(|e| format!("{}: copy {}: {e}", c.what("cp"), src.display()))?;
        let opts = qp::UploadToContainerOptions {
            path: "/".into(),
            ..Default::default()
        };
        let (ep, what, id) = (c.ep.clone(), c.what("cp"), c.id.clone());
        bridge::block_on(async move {
            let d = client(&ep).await?;
            let body = bollard::body_full(tar.into());
            let patient = crate::docker::patient(d, None);
            let up = patient.upload_to_container(&id, Some(opts), body).await;
            up.map_err(|e| engine_err(&what, &e))
        })
    }

    /// The processes running in the container, as `docker top`:
    /// `#{ titles: [...], processes: [[...], ...] }`.
    ///
    /// ```rhai
    /// for p in c.top().processes { print(p); }
    /// ```
    #[rhai_fn(global, return_raw)]
    pub fn top(c: &mut Container) -> RhaiResult<Map> {
        let (ep, what, id) = (c.ep.clone(), c.what("top"), c.id.clone());
        let r = bridge::block_on(async move {
            let d = client(&ep).await?;
            let top = d.top_processes(&id, None::<qp::TopOptions>).await;
            top.map_err(|e| engine_err(&what, &e))
        })?;
        let mut m = Map::new();
        m.insert("titles".into(), to_dynamic(&r.titles.unwrap_or_default()));
        m.insert("processes".into(), to_dynamic(&r.processes.unwrap_or_default()));
        Ok(m)
    }
}
