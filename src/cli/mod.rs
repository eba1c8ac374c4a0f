//! The command line: the one place commands, flags and help are defined.
//!
//! Built-in commands (`run`, `docs`, `completions`) are handled in Rust.
//! Every other command is a stdlib script: [`commands`] declares its flags,
//! and [`dispatch`] hands the parsed flags to `stdlib/<group>/<cmd>.rhai`
//! as the map `ARGS`.

pub mod commands;
pub mod compose_env;
mod container_commands;
mod engine_flags;
mod flags;
pub mod logging;
mod rollout_command;
mod run_command;
mod service_flags;
pub mod swarm;
pub mod watch_run;
mod words;

use std::ffi::OsString;

use clap::{Arg, ArgAction, ArgMatches, Command};
use rhai::{Dynamic, Map};

use crate::script::{self, Limits, Source};
use words::{command_word, process_args, runs_a_script, script_run, SWARM_GROUPS};

/// Which `run` this process's command line means: a deployment script
/// (`orch run deploy.rhai`), or compose's one-off container (`orch run
/// web echo hi`).
static SCRIPT_RUN: std::sync::OnceLock<bool> = std::sync::OnceLock::new();

/// `orch run FILE.rhai [ARGS]...`: a deployment script.
fn script_run_command() -> Command {
    Command::new("run")
                .about("Run a deployment script (or, when SERVICE is not a script, a one-off command on a service: orch run [OPTIONS] SERVICE [COMMAND]...)")
                .arg(
                    Arg::new("watch")
                        .long("watch")
                        .action(ArgAction::SetTrue)
                        .help("Run again on every save of the script or a module it imports"),
                )
                .arg(
                    Arg::new("file")
                        .required(true)
                        .value_name("FILE.rhai")
                        .help("The script to run"),
                )
                .arg(
                    Arg::new("args")
                        .num_args(0..)
                        .trailing_var_arg(true)
                        .allow_hyphen_values(true)
                        .value_name("ARGS")
                        .help("Arguments for the script, as the array ARGS"),
                )
}

/// Builds the whole command tree, for this process's command line.
pub fn command() -> Command {
    command_with(*SCRIPT_RUN.get_or_init(|| script_run(&process_args())), None)
}

/// The command tree for `argv` (program name first): which `run` it has
/// depends on the words after it, and a swarm group's needs no compose
/// commands.
pub fn command_for(argv: &[OsString]) -> Command {
    let words: Vec<String> = argv.iter().map(|a| a.to_string_lossy().into_owned()).collect();
    let group = command_word(&words)
        .map(|i| words[i].as_str())
        .filter(|w| SWARM_GROUPS.contains(w));
    command_with(script_run(&words), group)
}

/// The tree; with `swarm_group`, only that swarm group's commands (no
/// compose commands, no other group), else every command.
fn command_with(run_is_script: bool, swarm_group: Option<&str>) -> Command {
    let run = if run_is_script {
        script_run_command()
    } else {
        run_command::compose_run()
    };
    let cmd = Command::new("orch")
        .version(env!("CARGO_PKG_VERSION"))
        .about("Programmable container orchestration: deployments are Rhai scripts over Docker and Docker Swarm")
        .subcommand_required(true)
        .arg_required_else_help(true)
        .args(limit_args())
        .arg(
            Arg::new("engine-timeout")
                .long("engine-timeout")
                .global(true)
                .env("ORCH_ENGINE_TIMEOUT")
                .value_name("SECONDS")
                .default_value(crate::docker::DEFAULT_TIMEOUT_SECS.to_string())
                .value_parser(clap::value_parser!(u64))
                .help("How long the engine may take to start answering a call before orch gives up (0 = no limit; streams such as logs -f are not cut)"),
        )
        .args(engine_flags::engine_args())
        .args(engine_flags::tls_args())
        .arg(
            Arg::new("no-lock-wait")
                .long("no-lock-wait")
                .global(true)
                .action(ArgAction::SetTrue)
                .help("Fail instead of waiting when another orch is changing the same project on this engine"),
        )
        .subcommand(run)
        .subcommand(
            Command::new("docs")
                .about("Print the primitives scripts can call, with examples")
                .arg(Arg::new("filter").help("Only entries whose name contains this")),
        )
        .subcommand(
            Command::new("completions")
                .about("Print a shell completion script")
                .arg(
                    Arg::new("shell")
                        .required(true)
                        .value_parser(clap::value_parser!(clap_complete::Shell)),
                ),
        );
    swarm::add(commands::add(cmd, swarm_group.is_none()), swarm_group)
}

fn limit_args() -> Vec<Arg> {
    let d = Limits::default();
    let limits = [
        (
            "max-operations",
            d.max_operations,
            "Operations a script may run (0 = no limit)",
        ),
        (
            "max-call-depth",
            d.max_call_depth as u64,
            "Depth of nested function calls",
        ),
        ("max-string-size", d.max_string_size as u64, "Longest string, in bytes"),
        ("max-array-size", d.max_array_size as u64, "Most elements in an array"),
        ("max-map-size", d.max_map_size as u64, "Most entries in a map"),
    ];
    limits
        .into_iter()
        .map(|(name, default, help)| {
            // Each call level takes native stack; the script thread's
            // stack is sized for the limit, up to this cap.
            let max = if name == "max-call-depth" {
                script::MAX_CALL_DEPTH
            } else {
                u64::MAX
            };
            Arg::new(name)
                .long(name)
                .global(true)
                .env(format!("ORCH_{}", name.to_uppercase().replace('-', "_")))
                .value_name("N")
                .default_value(default.to_string())
                .value_parser(clap::value_parser!(u64).range(0..=max))
                .help(help)
                .help_heading("Script limits")
        })
        .collect()
}

fn limits(m: &ArgMatches) -> Limits {
    let get = |k: &str| m.get_one::<u64>(k).copied();
    let d = Limits::default();
    Limits {
        max_operations: get("max-operations").unwrap_or(d.max_operations),
        max_call_depth: get("max-call-depth").map_or(d.max_call_depth, |v| v as usize),
        max_string_size: get("max-string-size").map_or(d.max_string_size, |v| v as usize),
        max_array_size: get("max-array-size").map_or(d.max_array_size, |v| v as usize),
        max_map_size: get("max-map-size").map_or(d.max_map_size, |v| v as usize),
    }
}

/// The exit code of a command line clap refused, as the tool orch stands
/// in for exits: Docker Compose exits 1 on a usage error (unknown flag,
/// missing argument, unknown command), the Docker CLI's groups (`service`,
/// `stack`, `container`, …) exit 125. orch's own commands keep clap's 2.
fn usage_exit_code(argv: &[OsString]) -> i32 {
    // Parsed again leniently, only to learn which command was meant.
    let Ok(m) = command_for(argv).ignore_errors(true).try_get_matches_from(argv) else {
        return 1;
    };
    // `run FILE.rhai` is orch's own; `run SERVICE` is compose's.
    let script = |sub: &ArgMatches| {
        sub.try_get_one::<String>("file")
            .ok()
            .flatten()
            .is_some_and(|f| f.ends_with(".rhai") || std::path::Path::new(f).is_file())
    };
    match m.subcommand() {
        Some((
            "container" | "image" | "network" | "volume" | "swarm" | "node" | "service" | "stack" | "secret"
            | "context",
            _,
        )) => 125,
        // `config create|inspect|ls|rm` stand in for `docker config`.
        Some(("config", sub)) if sub.subcommand().is_some() => 125,
        Some(("docs" | "completions" | "watch" | "plan", _)) => 2,
        Some(("run", sub)) if script(sub) => 2,
        _ => 1,
    }
}

/// Parses `argv` (program name first) as `main` does: the command tree
/// (built along the parsed path, for [`script_args`]) and the matches, or
/// clap's message (usage, `--help`, `--version`) and the exit code it means.
/// The tree is built once per run: it is most of orch's start-up CPU
/// (`orch service ls` is measured against the docker CLI, bench/swarm.sh).
pub fn parse(argv: &[OsString]) -> Result<(Command, ArgMatches), (clap::Error, i32)> {
    let mut cmd = command_for(argv);
    match cmd.try_get_matches_from_mut(argv) {
        Ok(m) => Ok((cmd, m)),
        Err(e) => {
            let code = match e.exit_code() {
                0 => 0,
                _ => usage_exit_code(argv),
            };
            Err((e, code))
        }
    }
}

/// Parses the command line, runs the command, returns the exit code.
pub fn main() -> i32 {
    let argv: Vec<OsString> = std::env::args_os().collect();
    if runs_a_script(&process_args()) {
        script::prebuild(words::stdlib_script(&process_args()).as_deref());
    }
    let (tree, matches) = match parse(&argv) {
        Ok(parsed) => parsed,
        Err((e, code)) => {
            let _ = e.print();
            return code;
        }
    };
    logging::init();
    if let Some(secs) = matches.get_one::<u64>("engine-timeout") {
        crate::docker::set_timeout(*secs);
    }
    crate::plan::lock::set_no_wait(matches.get_flag("no-lock-wait"));
    if let Err(code) = engine_flags::choose_engine(&matches) {
        return code;
    }
    let mut limits = limits(&matches);
    let (name, sub) = matches.subcommand().expect("subcommand_required");
    // A watch loop runs for hours: its operation budget would run out, so
    // it has none unless the user set one.
    let default_ops = matches.value_source("max-operations") == Some(clap::parser::ValueSource::DefaultValue);
    // (`run --watch` runs each round as its own process, with the limits.)
    if default_ops && name == "watch" {
        limits.max_operations = 0;
    }
    // compose's global --dry-run: only its commands honour it; anywhere
    // else it would change what the user asked to leave alone.
    let script_run_command = name == "run" && *SCRIPT_RUN.get_or_init(|| script_run(&process_args()));
    let no_dry_run = sub.subcommand().is_some()
        || matches!(name, "completions" | "docs")
        || commands::NO_DRY_RUN.contains(&name)
        || script_run_command;
    if matches!(matches.try_get_one::<bool>("dry-run"), Ok(Some(true))) && no_dry_run {
        eprintln!("error: --dry-run is for compose's commands (orch up, down, …); `orch {name}` has no dry run");
        return 1;
    }
    match name {
        "completions" => {
            let shell = *sub.get_one::<clap_complete::Shell>("shell").unwrap();
            clap_complete::generate(shell, &mut command(), "orch", &mut std::io::stdout());
            0
        }
        "docs" => {
            let filter = sub.get_one::<String>("filter").map(String::as_str);
            match (crate::docs::print(filter), filter) {
                (0, Some(f)) => {
                    eprintln!("error: no primitive's signature contains {f:?} (`orch docs` lists them all)");
                    1
                }
                (0, None) => 1,
                _ => 0,
            }
        }
        "run" if *SCRIPT_RUN.get_or_init(|| script_run(&process_args())) => {
            let file = sub.get_one::<String>("file").unwrap();
            let args: Vec<Dynamic> = sub
                .get_many::<String>("args")
                .map(|v| v.map(|s| Dynamic::from(s.clone())).collect())
                .unwrap_or_default();
            if sub.get_flag("watch") {
                script::discard_prebuilt();
                let args: Vec<String> = sub
                    .get_many::<String>("args")
                    .map(|v| v.cloned().collect())
                    .unwrap_or_default();
                return watch_run::run(file, &args, &limits);
            }
            let path = std::path::Path::new(file);
            let text = match std::fs::read_to_string(path) {
                Ok(t) => t,
                Err(e) => {
                    eprintln!("error: cannot read script {file}: {e}");
                    return crate::diag::EXIT_SYNTAX;
                }
            };
            let dir = std::path::absolute(path)
                .ok()
                .and_then(|p| p.parent().map(|d| d.to_path_buf()));
            let src = Source {
                name: file.clone(),
                text,
                dir,
            };
            run_script(src, Dynamic::from_array(args), limits, Runtime::Workers)
        }
        _ => dispatch(tree, name, sub, &matches, limits),
    }
}

/// Runs the stdlib script behind `orch <group> <cmd>` (or a top-level
/// command such as `orch up`, which lives in `stdlib/compose/`).
fn dispatch(tree: Command, name: &str, sub: &ArgMatches, root: &ArgMatches, limits: Limits) -> i32 {
    let (rel, leaf) = match sub.subcommand() {
        Some((cmd, leaf)) => (commands::script_path(name, Some(cmd)), leaf),
        None => (commands::script_path(name, None), sub),
    };
    let args = script_args(&tree, root);
    let controller = commands::CONTROLLERS.contains(&name);
    // The tree's thousands of flags are freed beside the script rather
    // than before it (~2 % of a `service ls`), and not kept through it
    // (a large `up` peaks in memory later). Not for a controller.
    if controller {
        drop(tree);
    } else {
        let _ = std::thread::Builder::new().spawn(move || drop(tree));
    }
    let Some(mut args) = args else {
        eprintln!("error: unknown command {name}");
        return 2;
    };
    let script = match crate::stdlib::load(&rel) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    if sub.subcommand().is_none() {
        if let Err(e) = compose_env::apply(name, root, &mut args) {
            eprintln!("{e}");
            return 1;
        }
    }
    let mut src: Source = script.into();
    // `orch autoscale RULES.rhai`: a command whose script runs a user's.
    if let Ok(Some(file)) = leaf.try_get_one::<String>("rules") {
        match rules_source(file, &src) {
            Ok(s) => src = s,
            Err(e) => {
                eprintln!("error: {e}");
                return 1;
            }
        }
    }
    // The script thread's calls are driven by the main thread's
    // `block_on` (script::execute), so a current-thread runtime serves them.
    let runtime = if controller {
        Runtime::MainThread
    } else {
        Runtime::Workers
    };
    run_script(src, Dynamic::from_map(args), limits, runtime)
}

/// `orch autoscale RULES.rhai`: the rules script and the command as one
/// script, the rules first (so its lines keep their numbers and its name
/// is the script's). One script, because Rhai calls a closure only from
/// the script that defined it, and a rule's custom metric is a closure the
/// command calls.
fn rules_source(file: &str, command: &Source) -> crate::error::Result<Source> {
    let text = std::fs::read_to_string(file).map_err(|e| format!("cannot read the rules script {file}: {e}"))?;
    Ok(Source {
        name: file.to_string(),
        text: format!("{text}\n{}", command.text),
        dir: std::path::absolute(file)
            .ok()
            .and_then(|p| p.parent().map(|d| d.to_path_buf())),
    })
}

/// The `ARGS` map a command's script gets, from `root` (the matches of
/// `cmd`, the whole tree): the flags of the command that runs, then the
/// global ones. `None` when `root` names no subcommand of `cmd`.
pub fn script_args(cmd: &Command, root: &ArgMatches) -> Option<Map> {
    let (mut leaf_cmd, mut leaf) = (cmd, root);
    while let Some((name, sub)) = leaf.subcommand() {
        leaf_cmd = leaf_cmd.find_subcommand(name)?;
        leaf = sub;
    }
    if std::ptr::eq(leaf_cmd, cmd) {
        return None;
    }
    let mut args = args_map(leaf_cmd, leaf);
    // Global flags (declared on the root) reach every script too.
    for (k, v) in args_map(cmd, root) {
        args.entry(k).or_insert(v);
    }
    // compose's `--dry-run` before the command or after it: either asks.
    if matches!(root.try_get_one::<bool>("dry-run"), Ok(Some(true))) {
        args.insert("dry_run".into(), true.into());
    }
    // `-p ""` is no project name (compose: then COMPOSE_PROJECT_NAME, the
    // file's name:, the folder): never a filter on an empty label.
    if args
        .get("project_name")
        .and_then(|v| v.read_lock::<rhai::ImmutableString>().map(|s| s.is_empty()))
        == Some(true)
    {
        args.insert("project_name".into(), Dynamic::UNIT);
    }
    Some(args)
}

/// Parsed flags as a map keyed by the flag's name with `_` for `-`:
/// switches are booleans, counted flags integers, repeatable ones arrays,
/// others a string or `()` when absent.
pub fn args_map(cmd: &Command, m: &ArgMatches) -> Map {
    let mut out = Map::new();
    for arg in cmd.get_arguments() {
        let id = arg.get_id().as_str();
        if matches!(id, "help" | "version") {
            continue;
        }
        let key = id.replace('-', "_");
        let many =
            matches!(arg.get_action(), ArgAction::Append) || arg.get_num_args().is_some_and(|n| n.max_values() > 1);
        let value = match arg.get_action() {
            ArgAction::SetTrue | ArgAction::SetFalse => Dynamic::from(m.get_flag(id)),
            ArgAction::Count => Dynamic::from(m.get_count(id) as i64),
            _ if many => Dynamic::from_array(raw_values(m, id).into_iter().map(Dynamic::from).collect()),
            // Numeric flags arrive as numbers, the rest as text.
            _ => match m.try_get_one::<i64>(id) {
                Ok(Some(n)) => Dynamic::from(*n),
                _ => raw_values(m, id)
                    .into_iter()
                    .next()
                    .map(Dynamic::from)
                    .unwrap_or(Dynamic::UNIT),
            },
        };
        out.insert(key.into(), value);
    }
    out
}

fn raw_values(m: &ArgMatches, id: &str) -> Vec<String> {
    match m.try_get_raw(id) {
        Ok(Some(v)) => v.map(|s| s.to_string_lossy().into_owned()).collect(),
        _ => Vec::new(),
    }
}

/// The async runtime a script's engine calls run on.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Runtime {
    /// Two worker threads: a command's many engine calls in parallel (`up`,
    /// `build`, a script's batches).
    Workers,
    /// No worker thread: the main thread, which waits on the script anyway,
    /// drives its engine calls. For a controller that runs for days and
    /// waits most of the time (`orch autoscale`): each worker thread kept
    /// a stack and a malloc arena of its own, a few hundred kB of resident
    /// memory for nothing.
    MainThread,
}

/// One malloc arena for the whole process. glibc gives each thread that
/// allocates its own arena; the script thread's kept ~0.7 MB of freed
/// memory resident in a controller that runs for days (`orch autoscale`,
/// measured with /proc/PID/smaps). Its two threads never contend.
fn one_malloc_arena() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets an allocator parameter; called before the
    // script thread starts.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 1);
    }
}

/// Heap grown 16 MB at a time. glibc grows a thread's arena by what each
/// request lacks, one mprotect and fault run at a time: `config` of 1,000
/// services spent ~15 % of its CPU there (perf stat, GLIBC_TUNABLES
/// top_pad: 64 → 53 ms). Pages are resident only once touched, so peak
/// RSS does not change.
fn heap_in_large_steps() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets an allocator parameter; called before the
    // runtime's threads start.
    unsafe {
        libc::mallopt(libc::M_TOP_PAD, 16 << 20);
    }
}

fn run_script(src: Source, args: Dynamic, limits: Limits, runtime: Runtime) -> i32 {
    if let Runtime::Workers = runtime {
        heap_in_large_steps();
    }
    let built = match runtime {
        Runtime::Workers => tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build(),
        Runtime::MainThread => {
            one_malloc_arena();
            tokio::runtime::Builder::new_current_thread().enable_all().build()
        }
    };
    let rt = match built {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return 1;
        }
    };
    let code = script::execute(&rt, src, args, limits);
    // In-flight requests were cancelled or finished; do not wait on them.
    rt.shutdown_background();
    code
}

#[cfg(test)]
mod tests {
    /// clap's own consistency checks over every command (duplicate flags,
    /// bad defaults) — they would otherwise only fire when a user runs it.
    #[test]
    fn command_tree_is_consistent() {
        super::command().debug_assert();
    }

    /// A swarm command's tree leaves compose's commands out; its script
    /// gets the same `ARGS` as from the whole tree.
    #[test]
    fn swarm_commands_parse_as_in_the_whole_tree() {
        use std::ffi::OsString;
        for line in [
            "orch service ls -q --filter name=a",
            "orch -p x service ps web --no-trunc",
            "orch stack deploy -c a.yml --prune s",
            "orch node ls",
            "orch secret create s -",
            "orch swarm init --advertise-addr 10.0.0.1",
        ] {
            let argv: Vec<OsString> = line.split(' ').map(OsString::from).collect();
            let (lean, m) = super::parse(&argv).unwrap_or_else(|(e, _)| panic!("{line}: {e}"));
            assert!(lean.find_subcommand("up").is_none(), "{line}: compose's commands built");
            assert_eq!(
                lean.get_subcommands()
                    .filter(|c| super::SWARM_GROUPS.contains(&c.get_name()))
                    .count(),
                1,
                "{line}: more than its group built"
            );
            let mut whole = super::command_with(false, None);
            let mw = whole.try_get_matches_from_mut(&argv).unwrap();
            assert!(whole.find_subcommand("up").is_some());
            let (a, b) = (
                super::script_args(&lean, &m).unwrap(),
                super::script_args(&whole, &mw).unwrap(),
            );
            assert_eq!(format!("{a:?}"), format!("{b:?}"), "{line}");
        }
    }
}
