//! Every flag Docker Compose v2.40.3 accepts, orch accepts too: the
//! `--help` of every compose command (and the global flags) of both tools
//! are parsed, and a flag compose lists that orch lacks, or whose short
//! form orch lacks, fails the test unless `help_flags_exceptions.txt`
//! names it with its reason. An exception orch no longer needs (the flag
//! is there now, or compose has no such flag) fails too, so the list only
//! shrinks.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

use common::*;

/// `--long` names and their `-s` short forms in a help text's flag
/// lines (`  -p, --project-name string`, `      --dry-run`).
fn flags(help: &str) -> BTreeMap<String, Option<char>> {
    let mut out = BTreeMap::new();
    for line in help.lines() {
        let t = line.trim_start();
        let (short, rest) = match t.strip_prefix('-').and_then(|r| r.chars().next()) {
            Some(c) if c != '-' && t[2..].starts_with(", --") => (Some(c), &t[4..]),
            _ => (None, t),
        };
        let Some(rest) = rest.strip_prefix("--") else { continue };
        let name: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
            .collect();
        if !name.is_empty() {
            out.insert(name, short);
        }
        // clap's `[alias: --no-tty]`.
        if let Some(i) = t.find("[alias: --").or_else(|| t.find("[aliases: --")) {
            let alias: String = t[i..]
                .split("--")
                .nth(1)
                .unwrap_or("")
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
                .collect();
            out.insert(alias, short);
        }
    }
    out
}

fn help(mut cmd: Command) -> String {
    let out = cmd.output().expect("runs");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The commands `docker compose --help` lists.
fn compose_commands(root_help: &str) -> Vec<String> {
    let mut in_commands = false;
    let mut out = Vec::new();
    for line in root_help.lines() {
        if line.ends_with("Commands:") {
            in_commands = true;
            continue;
        }
        if line.trim().is_empty() || !line.starts_with("  ") {
            in_commands = false;
            continue;
        }
        if in_commands {
            if let Some(word) = line.split_whitespace().next() {
                out.push(word.trim_end_matches('*').to_string());
            }
        }
    }
    out
}

/// `COMMAND --flag  reason` lines (`(global)` for the global flags,
/// `COMMAND *` for a whole command, `* --flag` for a flag of every command).
fn exceptions(file: &str) -> BTreeSet<(String, String)> {
    let text = std::fs::read_to_string(repo().join("tests").join(file)).expect("exceptions file");
    let mut out = BTreeSet::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut words = line.split_whitespace();
        let (cmd, flag) = (words.next().unwrap(), words.next().unwrap_or(""));
        assert!(words.next().is_some(), "{file}:{}: `{line}` gives no reason", i + 1);
        out.insert((cmd.to_string(), flag.to_string()));
    }
    out
}

type Flags = BTreeMap<String, Option<char>>;

/// What one comparison found: flags orch lacks, exceptions that matched.
struct Report<'a> {
    allowed: &'a BTreeSet<(String, String)>,
    globals: &'a Flags,
    used: &'a mut BTreeSet<(String, String)>,
    missing: &'a mut Vec<String>,
}

impl Report<'_> {
    /// Compose's flags of `cmd` against orch's (its own and the global ones).
    fn check(&mut self, cmd: &str, theirs: Flags, ours: &Flags) {
        for (name, short) in theirs {
            if name == "help" {
                continue;
            }
            let key = (cmd.to_string(), format!("--{name}"));
            let problem = match (ours.get(&name).or_else(|| self.globals.get(&name)), short) {
                (None, _) => Some(format!("{cmd}: --{name} is missing")),
                (Some(mine), Some(s)) if *mine != Some(s) => Some(format!("{cmd}: --{name} lacks its short form -{s}")),
                _ => None,
            };
            // `* --flag`: an exception for every command.
            let any = ("*".to_string(), key.1.clone());
            let key = if self.allowed.contains(&key) || !self.allowed.contains(&any) {
                key
            } else {
                any
            };
            if key.0 == "*" && problem.is_none() {
                continue;
            }
            if self.allowed.contains(&key) {
                self.used.insert(key.clone());
                if problem.is_none() {
                    self.missing.push(format!(
                        "{cmd} {}: listed as an exception but orch has it now: drop the line",
                        key.1
                    ));
                }
            } else if let Some(p) = problem {
                self.missing.push(p);
            }
        }
    }
}

#[test]
fn orch_accepts_every_flag_compose_accepts() {
    let root_ref = help({
        let mut c = Command::new(compose_ref());
        c.arg("--help");
        c
    });
    let root_orch = help({
        let mut c = orch();
        c.arg("--help");
        c
    });
    let globals = flags(&root_orch);
    let allowed = exceptions("help_flags_exceptions.txt");
    let mut used = BTreeSet::new();
    let mut missing = Vec::new();
    let mut r = Report {
        allowed: &allowed,
        globals: &globals,
        used: &mut used,
        missing: &mut missing,
    };
    r.check("(global)", flags(&root_ref), &globals);
    let commands = compose_commands(&root_ref);
    assert!(commands.len() > 20, "compose's commands not found in:\n{root_ref}");
    for cmd in &commands {
        if allowed.contains(&(cmd.clone(), "*".into())) {
            r.used.insert((cmd.clone(), "*".into()));
            continue;
        }
        let theirs = flags(&help({
            let mut c = Command::new(compose_ref());
            c.args([cmd.as_str(), "--help"]);
            c
        }));
        // `orch run FILE.rhai` runs a script: compose's run is `orch run SERVICE`.
        let args: Vec<&str> = if cmd == "run" {
            vec!["run", "web", "--help"]
        } else {
            vec![cmd, "--help"]
        };
        let ours_help = help({
            let mut c = orch();
            c.args(&args);
            c
        });
        if ours_help.is_empty() {
            r.missing.push(format!("{cmd}: orch has no such command"));
            continue;
        }
        r.check(cmd, theirs, &flags(&ours_help));
    }
    for stale in allowed.difference(&used) {
        missing.push(format!(
            "{} {}: listed as an exception, but compose has no such flag",
            stale.0, stale.1
        ));
    }
    assert!(
        missing.is_empty(),
        "flags compose v2.40.3 accepts and orch does not (add them, or list them in tests/help_flags_exceptions.txt with the reason):\n  {}",
        missing.join("\n  ")
    );
}

/// The docker CLI's swarm groups, each command's flags against orch's.
#[test]
fn orch_accepts_every_flag_docker_has_for_swarm_commands() {
    let docker_help = |args: &[&str]| {
        help({
            let mut c = Command::new("docker");
            c.args(args).arg("--help");
            c
        })
    };
    // No root flags stand in for a command's own: clap prints the global
    // ones in every command's help, and the others (`-H/--host`) are not
    // accepted after the command (`service create --host` is docker's
    // extra-hosts flag).
    let globals = Flags::new();
    let allowed = exceptions("help_flags_swarm_exceptions.txt");
    let mut used = BTreeSet::new();
    let mut missing = Vec::new();
    let mut r = Report {
        allowed: &allowed,
        globals: &globals,
        used: &mut used,
        missing: &mut missing,
    };
    for group in ["swarm", "node", "service", "stack", "secret", "config"] {
        let commands = compose_commands(&docker_help(&[group]));
        assert!(commands.len() >= 4, "docker {group}'s commands not found");
        for cmd in &commands {
            let key = format!("{group}/{cmd}");
            if allowed.contains(&(key.clone(), "*".into())) {
                r.used.insert((key, "*".into()));
                continue;
            }
            let theirs = flags(&docker_help(&[group, cmd]));
            let ours_help = help({
                let mut c = orch();
                c.args([group, cmd, "--help"]);
                c
            });
            if ours_help.is_empty() {
                r.missing.push(format!("{key}: orch has no such command"));
                continue;
            }
            r.check(&key, theirs, &flags(&ours_help));
        }
    }
    for stale in allowed.difference(&used) {
        missing.push(format!(
            "{} {}: listed as an exception, but docker has no such flag",
            stale.0, stale.1
        ));
    }
    assert!(
        missing.is_empty(),
        "flags the docker CLI accepts and orch does not (add them, or list them in tests/help_flags_swarm_exceptions.txt with the reason):\n  {}",
        missing.join("\n  ")
    );
}

#[test]
fn help_lines_parse_into_flags_and_short_forms() {
    let f = flags("Options:\n  -p, --project-name string   Project name\n      --dry-run   Dry run\n  -T, --no-TTY   x [alias: --no-tty]\n");
    assert_eq!(f.get("project-name"), Some(&Some('p')));
    assert_eq!(f.get("dry-run"), Some(&None));
    assert_eq!(f.get("no-TTY"), Some(&Some('T')));
    assert_eq!(f.get("no-tty"), Some(&Some('T')));
    let cmds =
        compose_commands("Usage: x\n\nCommands:\n  attach      Attach\n  bridge*     Convert\n\nGlobal Flags:\n");
    assert_eq!(cmds, ["attach", "bridge"]);
}
