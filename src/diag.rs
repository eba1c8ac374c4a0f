//! Turning script errors into diagnostics a person can act on.
//!
//! Every error shows where it happened: file, line, column and the source
//! line with a marker (rendered by miette). Errors raised inside a function
//! or an imported module point at the innermost place and list the calls
//! that led there. Limit errors say which limit and which flag raises it.

use miette::{LabeledSpan, MietteDiagnostic, NamedSource, Report};
use rhai::{EvalAltResult, Position};

use crate::error::Kind;
use crate::source::{Limits, Source};

/// Exit code for a script that does not compile.
pub const EXIT_SYNTAX: i32 = 2;
/// Exit code for a script that failed while running.
pub const EXIT_RUNTIME: i32 = 1;

/// Where an error happened, and the calls that led there.
struct Located<'a> {
    leaf: &'a EvalAltResult,
    source: String,
    trail: Vec<String>,
}

fn locate<'a>(err: &'a EvalAltResult, source: &str) -> Located<'a> {
    let mut trail = Vec::new();
    let mut current = source.to_string();
    let mut e = err;
    loop {
        match e {
            EvalAltResult::ErrorInFunctionCall(name, src, inner, pos) => {
                trail.push(format!("in call to {name}() at {}", at(&current, *pos)));
                if !src.is_empty() {
                    current = src.clone();
                }
                e = inner;
            }
            EvalAltResult::ErrorInModule(path, inner, pos) => {
                trail.push(format!("in module {path} imported at {}", at(&current, *pos)));
                current = path.clone();
                e = inner;
            }
            _ => {
                return Located {
                    leaf: e,
                    source: current,
                    trail,
                }
            }
        }
    }
}

fn at(source: &str, pos: Position) -> String {
    match (pos.line(), pos.position()) {
        (Some(l), Some(c)) => format!("{source}:{l}:{c}"),
        (Some(l), None) => format!("{source}:{l}"),
        _ => source.to_string(),
    }
}

/// The error's message without Rhai's "(line x, position y)" suffix, and
/// with limit errors rewritten to name their flag.
fn message(leaf: &EvalAltResult, limits: &Limits) -> (String, Option<String>) {
    match leaf {
        EvalAltResult::ErrorRuntime(..) => (crate::error::message(leaf), None),
        EvalAltResult::ErrorTooManyOperations(_) => (
            format!(
                "the script ran more than {} operations, the limit for one script",
                limits.max_operations
            ),
            Some(
                "raise it with `orch --max-operations N ...` (0 = no limit), or find the loop that does not end".into(),
            ),
        ),
        EvalAltResult::ErrorStackOverflow(_) => (
            format!("function calls nested deeper than {} levels", limits.max_call_depth),
            Some(format!(
                "raise it with `orch --max-call-depth N ...` (at most {}), or look for recursion that does not end",
                crate::source::MAX_CALL_DEPTH
            )),
        ),
        EvalAltResult::ErrorDataTooLarge(what, _) => {
            let flag = if what.contains("tring") {
                "--max-string-size"
            } else if what.contains("rray") {
                "--max-array-size"
            } else {
                "--max-map-size"
            };
            (
                format!("{what} exceeds the limit"),
                Some(format!("raise it with `orch {flag} N ...`")),
            )
        }
        EvalAltResult::ErrorTerminated(_, _) => (crate::bridge::INTERRUPTED.to_string(), None),
        other => {
            let s = other.to_string();
            let s = match s.rfind(" (line ") {
                Some(i) if s.ends_with(')') => s[..i].to_string(),
                _ => s,
            };
            (s, None)
        }
    }
}

/// The text of a source by the name errors carry.
fn source_text(name: &str, main: &Source) -> Option<String> {
    if name == main.name {
        return Some(main.text.clone());
    }
    if let Some(t) = crate::stdlib::embedded_text(name) {
        return Some(t.to_string());
    }
    std::fs::read_to_string(name).ok()
}

/// Byte offset of a 1-based line and character column.
fn offset(text: &str, line: usize, col: usize) -> usize {
    let mut off = 0;
    for (i, l) in text.split_inclusive('\n').enumerate() {
        if i + 1 == line {
            let char_off: usize = l.chars().take(col.saturating_sub(1)).map(char::len_utf8).sum();
            return (off + char_off).min(text.len());
        }
        off += l.len();
    }
    text.len()
}

/// Prints the diagnostic for a failed script to stderr and returns the
/// exit code.
pub fn print_error(err: &EvalAltResult, main: &Source, limits: &Limits) -> i32 {
    install_hook();
    if crate::error::json_errors() {
        crate::error::print_failure(&json_message(err));
        return EXIT_RUNTIME;
    }
    match crate::error::Error::of(err).map(|e| e.kind) {
        // An unreachable engine is one line: the script location adds nothing.
        Some(Kind::Connect) => {
            eprintln!("error: {}", crate::error::message(err));
            return EXIT_RUNTIME;
        }
        // docker's swarm commands print an engine refusal as one line; the
        // script line that made the call adds nothing for their users.
        Some(Kind::Engine { what, status: Some(_) }) if swarm_command(&main.name) => {
            let msg = crate::error::message(err);
            let lead = format!("{what}: ");
            let engine = msg.find(&lead).map_or(msg.as_str(), |i| &msg[i + lead.len()..]);
            eprintln!("Error response from daemon: {engine}");
            return EXIT_RUNTIME;
        }
        // A compose file error is already a full diagnostic pointing into
        // the YAML; the script line that loaded it would only add noise.
        Some(Kind::Load { diagnostic }) => {
            eprint!("{diagnostic}");
            return EXIT_RUNTIME;
        }
        _ => {}
    }
    let syntax = matches!(err, EvalAltResult::ErrorParsing(..))
        || matches!(err, EvalAltResult::ErrorInModule(_, inner, _) if matches!(**inner, EvalAltResult::ErrorParsing(..)));
    let loc = locate(err, &main.name);
    let (msg, help) = message(loc.leaf, limits);
    let pos = loc.leaf.position();
    let mut diag = MietteDiagnostic::new(msg.clone());
    if let Some(h) = help {
        diag = diag.with_help(h);
    }
    if syntax {
        diag = diag.with_code("orch::syntax");
    }
    let text = source_text(&loc.source, main);
    let report = match (pos.line(), text) {
        (Some(line), Some(text)) => {
            let col = pos.position().unwrap_or(1);
            let off = offset(&text, line, col);
            let len = text[off..].chars().next().map(char::len_utf8).unwrap_or(0);
            diag = diag.with_label(LabeledSpan::at(off..off + len, "here"));
            if !loc.trail.is_empty() {
                diag = diag.with_help(loc.trail.join("\n"));
            }
            Report::new(diag).with_source_code(NamedSource::new(loc.source.clone(), text))
        }
        _ => {
            let mut d = MietteDiagnostic::new(format!("{msg} ({})", at(&loc.source, pos)));
            if !loc.trail.is_empty() {
                d = d.with_help(loc.trail.join("\n"));
            }
            Report::new(d)
        }
    };
    eprintln!("{report:?}");
    if syntax {
        EXIT_SYNTAX
    } else {
        EXIT_RUNTIME
    }
}

/// An error as one line of text for compose's JSON error line: a compose
/// file's diagnostic without its drawing, a script's error without the
/// script position.
fn json_message(err: &EvalAltResult) -> String {
    let text = match crate::error::Error::of(err) {
        Some(_) => crate::error::message(err),
        None => message(locate(err, "").leaf, &Limits::default()).0,
    };
    text.lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or_default()
        .to_string()
}

/// Whether `name` is one of the built-in swarm commands (`orch service
/// …`, `orch node …`), whose errors read as docker's CLI's.
fn swarm_command(name: &str) -> bool {
    ["stdlib/service/", "stdlib/node/"].iter().any(|p| name.starts_with(p))
}

/// miette's default wraps at 80 columns and breaks words such as image
/// names; engine messages must stay greppable, so lines are not wrapped.
pub fn install_hook() {
    let _ = miette::set_hook(Box::new(|_| {
        Box::new(miette::MietteHandlerOpts::new().wrap_lines(false).build())
    }));
}
