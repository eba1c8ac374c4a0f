//! Faults on engines of the test harness (never the shared one), in one
//! cluster of three nodes, in order:
//!
//! 1. **Chaos** on node 3's engine (no swarm yet): 20 cycles of `up -d`
//!    (every cycle changes the project, so containers are recreated) or
//!    `down`, each SIGKILLed at a random moment, then a full `up -d`. After
//!    every cycle: one running container per replica (numbered as compose
//!    numbers them: after the highest left), no temporary
//!    `<id12>_<name>` copy, one project network, the external and the named
//!    volume's data intact, the bystanders (resources without the project's
//!    labels) untouched. The seed is printed; `ORCH_CHAOS_SEED` replays it.
//! 2. **A frozen engine** (SIGSTOP): orch gives up after its deadline naming
//!    the engine; thawed, it answers again. **A restarted engine**: the
//!    stopped project comes back with `up -d`.
//! 3. **A swarm of three managers** losing its leader: a new one is
//!    elected and orch, through another manager, lists the nodes as the
//!    docker CLI does.

mod common;

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use common::cluster::{wait_for, Cluster};
use common::*;

const NODE: usize = 3;

/// xorshift64*: a small PRNG whose seed replays a run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn seed() -> u64 {
    match std::env::var("ORCH_CHAOS_SEED") {
        Ok(s) => s.parse().expect("ORCH_CHAOS_SEED is a number"),
        Err(_) => {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
                | 1
        }
    }
}

fn compose_file(image: &str) -> String {
    let cmd = r#"["sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait"]"#;
    format!(
        r#"name: chaos
services:
  db:
    image: {image}
    command: ["sh", "-c", "trap 'exit 0' TERM; test -f /data/seed || echo seed > /data/seed; sleep 3600 & wait"]
    environment: {{ GEN: "${{GEN:-0}}" }}
    volumes: ["data:/data", "/anon"]
  web:
    image: {image}
    command: {cmd}
    environment: {{ GEN: "${{GEN:-0}}" }}
    depends_on: [db]
    deploy: {{ replicas: 2 }}
    volumes: ["ext:/ext:ro"]
volumes:
  data: {{}}
  ext: {{ external: true, name: chaos-ext }}
"#
    )
}

fn orch_in(cluster: &Cluster, dir: &Path, gen: u64, args: &[&str]) -> Command {
    let mut c = cluster.orch(NODE);
    c.current_dir(dir).env("GEN", gen.to_string()).args(args);
    c
}

fn ok(o: Output, what: &str) -> String {
    assert!(
        o.status.success(),
        "{what}: {}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Every invariant of the project after a completed `up -d`.
fn check(cluster: &Cluster, image: &str, bystander: &str, cycle: usize, seed: u64) {
    let ctx = format!("cycle {cycle} (ORCH_CHAOS_SEED={seed})");
    let ps = cluster.docker(
        NODE,
        &[
            "ps",
            "-a",
            "--filter",
            "label=com.docker.compose.project=chaos",
            "--format",
            "{{.Names}} {{.State}}",
        ],
    );
    let mut rows: Vec<&str> = ps.lines().collect();
    rows.sort();
    // A `down` killed half-way can leave web-2 without web-1; the next
    // `up` then numbers the new replica after the highest (web-3), as
    // compose does. One running container per replica is the invariant.
    let web: Vec<&str> = rows.iter().copied().filter(|r| r.starts_with("chaos-web-")).collect();
    let numbered = web.iter().all(|r| {
        r.strip_prefix("chaos-web-")
            .and_then(|r| r.strip_suffix(" running"))
            .is_some_and(|n| n.parse::<u32>().is_ok_and(|n| n > 0))
    });
    assert!(
        rows.len() == 3 && rows[0] == "chaos-db-1 running" && web.len() == 2 && numbered,
        "{ctx}: containers: {rows:?}"
    );
    let all = cluster.docker(NODE, &["ps", "-a", "--format", "{{.Names}}"]);
    let temp = all
        .lines()
        .filter(|n| n.len() > 13 && n.as_bytes()[12] == b'_' && n[..12].bytes().all(|b| b.is_ascii_hexdigit()));
    assert_eq!(temp.count(), 0, "{ctx}: a temporary copy is left: {all}");
    let nets = cluster.docker(
        NODE,
        &["network", "ls", "--filter", "name=chaos_default", "--format", "{{.ID}}"],
    );
    assert_eq!(nets.lines().count(), 1, "{ctx}: networks named chaos_default: {nets}");
    let keep = cluster.docker(
        NODE,
        &[
            "run",
            "--rm",
            "--network",
            "none",
            "-v",
            "chaos-ext:/x",
            image,
            "cat",
            "/x/keep",
        ],
    );
    assert_eq!(keep.trim(), "keep", "{ctx}: the external volume's data");
    let seed_file = cluster.docker(NODE, &["exec", "chaos-db-1", "cat", "/data/seed"]);
    assert_eq!(seed_file.trim(), "seed", "{ctx}: the named volume's data");
    let by = cluster.docker(NODE, &["inspect", "-f", "{{.State.Status}}", bystander]);
    assert_eq!(by.trim(), "running", "{ctx}: the bystander container");
    cluster.docker(NODE, &["volume", "inspect", "chaos-bystander"]);
    cluster.docker(NODE, &["network", "inspect", "chaos-bystander"]);
}

/// Part 1: SIGKILL at random moments, then a full run repairs everything.
fn chaos(cluster: &Cluster, dir: &Path, image: &str) {
    let seed = seed();
    eprintln!("chaos seed {seed} (ORCH_CHAOS_SEED={seed} replays this run)");
    let mut rng = Rng(seed);
    cluster.docker(NODE, &["volume", "create", "chaos-ext"]);
    cluster.docker(
        NODE,
        &[
            "run",
            "--rm",
            "--network",
            "none",
            "-v",
            "chaos-ext:/x",
            image,
            "sh",
            "-c",
            "echo keep > /x/keep",
        ],
    );
    // Bystanders: no project labels, names like the project's.
    cluster.docker(NODE, &["volume", "create", "chaos-bystander"]);
    cluster.docker(NODE, &["network", "create", "chaos-bystander"]);
    let bystander = cluster
        .docker(
            NODE,
            &[
                "run",
                "-d",
                "--name",
                "chaos-bystander",
                "--network",
                "chaos-bystander",
                image,
                "sh",
                "-c",
                "trap 'exit 0' TERM; sleep 3600 & wait",
            ],
        )
        .trim()
        .to_string();
    ok(orch_in(cluster, dir, 0, &["up", "-d"]).output().unwrap(), "first up");
    check(cluster, image, &bystander, 0, seed);
    for cycle in 1..=20usize {
        let gen = cycle as u64;
        let args: &[&str] = if cycle % 4 == 0 {
            &["down", "-t", "1"]
        } else {
            &["up", "-d"]
        };
        let mut child = orch_in(cluster, dir, gen, args).spawn().unwrap();
        std::thread::sleep(Duration::from_millis(rng.below(1500)));
        let _ = child.kill();
        let _ = child.wait();
        ok(
            orch_in(cluster, dir, gen, &["up", "-d"]).output().unwrap(),
            &format!("up after cycle {cycle}"),
        );
        check(cluster, image, &bystander, cycle, seed);
    }
}

/// Part 2: a frozen engine makes orch give up naming it; a restarted one
/// is converged again by `up -d`.
fn frozen_and_restarted(cluster: &Cluster, dir: &Path) {
    cluster.freeze(NODE);
    let t = Instant::now();
    let out = orch_in(cluster, dir, 20, &["ps"])
        .env("ORCH_ENGINE_TIMEOUT", "3")
        .output()
        .unwrap();
    cluster.thaw(NODE);
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!out.status.success(), "ps on a frozen engine succeeded");
    assert!(
        t.elapsed() < Duration::from_secs(30),
        "ps on a frozen engine took {:?}",
        t.elapsed()
    );
    assert!(
        err.contains(&cluster.node(NODE).host),
        "the message names the engine: {err}"
    );
    let ps = ok(
        orch_in(cluster, dir, 20, &["ps", "--format", "{{.Name}}"])
            .output()
            .unwrap(),
        "ps thawed",
    );
    assert_eq!(ps.lines().count(), 3, "{ps}");

    cluster.restart(NODE);
    let after = cluster.docker(
        NODE,
        &["ps", "--filter", "label=com.docker.compose.project=chaos", "-q"],
    );
    assert_eq!(after.lines().count(), 0, "no restart policy: the restart stopped them");
    ok(
        orch_in(cluster, dir, 20, &["up", "-d"]).output().unwrap(),
        "up after the restart",
    );
    let running = cluster.docker(
        NODE,
        &["ps", "--filter", "label=com.docker.compose.project=chaos", "-q"],
    );
    assert_eq!(running.lines().count(), 3, "{running}");
    ok(
        orch_in(cluster, dir, 20, &["down", "-v", "-t", "1"]).output().unwrap(),
        "down -v",
    );
    let ext = cluster.docker(NODE, &["volume", "ls", "-q", "--filter", "name=chaos-ext"]);
    assert_eq!(ext.trim(), "chaos-ext", "down -v never removes an external volume");
}

/// Part 3: three managers; the leader's engine killed; another manager
/// leads and orch reads the swarm through it as docker does.
fn leader_lost(cluster: &Cluster) {
    cluster.swarm_with_managers(3);
    let managers = cluster.docker(1, &["node", "ls", "--format", "{{.ManagerStatus}}"]);
    assert_eq!(managers.lines().filter(|l| !l.is_empty()).count(), 3, "{managers}");
    cluster.kill(1);
    let mut leader = String::new();
    wait_for("a new leader", 90, || {
        let out = Command::new("docker")
            .args([
                "-H",
                &cluster.node(2).host,
                "node",
                "ls",
                "--format",
                "{{.Hostname}} {{.ManagerStatus}}",
            ])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        match text.lines().find(|l| l.ends_with(" Leader")) {
            Some(l) if out.status.success() && !l.starts_with("node1 ") => {
                leader = l.split_whitespace().next().unwrap().to_string();
                true
            }
            _ => false,
        }
    });
    let ls = cluster.orch(2).args(["node", "ls"]).output().unwrap();
    let table = ok(ls, "orch node ls through node2");
    let row = table
        .lines()
        .find(|l| l.contains(&leader))
        .unwrap_or_default()
        .to_string();
    assert!(row.contains("Leader"), "orch node ls: {table}");
    assert!(
        table.lines().any(|l| l.contains("node1") && l.contains("Unreachable")),
        "node1 is shown unreachable: {table}"
    );
}

#[test]
fn chaos_frozen_and_restarted_engines_and_a_lost_leader() {
    let image = test_image();
    let cluster = Cluster::start(3, &[image]);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("compose.yaml"), compose_file(image)).unwrap();
    chaos(&cluster, dir.path(), image);
    frozen_and_restarted(&cluster, dir.path());
    leader_lost(&cluster);
}
