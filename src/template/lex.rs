//! Go template text → items: literal text and the tokens of each action.

use super::TemplateError;

/// An operand written whole in the source: the lexer reads it and the
/// parser hands it to the tree unchanged (Go's field, variable, string
/// and number nodes), so both stages share one type.
#[derive(Clone, Debug, PartialEq)]
pub enum Operand {
    /// `.A.B` (an empty path is the dot itself).
    Field(Vec<String>),
    /// `$x.A.B` (`$` alone is the root).
    Var(String, Vec<String>),
    Str(String),
    Num(f64),
}

#[derive(Clone, Debug, PartialEq)]
pub enum Tok {
    Operand(Operand),
    Ident(String),
    Pipe,
    Open,
    Close,
    Declare,
    Assign,
    Comma,
}

/// Tokens with the byte offset of each.
pub type Toks = Vec<(Tok, usize)>;

#[derive(Clone, Debug, PartialEq)]
pub enum Item {
    Text(String),
    /// The tokens of one `{{ }}`, and where it starts.
    Action(Toks, usize),
}

/// Splits `src` into text and actions, honouring `{{-` and `-}}` trims.
pub fn lex(src: &str) -> Result<Vec<Item>, TemplateError> {
    let mut items = Vec::new();
    let mut rest = 0;
    while let Some(open) = src[rest..].find("{{").map(|i| i + rest) {
        let mut text = &src[rest..open];
        let mut start = open + 2;
        if src[start..].starts_with("- ") || src[start..].starts_with("-\t") || src[start..].starts_with("-\n") {
            text = text.trim_end();
            start += 1;
        }
        if !text.is_empty() {
            items.push(Item::Text(text.to_string()));
        }
        let (toks, end, trim) = action(src, start)?;
        items.push(Item::Action(toks, open));
        rest = end;
        if trim {
            rest += src[rest..].len() - src[rest..].trim_start().len();
        }
    }
    if rest < src.len() {
        items.push(Item::Text(src[rest..].to_string()));
    }
    Ok(items)
}

/// The token of a one-character punctuation mark (`|`, `(`, `)`, `,`, `=`).
fn punct(c: char) -> Tok {
    match c {
        '|' => Tok::Pipe,
        '(' => Tok::Open,
        ')' => Tok::Close,
        ',' => Tok::Comma,
        _ => Tok::Assign,
    }
}

fn path(src: &str, mut i: usize) -> (Vec<String>, usize) {
    let b = src.as_bytes();
    let mut parts = Vec::new();
    while i < b.len() && b[i] == b'.' {
        let s = i + 1;
        let mut e = s;
        while e < b.len() && (b[e].is_ascii_alphanumeric() || b[e] == b'_') {
            e += 1;
        }
        if e == s {
            // A lone dot ends the path (`.` itself, or `$.`).
            i = e;
            break;
        }
        parts.push(src[s..e].to_string());
        i = e;
    }
    (parts, i)
}

/// The tokens of the action starting at `i`; returns them, the offset
/// after `}}`, and whether it ended with `-}}`.
fn action(src: &str, mut i: usize) -> Result<(Toks, usize, bool), TemplateError> {
    let b = src.as_bytes();
    let mut toks = Vec::new();
    loop {
        while i < b.len() && (b[i] as char).is_ascii_whitespace() {
            i += 1;
        }
        if i >= b.len() {
            return Err(TemplateError::at(src, i, "unclosed action"));
        }
        if src[i..].starts_with("-}}") {
            return Ok((toks, i + 3, true));
        }
        if src[i..].starts_with("}}") {
            return Ok((toks, i + 2, false));
        }
        let at = i;
        let c = b[i] as char;
        let tok = match c {
            '|' | '(' | ')' | ',' | '=' => {
                i += 1;
                punct(c)
            }
            ':' if src[i..].starts_with(":=") => {
                i += 2;
                Tok::Declare
            }
            '.' => {
                let (parts, e) = path(src, i);
                i = e.max(i + 1);
                Tok::Operand(Operand::Field(parts))
            }
            '$' => {
                let s = i + 1;
                let mut e = s;
                while e < b.len() && (b[e].is_ascii_alphanumeric() || b[e] == b'_') {
                    e += 1;
                }
                let name = src[s..e].to_string();
                let (parts, e2) = path(src, e);
                i = e2;
                Tok::Operand(Operand::Var(name, parts))
            }
            '"' => {
                let (s, e) = quoted(src, i)?;
                i = e;
                Tok::Operand(Operand::Str(s))
            }
            '`' => match src[i + 1..].find('`') {
                Some(e) => {
                    let s = src[i + 1..i + 1 + e].to_string();
                    i = i + 2 + e;
                    Tok::Operand(Operand::Str(s))
                }
                None => return Err(TemplateError::at(src, i, "unterminated raw quoted string")),
            },
            c if c.is_ascii_digit() || c == '-' || c == '+' => {
                let s = i;
                i += 1;
                while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'.') {
                    i += 1;
                }
                let n = src[s..i]
                    .parse::<f64>()
                    .map_err(|_| TemplateError::at(src, s, format!("bad number syntax: {:?}", &src[s..i])))?;
                Tok::Operand(Operand::Num(n))
            }
            c if c.is_ascii_alphabetic() || c == '_' => {
                let s = i;
                while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                    i += 1;
                }
                Tok::Ident(src[s..i].to_string())
            }
            other => return Err(TemplateError::at(src, i, format!("unexpected {other:?} in command"))),
        };
        toks.push((tok, at));
    }
}

fn quoted(src: &str, start: usize) -> Result<(String, usize), TemplateError> {
    let mut out = String::new();
    let mut chars = src[start + 1..].char_indices();
    while let Some((k, c)) = chars.next() {
        match c {
            '"' => return Ok((out, start + 1 + k + 1)),
            '\\' => match chars.next() {
                Some((_, 'n')) => out.push('\n'),
                Some((_, 't')) => out.push('\t'),
                Some((_, '\\')) => out.push('\\'),
                Some((_, '"')) => out.push('"'),
                Some((_, other)) => {
                    out.push('\\');
                    out.push(other);
                }
                None => break,
            },
            '\n' => break,
            c => out.push(c),
        }
    }
    Err(TemplateError::at(src, start, "unterminated quoted string"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_and_actions_with_trim_markers() {
        let items = lex("a {{- .Name -}} b").unwrap();
        assert_eq!(items.len(), 3);
        assert_eq!(items[0], Item::Text("a".into()));
        assert_eq!(items[2], Item::Text("b".into()));
        let Item::Action(toks, _) = &items[1] else { panic!() };
        assert_eq!(toks[0].0, Tok::Operand(Operand::Field(vec!["Name".into()])));
    }

    #[test]
    fn tokens() {
        let Item::Action(toks, _) = &lex(r#"{{range $k, $v := .A.B | join "x\t" 3 (len .)}}"#).unwrap()[0] else {
            panic!()
        };
        let kinds: Vec<Tok> = toks.iter().map(|t| t.0.clone()).collect();
        assert_eq!(
            kinds,
            vec![
                Tok::Ident("range".into()),
                Tok::Operand(Operand::Var("k".into(), vec![])),
                Tok::Comma,
                Tok::Operand(Operand::Var("v".into(), vec![])),
                Tok::Declare,
                Tok::Operand(Operand::Field(vec!["A".into(), "B".into()])),
                Tok::Pipe,
                Tok::Ident("join".into()),
                Tok::Operand(Operand::Str("x\t".into())),
                Tok::Operand(Operand::Num(3.0)),
                Tok::Open,
                Tok::Ident("len".into()),
                Tok::Operand(Operand::Field(vec![])),
                Tok::Close,
            ]
        );
    }

    #[test]
    fn unclosed_action_is_an_error_with_its_position() {
        let e = lex("ab\n{{.Name").unwrap_err();
        assert_eq!((e.line, e.col), (2, 7));
    }
}
