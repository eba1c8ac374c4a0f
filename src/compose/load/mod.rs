//! Loading a project as Docker Compose v2 does, phase by phase (as
//! compose-go's `loader/`): find the files and the project's variables
//! (`project`, `env`), parse and interpolate each file (`parse`,
//! `interpolate`), normalise each service (`service`, `develop`), resolve
//! `extends`, merge the files with what their `include:` imports (`merge`,
//! `include`), apply profiles, check and complete the services
//! (`validate`, `normalize`), and build the canonical document
//! (`document`), keys in compose's order (`schema`).

mod develop;
mod document;
mod env;
mod extends;
mod hooks;
mod include;
mod interpolate;
mod merge;
mod model;
mod model_canon;
mod model_files;
mod model_merge;
mod model_normalize;
mod normalize;
mod parse;
mod project;
mod schema;
mod service;
mod validate;

#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::canon::Invalid;
use super::error::LoadError;
use super::yaml::{Node, Value as Y};

pub use document::{escape_dollars, strip_service_extensions, without_service_extensions};
pub use env::read_dotenv;
pub use model::{load_model, nil_lists_as_null, Model};
pub use project::{normalize_name, stdin_text, DEFAULT_FILES};
pub use schema::{is_service_key, reorder_service, SERVICE_ORDER};

/// Everything `-f`, `-p`, `--profile`, `--env-file`, `--project-directory`
/// and a script's extra `env` say.
#[derive(Clone, Debug, Default)]
pub struct Options {
    pub files: Vec<PathBuf>,
    pub project_name: Option<String>,
    pub profiles: Vec<String>,
    pub env_files: Vec<PathBuf>,
    pub project_directory: Option<PathBuf>,
    /// Variables that win over the process environment.
    pub env: HashMap<String, String>,
    /// `--no-interpolate`: leave `${...}` as written.
    pub no_interpolate: bool,
    /// `config --no-consistency`: skip compose-go's checkConsistency
    /// (undefined networks, volumes, services depended on ...).
    pub no_consistency: bool,
    /// `config --no-normalize`: skip compose-go's Normalize (implied
    /// dependencies, the default network, resource names, build defaults).
    pub no_normalize: bool,
    /// `config --no-path-resolution`: relative paths stay as written.
    pub no_path_resolution: bool,
    /// `--all-resources`: keep the networks, volumes, secrets and configs
    /// no service uses (compose drops them otherwise).
    pub all_resources: bool,
    /// `--compatibility`: compose v1's `_` in the names compose makes
    /// (containers, default images); also `COMPOSE_COMPATIBILITY`.
    pub compatibility: bool,
    /// Where to look for compose files (the current directory).
    pub cwd: PathBuf,
}

/// A loaded project.
#[derive(Clone, Debug)]
pub struct Project {
    pub name: String,
    pub working_dir: PathBuf,
    pub config_files: Vec<String>,
    /// The canonical document (in memory: `$` not escaped).
    pub doc: Value,
    /// Profiles any service declares (for `config --profiles`).
    pub all_profiles: Vec<String>,
    /// Services left out by the active profiles: never orphans.
    pub disabled_services: Vec<String>,
    /// What compose would warn about (unset variables, obsolete keys).
    pub warnings: Vec<String>,
    /// Every file the project was read from: compose files with their
    /// `extends` and `include` targets, and the project's env files (the
    /// `.env` it would read, even if missing): what `orch watch` watches.
    pub source_files: Vec<String>,
    /// The `--env-file`s as compose labels containers with them: absolute
    /// (from the current directory, `~` expanded), cleaned; empty for the
    /// default `.env`.
    pub env_files: Vec<String>,
    /// The project's environment (the process, `--env-file`/`.env`, a
    /// script's `env`): where `environment:` secrets and configs read.
    pub environment: HashMap<String, String>,
    /// What joins project, service and number in the names compose makes:
    /// `-`, or `_` with `--compatibility` / `COMPOSE_COMPATIBILITY`.
    pub separator: &'static str,
}

/// What both of compose's pipelines (the project, and the model that
/// `config --no-interpolate` prints) start from.
pub(super) struct Start {
    pub cwd: PathBuf,
    /// The process environment with the project's env files added.
    pub env: HashMap<String, String>,
    /// The compose files, in order.
    pub paths: Vec<PathBuf>,
    pub working_dir: PathBuf,
}

/// Which files, which working directory, which variables.
pub(super) fn start(opts: &Options) -> Result<Start, LoadError> {
    let cwd = project::cwd(opts);
    let mut env = env::process_env(opts);
    let paths = project::compose_files(opts, &cwd, &env)?;
    let working_dir = project::working_dir(opts, &cwd, &paths);
    let env_files = env::project_env_files(opts, &cwd, &working_dir, &env)?;
    env::add_env_files(&mut env, &env_files)?;
    Ok(Start {
        cwd,
        env,
        paths,
        working_dir,
    })
}

/// Loads a project.
pub fn load(opts: &Options) -> Result<Project, LoadError> {
    let Start {
        cwd,
        env,
        paths,
        working_dir,
    } = start(opts)?;
    let _mode = crate::compose::mode::scope(opts.no_normalize, opts.no_path_resolution, &working_dir);

    let mut files = Files::default();
    let mut unset = Vec::new();
    let mut warnings = Vec::new();
    let mut cx = merge::Cx {
        files: &mut files,
        unset: &mut unset,
        warnings: &mut warnings,
        no_interpolate: opts.no_interpolate,
    };
    let mut acc = merge::load_files(&mut cx, &paths, &working_dir, &env, &[])?;
    unset.sort();
    unset.dedup();
    for u in &unset {
        warnings.push(format!(
            "The \"{u}\" variable is not set. Defaulting to a blank string."
        ));
    }

    let name = project::name(opts, &env, acc.file_name.take(), &working_dir)?;
    let active = project::active_profiles(opts, &env);
    let (mut services, all_profiles, disabled_services) =
        project::by_profiles(std::mem::take(&mut acc.merged), &active);
    let mut declared = validate::Declared::of(&acc);
    declared.unchecked = opts.no_consistency;
    let uses_default = normalize::services(&mut services, &acc.service_nodes, &declared, &files)?;
    if !opts.no_consistency {
        validate::depends_on(&services, &acc.service_nodes, &files)?;
        validate::check_cycles(&services, &acc.service_nodes, &files)?;
    }
    let default_network = uses_default && !declared.networks.contains("default");
    let doc = document::build(&name, services, acc, default_network, opts.all_resources, &files)?;

    Ok(Project {
        name,
        source_files: project::source_files(opts, &cwd, &working_dir, &files.list),
        working_dir,
        config_files: paths.iter().map(|p| p.display().to_string()).collect(),
        doc,
        all_profiles,
        disabled_services,
        warnings,
        env_files: env::explicit_env_files(opts, &cwd),
        // compose's utils.StringToBool: anything but a true is false.
        separator: match env.get("COMPOSE_COMPATIBILITY").map(String::as_str) {
            _ if opts.compatibility => "_",
            Some("1" | "t" | "T" | "TRUE" | "true" | "True") => "_",
            _ => "-",
        },
        environment: env,
    })
}

/// Normalises one attribute a script sets on a service, exactly as if it
/// had been written in the compose file.
pub fn normalize_attribute(
    service_name: &str,
    key: &str,
    value: Node,
    base: &Path,
) -> Result<Option<Value>, LoadError> {
    let env: HashMap<String, String> = std::env::vars().collect();
    let files = Files {
        list: vec![("(script)".into(), String::new())],
    };
    let map = Node::new(
        Y::Map(vec![(Node::new(Y::Str(key.to_string()), value.span), value)]),
        Default::default(),
    );
    let (m, _) = service::service(service_name, &map, base, &env, &files).map_err(|mut e| {
        e.at = None;
        e
    })?;
    Ok(m.get(key).cloned())
}

/// The files the project is read from, with their text (for diagnostics).
#[derive(Default)]
struct Files {
    list: Vec<(String, String)>,
}

impl Files {
    fn error_at(&self, node: &Node, message: impl Into<String>) -> LoadError {
        let (name, text) = self.list.get(node.span.file).cloned().unwrap_or_default();
        LoadError {
            message: message.into(),
            at: Some(Box::new((name, text, node.span))),
            help: None,
        }
    }

    fn invalid(&self, e: Invalid) -> LoadError {
        let (name, text) = self.list.get(e.span.file).cloned().unwrap_or_default();
        LoadError {
            message: e.message,
            at: Some(Box::new((name, text, e.span))),
            help: None,
        }
    }
}
