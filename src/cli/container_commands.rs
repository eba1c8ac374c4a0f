//! Compose's commands that report on a project's resources and move data
//! in and out of its containers: volumes, cp, commit, export, events,
//! attach, stats. Each runs `stdlib/compose/<cmd>.rhai`; flags are compose
//! v2.40.3's (names, short forms, defaults).

use clap::{Arg, Command};

use super::flags::{flag, num, opt, services};

/// compose's `--format` help of the commands with docker's formatters.
const FORMAT_HELP: &str = "Format output using a custom template: 'table', 'table TEMPLATE', 'json', 'TEMPLATE'";

pub(super) fn commands() -> Vec<Command> {
    vec![
        Command::new("volumes")
            .about("List volumes")
            .arg(opt("format", FORMAT_HELP).default_value("table"))
            .arg(flag("quiet", Some('q'), "Only display volume names"))
            .arg(services()),
        Command::new("cp")
            .about("Copy files/folders between a service container and the local filesystem")
            .arg(flag("all", None, "Include containers created by the run command"))
            .arg(flag(
                "archive",
                Some('a'),
                "Archive mode (copy all uid/gid information)",
            ))
            .arg(flag("follow-link", Some('L'), "Always follow symbol link in SRC_PATH"))
            .arg(num("index", "Index of the container if service has multiple replicas"))
            .arg(dry_run())
            .arg(
                Arg::new("source")
                    .required(true)
                    .allow_hyphen_values(true)
                    .value_name("SERVICE:SRC_PATH|SRC_PATH|-"),
            )
            .arg(
                Arg::new("destination")
                    .required(true)
                    .allow_hyphen_values(true)
                    .value_name("DEST_PATH|-|SERVICE:DEST_PATH"),
            ),
    ]
}

/// compose's `--dry-run`: say what would be done, do nothing.
fn dry_run() -> Arg {
    flag("dry-run", None, "Execute command in dry run mode")
}
