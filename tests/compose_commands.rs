//! The compose commands (stdlib scripts) end to end on the hit counter
//! example, with Docker Compose v2.40.3 looking at the same project.

mod common;

use std::path::Path;

use common::*;

fn example_base() {
    // The examples build FROM orch-examples/busybox (.ci/setup makes it).
    if docker_ok(&["image", "inspect", "orch-examples/busybox:latest"]) {
        return;
    }
    let ctx = tempfile::tempdir().unwrap();
    std::fs::copy(repo().join("examples/base/Dockerfile"), ctx.path().join("Dockerfile")).unwrap();
    std::fs::copy("/bin/busybox", ctx.path().join("busybox")).unwrap();
    let (_d, path) = script(&format!(
        "image::build(#{{ context: \"{}\", tag: \"orch-examples/busybox:latest\" }});",
        ctx.path().display()
    ));
    assert!(run_script(&path, &[]).status.success());
}

fn docker_ok(args: &[&str]) -> bool {
    std::process::Command::new("docker")
        .args(args)
        .output()
        .is_ok_and(|o| o.status.success())
}

/// A table's cells, with relative times ("Up 3 seconds", "2 minutes ago")
/// blanked: the two tools print them a moment apart.
fn cells(table: &str) -> Vec<Vec<String>> {
    table
        .lines()
        .map(|l| {
            l.split("  ")
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .map(|c| {
                    if c.ends_with(" ago") {
                        "T ago".to_string()
                    } else if let Some(rest) = c.strip_prefix("Up ") {
                        format!("Up T{}", if rest.contains("(healthy)") { " (healthy)" } else { "" })
                    } else {
                        c.to_string()
                    }
                })
                .collect()
        })
        .collect()
}

fn orch_in(dir: &Path, args: &[&str]) -> std::process::Output {
    orch().args(args).current_dir(dir).output().unwrap()
}

/// A visit: the page text, through the published port.
fn visit(port: u16) -> String {
    use std::io::{Read, Write};
    let mut last = String::new();
    for _ in 0..50 {
        if let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) {
            let _ = s.write_all(b"GET / HTTP/1.0\r\nHost: localhost\r\n\r\n");
            let mut body = String::new();
            let _ = s.read_to_string(&mut body);
            if let Some(i) = body.find("\r\n\r\n") {
                last = body[i + 4..].trim().to_string();
                if last.starts_with("Hello") {
                    return last;
                }
            }
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    panic!("no answer on port {port}: {last:?}");
}

#[test]
fn hitcounter_up_ps_images_stop_start_down_keeps_the_count_and_down_v_resets_it() {
    example_base();
    let project = unique("hit");
    let dir = repo().join("examples/hitcounter");
    let _cleanup = ProjectCleanup {
        dir: dir.clone(),
        project: project.clone(),
    };
    // A free port: the README's main job (or another run) may hold 5000.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .unwrap()
        .port();
    let up = |extra: &[&str]| {
        let mut args = vec!["-p", project.as_str(), "--progress", "plain", "up", "-d"];
        args.extend_from_slice(extra);
        let out = orch()
            .args(&args)
            .current_dir(&dir)
            .env("WEB_PORT", port.to_string())
            .output()
            .unwrap();
        assert!(out.status.success(), "up: {}", stderr(&out));
        stderr(&out)
    };
    up(&[]);
    assert_eq!(visit(port), "Hello World! I have been seen 1 times.");
    assert_eq!(visit(port), "Hello World! I have been seen 2 times.");

    // ps and images list both services; the reference agrees on ps.
    let ps = stdout(&orch_in(&dir, &["-p", &project, "ps"]));
    assert!(ps.starts_with("NAME "), "{ps}");
    assert!(
        ps.contains(&format!("{project}-web-1")) && ps.contains(&format!("{project}-store-1")),
        "{ps}"
    );
    assert!(ps.contains(&format!("0.0.0.0:{port}->5000/tcp")), "{ps}");
    let reference_ps = stdout(&compose(&dir, &["-p", &project, "ps"]));
    assert_eq!(
        cells(&ps),
        cells(&reference_ps),
        "orch ps and docker compose ps differ:\n{ps}\n{reference_ps}"
    );
    let images = stdout(&orch_in(&dir, &["-p", &project, "images"]));
    assert!(
        images.contains(&format!("{project}-web")) && images.contains(&format!("{project}-store")),
        "{images}"
    );

    // Nothing changed: up touches nothing.
    let before = project_containers(&project);
    let again = up(&[]);
    assert!(!again.contains("Created") && !again.contains("Recreate"), "{again}");
    assert_eq!(project_containers(&project), before);

    // stop, start, restart.
    assert!(orch_in(&dir, &["-p", &project, "stop", "-t", "1"]).status.success());
    assert!(
        !stdout(&orch_in(&dir, &["-p", &project, "ps"])).contains("Up "),
        "stopped containers are not listed as up"
    );
    assert!(orch_in(&dir, &["-p", &project, "start"]).status.success());
    assert_eq!(visit(port), "Hello World! I have been seen 3 times.");
    assert!(orch_in(&dir, &["-p", &project, "restart", "-t", "1"]).status.success());
    assert_eq!(visit(port), "Hello World! I have been seen 4 times.");

    // down keeps the named volume: the count goes on; down -v resets it.
    assert!(orch_in(&dir, &["-p", &project, "down", "-t", "1"]).status.success());
    assert!(project_containers(&project).is_empty());
    up(&[]);
    assert_eq!(visit(port), "Hello World! I have been seen 5 times.");
    assert!(orch_in(&dir, &["-p", &project, "down", "-v", "-t", "1"])
        .status
        .success());
    up(&[]);
    assert_eq!(visit(port), "Hello World! I have been seen 1 times.");

    // rm -s -f removes the containers, and the reference's down takes the rest.
    assert!(orch_in(&dir, &["-p", &project, "rm", "-s", "-f"]).status.success());
    assert!(project_containers(&project).is_empty());
    let down = compose(&dir, &["-p", &project, "down", "-v"]);
    assert!(down.status.success(), "{}", stderr(&down));
    assert!(resources_named(&project).is_empty(), "{:?}", resources_named(&project));
}

#[test]
fn config_prints_what_the_reference_prints() {
    let dir = repo().join("examples/hitcounter");
    let ours = stdout(&orch_in(&dir, &["config", "--format", "json"]));
    let theirs = stdout(&compose(&dir, &["config", "--format", "json"]));
    let a: serde_json::Value = serde_json::from_str(&ours).unwrap();
    let b: serde_json::Value = serde_json::from_str(&theirs).unwrap();
    assert_eq!(a, b);
    let hashes = stdout(&orch_in(&dir, &["config", "--hash", "*"]));
    assert_eq!(hashes.trim(), stdout(&compose(&dir, &["config", "--hash", "*"])).trim());
}

#[test]
fn down_stops_dependents_before_their_dependencies() {
    let image = test_image();
    let project = unique("downorder");
    let dir = tempfile::tempdir().unwrap();
    let _cleanup = ProjectCleanup {
        dir: dir.path().to_path_buf(),
        project: project.clone(),
    };
    let run = r#"["sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait"]"#;
    std::fs::write(
        dir.path().join("compose.yaml"),
        format!(
            "services:\n  web:\n    image: {image}\n    command: {run}\n    depends_on: [api]\n  api:\n    image: {image}\n    command: {run}\n    depends_on: [db]\n  db:\n    image: {image}\n    command: {run}\n"
        ),
    )
    .unwrap();
    let out = orch_in(dir.path(), &["-p", &project, "up", "-d"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let since = docker(&["system", "info", "--format", "{{.SystemTime}}"])
        .trim()
        .to_string();
    let out = orch_in(dir.path(), &["-p", &project, "down"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let until = docker(&["system", "info", "--format", "{{.SystemTime}}"]);
    let events = docker(&[
        "events",
        "--since",
        &since,
        "--until",
        until.trim(),
        "--filter",
        &format!("label=com.docker.compose.project={project}"),
        "--filter",
        "event=die",
        "--format",
        "{{index .Actor.Attributes \"com.docker.compose.service\"}}",
    ]);
    assert_eq!(events.lines().collect::<Vec<_>>(), ["web", "api", "db"], "{events}");
}
