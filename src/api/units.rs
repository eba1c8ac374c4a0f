//! Durations and sizes for scripts, parsed by the one parser orch has for
//! each (`crate::units`), so a flag a script reads means what the same text
//! means in a compose file or to the Docker CLI.

use rhai::plugin::*;

#[export_module]
pub mod api {
    use crate::api::RhaiResult;

    /// A duration in nanoseconds, as Go's `time.ParseDuration` reads it
    /// (what the Docker CLI's duration flags take: `1m30s`, `500ms`, `-1.5h`).
    ///
    /// ```rhai
    /// print(duration("1m30s"));   // 90000000000
    /// ```
    #[rhai_fn(return_raw)]
    pub fn duration(text: &str) -> RhaiResult<i64> {
        crate::units::parse_go_duration(text).map_err(|e| e.to_string().into())
    }

    /// A size in bytes, as go-units' `RAMInBytes` reads it (what
    /// `--memory`, `--limit-memory` and `mem_limit` take; `1k` is 1024).
    ///
    /// ```rhai
    /// print(bytes("512m"));   // 536870912
    /// ```
    #[rhai_fn(return_raw)]
    pub fn bytes(text: &str) -> RhaiResult<i64> {
        crate::units::ram_in_bytes(text).map_err(|e| e.to_string().into())
    }
}
