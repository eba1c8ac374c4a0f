//! Items → a tree: text, actions (pipelines), `if`/`range`/`with` blocks
//! with `else`, closed by `end`.

use super::lex::{Item, Operand, Tok, Toks};
use super::TemplateError;

#[derive(Clone, Debug)]
pub enum Arg {
    /// A field, variable, string or number, as the lexer read it.
    Operand(Operand),
    Bool(bool),
    Nil,
    Func(String),
    Sub(Pipeline),
    /// `(pipeline).A.B`: a field of a parenthesised pipeline's value.
    Chain(Pipeline, Vec<String>),
}

/// One command of a pipeline: its operands, and where it starts.
#[derive(Clone, Debug)]
pub struct Cmd {
    pub args: Vec<Arg>,
    pub at: usize,
}

#[derive(Clone, Debug)]
pub struct Pipeline {
    /// Variables declared (`$x :=`, `$i, $e :=` in range).
    pub decl: Vec<String>,
    pub cmds: Vec<Cmd>,
    pub at: usize,
}

#[derive(Clone, Debug)]
pub enum Node {
    Text(String),
    Action(Pipeline),
    If(Pipeline, Vec<Node>, Vec<Node>),
    Range(Pipeline, Vec<Node>, Vec<Node>),
    With(Pipeline, Vec<Node>, Vec<Node>),
}

/// What ended a list of nodes; `else if`/`else with` carry the chained
/// block's keyword, tokens and offset.
enum Stop {
    Eof,
    End,
    Else(Option<(String, Toks, usize)>),
}

pub fn parse(src: &str, items: Vec<Item>) -> Result<Vec<Node>, TemplateError> {
    let mut it = items.into_iter().peekable();
    let (nodes, end) = list(src, &mut it)?;
    match end {
        Stop::Eof => Ok(nodes),
        Stop::End => Err(TemplateError::at(src, 0, "unexpected {{end}}")),
        Stop::Else(_) => Err(TemplateError::at(src, 0, "unexpected {{else}}")),
    }
}

type Items = std::iter::Peekable<std::vec::IntoIter<Item>>;

fn list(src: &str, it: &mut Items) -> Result<(Vec<Node>, Stop), TemplateError> {
    let mut nodes = Vec::new();
    while let Some(item) = it.next() {
        let (toks, at) = match item {
            Item::Text(t) => {
                nodes.push(Node::Text(t));
                continue;
            }
            Item::Action(toks, at) => (toks, at),
        };
        let keyword = match toks.first() {
            Some((Tok::Ident(k), _)) => k.clone(),
            None => return Err(TemplateError::at(src, at, "missing value for command")),
            _ => String::new(),
        };
        match keyword.as_str() {
            "end" => return Ok((nodes, Stop::End)),
            "else" => {
                // `else if ...` / `else with ...` chain into a nested block.
                let chained = match toks.get(1) {
                    Some((Tok::Ident(k), _)) if k == "if" || k == "with" => {
                        Some((k.clone(), toks[2..].to_vec(), toks[1].1))
                    }
                    _ => None,
                };
                return Ok((nodes, Stop::Else(chained)));
            }
            "if" | "range" | "with" => nodes.push(block(src, it, &keyword, toks[1..].to_vec(), at)?),
            "define" | "template" | "block" | "break" | "continue" => {
                return Err(TemplateError::at(
                    src,
                    at,
                    format!("{{{{{keyword}}}}} is not supported"),
                ))
            }
            _ => nodes.push(Node::Action(pipeline(src, &toks, at)?)),
        }
    }
    Ok((nodes, Stop::Eof))
}

fn block(src: &str, it: &mut Items, keyword: &str, toks: Toks, at: usize) -> Result<Node, TemplateError> {
    let pipe = pipeline(src, &toks, at)?;
    let (body, end) = list(src, it)?;
    let otherwise = match end {
        Stop::Eof => {
            return Err(TemplateError::at(
                src,
                at,
                format!("unexpected EOF: {{{{{keyword}}}}} has no {{{{end}}}}"),
            ))
        }
        Stop::End => Vec::new(),
        Stop::Else(None) => {
            let (nodes, end) = list(src, it)?;
            if !matches!(end, Stop::End) {
                return Err(TemplateError::at(
                    src,
                    at,
                    format!("{{{{{keyword}}}}} has no {{{{end}}}}"),
                ));
            }
            nodes
        }
        // The chained block consumes the shared {{end}}.
        Stop::Else(Some((k, toks, at))) => vec![block(src, it, &k, toks, at)?],
    };
    Ok(match keyword {
        "if" => Node::If(pipe, body, otherwise),
        "range" => Node::Range(pipe, body, otherwise),
        _ => Node::With(pipe, body, otherwise),
    })
}

fn pipeline(src: &str, toks: &[(Tok, usize)], at: usize) -> Result<Pipeline, TemplateError> {
    let mut i = 0;
    let mut decl = Vec::new();
    // `$x :=` or `$i, $e :=`
    let is_decl = toks.iter().any(|(t, _)| matches!(t, Tok::Declare | Tok::Assign));
    if is_decl {
        while i < toks.len() {
            match &toks[i].0 {
                Tok::Operand(Operand::Var(n, p)) if p.is_empty() => decl.push(n.clone()),
                Tok::Comma => {}
                Tok::Declare | Tok::Assign => {
                    i += 1;
                    break;
                }
                _ => return Err(TemplateError::at(src, toks[i].1, "bad variable declaration")),
            }
            i += 1;
        }
    }
    let (cmds, next) = commands(src, toks, i, false)?;
    if next != toks.len() {
        return Err(TemplateError::at(src, toks[next].1, "unexpected \")\" in command"));
    }
    if cmds.is_empty() {
        return Err(TemplateError::at(src, at, "missing value for command"));
    }
    Ok(Pipeline { decl, cmds, at })
}

/// Whether a token ends an operand (another may not follow it unspaced).
fn operand_end(tok: &Tok) -> bool {
    matches!(tok, Tok::Operand(_) | Tok::Ident(_) | Tok::Close)
}

/// Commands separated by `|`, up to the end or (in parentheses) `)`.
fn commands(src: &str, toks: &[(Tok, usize)], mut i: usize, nested: bool) -> Result<(Vec<Cmd>, usize), TemplateError> {
    let mut cmds = Vec::new();
    let mut args = Vec::new();
    let mut at = toks.get(i).map(|t| t.1).unwrap_or(0);
    while i < toks.len() {
        let (tok, pos) = &toks[i];
        // Go wants a space (or `|`, `)`) after each operand: `{{json.}}`
        // is its "unexpected <.> in operand", not `json .`.
        let operand = matches!(tok, Tok::Operand(_) | Tok::Ident(_));
        let glued = *pos > 0 && !src.as_bytes()[*pos - 1].is_ascii_whitespace();
        if operand && glued && i > 0 && operand_end(&toks[i - 1].0) {
            let what = src[*pos..].chars().next().unwrap_or(' ');
            return Err(TemplateError::at(src, *pos, format!("unexpected <{what}> in operand")));
        }
        match tok {
            Tok::Close if nested => break,
            Tok::Close => return Err(TemplateError::at(src, *pos, "unexpected \")\"")),
            Tok::Pipe => {
                if args.is_empty() {
                    return Err(TemplateError::at(src, *pos, "missing command before \"|\""));
                }
                cmds.push(Cmd {
                    args: std::mem::take(&mut args),
                    at,
                });
                at = toks.get(i + 1).map(|t| t.1).unwrap_or(*pos);
            }
            Tok::Open => {
                let (sub, next) = commands(src, toks, i + 1, true)?;
                if next >= toks.len() {
                    return Err(TemplateError::at(src, *pos, "unclosed left paren"));
                }
                let sub = Pipeline {
                    decl: Vec::new(),
                    cmds: sub,
                    at: *pos,
                };
                // `(...).Field` with nothing between: Go's chain node.
                match toks.get(next + 1) {
                    Some((Tok::Operand(Operand::Field(path)), at)) if *at == toks[next].1 + 1 && !path.is_empty() => {
                        args.push(Arg::Chain(sub, path.clone()));
                        i = next + 1;
                    }
                    _ => {
                        args.push(Arg::Sub(sub));
                        i = next;
                    }
                }
            }
            Tok::Operand(o) => args.push(Arg::Operand(o.clone())),
            Tok::Ident(n) => args.push(match n.as_str() {
                "true" => Arg::Bool(true),
                "false" => Arg::Bool(false),
                "nil" => Arg::Nil,
                _ => Arg::Func(n.clone()),
            }),
            Tok::Comma | Tok::Declare | Tok::Assign => {
                return Err(TemplateError::at(src, *pos, "unexpected token in command"))
            }
        }
        i += 1;
    }
    if !args.is_empty() {
        cmds.push(Cmd { args, at });
    } else if !cmds.is_empty() {
        return Err(TemplateError::at(src, at, "missing command after \"|\""));
    }
    Ok((cmds, i))
}

/// The top-level fields of the data that `nodes` can read, each also with
/// an `s` (`.Label "k"` reads `Labels`), into `out`; `false` when they can
/// read the whole value (`.`, `$`, `json .`). Over-includes inside
/// `with`/`range`, where a field is of the block's value: it is a prune
/// list, not a promise.
pub fn root_fields(nodes: &[Node], out: &mut std::collections::BTreeSet<String>) -> bool {
    nodes.iter().all(|n| match n {
        Node::Text(_) => true,
        Node::Action(p) => pipeline_fields(p, out),
        Node::If(p, a, b) | Node::Range(p, a, b) | Node::With(p, a, b) => {
            pipeline_fields(p, out) && root_fields(a, out) && root_fields(b, out)
        }
    })
}

fn pipeline_fields(p: &Pipeline, out: &mut std::collections::BTreeSet<String>) -> bool {
    p.cmds.iter().flat_map(|c| &c.args).all(|a| match a {
        Arg::Operand(Operand::Field(path)) => path_field(path, out),
        Arg::Operand(Operand::Var(name, path)) => !name.is_empty() || path_field(path, out),
        Arg::Sub(p) | Arg::Chain(p, _) => pipeline_fields(p, out),
        Arg::Operand(Operand::Str(_) | Operand::Num(_)) | Arg::Bool(_) | Arg::Nil | Arg::Func(_) => true,
    })
}

fn path_field(path: &[String], out: &mut std::collections::BTreeSet<String>) -> bool {
    match path.first() {
        None => false,
        Some(k) => {
            out.insert(format!("{k}s"));
            out.insert(k.clone());
            true
        }
    }
}
