//! Attached `up` and compose's exit codes, side by side with the reference
//! Docker Compose v2.40.3 (its Go binary: the pip shim always exits 0):
//! both tools run the same project under two project names, and the tests
//! compare exit codes and stdout. Ctrl-C is tested in a real pseudo
//! terminal: the terminal's line discipline turns the byte 0x03 into
//! SIGINT for orch's process group, as a user's keyboard does.

mod common;

use std::io::{Read, Write};

use std::process::{Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::pty::Pty;
use common::side::{sides, Side};
use common::*;

fn code(o: &Output) -> i32 {
    o.status.code().unwrap_or(-1)
}

/// Runs the same command with both tools and asserts identical exit codes
/// and stdout; returns orch's output.
fn same(o: &Side, r: &Side, args: &[&str]) -> Output {
    let want = r.run(args);
    let got = o.run(args);
    assert_eq!(
        code(&got),
        code(&want),
        "{args:?}: exit codes differ\norch stderr: {}\ncompose stderr: {}",
        stderr(&got),
        stderr(&want)
    );
    assert_eq!(
        stdout(&got),
        stdout(&want),
        "{args:?}: stdout differs\norch stderr: {}",
        stderr(&got)
    );
    got
}

/// `app` prints and exits with 5 after `side` is up; `side` prints nothing
/// and stops on SIGTERM, so stdout is the same on every run.
fn exiting_project() -> String {
    let image = TEST_IMAGE;
    format!(
        r#"services:
  app:
    image: {image}
    command: ["sh", "-c", "echo one; echo two; echo oops >&2; exit 5"]
    depends_on: [side]
  side:
    image: {image}
    command: ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"]
"#
    )
}

#[test]
fn attached_up_exit_code_from_matches_compose() {
    let (_dir, o, r) = sides("att-ecf", &exiting_project());
    let out = same(&o, &r, &["up", "--exit-code-from", "app"]);
    assert_eq!(code(&out), 5);
    let text = stdout(&out);
    assert!(text.contains("app-1  | one\napp-1  | two\n"), "{text}");
    assert!(text.contains("\r\x1b[Kapp-1 exited with code 5\n"), "{text}");
    assert!(stderr(&out).contains("app-1  | oops"), "{}", stderr(&out));
    // logs of one container: compose's `service-1  | ` prefix; both
    // streams on stdout (each container interleaves its two pipes its own
    // way, so the lines are compared as sets).
    for args in [&["logs", "app"][..], &["logs", "--no-log-prefix", "app"]] {
        let lines = |s: &Side| {
            let out = s.run(args);
            assert!(out.status.success(), "{} {args:?}: {}", s.tool, stderr(&out));
            let mut l: Vec<String> = stdout(&out).lines().map(str::to_string).collect();
            l.sort();
            l
        };
        assert_eq!(lines(&o), lines(&r), "{args:?}");
    }
    // The engine stores stdout and stderr through separate copiers, so the
    // stderr line may land anywhere; stdout's own order is kept.
    let logs = stdout(&o.run(&["logs", "app"]));
    let at = |line: &str| logs.find(&format!("app-1  | {line}\n"));
    assert!(matches!((at("one"), at("two")), (Some(a), Some(b)) if a < b), "{logs}");
    assert!(at("oops").is_some(), "{logs}");
    // Both stopped by the abort: nothing of either project still runs.
    for side in [&o, &r] {
        let running = docker(&[
            "ps",
            "-q",
            "--filter",
            &format!("label=com.docker.compose.project={}", side.project),
        ]);
        assert!(running.trim().is_empty(), "{}: {running}", side.tool);
    }
}

#[test]
fn attached_up_abort_on_container_exit_matches_compose() {
    let (_dir, o, r) = sides("att-abort", &exiting_project());
    let out = same(&o, &r, &["up", "--abort-on-container-exit", "--no-color"]);
    assert_eq!(code(&out), 5, "the first container's exit code");
    // Prefixes off and --attach narrowing: still compose's bytes.
    same(
        &o,
        &r,
        &["up", "--abort-on-container-exit", "--attach", "app", "--no-log-prefix"],
    );
}

#[test]
fn attached_up_flag_conflicts_match_compose() {
    let (_dir, o, r) = sides("att-flags", &exiting_project());
    for args in [
        &["up", "-d", "--abort-on-container-exit"][..],
        &["up", "--force-recreate", "--no-recreate"],
        &["up", "--abort-on-container-exit", "--abort-on-container-failure"],
        &["up", "--attach", "app", "--attach-dependencies"],
        &["up", "--exit-code-from", "nosuch"],
        &["up", "--attach", "nosuch"],
    ] {
        let want = r.run(args);
        let got = o.run(args);
        assert_eq!(code(&got), 1, "{args:?}: {}", stderr(&got));
        assert_eq!(code(&got), code(&want), "{args:?}");
        assert_eq!(stderr(&got).trim(), stderr(&want).trim(), "{args:?}");
    }
    // Nothing was created by either tool.
    assert!(resources_named(&o.project).is_empty());
    assert!(resources_named(&r.project).is_empty());
}

#[test]
fn exit_codes_match_compose() {
    let (_dir, o, r) = sides("att-codes", &exiting_project());
    // Nothing exists yet.
    for args in [
        &["logs", "nosuch"][..],
        &["restart", "nosuch"],
        &["wait", "app"],
        &["kill"],
    ] {
        let out = same(&o, &r, args);
        let want = if args[0] == "kill" { 0 } else { 1 };
        assert_eq!(code(&out), want, "{args:?}: {}", stderr(&out));
    }
    // With the project up (side running, app exited).
    same(&o, &r, &["up", "-d", "--wait", "side"]);
    for args in [&["logs", "nosuch"][..], &["restart", "nosuch"], &["kill", "app"]] {
        same(&o, &r, args);
    }
}

#[test]
fn ctrl_c_in_a_terminal_stops_the_containers_and_exits_130() {
    let image = TEST_IMAGE;
    // `slow` ignores SIGTERM: its stop takes its full 3 s grace period,
    // longer than orch's default cleanup time, and must not be cut short.
    let yaml = format!(
        r#"services:
  web:
    image: {image}
    command: ["sh", "-c", "trap 'exit 0' TERM; echo ready; while true; do sleep 1; done"]
  slow:
    image: {image}
    command: ["sh", "-c", "echo slow-ready; sleep 300"]
    stop_grace_period: 3s
"#
    );
    let (_dir, o, _r) = sides("att-ctrlc", &yaml);
    // Without compose's navigation menu, which takes Ctrl-C as a key (and
    // then ends with 0: navigation_menu_toggles_the_watch_as_compose_does).
    let mut cmd = o.command(&["up"]);
    cmd.env("COMPOSE_MENU", "false");
    let mut pty = Pty::spawn(cmd);
    pty.wait_for_text("| ready", 60);
    pty.wait_for_text("| slow-ready", 60);
    pty.send(&[3]);
    assert_eq!(pty.wait(60), 130, "{}", pty.text());
    let text = pty.text();
    assert!(
        text.contains("Gracefully Stopping... press Ctrl+C again to force"),
        "{text}"
    );
    // orch ended only once the stop was done, with each grace period: web
    // exited 0 on SIGTERM; slow was killed by the engine after its 3 s.
    let state = |svc: &str| {
        docker(&[
            "inspect",
            "-f",
            "{{.State.Status}} {{.State.ExitCode}}",
            &format!("{}-{svc}-1", o.project),
        ])
        .trim()
        .to_string()
    };
    assert_eq!(state("web"), "exited 0");
    assert_eq!(state("slow"), "exited 137");
}

#[test]
fn second_ctrl_c_kills_the_containers() {
    let image = TEST_IMAGE;
    let yaml = format!(
        r#"services:
  slow:
    image: {image}
    command: ["sh", "-c", "echo slow-ready; sleep 300"]
    stop_grace_period: 120s
"#
    );
    let (_dir, o, _r) = sides("att-force", &yaml);
    let mut pty = Pty::spawn(o.command(&["up"]));
    pty.wait_for_text("| slow-ready", 60);
    pty.send(&[3]);
    pty.wait_for_text("Gracefully Stopping", 30);
    pty.send(&[3]);
    assert_eq!(pty.wait(60), 130, "{}", pty.text());
    // Killed (SIGKILL), long before its 120 s grace period would end.
    let name = format!("{}-slow-1", o.project);
    let end = Instant::now() + Duration::from_secs(30);
    loop {
        let state = docker(&["inspect", "-f", "{{.State.Status}} {{.State.ExitCode}}", &name]);
        if state.trim() == "exited 137" {
            break;
        }
        assert!(Instant::now() < end, "{name} not killed: {state}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn containers_started_later_are_attached_too() {
    let image = TEST_IMAGE;
    let yaml = format!(
        r#"services:
  web:
    image: {image}
    command: ["sh", "-c", "trap 'exit 0' TERM; echo hello; while true; do sleep 1; done"]
"#
    );
    let (_dir, o, _r) = sides("att-later", &yaml);
    let mut child = o
        .command(&["up", "--no-color"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("orch up");
    let lines = Arc::new(Mutex::new(String::new()));
    let (mut out, sink) = (child.stdout.take().expect("stdout"), lines.clone());
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = out.read(&mut buf) {
            if n == 0 {
                break;
            }
            sink.lock().unwrap().push_str(&String::from_utf8_lossy(&buf[..n]));
        }
    });
    let wait_for = |needle: &str| {
        let end = Instant::now() + Duration::from_secs(60);
        while !lines.lock().unwrap().contains(needle) {
            assert!(Instant::now() < end, "no {needle:?} in:\n{}", lines.lock().unwrap());
            std::thread::sleep(Duration::from_millis(100));
        }
    };
    wait_for("web-1  | hello\n");
    // Scaled from another terminal: the attached up follows the new replica.
    let scaled = o.run(&["up", "-d", "--scale", "web=2"]);
    assert!(scaled.status.success(), "{}", stderr(&scaled));
    wait_for("web-2  | hello\n");
    // SAFETY: signalling our own child by its pid.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let end = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break s;
        }
        assert!(Instant::now() < end, "orch up did not end:\n{}", lines.lock().unwrap());
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(status.code(), Some(130));
    wait_for("Gracefully Stopping... press Ctrl+C again to force\n");
    let running = docker(&[
        "ps",
        "-q",
        "--filter",
        &format!("label=com.docker.compose.project={}", o.project),
    ]);
    assert!(running.trim().is_empty(), "still running: {running}");
}

/// `echo hello | run svc cat`: compose's default `-i` forwards the piped
/// input to the command (`-i=false` does not), and the exit code is the
/// command's.
#[test]
fn run_forwards_piped_stdin_as_compose_does() {
    let yaml = format!("services:\n  svc:\n    image: {TEST_IMAGE}\n");
    let (_dir, o, r) = sides("att-stdin", &yaml);
    let fed = |side: &Side, args: &[&str]| -> Output {
        let mut child = side
            .command(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn");
        child.stdin.take().unwrap().write_all(b"hello\n").expect("feed stdin");
        child.wait_with_output().expect("wait")
    };
    for args in [
        &["run", "--rm", "svc", "cat"][..],
        &["run", "--rm", "-T", "svc", "sh", "-c", "cat; echo oops >&2; exit 3"],
        &["run", "--rm", "-i=false", "svc", "cat"],
    ] {
        let (got, want) = (fed(&o, args), fed(&r, args));
        assert_eq!(code(&got), code(&want), "{args:?}: {}", stderr(&got));
        assert_eq!(stdout(&got), stdout(&want), "{args:?}: {}", stderr(&got));
    }
    assert_eq!(stdout(&fed(&o, &["run", "--rm", "svc", "cat"])), "hello\n");
}

/// `run` in a terminal: compose allocates a TTY (stdin and stdout are
/// terminals, no `-T`); keys reach the shell through orch's terminal in
/// raw mode, and the exit code is the shell's.
#[test]
fn run_in_a_terminal_gets_a_tty_as_compose_does() {
    let yaml = format!("services:\n  svc:\n    image: {TEST_IMAGE}\n");
    let (_dir, o, r) = sides("att-tty", &yaml);
    for side in [&r, &o] {
        let mut pty = Pty::spawn(side.command(&["run", "--rm", "svc", "sh"]));
        pty.wait_for_text("/ # ", 60);
        pty.send(b"tty; exit 3\r");
        assert_eq!(pty.wait(60), 3, "{}: {}", side.tool, pty.text());
        assert!(pty.text().contains("/dev/pts/0"), "{}: {}", side.tool, pty.text());
    }
}

/// Attached, compose runs post_start hooks attached and prints their
/// output as `service-N ->` lines; a failing hook fails `up` (exit 1).
/// The container lives long enough for the hook's exec to find it
/// running on a loaded machine: with `sleep 1` compose at times (CI)
/// found it gone and failed `up` with exit 1.
#[test]
fn attached_up_prints_post_start_hook_output_as_compose() {
    let image = TEST_IMAGE;
    let hooked = |exit: u8| {
        format!(
            r#"services:
  app:
    image: {image}
    command: ["sh", "-c", "trap 'exit 0' TERM; sleep 4"]
    post_start:
      - command: sh -c 'echo hooked; exit {exit}'
"#
        )
    };
    for exit in [0, 3] {
        let (_dir, o, r) = sides(&format!("att-hook{exit}"), &hooked(exit));
        let (got, want) = (o.run(&["up"]), r.run(&["up"]));
        assert_eq!(
            code(&got),
            code(&want),
            "exit {exit}: orch: {}\ncompose: {}",
            stderr(&got),
            stderr(&want)
        );
        assert_eq!(code(&got), if exit == 0 { 0 } else { 1 });
        for (tool, out) in [("orch", &got), ("compose", &want)] {
            assert!(stdout(out).contains("app-1 ->  | hooked\n"), "{tool}: {}", stdout(out));
        }
        if exit != 0 {
            assert!(
                stderr(&got).contains("app hook exited with status 3"),
                "{}",
                stderr(&got)
            );
        }
    }
}

/// Every line of every container once, as the engine stored it: first
/// lines of containers that start together (the engine can stamp a line
/// before the container's start event; orch once lost 2–5 of 50), and a
/// restarted container's lines without the previous run's repeated.
#[test]
fn attached_up_shows_every_line_once() {
    let image = TEST_IMAGE;
    let mut yaml = String::from("services:\n");
    for i in 0..40 {
        yaml.push_str(&format!(
            "  s{i}:\n    image: {image}\n    command: [\"sh\", \"-c\", \"echo first s{i}; echo second s{i}\"]\n"
        ));
    }
    let (_dir, o, r) = sides("att-lines", &yaml);
    // The log lines of one side's output, sorted.
    let lines = |out: &Output, only: &str| {
        let mut l: Vec<String> = stdout(out)
            .lines()
            .filter(|l| l.contains(" | ") && l.starts_with(only))
            .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
            .collect();
        l.sort();
        l
    };
    let got = o.run(&["up", "--no-color"]);
    let want = r.run(&["up", "--no-color"]);
    assert_eq!(code(&got), code(&want), "orch stderr: {}", stderr(&got));
    let first: Vec<String> = lines(&got, "s");
    assert_eq!(first.len(), 80, "{}", stdout(&got));
    assert_eq!(first, lines(&want, "s"), "the services' lines, orch vs compose");
    // A restarted container, against the engine's own record: compose
    // attaches to it after each start (it can miss a run's line, and at
    // times fails with exit 1 on a container that is restarting).
    let again = format!(
        "services:\n  again:\n    image: {image}\n    restart: on-failure:2\n    command: [\"sh\", \"-c\", \"echo run; exit 3\"]\n"
    );
    let (_dir2, o, _r) = sides("att-again", &again);
    let got = o.run(&["up", "--no-color"]);
    assert!(got.status.success(), "{}", stderr(&got));
    let stored = docker(&["logs", &format!("{}-again-1", o.project)]);
    assert_eq!(stored.lines().filter(|l| *l == "run").count(), 3, "{stored}");
    assert_eq!(lines(&got, "again"), vec!["again-1 | run"; 3], "{}", stdout(&got));
}

/// compose's navigation menu of attached `up` on a terminal (on by default
/// there): `w` turns the watch on (and off), a file saved meanwhile is
/// synced, Ctrl-C still stops everything, and the terminal gets its
/// settings back. Both tools go through the same keys; what each showed
/// must be the same.
#[test]
fn navigation_menu_toggles_the_watch_as_compose_does() {
    let image = TEST_IMAGE;
    let yaml = format!(
        r#"services:
  app:
    image: {image}
    command: ["sh", "-c", "trap 'exit 0' TERM; echo ready; while true; do cat /www/x 2>/dev/null; sleep 1; done"]
    develop:
      watch:
        - path: ./src
          action: sync
          target: /www
"#
    );
    let (_dir, o, r) = sides("att-menu", &yaml);
    let run = |side: &Side| {
        std::fs::create_dir_all(side.dir.join("src")).unwrap();
        let mut cmd = side.command(&["up"]);
        cmd.env_remove("COMPOSE_MENU");
        let mut pty = Pty::spawn(cmd);
        let before = pty.termios();
        pty.wait_for_text("| ready", 60);
        pty.wait_for_text("w Enable Watch", 30);
        pty.send(b"w");
        pty.wait_for_text("Watch enabled", 30);
        // The watcher is up once it says so; a save now is synced. The
        // menu says so after the next line (compose redraws it after each).
        std::thread::sleep(Duration::from_secs(2));
        std::fs::write(side.dir.join("src/x"), "from-the-watch\n").unwrap();
        pty.wait_for_text("| from-the-watch", 60);
        pty.wait_for_text("w Disable Watch", 30);
        pty.send(b"w");
        pty.wait_for_text("Watch disabled", 30);
        pty.send(&[3]);
        let code = pty.wait(60);
        let text = pty.text();
        let seen: Vec<&str> = [
            "Syncing service \"app\" after 1 changes were detected",
            "Gracefully Stopping... press Ctrl+C again to force",
        ]
        .into_iter()
        .filter(|s| text.contains(s))
        .collect::<Vec<_>>();
        let running = docker(&[
            "ps",
            "-q",
            "--filter",
            &format!("label=com.docker.compose.project={}", side.project),
        ]);
        (
            code,
            seen.join(" / "),
            pty.termios() == before,
            running.trim().is_empty(),
        )
    };
    let (ours, theirs) = (run(&o), run(&r));
    assert_eq!(
        ours, theirs,
        "orch (left) and compose: exit, lines, terminal restored, all stopped"
    );
    // compose's menu takes Ctrl-C as a key: a graceful stop then ends with 0.
    assert_eq!(ours.0, 0);
    assert!(ours.2 && ours.3, "{ours:?}");
}
