//! `develop:` (the watch rules `orch watch` follows): checked against
//! compose's schema, paths made absolute, `exec` always printed.

use std::path::Path;

use serde_json::{json, Value};

use super::Files;
use crate::compose::canon::{self, ordered, to_json};
use crate::compose::error::LoadError;
use crate::compose::yaml::{Node, Value as Y};

/// `develop:` checked and in canonical form.
pub(super) fn develop(name: &str, v: &Node, base: &Path, files: &Files) -> Result<Value, LoadError> {
    check_develop(name, v, files)?;
    let mut m = to_json(v).as_object().cloned().unwrap_or_default();
    if let Some(Value::Array(rules)) = m.get_mut("watch") {
        for r in rules.iter_mut() {
            if let Some(p) = r.get("path").and_then(Value::as_str).map(str::to_string) {
                r["path"] = json!(crate::compose::mode::shown_path(base, &p));
            }
            // compose always prints an exec section; a command string is split.
            let cmd = match r.get("exec").and_then(|e| e.get("command")).cloned() {
                Some(Value::String(c)) => json!(canon::shell_split(&c).unwrap_or_default()),
                Some(other) => other,
                None => Value::Null,
            };
            if let Some(Value::String(inc)) = r.get("include").cloned() {
                r["include"] = json!([inc]);
            }
            let mut exec = r.get("exec").and_then(Value::as_object).cloned().unwrap_or_default();
            exec.insert("command".into(), cmd);
            r["exec"] = Value::Object(ordered(
                exec,
                &["command", "user", "privileged", "working_dir", "environment"],
            ));
            if let Some(o) = r.as_object_mut() {
                let sorted = ordered(
                    std::mem::take(o),
                    &["path", "action", "target", "exec", "ignore", "include", "initial_sync"],
                );
                *o = sorted;
            }
        }
    }
    Ok(Value::Object(m))
}

/// `develop:` against compose's schema (the watch loop trusts its shape).
pub(super) fn check_develop(name: &str, v: &Node, files: &Files) -> Result<(), LoadError> {
    let at = |n: &Node, msg: String| Err(files.error_at(n, msg));
    let path = format!("services.{name}.develop");
    let entries = match &v.value {
        Y::Null => return Ok(()),
        Y::Map(m) => m,
        _ => return at(v, format!("{path} must be a mapping or null")),
    };
    for (k, w) in entries {
        let key = k.scalar_text().unwrap_or_default();
        if key.starts_with("x-") {
            continue;
        }
        if key != "watch" {
            return at(k, format!("{path} additional properties '{key}' not allowed"));
        }
        let rules = match &w.value {
            Y::Seq(items) => items,
            _ => return at(w, format!("{path}.watch must be a array")),
        };
        for (i, r) in rules.iter().enumerate() {
            let rp = format!("{path}.watch.{i}");
            let Y::Map(fields) = &r.value else {
                return at(r, format!("{rp} must be a mapping"));
            };
            let keys: Vec<String> = fields
                .iter()
                .map(|(k, _)| k.scalar_text().unwrap_or_default())
                .collect();
            let missing: Vec<String> = ["path", "action"]
                .iter()
                .filter(|k| !keys.iter().any(|x| x == *k))
                .map(|k| format!("'{k}'"))
                .collect();
            if !missing.is_empty() {
                return at(r, format!("{rp} missing properties {}", missing.join(", ")));
            }
            for (k, val) in fields {
                let key = k.scalar_text().unwrap_or_default();
                const KNOWN: &[&str] = &["path", "action", "target", "exec", "ignore", "include", "initial_sync"];
                if !KNOWN.contains(&key.as_str()) && !key.starts_with("x-") {
                    return at(k, format!("{rp} additional properties '{key}' not allowed"));
                }
                if key == "action" {
                    const ACTIONS: &[&str] = &["rebuild", "sync", "restart", "sync+restart", "sync+exec"];
                    if !val.as_str().is_some_and(|a| ACTIONS.contains(&a)) {
                        return at(
                            val,
                            format!(
                                "{rp}.action value must be one of 'rebuild', 'sync', 'restart', 'sync+restart', 'sync+exec'"
                            ),
                        );
                    }
                }
                if key == "exec" && !matches!(val.value, Y::Map(_)) {
                    return at(val, format!("{rp}.exec must be a mapping"));
                }
            }
            let action = r.get("action").and_then(Node::as_str).unwrap_or_default();
            if action != "rebuild" && !keys.iter().any(|k| k == "target") {
                return at(
                    r,
                    format!("{path}.watch: target is required for non-rebuild actions: invalid compose project"),
                );
            }
        }
    }
    Ok(())
}
