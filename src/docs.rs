//! `orch docs`: the API reference, generated from the primitives' own doc
//! comments (so it cannot drift from the code). Functions are shown as a
//! script calls them: `container::create(opts: map) -> Container`,
//! methods as `Container.stop(timeout: int)`, properties as `Container.id`.

use std::sync::{Arc, Mutex};

use serde_json::Value;

/// Rust type names in Rhai's metadata → the names a script writer knows.
fn rhai_type(t: &str) -> String {
    let t = t.trim();
    let t = t
        .strip_prefix("RhaiResult<")
        .and_then(|s| s.strip_suffix('>'))
        .unwrap_or(t);
    let t = t.trim_start_matches("&mut ").trim_start_matches('&');
    match t {
        "str" | "String" | "ImmutableString" => "string",
        "i64" | "INT" => "int",
        "f64" | "FLOAT" => "float",
        "Map" => "map",
        "Array" => "array",
        "Dynamic" => "any",
        "FnPtr" => "fn",
        "()" => "",
        other => other,
    }
    .to_string()
}

/// One documented entry, rendered as its signature line.
fn signature(module: &str, f: &Value) -> Option<String> {
    let name = f["name"].as_str()?;
    if matches!(name, "to_string" | "to_debug" | "==" | "!=") {
        return None;
    }
    let params: Vec<(String, String)> = f["params"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| {
            let n = p["name"].as_str().unwrap_or("_").to_string();
            let t = p["type"].as_str().unwrap_or("").to_string();
            (n, t)
        })
        .filter(|(n, _)| n != "ctx")
        .collect();
    let ret = rhai_type(f["returnType"].as_str().unwrap_or("()"));
    let ret = if ret.is_empty() {
        String::new()
    } else {
        format!(" -> {ret}")
    };
    let receiver = params
        .first()
        .filter(|(_, t)| t.starts_with("&mut "))
        .map(|(_, t)| rhai_type(t));
    if let (Some(prop), Some(ty)) = (name.strip_prefix("get$"), &receiver) {
        return Some(format!("{ty}.{prop}{ret}"));
    }
    let shown = |ps: &[(String, String)]| {
        ps.iter()
            .map(|(n, t)| format!("{n}: {}", rhai_type(t)))
            .collect::<Vec<_>>()
            .join(", ")
    };
    Some(match receiver {
        Some(ty) => format!("{ty}.{name}({}){ret}", shown(&params[1..])),
        None if module.is_empty() => format!("{name}({}){ret}", shown(&params)),
        None => format!("{module}::{name}({}){ret}", shown(&params)),
    })
}

/// Prints every primitive's signature and documentation, optionally only
/// those whose signature contains `filter`. Returns how many it printed
/// (0 = nothing matched, or the listing could not be made).
pub fn print(filter: Option<&str>) -> usize {
    let engine = crate::script::engine(
        &crate::script::Limits::default(),
        None,
        Arc::new(Mutex::new(Vec::new())),
    );
    let meta: Value = match engine.gen_fn_metadata_to_json(false) {
        Ok(j) => serde_json::from_str(&j).unwrap_or(Value::Null),
        Err(e) => {
            eprintln!("error: cannot generate the API listing: {e}");
            return 0;
        }
    };
    let mut entries: Vec<(String, Vec<String>)> = Vec::new();
    let mut collect = |module: &str, fns: &Value| {
        for f in fns.as_array().into_iter().flatten() {
            let docs: Vec<String> = f["docComments"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|d| d.as_str())
                .flat_map(|d| d.lines().map(|l| l.trim_start_matches("///").trim_start().to_string()))
                .collect();
            // Rhai's own built-ins are documented at rhai.rs; list ours.
            if docs.is_empty() {
                continue;
            }
            if let Some(sig) = signature(module, f) {
                entries.push((sig, docs));
            }
        }
    };
    if let Some(mods) = meta["modules"].as_object() {
        for (m, body) in mods {
            collect(m, &body["functions"]);
        }
    }
    collect("", &meta["functions"]);
    entries.sort();
    entries.dedup_by(|a, b| a.0 == b.0);
    let mut printed = 0;
    for (sig, docs) in entries {
        if filter.is_some_and(|f| !sig.contains(f)) {
            continue;
        }
        printed += 1;
        println!("{sig}");
        for d in docs {
            println!("    {d}");
        }
        println!();
    }
    printed
}
