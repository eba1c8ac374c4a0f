//! Runs a parsed template against JSON data, with the functions Docker's
//! formatters add to Go's (`json`, `join`, `split`, `upper`, `lower`,
//! `title`, `truncate`, `pad`) and Go's own (`len`, `index`, `eq` …,
//! `and`, `or`, `not`, `print`, `printf`, `println`).

use serde_json::Value;

use super::lex::Operand;
use super::parse::{Arg, Cmd, Node, Pipeline};
use super::TemplateError;

pub struct Ctx<'a> {
    pub src: &'a str,
    /// `$`: the row (borrowed; a copy per row was a tenth of a table's
    /// rendering).
    pub root: &'a Value,
    /// Declared variables (innermost last).
    pub vars: Vec<(String, Value)>,
    /// Rendering the header of a table: text functions return their input
    /// unchanged, as Docker's HeaderFunctions do.
    pub header: bool,
}

type R<T> = Result<T, TemplateError>;

impl Ctx<'_> {
    fn err(&self, at: usize, msg: impl Into<String>) -> TemplateError {
        TemplateError::executing(self.src, at, msg)
    }
}

pub fn exec(nodes: &[Node], dot: &Value, out: &mut String, cx: &mut Ctx) -> R<()> {
    for n in nodes {
        match n {
            Node::Text(t) => out.push_str(t),
            Node::Action(p) => {
                let v = pipeline(p, dot, cx)?;
                if p.decl.is_empty() {
                    out.push_str(&show(&v));
                }
            }
            Node::If(p, yes, no) => {
                let v = pipeline(p, dot, cx)?;
                exec(if truthy(&v) { yes } else { no }, dot, out, cx)?;
            }
            Node::With(p, yes, no) => {
                let v = pipeline(p, dot, cx)?;
                if truthy(&v) {
                    exec(yes, &v, out, cx)?;
                } else {
                    exec(no, dot, out, cx)?;
                }
            }
            Node::Range(p, body, empty) => range(p, body, empty, dot, out, cx)?,
        }
    }
    Ok(())
}

fn range(p: &Pipeline, body: &[Node], empty: &[Node], dot: &Value, out: &mut String, cx: &mut Ctx) -> R<()> {
    let decl = p.decl.clone();
    let bare = Pipeline {
        decl: Vec::new(),
        ..p.clone()
    };
    let v = pipeline(&bare, dot, cx)?;
    let pairs: Vec<(Value, Value)> = match &v {
        Value::Array(a) => a.iter().enumerate().map(|(i, x)| (Value::from(i), x.clone())).collect(),
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            keys.into_iter()
                .map(|k| (Value::from(k.clone()), m[k].clone()))
                .collect()
        }
        Value::Null => Vec::new(),
        other => return Err(cx.err(p.at, format!("range can't iterate over {}", show(other)))),
    };
    if pairs.is_empty() {
        return exec(empty, dot, out, cx);
    }
    let depth = cx.vars.len();
    for (k, x) in pairs {
        match decl.as_slice() {
            [e] => cx.vars.push((e.clone(), x.clone())),
            [i, e] => {
                cx.vars.push((i.clone(), k));
                cx.vars.push((e.clone(), x.clone()));
            }
            _ => {}
        }
        exec(body, &x, out, cx)?;
        cx.vars.truncate(depth);
    }
    Ok(())
}

fn pipeline(p: &Pipeline, dot: &Value, cx: &mut Ctx) -> R<Value> {
    let mut piped = None;
    for c in &p.cmds {
        piped = Some(command(c, dot, piped, cx)?);
    }
    let v = piped.unwrap_or(Value::Null);
    if let Some(name) = p.decl.first() {
        cx.vars.push((name.clone(), v.clone()));
    }
    Ok(v)
}

fn command(c: &Cmd, dot: &Value, piped: Option<Value>, cx: &mut Ctx) -> R<Value> {
    let mut args = Vec::new();
    for a in &c.args[1..] {
        args.push(arg(a, dot, c.at, cx)?);
    }
    args.extend(piped);
    match &c.args[0] {
        Arg::Func(name) => call(name, args, c.at, cx),
        Arg::Operand(Operand::Field(path)) if !args.is_empty() && !path.is_empty() => {
            let base = field(dot, &path[..path.len() - 1], c.at, cx)?;
            method(&base, &path[path.len() - 1], &args, c.at, cx)
        }
        first if args.is_empty() => arg(first, dot, c.at, cx),
        _ => Err(cx.err(c.at, "can't give argument to non-function")),
    }
}

fn arg(a: &Arg, dot: &Value, at: usize, cx: &mut Ctx) -> R<Value> {
    Ok(match a {
        Arg::Operand(Operand::Field(path)) => field(dot, path, at, cx)?,
        Arg::Operand(Operand::Var(name, path)) => {
            let base = if name.is_empty() {
                Some(cx.root)
            } else {
                cx.vars.iter().rev().find(|v| &v.0 == name).map(|v| &v.1)
            };
            let base = base.ok_or_else(|| cx.err(at, format!("undefined variable: ${name}")))?;
            field(base, path, at, cx)?
        }
        Arg::Operand(Operand::Str(s)) => Value::from(s.clone()),
        Arg::Operand(Operand::Num(n)) => Value::from(*n),
        Arg::Bool(b) => Value::from(*b),
        Arg::Nil => Value::Null,
        Arg::Func(name) => call(name, Vec::new(), at, cx)?,
        Arg::Sub(p) => pipeline(p, dot, cx)?,
        Arg::Chain(p, path) => {
            let v = pipeline(p, dot, cx)?;
            field(&v, path, at, cx)?
        }
    })
}

/// `.A.B`: a missing field of the data's own object is an error (as for
/// Go structs); a missing key deeper down (labels …) is `<no value>`.
fn field(dot: &Value, path: &[String], at: usize, cx: &Ctx) -> R<Value> {
    // Walked by reference, only the value found copied: a copy of the
    // row per field was most of rendering a 500-row table.
    static NULL: Value = Value::Null;
    let no_value = Value::from("<no value>");
    let mut v = dot;
    for (i, key) in path.iter().enumerate() {
        v = match v {
            Value::Object(m) => match m.get(key) {
                Some(x) => x,
                None if i == 0 && !cx.header => {
                    return Err(cx.err(at, format!("can't evaluate field {key}")));
                }
                None if cx.header => &no_value,
                None => &NULL,
            },
            Value::Null => &NULL,
            other => {
                return Err(cx.err(at, format!("can't evaluate field {key} in type {}", type_name(other))));
            }
        };
    }
    Ok(v.clone())
}

/// `.Label "k"`: the key `k` of the map `Label` (or `Labels`), which may
/// also be compose's `k=v,k2=v2` text.
fn method(base: &Value, name: &str, args: &[Value], at: usize, cx: &Ctx) -> R<Value> {
    let plural = format!("{name}s");
    let found = base.get(name).or_else(|| base.get(&plural));
    if cx.header {
        // Docker's header for `.Label "com.example.some-key"` is "some key".
        if let (true, [Value::String(k)]) = (name == "Label", args) {
            let last = k.rsplit('.').next().unwrap_or(k);
            return Ok(Value::from(last.replace(['-', '_'], " ")));
        }
        return Ok(base.get(name).cloned().unwrap_or_else(|| Value::from("<no value>")));
    }
    let key = match args {
        [Value::String(k)] => k.as_str(),
        _ => return Err(cx.err(at, format!("wrong number or type of args for {name}: want one string"))),
    };
    match found {
        Some(Value::Object(m)) => Ok(m.get(key).cloned().unwrap_or_else(|| Value::from(""))),
        Some(Value::String(s)) => Ok(Value::from(
            s.split(',')
                .filter_map(|kv| kv.split_once('='))
                .find(|(k, _)| *k == key)
                .map(|(_, v)| v)
                .unwrap_or(""),
        )),
        _ => Err(cx.err(at, format!("can't evaluate field {name}"))),
    }
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "nil",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "slice",
        Value::Object(_) => "map",
    }
}

pub fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().unwrap_or(0.0) != 0.0,
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(m) => !m.is_empty(),
    }
}

/// A value as Go's `%v` prints it.
pub fn show(v: &Value) -> String {
    match v {
        Value::Null => "<no value>".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => match n.as_f64() {
            Some(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", f as i64),
            _ => n.to_string(),
        },
        Value::String(s) => s.clone(),
        Value::Array(a) => format!("[{}]", a.iter().map(show).collect::<Vec<_>>().join(" ")),
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            let parts: Vec<String> = keys.iter().map(|k| format!("{k}:{}", show(&m[*k]))).collect();
            format!("map[{}]", parts.join(" "))
        }
    }
}

fn string(v: &Value, f: &str, at: usize, cx: &Ctx) -> R<String> {
    match v {
        Value::String(s) => Ok(s.clone()),
        other => Err(cx.err(
            at,
            format!("{f}: wrong type for value; expected string; got {}", type_name(other)),
        )),
    }
}

fn int(v: &Value, f: &str, at: usize, cx: &Ctx) -> R<usize> {
    match v.as_f64() {
        Some(n) if n >= 0.0 && n.fract() == 0.0 => Ok(n as usize),
        _ => Err(cx.err(
            at,
            format!("{f}: wrong type for value; expected int; got {}", type_name(v)),
        )),
    }
}

fn arity(args: &[Value], n: usize, f: &str, at: usize, cx: &Ctx) -> R<()> {
    if args.len() != n {
        return Err(cx.err(at, format!("wrong number of args for {f}: want {n} got {}", args.len())));
    }
    Ok(())
}

/// Go's strings.Title: upper-case the first letter of every word.
fn title(s: &str) -> String {
    let mut prev_sep = true;
    s.chars()
        .map(|c| {
            let out = if prev_sep {
                c.to_uppercase().next().unwrap_or(c)
            } else {
                c
            };
            prev_sep = !(c.is_alphanumeric() || c == '_');
            out
        })
        .collect()
}

fn compare(a: &Value, b: &Value) -> Option<std::cmp::Ordering> {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64()?.partial_cmp(&y.as_f64()?),
        (Value::String(x), Value::String(y)) => Some(x.cmp(y)),
        _ => None,
    }
}

fn call(name: &str, args: Vec<Value>, at: usize, cx: &mut Ctx) -> R<Value> {
    let text_fn = matches!(
        name,
        "json" | "split" | "join" | "title" | "lower" | "upper" | "truncate"
    );
    if cx.header && text_fn {
        return Ok(args.into_iter().next().unwrap_or(Value::from("")));
    }
    match name {
        "json" | "join" | "split" | "upper" | "lower" | "title" | "truncate" | "pad" => text(name, args, at, cx),
        "index" => index(args, at, cx),
        "slice" => slice(args, at, cx),
        _ => logic(name, args, at, cx),
    }
}

/// The text functions: json, join, split, upper, lower, title, truncate, pad.
fn text(name: &str, args: Vec<Value>, at: usize, cx: &mut Ctx) -> R<Value> {
    Ok(match name {
        "json" => {
            arity(&args, 1, name, at, cx)?;
            Value::from(serde_json::to_string(&args[0]).unwrap_or_default())
        }
        "join" => {
            arity(&args, 2, name, at, cx)?;
            let Value::Array(items) = &args[0] else {
                return Err(cx.err(
                    at,
                    format!(
                        "join: wrong type for value; expected []string; got {}",
                        type_name(&args[0])
                    ),
                ));
            };
            let sep = string(&args[1], name, at, cx)?;
            Value::from(items.iter().map(show).collect::<Vec<_>>().join(&sep))
        }
        "split" => {
            arity(&args, 2, name, at, cx)?;
            let (s, sep) = (string(&args[0], name, at, cx)?, string(&args[1], name, at, cx)?);
            Value::from(
                s.split(sep.as_str())
                    .map(|x| Value::from(x.to_string()))
                    .collect::<Vec<_>>(),
            )
        }
        "upper" | "lower" | "title" => {
            arity(&args, 1, name, at, cx)?;
            let s = string(&args[0], name, at, cx)?;
            Value::from(match name {
                "upper" => s.to_uppercase(),
                "lower" => s.to_lowercase(),
                _ => title(&s),
            })
        }
        "truncate" => {
            arity(&args, 2, name, at, cx)?;
            let (s, n) = (string(&args[0], name, at, cx)?, int(&args[1], name, at, cx)?);
            Value::from(s.chars().take(n).collect::<String>())
        }
        _ => {
            arity(&args, 3, name, at, cx)?;
            let s = string(&args[0], name, at, cx)?;
            let (pre, post) = (int(&args[1], name, at, cx)?, int(&args[2], name, at, cx)?);
            if s.is_empty() {
                Value::from(s)
            } else {
                Value::from(format!("{}{s}{}", " ".repeat(pre), " ".repeat(post)))
            }
        }
    })
}

/// Comparisons, logic, `len` and the print functions.
fn logic(name: &str, args: Vec<Value>, at: usize, cx: &mut Ctx) -> R<Value> {
    Ok(match name {
        "len" => {
            arity(&args, 1, name, at, cx)?;
            Value::from(match &args[0] {
                Value::String(s) => s.len(),
                Value::Array(a) => a.len(),
                Value::Object(m) => m.len(),
                other => return Err(cx.err(at, format!("len of {}", type_name(other)))),
            })
        }
        "eq" | "ne" => {
            if args.len() < 2 {
                return Err(cx.err(at, format!("wrong number of args for {name}: want at least 2")));
            }
            let eq = args[1..]
                .iter()
                .any(|b| b == &args[0] || compare(&args[0], b) == Some(std::cmp::Ordering::Equal));
            Value::from(if name == "eq" { eq } else { !eq })
        }
        "lt" | "le" | "gt" | "ge" => {
            arity(&args, 2, name, at, cx)?;
            let o = compare(&args[0], &args[1]).ok_or_else(|| cx.err(at, "incompatible types for comparison"))?;
            use std::cmp::Ordering::*;
            Value::from(match name {
                "lt" => o == Less,
                "le" => o != Greater,
                "gt" => o == Greater,
                _ => o != Less,
            })
        }
        "and" => args
            .iter()
            .find(|v| !truthy(v))
            .or(args.last())
            .cloned()
            .unwrap_or(Value::Null),
        "or" => args
            .iter()
            .find(|v| truthy(v))
            .or(args.last())
            .cloned()
            .unwrap_or(Value::Null),
        "not" => {
            arity(&args, 1, name, at, cx)?;
            Value::from(!truthy(&args[0]))
        }
        "print" => Value::from(sprint(&args)),
        "println" => Value::from(args.iter().map(show).collect::<Vec<_>>().join(" ") + "\n"),
        "printf" => {
            let (f, rest) = args.split_first().ok_or_else(|| cx.err(at, "printf: missing format"))?;
            Value::from(printf(&string(f, name, at, cx)?, rest))
        }
        other => return Err(cx.err(at, format!("function {other:?} not defined"))),
    })
}

/// Go's `index x k1 k2 …`: into lists by number, maps by key.
fn index(args: Vec<Value>, at: usize, cx: &mut Ctx) -> R<Value> {
    let name = "index";
    let mut it = args.into_iter();
    let mut v = it
        .next()
        .ok_or_else(|| cx.err(at, "wrong number of args for index: want at least 1 got 0"))?;
    for k in it {
        v = match (&v, &k) {
            (Value::Array(a), Value::Number(_)) => a
                .get(int(&k, name, at, cx)?)
                .cloned()
                .ok_or_else(|| cx.err(at, "index out of range"))?,
            (Value::Object(m), Value::String(s)) => m.get(s).cloned().unwrap_or(Value::Null),
            _ => return Err(cx.err(at, format!("can't index item of type {}", type_name(&v)))),
        };
    }
    Ok(v)
}

/// Go's slice: x[i], x[i:j] of a string or a list.
fn slice(args: Vec<Value>, at: usize, cx: &mut Ctx) -> R<Value> {
    let name = "slice";
    let (x, bounds) = args
        .split_first()
        .ok_or_else(|| cx.err(at, "wrong number of args for slice"))?;
    let mut b = Vec::new();
    for v in bounds {
        b.push(int(v, name, at, cx)?);
    }
    let out_of_range = |j: usize| cx.err(at, format!("error calling slice: index out of range: {j}"));
    let range = |len: usize| {
        let (i, j) = (b.first().copied().unwrap_or(0), b.get(1).copied().unwrap_or(len));
        if i > j || j > len {
            Err(out_of_range(j))
        } else {
            Ok(i..j)
        }
    };
    Ok(match x {
        Value::String(s) => {
            let r = range(s.len())?;
            Value::from(s.get(r.clone()).ok_or_else(|| out_of_range(r.end))?.to_string())
        }
        Value::Array(a) => Value::from(a[range(a.len())?].to_vec()),
        other => return Err(cx.err(at, format!("can't slice item of type {}", type_name(other)))),
    })
}

/// fmt.Sprint: a space between operands when neither is a string.
fn sprint(args: &[Value]) -> String {
    let mut out = String::new();
    for (i, a) in args.iter().enumerate() {
        if i > 0 && !a.is_string() && !args[i - 1].is_string() {
            out.push(' ');
        }
        out.push_str(&show(a));
    }
    out
}

/// fmt.Sprintf's common subset: flags `-`, `+`, `0`, ` `, a width and a
/// precision, verbs `v s d q f x X t` and `%%`.
fn printf(f: &str, args: &[Value]) -> String {
    let mut out = String::new();
    let mut it = args.iter();
    let mut chars = f.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let (mut left, mut zero, mut plus) = (false, false, false);
        while let Some(&fl) = chars.peek() {
            match fl {
                '-' => left = true,
                '0' => zero = true,
                '+' => plus = true,
                ' ' | '#' => {}
                _ => break,
            }
            chars.next();
        }
        let digits = |chars: &mut std::iter::Peekable<std::str::Chars>| {
            let mut n = String::new();
            while let Some(d) = chars.peek().filter(|d| d.is_ascii_digit()) {
                n.push(*d);
                chars.next();
            }
            n.parse::<usize>().ok()
        };
        let width = digits(&mut chars);
        let precision = if chars.peek() == Some(&'.') {
            chars.next();
            Some(digits(&mut chars).unwrap_or(0))
        } else {
            None
        };
        let Some(verb) = chars.next() else {
            out.push_str("%!(NOVERB)");
            break;
        };
        if verb == '%' {
            out.push('%');
            continue;
        }
        let Some(v) = it.next() else {
            out.push_str(&format!("%!{verb}(MISSING)"));
            continue;
        };
        let mut text = match (verb, v) {
            ('q', v) => format!("{:?}", show(v)),
            ('d', Value::Number(n)) if plus && n.as_f64().is_some_and(|x| x >= 0.0) => format!("+{n}"),
            ('f', Value::Number(n)) => format!("{:.*}", precision.unwrap_or(6), n.as_f64().unwrap_or(0.0)),
            ('x', Value::Number(n)) => format!("{:x}", n.as_f64().unwrap_or(0.0) as i64),
            ('X', Value::Number(n)) => format!("{:X}", n.as_f64().unwrap_or(0.0) as i64),
            ('s', v) => match precision {
                Some(p) => show(v).chars().take(p).collect(),
                None => show(v),
            },
            (_, v) => show(v),
        };
        let len = text.chars().count();
        if let Some(w) = width.filter(|w| *w > len) {
            let pad = w - len;
            if left {
                text.push_str(&" ".repeat(pad));
            } else if zero && v.is_number() {
                let sign = text.starts_with(['-', '+']);
                let at = usize::from(sign);
                text.insert_str(at, &"0".repeat(pad));
            } else {
                text.insert_str(0, &" ".repeat(pad));
            }
        }
        out.push_str(&text);
    }
    out
}
