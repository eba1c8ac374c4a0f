//! Compose's `run`: a one-off container of a service, with compose
//! v2.40.3's flags (names, short forms, defaults). `orch run` is this when
//! its first argument is not a script (see `cli::script_run`); the command
//! itself is `stdlib/compose/run.rhai`.

use clap::{Arg, Command};

use super::flags::{flag, multi, opt};

/// The `run` command and its flags.
pub fn compose_run() -> Command {
    Command::new("run")
        .about("Run a one-off command on a service")
        .arg(flag(
            "detach",
            Some('d'),
            "Run container in background and print container ID",
        ))
        .arg(flag("rm", None, "Automatically remove the container when it exits"))
        .arg(opt("name", "Assign a name to the container"))
        .arg(multi("env", "Set environment variables").short('e'))
        .arg(multi("env-from-file", "Set environment variables from file"))
        .arg(multi("label", "Add or override a label").short('l'))
        .arg(opt("user", "Run as specified username or uid").short('u'))
        .arg(opt("workdir", "Working directory inside the container").short('w'))
        .arg(opt("entrypoint", "Override the entrypoint of the image"))
        .arg(multi("cap-add", "Add Linux capabilities"))
        .arg(multi("cap-drop", "Drop Linux capabilities"))
        .arg(multi("volume", "Bind mount a volume").short('v'))
        .arg(multi("publish", "Publish a container's port(s) to the host").short('p'))
        .arg(flag("no-deps", None, "Don't start linked services"))
        .arg(flag(
            "service-ports",
            Some('P'),
            "Run command with all service's ports enabled and mapped to the host",
        ))
        .arg(flag(
            "use-aliases",
            None,
            "Use the service's network aliases in the network(s) the container connects to",
        ))
        .arg(flag("build", None, "Build image before starting container"))
        .arg(flag("no-build", None, "Don't build an image, even if it's missing"))
        .arg(flag("quiet", Some('q'), "Don't print anything to STDOUT"))
        .arg(flag(
            "quiet-build",
            None,
            "Suppress progress output from the build process",
        ))
        .arg(flag("quiet-pull", None, "Pull without printing progress information"))
        .arg(opt(
            "pull",
            "Pull image before running (\"always\"|\"missing\"|\"never\") (default \"policy\")",
        ))
        .arg(flag(
            "remove-orphans",
            None,
            "Remove containers for services not defined in the Compose file",
        ))
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
