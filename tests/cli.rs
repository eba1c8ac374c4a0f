//! The command line: stdlib dispatch, the ORCH_STDLIB override, docs,
//! completions, and usage errors.

mod common;

use common::*;

#[test]
fn stdlib_commands_run_embedded_scripts_with_parsed_flags() {
    let image = test_image();
    let out = orch()
        .args(["image", "ls", "--filter", "reference=orch-test/*"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let mut lines = text.lines();
    let header = lines.next().unwrap();
    let columns: Vec<&str> = header.split("   ").map(str::trim).filter(|c| !c.is_empty()).collect();
    assert_eq!(
        columns,
        ["REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE"],
        "{header}"
    );
    let row = lines
        .find(|l| l.starts_with("orch-test/busybox "))
        .expect("test image listed");
    // The same figures `docker image ls` prints.
    let theirs = docker(&["image", "ls", "--format", "{{.ID}}|{{.CreatedSince}}|{{.Size}}", image]);
    for field in theirs.trim().split('|') {
        assert!(row.contains(field), "{row} lacks {field}");
    }
    // -q prints the same IDs docker does.
    let ours = stdout(
        &orch()
            .args(["image", "ls", "-q", "--filter", &format!("reference={image}")])
            .output()
            .unwrap(),
    );
    let theirs = docker(&["image", "ls", "-q", "--filter", &format!("reference={image}")]);
    assert_eq!(ours, theirs);
}

#[test]
fn container_ls_lists_what_the_engine_has() {
    let image = test_image();
    let name = unique("ls");
    let _guard = Cleanup(name.clone());
    docker(&["create", "--name", &name, image, "true"]);
    let running = stdout(&orch().args(["container", "ls"]).output().unwrap());
    assert!(
        !running.contains(&name),
        "a created container is not running: {running}"
    );
    let all = stdout(
        &orch()
            .args(["container", "ls", "-a", "--filter", &format!("name={name}")])
            .output()
            .unwrap(),
    );
    assert!(all.lines().nth(1).is_some_and(|l| l.ends_with(&name)), "{all}");
}

#[test]
fn orch_stdlib_reads_commands_from_a_folder() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("volume")).unwrap();
    std::fs::write(
        dir.path().join("volume/ls.rhai"),
        "print(`custom ls quiet=${ARGS.quiet} filter=${ARGS.filter}`);",
    )
    .unwrap();
    let out = orch()
        .args(["volume", "ls", "-q", "--filter", "a=b"])
        .env("ORCH_STDLIB", dir.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "custom ls quiet=true filter=[\"a=b\"]\n");
}

#[test]
fn docs_lists_primitives_with_examples() {
    let out = orch().args(["docs", "container::create"]).output().unwrap();
    let text = stdout(&out);
    assert!(text.starts_with("container::create(opts: map) -> Container"), "{text}");
    assert!(text.contains("```rhai"), "{text}");
    let all = stdout(&orch().arg("docs").output().unwrap());
    for needle in [
        "image::build(",
        "network::create(",
        "volume::create(",
        "Container.logs(",
        "Image.save(",
        "sleep(",
    ] {
        assert!(all.contains(needle), "{needle} missing from docs");
    }
    // A name that matches nothing is an error, not an empty success.
    let none = orch().args(["docs", "container::no_such_thing"]).output().unwrap();
    assert_eq!(none.status.code(), Some(1));
    assert!(stdout(&none).is_empty());
    assert!(
        stderr(&none).contains("no primitive's signature contains"),
        "{}",
        stderr(&none)
    );
}

#[test]
fn completions_and_version() {
    let out = orch().args(["completions", "bash"]).output().unwrap();
    assert!(out.status.success());
    assert!(stdout(&out).contains("_orch()"), "bash completion function missing");
    let v = stdout(&orch().arg("--version").output().unwrap());
    assert_eq!(v, format!("orch {}\n", env!("CARGO_PKG_VERSION")));
}

#[test]
fn usage_errors_exit_as_the_tool_orch_stands_in_for() {
    // Compose's commands exit 1 on a usage error, as the reference does;
    // the Docker CLI's groups 125, as `docker` does; orch's own 2.
    let reference = |args: &[&str]| {
        std::process::Command::new(compose_ref())
            .args(args)
            .output()
            .unwrap()
            .status
            .code()
    };
    for args in [
        &["no-such-command"][..],
        &["up", "--no-such-flag"],
        &["port", "web"],
        &["ps", "--bogus"],
    ] {
        let orch_code = orch().args(args).output().unwrap().status.code();
        assert_eq!(orch_code, reference(args), "orch {args:?}");
        assert_eq!(orch_code, Some(1), "orch {args:?}");
    }
    for args in [
        &["service", "ls", "--bogus"][..],
        &["stack", "ls", "--bogus"],
        &["network", "ls", "--bogus"],
    ] {
        let docker = std::process::Command::new("docker")
            .args(args)
            .output()
            .unwrap()
            .status
            .code();
        assert_eq!(
            orch().args(args).output().unwrap().status.code(),
            docker,
            "orch {args:?}"
        );
    }
    // The docker CLI's duration flags are Go durations (no days), unlike
    // compose files: both refuse `1d` before reaching any engine.
    for args in [
        &["service", "update", "--update-delay", "1d", "x"][..],
        &["service", "create", "--health-interval", "1d", "busybox"],
        &["service", "create", "--stop-grace-period", "2w", "busybox"],
    ] {
        let docker = std::process::Command::new("docker").args(args).output().unwrap();
        let ours = orch().args(args).output().unwrap();
        assert_eq!(ours.status.code(), docker.status.code(), "orch {args:?}");
        let unit = format!("unknown unit \"{}\"", &args[3][1..]);
        assert!(stderr(&docker).contains(&unit), "docker {args:?}: {}", stderr(&docker));
        assert!(stderr(&ours).contains(&unit), "orch {args:?}: {}", stderr(&ours));
    }
    assert_eq!(
        orch().args(["docs", "--bogus"]).output().unwrap().status.code(),
        Some(2)
    );
    let out = orch().args(["run", "/nonexistent/x.rhai"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("cannot read script /nonexistent/x.rhai"));
}

/// compose's global `--dry-run` is refused where no dry run exists (swarm
/// commands, `rollout`, a script run), before anything is asked of the
/// engine: it must never be ignored there. The compose commands take it.
#[test]
fn dry_run_is_refused_where_nothing_honours_it() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("s.rhai"), "print(\"ran\");").unwrap();
    for args in [
        &["--dry-run", "service", "rm", "nosuch"][..],
        &["--dry-run", "swarm", "leave", "--force"],
        &["--dry-run", "rollout", "web"],
        &["--dry-run", "run", "s.rhai"],
    ] {
        let out = orch().args(args).current_dir(dir.path()).output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains("has no dry run"), "{args:?}: {}", stderr(&out));
        assert!(!stdout(&out).contains("ran"), "{args:?} ran the script");
    }
    // `rollout` has no per-command --dry-run either: an unknown flag.
    let out = orch().args(["rollout", "web", "--dry-run"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("unexpected argument '--dry-run'"),
        "{}",
        stderr(&out)
    );
}
