//! The project as compose-go's `LoadModel` returns it: what `docker compose
//! config --no-interpolate` prints. It is a different pipeline from
//! `load()`'s, as in compose-go: each file's YAML is kept as a generic
//! tree (no typed decoding, so no struct defaults, nulls or unit
//! conversions), put in canonical syntax (`model_canon`), merged, then
//! given defaults and absolute paths, and normalised on
//! the tree. Profiles are not applied, every declared resource is kept,
//! and maps print sorted by key (Go marshals a `map[string]any` so).

use std::collections::HashMap;

use serde_json::{Map, Value};

use super::model_files::{load_yaml_model, Place, Reader};
use super::model_merge::empty_list_kept;
use super::model_normalize::normalize;
use super::{project, Options};
use crate::compose::error::LoadError;
use crate::compose::yaml::{Node, Value as Y};

/// compose-go's model of a project and what compose warns about while
/// loading it.
#[derive(Clone, Debug)]
pub struct Model {
    /// The model, keys sorted; empty lists kept (see `nil_lists_as_null`).
    pub doc: Value,
    pub warnings: Vec<String>,
}

/// compose-go's model of the project (see the module comment).
pub fn load_model(opts: &Options) -> Result<Model, LoadError> {
    let super::Start {
        env: environment,
        paths,
        working_dir,
        ..
    } = super::start(opts)?;

    let mut files = Reader::default();
    let place = Place {
        loader_dir: working_dir.clone(),
        wd: working_dir.clone(),
    };
    // compose-go's `LoadModel` gets no variables (`LoadConfigFiles` sets
    // none): the project's environment picks the files and the name, but
    // resolves no `environment:` entry; an include's env files still do.
    let unresolved = HashMap::new();
    let mut dict = load_yaml_model(&mut files, &place, &paths, &unresolved, &[])?;
    if dict.is_empty() {
        return Err(LoadError::plain("empty compose file"));
    }
    let file_name = dict.get("name").map(go_sprint);
    let name = project::name(opts, &environment, file_name, &working_dir)?;
    dict.insert("name".into(), Value::String(name));
    normalize(&mut dict, &unresolved);
    Ok(Model {
        doc: sorted(Value::Object(dict)),
        warnings: files.warnings,
    })
}

/// A YAML node as go-yaml decodes it into `any` (an integral float is
/// printed as an integer by both of Go's encoders), recording the paths
/// tagged `!reset` (left out) and `!override`.
pub(super) fn tree(n: &Node, path: &mut Vec<String>, resets: &mut Vec<Vec<String>>) -> Value {
    match &n.value {
        Y::Null => Value::Null,
        Y::Bool(b) => Value::Bool(*b),
        Y::Int(i) => Value::from(*i),
        Y::Float(f) if f.fract() == 0.0 && f.abs() < 9e15 => Value::from(*f as i64),
        Y::Float(f) => Value::from(*f),
        Y::Str(s) => Value::String(s.clone()),
        Y::Seq(items) => Value::Array(
            items
                .iter()
                .enumerate()
                .filter_map(|(i, x)| {
                    path.push(i.to_string());
                    let v = (x.tag.as_deref() != Some("!reset")).then(|| tree(x, path, resets));
                    path.pop();
                    v
                })
                .collect(),
        ),
        Y::Map(entries) => {
            let mut m = Map::new();
            for (k, v) in entries {
                let key = k.scalar_text().unwrap_or_default();
                path.push(key.clone());
                match v.tag.as_deref() {
                    Some("!reset") => resets.push(path.clone()),
                    Some("!override") => {
                        resets.push(path.clone());
                        m.insert(key, tree(v, path, resets));
                    }
                    _ => {
                        m.insert(key, tree(v, path, resets));
                    }
                }
                path.pop();
            }
            Value::Object(m)
        }
    }
}

pub(super) fn remove_path(dict: &mut Map<String, Value>, path: &[String]) {
    match path {
        [] => {}
        [last] => {
            dict.shift_remove(last);
        }
        [first, rest @ ..] => {
            if let Some(Value::Object(m)) = dict.get_mut(first) {
                remove_path(m, rest);
            }
        }
    }
}

/// Whether `path` matches a compose-go tree pattern (`*` is any key).
pub(super) fn matches(path: &[String], pattern: &str) -> bool {
    let parts: Vec<&str> = pattern.split('.').collect();
    parts.len() == path.len() && parts.iter().zip(path).all(|(p, k)| *p == "*" || p == k)
}

/// Go's `fmt.Sprint` of a decoded YAML scalar.
pub(super) fn go_sprint(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "<nil>".into(),
        other => other.to_string(),
    }
}

/// The model as Go's JSON encoder sees it: an empty list compose-go left
/// as a nil slice prints as `null` (go-yaml prints it as `[]`, as the
/// model holds it).
pub fn nil_lists_as_null(model: &Value) -> Value {
    fn walk(v: &Value, path: &mut Vec<String>) -> Value {
        match v {
            Value::Object(m) => Value::Object(
                m.iter()
                    .map(|(k, x)| {
                        path.push(k.clone());
                        let x = walk(x, path);
                        path.pop();
                        (k.clone(), x)
                    })
                    .collect(),
            ),
            Value::Array(a) if a.is_empty() && !empty_list_kept(path) => Value::Null,
            Value::Array(a) => Value::Array(
                a.iter()
                    .enumerate()
                    .map(|(i, x)| {
                        path.push(i.to_string());
                        let x = walk(x, path);
                        path.pop();
                        x
                    })
                    .collect(),
            ),
            other => other.clone(),
        }
    }
    walk(model, &mut Vec::new())
}

/// Every map sorted by key, as Go's encoders print a `map[string]any`.
fn sorted(v: Value) -> Value {
    match v {
        Value::Object(m) => {
            let mut entries: Vec<(String, Value)> = m.into_iter().map(|(k, v)| (k, sorted(v))).collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(entries.into_iter().collect())
        }
        Value::Array(a) => Value::Array(a.into_iter().map(sorted).collect()),
        other => other,
    }
}
