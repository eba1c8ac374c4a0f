//! Scripts on arbitrary text: compile and run with small limits, with no
//! engine to reach and no host access. Any panic or abort is a bug; a
//! script error is not.
//!
//! - The engine: `DOCKER_HOST` names a socket that does not exist, and
//!   `orch::api::confine` turns off `engine::connect`, so no call can reach
//!   the machine's real engine.
//! - The host: `confine` also turns off every primitive that reads or writes
//!   host files, the environment or the terminal (README's trust model),
//!   imports of files included; the embedded `stdlib/` modules still load.
//!   That check is in the primitives, so a name built at run time
//!   (`Fn("write_" + "file")`) is refused as well.
//! - Waiting: scripts naming a call that waits by design are skipped, so
//!   libFuzzer's per-input timeout reports only real hangs.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use orch::source::{Limits, Source};

/// Calls that wait by design (a sleep, a ticker, a health or state wait).
const WAITS: &[&str] = &["sleep", "every", "wait", "follow", "watch"];

fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        // Before the first primitive reads it (the endpoint is made once).
        std::env::set_var("DOCKER_HOST", "unix:///nonexistent/orch-fuzz.sock");
        orch::api::confine();
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap()
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if WAITS.iter().any(|w| text.contains(w)) {
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
