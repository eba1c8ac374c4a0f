//! Engine selection as the docker CLI does it (issue 18): `--context`,
//! `-H`, `DOCKER_HOST`, `DOCKER_CONTEXT` and `docker context use`, each
//! test in its own `DOCKER_CONFIG` (contexts made by `docker context
//! create`, the reference being the docker CLI on the machine).

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::cluster::Cluster;
use common::*;

/// Which engine a tool went to: the unreachable address it named in its
/// error, or "local" when it reached the machine's engine.
fn engine_of(out: &Output) -> String {
    if out.status.success() {
        return "local".into();
    }
    let err = String::from_utf8_lossy(&out.stderr);
    if err.contains("conflicting options") {
        return "conflict".into();
    }
    const AT: &str = "tcp://127.0.0.1:";
    match err.find(AT) {
        Some(i) => {
            let port: String = err[i + AT.len()..].chars().take_while(char::is_ascii_digit).collect();
            format!("{AT}{port}")
        }
        None => format!("other: {err}"),
    }
}

fn context_create(config: &Path, name: &str, host: &str) {
    let out = Command::new("docker")
        .env("DOCKER_CONFIG", config)
        .args(["context", "create", name, "--docker", &format!("host={host}")])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
}

/// Every combination of the five ways to name an engine: both tools pick
/// the same one (each source names its own unreachable address).
#[test]
fn precedence_matches_the_docker_cli_on_every_combination() {
    let config = tempfile::tempdir().unwrap();
    let dir = config.path();
    context_create(dir, "by-flag", "tcp://127.0.0.1:11");
    context_create(dir, "by-env", "tcp://127.0.0.1:12");
    context_create(dir, "by-config", "tcp://127.0.0.1:13");
    let mut seen = std::collections::BTreeSet::new();
    for bits in 0..32u32 {
        let on = |i: u32| bits & (1 << i) != 0;
        let config_json = if on(4) {
            "{\"currentContext\": \"by-config\"}"
        } else {
            "{}"
        };
        std::fs::write(dir.join("config.json"), config_json).unwrap();
        let run = |tool: &str, args: &[&str]| {
            let mut c = match tool {
                "docker" => Command::new("docker"),
                _ => orch(),
            };
            c.env("DOCKER_CONFIG", dir)
                .env_remove("DOCKER_HOST")
                .env_remove("DOCKER_CONTEXT");
            if on(0) {
                c.args(["--context", "by-flag"]);
            }
            if on(1) {
                c.args(["-H", "tcp://127.0.0.1:14"]);
            }
            if on(2) {
                c.env("DOCKER_CONTEXT", "by-env");
            }
            if on(3) {
                c.env("DOCKER_HOST", "tcp://127.0.0.1:15");
            }
            c.args(args).output().unwrap()
        };
        let docker = engine_of(&run("docker", &["container", "ls", "-q"]));
        let ours = engine_of(&run("orch", &["container", "ls", "-q"]));
        assert_eq!(
            ours, docker,
            "combination {bits:05b} (flag ctx, -H, DOCKER_CONTEXT, DOCKER_HOST, current)"
        );
        seen.insert(docker);
        // The same name for it, where one is shown.
        if on(0) && on(1) {
            continue;
        }
        let show = |tool: &str| String::from_utf8_lossy(&run(tool, &["context", "show"]).stdout).into_owned();
        assert_eq!(show("orch"), show("docker"), "context show, combination {bits:05b}");
    }
    assert_eq!(seen.len(), 7, "every source won somewhere: {seen:?}");
}

#[test]
fn context_commands_read_and_write_the_docker_cli_files() {
    let config = tempfile::tempdir().unwrap();
    let dir = config.path();
    context_create(dir, "n2", "tcp://127.0.0.1:16");
    let both = |args: &[&str]| {
        let run = |mut c: Command| {
            c.env("DOCKER_CONFIG", dir)
                .env_remove("DOCKER_HOST")
                .env_remove("DOCKER_CONTEXT");
            c.args(args).output().unwrap()
        };
        (run(orch()), run(Command::new("docker")))
    };
    for args in [
        &["context", "ls"][..],
        &["context", "ls", "-q"],
        &["context", "ls", "--format", "json"],
        &["context", "show"],
        &["context", "inspect", "n2"],
        &["context", "inspect"],
    ] {
        let (o, d) = both(args);
        assert_eq!(o.status.code(), d.status.code(), "{args:?}: {}", stderr(&o));
        assert_eq!(stdout(&o), stdout(&d), "{args:?}");
    }
    // `use` with one tool is seen by the other.
    let (o, _) = both(&["context", "use", "n2"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let shown = Command::new("docker")
        .env("DOCKER_CONFIG", dir)
        .args(["context", "show"])
        .output()
        .unwrap();
    assert_eq!(stdout(&shown), "n2\n");
    let (o, d) = both(&["context", "ls"]);
    assert_eq!(stdout(&o), stdout(&d));
    let (o, d) = both(&["context", "use", "default"]);
    assert_eq!((o.status.code(), stdout(&o)), (d.status.code(), stdout(&d)));
    // An unknown context: one line naming the known ones, exit 1 as docker.
    let (o, d) = both(&["--context", "nosuch", "container", "ls"]);
    assert_eq!(o.status.code(), d.status.code());
    let err = stderr(&o);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("context \"nosuch\": context not found") && err.contains("(contexts: default, n2)"),
        "{err}"
    );
    let (o, d) = both(&["context", "use", "nosuch"]);
    assert_eq!(o.status.code(), d.status.code());
    // A malformed engine URL, and a context whose TLS files are gone: one
    // line naming the problem, exit 1, as docker fails too.
    let (o, d) = both(&["-H", "bogus://x", "container", "ls"]);
    assert_eq!((o.status.code(), d.status.code()), (Some(1), Some(1)));
    assert_eq!(stderr(&o).lines().count(), 1, "{}", stderr(&o));
    assert!(
        stderr(&o).contains("bogus://x: unsupported address scheme"),
        "{}",
        stderr(&o)
    );
    let certs = tempfile::tempdir().unwrap();
    make_ca(certs.path(), "ca");
    make_client(certs.path(), "ca");
    let file = |f: &str| certs.path().join(f).display().to_string();
    let host = format!(
        "tcp://127.0.0.1:17,ca={},cert={},key={}",
        file("ca.pem"),
        file("cert.pem"),
        file("key.pem")
    );
    context_create(dir, "tlsgone", &host);
    let tls = dir.join("contexts/tls");
    for e in std::fs::read_dir(&tls).unwrap() {
        std::fs::remove_file(e.unwrap().path().join("docker/ca.pem")).unwrap();
    }
    let (o, d) = both(&["--context", "tlsgone", "container", "ls"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(!d.status.success());
    assert_eq!(stderr(&o).lines().count(), 1, "{}", stderr(&o));
    assert!(
        stderr(&o).contains("TLS is on but") && stderr(&o).contains("ca.pem is missing"),
        "{}",
        stderr(&o)
    );
}

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl").current_dir(dir).args(args).output().unwrap();
    assert!(out.status.success(), "openssl {args:?}: {}", stderr(&out));
}

/// A test CA: `NAME.pem`, `NAME-key.pem`.
fn make_ca(dir: &Path, name: &str) {
    let (key, pem) = (format!("{name}-key.pem"), format!("{name}.pem"));
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            &format!("/CN=orch test {name}"),
            "-keyout",
            &key,
            "-out",
            &pem,
        ],
    );
}

/// A client certificate signed by CA `ca`: `cert.pem`, `key.pem`.
fn make_client(dir: &Path, ca: &str) {
    openssl(
        dir,
        &[
            "req",
            "-new",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            "/CN=client",
            "-keyout",
            "key.pem",
            "-out",
            "client.csr",
        ],
    );
    std::fs::write(dir.join("client.ext"), "extendedKeyUsage=clientAuth\n").unwrap();
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-days",
            "2",
            "-in",
            "client.csr",
            "-CA",
            &format!("{ca}.pem"),
            "-CAkey",
            &format!("{ca}-key.pem"),
            "-CAcreateserial",
            "-extfile",
            "client.ext",
            "-out",
            "cert.pem",
        ],
    );
}

/// Node 1's engine over TLS: `-H … --tlsverify` with the files as flags,
/// and a context carrying them, both as the docker CLI; a CA that did not
/// sign the engine's certificate fails, naming the certificate problem.
fn tls_engine(cluster: &Cluster, config: &Path, certs: &Path) {
    let url = format!("tcp://{}:2376", cluster.node(1).ip);
    let file = |f: &str| certs.join(f).display().to_string();
    let flags = |ca: &str| {
        vec![
            "-H".to_string(),
            url.clone(),
            "--tlsverify".into(),
            "--tlscacert".into(),
            file(ca),
            "--tlscert".into(),
            file("cert.pem"),
            "--tlskey".into(),
            file("key.pem"),
        ]
    };
    let run = |mut c: Command, args: &[String]| {
        c.env("DOCKER_CONFIG", config)
            .env_remove("DOCKER_HOST")
            .env_remove("DOCKER_CONTEXT");
        c.args(args).args(["container", "ls", "-q"]).output().unwrap()
    };
    let (ours, theirs) = (
        run(orch(), &flags("ca.pem")),
        run(Command::new("docker"), &flags("ca.pem")),
    );
    assert!(theirs.status.success(), "docker over TLS: {}", stderr(&theirs));
    assert!(ours.status.success(), "orch over TLS: {}", stderr(&ours));
    let host = format!(
        "host={url},ca={},cert={},key={}",
        file("ca.pem"),
        file("cert.pem"),
        file("key.pem")
    );
    let out = Command::new("docker")
        .env("DOCKER_CONFIG", config)
        .args(["context", "create", "tls1", "--docker", &host])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let ours = run(orch(), &["--context".into(), "tls1".into()]);
    assert!(ours.status.success(), "orch through a TLS context: {}", stderr(&ours));
    // Without the client certificate the engine refuses; with another CA
    // orch refuses the engine.
    make_ca(certs, "other");
    let (ours, theirs) = (
        run(orch(), &flags("other.pem")),
        run(Command::new("docker"), &flags("other.pem")),
    );
    assert!(!theirs.status.success());
    assert_eq!(ours.status.code(), Some(1));
    let err = stderr(&ours);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains(&url) && err.to_lowercase().contains("certificate"),
        "{err}"
    );
}

/// Node 2 as an ssh host (`ssh://root@IP`, a key made here): a context on
/// it takes a project there and lists it; a key the host refuses is one
/// line with ssh's own words and exit 1.
fn ssh_engine(cluster: &Cluster, config: &Path, project: &str, work: &Path) {
    let keys = tempfile::tempdir().unwrap();
    for k in ["good", "bad"] {
        let out = Command::new("ssh-keygen")
            .args(["-q", "-t", "ed25519", "-N", "", "-f"])
            .arg(keys.path().join(k))
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
    }
    std::fs::copy(keys.path().join("good.pub"), keys.path().join("authorized_keys")).unwrap();
    cluster.sshd(2, &keys.path().join("authorized_keys"));
    context_create(config, "s2", &format!("ssh://root@{}", cluster.node(2).ip));
    let ssh_with = |key: &str| {
        format!(
            "ssh -i {} -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR",
            keys.path().join(key).display()
        )
    };
    let run = |key: &str, args: &[&str]| {
        orch()
            .current_dir(work)
            .env("DOCKER_CONFIG", config)
            .env("ORCH_SSH_COMMAND", ssh_with(key))
            .env_remove("DOCKER_HOST")
            .env_remove("DOCKER_CONTEXT")
            .args(args)
            .output()
            .unwrap()
    };
    let out = run("good", &["--context", "s2", "-p", project, "up", "-d"]);
    assert!(out.status.success(), "up through ssh: {}", stderr(&out));
    let label = format!("label=com.docker.compose.project={project}");
    assert_eq!(cluster.docker(2, &["ps", "-q", "--filter", &label]).lines().count(), 1);
    let ps = run("good", &["--context", "s2", "-p", project, "ps"]);
    assert!(stdout(&ps).contains(&format!("{project}-app-1")), "{}", stderr(&ps));
    let refused = run("bad", &["--context", "s2", "-p", project, "ps"]);
    assert_eq!(refused.status.code(), Some(1));
    let err = stderr(&refused);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("Permission denied") && err.contains("ssh://root@"),
        "{err}"
    );
    let down = run("good", &["--context", "s2", "-p", project, "down", "-t", "0"]);
    assert!(down.status.success(), "{}", stderr(&down));
    assert!(cluster.docker(2, &["ps", "-aq", "--filter", &label]).trim().is_empty());
}

/// Contexts naming other engines: `up` goes there and nowhere else, and
/// `DOCKER_CONTEXT` or `context use` make `ps` list it, as the docker CLI's
/// own `ps` through the same context does. Then `scripts/fleet.rhai`
/// deploys to three engines, one of them stopped: that one is reported
/// failed, the others done and left running.
#[test]
fn contexts_send_projects_to_their_engines_and_fleet_deploys_to_many() {
    let image = test_image();
    let certs = tempfile::tempdir().unwrap();
    make_ca(certs.path(), "ca");
    make_client(certs.path(), "ca");
    let cluster = Cluster::start_tls(3, &[image], certs.path());
    let config = tempfile::tempdir().unwrap();
    let dir = config.path();
    for i in 1..=3 {
        context_create(dir, &format!("n{i}"), &cluster.node(i).host);
    }
    tls_engine(&cluster, dir, certs.path());
    let project = unique("ctx");
    let work = tempfile::tempdir().unwrap();
    std::fs::write(
        work.path().join("compose.yaml"),
        format!("services:\n  app:\n    image: {image}\n    command: [\"sleep\", \"300\"]\n"),
    )
    .unwrap();
    let run = |env: &[(&str, &str)], args: &[&str]| {
        let mut c = orch();
        c.current_dir(work.path())
            .env("PWD", work.path())
            .env("DOCKER_CONFIG", dir)
            .env_remove("DOCKER_HOST")
            .env_remove("DOCKER_CONTEXT");
        for (k, v) in env {
            c.env(k, v);
        }
        c.args(args).output().unwrap()
    };
    let out = run(&[], &["--context", "n1", "-p", &project, "up", "-d"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let label = format!("label=com.docker.compose.project={project}");
    assert!(
        docker(&["ps", "-aq", "--filter", &label]).trim().is_empty(),
        "nothing on the local engine"
    );
    assert_eq!(cluster.docker(1, &["ps", "-q", "--filter", &label]).lines().count(), 1);
    let listed = |out: Output| stdout(&out).lines().filter(|l| l.contains(&project)).count();
    assert_eq!(listed(run(&[("DOCKER_CONTEXT", "n1")], &["-p", &project, "ps"])), 1);
    assert_eq!(
        listed(run(&[], &["-p", &project, "ps"])),
        0,
        "the default context is the local engine"
    );
    let reference = Command::new("docker")
        .env("DOCKER_CONFIG", dir)
        .args(["--context", "n1", "ps", "--filter", &label, "--format", "{{.Names}}"])
        .output()
        .unwrap();
    assert_eq!(stdout(&reference).trim(), format!("{project}-app-1"));
    // Docker Compose through the same context lists what orch does.
    let names = ["-p", &project, "ps", "--format", "{{.Name}} {{.Service}} {{.State}}"];
    let theirs = Command::new(compose_ref())
        .current_dir(work.path())
        .env("DOCKER_CONFIG", dir)
        .env_remove("DOCKER_HOST")
        .env("DOCKER_CONTEXT", "n1")
        .args(names)
        .output()
        .unwrap();
    let ours = run(&[("DOCKER_CONTEXT", "n1")], &names);
    assert!(theirs.status.success(), "{}", stderr(&theirs));
    assert_eq!(stdout(&ours), stdout(&theirs));
    assert_eq!(stdout(&ours).trim(), format!("{project}-app-1 app running"));
    assert!(run(&[], &["context", "use", "n1"]).status.success());
    assert_eq!(listed(run(&[], &["-p", &project, "ps"])), 1);
    assert!(run(&[], &["context", "use", "default"]).status.success());
    ssh_engine(&cluster, dir, &project, work.path());

    // The fleet: node3's engine is down.
    cluster.kill(3);
    let fleet = repo().join("scripts/fleet.rhai");
    let out = run(&[], &["run", fleet.to_str().unwrap(), "n*", "compose.yaml", &project]);
    assert_eq!(out.status.code(), Some(1), "{}\n{}", stdout(&out), stderr(&out));
    let table = stdout(&out);
    let row = |ctx: &str| {
        table
            .lines()
            .find(|l| l.starts_with(&format!("{ctx} ")))
            .unwrap_or_else(|| panic!("no row for {ctx}: {table}"))
            .to_string()
    };
    assert!(row("n1").contains(" done "), "{table}");
    assert!(row("n2").contains(" done "), "{table}");
    assert!(
        row("n3").contains(" failed ") && row("n3").contains(&cluster.node(3).host),
        "{table}"
    );
    for i in 1..=2 {
        let running = cluster.docker(i, &["ps", "-q", "--filter", &label]);
        assert_eq!(running.lines().count(), 1, "node{i} runs the project");
    }
    for n in ["n1", "n2"] {
        let down = run(&[], &["--context", n, "-p", &project, "down", "-t", "0"]);
        assert!(down.status.success(), "{}", stderr(&down));
    }
    assert!(cluster.docker(1, &["ps", "-aq", "--filter", &label]).trim().is_empty());
}
