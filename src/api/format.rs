//! `--format` for scripts: Docker's Go-template subset (`crate::template`)
//! over rows the script builds.
//!
//! ```rhai
//! print(format_template("table {{.Name}}\t{{.State}}", [#{ Name: "web-1", State: "running" }], #{ headers: #{ Name: "NAME", State: "STATE" } }));
//! ```

use rhai::plugin::*;
use rhai::{Array, Map};
use serde_json::Value;
use std::collections::BTreeSet;

use crate::template::Template;

use super::options::FormatTemplateOpts;
use super::value::to_json;
use super::RhaiResult;

/// A row as JSON with `keys` first, in that order (Go prints a struct's
/// fields in declaration order; Rhai maps are sorted), the rest after;
/// nested objects (ports, mounts) too. One pass: a 500-row `ps` spent
/// more time turning its rows into JSON and reordering them than in the
/// template itself. At the top level, only the fields in `only` when
/// given (those the template can read).
fn ordered(v: &Dynamic, keys: &[String], only: Option<&BTreeSet<String>>) -> RhaiResult<Value> {
    if let Some(m) = v.read_lock::<Map>() {
        let wanted = |k: &str| only.is_none_or(|o| o.contains(k));
        let mut out = serde_json::Map::with_capacity(m.len());
        for k in keys {
            if let Some(x) = m.get(k.as_str()).filter(|_| wanted(k)) {
                out.insert(k.clone(), ordered(x, keys, None)?);
            }
        }
        for (k, x) in m.iter() {
            if wanted(k) && !keys.iter().any(|key| key == k.as_str()) {
                // Not `to_string`: `Display`'s padding (`Formatter::pad`),
                // here and in `to_json`, was a fifth of this pass.
                out.insert(String::from(k.as_str()), ordered(x, keys, None)?);
            }
        }
        return Ok(Value::Object(out));
    }
    if let Some(a) = v.read_lock::<Array>() {
        return a
            .iter()
            .map(|x| ordered(x, keys, None))
            .collect::<RhaiResult<_>>()
            .map(Value::Array);
    }
    to_json(v)
}

fn render(format: &str, rows: Array, opts: Map) -> RhaiResult<String> {
    let o: FormatTemplateOpts = crate::api::opts::read("format_template", opts)?;
    let keys = o.keys.clone().unwrap_or_default();
    let headers = match o.headers.clone() {
        Some(h) => to_json(&Dynamic::from(h))?,
        None => Value::Object(Default::default()),
    };
    let template = Template::parse(format).map_err(|e| e.to_string())?;
    let only = template.root_fields();
    let rows = rows
        .iter()
        .map(|r| ordered(r, &keys, only.as_ref()))
        .collect::<RhaiResult<Vec<_>>>()?;
    template.render(&rows, &headers).map_err(|e| e.to_string().into())
}

/// Go's `time.Unix(secs, 0).String()` in UTC: "2006-01-02 15:04:05 +0000 UTC".
pub fn go_time_utc(secs: i64) -> String {
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02} +0000 UTC",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[export_module]
pub mod api {
    use super::*;

    /// Nanoseconds as Go prints a `time.Duration` ("1m30s", "500ms", "0s").
    ///
    /// ```rhai
    /// print(go_duration(90_000_000_000));   // 1m30s
    /// ```
    pub fn go_duration(nanoseconds: i64) -> String {
        crate::units::format_duration(nanoseconds)
    }

    /// A unix time as Go prints a time (compose's `CreatedAt`), in UTC.
    ///
    /// ```rhai
    /// print(go_time(0));   // 1970-01-01 00:00:00 +0000 UTC
    /// ```
    pub fn go_time(unix_seconds: i64) -> String {
        go_time_utc(unix_seconds)
    }

    /// Renders `rows` (maps) through a Docker `--format` template, one
    /// line per row: `{{.Name}}`, `{{json .}}`, `{{.Label "k"}}`, `join`,
    /// `upper`, `lower`, `title`, `split`, `truncate`, `pad`, pipelines,
    /// `if`/`range`/`with`/`else`/`end`, and `table` (aligned columns under
    /// a header row from `headers`, field → title). `keys` orders the
    /// fields `{{json .}}` prints. A bad template is an error naming its
    /// line and column.
    ///
    /// ```rhai
    /// let rows = [#{ Name: "web-1", State: "running" }];
    /// print(format_template("table {{.Name}}\t{{.State}}", rows, #{ headers: #{ Name: "NAME", State: "STATE" } }));
    /// ```
    #[rhai_fn(name = "format_template", return_raw)]
    pub fn format_template(format: &str, rows: Array, opts: Map) -> RhaiResult<String> {
        render(format, rows, opts)
    }

    /// Words of a command line split as a POSIX shell would (quotes
    /// group, backslashes escape; nothing is expanded), as docker's
    /// `--args` and `--entrypoint` take them. Unbalanced quotes are an error.
    ///
    /// ```rhai
    /// let args = shell_words("sh -c 'echo hi'");   // ["sh", "-c", "echo hi"]
    /// ```
    #[rhai_fn(return_raw)]
    pub fn shell_words(text: &str) -> RhaiResult<Array> {
        match crate::compose::shell::shell_split(text) {
            Some(words) => Ok(words.into_iter().map(Dynamic::from).collect()),
            None => Err(format!("invalid command line (unbalanced quotes): {text}").into()),
        }
    }

    /// The top-level fields a `--format` template can read (each also
    /// with an `s`, as `.Label "k"` reads `Labels`), or `()` when it can
    /// read a whole row (`{{json .}}`) or does not parse (`format_template`
    /// then says why). Rows built with only these render the same.
    ///
    /// ```rhai
    /// print(template_fields("table {{.Name}}"));   // ["Name", "Names"]
    /// ```
    pub fn template_fields(format: &str) -> Dynamic {
        match Template::parse(format).ok().and_then(|t| t.root_fields()) {
            Some(f) => f.into_iter().map(Dynamic::from).collect::<Array>().into(),
            None => Dynamic::UNIT,
        }
    }

    /// `format_template` without options.
    ///
    /// ```rhai
    /// print(format_template("{{.Name}}", [#{ Name: "web-1" }]));
    /// ```
    #[rhai_fn(name = "format_template", return_raw)]
    pub fn format_template_plain(format: &str, rows: Array) -> RhaiResult<String> {
        render(format, rows, Map::new())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn go_time_prints_as_go_does() {
        assert_eq!(super::go_time_utc(0), "1970-01-01 00:00:00 +0000 UTC");
        assert_eq!(super::go_time_utc(1_795_741_719), "2026-11-27 01:08:39 +0000 UTC");
        assert_eq!(super::go_time_utc(951_782_400), "2000-02-29 00:00:00 +0000 UTC");
    }
}
