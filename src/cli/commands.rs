//! The stdlib commands and their flags. A command declared here runs the
//! script of the same path under `stdlib/`: `orch image ls` runs
//! `stdlib/image/ls.rhai`; a top-level command (`orch up`) runs
//! `stdlib/compose/up.rhai`. To add a command: declare it here, write the
//! script. Flags follow Docker's names so muscle memory carries over.

use clap::{Arg, ArgAction, Command};

use super::flags::{flag, ls, multi, num, one_or_more, opt, positional, services, table, timeout};

/// Folder of the stdlib scripts behind top-level commands.
pub const TOP_LEVEL_GROUP: &str = "compose";

/// The stdlib script behind `orch COMMAND` (`compose/COMMAND.rhai`) or
/// `orch GROUP SUB` (`GROUP/SUB.rhai`).
pub fn script_path(command: &str, sub: Option<&str>) -> String {
    match sub {
        Some(sub) => format!("{command}/{sub}.rhai"),
        None => format!("{TOP_LEVEL_GROUP}/{command}.rhai"),
    }
}

/// Compose's global flags. They sit on the root command, not marked
/// global: `orch -p demo up` as with `docker compose -p demo up`, while
/// `orch service create -p 80:80` keeps Docker's meaning of `-p`.
fn compose_globals() -> Vec<Arg> {
    let h = "Compose project";
    vec![
        multi("file", "Compose configuration files").short('f').help_heading(h),
        // As Go's pflag: `-p -x` takes `-x` as the value (then rejected as
        // a name), and a repeated `-p` is no error, the last one wins.
        opt("project-name", "Project name")
            .short('p')
            .allow_hyphen_values(true)
            .overrides_with("project-name")
            .help_heading(h),
        multi("profile", "Specify a profile to enable").help_heading(h),
        multi("env-file", "Specify an alternate environment file").help_heading(h),
        opt(
            "project-directory",
            "Specify an alternate working directory (default: the path of the first compose file)",
        )
        .help_heading(h),
        opt("progress", "Set type of progress output")
            .value_parser(["auto", "tty", "plain", "json", "quiet"])
            .help_heading(h),
        opt("ansi", "Control when to print ANSI control characters")
            .value_parser(["never", "always", "auto"])
            .default_value("auto")
            .help_heading(h),
        // No clap default: compose's -1 (unlimited) is told apart from a
        // value given, which wins over COMPOSE_PARALLEL_LIMIT. As with
        // compose, `--parallel -1` is refused (a flag, not a value) and
        // `--parallel=-1` taken.
        num("parallel", "Control max parallelism, -1 for unlimited (default -1)").help_heading(h),
        flag("compatibility", None, "Run compose in backward compatibility mode").help_heading(h),
        flag("dry-run", None, "Execute command in dry run mode").help_heading(h),
        flag(
            "all-resources",
            None,
            "Include all resources, even those not used by services",
        )
        .help_heading(h),
    ]
}

/// Flags shared by the commands that converge a project (up, create, plan).
fn converge_flags(c: Command) -> Command {
    c.args(table(&[
        ("--build", "Build images before starting containers"),
        ("--no-build", "Don't build an image, even if it's missing"),
        (
            "--force-recreate",
            "Recreate containers even if their configuration and image haven't changed",
        ),
        ("--no-recreate", "If containers already exist, don't recreate them"),
        ("--no-deps", "Don't start linked services"),
        ("--always-recreate-deps", "Recreate dependent containers"),
        (
            "--remove-orphans",
            "Remove containers for services not defined in the Compose file",
        ),
        ("--scale list", "Scale SERVICE to NUM instances (SERVICE=NUM)"),
        (
            "-y --yes",
            "Assume \"yes\" as answer to all prompts and run non-interactively",
        ),
    ]))
    .arg(services())
}

/// compose's `--quiet-pull` of up and create. orch prints no per-layer
/// pull progress (compose's only difference), so it has nothing to hide.
fn quiet_pull() -> Arg {
    flag("quiet-pull", None, "Pull without printing progress information")
}

fn compose_commands() -> Vec<Command> {
    [
        converge_commands(),
        project_commands(),
        lifecycle_commands(),
        image_commands(),
        container_commands(),
        super::container_commands::commands(),
    ]
    .concat()
}

/// The commands that converge a project and watch it.
fn converge_commands() -> Vec<Command> {
    vec![
        Command::new("watch")
            .about("Deploy, then redeploy on every save of the project's files, only what changed")
            .args(table(&[("--no-up", "Do not build & start services before watching"), ("--prune bool", "Prune dangling images on rebuild (default true)"), ("--quiet", "Print nothing but errors"), ("--down-on-exit", "Remove the project's containers and networks when the watch ends"),]))
            .arg(
                Arg::new("debounce")
                    .long("debounce")
                    .value_name("SECONDS")
                    .value_parser(|s: &str| -> Result<f64, String> {
                        let secs: f64 = s.parse().map_err(|_| format!("{s:?} is not a number of seconds"))?;
                        crate::units::seconds(secs).map_err(|e| e.to_string())?;
                        Ok(secs)
                    })
                    .default_value("0.1")
                    .help("How long saves must pause before a redeploy (a burst of saves is one redeploy)"),
            )
            .arg(Arg::new("services").num_args(0..).value_name("SERVICE")),
        Command::new("autoscale")
            .about("Scale services by rules (x-orch-autoscale in the compose file, or a rules script), as Kubernetes' HPA does")
            .args(table(&[("--dry-run", "Print the decisions, scale nothing"), ("--once", "Evaluate every rule once, then exit"), ("--interval string", "Seconds between evaluations (default: the first rule's interval, else 15)"), ("--host list", "Engine or swarm manager to talk to; repeat to give managers to fail over to"), ("--node-host list", "Engine address of a swarm node, NODE=HOST (default: a docker context named after the node, else its orch.engine label)"), ("--format string", "Decision lines as text (default) or json"),]))
            .arg(multi("service", "Only these services' rules (compose file rules)").id("services"))
            .arg(Arg::new("rules").value_name("RULES.rhai").help("A script whose fn rules() returns the rules")),
        converge_flags(Command::new("up").about("Create and start containers"))
            .arg(flag(
                "detach",
                Some('d'),
                "Detached mode: run containers in the background",
            ))
            .arg(flag(
                "wait",
                None,
                "Wait for services to be running|healthy. Implies detached mode",
            ))
            .arg(num(
                "wait-timeout",
                "Maximum duration in seconds to wait for the project to be running|healthy",
            ))
            .arg(timeout())
            .args(table(&[("--abort-on-container-exit", "Stops all containers if any container was stopped. Incompatible with -d"), ("--abort-on-container-failure", "Stops all containers if any container exited with failure. Incompatible with -d"), ("--exit-code-from string", "Return the exit code of the selected service container. Implies --abort-on-container-exit"), ("--attach list", "Restrict attaching to the specified services. Incompatible with --attach-dependencies."), ("--no-attach list", "Do not attach (stream logs) to the specified services"), ("--attach-dependencies", "Automatically attach to log output of dependent services"), ("--timestamps", "Show timestamps"), ("--no-start", "Don't start the services after creating them"), ("--no-color", "Produce monochrome output"), ("--no-log-prefix", "Don't print prefix in logs"), ("-V --renew-anon-volumes", "Recreate anonymous volumes instead of retrieving data from the previous containers"), ("-w --watch", "Watch source code and rebuild/refresh containers when files are updated."),]))
            .arg(quiet_pull())
            .arg(opt("pull", "Pull image before running (\"always\"|\"missing\"|\"never\") (default \"policy\")"))
            .arg(flag("quiet-build", None, "Suppress the build output"))
            .arg(super::flags::bool_opt(
                "menu",
                "Enable interactive shortcuts when running attached. Incompatible with --detach. Can also be enable/disable by setting COMPOSE_MENU environment var.",
            )),
        converge_flags(Command::new("create").about("Creates containers for a service"))
            .arg(quiet_pull())
            .arg(opt(
                "pull",
                "Pull image before running (\"always\"|\"missing\"|\"never\"|\"build\") (default \"policy\")",
            )),
        converge_flags(Command::new("plan").about("Show what `up` would change, changing nothing")),
    ]
}

/// The commands that read a project or the projects: config, ps, images, ls, version.
fn project_commands() -> Vec<Command> {
    vec![
        Command::new("config")
            .about("Parse, resolve and render compose file in canonical format")
            .after_help("`orch config create|inspect|ls|rm` (or `list`, `remove`) right after `config` manage swarm configs, as `docker config` does; a compose service of such a name: `orch config -- ls`.")
            .args(table(&[("--format string", "Format the output. Values: [yaml | json]"), ("--services", "Print the service names, one per line"), ("--volumes", "Print the volume names, one per line"), ("--networks", "Print the network names, one per line"), ("--profiles", "Print the profile names, one per line"), ("--images", "Print the image names, one per line"), ("--resolve-image-digests", "Pin image tags to digests"), ("--lock-image-digests", "Produces an override file with image digests"), ("--hash string", "Print the service config hash, one per line (\"*\" for all)"), ("-q --quiet", "Only validate the configuration, don't print anything"), ("--no-interpolate", "Don't interpolate environment variables"), ("--no-normalize", "Don't normalize compose model"), ("--no-path-resolution", "Don't resolve file paths"),]))
            // compose's loader has resolved the env files and the
            // value-less variables already: its flag changes nothing.
            .args(table(&[("--no-env-resolution", "Don't resolve service env files"), ("--no-consistency", "Don't check model consistency - warning: may produce invalid Compose output"), ("--variables", "Print model variables and default values"), ("--environment", "Print environment used for interpolation"), ("-o --output string", "Save to file (default to stdout)"),]))
            .arg(Arg::new("service-names").num_args(0..).value_name("SERVICE")),
        Command::new("ps")
            .about("List containers")
            .args(table(&[("-a --all", "Show all stopped containers (including those created by the run command)"), ("-q --quiet", "Only display IDs"), ("--services", "Display services"), ("--filter string", "Filter services by a property (supported filters: status)"), ("--status list", "Filter services by status. Values: [paused | restarting | removing | running | dead | created | exited]"), ("--no-trunc", "Don't truncate output"),]))
            .arg(
                opt("orphans", "Include orphaned services (not declared by project)")
                    .num_args(0..=1)
                    .require_equals(true)
                    .default_value("true")
                    .default_missing_value("true"),
            )
            .arg(opt("format", "Format output using a custom template: 'table', 'table TEMPLATE', 'json', 'TEMPLATE'").default_value("table"))
            .arg(Arg::new("service-names").num_args(0..).value_name("SERVICE")),
        Command::new("images")
            .about("List images used by the created containers")
            .arg(flag("quiet", Some('q'), "Only display IDs"))
            .arg(opt("format", "Format the output: table or json").default_value("table"))
            .arg(services()),
        Command::new("ls")
            .about("List running compose projects")
            .args(table(&[("-a --all", "Show all stopped Compose projects"), ("-q --quiet", "Only display project names"), ("--filter list", "Filter output based on conditions provided"), ("--format string=table", "Format the output. Values: [table | json]"),])),
        Command::new("version")
            .about("Show the orch version information")
            .arg(opt("format", "Format the output. Values: [pretty | json]. (Default: pretty)").short('f'))
            .arg(flag("short", None, "Shows only orch's version number")),
    ]
}

/// The commands that start, stop and remove containers.
fn lifecycle_commands() -> Vec<Command> {
    vec![
        Command::new("down")
            .about("Stop and remove containers, networks")
            .arg(flag(
                "volumes",
                Some('v'),
                "Remove named volumes declared in the volumes section and anonymous volumes attached to containers",
            ))
            .arg(
                opt(
                    "rmi",
                    "Remove images used by services: local (only images without a custom tag) or all",
                )
                .value_parser(["local", "all"]),
            )
            .arg(flag(
                "remove-orphans",
                None,
                "Remove containers for services not defined in the Compose file",
            ))
            .arg(timeout())
            .arg(services()),
        Command::new("start").about("Start services").arg(services()),
        Command::new("stop")
            .about("Stop services")
            .arg(timeout())
            .arg(services()),
        Command::new("restart")
            .about("Restart service containers")
            .arg(timeout())
            .arg(flag("no-deps", None, "Don't restart dependent services"))
            .arg(services()),
        Command::new("kill")
            .about("Force stop service containers")
            .arg(
                opt("signal", "SIGNAL to send to the container")
                    .short('s')
                    .default_value("SIGKILL"),
            )
            .arg(flag(
                "remove-orphans",
                None,
                "Remove containers for services not defined in the Compose file",
            ))
            .arg(services()),
        Command::new("scale")
            .about("Scale services")
            .arg(flag("no-deps", None, "Don't start linked services"))
            .arg(
                Arg::new("replicas")
                    .num_args(1..)
                    .required(true)
                    .value_name("SERVICE=REPLICAS"),
            ),
        Command::new("pause").about("Pause services").arg(services()),
        Command::new("unpause").about("Unpause services").arg(services()),
        Command::new("rm")
            .about("Removes stopped service containers")
            .arg(flag("force", Some('f'), "Don't ask to confirm removal"))
            .arg(flag(
                "stop",
                Some('s'),
                "Stop the containers, if required, before removing",
            ))
            .arg(flag(
                "volumes",
                Some('v'),
                "Remove any anonymous volumes attached to containers",
            ))
            .arg(services()),
    ]
}

/// The commands that make or fetch images.
fn image_commands() -> Vec<Command> {
    vec![
        Command::new("build")
            .about("Build or rebuild services")
            .args(table(&[
                ("--no-cache", "Do not use cache when building the image"),
                ("--build-arg list", "Set build-time variables for services"),
                ("--pull", "Always attempt to pull a newer version of the image"),
                ("-q --quiet", "Don't print anything to STDOUT"),
                ("--push", "Push service images"),
                ("--print", "Print equivalent bake file"),
                ("--check", "Check build configuration"),
                ("--with-dependencies", "Also build dependencies (transitively)"),
            ]))
            .arg(
                opt(
                    "memory",
                    "Set memory limit for the build container. Not supported by BuildKit.",
                )
                .short('m')
                .value_name("bytes"),
            )
            .arg(services()),
        Command::new("pull")
            .about("Pull service images")
            .args(table(&[
                (
                    "--ignore-pull-failures",
                    "Pull what it can and ignores images with pull failures",
                ),
                ("-q --quiet", "Pull without printing progress information"),
                ("--ignore-buildable", "Ignore images that can be built"),
                ("--include-deps", "Also pull services declared as dependencies"),
                ("--policy string", "Apply pull policy (\"missing\"|\"always\")"),
            ]))
            .arg(services()),
        Command::new("push")
            .about("Push service images")
            .arg(flag(
                "ignore-push-failures",
                None,
                "Push what it can and ignores images with push failures",
            ))
            .arg(flag(
                "include-deps",
                None,
                "Also push images of services declared as dependencies",
            ))
            .arg(flag("quiet", Some('q'), "Push without printing progress information"))
            .arg(services()),
        Command::new("publish")
            .about("Publish compose application")
            .args(table(&[
                ("--app", "Published compose application (includes referenced images)"),
                (
                    "--oci-version string",
                    "OCI image/artifact specification version (automatically determined by default)",
                ),
                ("--resolve-image-digests", "Pin image tags to digests"),
                (
                    "--with-env",
                    "Include environment variables in the published OCI artifact",
                ),
                ("-y --yes", "Assume \"yes\" as answer to all prompts"),
            ]))
            .arg(Arg::new("repository").required(true).value_name("REPOSITORY[:TAG]")),
    ]
}

/// The commands that look into or run in containers.
fn container_commands() -> Vec<Command> {
    vec![
        Command::new("logs")
            .about("View output from containers")
            .arg(flag("follow", Some('f'), "Follow log output"))
            .arg(
                opt(
                    "tail",
                    "Number of lines to show from the end of the logs for each container",
                )
                .short('n')
                .default_value("all"),
            )
            .args(table(&[
                ("-t --timestamps", "Show timestamps"),
                (
                    "--since string",
                    "Show logs since timestamp (e.g. 2013-01-02T13:23:37Z) or relative (e.g. 42m for 42 minutes)",
                ),
                (
                    "--until string",
                    "Show logs before a timestamp (e.g. 2013-01-02T13:23:37Z) or relative (e.g. 42m for 42 minutes)",
                ),
                ("--no-color", "Produce monochrome output"),
                ("--no-log-prefix", "Don't print prefix in logs"),
                ("--index N", "index of the container if service has multiple replicas"),
            ]))
            .arg(services()),
        Command::new("top")
            .about("Display the running processes")
            .arg(services()),
        Command::new("port")
            .about("Print the public port for a port binding")
            .arg(opt("protocol", "tcp or udp").default_value("tcp"))
            .arg(num("index", "Index of the container if service has multiple replicas"))
            .arg(Arg::new("service").required(true))
            .arg(Arg::new("private_port").required(true).value_name("PRIVATE_PORT")),
        Command::new("exec")
            .about("Execute a command in a running container")
            .args(table(&[
                ("-d --detach", "Detached mode: Run command in the background"),
                ("-e --env list", "Set environment variables"),
                ("-u --user string", "Run the command as this user"),
                ("-w --workdir string", "Path to workdir directory for this command"),
                ("--privileged", "Give extended privileges to the process"),
                ("--index N=1", "Index of the container if service has multiple replicas"),
            ]))
            .arg(
                flag(
                    "no-TTY",
                    Some('T'),
                    "Disable pseudo-TTY allocation. By default 'orch exec' allocates a TTY when stdin is a terminal",
                )
                // compose's exec spells it --no-tty (its run --no-TTY).
                .visible_alias("no-tty"),
            )
            .arg(Arg::new("service").required(true))
            .arg(
                Arg::new("command")
                    .num_args(1..)
                    .required(true)
                    .trailing_var_arg(true)
                    .allow_hyphen_values(true),
            ),
        super::rollout_command::rollout(),
        Command::new("wait")
            .about("Block until containers of all (or specified) services stop")
            .arg(flag(
                "down-project",
                None,
                "Drops project when the first container stops",
            ))
            .arg(services()),
    ]
}

/// Every compose command takes compose's `--dry-run` (a global flag
/// there, shown in each command's help): those that change something
/// report what they would do and send the engine nothing; those that only
/// read print what they always print, as compose's dry run does.
/// orch's own commands without a dry run (compose has no such command).
pub(super) const NO_DRY_RUN: &[&str] = &["rollout"];

/// Commands that run for days as controllers, waiting most of the time
/// (`orch autoscale`), rather than once: every start-up speed-up of a
/// one-shot command (an engine built beside the parse, worker threads,
/// the command tree freed on a thread of its own) would cost them memory
/// for their whole life, each extra thread keeping a stack and a malloc
/// arena. They run on the main thread's runtime with one arena
/// (`Runtime::MainThread`).
pub(super) const CONTROLLERS: &[&str] = &["autoscale"];

fn with_dry_run(c: Command) -> Command {
    if NO_DRY_RUN.contains(&c.get_name()) || c.get_arguments().any(|a| a.get_id() == "dry-run") {
        c
    } else {
        c.arg(super::container_commands::dry_run())
    }
}

/// Adds every stdlib command to the root command; compose's own commands
/// only when `compose` (see `cli::command_for`).
pub fn add(root: Command, compose: bool) -> Command {
    let root = root.args(compose_globals());
    let root = if compose {
        root.subcommands(compose_commands().into_iter().map(with_dry_run))
    } else {
        root
    };
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
                .subcommand(ls("List images"))
                .subcommand(
                    Command::new("push-nodes")
                        .about("Copy images from this engine to every swarm node that lacks them (no registry needed)")
                        .arg(
                            Arg::new("node-host")
                                .long("node-host")
                                .action(ArgAction::Append)
                                .value_name("NODE=HOST")
                                .help(
                                    "Engine address of a node (default: a docker context named after the node, else its orch.engine label)",
                                ),
                        )
                        .arg(one_or_more("images", "IMAGE")),
                ),
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
        .subcommand(context_group())
}

/// `orch context`: the docker CLI's contexts, read and selected through
/// its own files (creating one stays `docker context create`'s job).
fn context_group() -> Command {
    Command::new("context")
        .about("Manage contexts (the docker CLI's, from $DOCKER_CONFIG/contexts)")
        .subcommand_required(true)
        .subcommand(
            Command::new("ls")
                .visible_alias("list")
                .about("List contexts")
                .arg(flag("quiet", Some('q'), "Only show context names"))
                .arg(opt("format", "Output format: table or json").default_value("table")),
        )
        .subcommand(Command::new("show").about("Print the name of the current context"))
        .subcommand(
            Command::new("use")
                .about("Set the current docker context")
                .arg(positional("context_name", "The context").value_name("CONTEXT")),
        )
        .subcommand(
            Command::new("inspect")
                .about("Display detailed information on one or more contexts")
                .arg(Arg::new("names").num_args(0..).value_name("CONTEXT")),
        )
}
