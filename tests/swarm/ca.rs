//! `swarm ca` beside docker's on a one-node swarm of its own (rotations
//! change every node's certificate, so not on the binary's shared swarm):
//! the root shown, the flags refused without `--rotate`, and rotations
//! with and without waiting.

use sha2::Digest;

use crate::common::cluster::{ok, Cluster};
use crate::common::*;

/// How many forced rotations the swarm's spec counts.
fn force_rotate(cluster: &Cluster) -> String {
    cluster
        .docker(1, &["info", "-f", "{{.Swarm.Cluster.Spec.CAConfig.ForceRotate}}"])
        .trim()
        .to_string()
}

#[test]
fn ca_shows_and_rotates_the_root_as_docker() {
    let cluster = Cluster::start(1, &[]);
    let ip = cluster.node(1).ip.clone();
    ok(cluster.orch(1).args(["swarm", "init", "--advertise-addr", &ip]));
    let root = cluster.docker(1, &["swarm", "ca"]);
    assert!(root.starts_with("-----BEGIN CERTIFICATE-----"), "{root}");
    assert_eq!(ok(cluster.orch(1).args(["swarm", "ca"])), root);

    // Refusals: each flag without --rotate (exit 1, docker's words); a
    // file that is not PEM (a flag error, 125); --ca-cert without a key.
    let dir = tempfile::tempdir().unwrap();
    let (pem, text) = (dir.path().join("root.pem"), dir.path().join("plain.txt"));
    std::fs::write(&pem, &root).unwrap();
    std::fs::write(&text, "not a certificate\n").unwrap();
    let (pem, text) = (pem.to_str().unwrap(), text.to_str().unwrap());
    for args in [
        &["swarm", "ca", "--cert-expiry", "1h"][..],
        &["swarm", "ca", "--ca-cert", pem],
        &["swarm", "ca", "--ca-cert", text],
        &["swarm", "ca", "--rotate", "--ca-cert", pem],
        &[
            "swarm",
            "ca",
            "--rotate",
            "--external-ca",
            "protocol=cfssl,url=https://ca.example",
        ],
    ] {
        crate::objects::same_failure_as_docker(&cluster, args);
    }
    let refused = cluster
        .orch(1)
        .args(["swarm", "ca", "--cert-expiry", "1h"])
        .output()
        .unwrap();
    assert_eq!(
        stderr(&refused).trim(),
        "`--cert-expiry` flag requires the `--rotate` flag to update the CA"
    );
    assert_eq!(force_rotate(&cluster), "0");

    // -d: one more forced rotation, nothing printed, as docker's.
    assert_eq!(cluster.docker(1, &["swarm", "ca", "--rotate", "-d"]), "");
    assert_eq!(ok(cluster.orch(1).args(["swarm", "ca", "--rotate", "-d"])), "");
    assert_eq!(force_rotate(&cluster), "2");

    // Waiting: the bars' titles, the desired root's digest at each poll
    // (the last one the new root's), then the new root; -q prints nothing.
    let out = ok(cluster.orch(1).args(["swarm", "ca", "--rotate"]));
    let now = cluster.docker(1, &["swarm", "ca"]);
    assert_ne!(now, root, "the root changed");
    let head = "desired root digest: \n  rotated TLS certificates: \n  rotated CA certificates:  \n";
    let rest = out.strip_prefix(head).unwrap_or_else(|| panic!("{out}"));
    let polls = rest.strip_suffix(now.as_str()).unwrap_or_else(|| panic!("{out}"));
    let digest = format!("desired root digest: sha256:{:x}", sha2::Sha256::digest(now.as_bytes()));
    assert_eq!(polls.lines().last(), Some(digest.as_str()), "{out}");
    assert!(
        polls
            .lines()
            .all(|l| l.len() == 92 && l.starts_with("desired root digest: sha256:")),
        "{out}"
    );
    assert_eq!(ok(cluster.orch(1).args(["swarm", "ca", "--rotate", "-q"])), "");
    assert_eq!(cluster.docker(1, &["swarm", "ca", "--rotate", "-q"]), "");
    assert_eq!(force_rotate(&cluster), "5");
    assert_eq!(
        ok(cluster.orch(1).args(["swarm", "ca"])),
        cluster.docker(1, &["swarm", "ca"])
    );
}
