//! Autoscaling: the Kubernetes HPA algorithm as pure functions over a state
//! the caller keeps (no engine, no clock unless asked for one).

pub mod recommend;
pub mod script_at;
