//! What the handle types share, registered once for all of them: the
//! properties read from the engine's answer a handle keeps (`info`), and
//! a kind's `get`, `find` and `list`. Each kind gives its own doc comments.

use rhai::{Array, Dynamic, FuncRegistration, Map, Module, NativeCallContext, Variant};

use super::RhaiResult;

/// `T`'s name in scripts: its Rust name without the path.
fn type_name<T>() -> &'static str {
    let full = std::any::type_name::<T>();
    full.rsplit("::").next().unwrap_or(full)
}

/// A doc comment, as lines.
pub type Doc = &'static [&'static str];

/// What a handle type's module adds to its exported primitives: the
/// properties read from `info` (each with its doc comment), and for a kind
/// found by name, its `get`, `find` and `list` with theirs.
pub struct Handle<T: 'static> {
    /// The map of the engine's answer the handle keeps.
    info: fn(&T) -> &Map,
    properties: &'static [(&'static str, Doc)],
    lookup: Option<Lookup<T>>,
}

impl<T: 'static> Handle<T> {
    pub const fn new(
        info: fn(&T) -> &Map,
        properties: &'static [(&'static str, Doc)],
        lookup: Option<Lookup<T>>,
    ) -> Self {
        Handle {
            info,
            properties,
            lookup,
        }
    }
}

impl<T: Variant + Clone> Handle<T> {
    /// `exported` with the properties and lookups added.
    pub fn module(&self, mut exported: Module) -> Module {
        info_properties(&mut exported, self.info, self.properties);
        if let Some(lookup) = self.lookup {
            lookup.register(&mut exported);
        }
        exported
    }
}

/// A doc comment's lines as Rhai keeps them: one text, each line after
/// `///`.
pub(super) fn comment(lines: &[&str]) -> String {
    let lines: Vec<String> = lines
        .iter()
        .map(|l| {
            if l.is_empty() {
                "///".to_string()
            } else {
                format!("/// {l}")
            }
        })
        .collect();
    lines.join("\n")
}

/// Adds `T`'s properties read from its `info`, each with its doc comment:
/// `()` when the engine did not say, `labels` an empty map.
fn info_properties<T: Variant + Clone>(module: &mut Module, info: fn(&T) -> &Map, props: &[(&'static str, Doc)]) {
    for &(prop, doc) in props {
        FuncRegistration::new_getter(prop)
            .with_purity(true)
            .with_params_info([format!("h: &mut {}", type_name::<T>()), "Dynamic".to_string()])
            .with_comments([comment(doc)])
            .set_into_module(module, move |h: &mut T| match info(h).get(prop) {
                Some(v) => v.clone(),
                None if prop == "labels" => Map::new().into(),
                None => Dynamic::UNIT,
            });
    }
}

/// How a kind of object is found on the current engine.
pub struct Lookup<T: 'static> {
    /// What errors call it: `network`, `volume`.
    kind: &'static str,
    /// The object with this name or ID, if any.
    one: fn(&str) -> RhaiResult<Option<T>>,
    /// The objects matching Docker filters.
    all: fn(Map) -> RhaiResult<Array>,
    /// The doc comments of `get`, `find`, `list()` and `list(filters)`.
    docs: [Doc; 4],
}

// Copied into each registered function (`derive` would ask `T: Copy`).
impl<T> Clone for Lookup<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for Lookup<T> {}

impl<T: 'static> Lookup<T> {
    pub const fn new(
        kind: &'static str,
        one: fn(&str) -> RhaiResult<Option<T>>,
        all: fn(Map) -> RhaiResult<Array>,
        docs: [Doc; 4],
    ) -> Self {
        Lookup { kind, one, all, docs }
    }
}

impl<T: Variant + Clone> Lookup<T> {
    /// The object with this name or ID; an error if there is none.
    pub fn get(self, name: &str) -> RhaiResult<T> {
        match (self.one)(name)? {
            Some(h) => Ok(h),
            None => super::fail(format!("{} {name}: no such {}", self.kind, self.kind)),
        }
    }

    /// Adds `get(name)`, `find(name)`, `list()` and `list(filters)` to
    /// `module`, with their doc comments.
    fn register(self, module: &mut Module) {
        let (one, all, docs) = (self.one, self.all, self.docs);
        FuncRegistration::new("get")
            .with_params_info(["name: &str".to_string(), format!("RhaiResult<{}>", type_name::<T>())])
            .with_comments([comment(docs[0])])
            .set_into_module(module, move |ctx: NativeCallContext, name: &str| {
                crate::api::at(&ctx, || self.get(name))
            });
        FuncRegistration::new("find")
            .with_params_info(["name: &str", "RhaiResult<Dynamic>"])
            .with_comments([comment(docs[1])])
            .set_into_module(module, move |ctx: NativeCallContext, name: &str| {
                crate::api::at(&ctx, || Ok(one(name)?.map(Dynamic::from).unwrap_or(Dynamic::UNIT)))
            });
        FuncRegistration::new("list")
            .with_params_info(["RhaiResult<Array>"])
            .with_comments([comment(docs[2])])
            .set_into_module(module, move |ctx: NativeCallContext| {
                crate::api::at(&ctx, || all(Map::new()))
            });
        FuncRegistration::new("list")
            .with_params_info(["filter: Map", "RhaiResult<Array>"])
            .with_comments([comment(docs[3])])
            .set_into_module(module, move |ctx: NativeCallContext, filter: Map| {
                crate::api::at(&ctx, || all(filter))
            });
    }
}
