//! Declarative option maps: a primitive declares its options as a struct
//! (`#[derive(Deserialize, Default)] #[serde(default, deny_unknown_fields)]`)
//! and reads them with [`read`], which runs `rhai::serde::from_dynamic`.
//! The struct's fields are the known options, so an unknown key is an
//! error that lists them ("unknown option `x` (known: ...)"), a typo never
//! silently does nothing, and a wrong type names the option and what it
//! must be. The field readers in [`de`] accept what scripts write: a
//! number where text is wanted, one string for a list, `()` for "not set".

use rhai::{Dynamic, Map};
use serde::de::DeserializeOwned;

use super::RhaiResult;
use crate::error::Error;

/// Declares a primitive's options, one line per option and its kind
/// (the reader in [`de`] and the Rust type it gives):
///
/// ```ignore
/// options! {
///     /// `volume::create`'s options.
///     struct VolumeCreateOpts {
///         name: text,          // Option<String>
///         labels: string_map,  // Option<HashMap<String, String>>
///     }
/// }
/// ```
///
/// Kinds: `text`, `flag` (bool), `int`, `float`, `strings`, `string_map`,
/// `map`, `func` (FnPtr), `any` (Dynamic, read by the primitive itself)
/// and `filter` (strings, serialised for the engine's `filters`).
macro_rules! options {
    (@f [$($m:tt)*] $name:ident [$($out:tt)*]) => {
        $($m)*
        #[derive(serde::Deserialize, Default)]
        #[serde(default, deny_unknown_fields)]
        pub(crate) struct $name { $($out)* }
    };
    (@f $m:tt $name:ident [$($out:tt)*] $f:ident: text, $($rest:tt)*) => {
        $crate::api::opts::options!(@f $m $name [$($out)* #[serde(deserialize_with = "crate::api::opts::de::text")] pub(crate) $f: Option<String>,] $($rest)*);
    };
    (@f $m:tt $name:ident [$($out:tt)*] $f:ident: flag, $($rest:tt)*) => {
        $crate::api::opts::options!(@f $m $name [$($out)* #[serde(deserialize_with = "crate::api::opts::de::flag")] pub(crate) $f: Option<bool>,] $($rest)*);
    };
    (@f $m:tt $name:ident [$($out:tt)*] $f:ident: int, $($rest:tt)*) => {
        $crate::api::opts::options!(@f $m $name [$($out)* #[serde(deserialize_with = "crate::api::opts::de::int")] pub(crate) $f: Option<i64>,] $($rest)*);
    };
    (@f $m:tt $name:ident [$($out:tt)*] $f:ident: float, $($rest:tt)*) => {
        $crate::api::opts::options!(@f $m $name [$($out)* #[serde(deserialize_with = "crate::api::opts::de::float")] pub(crate) $f: Option<f64>,] $($rest)*);
    };
    (@f $m:tt $name:ident [$($out:tt)*] $f:ident: strings, $($rest:tt)*) => {
        $crate::api::opts::options!(@f $m $name [$($out)* #[serde(deserialize_with = "crate::api::opts::de::strings")] pub(crate) $f: Option<Vec<String>>,] $($rest)*);
    };
    (@f $m:tt $name:ident [$($out:tt)*] $f:ident: filter, $($rest:tt)*) => {
        $crate::api::opts::options!(@f $m $name [$($out)* #[serde(deserialize_with = "crate::api::opts::de::strings", skip_serializing_if = "Option::is_none")] pub(crate) $f: Option<Vec<String>>,] $($rest)*);
    };
    (@f $m:tt $name:ident [$($out:tt)*] $f:ident: string_map, $($rest:tt)*) => {
        $crate::api::opts::options!(@f $m $name [$($out)* #[serde(deserialize_with = "crate::api::opts::de::string_map")] pub(crate) $f: Option<std::collections::HashMap<String, String>>,] $($rest)*);
    };
    (@f $m:tt $name:ident [$($out:tt)*] $f:ident: map, $($rest:tt)*) => {
        $crate::api::opts::options!(@f $m $name [$($out)* #[serde(deserialize_with = "crate::api::opts::de::map")] pub(crate) $f: Option<rhai::Map>,] $($rest)*);
    };
    (@f $m:tt $name:ident [$($out:tt)*] $f:ident: func, $($rest:tt)*) => {
        $crate::api::opts::options!(@f $m $name [$($out)* #[serde(deserialize_with = "crate::api::opts::de::func")] pub(crate) $f: Option<rhai::FnPtr>,] $($rest)*);
    };
    (@f $m:tt $name:ident [$($out:tt)*] $f:ident: any, $($rest:tt)*) => {
        $crate::api::opts::options!(@f $m $name [$($out)* #[serde(deserialize_with = "crate::api::opts::de::any")] pub(crate) $f: Option<rhai::Dynamic>,] $($rest)*);
    };
    ($(#[$m:meta])* struct $name:ident { $($body:tt)* }) => {
        $crate::api::opts::options!(@f [$(#[$m])*] $name [] $($body)*);
    };
}
pub(crate) use options;

/// The option names a struct takes (its serde field names), read from its
/// `Deserialize` impl without deserializing anything.
pub fn fields<T: DeserializeOwned>() -> &'static [&'static str] {
    struct Probe;
    #[derive(Debug)]
    struct Found(&'static [&'static str]);
    impl std::fmt::Display for Found {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("fields")
        }
    }
    impl std::error::Error for Found {}
    impl serde::de::Error for Found {
        fn custom<M: std::fmt::Display>(_: M) -> Self {
            Found(&[])
        }
    }
    impl<'de> serde::Deserializer<'de> for Probe {
        type Error = Found;
        fn deserialize_any<V: serde::de::Visitor<'de>>(self, _: V) -> Result<V::Value, Found> {
            Err(Found(&[]))
        }
        fn deserialize_struct<V: serde::de::Visitor<'de>>(
            self,
            _: &'static str,
            fields: &'static [&'static str],
            _: V,
        ) -> Result<V::Value, Found> {
            Err(Found(fields))
        }
        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
            bytes byte_buf option unit unit_struct newtype_struct seq tuple
            tuple_struct map enum identifier ignored_any
        }
    }
    match T::deserialize(Probe) {
        Err(Found(f)) => f,
        Ok(_) => &[],
    }
}

/// Reads `map` as the options of primitive `what`. `T` has
/// `#[serde(default)]`, so any subset of its options reads.
pub fn read<T: DeserializeOwned>(what: &str, map: Map) -> RhaiResult<T> {
    let known = fields::<T>();
    if let Some(key) = map.keys().find(|k| !known.contains(&k.as_str())) {
        let mut list = known.to_vec();
        list.sort_unstable();
        return Err(Error::usage(format!("{what}: unknown option `{key}` (known: {})", list.join(", "))).into_rhai());
    }
    match rhai::serde::from_dynamic::<T>(&Dynamic::from_map(map.clone())) {
        Ok(t) => Ok(t),
        Err(e) => Err(Error::usage(format!("{what}: {}", blame::<T>(&map, &e))).into_rhai()),
    }
}

/// The failing option and why. serde's error does not say which field it
/// was reading, so each option is read again alone until one fails; its
/// reader left the reason in [`de::take_why`].
fn blame<T: DeserializeOwned>(map: &Map, e: &rhai::EvalAltResult) -> String {
    for (k, v) in map {
        let one: Map = [(k.clone(), v.clone())].into_iter().collect();
        de::take_why();
        if rhai::serde::from_dynamic::<T>(&Dynamic::from_map(one)).is_err() {
            let why = de::take_why().unwrap_or_else(|| "has the wrong type".into());
            return format!("option `{k}` {why}");
        }
    }
    crate::error::message(e)
}

/// The error for option `key` of `what` holding the wrong kind of value,
/// for options a primitive reads itself (`de::any`).
pub fn wrong_type(what: &str, key: &str, want: &str, got: &Dynamic) -> Box<rhai::EvalAltResult> {
    Error::usage(format!(
        "{what}: option `{key}` must be {want}, not {}",
        got.type_name()
    ))
    .into_rhai()
}

/// Option `key` of `what` as a list of strings (one string counts as a
/// list of one), for options a primitive reads itself (`de::any`).
pub fn strings(what: &str, key: &str, v: &Dynamic) -> RhaiResult<Vec<String>> {
    de::strings_of::<serde::de::value::Error>(v)
        .map(Option::unwrap_or_default)
        .map_err(|_| {
            let why = de::take_why().unwrap_or_default();
            Error::usage(format!("{what}: option `{key}` {why}")).into_rhai()
        })
}

/// A required option, or the error that names it.
pub fn need<T>(what: &str, key: &str, v: Option<T>) -> RhaiResult<T> {
    v.ok_or_else(|| Error::usage(format!("{what}: option `{key}` is required")).into_rhai())
}

/// Field readers for `#[serde(deserialize_with = "...")]`: each takes the
/// option's raw Rhai value (`Dynamic`'s own deserializer hands it over
/// unchanged) and converts it as a script writer expects, failing with
/// "must be {want}, not {type}" (the option's name is added by [`read`]).
pub mod de {
    use std::collections::HashMap;

    use rhai::{Dynamic, FnPtr, Map};
    use serde::{Deserialize, Deserializer};

    thread_local! {
        /// Why the last reader failed, in words (serde's custom errors
        /// reach Rhai as a parse error with its own wording).
        static WHY: std::cell::RefCell<Option<String>> = const { std::cell::RefCell::new(None) };
    }

    /// Takes the reason the last reader failed, if one did.
    pub(super) fn take_why() -> Option<String> {
        WHY.with(|w| w.borrow_mut().take())
    }

    fn raw<'de, D: Deserializer<'de>>(d: D) -> Result<Dynamic, D::Error> {
        Dynamic::deserialize(d)
    }

    fn wrong<E: serde::de::Error, T>(want: &str, got: &Dynamic) -> Result<T, E> {
        let why = format!("must be {want}, not {}", got.type_name());
        WHY.with(|w| *w.borrow_mut() = Some(why.clone()));
        Err(E::custom(why))
    }

    fn scalar_text(v: &Dynamic) -> Option<String> {
        if v.is_string() || v.is_int() || v.is_float() || v.is_bool() {
            Some(v.to_string())
        } else {
            None
        }
    }

    /// An option's value as `read` takes it: `None` when unset (`()`),
    /// "must be {want}" when `read` refuses it.
    fn present<'de, D: Deserializer<'de>, T>(
        d: D,
        want: &str,
        read: impl FnOnce(&Dynamic) -> Option<T>,
    ) -> Result<Option<T>, D::Error> {
        let v = raw(d)?;
        if v.is_unit() {
            return Ok(None);
        }
        match read(&v) {
            Some(x) => Ok(Some(x)),
            None => wrong(want, &v),
        }
    }

    /// Text; a number or boolean is taken as its text.
    pub fn text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
        present(d, "a string", scalar_text)
    }

    /// `true` or `false`.
    pub fn flag<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
        present(d, "true or false", |v| v.as_bool().ok())
    }

    /// An integer; a float without a fraction counts.
    pub fn int<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
        present(d, "an integer", |v| match (v.as_int(), v.as_float()) {
            (Ok(i), _) => Some(i),
            (_, Ok(f)) if f.fract() == 0.0 => Some(f as i64),
            _ => None,
        })
    }

    /// A number (integer or float).
    pub fn float<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
        present(d, "a number", |v| match (v.as_float(), v.as_int()) {
            (Ok(f), _) => Some(f),
            (_, Ok(i)) => Some(i as f64),
            _ => None,
        })
    }

    /// A list of strings; one string counts as a list of one.
    pub fn strings<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<String>>, D::Error> {
        let v = raw(d)?;
        strings_of(&v)
    }

    pub(super) fn strings_of<E: serde::de::Error>(v: &Dynamic) -> Result<Option<Vec<String>>, E> {
        if v.is_unit() {
            return Ok(None);
        }
        if v.is_string() {
            return Ok(Some(vec![v.to_string()]));
        }
        let Some(arr) = v.read_lock::<rhai::Array>() else {
            return wrong("a string or a list of strings", v);
        };
        arr.iter()
            .map(|x| match scalar_text(x) {
                Some(s) => Ok(s),
                None => wrong("a list of strings", x),
            })
            .collect::<Result<Vec<_>, E>>()
            .map(Some)
    }

    /// A string-to-string map; a list of `K=V` counts too, as Docker's CLI
    /// and compose accept both for environments and labels.
    pub fn string_map<'de, D: Deserializer<'de>>(d: D) -> Result<Option<HashMap<String, String>>, D::Error> {
        let v = raw(d)?;
        if let Some(m) = v.read_lock::<Map>() {
            let text = |v: &Dynamic| if v.is_unit() { String::new() } else { v.to_string() };
            return Ok(Some(m.iter().map(|(k, v)| (k.to_string(), text(v))).collect()));
        }
        Ok(strings_of(&v)?.map(|list| {
            list.into_iter()
                .map(|kv| match kv.split_once('=') {
                    Some((k, v)) => (k.to_string(), v.to_string()),
                    None => (kv, String::new()),
                })
                .collect()
        }))
    }

    /// A map, taken as it is.
    pub fn map<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Map>, D::Error> {
        present(d, "a map", |v| v.is_map().then(|| v.clone().cast::<Map>()))
    }

    /// A function (a closure or `Fn("name")`).
    pub fn func<'de, D: Deserializer<'de>>(d: D) -> Result<Option<FnPtr>, D::Error> {
        present(d, "a function (closure)", |v| {
            v.is_fnptr().then(|| v.clone().cast::<FnPtr>())
        })
    }

    /// Any value, as the script gave it (`()` = not set).
    pub fn any<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Dynamic>, D::Error> {
        let v = raw(d)?;
        Ok((!v.is_unit()).then_some(v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Deserialize, Default, Debug)]
    #[serde(default, deny_unknown_fields)]
    struct Sample {
        #[serde(deserialize_with = "de::text")]
        name: Option<String>,
        #[serde(deserialize_with = "de::flag")]
        force: Option<bool>,
        #[serde(deserialize_with = "de::int")]
        retries: Option<i64>,
        #[serde(deserialize_with = "de::strings")]
        command: Option<Vec<String>>,
        #[serde(deserialize_with = "de::string_map")]
        env: Option<std::collections::HashMap<String, String>>,
        #[serde(rename = "type", deserialize_with = "de::text")]
        kind: Option<String>,
    }

    fn map(script: &str) -> Map {
        rhai::Engine::new().eval::<Map>(script).unwrap()
    }

    fn err(script: &str) -> String {
        crate::error::message(&read::<Sample>("thing::make", map(script)).unwrap_err())
    }

    #[test]
    fn fields_are_the_option_names() {
        assert_eq!(
            fields::<Sample>(),
            ["name", "force", "retries", "command", "env", "type"]
        );
    }

    #[test]
    fn values_read_as_scripts_write_them() {
        let s: Sample = read(
            "thing::make",
            map(r#"#{ name: 7, force: true, retries: 3.0, command: "sh", env: ["A=1", "B"], type: () }"#),
        )
        .unwrap();
        assert_eq!(s.name.as_deref(), Some("7"));
        assert_eq!(s.force, Some(true));
        assert_eq!(s.retries, Some(3));
        assert_eq!(s.command, Some(vec!["sh".to_string()]));
        let env = s.env.unwrap();
        assert_eq!((env["A"].as_str(), env["B"].as_str()), ("1", ""));
        assert_eq!(s.kind, None);
        let empty: Sample = read("thing::make", Map::new()).unwrap();
        assert!(empty.name.is_none() && empty.force.is_none());
    }

    #[test]
    fn errors_name_the_option() {
        assert_eq!(
            err("#{ nmae: 1 }"),
            "thing::make: unknown option `nmae` (known: command, env, force, name, retries, type)"
        );
        assert_eq!(
            err("#{ name: \"x\", force: 1 }"),
            "thing::make: option `force` must be true or false, not i64"
        );
        assert_eq!(
            err("#{ retries: 1.5 }"),
            "thing::make: option `retries` must be an integer, not f64"
        );
        assert_eq!(
            err("#{ command: [#{}] }"),
            "thing::make: option `command` must be a list of strings, not map"
        );
        assert_eq!(
            crate::error::message(&need::<String>("thing::make", "name", None).unwrap_err()),
            "thing::make: option `name` is required"
        );
    }
}
