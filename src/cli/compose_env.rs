//! The `COMPOSE_*` variables Docker Compose reads as defaults for its
//! global flags, applied to a compose command's `ARGS` before its script
//! runs, with compose's checks and messages (exit 1):
//!
//! - `COMPOSE_PROGRESS`: `--progress` when not given (`none` is `quiet`;
//!   with `--ansi never`, `auto` is `plain`); an unknown mode, `tty`
//!   without ANSI or `plain` with forced ANSI is refused, as compose does
//!   for every command.
//! - `COMPOSE_ANSI`: `--ansi` when not given.
//! - `COMPOSE_PARALLEL_LIMIT`: `ARGS.parallel` when `--parallel` is not
//!   given, the engine operations in flight at once (must be an integer).
//! - `COMPOSE_ENV_FILES`: `--env-file` when not given (comma-separated).
//! - `COMPOSE_REMOVE_ORPHANS`: `--remove-orphans` of `down` and `kill`
//!   when not given (compose reads it when it defines those flags, so only
//!   the process environment counts; `up` reads the project's, in its
//!   script).
//!
//! `COMPOSE_MENU` is read by `up`'s script (`attached::menu`): whether
//! attached `up` on a terminal shows compose's navigation menu when
//! `--menu` is not given.

use clap::parser::ValueSource;
use clap::ArgMatches;
use rhai::{Dynamic, Map};

/// Go's strconv.ParseBool; compose's `utils.StringToBool` reads anything
/// else as false.
pub fn go_bool(v: &str) -> Option<bool> {
    match v {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

/// Go's strconv.Atoi (optional sign, decimal digits).
fn go_atoi(v: &str) -> Option<i64> {
    let digits = v.strip_prefix(['+', '-']).unwrap_or(v);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    v.parse().ok()
}

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// Applies the variables to the ARGS of compose command `name`; the error
/// is compose's message.
pub fn apply(name: &str, root: &ArgMatches, args: &mut Map) -> crate::error::Result<()> {
    let given = |id: &str| root.value_source(id) == Some(ValueSource::CommandLine);
    let ansi = match (given("ansi"), var("COMPOSE_ANSI")) {
        (false, Some(v)) => v,
        _ => root.get_one::<String>("ansi").cloned().unwrap_or_else(|| "auto".into()),
    };
    let progress = match (given("progress"), var("COMPOSE_PROGRESS")) {
        (false, Some(v)) => v,
        _ => root.get_one::<String>("progress").cloned().unwrap_or_default(),
    };
    let progress = match progress.as_str() {
        "" | "auto" if ansi == "never" => "plain",
        "" | "auto" => "auto",
        "tty" if ansi == "never" => return Err("can't use --progress tty while ANSI support is disabled".into()),
        "plain" if ansi == "always" => return Err("can't use --progress plain while ANSI support is forced".into()),
        "quiet" | "none" => "quiet",
        "tty" | "plain" | "json" => progress.as_str(),
        other => {
            return Err(crate::error::Error::usage(format!(
                "unsupported --progress value {other:?}"
            )))
        }
    };
    if progress == "json" {
        crate::error::set_json_errors();
    }
    args.insert("progress".into(), Dynamic::from(progress.to_string()));
    args.insert("ansi".into(), Dynamic::from(ansi));
    // `--parallel` wins over the variable; -1 (or any value below 1) is
    // no limit, as compose's MaxConcurrency is only set above 0.
    let mut parallel = root.get_one::<i64>("parallel").copied();
    if let (false, Some(v)) = (given("parallel"), var("COMPOSE_PARALLEL_LIMIT")) {
        let n = go_atoi(&v).ok_or_else(|| format!("COMPOSE_PARALLEL_LIMIT must be an integer (found: {v:?})"))?;
        parallel = Some(n);
    }
    args.insert(
        "parallel".into(),
        parallel.filter(|n| *n > 0).map_or(Dynamic::UNIT, Dynamic::from),
    );
    let no_env_file = args
        .get("env_file")
        .and_then(|v| v.read_lock::<rhai::Array>().map(|a| a.is_empty()))
        .unwrap_or(true);
    if no_env_file {
        if let Some(v) = var("COMPOSE_ENV_FILES") {
            let files: rhai::Array = v
                .split(',')
                .filter(|f| !f.is_empty())
                .map(|f| Dynamic::from(f.to_string()))
                .collect();
            args.insert("env_file".into(), Dynamic::from_array(files));
        }
    }
    if matches!(name, "down" | "kill") && args.get("remove_orphans").and_then(|v| v.as_bool().ok()) == Some(false) {
        let on = var("COMPOSE_REMOVE_ORPHANS").and_then(|v| go_bool(&v)).unwrap_or(false);
        args.insert("remove_orphans".into(), Dynamic::from(on));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_parsers_accept_what_go_accepts() {
        assert_eq!(go_bool("True"), Some(true));
        assert_eq!(go_bool("0"), Some(false));
        assert_eq!(go_bool("yes"), None);
        assert_eq!(go_atoi("+4"), Some(4));
        assert_eq!(go_atoi("-1"), Some(-1));
        assert_eq!(go_atoi("4x"), None);
        assert_eq!(go_atoi(" 4"), None);
        assert_eq!(go_atoi(""), None);
    }
}
