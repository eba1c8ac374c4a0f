//! A resilient ticker for controllers that run for days: `every(seconds,
//! opts, || { … })` calls the closure at a fixed rate until it returns
//! `false`, a tick limit is reached, or Ctrl-C.
//!
//! Why it is a primitive and not a `loop { …; sleep(n) }`: the operation
//! limit must apply to each tick, not to the run (a controller's budget
//! would otherwise run out after hours), a failing tick must not end the
//! controller, and Ctrl-C must end it between ticks without a trace.
//! Rhai runs a closure called from native code on a copy of the caller's
//! operation counter, so every tick starts from the count `every` was
//! called at: the limit (`--max-operations`) is per tick.
//!
//! ```rhai
//! every(5, #{ on_error: "log" }, |tick| {
//!     let s = compose::stats("shop", "web");
//!     `${s.len()} replicas`      // printed when it differs from the last tick's line
//! });
//! ```

use std::time::{Duration, Instant};

use rhai::plugin::*;
use rhai::{Dynamic, EvalAltResult, FnPtr, Map, NativeCallContext};

use super::options::EveryOpts;
use super::value::call_back;
use super::{fail, RhaiResult};
use crate::bridge::{self, Phase};

/// An error no tick may swallow: `exit()`, a forced stop, or Ctrl-C.
fn ends_the_run(e: &EvalAltResult) -> bool {
    matches!(e, EvalAltResult::ErrorTerminated(..) | EvalAltResult::Exit(..)) || bridge::phase() != Phase::Running
}

/// The one line a person reads for a failed tick: the error itself (not
/// the closure call wrapping it) and where it was thrown.
fn message(e: &EvalAltResult) -> String {
    let mut e = e;
    let mut src = None;
    while let EvalAltResult::ErrorInFunctionCall(_, s, inner, _) = e {
        if !s.is_empty() {
            src = Some(s.clone());
        }
        e = inner;
    }
    let at = match (src, e.position().line()) {
        (Some(s), Some(l)) => format!(" ({s}:{l}:{})", e.position().position().unwrap_or(0)),
        (None, Some(l)) => format!(" (line {l})"),
        _ => String::new(),
    };
    match e {
        EvalAltResult::ErrorRuntime(v, _) => format!("{v}{at}"),
        EvalAltResult::ErrorTooManyOperations(_) => {
            format!("the tick ran past the operation limit (--max-operations applies to each tick){at}")
        }
        other => other.to_string(),
    }
}

struct Settings {
    interval: Duration,
    stop_on_error: bool,
    ticks: Option<i64>,
    name: String,
}

fn settings(seconds: &Dynamic, opts: Map) -> RhaiResult<Settings> {
    let secs = if let Ok(i) = seconds.as_int() {
        i as f64
    } else if let Ok(f) = seconds.as_float() {
        f
    } else {
        return fail(format!(
            "every: the interval must be seconds (a number), not {}",
            seconds.type_name()
        ));
    };
    // NaN too: it is not more than 0.
    if secs.is_nan() || secs <= 0.0 {
        return fail(format!("every: the interval ({secs} s) must be more than 0"));
    }
    let interval = super::util::secs("every", secs)?;
    let o: EveryOpts = super::opts::read("every", opts)?;
    let stop_on_error = match o.on_error.as_deref() {
        None | Some("log") => false,
        Some("stop") => true,
        Some(other) => return fail(format!("every: on_error must be \"log\" or \"stop\", not {other:?}")),
    };
    let ticks = o.ticks;
    if let Some(n) = ticks.filter(|n| *n < 1) {
        return fail(format!("every: ticks ({n}) must be at least 1"));
    }
    Ok(Settings {
        interval,
        stop_on_error,
        ticks,
        name: o.name.clone().unwrap_or_else(|| "every".into()),
    })
}

fn run(ctx: &NativeCallContext, seconds: Dynamic, opts: Map, f: &FnPtr) -> RhaiResult<Map> {
    let s = settings(&seconds, opts)?;
    let start = Instant::now();
    let (mut tick, mut errors) = (0i64, 0i64);
    let mut last_line: Option<String> = None;
    let mut why = "ticks";
    loop {
        tick += 1;
        match call_back(ctx, f, vec![Dynamic::from(tick)], 0) {
            Ok(v) if v.as_bool() == Ok(false) => {
                why = "closure";
                break;
            }
            Ok(v) if v.is_string() => {
                let line = v.to_string();
                if last_line.as_deref() != Some(line.as_str()) {
                    use std::io::Write;
                    // A closed stdout (`| head`) must not panic the script.
                    let _ = writeln!(std::io::stdout().lock(), "{line}");
                    last_line = Some(line);
                }
            }
            Ok(_) => {}
            Err(e) if ends_the_run(&e) => {
                if bridge::phase() == Phase::Running {
                    return Err(e);
                }
                why = "interrupt";
                break;
            }
            Err(e) => {
                errors += 1;
                if s.stop_on_error {
                    // Said as the tick's limit, not the script's.
                    if matches!(*e, EvalAltResult::ErrorTooManyOperations(_)) {
                        return fail(format!("{}: tick {tick} failed: {}", s.name, message(&e)));
                    }
                    return Err(e);
                }
                eprintln!("{}: tick {tick} failed: {}", s.name, message(&e));
                // The next success prints its line even if it is the old one.
                last_line = None;
            }
        }
        if s.ticks.is_some_and(|n| tick >= n) {
            break;
        }
        // Fixed rate: the next slot after now, so a slow tick skips the
        // slots it overran instead of firing back to back.
        let elapsed = start.elapsed();
        let slots = (elapsed.as_secs_f64() / s.interval.as_secs_f64()).floor() + 1.0;
        let next = s.interval.mul_f64(slots);
        if bridge::sleep(next.saturating_sub(elapsed)).is_err() {
            why = "interrupt";
            break;
        }
    }
    let mut m = Map::new();
    m.insert("ticks".into(), tick.into());
    m.insert("errors".into(), errors.into());
    m.insert("stopped_by".into(), why.into());
    Ok(m)
}

#[export_module]
pub mod api {
    use super::*;

    /// Calls `f` (given the tick number, from 1) every `seconds`, at a
    /// fixed rate, until it returns `false`, `ticks` ticks have run, or
    /// Ctrl-C (which ends it cleanly between or during ticks; the script
    /// goes on to its cleanup). A string `f` returns is printed when it
    /// differs from the previous tick's. The operation limit applies to
    /// each tick. Options: `on_error` (`"log"`, the default: print
    /// `NAME: tick N failed: …` to stderr and go on; `"stop"`: throw the
    /// error), `ticks`, `name`. Returns `#{ ticks, errors, stopped_by }`
    /// (`"closure"`, `"ticks"` or `"interrupt"`).
    ///
    /// ```rhai
    /// every(10, #{ on_error: "log" }, |n| `tick ${n}: ${compose::stats("shop", "web").len()} replicas`);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn every(ctx: NativeCallContext, seconds: Dynamic, opts: Map, f: FnPtr) -> RhaiResult<Map> {
        crate::api::at(&ctx, || run(&ctx, seconds, opts, &f))
    }

    /// `every(seconds, #{}, f)`.
    ///
    /// ```rhai
    /// every(5, || print(container::get("web").stats().cpu_pct));
    /// ```
    #[rhai_fn(name = "every", return_raw)]
    pub fn every_default(ctx: NativeCallContext, seconds: Dynamic, f: FnPtr) -> RhaiResult<Map> {
        crate::api::at(&ctx, || run(&ctx, seconds, Map::new(), &f))
    }
}
