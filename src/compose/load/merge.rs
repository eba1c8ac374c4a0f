//! Merging: a list of files loaded in order, each merged onto the ones
//! before by compose's override rules (`!reset`, `!override`, lists merged
//! by key), with what their `include:` entries import.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use super::extends::resolve_extends;
use super::include::apply_include;
use super::parse::parse_file;
use super::schema::reorder_service;
use super::service::Tags;
use super::Files;
use crate::compose::canon::to_json;
use crate::compose::error::LoadError;
use crate::compose::yaml::{Node, Value as Y};

/// Compose's merge of an override file's service into the base one.
pub(super) fn merge_service(base: &mut Map<String, Value>, over: Map<String, Value>, tags: &[(String, String)]) {
    for (k, v) in over {
        if let Some((_, tag)) = tags.iter().find(|(t, _)| t == &k) {
            if tag == "!reset" {
                base.shift_remove(&k);
            } else {
                base.insert(k, v);
            }
            continue;
        }
        let merged = match (base.shift_remove(&k), v) {
            (Some(Value::Object(mut a)), Value::Object(b)) if !matches!(k.as_str(), "command" | "entrypoint") => {
                deep_merge(&mut a, b);
                Value::Object(a)
            }
            (Some(Value::Array(a)), Value::Array(b)) => match k.as_str() {
                "command" | "entrypoint" | "profiles" => Value::Array(b),
                "volumes" => merge_by(a, b, |x| x.get("target").cloned()),
                "secrets" | "configs" => merge_by(a, b, |x| x.get("source").cloned()),
                "ports" => merge_by(a, b, |x| Some(x.clone())),
                _ => {
                    let mut out = a;
                    for x in b {
                        if !out.contains(&x) {
                            out.push(x);
                        }
                    }
                    Value::Array(out)
                }
            },
            (_, v) => v,
        };
        base.insert(k, merged);
    }
    reorder_service(base);
}

fn merge_by(a: Vec<Value>, b: Vec<Value>, key: impl Fn(&Value) -> Option<Value>) -> Value {
    let mut out = a;
    for x in b {
        let k = key(&x);
        match out.iter().position(|y| k.is_some() && key(y) == k) {
            Some(i) => out[i] = x,
            None => out.push(x),
        }
    }
    Value::Array(out)
}

fn deep_merge(a: &mut Map<String, Value>, b: Map<String, Value>) {
    for (k, v) in b {
        match (a.get_mut(&k), v) {
            (Some(Value::Object(x)), Value::Object(y)) => deep_merge(x, y),
            (_, v) => {
                a.insert(k, v);
            }
        }
    }
}

fn top_section(root: &Node, key: &str) -> Vec<(String, Node)> {
    match root.get(key).map(|n| &n.value) {
        Some(Y::Map(entries)) => entries
            .iter()
            .map(|(k, v)| (k.scalar_text().unwrap_or_default(), v.clone()))
            .collect(),
        _ => Vec::new(),
    }
}

/// What loading a list of files accumulates (the main project's `-f` files,
/// or one `include:` entry's).
#[derive(Default)]
pub(super) struct Acc {
    pub(super) merged: Vec<(String, Map<String, Value>)>,
    pub(super) service_nodes: HashMap<String, Node>,
    /// Top-level sections: key, node, and the folder its relative paths
    /// (secret and config files, bind devices) are relative to.
    pub(super) networks: Vec<(String, Node, PathBuf)>,
    pub(super) volumes: Vec<(String, Node, PathBuf)>,
    pub(super) secrets: Vec<(String, Node, PathBuf)>,
    pub(super) configs: Vec<(String, Node, PathBuf)>,
    pub(super) extensions: BTreeMap<String, Value>,
    pub(super) file_name: Option<String>,
}

/// What every file of one load shares.
pub(super) struct Cx<'a> {
    pub(super) files: &'a mut Files,
    pub(super) unset: &'a mut Vec<String>,
    pub(super) warnings: &'a mut Vec<String>,
    pub(super) no_interpolate: bool,
}

/// Loads `paths` in order, merging each onto the ones before (compose's
/// override rules). `dir` is the project directory relative paths and
/// `include:` paths are resolved against; `chain` is the include chain
/// that led here (to report include cycles as compose does).
pub(super) fn load_files(
    cx: &mut Cx,
    paths: &[PathBuf],
    dir: &Path,
    env: &HashMap<String, String>,
    chain: &[PathBuf],
) -> Result<Acc, LoadError> {
    let mut acc = Acc::default();
    for p in paths {
        let mut parsed = parse_file(p, cx.files, env, cx.no_interpolate, cx.unset, Some(dir))?;
        let mut ext = super::extends::Cx {
            files: cx.files,
            env,
            no_interpolate: cx.no_interpolate,
            unset: cx.unset,
            workdir: dir,
        };
        resolve_extends(&mut parsed, &mut ext)?;
        if let Some(n) = parsed.root.get("name").and_then(Node::scalar_text) {
            acc.file_name = Some(n);
        }
        if parsed.root.get("version").is_some() {
            cx.warnings.push(format!("{}: the attribute `version` is obsolete, it will be ignored, please remove it to avoid potential confusion", p.display()));
        }
        // This file's own resources, then what its `include:` imports.
        let mut own = Acc::default();
        let mut tags_of: HashMap<String, Tags> = HashMap::new();
        for (name, m, tags, node) in std::mem::take(&mut parsed.services) {
            own.service_nodes.insert(name.clone(), node);
            tags_of.insert(name.clone(), tags);
            own.merged.push((name, m));
        }
        for (section, store) in [
            ("networks", &mut own.networks),
            ("volumes", &mut own.volumes),
            ("secrets", &mut own.secrets),
            ("configs", &mut own.configs),
        ] {
            let items = top_section(&parsed.root, section).into_iter();
            replace_all(store, items.map(|(k, v)| (k, v, dir.to_path_buf())).collect());
        }
        if let Some(inc) = parsed.root.get("include") {
            let mut chain = chain.to_vec();
            chain.push(p.clone());
            apply_include(cx, inc, &mut own, dir, env, &chain)?;
        }
        // Merge onto the files before (`!reset`/`!override` tags come from
        // this file's own services; imported ones have none).
        // By name through an index: a linear search per service would make
        // loading quadratic in the number of services.
        let mut at: HashMap<String, usize> = acc
            .merged
            .iter()
            .enumerate()
            .map(|(i, (n, _))| (n.clone(), i))
            .collect();
        for (name, m) in own.merged {
            if let Some(node) = own.service_nodes.remove(&name) {
                acc.service_nodes.insert(name.clone(), node);
            }
            let tags = tags_of.get(&name).cloned().unwrap_or_default();
            match at.get(&name) {
                Some(&i) => merge_service(&mut acc.merged[i].1, m, &tags),
                None => {
                    at.insert(name.clone(), acc.merged.len());
                    acc.merged.push((name, m));
                }
            }
        }
        for (store, items) in [
            (&mut acc.networks, own.networks),
            (&mut acc.volumes, own.volumes),
            (&mut acc.secrets, own.secrets),
            (&mut acc.configs, own.configs),
        ] {
            replace_all(store, items);
        }
        for (k, v) in parsed.root.as_map().into_iter().flatten() {
            let key = k.scalar_text().unwrap_or_default();
            if key.starts_with("x-") {
                acc.extensions.insert(key, to_json(v));
            }
        }
    }
    Ok(acc)
}

/// Adds `items` to `store`, each replacing (and moving to the end) an
/// entry of the same name, in one pass over `store`.
fn replace_all<V>(store: &mut Vec<(String, V, PathBuf)>, items: Vec<(String, V, PathBuf)>) {
    let names: HashSet<&str> = items.iter().map(|(k, _, _)| k.as_str()).collect();
    store.retain(|(x, _, _)| !names.contains(x.as_str()));
    store.extend(items);
}
