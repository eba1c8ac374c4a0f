//! Secrets and configs outside Swarm, external resources, and the other
//! resources compose labels (networks, volumes, built images): orch and the
//! reference Docker Compose v2.40.3 run on the same project under two
//! project names, and the tests compare exit codes and what the engine
//! holds.

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::*;

const LOOP: &str = r#"["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"]"#;

/// Runs orch or the reference in `dir` with extra environment variables.
fn run(tool: &str, dir: &Path, env: &[(&str, &str)], args: &[&str]) -> Output {
    let mut cmd = if tool == "orch" {
        orch()
    } else {
        Command::new(compose_ref())
    };
    cmd.args(args).current_dir(dir).envs(env.iter().copied());
    cmd.output().expect("run compose tool")
}

fn code(o: &Output) -> i32 {
    o.status.code().unwrap_or(-1)
}

/// `HostConfig.Mounts`, sorted by target, with the project's folder as `.`.
fn mounts(container: &str, dir: &Path) -> Vec<serde_json::Value> {
    let raw = docker(&["inspect", "-f", "{{json .HostConfig.Mounts}}", container]);
    let mut list: Vec<serde_json::Value> = serde_json::from_str(raw.trim()).unwrap_or_default();
    for m in &mut list {
        if let Some(s) = m["Source"].as_str() {
            m["Source"] = serde_json::json!(s.replace(&dir.display().to_string(), "."));
        }
    }
    list.sort_by(|a, b| a["Target"].as_str().cmp(&b["Target"].as_str()));
    list
}

/// Owner, group, mode and content of files inside a running container.
fn files(container: &str, paths: &[&str]) -> String {
    let script = paths
        .iter()
        .map(|p| format!("stat -c '%u %g %a %n' {p}; cat {p}; echo"))
        .collect::<Vec<_>>()
        .join("; ");
    docker(&["exec", container, "sh", "-c", &script])
}

fn project_resources(project: &str) -> Vec<String> {
    let label = format!("label=com.docker.compose.project={project}");
    let mut found = Vec::new();
    for (kind, args) in [
        (
            "container",
            vec!["ps", "-a", "--filter", &label, "--format", "{{.Names}}"],
        ),
        (
            "network",
            vec!["network", "ls", "--filter", &label, "--format", "{{.Name}}"],
        ),
        (
            "volume",
            vec!["volume", "ls", "--filter", &label, "--format", "{{.Name}}"],
        ),
    ] {
        found.extend(docker(&args).lines().map(|l| format!("{kind} {l}")));
    }
    found
}

fn write_project(text: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("compose.yaml"), text).unwrap();
    dir
}

#[test]
fn secrets_and_configs_are_mounted_and_written_as_compose_does() {
    let image = test_image();
    let dir = write_project(&format!(
        r#"
services:
  app:
    image: {image}
    command: {LOOP}
    secrets:
      - pw
      - source: envsec
        target: custom
        mode: 0400
        uid: "123"
        gid: "456"
    configs:
      - cfgfile
      - source: cfgcontent
        target: /etc/cc.conf
        mode: 0640
      - source: cfgenv
        target: rel.conf
secrets:
  pw:
    file: ./pw.txt
  envsec:
    environment: ORCHT_SECRET
configs:
  cfgfile:
    file: ./pw.txt
  cfgcontent:
    content: "hello config"
  cfgenv:
    environment: ORCHT_SECRET
"#
    ));
    std::fs::write(dir.path().join("pw.txt"), "s3cret").unwrap();
    let env = [("ORCHT_SECRET", "from-env")];
    let paths = [
        "/run/secrets/pw",
        "/run/secrets/custom",
        "/cfgfile",
        "/etc/cc.conf",
        "/rel.conf",
    ];
    let mut seen = Vec::new();
    let mut guards = Vec::new();
    for tool in ["orch", "ref"] {
        let project = unique(&format!("sec{tool}"));
        guards.push(ProjectCleanup {
            dir: dir.path().to_path_buf(),
            project: project.clone(),
        });
        let out = run(tool, dir.path(), &env, &["-p", &project, "up", "-d"]);
        assert_eq!(code(&out), 0, "{tool} up: {}", stderr(&out));
        let c = format!("{project}-app-1");
        seen.push((mounts(&c, dir.path()), files(&c, &paths)));
    }
    assert_eq!(seen[0].0, seen[1].0, "mounts differ (orch, reference)");
    assert_eq!(seen[0].1, seen[1].1, "files differ (orch, reference)");
    assert!(
        seen[0].1.contains("123 456 400 /run/secrets/custom\nfrom-env"),
        "{}",
        seen[0].1
    );

    // Interop: the reference finds orch's container current, and the reverse.
    let (orch_p, ref_p) = (&guards[0].project, &guards[1].project);
    for (tool, project) in [("ref", orch_p), ("orch", ref_p)] {
        let c = format!("{project}-app-1");
        let before = docker(&["inspect", "-f", "{{.Id}}", &c]);
        let out = run(tool, dir.path(), &env, &["-p", project, "up", "-d"]);
        assert_eq!(code(&out), 0, "{tool} up again: {}", stderr(&out));
        assert_eq!(
            before,
            docker(&["inspect", "-f", "{{.Id}}", &c]),
            "{tool} recreated {c}"
        );
    }
}

#[test]
fn a_missing_secret_file_or_variable_fails_as_compose_and_creates_no_container() {
    let image = test_image();
    let dir = write_project(&format!(
        r#"
services:
  app:
    image: {image}
    command: {LOOP}
    secrets: [pw]
  other:
    image: {image}
    command: {LOOP}
secrets:
  pw:
    file: ./missing.txt
"#
    ));
    let unset = tempfile::tempdir().unwrap();
    std::fs::write(
        unset.path().join("compose.yaml"),
        format!(
            "services:\n  app:\n    image: {image}\n    command: {LOOP}\n    configs: [c]\nconfigs:\n  c:\n    environment: ORCHT_UNSET_VARIABLE\n"
        ),
    )
    .unwrap();
    for (folder, needle) in [(dir.path(), "missing.txt"), (unset.path(), "ORCHT_UNSET_VARIABLE")] {
        let mut codes = Vec::new();
        for tool in ["orch", "ref"] {
            let project = unique(&format!("miss{tool}"));
            let _g = ProjectCleanup {
                dir: folder.to_path_buf(),
                project: project.clone(),
            };
            let out = run(tool, folder, &[], &["-p", &project, "up", "-d"]);
            codes.push(code(&out));
            assert!(stderr(&out).contains(needle), "{tool}: {}", stderr(&out));
            let made = project_resources(&project);
            if tool == "orch" {
                assert!(made.is_empty(), "orch created {made:?}");
            } else if needle == "missing.txt" {
                // (For an unset variable compose creates the container, then
                // fails to start it: orch stops earlier, creating a subset.
                // `other` may or may not be made, as compose's create races.)
                assert!(!made.iter().any(|r| r.contains("-app-")), "{made:?}");
            }
        }
        assert_eq!(codes[0], codes[1], "exit codes (orch, reference) for {needle}");
        assert_eq!(codes[0], 1);
    }
}

#[test]
fn missing_external_resources_fail_as_compose_and_orch_creates_nothing() {
    let image = test_image();
    let tag = unique("ext");
    let cases = [
        (
            format!("    volumes: [data:/data]\nvolumes:\n  data:\n    external: true\n    name: {tag}-vol\n"),
            format!("external volume \"{tag}-vol\" not found"),
        ),
        (
            format!("    networks: [ext]\nnetworks:\n  ext:\n    external: true\n    name: {tag}-net\n"),
            format!("network {tag}-net declared as external, but could not be found"),
        ),
        (
            format!("    secrets: [s]\nsecrets:\n  s:\n    external: true\n    name: {tag}-secret\n"),
            format!("unsupported external secret {tag}-secret"),
        ),
    ];
    for (tail, message) in cases {
        let dir = write_project(&format!(
            "services:\n  app:\n    image: {image}\n    command: {LOOP}\n{tail}"
        ));
        let mut codes = Vec::new();
        for tool in ["orch", "ref"] {
            let project = unique(&format!("ext{tool}"));
            let _g = ProjectCleanup {
                dir: dir.path().to_path_buf(),
                project: project.clone(),
            };
            let out = run(tool, dir.path(), &[], &["-p", &project, "up", "-d"]);
            codes.push(code(&out));
            assert!(stderr(&out).contains(&message), "{tool}: {}", stderr(&out));
            let made = project_resources(&project);
            if tool == "orch" {
                assert!(made.is_empty(), "orch created {made:?}");
            } else {
                assert!(!made.iter().any(|r| r.starts_with("container")), "{made:?}");
            }
        }
        assert_eq!(codes, [1, 1], "exit codes (orch, reference): {message}");
        // Never created behind the user's back.
        assert!(resources_named(&format!("{tag}-vol")).is_empty());
    }
}

/// The image's labels, with the project name as `P`.
fn image_labels(image: &str, project: &str) -> String {
    docker(&["image", "inspect", "-f", "{{json .Config.Labels}}", image]).replace(project, "P")
}

#[test]
fn built_images_carry_compose_labels_so_down_rmi_local_removes_them() {
    let image = test_image();
    let dir = write_project(&format!(
        "services:\n  web:\n    build:\n      context: .\n      labels: {{x: y}}\n    image: orcht-built/${{P}}\n    command: {LOOP}\n"
    ));
    std::fs::write(dir.path().join("Dockerfile"), format!("FROM {image}\nLABEL foo=bar\n")).unwrap();
    let mut labels = Vec::new();
    for (tool, step) in [("orch", "build"), ("orch", "up"), ("ref", "build")] {
        let project = unique(&format!("img{tool}"));
        let _g = ProjectCleanup {
            dir: dir.path().to_path_buf(),
            project: project.clone(),
        };
        let tag = format!("orcht-built/{project}");
        let env = [("P", project.as_str())];
        let args: &[&str] = if step == "up" { &["up", "-d"] } else { &["build"] };
        let out = run(tool, dir.path(), &env, &[&["-p", project.as_str()], args].concat());
        assert_eq!(code(&out), 0, "{tool} {step}: {}", stderr(&out));
        labels.push(image_labels(&tag, &project));
        // The reference removes what orch built, as its own. (With `-p` and
        // no `-f`, compose's down works from labels and skips images.)
        let out = run(
            "ref",
            dir.path(),
            &env,
            &["-f", "compose.yaml", "-p", &project, "down", "--rmi", "local"],
        );
        assert_eq!(code(&out), 0, "down --rmi local: {}", stderr(&out));
        let left = Command::new("docker")
            .args(["image", "inspect", &tag])
            .output()
            .unwrap();
        if !left.status.success() {
            continue;
        }
        let _ = Command::new("docker").args(["rmi", &tag]).output();
        panic!(
            "docker compose down --rmi local left {tag} ({tool} {step}): {}",
            stderr(&out)
        );
    }
    assert_eq!(labels[0], labels[2], "orch build vs reference build");
    assert_eq!(labels[1], labels[2], "orch up vs reference build");
}

/// Labels and `Internal` of the project's networks and volumes, by key.
fn resource_labels(project: &str) -> Vec<String> {
    let mut out = Vec::new();
    for key in ["default", "front"] {
        let name = format!("{project}_{key}");
        out.push(docker(&["network", "inspect", "-f", "{{json .Labels}} {{.Internal}}", &name]).replace(project, "P"));
    }
    for key in ["data", "vol2"] {
        let name = format!("{project}_{key}");
        out.push(docker(&["volume", "inspect", "-f", "{{json .Labels}}", &name]).replace(project, "P"));
    }
    out
}

/// The container's ID, state and aliases per network (its short ID as `ID`).
fn container_view(c: &str) -> String {
    let id = docker(&["inspect", "-f", "{{.Id}}", c]).trim().to_string();
    let raw = docker(&[
        "inspect",
        "-f",
        "{{.State.Status}}{{range $k, $v := .NetworkSettings.Networks}} {{$k}}={{range $v.Aliases}}{{.}},{{end}}{{end}}",
        c,
    ])
    .replace(&id[..12], "ID")
    .replace(c, "NAME");
    // Alias order is the engine's; compare the sets.
    raw.split_whitespace()
        .map(|w| match w.split_once('=') {
            Some((net, aliases)) => {
                let mut parts: Vec<&str> = aliases.split(',').filter(|x| !x.is_empty()).collect();
                parts.sort_unstable();
                format!("{net}={}", parts.join(","))
            }
            None => w.to_string(),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Labels with the config hash (which covers the project name) left out.
fn without_hash(labels: Vec<String>) -> Vec<String> {
    labels
        .into_iter()
        .map(|l| match l.find("config-hash\":\"") {
            Some(i) => format!("{}{}", &l[..i], &l[i + 14 + 64..]),
            None => l,
        })
        .collect()
}

#[test]
fn networks_and_volumes_carry_compose_hashes_and_changes_apply_as_compose() {
    let image = test_image();
    let compose = |internal: &str, label: &str| {
        format!(
            "services:\n  app:\n    image: {image}\n    command: {LOOP}\n    networks: [front, default]\n    volumes: [data:/data, vol2:/v2]\nnetworks:\n  front:\n{internal}    labels: {{a: b}}\nvolumes:\n  data: {{}}\n  vol2:\n    labels: {{x: {label}}}\n"
        )
    };
    let dir = write_project(&compose("", "1"));
    let file = dir.path().join("compose.yaml");
    // The same project name, one tool after the other: identical labels.
    let shared = unique("hash");
    let mut seen = Vec::new();
    for tool in ["orch", "ref"] {
        let _g = ProjectCleanup {
            dir: dir.path().to_path_buf(),
            project: shared.clone(),
        };
        let out = run(tool, dir.path(), &[], &["-p", &shared, "up", "-d"]);
        assert_eq!(code(&out), 0, "{tool}: {}", stderr(&out));
        seen.push(resource_labels(&shared));
        let out = run(tool, dir.path(), &[], &["-p", &shared, "down", "-v", "-t", "0"]);
        assert_eq!(code(&out), 0, "{tool} down: {}", stderr(&out));
    }
    assert_eq!(seen[0], seen[1], "labels (orch, reference)");
    assert!(seen[0][1].contains("com.docker.compose.config-hash"), "{}", seen[0][1]);

    let projects = [unique("hashorch"), unique("hashref")];
    let _guards: Vec<ProjectCleanup> = projects
        .iter()
        .map(|p| ProjectCleanup {
            dir: dir.path().to_path_buf(),
            project: p.clone(),
        })
        .collect();
    let up = |tool: &str, project: &str, extra: &[&str]| {
        let out = run(tool, dir.path(), &[], &[&["-p", project, "up", "-d"], extra].concat());
        assert_eq!(code(&out), 0, "{tool} up {extra:?}: {}", stderr(&out));
    };
    for (tool, p) in [("orch", &projects[0]), ("ref", &projects[1])] {
        up(tool, p, &[]);
    }
    let ids: Vec<String> = projects
        .iter()
        .map(|p| docker(&["inspect", "-f", "{{.Id}}", &format!("{p}-app-1")]))
        .collect();
    // A network change: the network is recreated, the container kept,
    // stopped, reconnected and started again. A volume change is refused
    // without -y, applied with it.
    for (step, text, extra) in [
        ("network", compose("    internal: true\n", "1"), &[][..]),
        ("volume, no -y", compose("    internal: true\n", "2"), &[][..]),
        ("volume, -y", compose("    internal: true\n", "3"), &["-y"][..]),
    ] {
        std::fs::write(&file, text).unwrap();
        let mut views = Vec::new();
        for (tool, p) in [("orch", &projects[0]), ("ref", &projects[1])] {
            up(tool, p, extra);
            let c = format!("{p}-app-1");
            views.push((
                container_view(&c).replace(p.as_str(), "P"),
                without_hash(resource_labels(p)),
            ));
        }
        assert_eq!(views[0], views[1], "after the {step} change (orch, reference)");
        if step == "network" {
            assert!(views[0].1[1].ends_with("true\n"), "{:?}", views[0].1);
            for (p, id) in projects.iter().zip(&ids) {
                assert_eq!(&docker(&["inspect", "-f", "{{.Id}}", &format!("{p}-app-1")]), id);
            }
        }
    }
    // Each tool finds the other's result current.
    for (tool, p) in [("ref", &projects[0]), ("orch", &projects[1])] {
        let c = format!("{p}-app-1");
        let before = docker(&["inspect", "-f", "{{.Id}} {{.State.StartedAt}}", &c]);
        up(tool, p, &[]);
        assert_eq!(
            before,
            docker(&["inspect", "-f", "{{.Id}} {{.State.StartedAt}}", &c]),
            "{tool} changed {c}"
        );
    }
}
