//! Bad input, as an attacker or an unlucky operator would give it: each case
//! is a row with its expected exit code and message. None may panic or
//! abort (a panic exits 101, a stack overflow 134), and none may leave
//! anything behind.

mod common;

use std::path::Path;

use common::*;

/// A script case: its text (modules beside it as `name.rhai`), extra global
/// flags, the exit code and a piece of the message.
struct ScriptCase {
    script: &'static str,
    modules: &'static [(&'static str, &'static str)],
    flags: &'static [&'static str],
    code: i32,
    message: &'static str,
}

const fn case(script: &'static str, code: i32, message: &'static str) -> ScriptCase {
    ScriptCase {
        script,
        modules: &[],
        flags: &[],
        code,
        message,
    }
}

const SCRIPTS: &[ScriptCase] = &[
    case(
        "sleep(1e300);",
        1,
        "sleep: 1e300 seconds is too long (at most 9223372036 seconds, about 292 years)",
    ),
    case("sleep(1.0/0.0);", 1, "sleep: inf seconds is infinite"),
    case("sleep(-1);", 1, "sleep: -1 seconds is negative"),
    case("sleep(0.0/0.0);", 1, "sleep: NaN seconds is not a number"),
    case(
        "sleep(\"1h 30m\");",
        1,
        "sleep: time: unknown unit \"h \" in duration \"1h 30m\"",
    ),
    case(
        "set_interrupt_grace(-1.0);",
        1,
        "set_interrupt_grace: -1 seconds is negative",
    ),
    case("duration(\"30\")", 1, "duration: time: missing unit in duration \"30\""),
    case("bytes(\"1x\")", 1, "bytes: invalid suffix: 'x'"),
    case("bytes(\"1e30\")", 1, "bytes: invalid size: '1e30' is too large"),
    case(
        "watch::start([\".\"], #{ quiet: 1e300 });",
        1,
        "watch::start: quiet: 1e300 seconds is too long",
    ),
    case("if duration(\"1m30s\") != 90000000000 { exit(3) }", 0, ""),
    case("if bytes(\"512m\") != 536870912 { exit(3) }", 0, ""),
    case("exit(-1);", 255, ""),
    case("exit(300);", 44, ""),
    ScriptCase {
        script: "import \"a\" as a;\nprint(a::fa());\n",
        modules: &[
            ("a", "import \"b\" as b;\nfn fa() { 1 }\n"),
            ("b", "import \"a\" as a;\nfn fb() { 2 }\n"),
        ],
        flags: &[],
        code: 1,
        message: "import cycle: a.rhai imports b.rhai imports a.rhai",
    },
    ScriptCase {
        script: "import \"self\" as s;\n",
        modules: &[("self", "import \"self\" as again;\n")],
        flags: &[],
        code: 1,
        message: "import cycle: self.rhai imports self.rhai",
    },
    ScriptCase {
        // The highest limit, reached: a diagnostic, not a stack overflow.
        script: "fn f(n) { if n == 0 { 0 } else { 1 + f(n - 1) } }\nprint(f(1000000));\n",
        modules: &[],
        flags: &["--max-call-depth", "5000"],
        code: 1,
        message: "function calls nested deeper than 5000 levels",
    },
    ScriptCase {
        script: "print(1);",
        modules: &[],
        flags: &["--max-call-depth", "5001"],
        code: 2,
        message: "invalid value '5001' for '--max-call-depth <N>': 5001 is not in 0..=5000",
    },
];

#[test]
fn bad_script_input_is_an_error_with_a_message_never_a_panic() {
    let mut failures = Vec::new();
    for c in SCRIPTS {
        let (dir, path) = script(c.script);
        for (name, text) in c.modules {
            std::fs::write(dir.path().join(format!("{name}.rhai")), text).unwrap();
        }
        let out = orch()
            .args(c.flags)
            .arg("run")
            .arg(Path::new(path.file_name().unwrap()))
            .current_dir(dir.path())
            .env("NO_COLOR", "1")
            .output()
            .unwrap();
        let err = stderr(&out);
        if out.status.code() != Some(c.code) || !err.contains(c.message) {
            failures.push(format!(
                "{:?}: exit {:?} (want {}), stderr:\n{err}",
                c.script,
                out.status.code(),
                c.code
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n---\n"));
}

#[test]
fn a_debounce_that_is_no_duration_is_a_usage_error() {
    for (value, message) in [
        ("1e300", "1e300 seconds is too long"),
        ("-1", "-1 seconds is negative"),
        ("inf", "inf seconds is infinite"),
        ("nan", "NaN seconds is not a number"),
        ("soon", "\"soon\" is not a number of seconds"),
    ] {
        let out = orch().args(["watch", &format!("--debounce={value}")]).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{value}: {}", stderr(&out));
        assert!(stderr(&out).contains(message), "{value}: {}", stderr(&out));
    }
}

#[test]
fn a_negative_wait_timeout_is_refused_before_anything_is_created() {
    let project = unique("badwait");
    let dir = tempfile::tempdir().unwrap();
    let _guard = ProjectCleanup {
        dir: dir.path().to_path_buf(),
        project: project.clone(),
    };
    std::fs::write(
        dir.path().join("compose.yaml"),
        format!(
            "services:\n  web:\n    image: {}\n    command: sleep 60\n",
            test_image()
        ),
    )
    .unwrap();
    let (_d, path) = script(&format!(
        "let p = compose::load(#{{ files: [\"{}/compose.yaml\"], project_name: \"{project}\" }});\n\
         plan::compute(p, #{{}}).apply(#{{ wait_timeout: -1.0 }});\n",
        dir.path().display()
    ));
    let out = run_script(&path, &[]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("Plan.apply: wait_timeout: -1 seconds is negative"),
        "{}",
        stderr(&out)
    );
    assert!(project_containers(&project).is_empty());
    assert!(resources_named(&project).is_empty(), "nothing created");
}

#[test]
fn a_foreign_container_holding_a_replicas_name_fails_as_with_compose_and_is_untouched() {
    let project = unique("foreignname");
    let dir = tempfile::tempdir().unwrap();
    let _guard = ProjectCleanup {
        dir: dir.path().to_path_buf(),
        project: project.clone(),
    };
    let foreign = format!("{project}-web-1");
    let _foreign_guard = Cleanup(foreign.clone());
    std::fs::write(
        dir.path().join("compose.yaml"),
        format!(
            "services:\n  web:\n    image: {}\n    command: sleep 60\n",
            test_image()
        ),
    )
    .unwrap();
    let id = docker(&["run", "-d", "--name", &foreign, test_image(), "sleep", "60"]);
    for (who, out) in [
        (
            "orch",
            orch()
                .args(["-p", &project, "up", "-d"])
                .current_dir(dir.path())
                .output()
                .unwrap(),
        ),
        ("compose", compose(dir.path(), &["-p", &project, "up", "-d"])),
    ] {
        assert_eq!(out.status.code(), Some(1), "{who}: {}", stderr(&out));
        assert!(
            stderr(&out).contains(&format!(
                "The container name \"/{foreign}\" is already in use by container"
            )),
            "{who}: {}",
            stderr(&out)
        );
    }
    let still = docker(&["inspect", "-f", "{{.Id}} {{.State.Running}}", &foreign]);
    assert_eq!(
        still.trim(),
        format!("{} true", id.trim()),
        "the foreign container is untouched"
    );
}

/// `-p ""` is no project name: without a compose file there is nothing to
/// name the project, so `down`/`kill` fail as compose does ("no
/// configuration file provided") and never take the empty string as a
/// project label to match (a container labelled so stays).
#[test]
fn an_empty_project_name_without_a_file_fails_as_compose_and_matches_nothing() {
    let name = unique("emptyproj");
    docker(&[
        "create",
        "--name",
        &name,
        "--label",
        "com.docker.compose.project=",
        "--label",
        "com.docker.compose.service=web",
        test_image(),
        "true",
    ]);
    let dir = tempfile::tempdir().unwrap();
    for cmd in ["down", "kill", "stop"] {
        let reference = compose(dir.path(), &["-p", "", cmd]);
        let ours = orch().args(["-p", "", cmd]).current_dir(dir.path()).output().unwrap();
        assert_eq!(ours.status.code(), reference.status.code(), "{cmd}: {}", stderr(&ours));
        assert!(
            stderr(&ours).contains("no configuration file provided"),
            "{cmd}: {}",
            stderr(&ours)
        );
    }
    let still = docker(&[
        "ps",
        "-a",
        "--filter",
        &format!("name=^{name}$"),
        "--format",
        "{{.Names}}",
    ]);
    docker(&["rm", "-f", &name]);
    assert_eq!(
        still.trim(),
        name,
        "the container labelled with an empty project is untouched"
    );
}
