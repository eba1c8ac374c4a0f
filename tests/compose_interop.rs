//! Compose behaviours checked side by side with Docker Compose v2.40.3:
//! both tools run on the same project (each under its own project name,
//! or one after the other on the same one) and the engine's state, exit
//! codes and output are compared. This file: `up` (hashes, images,
//! references, numbering, profiles, repairs).

mod common;

use common::pair::*;
use common::*;

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
    let theirs = ok("reference config", reference(dir.path(), &args));
    let ours = ok("orch config", orch_in(dir.path(), &args));
    assert_eq!(stdout(&ours).trim_end(), stdout(&theirs).trim_end());
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
    let c = std::process::Command::new(compose_ref())
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
    ok("reference up", reference(dir.path(), &["-p", &project, "up", "-d"]));
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
