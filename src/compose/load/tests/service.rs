use std::path::Path;

use serde_json::{json, Value};

use super::{files, node, vars, write};
use crate::compose::load::normalize_attribute;
use crate::compose::load::service::service;
use crate::compose::yaml::Value as Y;

/// Service `a` of a one-service YAML body, normalised with `/p` as base.
fn svc(body: &str, env: &[(&str, &str)]) -> Result<(Value, Vec<(String, String)>), String> {
    svc_in(body, env, Path::new("/p"))
}

fn svc_in(body: &str, env: &[(&str, &str)], base: &Path) -> Result<(Value, Vec<(String, String)>), String> {
    let n = node(body);
    service("a", &n, base, &vars(env), &files(body))
        .map(|(m, tags)| (Value::Object(m), tags))
        .map_err(|e| e.message)
}

#[test]
fn short_forms_become_compose_s_long_forms() {
    let body = "image: x\nbuild: ./ctx\ncommand: sh -c 'echo hi'\nenvironment: [A=1, B]\nports: [\"8080:80\"]\ndepends_on: [db]\nnetworks: [front]\nsecrets: [token]\nstop_grace_period: 90s\nmem_limit: 1g\n";
    let (m, tags) = svc(body, &[("B", "from env")]).unwrap();
    assert!(tags.is_empty());
    assert_eq!(m["build"], json!({"context": "/p/ctx", "dockerfile": "Dockerfile"}));
    assert_eq!(m["command"], json!(["sh", "-c", "echo hi"]));
    assert_eq!(m["environment"], json!({"A": "1", "B": "from env"}));
    assert_eq!(
        m["ports"],
        json!([{"mode": "ingress", "target": 80, "published": "8080", "protocol": "tcp"}])
    );
    assert_eq!(
        m["depends_on"],
        json!({"db": {"condition": "service_started", "required": true}})
    );
    assert_eq!(m["networks"], json!({"front": null}));
    assert_eq!(
        m["secrets"],
        json!([{"source": "token", "target": "/run/secrets/token"}])
    );
    assert_eq!(m["stop_grace_period"], "1m30s");
    assert_eq!(m["mem_limit"], "1073741824");
}

#[test]
fn build_long_form_keeps_remote_contexts_and_resolves_args() {
    let body = "build:\n  context: https://github.com/x/y.git\n  args: [A, B=2, C]\n  shm_size: 64m\n";
    let (m, _) = svc(body, &[("A", "1")]).unwrap();
    assert_eq!(
        m["build"],
        json!({"context": "https://github.com/x/y.git", "dockerfile": "Dockerfile", "args": {"A": "1", "B": "2"}, "shm_size": "67108864"})
    );
    let (m, _) = svc("build: {dockerfile_inline: FROM scratch}\n", &[]).unwrap();
    assert_eq!(
        m["build"],
        json!({"context": "/p", "dockerfile_inline": "FROM scratch"})
    );
}

#[test]
fn healthcheck_deploy_and_secret_modes_are_normalised() {
    let body = "healthcheck: {test: curl -f x, interval: 1m, timeout: 500ms}\ndeploy: {resources: {limits: {cpus: '0.5', memory: 512M}}}\nconfigs: [{source: c, mode: 288}, {source: d, mode: \"440\"}]\n";
    let (m, _) = svc(body, &[]).unwrap();
    assert_eq!(
        m["healthcheck"],
        json!({"test": ["CMD-SHELL", "curl -f x"], "timeout": "500ms", "interval": "1m0s"})
    );
    assert_eq!(
        m["deploy"],
        json!({"resources": {"limits": {"cpus": 0.5, "memory": "536870912"}}, "placement": {}})
    );
    assert_eq!(
        m["configs"],
        json!([{"source": "c", "mode": "0440"}, {"source": "d", "mode": "0440"}])
    );
}

#[test]
fn env_files_are_read_and_environment_wins() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "a.env", "A=file\nB=file\n");
    write(dir.path(), "raw.env", "C='raw'\n");
    let body =
        "env_file: [a.env, {path: raw.env, format: raw}, {path: gone.env, required: false}]\nenvironment: {B: own}\n";
    let (m, _) = svc_in(body, &[], dir.path()).unwrap();
    assert_eq!(m["environment"], json!({"A": "file", "B": "own", "C": "'raw'"}));
    assert!(m.get("env_file").is_none());
    let err = svc_in("env_file: gone.env\n", &[], dir.path()).unwrap_err();
    let gone = dir.path().join("gone.env");
    assert_eq!(
        err,
        format!(
            "service a: env file {} not found: stat {}: no such file or directory",
            gone.display(),
            gone.display()
        )
    );
}

#[test]
fn reset_and_override_tags_and_extensions_are_kept() {
    let (m, tags) = svc("image: x\nports: !reset []\nlabels: !override {a: b}\nx-own: 1\n", &[]).unwrap();
    assert_eq!(
        tags,
        [
            ("ports".to_string(), "!reset".to_string()),
            ("labels".to_string(), "!override".to_string())
        ]
    );
    assert_eq!(m["x-own"], 1);
}

#[test]
fn schema_errors_name_the_attribute() {
    let cases = [
        ("imagee: x\n", "services.a additional properties 'imagee' not allowed"),
        ("ports: 80\n", "services.a.ports must be a array"),
        (
            "command: \"echo 'unbalanced\"\n",
            "services.a.command: unbalanced quotes",
        ),
        ("depends_on: x\n", "services.a.depends_on must be a array or a mapping"),
        (
            "secrets: [{source: s, owner: me}]\n",
            "services.a.secrets.0 additional properties 'owner' not allowed",
        ),
        (
            "configs: [12]\n",
            "services.a.configs.[0]: unsupported expose value %!s(int=12)",
        ),
        (
            "develop: {watch: [{path: ., action: sync}]}\n",
            "services.a.develop.watch: target is required for non-rebuild actions: invalid compose project",
        ),
    ];
    for (body, want) in cases {
        assert_eq!(svc(body, &[]).unwrap_err(), want, "{body}");
    }
    let n = node("[1]\n");
    let e = service("a", &n, Path::new("/p"), &vars(&[]), &files("[1]\n")).unwrap_err();
    assert_eq!(e.message, "services.a must be a mapping");
}

#[test]
fn develop_rules_get_absolute_paths_and_an_exec_section() {
    let body = "develop:\n  watch:\n    - {action: sync+exec, path: src, target: /app, include: '*.py', exec: {command: make reload}}\n";
    let (m, _) = svc(body, &[]).unwrap();
    assert_eq!(
        m["develop"],
        json!({"watch": [{"path": "/p/src", "action": "sync+exec", "target": "/app",
            "exec": {"command": ["make", "reload"]}, "include": ["*.py"]}]})
    );
}

#[test]
fn a_script_s_attribute_is_normalised_like_a_file_s() {
    let value = node("[\"127.0.0.1:8080:80/udp\"]\n");
    let got = normalize_attribute("web", "ports", value, Path::new("/p")).unwrap();
    assert_eq!(
        got,
        Some(
            json!([{"mode": "ingress", "host_ip": "127.0.0.1", "target": 80, "published": "8080", "protocol": "udp"}])
        )
    );
    let bad = crate::compose::yaml::Node::new(Y::Int(3), Default::default());
    let e = normalize_attribute("web", "command", bad, Path::new("/p")).unwrap_err();
    assert_eq!(e.message, "services.web.command must be a string or a list");
    assert!(e.at.is_none());
}

#[test]
fn hooks_take_compose_go_s_service_hook_form() {
    let body = "image: x\npost_start:\n  - command: echo \"a b\" c\n    privileged: \"yes\"\n    environment: [B=1, A]\n    working_dir: \"\"\n    x-note: 1\n  - command: [\"true\"]\n    privileged: false\n    user: root\npre_stop:\n  - command: x\n";
    // `A` has no value and stays null: compose never resolves it.
    let (m, _) = svc(body, &[("A", "from env")]).unwrap();
    assert_eq!(
        serde_json::to_string(&m["post_start"]).unwrap(),
        r#"[{"command":["echo","a b","c"],"privileged":true,"environment":{"A":null,"B":"1"},"x-note":1},{"command":["true"],"user":"root"}]"#
    );
    assert_eq!(m["pre_stop"], json!([{"command": ["x"]}]));
    for (bad, msg) in [
        ("post_start: {}", "services.a.post_start must be a array"),
        ("post_start: [x]", "services.a.post_start.0 must be a mapping"),
        (
            "post_start: [{user: root}]",
            "services.a.post_start.0 missing property 'command'",
        ),
        (
            "pre_stop: [{command: x, bogus: 1}]",
            "services.a.pre_stop.0 additional properties 'bogus' not allowed",
        ),
        (
            "pre_stop: [{command: x, privileged: 1}]",
            "services.a.pre_stop.0.privileged must be a boolean or string",
        ),
        (
            "pre_stop: [{command: x, privileged: maybe}]",
            "'services[a].pre_stop[0].privileged' invalid boolean: maybe",
        ),
    ] {
        assert_eq!(svc(&format!("image: x\n{bad}\n"), &[]).unwrap_err(), msg, "{bad}");
    }
}
