//! The canonical document as YAML, byte for byte as `docker compose config`
//! prints it: compose marshals its Go structs with go-yaml, so sections come
//! in struct order, empty struct fields are left out (`omitempty`), and each
//! string gets the style go-yaml picks (plain, single-quoted, double-quoted
//! or a literal block).

use serde_json::{Map, Value};

/// Top-level sections in the order of compose's `Project` struct.
const TOP_ORDER: &[&str] = &[
    "name", "services", "networks", "volumes", "secrets", "configs", "models",
];

/// Maps whose keys are the user's (Go maps): their empty or null values are
/// printed; everywhere else an empty value is an omitted struct field.
const USER_MAPS: &[&str] = &[
    "services",
    "networks",
    "volumes",
    "secrets",
    "configs",
    "models",
    "environment",
    "labels",
    "annotations",
    "depends_on",
    "sysctls",
    "args",
    "options",
    "driver_opts",
    "ulimits",
    "storage_opt",
];

/// YAML text of the document `v` as `config` prints it, every `$`
/// escaped as `$$` so that it loads back to the same project. One pass
/// copies what is printed (a second copy of 1,000 services for the
/// escapes was a tenth of `config`'s time).
pub fn to_yaml(v: &Value) -> String {
    let mut doc = match v {
        Value::Object(m) => {
            let mut out = Map::new();
            for k in TOP_ORDER {
                if let Some(x) = m.get(*k) {
                    if let Some(x) = printed(k, x, true) {
                        out.insert(k.to_string(), x);
                    }
                }
            }
            for (k, x) in m.iter().filter(|(k, _)| !TOP_ORDER.contains(&k.as_str())) {
                if let Some(x) = printed(k, x, true) {
                    out.insert(k.clone(), x);
                }
            }
            Value::Object(out)
        }
        other => escaped(other, false),
    };
    blkio_yaml_keys(&mut doc);
    let mut out = String::new();
    write(&mut out, &doc, 0);
    out
}

/// The printed copy of entry `k` of a map (`user_map`: of the user's),
/// `None` where compose omits it.
fn printed(k: &str, x: &Value, user_map: bool) -> Option<Value> {
    let child_user = USER_MAPS.contains(&k) || k.starts_with("x-");
    let x = escaped(x, child_user);
    let empty = match &x {
        Value::Null => true,
        Value::Object(o) => o.is_empty(),
        Value::Array(a) => a.is_empty(),
        _ => false,
    };
    // `volume`, `bind`, `tmpfs` are pointers in compose's mount struct:
    // kept when empty.
    let pointer = matches!(k, "volume" | "bind" | "tmpfs") && x.is_object();
    (user_map || !empty || pointer).then_some(x)
}

/// A copy of `v` with `$` escaped and empty struct fields dropped (null,
/// `{}` and `[]` values, but not those of user maps).
fn escaped(v: &Value, user_map: bool) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter_map(|(k, x)| Some((k.clone(), printed(k, x, user_map)?)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(|x| escaped(x, false)).collect()),
        Value::String(s) if s.contains('$') => Value::String(s.replace('$', "$$")),
        other => other.clone(),
    }
}

/// YAML text of `v` as go-yaml prints a generic value (`map[string]any`):
/// every key kept, in `v`'s order, empty maps and lists inline.
pub fn to_yaml_verbatim(v: &Value) -> String {
    let mut out = String::new();
    write(&mut out, v, 0);
    out
}

/// compose-go's blkio device entries have yaml tags (`path`, `rate`,
/// `weight`) but no json ones: the document keeps the JSON names (the
/// config hash is of the JSON), the YAML output the YAML ones.
fn blkio_yaml_keys(doc: &mut Value) {
    let Some(services) = doc.get_mut("services").and_then(Value::as_object_mut) else {
        return;
    };
    for svc in services.values_mut() {
        let Some(b) = svc.get_mut("blkio_config").and_then(Value::as_object_mut) else {
            continue;
        };
        for list in b.values_mut().filter_map(Value::as_array_mut) {
            for e in list.iter_mut() {
                if let Value::Object(m) = e {
                    *m = std::mem::take(m)
                        .into_iter()
                        .map(|(k, v)| (k.to_lowercase(), v))
                        .collect();
                }
            }
        }
    }
}

enum Style {
    Plain,
    Single,
    Double,
    Literal,
}

/// The style go-yaml (v3) gives a string.
fn style(s: &str) -> Style {
    let printable = |c: char| {
        matches!(c, '\n' | '\t')
            || (c >= ' ' && c != '\u{7f}' && !('\u{80}'..='\u{9f}').contains(&c)) && c != '\u{feff}'
    };
    let special = s.chars().any(|c| !printable(c));
    if s.contains('\n') {
        let space_break = s.contains(" \n");
        let trailing_space = s.ends_with(' ');
        return if special || space_break || trailing_space || s.contains('\t') {
            Style::Double
        } else {
            Style::Literal
        };
    }
    if special || s.contains('\t') {
        return Style::Double;
    }
    if !resolves_to_str(s) || old_bool(s) || base60_float(s) {
        return Style::Double;
    }
    if plain_allowed(s) {
        Style::Plain
    } else {
        Style::Single
    }
}

/// Whether go-yaml reads the plain scalar back as a string.
fn resolves_to_str(s: &str) -> bool {
    if matches!(
        s,
        "" | "~" | "null" | "Null" | "NULL" | "true" | "True" | "TRUE" | "false" | "False" | "FALSE" | "<<"
    ) {
        return false;
    }
    let lower = s.trim_start_matches(['+', '-']);
    if matches!(lower, ".inf" | ".Inf" | ".INF") || matches!(s, ".nan" | ".NaN" | ".NAN") {
        return false;
    }
    let plain = if s.contains('_') {
        std::borrow::Cow::Owned(s.replace('_', ""))
    } else {
        std::borrow::Cow::Borrowed(s)
    };
    let digits = plain.trim_start_matches(['+', '-']);
    let int = |d: &str, radix: u32| !d.is_empty() && d.chars().all(|c| c.is_digit(radix));
    let is_int = int(digits, 10)
        || digits.strip_prefix("0x").is_some_and(|d| int(d, 16))
        || digits.strip_prefix("0o").is_some_and(|d| int(d, 8))
        || digits.strip_prefix("0b").is_some_and(|d| int(d, 2));
    if is_int || is_float(s) || is_timestamp(s) {
        return false;
    }
    true
}

/// go-yaml's `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`.
fn is_float(s: &str) -> bool {
    let s = s.strip_prefix(['+', '-']).unwrap_or(s);
    let (mantissa, exp) = match s.find(['e', 'E']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let digits = |d: &str| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit());
    let mantissa_ok = match mantissa.split_once('.') {
        Some(("", frac)) => digits(frac),
        Some((int, frac)) => digits(int) && (frac.is_empty() || digits(frac)),
        None => digits(mantissa),
    };
    let exp_ok = exp.is_none_or(|e| digits(e.strip_prefix(['+', '-']).unwrap_or(e)));
    mantissa_ok && exp_ok
}

/// `2001-12-14` and the other timestamp forms go-yaml accepts (a date,
/// optionally followed by a time).
fn is_timestamp(s: &str) -> bool {
    let b = s.as_bytes();
    let date = b.len() >= 8
        && b[..4].iter().all(u8::is_ascii_digit)
        && b[4] == b'-'
        && s[5..].split(['T', 't', ' ']).next().is_some_and(|d| {
            let parts: Vec<&str> = d.split('-').collect();
            parts.len() == 2
                && parts
                    .iter()
                    .all(|p| (1..=2).contains(&p.len()) && p.bytes().all(|c| c.is_ascii_digit()))
        });
    date && (s.len() <= 10 || s[10..].starts_with(['T', 't', ' ']))
}

fn old_bool(s: &str) -> bool {
    matches!(
        s,
        "y" | "Y" | "yes" | "Yes" | "YES" | "n" | "N" | "no" | "No" | "NO" | "on" | "On" | "ON" | "off" | "Off" | "OFF"
    )
}

/// go-yaml's `^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$`.
fn base60_float(s: &str) -> bool {
    let s = s.strip_prefix(['+', '-']).unwrap_or(s);
    let (main, frac) = match s.split_once('.') {
        Some((m, f)) => (m, Some(f)),
        None => (s, None),
    };
    if frac.is_some_and(|f| !f.bytes().all(|b| b.is_ascii_digit() || b == b'_')) {
        return false;
    }
    let mut parts = main.split(':');
    let first = parts.next().unwrap_or("");
    let first_ok = first.bytes().next().is_some_and(|b| b.is_ascii_digit())
        && first.bytes().all(|b| b.is_ascii_digit() || b == b'_');
    let rest: Vec<&str> = parts.collect();
    first_ok
        && !rest.is_empty()
        && rest.iter().all(|p| {
            let b = p.as_bytes();
            match b.len() {
                1 => b[0].is_ascii_digit(),
                2 => (b'0'..=b'5').contains(&b[0]) && b[1].is_ascii_digit(),
                _ => false,
            }
        })
}

/// go-yaml's analysis of whether a one-line string may be written plain in
/// block context.
fn plain_allowed(s: &str) -> bool {
    if s.starts_with("---") || s.starts_with("...") {
        return false;
    }
    if s.starts_with(' ') || s.ends_with(' ') {
        return false;
    }
    let chars: Vec<char> = s.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        let next_blank = chars.get(i + 1).is_none_or(|n| *n == ' ');
        if i == 0 {
            if "#,[]{}&*!|>'\"%@`".contains(c) {
                return false;
            }
            if matches!(c, '?' | ':' | '-') && next_blank {
                return false;
            }
        } else {
            if c == ':' && next_blank {
                return false;
            }
            if c == '#' && chars[i - 1] == ' ' {
                return false;
            }
        }
    }
    true
}

fn scalar(s: &str, indent: usize) -> String {
    match style(s) {
        Style::Plain => s.to_string(),
        Style::Single => format!("'{}'", s.replace('\'', "''")),
        Style::Double => double(s),
        Style::Literal => {
            let chomp = if !s.ends_with('\n') {
                "-"
            } else if s.ends_with("\n\n") {
                "+"
            } else {
                ""
            };
            let body = s.strip_suffix('\n').unwrap_or(s);
            let pad = " ".repeat(indent);
            let lead = if s.starts_with(' ') { "2" } else { "" };
            let mut out = format!("|{lead}{chomp}");
            for line in body.split('\n') {
                out.push('\n');
                if !line.is_empty() {
                    out.push_str(&pad);
                    out.push_str(line);
                }
            }
            out
        }
    }
}

/// A double-quoted scalar with YAML's escapes.
fn double(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\0' => out.push_str("\\0"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{b}' => out.push_str("\\v"),
            '\u{c}' => out.push_str("\\f"),
            '\u{1b}' => out.push_str("\\e"),
            '\u{85}' => out.push_str("\\N"),
            '\u{a0}' => out.push_str("\\_"),
            '\u{2028}' => out.push_str("\\L"),
            '\u{2029}' => out.push_str("\\P"),
            c if (c as u32) < 0x20 || c == '\u{7f}' || ('\u{80}'..='\u{9f}').contains(&c) => {
                out.push_str(&format!("\\x{:02X}", c as u32))
            }
            '\u{feff}' => out.push_str("\\uFEFF"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn write(out: &mut String, v: &Value, indent: usize) {
    let pad = spaces(indent);
    let pad = &*pad;
    match v {
        Value::Object(m) => {
            for (k, val) in m {
                out.push_str(pad);
                push_scalar(out, k, indent + 2);
                out.push(':');
                match val {
                    Value::Object(o) if !o.is_empty() => {
                        out.push('\n');
                        write(out, val, indent + 2);
                    }
                    // go-yaml does not indent a sequence under its key.
                    Value::Array(a) if !a.is_empty() => {
                        out.push('\n');
                        write(out, val, indent + 2);
                    }
                    other => {
                        out.push(' ');
                        push_inline(out, other, indent + 2);
                        out.push('\n');
                    }
                }
            }
        }
        Value::Array(a) => {
            for item in a {
                out.push_str(pad);
                out.push_str("- ");
                match item {
                    Value::Object(o) if !o.is_empty() => {
                        // First key on the dash line, the rest aligned under it.
                        let mut sub = String::new();
                        write(&mut sub, item, indent + 2);
                        out.push_str(sub.trim_start());
                    }
                    Value::Array(x) if !x.is_empty() => {
                        let mut sub = String::new();
                        write(&mut sub, item, indent + 2);
                        out.push_str(sub.trim_start());
                    }
                    other => {
                        push_inline(out, other, indent + 2);
                        out.push('\n');
                    }
                }
            }
        }
        other => {
            out.push_str(pad);
            push_inline(out, other, indent);
            out.push('\n');
        }
    }
}

/// `indent` spaces, borrowed for the usual depths.
fn spaces(indent: usize) -> std::borrow::Cow<'static, str> {
    const SPACES: &str = "                                                                ";
    match SPACES.get(..indent) {
        Some(s) => s.into(),
        None => " ".repeat(indent).into(),
    }
}

/// A scalar, written in place: most are plain and need no copy.
fn push_scalar(out: &mut String, s: &str, indent: usize) {
    match style(s) {
        Style::Plain => out.push_str(s),
        _ => out.push_str(&scalar(s, indent)),
    }
}

fn push_inline(out: &mut String, v: &Value, indent: usize) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => {
            use std::fmt::Write;
            let _ = write!(out, "{n}");
        }
        Value::String(s) => push_scalar(out, s, indent),
        Value::Object(_) => out.push_str("{}"),
        Value::Array(_) => out.push_str("[]"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_take_go_yaml_styles() {
        for (s, want) in [
            ("plain", "plain"),
            ("-c", "-c"),
            ("*.foo", "'*.foo'"),
            ("a: b", "'a: b'"),
            ("1", "\"1\""),
            ("", "\"\""),
            ("yes", "\"yes\""),
            ("8080:80", "8080:80"),
            ("1:20", "\"1:20\""),
            ("0440", "\"0440\""),
            ("1.5", "\"1.5\""),
            ("null", "\"null\""),
            ("2001-12-14", "\"2001-12-14\""),
            ("it's", "it's"),
            ("tab\there", "\"tab\\there\""),
        ] {
            assert_eq!(scalar(s, 2), want, "{s:?}");
        }
        assert_eq!(scalar("one\ntwo", 2), "|-\n  one\n  two");
        assert_eq!(scalar("one\n", 2), "|\n  one");
    }
}
