//! Moving data between Rhai and the engine: JSON ⇄ `Dynamic`, and reading
//! option maps strictly (an unknown key is an error that lists the known
//! ones, so a typo never silently does nothing).

use std::collections::HashMap;

use rhai::{Array, Dynamic, EvalAltResult, ImmutableString, Map};
use serde_json::Value;

use super::RhaiResult;

/// A primitive called with an option or argument it does not take.
fn usage<T>(msg: String) -> RhaiResult<T> {
    Err(crate::error::Error::usage(msg).into_rhai())
}

/// Any serialisable engine answer as a Rhai value (maps keep Docker's keys).
pub fn to_dynamic<T: serde::Serialize>(v: &T) -> Dynamic {
    rhai::serde::to_dynamic(v).unwrap_or(Dynamic::UNIT)
}

/// A Rhai value as JSON (for `raw` engine fields and printing).
pub fn to_json(v: &Dynamic) -> RhaiResult<Value> {
    rhai::serde::from_dynamic(v)
}

/// An option map whose keys are checked against the ones a primitive knows.
pub struct Opts<'a> {
    what: &'a str,
    map: Map,
}

impl<'a> Opts<'a> {
    /// Wraps `map` for primitive `what` and rejects keys not in `known`.
    pub fn new(what: &'a str, map: Map, known: &[&str]) -> RhaiResult<Self> {
        for key in map.keys() {
            if !known.contains(&key.as_str()) {
                let mut list: Vec<&str> = known.to_vec();
                list.sort_unstable();
                return usage(format!("{what}: unknown option `{key}` (known: {})", list.join(", ")));
            }
        }
        Ok(Opts { what, map })
    }

    pub fn has(&self, key: &str) -> bool {
        self.map.get(key).is_some_and(|v| !v.is_unit())
    }

    pub fn raw(&self, key: &str) -> Option<&Dynamic> {
        self.map.get(key).filter(|v| !v.is_unit())
    }

    fn type_error<T>(&self, key: &str, want: &str, got: &Dynamic) -> RhaiResult<T> {
        usage(format!(
            "{}: option `{key}` must be {want}, not {}",
            self.what,
            got.type_name()
        ))
    }

    pub fn str(&self, key: &str) -> RhaiResult<Option<String>> {
        match self.raw(key) {
            None => Ok(None),
            Some(v) if v.is_string() => Ok(Some(v.clone().into_string().unwrap())),
            Some(v) if v.is_int() || v.is_float() || v.is_bool() => Ok(Some(v.to_string())),
            Some(v) => self.type_error(key, "a string", v),
        }
    }

    pub fn req_str(&self, key: &str) -> RhaiResult<String> {
        match self.str(key)? {
            Some(s) => Ok(s),
            None => usage(format!("{}: option `{key}` is required", self.what)),
        }
    }

    pub fn bool(&self, key: &str) -> RhaiResult<Option<bool>> {
        match self.raw(key) {
            None => Ok(None),
            Some(v) => match v.as_bool() {
                Ok(b) => Ok(Some(b)),
                Err(_) => self.type_error(key, "true or false", v),
            },
        }
    }

    pub fn flag(&self, key: &str) -> RhaiResult<bool> {
        Ok(self.bool(key)?.unwrap_or(false))
    }

    pub fn int(&self, key: &str) -> RhaiResult<Option<i64>> {
        match self.raw(key) {
            None => Ok(None),
            Some(v) => match v.as_int() {
                Ok(i) => Ok(Some(i)),
                Err(_) => match v.as_float() {
                    Ok(f) if f.fract() == 0.0 => Ok(Some(f as i64)),
                    _ => self.type_error(key, "an integer", v),
                },
            },
        }
    }

    pub fn float(&self, key: &str) -> RhaiResult<Option<f64>> {
        match self.raw(key) {
            None => Ok(None),
            Some(v) => match (v.as_float(), v.as_int()) {
                (Ok(f), _) => Ok(Some(f)),
                (_, Ok(i)) => Ok(Some(i as f64)),
                _ => self.type_error(key, "a number", v),
            },
        }
    }

    /// A list of strings; a single string counts as a list of one.
    pub fn strings(&self, key: &str) -> RhaiResult<Option<Vec<String>>> {
        match self.raw(key) {
            None => Ok(None),
            Some(v) if v.is_string() => Ok(Some(vec![v.to_string()])),
            Some(v) if v.is_array() => {
                let arr = v.clone().into_array().unwrap();
                arr.iter()
                    .map(|x| {
                        if x.is_string() || x.is_int() || x.is_float() || x.is_bool() {
                            Ok(x.to_string())
                        } else {
                            self.type_error(key, "a list of strings", x)
                        }
                    })
                    .collect::<RhaiResult<Vec<_>>>()
                    .map(Some)
            }
            Some(v) => self.type_error(key, "a string or a list of strings", v),
        }
    }

    /// A string-to-string map. Lists of `K=V` are accepted too, as Docker's
    /// CLI and compose accept both forms for env and labels.
    pub fn string_map(&self, key: &str) -> RhaiResult<Option<HashMap<String, String>>> {
        match self.raw(key) {
            None => Ok(None),
            Some(v) if v.is_map() => {
                let m = v.clone().cast::<Map>();
                Ok(Some(
                    m.into_iter()
                        .map(|(k, v)| (k.to_string(), if v.is_unit() { String::new() } else { v.to_string() }))
                        .collect(),
                ))
            }
            Some(_) => Ok(Some(
                self.strings(key)?
                    .unwrap_or_default()
                    .into_iter()
                    .map(|kv| match kv.split_once('=') {
                        Some((k, v)) => (k.to_string(), v.to_string()),
                        None => (kv, String::new()),
                    })
                    .collect(),
            )),
        }
    }

    pub fn map(&self, key: &str) -> RhaiResult<Option<Map>> {
        match self.raw(key) {
            None => Ok(None),
            Some(v) if v.is_map() => Ok(Some(v.clone().cast::<Map>())),
            Some(v) => self.type_error(key, "a map", v),
        }
    }

    pub fn fn_ptr(&self, key: &str) -> RhaiResult<Option<rhai::FnPtr>> {
        match self.raw(key) {
            None => Ok(None),
            Some(v) if v.is_fnptr() => Ok(Some(v.clone().cast::<rhai::FnPtr>())),
            Some(v) => self.type_error(key, "a function (closure)", v),
        }
    }
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
