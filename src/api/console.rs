//! Talking to the user: stderr lines, a command's final error (compose's
//! JSON line under `--progress json`), yes/no questions, and whether a
//! stream is a terminal.
//!
//! ```rhai
//! if !confirm("Remove it?") { exit(0); }
//! if !found { fail("no such service: web"); }
//! ```

use rhai::plugin::*;

use super::util::exit_with;
use super::RhaiResult;

#[export_module]
pub mod api {
    use super::*;

    /// Prints to stderr (print goes to stdout).
    ///
    /// ```rhai
    /// eprint("warning: no services");
    /// ```
    pub fn eprint(text: &str) {
        eprintln!("{text}");
    }

    /// Ends a command with exit code 1 after printing its error on stderr
    /// as compose does: the text, or under `--progress json` compose's
    /// `{"error":true,"message":…}` line.
    ///
    /// ```rhai
    /// if !p.services.contains(s) { fail(`no such service: ${s}`); }
    /// ```
    #[rhai_fn(return_raw)]
    pub fn fail(message: &str) -> RhaiResult<()> {
        crate::error::print_failure(message);
        exit_with(1)
    }

    /// Asks a yes/no question on stdout and reads the answer from stdin,
    /// as compose's prompt: on a terminal `? QUESTION (y/N) `, otherwise
    /// the bare question with no newline. y, yes and Go's true values
    /// (1, t, true) are yes; anything else, or no stdin at all, is no.
    ///
    /// ```rhai
    /// if !confirm("Remove it?") { exit(0); }
    /// ```
    #[rhai_fn(return_raw)]
    pub fn confirm(question: &str) -> RhaiResult<bool> {
        use std::io::{IsTerminal, Write};
        crate::api::host_access("confirm")?;
        if std::io::stdin().is_terminal() {
            print!("? {question} (y/N) ");
        } else {
            print!("{question}");
        }
        let _ = std::io::stdout().flush();
        let mut answer = String::new();
        let _ = std::io::stdin().read_line(&mut answer);
        Ok(matches!(
            answer.trim().to_ascii_lowercase().as_str(),
            "y" | "yes" | "1" | "t" | "true"
        ))
    }

    /// Whether stdout ("stdout") or stderr ("stderr") is a terminal, for
    /// scripts that colour or animate only there.
    ///
    /// ```rhai
    /// let colour = is_terminal("stdout");
    /// ```
    pub fn is_terminal(stream: &str) -> bool {
        use std::io::IsTerminal;
        match stream {
            "stdin" => std::io::stdin().is_terminal(),
            "stderr" => std::io::stderr().is_terminal(),
            _ => std::io::stdout().is_terminal(),
        }
    }
}
