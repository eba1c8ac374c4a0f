//! `extends`: a service built on another one, in the same file or another,
//! resolved before the files are merged (compose-go's `extends.go`).

use std::collections::HashMap;
use std::path::PathBuf;

use serde_json::Value;

use super::merge::merge_service;
use super::parse::{parse_file, Parsed};
use super::Files;
use crate::compose::canon;
use crate::compose::error::LoadError;

/// Resolves `extends` (same file or another) for every service of a file.
pub(super) fn resolve_extends(
    parsed: &mut Parsed,
    files: &mut Files,
    env: &HashMap<String, String>,
    no_interpolate: bool,
    unset: &mut Vec<String>,
    depth: usize,
) -> Result<(), LoadError> {
    if depth > 16 {
        return Err(LoadError::plain("extends: too many levels (is there a cycle?)"));
    }
    same_file_cycle(parsed, files)?;
    // By index (the list keeps its length and order here): a search by
    // name per service would make loading quadratic.
    for idx in 0..parsed.services.len() {
        let name = parsed.services[idx].0.clone();
        let Some(ext) = parsed.services[idx].1.get("extends").cloned() else {
            continue;
        };
        let base_name = ext["service"].as_str().unwrap_or_default().to_string();
        let node = parsed.services[idx].3.clone();
        let base = match ext.get("file").and_then(Value::as_str) {
            Some(f) => {
                let path = PathBuf::from(canon::abs_path(&parsed.dir, f));
                let mut other = parse_file(&path, files, env, no_interpolate, unset, None)?;
                resolve_extends(&mut other, files, env, no_interpolate, unset, depth + 1)?;
                other.services.into_iter().find(|s| s.0 == base_name).map(|s| s.1)
            }
            None => {
                if base_name == name {
                    return Err(files.error_at(
                        &node,
                        format!("services.{name}.extends: a service cannot extend itself"),
                    ));
                }
                let mut sub = Parsed {
                    root: parsed.root.clone(),
                    services: parsed.services.clone(),
                    dir: parsed.dir.clone(),
                };
                // Resolve the base's own extends first.
                let base_idx = sub.services.iter().position(|s| s.0 == base_name);
                if let Some(b) = base_idx {
                    if sub.services[b].1.contains_key("extends") {
                        sub.services.retain(|s| s.0 == base_name || s.0 != name);
                        resolve_extends(&mut sub, files, env, no_interpolate, unset, depth + 1)?;
                    }
                }
                sub.services.into_iter().find(|s| s.0 == base_name).map(|s| s.1)
            }
        };
        let Some(mut base) = base else {
            return Err(files.error_at(
                &node,
                format!("cannot extend service \"{name}\": service \"{base_name}\" not found"),
            ));
        };
        // `extends` itself is not inherited.
        base.shift_remove("extends");
        let (_, mut own, tags, _) = parsed.services[idx].clone();
        own.shift_remove("extends");
        merge_service(&mut base, own, &tags);
        parsed.services[idx].1 = base;
    }
    Ok(())
}

/// An `extends` loop within one file is compose-go's "Circular reference"
/// with the chain back to the first service (resolving it would report a
/// base "not found" instead, which is not the fault).
fn same_file_cycle(parsed: &Parsed, files: &Files) -> Result<(), LoadError> {
    let by_name: HashMap<&str, usize> = parsed.services.iter().enumerate().map(|(i, s)| (s.0.as_str(), i)).collect();
    let base_of = |n: &str| {
        let ext = parsed.services[*by_name.get(n)?].1.get("extends")?;
        if ext.get("file").is_some() {
            return None;
        }
        ext["service"].as_str().map(str::to_string)
    };
    for (start, _, _, node) in &parsed.services {
        let mut chain = vec![start.clone()];
        let mut cur = start.clone();
        // A service extending itself has its own message.
        while let Some(next) = base_of(&cur).filter(|n| *n != cur) {
            if chain.contains(&next) {
                let file = files.list.get(node.span.file).map(|f| f.0.clone()).unwrap_or_default();
                let mut msg = format!("Circular reference:\n  {start} in {file}");
                for n in chain.iter().skip(1).chain([&next]) {
                    msg.push_str(&format!("\n  extends {n} in {file}"));
                }
                return Err(LoadError::plain(msg));
            }
            chain.push(next.clone());
            cur = next;
        }
    }
    Ok(())
}
