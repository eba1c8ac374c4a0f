//! The global flags that choose the engine, as the docker CLI's: `--context`,
//! `-H/--host` and the TLS flags, resolved by [`crate::context`] in the
//! CLI's precedence with `DOCKER_HOST`, `DOCKER_CONTEXT` and `docker
//! context use`.

use clap::{Arg, ArgAction, ArgMatches};

/// `--context/-c` and `-H/--host`, root-level only, as the docker CLI
/// parses them: `stack deploy -c` and `autoscale --host` keep their own
/// meaning.
pub(super) fn engine_args() -> Vec<Arg> {
    vec![
        Arg::new("context")
            .long("context")
            .short('c')
            .value_name("NAME")
            .help("Name of the docker context to use (overrides DOCKER_HOST, DOCKER_CONTEXT and `docker context use`)"),
        Arg::new("host")
            .long("host")
            .short('H')
            .value_name("URL")
            .action(ArgAction::Append)
            .help("Engine to connect to (unix:///…, tcp://…, ssh://[user@]host)"),
    ]
}

/// The docker CLI's TLS flags, root-level as there.
pub(super) fn tls_args() -> Vec<Arg> {
    let file = |name: &'static str, help: &'static str| {
        Arg::new(name)
            .long(name)
            .value_name("PATH")
            .help(help)
            .help_heading("Engine TLS")
    };
    vec![
        Arg::new("tls")
            .long("tls")
            .action(ArgAction::SetTrue)
            .help("Use TLS; implied by --tlsverify")
            .help_heading("Engine TLS"),
        Arg::new("tlsverify")
            .long("tlsverify")
            .action(ArgAction::SetTrue)
            .help("Use TLS and verify the remote")
            .help_heading("Engine TLS"),
        file(
            "tlscacert",
            "Trust certs signed only by this CA (default ~/.docker/ca.pem)",
        ),
        file("tlscert", "Path to TLS certificate file (default ~/.docker/cert.pem)"),
        file("tlskey", "Path to TLS key file (default ~/.docker/key.pem)"),
    ]
}

/// Points the primitives at the engine the docker CLI would talk to
/// (`--context`, `-H`, `DOCKER_HOST`, `DOCKER_CONTEXT`, `docker context
/// use`), and passes the choice on to child processes (watch rounds,
/// hooks) through the environment. `orch context` itself needs no engine.
pub(super) fn choose_engine(m: &ArgMatches) -> Result<(), i32> {
    if matches!(m.subcommand_name(), Some("docs" | "completions")) {
        return Ok(());
    }
    let hosts: Vec<String> = m
        .get_many::<String>("host")
        .map(|v| v.cloned().collect())
        .unwrap_or_default();
    let context = m.get_one::<String>("context").map(String::as_str);
    let choice = match crate::context::choose(&hosts, context) {
        Ok(c) => c,
        // `orch context ls|use` must work with a broken current context.
        Err(crate::context::ContextError::NotFound { .. }) if m.subcommand_name() == Some("context") => {
            crate::context::Choice::default()
        }
        Err(e) => {
            eprintln!("error: {e}");
            return Err(1);
        }
    };
    if let Some(h) = hosts.first() {
        std::env::set_var("DOCKER_HOST", h);
    } else if let Some(c) = context {
        std::env::remove_var("DOCKER_HOST");
        std::env::set_var("DOCKER_CONTEXT", c);
    }
    let mut choice = choice;
    if choice.context == crate::context::DEFAULT {
        choice.tls = tls_flags(m);
    }
    if choice.context != crate::context::DEFAULT || choice.host.is_some() || choice.tls.is_some() {
        crate::api::set_endpoint(choice.endpoint());
    }
    let host = choice.host.as_deref().unwrap_or_default();
    if host.starts_with("ssh://") && needs_engine(m) {
        crate::ssh::warm_up(host);
    }
    Ok(())
}

/// Whether the command surely talks to the engine (so an ssh engine's
/// login may start before the command asks): every compose and object
/// command but those that only read files (`config`, `version`,
/// `context`), and not a script run by `orch run FILE.rhai`, which may
/// never touch it.
fn needs_engine(m: &ArgMatches) -> bool {
    match m.subcommand() {
        // `config create|inspect|ls|rm` are swarm configs.
        Some(("config", sub)) => sub.subcommand().is_some(),
        Some(("version" | "context" | "docs" | "completions", _)) => false,
        // Compose's one-off `run` has no `file`.
        Some(("run", sub)) => sub
            .try_get_one::<String>("file")
            .ok()
            .flatten()
            .is_none_or(|f| !f.ends_with(".rhai")),
        Some(_) => true,
        None => false,
    }
}

/// The docker CLI's `--tlsverify`/`--tls` and `--tlscacert`, `--tlscert`,
/// `--tlskey` (each file defaulting to `DOCKER_CERT_PATH`'s, else
/// `~/.docker`'s): the TLS files for the default context, or `None`
/// when no TLS flag was given (then `DOCKER_TLS_VERIFY` decides).
fn tls_flags(m: &ArgMatches) -> Option<crate::docker::Tls> {
    let file = |k: &str| m.get_one::<String>(k).map(std::path::PathBuf::from);
    let given = m.get_flag("tlsverify")
        || m.get_flag("tls")
        || ["tlscacert", "tlscert", "tlskey"]
            .iter()
            .any(|k| m.contains_id(k) && m.get_one::<String>(k).is_some());
    if !given {
        return None;
    }
    let dir = std::env::var_os("DOCKER_CERT_PATH")
        .filter(|d| !d.is_empty())
        .map(std::path::PathBuf::from)
        .unwrap_or_else(crate::context::config_dir);
    let d = crate::docker::Tls::in_dir(&dir);
    Some(crate::docker::Tls {
        ca: file("tlscacert").unwrap_or(d.ca),
        cert: file("tlscert").unwrap_or(d.cert),
        key: file("tlskey").unwrap_or(d.key),
    })
}
