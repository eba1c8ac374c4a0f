use std::path::Path;

use serde_json::json;

use super::{vars, write};
use crate::compose::load::extends::{resolve_extends, Cx};
use crate::compose::load::parse::parse_file;
use crate::compose::load::Files;

/// Service `name` of `dir/compose.yaml` after `extends`, or the error.
fn extended(dir: &Path, name: &str) -> Result<serde_json::Value, String> {
    let mut files = Files::default();
    let (env, mut unset) = (vars(&[]), Vec::new());
    let mut p =
        parse_file(&dir.join("compose.yaml"), &mut files, &env, false, &mut unset, None).map_err(|e| e.message)?;
    let mut cx = Cx {
        files: &mut files,
        env: &env,
        no_interpolate: false,
        unset: &mut unset,
        workdir: dir,
    };
    resolve_extends(&mut p, &mut cx).map_err(|e| e.message)?;
    let m = p.services.into_iter().find(|s| s.0 == name).unwrap().1;
    Ok(serde_json::Value::Object(m))
}

#[test]
fn a_service_extends_one_in_the_same_file_transitively() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "compose.yaml",
        "services:\n  web: {extends: mid, environment: {C: '3'}}\n  mid: {extends: {service: base}, environment: {B: '2'}}\n  base: {image: x, environment: {A: '1'}}\n",
    );
    let web = extended(dir.path(), "web").unwrap();
    assert_eq!(web["image"], "x");
    assert_eq!(web["environment"], json!({"A": "1", "B": "2", "C": "3"}));
    assert!(web.get("extends").is_none());
}

#[test]
fn a_service_extends_one_in_another_file_with_its_paths() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "common/base.yaml",
        "services:\n  base: {build: ., command: [run]}\n",
    );
    write(
        dir.path(),
        "compose.yaml",
        "services:\n  web: {extends: {file: common/base.yaml, service: base}, command: [serve]}\n",
    );
    let web = extended(dir.path(), "web").unwrap();
    assert_eq!(web["command"], json!(["serve"]));
    assert_eq!(web["build"]["context"], dir.path().join("common").display().to_string());
}

#[test]
fn missing_or_self_bases_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "compose.yaml", "services:\n  web: {extends: nope}\n");
    assert_eq!(
        extended(dir.path(), "web").unwrap_err(),
        "cannot extend service \"web\": service \"nope\" not found"
    );
    write(dir.path(), "compose.yaml", "services:\n  web: {extends: web}\n");
    assert_eq!(
        extended(dir.path(), "web").unwrap_err(),
        "services.web.extends: a service cannot extend itself"
    );
    write(
        dir.path(),
        "compose.yaml",
        "services:\n  web: {extends: {file: compose.yaml, service: web}}\n",
    );
    // compose-go's cycle tracker's words (checked against compose).
    assert_eq!(
        extended(dir.path(), "web").unwrap_err(),
        "Circular reference:\n  web in compose.yaml\n  extends web in compose.yaml"
    );
}

#[test]
fn a_cycle_across_files_is_named_and_a_file_pointing_back_is_none() {
    let dir = tempfile::tempdir().unwrap();
    // b.yaml's `other` extends a service of compose.yaml: no cycle, and
    // only `web`'s chain is read.
    write(
        dir.path(),
        "compose.yaml",
        "services:\n  web: {extends: {file: b.yaml, service: api}}\n  db: {image: d}\n",
    );
    write(
        dir.path(),
        "b.yaml",
        "services:\n  api: {image: a}\n  other: {extends: {file: compose.yaml, service: db}}\n",
    );
    assert_eq!(extended(dir.path(), "web").unwrap()["image"], "a");
    // A real cycle through a folder: files named relative to the project.
    write(
        dir.path(),
        "compose.yaml",
        "services:\n  web: {extends: {file: sub/b.yaml, service: api}}\n",
    );
    write(
        dir.path(),
        "sub/b.yaml",
        "services:\n  api: {extends: {file: ../compose.yaml, service: web}}\n",
    );
    assert_eq!(
        extended(dir.path(), "web").unwrap_err(),
        "Circular reference:\n  web in sub/b.yaml\n  extends api in compose.yaml\n  extends web in sub/b.yaml"
    );
}
