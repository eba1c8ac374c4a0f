//! Small host facilities scripts need: sleeping, reading the environment,
//! formatting tables the way the Docker CLI does, JSON (talking to the
//! user: `console.rs`).

use std::time::Duration;

use rhai::plugin::*;
use rhai::{Array, Dynamic, Map};

use super::RhaiResult;
use crate::bridge;

/// The time now in unix seconds, with fractions.
pub fn unix_now_secs() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

/// Lays out rows like the Docker CLI's tabwriter (min width 10, padding 3),
/// so orch's tables line up with `docker`'s.
pub fn format_table(headers: &[String], rows: &[Vec<String>]) -> String {
    format_table_min(headers, rows, 10)
}

/// `format_table` with another minimum column width (compose's `images`
/// and `ls` tables use 20).
pub fn format_table_min(headers: &[String], rows: &[Vec<String>], min_width: usize) -> String {
    format_table_padded(headers, rows, min_width, 3)
}

/// `format_table` with Go tabwriter's minimum width and padding (compose's
/// `top` uses 4 and 2).
pub fn format_table_padded(headers: &[String], rows: &[Vec<String>], min_width: usize, padding: usize) -> String {
    let cols = headers.len().max(rows.iter().map(|r| r.len()).max().unwrap_or(0));
    let mut width = vec![0usize; cols];
    for row in std::iter::once(headers).chain(rows.iter().map(|r| r.as_slice())) {
        for (i, cell) in row.iter().enumerate() {
            width[i] = width[i].max(cell.chars().count() + padding).max(min_width);
        }
    }
    let mut out = String::new();
    for row in std::iter::once(headers).chain(rows.iter().map(|r| r.as_slice())) {
        let mut line = String::new();
        for (i, cell) in row.iter().enumerate() {
            line.push_str(cell);
            if i + 1 < row.len() {
                let pad = width[i] - cell.chars().count();
                line.extend(std::iter::repeat_n(' ', pad));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// The code `exit(n)` asked for; read by the runner when the script ends.
pub static EXIT_CODE: std::sync::Mutex<Option<i32>> = std::sync::Mutex::new(None);

/// What `exit` throws to unwind the script; never catchable.
pub const EXIT_TOKEN: &str = "orch::exit";

/// Float seconds a primitive was given, as a `Duration`, or an error that
/// names the primitive (`sleep: -1 seconds is negative`).
pub fn secs(what: &str, seconds: f64) -> RhaiResult<Duration> {
    crate::units::seconds(seconds).map_err(|e| format!("{what}: {e}").into())
}

pub(super) fn exit_with(code: i32) -> RhaiResult<()> {
    *EXIT_CODE.lock().unwrap() = Some(code);
    Err(rhai::EvalAltResult::ErrorTerminated(EXIT_TOKEN.into(), rhai::Position::NONE).into())
}

/// Docker's humanised duration (go-units `HumanDuration`), so ages read
/// exactly as in `docker ps` / `docker image ls`.
pub fn human_duration(secs: i64) -> String {
    let s = secs.max(0);
    // go-units' HumanDuration: hours are rounded, the rest truncated.
    let m = s / 60;
    let h = (s + 1800) / 3600;
    match s {
        0 => "Less than a second".into(),
        1 => "1 second".into(),
        _ if s < 60 => format!("{s} seconds"),
        _ if m == 1 => "About a minute".into(),
        _ if m < 60 => format!("{m} minutes"),
        _ if h == 1 => "About an hour".into(),
        _ if h < 48 => format!("{h} hours"),
        _ if h < 24 * 7 * 2 => format!("{} days", h / 24),
        _ if h < 24 * 30 * 2 => format!("{} weeks", h / 24 / 7),
        _ if h < 24 * 365 * 2 => format!("{} months", h / 24 / 30),
        _ => format!("{} years", s / 3600 / 24 / 365),
    }
}

/// Unix seconds of an RFC 3339 time as the engine writes it
/// (`2026-11-24T22:50:01.123456789Z`), so every `created` is a number.
pub fn parse_rfc3339(s: &str) -> Option<i64> {
    let (date, time) = s.split_once('T')?;
    let mut d = date.split('-').map(|x| x.parse::<i64>());
    let (y, mo, da) = (d.next()?.ok()?, d.next()?.ok()?, d.next()?.ok()?);
    let hms: Vec<i64> = time
        .get(..8)?
        .split(':')
        .map(|x| x.parse().ok())
        .collect::<Option<_>>()?;
    let mut offset = 0;
    if let Some(i) = time.rfind(['+', '-']).filter(|&i| i >= 8) {
        let (oh, om) = (
            time.get(i + 1..i + 3)?.parse::<i64>().ok()?,
            time.get(i + 4..i + 6)?.parse::<i64>().ok()?,
        );
        offset = (oh * 3600 + om * 60) * if &time[i..=i] == "+" { 1 } else { -1 };
    }
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if mo <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if mo > 2 { mo - 3 } else { mo + 9 }) + 2) / 5 + da - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146097 + doe - 719468;
    Some(days * 86400 + hms[0] * 3600 + hms[1] * 60 + hms[2] - offset)
}

/// `bytes` divided by `base` until it is below it or the units run out:
/// the value and its unit.
fn scaled(bytes: i64, base: f64, units: &[&'static str]) -> (f64, &'static str) {
    let mut v = bytes.max(0) as f64;
    let mut i = 0;
    while v >= base && i + 1 < units.len() {
        v /= base;
        i += 1;
    }
    (v, units[i])
}

/// A decimal text without its trailing zeros (nor a bare point).
fn trim_zeros(s: String) -> String {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

#[export_module]
pub mod api {
    use super::*;

    /// Ends the script now with this process exit code, taken modulo 256
    /// as a shell does (`exit(-1)` exits 255).
    ///
    /// ```rhai
    /// if !image::exists("web") { exit(3); }
    /// ```
    #[rhai_fn(name = "exit", return_raw)]
    pub fn exit_code(code: i64) -> RhaiResult<()> {
        exit_with((code & 255) as i32)
    }

    /// Ends the script now with exit code 0.
    #[rhai_fn(name = "exit", return_raw)]
    pub fn exit_ok() -> RhaiResult<()> {
        exit_with(0)
    }

    /// Sleeps for `seconds` (fractions allowed). Ctrl-C interrupts it.
    /// Negative, NaN, infinite or over-long (> 292 years) times are errors.
    ///
    /// ```rhai
    /// sleep(0.5);
    /// ```
    #[rhai_fn(name = "sleep", return_raw)]
    pub fn sleep_float(seconds: f64) -> RhaiResult<()> {
        bridge::sleep(secs("sleep", seconds)?)
    }

    #[rhai_fn(name = "sleep", return_raw)]
    pub fn sleep_int(seconds: i64) -> RhaiResult<()> {
        bridge::sleep(secs("sleep", seconds as f64)?)
    }

    /// Sleeps for a duration written as compose writes one.
    ///
    /// ```rhai
    /// sleep("1m30s");
    /// ```
    #[rhai_fn(name = "sleep", return_raw)]
    pub fn sleep_text(duration: &str) -> RhaiResult<()> {
        let ns = crate::units::parse_duration(duration).map_err(|e| format!("sleep: {e}"))?;
        bridge::sleep(secs("sleep", ns as f64 / 1e9)?)
    }

    /// A duration in nanoseconds (the engine's unit for `Healthcheck`,
    /// `StopGracePeriod`, update delays), read exactly as Docker Compose
    /// reads one: Go's `1m30s`, `500ms`, `-1.5h`, plus days `d` and weeks `w`.
    ///
    /// ```rhai
    /// spec.TaskTemplate.RestartPolicy.Delay = duration("1m30s");   // 90000000000
    /// ```
    #[rhai_fn(name = "duration", return_raw)]
    pub fn duration_ns(text: &str) -> RhaiResult<i64> {
        crate::units::parse_duration(text).map_err(|e| format!("duration: {e}").into())
    }

    /// A size in bytes, read as Docker reads `mem_limit` or `--memory`
    /// (go-units' `RAMInBytes`: binary, case-insensitive, `b` optional):
    /// `512m`, `1.5g`, `1 GiB`, `100k`.
    ///
    /// ```rhai
    /// let limit = bytes("512m");   // 536870912
    /// ```
    #[rhai_fn(name = "bytes", return_raw)]
    pub fn bytes_of(text: &str) -> RhaiResult<i64> {
        crate::units::ram_in_bytes(text).map_err(|e| format!("bytes: {e}").into())
    }

    /// Whether Ctrl-C was pressed (for cleanup code that must know).
    ///
    /// ```rhai
    /// if interrupted() { print("cleaning up"); }
    /// ```
    pub fn interrupted() -> bool {
        bridge::phase() != bridge::Phase::Running
    }

    /// An environment variable of the orch process, or `()` if unset.
    ///
    /// ```rhai
    /// let tag = env("TAG") ?? "latest";
    /// ```
    #[rhai_fn(return_raw)]
    pub fn env(name: &str) -> RhaiResult<Dynamic> {
        crate::api::host_access("env")?;
        Ok(std::env::var(name).map(Dynamic::from).unwrap_or(Dynamic::UNIT))
    }

    /// How long cleanup may run after Ctrl-C before orch stops the script
    /// (default 1.5 s). Raise it before work whose cleanup takes longer.
    ///
    /// ```rhai
    /// set_interrupt_grace(15.0);   // stopping containers can take 10 s
    /// ```
    #[rhai_fn(name = "set_interrupt_grace", return_raw)]
    pub fn set_interrupt_grace(seconds: f64) -> RhaiResult<()> {
        // u64::MAX is reserved for "no limit".
        let ms = secs("set_interrupt_grace", seconds)?
            .as_millis()
            .min(u128::from(u64::MAX) - 1) as u64;
        crate::bridge::INTERRUPT_GRACE_MS.store(ms, std::sync::atomic::Ordering::SeqCst);
        Ok(())
    }

    #[rhai_fn(name = "set_interrupt_grace", return_raw)]
    pub fn set_interrupt_grace_int(seconds: i64) -> RhaiResult<()> {
        set_interrupt_grace(seconds as f64)
    }

    /// Lets cleanup after Ctrl-C run as long as it takes; only a second
    /// Ctrl-C stops it (attached `up` stops containers with their full
    /// grace periods).
    ///
    /// ```rhai
    /// set_interrupt_grace_unlimited();
    /// ```
    pub fn set_interrupt_grace_unlimited() {
        crate::bridge::INTERRUPT_GRACE_MS.store(u64::MAX, std::sync::atomic::Ordering::SeqCst);
    }

    /// What orch prints on stderr at the first Ctrl-C ("" for nothing, when
    /// the script prints its own notice, as attached `up` does).
    ///
    /// ```rhai
    /// set_interrupt_notice("");
    /// ```
    pub fn set_interrupt_notice(text: &str) {
        *crate::bridge::INTERRUPT_NOTICE.lock().unwrap() = Some(text.to_string());
    }

    /// orch's own version ("0.1.0").
    ///
    /// ```rhai
    /// print(`orch version v${orch_version()}`);
    /// ```
    pub fn orch_version() -> String {
        env!("CARGO_PKG_VERSION").to_string()
    }

    /// The time now in unix seconds, with fractions.
    ///
    /// ```rhai
    /// let t0 = unix_now();
    /// ```
    pub fn unix_now() -> f64 {
        super::unix_now_secs()
    }

    /// An RFC 3339 timestamp (as the engine writes them) in unix seconds;
    /// 0 when it cannot be read.
    ///
    /// ```rhai
    /// print(human_since(unix_time(task.Status.Timestamp)));
    /// ```
    pub fn unix_time(s: &str) -> i64 {
        super::parse_rfc3339(s).unwrap_or(0)
    }

    /// How long ago a unix timestamp was, as Docker prints it
    /// ("3 minutes ago").
    ///
    /// ```rhai
    /// print(human_since(image::get("web:dev").created));
    /// ```
    pub fn human_since(unix_seconds: i64) -> String {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        format!("{} ago", human_duration(now - unix_seconds))
    }

    /// `human_since` of an engine time (RFC 3339, fractions kept, as
    /// docker's `time.Since` keeps them: whole seconds of the difference,
    /// not the difference of whole seconds).
    ///
    /// ```rhai
    /// print(human_since(task.Status.Timestamp));   // "5 seconds ago"
    /// ```
    #[rhai_fn(name = "human_since")]
    pub fn human_since_time(time: &str) -> String {
        let frac: f64 = time
            .split_once('.')
            .map(|(_, f)| f.chars().take_while(char::is_ascii_digit).collect::<String>())
            .and_then(|d| format!("0.{d}").parse().ok())
            .unwrap_or(0.0);
        let at = super::parse_rfc3339(time).unwrap_or(0) as f64 + frac;
        format!("{} ago", human_duration((super::unix_now_secs() - at).floor() as i64))
    }

    /// A byte count as Docker prints sizes ("1.98MB", decimal units).
    ///
    /// ```rhai
    /// print(human_size(1985000));   // 1.99MB
    /// ```
    pub fn human_size(bytes: i64) -> String {
        let (v, unit) = scaled(bytes, 1000.0, &["B", "kB", "MB", "GB", "TB", "PB"]);
        // go-units prints `%.3g`: three significant digits, zeros dropped.
        let s = format!(
            "{:.*}",
            if v >= 100.0 {
                0
            } else if v >= 10.0 {
                1
            } else {
                2
            },
            v
        );
        format!("{}{unit}", trim_zeros(s))
    }

    /// A byte count in binary units as `docker stats` prints memory
    /// ("324KiB", "23.54GiB": go-units' `BytesSize`, four significant digits).
    ///
    /// ```rhai
    /// print(human_size_binary(331776));   // 324KiB
    /// ```
    pub fn human_size_binary(bytes: i64) -> String {
        let (v, unit) = scaled(bytes, 1024.0, &["B", "KiB", "MiB", "GiB", "TiB", "PiB"]);
        let decimals = match v {
            v if v >= 1000.0 => 0,
            v if v >= 100.0 => 1,
            v if v >= 10.0 => 2,
            _ => 3,
        };
        let s = format!("{v:.decimals$}");
        format!("{}{unit}", trim_zeros(s))
    }

    /// Formats rows as the Docker CLI's tables.
    ///
    /// ```rhai
    /// print(table(["NAME", "STATUS"], [["web", "running"]]));
    /// ```
    pub fn table(headers: Array, rows: Array) -> String {
        table_min(headers, rows, 10)
    }

    /// `table` with a minimum column width (compose's `images` and `ls`
    /// use 20).
    ///
    /// ```rhai
    /// print(table(["NAME", "STATUS"], [["demo", "running(2)"]], 20));
    /// ```
    #[rhai_fn(name = "table")]
    pub fn table_min(headers: Array, rows: Array, min_width: i64) -> String {
        table_padded(headers, rows, min_width, 3)
    }

    /// `table` with a minimum column width and the padding between columns
    /// (Go's tabwriter; compose's `top` uses 4 and 2).
    ///
    /// ```rhai
    /// print(table(["SERVICE", "#"], [["web", "1"]], 4, 2));
    /// ```
    #[rhai_fn(name = "table")]
    pub fn table_padded(headers: Array, rows: Array, min_width: i64, padding: i64) -> String {
        let h: Vec<String> = headers.iter().map(|x| x.to_string()).collect();
        let r: Vec<Vec<String>> = rows
            .into_iter()
            .map(|row| match row.try_cast::<Array>() {
                Some(a) => a
                    .iter()
                    .map(|x| if x.is_unit() { String::new() } else { x.to_string() })
                    .collect(),
                None => vec![],
            })
            .collect();
        format_table_padded(&h, &r, min_width.max(0) as usize, padding.max(0) as usize)
            .trim_end_matches('\n')
            .to_string()
    }

    /// Whether `path` matches a glob (`*`, `?`, `[...]` within a folder
    /// name, `**` across folders), as `.dockerignore` patterns match.
    ///
    /// ```rhai
    /// if glob_match("**/*.html", "site/index.html") { print("a page"); }
    /// ```
    pub fn glob_match(pattern: &str, path: &str) -> bool {
        crate::build::dockerignore::matches(pattern.as_bytes(), path.as_bytes())
    }

    /// Whether a file or folder exists (relative paths: from the script's
    /// folder).
    ///
    /// ```rhai
    /// if file_exists("compose.yaml") { print("found"); }
    /// ```
    #[rhai_fn(return_raw)]
    pub fn file_exists(path: &str) -> RhaiResult<bool> {
        crate::api::host_access("file_exists")?;
        Ok(crate::api::resolve_path(path).exists())
    }

    /// Writes text to a file, replacing it (relative paths: from the
    /// script's folder). `config --output` uses it.
    ///
    /// ```rhai
    /// write_file("out.yaml", p.to_yaml());
    /// ```
    #[rhai_fn(return_raw)]
    pub fn write_file(path: &str, text: &str) -> RhaiResult<()> {
        crate::api::host_access("write_file")?;
        let target = crate::api::resolve_path(path);
        std::fs::write(&target, text).map_err(|e| format!("write {}: {e}", target.display()).into())
    }

    /// A file's text (relative paths: from the script's folder): e.g. a
    /// custom autoscaling metric a process writes.
    ///
    /// ```rhai
    /// let depth = read_file("/var/run/queue-depth");
    /// depth.trim();
    /// print(parse_int(depth));
    /// ```
    #[rhai_fn(return_raw)]
    pub fn read_file(path: &str) -> RhaiResult<String> {
        crate::api::host_access("read_file")?;
        let source = crate::api::resolve_path(path);
        std::fs::read_to_string(&source).map_err(|e| format!("read {}: {e}", source.display()).into())
    }

    /// Whether a regular expression (RE2 syntax, as Go's `regexp`) matches
    /// anywhere in the text, as Docker's `--filter name=...` matches.
    ///
    /// ```rhai
    /// if regex_match("^web", "web-1") { print("a web"); }
    /// ```
    #[rhai_fn(return_raw)]
    pub fn regex_match(pattern: &str, text: &str) -> RhaiResult<bool> {
        let re = regex_automata::meta::Regex::new(pattern)
            .map_err(|e| format!("invalid regular expression `{pattern}`: {e}"))?;
        Ok(re.is_match(text))
    }

    /// Parses JSON text into maps, arrays, strings and numbers.
    ///
    /// ```rhai
    /// let m = parse_json(`{"a": 1}`);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn parse_json(text: &str) -> RhaiResult<Dynamic> {
        let v: serde_json::Value = serde_json::from_str(text).map_err(|e| format!("parse_json: {e}"))?;
        Ok(crate::api::value::to_dynamic(&v))
    }

    /// Joins the items as text with `sep` between them.
    ///
    /// ```rhai
    /// print(join(["a", "b"], ", "));   // a, b
    /// ```
    pub fn join(items: Array, sep: &str) -> String {
        items.iter().map(|x| x.to_string()).collect::<Vec<_>>().join(sep)
    }

    /// The map's keys in sorted order (handy for stable output).
    ///
    /// ```rhai
    /// for k in sorted_keys(#{ b: 1, a: 2 }) { print(k); }
    /// ```
    pub fn sorted_keys(m: Map) -> Array {
        let mut k: Vec<String> = m.keys().map(|k| k.to_string()).collect();
        k.sort();
        k.into_iter().map(Dynamic::from).collect()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn times_and_sizes_like_docker() {
        assert_eq!(super::parse_rfc3339("1970-01-02T00:00:01.5Z"), Some(86401));
        assert_eq!(super::parse_rfc3339("2000-03-01T00:00:00+01:00"), Some(951865200));
        assert_eq!(super::human_duration(90), "About a minute");
        assert_eq!(super::human_duration(7200), "2 hours");
        // Hours round, as go-units does: 1 h 40 min is "2 hours".
        assert_eq!(super::human_duration(6000), "2 hours");
        assert_eq!(super::human_duration(5000), "About an hour");
        assert_eq!(super::human_duration(3 * 86400), "3 days");
        assert_eq!(super::api::human_size(1985000), "1.99MB");
        assert_eq!(super::api::human_size(512), "512B");
        assert_eq!(super::api::human_size_binary(331776), "324KiB");
        assert_eq!(super::api::human_size_binary(25_275_000_000), "23.54GiB");
        assert_eq!(super::api::human_size_binary(0), "0B");
    }

    #[test]
    fn table_like_docker() {
        let t = super::format_table(
            &["NAME".into(), "IMAGE".into()],
            &[vec!["plana-web-1".into(), "web".into()]],
        );
        assert_eq!(t, "NAME          IMAGE\nplana-web-1   web\n");
    }
}
