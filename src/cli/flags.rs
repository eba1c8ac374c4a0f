//! The flag builders both command tables use (`commands.rs` for compose
//! and Docker's object groups, `swarm.rs` for the swarm groups), so a flag
//! of a given kind reads and parses the same everywhere.

use clap::{Arg, ArgAction, Command};

/// `name` as a flag's id and long form.
fn named(name: &str) -> Arg {
    Arg::new(name.to_string()).long(name.to_string())
}

/// A boolean flag, `--name` (and `-c`).
pub(super) fn flag(name: &str, short: Option<char>, help: &'static str) -> Arg {
    let a = named(name).action(ArgAction::SetTrue).help(help);
    match short {
        Some(c) => a.short(c),
        None => a,
    }
}

/// `--name[=true|false]`: given alone it means true; the script gets
/// `"true"`, `"false"` or `()` when the flag is absent, so `service
/// update --init=false` can turn a setting off.
pub(super) fn bool_opt(name: &'static str, help: &'static str) -> Arg {
    Arg::new(name)
        .long(name)
        .num_args(0..=1)
        .require_equals(true)
        .default_missing_value("true")
        .value_parser(clap::value_parser!(bool))
        .value_name("BOOL")
        .help(help)
}

/// A flag with a value.
pub(super) fn opt(name: &str, help: &'static str) -> Arg {
    named(name).value_name("VALUE").help(help)
}

/// A flag that may be repeated; every value is kept.
pub(super) fn multi(name: &str, help: &'static str) -> Arg {
    named(name).action(ArgAction::Append).value_name("VALUE").help(help)
}

/// A flag with an integer value, checked by clap.
pub(super) fn num(name: &str, help: &'static str) -> Arg {
    named(name)
        .value_name("N")
        .value_parser(clap::value_parser!(i64))
        .help(help)
}

/// A Docker CLI duration flag (`--update-delay 10s`): Go's
/// `time.ParseDuration`, so `1d` is refused as docker refuses it (compose
/// files take days and weeks; the docker CLI's flags do not). The script
/// gets the text as given.
pub(super) fn go_duration(name: &str, help: &'static str) -> Arg {
    named(name)
        .value_name("duration")
        .value_parser(|s: &str| {
            crate::units::parse_go_duration(s)
                .map(|_| s.to_string())
                .map_err(|e| e.to_string())
        })
        .help(help)
}

/// A PEM file flag (`--ca-cert FILE`): read and checked as docker's
/// PEMFile flag does, so the script gets the file's contents.
pub(super) fn pem_file(name: &'static str, help: &'static str) -> Arg {
    named(name)
        .value_name("pem-file")
        .value_parser(|path: &str| {
            let text = std::fs::read_to_string(path).map_err(|e| format!("open {path}: {e}"))?;
            if text.contains("-----BEGIN ") {
                Ok(text)
            } else {
                Err("file contents must be in PEM format".to_string())
            }
        })
        .help(help)
}

/// Flags written as data, one `(spec, help)` row each, the spec as
/// docker's `--help` lists a flag: `"-e --env list"`. The kind word says
/// how the value parses: none (a boolean flag), `string`, `list`
/// (repeatable), `N` (an integer), `duration` (Go's), `bool`
/// (`--name[=BOOL]`) or `pem-file`; `=DEFAULT` after it gives a default
/// (`"--format string=table"`). Long flag lists read as tables this way,
/// not as chains of builder calls.
pub(super) fn table(rows: &[(&'static str, &'static str)]) -> Vec<Arg> {
    rows.iter().map(|&(spec, help)| from_spec(spec, help)).collect()
}

/// One row of [`table`]. A malformed spec is a mistake in orch's own
/// tables, caught by the unit test that builds every command.
fn from_spec(spec: &'static str, help: &'static str) -> Arg {
    let (mut short, mut long, mut kind) = (None, "", "");
    for word in spec.split(' ') {
        if let Some(name) = word.strip_prefix("--") {
            long = name;
        } else if let Some(letter) = word.strip_prefix('-') {
            short = letter.chars().next();
        } else {
            kind = word;
        }
    }
    let (kind, default) = match kind.split_once('=') {
        Some((kind, default)) => (kind, Some(default)),
        None => (kind, None),
    };
    let arg = match kind {
        "" => flag(long, None, help),
        "string" => opt(long, help),
        "list" => multi(long, help),
        "N" => num(long, help),
        "duration" => go_duration(long, help),
        "bool" => bool_opt(long, help),
        "pem-file" => pem_file(long, help),
        other => panic!("flag spec {spec:?}: unknown kind {other:?}"),
    };
    let arg = match short {
        Some(c) => arg.short(c),
        None => arg,
    };
    match default {
        Some(value) => arg.default_value(value),
        None => arg,
    }
}

/// A required positional argument.
pub(super) fn positional(name: &'static str, help: &'static str) -> Arg {
    Arg::new(name).required(true).help(help)
}

/// One or more required positional values (`NODE...`).
pub(super) fn one_or_more(name: &'static str, value_name: &'static str) -> Arg {
    Arg::new(name).num_args(1..).required(true).value_name(value_name)
}

/// `-f/--filter`, Docker's repeatable filter.
pub(super) fn filter() -> Arg {
    multi("filter", "Filter output based on conditions provided").short('f')
}

/// `-q/--quiet`.
pub(super) fn quiet(help: &'static str) -> Arg {
    flag("quiet", Some('q'), help)
}

/// `-d/--detach[=BOOL]` of the swarm commands that wait for convergence
/// (false unless given; `--detach=false` as docker takes it).
pub(super) fn detach() -> Arg {
    bool_opt(
        "detach",
        "Exit immediately instead of waiting for the service to converge",
    )
    .short('d')
    .default_value("false")
}

/// An `ls` (alias `list`) with Docker's `-q`, `-f` and `--format`.
pub(super) fn ls(about: impl Into<String>) -> Command {
    Command::new("ls")
        .visible_alias("list")
        .about(about.into())
        .arg(flag("quiet", Some('q'), "Only display IDs or names"))
        .arg(filter())
        .arg(opt("format", "Output format: table or json").default_value("table"))
}

/// The optional service names most compose commands take.
pub(super) fn services() -> Arg {
    Arg::new("services")
        .num_args(0..)
        .value_name("SERVICE")
        .help("Services (default: all)")
}

/// `-t/--timeout` of the commands that stop containers.
pub(super) fn timeout() -> Arg {
    num("timeout", "Seconds to wait for containers to stop before killing them").short('t')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_spec_row_is_the_builder_it_names() {
        let rows = table(&[
            ("-e --env list", "env"),
            ("--tail string=all", "tail"),
            ("-d --detach bool=false", "detach"),
            ("--force", "force"),
        ]);
        let cmd = Command::new("t").args(rows).no_binary_name(true);
        let m = cmd
            .try_get_matches_from(["-e", "A=1", "--env", "B=2", "-d", "--force"])
            .unwrap();
        let env: Vec<&String> = m.get_many("env").unwrap().collect();
        assert_eq!(env, ["A=1", "B=2"]);
        assert_eq!(m.get_one::<String>("tail").unwrap(), "all");
        assert!(m.get_one::<bool>("detach").unwrap());
        assert!(m.get_flag("force"));
    }

    #[test]
    #[should_panic(expected = "unknown kind")]
    fn an_unknown_kind_is_caught() {
        table(&[("--x strng", "typo")]);
    }
}
