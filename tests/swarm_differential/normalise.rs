//! Making two sides' output comparable: a side's object and task IDs
//! become what they name (`<service:S-web>`, `<task>`), its prefix `S`;
//! lines about the other side's objects (cluster-wide lists such as
//! `stack ls`) are dropped; tables lose relative times and padding; JSON
//! loses versions and times.

use serde_json::Value;

use crate::step::Output;

/// A side's substitutions.
pub struct Norm {
    prefix: String,
    /// What every prefix of this run starts with: a line still holding it
    /// after this side's are replaced names another side's or scenario's
    /// object (cluster-wide lists), and is dropped.
    other: String,
    /// (ID, token), the full IDs and their 12-character cuts.
    ids: Vec<(String, String)>,
}

impl Norm {
    pub fn new(prefix: &str, family: &str) -> Norm {
        Norm {
            prefix: prefix.to_string(),
            other: family.to_string(),
            ids: Vec::new(),
        }
    }

    /// `id` (and its 12-character cut, as tables print it) is shown as `token`.
    pub fn id(&mut self, id: &str, token: &str) {
        self.ids.push((id.to_string(), token.to_string()));
        if id.len() > 12 {
            self.ids.push((id[..12].to_string(), token.to_string()));
        }
        // Full IDs first, so a cut never replaces part of one.
        self.ids.sort_by_key(|(id, _)| std::cmp::Reverse(id.len()));
    }

    pub fn text(&self, s: &str) -> String {
        let mut s = s.to_string();
        for (id, token) in &self.ids {
            s = s.replace(id.as_str(), token);
        }
        s.replace(&self.prefix, "S")
    }

    /// A JSON value with the substitutions made and volatile keys dropped.
    pub fn json(&self, v: &Value) -> Value {
        let mut v: Value = serde_json::from_str(&self.text(&v.to_string())).unwrap_or(Value::Null);
        drop_volatile(&mut v);
        v
    }

    /// A step's stdout, as its output mode compares it. An inspect's
    /// array becomes an object keyed by position, so a difference names
    /// the field it is in.
    pub fn output(&self, mode: Output, stdout: &str) -> Value {
        if mode == Output::Json {
            return match serde_json::from_str::<Value>(stdout) {
                Ok(Value::Array(items)) => Value::Object(
                    items
                        .iter()
                        .enumerate()
                        .map(|(i, v)| (i.to_string(), self.json(v)))
                        .collect(),
                ),
                Ok(v) => self.json(&v),
                Err(_) => Value::String(format!("<not JSON> {}", self.text(stdout))),
            };
        }
        let mut lines: Vec<String> = stdout
            .lines()
            .map(|l| self.text(l))
            .filter(|l| !l.contains(&self.other))
            .map(|l| if mode == Output::Table { table_line(&l) } else { l })
            .map(|l| timestamps(&l))
            .collect();
        if mode == Output::Unordered {
            lines.sort();
        }
        Value::Array(lines.into_iter().map(Value::String).collect())
    }
}

fn drop_volatile(v: &mut Value) {
    match v {
        Value::Object(m) => {
            for k in [
                "Version",
                "CreatedAt",
                "UpdatedAt",
                "StartedAt",
                "CompletedAt",
                "Timestamp",
            ] {
                m.remove(k);
            }
            m.values_mut().for_each(drop_volatile);
        }
        Value::Array(a) => a.iter_mut().for_each(drop_volatile),
        _ => {}
    }
}

/// A table row: relative times (`5 seconds ago`, `About a minute ago`)
/// become `<ago>`, and the padding (which follows their widths) one
/// double space.
fn table_line(line: &str) -> String {
    let cells: Vec<String> = line
        .split("  ")
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(|c| {
            let words: Vec<&str> = c.split(' ').collect();
            match words.iter().position(|w| *w == "ago") {
                Some(i) => {
                    let from = i.saturating_sub(2);
                    // `about a minute ago`, `Less than a second ago`.
                    let from = if matches!(words.get(from), Some(&"a") | Some(&"an")) && from > 0 {
                        from - 1
                    } else {
                        from
                    };
                    let from = if words.get(from) == Some(&"than") {
                        from.saturating_sub(1)
                    } else {
                        from
                    };
                    let mut kept: Vec<&str> = words[..from].to_vec();
                    kept.push("<ago>");
                    kept.extend(&words[i + 1..]);
                    kept.join(" ")
                }
                None => c.to_string(),
            }
        })
        .collect();
    cells.join("  ")
}

/// RFC 3339 times (`2026-11-28T09:12:01.123456789Z`) → `<time>`.
fn timestamps(line: &str) -> String {
    let b = line.as_bytes();
    let mut out = String::new();
    let mut i = 0;
    while i < b.len() {
        // RFC 3339, or Go's default `2026-11-28 09:12:01.123 +0000 UTC`.
        let date = i + 19 <= b.len()
            && b[i..i + 4].iter().all(u8::is_ascii_digit)
            && b[i + 4] == b'-'
            && b[i + 7] == b'-'
            && (b[i + 10] == b'T' || b[i + 10] == b' ')
            && b[i + 13] == b':';
        if date {
            let mut e = i + 19;
            while e < b.len() && (b[e].is_ascii_digit() || b"+-:.Z".contains(&b[e])) {
                e += 1;
            }
            let zone = line[e..].trim_start_matches(' ');
            let zone_len = zone.len()
                - zone
                    .trim_start_matches(|c: char| c.is_ascii_digit() || c == '+' || c == '-')
                    .len();
            if b[i + 10] == b' ' && zone_len > 0 {
                e = line.len() - zone.len() + zone_len;
                let rest = &line[e..];
                if let Some(name) = rest.strip_prefix(' ') {
                    let letters = name.len() - name.trim_start_matches(|c: char| c.is_ascii_alphabetic()).len();
                    e += 1 + letters;
                }
            }
            out.push_str("<time>");
            i = e;
        } else {
            let c = line[i..].chars().next().unwrap();
            out.push(c);
            i += c.len_utf8();
        }
    }
    out
}
