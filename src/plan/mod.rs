//! The planner and the applier: how orch turns a compose project into
//! running containers, touching only what changed.
//!
//! - [`desired`]: the project as it should be (from compose's canonical
//!   JSON document), with Docker Compose's names, labels and config hash.
//! - [`observed`]: what the engine has for the project, found by labels.
//! - [`diff`]: the plan, the steps between the two.
//! - [`apply`]: runs the plan as a dependency graph, in parallel.

pub mod anon;
pub mod apisocket;
pub mod apply;
pub mod body;
pub mod build;
pub mod containers;
pub mod create;
pub mod dependents;
pub mod desired;
pub mod diff;
pub mod down;
pub mod dry;
pub mod features;
pub mod history;
pub mod hooks;
pub mod lifecycle;
pub mod limits;
pub mod lock;
pub mod mounts;
pub mod observed;
pub mod oneoff;
pub mod recheck;
pub mod refs;
pub mod repair;
pub mod replicas;
pub mod resources;
pub mod rollout;
pub mod secrets;
pub mod values;
pub mod wait;
