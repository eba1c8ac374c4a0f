//! `config --variables`: the variables a compose model uses, with their
//! defaults, alternate values and whether they are required, as
//! compose-go v2.9.1's `template.ExtractVariables` finds them (its
//! `DefaultPattern` scanned by hand), printed as compose prints them.

use std::collections::BTreeMap;

use serde_json::{json, Value};

/// One variable (compose-go's `template.Variable`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Variable {
    pub name: String,
    pub default_value: String,
    pub presence_value: String,
    pub required: bool,
}

/// Every variable the strings of `doc` refer to, by name. compose-go keeps
/// the last one seen of a name (in Go's random map order); here the last
/// in document order.
pub fn extract(doc: &Value) -> BTreeMap<String, Variable> {
    let mut out = BTreeMap::new();
    walk(doc, &mut out);
    out
}

fn walk(v: &Value, out: &mut BTreeMap<String, Variable>) {
    match v {
        Value::String(s) => {
            for var in in_string(s) {
                out.insert(var.name.clone(), var);
            }
        }
        Value::Object(m) => m.values().for_each(|x| walk(x, out)),
        Value::Array(a) => a.iter().for_each(|x| walk(x, out)),
        _ => {}
    }
}

/// The interpolation's own name rules, on the bytes this scanner walks.
fn name_start(b: u8) -> bool {
    super::interp::is_name_start(char::from(b))
}

fn name_char(b: u8) -> bool {
    super::interp::is_name(char::from(b))
}

/// One match of compose-go's pattern at `s[i]` (a `$`): its end, and the
/// variable's text (the name alone for `$NAME`); None when the `$` starts
/// no match. `$$` is a match without a variable.
fn match_at(s: &str, i: usize) -> Option<(usize, Option<String>)> {
    let b = s.as_bytes();
    match b.get(i + 1) {
        Some(b'$') => Some((i + 2, None)),
        Some(&c) if name_start(c) => {
            let mut j = i + 2;
            while j < b.len() && name_char(b[j]) {
                j += 1;
            }
            Some((j, Some(s[i + 1..j].to_string())))
        }
        Some(b'{') => {
            // `{NAME}` or `{NAME[:][-+?]ANYTHING}` with a greedy `.*`: up to
            // the line's last `}`; else the pattern's empty `invalid` group.
            let line_end = s[i..].find('\n').map_or(s.len(), |n| i + n);
            let mut j = i + 2;
            if j < b.len() && name_start(b[j]) {
                j += 1;
                while j < b.len() && name_char(b[j]) {
                    j += 1;
                }
                let rest = &s[j..line_end];
                let modifier = rest.strip_prefix(':').unwrap_or(rest);
                let has_mod = modifier.starts_with(['-', '+', '?']);
                if has_mod {
                    if let Some(close) = s[j..line_end].rfind('}') {
                        return Some((j + close + 1, Some(braced(&s[i..j + close + 1]))));
                    }
                } else if b.get(j) == Some(&b'}') {
                    return Some((j + 1, Some(braced(&s[i..j + 1]))));
                }
            }
            Some((i + 2, Some(String::new())))
        }
        _ => None,
    }
}

/// A braced match's variable text: up to its first closing brace, as
/// compose-go's getFirstBraceClosingIndex counts them (the match's rest,
/// after that brace, is looked at again by `in_string`'s caller).
fn braced(m: &str) -> String {
    match first_closing(m) {
        Some(i) if i > 0 => m[2..i].to_string(),
        _ => String::new(),
    }
}

fn first_closing(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    let mut open = 0i32;
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'}' {
            open -= 1;
            if open == 0 {
                return Some(i);
            }
        }
        if b[i] == b'{' {
            open += 1;
            i += 1;
        }
        i += 1;
    }
    None
}

/// The variables of one string, in compose-go's order.
fn in_string(s: &str) -> Vec<Variable> {
    let mut values = Vec::new();
    let mut i = 0;
    while let Some(off) = s[i..].find('$') {
        let at = i + off;
        let Some((end, text)) = match_at(s, at) else {
            i = at + 1;
            continue;
        };
        i = end;
        let Some(val) = text else { continue };
        let whole = &s[at..end];
        if whole.starts_with("${") {
            if let Some(c) = first_closing(whole).filter(|&c| c > 0 && c + 1 < whole.len()) {
                values.extend(in_string(&whole[c + 1..]));
            }
        }
        values.extend(variable(&val));
    }
    values
}

fn variable(val: &str) -> Vec<Variable> {
    let mut v = Variable {
        name: val.to_string(),
        ..Default::default()
    };
    if let Some(i) = val
        .find(|c: char| !(c == '_' || c.is_ascii_alphanumeric()))
        .filter(|&i| i > 0)
    {
        v.name = val[..i].to_string();
        let rest = &val[i..];
        if rest.starts_with(":?") || rest.starts_with('?') {
            v.required = true;
        } else if let Some(d) = rest.strip_prefix(":-").or_else(|| rest.strip_prefix('-')) {
            v.default_value = d.to_string();
        } else if let Some(p) = rest.strip_prefix(":+").or_else(|| rest.strip_prefix('+')) {
            v.presence_value = p.to_string();
        }
    }
    let (default, presence) = (v.default_value.clone(), v.presence_value.clone());
    let mut out = vec![v];
    for nested in [default, presence] {
        if !nested.is_empty() {
            out.extend(in_string(&nested));
        }
    }
    out
}

/// compose's JSON (Go's encoder: 4-space indent, HTML not escaped, the
/// encoder's newline and Println's).
pub fn to_json(vars: &BTreeMap<String, Variable>) -> String {
    let doc: serde_json::Map<String, Value> = vars
        .iter()
        .map(|(k, v)| {
            let o = json!({"Name": v.name, "DefaultValue": v.default_value,
                "PresenceValue": v.presence_value, "Required": v.required});
            (k.clone(), o)
        })
        .collect();
    let mut buf = Vec::new();
    let fmt = serde_json::ser::PrettyFormatter::with_indent(b"    ");
    let mut ser = serde_json::Serializer::with_formatter(&mut buf, fmt);
    serde::Serialize::serialize(&Value::Object(doc), &mut ser).expect("JSON of strings");
    let text = String::from_utf8(buf).unwrap_or_default();
    format!(
        "{}\n\n",
        text.replace('\u{2028}', "\\u2028").replace('\u{2029}', "\\u2029")
    )
}

/// go-yaml v3's order of string map keys (its sorter's `keyList.Less`):
/// non-letters before letters, digit runs by their number.
fn go_yaml_less(a: &str, b: &str) -> bool {
    let (ar, br): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let mut digits = false;
    for i in 0..ar.len().min(br.len()) {
        if ar[i] == br[i] {
            digits = ar[i].is_ascii_digit();
            continue;
        }
        let (al, bl) = (ar[i].is_alphabetic(), br[i].is_alphabetic());
        if al && bl {
            return ar[i] < br[i];
        }
        if al || bl {
            return if digits { al } else { bl };
        }
        let (mut an, mut bn) = (0i64, 0i64);
        if (ar[i] == '0' || br[i] == '0')
            && ar[..i]
                .iter()
                .rev()
                .take_while(|c| c.is_ascii_digit())
                .any(|&c| c != '0')
        {
            (an, bn) = (1, 1);
        }
        let run = |r: &[char], n: &mut i64| {
            let mut j = i;
            while j < r.len() && r[j].is_ascii_digit() {
                *n = n.wrapping_mul(10).wrapping_add(r[j] as i64 - '0' as i64);
                j += 1;
            }
            j
        };
        let (ai, bi) = (run(&ar, &mut an), run(&br, &mut bn));
        if an != bn {
            return an < bn;
        }
        if ai != bi {
            return ai < bi;
        }
        return ar[i] < br[i];
    }
    ar.len() < br.len()
}

/// compose's YAML (go-yaml of the struct: lower-case field names).
pub fn to_yaml(vars: &BTreeMap<String, Variable>) -> String {
    let mut keys: Vec<&String> = vars.keys().collect();
    keys.sort_by(|a, b| {
        if go_yaml_less(a, b) {
            std::cmp::Ordering::Less
        } else if go_yaml_less(b, a) {
            std::cmp::Ordering::Greater
        } else {
            std::cmp::Ordering::Equal
        }
    });
    let doc: serde_json::Map<String, Value> = keys
        .into_iter()
        .map(|k| (k, &vars[k]))
        .map(|(k, v)| {
            let o = json!({"name": v.name, "defaultvalue": v.default_value,
                "presencevalue": v.presence_value, "required": v.required});
            (k.clone(), o)
        })
        .collect();
    if doc.is_empty() {
        return "{}\n".into();
    }
    // go-yaml's Marshal indents by four (the emitter, by two).
    let text = super::emit::to_yaml_verbatim(&Value::Object(doc));
    text.lines()
        .map(|l| {
            let body = l.trim_start_matches(' ');
            format!("{}{body}\n", " ".repeat(2 * (l.len() - body.len())))
        })
        .collect()
}

/// compose's table: Go's tabwriter (minimum width 20, padding 3) over
/// `NAME\tREQUIRED\tDEFAULT\tALTERNATE` lines, the first three cells
/// padded (also when empty), the last as it is.
pub fn table(vars: &BTreeMap<String, Variable>) -> String {
    let header = ["NAME", "REQUIRED", "DEFAULT VALUE", "ALTERNATE VALUE"].map(String::from);
    let rows: Vec<[String; 4]> = std::iter::once(header)
        .chain(vars.values().map(|v| {
            [
                v.name.clone(),
                v.required.to_string(),
                v.default_value.clone(),
                v.presence_value.clone(),
            ]
        }))
        .collect();
    let width = |i: usize| rows.iter().map(|r| r[i].chars().count() + 3).max().unwrap_or(0).max(20);
    let widths = [width(0), width(1), width(2)];
    let mut out = String::new();
    for r in &rows {
        for (cell, w) in r.iter().zip(widths) {
            out.push_str(&format!("{cell:<w$}"));
        }
        out.push_str(&r[3]);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(s: &str) -> Vec<(String, String, String, bool)> {
        in_string(s)
            .into_iter()
            .map(|v| (v.name, v.default_value, v.presence_value, v.required))
            .collect()
    }

    #[test]
    fn forms() {
        let t = |n: &str, d: &str, p: &str, r| (n.to_string(), d.to_string(), p.to_string(), r);
        assert_eq!(names("a $A b"), vec![t("A", "", "", false)]);
        assert_eq!(names("$$A ${B:-x}"), vec![t("B", "x", "", false)]);
        assert_eq!(names("${B?err}"), vec![t("B", "", "", true)]);
        assert_eq!(names("${B:+alt}"), vec![t("B", "", "alt", false)]);
        assert_eq!(
            names("${A:-${B:-c}}"),
            vec![t("A", "${B:-c}", "", false), t("B", "c", "", false)]
        );
        assert_eq!(
            names("${A-x} and ${C}"),
            vec![t("C", "", "", false), t("A", "x", "", false)]
        );
    }

    #[test]
    fn go_yaml_key_order() {
        assert!(go_yaml_less("B_VAR", "BRACED"));
        assert!(go_yaml_less("A2", "A10"));
        assert!(!go_yaml_less("a", "B"));
    }
}
