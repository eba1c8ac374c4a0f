//! Which of the primitives' namespaces (`container::`, `service::`, …) a
//! script can reach, read from its text and the stdlib modules it imports,
//! so its engine registers only those. Building every module is about a
//! third of the engine a one-shot command waits for (`orch service ls`
//! reaches four of twenty: bench/README.md).
//!
//! A namespace is reached by naming it; its values' methods need no name
//! but come only from functions of their own family (`Namespaces` in
//! `api`), so a family is registered whole. Anything this reading cannot
//! follow (an import of a user's file or by expression, `eval`) means every
//! namespace.

use std::collections::BTreeSet;

use crate::api::Namespaces;

/// The namespaces `text` and the stdlib modules it imports name.
pub fn of(text: &str) -> Namespaces {
    let mut named = BTreeSet::new();
    let mut seen = BTreeSet::new();
    if scan(text, &mut named, &mut seen) {
        Namespaces::Named(named)
    } else {
        Namespaces::All
    }
}

/// Adds what `text` names to `named`, following stdlib imports (`seen`
/// guards a cycle); false when it cannot tell.
fn scan(text: &str, named: &mut BTreeSet<String>, seen: &mut BTreeSet<String>) -> bool {
    for (at, _) in text.match_indices("::") {
        let start = text[..at]
            .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .map_or(0, |i| i + 1);
        if start < at {
            named.insert(text[start..at].to_string());
        }
    }
    if words(text, "eval").next().is_some() {
        return false;
    }
    for at in words(text, "import") {
        let rest = text[at + "import".len()..].trim_start();
        let Some(path) = rest.strip_prefix('"').and_then(|r| r.split_once('"')).map(|(p, _)| p) else {
            return false;
        };
        let Some(rel) = path.strip_prefix("stdlib/") else {
            return false;
        };
        let rel = if rel.ends_with(".rhai") {
            rel.to_string()
        } else {
            format!("{rel}.rhai")
        };
        if !seen.insert(rel.clone()) {
            continue;
        }
        match crate::stdlib::load(&rel) {
            Ok(module) if scan(&module.text, named, seen) => {}
            _ => return false,
        }
    }
    true
}

/// Where `word` stands alone in `text` (not inside a longer name).
fn words<'a>(text: &'a str, word: &'a str) -> impl Iterator<Item = usize> + 'a {
    let ident = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
    text.match_indices(word)
        .map(|(at, _)| at)
        .filter(move |&at| !ident(text[..at].chars().next_back()) && !ident(text[at + word.len()..].chars().next()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn named(list: &[&str]) -> Namespaces {
        Namespaces::Named(list.iter().map(|s| s.to_string()).collect())
    }

    #[test]
    fn names_in_the_text_and_its_stdlib_imports() {
        assert_eq!(of("let s = service::list(#{});"), named(&["service"]));
        let ls = crate::stdlib::load("service/ls.rhai").unwrap();
        let Namespaces::Named(set) = of(&ls.text) else {
            panic!("service ls: every namespace")
        };
        assert!(set.contains("service") && set.contains("node"), "{set:?}");
        assert!(!set.contains("container"), "{set:?}");
    }

    #[test]
    fn what_it_cannot_follow_means_all() {
        assert_eq!(of(r#"import "lib/mine" as m; m::f();"#), Namespaces::All);
        assert_eq!(of(r#"let p = "x"; import p as m;"#), Namespaces::All);
        assert_eq!(of(r#"eval("container::list()")"#), Namespaces::All);
        assert_eq!(of(r#"import "stdlib/lib/nosuch" as m;"#), Namespaces::All);
        // Longer words are not the keywords.
        assert_eq!(of("let evaluate = 1; let important = 2;"), named(&[]));
    }
}
