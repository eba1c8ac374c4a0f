//! Swarm configs and secrets beside docker's on the shared swarm: `config
//! create|inspect|ls|rm`, `inspect --pretty`, and the service flags that
//! reference them (`--config`, `--config-add|rm`, `--secret` with
//! docker's `source=,target=` syntax).

use std::io::Write;
use std::process::Stdio;

use crate::common::cluster::{ok, shared_swarm, wait_for, Cluster};
use crate::common::*;

/// `orch ARGS` and `docker ARGS` fail alike: same exit code, same stdout.
pub(crate) fn same_failure_as_docker(cluster: &Cluster, args: &[&str]) {
    let mine = cluster.orch(1).args(args).output().unwrap();
    let theirs = std::process::Command::new("docker")
        .arg("-H")
        .arg(&cluster.node(1).host)
        .args(args)
        .output()
        .unwrap();
    assert_eq!(
        (mine.status.code(), stdout(&mine)),
        (theirs.status.code(), stdout(&theirs)),
        "orch {args:?} vs docker; orch's stderr: {}",
        stderr(&mine)
    );
}

/// `{{json .Spec…}}` of `name` (its `Name` blanked), to compare what two
/// CLIs sent.
fn spec_of(cluster: &Cluster, kind: &str, name: &str, path: &str) -> String {
    cluster
        .docker(1, &[kind, "inspect", "-f", &format!("{{{{json {path}}}}}"), name])
        .replace(&format!("\"{name}\""), "\"NAME\"")
}

#[test]
fn configs_and_secrets_as_docker() {
    let image = test_image();
    let cluster = shared_swarm(3, &[image]);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("app.conf");
    std::fs::write(&file, "port=80\n").unwrap();
    let file = file.to_string_lossy().into_owned();
    let flags = ["-l", "b=2", "-l", "a=1", "--template-driver", "golang"];
    let id = ok(cluster
        .orch(1)
        .args(["config", "create"])
        .args(flags)
        .args(["cf-o", &file]));
    assert_eq!(id.trim().len(), 25, "{id}");
    cluster.docker(1, &[&["config", "create"][..], &flags, &["cf-d", &file]].concat());
    assert_eq!(
        spec_of(cluster, "config", "cf-o", ".Spec"),
        spec_of(cluster, "config", "cf-d", ".Spec")
    );
    let mut stdin = cluster
        .orch(1)
        .args(["config", "create", "cf-in", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    stdin.stdin.take().unwrap().write_all(b"hi\n").unwrap();
    assert!(stdin.wait().unwrap().success());
    let secret = ["secret", "create", "--template-driver", "golang", "-l", "k"];
    ok(cluster.orch(1).args(secret).args(["sc-o", &file]));
    cluster.docker(1, &[&secret[..], &["sc-d", &file]].concat());
    assert_eq!(
        spec_of(cluster, "secret", "sc-o", ".Spec"),
        spec_of(cluster, "secret", "sc-d", ".Spec")
    );
    #[rustfmt::skip]
    let tables: &[&[&str]] = &[
        &["config", "ls"][..],
        &["config", "list", "-q"],
        &["config", "ls", "-f", "name=cf-o", "--format", "{{.ID}} {{.Name}} {{.CreatedAt}}"],
        &["config", "ls", "--format", "table {{.Name}}\t{{.UpdatedAt}}"],
        &["config", "inspect", "cf-o", "cf-in"],
        &["config", "inspect", "--pretty", "cf-o", "cf-in"],
        &["config", "inspect", "-f", "{{.Spec.Name}} {{json .Spec.Labels}}", "cf-o", "cf-d"],
        &["secret", "inspect", "--pretty", "sc-o"],
        &["secret", "ls", "--format", "{{.Name}} {{.Driver}}|{{.Labels}}"],
    ];
    for args in tables {
        super::same_table_as_docker(cluster, args);
    }
    #[rustfmt::skip]
    let failures: &[&[&str]] = &[
        &["config", "inspect", "nope", "cf-o"][..],
        &["config", "inspect", "nope"],
        &["config", "inspect", "--pretty", "cf-o", "nope"],
        &["config", "inspect", "-f", "prettyx", "cf-o"],
        &["config", "create", "cf-o", &file],
    ];
    for args in failures {
        same_failure_as_docker(cluster, args);
    }
    services_with_configs(cluster, image);
    let rm = cluster
        .orch(1)
        .args(["config", "rm", "cf-in", "nope"])
        .output()
        .unwrap();
    assert_eq!(
        (rm.status.code(), stdout(&rm).as_str()),
        (Some(1), "cf-in\n"),
        "{}",
        stderr(&rm)
    );
    ok(cluster.orch(1).args(["config", "remove", "cf-o", "cf-d"]));
    ok(cluster.orch(1).args(["secret", "rm", "sc-o", "sc-d"]));
    assert_eq!(cluster.docker(1, &["config", "ls", "-q"]), "");
}

/// `service create --config/--secret` and `update --config-add|rm`
/// send what docker's do.
fn services_with_configs(cluster: &Cluster, image: &str) {
    let create = [
        "--config",
        "src=cf-o,target=/etc/app.conf,mode=0440",
        "--config",
        "cf-in",
        "--secret",
        "source=sc-o,target=tok,uid=7",
    ];
    let update = [
        "--config-rm",
        "cf-in",
        "--config-add",
        "source=cf-d,target=/x,uid=5,gid=6",
        "--secret-rm",
        "sc-o",
        "--secret-add",
        "sc-d",
    ];
    let refs = ".Spec.TaskTemplate.ContainerSpec.Configs}} {{json .Spec.TaskTemplate.ContainerSpec.Secrets";
    for (tool, name) in [("orch", "cfg-o"), ("docker", "cfg-d")] {
        let args = [
            &["service", "create", "-d", "--no-resolve-image", "--name", name][..],
            &create,
            &[image, "sleep", "600"],
        ]
        .concat();
        let upd = [&["service", "update", "-d", "--no-resolve-image"][..], &update, &[name]].concat();
        if tool == "orch" {
            ok(cluster.orch(1).args(&args));
        } else {
            cluster.docker(1, &args);
        }
        let created = spec_of(cluster, "service", name, refs);
        assert!(
            created.contains("\"Mode\":288") && created.contains("\"UID\":\"7\""),
            "{created}"
        );
        if tool == "orch" {
            ok(cluster.orch(1).args(&upd));
        } else {
            cluster.docker(1, &upd);
        }
    }
    assert_eq!(
        spec_of(cluster, "service", "cfg-o", refs),
        spec_of(cluster, "service", "cfg-d", refs)
    );
    for args in [
        &["service", "create", "-d", "--config", "nope", image][..],
        &[
            "service",
            "create",
            "-d",
            "--config",
            "cf-o",
            "--config",
            "source=cf-d,target=cf-o",
            image,
        ],
    ] {
        let out = cluster.orch(1).args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    }
    cluster.docker(1, &["service", "rm", "cfg-o", "cfg-d"]);
}

/// `config` followed by a swarm config command is docker's; after `--`
/// (or a flag, or a service name) the words are compose's service names.
#[test]
fn config_subcommand_words_and_compose_services() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("compose.yml"),
        "services:\n  ls:\n    image: busybox\n  web:\n    image: busybox\n",
    )
    .unwrap();
    let compose_ls = compose(dir.path(), &["config", "ls"]);
    assert!(compose_ls.status.success(), "{}", stderr(&compose_ls));
    for args in [&["config", "--", "ls"][..], &["config", "--format", "yaml", "ls"]] {
        let out = orch().args(args).current_dir(dir.path()).output().unwrap();
        assert_eq!(stdout(&out), stdout(&compose_ls), "orch {args:?}: {}", stderr(&out));
    }
    let help = ok(orch().args(["config", "--help"]).current_dir(dir.path()));
    assert!(help.contains("orch config -- ls"), "{help}");
    let bad = orch().args(["config", "ls", "--bogus"]).output().unwrap();
    assert_eq!(bad.status.code(), Some(125), "{}", stderr(&bad));
}

/// `service create --network` and `update --network-add|rm` attach by
/// network ID, sorted, aliases and driver options kept, as docker's; and
/// `--generic-resource` (`-add`/`-rm`) reservations.
#[test]
fn service_networks_and_resources_as_docker() {
    let image = test_image();
    let cluster = shared_swarm(3, &[image]);
    for n in ["nw-a", "nw-b", "nw-c"] {
        cluster.docker(1, &["network", "create", "-d", "overlay", n]);
    }
    #[rustfmt::skip]
    let create = ["--network", "nw-a", "--network", "name=nw-b,alias=Web,driver-opt=k=v", "--generic-resource", "gpu=2"];
    #[rustfmt::skip]
    let update = ["--network-rm", "nw-a", "--network-add", "name=nw-c,alias=x", "--generic-resource-rm", "gpu",
        "--generic-resource-add", "fpga=1"];
    let nets = ".Spec.TaskTemplate.Networks}} {{json .Spec.TaskTemplate.Resources.Reservations";
    let mut seen = Vec::new();
    for (tool, name) in [("orch", "nws-o"), ("docker", "nws-d")] {
        let run = |args: Vec<&str>| {
            if tool == "orch" {
                ok(cluster.orch(1).args(&args));
            } else {
                cluster.docker(1, &args);
            }
        };
        run([
            &["service", "create", "-d", "--no-resolve-image", "--name", name][..],
            &create,
            &[image, "sleep", "600"],
        ]
        .concat());
        let created = spec_of(cluster, "service", name, nets);
        run([&["service", "update", "-d", "--no-resolve-image"][..], &update, &[name]].concat());
        seen.push((created, spec_of(cluster, "service", name, nets)));
    }
    assert_eq!(seen[0], seen[1]);
    assert!(
        seen[0].0.contains(r#""Aliases":["web"],"DriverOpts":{"k":"v"}"#),
        "{seen:?}"
    );
    assert!(seen[0].1.contains(r#"{"Kind":"fpga","Value":1}"#), "{seen:?}");
    for args in [
        &["service", "update", "-d", "--network-add", "nw-b", "nws-o"][..],
        &["service", "update", "-d", "--generic-resource-rm", "nope", "nws-o"],
        &["service", "create", "-d", "--generic-resource", "gpu=uuid1", image],
    ] {
        same_failure_as_docker(cluster, args);
    }
    cluster.docker(1, &["service", "rm", "nws-o", "nws-d"]);
    wait_for("the services' network attachments to go", 60, || {
        ["nw-a", "nw-b", "nw-c"].iter().all(|n| {
            std::process::Command::new("docker")
                .args(["-H", &cluster.node(1).host, "network", "rm", n])
                .output()
                .is_ok_and(|o| o.status.success())
                || !cluster
                    .docker(1, &["network", "ls", "-q", "-f", &format!("name={n}")])
                    .contains(|c: char| c.is_alphanumeric())
        })
    });
}
