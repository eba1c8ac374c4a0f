//! `orch service create|update` against `docker service create|update`
//! on the same flags: the stored specs must be equal (but the name).

use serde_json::Value;

use super::common::cluster::{ok, wait_for, Cluster};
use super::{inspect, only_changed};

/// `orch service create|update` flags store the spec docker's store
/// (the update, rollback and health flags above all).
pub fn flags_as_docker(c: &Cluster) {
    #[rustfmt::skip]
    let combos: &[&[&str]] = &[
        &[],
        &["--update-delay", "3s"],
        &["--update-order", "start-first", "--rollback-monitor", "2s"],
        &["--update-parallelism", "0", "--update-failure-action", "continue"],
        &[
            "--rollback-failure-action",
            "continue",
            "--rollback-max-failure-ratio",
            "0.2",
        ],
        &[
            "--update-max-failure-ratio",
            "0.1",
            "--rollback-delay",
            "1s",
            "--rollback-parallelism",
            "3",
        ],
        &[
            "--update-monitor",
            "1s",
            "--health-cmd",
            "true",
            "--health-interval",
            "2s",
        ],
        &[
            "--health-retries",
            "3",
            "--health-timeout",
            "1s",
            "--health-start-period",
            "2s",
        ],
        &["--no-healthcheck"],
        &[
            "--replicas", "2", "--env", "A=1", "--label", "l=1", "--container-label", "c=1",
            "--constraint", "node.role==manager", "--placement-pref", "spread=node.hostname",
            "--replicas-max-per-node", "2", "--limit-cpu", "0.5", "--limit-memory", "64M",
            "--reserve-cpu", "0.1", "--reserve-memory", "8M", "--restart-condition", "on-failure",
            "--restart-delay", "2s", "--restart-max-attempts", "5", "--stop-grace-period", "3s",
            "--hostname", "h", "--workdir", "/tmp", "--user", "0", "--endpoint-mode", "dnsrr",
            "--mount", "type=volume,source=v1,target=/data", "--health-cmd", "true",
            "--publish", "published=18080,target=80,mode=host", "--update-delay", "1s",
        ],
    ];
    // The whole spec, but the name.
    let allowed = [".Name"];
    let keys = |v: &Value| v["Spec"].clone();
    for (i, flags) in combos.iter().enumerate() {
        let (d, o) = (format!("flagd{i}"), format!("flago{i}"));
        let mut args = vec!["service", "create", "-d", "--no-resolve-image", "--name", &d];
        args.extend_from_slice(flags);
        args.extend_from_slice(&["orch-test/busybox", "sleep", "1000"]);
        c.docker(1, &args);
        ok(c.orch(1)
            .args(["service", "create", "-d", "--name", &o])
            .args(*flags)
            .args(["orch-test/busybox", "sleep", "1000"]));
        only_changed(
            &format!("create {flags:?}"),
            &keys(&inspect(c, &d)),
            &keys(&inspect(c, &o)),
            &allowed,
        );
        // The same flags as an update of the flagless pair (those
        // `service update` takes as they are).
        let settings = |f: &&str| {
            !f.starts_with("--")
                || ["--update", "--rollback", "--health", "--no-health"]
                    .iter()
                    .any(|p| f.starts_with(p))
        };
        if !flags.is_empty() && flags.iter().all(settings) {
            let mut args = vec!["service", "update", "-d", "flagd0"];
            args.splice(3..3, flags.iter().copied());
            c.docker(1, &args);
            ok(c.orch(1).args(["service", "update", "-d"]).args(*flags).arg("flago0"));
            only_changed(
                &format!("update {flags:?}"),
                &keys(&inspect(c, "flagd0")),
                &keys(&inspect(c, "flago0")),
                &allowed,
            );
        }
    }
}

/// The container flags: create's lists, then update's `-add`/`-rm` pairs
/// applied one after the other to a docker-made and an orch-made service.
pub fn container_flags_as_docker(c: &Cluster) {
    #[rustfmt::skip]
    let create: &[&str] = &[
        "--limit-pids", "100", "--restart-window", "30s", "--stop-signal", "SIGUSR1", "--read-only",
        "--init", "--dns", "10.0.0.2", "--dns-search", "example.org", "--dns-option", "ndots:2",
        "--sysctl", "net.core.somaxconn=1024", "--cap-add", "NET_ADMIN", "--cap-drop", "CHOWN",
        "--log-driver", "json-file", "--log-opt", "max-size=1m", "--group", "100", "--ulimit",
        "nofile=100:200", "--tty", "--isolation", "default", "--no-resolve-image",
    ];
    #[rustfmt::skip]
    let updates: &[&[&str]] = &[
        &["--label-add", "a=1", "--label-add", "b=2", "--container-label-add", "c=3"],
        &["--label-rm", "a", "--container-label-rm", "c", "--dns-add", "10.0.0.9", "--dns-add",
          "10.0.0.1", "--dns-rm", "10.0.0.2", "--dns-search-add", "b.org", "--dns-option-rm", "ndots:2"],
        &["--group-add", "50", "--group-add", "7", "--group-rm", "100", "--host-add", "h2:10.0.0.4",
          "--host-add", "h3:10.0.0.5"],
        &["--host-rm", "h2", "--sysctl-add", "net.ipv4.ip_forward=1", "--sysctl-rm",
          "net.core.somaxconn", "--ulimit-add", "nproc=10", "--ulimit-add", "nofile=1:2"],
        &["--ulimit-rm", "nproc", "--cap-add", "CHOWN", "--cap-drop", "NET_ADMIN", "--cap-add", "sys_time"],
        &["--init=false", "--read-only=false", "--tty=false", "--stop-signal", "SIGTERM",
          "--limit-pids", "5", "--restart-window", "10s", "--log-driver", "local"],
        &["--cap-drop", "ALL", "--cap-add", "RESET"],
        &["--mount-add", "type=volume,source=a,target=/x", "--mount-add", "type=tmpfs,target=/t",
          "--publish-add", "published=18081,target=81,mode=host", "--publish-add",
          "published=18082,target=82,protocol=udp,mode=host", "--placement-pref-add",
          "spread=node.labels.rack", "--placement-pref-add", "spread=node.hostname", "--secret-add", "rt-sa",
          "--secret-add", "rt-sb"],
        &["--mount-rm", "/t", "--publish-rm", "published=18081,target=81,mode=host",
          "--placement-pref-rm", "spread=node.hostname", "--secret-rm", "rt-sa", "--mount-add",
          "type=volume,source=a,target=/x,readonly"],
    ];
    for s in ["rt-sa", "rt-sb"] {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(s), s).unwrap();
        c.docker(1, &["secret", "create", s, &dir.path().join(s).to_string_lossy()]);
    }
    // docker's ParseSecrets/ParseConfigs collect the added references in a
    // Go map, so the order docker sends is random: compare them as sets.
    let spec = |name: &str| {
        let mut s = inspect(c, name)["Spec"].clone();
        let cs = &mut s["TaskTemplate"]["ContainerSpec"];
        for (list, key) in [("Secrets", "SecretName"), ("Configs", "ConfigName")] {
            if let Some(refs) = cs.get_mut(list).and_then(|v| v.as_array_mut()) {
                refs.sort_by(|a, b| a[key].to_string().cmp(&b[key].to_string()));
            }
        }
        s
    };
    // An env file as docker reads one: comments, blank lines, a value
    // with `=` and trailing blanks, a bare name taken from the environment.
    let dir = tempfile::tempdir().unwrap();
    let env_file = dir.path().join("svc.env");
    std::fs::write(&env_file, "# comment\n  A=1 \n\nC=x=y\nHOME\nUNSET_IN_ORCH_TESTS\n").unwrap();
    let env_file = env_file.to_string_lossy().into_owned();
    let mut args = vec!["service", "create", "-d", "--name", "cflagd"];
    args.extend_from_slice(create);
    args.extend_from_slice(&[
        "--env-file",
        &env_file,
        "-e",
        "D=4",
        "--host",
        "h1:10.0.0.3",
        "--host",
        "h0:10.0.0.2",
    ]);
    args.extend_from_slice(&["orch-test/busybox", "sleep", "1000"]);
    c.docker(1, &args);
    args[4] = "cflago";
    ok(c.orch(1).args(&args));
    let allowed = [".Name"];
    only_changed(
        &format!("create {create:?}"),
        &spec("cflagd"),
        &spec("cflago"),
        &allowed,
    );
    // Swarm's updater writes each service's UpdateStatus while it rolls an
    // update out, and every write moves the spec's version: an update sent
    // meanwhile (read, then written back) fails with "update out of
    // sequence", docker's as orch's (seen in CI). Each waits for the last.
    let settled = |name: &str| {
        let f = "{{if .UpdateStatus}}{{.UpdateStatus.State}}{{end}}";
        let name = name.to_string();
        wait_for(&format!("{name}'s update to settle"), 120, || {
            let state = c.docker(1, &["service", "inspect", "-f", f, &name]);
            !matches!(state.trim(), "updating" | "rollback_started")
        });
    };
    for flags in updates {
        settled("cflagd");
        settled("cflago");
        let mut args = vec!["service", "update", "-d", "--no-resolve-image"];
        args.extend_from_slice(flags);
        c.docker(1, &[&args[..], &["cflagd"]].concat());
        ok(c.orch(1).args(&args).arg("cflago"));
        let (d, o): (Value, Value) = (spec("cflagd"), spec("cflago"));
        only_changed(&format!("update {flags:?}"), &d, &o, &allowed);
    }
}
