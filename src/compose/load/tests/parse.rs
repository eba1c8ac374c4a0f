use std::path::Path;

use super::{vars, write};
use crate::compose::load::parse::parse_file;
use crate::compose::load::Files;

fn parse(dir: &Path, text: &str) -> Result<super::super::parse::Parsed, String> {
    write(dir, "compose.yaml", text);
    let mut files = Files::default();
    let mut unset = Vec::new();
    let env = vars(&[("IMG", "busybox")]);
    parse_file(&dir.join("compose.yaml"), &mut files, &env, false, &mut unset, None).map_err(|e| e.message)
}

#[test]
fn a_file_parses_into_normalised_services_in_file_order() {
    let dir = tempfile::tempdir().unwrap();
    let p = parse(dir.path(), "services:\n  b: {image: $IMG}\n  a: {build: .}\nx-top: 1\n").unwrap();
    let names: Vec<&str> = p.services.iter().map(|s| s.0.as_str()).collect();
    assert_eq!(names, ["b", "a"]);
    assert_eq!(p.services[0].1["image"], "busybox");
    assert_eq!(p.services[1].1["build"]["context"], dir.path().display().to_string());
    assert_eq!(p.dir, dir.path());
    assert!(p.root.get("x-top").is_some());
}

#[test]
fn file_level_errors_are_compose_s() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(parse(dir.path(), "").err().unwrap(), "empty compose file");
    assert_eq!(
        parse(dir.path(), "- a\n").err().unwrap(),
        "Top-level object must be a mapping"
    );
    let file = dir.path().join("compose.yaml");
    assert_eq!(
        parse(dir.path(), "servics: {}\n").err().unwrap(),
        format!(
            "validating {}:  additional properties 'servics' not allowed",
            file.display()
        )
    );
    assert_eq!(
        parse(dir.path(), "services: [a]\n").err().unwrap(),
        format!("validating {}: services must be a mapping", file.display())
    );
    // A service's schema error carries the file too.
    assert_eq!(
        parse(dir.path(), "services:\n  a: {image: x, bad: 1}\n").err().unwrap(),
        format!(
            "validating {}: services.a additional properties 'bad' not allowed",
            file.display()
        )
    );
    assert!(parse(dir.path(), "services: {a: [\n")
        .err()
        .unwrap()
        .starts_with("yaml: "));
}
