//! One tool (orch or the reference's Go binary) on its own copy of a
//! compose file, under a project name of its own (`name:` in the file, so
//! commands need neither `-p` nor COMPOSE_PROJECT_NAME, both of which
//! change which errors compose reports). Removed with the reference's
//! `down -v` when dropped, also after a failed assertion.

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use super::*;

pub struct Side {
    /// "orch" or "compose".
    pub tool: &'static str,
    pub project: String,
    pub dir: PathBuf,
}

impl Side {
    /// The tool's command in its folder, the caller's compose variables
    /// removed.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = if self.tool == "orch" {
            orch()
        } else {
            Command::new(compose_ref())
        };
        cmd.args(args)
            .current_dir(&self.dir)
            .env_remove("COMPOSE_PROJECT_NAME")
            .env_remove("COMPOSE_FILE")
            .env_remove("COMPOSE_PROFILES")
            .env_remove("NO_COLOR");
        cmd
    }

    /// Runs to the end with no stdin.
    pub fn run(&self, args: &[&str]) -> Output {
        self.command(args)
            .stdin(Stdio::null())
            .output()
            .expect("run compose tool")
    }

    /// Runs, asserts success, returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(out.status.success(), "{} {args:?}: {}", self.tool, stderr(&out));
        stdout(&out)
    }
}

impl Drop for Side {
    fn drop(&mut self) {
        let _ = Command::new(compose_ref())
            .args(["-p", &self.project, "down", "-v", "--remove-orphans", "-t", "0"])
            .current_dir(&self.dir)
            .output();
    }
}

/// (orch, compose) on `yaml`, each in a folder of its own under the
/// returned temporary folder, projects named `TAG-TOOL-…`.
pub fn sides(tag: &str, yaml: &str) -> (tempfile::TempDir, Side, Side) {
    test_image();
    let dir = tempfile::tempdir().expect("tempdir");
    let side = |tool: &'static str| {
        let project = unique(&format!("{tag}-{tool}"));
        let folder = dir.path().join(tool);
        std::fs::create_dir(&folder).expect("mkdir");
        std::fs::write(folder.join("compose.yaml"), format!("name: {project}\n{yaml}")).expect("write compose.yaml");
        Side {
            tool,
            project,
            dir: folder,
        }
    };
    let (o, r) = (side("orch"), side("compose"));
    (dir, o, r)
}
