//! Stacks on a real 3-node swarm (tests/harness/cluster.sh): `orch stack
//! deploy` against what the engines and Docker's own CLI report, and
//! registry-less image distribution. The tests share one swarm, each with
//! its own stacks and services.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use common::cluster::{ok, shared_swarm, wait_for, Cluster};
use common::*;

/// Service name → spec version, for the services of stack `ns`.
fn versions(cluster: &Cluster, ns: &str) -> BTreeMap<String, u64> {
    let out = cluster.docker(
        1,
        &[
            "service",
            "ls",
            "-q",
            "--filter",
            &format!("label=com.docker.stack.namespace={ns}"),
        ],
    );
    let mut m = BTreeMap::new();
    for id in out.split_whitespace() {
        let line = cluster.docker(
            1,
            &[
                "service",
                "inspect",
                id,
                "--format",
                "{{.Spec.Name}} {{.Version.Index}}",
            ],
        );
        let (name, v) = line.trim().split_once(' ').unwrap();
        m.insert(name.to_string(), v.parse().unwrap());
    }
    m
}

/// Running tasks of service `svc`: (node, container ID) pairs.
fn running(cluster: &Cluster, svc: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    for i in 1..=cluster.nodes.len() {
        let ids = cluster.docker(
            i,
            &[
                "ps",
                "-q",
                "--filter",
                &format!("label=com.docker.swarm.service.name={svc}"),
            ],
        );
        out.extend(ids.split_whitespace().map(|id| (i, id.to_string())));
    }
    out
}

fn copy_dir(from: &Path, to: &Path) {
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
    }
}

#[test]
fn stack_deploy_reach_redeploy_prune_and_rm() {
    let image = test_image();
    let cluster = shared_swarm(3, &[image]);
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&repo().join("examples/stack"), dir.path());
    let deploy = |env: &[(&str, &str)], extra: &[&str]| {
        let mut c = cluster.orch(1);
        c.current_dir(dir.path())
            .args(["stack", "deploy", "-c", "compose.yml"])
            .args(extra)
            .arg("st");
        for (k, v) in env {
            c.env(k, v);
        }
        ok(&mut c)
    };

    let out = deploy(&[], &[]);
    for line in [
        "Creating network st_back",
        "Creating network st_front",
        "Creating network st_default",
        "Creating secret st_token",
        "Creating service st_api",
        "Creating service st_web",
        "Creating service st_worker",
    ] {
        assert!(out.contains(line), "{line:?} in\n{out}");
    }

    // Docker's own CLI sees the stack and its services.
    let ls = cluster.docker(1, &["stack", "ls"]);
    assert!(
        ls.lines()
            .any(|l| l.split_whitespace().collect::<Vec<_>>() == ["st", "3"]),
        "{ls}"
    );
    let services = cluster.docker(1, &["stack", "services", "st", "--format", "{{.Name}} {{.Mode}}"]);
    assert_eq!(
        services.lines().collect::<Vec<_>>(),
        ["st_api replicated", "st_web replicated", "st_worker global"]
    );
    // Containers run before Swarm marks their tasks Running (a task is
    // Starting in between): wait on the state asserted below.
    let tasks_running = || {
        let ps = cluster.docker(
            1,
            &[
                "stack",
                "ps",
                "st",
                "--filter",
                "desired-state=running",
                "--format",
                "{{.CurrentState}}",
            ],
        );
        ps.lines().filter(|l| l.starts_with("Running")).count() == 8
    };
    wait_for("every task running", 60, || {
        running(cluster, "st_api").len() == 2
            && running(cluster, "st_web").len() == 3
            && running(cluster, "st_worker").len() == 3
            && tasks_running()
    });
    let ps = cluster.docker(
        1,
        &[
            "stack",
            "ps",
            "st",
            "--filter",
            "desired-state=running",
            "--format",
            "{{.Name}} {{.CurrentState}}",
        ],
    );
    assert_eq!(ps.lines().filter(|l| l.contains("Running")).count(), 8, "{ps}");
    // orch's own tables agree.
    let ps = ok(cluster.orch(1).args(["stack", "ps", "st"]));
    assert!(ps.starts_with("ID "), "{ps}");
    assert_eq!(ps.lines().filter(|l| l.contains(" Running ")).count(), 8, "{ps}");
    let svc = ok(cluster.orch(1).args(["stack", "services", "st"]));
    assert!(svc.lines().any(|l| l.contains("st_web") && l.contains("3/3")), "{svc}");
    // Placement: the api runs on workers only.
    assert!(running(cluster, "st_api").iter().all(|(node, _)| *node != 1));

    // From a web task, every api task answers by service name over the
    // overlay network, those on other nodes included.
    let (node, web) = running(cluster, "st_web").into_iter().next().unwrap();
    let dns = cluster.docker(node, &["exec", &web, "nslookup", "api"]);
    let ips: Vec<&str> = dns
        .split("Name:")
        .skip(1)
        .flat_map(|s| s.lines().filter_map(|l| l.strip_prefix("Address:")).map(str::trim))
        .collect();
    assert_eq!(ips.len(), 2, "two api tasks in DNS: {dns}");
    for ip in ips {
        // A task is Running before its server listens: give it a moment.
        let url = format!("http://{ip}/");
        wait_for(&format!("the api task at {ip}"), 30, || {
            let out = std::process::Command::new("docker")
                .args([
                    "-H",
                    &cluster.node(node).host,
                    "exec",
                    &web,
                    // busybox's wget -T crashes; its timeout applet works.
                    "timeout",
                    "5",
                    "wget",
                    "-qO-",
                    &url,
                ])
                .output()
                .unwrap();
            stdout(&out).trim() == "hello from the api"
        });
    }
    let page = cluster.docker(node, &["exec", &web, "timeout", "5", "wget", "-qO-", "http://api/"]);
    assert_eq!(page.trim(), "hello from the api");

    // Unchanged: nothing is sent, no service's version moves; the output
    // reads as docker's (an "Updating service" line per service).
    let before = versions(cluster, "st");
    let out = deploy(&[], &[]);
    assert!(!out.contains("Creating"), "{out}");
    assert!(out.contains("Updating service st_web (id: "), "{out}");
    assert_eq!(versions(cluster, "st"), before);

    // One service's environment changes: only that service updates.
    let out = deploy(&[("MODE", "green")], &[]);
    // docker's lines name every service; only st_web's version moves.
    assert!(out.contains("Updating service st_web"), "{out}");
    assert_eq!(out.matches("Updating service").count(), before.len(), "{out}");
    let after = versions(cluster, "st");
    assert_ne!(after["st_web"], before["st_web"]);
    assert_eq!(after["st_api"], before["st_api"]);
    assert_eq!(after["st_worker"], before["st_worker"]);
    let env = cluster.docker(
        1,
        &[
            "service",
            "inspect",
            "st_web",
            "--format",
            "{{.Spec.TaskTemplate.ContainerSpec.Env}}",
        ],
    );
    assert!(env.contains("MODE=green"), "{env}");

    // A service dropped from the file stays without --prune, goes with it.
    let text = std::fs::read_to_string(dir.path().join("compose.yml")).unwrap();
    let cut = text.find("  worker:").unwrap();
    let end = text.find("\nnetworks:").unwrap();
    std::fs::write(
        dir.path().join("compose.yml"),
        format!("{}{}", &text[..cut], &text[end + 1..]),
    )
    .unwrap();
    deploy(&[("MODE", "green")], &[]);
    assert!(versions(cluster, "st").contains_key("st_worker"));
    let out = deploy(&[("MODE", "green")], &["--prune"]);
    assert!(out.contains("Removing service st_worker"), "{out}");
    assert_eq!(versions(cluster, "st").keys().collect::<Vec<_>>(), ["st_api", "st_web"]);

    // stack rm: services, networks and the secret go.
    let out = ok(cluster.orch(1).args(["stack", "rm", "st"]));
    assert!(
        out.contains("Removing service st_api") && out.contains("Removing secret st_token"),
        "{out}"
    );
    let of_st = "label=com.docker.stack.namespace=st";
    assert!(cluster
        .docker(1, &["service", "ls", "-q", "--filter", of_st])
        .trim()
        .is_empty());
    assert!(cluster
        .docker(1, &["secret", "ls", "-q", "--filter", of_st])
        .trim()
        .is_empty());
    wait_for("the stack's networks removed", 30, || {
        cluster
            .docker(
                1,
                &["network", "ls", "-q", "--filter", "label=com.docker.stack.namespace=st"],
            )
            .trim()
            .is_empty()
    });

    // A stack Docker's CLI deployed: orch lists it, adopts it, removes it.
    let out = std::process::Command::new("docker")
        .args([
            "-H",
            &cluster.node(1).host,
            "stack",
            "deploy",
            "--resolve-image",
            "never",
            "-c",
            "compose.yml",
            "dk",
        ])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let ls = ok(cluster.orch(1).args(["stack", "ls"]));
    assert!(
        ls.lines()
            .any(|l| l.split_whitespace().collect::<Vec<_>>() == ["dk", "2"]),
        "{ls}"
    );
    deploy(&[], &[]); // a different stack alongside: untouched by what follows
    let mut c = cluster.orch(1);
    ok(c.current_dir(dir.path())
        .args(["stack", "deploy", "-c", "compose.yml", "dk"]));
    let v = versions(cluster, "dk");
    let mut c = cluster.orch(1);
    let out = ok(c
        .current_dir(dir.path())
        .args(["stack", "deploy", "-c", "compose.yml", "dk"]));
    // Adopted, then unchanged: nothing sent (the lines read as docker's).
    assert!(!out.contains("Creating"), "adopted, then unchanged: {out}");
    assert_eq!(versions(cluster, "dk"), v);
    ok(cluster.orch(1).args(["stack", "rm", "dk"]));
    assert!(versions(cluster, "dk").is_empty());
    assert_eq!(versions(cluster, "st").len(), 2, "stack rm dk left stack st alone");
}

#[test]
fn push_nodes_and_bad_stacks() {
    let image = test_image();
    let cluster = shared_swarm(3, &[image]);
    // node2's engine is named by its label; node3's by nothing yet.
    let label = format!("orch.engine={}", cluster.node(2).host);
    cluster.docker(1, &["node", "update", "--label-add", &label, "node2"]);
    let config = tempfile::tempdir().unwrap();
    let push = || {
        cluster
            .orch(1)
            .env("DOCKER_CONFIG", config.path())
            .args(["image", "push-nodes", "only1:v1"])
            .output()
            .unwrap()
    };

    // An image built on node1 only: push-nodes makes it run everywhere.
    let ctx = tempfile::tempdir().unwrap();
    std::fs::write(
        ctx.path().join("Dockerfile"),
        format!("FROM {image}\nCOPY hello.txt /hello.txt\n"),
    )
    .unwrap();
    std::fs::write(ctx.path().join("hello.txt"), "built on node1\n").unwrap();
    let out = std::process::Command::new("docker")
        .args(["-H", &cluster.node(1).host, "build", "-q", "-t", "only1:v1", "."])
        .env("DOCKER_BUILDKIT", "0")
        .current_dir(ctx.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let id = cluster.docker(1, &["image", "inspect", "only1:v1", "--format", "{{.Id}}"]);
    for i in 2..=3 {
        assert!(!cluster.docker(i, &["images", "-q", "only1:v1"]).contains(&id[7..19]));
    }
    // Never a guessed plaintext address: node3 is an error saying how to
    // name its engine, node2 still gets the image.
    let out = push();
    assert!(!out.status.success());
    assert!(stdout(&out).contains("node2: only1:v1 loaded"), "{}", stdout(&out));
    assert!(
        stderr(&out).contains(
            "node node3: no engine address known: give --node-host node3=URL, create a docker context named node3"
        ),
        "{}",
        stderr(&out)
    );
    // A docker context named after the node names it.
    let made = std::process::Command::new("docker")
        .env("DOCKER_CONFIG", config.path())
        .args([
            "context",
            "create",
            "node3",
            "--docker",
            &format!("host={}", cluster.node(3).host),
        ])
        .output()
        .unwrap();
    assert!(made.status.success(), "{}", stderr(&made));
    let out = push();
    assert!(out.status.success(), "{}", stderr(&out));
    let out = stdout(&out);
    assert!(
        out.contains("node2: only1:v1 already present") && out.contains("node3: only1:v1 loaded"),
        "{out}"
    );
    for i in 2..=3 {
        assert_eq!(
            cluster.docker(i, &["image", "inspect", "only1:v1", "--format", "{{.Id}}"]),
            id
        );
    }
    let out = stdout(&push());
    assert_eq!(out.matches("already present").count(), 2, "{out}");
    let out = ok(cluster.orch(1).args([
        "service",
        "create",
        "--name",
        "hello",
        "--mode",
        "global",
        "only1:v1",
        "sh",
        "-c",
        "cat /hello.txt; trap 'exit 0' TERM; while true; do sleep 1; done",
    ]));
    assert!(out.contains("verify: Service ") && out.contains(" converged"), "{out}");
    let service_ps = || {
        cluster.docker(
            1,
            &["service", "ps", "hello", "--format", "{{.Node}} {{.CurrentState}}"],
        )
    };
    let on_every_node = |ps: &str| {
        ["node1", "node2", "node3"]
            .iter()
            .all(|n| ps.lines().any(|l| l.starts_with(n) && l.contains("Running")))
    };
    // Converged means every container started; Swarm may still call a task Starting.
    wait_for("a running task on every node", 60, || on_every_node(&service_ps()));
    let ps = service_ps();
    assert!(on_every_node(&ps), "{ps}");
    // service logs: every task's line, prefixed with task and node.
    wait_for("logs from 3 tasks", 30, || {
        let logs = ok(cluster.orch(1).args(["service", "logs", "hello"]));
        ["node1", "node2", "node3"].iter().all(|n| {
            logs.lines()
                .any(|l| l.contains(&format!("@{n}")) && l.ends_with("| built on node1"))
        })
    });
    ok(cluster.orch(1).args(["service", "rm", "hello"]));

    // An invalid compose file: the loader's diagnostic, nothing created.
    let dir = tempfile::tempdir().unwrap();
    let deploy = |name: &str| {
        cluster
            .orch(1)
            .current_dir(dir.path())
            .args(["stack", "deploy", "-c", "compose.yml", name])
            .output()
            .unwrap()
    };
    std::fs::write(
        dir.path().join("compose.yml"),
        "services:\n  a:\n    image: x\n    deploy:\n      replicas: many\n",
    )
    .unwrap();
    let out = deploy("bad");
    assert!(!out.status.success());
    assert!(stderr(&out).contains("compose.yml:5:"), "{}", stderr(&out));
    // A file the engine refuses half-way (a malformed constraint on one
    // service): what this deploy created is removed again and reported.
    std::fs::write(
        dir.path().join("compose.yml"),
        format!(
            "services:\n  a:\n    image: {image}\n    command: [sleep, '1000']\n  b:\n    image: {image}\n    deploy:\n      placement:\n        constraints: ['node.role === manager']\n"
        ),
    )
    .unwrap();
    let out = deploy("bad");
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("service create bad_b") && err.contains("removed what this deploy had created"),
        "{err}"
    );
    let of_bad = "label=com.docker.stack.namespace=bad";
    assert!(cluster
        .docker(1, &["service", "ls", "-q", "--filter", of_bad])
        .trim()
        .is_empty());
    wait_for("no network of stack bad", 30, || {
        cluster
            .docker(
                1,
                &[
                    "network",
                    "ls",
                    "-q",
                    "--filter",
                    "label=com.docker.stack.namespace=bad",
                ],
            )
            .trim()
            .is_empty()
    });
    // A bad stack name is refused before anything is sent.
    let out = deploy("bad.1");
    assert!(!out.status.success());
    assert!(stderr(&out).contains("invalid stack name"), "{}", stderr(&out));
}

/// `stack config` beside `docker stack config` (client side only, no
/// engine): the same exit code and stdout for merged, interpolated stack
/// files in docker's v3 shape, and docker's one-line refusals of keys its
/// loader does not take.
#[test]
fn stack_config_as_docker() {
    let dir = repo().join("tests/fixtures/stack_config");
    #[rustfmt::skip]
    let cases: &[&[&str]] = &[
        &["basic.yml"], &["many-keys.yml"], &["base.yml", "override.yml"], &["no-version.yml"],
        &["forbidden.yml"], &["compose-only-keys.yml"], &["top-level-name.yml"],
        &["base.yml", "no-version.yml"], &[], &["base.yml,override.yml"], &["nonexistent.yml"],
    ];
    // The differential suite's compose files (their docker errors are
    // one each: docker picks at random among equally deep ones).
    let scenarios = repo().join("tests/differential/scenarios");
    #[rustfmt::skip]
    let theirs_too = [
        "mounts-binds/compose.yaml", "mounts-volumes/compose.yaml", "process-keys/compose.v2.yaml",
        "links-keys/compose.yaml", "healthcheck-forms/compose.yaml", "fault-required-var/compose.yaml",
        "host-keys/compose.yaml", "env-file-raw/compose.yaml", "mounts-tmpfs/compose.yaml",
        "fault-extends-cycle/compose.yaml",
    ];
    let paths: Vec<String> = theirs_too
        .iter()
        .map(|f| scenarios.join(f).display().to_string())
        .collect();
    let more: Vec<[&str; 1]> = paths.iter().map(|p| [p.as_str()]).collect();
    let cases: Vec<&[&str]> = cases.iter().copied().chain(more.iter().map(|c| &c[..])).collect();
    for files in &cases {
        let mut args = vec!["stack", "config"];
        for f in *files {
            args.extend(["-c", f]);
        }
        let theirs = std::process::Command::new("docker")
            .args(&args)
            .current_dir(&dir)
            .output()
            .unwrap();
        let mine = orch().args(&args).current_dir(&dir).output().unwrap();
        assert_eq!(mine.status.code(), theirs.status.code(), "{files:?}: {}", stderr(&mine));
        assert_eq!(stdout(&mine), stdout(&theirs), "{files:?}");
        // The error is docker's last line (its loader may log warnings first).
        if !theirs.status.success() {
            let last = |o| stderr(o).trim().lines().last().map(str::to_string);
            assert_eq!(last(&mine), last(&theirs), "{files:?}: {}", stderr(&mine));
        }
    }
    // `-` reads the file from stdin, as docker does.
    let piped = |cmd: &mut std::process::Command| {
        let file = std::fs::File::open(dir.join("override.yml")).unwrap();
        stdout(
            &cmd.args(["stack", "config", "-c", "-"])
                .current_dir(&dir)
                .stdin(file)
                .output()
                .unwrap(),
        )
    };
    assert_eq!(piped(&mut orch()), piped(&mut std::process::Command::new("docker")));
}
