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
use std::path::Path;

use serde_json::{Map, Value};

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
