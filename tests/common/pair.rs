//! Running orch and the reference Docker Compose (its Go binary, whose
//! exit codes are real) side by side on the same compose file, each under
//! its own project, and comparing what the engine then holds.

use std::path::Path;
use std::process::Output;

use super::*;

pub const LOOP: &str = r#"["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"]"#;

/// Runs the reference's Go binary in `dir`.
pub fn reference(dir: &Path, args: &[&str]) -> Output {
    std::process::Command::new(super::compose_ref())
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap()
}

pub fn orch_in(dir: &Path, args: &[&str]) -> Output {
    orch().args(args).current_dir(dir).output().unwrap()
}

pub fn ok(what: &str, out: Output) -> Output {
    assert!(
        out.status.success(),
        "{what}: exit {:?}\n{}\n{}",
        out.status.code(),
        stdout(&out),
        stderr(&out)
    );
    out
}

pub fn write(dir: &Path, yaml: &str) {
    std::fs::write(dir.join("compose.yaml"), yaml).unwrap();
}

/// name → (ID, config hash, image label) of a project's containers.
pub fn snapshot(project: &str) -> std::collections::BTreeMap<String, (String, String, String)> {
    docker(&[
        "ps",
        "-a",
        "--filter",
        &format!("label=com.docker.compose.project={project}"),
        "--format",
        "{{.Names}} {{.ID}} {{.Label \"com.docker.compose.config-hash\"}} {{.Label \"com.docker.compose.image\"}}",
    ])
    .lines()
    .filter_map(|l| {
        let f: Vec<&str> = l.split(' ').collect();
        (f.len() == 4).then(|| {
            (
                f[0].replacen(project, "P", 1),
                (f[1].to_string(), f[2].to_string(), f[3].to_string()),
            )
        })
    })
    .collect()
}

/// A project's containers with IDs dropped: names, hashes, image IDs.
/// Hashes of services in `blank` are left out: they include another
/// container's ID, which differs between the two projects.
pub fn shape_of(project: &str, blank: &[&str]) -> Vec<(String, String, String)> {
    snapshot(project)
        .into_iter()
        .map(|(n, (_, h, i))| {
            let hide = blank.iter().any(|b| n.starts_with(&format!("P-{b}-")));
            (n, if hide { String::new() } else { h }, i)
        })
        .collect()
}

pub fn shape(project: &str) -> Vec<(String, String, String)> {
    shape_of(project, &[])
}

/// Runs the same `up` with both tools (each on its own project), then
/// each tool's `up` on the other's project, which must recreate nothing.
pub struct Pair {
    // Dropped first: the reference's `down` runs in `dir`.
    _cleanup: (ProjectCleanup, ProjectCleanup),
    dir: tempfile::TempDir,
    pub ours: String,
    pub theirs: String,
    /// Services whose hashes differ between the projects by design.
    pub blank: Vec<&'static str>,
}

impl Pair {
    pub fn new(tag: &str) -> Pair {
        let dir = tempfile::tempdir().unwrap();
        let ours = unique(&format!("{tag}-o"));
        let theirs = unique(&format!("{tag}-c"));
        let cleanup = (
            ProjectCleanup {
                dir: dir.path().to_path_buf(),
                project: ours.clone(),
            },
            ProjectCleanup {
                dir: dir.path().to_path_buf(),
                project: theirs.clone(),
            },
        );
        Pair {
            dir,
            ours,
            theirs,
            blank: Vec::new(),
            _cleanup: cleanup,
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// `args` with both tools; returns (orch's, compose's) outputs.
    pub fn both(&self, env: &[(&str, &str)], args: &[&str]) -> (Output, Output) {
        let run = |tool: std::process::Command, p: &str| {
            let mut c = tool;
            c.args(["-p", p]).args(args).current_dir(self.path());
            for (k, v) in env {
                c.env(k, v);
            }
            c.output().unwrap()
        };
        let o = run(orch(), &self.ours);
        let c = run(std::process::Command::new(super::compose_ref()), &self.theirs);
        (o, c)
    }

    pub fn up(&self, env: &[(&str, &str)], args: &[&str]) {
        let mut a = vec!["up", "-d"];
        a.extend_from_slice(args);
        let (o, c) = self.both(env, &a);
        ok("reference up", c);
        ok("orch up", o);
        assert_eq!(
            shape_of(&self.ours, &self.blank),
            shape_of(&self.theirs, &self.blank),
            "orch and compose differ"
        );
    }

    /// Neither tool recreates the other's containers.
    pub fn interop(&self, env: &[(&str, &str)], args: &[&str]) {
        let before = (snapshot(&self.ours), snapshot(&self.theirs));
        let mut c = std::process::Command::new(super::compose_ref());
        c.args(["-p", &self.ours, "up", "-d"])
            .args(args)
            .current_dir(self.path());
        let mut o = orch();
        o.args(["-p", &self.theirs, "up", "-d"])
            .args(args)
            .current_dir(self.path());
        for (k, v) in env {
            c.env(k, v);
            o.env(k, v);
        }
        ok("reference up on orch's project", c.output().unwrap());
        ok("orch up on the reference's project", o.output().unwrap());
        assert_eq!(snapshot(&self.ours), before.0, "compose recreated orch's containers");
        assert_eq!(snapshot(&self.theirs), before.1, "orch recreated compose's containers");
    }
}
/// Removes images when dropped.
pub struct ImageCleanup(pub Vec<String>);

impl Drop for ImageCleanup {
    fn drop(&mut self) {
        for i in &self.0 {
            let _ = std::process::Command::new("docker").args(["rmi", "-f", i]).output();
        }
    }
}
/// Removes a volume when dropped.
pub struct VolumeCleanup(pub String);

impl Drop for VolumeCleanup {
    fn drop(&mut self) {
        let _ = std::process::Command::new("docker")
            .args(["volume", "rm", "-f", &self.0])
            .output();
    }
}
