//! Concurrent runs on one project: changes are serialised by a lock keyed
//! by engine and project, so racing `up`s make one network, not three, and
//! an `up` racing a `down -v` leaves a project the next run converges.

mod common;

use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Output, Stdio};

use common::*;

fn project_dir(project: &str) -> (tempfile::TempDir, ProjectCleanup) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("compose.yaml"),
        format!(
            "services:\n  web:\n    image: {}\n    command: sleep 300\n    deploy:\n      replicas: 2\n",
            test_image()
        ),
    )
    .unwrap();
    let guard = ProjectCleanup {
        dir: dir.path().to_path_buf(),
        project: project.to_string(),
    };
    (dir, guard)
}

fn spawn(dir: &Path, lock_dir: &Path, args: &[&str]) -> Child {
    orch()
        .args(args)
        .current_dir(dir)
        .env("ORCH_LOCK_DIR", lock_dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn finish(c: Child) -> Output {
    c.wait_with_output().unwrap()
}

fn networks(project: &str) -> Vec<String> {
    docker(&[
        "network",
        "ls",
        "--filter",
        &format!("name={project}_default"),
        "--format",
        "{{.Name}}",
    ])
    .lines()
    .map(str::to_string)
    .collect()
}

fn running(project: &str) -> Vec<String> {
    docker(&[
        "ps",
        "--filter",
        &format!("label=com.docker.compose.project={project}"),
        "--format",
        "{{.Names}}",
    ])
    .lines()
    .map(str::to_string)
    .collect()
}

#[test]
fn three_concurrent_ups_make_one_network_and_one_container_per_replica() {
    let project = unique("race3");
    let (dir, _guard) = project_dir(&project);
    let locks = tempfile::tempdir().unwrap();
    let runs: Vec<Child> = (0..3)
        .map(|_| spawn(dir.path(), locks.path(), &["-p", &project, "up", "-d"]))
        .collect();
    for out in runs.into_iter().map(finish) {
        assert!(out.status.success(), "{}", stderr(&out));
    }
    assert_eq!(networks(&project), vec![format!("{project}_default")]);
    let mut names = running(&project);
    names.sort();
    assert_eq!(names, vec![format!("{project}-web-1"), format!("{project}-web-2")]);
}

#[test]
fn up_racing_down_converges_on_the_next_run() {
    let project = unique("racedown");
    let (dir, _guard) = project_dir(&project);
    let locks = tempfile::tempdir().unwrap();
    let first = finish(spawn(dir.path(), locks.path(), &["-p", &project, "up", "-d"]));
    assert!(first.status.success(), "{}", stderr(&first));
    let up = spawn(
        dir.path(),
        locks.path(),
        &["-p", &project, "up", "-d", "--force-recreate"],
    );
    let down = spawn(dir.path(), locks.path(), &["-p", &project, "down", "-v", "-t", "0"]);
    let (up, down) = (finish(up), finish(down));
    assert!(down.status.success(), "{}", stderr(&down));
    assert!(up.status.success(), "{}", stderr(&up));
    // Whichever ran last, one more `up` converges with no duplicates.
    let again = finish(spawn(dir.path(), locks.path(), &["-p", &project, "up", "-d"]));
    assert!(again.status.success(), "{}", stderr(&again));
    assert_eq!(networks(&project), vec![format!("{project}_default")]);
    assert_eq!(running(&project).len(), 2, "{:?}", running(&project));
    let gone = finish(spawn(
        dir.path(),
        locks.path(),
        &["-p", &project, "down", "-v", "-t", "0"],
    ));
    assert!(gone.status.success(), "{}", stderr(&gone));
    assert!(networks(&project).is_empty());
    assert!(project_containers(&project).is_empty());
}

#[test]
fn a_held_lock_makes_a_change_wait_saying_for_whom_or_fail_with_no_lock_wait() {
    let project = unique("lockheld");
    let (dir, _guard) = project_dir(&project);
    let locks = tempfile::tempdir().unwrap();
    let engine_id = docker(&["info", "-f", "{{.ID}}"])
        .trim()
        .replace(|c: char| !c.is_ascii_alphanumeric() && c != '-' && c != '_', "_");
    let path = locks.path().join(format!("{engine_id}--{project}.lock"));
    let mut held = File::create(&path).unwrap();
    rustix::fs::flock(&held, rustix::fs::FlockOperation::LockExclusive).unwrap();
    writeln!(held, "the race test").unwrap();

    let refused = finish(spawn(
        dir.path(),
        locks.path(),
        &["--no-lock-wait", "-p", &project, "up", "-d"],
    ));
    assert_eq!(refused.status.code(), Some(1), "{}", stderr(&refused));
    assert!(
        stderr(&refused).contains(&format!(
            "project {project} is being changed by the race test; not waiting (--no-lock-wait)"
        )),
        "{}",
        stderr(&refused)
    );
    assert!(project_containers(&project).is_empty(), "nothing changed");

    // Without the flag it waits (and says for whom) until the lock is free.
    let mut waiting = spawn(dir.path(), locks.path(), &["-p", &project, "up", "-d"]);
    let mut err = BufReader::new(waiting.stderr.take().unwrap());
    let mut line = String::new();
    err.read_line(&mut line).unwrap();
    assert!(
        line.contains(&format!(
            "waiting for the race test, which is changing project {project}"
        )),
        "{line}"
    );
    assert!(project_containers(&project).is_empty(), "nothing changed while waiting");
    rustix::fs::flock(&held, rustix::fs::FlockOperation::Unlock).unwrap();
    let out = finish(waiting);
    assert!(out.status.success());
    assert_eq!(running(&project).len(), 2);
}
