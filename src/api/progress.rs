//! Progress as Docker Compose shows it: on a terminal one live line per
//! resource with a spinner, its state and elapsed time; elsewhere one plain
//! line per state change; with `json` compose's JSON line per change; with
//! `quiet` nothing. The script decides what to report; this only draws it.
//!
//! ```rhai
//! let ui = progress::show("auto");
//! plan.apply(#{ on_event: |e| ui.event(e) });
//! ui.finish();
//! ```

use std::collections::HashMap;
use std::io::IsTerminal;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use rhai::plugin::*;
use rhai::{Engine, Map};

use super::{fail, RhaiResult};

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Mode {
    Tty,
    Plain,
    Json,
    Quiet,
}

struct Inner {
    mode: Mode,
    multi: MultiProgress,
    bars: HashMap<String, ProgressBar>,
    /// compose's `[+] Running done/total` line above the resources'.
    header: Option<ProgressBar>,
    /// compose's `--dry-run`: every line says so.
    dry_run: bool,
    /// Messages for after the live display (compose's `TailMsgf`).
    tail: Vec<String>,
    /// The header's word: compose's command title (`Running`, `Stopping`, …).
    title: String,
}

impl Inner {
    /// Counts the resources shown and those done into the header (made
    /// on the first event, as compose shows it with the first resource).
    fn count(&mut self) {
        let header = self.header.get_or_insert_with(|| {
            let h = self.multi.insert(0, ProgressBar::new_spinner());
            h.set_style(
                ProgressStyle::with_template(&format!("[+] {} {{msg}}", self.title))
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            h
        });
        let done = self.bars.values().filter(|b| b.is_finished()).count();
        header.set_message(format!("{done}/{}", self.bars.len()));
    }
}

/// A progress display. Cloning shares it (closures capture a copy).
#[derive(Clone)]
pub struct Progress(Arc<Mutex<Inner>>);

/// compose's `--progress json` line for an event: the resource as `id`,
/// its text if any, its state (or error) as `status`.
fn json_line(kind: &str, name: &str, status: &str, text: &str, error: &str, dry_run: bool) -> String {
    let mut m = serde_json::Map::new();
    if dry_run {
        m.insert("dry-run".into(), true.into());
    }
    m.insert("id".into(), format!("{kind} {name}").trim().into());
    // A pull's state is its text ("Pulling"; "Error" with the error as
    // status), as compose reports pulls and builds.
    if !text.is_empty() {
        m.insert("text".into(), text.into());
    }
    let status = if error.is_empty() { status } else { error };
    if !status.is_empty() || text.is_empty() {
        m.insert("status".into(), status.into());
    }
    // As Go's encoder writes it (compose's `"c ==\u003e"`).
    crate::gojson::marshal(&serde_json::Value::Object(m))
}

fn style(done: bool, failed: bool) -> ProgressStyle {
    // The message starts with a space (or the dry-run mark).
    let tmpl = if failed {
        " ✘{msg}"
    } else if done {
        " ✔{msg}"
    } else {
        " {spinner}{msg}"
    };
    ProgressStyle::with_template(tmpl).unwrap_or_else(|_| ProgressStyle::default_spinner())
}

#[export_module]
pub mod api {
    use super::*;

    pub type Progress = super::Progress;

    /// A display in `mode`: "auto" (live on a terminal, plain otherwise),
    /// "tty", "plain", "json" or "quiet" — the values of compose's
    /// `--progress`.
    ///
    /// ```rhai
    /// let ui = progress::show(ARGS.progress ?? "auto");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn show(mode: &str) -> RhaiResult<Progress> {
        show_with(mode, Map::new())
    }

    /// `show` with options: `dry_run: true` marks every line as compose's
    /// `--dry-run` does (` DRY-RUN MODE - `, `"dry-run":true` in JSON);
    /// `title` is the terminal header's word (`[+] Stopping 2/2`; default
    /// `Running`), as each compose command names its own.
    ///
    /// ```rhai
    /// let ui = progress::show("auto", #{ dry_run: true });
    /// ```
    #[rhai_fn(name = "show", return_raw)]
    pub fn show_with(mode: &str, opts: Map) -> RhaiResult<Progress> {
        let o: super::super::options::ProgressOpts = crate::api::opts::read("progress::show", opts)?;
        let mode = match mode {
            "auto" if std::io::stderr().is_terminal() => Mode::Tty,
            "auto" | "plain" => Mode::Plain,
            "tty" => Mode::Tty,
            "json" => Mode::Json,
            "quiet" => Mode::Quiet,
            other => {
                return fail(format!(
                    "progress::show: mode must be auto, tty, plain, json or quiet, not {other:?}"
                ))
            }
        };
        let multi = MultiProgress::with_draw_target(if mode == Mode::Tty {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        });
        Ok(Progress(Arc::new(Mutex::new(Inner {
            mode,
            multi,
            bars: HashMap::new(),
            header: None,
            dry_run: o.dry_run.unwrap_or(false),
            tail: Vec::new(),
            title: o.title.unwrap_or_else(|| "Running".into()),
        }))))
    }

    /// The width (columns) of the terminal on stdout, 0 when stdout is not
    /// a terminal: docker's progress bars show only on a wide one.
    ///
    /// ```rhai
    /// let bars = progress::width() > 110;
    /// ```
    pub fn width() -> i64 {
        super::super::attach::terminal_size().map_or(0, |(_, cols)| i64::from(cols))
    }

    /// Shows an event from `Plan.apply`, `plan::down` or
    /// `container::batch` (`#{ kind, name, status, done, error, elapsed }`);
    /// `failed: true` marks it failed without an error text.
    ///
    /// ```rhai
    /// ui.event(#{ kind: "Container", name: "web-1", status: "Started", done: true });
    /// ```
    #[rhai_fn(global, pure)]
    pub fn event(p: &mut Progress, e: Map) {
        let get = |k: &str| {
            e.get(k)
                .filter(|v| !v.is_unit())
                .map(|v| v.to_string())
                .unwrap_or_default()
        };
        let (kind, name, status, error) = (get("kind"), get("name"), get("status"), get("error"));
        let text = get("text");
        let done = e.get("done").and_then(|v| v.as_bool().ok()).unwrap_or(false);
        let elapsed = e.get("elapsed").and_then(|v| v.as_float().ok()).unwrap_or(0.0);
        let mut inner = p.0.lock().unwrap();
        let dry = if inner.dry_run { " DRY-RUN MODE - " } else { "" };
        // compose's plain line: the resource, its text, its status.
        let id = format!("{kind} {name}");
        let line = format!(
            "{dry} {} {text} {}",
            id.trim(),
            if error.is_empty() { &status } else { &error }
        );
        match inner.mode {
            Mode::Quiet => {}
            Mode::Plain => say(line),
            Mode::Json => say(json_line(&kind, &name, &status, &text, &error, inner.dry_run)),
            Mode::Tty => {
                let key = format!("{kind}/{name}");
                let bar = match inner.bars.get(&key) {
                    Some(b) => b.clone(),
                    None => {
                        let b = inner.multi.add(ProgressBar::new_spinner());
                        b.enable_steady_tick(Duration::from_millis(100));
                        inner.bars.insert(key, b.clone());
                        b
                    }
                };
                let failed = !error.is_empty() || e.get("failed").and_then(|v| v.as_bool().ok()) == Some(true);
                bar.set_style(style(done, failed));
                bar.set_message(format!("{line}  {elapsed:.1}s"));
                if done {
                    bar.finish();
                }
                inner.count();
            }
        }
    }

    /// Ends the display (stops spinners, leaves the final lines).
    ///
    /// ```rhai
    /// ui.finish();
    /// ```
    #[rhai_fn(global, pure)]
    pub fn finish(p: &mut Progress) {
        let mut inner = p.0.lock().unwrap();
        for b in inner.bars.values() {
            if !b.is_finished() {
                b.finish();
            }
        }
        if let Some(h) = &inner.header {
            h.finish();
        }
        for t in std::mem::take(&mut inner.tail) {
            say(t);
        }
    }

    /// A message for the end, as compose's `TailMsgf`: printed at once
    /// as a plain line or a JSON `tail` line, after the live display on a
    /// terminal, not at all when quiet.
    ///
    /// ```rhai
    /// ui.tail("Pushing web: denied");
    /// ```
    #[rhai_fn(global, pure)]
    pub fn tail(p: &mut Progress, text: &str) {
        let mut inner = p.0.lock().unwrap();
        let dry = inner.dry_run;
        match inner.mode {
            Mode::Quiet => {}
            Mode::Plain => say(format!("{}{text}", if dry { " DRY-RUN MODE - " } else { "" })),
            Mode::Json => {
                let mut m = serde_json::Map::new();
                if dry {
                    m.insert("dry-run".into(), true.into());
                }
                m.insert("tail".into(), true.into());
                m.insert("text".into(), text.into());
                say(crate::gojson::marshal(&serde_json::Value::Object(m)));
            }
            Mode::Tty => {
                let line = if dry {
                    format!("DRY-RUN MODE - {text}")
                } else {
                    text.to_string()
                };
                inner.tail.push(line);
            }
        }
    }
}

pub fn register_types(engine: &mut Engine) {
    engine.register_type_with_name::<Progress>("Progress");
}

/// One line on stderr in one write: `eprintln!` writes the text and its
/// newline apart, two system calls a line (1,000 for a no-change `up` of
/// 500 services), and a reader of the pipe may see them apart.
fn say(mut line: String) {
    use std::io::Write;
    line.push('\n');
    let _ = std::io::stderr().lock().write_all(line.as_bytes());
}

#[cfg(test)]
mod tests {
    use super::json_line;

    #[test]
    fn json_lines_are_composes() {
        assert_eq!(
            json_line("Container", "p-a-1", "Started", "", "", false),
            r#"{"id":"Container p-a-1","status":"Started"}"#
        );
        assert_eq!(
            json_line("Container", "p-a-1", "Starting", "", "exec failed", false),
            r#"{"id":"Container p-a-1","status":"exec failed"}"#
        );
        assert_eq!(
            json_line("", "a", "", "Pulling", "", false),
            r#"{"id":"a","text":"Pulling"}"#
        );
        assert_eq!(
            json_line("", "a", "", "Error", "no such host", false),
            r#"{"id":"a","text":"Error","status":"no such host"}"#
        );
        assert_eq!(
            json_line("Container", "p-a-1", "Stopped", "", "", true),
            r#"{"dry-run":true,"id":"Container p-a-1","status":"Stopped"}"#
        );
        // compose v2.40.3's dry-run build lines, Go's escapes and all.
        assert_eq!(
            json_line("", "c ==>", "", "==> writing image dryRun-1", "", true),
            r#"{"dry-run":true,"id":"c ==\u003e","text":"==\u003e writing image dryRun-1"}"#
        );
        assert_eq!(
            json_line("", "c", "Built", "", "", true),
            r#"{"dry-run":true,"id":"c","status":"Built"}"#
        );
    }
}
