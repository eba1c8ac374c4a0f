//! The planner and applier on the real engine, with Docker Compose v2.40.3
//! as the witness: it must see orch's containers as its own and current,
//! and orch must touch only what changed.

mod common;

use std::path::Path;

use common::*;

/// Writes compose.yaml, returns the reference's canonical JSON for it.
fn document(dir: &Path, yaml: &str) -> String {
    std::fs::write(dir.join("compose.yaml"), yaml).unwrap();
    let out = compose(dir, &["config", "--format", "json"]);
    assert!(out.status.success(), "reference config: {}", stderr(&out));
    stdout(&out)
}

const UP: &str = r#"
let p = plan::compute(ARGS[0], #{ working_dir: ARGS[1] });
print(`steps=${p.steps.len()}`);
for s in p.steps { print(`${s.action} ${s.name}`); }
let r = p.apply();
if !r.ok { throw r.errors; }
"#;

fn up(dir: &Path, doc: &str) -> String {
    let (_d, path) = script(UP);
    let out = run_script(&path, &[doc, &dir.display().to_string()]);
    assert!(out.status.success(), "{}", stderr(&out));
    stdout(&out)
}

fn yaml(project: &str, image: &str, web_env: &str) -> String {
    format!(
        r#"
name: {project}
services:
  web:
    image: {image}
    command: ["sh", "-c", "trap 'exit 0' TERM; sleep 300 & wait"]
    environment: {{ MODE: "{web_env}" }}
    depends_on:
      store: {{ condition: service_healthy }}
    deploy: {{ replicas: 2 }}
  store:
    image: {image}
    command: ["sh", "-c", "trap 'exit 0' TERM; test -f /anon/keep || echo first > /anon/keep; touch /data/ready; sleep 300 & wait"]
    volumes: ["data:/data", "/anon"]
    healthcheck: {{ test: ["CMD", "test", "-f", "/data/ready"], interval: 1s }}
volumes:
  data: {{}}
"#
    )
}

#[test]
fn orch_and_docker_compose_agree_and_only_changes_are_applied() {
    let image = test_image();
    let project = unique("plan");
    let dir = tempfile::tempdir().unwrap();
    let _cleanup = ProjectCleanup {
        dir: dir.path().to_path_buf(),
        project: project.clone(),
    };

    let doc = document(dir.path(), &yaml(&project, image, "a"));
    let first = up(dir.path(), &doc);
    assert!(first.contains(&format!("create {project}-store-1")), "{first}");
    let before = project_containers(&project);
    assert_eq!(before.len(), 3, "{before:?}");

    // The reference lists orch's containers under the right services …
    let ps = stdout(&compose(
        dir.path(),
        &["ps", "--format", "{{.Name}} {{.Service}} {{.State}}"],
    ));
    for line in [
        format!("{project}-web-1 web running"),
        format!("{project}-web-2 web running"),
        format!("{project}-store-1 store running"),
    ] {
        assert!(ps.contains(&line), "reference ps lacks {line:?}: {ps}");
    }
    // … and sees nothing to recreate.
    let again = compose(dir.path(), &["up", "-d"]);
    assert!(again.status.success(), "{}", stderr(&again));
    assert_eq!(
        project_containers(&project),
        before,
        "docker compose recreated orch's containers"
    );

    // Nothing changed: an empty plan, no engine writes.
    let same = up(dir.path(), &doc);
    assert!(same.starts_with("steps=0\n"), "{same}");
    assert_eq!(project_containers(&project), before);

    // Only web's environment changes: web is recreated, store keeps its ID
    // and its anonymous volume's data.
    docker(&[
        "exec",
        &format!("{project}-store-1"),
        "sh",
        "-c",
        "echo kept > /anon/keep",
    ]);
    let doc2 = document(dir.path(), &yaml(&project, image, "b"));
    let changed = up(dir.path(), &doc2);
    assert!(changed.contains(&format!("recreate {project}-web-1")), "{changed}");
    assert!(!changed.contains("store"), "store must not be touched: {changed}");
    let after = project_containers(&project);
    assert_eq!(
        after[&format!("{project}-store-1")],
        before[&format!("{project}-store-1")]
    );
    assert_ne!(after[&format!("{project}-web-1")], before[&format!("{project}-web-1")]);
    let env = docker(&["inspect", "-f", "{{json .Config.Env}}", &format!("{project}-web-1")]);
    assert!(env.contains("MODE=b"), "{env}");

    // Force a recreation of store: its anonymous volume comes along.
    let (_d, path) = script("let p = plan::compute(ARGS[0], #{ services: [\"store\"], no_deps: true, force_recreate: true });\nlet r = p.apply(#{ timeout: 1 });\nif !r.ok { throw r.errors; }\n");
    let out = run_script(&path, &[&doc2]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_ne!(
        project_containers(&project)[&format!("{project}-store-1")],
        before[&format!("{project}-store-1")]
    );
    let kept = docker(&["exec", &format!("{project}-store-1"), "cat", "/anon/keep"]);
    assert_eq!(kept.trim(), "kept", "the anonymous volume was not carried over");
}

#[test]
fn a_dependency_that_never_gets_healthy_fails_only_its_dependents() {
    let image = test_image();
    let project = unique("unhealthy");
    let dir = tempfile::tempdir().unwrap();
    let _cleanup = ProjectCleanup {
        dir: dir.path().to_path_buf(),
        project: project.clone(),
    };
    let doc = document(
        dir.path(),
        &format!(
            r#"
name: {project}
services:
  sick:
    image: {image}
    command: ["sh", "-c", "trap 'exit 0' TERM; sleep 300 & wait"]
    healthcheck: {{ test: ["CMD", "false"], interval: 1s, retries: 2 }}
  needs_sick:
    image: {image}
    command: ["sleep", "300"]
    depends_on: {{ sick: {{ condition: service_healthy }} }}
  alone:
    image: {image}
    command: ["sh", "-c", "trap 'exit 0' TERM; sleep 300 & wait"]
"#
        ),
    );
    let (_d, path) = script("let r = plan::compute(ARGS[0]).apply();\nprint(r.ok);\nfor e in r.errors { print(e); }\n");
    let out = run_script(&path, &[&doc]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.starts_with("false\n"), "{text}");
    assert!(
        text.contains(&format!("container {project}-sick-1 is unhealthy")),
        "{text}"
    );
    let names = project_containers(&project);
    assert!(
        names.contains_key(&format!("{project}-alone-1")),
        "an independent service must still be up: {names:?}"
    );
    let state = |name: &str| docker(&["inspect", "-f", "{{.State.Status}}", &format!("{project}-{name}")]);
    assert_eq!(state("alone-1").trim(), "running");
    // Compose creates every container before it starts any: the dependent
    // exists, and is never started (`docker compose up -d` on this file
    // leaves needs_sick-1 `created`).
    assert_eq!(state("needs_sick-1").trim(), "created", "{names:?}");
}

#[test]
fn down_removes_exactly_one_project_whoever_started_it() {
    let image = test_image();
    let (a, b) = (unique("down-a"), unique("down-b"));
    let loose = unique("down-loose");
    let _loose = Cleanup(loose.clone());
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let _ca = ProjectCleanup {
        dir: dir_a.path().to_path_buf(),
        project: a.clone(),
    };
    let _cb = ProjectCleanup {
        dir: dir_b.path().to_path_buf(),
        project: b.clone(),
    };
    let svc = |p: &str| {
        format!("name: {p}\nservices:\n  app:\n    image: {image}\n    command: [\"sleep\", \"300\"]\n    volumes: [\"state:/state\"]\nvolumes:\n  state: {{}}\n")
    };
    // A is started by the reference, B by orch, plus a container of no project.
    std::fs::write(dir_a.path().join("compose.yaml"), svc(&a)).unwrap();
    let started = compose(dir_a.path(), &["up", "-d"]);
    assert!(started.status.success(), "{}", stderr(&started));
    let doc_b = document(dir_b.path(), &svc(&b));
    up(dir_b.path(), &doc_b);
    docker(&["run", "-d", "--name", &loose, image, "sleep", "300"]);

    // orch takes A down, volumes included.
    let (_d, path) =
        script("let r = plan::down(ARGS[0], #{ volumes: true, timeout: 0 });\nif !r.ok { throw r.errors; }\n");
    let out = run_script(&path, &[&a]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(project_containers(&a).is_empty());
    assert!(resources_named(&a).is_empty(), "A left: {:?}", resources_named(&a));
    // B and the loose container are untouched.
    assert_eq!(project_containers(&b).len(), 1);
    assert_eq!(resources_named(&b).len(), 3, "{:?}", resources_named(&b)); // container, network, volume
    assert_eq!(
        docker(&["inspect", "-f", "{{.State.Status}}", &loose]).trim(),
        "running"
    );

    // The reference takes orch's B down completely.
    let down = compose(dir_b.path(), &["down", "-v", "-t", "0"]);
    assert!(down.status.success(), "{}", stderr(&down));
    assert!(resources_named(&b).is_empty(), "B left: {:?}", resources_named(&b));
}

#[test]
fn killed_in_the_middle_then_run_again_gives_one_running_container_per_replica() {
    let image = test_image();
    let project = unique("sigkill");
    let dir = tempfile::tempdir().unwrap();
    let _cleanup = ProjectCleanup {
        dir: dir.path().to_path_buf(),
        project: project.clone(),
    };
    let mut yaml = format!("name: {project}\nservices:\n");
    for i in 0..20 {
        yaml.push_str(&format!(
            "  s{i}:\n    image: {image}\n    command: [\"sh\", \"-c\", \"trap 'exit 0' TERM; sleep 300 & wait\"]\n"
        ));
        if i % 4 == 0 {
            yaml.push_str("    deploy: { replicas: 2 }\n");
        }
    }
    let doc = document(dir.path(), &yaml);
    let (_d, path) = script(UP);
    let mut child = orch()
        .arg("run")
        .arg(&path)
        .args([doc.as_str(), &dir.path().display().to_string()])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Kill it once the engine has some (not all) of the containers.
    let started = std::time::Instant::now();
    while project_containers(&project).is_empty() && started.elapsed() < std::time::Duration::from_secs(20) {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let midway = project_containers(&project).len();
    let running = docker(&[
        "ps",
        "-q",
        "--filter",
        &format!("label=com.docker.compose.project={project}"),
    ])
    .lines()
    .count();
    assert!(
        midway < 25 || running < 25,
        "the kill came too late to test anything ({midway} containers, {running} running)"
    );

    up(dir.path(), &doc);
    let names = project_containers(&project);
    assert_eq!(names.len(), 25, "one container per replica: {names:?}");
    for i in 0..20 {
        let replicas = if i % 4 == 0 { 2 } else { 1 };
        for n in 1..=replicas {
            let name = format!("{project}-s{i}-{n}");
            let state = docker(&["inspect", "-f", "{{.State.Status}}", &name]);
            assert_eq!(state.trim(), "running", "{name}");
        }
    }
    // And a third run has nothing left to do.
    assert!(up(dir.path(), &doc).starts_with("steps=0\n"));
}
