//! Small host facilities scripts need: sleeping, reading the environment,
//! formatting tables the way the Docker CLI does, JSON, stderr output.

use std::time::Duration;

use rhai::plugin::*;
use rhai::{Array, Dynamic, Map};

use super::RhaiResult;
use crate::bridge;

/// Lays out rows like the Docker CLI's tabwriter (min width 10, padding 3),
/// so orch's tables line up with `docker`'s.
pub fn format_table(headers: &[String], rows: &[Vec<String>]) -> String {
    let cols = headers.len().max(rows.iter().map(|r| r.len()).max().unwrap_or(0));
    let mut width = vec![0usize; cols];
    for row in std::iter::once(headers).chain(rows.iter().map(|r| r.as_slice())) {
        for (i, cell) in row.iter().enumerate() {
            width[i] = width[i].max(cell.chars().count() + 3).max(10);
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

fn exit_with(code: i32) -> RhaiResult<()> {
    *EXIT_CODE.lock().unwrap() = Some(code);
    Err(rhai::EvalAltResult::ErrorTerminated(EXIT_TOKEN.into(), rhai::Position::NONE).into())
}

#[export_module]
pub mod api {
    use super::*;

    /// Ends the script now with this process exit code (0–255).
    ///
    /// ```rhai
    /// if !image::exists("web") { exit(3); }
    /// ```
    #[rhai_fn(name = "exit", return_raw)]
    pub fn exit_code(code: i64) -> RhaiResult<()> {
        exit_with(code.clamp(0, 255) as i32)
    }

    /// Ends the script now with exit code 0.
    #[rhai_fn(name = "exit", return_raw)]
    pub fn exit_ok() -> RhaiResult<()> {
        exit_with(0)
    }

    /// Sleeps for `seconds` (fractions allowed). Ctrl-C interrupts it.
    ///
    /// ```rhai
    /// sleep(0.5);
    /// ```
    #[rhai_fn(name = "sleep", return_raw)]
    pub fn sleep_float(seconds: f64) -> RhaiResult<()> {
        bridge::sleep(Duration::from_secs_f64(seconds.max(0.0)))
    }

    #[rhai_fn(name = "sleep", return_raw)]
    pub fn sleep_int(seconds: i64) -> RhaiResult<()> {
        bridge::sleep(Duration::from_secs(seconds.max(0) as u64))
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
    pub fn env(name: &str) -> Dynamic {
        std::env::var(name).map(Dynamic::from).unwrap_or(Dynamic::UNIT)
    }

    /// How long cleanup may run after Ctrl-C before orch stops the script
    /// (default 1.5 s). Raise it before work whose cleanup takes longer.
    ///
    /// ```rhai
    /// set_interrupt_grace(15.0);   // stopping containers can take 10 s
    /// ```
    pub fn set_interrupt_grace(seconds: f64) {
        let ms = (seconds.max(0.0) * 1000.0) as u64;
        crate::script::INTERRUPT_GRACE_MS.store(ms, std::sync::atomic::Ordering::SeqCst);
    }

    /// Prints to stderr (print goes to stdout).
    ///
    /// ```rhai
    /// eprint("warning: no services");
    /// ```
    pub fn eprint(text: &str) {
        eprintln!("{text}");
    }

    /// Formats rows as the Docker CLI's tables.
    ///
    /// ```rhai
    /// print(table(["NAME", "STATUS"], [["web", "running"]]));
    /// ```
    pub fn table(headers: Array, rows: Array) -> String {
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
        format_table(&h, &r)
    }

    /// Serialises any value to JSON text.
    ///
    /// ```rhai
    /// print(to_json(#{ a: 1 }));
    /// ```
    #[rhai_fn(name = "to_json", return_raw)]
    pub fn to_json(value: Dynamic) -> RhaiResult<String> {
        let v = crate::api::value::to_json(&value)?;
        Ok(serde_json::to_string(&v).unwrap_or_default())
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
    fn table_like_docker() {
        let t = super::format_table(
            &["NAME".into(), "IMAGE".into()],
            &[vec!["plana-web-1".into(), "web".into()]],
        );
        assert_eq!(t, "NAME          IMAGE\nplana-web-1   web\n");
    }
}
