//! Durations and sizes, read exactly as Docker Compose reads them, and the
//! one checked way from float seconds to a `Duration`.
//!
//! A leaf module: the loader, the planner and the primitives all parse
//! through it, so `stop_grace_period: 1d`, `mem_limit: 1.5g` and a script's
//! `duration("1m30s")` agree everywhere. The rules and messages are those of
//! compose-go v2.9 (`str2duration`: Go's `time.ParseDuration` plus `d` and
//! `w`) and go-units v0.5 (`RAMInBytes`, `FromHumanSize`), so a value compose
//! rejects is rejected with compose's words.

use std::fmt;
use std::time::Duration;

/// Why a duration, size or number of seconds was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UnitError {
    /// Not a duration; the message is Go's (`time: missing unit in duration "30"`).
    Duration(String),
    /// Not a size; the message is go-units' (`invalid suffix: 'x'`).
    Size(String),
    /// Seconds that are no duration at all (negative, NaN, infinite, too long).
    Seconds { value: String, problem: &'static str },
}

impl fmt::Display for UnitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UnitError::Duration(m) | UnitError::Size(m) => f.write_str(m),
            UnitError::Seconds { value, problem } => write!(f, "{value} seconds {problem}"),
        }
    }
}

impl std::error::Error for UnitError {}

const NS: i64 = 1;
const US: i64 = 1_000;
const MS: i64 = 1_000_000;
const SEC: i64 = 1_000_000_000;
const MIN: i64 = 60 * SEC;
const HOUR: i64 = 60 * MIN;

/// The longest duration Go (and so Docker) can hold: `i64::MAX` nanoseconds, about 292 years.
pub const MAX_SECONDS: f64 = i64::MAX as f64 / 1e9;

fn go_unit(u: &str) -> Option<i64> {
    Some(match u {
        "ns" => NS,
        "us" | "µs" | "μs" => US,
        "ms" => MS,
        "s" => SEC,
        "m" => MIN,
        "h" => HOUR,
        _ => return None,
    })
}

fn compose_unit(u: &str) -> Option<i64> {
    match u {
        "d" => Some(24 * HOUR),
        "w" => Some(168 * HOUR),
        _ => go_unit(u),
    }
}

/// A compose duration (`healthcheck.interval`, `stop_grace_period`, ...) in
/// nanoseconds: Go's syntax (`1m30s`, `-1.5h`, `500ms`) plus days and weeks
/// (`1d`, `2w`), as compose-go reads it.
pub fn parse_duration(s: &str) -> Result<i64, UnitError> {
    parse_with(s, compose_unit)
}

/// A duration as Go's `time.ParseDuration` reads it (no `d`/`w`): what the
/// docker CLI's duration flags take.
pub fn parse_go_duration(s: &str) -> Result<i64, UnitError> {
    parse_with(s, go_unit)
}

fn parse_with(orig: &str, unit_of: fn(&str) -> Option<i64>) -> Result<i64, UnitError> {
    let invalid = || UnitError::Duration(format!("time: invalid duration \"{orig}\""));
    let mut s = orig;
    let mut neg = false;
    if let Some(c) = s.chars().next().filter(|c| *c == '-' || *c == '+') {
        neg = c == '-';
        s = &s[1..];
    }
    if s == "0" {
        return Ok(0);
    }
    if s.is_empty() {
        return Err(invalid());
    }
    let mut total: i64 = 0;
    while !s.is_empty() {
        let b = s.as_bytes();
        if !(b[0] == b'.' || b[0].is_ascii_digit()) {
            return Err(invalid());
        }
        let int_len = b.iter().take_while(|c| c.is_ascii_digit()).count();
        let mut v: i64 = 0;
        for &c in &b[..int_len] {
            v = v
                .checked_mul(10)
                .and_then(|v| v.checked_add(i64::from(c - b'0')))
                .ok_or_else(invalid)?;
        }
        s = &s[int_len..];
        let (mut f, mut scale, mut post) = (0i64, 1f64, false);
        if let Some(rest) = s.strip_prefix('.') {
            let frac_len = rest.bytes().take_while(|c| c.is_ascii_digit()).count();
            let mut overflow = false;
            for c in rest[..frac_len].bytes() {
                // Past i64's precision the remaining digits are dropped, as Go does.
                match f.checked_mul(10).and_then(|x| x.checked_add(i64::from(c - b'0'))) {
                    Some(y) if !overflow => {
                        f = y;
                        scale *= 10.0;
                    }
                    _ => overflow = true,
                }
            }
            post = frac_len > 0;
            s = &rest[frac_len..];
        }
        if int_len == 0 && !post {
            return Err(invalid());
        }
        let unit_len = s.find(|c: char| c == '.' || c.is_ascii_digit()).unwrap_or(s.len());
        if unit_len == 0 {
            return Err(UnitError::Duration(format!(
                "time: missing unit in duration \"{orig}\""
            )));
        }
        let u = &s[..unit_len];
        s = &s[unit_len..];
        let Some(unit) = unit_of(u) else {
            return Err(UnitError::Duration(format!(
                "time: unknown unit \"{u}\" in duration \"{orig}\""
            )));
        };
        let mut v = v.checked_mul(unit).ok_or_else(invalid)?;
        if f > 0 {
            // Float keeps fractions of hours nanosecond-accurate, as in Go.
            v = v
                .checked_add((f as f64 * (unit as f64 / scale)) as i64)
                .ok_or_else(invalid)?;
        }
        total = total.checked_add(v).ok_or_else(invalid)?;
    }
    Ok(if neg { -total } else { total })
}

/// Go's `time.Duration.String()`: `1m30s`, `1h0m0s`, `500ms`, `1.5µs`.
pub fn format_duration(ns: i64) -> String {
    let mut u = ns.unsigned_abs();
    let mut out = String::new();
    if u == 0 {
        return "0s".into();
    }
    if u < SEC as u64 {
        let (prec, unit) = match u {
            u if u < US as u64 => (0, "ns"),
            u if u < MS as u64 => (3, "µs"),
            _ => (6, "ms"),
        };
        let frac;
        (frac, u) = fraction(u, prec);
        out = format!("{u}{frac}{unit}");
    } else {
        let frac;
        (frac, u) = fraction(u, 9);
        out.insert_str(0, &format!("{}{frac}s", u % 60));
        u /= 60;
        if u > 0 {
            out.insert_str(0, &format!("{}m", u % 60));
            u /= 60;
            if u > 0 {
                out.insert_str(0, &format!("{u}h"));
            }
        }
    }
    if ns < 0 {
        out.insert(0, '-');
    }
    out
}

/// The fraction `u / 10^prec` as ".123" without trailing zeros (empty when
/// zero), and the integer part.
fn fraction(u: u64, prec: u32) -> (String, u64) {
    let div = 10u64.pow(prec);
    let rest = u % div;
    if rest == 0 {
        return (String::new(), u / div);
    }
    let digits = format!("{rest:0width$}", width = prec as usize);
    (format!(".{}", digits.trim_end_matches('0')), u / div)
}

/// A memory size in bytes as go-units' `RAMInBytes` reads it (what
/// `mem_limit`, `shm_size` and `--memory` take): `512m`, `1.5g`, `1 GiB`,
/// `100k` (binary: `1k` is 1024).
pub fn ram_in_bytes(s: &str) -> Result<i64, UnitError> {
    parse_size(s, 1024)
}

/// A size in bytes as go-units' `FromHumanSize` reads it (decimal: `1k` is 1000).
pub fn from_human_size(s: &str) -> Result<i64, UnitError> {
    parse_size(s, 1000)
}

fn parse_size(s: &str, base: i64) -> Result<i64, UnitError> {
    let invalid = || UnitError::Size(format!("invalid size: '{s}'"));
    let sep = s
        .rfind(|c: char| c.is_ascii_digit() || c == '.' || c == ' ')
        .ok_or_else(invalid)?;
    let (num, sfx) = if s.as_bytes()[sep] == b' ' {
        (&s[..sep], &s[sep + 1..])
    } else {
        (&s[..=sep], &s[sep + 1..])
    };
    let size = go_parse_float(num)?;
    if size < 0.0 {
        return Err(invalid());
    }
    let bad = |sfx: &str| Err(UnitError::Size(format!("invalid suffix: '{sfx}'")));
    let size = if sfx.is_empty() {
        size
    } else if sfx.len() > 3 {
        return bad(sfx);
    } else {
        let sfx = sfx.to_ascii_lowercase();
        let b = sfx.as_bytes();
        if b[0] == b'b' {
            if b.len() > 1 {
                return bad(&sfx);
            }
            size
        } else {
            let Some(power) = b"kmgtp".iter().position(|c| *c == b[0]) else {
                return bad(&sfx);
            };
            if (b.len() == 2 && b[1] != b'b') || (b.len() == 3 && &b[1..] != b"ib") {
                return bad(&sfx);
            }
            size * (base as f64).powi(power as i32 + 1)
        }
    };
    // Go would wrap such a size to a negative number; refuse it instead.
    if size >= i64::MAX as f64 {
        return Err(UnitError::Size(format!("invalid size: '{s}' is too large")));
    }
    Ok(size as i64)
}

/// Go's `strconv.ParseFloat(s, 64)`: decimal (with `_` between digits) or
/// hexadecimal (`0x1p4`) floats, with Go's messages.
fn go_parse_float(s: &str) -> Result<f64, UnitError> {
    let syntax = || UnitError::Size(format!("strconv.ParseFloat: parsing {s:?}: invalid syntax"));
    let (neg, body) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    if !underscores_ok(body) {
        return Err(syntax());
    }
    let clean: String = body.chars().filter(|c| *c != '_').collect();
    let lower = clean.to_ascii_lowercase();
    let v = if let Some(hex) = lower.strip_prefix("0x") {
        hex_float(hex).ok_or_else(syntax)?
    } else {
        let decimal = |c: char| c.is_ascii_digit() || matches!(c, '.' | 'e' | '+' | '-');
        if clean.is_empty() || !clean.chars().all(decimal) {
            return Err(syntax());
        }
        clean.parse::<f64>().map_err(|_| syntax())?
    };
    if v.is_infinite() {
        return Err(UnitError::Size(format!(
            "strconv.ParseFloat: parsing {s:?}: value out of range"
        )));
    }
    Ok(if neg { -v } else { v })
}

/// Go accepts `_` only between digits (or right after a base prefix).
fn underscores_ok(s: &str) -> bool {
    if !s.contains('_') {
        return true;
    }
    let b = s.as_bytes();
    let hex = b.len() > 1 && b[0] == b'0' && (b[1] | 0x20) == b'x';
    let digit = |c: u8| if hex { c.is_ascii_hexdigit() } else { c.is_ascii_digit() };
    b.iter().enumerate().all(|(i, &c)| {
        c != b'_' || (i > 0 && (digit(b[i - 1]) || (hex && i == 2)) && i + 1 < b.len() && digit(b[i + 1]))
    })
}

/// A hexadecimal float's mantissa and mandatory `p` exponent (`1.8p1`).
fn hex_float(s: &str) -> Option<f64> {
    let (mant, exp) = s.split_once('p')?;
    let exp: i32 = exp.parse().ok()?;
    let (int, frac) = mant.split_once('.').unwrap_or((mant, ""));
    if int.is_empty() && frac.is_empty() {
        return None;
    }
    let mut v = 0f64;
    for c in int.chars() {
        v = v * 16.0 + f64::from(c.to_digit(16)?);
    }
    let mut scale = 1.0 / 16.0;
    for c in frac.chars() {
        v += f64::from(c.to_digit(16)?) * scale;
        scale /= 16.0;
    }
    Some(v * 2f64.powi(exp))
}

/// Float seconds (a script's `sleep(0.5)`, a `--debounce` flag) as a
/// `Duration`, refusing what is no duration: negative, NaN, infinite, or
/// longer than Go's longest duration (about 292 years).
pub fn seconds(secs: f64) -> Result<Duration, UnitError> {
    let problem = if secs.is_nan() {
        "is not a number"
    } else if secs.is_infinite() {
        "is infinite"
    } else if secs < 0.0 {
        "is negative"
    } else if secs > MAX_SECONDS {
        "is too long (at most 9223372036 seconds, about 292 years)"
    } else {
        return Ok(Duration::from_secs_f64(secs));
    };
    let value = if secs.is_finite() && secs.abs() >= 1e15 {
        format!("{secs:e}")
    } else {
        format!("{secs}")
    };
    Err(UnitError::Seconds { value, problem })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(r: Result<i64, UnitError>) -> String {
        r.unwrap_err().to_string()
    }

    #[test]
    fn durations_as_compose_reads_them() {
        for (s, ns) in [
            ("1s", SEC),
            ("1m30s", 90 * SEC),
            ("500ms", 500 * MS),
            ("1.5h", 90 * MIN),
            ("1d", 24 * HOUR),
            ("1w2d", 216 * HOUR),
            ("-5s", -5 * SEC),
            ("+5s", 5 * SEC),
            (".5s", 500 * MS),
            ("5.s", 5 * SEC),
            ("1µs", US),
            ("1μs", US),
            ("1us", US),
            ("0", 0),
            ("1s1s", 2 * SEC),
            ("9223372036s", 9_223_372_036 * SEC),
        ] {
            assert_eq!(parse_duration(s), Ok(ns), "{s}");
        }
        assert_eq!(err(parse_duration("30")), r#"time: missing unit in duration "30""#);
        assert_eq!(err(parse_duration("00")), r#"time: missing unit in duration "00""#);
        assert_eq!(
            err(parse_duration("1h 30m")),
            r#"time: unknown unit "h " in duration "1h 30m""#
        );
        for bad in ["", "x1s", "1e3s", "9223372037s", "3000000h", ".s", "-"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
        assert_eq!(err(parse_duration("3000000h")), r#"time: invalid duration "3000000h""#);
        assert!(parse_go_duration("1d").is_err());
        assert_eq!(parse_go_duration("1h"), Ok(HOUR));
    }

    #[test]
    fn durations_print_as_go() {
        for (ns, s) in [
            (0, "0s"),
            (90 * SEC, "1m30s"),
            (30 * SEC, "30s"),
            (500 * MS, "500ms"),
            (HOUR, "1h0m0s"),
            (1500, "1.5µs"),
            (7, "7ns"),
            (-5 * SEC, "-5s"),
            (1_500 * MS, "1.5s"),
            (i64::MAX, "2562047h47m16.854775807s"),
            (i64::MIN, "-2562047h47m16.854775808s"),
        ] {
            assert_eq!(format_duration(ns), s);
        }
    }

    #[test]
    fn sizes_as_go_units_reads_them() {
        for (s, b) in [
            ("512m", 512 << 20),
            ("1.5g", 1_610_612_736),
            ("1e3", 1000),
            ("1 g", 1 << 30),
            ("1 ", 1),
            ("1kib", 1024),
            ("1KiB", 1024),
            ("1mb", 1 << 20),
            ("1b", 1),
            (".5k", 512),
            ("5.k", 5120),
            ("0x1p4", 16),
            ("1_0", 10),
        ] {
            assert_eq!(ram_in_bytes(s), Ok(b), "{s}");
        }
        assert_eq!(from_human_size("1k"), Ok(1000));
        assert_eq!(
            err(ram_in_bytes(" 1")),
            r#"strconv.ParseFloat: parsing " 1": invalid syntax"#
        );
        assert_eq!(err(ram_in_bytes("1bb")), "invalid suffix: 'bb'");
        assert_eq!(err(ram_in_bytes("1X")), "invalid suffix: 'x'");
        assert_eq!(err(ram_in_bytes("1kbb")), "invalid suffix: 'kbb'");
        assert_eq!(err(ram_in_bytes("-1")), "invalid size: '-1'");
        assert_eq!(err(ram_in_bytes("")), "invalid size: ''");
        assert_eq!(err(ram_in_bytes("x")), "invalid size: 'x'");
        assert_eq!(
            err(ram_in_bytes("1e400")),
            r#"strconv.ParseFloat: parsing "1e400": value out of range"#
        );
        assert_eq!(
            err(ram_in_bytes("1.2.3")),
            r#"strconv.ParseFloat: parsing "1.2.3": invalid syntax"#
        );
        for bad in ["1__0", "_1", "1_", "1e30", "100000000000p"] {
            assert!(ram_in_bytes(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn seconds_refuses_what_is_no_duration() {
        assert_eq!(seconds(0.5), Ok(Duration::from_millis(500)));
        assert_eq!(seconds(0.0), Ok(Duration::ZERO));
        assert_eq!(seconds(-1.0).unwrap_err().to_string(), "-1 seconds is negative");
        assert_eq!(
            seconds(f64::NAN).unwrap_err().to_string(),
            "NaN seconds is not a number"
        );
        assert_eq!(
            seconds(f64::INFINITY).unwrap_err().to_string(),
            "inf seconds is infinite"
        );
        assert_eq!(
            seconds(1e300).unwrap_err().to_string(),
            "1e300 seconds is too long (at most 9223372036 seconds, about 292 years)"
        );
        assert!(seconds(MAX_SECONDS).is_ok());
    }
}
