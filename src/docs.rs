//! `orch docs`: the reference of everything a script can call, generated
//! from the engine's own metadata (so it cannot drift from the code): the
//! primitives' doc comments and the doc comments of Rhai's built-ins
//! (`timestamp()`, `.elapsed`, string and array methods...), with
//! [`BUILTIN_DOCS`] for the few built-ins Rhai leaves undocumented.
//! Functions are shown as a script calls them:
//! `container::create(opts: map) -> Container`, methods as
//! `Container.stop(timeout: int)`, properties as `Container.id`.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use serde_json::Value;

/// One function the engine has registered, as `orch docs` shows it.
#[derive(Debug, Clone)]
pub struct Entry {
    /// How a script calls it: `container::create(opts: map) -> Container`.
    pub signature: String,
    /// What a search for it matches on: the signature up to its
    /// parameters (`container::create`, `Container.id`, `timestamp`).
    pub key: String,
    /// The doc comment's lines (empty when undocumented).
    pub docs: Vec<String>,
    /// One of Rhai's own built-ins rather than an orch primitive.
    pub builtin: bool,
}

/// Docs for Rhai built-ins whose own doc comment is empty, by key.
const BUILTIN_DOCS: &[(&str, &str)] = &[
    (
        "to_int",
        "Converts a number (or a character) to an integer; floats are truncated.\n\n```rhai\nprint((2.7).to_int());   // 2\n```",
    ),
    (
        "to_float",
        "Converts a number to a float.\n\n```rhai\nprint((3).to_float() / 2.0);   // 1.5\n```",
    ),
    (
        "string.append",
        "Appends a value (as text) to the end of a string.\n\n```rhai\nlet s = \"web-\";\ns.append(1);\nprint(s);   // web-1\n```",
    ),
];

/// Rust type names in Rhai's metadata → the names a script writer knows.
fn rhai_type(t: &str) -> String {
    let t = t.trim();
    let t = t
        .strip_prefix("RhaiResult<")
        .or_else(|| t.strip_prefix("Result<"))
        .and_then(|s| s.strip_suffix('>'))
        .map(|s| s.strip_suffix(", Box<EvalAltResult>").unwrap_or(s))
        .unwrap_or(t);
    let t = t
        .trim_start_matches("mut ")
        .trim_start_matches("&mut ")
        .trim_start_matches('&');
    match t {
        "str" | "String" | "ImmutableString" => "string",
        "i64" | "INT" => "int",
        "f64" | "FLOAT" => "float",
        "Map" => "map",
        "Array" => "array",
        "Blob" => "blob",
        "Dynamic" => "any",
        "FnPtr" => "fn",
        "()" => "",
        other => other,
    }
    .to_string()
}

/// Integer and float widths Rhai registers operators for but a script
/// never holds (its literals are `int` and `float`): their overloads are
/// not shown.
const NARROW: &[&str] = &["i8", "i16", "i32", "i128", "u8", "u16", "u32", "u64", "u128", "f32"];

/// A function's signature and key as a script calls it, or `None` for an
/// operator (`+`, `==`: language, not functions) or an overload on a
/// number width scripts do not have.
fn signature(module: &str, f: &Value) -> Option<(String, String)> {
    let name = f["name"].as_str()?;
    let plain = name.starts_with(|c: char| c.is_alphabetic() || c == '_');
    if !plain {
        return None;
    }
    let params: Vec<(String, String)> = f["params"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| {
            let n = p["name"].as_str().unwrap_or("_").trim_start_matches("mut ").to_string();
            let t = p["type"].as_str().unwrap_or("").to_string();
            (n, t)
        })
        .filter(|(n, _)| n != "ctx")
        .collect();
    if params.iter().any(|(_, t)| NARROW.contains(&rhai_type(t).as_str())) {
        return None;
    }
    let ret = rhai_type(f["returnType"].as_str().unwrap_or("()"));
    let ret = if ret.is_empty() {
        String::new()
    } else {
        format!(" -> {ret}")
    };
    // Properties always take their object first; other functions are
    // methods when they change their first argument in place.
    let property = name.starts_with("get$") || name.starts_with("set$");
    let receiver = params
        .first()
        .filter(|(_, t)| property || t.starts_with("&mut "))
        .map(|(_, t)| rhai_type(t));
    if let Some(ty) = &receiver {
        if let Some(prop) = name.strip_prefix("get$") {
            return Some((format!("{ty}.{prop}{ret}"), format!("{ty}.{prop}")));
        }
        if let Some(prop) = name.strip_prefix("set$") {
            let value = params.get(1).map(|(_, t)| rhai_type(t)).unwrap_or_default();
            return Some((format!("{ty}.{prop} = {value}"), format!("{ty}.{prop}")));
        }
    }
    let shown = |ps: &[(String, String)]| {
        ps.iter()
            .map(|(n, t)| {
                if t.is_empty() {
                    n.clone()
                } else {
                    format!("{n}: {}", rhai_type(t))
                }
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    let key = match (&receiver, module.is_empty()) {
        (Some(ty), _) => format!("{ty}.{name}"),
        (None, true) => name.to_string(),
        (None, false) => format!("{module}::{name}"),
    };
    let args = match receiver {
        Some(_) => shown(&params[1..]),
        None => shown(&params),
    };
    Some((format!("{key}({args}){ret}"), key))
}

/// Every function registered on a script engine (orch's primitives in
/// every namespace, methods, getters, setters and Rhai's built-ins), with
/// its docs; sorted by signature, one entry per signature.
pub fn entries() -> crate::error::Result<Vec<Entry>> {
    let engine = crate::script::engine(
        &crate::script::Limits::default(),
        None,
        Arc::new(Mutex::new(Vec::new())),
        &crate::api::Namespaces::All,
    );
    let ours = own_functions(&engine)?;
    let all = metadata(&engine, true)?;
    let mut entries: Vec<Entry> = Vec::new();
    let mut collect = |module: &str, fns: &Value| {
        for f in fns.as_array().into_iter().flatten() {
            let Some((signature, key)) = signature(module, f) else {
                continue;
            };
            let mut docs: Vec<String> = f["docComments"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|d| d.as_str())
                .flat_map(|d| d.lines().map(|l| l.trim_start_matches("///").trim_start().to_string()))
                .collect();
            if docs.is_empty() {
                if let Some((_, text)) = BUILTIN_DOCS.iter().find(|(k, _)| *k == key) {
                    docs = text.lines().map(str::to_string).collect();
                }
            }
            let builtin = !ours.contains(&(module.to_string(), f["signature"].to_string()));
            entries.push(Entry {
                signature,
                key,
                docs,
                builtin,
            });
        }
    };
    each_function(&all, &mut collect);
    entries.sort_by(|a, b| a.signature.cmp(&b.signature).then(b.docs.len().cmp(&a.docs.len())));
    entries.dedup_by(|a, b| a.signature == b.signature);
    Ok(entries)
}

/// The engine's function metadata, with or without Rhai's packages.
fn metadata(engine: &rhai::Engine, with_builtins: bool) -> crate::error::Result<Value> {
    let json = engine
        .gen_fn_metadata_to_json(with_builtins)
        .map_err(|e| format!("cannot generate the API listing: {e}"))?;
    serde_json::from_str(&json).map_err(|e| format!("cannot read the API listing: {e}").into())
}

/// (namespace, Rust signature) of every function orch registered, to tell
/// them from Rhai's built-ins in the full listing.
fn own_functions(engine: &rhai::Engine) -> crate::error::Result<HashSet<(String, String)>> {
    let mut ids = HashSet::new();
    each_function(&metadata(engine, false)?, &mut |m: &str, fns: &Value| {
        for f in fns.as_array().into_iter().flatten() {
            ids.insert((m.to_string(), f["signature"].to_string()));
        }
    });
    Ok(ids)
}

/// Calls `f` with each namespace's name (empty for global functions) and
/// its functions.
fn each_function(meta: &Value, f: &mut dyn FnMut(&str, &Value)) {
    if let Some(mods) = meta["modules"].as_object() {
        for (m, body) in mods {
            f(m, &body["functions"]);
        }
    }
    f("", &meta["functions"]);
}

/// Prints every documented function's signature and docs, optionally only
/// those whose signature contains `filter`. Returns how many it printed
/// (0 = nothing matched, or the listing could not be made).
pub fn print(filter: Option<&str>) -> usize {
    let entries = match entries() {
        Ok(e) => e,
        Err(e) => {
            eprintln!("error: {e}");
            return 0;
        }
    };
    // `orch docs | head` closes stdout early: stop quietly, not panic.
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let mut printed = 0;
    for e in entries {
        if e.docs.is_empty() || filter.is_some_and(|f| !e.signature.contains(f)) {
            continue;
        }
        printed += 1;
        let mut text = format!("{}\n", e.signature);
        for d in e.docs {
            text.push_str(&format!("    {d}\n"));
        }
        text.push('\n');
        if out.write_all(text.as_bytes()).is_err() {
            break;
        }
    }
    printed
}
