use std::path::Path;

use super::{load_in, vars, write};
use crate::compose::load::merge::Acc;

fn load(dir: &Path) -> Result<Acc, String> {
    load_in(dir, &["compose.yaml"], &vars(&[("WHO", "parent")])).map(|(acc, _)| acc)
}

#[test]
fn an_include_is_a_project_of_its_own_imported() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "sub/.env", "WHO=child\nONLY=sub\n");
    write(
        dir.path(),
        "sub/compose.yaml",
        "services:\n  db: {image: \"${WHO}-${ONLY}\", build: .}\nvolumes: {data: {}}\n",
    );
    write(
        dir.path(),
        "compose.yaml",
        "include: [sub/compose.yaml]\nservices:\n  web: {image: w, depends_on: [db]}\n",
    );
    let acc = load(dir.path()).unwrap();
    let names: Vec<&str> = acc.merged.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["web", "db"]);
    let db = &acc.merged[1].1;
    // The including project's variables win; paths are the include's.
    assert_eq!(db["image"], "parent-sub");
    assert_eq!(db["build"]["context"], dir.path().join("sub").display().to_string());
    assert_eq!(acc.volumes[0].0, "data");
    assert_eq!(acc.volumes[0].2, dir.path().join("sub"));
}

#[test]
fn include_entries_take_a_project_directory_and_env_files() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "lib/db.yaml",
        "services:\n  db: {image: \"${TAG}\", build: .}\n",
    );
    write(dir.path(), "db.env", "TAG=v2\n");
    write(
        dir.path(),
        "compose.yaml",
        "include:\n  - path: lib/db.yaml\n    project_directory: other\n    env_file: db.env\n",
    );
    let acc = load(dir.path()).unwrap();
    assert_eq!(acc.merged[0].1["image"], "v2");
    assert_eq!(
        acc.merged[0].1["build"]["context"],
        dir.path().join("other").display().to_string()
    );
}

#[test]
fn conflicts_cycles_and_bad_entries_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "sub.yaml", "services:\n  web: {image: other}\n");
    write(
        dir.path(),
        "compose.yaml",
        "include: [sub.yaml]\nservices:\n  web: {image: mine}\n",
    );
    assert_eq!(
        load(dir.path()).err().unwrap(),
        "services.web conflicts with imported resource"
    );

    write(dir.path(), "sub.yaml", "include: [compose.yaml]\nservices: {}\n");
    write(dir.path(), "compose.yaml", "include: [sub.yaml]\n");
    let top = dir.path().join("compose.yaml").display().to_string();
    let sub = dir.path().join("sub.yaml").display().to_string();
    assert_eq!(
        load(dir.path()).err().unwrap(),
        format!("include cycle detected:\n{top}\n include {sub}\n include {top}")
    );

    let cases = [
        ("include: x\n", "`include` must be a list, got x".to_string()),
        ("include: [{env_file: a}]\n", "include: `path` is required".to_string()),
        (
            "include: [{path: a, color: red}]\n",
            "include: additional properties 'color' not allowed".to_string(),
        ),
        (
            "include: [missing.yaml]\n",
            format!(
                "open {}: no such file or directory",
                dir.path().join("missing.yaml").display()
            ),
        ),
    ];
    for (text, want) in cases {
        write(dir.path(), "compose.yaml", text);
        assert_eq!(load(dir.path()).err().unwrap(), want, "{text}");
    }
}
