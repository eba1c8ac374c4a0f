//! Compose's commands that report on a project's resources and move data
//! in and out of its containers: volumes, cp, commit, export, events,
//! attach, stats. Each runs `stdlib/compose/<cmd>.rhai`; flags are compose
//! v2.40.3's (names, short forms, defaults).

use clap::{Arg, Command};

use super::flags::{flag, num, opt, services, table};

/// compose's `--format` help of the commands with docker's formatters.
const FORMAT_HELP: &str = "Format output using a custom template: 'table', 'table TEMPLATE', 'json', 'TEMPLATE'";

pub(super) fn commands() -> Vec<Command> {
    vec![
        Command::new("volumes")
            .about("List volumes")
            .arg(opt("format", FORMAT_HELP).default_value("table"))
            .arg(flag("quiet", Some('q'), "Only display volume names"))
            // It only reads: a dry run prints what it always prints.
            .arg(dry_run())
            .arg(services()),
        Command::new("cp")
            .about("Copy files/folders between a service container and the local filesystem")
            .args(table(&[
                ("--all", "Include containers created by the run command"),
                ("-a --archive", "Archive mode (copy all uid/gid information)"),
                ("-L --follow-link", "Always follow symbol link in SRC_PATH"),
                ("--index N", "Index of the container if service has multiple replicas"),
            ]))
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
        Command::new("commit")
            .about("Create a new image from a service container's changes")
            .args(table(&[
                (
                    "-a --author string",
                    "Author (e.g., \"John Hannibal Smith <hannibal@a-team.com>\")",
                ),
                ("-c --change list", "Apply Dockerfile instruction to the created image"),
                ("--index N", "index of the container if service has multiple replicas."),
                ("-m --message string", "Commit message"),
            ]))
            .arg(go_bool("pause", "Pause container during commit").short('p'))
            .arg(dry_run())
            .arg(Arg::new("service").required(true).value_name("SERVICE"))
            .arg(Arg::new("reference").value_name("REPOSITORY[:TAG]")),
        Command::new("export")
            .about("Export a service container's filesystem as a tar archive")
            .arg(num("index", "index of the container if service has multiple replicas."))
            .arg(opt("output", "Write to a file, instead of STDOUT").short('o'))
            .arg(dry_run())
            .arg(Arg::new("service").required(true).value_name("SERVICE")),
        Command::new("stats")
            .about("Display a live stream of container(s) resource usage statistics")
            .arg(flag(
                "all",
                Some('a'),
                "Show all containers (default shows just running)",
            ))
            .arg(opt("format", FORMAT_HELP))
            .arg(flag(
                "no-stream",
                None,
                "Disable streaming stats and only pull the first result",
            ))
            .arg(flag("no-trunc", None, "Do not truncate output"))
            .arg(dry_run())
            .arg(services()),
        Command::new("events")
            .about("Receive real time events from containers")
            .arg(flag("json", None, "Output events as a stream of json objects"))
            .arg(opt("since", "Show all events created since timestamp"))
            .arg(opt("until", "Stream events until this timestamp"))
            .arg(dry_run())
            .arg(services()),
        Command::new("attach")
            .about("Attach local standard input, output, and error streams to a service's running container")
            .arg(opt(
                "detach-keys",
                "Override the key sequence for detaching from a container.",
            ))
            .arg(num("index", "index of the container if service has multiple replicas."))
            .arg(flag("no-stdin", None, "Do not attach STDIN"))
            .arg(go_bool("sig-proxy", "Proxy all received signals to the process"))
            .arg(dry_run())
            .arg(Arg::new("service").required(true).value_name("SERVICE")),
    ]
}

/// A Go bool flag that defaults to true: `--pause`, `--pause=false`.
fn go_bool(name: &'static str, help: &'static str) -> Arg {
    opt(name, help)
        .num_args(0..=1)
        .require_equals(true)
        .default_value("true")
        .default_missing_value("true")
}

/// compose's `--dry-run`: say what would be done, do nothing.
pub(super) fn dry_run() -> Arg {
    flag("dry-run", None, "Execute command in dry run mode")
}
