//! JSON text for scripts: compact (`to_json`), and indented as the docker
//! CLI prints `inspect` output (`to_json_pretty`, Go's escapes, keys in
//! the order the CLI's structs give them).
//!
//! ```rhai
//! print(to_json(#{ a: 1 }));
//! ```

use rhai::plugin::*;
use rhai::{Array, Dynamic};

use super::RhaiResult;

/// Puts the keys of every object in `v` in the order of `keys` (others
/// after, as they were).
fn order_keys(v: &mut serde_json::Value, keys: &[String]) {
    match v {
        serde_json::Value::Object(m) => {
            let mut entries: Vec<(String, serde_json::Value)> = std::mem::take(m).into_iter().collect();
            entries.sort_by_key(|(k, _)| keys.iter().position(|x| x == k).unwrap_or(keys.len()));
            for (k, mut x) in entries {
                order_keys(&mut x, keys);
                m.insert(k, x);
            }
        }
        serde_json::Value::Array(a) => a.iter_mut().for_each(|x| order_keys(x, keys)),
        _ => {}
    }
}

#[export_module]
pub mod api {
    use super::*;

    /// Serialises any value to JSON text.
    ///
    /// ```rhai
    /// print(to_json(#{ a: 1 }));
    /// ```
    #[rhai_fn(name = "to_json", return_raw)]
    pub fn to_json(value: Dynamic) -> RhaiResult<String> {
        let v = crate::api::value::to_json(&value)?;
        Ok(serde_json::to_string(&v).unwrap_or_default())
    }

    /// Serialises a value as the docker CLI prints `inspect` output: JSON
    /// indented by 4 spaces, with `<`, `>` and `&` escaped as Go's
    /// encoder escapes them (`\u003c` …).
    ///
    /// ```rhai
    /// print(to_json_pretty([#{ Name: "web" }]));
    /// ```
    #[rhai_fn(name = "to_json_pretty", return_raw)]
    pub fn to_json_pretty(value: Dynamic) -> RhaiResult<String> {
        to_json_pretty_ordered(value, Array::new())
    }

    /// `to_json_pretty` with the keys of every object, at any depth, in
    /// the order `keys` gives (the docker CLI prints Go structs' field
    /// order); other keys follow, sorted.
    ///
    /// ```rhai
    /// print(to_json_pretty([#{ Name: "n2", Metadata: #{} }], ["Name", "Metadata"]));
    /// ```
    #[rhai_fn(name = "to_json_pretty", return_raw)]
    pub fn to_json_pretty_ordered(value: Dynamic, keys: Array) -> RhaiResult<String> {
        to_json_pretty_indented(value, keys, 4)
    }

    /// `to_json_pretty` with keys ordered as `keys` gives, indented by
    /// `indent` spaces (Go's `json.MarshalIndent(v, "", "  ")` is 2, as
    /// compose's `build --print`).
    ///
    /// ```rhai
    /// print(to_json_pretty(#{ target: #{}, group: #{} }, ["group", "target"], 2));
    /// ```
    #[rhai_fn(name = "to_json_pretty", return_raw)]
    pub fn to_json_pretty_indented(value: Dynamic, keys: Array, indent: i64) -> RhaiResult<String> {
        let keys: Vec<String> = keys.into_iter().map(|k| k.to_string()).collect();
        let mut v = crate::api::value::to_json(&value)?;
        order_keys(&mut v, &keys);
        Ok(crate::gojson::marshal_indent(
            &v,
            &" ".repeat(indent.clamp(0, 16) as usize),
        ))
    }
}
