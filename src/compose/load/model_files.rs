//! The model's files (`model`), as compose-go's `loadYamlModel` and
//! `loadYamlFile` read them: each file's tree gets its `extends` resolved
//! (a base from the same file or another one, merged under the service),
//! its `include:` entries loaded as projects of their own and imported,
//! and is merged onto the files before; paths stay relative to the
//! loading project's directory until the project above resolves them.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use super::develop::check_develop;
use super::include::{cycle_message, include_env, IncludeEnvError};
use super::model::{remove_path, tree};
use super::model_canon::{canonical, defaults_paths_env, service_paths};
use super::model_merge::{merge_map, unicity};
use super::parse::read_file;
use super::schema::{is_service_key, TOP_KEYS};
use super::Files;
use crate::compose::canon;
use crate::compose::error::LoadError;
use crate::compose::yaml::Node;

/// The files read (for diagnostics) and what compose would warn about.
#[derive(Default)]
pub(super) struct Reader {
    pub(super) files: Files,
    pub(super) warnings: Vec<String>,
}

/// Where one load reads: `loader_dir` is the absolute folder relative
/// `extends`/`include` files are found in; `wd` the project directory
/// relative paths are resolved against (relative to the including
/// project's when included, as compose-go's loaders report it).
pub(super) struct Place {
    pub(super) loader_dir: PathBuf,
    pub(super) wd: PathBuf,
}

/// compose-go's `loadYamlModel`: the files merged in order, then default
/// values, paths resolved against `place.wd` and the environment.
pub(super) fn load_yaml_model(
    files: &mut Reader,
    place: &Place,
    paths: &[PathBuf],
    env: &HashMap<String, String>,
    included: &[PathBuf],
) -> Result<Map<String, Value>, LoadError> {
    let mut dict = Map::new();
    for p in paths {
        load_yaml_file(files, place, p, env, &mut dict, Some(included))?;
    }
    defaults_paths_env(&mut dict, &place.wd, env);
    Ok(dict)
}

/// compose-go's `loadYamlFile`: one file merged onto `dict`. `included`
/// is the include chain, `None` for an `extends` base file (read without
/// its own `extends` and `include:`). Returns the paths the file tags
/// `!reset`/`!override`.
pub(super) fn load_yaml_file(
    files: &mut Reader,
    place: &Place,
    path: &Path,
    env: &HashMap<String, String>,
    dict: &mut Map<String, Value>,
    included: Option<&[PathBuf]>,
) -> Result<Vec<Vec<String>>, LoadError> {
    let root = read_file(path, &mut files.files)?;
    let mut resets = Vec::new();
    let Value::Object(mut cfg) = tree(&root, &mut Vec::new(), &mut resets) else {
        return Err(LoadError::plain("Top-level object must be a mapping"));
    };
    if let Some(included) = included {
        // `develop:` against the schema (its shape is what `orch watch`
        // relies on), on the file's own tree.
        for (k, svc) in root.get("services").and_then(Node::as_map).into_iter().flatten() {
            if let Some(d) = svc.get("develop") {
                check_develop(&k.scalar_text().unwrap_or_default(), d, &files.files)?;
            }
        }
        apply_extends(files, &mut cfg, path, &place.loader_dir, &resets)?;
        // `!reset` and `!override` drop what the files before said there.
        for r in &resets {
            remove_path(dict, r);
        }
        let mut chain = included.to_vec();
        chain.push(path.to_path_buf());
        apply_include(files, &mut cfg, place, env, &chain)?;
        if cfg.shift_remove("version").is_some() {
            files.warnings.push(format!(
                "{}: the attribute `version` is obsolete, it will be ignored, please remove it to avoid potential confusion",
                path.display()
            ));
        }
    }
    merge_map(dict, cfg, &mut Vec::new());
    unicity(dict)?;
    if included.is_some() {
        check_keys(dict, path)?;
    }
    // On the merged tree, as compose-go; short forms may reveal
    // duplicates (a port range against an override's port).
    canonical(dict, &mut files.warnings)?;
    unicity(dict)?;
    Ok(resets)
}

/// The part of compose's schema the model checks: known top-level and
/// service keys (or `x-` extensions), services as mappings.
fn check_keys(dict: &Map<String, Value>, file: &Path) -> Result<(), LoadError> {
    let fail = |what: String| Err(LoadError::plain(format!("validating {}: {what}", file.display())));
    for k in dict.keys() {
        if !k.starts_with("x-") && !TOP_KEYS.contains(&k.as_str()) {
            return fail(format!("additional properties '{k}' not allowed"));
        }
    }
    let services = match dict.get("services") {
        None | Some(Value::Null) => return Ok(()),
        Some(Value::Object(s)) => s,
        Some(_) => return fail("services must be a mapping".into()),
    };
    for (name, s) in services {
        // The schema's pattern for service names.
        if !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        {
            return fail(format!("services additional properties '{name}' not allowed"));
        }
        let Value::Object(s) = s else {
            return fail(format!("services.{name} must be a mapping"));
        };
        if let Some(k) = s.keys().find(|k| !k.starts_with("x-") && !is_service_key(k)) {
            return fail(format!("services.{name} additional properties '{k}' not allowed"));
        }
    }
    Ok(())
}

fn apply_extends(
    files: &mut Reader,
    cfg: &mut Map<String, Value>,
    file: &Path,
    loader_dir: &Path,
    post: &[Vec<String>],
) -> Result<(), LoadError> {
    let Some(Value::Object(services)) = cfg.get_mut("services") else {
        return Ok(());
    };
    let names: Vec<String> = services.keys().cloned().collect();
    for name in names {
        let at = Base { file, loader_dir };
        if let Some(merged) = service_extends(files, &name, services, &at, post, &[])? {
            services.insert(name, merged);
        }
    }
    Ok(())
}

/// The file a service is read from and where its relative `extends` files
/// are.
struct Base<'a> {
    file: &'a Path,
    loader_dir: &'a Path,
}

/// compose-go's `applyServiceExtends`: `name` merged onto its base
/// (resolved first), its `extends` dropped. `post` are the reset paths of
/// the file `name` is written in, applied to the base's copy.
fn service_extends(
    files: &mut Reader,
    name: &str,
    services: &mut Map<String, Value>,
    at: &Base,
    post: &[Vec<String>],
    chain: &[(PathBuf, String)],
) -> Result<Option<Value>, LoadError> {
    let service = match services.get(name) {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Object(m)) => m.clone(),
        Some(_) => return Err(LoadError::plain(format!("services.{name} must be a mapping"))),
    };
    let Some(ext) = service.get("extends") else {
        return Ok(Some(Value::Object(service)));
    };
    let (reference, ext_file) = extends_ref(name, ext)?;
    // compose-go's cycle tracker: a service keyed by the file its base is
    // read from (its own file when the base is a sibling).
    let local = ext_file
        .as_ref()
        .map(|f| PathBuf::from(canon::clean(&at.loader_dir.join(f))));
    let key = (local.clone().unwrap_or_else(|| at.file.to_path_buf()), name.to_string());
    let chain = super::extends::link(chain, key, at.loader_dir)?;
    let base = match ext_file {
        Some(f) => {
            let local = local.unwrap_or_default();
            let rel_wd = loader_rel_dir(at.loader_dir, &f);
            let local_dir = local.parent().map(Path::to_path_buf).unwrap_or_default();
            let place = Place {
                loader_dir: local_dir.clone(),
                wd: rel_wd.clone(),
            };
            let mut source = Map::new();
            let resets = load_yaml_file(files, &place, &local, &HashMap::new(), &mut source, None)?;
            let Some(Value::Object(mut others)) = source.shift_remove("services") else {
                return Err(LoadError::plain(format!(
                    "cannot extend service {name:?} in {}: no services section",
                    local.display()
                )));
            };
            if !others.contains_key(&reference) {
                return Err(LoadError::plain(format!(
                    "cannot extend service {name:?} in {}: service {reference:?} not found in {f}",
                    at.file.display()
                )));
            }
            for s in others.values_mut().filter_map(Value::as_object_mut) {
                service_paths(s, &rel_wd);
            }
            // compose-go resolves the base's own `extends.file` against
            // `rel_wd` above and reads it with the same loader: so here.
            let there = Base {
                file: &local,
                loader_dir: at.loader_dir,
            };
            service_extends(files, &reference, &mut others, &there, &resets, &chain)?
        }
        None => {
            if !services.contains_key(&reference) {
                return Err(LoadError::plain(format!(
                    "cannot extend service {name:?} in {}: service {reference:?} not found",
                    at.file.display()
                )));
            }
            service_extends(files, &reference, services, at, &[], &chain)?
        }
    };
    let Some(Value::Object(mut source)) = base else {
        return Ok(Some(Value::Object(service)));
    };
    for r in post {
        if let [s, n, rest @ ..] = r.as_slice() {
            if s == "services" && n == name && !rest.is_empty() {
                remove_path(&mut source, rest);
            }
        }
    }
    merge_map(&mut source, service, &mut vec!["services".into(), "x".into()]);
    source.shift_remove("extends");
    services.insert(name.to_string(), Value::Object(source.clone()));
    Ok(Some(Value::Object(source)))
}

/// An `extends` entry: the base service's name and the file it is in
/// (none: this file).
fn extends_ref(name: &str, ext: &Value) -> Result<(String, Option<String>), LoadError> {
    match ext {
        Value::Object(e) => match e.get("service").and_then(Value::as_str) {
            Some(s) => Ok((s.to_string(), e.get("file").and_then(Value::as_str).map(str::to_string))),
            None => Err(LoadError::plain(format!("extends.{name}.service is required"))),
        },
        Value::String(s) => Ok((s.clone(), None)),
        _ => Err(LoadError::plain(format!(
            "services.{name}.extends must be a string or a mapping"
        ))),
    }
}

/// compose-go's `localResourceLoader.Dir`: the folder of `p` (or `p`, a
/// folder), relative to the loader's.
fn loader_rel_dir(loader_dir: &Path, p: &str) -> PathBuf {
    let abs = PathBuf::from(canon::clean(&loader_dir.join(p)));
    let dir = if abs.is_dir() {
        abs
    } else {
        PathBuf::from(canon::clean(
            &loader_dir.join(Path::new(p).parent().unwrap_or(Path::new(""))),
        ))
    };
    rel(loader_dir, &dir)
}

/// Go's `filepath.Rel` for two absolute, clean paths.
fn rel(base: &Path, target: &Path) -> PathBuf {
    let b: Vec<_> = base.components().collect();
    let t: Vec<_> = target.components().collect();
    let common = b.iter().zip(&t).take_while(|(x, y)| x == y).count();
    let mut out = PathBuf::new();
    for _ in common..b.len() {
        out.push("..");
    }
    for c in &t[common..] {
        out.push(c);
    }
    if out.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        out
    }
}

/// One `include:` entry: its files, `project_directory`, `env_file`s.
type IncludeEntry = (Vec<String>, Option<String>, Vec<String>);

fn include_entry(entry: &Value) -> Result<IncludeEntry, LoadError> {
    let list = |v: Option<&Value>| -> Vec<String> {
        match v {
            Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).map(str::to_string).collect(),
            Some(Value::String(s)) => vec![s.clone()],
            _ => Vec::new(),
        }
    };
    match entry {
        Value::String(s) => Ok((vec![s.clone()], None, Vec::new())),
        Value::Object(m) => Ok((
            list(m.get("path")),
            m.get("project_directory").and_then(Value::as_str).map(str::to_string),
            list(m.get("env_file")),
        )),
        _ => Err(LoadError::plain("include: expected a string or a mapping")),
    }
}

/// compose-go's `ApplyInclude`: each entry loaded as a project of its own
/// (its directory, `.env`, paths) and its resources imported into `cfg`.
fn apply_include(
    files: &mut Reader,
    cfg: &mut Map<String, Value>,
    place: &Place,
    env: &HashMap<String, String>,
    included: &[PathBuf],
) -> Result<(), LoadError> {
    let entries = match cfg.shift_remove("include") {
        None | Some(Value::Null) => return Ok(()),
        Some(Value::Array(a)) => a,
        Some(other) => return Err(LoadError::plain(format!("`include` must be a list, got {other}"))),
    };
    for entry in &entries {
        let (paths, project_directory, env_files) = include_entry(entry)?;
        let Some(first) = paths.first() else {
            return Err(LoadError::plain("include: `path` is required"));
        };
        let abs: Vec<PathBuf> = paths
            .iter()
            .map(|p| PathBuf::from(canon::clean(&place.loader_dir.join(p))))
            .collect();
        let (rel_wd, project_dir) = match &project_directory {
            None => (
                loader_rel_dir(&place.loader_dir, first),
                abs[0].parent().map(Path::to_path_buf).unwrap_or_default(),
            ),
            Some(d) if !d.starts_with('/') => (
                loader_rel_dir(&place.loader_dir, d),
                PathBuf::from(canon::clean(&place.wd.join(d))),
            ),
            Some(d) => (PathBuf::from(d), PathBuf::from(d)),
        };
        if included.contains(&abs[0]) {
            return Err(LoadError::plain(cycle_message(included, &abs[0])));
        }
        let env_files: Vec<PathBuf> = env_files
            .iter()
            .map(|f| match f.starts_with('/') {
                true => PathBuf::from(f),
                false => PathBuf::from(canon::clean(&place.wd.join(f))),
            })
            .collect();
        let sub_env = include_env(&env_files, &project_dir, env).map_err(|e| match e {
            IncludeEnvError::File(m) | IncludeEnvError::Read(m) => LoadError::plain(m),
        })?;
        let sub = Place {
            loader_dir: project_dir,
            wd: rel_wd,
        };
        let imported = load_yaml_model(files, &sub, &abs, &sub_env, included)?;
        import_resources(imported, cfg)?;
    }
    Ok(())
}

/// compose-go's `importResources`: a resource both define differently is
/// an error.
fn import_resources(mut source: Map<String, Value>, target: &mut Map<String, Value>) -> Result<(), LoadError> {
    for key in ["services", "volumes", "networks", "secrets", "configs", "models"] {
        let Some(Value::Object(from)) = source.shift_remove(key) else {
            continue;
        };
        let to = target.entry(key).or_insert_with(|| Value::Object(Map::new()));
        if to.is_null() {
            *to = Value::Object(Map::new());
        }
        let Value::Object(to) = to else { continue };
        for (name, a) in from {
            match to.get(&name) {
                Some(existing) if existing == &a => {}
                Some(_) => {
                    return Err(LoadError::plain(format!(
                        "{key}.{name} conflicts with imported resource"
                    )));
                }
                None => {
                    to.insert(name, a);
                }
            }
        }
    }
    Ok(())
}
