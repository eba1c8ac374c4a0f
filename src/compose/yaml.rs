//! YAML to a tree that remembers where every node came from.
//!
//! Compose errors must point at the offending node (file:line:col), so the
//! loader works on this tree rather than on deserialised structs. Parsing
//! is `saphyr-parser`'s event stream (the maintained successor of
//! yaml-rust's parser; `serde_yaml` is deprecated and loses positions).
//! Scalars resolve as YAML 1.2's core schema, as go-yaml v3 (compose's
//! parser) does: `yes`/`no` stay strings. Anchors, aliases and `<<` merge
//! keys are resolved here; tags such as `!reset` and `!override` are kept.

use std::borrow::Cow;
use std::collections::HashMap;

use saphyr_parser::{Event, Parser, ScalarStyle, Span as YSpan};

/// Where a node is: the file (index into the loader's file list) and the
/// byte range, line and column (both 1-based) of its first character.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Span {
    pub file: usize,
    pub start: usize,
    pub end: usize,
    pub line: usize,
    pub col: usize,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    pub value: Value,
    pub span: Span,
    pub tag: Option<String>,
    /// Quoted scalars are always strings and are never re-typed.
    pub quoted: bool,
}

impl Node {
    /// How many nodes this one holds, itself included.
    pub fn size(&self) -> usize {
        1 + match &self.value {
            Value::Seq(items) => items.iter().map(Node::size).sum(),
            Value::Map(entries) => entries.iter().map(|(k, v)| k.size() + v.size()).sum(),
            _ => 0,
        }
    }

    pub fn new(value: Value, span: Span) -> Self {
        Node {
            value,
            span,
            tag: None,
            quoted: false,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_map(&self) -> Option<&Vec<(Node, Node)>> {
        match &self.value {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }

    pub fn get(&self, key: &str) -> Option<&Node> {
        self.as_map()?
            .iter()
            .find(|(k, _)| k.as_str() == Some(key))
            .map(|(_, v)| v)
    }

    pub fn type_name(&self) -> &'static str {
        match self.value {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Int(_) => "integer",
            Value::Float(_) => "number",
            Value::Str(_) => "string",
            Value::Seq(_) => "array",
            Value::Map(_) => "mapping",
        }
    }

    /// The scalar as text (numbers and booleans as YAML wrote them).
    pub fn scalar_text(&self) -> Option<String> {
        match &self.value {
            Value::Str(s) => Some(s.clone()),
            Value::Int(i) => Some(i.to_string()),
            Value::Float(f) => Some(f.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }
}

/// A YAML syntax error with its position.
#[derive(Debug, Clone)]
pub struct SyntaxError {
    pub message: String,
    pub span: Span,
}

/// Resolves a plain scalar as the YAML 1.2 core schema.
pub fn resolve_plain(s: &str) -> Value {
    match s {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "true" | "True" | "TRUE" => return Value::Bool(true),
        "false" | "False" | "FALSE" => return Value::Bool(false),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => return Value::Float(f64::INFINITY),
        "-.inf" | "-.Inf" | "-.INF" => return Value::Float(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => return Value::Float(f64::NAN),
        _ => {}
    }
    let digits = s.strip_prefix(['-', '+']).unwrap_or(s);
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        // Like go-yaml (compose's parser): a leading 0 means octal.
        if digits.len() > 1 && digits.starts_with('0') {
            if let Ok(i) = i64::from_str_radix(digits, 8) {
                return Value::Int(if s.starts_with('-') { -i } else { i });
            }
        }
        if let Ok(i) = s.parse::<i64>() {
            return Value::Int(i);
        }
    }
    if let Some(hex) = s.strip_prefix("0x") {
        if let Ok(i) = i64::from_str_radix(hex, 16) {
            return Value::Int(i);
        }
    }
    if let Some(oct) = s.strip_prefix("0o") {
        if let Ok(i) = i64::from_str_radix(oct, 8) {
            return Value::Int(i);
        }
    }
    let looks_float = digits.bytes().next().is_some_and(|b| b.is_ascii_digit() || b == b'.')
        && digits
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'-' | b'+'))
        && digits.bytes().any(|b| b.is_ascii_digit());
    if looks_float {
        if let Ok(f) = s.parse::<f64>() {
            return Value::Float(f);
        }
    }
    Value::Str(s.to_string())
}

/// How many nodes aliases may copy in one document: far beyond any real
/// compose file, far below what would exhaust memory.
const MAX_ALIASED: usize = 1_000_000;

struct Builder<'a> {
    file: usize,
    /// Byte offset of every char index (saphyr counts in chars).
    offsets: Vec<usize>,
    /// Anchored nodes, with the number of nodes each holds.
    anchors: HashMap<usize, (Node, usize)>,
    /// Nodes materialised by aliases so far (see `MAX_ALIASED`).
    aliased: usize,
    events: std::iter::Peekable<Parser<'a, saphyr_parser::StrInput<'a>>>,
}

impl<'a> Builder<'a> {
    fn span(&self, s: &YSpan) -> Span {
        let at = |i: usize| {
            self.offsets
                .get(i)
                .copied()
                .unwrap_or_else(|| *self.offsets.last().unwrap_or(&0))
        };
        Span {
            file: self.file,
            start: at(s.start.index()),
            end: at(s.end.index()),
            line: s.start.line(),
            col: s.start.col() + 1,
        }
    }

    fn next(&mut self) -> Result<(Event<'a>, YSpan), SyntaxError> {
        match self.events.next() {
            Some(Ok((e, s))) => Ok((e, s)),
            Some(Err(e)) => {
                let m = e.marker();
                let at = self.offsets.get(m.index()).copied().unwrap_or(0);
                Err(SyntaxError {
                    message: e.info().to_string(),
                    span: Span {
                        file: self.file,
                        start: at,
                        end: at,
                        line: m.line(),
                        col: m.col() + 1,
                    },
                })
            }
            None => Err(SyntaxError {
                message: "unexpected end of YAML".into(),
                span: Span {
                    file: self.file,
                    ..Default::default()
                },
            }),
        }
    }

    fn tag_of(tag: &Option<Cow<'_, saphyr_parser::Tag>>) -> Option<String> {
        tag.as_ref().map(|t| format!("{}{}", t.handle, t.suffix))
    }

    /// Builds the node whose first event is `first`.
    fn node(&mut self, first: Event<'a>, span: YSpan) -> Result<Node, SyntaxError> {
        let sp = self.span(&span);
        let err = |message: String| SyntaxError { message, span: sp };
        match first {
            Event::Scalar(text, style, anchor, tag) => {
                let tag = Self::tag_of(&tag);
                let quoted = !matches!(style, ScalarStyle::Plain);
                let value = match tag.as_deref() {
                    Some("tag:yaml.org,2002:str") | Some("!!str") => Value::Str(text.to_string()),
                    _ if quoted => Value::Str(text.to_string()),
                    _ => resolve_plain(&text),
                };
                let node = Node {
                    value,
                    span: sp,
                    tag,
                    quoted,
                };
                Ok(self.anchored(anchor, node))
            }
            Event::Alias(id) => match self.anchors.get(&id) {
                Some((n, size)) => {
                    // Aliases of aliases grow exponentially ("billion
                    // laughs"); refuse as go-yaml does, before expanding.
                    self.aliased += size;
                    if self.aliased > MAX_ALIASED {
                        return Err(err("document contains excessive aliasing".into()));
                    }
                    let mut n = n.clone();
                    n.span = sp;
                    Ok(n)
                }
                None => Err(err("unknown anchor".into())),
            },
            Event::SequenceStart(anchor, tag) => {
                let tag = Self::tag_of(&tag);
                let mut items = Vec::new();
                loop {
                    let (e, s) = self.next()?;
                    if matches!(e, Event::SequenceEnd) {
                        break;
                    }
                    items.push(self.node(e, s)?);
                }
                let node = Node {
                    value: Value::Seq(items),
                    span: sp,
                    tag,
                    quoted: false,
                };
                Ok(self.anchored(anchor, node))
            }
            Event::MappingStart(anchor, tag) => {
                let node = Node {
                    value: Value::Map(self.mapping()?),
                    span: sp,
                    tag: Self::tag_of(&tag),
                    quoted: false,
                };
                Ok(self.anchored(anchor, node))
            }
            other => Err(err(format!("unexpected YAML event {other:?}"))),
        }
    }

    /// Remembers `node` under its anchor (0: none) for later aliases.
    fn anchored(&mut self, anchor: usize, node: Node) -> Node {
        if anchor > 0 {
            self.anchors.insert(anchor, (node.clone(), node.size()));
        }
        node
    }

    /// A mapping's entries up to its end, merge keys (`<<`) applied after
    /// the entries written out (which win); a key written twice is an error.
    fn mapping(&mut self) -> Result<Vec<(Node, Node)>, SyntaxError> {
        let mut entries: Vec<(Node, Node)> = Vec::new();
        let mut merged: Vec<(Node, Node)> = Vec::new();
        // Scalar keys seen (typed, so `1` and `"1"` differ): a duplicate
        // check by search would make a large mapping quadratic.
        let mut seen: std::collections::HashSet<String> = Default::default();
        loop {
            let (e, s) = self.next()?;
            if matches!(e, Event::MappingEnd) {
                break;
            }
            let key = self.node(e, s)?;
            let (ve, vs) = self.next()?;
            let value = self.node(ve, vs)?;
            if key.as_str() == Some("<<") && !key.quoted {
                merge(&mut merged, value)?;
                continue;
            }
            let duplicate = match scalar_key(&key.value) {
                Some(k) => !seen.insert(k),
                None => entries.iter().any(|(k, _)| k.value == key.value),
            };
            if duplicate {
                let name = key.scalar_text().unwrap_or_default();
                return Err(SyntaxError {
                    message: format!("mapping key {name:?} already defined"),
                    span: key.span,
                });
            }
            entries.push((key, value));
        }
        for (k, v) in merged {
            let written = match scalar_key(&k.value) {
                Some(key) => seen.contains(&key),
                None => entries.iter().any(|(ek, _)| ek.value == k.value),
            };
            if !written {
                entries.push((k, v));
            }
        }
        Ok(entries)
    }
}

/// A scalar key as a typed text for a set of the keys seen; None for a
/// sequence or mapping used as a key (rare: compared by value instead).
fn scalar_key(v: &Value) -> Option<String> {
    match v {
        Value::Null => Some("n".into()),
        Value::Bool(b) => Some(format!("b{b}")),
        Value::Int(i) => Some(format!("i{i}")),
        Value::Float(f) => Some(format!("f{}", f.to_bits())),
        Value::Str(s) => Some(format!("s{s}")),
        Value::Seq(_) | Value::Map(_) => None,
    }
}

/// Adds a merge key's value (a map or a list of maps) to `merged`; the
/// earlier source wins a key.
fn merge(merged: &mut Vec<(Node, Node)>, value: Node) -> Result<(), SyntaxError> {
    const WHY: &str = "map merge requires map or sequence of maps as the value";
    let sources = match value.value {
        Value::Map(_) => vec![value],
        Value::Seq(items) => items,
        _ => {
            return Err(SyntaxError {
                message: WHY.into(),
                span: value.span,
            })
        }
    };
    for src in sources {
        let Value::Map(m) = src.value else {
            return Err(SyntaxError {
                message: WHY.into(),
                span: src.span,
            });
        };
        for (k, v) in m {
            if !merged.iter().any(|(mk, _)| mk.value == k.value) {
                merged.push((k, v));
            }
        }
    }
    Ok(())
}

/// Parses one YAML document (an empty file is an empty map).
pub fn parse(text: &str, file: usize) -> Result<Node, SyntaxError> {
    let mut offsets: Vec<usize> = text.char_indices().map(|(i, _)| i).collect();
    offsets.push(text.len());
    let mut b = Builder {
        file,
        offsets,
        anchors: HashMap::new(),
        aliased: 0,
        events: Parser::new_from_str(text).peekable(),
    };
    let mut root = None;
    loop {
        let (e, s) = b.next()?;
        match e {
            Event::StreamStart | Event::DocumentStart(_) | Event::DocumentEnd | Event::Nothing => continue,
            Event::StreamEnd => break,
            e => {
                if root.is_some() {
                    let sp = b.span(&s);
                    return Err(SyntaxError {
                        message: "a compose file must hold a single YAML document".into(),
                        span: sp,
                    });
                }
                root = Some(b.node(e, s)?);
            }
        }
    }
    Ok(root.unwrap_or_else(|| {
        Node::new(
            Value::Null,
            Span {
                file,
                ..Default::default()
            },
        )
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_merge_keys_and_core_schema() {
        let text = "x: &a\n  p: 1\n  q: yes\ns:\n  <<: *a\n  p: 2\n  r: \"3\"\n";
        let n = parse(text, 0).unwrap();
        let s = n.get("s").unwrap();
        assert_eq!(
            s.get("p").unwrap().value,
            Value::Int(2),
            "own keys win over merged ones"
        );
        assert_eq!(
            s.get("q").unwrap().value,
            Value::Str("yes".into()),
            "YAML 1.2: yes is a string"
        );
        assert_eq!(s.get("r").unwrap().value, Value::Str("3".into()));
        let p = s.get("p").unwrap();
        assert_eq!((p.span.line, p.span.col), (6, 6));
        assert_eq!(&text[p.span.start..p.span.start + 1], "2");
        assert!(parse("a: [1, 2\n", 0).is_err());
        assert!(parse("a: 1\na: 2\n", 0).is_err());
    }
}
