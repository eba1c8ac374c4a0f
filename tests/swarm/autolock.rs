//! Autolock beside docker's on a one-node swarm of its own (a manager is
//! restarted): `swarm init|update --autolock`, `swarm unlock-key`,
//! `swarm unlock`; and `swarm update --external-ca`.

use std::io::Write;
use std::process::Stdio;

use crate::common::cluster::{ok, wait_for, Cluster};
use crate::common::*;

#[test]
fn autolock_unlock_key_and_unlock() {
    let cluster = Cluster::start(1, &[]);
    let ip = cluster.node(1).ip.clone();
    let init = ok(cluster
        .orch(1)
        .args(["swarm", "init", "--autolock", "--advertise-addr", &ip]));
    let key = ok(cluster.orch(1).args(["swarm", "unlock-key", "-q"]));
    assert_eq!(key, cluster.docker(1, &["swarm", "unlock-key", "-q"]));
    assert!(init.contains(&format!("\n    {}\n", key.trim())), "{init}");
    let shown = ok(cluster.orch(1).args(["swarm", "unlock-key"]));
    assert_eq!(
        shown,
        cluster
            .docker(1, &["swarm", "unlock-key"])
            .replace("`docker swarm", "`orch swarm")
    );
    let rotated = ok(cluster.orch(1).args(["swarm", "unlock-key", "--rotate", "-q"]));
    assert_ne!(rotated, key);
    let failed = cluster.orch(1).args(["swarm", "unlock"]).output().unwrap();
    assert_eq!(failed.status.code(), Some(1));
    assert!(stderr(&failed).contains("swarm is not locked"), "{}", stderr(&failed));

    // A restarted manager is locked until `swarm unlock` gets the key.
    cluster.restart(1);
    let state = || {
        cluster
            .docker(1, &["info", "-f", "{{.Swarm.LocalNodeState}}"])
            .trim()
            .to_string()
    };
    wait_for("the manager locked", 60, || state() == "locked");
    let mut unlock = cluster
        .orch(1)
        .args(["swarm", "unlock"])
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    unlock.stdin.take().unwrap().write_all(rotated.as_bytes()).unwrap();
    assert!(unlock.wait().unwrap().success());
    wait_for("the manager unlocked", 60, || state() == "active");

    // Off again; `unlock-key --rotate` then refuses, as docker's does.
    let off = ok(cluster.orch(1).args(["swarm", "update", "--autolock=false"]));
    assert_eq!(off, "Swarm updated.\n");
    let spec = cluster.docker(1, &["info", "-f", "{{json .Swarm.Cluster.Spec.EncryptionConfig}}"]);
    assert_eq!(spec.trim(), r#"{"AutoLockManagers":false}"#);
    let on = ok(cluster.orch(1).args(["swarm", "update", "--autolock"]));
    assert!(on.starts_with("Swarm updated.\nTo unlock a swarm manager"), "{on}");
    ok(cluster.orch(1).args(["swarm", "update", "--autolock=false"]));
    for args in [&["swarm", "unlock-key", "--rotate"][..], &["swarm", "unlock-key"]] {
        crate::objects::same_failure_as_docker(&cluster, args);
    }

    // --external-ca: the spec docker's flag makes (the swarm's root CA
    // trusted when no cacert= is given); a bad protocol refused.
    let ca = "protocol=cfssl,url=https://ca.example.com,k=v";
    let spec = || cluster.docker(1, &["info", "-f", "{{json .Swarm.Cluster.Spec.CAConfig}}"]);
    cluster.docker(1, &["swarm", "update", "--external-ca", ca]);
    let theirs = spec();
    cluster.docker(
        1,
        &["swarm", "update", "--external-ca", "protocol=cfssl,url=https://other"],
    );
    ok(cluster.orch(1).args(["swarm", "update", "--external-ca", ca]));
    assert_eq!(spec(), theirs);
    assert!(theirs.contains("BEGIN CERTIFICATE"), "{theirs}");
    // (docker refuses it as a flag value, exit 125; orch in the script, exit 1)
    let bad = cluster
        .orch(1)
        .args(["swarm", "update", "--external-ca", "protocol=acme,url=x"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(1));
    assert!(
        stderr(&bad).contains("unrecognized external CA protocol acme"),
        "{}",
        stderr(&bad)
    );
}
