//! Compose's commands that report on a project's resources and move data
//! in and out of its containers: volumes, cp, commit, export, events,
//! attach, stats. Each runs `stdlib/compose/<cmd>.rhai`; flags are compose
//! v2.40.3's (names, short forms, defaults).

use clap::Command;

use super::flags::{flag, opt, services};

/// compose's `--format` help of the commands with docker's formatters.
const FORMAT_HELP: &str = "Format output using a custom template: 'table', 'table TEMPLATE', 'json', 'TEMPLATE'";

pub(super) fn commands() -> Vec<Command> {
    vec![Command::new("volumes")
        .about("List volumes")
        .arg(opt("format", FORMAT_HELP).default_value("table"))
        .arg(flag("quiet", Some('q'), "Only display volume names"))
        .arg(services())]
}
