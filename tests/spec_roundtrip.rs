//! Swarm specs lose nothing, on a real 3-node swarm (one cluster for this
//! binary): services made by `orch stack deploy` and by `docker service
//! create`, each with every `deploy:`/`healthcheck`/`update_config`/
//! `rollback_config` setting, go through every orch command that should
//! change one field or none, and `docker service inspect` must show every
//! other field of `Spec` unchanged. Also: orch's stack spec against
//! `docker stack deploy`'s, the update/rollback/health flags against what
//! `docker service create|update` store, and a rollback by Swarm when
//! `orch service update --image` brings an unhealthy image.

mod common;
#[path = "spec_roundtrip/flags.rs"]
mod flags;

use std::process::Command;

use common::cluster::{ok, wait_for, Cluster};
use common::*;
use serde_json::Value;

const LOOP: &str = "trap 'exit 0' TERM; while true; do sleep 1; done";

/// Every `deploy:` key a replicated service can have, a healthcheck, and a
/// canary whose healthcheck fails on the `:bad` image.
const COMPOSE: &str = r#"
services:
  web:
    image: orch-test/busybox
    command: ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"]
    environment:
      MODE: "1"
    labels:
      app: web
    stop_grace_period: 3s
    healthcheck:
      test: ["CMD-SHELL", "test ! -e /bad"]
      interval: 2s
      timeout: 1s
      retries: 2
      start_period: 1s
    deploy:
      mode: replicated
      replicas: 2
      endpoint_mode: dnsrr
      labels:
        tier: front
      resources:
        limits: { cpus: "0.5", memory: 64M, pids: 100 }
        reservations: { cpus: "0.1", memory: 8M }
      restart_policy: { condition: on-failure, delay: 2s, max_attempts: 5, window: 30s }
      placement:
        constraints: ["node.role != manager"]
        preferences: [{ spread: node.hostname }]
        max_replicas_per_node: 2
      update_config:
        { parallelism: 2, delay: 1s, failure_action: rollback, monitor: 3s, max_failure_ratio: 0.5, order: start-first }
      rollback_config:
        { parallelism: 1, delay: 500ms, failure_action: continue, monitor: 2s, max_failure_ratio: 0.25, order: stop-first }
  canary:
    image: orch-test/busybox # canary
    command: ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"]
    healthcheck:
      test: ["CMD-SHELL", "test ! -e /bad"]
      interval: 1s
      timeout: 1s
      retries: 1
    deploy:
      replicas: 2
      endpoint_mode: dnsrr
      update_config: { parallelism: 1, failure_action: rollback, monitor: 10s, order: stop-first }
      rollback_config: { parallelism: 0, order: stop-first }
"#;

/// `docker service create` flags covering the same ground.
#[rustfmt::skip]
const DOCKER_FLAGS: &[&str] = &[
    "--replicas", "2", "--mode", "replicated", "--endpoint-mode", "dnsrr", "--env", "A=1",
    "--label", "l=1", "--container-label", "c=1", "--constraint", "node.role!=manager",
    "--placement-pref", "spread=node.hostname", "--replicas-max-per-node", "2", "--limit-cpu",
    "0.5", "--limit-memory", "64M", "--limit-pids", "100", "--reserve-cpu", "0.1",
    "--reserve-memory", "8M", "--restart-condition", "on-failure", "--restart-delay", "2s",
    "--restart-max-attempts", "5", "--restart-window", "30s", "--stop-grace-period", "3s",
    "--stop-signal", "SIGUSR1", "--hostname", "h", "--workdir", "/tmp", "--user", "0",
    "--read-only", "--init", "--dns", "10.0.0.2", "--dns-search", "example.org", "--dns-option",
    "ndots:2", "--host", "h1:10.0.0.3", "--mount", "type=tmpfs,target=/scratch,tmpfs-size=1m",
    "--sysctl", "net.core.somaxconn=1024", "--cap-add", "NET_ADMIN", "--cap-drop", "CHOWN",
    "--update-parallelism", "2", "--update-delay", "1s", "--update-failure-action", "rollback",
    "--update-monitor", "3s", "--update-max-failure-ratio", "0.5", "--update-order", "start-first",
    "--rollback-parallelism", "1", "--rollback-delay", "500ms", "--rollback-failure-action",
    "continue", "--rollback-monitor", "2s", "--rollback-max-failure-ratio", "0.25",
    "--rollback-order", "stop-first", "--health-cmd", "test ! -e /bad", "--health-interval", "2s",
    "--health-timeout", "1s", "--health-retries", "2", "--health-start-period", "1s",
    "--log-driver", "json-file", "--log-opt", "max-size=1m", "--group", "100",
];

/// `docker service inspect NAME` (the object, not the list).
fn inspect(c: &Cluster, name: &str) -> Value {
    let out = c.docker(1, &["service", "inspect", name]);
    let v: Value = serde_json::from_str(&out).unwrap();
    v[0].clone()
}

fn zero(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Bool(b) => !b,
        Value::Number(n) => n.as_f64() == Some(0.0),
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.values().all(zero),
    }
}

/// Paths where `a` and `b` differ (a missing key counts as its zero value,
/// as Go's `omitempty` prints it).
fn diffs(a: &Value, b: &Value, path: &str, out: &mut Vec<String>) {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let mut keys: Vec<&String> = x.keys().chain(y.keys()).collect();
            keys.sort();
            keys.dedup();
            for k in keys {
                let null = Value::Null;
                diffs(
                    x.get(k).unwrap_or(&null),
                    y.get(k).unwrap_or(&null),
                    &format!("{path}.{k}"),
                    out,
                );
            }
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            for (i, (v, w)) in x.iter().zip(y).enumerate() {
                diffs(v, w, &format!("{path}[{i}]"), out);
            }
        }
        (Value::Number(x), Value::Number(y)) if x.as_f64() == y.as_f64() => {}
        (x, y) if zero(x) && zero(y) => {}
        (x, y) if x != y => out.push(format!("{path}: {x} -> {y}")),
        _ => {}
    }
}

/// Asserts `after` differs from `before` only under the `allowed` paths.
fn only_changed(what: &str, before: &Value, after: &Value, allowed: &[&str]) {
    let mut d = Vec::new();
    diffs(before, after, "", &mut d);
    let bad: Vec<&String> = d
        .iter()
        .filter(|p| {
            !allowed
                .iter()
                .any(|a| p.starts_with(&format!("{a}:")) || p.starts_with(&format!("{a}.")))
        })
        .collect();
    assert!(bad.is_empty(), "{what} changed more than {allowed:?}:\n{bad:#?}");
}

/// Runs a Rhai script with orch against node 1; `NAME` is the service.
fn run(c: &Cluster, name: &str, body: &str) -> String {
    let (_dir, path) = script(&format!("let NAME = \"{name}\";\n{body}"));
    ok(c.orch(1).arg("run").arg(&path))
}

/// Tags `:v2` and builds `:bad` (a file that fails the healthcheck) on
/// every node's engine.
fn images(c: &Cluster) {
    for i in 1..=c.nodes.len() {
        c.docker(i, &["tag", "orch-test/busybox:latest", "orch-test/busybox:v2"]);
        let mut build = Command::new("docker");
        build
            .args(["-H", &c.node(i).host, "build", "-q", "-t", "orch-test/busybox:bad", "-"])
            .env("DOCKER_BUILDKIT", "0")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        let mut child = build.spawn().unwrap();
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(b"FROM orch-test/busybox\nRUN [\"/bin/touch\", \"/bad\"]\n")
            .unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "build :bad on node{i}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// The commands that change one field, or none, on service `name`.
fn round_trip(c: &Cluster, name: &str) {
    let base = inspect(c, name);
    // inspect is lossless: orch's map is docker's object, field for field.
    let orch_view: Value = serde_json::from_str(&run(c, name, "print(to_json(service::inspect(NAME)));")).unwrap();
    only_changed(&format!("{name}: service::inspect"), &base, &orch_view, &[]);

    // inspect → update unchanged: nothing sent, nothing changed.
    let out = run(
        c,
        name,
        "print(service::update(NAME, service::inspect(NAME).Spec).changed);",
    );
    assert_eq!(out.trim(), "false", "{name}: an unchanged spec is not sent");
    let after = inspect(c, name);
    assert_eq!(after["Version"], base["Version"], "{name}: no update was sent");

    // inspect → change one field → update: only that field changed, and
    // the spec before is the PreviousSpec.
    run(
        c,
        name,
        "let s = service::inspect(NAME).Spec;\n\
         s.TaskTemplate.ContainerSpec.Env.push(\"ROUNDTRIP=1\");\n\
         if !service::update(NAME, s).changed { throw \"not sent\"; }",
    );
    let after = inspect(c, name);
    only_changed(
        &format!("{name}: Env change"),
        &base["Spec"],
        &after["Spec"],
        &[".TaskTemplate.ContainerSpec.Env"],
    );
    only_changed(
        &format!("{name}: PreviousSpec"),
        &base["Spec"],
        &after["PreviousSpec"],
        &[],
    );
    let orch_view: Value = serde_json::from_str(&run(c, name, "print(to_json(service::inspect(NAME)));")).unwrap();
    assert!(
        orch_view["PreviousSpec"].is_object(),
        "{name}: service::inspect has PreviousSpec"
    );
    // Read a moment apart while Swarm's updater runs: its bookkeeping
    // (UpdateStatus, UpdatedAt, Version) may move in between; the rest
    // must be docker's object field for field.
    only_changed(
        &format!("{name}: service::inspect after update"),
        &after,
        &orch_view,
        &[".UpdateStatus", ".UpdatedAt", ".Version"],
    );

    // orch service scale: only the replicas.
    let before = after;
    ok(c.orch(1).args(["service", "scale", "-d", &format!("{name}=3")]));
    let after = inspect(c, name);
    only_changed(
        &format!("{name}: scale"),
        &before["Spec"],
        &after["Spec"],
        &[".Mode.Replicated.Replicas"],
    );
    assert_eq!(after["Spec"]["Mode"]["Replicated"]["Replicas"], 3);

    // orch service update --image: only the image.
    let before = after;
    ok(c.orch(1)
        .args(["service", "update", "-d", "--image", "orch-test/busybox:v2", name]));
    let after = inspect(c, name);
    only_changed(
        &format!("{name}: update --image"),
        &before["Spec"],
        &after["Spec"],
        &[".TaskTemplate.ContainerSpec.Image"],
    );
    assert_eq!(
        after["Spec"]["TaskTemplate"]["ContainerSpec"]["Image"],
        "orch-test/busybox:v2"
    );

    // orch service rollback: exactly the spec before the image update.
    ok(c.orch(1).args(["service", "rollback", "-d", name]));
    // The engine moves the version while a rollback progresses: compare
    // versions once it has completed.
    wait_for(&format!("{name}: rollback completed"), 120, || {
        inspect(c, name)["UpdateStatus"]["State"] == "rollback_completed"
    });
    let rolled = inspect(c, name);
    only_changed(&format!("{name}: rollback"), &before["Spec"], &rolled["Spec"], &[]);

    // orch service update with nothing to change: says so, sends nothing.
    let out = c.orch(1).args(["service", "update", "-d", name]).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("nothing to update"), "{}", stderr(&out));
    assert_eq!(inspect(c, name)["Version"], rolled["Version"], "{name}: nothing sent");
}

/// The property: `service::inspect` → change one field → `service::update`
/// changes that field and nothing else, for fields all over the spec.
fn one_field_each(c: &Cluster, name: &str) {
    let changes = [
        (
            "s.TaskTemplate.ContainerSpec.Healthcheck.Retries = 5;",
            ".TaskTemplate.ContainerSpec.Healthcheck.Retries",
        ),
        ("s.UpdateConfig.Delay = 2000000000;", ".UpdateConfig.Delay"),
        (
            "s.UpdateConfig.MaxFailureRatio = 0.75;",
            ".UpdateConfig.MaxFailureRatio",
        ),
        ("s.RollbackConfig.Order = \"start-first\";", ".RollbackConfig.Order"),
        (
            "s.TaskTemplate.Placement.MaxReplicas = 3;",
            ".TaskTemplate.Placement.MaxReplicas",
        ),
        (
            "s.TaskTemplate.RestartPolicy.MaxAttempts = 7;",
            ".TaskTemplate.RestartPolicy.MaxAttempts",
        ),
        (
            "s.TaskTemplate.Resources.Limits.Pids = 200;",
            ".TaskTemplate.Resources.Limits.Pids",
        ),
        (
            "s.TaskTemplate.ContainerSpec.StopGracePeriod = 4000000000;",
            ".TaskTemplate.ContainerSpec.StopGracePeriod",
        ),
        ("s.Labels.extra = \"1\";", ".Labels.extra"),
    ];
    for (change, path) in changes {
        let before = inspect(c, name);
        run(
            c,
            name,
            &format!(
                "let s = service::inspect(NAME).Spec;\n{change}\n\
                 if !service::update(NAME, s).changed {{ throw \"not sent\"; }}"
            ),
        );
        let after = inspect(c, name);
        only_changed(&format!("{name}: {change}"), &before["Spec"], &after["Spec"], &[path]);
        assert_ne!(before["Spec"], after["Spec"], "{name}: {change} reached the engine");
    }
}

/// `node::update` changes what it is asked to and keeps the rest.
fn node_round_trip(c: &Cluster) {
    let spec = |c: &Cluster| {
        let v: Value = serde_json::from_str(&c.docker(1, &["node", "inspect", "node2"])).unwrap();
        v[0]["Spec"].clone()
    };
    let before = spec(c);
    run(c, "node2", "node::update(NAME, #{ label_add: #{ rt: \"1\" } });");
    only_changed("node label_add", &before, &spec(c), &[".Labels.rt"]);
}

#[test]
fn swarm_specs_round_trip_losslessly() {
    let image = test_image();
    let cluster = Cluster::start(3, &[image]);
    cluster.swarm();
    images(&cluster);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("compose.yml"), COMPOSE).unwrap();
    let deploy = |tool: &str, ns: &str| {
        let mut cmd = if tool == "orch" {
            cluster.orch(1)
        } else {
            Command::new("docker")
        };
        if tool == "docker" {
            cmd.args(["-H", &cluster.node(1).host]);
        }
        ok(cmd
            .current_dir(dir.path())
            .args(["stack", "deploy", "-c", "compose.yml", ns]))
    };

    // orch stack deploy: the compose healthcheck and every deploy key
    // reach the spec, as docker stack deploy makes it.
    deploy("orch", "rt");
    deploy("docker", "dk");
    let (mine, theirs) = (inspect(&cluster, "rt_web"), inspect(&cluster, "dk_web"));
    let hc = &mine["Spec"]["TaskTemplate"]["ContainerSpec"]["Healthcheck"];
    assert_eq!(hc["Test"], serde_json::json!(["CMD-SHELL", "test ! -e /bad"]), "{mine}");
    assert_eq!(hc["Retries"], 2);
    only_changed(
        "orch stack deploy vs docker stack deploy",
        &theirs["Spec"],
        &mine["Spec"],
        &[
            ".Name",
            ".Labels.com.docker.stack.namespace",
            ".Labels.com.docker.orch.stack.spec-hash",
            ".TaskTemplate.ContainerSpec.Labels.com.docker.stack.namespace",
            ".TaskTemplate.Networks[0].Target",
        ],
    );

    // orch redeploys docker's stack: the healthcheck and every other
    // field stay.
    // Its TaskTemplate stays exactly as docker made it (image spelling
    // included), so Swarm replaces no task.
    deploy("orch", "dk");
    only_changed(
        "orch stack deploy over docker's",
        &theirs["Spec"],
        &inspect(&cluster, "dk_web")["Spec"],
        &[".Labels.com.docker.orch.stack.spec-hash"],
    );

    // A redeploy with no change sends nothing.
    deploy("orch", "rt");
    assert_eq!(inspect(&cluster, "rt_web")["Version"], mine["Version"]);
    assert_eq!(
        inspect(&cluster, "rt_canary")["Spec"]["TaskTemplate"]["ContainerSpec"]["Healthcheck"]["Retries"],
        1
    );

    // A service docker created with every flag.
    let mut args = vec!["service", "create", "-d", "--no-resolve-image", "--name", "dsvc"];
    args.extend_from_slice(DOCKER_FLAGS);
    args.extend_from_slice(&["orch-test/busybox", "sh", "-c", LOOP]);
    cluster.docker(1, &args);

    for name in ["rt_web", "dsvc"] {
        round_trip(&cluster, name);
        one_field_each(&cluster, name);
    }
    node_round_trip(&cluster);
    // After all that, the stack's redeploy restores the file's spec.
    deploy("orch", "rt");
    only_changed(
        "redeploy",
        &mine["Spec"],
        &inspect(&cluster, "rt_web")["Spec"],
        &[".TaskTemplate.ForceUpdate"],
    );

    flags::flags_as_docker(&cluster);
    flags::container_flags_as_docker(&cluster);

    // An unhealthy image: Swarm rolls the update back (failure_action
    // rollback), and the healthcheck is still there.
    wait_for("rt_canary running", 90, || {
        cluster
            .docker(
                1,
                &[
                    "service",
                    "ps",
                    "rt_canary",
                    "-f",
                    "desired-state=running",
                    "--format",
                    "{{.CurrentState}}",
                ],
            )
            .lines()
            .filter(|l| l.starts_with("Running"))
            .count()
            == 2
    });
    // Without -d, orch waits through Swarm's rollback and fails as docker
    // does.
    let out = cluster
        .orch(1)
        .args(["service", "update", "--image", "orch-test/busybox:bad", "rt_canary"])
        .output()
        .unwrap();
    assert!(!out.status.success(), "{}", stdout(&out));
    assert!(stderr(&out).contains("service rolled back"), "{}", stderr(&out));
    wait_for("Swarm's rollback of rt_canary", 180, || {
        inspect(&cluster, "rt_canary")["UpdateStatus"]["State"] == "rollback_completed"
    });
    let after = inspect(&cluster, "rt_canary");
    let c = &after["Spec"]["TaskTemplate"]["ContainerSpec"];
    assert_eq!(c["Image"], "orch-test/busybox:latest", "{after}");
    assert_eq!(
        c["Healthcheck"]["Test"],
        serde_json::json!(["CMD-SHELL", "test ! -e /bad"])
    );

    // The same through a stack redeploy that waits (--detach=false).
    let bad = COMPOSE.replace("orch-test/busybox # canary", "orch-test/busybox:bad");
    std::fs::write(dir.path().join("compose.yml"), bad).unwrap();
    let out = cluster
        .orch(1)
        .current_dir(dir.path())
        .args(["stack", "deploy", "--detach=false", "-c", "compose.yml", "rt"])
        .output()
        .unwrap();
    assert!(!out.status.success(), "{}", stdout(&out));
    assert!(stderr(&out).contains("service rolled back"), "{}", stderr(&out));
    let c = &inspect(&cluster, "rt_canary")["Spec"]["TaskTemplate"]["ContainerSpec"];
    assert_eq!(c["Image"], "orch-test/busybox:latest");
}
