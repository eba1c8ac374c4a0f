//! Errors as data (src/error.rs): what a script's `catch` gets from a
//! primitive is one type whose `${e}` is the message, with `.kind`,
//! `.message`, `.status` and `.position`; and the CLI renders load and
//! connect errors by their kind, not by matching text.

mod common;

use common::*;

fn lines(out: &std::process::Output) -> Vec<String> {
    stdout(out).lines().map(str::to_string).collect()
}

#[test]
fn caught_errors_are_typed_with_kind_status_and_position() {
    let (_d, path) = script(
        r#"
        try { container::create(#{ image: "orch-test/no-such-image:1" }); }
        catch (e) { print(`${type_of(e)}|${e.kind}|${e.status}|${e.message == `${e}`}|${e}`); }
        try { container::create(#{ imagee: "x" }); }
        catch (e) { print(`${e.kind}|${e}`); }
        try { network::get("orch-test-no-such-network-e1"); }
        catch (e) { print(`${e.kind}|${e.status}|${e.position.line}|${e == "network orch-test-no-such-network-e1: no such network"}`); }
        try { compose::load(#{ files: ["no-such-compose-file.yml"] }); }
        catch (e) { print(`${e.kind}|${e.contains("no-such-compose-file.yml")}`); }
        try { throw "mine"; } catch (e) { print(`${type_of(e)}|${e}`); }
        "#,
    );
    let out = orch().arg("run").arg(&path).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let got = lines(&out);
    assert_eq!(
        got[0],
        "Error|engine|404|true|container create orch-test/no-such-image:1: No such image: orch-test/no-such-image:1",
    );
    assert!(
        got[1].starts_with("usage|container::create: unknown option `imagee` (known: "),
        "{}",
        got[1]
    );
    assert_eq!(got[2], "script||6|true");
    assert_eq!(got[3], "load|true");
    // A script's own `throw` stays what it threw.
    assert_eq!(got[4], "string|mine");
}

#[test]
fn an_unreachable_engine_is_a_connect_error_to_the_script_and_one_line_to_the_user() {
    let (_d, path) = script("try { container::list(); } catch (e) { print(e.kind); }\ncontainer::list();\n");
    let out = orch()
        .arg("run")
        .arg(&path)
        .env("DOCKER_HOST", "unix:///nonexistent.sock")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stdout(&out), "connect\n");
    let err = stderr(&out);
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(
        err.starts_with("error: ") && err.contains("unix:///nonexistent.sock"),
        "{err}"
    );
}

#[test]
fn a_rethrown_load_error_still_prints_as_the_compose_diagnostic() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("compose.yml"),
        "services:\n  web:\n    image: nginx\n    portz: [80]\n",
    )
    .unwrap();
    let path = dir.path().join("s.rhai");
    std::fs::write(
        &path,
        "try { compose::load(#{ files: [\"compose.yml\"] }); } catch (e) { print(e.kind); throw e; }\n",
    )
    .unwrap();
    let out = orch().arg("run").arg(&path).current_dir(dir.path()).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stdout(&out), "load\n");
    let err = stderr(&out);
    // The YAML is pointed at, not the script line that rethrew.
    assert!(err.contains("portz") && err.contains("compose.yml"), "{err}");
    assert!(!err.contains("s.rhai"), "{err}");
}
