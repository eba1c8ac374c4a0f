//! The container-level flags of `service create` and `service update`,
//! named and shaped as the docker CLI's: create takes lists (`--dns`,
//! `--sysctl`, `--ulimit` …), update takes each list as an `-add`/`-rm`
//! pair. `stdlib/lib/service_flags.rhai` applies them to a spec as docker
//! does (`cli/command/service/opts.go` and `update.go`).

use clap::Command;

use super::flags::{multi, opt, table};

/// The flags both commands take with the same meaning.
fn shared(cmd: Command) -> Command {
    cmd.args(table(&[
        ("--init bool", "Use an init inside each service container to forward signals and reap processes"),
        ("--isolation string", "Service container isolation mode"),
        ("--limit-pids N", "Limit maximum number of processes (default 0 = unlimited)"),
        ("--log-driver string", "Logging driver for service"),
        ("--log-opt list", "Logging driver options"),
        ("--read-only bool", "Mount the container's root filesystem as read only"),
        ("--restart-window duration", "Window used to evaluate the restart policy (ns|us|ms|s|m|h)"),
        ("--stop-signal string", "Signal to stop the container"),
        ("-t --tty bool", "Allocate a pseudo-TTY"),
        ("--with-registry-auth", "Send registry authentication details to swarm agents"),
        (
            "--no-resolve-image",
            "Do not query the registry to resolve image digest and supported platforms (orch never does: no registry is assumed)",
        ),
    ]))
}

/// `--cap-add` and `--cap-drop`, which both commands take as lists.
fn capabilities(cmd: Command) -> Command {
    cmd.arg(multi("cap-add", "Add Linux capabilities"))
        .arg(multi("cap-drop", "Drop Linux capabilities"))
}

/// `service create`'s container flags: lists, each flag repeatable.
pub(super) fn create(cmd: Command) -> Command {
    let lists = [
        ("dns", "Set custom DNS servers"),
        ("dns-option", "Set DNS options"),
        ("dns-search", "Set custom DNS search domains"),
        ("group", "Set one or more supplementary user groups for the container"),
        ("host", "Set one or more custom host-to-IP mappings (host:ip)"),
        ("env-file", "Read in a file of environment variables"),
        ("sysctl", "Sysctl options"),
        ("ulimit", "Ulimit options"),
        ("secret", "Specify secrets to expose to the service"),
        ("config", "Specify configurations to expose to the service"),
        ("network", "Network attachments"),
        ("generic-resource", "User defined resources (KIND=N)"),
    ];
    lists.into_iter().fold(capabilities(shared(cmd)), |cmd, (name, help)| {
        cmd.arg(multi(name, help))
    })
}

/// `service update`'s: the same settings, lists as `-add`/`-rm` pairs.
pub(super) fn update(cmd: Command) -> Command {
    let lists = [
        ("mount", "a mount (`-rm`: by target path)"),
        ("placement-pref", "a placement preference"),
        ("publish", "a published port (`-rm`: by target port)"),
        ("secret", "a secret"),
        ("config", "a config file"),
        ("network", "a network attachment (`-rm`: by name or ID)"),
        ("generic-resource", "a generic resource (KIND=N; `-rm`: by KIND)"),
        ("label", "a service label"),
        ("container-label", "a container label"),
        ("dns", "a custom DNS server"),
        ("dns-option", "a DNS option"),
        ("dns-search", "a DNS search domain"),
        ("group", "a supplementary user group"),
        ("host", "a custom host-to-IP mapping (\"host:ip\")"),
        ("sysctl", "a sysctl option"),
        ("ulimit", "a ulimit option"),
    ];
    let mut cmd = capabilities(shared(cmd)).arg(opt("args", "Service command args"));
    for (list, what) in lists {
        cmd = cmd
            .arg(multi(&format!("{list}-add"), "").help(format!("Add or update {what}")))
            .arg(multi(&format!("{list}-rm"), "").help(format!("Remove {what}")));
    }
    cmd
}
