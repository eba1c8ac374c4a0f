//! Flags of the swarm commands (`orch swarm|node|service …`), named as
//! Docker's CLI names them. Each runs `stdlib/<group>/<command>.rhai`.

use clap::{Arg, ArgAction, Command};

use super::flags::{detach, filter, flag, multi, one_or_more, opt, positional, quiet, table};

/// The options `service create` and `service update` share.
fn service_spec_args(cmd: Command) -> Command {
    let cmd = cmd.args(table(&[
        ("--replicas N", "Number of tasks"),
        (
            "--max-concurrent N",
            "Number of job tasks to run concurrently (default equal to --replicas; service update takes it and, as docker, ignores it)",
        ),
        ("-e --env list", "Set environment variables"),
        ("-l --label list", "Service labels"),
        ("--container-label list", "Container labels"),
        ("--constraint list", "Placement constraints"),
        ("--placement-pref list", "Add a placement preference"),
        ("--replicas-max-per-node N", "Maximum number of tasks per node (default 0 = unlimited)"),
        ("-p --publish list", "Publish a port as a node port"),
        ("--mount list", "Attach a filesystem mount to the service"),
        ("-u --user string", "Username or UID (format: <name|uid>[:<group|gid>])"),
        ("-w --workdir string", "Working directory inside the container"),
        ("--entrypoint string", "Overwrite the default ENTRYPOINT of the image"),
        ("--hostname string", "Container hostname"),
        ("--endpoint-mode string", "Endpoint mode (vip or dnsrr)"),
        ("--restart-condition string", "Restart when condition is met (none, on-failure, any)"),
        ("--restart-max-attempts N", "Maximum number of restarts before giving up"),
        ("--restart-delay duration", "Delay between restart attempts (ns|us|ms|s|m|h)"),
        (
            "--update-parallelism N",
            "Maximum number of tasks updated simultaneously (0 to update all at once)",
        ),
        ("--update-delay duration", "Delay between updates (ns|us|ms|s|m|h)"),
        ("--update-failure-action string", "Action on update failure (pause, continue, rollback)"),
        ("--update-order string", "Update order (start-first, stop-first)"),
        ("--update-monitor duration", "Duration after each task update to monitor for failure"),
        ("--update-max-failure-ratio string", "Failure rate to tolerate during an update"),
        (
            "--rollback-parallelism N",
            "Maximum number of tasks rolled back simultaneously (0 to roll back all at once)",
        ),
        ("--rollback-delay duration", "Delay between task rollbacks (ns|us|ms|s|m|h)"),
        ("--rollback-failure-action string", "Action on rollback failure (pause, continue)"),
        ("--rollback-monitor duration", "Duration after each task rollback to monitor for failure"),
        ("--rollback-max-failure-ratio string", "Failure rate to tolerate during a rollback"),
        ("--rollback-order string", "Rollback order (start-first, stop-first)"),
    ]));
    health_and_resource_args(cmd)
}

/// The `--health-*`, `--limit-*`/`--reserve-*` and stop flags of `service
/// create` and `service update`.
fn health_and_resource_args(cmd: Command) -> Command {
    cmd.args(table(&[
        ("--health-cmd string", "Command to run to check health"),
        (
            "--health-interval duration",
            "Time between running the check (ms|s|m|h)",
        ),
        (
            "--health-timeout duration",
            "Maximum time to allow one check to run (ms|s|m|h)",
        ),
        ("--health-retries N", "Consecutive failures needed to report unhealthy"),
        (
            "--health-start-period duration",
            "Start period for the container to initialize before counting retries towards unstable (ms|s|m|h)",
        ),
        ("--no-healthcheck", "Disable any container-specified HEALTHCHECK"),
        ("--limit-cpu string", "Limit CPUs"),
        ("--limit-memory string", "Limit Memory"),
        ("--reserve-cpu string", "Reserve CPUs"),
        ("--reserve-memory string", "Reserve Memory"),
        (
            "--stop-grace-period duration",
            "Time to wait before force killing a container (ns|us|ms|s|m|h)",
        ),
    ]))
    .arg(detach())
    .arg(quiet("Suppress progress output"))
}

/// `orch swarm`, `orch node`, `orch service`, `orch stack`, `orch
/// secret`, and swarm configs under compose's `config` (`root` has it);
/// with `only`, that one group alone.
pub fn add(root: Command, only: Option<&str>) -> Command {
    let group = |name: &str| match name {
        "swarm" => swarm(),
        "node" => node(),
        "service" => service(),
        "stack" => stack(),
        _ => secret(),
    };
    match only {
        // A command line in one group needs no other (the tree is most
        // of orch's start-up: `orch service ls` is measured beside the
        // docker CLI, bench/swarm.sh).
        Some(name) => root.subcommand(group(name)),
        None => root
            .subcommands(super::words::SWARM_GROUPS.iter().map(|g| group(g)))
            // docker's configs live under compose's `config`.
            .mut_subcommand("config", swarm_configs),
    }
}

/// `config create|inspect|ls|rm` (aliases `list`, `remove`): docker's
/// swarm configs, as subcommands of compose's `config`. clap takes the
/// word right after `config` as one of them; after any flag or service
/// name, or after `--` (`orch config -- ls`), words are compose's
/// service names, so a service called `ls` is still reachable.
fn swarm_configs(config: Command) -> Command {
    config
        .args_conflicts_with_subcommands(true)
        .subcommand(
            Command::new("create")
                .about("Create a config from a file or STDIN (swarm)")
                .arg(multi("label", "Config labels").short('l'))
                .arg(opt("template-driver", "Template driver"))
                .arg(positional("name", "CONFIG"))
                .arg(positional("file", "file|-")),
        )
        .subcommands(object_commands("config", "configs", "CONFIG"))
}

/// `inspect --pretty`.
fn pretty() -> Arg {
    flag("pretty", None, "Print the information in a human friendly format")
}

/// `inspect`, `ls` and `rm` of swarm secrets or configs (`kind`), their
/// names or IDs the argument `ids`.
fn object_commands(kind: &str, ids: &'static str, value_name: &'static str) -> Vec<Command> {
    let names = || Arg::new(ids).num_args(1..).required(true).value_name(value_name);
    vec![
        Command::new("inspect")
            .about(format!("Display detailed information on one or more {kind}s"))
            .arg(inspect_format())
            .arg(pretty())
            .arg(names()),
        super::flags::ls(format!("List {kind}s")),
        Command::new("rm")
            .visible_alias("remove")
            .about(format!("Remove one or more {kind}s"))
            .arg(names()),
    ]
}

fn secret() -> Command {
    Command::new("secret")
        .about("Manage Swarm secrets")
        .subcommand_required(true)
        .subcommand(
            Command::new("create")
                .about("Create a secret from a file or STDIN as content")
                .arg(opt("driver", "Secret driver").short('d'))
                .arg(multi("label", "Secret labels").short('l'))
                .arg(opt("template-driver", "Template driver"))
                .arg(positional("name", "SECRET"))
                .arg(Arg::new("file").help("file|- (none with --driver)")),
        )
        .subcommands(object_commands("secret", "secrets", "SECRET"))
}

fn swarm() -> Command {
    Command::new("swarm")
        .about("Manage Swarm")
        .subcommand_required(true)
        .subcommand(swarm_spec_args(
            node_addresses(Command::new("init").about("Initialize a swarm")).args(table(&[
                ("--force-new-cluster", "Force create a new cluster from current state"),
                (
                    "--data-path-port N",
                    "Port number to use for data path traffic (1024 - 49151)",
                ),
                ("--default-addr-pool list", "default address pool in CIDR format"),
                (
                    "--default-addr-pool-mask-length N=24",
                    "default address pool subnet mask length",
                ),
            ])),
        ))
        .subcommand(
            node_addresses(
                Command::new("join")
                    .about("Join a swarm as a node and/or manager")
                    .arg(opt("token", "Token for entry into the swarm").required(true)),
            )
            .arg(positional("host", "HOST:PORT of a manager")),
        )
        .subcommand(swarm_spec_args(Command::new("update").about("Update the swarm")))
        .subcommand(
            ca_flags(Command::new("ca").about("Display and rotate the root CA"))
                .args(table(&[
                    (
                        "--rotate",
                        "Rotate the swarm CA - if no certificate or key are provided, new ones will be generated",
                    ),
                    (
                        "--ca-cert pem-file",
                        "Path to the PEM-formatted root CA certificate to use for the new cluster",
                    ),
                    (
                        "--ca-key pem-file",
                        "Path to the PEM-formatted root CA key to use for the new cluster",
                    ),
                    (
                        "-d --detach",
                        "Exit immediately instead of waiting for the root rotation to converge",
                    ),
                ]))
                .arg(quiet("Suppress progress output")),
        )
        .subcommand(
            Command::new("join-token")
                .about("Manage join tokens")
                .arg(quiet("Only display token"))
                .arg(flag("rotate", None, "Rotate join token"))
                .arg(positional("role", "worker or manager")),
        )
        .subcommand(
            Command::new("unlock-key")
                .about("Manage the unlock key")
                .arg(quiet("Only display token"))
                .arg(flag("rotate", None, "Rotate unlock key")),
        )
        .subcommand(Command::new("unlock").about("Unlock swarm (the key read from stdin)"))
        .subcommand(Command::new("leave").about("Leave the swarm").arg(flag(
            "force",
            Some('f'),
            "Force this node to leave the swarm, ignoring warnings",
        )))
}

/// The addresses and availability a node joins with (`swarm init` and
/// `swarm join` word them alike).
fn node_addresses(cmd: Command) -> Command {
    cmd.args(table(&[
        (
            "--advertise-addr string",
            "Advertised address (format: <ip|interface>[:port])",
        ),
        ("--listen-addr string", "Listen address (format: <ip|interface>[:port])"),
        (
            "--data-path-addr string",
            "Address or interface to use for data path traffic",
        ),
        (
            "--availability string=active",
            "Availability of the node (active, pause, drain)",
        ),
    ]))
}

/// The swarm settings `swarm init` and `swarm update` take.
fn swarm_spec_args(cmd: Command) -> Command {
    ca_flags(cmd).args(table(&[
        (
            "--dispatcher-heartbeat duration",
            "Dispatcher heartbeat period (ns|us|ms|s|m|h)",
        ),
        ("--max-snapshots N", "Number of additional Raft snapshots to retain"),
        ("--snapshot-interval N", "Number of log entries between Raft snapshots"),
        ("--task-history-limit N", "Task history retention limit"),
        (
            "--autolock bool",
            "Enable manager autolocking (requiring an unlock key to start a stopped manager)",
        ),
    ]))
}

/// The CA settings `swarm init|update|ca` take.
fn ca_flags(cmd: Command) -> Command {
    cmd.args(table(&[
        (
            "--cert-expiry duration",
            "Validity period for node certificates (ns|us|ms|s|m|h)",
        ),
        (
            "--external-ca list",
            "Specifications of one or more certificate signing endpoints",
        ),
    ]))
}

/// An `ls` with `-q`, `-f` and `--format` as the swarm groups word them.
fn swarm_ls(about: &'static str) -> Command {
    Command::new("ls")
        .about(about)
        .arg(quiet("Only display IDs"))
        .arg(filter())
        .arg(flag("no-trunc", None, "Do not truncate output"))
        .arg(table_format())
}

/// `inspect`'s `-f/--format`: `json`, or a Go template per object.
fn inspect_format() -> Arg {
    opt(
        "format",
        "Format output using a custom template ('json', or a Go template)",
    )
    .short('f')
}

/// `--format` as the swarm groups word it.
fn table_format() -> Arg {
    opt("format", "Format output: table or json").default_value("table")
}

/// A `ps` of tasks with docker's `-q`, `-f`, `--format`, `--no-trunc`
/// and `--no-resolve`.
fn tasks_ps(about: &'static str) -> Command {
    Command::new("ps")
        .about(about)
        .arg(quiet("Only display task IDs"))
        .arg(filter())
        .arg(opt(
            "format",
            "Pretty-print tasks using a Go template ('json': each task as JSON)",
        ))
        .arg(flag("no-trunc", None, "Do not truncate output"))
        .arg(no_resolve())
}

/// `--no-resolve`.
fn no_resolve() -> Arg {
    flag("no-resolve", None, "Do not map IDs to Names")
}

fn node() -> Command {
    Command::new("node")
        .about("Manage Swarm nodes")
        .subcommand_required(true)
        .subcommand(swarm_ls("List nodes in the swarm"))
        .subcommand(
            Command::new("inspect")
                .about("Display detailed information on one or more nodes")
                .arg(inspect_format())
                .arg(pretty())
                .arg(one_or_more("nodes", "NODE")),
        )
        .subcommand(
            tasks_ps("List tasks running on one or more nodes, defaults to current node")
                .arg(Arg::new("nodes").num_args(0..).value_name("NODE")),
        )
        .subcommand(
            Command::new("update")
                .about("Update a node")
                .args(table(&[
                    (
                        "--availability string",
                        "Availability of the node (active, pause, drain)",
                    ),
                    ("--role string", "Role of the node (worker, manager)"),
                    ("--label-add list", "Add or update a node label (key=value)"),
                    ("--label-rm list", "Remove a node label if exists"),
                ]))
                .arg(positional("node", "NODE")),
        )
        .subcommands(
            [
                ("promote", "Promote one or more nodes to manager in the swarm"),
                ("demote", "Demote one or more nodes from manager in the swarm"),
            ]
            .map(|(name, about)| leaf(name, about, [one_or_more("nodes", "NODE")])),
        )
        .subcommand(leaf(
            "rm",
            "Remove one or more nodes from the swarm",
            [
                flag("force", Some('f'), "Force remove a node from the swarm"),
                one_or_more("nodes", "NODE"),
            ],
        ))
}

/// A command with no subcommands: its name, help line and arguments.
fn leaf<const N: usize>(name: &'static str, about: &'static str, args: [Arg; N]) -> Command {
    Command::new(name).about(about).args(args)
}

fn service() -> Command {
    Command::new("service")
        .about("Manage Swarm services")
        .subcommand_required(true)
        .subcommand(
            super::service_flags::create(service_spec_args(
                Command::new("create")
                    .about("Create a new service")
                    .arg(opt("name", "Service name"))
                    .arg(
                        opt("mode", "Service mode (replicated, global, replicated-job, global-job)")
                            .default_value("replicated"),
                    ),
            ))
            .arg(positional("image", "IMAGE"))
            .arg(
                Arg::new("command")
                    .num_args(0..)
                    .trailing_var_arg(true)
                    .allow_hyphen_values(true)
                    .value_name("COMMAND"),
            ),
        )
        .subcommand(swarm_ls("List services"))
        .subcommand(tasks_ps("List the tasks of one or more services").arg(one_or_more("services", "SERVICE")))
        .subcommand(
            Command::new("inspect")
                .about("Display detailed information on one or more services")
                .arg(inspect_format())
                .arg(pretty())
                .arg(one_or_more("services", "SERVICE")),
        )
        .subcommand(
            Command::new("scale")
                .about("Scale one or multiple replicated services")
                .arg(detach())
                .arg(
                    Arg::new("pairs")
                        .num_args(1..)
                        .required(true)
                        .value_name("SERVICE=REPLICAS"),
                ),
        )
        .subcommand(
            super::service_flags::update(service_spec_args(
                Command::new("update").about("Update a service").args(table(&[
                    ("--image string", "Service image tag"),
                    ("--env-add list", "Add or update an environment variable"),
                    ("--env-rm list", "Remove an environment variable"),
                    ("--constraint-add list", "Add or update a placement constraint"),
                    ("--constraint-rm list", "Remove a constraint"),
                    ("--force", "Force update even if no changes require it"),
                    ("--rollback", "Rollback to previous specification"),
                ])),
            ))
            .arg(positional("service", "SERVICE")),
        )
        .subcommands(rollout_commands())
        .subcommand(
            Command::new("logs")
                .about("Fetch the logs of a service or task")
                .args(table(&[
                    ("-f --follow", "Follow log output"),
                    (
                        "-n --tail string=all",
                        "Number of lines to show from the end of the logs",
                    ),
                    (
                        "--since string",
                        "Show logs since timestamp or relative (e.g. 42m for 42 minutes)",
                    ),
                    ("-t --timestamps", "Show timestamps"),
                    ("--no-task-ids", "Do not include task IDs in output"),
                    ("--no-resolve", "Do not map IDs to Names"),
                    ("--no-trunc", "Do not truncate output"),
                    ("--raw", "Do not neatly format logs"),
                    ("--details", "Show extra details provided to logs"),
                ]))
                .arg(positional("service", "SERVICE|TASK")),
        )
        .subcommand(
            Command::new("rm")
                .about("Remove one or more services")
                .arg(one_or_more("services", "SERVICE")),
        )
}

/// `service rollout|promote|abort`: orch's stepped canaries.
fn rollout_commands() -> Vec<Command> {
    vec![
        Command::new("rollout")
            .about("Roll a service out to a new image in steps (a canary), rolling back on failure")
            .args(table(&[
                ("--image string", "Service image tag"),
                ("--steps string", "Tasks updated after each step, e.g. 1,25%,50%,100%"),
                (
                    "--pause string",
                    "After each step but the last: seconds, or manual (orch service promote|abort)",
                ),
                ("--timeout string=300", "Seconds each step may take"),
            ]))
            .arg(positional("service", "SERVICE")),
        leaf(
            "promote",
            "Continue a service rollout paused for a manual decision",
            [positional("service", "SERVICE")],
        ),
        leaf(
            "abort",
            "Roll back a service rollout paused for a manual decision",
            [positional("service", "SERVICE")],
        ),
        leaf(
            "rollback",
            "Revert changes to a service's configuration",
            [
                detach(),
                quiet("Suppress progress output"),
                positional("service", "SERVICE"),
            ],
        ),
    ]
}

fn stack() -> Command {
    Command::new("stack")
        .about("Manage Swarm stacks")
        .subcommand_required(true)
        .subcommand(
            Command::new("config")
                .about("Outputs the final config file, after doing merges and interpolations")
                // docker's StringSlice: repeated, or comma-separated.
                .arg(
                    multi("compose-file", "Path to a Compose file, or \"-\" to read from stdin")
                        .short('c')
                        .value_delimiter(','),
                )
                .arg(flag(
                    "skip-interpolation",
                    None,
                    "Skip interpolation and output only merged config",
                )),
        )
        .subcommand(
            Command::new("deploy")
                .about("Deploy a new stack or update an existing stack")
                .arg(
                    multi("compose-file", "Path to a Compose file")
                        .short('c')
                        .value_delimiter(',')
                        .required(true),
                )
                .arg(flag("prune", None, "Prune services that are no longer referenced"))
                .arg(
                    opt(
                        "resolve-image",
                        "Query the registry to resolve image digest (always, changed, never); \
                         orch never does: no registry is assumed",
                    )
                    .default_value("never"),
                )
                .arg(detach_bool(
                    "Exit immediately instead of waiting for the stack services to converge",
                ))
                .arg(flag(
                    "push-images",
                    None,
                    "Copy the services' images to every node that lacks them first (orch image push-nodes)",
                ))
                .arg(
                    Arg::new("node-host")
                        .long("node-host")
                        .action(ArgAction::Append)
                        .value_name("NODE=HOST")
                        .help("Engine address of a node, for --push-images"),
                )
                .arg(quiet("Suppress progress output"))
                .arg(flag(
                    "with-registry-auth",
                    None,
                    "Send registry authentication details to Swarm agents",
                ))
                .arg(positional("stack", "STACK")),
        )
        .subcommand(Command::new("ls").about("List stacks").arg(table_format()))
        .subcommand(tasks_ps("List the tasks in the stack").arg(positional("stack", "STACK")))
        .subcommand(
            Command::new("services")
                .about("List the services in the stack")
                .arg(quiet("Only display IDs"))
                .arg(filter())
                .arg(table_format())
                .arg(positional("stack", "STACK")),
        )
        .subcommand(
            Command::new("rm")
                .visible_aliases(["remove", "down"])
                .about("Remove one or more stacks")
                .arg(detach_bool("Do not wait for stack removal"))
                .arg(one_or_more("stacks", "STACK")),
        )
}

/// The stack commands' `-d, --detach[=BOOL]`, true unless `=false`.
fn detach_bool(help: &'static str) -> Arg {
    Arg::new("detach")
        .long("detach")
        .short('d')
        .num_args(0..=1)
        .require_equals(true)
        .default_value("true")
        .default_missing_value("true")
        .value_name("BOOL")
        .help(help)
}
