//! The compose loader as primitives: load a project as `docker compose`
//! would, read it, change it, print it, hand it to the planner.
//!
//! ```rhai
//! let p = compose::load(#{ files: ["compose.yml"] });
//! p.set("web", "image", "web:canary");
//! print(p.to_yaml());
//! plan::compute(p).apply();
//! ```

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use rhai::plugin::*;
use rhai::{Array, Dynamic, Engine, Map, NativeCallContext};
use serde_json::Value;

use super::options::LoadOpts;
use super::value::to_dynamic;
use super::{fail, RhaiResult};
use crate::compose::yaml::{Node, Value as Y};
use crate::compose::{self as loader, LoadError};

/// A loaded compose project. Properties: `name`, `working_dir`,
/// `config_files`, `services` (names), `networks`, `volumes`, `profiles`,
/// `images`, `warnings`.
///
/// Shared, not copied: Rhai copies a value each time a script passes it to
/// one of its functions, and `up` hands the project to a dozen (a deep
/// copy of 500 services each time, ~1 ms). `set` and `select` copy on write.
#[derive(Clone, Debug)]
pub struct Project(pub Arc<loader::Project>);

/// A load error carries its rendered diagnostic, which the CLI prints
/// instead of a script trace.
fn load_error(e: LoadError) -> Box<rhai::EvalAltResult> {
    let message = match e.location() {
        Some(at) => format!("{} ({at})", e.message),
        None => e.message.clone(),
    };
    crate::error::Error::load(message, e.render()).into_rhai()
}

/// A Rhai value as a YAML node (strings stay strings).
fn node_of(v: &Dynamic) -> Node {
    let value = if v.is_unit() {
        Y::Null
    } else if let Ok(b) = v.as_bool() {
        Y::Bool(b)
    } else if let Ok(i) = v.as_int() {
        Y::Int(i)
    } else if let Ok(f) = v.as_float() {
        Y::Float(f)
    } else if let Some(a) = v.clone().try_cast::<Array>() {
        Y::Seq(a.iter().map(node_of).collect())
    } else if let Some(m) = v.clone().try_cast::<Map>() {
        Y::Map(
            m.iter()
                .map(|(k, v)| (Node::new(Y::Str(k.to_string()), Default::default()), node_of(v)))
                .collect(),
        )
    } else {
        Y::Str(v.to_string())
    };
    let mut n = Node::new(value, Default::default());
    n.quoted = true;
    n
}

fn options(what: &str, opts: Map) -> RhaiResult<loader::Options> {
    let o: LoadOpts = crate::api::opts::read(what, opts)?;
    let options = loader::Options {
        files: o
            .files
            .clone()
            .unwrap_or_default()
            .into_iter()
            .map(PathBuf::from)
            .collect(),
        project_name: o.project_name.clone(),
        profiles: o.profiles.clone().unwrap_or_default(),
        env_files: o
            .env_files
            .clone()
            .unwrap_or_default()
            .into_iter()
            .map(PathBuf::from)
            .collect(),
        project_directory: o.project_directory.clone().map(PathBuf::from),
        env: o.env.clone().unwrap_or_default().into_iter().collect::<HashMap<_, _>>(),
        no_interpolate: o.no_interpolate.unwrap_or(false),
        no_consistency: o.no_consistency.unwrap_or(false),
        no_normalize: o.no_normalize.unwrap_or(false),
        no_path_resolution: o.no_path_resolution.unwrap_or(false),
        all_resources: o.all_resources.unwrap_or(false),
        compatibility: o.compatibility.unwrap_or(false),
        cwd: std::env::current_dir().unwrap_or_default(),
    };
    Ok(options)
}

fn load(opts: Map) -> RhaiResult<Project> {
    crate::api::host_access("compose::load")?;
    loader::load(&options("compose::load", opts)?)
        .map(|p| Project(Arc::new(p)))
        .map_err(load_error)
}

/// compose-go's model of the project as text in `format` (`json`, `yaml`),
/// with compose's warnings: `#{ text, warnings }`.
fn model(opts: Map, format: &str) -> RhaiResult<Map> {
    crate::api::host_access("compose::model")?;
    let model = loader::load_model(&options("compose::model", opts)?).map_err(load_error)?;
    let text = match format {
        "json" => go_json(&loader::load::nil_lists_as_null(&model.doc)),
        "yaml" => loader::emit::to_yaml_verbatim(&model.doc),
        other => return fail(format!("compose::model: unsupported format {other:?} (json or yaml)")),
    };
    let warnings: Array = model.warnings.into_iter().map(Dynamic::from).collect();
    Ok(Map::from_iter([
        ("text".into(), text.into()),
        ("warnings".into(), warnings.into()),
    ]))
}

/// `config --variables`: the variables of compose-go's model in `format`
/// (`json`, `yaml`, else compose's table), with compose's warnings.
fn variables(opts: Map, format: &str) -> RhaiResult<Map> {
    use crate::compose::variables as v;
    crate::api::host_access("compose::variables")?;
    let model = loader::load_model(&options("compose::variables", opts)?).map_err(load_error)?;
    let vars = v::extract(&model.doc);
    let text = match format {
        "json" => v::to_json(&vars),
        "yaml" => v::to_yaml(&vars),
        _ => v::table(&vars),
    };
    let warnings: Array = model.warnings.into_iter().map(Dynamic::from).collect();
    Ok(Map::from_iter([
        ("text".into(), text.into()),
        ("warnings".into(), warnings.into()),
    ]))
}

/// JSON as Go's encoder (compose's) prints it, indented by two.
fn go_json(v: &Value) -> String {
    crate::gojson::marshal_indent(v, "  ")
}

fn services_of(p: &Project) -> &serde_json::Map<String, Value> {
    static EMPTY: std::sync::OnceLock<serde_json::Map<String, Value>> = std::sync::OnceLock::new();
    p.0.doc["services"]
        .as_object()
        .unwrap_or_else(|| EMPTY.get_or_init(serde_json::Map::new))
}

#[export_module]
pub mod api {
    use super::*;
    use crate::error::{Error, Kind};

    pub type Project = super::Project;

    /// The Docker Compose version orch stands in for: what it writes into
    /// `com.docker.compose.version` labels (containers, networks, volumes,
    /// built images), so compose treats orch's resources as its own.
    ///
    /// ```rhai
    /// let labels = #{ "com.docker.compose.version": compose::version() };
    /// ```
    pub fn version() -> String {
        crate::plan::desired::COMPOSE_VERSION.to_string()
    }

    /// Loads a compose project exactly as Docker Compose v2 does. Options:
    /// `files` (default: compose.yaml & co. here or above), `project_name`,
    /// `profiles`, `env_files`, `project_directory`, `env` (extra
    /// variables, winning over the process's), `no_interpolate`,
    /// `no_consistency`, `no_normalize`, `no_path_resolution` (as
    /// `config`'s flags), `all_resources` (keep unused networks, volumes,
    /// secrets and configs), `compatibility` (compose v1's `_` in the
    /// names of containers and built images).
    ///
    /// ```rhai
    /// let p = compose::load(#{ files: ["compose.yml"], project_name: "demo" });
    /// ```
    #[rhai_fn(name = "load", return_raw)]
    pub fn load(ctx: NativeCallContext, opts: Map) -> RhaiResult<Project> {
        crate::api::at(&ctx, || super::load(opts))
    }

    /// The project as compose-go's model, what `docker compose config
    /// --no-interpolate` prints: each file as written (no interpolation,
    /// no typed decoding), in canonical syntax, merged, normalised; every
    /// service and resource kept, maps sorted. `format`: `json` or `yaml`.
    /// Options as `compose::load`'s. Returns `#{ text, warnings }`.
    ///
    /// ```rhai
    /// let m = compose::model(#{ files: ["compose.yml"] }, "yaml");
    /// for w in m.warnings { eprint(w); }
    /// print(m.text);
    /// ```
    #[rhai_fn(name = "model", return_raw)]
    pub fn model(ctx: NativeCallContext, opts: Map, format: &str) -> RhaiResult<Map> {
        crate::api::at(&ctx, || super::model(opts, format))
    }

    /// `docker compose config --variables`: the variables compose-go's
    /// model uses, as text in `format` (`json`, `yaml`, `table`). Options
    /// as `compose::load`'s. Returns `#{ text, warnings }`.
    ///
    /// ```rhai
    /// print(compose::variables(#{ files: ["compose.yml"] }, "table").text);
    /// ```
    #[rhai_fn(name = "variables", return_raw)]
    pub fn variables(ctx: NativeCallContext, opts: Map, format: &str) -> RhaiResult<Map> {
        crate::api::at(&ctx, || super::variables(opts, format))
    }

    /// The full diagnostic (file:line:col and the marked source line) of
    /// a load error caught with `try`/`catch`, or the message itself when
    /// it is not one.
    ///
    /// ```rhai
    /// try { compose::load(#{}); } catch (e) { eprint(compose::explain(e)); }
    /// ```
    pub fn explain(error: Dynamic) -> String {
        match error.read_lock::<Error>() {
            Some(e) => match &e.kind {
                Kind::Load { diagnostic } => diagnostic.clone(),
                _ => e.message.clone(),
            },
            None => error.to_string(),
        }
    }

    /// The project's name.
    ///
    /// ```rhai
    /// print(p.name);
    /// ```
    #[rhai_fn(global, get = "name", pure)]
    pub fn name(p: &mut Project) -> String {
        p.0.name.clone()
    }

    /// What joins project, service and number in the names of containers
    /// and built images: `-`, or `_` with `--compatibility`.
    ///
    /// ```rhai
    /// let p = compose::load(#{});
    /// let image = `${p.name}${p.separator}web`;
    /// ```
    #[rhai_fn(global, get = "separator", pure)]
    pub fn separator(p: &mut Project) -> String {
        p.0.separator.to_string()
    }

    /// The project directory (relative paths resolve against it).
    ///
    /// ```rhai
    /// print(p.working_dir);
    /// ```
    #[rhai_fn(global, get = "working_dir", pure)]
    pub fn working_dir(p: &mut Project) -> String {
        p.0.working_dir.display().to_string()
    }

    /// The compose files it was loaded from.
    ///
    /// ```rhai
    /// print(p.config_files);
    /// ```
    #[rhai_fn(global, get = "config_files", pure)]
    pub fn config_files(p: &mut Project) -> Array {
        p.0.config_files.iter().map(|f| Dynamic::from(f.clone())).collect()
    }

    /// Every file the project was read from (compose files, `extends` and
    /// `include` targets, env files), absolute.
    ///
    /// ```rhai
    /// for f in p.source_files { print(f); }
    /// ```
    #[rhai_fn(global, get = "source_files", pure)]
    pub fn source_files(p: &mut Project) -> Array {
        p.0.source_files.iter().map(|f| Dynamic::from(f.clone())).collect()
    }

    /// The names of its services (sorted).
    ///
    /// ```rhai
    /// for s in p.services { print(s); }
    /// ```
    #[rhai_fn(global, get = "services", pure)]
    pub fn services(p: &mut Project) -> Array {
        services_of(p).keys().map(|k| Dynamic::from(k.clone())).collect()
    }

    /// The names of its services in the order `docker compose config
    /// --services` prints them: compose-go's `ForEachService`, each
    /// service after its `depends_on` (compose walks a Go map, so among
    /// unrelated services its order varies; orch's is sorted).
    ///
    /// ```rhai
    /// for s in p.services_in_dependency_order { print(s); }
    /// ```
    #[rhai_fn(global, get = "services_in_dependency_order", pure)]
    pub fn services_in_dependency_order(p: &mut Project) -> Array {
        crate::compose::select::dependency_order(services_of(p))
            .into_iter()
            .map(Dynamic::from)
            .collect()
    }

    /// The project restricted to `names` and what they depend on, as
    /// compose's `config SERVICE...` shows it (compose-go's
    /// `WithSelectedServices`, then `WithoutUnnecessaryResources`):
    /// `depends_on` outside the selection dropped, and the networks,
    /// volumes, secrets and configs no kept service uses. An empty list
    /// keeps everything; an unknown name is compose's "no such service".
    ///
    /// ```rhai
    /// print(p.select(["web"]).to_yaml());
    /// ```
    #[rhai_fn(global, return_raw)]
    pub fn select(p: &mut Project, names: Array) -> RhaiResult<Project> {
        let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        let services = services_of(p);
        if let Some(missing) = names.iter().find(|n| !services.contains_key(n.as_str())) {
            return fail(format!("no such service: {missing}"));
        }
        let mut out = p.clone();
        if !names.is_empty() {
            crate::compose::select::select_services(&mut Arc::make_mut(&mut out.0).doc, &names);
        }
        Ok(out)
    }

    /// Every profile a service declares.
    ///
    /// ```rhai
    /// print(p.profiles);
    /// ```
    #[rhai_fn(global, get = "profiles", pure)]
    pub fn profiles(p: &mut Project) -> Array {
        p.0.all_profiles.iter().map(|f| Dynamic::from(f.clone())).collect()
    }

    /// A variable of the project's environment (the process's over the
    /// `.env` or `--env-file` files'), or `()` when unset.
    ///
    /// ```rhai
    /// let ignore = p.env("COMPOSE_IGNORE_ORPHANS");
    /// ```
    #[rhai_fn(global, pure)]
    pub fn env(p: &mut Project, key: &str) -> Dynamic {
        p.0.environment
            .get(key)
            .map(|v| Dynamic::from(v.clone()))
            .unwrap_or(Dynamic::UNIT)
    }

    /// The project's environment (what `env` reads) as a map.
    ///
    /// ```rhai
    /// for k in p.environment.keys() { print(`${k}=${p.environment[k]}`); }
    /// ```
    #[rhai_fn(global, get = "environment", pure)]
    pub fn environment(p: &mut Project) -> Map {
        p.0.environment
            .iter()
            .map(|(k, v)| (k.as_str().into(), Dynamic::from(v.clone())))
            .collect()
    }

    /// The project's networks (canonical form).
    ///
    /// ```rhai
    /// print(p.networks.keys());
    /// ```
    #[rhai_fn(global, get = "networks", pure)]
    pub fn networks(p: &mut Project) -> Dynamic {
        to_dynamic(p.0.doc.get("networks").unwrap_or(&Value::Object(Default::default())))
    }

    /// The project's volumes (canonical form).
    ///
    /// ```rhai
    /// print(p.volumes.keys());
    /// ```
    #[rhai_fn(global, get = "volumes", pure)]
    pub fn volumes(p: &mut Project) -> Dynamic {
        to_dynamic(p.0.doc.get("volumes").unwrap_or(&Value::Object(Default::default())))
    }

    /// The image each service runs (its `image`, or `<project>-<service>`
    /// for one built here, `_` under `--compatibility`), in service order.
    ///
    /// ```rhai
    /// print(p.images);
    /// ```
    #[rhai_fn(global, get = "images", pure)]
    pub fn images(p: &mut Project) -> Array {
        let (name, sep) = (p.0.name.clone(), p.0.separator);
        services_of(p)
            .iter()
            .map(|(s, v)| {
                Dynamic::from(
                    v["image"]
                        .as_str()
                        .map(str::to_string)
                        .unwrap_or_else(|| format!("{name}{sep}{s}")),
                )
            })
            .collect()
    }

    /// What compose would warn about while loading (unset variables …).
    ///
    /// ```rhai
    /// for w in p.warnings { eprint(w); }
    /// ```
    #[rhai_fn(global, get = "warnings", pure)]
    pub fn warnings(p: &mut Project) -> Array {
        p.0.warnings.iter().map(|f| Dynamic::from(f.clone())).collect()
    }

    /// The names of the services whose definition has the top-level key
    /// `key` (an attribute or an `x-` extension), without turning each
    /// service into a map: `up` asks this of every project.
    ///
    /// ```rhai
    /// for s in p.services_with("x-orch-autoscale") { print(s); }
    /// ```
    #[rhai_fn(global, pure)]
    pub fn services_with(p: &mut Project, key: &str) -> Array {
        services_of(p)
            .iter()
            .filter(|(_, s)| s.get(key).is_some_and(|v| !v.is_null()))
            .map(|(k, _)| Dynamic::from(k.clone()))
            .collect()
    }

    /// One service's configuration (canonical form) as a map.
    ///
    /// ```rhai
    /// print(p.service("web").image);
    /// ```
    #[rhai_fn(global, return_raw)]
    pub fn service(p: &mut Project, name: &str) -> RhaiResult<Dynamic> {
        match services_of(p).get(name) {
            Some(s) => Ok(to_dynamic(s)),
            None => fail(format!("project {}: no such service: {name}", p.0.name)),
        }
    }

    /// Sets a service attribute, normalised as if written in the file
    /// (`()` removes it). Any compose attribute works.
    ///
    /// ```rhai
    /// p.set("web", "image", "web:canary");
    /// p.set("web", "ports", ["8080:80"]);
    /// p.set("worker", "scale", 3);
    /// ```
    #[rhai_fn(global, return_raw)]
    pub fn set(p: &mut Project, service: &str, key: &str, value: Dynamic) -> RhaiResult<()> {
        if !loader::load::is_service_key(key) {
            return fail(format!(
                "project {}: services.{service} additional properties '{key}' not allowed",
                p.0.name
            ));
        }
        let base = p.0.working_dir.clone();
        let normalized = if value.is_unit() {
            None
        } else {
            loader::load::normalize_attribute(service, key, node_of(&value), &base)
                .map_err(|e| format!("services.{service}.{key}: {e}"))?
        };
        let name = p.0.name.clone();
        let Some(svc) = Arc::make_mut(&mut p.0).doc["services"]
            .get_mut(service)
            .and_then(Value::as_object_mut)
        else {
            return fail(format!("project {name}: no such service: {service}"));
        };
        match normalized {
            Some(v) => {
                svc.insert(key.to_string(), v);
            }
            None => {
                svc.shift_remove(key);
            }
        }
        crate::compose::load::reorder_service(svc);
        Ok(())
    }

    /// Docker Compose's configuration hash of a service (as `config --hash`
    /// prints and as the `com.docker.compose.config-hash` label holds).
    ///
    /// ```rhai
    /// print(p.hash("web"));
    /// ```
    #[rhai_fn(global, return_raw)]
    pub fn hash(p: &mut Project, service: &str) -> RhaiResult<String> {
        match services_of(p).get(service) {
            Some(s) => Ok(crate::plan::desired::service_hash(s)),
            None => fail(format!("project {}: no such service: {service}", p.0.name)),
        }
    }

    /// The project as `docker compose config` prints it (YAML).
    ///
    /// ```rhai
    /// print(p.to_yaml());
    /// ```
    #[rhai_fn(global, pure)]
    pub fn to_yaml(p: &mut Project) -> String {
        crate::compose::emit::to_yaml(&p.0.doc)
    }

    /// The project as `docker compose config --format json` prints it.
    ///
    /// ```rhai
    /// print(p.to_json());
    /// ```
    #[rhai_fn(global, pure)]
    pub fn to_json(p: &mut Project) -> String {
        super::go_json(&crate::compose::load::escape_dollars(
            &crate::compose::load::without_service_extensions(&p.0.doc),
        ))
    }

    /// The project in one line, as `print` and `${...}` show it.
    ///
    /// ```rhai
    /// let p = compose::load(#{ files: ["compose.yml"] });
    /// print(`${p}`);   // project demo
    /// ```
    #[rhai_fn(global, name = "to_string", pure)]
    pub fn to_string(p: &mut Project) -> String {
        format!("project {}", p.0.name)
    }

    /// The project with its details, as `debug` shows it.
    ///
    /// ```rhai
    /// let p = compose::load(#{ files: ["compose.yml"] });
    /// debug(p);
    /// ```
    #[rhai_fn(global, name = "to_debug", pure)]
    pub fn to_debug(p: &mut Project) -> String {
        to_string(p)
    }
}

/// `compose::LABELS`: the labels Docker Compose identifies its objects by,
/// so scripts name them instead of spelling them out:
///
/// ```rhai
/// let c = container::list(#{ label: [`${compose::LABELS.project}=demo`] });
/// for x in c { print(x.labels[compose::LABELS.service]); }
/// ```
pub fn labels() -> Dynamic {
    use crate::plan::desired as d;
    let mut m = rhai::Map::new();
    for (k, v) in [
        ("project", d::LABEL_PROJECT),
        ("service", d::LABEL_SERVICE),
        ("number", d::LABEL_NUMBER),
        ("oneoff", d::LABEL_ONEOFF),
        ("config_hash", d::LABEL_HASH),
        ("version", d::LABEL_VERSION),
        ("network", d::LABEL_NETWORK),
        ("volume", d::LABEL_VOLUME),
        ("image", d::LABEL_IMAGE),
        ("depends_on", d::LABEL_DEPENDS_ON),
        ("working_dir", d::LABEL_WORKING_DIR),
        ("config_files", d::LABEL_CONFIG_FILES),
        ("env_file", d::LABEL_ENV_FILE),
        ("replace", d::LABEL_REPLACE),
    ] {
        m.insert(k.into(), v.into());
    }
    m.into()
}

pub fn register_types(engine: &mut Engine) {
    engine.register_type_with_name::<Project>("Project");
}
