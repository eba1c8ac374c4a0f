//! What a script is (its name, text and import folder) and the limits it
//! runs under. A leaf: the runner (`script.rs`) and the renderer of its
//! errors (`diag.rs`) both need these, and keeping them here is what lets
//! `diag` sit below `script` instead of the two importing each other.

use std::path::PathBuf;

/// Resource limits for a script; each has a CLI flag to raise it.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Rhai operations before the script is stopped (0 = no limit).
    pub max_operations: u64,
    /// Depth of nested function calls.
    pub max_call_depth: usize,
    /// Longest string, in bytes.
    pub max_string_size: usize,
    /// Most elements in one array.
    pub max_array_size: usize,
    /// Most entries in one map.
    pub max_map_size: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_operations: 50_000_000,
            max_call_depth: 64,
            max_string_size: 64 << 20,
            max_array_size: 1_000_000,
            max_map_size: 1_000_000,
        }
    }
}

/// A script to run: its text and the name errors show for it.
#[derive(Clone, Debug)]
pub struct Source {
    pub name: String,
    pub text: String,
    /// The folder imports without a folder resolve against.
    pub dir: Option<PathBuf>,
}

/// The highest `--max-call-depth`: its stack (`script::stack_size`) stays a reservation
/// the kernel grants (about 2.5 GB of address space, touched only as used).
pub const MAX_CALL_DEPTH: u64 = 5_000;
