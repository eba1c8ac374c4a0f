use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::{vars, write};
use crate::compose::load::env::{add_env_files, explicit_env_files, project_env_files, read_dotenv, read_raw_env};
use crate::compose::load::Options;

fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
    v.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

#[test]
fn dotenv_reads_quotes_comments_export_and_interpolates() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        ".env",
        "# comment\n\nexport A=1\nB='lit ${A}' # kept literal\nC=\"x\\ny ${A}\"\nD=plain ${A} # comment\nE=${HOME_X:-dflt}\nHOME_X\nA=2\n",
    );
    let got = read_dotenv(&dir.path().join(".env"), &vars(&[("HOME_X", "/h")])).unwrap();
    assert_eq!(
        got,
        pairs(&[
            ("B", "lit ${A}"),
            ("C", "x\ny 1"),
            ("D", "plain 1"),
            ("E", "/h"),
            ("HOME_X", "/h"),
            ("A", "2"),
        ])
    );
}

#[test]
fn dotenv_interpolation_asks_the_environment_before_the_files_own_lines() {
    // compose-go's dotenv: `${X}` is the lookup's X when it has one, even
    // after the file set X itself (checked against docker compose config).
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), ".env", "X=file\nY=${X}/a\nZ=${W}\nW=own\nV=${W}\n");
    let got = read_dotenv(&dir.path().join(".env"), &vars(&[("X", "env")])).unwrap();
    assert_eq!(
        got,
        pairs(&[("X", "file"), ("Y", "env/a"), ("Z", ""), ("W", "own"), ("V", "own")])
    );
}

#[test]
fn dotenv_rejects_a_name_with_spaces_naming_the_line() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), ".env", "OK=1\nBAD KEY=2\n");
    let err = read_dotenv(&dir.path().join(".env"), &vars(&[])).unwrap_err();
    assert!(
        err.ends_with(".env:2: unexpected character in variable name \"BAD KEY\""),
        "{err}"
    );
}

#[test]
fn raw_env_takes_values_literally() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "raw.env", "A='q' # not a comment\nB=${X}\n# c\nC\n");
    let got = read_raw_env(&dir.path().join("raw.env")).unwrap();
    assert_eq!(got, pairs(&[("A", "'q' # not a comment"), ("B", "${X}"), ("C", "")]));
}

#[test]
fn env_files_lose_to_the_process_and_later_files_win() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "one.env", "A=file\nB=one\nC=one\n");
    write(dir.path(), "two.env", "C=two ${B}\n");
    let mut env = vars(&[("A", "process")]);
    add_env_files(&mut env, &[dir.path().join("one.env"), dir.path().join("two.env")]).unwrap();
    assert_eq!(env, vars(&[("A", "process"), ("B", "one"), ("C", "two one")]));
}

#[test]
fn project_env_files_are_the_flags_or_an_existing_dot_env() {
    let dir = tempfile::tempdir().unwrap();
    let mut opts = Options::default();
    let none = HashMap::new();
    assert!(project_env_files(&opts, dir.path(), dir.path(), &none)
        .unwrap()
        .is_empty());
    write(dir.path(), ".env", "A=1\n");
    assert_eq!(
        project_env_files(&opts, dir.path(), dir.path(), &none).unwrap(),
        vec![dir.path().join(".env")]
    );
    // COMPOSE_DISABLE_ENV_FILE, a Go boolean, turns the default off.
    let off = vars(&[("COMPOSE_DISABLE_ENV_FILE", "TRUE")]);
    assert!(project_env_files(&opts, dir.path(), dir.path(), &off)
        .unwrap()
        .is_empty());
    let on = vars(&[("COMPOSE_DISABLE_ENV_FILE", "0")]);
    assert_eq!(project_env_files(&opts, dir.path(), dir.path(), &on).unwrap().len(), 1);
    let bad = vars(&[("COMPOSE_DISABLE_ENV_FILE", "yes")]);
    let err = project_env_files(&opts, dir.path(), dir.path(), &bad).unwrap_err();
    assert_eq!(err.message, "strconv.ParseBool: parsing \"yes\": invalid syntax");
    opts.env_files = vec![PathBuf::from("x.env")];
    assert_eq!(
        project_env_files(&opts, Path::new("/cwd"), dir.path(), &off).unwrap(),
        vec![PathBuf::from("/cwd/x.env")]
    );
    // The label compose stamps: absolute, cleaned.
    opts.env_files = vec![PathBuf::from("./a/../x.env")];
    assert_eq!(explicit_env_files(&opts, Path::new("/cwd")), vec!["/cwd/x.env"]);
}
