//! Swarm mode on a real 3-node cluster (tests/harness/cluster.sh): orch's
//! swarm, node and service commands against what the engines report.

#[path = "swarm/autolock.rs"]
mod autolock;
#[path = "swarm/ca.rs"]
mod ca;
mod common;
#[path = "swarm/jobs.rs"]
mod jobs;
#[path = "swarm/objects.rs"]
mod objects;
#[path = "swarm/registry_auth.rs"]
mod registry_auth;
#[path = "swarm/tasks.rs"]
mod tasks;

use std::time::Instant;

use common::cluster::{ok, wait_for, Cluster};
use common::*;

const LOOP: &str = "trap 'exit 0' TERM; while true; do sleep 1; done";

/// Running tasks of `service` per node hostname.
fn spread(cluster: &Cluster, service: &str) -> std::collections::BTreeMap<String, usize> {
    let mut m = std::collections::BTreeMap::new();
    let out = cluster.docker(
        1,
        &[
            "service",
            "ps",
            service,
            "--filter",
            "desired-state=running",
            "--format",
            "{{.Node}} {{.CurrentState}}",
        ],
    );
    for line in out.lines() {
        let mut parts = line.split_whitespace();
        let (node, state) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
        if state == "Running" {
            *m.entry(node.to_string()).or_default() += 1;
        }
    }
    m
}

#[test]
fn swarm_nodes_services_drain_and_node_loss() {
    let image = test_image();
    let cluster = Cluster::start(3, &[image]);

    // init on node1, join 2 and 3 with the worker token.
    // With docker's swarm settings; node2 makes a swarm of its own with
    // docker's CLI and the same flags, and both specs must be equal (then
    // node2 leaves it, to join node1's).
    #[rustfmt::skip]
    let settings = [
        "--task-history-limit", "4", "--dispatcher-heartbeat", "7s", "--cert-expiry", "100h",
        "--max-snapshots", "2", "--snapshot-interval", "5000", "--default-addr-pool",
        "10.230.0.0/16", "--default-addr-pool-mask-length", "26", "--data-path-port", "4790",
    ];
    let init = ok(cluster
        .orch(1)
        .args(["swarm", "init", "--advertise-addr", &cluster.node(1).ip])
        .args(settings));
    assert!(init.contains("Swarm initialized"), "{init}");
    let mut args = vec!["swarm", "init", "--advertise-addr", &cluster.node(2).ip];
    args.extend_from_slice(&settings);
    let docker_init = cluster.docker(2, &args);
    // docker's text, with its node ID, token and address, and the tool's
    // name in the commands it suggests (orch names itself).
    let words = |text: &str, ip: &str| -> String {
        let text = text.replace(ip, "ADDR").replace("orch swarm", "docker swarm");
        let word = |w: &str| match w {
            w if w.starts_with("SWMTKN-") => "TOKEN".to_string(),
            w if w.starts_with('(') && w.ends_with(')') => "(ID)".to_string(),
            w => w.to_string(),
        };
        text.lines()
            .map(|l| l.split(' ').map(word).collect::<Vec<_>>().join(" "))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(
        words(&init, &cluster.node(1).ip),
        words(&docker_init, &cluster.node(2).ip)
    );
    let cluster_spec = |i: usize| {
        cluster.docker(
            i,
            &["info", "--format", "{{json .Swarm.Cluster.Spec}} {{json .Swarm.Cluster.DefaultAddrPool}} {{.Swarm.Cluster.SubnetSize}} {{.Swarm.Cluster.DataPathPort}}"],
        )
    };
    assert_eq!(cluster_spec(1), cluster_spec(2), "orch swarm init vs docker swarm init");
    ok(cluster.orch(1).args([
        "swarm",
        "update",
        "--task-history-limit",
        "6",
        "--snapshot-interval",
        "9000",
    ]));
    cluster.docker(
        2,
        &[
            "swarm",
            "update",
            "--task-history-limit",
            "6",
            "--snapshot-interval",
            "9000",
        ],
    );
    assert_eq!(
        cluster_spec(1),
        cluster_spec(2),
        "orch swarm update vs docker swarm update"
    );
    let rotated = ok(cluster.orch(1).args(["swarm", "join-token", "--rotate", "manager"]));
    assert!(
        rotated.starts_with("Successfully rotated manager join token.\n\n"),
        "{rotated}"
    );
    let docker_leave = cluster.docker(2, &["swarm", "leave", "--force"]);
    secrets_as_docker(&cluster);

    // swarm::update: a spec change and a token rotation, as the engine reports.
    let before = ok(cluster.orch(1).args(["swarm", "join-token", "-q", "worker"]));
    let (_dir, update) = script(
        "let spec = swarm::inspect().Spec;\n\
         spec.Orchestration.TaskHistoryRetentionLimit = 3;\n\
         swarm::update(spec, #{ rotate_worker_token: true });\n",
    );
    ok(cluster.orch(1).arg("run").arg(&update));
    let limit = cluster.docker(
        1,
        &[
            "info",
            "-f",
            "{{.Swarm.Cluster.Spec.Orchestration.TaskHistoryRetentionLimit}}",
        ],
    );
    assert_eq!(limit.trim(), "3");
    let token = ok(cluster.orch(1).args(["swarm", "join-token", "-q", "worker"]));
    assert_ne!(token, before, "the worker token was rotated");
    let token = token.trim();
    assert!(token.starts_with("SWMTKN-"), "{token}");
    let manager = format!("{}:2377", cluster.node(1).ip);

    // A wrong token: a clear error, and the node stays out of the swarm.
    let bad = cluster
        .orch(2)
        .args(["swarm", "join", "--token", "SWMTKN-1-wrong", &manager])
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(stderr(&bad).contains("swarm join"), "{}", stderr(&bad));
    assert!(cluster.docker(2, &["info", "-f", "{{.Swarm.LocalNodeState}}"]).trim() == "inactive");

    // node2 joins with orch, node3 with docker: the same words.
    let joined = ok(cluster.orch(2).args(["swarm", "join", "--token", token, &manager]));
    assert_eq!(
        joined,
        cluster.docker(3, &["swarm", "join", "--token", token, &manager])
    );
    assert!(joined.contains("joined a swarm as a worker"), "{joined}");
    // Joined paused (`--availability`), then made active.
    let left = ok(cluster.orch(2).args(["swarm", "leave", "--force"]));
    assert_eq!(left, docker_leave);
    wait_for("node2 down", 60, || cluster.docker(1, &["node", "ls"]).contains("Down"));
    ok(cluster.orch(1).args(["node", "rm", "node2"]));
    ok(cluster
        .orch(2)
        .args(["swarm", "join", "--availability", "pause", "--token", token, &manager]));
    let spec = cluster.docker(1, &["node", "inspect", "-f", "{{.Spec.Availability}}", "node2"]);
    assert_eq!(spec.trim(), "pause");
    ok(cluster
        .orch(1)
        .args(["node", "update", "--availability", "active", "node2"]));
    let ls = ok(cluster.orch(1).args(["node", "ls"]));
    let lines: Vec<&str> = ls.lines().collect();
    assert_eq!(
        lines[0].split_whitespace().collect::<Vec<_>>(),
        [
            "ID",
            "HOSTNAME",
            "STATUS",
            "AVAILABILITY",
            "MANAGER",
            "STATUS",
            "ENGINE",
            "VERSION"
        ]
    );
    assert_eq!(lines.len(), 4, "{ls}");
    for (i, line) in lines[1..].iter().enumerate() {
        assert!(line.contains(&format!("node{}", i + 1)), "{ls}");
        assert!(line.contains("Ready") && line.contains("Active"), "{ls}");
    }
    assert!(
        lines[1].contains(" * ") && lines[1].contains("Leader"),
        "node1 is the leader: {ls}"
    );
    // The same table Docker's CLI prints.
    assert_eq!(ls.trim_end(), cluster.docker(1, &["node", "ls"]).trim_end());

    // 6 replicas converge 2 per node; scale 2, then 4.
    let out = ok(cluster.orch(1).args([
        "service",
        "create",
        "--replicas",
        "6",
        "--name",
        "web",
        image,
        "sh",
        "-c",
        LOOP,
    ]));
    assert!(out.contains("verify: Service ") && out.contains(" converged"), "{out}");
    // docker's stability check: the tasks must stay up for the update
    // monitor period (5 s by default) before the service counts.
    assert!(
        out.contains("verify: Waiting 5 seconds to verify that tasks are stable..."),
        "{out}"
    );
    assert_eq!(spread(&cluster, "web").values().copied().collect::<Vec<_>>(), [2, 2, 2]);
    for n in ["2", "4"] {
        let out = ok(cluster.orch(1).args(["service", "scale", &format!("web={n}")]));
        assert!(out.contains("verify: Service ") && out.contains(" converged"), "{out}");
        wait_for("scale", 30, || {
            spread(&cluster, "web").values().sum::<usize>() == n.parse::<usize>().unwrap()
        });
    }
    let ls = ok(cluster.orch(1).args(["service", "ls"]));
    assert!(ls.lines().nth(1).unwrap().contains("4/4"), "{ls}");

    // Scaling with an unknown name: as docker, the others are scaled (and
    // waited for), then the unknown one is reported and the exit is 1.
    let bad = cluster
        .orch(1)
        .args(["service", "scale", "web=5", "nope=2"])
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(stderr(&bad).contains("nope"), "{}", stderr(&bad));
    assert!(stdout(&bad).contains("web scaled to 5"), "{}", stdout(&bad));
    assert_eq!(spread(&cluster, "web").values().sum::<usize>(), 5);

    // Drain node3: its tasks move; active again lets new ones land there.
    ok(cluster
        .orch(1)
        .args(["node", "update", "--availability", "drain", "node3"]));
    wait_for("node3 drained", 60, || {
        let s = spread(&cluster, "web");
        !s.contains_key("node3") && s.values().sum::<usize>() == 5
    });
    ok(cluster
        .orch(1)
        .args(["node", "update", "--availability", "active", "node3"]));
    ok(cluster.orch(1).args(["service", "scale", "web=6"]));
    wait_for("tasks on node3 again", 60, || {
        spread(&cluster, "web").contains_key("node3")
    });

    // service ps: the drained tasks stay as history rows under their
    // slot, marked ` \_ ` as docker prints them (compared by ID and NAME
    // column; the other columns tick with time).
    let names = |table: String| -> Vec<(String, String)> {
        let header = table.lines().next().unwrap_or_default().to_string();
        let (from, to) = (header.find("NAME").unwrap(), header.find("IMAGE").unwrap());
        table
            .lines()
            .skip(1)
            .map(|l| (l[..12].to_string(), l[from..to].trim_end().to_string()))
            .collect()
    };
    let mut seen = (Vec::new(), Vec::new());
    let same = (0..30).any(|_| {
        let mine = names(ok(cluster.orch(1).args(["service", "ps", "web"])));
        let theirs = names(cluster.docker(1, &["service", "ps", "web"]));
        seen = (mine, theirs);
        seen.0 == seen.1 || {
            std::thread::sleep(std::time::Duration::from_secs(1));
            false
        }
    });
    assert!(same, "orch vs docker service ps: {seen:?}");
    assert!(seen.0.iter().any(|(_, n)| n.starts_with(" \\_ web.")), "{seen:?}");
    // A task no node can take (Pending, no node, docker's quoted and cut
    // error), desired-state filters, and node ps/inspect of `self`.
    cluster.docker(
        1,
        &[
            "service",
            "create",
            "-d",
            "--name",
            "pend",
            "--no-resolve-image",
            "--constraint",
            "node.labels.nope==1",
            image,
            "sh",
            "-c",
            LOOP,
        ],
    );
    for args in [
        &["service", "ps", "pend"][..],
        &["service", "ps", "-f", "desired-state=shutdown", "web"],
        &["service", "ps", "--no-trunc", "-f", "desired-state=running", "web"],
        &["node", "ps", "self"],
        &["node", "ps", "-q", "self"],
        &[
            "service",
            "inspect",
            "-f",
            "{{.Spec.Name}} {{.Spec.Mode.Replicated.Replicas}}",
            "web",
            "pend",
        ],
        &[
            "node",
            "inspect",
            "--format",
            "{{.Description.Hostname}} {{.Spec.Role}}",
            "self",
            "node3",
        ],
    ] {
        same_table_as_docker(&cluster, args);
    }
    let me = ok(cluster.orch(1).args(["node", "inspect", "self"]));
    assert!(
        me.contains(
            &cluster
                .docker(1, &["info", "--format", "{{.Swarm.NodeID}}"])
                .trim()
                .to_string()
        ),
        "{me}"
    );
    cluster.docker(1, &["service", "rm", "pend"]);
    service_logs_as_docker(&cluster, image);

    // Lose node2's engine: full count on the others within 60 s; node2 Down.
    let t = Instant::now();
    cluster.kill(2);
    wait_for("6 replicas without node2", 60, || {
        let s = spread(&cluster, "web");
        !s.contains_key("node2") && s.values().sum::<usize>() == 6
    });
    eprintln!("recovered in {:.1}s", t.elapsed().as_secs_f64());
    wait_for("node2 Down", 60, || {
        ok(cluster.orch(1).args(["node", "ls"]))
            .lines()
            .any(|l| l.contains("node2") && l.contains("Down"))
    });

    let out = ok(cluster.orch(1).args(["service", "rm", "web"]));
    assert_eq!(out.trim(), "web");
    assert!(cluster.docker(1, &["service", "ls", "-q"]).trim().is_empty());
}

/// `secret create|ls|inspect|rm` beside docker's on the same swarm.
fn secrets_as_docker(cluster: &Cluster) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("s.txt");
    std::fs::write(&file, "s3cret").unwrap();
    let file = file.to_string_lossy().into_owned();
    let id = ok(cluster
        .orch(1)
        .args(["secret", "create", "-l", "b=2", "-l", "a=1", "sec-o", &file]));
    cluster.docker(1, &["secret", "create", "-l", "b=2", "-l", "a=1", "sec-d", &file]);
    assert_eq!(id.trim().len(), 25, "{id}");
    let rows = |out: String| -> Vec<serde_json::Value> {
        out.lines()
            .map(|l| {
                let mut v: serde_json::Value = serde_json::from_str(l).unwrap();
                for k in ["CreatedAt", "UpdatedAt"] {
                    v.as_object_mut().unwrap().remove(k);
                }
                // docker joins the labels from a Go map: any order.
                let mut labels: Vec<&str> = v["Labels"].as_str().unwrap_or("").split(',').collect();
                labels.sort();
                v["Labels"] = labels.join(",").into();
                v
            })
            .collect()
    };
    let mine = rows(ok(cluster.orch(1).args(["secret", "ls", "--format", "json"])));
    assert_eq!(mine, rows(cluster.docker(1, &["secret", "ls", "--format", "json"])));
    assert_eq!(mine.len(), 2, "{mine:?}");
    assert_eq!(
        ok(cluster.orch(1).args(["secret", "inspect", "sec-o", "sec-d"])),
        cluster.docker(1, &["secret", "inspect", "sec-o", "sec-d"])
    );
    let rm = cluster
        .orch(1)
        .args(["secret", "rm", "sec-o", "nope"])
        .output()
        .unwrap();
    assert_eq!(rm.status.code(), Some(1), "{}", stderr(&rm));
    assert_eq!(stdout(&rm).trim(), "sec-o");
    assert!(stderr(&rm).contains("nope"), "{}", stderr(&rm));
    assert_eq!(
        ok(cluster.orch(1).args(["secret", "ls", "-q"])).trim(),
        cluster.docker(1, &["secret", "ls", "-q"]).trim()
    );
    cluster.docker(1, &["secret", "rm", "sec-d"]);
}

/// `orch ARGS` prints docker's table (lines compared without trailing
/// blanks, asked again while a time column ticks between the two calls).
fn same_table_as_docker(cluster: &Cluster, args: &[&str]) {
    let lines = |t: String| -> Vec<String> { t.lines().map(|l| l.trim_end().to_string()).collect() };
    let mut seen = (Vec::new(), Vec::new());
    for _ in 0..10 {
        seen = (lines(ok(cluster.orch(1).args(args))), lines(cluster.docker(1, args)));
        if seen.0 == seen.1 {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(700));
    }
    panic!("orch {args:?} vs docker:\n{:#?}", seen);
}

/// `service logs`: `--since` as a duration, stderr kept apart, a task ID
/// for a service, and `-f` following a task that starts later.
fn service_logs_as_docker(cluster: &Cluster, image: &str) {
    let script = "trap 'exit 0' TERM; i=0; while true; do echo out$i; echo err$i >&2; i=$((i+1)); sleep 0.3; done";
    cluster.docker(
        1,
        &[
            "service",
            "create",
            "-d",
            "--name",
            "lg",
            "--no-resolve-image",
            image,
            "sh",
            "-c",
            script,
        ],
    );
    wait_for("lg logs", 60, || {
        cluster.docker(1, &["service", "logs", "lg"]).contains("out2")
    });
    let out = cluster
        .orch(1)
        .args(["service", "logs", "--since", "1h", "lg"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let (o, e) = (stdout(&out), stderr(&out));
    assert!(o.contains("| out0") && !o.contains("| err0"), "{o}");
    assert!(e.contains("| err0") && !e.contains("| out0"), "{e}");
    let task = cluster.docker(1, &["service", "ps", "-q", "lg"]);
    let by_task = ok(cluster.orch(1).args(["service", "logs", task.trim()]));
    assert!(
        by_task
            .lines()
            .next()
            .is_some_and(|l| l.starts_with("lg.1.") && l.ends_with("| out0")),
        "{by_task}"
    );
    let mut follow = cluster
        .orch(1)
        .args(["service", "logs", "-f", "--tail", "1", "lg"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_secs(2));
    cluster.docker(1, &["service", "scale", "-d", "lg=2"]);
    let reader = std::io::BufReader::new(follow.stdout.take().unwrap());
    let started = std::time::Instant::now();
    let mut found = false;
    for line in std::io::BufRead::lines(reader) {
        if line.unwrap_or_default().starts_with("lg.2.") {
            found = true;
            break;
        }
        if started.elapsed() > std::time::Duration::from_secs(60) {
            break;
        }
    }
    let _ = follow.kill();
    let _ = follow.wait();
    assert!(found, "logs -f did not show the task started later");
    cluster.docker(1, &["service", "rm", "lg"]);
}
