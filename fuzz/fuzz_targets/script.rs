//! Scripts on arbitrary text: compile and run with small limits, with no
//! engine to reach (DOCKER_HOST names a socket that does not exist) and
//! without the calls that wait, exit or touch host files. Any panic or
//! abort is a bug; a script error is not.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use orch::source::{Limits, Source};

/// Calls left out: they wait (sleep, every, watch, follow, wait), end the
/// process, or read and write host files.
const SKIPPED: &[&str] = &[
    "sleep", "exit", "every", "watch", "follow", "wait", "file", "write", "read", "exec", "stdin", "import", "eval",
];

fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        std::env::set_var("DOCKER_HOST", "unix:///nonexistent/orch-fuzz.sock");
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap()
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if SKIPPED.iter().any(|w| text.contains(w)) {
        return;
    }
    let limits = Limits {
        max_operations: 200_000,
        max_call_depth: 32,
        max_string_size: 1 << 16,
        max_array_size: 10_000,
        max_map_size: 10_000,
    };
    let src = Source {
        name: "fuzz.rhai".into(),
        text: text.to_string(),
        dir: None,
    };
    let _ = orch::script::execute(runtime(), src, rhai::Dynamic::UNIT, limits);
});
