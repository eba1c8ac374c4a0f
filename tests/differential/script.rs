//! A scenario's `steps` file: one step a line, `#` comments, words split as
//! a shell would (single and double quotes, no expansion). The grammar is
//! documented in tests/differential/README.md.

/// What a step does.
#[derive(Debug, Clone)]
pub enum Action {
    /// A compose command (the arguments after `-p PROJECT`), run by both tools.
    Compose(Vec<String>),
    /// `cp SRC DST`: copy a file inside the scenario folder (both tools' copies).
    Cp(String, String),
    /// `rm PATH`: remove a file from the scenario folder.
    Rm(String),
    /// `env KEY=VALUE`: set a variable for the following steps.
    Env(String, String),
    /// `unenv KEY`
    Unenv(String),
    /// `docker ARGS...`: an engine action, once per tool, `${VAR}` expanded
    /// with that tool's variables (DT_PROJECT, DT_PORT_n, env).
    Docker(Vec<String>),
    /// `hold-port N`: the runner listens on DT_PORT_N until the scenario ends.
    HoldPort(usize),
}

/// One line of `steps`.
#[derive(Debug, Clone)]
pub struct Step {
    /// The line number in `steps` (the step's name in diffs and gap lists).
    pub line: usize,
    pub text: String,
    pub action: Action,
    /// The reference must fail; orch must fail with the same code and may
    /// have created a subset of what the reference created, never more.
    pub expect_fail: bool,
    /// Compare the normalised stdout (JSON lines or plain lines).
    pub stdout: bool,
    /// Compare stdout's lines as a set (`unordered`): compose prints them
    /// from a Go map, in random order. With `stderr`, stderr's too.
    pub unordered: bool,
    /// Compare stderr's lines (`stderr`): progress events (`--progress
    /// json`, `plain`) and error messages.
    pub stderr: bool,
    /// Compare stdout as a human table (`table`): times ("3 seconds ago",
    /// "Up 2 minutes") and column widths (which follow them) normalised.
    pub table: bool,
    /// Run the OTHER tool on this tool's project; nothing may be recreated.
    pub cross: bool,
    /// A file of the scenario fed to the command's stdin.
    pub stdin: Option<String>,
    /// Run both tools' step at the same time (`together`), not one after
    /// the other: for steps whose outcome depends on how long the
    /// project's containers have run (`logs -f` on containers that exit).
    pub together: bool,
}

impl Step {
    pub fn is_compose(&self) -> bool {
        matches!(self.action, Action::Compose(_))
    }
}

/// Splits a line into words: whitespace separates, quotes group.
pub fn words(line: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\'' | '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some(q) if q == c => break,
                        Some(ch) => cur.push(ch),
                        None => return Err(format!("unclosed {c} in `{line}`")),
                    }
                }
            }
            c if c.is_whitespace() => {
                if in_word {
                    out.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            c => {
                in_word = true;
                cur.push(c);
            }
        }
    }
    if in_word {
        out.push(cur);
    }
    Ok(out)
}

/// Parses a whole `steps` file.
pub fn parse(text: &str) -> Result<Vec<Step>, String> {
    let mut steps = Vec::new();
    for (at, line) in crate::runner::step_lines(text) {
        steps.push(parse_line(at, line).map_err(|e| format!("steps:{at}: {e}"))?);
    }
    if steps.is_empty() {
        return Err("no steps".into());
    }
    Ok(steps)
}

fn parse_line(line_no: usize, line: &str) -> Result<Step, String> {
    let mut w = words(line)?;
    let mut step = Step {
        line: line_no,
        text: line.to_string(),
        action: Action::Rm(String::new()),
        expect_fail: false,
        stdout: false,
        unordered: false,
        stderr: false,
        table: false,
        cross: false,
        stdin: None,
        together: false,
    };
    loop {
        match w.first().map(String::as_str) {
            Some("expect-fail") => step.expect_fail = true,
            Some("stdout") => step.stdout = true,
            Some("unordered") => (step.stdout, step.unordered) = (true, true),
            Some("table") => (step.stdout, step.table) = (true, true),
            Some("stderr") => step.stderr = true,
            Some("cross") => step.cross = true,
            Some("together") => step.together = true,
            Some(s) if s.starts_with("stdin=") => step.stdin = Some(s["stdin=".len()..].to_string()),
            _ => break,
        }
        w.remove(0);
    }
    let arity = |n: usize| -> Result<(), String> {
        if w.len() == n + 1 {
            Ok(())
        } else {
            Err(format!("`{}` takes {n} argument(s)", w[0]))
        }
    };
    step.action = match w.first().map(String::as_str) {
        None => return Err("a modifier without a command".into()),
        Some("cp") => {
            arity(2)?;
            Action::Cp(w[1].clone(), w[2].clone())
        }
        Some("rm") => {
            arity(1)?;
            Action::Rm(w[1].clone())
        }
        Some("env") => {
            arity(1)?;
            let (k, v) = w[1].split_once('=').ok_or("env takes KEY=VALUE")?;
            Action::Env(k.to_string(), v.to_string())
        }
        Some("unenv") => {
            arity(1)?;
            Action::Unenv(w[1].clone())
        }
        Some("docker") => Action::Docker(w[1..].to_vec()),
        Some("hold-port") => {
            arity(1)?;
            Action::HoldPort(w[1].parse().map_err(|_| "hold-port takes a number")?)
        }
        Some(_) => Action::Compose(w),
    };
    if !step.is_compose() && (step.expect_fail || step.stdout || step.cross || step.stdin.is_some()) {
        return Err("modifiers apply to compose commands only".into());
    }
    Ok(step)
}

/// Expands `${NAME}` from `vars` (unknown names are left as they are).
pub fn expand(s: &str, vars: &[(String, String)]) -> String {
    let mut out = s.to_string();
    for (k, v) in vars {
        out = out.replace(&format!("${{{k}}}"), v);
    }
    out
}
