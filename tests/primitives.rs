//! The engine primitives, each checked against what the engine itself
//! reports through the docker CLI.

mod common;

use common::*;

#[test]
fn build_honours_dockerignore_and_build_args_then_tag_save_load_remove() {
    let base = test_image();
    let tag = unique("img");
    let ctx = tempfile::tempdir().unwrap();
    std::fs::write(
        ctx.path().join("Dockerfile"),
        format!("FROM {base}\nARG GREETING\nCOPY . /ctx\nRUN echo \"$GREETING\" > /greeting\n"),
    )
    .unwrap();
    std::fs::write(ctx.path().join(".dockerignore"), "secret.txt\nlogs\n!logs/keep.log\n").unwrap();
    std::fs::write(ctx.path().join("kept.txt"), "kept").unwrap();
    std::fs::write(ctx.path().join("secret.txt"), "secret").unwrap();
    std::fs::create_dir(ctx.path().join("logs")).unwrap();
    std::fs::write(ctx.path().join("logs/a.log"), "a").unwrap();
    std::fs::write(ctx.path().join("logs/keep.log"), "keep").unwrap();
    let tar = ctx.path().join("saved.tar");
    let (_d, path) = script(&format!(
        r#"
        let lines = [];
        let img = image::build(#{{ context: "{ctx}", tag: "{tag}:1", build_args: #{{ GREETING: "hi there" }},
                                  on_output: |line| lines.push(line) }});
        if lines.len() == 0 {{ throw "no build output reached on_output"; }}
        img.tag("{tag}:2");
        img.save("{tar}");
        let c = container::run(#{{ image: "{tag}:1", command: "ls /ctx /ctx/logs; cat /greeting" }});
        c.wait();
        print(c.logs());
        c.remove();
        image::get("{tag}:2").remove(#{{ name: "{tag}:2" }});
        print(`exists2=${{image::exists("{tag}:2")}}`);
        img.remove();
        print(`exists1=${{image::exists("{tag}:1")}}`);
        let names = image::load("{tar}");
        print(`loaded=${{names}}`);
        "#,
        ctx = ctx.path().display(),
        tar = tar.display()
    ));
    let out = run_script(&path, &[]);
    let text = stdout(&out);
    // Whatever happened, remove the image from the engine.
    let _ = std::process::Command::new("docker")
        .args(["rmi", "-f", &format!("{tag}:1"), &format!("{tag}:2")])
        .output();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(text.contains("kept.txt"), "{text}");
    assert!(!text.contains("secret.txt"), "ignored file reached the image: {text}");
    assert!(
        text.contains("keep.log") && !text.contains("a.log"),
        "! exception not honoured: {text}"
    );
    assert!(text.contains("Dockerfile"), "the Dockerfile is always sent: {text}");
    assert!(text.contains("hi there"), "build arg missing: {text}");
    assert!(
        text.contains("exists2=false") && text.contains("exists1=false"),
        "{text}"
    );
    assert!(
        text.contains(&format!("{tag}:1")) && text.contains(&format!("{tag}:2")),
        "load: {text}"
    );
    assert!(tar.metadata().unwrap().len() > 100_000, "saved tar is too small");
}

/// A failing `RUN` on either builder: BuildKit (the default, as compose
/// and the Docker CLI pick it) and the classic builder (`DOCKER_BUILDKIT=0`).
/// Each says the engine's own words and shows the failing step.
#[test]
fn build_failure_reports_the_engines_message_and_the_failing_step() {
    for (buildkit, engine_says) in [("1", "exit code: 3"), ("0", "returned a non-zero code: 3")] {
        let tag = unique("badimg");
        let ctx = tempfile::tempdir().unwrap();
        std::fs::write(
            ctx.path().join("Dockerfile"),
            format!("FROM {}\nRUN exit 3\n", test_image()),
        )
        .unwrap();
        let (_d, path) = script(&format!(
            "image::build(#{{ context: \"{}\", tag: \"{tag}\" }});\n",
            ctx.path().display()
        ));
        let out = orch()
            .env("DOCKER_BUILDKIT", buildkit)
            .arg("run")
            .arg(&path)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1));
        let err = stderr(&out);
        assert!(err.contains(&format!("image build {tag}")), "{err}");
        assert!(err.contains(engine_says), "DOCKER_BUILDKIT={buildkit}: {err}");
        assert!(err.contains("RUN exit 3"), "the failing step is shown: {err}");
    }
}

#[test]
fn containers_networks_and_volumes_as_the_engine_reports_them() {
    let image = test_image();
    let p = unique("prim");
    let _guard = Cleanup(p.clone());
    let (_d, path) = script(&format!(
        r#"
        let labels = #{{ "orch.test": "{p}" }};
        let net = network::create(#{{ name: "{p}-net", labels: labels }});
        let vol = volume::create(#{{ name: "{p}-vol", labels: labels }});
        let c = container::run(#{{
            name: "{p}-c", image: "{image}", labels: labels, network: net.name, aliases: ["svc"],
            env: #{{ GREETING: "hi" }}, volumes: [`${{vol.name}}:/data`],
            command: "trap 'exit 0' TERM; echo started; sleep 300 & wait",
        }});
        let r = c.exec("echo $GREETING > /data/f; cat /data/f; echo err >&2; exit 4");
        print(`exec=${{r.exit_code}}|${{r.stdout}}|${{r.stderr}}`);
        print(`state=${{c.inspect().State.Status}}`);
        print(`listed=${{container::list(#{{ label: "orch.test={p}" }}).len()}}`);
        print(`vols=${{volume::list(#{{ label: "orch.test={p}" }}).len()}}`);
        let n2 = network::create("{p}-net2");
        n2.connect(c, #{{ aliases: ["other"] }});
        print(`nets=${{c.inspect().NetworkSettings.Networks.keys().len()}}`);
        n2.disconnect(c);
        n2.remove();
        c.kill("SIGTERM");
        print(`code=${{c.wait()}}`);
        let lines = [];
        c.logs(#{{}}, |line| lines.push(line));
        print(`logs=${{lines}}`);
        "#
    ));
    let out = run_script(&path, &[]);
    let text = stdout(&out);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(text.contains("exec=4|hi\n|err\n"), "{text}");
    assert!(text.contains("state=running"), "{text}");
    assert!(
        text.contains("listed=1") && text.contains("vols=1") && text.contains("nets=2"),
        "{text}"
    );
    assert!(text.contains("code=0"), "{text}");
    assert!(text.contains("logs=[\"started\"]"), "{text}");
    // The engine agrees: the container carries the label, the alias and
    // the volume mount; the second network is gone.
    let labels = docker(&["inspect", "-f", "{{json .Config.Labels}}", &format!("{p}-c")]);
    assert!(labels.contains(&format!("\"orch.test\":\"{p}\"")), "{labels}");
    let aliases = docker(&[
        "inspect",
        "-f",
        &format!("{{{{json (index .NetworkSettings.Networks \"{p}-net\").Aliases}}}}"),
        &format!("{p}-c"),
    ]);
    assert!(aliases.contains("svc"), "{aliases}");
    let mounts = docker(&["inspect", "-f", "{{range .Mounts}}{{.Name}}{{end}}", &format!("{p}-c")]);
    assert_eq!(mounts.trim(), format!("{p}-vol"));
    assert!(!docker(&["network", "ls", "--format", "{{.Name}}"])
        .lines()
        .any(|l| l == format!("{p}-net2")));
}

#[test]
fn ports_restart_and_healthcheck_reach_the_engine() {
    let image = test_image();
    let p = unique("spec");
    let _guard = Cleanup(p.clone());
    let (_d, path) = script(&format!(
        r#"
        let c = container::create(#{{
            name: "{p}", image: "{image}", ports: ["127.0.0.1::8080", "9090/udp"], restart: "on-failure:3",
            healthcheck: #{{ test: "true", interval: "2s", retries: 4 }}, memory: "64m", init: true, command: ["sleep", "1"],
        }});
        print(c.name);
        "#
    ));
    let out = run_script(&path, &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let get = |f: &str| docker(&["inspect", "-f", f, &p]).trim().to_string();
    assert_eq!(
        get("{{.HostConfig.RestartPolicy.Name}}:{{.HostConfig.RestartPolicy.MaximumRetryCount}}"),
        "on-failure:3"
    );
    assert_eq!(get("{{json .Config.Healthcheck.Test}}"), r#"["CMD-SHELL","true"]"#);
    assert_eq!(
        get("{{.Config.Healthcheck.Interval}}:{{.Config.Healthcheck.Retries}}"),
        "2s:4"
    );
    assert_eq!(get("{{.HostConfig.Memory}}"), (64 * 1024 * 1024).to_string());
    assert!(get("{{json .HostConfig.PortBindings}}").contains(r#""8080/tcp":[{"HostIp":"127.0.0.1","HostPort":""}]"#));
    assert!(get("{{json .Config.ExposedPorts}}").contains("9090/udp"));
}

#[test]
fn unknown_options_are_errors_that_list_the_known_ones() {
    let (_d, path) = script("container::create(#{ imagee: \"x\" });\n");
    let out = run_script(&path, &[]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("container::create: unknown option `imagee`"), "{err}");
    assert!(err.contains("image"), "{err}");
}

#[test]
fn health_as_data_and_wait_healthy_name_the_container_and_its_last_check() {
    let image = test_image();
    let p = unique("health");
    let _guard = Cleanup(p.clone());
    let (_d, path) = script(&format!(
        r#"
        let cmd = ["sh", "-c", "trap 'exit 0' TERM; sleep 300 & wait"];
        let good = container::run(#{{ name: "{p}-good", image: "{image}", command: cmd,
            labels: #{{ "orcht.project": "{p}" }}, healthcheck: #{{ test: "echo ok-check", interval: "1s" }} }});
        let bad = container::run(#{{ name: "{p}-bad", image: "{image}", command: cmd,
            labels: #{{ "orcht.project": "{p}" }}, healthcheck: #{{ test: "echo broken-check >&2; exit 3", interval: "1s", retries: 2 }} }});
        let plain = container::run(#{{ name: "{p}-plain", image: "{image}", command: cmd, labels: #{{ "orcht.project": "{p}" }} }});
        print(`plain=${{plain.health}}`);
        container::wait_healthy(good, #{{ timeout: 60, stable_for: 2 }});
        print(`good=${{good.health}} code=${{good.health_log[-1].exit_code}} last=${{good.health_log[-1].output}}`);
        try {{ container::wait_healthy(bad, #{{ timeout: 60 }}); }} catch (e) {{ print(`bad error: ${{e}}`); }}
        print(`bad=${{bad.health}}`);
        try {{ container::wait_healthy(plain, #{{}}); }} catch (e) {{ print(`plain error: ${{e}}`); }}
        "#
    ));
    let out = run_script(&path, &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("plain=none"), "{text}");
    assert!(text.contains("good=healthy code=0 last=ok-check"), "{text}");
    assert!(
        text.contains(&format!("bad error: container::wait_healthy {p}-bad: the container is unhealthy; last health check exited 3: \"broken-check\"")),
        "{text}"
    );
    assert!(text.contains("bad=unhealthy"), "{text}");
    assert!(
        text.contains(&format!(
            "plain error: container::wait_healthy {p}-plain: the container has no healthcheck"
        )),
        "{text}"
    );
    let engine = docker(&["inspect", "-f", "{{.State.Health.Status}}", &format!("{p}-bad")]);
    assert_eq!(engine.trim(), "unhealthy");
}
