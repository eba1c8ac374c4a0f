//! `orch docs`: the API reference, generated from the primitives' own doc
//! comments (so it cannot drift from the code).

use std::sync::{Arc, Mutex};

use serde_json::Value;

/// Prints every primitive's signature and documentation, optionally only
/// those whose qualified name contains `filter`.
pub fn print(filter: Option<&str>) {
    let engine = crate::script::engine(
        &crate::script::Limits::default(),
        None,
        Arc::new(Mutex::new(Vec::new())),
    );
    let json = match engine.gen_fn_metadata_to_json(false) {
        Ok(j) => j,
        Err(e) => {
            eprintln!("error: cannot generate the API listing: {e}");
            return;
        }
    };
    let meta: Value = serde_json::from_str(&json).unwrap_or(Value::Null);
    let mut entries: Vec<(String, String, Vec<String>)> = Vec::new();
    let mut collect = |prefix: &str, fns: &Value| {
        for f in fns.as_array().into_iter().flatten() {
            let name = f["name"].as_str().unwrap_or_default();
            if name.starts_with("to_string") || name.starts_with("to_debug") || name == "==" {
                continue;
            }
            let docs: Vec<String> = f["docComments"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|d| d.as_str())
                .flat_map(|d| {
                    d.lines()
                        .map(|l| {
                            l.trim_start_matches("///")
                                .trim_start_matches("/**")
                                .trim_end_matches("*/")
                                .trim_start()
                                .to_string()
                        })
                        .collect::<Vec<_>>()
                })
                .collect();
            let sig = f["signature"].as_str().unwrap_or(name).to_string();
            let qualified = if prefix.is_empty() {
                sig
            } else {
                format!("{prefix}::{sig}")
            };
            entries.push((qualified, name.to_string(), docs));
        }
    };
    if let Some(mods) = meta["modules"].as_object() {
        for (m, body) in mods {
            collect(m, &body["functions"]);
        }
    }
    collect("", &meta["functions"]);
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    entries.dedup_by(|a, b| a.0 == b.0);
    for (sig, _, docs) in entries {
        if docs.is_empty() {
            continue; // Rhai's own built-ins: documented at rhai.rs.
        }
        if let Some(f) = filter {
            if !sig.contains(f) {
                continue;
            }
        }
        println!("{sig}");
        for d in docs {
            println!("    {d}");
        }
        println!();
    }
}
