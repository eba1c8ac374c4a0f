//! The Compose loader: compose files → the canonical project document
//! Docker Compose v2 prints with `config --format json`.
pub mod canon;
pub mod emit;
pub mod error;
pub mod interp;
pub mod load;
pub mod mode;
pub mod publish;
pub mod select;
pub mod shell;
pub mod variables;
pub mod yaml;

pub use error::LoadError;
pub use load::{load, load_model, Model, Options, Project};
