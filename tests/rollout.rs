//! Stepped canary rollouts of a swarm service (`stdlib/lib/rollout.rhai`)
//! on a real 3-node swarm, asserted on what `docker service inspect` and
//! `docker service ps` report. The tests share one swarm, each with its
//! own service.

mod common;

use common::cluster::{shared_swarm, wait_for, Cluster};
use common::*;
use serde_json::Value;

const LOOP: &str = "trap 'exit 0' TERM; while true; do sleep 1; done";

/// (image, state) of every task of `svc` that should be running.
fn tasks(cluster: &Cluster, svc: &str) -> Vec<(String, String)> {
    let out = cluster.docker(
        1,
        &[
            "service",
            "ps",
            svc,
            "--filter",
            "desired-state=running",
            "--format",
            "{{.Image}} {{.CurrentState}}",
        ],
    );
    out.lines()
        .map(|l| {
            let mut p = l.split_whitespace();
            (p.next().unwrap_or("").to_string(), p.next().unwrap_or("").to_string())
        })
        .collect()
}

fn all_running_on(cluster: &Cluster, svc: &str, image: &str, n: usize) -> bool {
    let t = tasks(cluster, svc);
    t.len() == n && t.iter().all(|(i, s)| i == image && s == "Running")
}

fn spec(cluster: &Cluster, svc: &str) -> Value {
    serde_json::from_str(&cluster.docker(1, &["service", "inspect", svc, "--format", "{{json .Spec}}"])).unwrap()
}

fn rollout(cluster: &Cluster, svc: &str, image: &str, opts: &str) -> std::process::Output {
    let (_d, path) = script(&format!(
        "import \"stdlib/lib/rollout\" as r;\n\
         let s = service::inspect(\"{svc}\").Spec;\n\
         s.TaskTemplate.ContainerSpec.Image = \"{image}\";\n\
         r::service(\"{svc}\", s, {opts});\n"
    ));
    cluster.orch(1).arg("run").arg(&path).output().unwrap()
}

#[test]
fn stepped_rollout_then_a_rejecting_analysis_rolls_back_to_the_exact_spec() {
    let image = test_image();
    let cluster = shared_swarm(3, &[image]);
    let svc = "steps";
    for i in 1..=3 {
        for tag in ["roll:1", "roll:2", "roll:3"] {
            cluster.docker(i, &["tag", image, tag]);
        }
    }
    cluster.docker(
        1,
        &[
            "service",
            "create",
            "-d",
            "--name",
            svc,
            "--replicas",
            "4",
            "--endpoint-mode",
            "dnsrr",
            "--no-resolve-image",
            "--update-parallelism",
            "2",
            "--update-order",
            "start-first",
            "roll:1",
            "sh",
            "-c",
            LOOP,
        ],
    );
    wait_for("4 tasks running roll:1", 120, || {
        all_running_on(cluster, svc, "roll:1", 4)
    });
    let before = spec(cluster, svc);

    // 1 → 25 % (also 1 of 4: skipped) → 100 %.
    let out = rollout(cluster, svc, "roll:2", "#{ steps: [1, \"25%\", \"100%\"] }");
    assert!(out.status.success(), "{}\n{}", stdout(&out), stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("step: 1/4 tasks on roll:2"), "{text}");
    assert!(text.contains("step: 4/4 tasks on roll:2"), "{text}");
    wait_for("4 tasks running roll:2", 120, || {
        all_running_on(cluster, svc, "roll:2", 4)
    });
    let after = spec(cluster, svc);
    assert_eq!(
        after["UpdateConfig"], before["UpdateConfig"],
        "the user's UpdateConfig is back"
    );
    assert_eq!(after["TaskTemplate"]["ContainerSpec"]["Image"], "roll:2");
    let previous: Value = serde_json::from_str(after["Labels"]["orch.rollout.previous"].as_str().unwrap()).unwrap();
    assert_eq!(previous["TaskTemplate"]["ContainerSpec"]["Image"], "roll:1");

    // An analysis that rejects roll:3 at the 25 % step: back to the exact spec.
    let good = spec(cluster, svc);
    let out = rollout(
        cluster,
        svc,
        "roll:3",
        "#{ steps: [\"25%\", \"100%\"], analysis: |tasks| tasks.len() == 0 }",
    );
    assert!(!out.status.success(), "{}", stdout(&out));
    let err = stderr(&out);
    assert!(
        err.contains(&format!(
            "service rollout {svc} rolled back: analysis rejected roll:3 at 1/4 tasks"
        )),
        "{err}"
    );
    wait_for("4 tasks running roll:2 again", 120, || {
        all_running_on(cluster, svc, "roll:2", 4)
    });
    let back = spec(cluster, svc);
    let keys: std::collections::BTreeSet<&String> = good
        .as_object()
        .unwrap()
        .keys()
        .chain(back.as_object().unwrap().keys())
        .collect();
    for k in keys {
        assert_eq!(back.get(k), good.get(k), "Spec.{k} after the rollback");
    }
}

fn same_spec(a: &Value, b: &Value) {
    let keys: std::collections::BTreeSet<&String> = a
        .as_object()
        .unwrap()
        .keys()
        .chain(b.as_object().unwrap().keys())
        .collect();
    for k in keys {
        assert_eq!(b.get(k), a.get(k), "Spec.{k}");
    }
}

#[test]
fn manual_pause_waits_for_promote_and_a_failing_healthcheck_rolls_back() {
    let image = test_image();
    let cluster = shared_swarm(3, &[image]);
    let svc = "paused";
    for i in 1..=3 {
        for tag in ["roll:1", "roll:2"] {
            cluster.docker(i, &["tag", image, tag]);
        }
    }
    cluster.docker(
        1,
        &[
            "service",
            "create",
            "-d",
            "--name",
            svc,
            "--replicas",
            "4",
            "--endpoint-mode",
            "dnsrr",
            "--no-resolve-image",
            "roll:1",
            "sh",
            "-c",
            LOOP,
        ],
    );
    wait_for("4 tasks running roll:1", 120, || {
        all_running_on(cluster, svc, "roll:1", 4)
    });

    // orch service rollout … --pause manual: parked after the first step
    // until `orch service promote web` from another process.
    let mut child = cluster
        .orch(1)
        .args([
            "service", "rollout", svc, "--image", "roll:2", "--steps", "1,100%", "--pause", "manual",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let on_new = |c: &Cluster| {
        tasks(c, svc)
            .iter()
            .filter(|(i, s)| i == "roll:2" && s == "Running")
            .count()
    };
    wait_for("the canary task running roll:2", 120, || on_new(cluster) == 1);
    std::thread::sleep(std::time::Duration::from_secs(3));
    assert!(
        child.try_wait().unwrap().is_none(),
        "the rollout waits at the manual pause"
    );
    assert_eq!(on_new(cluster), 1, "Swarm is parked after the canary");
    let promote = cluster.orch(1).args(["service", "promote", svc]).output().unwrap();
    assert!(promote.status.success(), "{}", stderr(&promote));
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}\n{}", stdout(&out), stderr(&out));
    wait_for("4 tasks running roll:2", 120, || {
        all_running_on(cluster, svc, "roll:2", 4)
    });
    let ls = cluster.docker(
        1,
        &[
            "config",
            "ls",
            "-q",
            "--filter",
            &format!("label=orch.rollout.service={svc}"),
        ],
    );
    assert_eq!(ls.trim(), "", "the signal is consumed");

    // Swarm's own failure: the new spec's healthcheck fails, Swarm pauses
    // the update, orch restores the exact spec.
    let good = spec(cluster, svc);
    let (_d, path) = script(&format!(
        "import \"stdlib/lib/rollout\" as r;\n\
         let s = service::inspect(\"{svc}\").Spec;\n\
         s.TaskTemplate.ContainerSpec.Image = \"roll:1\";\n\
         s.TaskTemplate.ContainerSpec.Healthcheck = #{{ Test: [\"CMD-SHELL\", \"exit 1\"], Interval: 1_000_000_000, Retries: 1 }};\n\
         r::service(\"{svc}\", s, #{{ steps: [\"50%\"] }});\n",
    ));
    let out = cluster.orch(1).arg("run").arg(&path).output().unwrap();
    assert!(!out.status.success(), "{}", stdout(&out));
    let err = stderr(&out);
    assert!(
        err.contains(&format!("service rollout {svc} rolled back: swarm paused the update")),
        "{err}"
    );
    wait_for("4 tasks running roll:2 again", 120, || {
        all_running_on(cluster, svc, "roll:2", 4)
    });
    same_spec(&good, &spec(cluster, svc));
}

/// `spec` without orch's `orch.rollout.*` labels (the history bookkeeping
/// an undo writes anew).
fn without_history(spec: &Value) -> Value {
    let mut s = spec.clone();
    if let Some(l) = s["Labels"].as_object_mut() {
        l.retain(|k, _| !k.starts_with("orch.rollout."));
    }
    s
}

#[test]
fn swarm_revision_history_and_undo_restore_the_exact_spec() {
    let image = test_image();
    let cluster = shared_swarm(3, &[image]);
    let svc = "hist";
    for i in 1..=3 {
        for tag in ["roll:1", "roll:2", "roll:3"] {
            cluster.docker(i, &["tag", image, tag]);
        }
    }
    // Fields orch's own history must not lose: a healthcheck, env, a
    // label, limits, the user's update/rollback config.
    cluster.docker(
        1,
        &[
            "service",
            "create",
            "-d",
            "--name",
            svc,
            "--replicas",
            "3",
            "--endpoint-mode",
            "dnsrr",
            "--no-resolve-image",
            "--health-cmd",
            "true",
            "--health-interval",
            "1s",
            "--env",
            "A=1",
            "--label",
            "team=x",
            "--limit-memory",
            "64M",
            "--update-parallelism",
            "2",
            "--update-delay",
            "1s",
            "--rollback-order",
            "start-first",
            "roll:1",
            "sh",
            "-c",
            LOOP,
        ],
    );
    wait_for("3 tasks running roll:1", 120, || {
        all_running_on(cluster, svc, "roll:1", 3)
    });
    let spec1 = spec(cluster, svc);
    // No compose file here: `orch rollout history|undo` mean the swarm service.
    let dir = tempfile::tempdir().unwrap();
    let orch = |args: &[&str]| {
        let out = cluster.orch(1).current_dir(dir.path()).args(args).output().unwrap();
        (out.status.success(), stdout(&out), stderr(&out))
    };
    let (ok, _, err) = orch(&["service", "rollout", svc, "--image", "roll:2"]);
    assert!(ok, "{err}");
    let spec2 = spec(cluster, svc);
    // Steps of equal increments (1, then 1 more): each batch's spec must
    // differ from the one before or Swarm stays parked.
    let (ok, out, err) = orch(&["service", "rollout", svc, "--image", "roll:3", "--steps", "1,2,100%"]);
    assert!(ok, "{err}");
    assert!(out.contains("step: 2/3 tasks on roll:3"), "{out}");
    wait_for("3 tasks running roll:3", 120, || {
        all_running_on(cluster, svc, "roll:3", 3)
    });

    let (ok, out, err) = orch(&["rollout", "history", svc]);
    assert!(ok, "{err}");
    let rows: Vec<Vec<&str>> = out.lines().skip(1).map(|l| l.split_whitespace().collect()).collect();
    assert_eq!(rows.len(), 3, "{out}");
    assert_eq!((rows[0][0], rows[0].last().copied()), ("1", Some("roll:1")), "{out}");
    assert_eq!((rows[1][0], rows[1].last().copied()), ("2", Some("roll:2")), "{out}");
    assert_eq!(&rows[2][..2], ["3", "*"], "{out}");

    // undo: the revision before the running one, its exact spec.
    let (ok, out, err) = orch(&["rollout", "undo", svc]);
    assert!(ok, "{out}\n{err}");
    wait_for("3 tasks running roll:2", 120, || {
        all_running_on(cluster, svc, "roll:2", 3)
    });
    same_spec(&without_history(&spec2), &without_history(&spec(cluster, svc)));

    // --to 1 (and --swarm said outright): the spec the service was created with.
    let (ok, out, err) = orch(&["rollout", "undo", "--swarm", svc, "--to", "1", "--steps", "1"]);
    assert!(ok, "{out}\n{err}");
    wait_for("3 tasks running roll:1", 120, || {
        all_running_on(cluster, svc, "roll:1", 3)
    });
    let now = spec(cluster, svc);
    same_spec(&without_history(&spec1), &without_history(&now));
    assert_eq!(now["Labels"]["orch.rollout.revision"], "5", "undo is a new revision");
    let history: Value = serde_json::from_str(now["Labels"]["orch.rollout.history"].as_str().unwrap()).unwrap();
    assert_eq!(history.as_array().unwrap().len(), 5);

    let (ok, _, err) = orch(&["rollout", "undo", svc, "--to", "9"]);
    assert!(!ok);
    assert!(err.contains(&format!("{svc} has no revision 9")), "{err}");
}

/// `scripts/canary.rhai`'s probe, run in each new task's container through
/// its node's engine: a version that is healthy but wrong (a file the
/// probe forbids) is rejected at the canary and the exact spec restored; a
/// right one goes through (so the rejection is the probe's, not a rule
/// that fails everything).
#[test]
fn canary_probe_rejects_a_healthy_but_wrong_version() {
    let image = test_image();
    let cluster = shared_swarm(3, &[image]);
    let svc = "canary";
    for i in 1..=3 {
        cluster.docker(i, &["tag", image, "roll:1"]);
        cluster.docker(i, &["tag", image, "roll:2"]);
        cluster.docker(i, &["run", "--name", "mk-canary", image, "touch", "/wrong"]);
        cluster.docker(i, &["commit", "mk-canary", "roll:wrong"]);
        cluster.docker(i, &["rm", "mk-canary"]);
        let host = cluster.node(i).host.clone();
        let node = cluster.node(i).name.clone();
        cluster.docker(
            1,
            &["node", "update", "--label-add", &format!("orch.engine={host}"), &node],
        );
    }
    cluster.docker(
        1,
        &[
            "service",
            "create",
            "-d",
            "--name",
            svc,
            "--replicas",
            "4",
            "--endpoint-mode",
            "dnsrr",
            "--no-resolve-image",
            "--health-cmd",
            "true",
            "--health-interval",
            "1s",
            "roll:1",
            "sh",
            "-c",
            LOOP,
        ],
    );
    wait_for("4 tasks running roll:1", 120, || {
        all_running_on(cluster, svc, "roll:1", 4)
    });
    let good = spec(cluster, svc);
    let canary = |img: &str| {
        cluster
            .orch(1)
            .arg("run")
            .arg(repo().join("scripts/canary.rhai"))
            .args([svc, img, "sh", "-c", "! test -e /wrong"])
            .output()
            .unwrap()
    };
    let out = canary("roll:wrong");
    assert!(!out.status.success(), "{}", stdout(&out));
    let (text, err) = (stdout(&out), stderr(&out));
    assert!(text.contains("probe failed"), "{text}");
    assert!(
        err.contains(&format!(
            "service rollout {svc} rolled back: analysis rejected roll:wrong at 1/4 tasks"
        )),
        "{err}"
    );
    wait_for("4 tasks running roll:1 again", 120, || {
        all_running_on(cluster, svc, "roll:1", 4)
    });
    same_spec(&good, &spec(cluster, svc));

    let out = canary("roll:2");
    assert!(out.status.success(), "{}\n{}", stdout(&out), stderr(&out));
    wait_for("4 tasks running roll:2", 120, || {
        all_running_on(cluster, svc, "roll:2", 4)
    });
}

/// `task::wait_healthy` on each task, through the engine of the task's
/// node: returns once every task is healthy; a task made sick fails it,
/// naming the task and why.
#[test]
fn task_wait_healthy_waits_on_each_node_and_names_a_sick_task() {
    let image = test_image();
    let cluster = shared_swarm(3, &[image]);
    let svc = "hwait";
    cluster.docker(
        1,
        &[
            "service",
            "create",
            "-d",
            "--name",
            svc,
            "--replicas",
            "3",
            "--endpoint-mode",
            "dnsrr",
            "--no-resolve-image",
            "--health-cmd",
            "test ! -e /sick",
            "--health-interval",
            "1s",
            "--health-retries",
            "1",
            image,
            "sh",
            "-c",
            LOOP,
        ],
    );
    // Node ID -> its engine, for the script.
    let mut hosts = serde_json::Map::new();
    for i in 1..=3 {
        let id = cluster.docker(i, &["info", "--format", "{{.Swarm.NodeID}}"]);
        hosts.insert(id.trim().to_string(), Value::from(cluster.node(i).host.clone()));
    }
    let wait_all = |timeout: u32| {
        let (_d, path) = script(&format!(
            "let hosts = parse_json(ARGS[0]);\n\
             for t in task::list(#{{ service: \"{svc}\", desired_state: \"running\" }}) {{\n\
                 task::wait_healthy(t, hosts[t.NodeID], #{{ timeout: {timeout}, stable_for: 1 }});\n\
                 print(`healthy ${{t.ID}}`);\n\
             }}\n"
        ));
        cluster
            .orch(1)
            .arg("run")
            .arg(&path)
            .arg(Value::Object(hosts.clone()).to_string())
            .output()
            .unwrap()
    };
    // Tasks may still be starting: the wait covers that too.
    let out = wait_all(90);
    assert!(out.status.success(), "{}\n{}", stdout(&out), stderr(&out));
    assert_eq!(
        stdout(&out).lines().filter(|l| l.starts_with("healthy ")).count(),
        3,
        "{}",
        stdout(&out)
    );

    // Make one task's container sick on its node.
    let line = cluster.docker(
        1,
        &[
            "service",
            "ps",
            svc,
            "-f",
            "desired-state=running",
            "--no-trunc",
            "--format",
            "{{.ID}} {{.Node}}",
        ],
    );
    let (task, node) = line.lines().next().and_then(|l| l.split_once(' ')).unwrap();
    let i = (1..=3).find(|&i| cluster.node(i).name == node).unwrap();
    let ctr = cluster.docker(
        i,
        &[
            "ps",
            "-q",
            "--filter",
            &format!("label=com.docker.swarm.task.id={task}"),
        ],
    );
    cluster.docker(i, &["exec", ctr.trim(), "touch", "/sick"]);
    let (_d, path) = script(&format!(
        "let t = task::list(#{{ id: \"{task}\" }})[0];\n\
         task::wait_healthy(t, \"{}\", #{{ timeout: 60, stable_for: 30 }});\n",
        cluster.node(i).host
    ));
    let out = cluster.orch(1).arg("run").arg(&path).output().unwrap();
    assert!(!out.status.success(), "{}", stdout(&out));
    let err = stderr(&out);
    assert!(err.contains(&format!("task::wait_healthy {task}")), "{err}");
    assert!(
        err.contains("unhealthy") || err.contains("the task is") || err.contains("not running"),
        "{err}"
    );
    cluster.docker(1, &["service", "rm", svc]);
}
