//! The command line on arbitrary arguments: clap's parse of every command
//! and flag orch declares, then the conversion of what it matched into the
//! `ARGS` map scripts read. Any panic is a bug (a usage error is not).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    // Arguments are separated by NUL (so one may hold spaces); the first
    // names a command more often when the input starts with one.
    let args: Vec<&str> = std::iter::once("orch").chain(text.split('\0')).collect();
    let cmd = orch::cli::command();
    let Ok(m) = cmd.clone().try_get_matches_from(&args) else { return };
    // Down to the command that runs, as the dispatcher walks it.
    let (mut cmd, mut m) = (cmd, m);
    while let Some((name, sub)) = m.subcommand() {
        let Some(next) = cmd.find_subcommand(name).cloned() else { return };
        let sub = sub.clone();
        cmd = next;
        m = sub;
    }
    let _ = orch::cli::args_map(&cmd, &m);
});
