//! Moving data between Rhai and the engine: JSON ⇄ `Dynamic`, names of
//! things, callbacks. Option maps are read by `opts.rs`.

use rhai::{Array, Dynamic, EvalAltResult, ImmutableString, Map};
use serde_json::Value;

use super::RhaiResult;

/// Any serialisable engine answer as a Rhai value (maps keep Docker's keys).
pub fn to_dynamic<T: serde::Serialize>(v: &T) -> Dynamic {
    rhai::serde::to_dynamic(v).unwrap_or(Dynamic::UNIT)
}

/// A Rhai value as JSON (for `raw` engine fields and printing).
pub fn to_json(v: &Dynamic) -> RhaiResult<Value> {
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
