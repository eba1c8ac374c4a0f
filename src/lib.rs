//! orch: programmable container orchestration.
//!
//! A deployment is a Rhai script. The layers, top to bottom:
//! [`cli`] parses the command line and picks a script (a user's, or one of
//! the embedded [`stdlib`] commands); [`script`] builds the Rhai engine and
//! runs it on its own thread; [`api`] holds the primitives the script calls;
//! [`bridge`] turns each primitive's async engine call into a blocking,
//! interruptible call on the script thread; [`docker`] owns the connection
//! to the Docker Engine. See `ARCHITECTURE.md`.

pub mod api;
pub mod autoscale;
pub mod bridge;
pub mod build;
pub mod cli;
pub mod compose;
pub mod context;
pub mod diag;
pub mod docker;
pub mod docs;
pub mod engine_json;
pub mod error;
pub mod gojson;
pub mod memo;
pub mod oci;
pub mod plan;
pub mod script;
pub mod source;
pub mod ssh;
pub mod stack;
pub mod stdlib;
pub mod template;
pub mod units;
