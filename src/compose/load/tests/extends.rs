use std::path::Path;

use serde_json::json;

use super::{vars, write};
use crate::compose::load::extends::resolve_extends;
use crate::compose::load::parse::parse_file;
use crate::compose::load::Files;

/// Service `name` of `dir/compose.yaml` after `extends`, or the error.
fn extended(dir: &Path, name: &str) -> Result<serde_json::Value, String> {
    let mut files = Files::default();
    let (env, mut unset) = (vars(&[]), Vec::new());
    let mut p =
        parse_file(&dir.join("compose.yaml"), &mut files, &env, false, &mut unset, None).map_err(|e| e.message)?;
    resolve_extends(&mut p, &mut files, &env, false, &mut unset, 0).map_err(|e| e.message)?;
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
    assert_eq!(
        extended(dir.path(), "web").unwrap_err(),
        "extends: too many levels (is there a cycle?)"
    );
}
