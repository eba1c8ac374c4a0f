//! `orch rollout SERVICE` and its `history`/`undo` subcommands: the
//! programmable rolling update's flags, which override a service's
//! `deploy.update_config` (`stdlib/compose/rollout.rhai`).

use clap::{Arg, Command};

use super::flags::{flag, num, opt, table, timeout};

/// `orch rollout SERVICE`: a zero-downtime rolling update on one host
/// (`stdlib/compose/rollout.rhai`). The flags override the service's
/// `deploy.update_config`.
pub(super) fn rollout() -> Command {
    Command::new("rollout")
        .about("Roll a service out to a new image or configuration with no downtime")
        .args(table(&[
            ("--image string", "Roll out to this image instead of the compose file's"),
            ("--parallelism N", "Replicas replaced at once (0: all)"),
            ("--delay string", "Wait between batches (seconds or 1m30s)"),
            ("--order string", "start-first (default) or stop-first"),
            ("--failure-action string", "rollback (default), pause or continue"),
            ("--monitor string", "Watch each batch this long after it serves"),
            (
                "--max-failure-ratio string",
                "Failures tolerated, as a fraction of the replicas",
            ),
            ("--max-surge N", "Extra replicas at once (start-first)"),
            ("--max-unavailable N", "Missing replicas at once (stop-first)"),
            (
                "--progress-deadline string",
                "Longest wait for a replica to be healthy (default 300s)",
            ),
            (
                "--min-healthy-time string",
                "How long a replica stays healthy before it serves",
            ),
            (
                "--drain string",
                "Wait between taking a replica out of DNS and stopping it (default 0)",
            ),
            ("--replicas N", "Replicas wanted (default: the service's)"),
        ]))
        .arg(timeout())
        .arg(Arg::new("service").required(true).value_name("SERVICE"))
        .args_conflicts_with_subcommands(true)
        .subcommand_negates_reqs(true)
        .subcommand(
            Command::new("history")
                .about("List a service's rollout revisions (the last 10)")
                .arg(swarm_flag())
                .arg(Arg::new("service").required(true).value_name("SERVICE")),
        )
        .subcommand(
            Command::new("undo")
                .about("Roll a service back to its previous revision (or --to N)")
                .arg(num("to", "The revision to roll back to"))
                .arg(swarm_flag())
                .arg(opt("steps", "Swarm: tasks updated after each step, e.g. 1,50%"))
                .arg(timeout())
                .arg(Arg::new("service").required(true).value_name("SERVICE")),
        )
}

/// `--swarm` of `rollout history|undo`: SERVICE is a swarm service even
/// where a compose project has one of that name (without it, a swarm
/// service is meant only when no compose project here has SERVICE).
fn swarm_flag() -> Arg {
    flag(
        "swarm",
        None,
        "SERVICE is a swarm service (orch service rollout's history)",
    )
}
