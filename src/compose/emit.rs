//! The canonical document as YAML, in the style `docker compose config`
//! prints (two-space indentation, keys in document order, strings quoted
//! only where YAML would read them as something else).

use serde_json::Value;

/// YAML text of `v`.
pub fn to_yaml(v: &Value) -> String {
    let mut out = String::new();
    write(&mut out, v, 0, false);
    out
}

fn needs_quotes(s: &str) -> bool {
    if s.is_empty() || s.trim() != s {
        return true;
    }
    if !matches!(super::yaml::resolve_plain(s), super::yaml::Value::Str(_)) {
        return true;
    }
    let first = s.chars().next().unwrap_or(' ');
    if "-?:,[]{}#&*!|>'\"%@`".contains(first) {
        return true;
    }
    if matches!(s.to_ascii_lowercase().as_str(), "yes" | "no" | "on" | "off" | "y" | "n") {
        return true;
    }
    s.contains(": ") || s.contains(" #") || s.ends_with(':') || s.contains('\n') || s.contains('\t')
}

fn scalar(s: &str) -> String {
    if needs_quotes(s) {
        serde_json::to_string(s).unwrap_or_default()
    } else {
        s.to_string()
    }
}

fn write(out: &mut String, v: &Value, indent: usize, _in_seq: bool) {
    let pad = " ".repeat(indent);
    match v {
        Value::Object(m) => {
            for (k, val) in m {
                out.push_str(&pad);
                out.push_str(&scalar(k));
                out.push(':');
                match val {
                    Value::Object(o) if !o.is_empty() => {
                        out.push('\n');
                        write(out, val, indent + 2, false);
                    }
                    Value::Array(a) if !a.is_empty() => {
                        out.push('\n');
                        write(out, val, indent + 2, false);
                    }
                    Value::Object(_) => out.push_str(" {}\n"),
                    Value::Array(_) => out.push_str(" []\n"),
                    other => {
                        out.push(' ');
                        out.push_str(&inline(other));
                        out.push('\n');
                    }
                }
            }
        }
        Value::Array(a) => {
            for item in a {
                out.push_str(&pad);
                out.push_str("- ");
                match item {
                    Value::Object(o) if !o.is_empty() => {
                        // First key on the dash line, the rest aligned under it.
                        let mut sub = String::new();
                        write(&mut sub, item, indent + 2, true);
                        out.push_str(sub.trim_start());
                    }
                    Value::Array(x) if !x.is_empty() => {
                        let mut sub = String::new();
                        write(&mut sub, item, indent + 2, true);
                        out.push_str(sub.trim_start());
                    }
                    other => {
                        out.push_str(&inline(other));
                        out.push('\n');
                    }
                }
            }
        }
        other => {
            out.push_str(&pad);
            out.push_str(&inline(other));
            out.push('\n');
        }
    }
}

fn inline(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => scalar(s),
        Value::Object(_) => "{}".into(),
        Value::Array(_) => "[]".into(),
    }
}
