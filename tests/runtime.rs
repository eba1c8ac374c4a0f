//! `orch run`: the script runtime against the real engine — diagnostics,
//! limits, exit codes, imports, an unreachable engine, and Ctrl-C.

mod common;

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::*;

#[test]
fn hello_example_prints_the_message_and_leaves_nothing_behind() {
    let prefix = unique("hello");
    let _guard = Cleanup(prefix.clone());
    assert!(resources_named(&prefix).is_empty());
    let out = orch()
        .args(["run", "examples/hello/hello.rhai", &prefix])
        .current_dir(repo())
        .output()
        .unwrap();
    assert!(out.status.success(), "stderr: {}", stderr(&out));
    assert!(
        stdout(&out).contains("client received: hello from the server"),
        "stdout: {}",
        stdout(&out)
    );
    assert_eq!(
        resources_named(&prefix),
        Vec::<String>::new(),
        "hello.rhai left resources behind"
    );
}

#[test]
fn syntax_error_shows_file_line_column_and_the_marked_line() {
    let (_d, path) = script("print(\"ok\");\nlet x = 1 +;\n");
    let out = run_script(&path, &[]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains(&format!("{}:2:12", path.display())), "{err}");
    assert!(err.contains("let x = 1 +;"), "{err}");
    assert!(err.contains("here"), "marker missing: {err}");
    assert!(stdout(&out).is_empty(), "nothing runs when the script does not compile");
}

#[test]
fn engine_error_shows_the_engines_message_and_the_script_location() {
    let (_d, path) =
        script("let a = 1;\nfn make() {\n  container::create(#{ image: \"orch-test/no-such-image:1\" })\n}\nmake();\n");
    let out = run_script(&path, &[]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("No such image: orch-test/no-such-image:1"), "{err}");
    assert!(err.contains(&format!("{}:3:14", path.display())), "{err}");
    assert!(
        err.contains(&format!("in call to make() at {}:5:1", path.display())),
        "{err}"
    );
}

#[test]
fn engine_errors_can_be_caught() {
    let (_d, path) = script(
        r#"
        try {
            container::create(#{ image: "orch-test/no-such-image:1" });
            print("not reached");
        } catch (e) {
            print(`caught: ${e}`);
        }
        "#,
    );
    let out = run_script(&path, &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("caught: container create orch-test/no-such-image:1: No such image"),
        "{}",
        stdout(&out)
    );
    assert!(!stdout(&out).contains("not reached"));
}

#[test]
fn endless_loop_stops_at_the_operations_limit_and_names_the_flag() {
    let (_d, path) = script("while true {}\n");
    let out = orch()
        .args(["--max-operations", "100000", "run"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("more than 100000 operations"), "{err}");
    assert!(err.contains("--max-operations"), "{err}");
    assert!(err.contains(&format!("{}:1:12", path.display())), "{err}");
}

#[test]
fn other_limits_name_their_flags() {
    let (_d, path) = script("fn f(n) { f(n + 1) }\nf(0);\n");
    let err = stderr(&run_script(&path, &[]));
    assert!(err.contains("--max-call-depth"), "{err}");
    let (_d, path) = script("let s = \"x\";\nloop { s += s; }\n");
    let out = orch()
        .args(["--max-string-size", "1000", "run"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(stderr(&out).contains("--max-string-size"), "{}", stderr(&out));
}

#[test]
fn unreachable_engine_is_one_line_naming_the_socket() {
    let (_d, path) = script("print(container::list().len());\n");
    let out = orch()
        .arg("run")
        .arg(&path)
        .env("DOCKER_HOST", "unix:///nonexistent.sock")
        .output()
        .unwrap();
    assert_ne!(out.status.code(), Some(0));
    let err = stderr(&out);
    assert_eq!(err.trim_end().lines().count(), 1, "expected one line, got: {err}");
    assert!(err.contains("unix:///nonexistent.sock"), "{err}");
}

#[test]
fn exit_sets_the_code_args_arrive_and_imports_resolve_next_to_the_script() {
    let (dir, path) = script("import \"lib/greet\" as g;\nprint(g::hello(ARGS[0]) + \" \" + ARGS.len());\nexit(7);\nprint(\"not reached\");\n");
    std::fs::create_dir(dir.path().join("lib")).unwrap();
    std::fs::write(dir.path().join("lib/greet.rhai"), "fn hello(x) { `hello ${x}` }\n").unwrap();
    // Run from another folder: imports are relative to the script.
    let out = orch()
        .arg("run")
        .arg(&path)
        .args(["world", "--flag"])
        .current_dir(std::env::temp_dir())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(7), "{}", stderr(&out));
    assert_eq!(stdout(&out), "hello world 2\n");
}

#[test]
fn exit_cannot_be_caught() {
    let (_d, path) = script("try { exit(3); } catch (e) { print(\"caught\"); }\n");
    let out = run_script(&path, &[]);
    assert_eq!(out.status.code(), Some(3));
    assert!(stdout(&out).is_empty());
}

#[test]
fn error_in_an_imported_module_points_into_the_module() {
    let (dir, path) = script("import \"broken\" as b;\n");
    std::fs::write(dir.path().join("broken.rhai"), "let ok = 1;\nlet = ;\n").unwrap();
    let out = run_script(&path, &[]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("broken.rhai:2:"), "{err}");
    assert!(err.contains("let = ;"), "{err}");
}

#[test]
fn ctrl_c_interrupts_the_wait_runs_the_cleanup_and_exits_130() {
    let image = test_image();
    let name = unique("sigint");
    let _guard = Cleanup(name.clone());
    let (_d, path) = script(&format!(
        r#"
        let c = container::run(#{{ name: "{name}", image: "{image}", command: "trap 'exit 0' TERM; sleep 300 & wait" }});
        print("ready");
        try {{
            c.wait();
            print("wait returned");
        }} catch (e) {{
            print(`caught: ${{e}}`);
            c.remove(#{{ force: true }});
            print("cleaned up");
        }}
        "#
    ));
    let mut child = orch()
        .arg("run")
        .arg(&path)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    assert_eq!(lines.next().unwrap().unwrap(), "ready");
    std::thread::sleep(Duration::from_millis(300)); // let it block in wait()
    let sent = Instant::now();
    let kill = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        // A hang guard, not a timing assertion (the grace period is 1.5 s).
        assert!(
            sent.elapsed() < Duration::from_secs(60),
            "orch did not exit after SIGINT"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    assert_eq!(status.code(), Some(130));
    assert!(rest.iter().any(|l| l.starts_with("caught: interrupted")), "{rest:?}");
    assert!(rest.iter().any(|l| l == "cleaned up"), "{rest:?}");
    assert!(
        resources_named(&name).is_empty(),
        "the catch block's cleanup did not run"
    );
}
