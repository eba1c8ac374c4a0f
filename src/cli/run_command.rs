//! Compose's `run`: a one-off container of a service, with compose
//! v2.40.3's flags (names, short forms, defaults). `orch run` is this when
//! its first argument is not a script (see `cli::script_run`); the command
//! itself is `stdlib/compose/run.rhai`.

use clap::{Arg, Command};

use super::flags::{flag, opt, table};

/// The `run` command and its flags.
pub fn compose_run() -> Command {
    Command::new("run")
        .about("Run a one-off command on a service")
        .args(table(&[
            ("-d --detach", "Run container in background and print container ID"),
            ("--rm", "Automatically remove the container when it exits"),
            ("--name string", "Assign a name to the container"),
            ("-e --env list", "Set environment variables"),
            ("--env-from-file list", "Set environment variables from file"),
            ("-l --label list", "Add or override a label"),
            ("-u --user string", "Run as specified username or uid"),
            ("-w --workdir string", "Working directory inside the container"),
            ("--entrypoint string", "Override the entrypoint of the image"),
            ("--cap-add list", "Add Linux capabilities"),
            ("--cap-drop list", "Drop Linux capabilities"),
            ("-v --volume list", "Bind mount a volume"),
            ("-p --publish list", "Publish a container's port(s) to the host"),
            ("--no-deps", "Don't start linked services"),
            (
                "-P --service-ports",
                "Run command with all service's ports enabled and mapped to the host",
            ),
            (
                "--use-aliases",
                "Use the service's network aliases in the network(s) the container connects to",
            ),
            ("--build", "Build image before starting container"),
            ("--no-build", "Don't build an image, even if it's missing"),
            ("-q --quiet", "Don't print anything to STDOUT"),
            ("--quiet-build", "Suppress progress output from the build process"),
            ("--quiet-pull", "Pull without printing progress information"),
            (
                "--pull string",
                "Pull image before running (\"always\"|\"missing\"|\"never\") (default \"policy\")",
            ),
            (
                "--remove-orphans",
                "Remove containers for services not defined in the Compose file",
            ),
        ]))
        .arg(
            // A Go bool flag, true unless `-i=false`, as compose's.
            opt("interactive", "Keep STDIN open even if not attached")
                .short('i')
                .num_args(0..=1)
                .require_equals(true)
                .default_value("true")
                .default_missing_value("true"),
        )
        .arg(flag(
            "no-TTY",
            Some('T'),
            "Disable pseudo-TTY allocation (default: auto-detected)",
        ))
        .arg(Arg::new("service").required(true))
        .arg(
            Arg::new("command")
                .num_args(0..)
                .trailing_var_arg(true)
                .allow_hyphen_values(true),
        )
}
