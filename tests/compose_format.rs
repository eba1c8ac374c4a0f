//! `--format` beside the reference Docker Compose v2.40.3 (its Go binary):
//! `ps --format json` with every key compose prints, a dozen Go templates
//! (functions, methods with arguments, range/if, the `table` directive),
//! `images --format json` and `ls --format json`. Both tools run the same
//! project under two names; outputs are compared after replacing each
//! project's name (and folder) by a placeholder, and normalising what
//! differs by time (IDs, ages) or by Go's map order (labels).

mod common;

use std::process::Output;

use common::side::Side;
use common::*;
use serde_json::Value;

/// stdout with `side`'s project name and folder as placeholders.
fn text(side: &Side, o: &Output) -> String {
    stdout(o)
        .replace(&side.dir.display().to_string(), "DIR")
        .replace(&side.project, "P")
}

fn project(tag: &str) -> (tempfile::TempDir, Side, Side) {
    let image = test_image();
    let yaml = format!(
        r#"services:
  db:
    image: {image}
    command: ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"]
    labels:
      com.example.tier: backend
    volumes:
      - data:/data
  job:
    image: {image}
    command: ["sh", "-c", "exit 2"]
volumes:
  data:
"#
    );
    let dir = tempfile::tempdir().expect("tempdir");
    // Names of equal length (tables align on them), the tool last (compose
    // cuts mount names to 14 characters).
    let base = unique(tag);
    let side = |tool: &'static str| {
        let project = format!("{base}-{}", if tool == "orch" { "orch" } else { "refc" });
        let folder = dir.path().join(tool);
        std::fs::create_dir(&folder).expect("mkdir");
        std::fs::write(folder.join("compose.yaml"), format!("name: {project}\n{yaml}")).expect("write");
        let s = Side {
            tool,
            project,
            dir: folder,
        };
        let up = s.run(&["up", "-d"]);
        assert!(up.status.success(), "{tool} up: {}", stderr(&up));
        s
    };
    let (o, r) = (side("orch"), side("ref"));
    // Both have the job container exited before anything is compared.
    for s in [&o, &r] {
        let name = format!("{}-job-1", s.project);
        let _ = docker(&["wait", &name]);
    }
    (dir, o, r)
}

/// `ps --format json` rows with what changes from run to run normalised.
fn ps_json(s: &Side, text: &str) -> Vec<Value> {
    text.lines()
        .map(|l| {
            let mut v: Value = serde_json::from_str(l).unwrap_or_else(|e| panic!("{}: {e}: {l}", s.tool));
            for k in ["ID", "CreatedAt", "RunningFor", "Status"] {
                assert!(v.get(k).is_some(), "{}: no {k} in {l}", s.tool);
                v[k] = Value::from("-");
            }
            // Go prints a map's labels in random order.
            let mut labels: Vec<String> = v["Labels"]
                .as_str()
                .unwrap_or("")
                .split(',')
                .map(str::to_string)
                .collect();
            labels.sort();
            // Each tool labels its own version and image digest.
            labels.retain(|l| !l.starts_with("com.docker.compose.version="));
            v["Labels"] = Value::from(labels.join(","));
            v
        })
        .collect()
}

#[test]
fn ps_json_and_templates_match_compose() {
    let (_dir, o, r) = project("fmt-ps");
    let (got, want) = (
        o.run(&["ps", "-a", "--format", "json"]),
        r.run(&["ps", "-a", "--format", "json"]),
    );
    assert_eq!(code(&got), code(&want), "{}", stderr(&got));
    let (gv, wv) = (ps_json(&o, &text(&o, &got)), ps_json(&r, &text(&r, &want)));
    assert_eq!(gv.len(), 2);
    assert_eq!(gv, wv);
    assert_eq!(gv[1]["ExitCode"], 2);
    assert_eq!(gv[0]["LocalVolumes"], "1");

    for format in [
        "{{.Name}}",
        "{{.Service}} {{.State}} {{.ExitCode}}",
        "table {{.Name}}\\t{{.Service}}\\t{{.State}}",
        "{{json .Publishers}}",
        "{{.Label \"com.example.tier\"}}|{{.Label \"com.docker.compose.service\"}}",
        "{{upper .Service}}|{{lower .State}}|{{title .Service}}",
        "{{truncate .Service 2}}|{{pad .Service 1 2}}|",
        "{{join (split .Networks \"_\") \"+\"}}",
        "{{range split .Mounts \",\"}}[{{.}}]{{end}}",
        "{{if eq .ExitCode 0}}ok{{else}}failed {{.ExitCode}}{{end}}",
        "table {{.Service}}\\t{{.ExitCode}}\\t{{.LocalVolumes}}\\t{{.Label \"com.example.tier\"}}\\t{{.Project}}",
        "{{.Service | upper | printf \"%s!\"}} {{len .Service}}",
    ] {
        let args = ["ps", "-a", "--format", format];
        let (got, want) = (o.run(&args), r.run(&args));
        assert_eq!(code(&got), code(&want), "{format}: {}", stderr(&got));
        assert_eq!(text(&o, &got), text(&r, &want), "{format}");
    }
    // Bad templates fail as compose's do, printing nothing on stdout.
    for format in ["{{.Nope}}", "{{end}", "{{if .State}}x", "{{nosuch .Name}}"] {
        let args = ["ps", "-a", "--format", format];
        let (got, want) = (o.run(&args), r.run(&args));
        assert_eq!(code(&got), 1, "{format}: {}", stderr(&got));
        assert_eq!(code(&got), code(&want), "{format}");
        assert_eq!(stdout(&got), stdout(&want), "{format}");
        assert!(stderr(&got).contains("template"), "{format}: {}", stderr(&got));
    }
}

#[test]
fn images_and_ls_json_match_compose() {
    let (_dir, o, r) = project("fmt-img");
    let sorted = |s: &Side, o: &Output| {
        let mut v: Vec<Value> = serde_json::from_str(&text(s, o)).unwrap_or_else(|e| panic!("{}: {e}", s.tool));
        v.sort_by_key(|x| x["ContainerName"].as_str().unwrap_or("").to_string());
        v
    };
    let (got, want) = (
        o.run(&["images", "--format", "json"]),
        r.run(&["images", "--format", "json"]),
    );
    assert_eq!(code(&got), code(&want));
    let (gv, wv) = (sorted(&o, &got), sorted(&r, &want));
    assert_eq!(gv, wv);
    assert_eq!(gv.len(), 2);
    assert!(gv[0]["ID"].as_str().unwrap_or("").starts_with("sha256:"), "{gv:?}");
    assert!(gv[0]["Size"].is_u64(), "{gv:?}");
    // The same field order as compose's.
    assert_eq!(serde_json::to_string(&gv).unwrap(), serde_json::to_string(&wv).unwrap());

    let (got, want) = (
        o.run(&["ls", "-a", "--format", "json"]),
        r.run(&["ls", "-a", "--format", "json"]),
    );
    assert_eq!(code(&got), code(&want));
    let mine = |s: &Side, o: &Output| -> Vec<Value> {
        let all: Vec<Value> = serde_json::from_str(&text(s, o)).expect("ls json");
        all.into_iter().filter(|p| p["Name"] == "P").collect()
    };
    let (gv, wv) = (mine(&o, &got), mine(&r, &want));
    assert_eq!(gv.len(), 1, "{}", text(&o, &got));
    assert_eq!(gv, wv);
    assert_eq!(
        serde_json::to_string(&gv[0]).unwrap(),
        serde_json::to_string(&wv[0]).unwrap(),
        "field order"
    );
}

fn code(o: &Output) -> i32 {
    o.status.code().unwrap_or(-1)
}

#[test]
fn version_formats_match_compose() {
    let dir = tempfile::tempdir().expect("tempdir");
    let side = |tool| Side {
        tool,
        project: "unused-version-project".into(),
        dir: dir.path().to_path_buf(),
    };
    let (o, r) = (side("orch"), side("ref"));
    let shape = |s: &Side, args: &[&str]| {
        let out = s.run(args);
        assert!(out.status.success(), "{} {args:?}: {}", s.tool, stderr(&out));
        // Version numbers differ by tool; the shape must not.
        let digits = |c: char| c.is_ascii_digit();
        let text = stdout(&out);
        let mut norm = String::new();
        for c in text.chars() {
            if !(digits(c) && norm.ends_with('N')) {
                norm.push(if digits(c) { 'N' } else { c });
            }
        }
        norm.replace("Docker Compose", "TOOL").replace("orch", "TOOL")
    };
    for args in [
        &["version"][..],
        &["version", "--short"],
        &["version", "--format", "json"],
        &["version", "-f", "json"],
    ] {
        assert_eq!(shape(&o, args), shape(&r, args), "{args:?}");
    }
    let json: Value = serde_json::from_str(&stdout(&o.run(&["version", "--format", "json"]))).expect("json");
    assert!(json["version"].as_str().unwrap_or("").starts_with('v'), "{json}");
}
