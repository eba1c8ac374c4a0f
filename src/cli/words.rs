//! Which command a command line names, read from its words before clap
//! parses them: the tree clap parses with depends on it (`run FILE.rhai`
//! or compose's `run SERVICE`; a swarm group's tree without compose's
//! commands), and so does work started beside the parse.

/// The process's arguments as text; a word that is not UTF-8 is read
/// lossily (only to tell which `run` is meant: clap sees the originals).
pub(super) fn process_args() -> Vec<String> {
    std::env::args_os().map(|a| a.to_string_lossy().into_owned()).collect()
}

/// Root flags that take a value (the word after them is not a command).
const ROOT_VALUE_FLAGS: &[&str] = &[
    "-f",
    "--file",
    "-p",
    "--project-name",
    "--profile",
    "--env-file",
    "--project-directory",
    "--progress",
    "--ansi",
    "--parallel",
    "--max-operations",
    "--max-call-depth",
    "--max-string-size",
    "--max-array-size",
    "--max-map-size",
    "-c",
    "--context",
    "-H",
    "--host",
    "--tlscacert",
    "--tlscert",
    "--tlskey",
    "--engine-timeout",
];

/// `orch run` runs a script when its first argument names one (ends in
/// `.rhai`, or is an existing file); otherwise it is compose's `run`.
pub(super) fn script_run(argv: &[String]) -> bool {
    let Some(i) = command_word(argv) else {
        return true;
    };
    if argv[i] != "run" {
        return true;
    }
    match argv[i + 1..].iter().find(|x| !x.starts_with('-')) {
        Some(first) => first.ends_with(".rhai") || std::path::Path::new(first).is_file(),
        None => true,
    }
}

/// Where the command's name is in `argv` (program name first): the first
/// word that is neither a root flag nor a root flag's value.
pub(super) fn command_word(argv: &[String]) -> Option<usize> {
    let mut i = 1;
    while i < argv.len() {
        let a = &argv[i];
        if ROOT_VALUE_FLAGS.contains(&a.as_str()) {
            i += 2;
        } else if a.starts_with('-') {
            i += 1;
        } else {
            return Some(i);
        }
    }
    None
}

/// Whether `argv` runs a script on the usual engine, which is then worth
/// building while the command line is parsed (see `script::prebuild`):
/// not `docs`, `completions` or a bare `orch`, and not a controller
/// (`commands::CONTROLLERS`).
pub(super) fn runs_a_script(argv: &[String]) -> bool {
    command_word(argv).is_some_and(|i| {
        let word = argv[i].as_str();
        !matches!(word, "docs" | "completions" | "help") && !super::commands::CONTROLLERS.contains(&word)
    })
}

/// The stdlib script `argv` seems to run (`service/ls.rhai` for `orch
/// service ls …`, `compose/ps.rhai` for `orch ps`), so the engine built
/// beside the parse registers only the namespaces it names. A wrong guess
/// costs time, never a primitive: `script::engine` checks the script run.
pub(super) fn stdlib_script(argv: &[String]) -> Option<String> {
    let i = command_word(argv)?;
    let word = argv[i].as_str();
    if word == "run" && script_run(argv) {
        return None; // the user's script: every namespace
    }
    if !SWARM_GROUPS.contains(&word) {
        return Some(super::commands::script_path(word, None));
    }
    let sub = argv.get(i + 1).filter(|w| !w.starts_with('-'))?;
    Some(super::commands::script_path(word, Some(sub)))
}

/// The groups that stand in for the docker CLI's swarm commands. Their
/// command lines never reach compose's commands, whose flags are most of
/// the tree clap builds before it parses: a tree for one of them holds
/// that group alone, without compose's commands or the other groups
/// (`orch service ls` is measured against the docker CLI,
/// bench/swarm.sh). Compose's root flags stay.
pub(super) const SWARM_GROUPS: &[&str] = &["swarm", "node", "service", "stack", "secret"];

#[cfg(test)]
mod tests {
    use clap::ArgAction;

    /// Every root flag that takes a value is skipped with its value, or a
    /// value such as `--engine-timeout 5` would be read as the command.
    #[test]
    fn root_value_flags_are_every_root_flag_with_a_value() {
        let root = super::super::command();
        for arg in root.get_arguments() {
            if !matches!(arg.get_action(), ArgAction::Set | ArgAction::Append) || arg.is_positional() {
                continue;
            }
            let forms = arg
                .get_long()
                .map(|l| format!("--{l}"))
                .into_iter()
                .chain(arg.get_short().map(|s| format!("-{s}")));
            for form in forms {
                assert!(super::ROOT_VALUE_FLAGS.contains(&form.as_str()), "{form} is missing");
            }
        }
    }

    #[test]
    fn the_command_word_follows_root_flags_and_their_values() {
        let words = |line: &str| line.split(' ').map(String::from).collect::<Vec<_>>();
        let at = |line: &str| super::command_word(&words(line)).map(|i| words(line)[i].clone());
        assert_eq!(at("orch --engine-timeout 5 service ls").as_deref(), Some("service"));
        assert_eq!(at("orch -p x -f a.yml --dry-run up -d").as_deref(), Some("up"));
        assert_eq!(at("orch --tls -H tcp://h:2376 stack ls").as_deref(), Some("stack"));
        assert_eq!(at("orch --version"), None);
        assert!(!super::script_run(&words("orch --engine-timeout 5 run web echo hi")));
    }
}
