//! Swarm jobs (`--mode replicated-job|global-job`, `--max-concurrent`)
//! beside docker's on the shared swarm: the spec sent, the progress
//! printed until the job completes, and `service ls|ps` of jobs.

use crate::common::cluster::{ok, shared_swarm};
use crate::common::*;

#[test]
fn jobs_as_docker() {
    let image = test_image();
    let cluster = shared_swarm(3, &[image]);
    let job = ["--mode", "replicated-job", "--replicas", "3", "--max-concurrent", "2"];
    let run = [image, "sh", "-c", "sleep 1"];
    let mine = ok(cluster
        .orch(1)
        .args(["service", "create", "--name", "jb-o"])
        .args(job)
        .args(run));
    let theirs = cluster.docker(
        1,
        &[
            &["service", "create", "--no-resolve-image", "--name", "jb-d"][..],
            &job,
            &run,
        ]
        .concat(),
    );
    // The ID, docker's first lines (the active tasks, a line per slot),
    // and its last: each line orch prints is one docker printed.
    let (mine, theirs): (Vec<&str>, Vec<&str>) = (mine.lines().collect(), theirs.lines().collect());
    assert_eq!(mine[1..5], theirs[1..5], "{mine:#?} vs {theirs:#?}");
    assert_eq!(mine.last(), Some(&"job complete"), "{mine:#?}");
    assert_eq!(theirs.last(), Some(&"job complete"), "{theirs:#?}");
    assert!(mine[1..].iter().all(|l| theirs.contains(l)), "{mine:#?} vs {theirs:#?}");
    let mode = |name: &str| cluster.docker(1, &["service", "inspect", "-f", "{{json .Spec.Mode}}", name]);
    assert_eq!(mode("jb-o"), mode("jb-d"));
    assert_eq!(
        mode("jb-o").trim(),
        r#"{"ReplicatedJob":{"MaxConcurrent":2,"TotalCompletions":3}}"#
    );
    let global = ok(cluster
        .orch(1)
        .args(["service", "create", "--mode", "global-job", "--name", "jb-g"])
        .args(run));
    assert!(global.ends_with("\njob complete\n"), "{global}");
    for args in [
        &["service", "ls", "-f", "name=jb-"][..],
        &["service", "ps", "jb-o", "jb-g"],
    ] {
        super::same_table_as_docker(cluster, args);
    }
    #[rustfmt::skip]
    let failures: &[&[&str]] = &[
        &["service", "create", "-d", "--mode", "global-job", "--replicas", "2", image][..],
        &["service", "create", "-d", "--mode", "replicated", "--max-concurrent", "2", image],
        &["service", "create", "-d", "--mode", "replicated-job", "--update-delay", "1s", image],
        &["service", "create", "-d", "--mode", "bogus", image],
        &["service", "update", "-d", "--replicas", "2", "jb-o"],
    ];
    for args in failures {
        super::objects::same_failure_as_docker(cluster, args);
    }
    cluster.docker(1, &["service", "rm", "jb-o", "jb-d", "jb-g"]);
}
