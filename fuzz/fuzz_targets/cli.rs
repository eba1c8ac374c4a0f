//! The command line on arbitrary arguments, as `orch::cli::main` reads it
//! before running anything: clap's parse of every command and flag orch
//! declares (the tree itself depends on the words: `run FILE.rhai` or
//! compose's `run SERVICE`), the exit code of a usage error, and the
//! `ARGS` map the command's script would get. Any panic is a bug (a usage
//! error is not).
#![no_main]

use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // Arguments are separated by NUL (so one may hold spaces); any bytes,
    // as a shell may pass words that are not UTF-8.
    let argv: Vec<OsString> = std::iter::once(OsString::from("orch"))
        .chain(data.split(|b| *b == 0).map(|w| OsString::from_vec(w.to_vec())))
        .collect();
    match orch::cli::parse(&argv) {
        Ok((tree, m)) => {
            let _ = orch::cli::script_args(&tree, &m);
        }
        Err((e, code)) => {
            // Rendered as main prints it (not printed: libFuzzer's output).
            let _ = e.render();
            assert!(matches!(code, 0 | 1 | 2 | 125), "exit code {code} for {argv:?}");
        }
    }
});
