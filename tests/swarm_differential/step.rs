//! A swarm scenario's `steps` file: one step a line, `#` comments, words
//! split as a shell would (tests/differential/script.rs's `words`), the
//! grammar in tests/swarm_differential/README.md.

use crate::script::words;

/// What a step does.
#[derive(Debug, Clone)]
pub enum Action {
    /// CLI arguments both tools run: `docker ARGS` and `orch ARGS`.
    Command(Vec<String>),
    /// `wait-running SERVICE N`: until the side's SERVICE has N tasks
    /// running, so a following `ps` compares settled tasks.
    WaitRunning(String, usize),
    /// `wait-gone KIND NAME`: until the side's NAME (a network, a
    /// service …) is gone, e.g. a removed stack's network, which lingers on
    /// the manager while its tasks shut down.
    WaitGone(String, String),
}

/// How a step's stdout is compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    /// Not at all (exit code and engine state only).
    Ignored,
    /// Line by line.
    Lines,
    /// As a human table: relative times and column padding normalised.
    Table,
    /// Lines as a set (the CLI prints them from a Go map).
    Unordered,
    /// As JSON values, versions and times dropped (`inspect`).
    Json,
}

#[derive(Debug, Clone)]
pub struct Step {
    /// The line in `steps`: the step's name in differences.
    pub line: usize,
    pub text: String,
    pub action: Action,
    pub output: Output,
    /// docker must fail; orch must fail with the same exit code.
    pub expect_fail: bool,
    /// A file of the scenario fed to stdin (`stdin=FILE`).
    pub stdin: Option<String>,
}

pub fn parse(text: &str) -> Result<Vec<Step>, String> {
    let mut steps = Vec::new();
    for (no, line) in crate::runner::step_lines(text) {
        let at = |e: String| format!("steps:{no}: {e}");
        let mut w = words(line).map_err(at)?;
        let (mut output, mut expect_fail, mut stdin) = (Output::Ignored, false, None);
        while let Some(first) = w.first() {
            match first.as_str() {
                "stdout" => output = Output::Lines,
                "table" => output = Output::Table,
                "unordered" => output = Output::Unordered,
                "json" => output = Output::Json,
                "expect-fail" => expect_fail = true,
                m if m.starts_with("stdin=") => stdin = Some(m["stdin=".len()..].to_string()),
                _ => break,
            }
            w.remove(0);
        }
        let action = match w.first().map(String::as_str) {
            None => return Err(at("modifiers without a command".into())),
            Some("wait-running") => match (w.get(1), w.get(2).and_then(|n| n.parse().ok())) {
                (Some(service), Some(n)) if w.len() == 3 => Action::WaitRunning(service.clone(), n),
                _ => return Err(at("usage: wait-running SERVICE N".into())),
            },
            Some("wait-gone") => match (w.get(1), w.get(2)) {
                (Some(kind), Some(name)) if w.len() == 3 => Action::WaitGone(kind.clone(), name.clone()),
                _ => return Err(at("usage: wait-gone KIND NAME".into())),
            },
            Some(_) => Action::Command(w),
        };
        steps.push(Step {
            line: no,
            text: line.to_string(),
            action,
            output,
            expect_fail,
            stdin,
        });
    }
    Ok(steps)
}
