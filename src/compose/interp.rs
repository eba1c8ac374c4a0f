//! Variable interpolation with compose's syntax: `$VAR`, `${VAR}`,
//! `${VAR:-default}`, `${VAR-default}`, `${VAR:?error}`, `${VAR?error}`,
//! `${VAR:+alt}`, `${VAR+alt}`, nested in defaults, and `$$` for a literal
//! `$`. A lone `$` stays as it is, as in compose.

/// Looks a variable up (None when unset).
pub trait Env {
    fn get(&self, name: &str) -> Option<String>;
}

impl Env for std::collections::HashMap<String, String> {
    fn get(&self, name: &str) -> Option<String> {
        std::collections::HashMap::get(self, name).cloned()
    }
}

/// Why a string could not be interpolated.
#[derive(Debug, Clone, PartialEq)]
pub enum Error {
    /// Bad `${...}` syntax.
    Invalid,
    /// `${VAR:?msg}` / `${VAR?msg}` with VAR missing.
    Required { name: String, message: String },
}

pub(super) fn is_name_start(c: char) -> bool {
    c == '_' || c.is_ascii_alphabetic()
}

pub(super) fn is_name(c: char) -> bool {
    c == '_' || c.is_ascii_alphanumeric()
}

/// Interpolates `s`. `unset` collects variables that were used unset
/// without a default (compose warns about each).
pub fn interpolate(s: &str, env: &dyn Env, unset: &mut Vec<String>) -> Result<String, Error> {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c != '$' {
            out.push(c);
            i += 1;
            continue;
        }
        match chars.get(i + 1) {
            Some('$') => {
                out.push('$');
                i += 2;
            }
            Some('{') => {
                // Find the matching brace, allowing nested ${...}.
                let mut depth = 1;
                let mut j = i + 2;
                while j < chars.len() && depth > 0 {
                    match chars[j] {
                        '{' if chars[j - 1] == '$' => depth += 1,
                        '}' => depth -= 1,
                        _ => {}
                    }
                    j += 1;
                }
                if depth != 0 {
                    return Err(Error::Invalid);
                }
                let inner: String = chars[i + 2..j - 1].iter().collect();
                out.push_str(&braced(&inner, env, unset)?);
                i = j;
            }
            Some(&n) if is_name_start(n) => {
                let mut j = i + 1;
                while j < chars.len() && is_name(chars[j]) {
                    j += 1;
                }
                let name: String = chars[i + 1..j].iter().collect();
                match env.get(&name) {
                    Some(v) => out.push_str(&v),
                    None => unset.push(name),
                }
                i = j;
            }
            _ => {
                out.push('$');
                i += 1;
            }
        }
    }
    Ok(out)
}

fn braced(inner: &str, env: &dyn Env, unset: &mut Vec<String>) -> Result<String, Error> {
    let name_len = inner.chars().take_while(|&c| is_name(c)).count();
    let name: String = inner.chars().take(name_len).collect();
    if name.is_empty() || !name.starts_with(is_name_start) {
        return Err(Error::Invalid);
    }
    let rest: String = inner.chars().skip(name_len).collect();
    let value = env.get(&name);
    let set_nonempty = value.as_deref().is_some_and(|v| !v.is_empty());
    let (op, arg) = [":-", ":?", ":+", "-", "?", "+"]
        .iter()
        .find_map(|op| rest.strip_prefix(op).map(|a| (*op, a.to_string())))
        .unwrap_or(("", rest.clone()));
    if op.is_empty() {
        if !rest.is_empty() {
            return Err(Error::Invalid);
        }
        return Ok(match value {
            Some(v) => v,
            None => {
                unset.push(name);
                String::new()
            }
        });
    }
    match op {
        ":-" => {
            if set_nonempty {
                Ok(value.unwrap_or_default())
            } else {
                interpolate(&arg, env, unset)
            }
        }
        "-" => match value {
            Some(v) => Ok(v),
            None => interpolate(&arg, env, unset),
        },
        ":+" => {
            if set_nonempty {
                interpolate(&arg, env, unset)
            } else {
                Ok(String::new())
            }
        }
        "+" => {
            if value.is_some() {
                interpolate(&arg, env, unset)
            } else {
                Ok(String::new())
            }
        }
        ":?" | "?" => {
            let ok = if op == ":?" { set_nonempty } else { value.is_some() };
            if ok {
                Ok(value.unwrap_or_default())
            } else {
                let message = interpolate(&arg, env, unset)?;
                Err(Error::Required { name, message })
            }
        }
        _ => unreachable!(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn run(s: &str) -> Result<String, Error> {
        let env: HashMap<String, String> = [("SET", "s"), ("EMPTY", "")]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        interpolate(s, &env, &mut Vec::new())
    }

    /// Each case as Docker Compose v2.40.3 resolved it (with SET=s, EMPTY=).
    #[test]
    fn like_compose() {
        assert_eq!(run("a$").unwrap(), "a$");
        assert_eq!(run("a $ b").unwrap(), "a $ b");
        assert_eq!(run("${X:-${Y:-deep}}").unwrap(), "deep");
        assert_eq!(run("${UNSET}").unwrap(), "");
        assert_eq!(run("${EMPTY:-d}").unwrap(), "d");
        assert_eq!(run("${EMPTY-d}").unwrap(), "");
        assert_eq!(run("${SET:+alt}").unwrap(), "alt");
        assert_eq!(run("${UNSET+alt}").unwrap(), "");
        assert_eq!(run("$$x").unwrap(), "$x");
        assert_eq!(run("p$SET.q").unwrap(), "ps.q");
        assert_eq!(run("${SET:?boom}").unwrap(), "s");
        assert_eq!(run("${X"), Err(Error::Invalid));
        assert_eq!(run("${1X}"), Err(Error::Invalid));
        assert_eq!(
            run("${REQ:?must be set}"),
            Err(Error::Required {
                name: "REQ".into(),
                message: "must be set".into()
            })
        );
    }
}
