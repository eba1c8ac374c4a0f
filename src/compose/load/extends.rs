//! `extends`: a service built on another one, in the same file or another,
//! resolved before the files are merged (compose-go's `extends.go`).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::merge::merge_service;
use super::parse::{parse_file, Parsed};
use super::Files;
use crate::compose::canon;
use crate::compose::error::LoadError;

/// What resolving `extends` needs besides the file at hand.
pub(super) struct Cx<'a> {
    pub files: &'a mut Files,
    pub env: &'a HashMap<String, String>,
    pub no_interpolate: bool,
    pub unset: &'a mut Vec<String>,
    /// The project's working directory: cycle messages name files
    /// relative to it, as compose-go's do.
    pub workdir: &'a Path,
}

/// One step of an `extends` chain, as compose-go's cycle tracker keys it:
/// the file the base is read from (the service's own when the base is a
/// sibling) and the service.
type Link = (PathBuf, String);

/// Resolves `extends` (same file or another) for every service of a file.
pub(super) fn resolve_extends(parsed: &mut Parsed, cx: &mut Cx) -> Result<(), LoadError> {
    same_file_cycle(parsed, cx.files)?;
    // By index (the list keeps its length and order here): a search by
    // name per service would make loading quadratic.
    for idx in 0..parsed.services.len() {
        resolve_service(parsed, idx, cx, &[])?;
    }
    Ok(())
}

/// Resolves service `idx` of `parsed` in place, its base first: only the
/// chain it extends is read, never the rest of another file (whose own
/// `extends` may point back here without a cycle).
fn resolve_service(parsed: &mut Parsed, idx: usize, cx: &mut Cx, chain: &[Link]) -> Result<(), LoadError> {
    let name = parsed.services[idx].0.clone();
    let Some(ext) = parsed.services[idx].1.get("extends").cloned() else {
        return Ok(());
    };
    let base_name = ext["service"].as_str().unwrap_or_default().to_string();
    let node = parsed.services[idx].3.clone();
    let base = match ext.get("file").and_then(Value::as_str) {
        Some(f) => {
            let path = PathBuf::from(canon::abs_path(&parsed.dir, f));
            let chain = link(chain, (path.clone(), name.clone()), cx.workdir)?;
            let mut other = parse_file(&path, cx.files, cx.env, cx.no_interpolate, cx.unset, None)?;
            same_file_cycle(&other, cx.files)?;
            match other.services.iter().position(|s| s.0 == base_name) {
                Some(b) => {
                    resolve_service(&mut other, b, cx, &chain)?;
                    Some(other.services.swap_remove(b).1)
                }
                None => None,
            }
        }
        None => {
            if base_name == name {
                return Err(cx.files.error_at(
                    &node,
                    format!("services.{name}.extends: a service cannot extend itself"),
                ));
            }
            let chain = link(chain, (parsed.file.clone(), name.clone()), cx.workdir)?;
            match parsed.services.iter().position(|s| s.0 == base_name) {
                Some(b) => {
                    resolve_service(parsed, b, cx, &chain)?;
                    Some(parsed.services[b].1.clone())
                }
                None => None,
            }
        }
    };
    let Some(mut base) = base else {
        return Err(cx.files.error_at(
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
    Ok(())
}

/// `chain` with `next` added, or compose-go's "Circular reference" when
/// `next` is already in it.
pub(super) fn link(chain: &[Link], next: Link, workdir: &Path) -> Result<Vec<Link>, LoadError> {
    if !chain.contains(&next) {
        let mut out = chain.to_vec();
        out.push(next);
        return Ok(out);
    }
    let shown = |(f, s): &Link| (s.clone(), relative(f, workdir));
    let mut lines = vec!["Circular reference:".to_string()];
    for (i, (s, f)) in chain.iter().chain([&next]).map(shown).enumerate() {
        let verb = if i == 0 { "" } else { "extends " };
        lines.push(format!("  {verb}{s} in {f}"));
    }
    Err(LoadError::plain(lines.join("\n")))
}

/// `p` relative to `base` (with `..` where needed), as Go's `filepath.Rel`.
fn relative(p: &Path, base: &Path) -> String {
    let (pc, bc): (Vec<_>, Vec<_>) = (p.components().collect(), base.components().collect());
    let common = pc.iter().zip(&bc).take_while(|(a, b)| a == b).count();
    if common == 0 {
        return p.display().to_string();
    }
    let mut out = PathBuf::new();
    for _ in common..bc.len() {
        out.push("..");
    }
    for c in &pc[common..] {
        out.push(c);
    }
    out.display().to_string()
}

/// An `extends` loop within one file is compose-go's "Circular reference"
/// with the chain back to the first service (resolving it would report a
/// base "not found" instead, which is not the fault).
fn same_file_cycle(parsed: &Parsed, files: &Files) -> Result<(), LoadError> {
    let by_name: HashMap<&str, usize> = parsed
        .services
        .iter()
        .enumerate()
        .map(|(i, s)| (s.0.as_str(), i))
        .collect();
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
