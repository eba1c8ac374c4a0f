//! Moving data between Rhai and the engine: JSON ⇄ `Dynamic`, names of
//! things, callbacks. Option maps are read by `opts.rs`.

use rhai::{Array, Dynamic, EvalAltResult, ImmutableString, Map};
use serde_json::Value;

use super::RhaiResult;

/// Any serialisable engine answer as a Rhai value (maps keep Docker's keys).
pub fn to_dynamic<T: serde::Serialize>(v: &T) -> Dynamic {
    rhai::serde::to_dynamic(v).unwrap_or(Dynamic::UNIT)
}

/// Engine JSON as a Rhai value, the same value [`to_dynamic`] makes of it
/// (an integer beyond Rhai's is a float, as its serializer makes it), by a
/// direct walk: serde's generic path was most of the cost of turning a
/// 50-service list into Rhai maps (`orch service ls`, bench/swarm.sh).
pub fn from_json(v: &Value) -> Dynamic {
    match v {
        Value::Null => Dynamic::UNIT,
        Value::Bool(b) => Dynamic::from_bool(*b),
        Value::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => Dynamic::from_int(i),
            (None, Some(u)) => Dynamic::from_float(u as f64),
            _ => Dynamic::from_float(n.as_f64().unwrap_or(f64::NAN)),
        },
        Value::String(s) => Dynamic::from(ImmutableString::from(s.as_str())),
        Value::Array(items) => Dynamic::from_array(items.iter().map(from_json).collect()),
        Value::Object(fields) => {
            Dynamic::from_map(fields.iter().map(|(k, v)| (k.as_str().into(), from_json(v))).collect())
        }
    }
}

/// A Rhai value as JSON (for `raw` engine fields and printing).
///
/// Strings, numbers, booleans, units, arrays and maps are walked directly:
/// `ps --format` converts every row, and serde's generic path through
/// `from_dynamic` was a fifth of `ps`'s time at 500 containers. Anything
/// else (blobs, custom types) takes that path and its errors.
pub fn to_json(v: &Dynamic) -> RhaiResult<Value> {
    if v.is_shared() {
        return to_json(&v.flatten_clone());
    }
    if v.is_unit() {
        return Ok(Value::Null);
    }
    if let Some(s) = v.read_lock::<ImmutableString>() {
        // Not `to_string`: `Display`'s padding (see `format::ordered`).
        return Ok(Value::String(s.as_str().to_owned()));
    }
    if let Ok(i) = v.as_int() {
        return Ok(Value::from(i));
    }
    if let Ok(b) = v.as_bool() {
        return Ok(Value::Bool(b));
    }
    if let Ok(f) = v.as_float() {
        // As serde_json's own visitor: a NaN or an infinity is null.
        return Ok(serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number));
    }
    if let Some(a) = v.read_lock::<Array>() {
        return a.iter().map(to_json).collect::<RhaiResult<_>>().map(Value::Array);
    }
    if let Some(m) = v.read_lock::<Map>() {
        return m
            .iter()
            .map(|(k, v)| Ok((String::from(k.as_str()), to_json(v)?)))
            .collect::<RhaiResult<_>>()
            .map(Value::Object);
    }
    rhai::serde::from_dynamic(v)
}

/// Converts a Rust string map to a Rhai map.
pub fn map_of(m: impl IntoIterator<Item = (String, String)>) -> Map {
    m.into_iter().map(|(k, v)| (k.into(), Dynamic::from(v))).collect()
}

/// Converts strings to a Rhai array.
pub fn array_of(v: impl IntoIterator<Item = String>) -> Array {
    v.into_iter().map(Dynamic::from).collect()
}

/// Reads a Rhai value that names a thing (a string, or a handle/map with an
/// `id` or `name`), for primitives that accept either.
pub fn name_of(v: &Dynamic) -> Option<String> {
    if v.is_string() {
        return Some(v.to_string());
    }
    if let Some(c) = v.read_lock::<super::container::Container>() {
        return Some(c.id.clone());
    }
    if let Some(m) = v.read_lock::<Map>() {
        for k in ["id", "name"] {
            if let Some(s) = m.get(k).and_then(|x| x.clone().into_immutable_string().ok()) {
                return Some(s.to_string());
            }
        }
    }
    None
}

/// Makes a Rhai error for a value of the wrong kind.
pub fn expected(what: &str, want: &str, got: &Dynamic) -> Box<EvalAltResult> {
    crate::error::Error::usage(format!("{what}: expected {want}, not {}", got.type_name())).into_rhai()
}

pub fn istr(s: impl Into<ImmutableString>) -> Dynamic {
    Dynamic::from(s.into())
}

/// Calls a script callback with `args`, or with only the first `min` of
/// them if the callback takes fewer (so `|line| …` and `|line, stream| …`
/// both work).
pub fn call_back(
    ctx: &rhai::NativeCallContext,
    f: &rhai::FnPtr,
    args: Vec<Dynamic>,
    min: usize,
) -> super::RhaiResult<Dynamic> {
    match f.call_raw(ctx, None, args.clone()) {
        Err(e)
            if args.len() > min
                && matches!(&*e, EvalAltResult::ErrorFunctionNotFound(sig, _) if sig.starts_with(f.fn_name())) =>
        {
            f.call_raw(ctx, None, args[..min].to_vec())
        }
        other => other,
    }
}

/// A script's filter map (`#{ label: "a=b" }` or lists of values) as the
/// engine's list filters.
pub fn filters(filter: Map) -> std::collections::HashMap<String, Vec<String>> {
    filter
        .into_iter()
        .map(|(k, v)| {
            let vals = match v.clone().try_cast::<rhai::Array>() {
                Some(a) => a.into_iter().map(|x| x.to_string()).collect(),
                None => vec![v.to_string()],
            };
            (k.to_string(), vals)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fast walk and serde's path make the same Rhai value of every
    /// kind of JSON the engine sends.
    #[test]
    fn from_json_is_to_dynamic() {
        let v: Value = serde_json::from_str(
            r#"{"ID":"x1","Version":{"Index":18446744073709551615},"Neg":-3,"F":1.5,"N":null,
                "T":true,"L":[1,"a",{"b":[]},null],"E":{}}"#,
        )
        .unwrap();
        assert_eq!(format!("{:?}", from_json(&v)), format!("{:?}", to_dynamic(&v)));
        let big = &from_json(&v).cast::<Map>()["Version"];
        assert!(big.clone().cast::<Map>()["Index"].is_float());
    }
}
