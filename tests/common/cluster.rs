//! A multi-node Docker Swarm test cluster (tests/harness/cluster.sh): N
//! dockerd in their own network namespaces. Swarm tests run on it, never on
//! the machine's main engine; dropping the guard tears everything down,
//! also when the test panics. [`shared_swarm`] gives a test binary's tests
//! one swarm between them (each with its own service names), torn down when
//! the binary exits.

use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

use super::repo;

/// Runs `c`, returns stdout; panics with both outputs on failure.
pub fn ok(c: &mut Command) -> String {
    let out = c.output().unwrap();
    assert!(
        out.status.success(),
        "{:?}: {}\n{}",
        c,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Polls `f` every 250 ms; panics naming `what` after `secs` seconds.
pub fn wait_for(what: &str, secs: u64, mut f: impl FnMut() -> bool) {
    let t = std::time::Instant::now();
    while !f() {
        assert!(
            t.elapsed() < std::time::Duration::from_secs(secs),
            "timed out after {secs}s waiting for {what}"
        );
        std::thread::sleep(std::time::Duration::from_millis(250));
    }
}

pub struct Node {
    pub name: String,
    /// For DOCKER_HOST: `unix:///…/docker.sock`.
    pub host: String,
    pub ip: String,
}

pub struct Cluster {
    pub name: String,
    pub nodes: Vec<Node>,
}

fn script() -> std::path::PathBuf {
    repo().join("tests/harness/cluster.sh")
}

impl Cluster {
    /// Starts `n` nodes with `images` loaded into each.
    pub fn start(n: usize, images: &[&str]) -> Cluster {
        Self::start_env(n, images, &[])
    }

    /// `start` with nodes whose engines also listen on `tcp://IP:2376`
    /// with `--tlsverify`, their certificates signed by the CA in
    /// `ca_dir` (`ca.pem`, `ca-key.pem`).
    pub fn start_tls(n: usize, images: &[&str], ca_dir: &std::path::Path) -> Cluster {
        Self::start_env(n, images, &[("ORCH_CLUSTER_TLS", ca_dir.to_str().unwrap())])
    }

    /// `start` with engines whose swarm tasks pull their image before
    /// they start (the other clusters' tasks never pull: no public
    /// registry), for tests of a private registry the nodes reach.
    pub fn start_pulling(n: usize, images: &[&str]) -> Cluster {
        Self::start_env(n, images, &[("ORCH_CLUSTER_PULL", "1")])
    }

    fn start_env(n: usize, images: &[&str], env: &[(&str, &str)]) -> Cluster {
        static N: AtomicUsize = AtomicUsize::new(0);
        // Short (interface names are 15 bytes at most), unique per process.
        let name = format!(
            "{:x}{}",
            std::process::id() % 0xfff,
            N.fetch_add(1, Ordering::SeqCst) % 10
        );
        let mut cluster = Cluster {
            name: name.clone(),
            nodes: Vec::new(),
        };
        let out = Command::new(script())
            .args(["up", &name, &n.to_string()])
            .args(images)
            .envs(env.iter().copied())
            .output()
            .expect("run tests/harness/cluster.sh");
        assert!(
            out.status.success(),
            "cluster.sh up {name} {n}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        for line in String::from_utf8_lossy(&out.stdout).lines() {
            let parts: Vec<&str> = line.split_whitespace().collect();
            if let [node, host, ip] = parts.as_slice() {
                cluster.nodes.push(Node {
                    name: node.to_string(),
                    host: host.to_string(),
                    ip: ip.to_string(),
                });
            }
        }
        assert_eq!(
            cluster.nodes.len(),
            n,
            "cluster.sh printed {:?}",
            String::from_utf8_lossy(&out.stdout)
        );
        cluster
    }

    /// Node `i` (1-based, as the hostnames).
    pub fn node(&self, i: usize) -> &Node {
        &self.nodes[i - 1]
    }

    /// `docker -H node_i ARGS`, stdout; panics with stderr on failure.
    pub fn docker(&self, i: usize, args: &[&str]) -> String {
        let out = Command::new("docker")
            .arg("-H")
            .arg(&self.node(i).host)
            .args(args)
            .output()
            .expect("docker CLI");
        assert!(
            out.status.success(),
            "docker -H node{i} {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// orch with DOCKER_HOST set to node `i`'s engine.
    pub fn orch(&self, i: usize) -> Command {
        let mut c = super::orch();
        c.env("DOCKER_HOST", &self.node(i).host);
        c
    }

    /// Makes the nodes a swarm with Docker's CLI (node1 the manager), for
    /// tests about what runs on a swarm rather than how it is formed.
    pub fn swarm(&self) {
        let out = Command::new(script())
            .args(["swarm", &self.name])
            .output()
            .expect("cluster.sh swarm");
        assert!(
            out.status.success(),
            "cluster.sh swarm: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Restarts node `i`'s dockerd (stopped with SIGTERM, started again on
    /// the same data), as `systemctl restart docker` does.
    pub fn restart(&self, i: usize) {
        let out = Command::new(script())
            .args(["restart", &self.name, &i.to_string()])
            .output()
            .expect("cluster.sh restart");
        assert!(
            out.status.success(),
            "cluster.sh restart: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Runs sshd on node `i` (root, the public keys in `keys`), its
    /// sessions `docker system dial-stdio` on that node's engine: the
    /// node as a remote host for `ssh://root@IP`.
    pub fn sshd(&self, i: usize, keys: &std::path::Path) {
        let out = Command::new(script())
            .args(["sshd", &self.name, &i.to_string(), keys.to_str().unwrap()])
            .output()
            .expect("cluster.sh sshd");
        assert!(
            out.status.success(),
            "cluster.sh sshd: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Kills node `i`'s dockerd (SIGKILL), as a machine loss.
    pub fn kill(&self, i: usize) {
        self.node_cmd("kill", i);
    }

    /// Stops node `i`'s dockerd (SIGSTOP): it keeps its socket but never
    /// answers, as a frozen engine.
    pub fn freeze(&self, i: usize) {
        self.node_cmd("freeze", i);
    }

    /// Lets a frozen node's dockerd go on (SIGCONT).
    pub fn thaw(&self, i: usize) {
        self.node_cmd("thaw", i);
    }

    /// Makes the nodes a swarm whose first `managers` nodes are managers.
    pub fn swarm_with_managers(&self, managers: usize) {
        let out = Command::new(script())
            .args(["swarm", &self.name, &managers.to_string()])
            .output()
            .expect("cluster.sh swarm");
        assert!(
            out.status.success(),
            "cluster.sh swarm {managers}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn node_cmd(&self, cmd: &str, i: usize) {
        let out = Command::new(script())
            .args([cmd, &self.name, &i.to_string()])
            .output()
            .unwrap_or_else(|e| panic!("cluster.sh {cmd}: {e}"));
        assert!(
            out.status.success(),
            "cluster.sh {cmd} {} {i}: {}",
            self.name,
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

static SHARED: OnceLock<Cluster> = OnceLock::new();

/// The test binary's one swarm of `n` nodes (node1 the manager) with
/// `images` loaded, started by the first test that asks. Starting a
/// cluster costs seconds of CI per test; sharing it asks each test to
/// name its services, stacks and containers apart from the others'. A
/// test that stops or reconfigures nodes starts its own [`Cluster`].
pub fn shared_swarm(n: usize, images: &[&str]) -> &'static Cluster {
    SHARED.get_or_init(|| {
        let c = Cluster::start(n, images);
        // A static is never dropped: the binary's exit takes it down
        // (libtest ends through exit(), failing tests included).
        extern "C" fn down() {
            if let Some(c) = SHARED.get() {
                c.down();
            }
        }
        // SAFETY: registers a plain function with no arguments.
        unsafe { libc::atexit(down) };
        c.swarm();
        c
    })
}

impl Cluster {
    fn down(&self) {
        let out = Command::new(script()).args(["down", &self.name]).output();
        if let Ok(o) = out {
            if !o.status.success() {
                eprintln!("cluster.sh down {}: {}", self.name, String::from_utf8_lossy(&o.stderr));
            }
        }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        self.down();
    }
}
