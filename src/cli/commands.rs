//! The stdlib commands and their flags. A command declared here runs the
//! script of the same path under `stdlib/`: `orch image ls` runs
//! `stdlib/image/ls.rhai`; a top-level command (`orch up`) runs
//! `stdlib/compose/up.rhai`. To add a command: declare it here, write the
//! script. Flags follow Docker's names so muscle memory carries over.

use clap::{Arg, ArgAction, Command};

/// Folder of the stdlib scripts behind top-level commands.
pub const TOP_LEVEL_GROUP: &str = "compose";

fn flag(name: &'static str, short: Option<char>, help: &'static str) -> Arg {
    let a = Arg::new(name).long(name).action(ArgAction::SetTrue).help(help);
    match short {
        Some(c) => a.short(c),
        None => a,
    }
}

fn opt(name: &'static str, help: &'static str) -> Arg {
    Arg::new(name).long(name).value_name("VALUE").help(help)
}

fn multi(name: &'static str, help: &'static str) -> Arg {
    Arg::new(name)
        .long(name)
        .action(ArgAction::Append)
        .value_name("VALUE")
        .help(help)
}

fn ls(about: &'static str) -> Command {
    Command::new("ls")
        .visible_alias("list")
        .about(about)
        .arg(flag("quiet", Some('q'), "Only display IDs or names"))
        .arg(multi("filter", "Filter output based on conditions provided").short('f'))
        .arg(opt("format", "Output format: table or json").default_value("table"))
}

/// Adds every stdlib command to the root command.
pub fn add(root: Command) -> Command {
    root.subcommand(
        Command::new("container")
            .about("Manage containers")
            .subcommand_required(true)
            .subcommand(ls("List containers").arg(flag(
                "all",
                Some('a'),
                "Show all containers (default shows just running)",
            ))),
    )
    .subcommand(
        Command::new("image")
            .about("Manage images")
            .subcommand_required(true)
            .subcommand(ls("List images")),
    )
    .subcommand(
        Command::new("network")
            .about("Manage networks")
            .subcommand_required(true)
            .subcommand(ls("List networks")),
    )
    .subcommand(
        Command::new("volume")
            .about("Manage volumes")
            .subcommand_required(true)
            .subcommand(ls("List volumes")),
    )
}
