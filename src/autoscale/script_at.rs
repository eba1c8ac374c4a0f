//! Where a rule returned by a rules script (`orch autoscale RULES.rhai`,
//! `fn rules()`) is written. A rule is a map built at run time, and Rhai
//! maps carry no position, so the script is parsed again and the map
//! literal that made the rule is found in its syntax tree: the one whose
//! `service` is the rule's service written as a string, else the only
//! rule-shaped literal that could have made it. Parsed unoptimized, so an
//! all-constant literal is not folded into a value without positions.

use rhai::{Engine, Expr, Ident, OptimizationLevel, Position, AST};

/// A map literal's entries.
fn entries(e: &Expr) -> Option<&[(Ident, Expr)]> {
    match e {
        Expr::Map(x, _) => Some(&x.0[..]),
        _ => None,
    }
}

fn value<'a>(map: &'a [(Ident, Expr)], key: &str) -> Option<&'a Expr> {
    map.iter().find(|(k, _)| k.name == key).map(|(_, v)| v)
}

fn constant_str(e: &Expr) -> Option<&str> {
    match e {
        Expr::StringConstant(s, _) => Some(s.as_str()),
        _ => None,
    }
}

/// Every map literal that looks like a rule (it has `service` or
/// `metrics`), in the order the parser met them.
fn rule_literals(ast: &AST) -> Vec<Expr> {
    let mut out = Vec::new();
    ast.walk(&mut |path| {
        if let Some(rhai::ASTNode::Expr(e)) = path.last() {
            if entries(e).is_some_and(|m| value(m, "service").is_some() || value(m, "metrics").is_some()) {
                out.push((*e).clone());
            }
        }
        true
    });
    out
}

/// The literal that made the rule for `service` (`None`: a rule that
/// names no service).
fn rule_literal(literals: &[Expr], service: Option<&str>) -> Option<Expr> {
    fn service_of(e: &Expr) -> Option<&Expr> {
        entries(e).and_then(|m| value(m, "service"))
    }
    if let Some(s) = service {
        if let Some(e) = literals
            .iter()
            .find(|e| service_of(e).and_then(constant_str) == Some(s))
        {
            return Some(e.clone());
        }
    }
    // Not written as a constant: the literal is known only when one alone
    // could have made the rule (a computed service, or none at all).
    let open: Vec<&Expr> = literals
        .iter()
        .filter(|e| match service_of(e) {
            None => service.is_none(),
            Some(v) => service.is_some() && constant_str(v).is_none(),
        })
        .collect();
    match open[..] {
        [e] => Some(e.clone()),
        _ => None,
    }
}

/// Follows `keys` down from a rule literal: a map's key, or in a list the
/// map whose `name` is the key (a metric); the deepest one written.
fn descend(rule: &Expr, keys: &[String]) -> Position {
    let mut node = rule;
    for key in keys {
        let next = match node {
            Expr::Map(..) => entries(node).and_then(|m| value(m, key)),
            Expr::Array(items, _) => items
                .iter()
                .find(|i| entries(i).and_then(|m| value(m, "name")).and_then(constant_str) == Some(key.as_str())),
            _ => None,
        };
        match next {
            Some(n) => node = n,
            None => break,
        }
    }
    node.position()
}

/// Where `fn rules()` is declared, when no literal is known: the line that
/// starts with it (Rhai keeps no position for a function it can hand out).
fn rules_fn(text: &str) -> Option<(usize, usize)> {
    text.lines().enumerate().find_map(|(i, l)| {
        let body = l.trim_start();
        let rest = body.strip_prefix("private ").unwrap_or(body).strip_prefix("fn")?;
        rest.trim_start()
            .strip_prefix("rules")?
            .trim_start()
            .starts_with('(')
            .then(|| (i + 1, l.len() - body.len() + 1))
    })
}

/// Line and column of the rule for `service` in the rules script `text`,
/// then of `keys` inside it (`["metrics", "cpu", "target"]`); `None` when
/// the script does not parse (its error is reported when it runs) or has
/// neither the literal nor a `fn rules()` (then its line, column of `fn`).
pub fn locate(text: &str, service: Option<&str>, keys: &[String]) -> Option<(usize, usize)> {
    let mut engine = Engine::new_raw();
    engine.set_optimization_level(OptimizationLevel::None);
    // The nesting orch's own engine allows (script::engine), which already
    // compiled this text.
    engine.set_max_expr_depths(128, 64);
    let ast = engine.compile(text).ok()?;
    match rule_literal(&rule_literals(&ast), service) {
        Some(rule) => {
            let pos = descend(&rule, keys);
            Some((pos.line()?, pos.position().unwrap_or(1)))
        }
        None => rules_fn(text),
    }
}

#[cfg(test)]
mod tests {
    use super::locate;

    fn keys(k: &[&str]) -> Vec<String> {
        k.iter().map(|s| s.to_string()).collect()
    }

    const RULES: &str = r#"// two rules
fn rules() {
    [
        #{ service: "web", min: 3, max: 2,
           metrics: [#{ name: "cpu", target: 50 }, #{ name: "queue", target: 0, value: |s| 1.0 }] },
        #{ service: "api", max: 4, metrics: [#{ name: "cpu", target: 60 }] },
    ]
}
"#;

    #[test]
    fn the_literal_naming_the_service() {
        assert_eq!(locate(RULES, Some("web"), &[]), Some((4, 9)));
        assert_eq!(locate(RULES, Some("api"), &[]), Some((6, 9)));
    }

    #[test]
    fn a_metric_and_its_keys() {
        assert_eq!(locate(RULES, Some("web"), &keys(&["metrics", "queue"])), Some((5, 52)));
        assert_eq!(
            locate(RULES, Some("web"), &keys(&["metrics", "queue", "target"])),
            Some((5, 78))
        );
        // A key not written: the deepest one that is.
        assert_eq!(locate(RULES, Some("api"), &keys(&["metrics", "gpu"])), Some((6, 45)));
    }

    #[test]
    fn no_service_or_a_computed_one() {
        let text = "fn rules() {\n    [#{ max: 2, metrics: [] }]\n}\n";
        assert_eq!(locate(text, None, &[]), Some((2, 6)));
        let text = "fn rules() {\n    let s = \"w\" + \"eb\";\n    [#{ service: s, max: 2, metrics: [] }]\n}\n";
        assert_eq!(locate(text, Some("web"), &[]), Some((3, 6)));
    }

    #[test]
    fn several_candidates_fall_back_to_fn_rules() {
        let text =
            "fn rules() {\n    [\"a\", \"b\"].map(|s| #{ service: s, max: 2 }) + [#{ service: `${1}`, max: 3 }]\n}\n";
        assert_eq!(locate(text, Some("a"), &[]), Some((1, 1)));
        assert_eq!(locate("let x = 1 +;", Some("a"), &[]), None);
    }
}
