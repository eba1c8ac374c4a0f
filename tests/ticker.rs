//! `every(seconds, opts, f)`: the operation limit per tick, failing ticks
//! logged or stopping the run, lines printed only when they change, and
//! Ctrl-C ending it cleanly with the script's cleanup run.

mod common;

use std::io::Read;
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::*;

#[test]
fn operation_limit_applies_to_each_tick() {
    // 40 ticks of ~150 operations: 6,000 in all, over a limit of 2,000.
    let (_d, path) =
        script("let r = every(0.01, #{ ticks: 40 }, || { let x = 0; for i in 0..50 { x += i; } });\nprint(r.ticks);");
    let out = orch()
        .args(["--max-operations", "2000", "run"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out).trim(), "40");
    // One tick over the limit is that tick's error.
    let (_d, path) = script(
        "fn burn() { let x = 0; for i in 0..5000 { x += i; } }\nevery(0.01, #{ ticks: 2 }, || burn());\nprint(\"logged\");\nevery(0.01, #{ ticks: 3, on_error: \"stop\" }, || burn());\nprint(\"not reached\");",
    );
    let out = orch()
        .args(["--max-operations", "2000", "run"])
        .arg(&path)
        .output()
        .unwrap();
    let err = stderr(&out);
    assert!(!out.status.success());
    assert_eq!(stdout(&out).trim(), "logged");
    assert_eq!(err.matches("every: tick").count(), 3, "{err}");
    assert!(
        err.contains("operation limit (--max-operations applies to each tick)"),
        "{err}"
    );
}

#[test]
fn failing_ticks_are_logged_and_lines_printed_on_change() {
    let (_d, path) = script(
        r#"let r = every(0.05, #{ ticks: 6, name: "probe" }, |n| {
            if n == 3 { throw "metric source down"; }
            if n < 5 { "two replicas" } else { "three replicas" }
        });
        print(r);"#,
    );
    let out = run_script(&path, &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let lines: Vec<String> = stdout(&out).lines().map(str::to_string).collect();
    // Tick 4 prints again after the failed tick 3.
    assert_eq!(
        lines[..4],
        [
            "two replicas",
            "two replicas",
            "three replicas",
            r#"#{"errors": 1, "stopped_by": "ticks", "ticks": 6}"#
        ]
    );
    let err = stderr(&out);
    assert!(err.starts_with("probe: tick 3 failed: metric source down ("), "{err}");
    assert!(err.contains("script.rhai:2:"), "{err}");
}

#[test]
fn closure_returning_false_stops_and_rate_is_fixed() {
    let (_d, path) =
        script("let t = timestamp(); let r = every(0.2, |n| n < 5); print(`${r.ticks} ${r.stopped_by} ${t.elapsed}`);");
    let out = run_script(&path, &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let s = stdout(&out);
    let parts: Vec<&str> = s.split_whitespace().collect();
    assert_eq!(parts[..2], ["5", "closure"]);
    // Four sleeps of 0.2 s between five ticks.
    let took: f64 = parts[2].parse().unwrap();
    assert!((0.75..1.5).contains(&took), "{took}");
}

#[test]
fn bad_options_are_one_clear_error() {
    for (opts, want) in [
        ("0, #{}", "the interval (0 s) must be more than 0"),
        ("1, #{ on_error: \"retry\" }", "on_error must be \"log\" or \"stop\""),
        ("1, #{ tick: 3 }", "tick"),
        ("1, #{ ticks: 0 }", "ticks (0) must be at least 1"),
    ] {
        let (_d, path) = script(&format!("every({opts}, || 1);"));
        let out = run_script(&path, &[]);
        assert!(!out.status.success());
        assert!(stderr(&out).contains(want), "{opts}: {}", stderr(&out));
    }
}

#[test]
fn ctrl_c_ends_the_ticker_and_runs_cleanup() {
    let (_d, path) = script(
        r#"print("started");
        let r = every(30, |n| { print(`tick ${n}`); });
        print(`cleanup after ${r.ticks} ${r.stopped_by}`);"#,
    );
    let mut child = orch()
        .arg("run")
        .arg(&path)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(800));
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let t = Instant::now();
    let status = child.wait().unwrap();
    assert!(t.elapsed() < Duration::from_secs(3), "{:?}", t.elapsed());
    let mut out = String::new();
    child.stdout.take().unwrap().read_to_string(&mut out).unwrap();
    let mut err = String::new();
    child.stderr.take().unwrap().read_to_string(&mut err).unwrap();
    assert_eq!(status.code(), Some(130), "{out}\n{err}");
    assert_eq!(out, "started\ntick 1\ncleanup after 1 interrupt\n", "{err}");
    assert!(!err.contains("×"), "no error trace: {err}");
}
