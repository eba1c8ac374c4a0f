//! Compose's log presentation: a `name | ` prefix per container, padded to
//! the longest name seen so far plus one, coloured from compose's rainbow
//! in the order containers first print, and status lines (`web-1 exited
//! with code 0`) that reset the terminal line first, byte for byte as
//! `docker compose up` and `logs` write them.
//!
//! ```rhai
//! let out = log_printer(#{ colour: is_terminal("stdout"), prefix: true });
//! out.log("web-1", "hello");
//! out.status("web-1", "exited with code 0");
//! ```

use std::io::Write;
use std::sync::{Arc, Mutex};

use rhai::plugin::*;
use rhai::Map;

use super::options::LogPrinterOpts;
use super::RhaiResult;

/// compose's rainbow: cyan, yellow, green, magenta, blue, then the same
/// made bold ("intense").
const RAINBOW: [&str; 10] = ["36", "33", "32", "35", "34", "36;1", "33;1", "32;1", "35;1", "34;1"];

/// What goes in front of a status line: carriage return, clear the line.
const RESET_LINE: &str = "\r\x1b[K";

#[derive(Default)]
struct Inner {
    colour: bool,
    prefix: bool,
    /// (name, colour code) in the order names were first seen.
    seen: Vec<(String, Option<&'static str>)>,
    width: usize,
    /// compose's navigation menu, drawn below the lines while set.
    menu: Option<super::menu::Menu>,
}

impl Inner {
    fn colour_of(&mut self, name: &str) -> Option<&'static str> {
        if let Some((_, c)) = self.seen.iter().find(|(n, _)| n == name) {
            return *c;
        }
        let c = self.colour.then(|| RAINBOW[self.seen.len() % RAINBOW.len()]);
        self.seen.push((name.to_string(), c));
        self.width = self.width.max(name.len() + 1);
        c
    }

    fn prefix(&mut self, name: &str) -> String {
        let c = self.colour_of(name);
        if !self.prefix {
            return String::new();
        }
        paint(c, &format!("{name:<width$} | ", width = self.width))
    }
}

fn paint(code: Option<&str>, s: &str) -> String {
    match code {
        Some(c) => format!("\x1b[{c}m{s}\x1b[0m"),
        None => s.to_string(),
    }
}

/// Prints container log lines and status lines as compose does.
#[derive(Clone)]
pub struct LogPrinter(Arc<Mutex<Inner>>);

/// Writes `text` as the printer prints a line: with the navigation menu
/// cleared before and drawn again after, when there is one.
fn emit(p: &LogPrinter, err: bool, text: &str) {
    let inner = p.0.lock().unwrap();
    match &inner.menu {
        Some(m) => write(err, &m.around(text)),
        None => write(err, text),
    }
}

fn write(err: bool, text: &str) {
    // A closed pipe (orch up | head) must not panic the script thread.
    if err {
        let _ = std::io::stderr().lock().write_all(text.as_bytes());
    } else {
        // Flushed: a menu drawn after the last line ends in no newline,
        // which stdout's line buffer would hold back.
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(text.as_bytes());
        let _ = out.flush();
    }
}

impl LogPrinter {
    /// Appends container `name`'s log text to `buf` as `log` prints it.
    pub fn format_line(&self, buf: &mut Vec<u8>, name: &str, text: &str) {
        let prefix = self.0.lock().unwrap().prefix(name);
        for l in text.split('\n') {
            buf.extend_from_slice(prefix.as_bytes());
            buf.extend_from_slice(l.as_bytes());
            buf.push(b'\n');
        }
    }

    /// Appends the status line `status` shows (`exited with code 0`).
    pub fn format_status(&self, buf: &mut Vec<u8>, name: &str, text: &str) {
        buf.extend_from_slice(status_line(self, name, text).as_bytes());
    }
}

/// compose's status line about a container: the line cleared first, in
/// the container's colour.
fn status_line(p: &LogPrinter, name: &str, text: &str) -> String {
    let c = p.0.lock().unwrap().colour_of(name);
    format!("{}\n", paint(c, &format!("{RESET_LINE}{name} {text}")))
}

fn line(p: &LogPrinter, name: &str, text: &str, err: bool) {
    let prefix = p.0.lock().unwrap().prefix(name);
    let mut out = String::with_capacity(prefix.len() + text.len() + 1);
    for l in text.split('\n') {
        out.push_str(&prefix);
        out.push_str(l);
        out.push('\n');
    }
    emit(p, err, &out);
}

/// compose's watch logger line: painted green even without colours, as
/// compose v2.40.3 prints it.
fn watch_line(p: &LogPrinter, text: &str) -> String {
    let mut inner = p.0.lock().unwrap();
    // Its name widens every prefix, but takes no colour of the rainbow.
    inner.width = inner.width.max(WATCH_LOGGER.len() + 1);
    if !inner.prefix {
        return format!("{text}\n");
    }
    format!(
        "{} {text}\n",
        paint(Some("92"), &format!("{} ⦿", " ".repeat(inner.width)))
    )
}

/// compose's name for the watch's log lines (`api.WatchLogger`).
const WATCH_LOGGER: &str = "#watch";

#[export_module]
pub mod api {
    use super::*;

    /// A printer for container logs as compose shows them. Options:
    /// `colour` (compose's rainbow per container), `prefix` (the aligned
    /// `name | ` prefix; false for `--no-log-prefix`).
    ///
    /// ```rhai
    /// let out = log_printer(#{ colour: false, prefix: true });
    /// ```
    #[rhai_fn(return_raw)]
    pub fn log_printer(opts: Map) -> RhaiResult<LogPrinter> {
        let o: LogPrinterOpts = crate::api::opts::read("log_printer", opts)?;
        let inner = Inner {
            colour: o.colour.unwrap_or(false),
            prefix: o.prefix.unwrap_or(true),
            ..Default::default()
        };
        Ok(LogPrinter(Arc::new(Mutex::new(inner))))
    }

    /// Prints a log line of container `name` on stdout, with its prefix.
    ///
    /// ```rhai
    /// out.log("web-1", "listening on :80");
    /// ```
    #[rhai_fn(global, name = "log")]
    pub fn log(p: &mut LogPrinter, name: &str, text: &str) {
        line(p, name, text, false)
    }

    /// Prints a line the container wrote on stderr, on stderr.
    ///
    /// ```rhai
    /// out.err("web-1", "warning: no config");
    /// ```
    #[rhai_fn(global, name = "err")]
    pub fn err(p: &mut LogPrinter, name: &str, text: &str) {
        line(p, name, text, true)
    }

    /// Prints a line of `up --watch`'s file watch as compose's watch logger
    /// does: `⦿` in green where the prefixes end (its name, `#watch`,
    /// counts in their width, as compose's does).
    ///
    /// ```rhai
    /// out.watch("Watch enabled");
    /// ```
    #[rhai_fn(global, name = "watch")]
    pub fn watch(p: &mut LogPrinter, text: &str) {
        let line = watch_line(p, text);
        emit(p, false, &line);
    }

    /// Sets compose's navigation menu (`w Enable Watch`, or `w Disable
    /// Watch` while `watching`), drawn below the lines after every line
    /// printed from now on (as compose, not at once: `menu_show` draws
    /// it now), until `menu_off`.
    ///
    /// ```rhai
    /// out.menu(false);
    /// ```
    #[rhai_fn(global, name = "menu")]
    pub fn menu(p: &mut LogPrinter, watching: bool) {
        let mut inner = p.0.lock().unwrap();
        inner.menu.get_or_insert_with(Default::default).text = super::super::menu::watch_menu(watching);
    }

    /// Draws the menu now (compose does on Enter).
    ///
    /// ```rhai
    /// out.menu_show();
    /// ```
    #[rhai_fn(global, name = "menu_show")]
    pub fn menu_show(p: &mut LogPrinter) {
        if let Some(m) = &p.0.lock().unwrap().menu {
            write(false, &m.draw());
        }
    }

    /// Shows `message` above the menu for ten seconds, after `prefix →`
    /// (the key's action), as compose does when a key cannot act.
    ///
    /// ```rhai
    /// out.menu_error("Watch", "watch is not yet configured.");
    /// ```
    #[rhai_fn(global, name = "menu_error")]
    pub fn menu_error(p: &mut LogPrinter, prefix: &str, message: &str) {
        let mut inner = p.0.lock().unwrap();
        if let Some(m) = inner.menu.as_mut() {
            m.set_error(prefix, message);
            write(false, &m.draw());
        }
    }

    /// Takes the menu off the screen; lines print plain again.
    ///
    /// ```rhai
    /// out.menu_off();
    /// ```
    #[rhai_fn(global, name = "menu_off")]
    pub fn menu_off(p: &mut LogPrinter) {
        if p.0.lock().unwrap().menu.take().is_some() {
            write(false, &format!("{}\x1b[?25h", super::super::menu::clear()));
        }
    }

    /// Prints a status line about container `name` (`exited with code 0`)
    /// on stdout, in its colour.
    ///
    /// ```rhai
    /// out.status("web-1", "exited with code 0");
    /// ```
    #[rhai_fn(global, name = "status")]
    pub fn status(p: &mut LogPrinter, name: &str, text: &str) {
        let line = status_line(p, name, text);
        emit(p, false, &line);
    }
}

pub fn register_types(engine: &mut rhai::Engine) {
    engine.register_type_with_name::<LogPrinter>("LogPrinter");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_grow_with_the_longest_name_seen() {
        let mut i = Inner {
            prefix: true,
            ..Default::default()
        };
        assert_eq!(i.prefix("web-1"), "web-1  | ");
        assert_eq!(i.prefix("longername-1"), "longername-1  | ");
        assert_eq!(i.prefix("web-1"), "web-1         | ");
    }

    #[test]
    fn colours_follow_composes_rainbow_in_order_of_appearance() {
        let mut i = Inner {
            prefix: true,
            colour: true,
            ..Default::default()
        };
        assert_eq!(i.prefix("a-1"), "\x1b[36ma-1  | \x1b[0m");
        assert_eq!(i.colour_of("b-1"), Some("33"));
        for n in 0..3 {
            i.colour_of(&format!("x{n}"));
        }
        assert_eq!(i.colour_of("c-1"), Some("36;1"));
        assert_eq!(i.colour_of("a-1"), Some("36"));
    }

    #[test]
    fn no_prefix_prints_the_bare_line() {
        let mut i = Inner::default();
        assert_eq!(i.prefix("web-1"), "");
    }
}
