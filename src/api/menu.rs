//! compose's navigation menu of attached `up`, as its terminal sees it:
//! one line at the bottom of the screen (`w Enable Watch`), an error
//! above it for ten seconds after a key that could not act, cleared
//! before and drawn again after every log line, with the same escape
//! sequences compose's `LogKeyboard` writes (so the screens match).

use std::time::{Duration, Instant};

/// How long compose shows a key's error above the menu.
const ERROR_FOR: Duration = Duration::from_secs(10);

/// The menu and its error while one is shown.
#[derive(Default)]
pub struct Menu {
    pub text: String,
    error: Option<(String, Instant)>,
}

impl Menu {
    /// Shows `message` above the menu, prefixed as compose does
    /// (`Watch →` in bold cyan), for the next ten seconds.
    pub fn set_error(&mut self, prefix: &str, message: &str) {
        self.error = Some((format!("\x1b[1;36m{prefix} →\x1b[0m  {message}"), Instant::now()));
    }

    fn error(&self) -> Option<&str> {
        self.error
            .as_ref()
            .filter(|(_, at)| at.elapsed() < ERROR_FOR)
            .map(|(e, _)| e.as_str())
    }

    /// compose's `printNavigationMenu`: the old menu cleared, room made
    /// below the cursor, the error and the menu drawn at the bottom, the
    /// cursor put back.
    pub fn draw(&self) -> String {
        let (height, width) = size();
        self.draw_in(height, width)
    }

    /// A line printed with the menu on screen: the menu cleared before it
    /// and drawn again after it (compose's decorated log consumer), the
    /// terminal's size read once.
    pub fn around(&self, text: &str) -> String {
        let (height, width) = size();
        format!("{}{text}{}", clear_in(height), self.draw_in(height, width))
    }

    fn draw_in(&self, height: usize, width: usize) -> String {
        let extra = |s: &str| strip_ansi(s).chars().count() / width.max(1);
        let mut out = clear_in(height);
        let mut lines = 1;
        if let Some(e) = self.error() {
            lines += extra(e) + 1;
        }
        lines += extra(&self.text) + 1;
        for _ in 0..lines {
            out.push_str("\x1b[2K\n\x1b[0G");
        }
        out.push_str(&format!("\x1b[{lines}A\x1b[0G\x1b7"));
        if let Some(e) = self.error() {
            let row = height.saturating_sub(1 + extra(&self.text) + extra(e));
            out.push_str(&format!("\x1b[{row};0H\x1b[2K{e}"));
        }
        let row = height.saturating_sub(extra(&self.text));
        out.push_str(&format!("\x1b[{row};0H\x1b[2K{}\x1b[0G\x1b8", self.text));
        out
    }
}

/// compose's `clearNavigationMenu`: every line below the cursor erased.
pub fn clear() -> String {
    clear_in(size().0)
}

fn clear_in(height: usize) -> String {
    let mut out = String::from("\x1b[0G\x1b7");
    for _ in 0..height {
        out.push_str("\x1b[1B\x1b[2K");
    }
    out.push_str("\x1b8");
    out
}

/// compose's menu line without Docker Desktop: the `w` key in black on
/// white, its action faint.
pub fn watch_menu(watching: bool) -> String {
    let action = if watching { " Disable Watch" } else { " Enable Watch" };
    format!("\x1b[1;38;2;0;0;0;48;2;255;255;255mw\x1b[0m\x1b[2m{action}\x1b[0m")
}

/// The terminal's rows and columns (stdout), 24 × 80 when unknown.
fn size() -> (usize, usize) {
    match rustix::termios::tcgetwinsize(std::io::stdout()) {
        Ok(ws) if ws.ws_row > 0 && ws.ws_col > 0 => (usize::from(ws.ws_row), usize::from(ws.ws_col)),
        _ => (24, 80),
    }
}

/// `s` without its escape sequences (what a terminal shows of it).
fn strip_ansi(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\x1b' {
            out.push(c);
            continue;
        }
        if chars.peek() == Some(&'[') {
            chars.next();
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            chars.next();
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_menu_is_composes_and_measures_without_escapes() {
        let m = super::watch_menu(false);
        assert_eq!(super::strip_ansi(&m), "w Enable Watch");
        assert_eq!(super::strip_ansi(&super::watch_menu(true)), "w Disable Watch");
        assert_eq!(super::strip_ansi("\x1b7a\x1b[2;0Hb\x1b8"), "ab");
    }
}
