//! `post_start:` and `pre_stop:`, lists of hooks (commands exec'd in the
//! container), checked against compose's schema and put in compose-go's
//! `ServiceHook` form: a command string split as a shell does, `privileged`
//! a boolean printed only when true, `environment` a sorted map whose
//! entries without a value stay null (compose never resolves them from the
//! process environment), keys in the struct's order. The config hash is
//! computed from this form, so it must be compose's exactly.

use serde_json::{json, Map, Value};

use super::Files;
use crate::compose::canon::{self, ordered, to_json};
use crate::compose::error::LoadError;
use crate::compose::yaml::{Node, Value as Y};

/// compose-go's `ServiceHook` field order.
pub(super) const HOOK_ORDER: &[&str] = &["command", "user", "privileged", "working_dir", "environment"];

/// `services.NAME.KEY` (a hook list) checked and in canonical form.
pub(super) fn hooks(name: &str, key: &str, v: &Node, files: &Files) -> Result<Value, LoadError> {
    let path = format!("services.{name}.{key}");
    let Y::Seq(items) = &v.value else {
        return Err(files.error_at(v, format!("{path} must be a array")));
    };
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        out.push(hook(
            &format!("{path}.{i}"),
            &format!("'services[{name}].{key}[{i}]"),
            item,
            files,
        )?);
    }
    Ok(Value::Array(out))
}

/// One hook. `path`: where the schema's messages point; `decoded`: how
/// compose-go's decoder names it in a cast error.
fn hook(path: &str, decoded: &str, v: &Node, files: &Files) -> Result<Value, LoadError> {
    let at = |n: &Node, msg: String| Err(files.error_at(n, msg));
    let Y::Map(fields) = &v.value else {
        return at(v, format!("{path} must be a mapping"));
    };
    if v.get("command").is_none() {
        return at(v, format!("{path} missing property 'command'"));
    }
    let mut m = Map::new();
    for (k, val) in fields {
        let key = k.scalar_text().unwrap_or_default();
        if key.starts_with("x-") {
            // Printed in YAML only (`json:"-"`), so never hashed.
            m.insert(key, to_json(val));
            continue;
        }
        let value = match key.as_str() {
            "command" => match &val.value {
                Y::Null => Value::Null,
                Y::Str(s) => match canon::shell_split(s) {
                    Some(words) => json!(words),
                    None => return at(val, format!("{path}.command: unbalanced quotes")),
                },
                Y::Seq(items) => json!(items
                    .iter()
                    .map(|i| i.scalar_text().unwrap_or_default())
                    .collect::<Vec<_>>()),
                // compose's schema reports the last branch of its oneOf.
                _ => return at(val, format!("{path}.command must be a null")),
            },
            "user" | "working_dir" => match &val.value {
                Y::Str(s) if s.is_empty() => continue,
                Y::Str(s) => json!(s),
                _ => return at(val, format!("{path}.{key} must be a string")),
            },
            "privileged" => match privileged(val) {
                Ok(false) => continue,
                Ok(true) => json!(true),
                Err(Some(bad)) => return at(val, format!("{decoded}.privileged' invalid boolean: {bad}")),
                Err(None) => return at(val, format!("{path}.privileged must be a boolean or string")),
            },
            "environment" => match &val.value {
                Y::Map(_) | Y::Seq(_) => {
                    let env = canon::mapping(val, '=', None).map_err(|e| files.invalid(e))?;
                    if env.is_empty() {
                        continue;
                    }
                    Value::Object(env)
                }
                Y::Null => continue,
                _ => return at(val, format!("{path}.environment must be a mapping")),
            },
            _ => return at(k, format!("{path} additional properties '{key}' not allowed")),
        };
        m.insert(key, value);
    }
    Ok(Value::Object(ordered(m, HOOK_ORDER)))
}

/// `privileged:` as compose-go decodes it: a boolean, or a string read as
/// YAML 1.1 reads booleans. Err(Some(text)): a string that is none;
/// Err(None): neither a boolean nor a string.
fn privileged(v: &Node) -> Result<bool, Option<String>> {
    match &v.value {
        Y::Bool(b) => Ok(*b),
        Y::Str(s) => match s.to_lowercase().as_str() {
            "true" | "y" | "yes" | "on" => Ok(true),
            "false" | "n" | "no" | "off" => Ok(false),
            _ => Err(Some(s.clone())),
        },
        _ => Err(None),
    }
}
