use std::path::{Path, PathBuf};

use serde_json::json;

use super::{obj, vars, write};
use crate::compose::load::project::{
    active_profiles, by_profiles, compose_files, name, normalize_name, source_files, working_dir,
};
use crate::compose::load::Options;

#[test]
fn names_are_normalised_as_compose_does() {
    assert_eq!(normalize_name("My_App-1"), "my_app-1");
    assert_eq!(normalize_name("__-x.y z"), "xyz");
    assert_eq!(normalize_name("Ünï"), "n");
}

#[test]
fn the_name_comes_from_the_flag_the_variable_the_file_or_the_folder() {
    let dir = Path::new("/work/My Folder");
    let mut opts = Options::default();
    let env = vars(&[]);
    assert_eq!(name(&opts, &env, None, dir).unwrap(), "myfolder");
    assert_eq!(name(&opts, &env, Some("From File".into()), dir).unwrap(), "fromfile");
    let with_var = vars(&[("COMPOSE_PROJECT_NAME", "Var")]);
    assert_eq!(name(&opts, &with_var, Some("file".into()), dir).unwrap(), "var");
    opts.project_name = Some("flag-1".into());
    assert_eq!(name(&opts, &with_var, None, dir).unwrap(), "flag-1");
    opts.project_name = Some("Bad".into());
    let err = name(&opts, &env, None, dir).unwrap_err();
    assert_eq!(
        err.message,
        "invalid project name \"Bad\": must consist only of lowercase alphanumeric characters, hyphens, and underscores as well as start with a letter or number"
    );
    opts.project_name = None;
    let err = name(&opts, &env, None, Path::new("/work/__")).unwrap_err();
    assert_eq!(err.message, "project name must not be empty");
}

#[test]
fn default_files_are_searched_upwards_with_their_override() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "docker-compose.yml", "services: {}\n");
    write(dir.path(), "compose.override.yaml", "services: {}\n");
    write(dir.path(), "sub/deeper/keep", "");
    let cwd = dir.path().join("sub/deeper");
    let files = compose_files(&Options::default(), &cwd, &vars(&[])).unwrap();
    assert_eq!(
        files,
        vec![
            dir.path().join("docker-compose.yml"),
            dir.path().join("compose.override.yaml")
        ]
    );
    assert_eq!(working_dir(&Options::default(), &cwd, &files), dir.path());
}

#[test]
fn compose_file_variable_lists_files_with_its_separator() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "a.yaml", "");
    write(dir.path(), "b.yaml", "");
    let env = vars(&[("COMPOSE_FILE", "a.yaml;b.yaml"), ("COMPOSE_PATH_SEPARATOR", ";")]);
    let files = compose_files(&Options::default(), dir.path(), &env).unwrap();
    assert_eq!(files, vec![dir.path().join("a.yaml"), dir.path().join("b.yaml")]);
    // `-f` wins over the variable, and must exist.
    let opts = Options {
        files: vec![PathBuf::from("missing.yaml")],
        ..Default::default()
    };
    let err = compose_files(&opts, dir.path(), &env).unwrap_err();
    assert_eq!(
        err.message,
        format!(
            "open {}: no such file or directory",
            dir.path().join("missing.yaml").display()
        )
    );
    let empty = tempfile::tempdir().unwrap();
    let err = compose_files(&Options::default(), empty.path(), &vars(&[])).unwrap_err();
    assert_eq!(err.message, "no configuration file provided: not found");
}

#[test]
fn project_directory_flag_sets_the_working_dir() {
    let opts = Options {
        project_directory: Some(PathBuf::from("../other/./x")),
        ..Default::default()
    };
    let wd = working_dir(&opts, Path::new("/a/b"), &[PathBuf::from("/a/b/compose.yaml")]);
    assert_eq!(wd, PathBuf::from("/a/other/x"));
}

#[test]
fn profiles_select_services_and_are_all_listed() {
    let env = vars(&[("COMPOSE_PROFILES", " debug , ,tools")]);
    let mut opts = Options::default();
    let active = active_profiles(&opts, &env);
    assert_eq!(active.iter().collect::<Vec<_>>(), ["debug", "tools"]);
    opts.profiles = vec!["web".into()];
    assert_eq!(active_profiles(&opts, &env).iter().collect::<Vec<_>>(), ["web"]);

    let merged = vec![
        ("always".to_string(), obj(json!({"image": "a"}))),
        ("dbg".to_string(), obj(json!({"profiles": ["debug"]}))),
        ("other".to_string(), obj(json!({"profiles": ["zz", "aa"]}))),
    ];
    let (services, all, disabled) = by_profiles(merged.clone(), &active);
    assert_eq!(services.keys().collect::<Vec<_>>(), ["always", "dbg"]);
    assert_eq!(all, ["aa", "debug", "zz"]);
    assert_eq!(disabled, ["other"]);
    let star = ["*".to_string()].into_iter().collect();
    assert_eq!(by_profiles(merged, &star).0.len(), 3);
}

#[test]
fn source_files_include_the_dot_env_even_when_missing() {
    let read = vec![
        ("/p/b.yaml".to_string(), String::new()),
        ("/p/a.yaml".to_string(), String::new()),
    ];
    let got = source_files(&Options::default(), Path::new("/cwd"), Path::new("/p"), &read);
    assert_eq!(got, ["/p/.env", "/p/a.yaml", "/p/b.yaml"]);
    let opts = Options {
        env_files: vec![PathBuf::from("e.env")],
        ..Default::default()
    };
    let got = source_files(&opts, Path::new("/cwd"), Path::new("/p"), &read);
    assert_eq!(got, ["/cwd/e.env", "/p/a.yaml", "/p/b.yaml"]);
}
