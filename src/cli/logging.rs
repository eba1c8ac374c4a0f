//! `ORCH_LOG=debug` (or `trace`) diagnostics, with secrets taken out.
//!
//! The engine client logs every request body and many answers: secret and
//! config payloads, containers' environments, archive uploads (which carry
//! compose secrets' values), registry credentials. A log is something
//! people paste into issues, so every line passes through [`redact`] before
//! it reaches stderr, at every level: values of sensitive keys become
//! `<redacted>`, environment entries keep their names only, and raw request
//! bodies shown as byte strings are replaced by their length.

use std::io::Write;

/// Starts the subscriber when `ORCH_LOG` is set (an `EnvFilter`, e.g.
/// `debug` or `bollard=trace`).
pub fn init() {
    if std::env::var_os("ORCH_LOG").is_some() {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_env("ORCH_LOG"))
            .with_writer(|| Redacting(Vec::new()))
            .try_init();
    }
}

/// Collects one formatted event and writes it, redacted, when dropped
/// (the formatter makes one writer per event).
struct Redacting(Vec<u8>);

impl Write for Redacting {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for Redacting {
    fn drop(&mut self) {
        let text = redact(&String::from_utf8_lossy(&self.0));
        let _ = std::io::stderr().lock().write_all(text.as_bytes());
    }
}

/// JSON keys (any case) whose string values are secret: secret and config
/// payloads, registry credentials.
const SECRET_KEYS: &[&str] = &[
    "data",
    "password",
    "auth",
    "identitytoken",
    "registrytoken",
    "x-registry-auth",
    "x-registry-config",
];

const REDACTED: &str = "<redacted>";

/// `text` with secret values replaced: string values of [`SECRET_KEYS`],
/// the values (not the names) of `"Env"` entries, and whole byte-string
/// literals (`b"..."`, request bodies as the client debug-prints them).
pub fn redact(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find('"') {
        let (before, from_quote) = rest.split_at(i);
        out.push_str(before);
        // A byte string: `b"` after a non-word character.
        if before.ends_with('b') && !before[..before.len() - 1].ends_with(|c: char| c.is_alphanumeric() || c == '_') {
            let end = string_end(from_quote);
            out.push_str(&format!("\"<{} bytes redacted>\"", end.saturating_sub(2)));
            rest = &from_quote[end..];
            continue;
        }
        let end = string_end(from_quote);
        let key = &from_quote[..end];
        out.push_str(key);
        rest = &from_quote[end..];
        let inner = key.trim_matches('"').to_ascii_lowercase();
        let Some(value) = rest.strip_prefix(':').map(|v| v.trim_start()) else {
            continue;
        };
        let colon = &rest[..rest.len() - value.len()];
        if SECRET_KEYS.contains(&inner.as_str()) && value.starts_with('"') {
            out.push_str(colon);
            out.push('"');
            out.push_str(REDACTED);
            out.push('"');
            rest = &value[string_end(value)..];
        } else if inner == "env" && value.starts_with('[') {
            out.push_str(colon);
            rest = redact_env(value, &mut out);
        }
    }
    out.push_str(rest);
    out
}

/// Length of the JSON string literal at the start of `s` (quotes
/// included), or all of `s` when it does not end.
fn string_end(s: &str) -> usize {
    let mut escaped = false;
    for (i, c) in s.char_indices().skip(1) {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            '"' => return i + 1,
            _ => {}
        }
    }
    s.len()
}

/// Copies a JSON array of `NAME=value` strings, keeping the names only;
/// returns what follows the array.
fn redact_env<'a>(mut s: &'a str, out: &mut String) -> &'a str {
    out.push('[');
    s = &s[1..];
    loop {
        let t = s.trim_start();
        out.push_str(&s[..s.len() - t.len()]);
        s = t;
        if s.starts_with('"') {
            let end = string_end(s);
            let entry = &s[1..end.saturating_sub(1).max(1)];
            match entry.split_once('=') {
                Some((name, _)) => out.push_str(&format!("\"{name}={REDACTED}\"")),
                None => out.push_str(&s[..end]),
            }
            s = &s[end..];
        } else if let Some(r) = s.strip_prefix(',') {
            out.push(',');
            s = r;
        } else if let Some(r) = s.strip_prefix(']') {
            out.push(']');
            return r;
        } else {
            return s;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn secret_values_are_redacted_and_the_rest_kept() {
        assert_eq!(
            redact(r#"{"Name":"db","Data":"c2VjcmV0","Labels":{}}"#),
            r#"{"Name":"db","Data":"<redacted>","Labels":{}}"#
        );
        assert_eq!(
            redact(r#"{"Env":["A=1","PASSWORD=x=y", "EMPTY"],"Cmd":["sleep","60"]}"#),
            r#"{"Env":["A=<redacted>","PASSWORD=<redacted>", "EMPTY"],"Cmd":["sleep","60"]}"#
        );
        assert_eq!(
            redact(r#"{"username":"me","password":"hunter2","auth":"bWU6aHVudGVyMg==","IdentityToken":"t"}"#),
            r#"{"username":"me","password":"<redacted>","auth":"<redacted>","IdentityToken":"<redacted>"}"#
        );
        assert_eq!(
            redact(r#"headers: {"x-registry-auth": "eyJ1c2VyIjoibWUifQ=="}"#),
            r#"headers: {"x-registry-auth": "<redacted>"}"#
        );
        assert_eq!(
            redact(r#"request: Full { data: Some(b"run/secrets/s1\0\0topsecret\"x") }"#),
            r#"request: Full { data: Some(b"<30 bytes redacted>") }"#
        );
        // A string that merely ends in "b" is no byte string.
        assert_eq!(
            redact(r#"{"Job":"dub","Data":"x"}"#),
            r#"{"Job":"dub","Data":"<redacted>"}"#
        );
        // Objects under a secret key name (GraphDriver's Data) are kept.
        assert_eq!(
            redact(r#"{"Data":{"MergedDir":"/x"}}"#),
            r#"{"Data":{"MergedDir":"/x"}}"#
        );
        assert_eq!(redact("no quotes at all"), "no quotes at all");
        assert_eq!(
            redact(r#"unterminated "Data":"abc"#),
            r#"unterminated "Data":"<redacted>""#
        );
    }
}
