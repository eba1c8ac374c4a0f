//! JSON exactly as Go's `encoding/json` writes it (`<`, `>`, `&`, U+2028
//! and U+2029 escaped, control characters as `\u00XX`), compact or
//! indented. The tools orch stands in for are Go programs, and their bytes
//! matter: Docker Compose hashes a service as `sha256(json.Marshal(service))`
//! (the same bytes give the same `com.docker.compose.config-hash`, so orch
//! and `docker compose` agree on what changed), registries address its
//! artifact manifests by digest, and scripts compare `inspect` and
//! `--progress json` output with the docker CLI's and compose's. A leaf:
//! the planner, the primitives and `oci` share it.

use serde_json::Value;
use std::fmt::Write;

/// `v` encoded as Go's `json.Marshal` would (key order as given).
pub fn marshal(v: &Value) -> String {
    let mut out = String::new();
    write(&mut out, v);
    out
}

/// `v` as Go's `json.MarshalIndent(v, "", indent)` writes it: one value
/// per line, `"key": value`, empty arrays and objects kept as `[]`, `{}`.
pub fn marshal_indent(v: &Value, indent: &str) -> String {
    let mut out = String::new();
    write_indented(&mut out, v, indent, 0);
    out
}

fn write_indented(out: &mut String, v: &Value, indent: &str, depth: usize) {
    let newline = |out: &mut String, depth: usize| {
        out.push('\n');
        for _ in 0..depth {
            out.push_str(indent);
        }
    };
    match v {
        Value::Array(a) if !a.is_empty() => {
            out.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                newline(out, depth + 1);
                write_indented(out, x, indent, depth + 1);
            }
            newline(out, depth);
            out.push(']');
        }
        Value::Object(m) if !m.is_empty() => {
            out.push('{');
            for (i, (k, x)) in m.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                newline(out, depth + 1);
                string(out, k);
                out.push_str(": ");
                write_indented(out, x, indent, depth + 1);
            }
            newline(out, depth);
            out.push('}');
        }
        _ => write(out, v),
    }
}

fn write(out: &mut String, v: &Value) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::String(s) => string(out, s),
        Value::Array(a) => {
            out.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write(out, x);
            }
            out.push(']');
        }
        Value::Object(m) => {
            out.push('{');
            for (i, (k, x)) in m.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                string(out, k);
                out.push(':');
                write(out, x);
            }
            out.push('}');
        }
    }
}

fn string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    #[test]
    fn escapes_like_go() {
        let v = serde_json::json!({"b": ["<a&b>", 1, true, null], "a": "x\ny\u{1}"});
        assert_eq!(
            super::marshal(&v),
            r#"{"b":["\u003ca\u0026b\u003e",1,true,null],"a":"x\ny\u0001"}"#
        );
    }

    /// `json.MarshalIndent`'s layout (serde's pretty printer has the same
    /// one) with Go's escapes, where serde writes `\b` and `\f`.
    #[test]
    fn indents_like_go() {
        let v = serde_json::json!({"a": [], "b": {}, "c": [1.5, {"d": "<\u{8}\u{c}\u{2028}"}]});
        let want = "{\n  \"a\": [],\n  \"b\": {},\n  \"c\": [\n    1.5,\n    {\n      \"d\": \"\\u003c\\u0008\\u000c\\u2028\"\n    }\n  ]\n}";
        assert_eq!(super::marshal_indent(&v, "  "), want);
        let plain = serde_json::json!({"a": [{"x": [1, "y"]}, {}], "z": null});
        assert_eq!(
            super::marshal_indent(&plain, "    "),
            serde_json::to_string_pretty(&plain).unwrap().replace("  ", "    ")
        );
    }
}
