//! Bad input and faults during `up`, one-off `run` containers, and
//! `restart: true` dependents, on the real engine.

mod common;

use std::path::Path;

use common::*;

const LOOP: &str = r#"["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"]"#;

fn orch_in(dir: &Path, args: &[&str]) -> std::process::Output {
    orch().args(args).current_dir(dir).output().unwrap()
}

fn container_id(name: &str) -> String {
    docker(&["inspect", "-f", "{{.Id}}", name]).trim().to_string()
}

fn state(name: &str, field: &str) -> String {
    docker(&["inspect", "-f", &format!("{{{{.State.{field}}}}}"), name])
        .trim()
        .to_string()
}

/// A port nothing listens on right now.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn each_fault_names_its_service_and_cause_and_the_others_come_up() {
    let image = test_image();
    let project = unique("faults");
    let dir = tempfile::tempdir().unwrap();
    let _cleanup = ProjectCleanup {
        dir: dir.path().to_path_buf(),
        project: project.clone(),
    };
    // Something else holds the port `web` wants.
    let holder = format!("{project}-holder");
    let _holder = Cleanup(holder.clone());
    let port = free_port();
    docker(&[
        "run",
        "-d",
        "--name",
        &holder,
        "-p",
        &format!("127.0.0.1:{port}:80"),
        image,
        "sh",
        "-c",
        "trap 'exit 0' TERM; while true; do sleep 1; done",
    ]);
    std::fs::write(
        dir.path().join("compose.yaml"),
        format!(
            r#"
services:
  ok:
    image: {image}
    command: {LOOP}
  ghost:
    image: orch-test/does-not-exist:{project}
  web:
    image: {image}
    command: {LOOP}
    ports: ["127.0.0.1:{port}:80"]
"#
        ),
    )
    .unwrap();
    let out = orch_in(dir.path(), &["-p", &project, "--progress", "quiet", "up", "-d"]);
    assert!(!out.status.success(), "up must fail");
    let err = stderr(&out);
    assert!(
        err.contains("service ghost") && err.contains("No such image: orch-test/does-not-exist"),
        "unknown image: {err}"
    );
    assert!(
        err.contains("service web") && err.contains(&format!("port {port} is already allocated by container {holder}")),
        "port in use: {err}"
    );
    // The service with nothing wrong runs; the holder was not touched.
    let ok = format!("{project}-ok-1");
    assert_eq!(state(&ok, "Status"), "running");
    let ok_id = container_id(&ok);
    assert_eq!(state(&holder, "Status"), "running");
    // Fix nothing, run again: the healthy service is left alone.
    let again = orch_in(dir.path(), &["-p", &project, "--progress", "quiet", "up", "-d"]);
    assert!(!again.status.success());
    assert_eq!(container_id(&ok), ok_id, "a service with no fault was recreated");
}

/// As compose: every image is built before anything is created, so a build
/// failing half-way leaves no network and no container, and says which
/// service's build failed.
#[test]
fn a_failed_build_creates_nothing() {
    let image = test_image();
    let project = unique("buildfail");
    let dir = tempfile::tempdir().unwrap();
    let _cleanup = ProjectCleanup {
        dir: dir.path().to_path_buf(),
        project: project.clone(),
    };
    std::fs::create_dir(dir.path().join("bad")).unwrap();
    std::fs::write(dir.path().join("bad/Dockerfile"), format!("FROM {image}\nRUN false\n")).unwrap();
    std::fs::write(
        dir.path().join("compose.yaml"),
        format!(
            r#"
services:
  ok:
    image: {image}
    command: {LOOP}
  broken:
    build: ./bad
    image: orch-test/broken:{project}
"#
        ),
    )
    .unwrap();
    let out = orch_in(dir.path(), &["-p", &project, "--progress", "quiet", "up", "-d"]);
    assert_eq!(out.status.code(), Some(1), "up must fail as compose does");
    let err = stderr(&out);
    // The classic builder and BuildKit word the failing step differently.
    let step_failed = err.contains("returned a non-zero code") || err.contains("exit code: 1");
    assert!(err.contains("service broken") && step_failed, "build failure: {err}");
    let label = format!("label=com.docker.compose.project={project}");
    assert_eq!(docker(&["ps", "-aq", "--filter", &label]).trim(), "", "no container");
    assert_eq!(
        docker(&["network", "ls", "-q", "--filter", &label]).trim(),
        "",
        "no network"
    );
}

#[test]
fn a_missing_env_file_is_reported_with_its_service_and_nothing_starts() {
    test_image();
    let project = unique("envfile");
    let dir = tempfile::tempdir().unwrap();
    let _cleanup = ProjectCleanup {
        dir: dir.path().to_path_buf(),
        project: project.clone(),
    };
    std::fs::write(
        dir.path().join("compose.yaml"),
        format!(
            "services:\n  ok:\n    image: {TEST_IMAGE}\n    command: {LOOP}\n  app:\n    image: {TEST_IMAGE}\n    env_file: missing.env\n"
        ),
    )
    .unwrap();
    let out = orch_in(dir.path(), &["-p", &project, "up", "-d"]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(err.contains("service app: env file"), "{err}");
    assert!(err.contains("missing.env not found"), "{err}");
    assert!(err.contains("compose.yaml:7:"), "points at the line: {err}");
    assert!(project_containers(&project).is_empty(), "nothing may be created");
}

#[test]
fn run_makes_one_off_containers_as_compose_does() {
    let image = test_image();
    let project = unique("run");
    let dir = tempfile::tempdir().unwrap();
    let _cleanup = ProjectCleanup {
        dir: dir.path().to_path_buf(),
        project: project.clone(),
    };
    std::fs::write(
        dir.path().join("compose.yaml"),
        format!(
            r#"
services:
  db:
    image: {image}
    command: {LOOP}
    healthcheck: {{ test: ["CMD", "true"], interval: 1s }}
  app:
    image: {image}
    environment: {{ FROM_SERVICE: "yes" }}
    ports: ["127.0.0.1::80"]
    depends_on: {{ db: {{ condition: service_healthy }} }}
    command: echo default
"#
        ),
    )
    .unwrap();
    // Attached, --rm: output and exit code are the command's; the
    // dependency was started (and healthy) first; nothing is left behind.
    let out = orch_in(
        dir.path(),
        &[
            "-p",
            &project,
            "--progress",
            "quiet",
            "run",
            "--rm",
            "-e",
            "EXTRA=1",
            "app",
            "sh",
            "-c",
            "echo hi $FROM_SERVICE $EXTRA; exit 3",
        ],
    );
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert_eq!(stdout(&out).trim(), "hi yes 1");
    assert_eq!(state(&format!("{project}-db-1"), "Health.Status"), "healthy");
    let oneoffs = || {
        docker(&[
            "ps",
            "-a",
            "--filter",
            &format!("label=com.docker.compose.project={project}"),
            "--filter",
            "label=com.docker.compose.oneoff=True",
            "--format",
            "{{.Names}}",
        ])
    };
    assert_eq!(oneoffs().trim(), "", "--rm left a container");

    // Detached: the one-off is named and labelled as compose names them,
    // publishes nothing, and the reference lists it.
    let out = orch_in(dir.path(), &["-p", &project, "run", "-d", "app", "sleep", "30"]);
    assert!(out.status.success(), "{}", stderr(&out));
    // compose's `run -d` prints the container's ID.
    let printed = stdout(&out).trim().to_string();
    assert!(
        printed.len() == 64 && printed.chars().all(|c| c.is_ascii_hexdigit()),
        "run -d printed {printed:?}, not a container ID"
    );
    let name = docker(&["inspect", "-f", "{{.Name}}", &printed])
        .trim()
        .trim_start_matches('/')
        .to_string();
    let prefix = format!("{project}-app-run-");
    assert!(name.starts_with(&prefix), "{name}");
    let id = &name[prefix.len()..];
    assert!(id.len() == 12 && id.chars().all(|c| c.is_ascii_hexdigit()), "{name}");
    assert_eq!(oneoffs().trim(), name);
    let labels = docker(&["inspect", "-f", "{{json .Config.Labels}}", &name]);
    let labels: serde_json::Value = serde_json::from_str(&labels).unwrap();
    assert_eq!(labels["com.docker.compose.service"], "app");
    assert!(labels.get("com.docker.compose.container-number").is_none());
    assert!(labels["com.docker.compose.slug"].as_str().unwrap().starts_with(id));
    assert_eq!(docker(&["port", &name]).trim(), "", "a one-off publishes no ports");
    let listed = compose(dir.path(), &["-p", &project, "ps", "-a", "--format", "{{.Name}}"]);
    assert!(stdout(&listed).contains(&name), "reference ps -a: {}", stdout(&listed));
    // orch's down leaves it, as compose's does (one-offs are excluded but
    // for exited ones with --remove-orphans), and removes it once exited.
    let down = orch_in(dir.path(), &["-p", &project, "down", "-t", "0"]);
    assert!(down.status.success(), "{}", stderr(&down));
    assert_eq!(oneoffs().trim(), name, "down removed the running one-off");
    let down = orch_in(dir.path(), &["-p", &project, "down", "-t", "0", "--remove-orphans"]);
    assert!(down.status.success(), "{}", stderr(&down));
    assert_eq!(
        oneoffs().trim(),
        name,
        "down --remove-orphans removed the running one-off"
    );
    docker(&["kill", &name]);
    let down = orch_in(dir.path(), &["-p", &project, "down", "-t", "0", "--remove-orphans"]);
    assert!(down.status.success(), "{}", stderr(&down));
    assert!(project_containers(&project).is_empty());
}

#[test]
fn dependents_with_restart_true_restart_when_their_dependency_is_recreated() {
    let image = test_image();
    let project = unique("restart");
    let dir = tempfile::tempdir().unwrap();
    let _cleanup = ProjectCleanup {
        dir: dir.path().to_path_buf(),
        project: project.clone(),
    };
    let write = |mode: &str| {
        std::fs::write(
            dir.path().join("compose.yaml"),
            format!(
                r#"
services:
  db:
    image: {image}
    command: {LOOP}
    environment: {{ MODE: "{mode}" }}
  app:
    image: {image}
    command: {LOOP}
    depends_on: {{ db: {{ condition: service_started, restart: true }} }}
  other:
    image: {image}
    command: {LOOP}
    depends_on: [db]
"#
            ),
        )
        .unwrap();
    };
    write("one");
    let up = |dir: &Path| {
        let out = orch_in(dir, &["-p", &project, "--progress", "quiet", "up", "-d", "-t", "1"]);
        assert!(out.status.success(), "{}", stderr(&out));
    };
    up(dir.path());
    let app = format!("{project}-app-1");
    let other = format!("{project}-other-1");
    let (app_id, app_started) = (container_id(&app), state(&app, "StartedAt"));
    let (other_id, other_started) = (container_id(&other), state(&other, "StartedAt"));
    let db_id = container_id(&format!("{project}-db-1"));
    std::thread::sleep(std::time::Duration::from_millis(1100));
    write("two");
    let plan = orch_in(dir.path(), &["-p", &project, "plan"]);
    let plan = stdout(&plan);
    assert!(plan.contains(&format!("restart container {app}")), "{plan}");
    up(dir.path());
    assert_ne!(container_id(&format!("{project}-db-1")), db_id, "db was not recreated");
    assert_eq!(container_id(&app), app_id, "app must be restarted, not recreated");
    assert_ne!(state(&app, "StartedAt"), app_started, "app was not restarted");
    assert_eq!(state(&app, "Status"), "running");
    assert_eq!(container_id(&other), other_id);
    assert_eq!(state(&other, "StartedAt"), other_started, "other has no restart: true");
}
