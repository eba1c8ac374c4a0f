//! Unit tests of the loader's phases, one file per phase: each feeds a
//! phase its input (YAML text, files in a temporary folder, a variable
//! map) and asserts on what it returns. The whole loader is checked
//! against Docker Compose by tests/compose_conformance.rs.

mod document;
mod env;
mod extends;
mod include;
mod interpolate;
mod merge;
mod model;
mod normalize;
mod parse;
mod project;
mod schema;
mod service;
mod validate;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use super::merge::{load_files, Acc, Cx};
use super::Files;
use crate::compose::yaml::{self, Node};

/// A YAML text as the loader's tree (file 0 of `files(text)`).
pub(super) fn node(text: &str) -> Node {
    yaml::parse(text, 0).expect("test YAML parses")
}

/// The diagnostic sources for a tree parsed from `text`.
pub(super) fn files(text: &str) -> Files {
    Files {
        list: vec![("compose.yaml".into(), text.into())],
    }
}

/// A variable map.
pub(super) fn vars(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

/// Writes `text` to `dir/name` (folders created).
pub(super) fn write(dir: &Path, name: &str, text: &str) {
    let p = dir.join(name);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

/// A JSON object (test literal) as a map.
pub(super) fn obj(v: Value) -> Map<String, Value> {
    v.as_object().cloned().expect("an object")
}

/// Loads the files `names` of `dir` (in order, merged) with variables
/// `env`: the merged project and the loader's warnings, or its message.
pub(super) fn load_in(dir: &Path, names: &[&str], env: &HashMap<String, String>) -> Result<(Acc, Vec<String>), String> {
    let (mut files, mut unset, mut warnings) = (Files::default(), Vec::new(), Vec::new());
    let mut cx = Cx {
        files: &mut files,
        unset: &mut unset,
        warnings: &mut warnings,
        no_interpolate: false,
    };
    let paths: Vec<PathBuf> = names.iter().map(|n| dir.join(n)).collect();
    let acc = load_files(&mut cx, &paths, dir, env, &[]).map_err(|e| e.message)?;
    Ok((acc, warnings))
}
