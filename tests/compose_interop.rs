//! Compose behaviours checked side by side with Docker Compose v2.40.3:
//! both tools run on the same project (each under its own project name,
//! or one after the other on the same one) and the engine's state, exit
//! codes and output are compared.

mod common;

use std::path::Path;
use std::process::Output;

use common::*;

#[allow(dead_code)]
const LOOP: &str = r#"["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"]"#;

fn orch_in(dir: &Path, args: &[&str]) -> Output {
    orch().args(args).current_dir(dir).output().unwrap()
}

fn ok(what: &str, out: Output) -> Output {
    assert!(
        out.status.success(),
        "{what}: exit {:?}\n{}\n{}",
        out.status.code(),
        stdout(&out),
        stderr(&out)
    );
    out
}

/// Implicit `depends_on` entries compose infers from links, shared
/// namespaces and volumes_from (links and namespaces restart with their
/// target, volumes_from does not; the first one wins).
#[test]
fn implied_dependencies_match_the_reference() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("compose.yaml"),
        r#"
services:
  x: {image: busybox}
  a: {image: busybox}
  c: {image: busybox}
  d: {image: busybox}
  side:
    image: busybox
    network_mode: service:x
    ipc: service:x
    pid: service:x
    volumes_from: ["x", "d:ro", "container:foo:ro"]
    links: ["a:alias", "c"]
"#,
    )
    .unwrap();
    let args = ["-p", "implied", "config", "--format", "json"];
    let theirs = ok("reference config", compose(dir.path(), &args));
    let ours = ok("orch config", orch_in(dir.path(), &args));
    assert_eq!(stdout(&ours).trim_end(), stdout(&theirs).trim_end());
}
