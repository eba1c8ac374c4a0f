//! JSON exactly as Go's `encoding/json` writes it (compact, `<`, `>`, `&`,
//! U+2028 and U+2029 escaped), because Docker Compose hashes a service as
//! `sha256(json.Marshal(service))`. Producing the same bytes from the same
//! document gives the same `com.docker.compose.config-hash`, so orch and
//! `docker compose` agree on what changed.

use serde_json::Value;
use std::fmt::Write;

/// `v` encoded as Go's `json.Marshal` would (key order as given).
pub fn marshal(v: &Value) -> String {
    let mut out = String::new();
    write(&mut out, v);
    out
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
}
