//! orch's one error type, in the manner of casey/just's `Error`: what went
//! wrong as data (a compose file that does not load, an engine that cannot
//! be reached, an engine call refused, Ctrl-C, a primitive misused), not
//! as text to be matched later.
//!
//! A primitive's error travels to the script inside Rhai's error value
//! (`EvalAltResult::ErrorRuntime` holding an [`Error`]), so a script's
//! `catch (e)` gets an `Error` whose `${e}` is the message, with `.message`,
//! `.kind`, `.position` and, for engine errors, `.status`; and `diag.rs`
//! renders it by downcasting, never by comparing messages.

use rhai::plugin::*;
use rhai::{Dynamic, EvalAltResult, Position};

/// What went wrong.
#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    /// A compose project that does not load; `diagnostic` is the rendered
    /// report pointing into the YAML.
    Load { diagnostic: String },
    /// The engine could not be reached at all.
    Connect,
    /// The engine refused or failed the call `what` ("container start
    /// web"), with its HTTP status when it answered.
    Engine { what: String, status: Option<u16> },
    /// The run was interrupted (Ctrl-C) while the call was in flight.
    Interrupted,
    /// A primitive was called with options or arguments it does not take.
    Usage,
    /// Anything else a primitive refuses (no such object, a failed check).
    Script,
}

/// An error with its message (exactly what is printed) and, once known,
/// where in the script it was raised.
#[derive(Debug, Clone, PartialEq)]
pub struct Error {
    pub kind: Kind,
    pub message: String,
    pub position: Position,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    fn new(kind: Kind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: message.into(),
            position: Position::NONE,
        }
    }

    pub fn script(message: impl Into<String>) -> Self {
        Error::new(Kind::Script, message)
    }

    pub fn usage(message: impl Into<String>) -> Self {
        Error::new(Kind::Usage, message)
    }

    pub fn connect(message: impl Into<String>) -> Self {
        Error::new(Kind::Connect, message)
    }

    pub fn interrupted(message: impl Into<String>) -> Self {
        Error::new(Kind::Interrupted, message)
    }

    /// A load error: `message` is the one-line form (with `file:line:col`),
    /// `diagnostic` the full report.
    pub fn load(message: impl Into<String>, diagnostic: String) -> Self {
        Error::new(Kind::Load { diagnostic }, message)
    }

    /// An engine error for the call `what`; `message` is the whole line
    /// as printed (`what: the engine's message`).
    pub fn engine(what: impl Into<String>, status: Option<u16>, message: impl Into<String>) -> Self {
        Error::new(
            Kind::Engine {
                what: what.into(),
                status,
            },
            message,
        )
    }

    /// The engine error of the call `what` ("container start web") from
    /// the client's error: worded by [`crate::docker::describe`], with the
    /// engine's HTTP status when it answered.
    pub fn from_engine(what: impl std::fmt::Display, e: &bollard::errors::Error) -> Self {
        let status = crate::docker::status(e);
        let message = crate::docker::describe(&what, e);
        Error::engine(what.to_string(), status, message)
    }

    /// The same error inside a larger step: `what: message`, its kind,
    /// status and position kept.
    pub fn within(mut self, what: impl std::fmt::Display) -> Self {
        self.message = format!("{what}: {}", self.message);
        self
    }

    /// The kind's name as scripts see it in `e.kind`.
    pub fn kind_name(&self) -> &'static str {
        match self.kind {
            Kind::Load { .. } => "load",
            Kind::Connect => "connect",
            Kind::Engine { .. } => "engine",
            Kind::Interrupted => "interrupted",
            Kind::Usage => "usage",
            Kind::Script => "script",
        }
    }

    /// The error as Rhai's error value, so it can be thrown and caught.
    pub fn into_rhai(self) -> Box<EvalAltResult> {
        let pos = self.position;
        EvalAltResult::ErrorRuntime(Dynamic::from(self), pos).into()
    }

    /// orch's error inside a Rhai error (under any call or module
    /// wrappers), if it is one.
    pub fn of(e: &EvalAltResult) -> Option<Error> {
        match e.unwrap_inner() {
            EvalAltResult::ErrorRuntime(v, _) => v.read_lock::<Error>().map(|g| g.clone()),
            _ => None,
        }
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

/// A message from code that builds its errors as text (the planner's
/// `format!("…: {e}")`) is a `script` error.
impl From<String> for Error {
    fn from(message: String) -> Self {
        Error::script(message)
    }
}

impl From<&str> for Error {
    fn from(message: &str) -> Self {
        Error::script(message)
    }
}

/// Its message, for code that still reports errors as text (a
/// `LoadError`'s message, an event's error line).
impl From<Error> for String {
    fn from(e: Error) -> Self {
        e.message
    }
}

/// An error equals the text of its message, as when errors were strings.
impl PartialEq<&str> for Error {
    fn eq(&self, other: &&str) -> bool {
        self.message == *other
    }
}

impl From<Error> for Box<EvalAltResult> {
    fn from(e: Error) -> Self {
        e.into_rhai()
    }
}

/// A Rhai error's message as orch prints it: an [`Error`]'s own message
/// (Rhai's `Display` would show only the type's name), a thrown value's
/// text, or Rhai's description.
pub fn message(e: &EvalAltResult) -> String {
    if let Some(err) = Error::of(e) {
        return err.message;
    }
    match e {
        EvalAltResult::ErrorRuntime(v, _) => v.to_string(),
        other => other.to_string(),
    }
}

/// A primitive's error as orch's [`Error`]: a message raised as plain
/// text (`format!(...).into()`, a `String` error passed up with `?`)
/// becomes a `script` error, so a script's `catch` always gets the same
/// type. Errors a script threw itself pass through callbacks unchanged.
pub fn typed(mut e: Box<EvalAltResult>) -> Box<EvalAltResult> {
    if let EvalAltResult::ErrorRuntime(v, _) = &mut *e {
        if v.is_string() {
            let message = std::mem::take(v).to_string();
            *v = Dynamic::from(Error::script(message));
        }
    }
    e
}

/// Gives an error from a primitive the position of its call (Rhai fills
/// it in for methods and global functions, not for `ns::f()`), and
/// records it in orch's error for the script's `e.position`.
pub fn at(e: Box<EvalAltResult>, pos: Position) -> Box<EvalAltResult> {
    let mut e = typed(e);
    if e.position().is_none() {
        e.set_position(pos);
    }
    if let EvalAltResult::ErrorRuntime(v, p) = &mut *e {
        if let Some(mut err) = v.write_lock::<Error>() {
            if err.position.is_none() {
                err.position = *p;
            }
        }
    }
    e
}

/// What a caught error offers a script.
#[export_module]
pub mod api {
    use super::Error;
    use rhai::{Dynamic, Map};

    /// The error's message, as `${e}` shows it.
    ///
    /// ```rhai
    /// try { container::get("nope"); } catch (e) { eprint(`Error: ${e}`); }
    /// ```
    #[rhai_fn(global, name = "to_string", pure)]
    pub fn to_string(e: &mut Error) -> String {
        e.message.clone()
    }

    /// The error with its kind, as `debug` shows it.
    ///
    /// ```rhai
    /// try { container::get("nope"); } catch (e) { debug(e); }
    /// ```
    #[rhai_fn(global, name = "to_debug", pure)]
    pub fn to_debug(e: &mut Error) -> String {
        format!("{} error: {}", e.kind_name(), e.message)
    }

    /// The error's message.
    ///
    /// ```rhai
    /// try { volume::get("nope"); } catch (e) { print(e.message); }
    /// ```
    #[rhai_fn(global, get = "message", pure)]
    pub fn message(e: &mut Error) -> String {
        e.message.clone()
    }

    /// What went wrong: "load" (a compose file), "connect" (no engine),
    /// "engine" (the engine refused the call), "interrupted" (Ctrl-C),
    /// "usage" (an option or argument a primitive does not take) or
    /// "script" (anything else a primitive refuses).
    ///
    /// ```rhai
    /// try { image::pull("nope:1"); } catch (e) { if e.kind == "engine" { print(e.status); } }
    /// ```
    #[rhai_fn(global, get = "kind", pure)]
    pub fn kind(e: &mut Error) -> String {
        e.kind_name().to_string()
    }

    /// The engine's HTTP status for an engine error (404: no such
    /// object, 409: conflict…), else `()`.
    ///
    /// ```rhai
    /// try { container::get("nope").start(); } catch (e) { if e.status == 404 { print("gone"); } }
    /// ```
    #[rhai_fn(global, get = "status", pure)]
    pub fn status(e: &mut Error) -> Dynamic {
        match e.kind {
            super::Kind::Engine { status: Some(s), .. } => Dynamic::from(i64::from(s)),
            _ => Dynamic::UNIT,
        }
    }

    /// Where in the script the failing call was, as `#{ line, column }`,
    /// or `()` when not known.
    ///
    /// ```rhai
    /// try { network::get("nope"); } catch (e) { print(e.position.line); }
    /// ```
    #[rhai_fn(global, get = "position", pure)]
    pub fn position(e: &mut Error) -> Dynamic {
        match (e.position.line(), e.position.position()) {
            (Some(line), col) => {
                let mut m = Map::new();
                m.insert("line".into(), (line as i64).into());
                m.insert("column".into(), (col.unwrap_or(0) as i64).into());
                m.into()
            }
            _ => Dynamic::UNIT,
        }
    }

    /// Compares the error's message with a string, as when errors were
    /// strings.
    ///
    /// ```rhai
    /// try { exit_if_bad(); } catch (e) { if e == "bad" { print("bad"); } }
    /// ```
    #[rhai_fn(global, name = "==", pure)]
    pub fn eq_str(e: &mut Error, s: &str) -> bool {
        e.message == s
    }

    /// Whether the error's message differs from a string.
    ///
    /// ```rhai
    /// try { exit_if_bad(); } catch (e) { if e != "bad" { throw e; } }
    /// ```
    #[rhai_fn(global, name = "!=", pure)]
    pub fn ne_str(e: &mut Error, s: &str) -> bool {
        e.message != s
    }

    /// Whether the error's message contains `text`.
    ///
    /// ```rhai
    /// try { image::pull("nope:1"); } catch (e) { if e.contains("not found") { print("no such image"); } }
    /// ```
    #[rhai_fn(global, pure)]
    pub fn contains(e: &mut Error, text: &str) -> bool {
        e.message.contains(text)
    }
}

/// Registers the error type and its properties on a script engine.
pub fn register(engine: &mut rhai::Engine) {
    engine.register_type_with_name::<Error>("Error");
    engine.register_global_module(rhai::exported_module!(api).into());
}

/// Set by a compose command run with `--progress json`: its final error
/// is then compose's JSON line, so that a consumer of the event stream
/// reads the failure too.
static JSON_ERRORS: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Makes this process's final errors compose's JSON lines.
pub fn set_json_errors() {
    JSON_ERRORS.store(true, std::sync::atomic::Ordering::Relaxed);
}

/// Whether final errors are compose's JSON lines (`set_json_errors`).
pub fn json_errors() -> bool {
    JSON_ERRORS.load(std::sync::atomic::Ordering::Relaxed)
}

/// Prints a command's final error on stderr: the text, or under
/// `--progress json` compose's `{"error":true,"message":…}` line.
pub fn print_failure(message: &str) {
    if JSON_ERRORS.load(std::sync::atomic::Ordering::Relaxed) {
        eprintln!("{}", serde_json::json!({ "error": true, "message": message }));
    } else {
        eprintln!("{message}");
    }
}
