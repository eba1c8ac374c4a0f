//! The Go-template subset Docker's `--format` flags take, on JSON data:
//! `{{.Name}}`, `{{json .}}`, `{{.Label "k"}}`, pipelines, `if`/`range`/
//! `with`/`else`/`end`, Docker's functions, and the `table` directive
//! (columns aligned as Docker's tabwriter does, with a header row).
//! Engine-independent: rows are `serde_json::Value`s, so compose and swarm
//! commands share it.
//!
//! ```
//! let rows = vec![serde_json::json!({"Name": "web-1", "State": "running"})];
//! let headers = serde_json::json!({"Name": "NAME", "State": "STATE"});
//! let out = orch::template::render("table {{.Name}}\t{{.State}}", &rows, &headers).unwrap();
//! assert_eq!(out, "NAME      STATE\nweb-1     running\n");
//! ```

mod eval;
mod lex;
mod parse;
mod tabwriter;

use serde_json::Value;

/// A template error, at a line and column (a byte offset from 0, as Go's
/// template errors count) of the template text.
#[derive(Debug, Clone, PartialEq)]
pub struct TemplateError {
    pub line: usize,
    pub col: usize,
    pub msg: String,
    /// Go names the column only of errors while executing; a parse
    /// error says `template: :LINE: …`.
    pub executing: bool,
}

impl TemplateError {
    fn at(src: &str, offset: usize, msg: impl Into<String>) -> Self {
        let before = &src[..offset.min(src.len())];
        let line = before.matches('\n').count() + 1;
        // Go's column: the byte offset within the line, from 0.
        let col = before.len() - before.rfind('\n').map(|i| i + 1).unwrap_or(0);
        TemplateError {
            line,
            col,
            msg: msg.into(),
            executing: false,
        }
    }

    /// An error while executing (Go's message names the column).
    fn executing(src: &str, offset: usize, msg: impl Into<String>) -> Self {
        TemplateError {
            executing: true,
            ..Self::at(src, offset, msg)
        }
    }
}

impl std::fmt::Display for TemplateError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.executing {
            write!(f, "template: :{}:{}: {}", self.line, self.col, self.msg)
        } else {
            write!(f, "template: :{}: {}", self.line, self.msg)
        }
    }
}

impl std::error::Error for TemplateError {}

/// A parsed `--format` value.
pub struct Template {
    src: String,
    nodes: Vec<parse::Node>,
    table: bool,
}

impl Template {
    /// Parses a format as Docker's formatter reads it: a leading `table`
    /// makes a table; surrounding spaces go; the two-character sequences
    /// `\t` and `\n` become a tab and a newline.
    pub fn parse(format: &str) -> Result<Template, TemplateError> {
        let (table, body) = match format.strip_prefix("table") {
            Some(rest) => (true, rest),
            None => (false, format),
        };
        let src = body.trim_matches(' ').replace("\\t", "\t").replace("\\n", "\n");
        let nodes = parse::parse(&src, lex::lex(&src)?)?;
        Ok(Template { src, nodes, table })
    }

    /// Whether the format is a `table` format.
    pub fn is_table(&self) -> bool {
        self.table
    }

    /// The top-level fields of a row this template can read (with an `s`
    /// added to each, for `.Label "k"`), or `None` when it can read the
    /// whole row (`{{json .}}`, `{{.}}`, `$`). A caller may leave the rest
    /// out of the rows it renders: converting them was most of a 500-row
    /// `ps` table's time.
    pub fn root_fields(&self) -> Option<std::collections::BTreeSet<String>> {
        let mut out = std::collections::BTreeSet::new();
        parse::root_fields(&self.nodes, &mut out).then_some(out)
    }

    /// Renders each row followed by a newline; a table gets a header row
    /// from `headers` (field → column title) and aligned columns.
    pub fn render(&self, rows: &[Value], headers: &Value) -> Result<String, TemplateError> {
        let mut out = String::new();
        if self.table {
            self.row(headers, true, &mut out)?;
        }
        for r in rows {
            self.row(r, false, &mut out)?;
        }
        Ok(if self.table { tabwriter::align(&out) } else { out })
    }

    fn row(&self, data: &Value, header: bool, out: &mut String) -> Result<(), TemplateError> {
        let mut cx = eval::Ctx {
            src: &self.src,
            root: data,
            vars: Vec::new(),
            header,
        };
        eval::exec(&self.nodes, data, out, &mut cx)?;
        out.push('\n');
        Ok(())
    }
}

/// Parses `format` and renders `rows` (see [`Template::render`]).
pub fn render(format: &str, rows: &[Value], headers: &Value) -> Result<String, TemplateError> {
    Template::parse(format)?.render(rows, headers)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn one(format: &str, row: Value) -> String {
        render(format, &[row], &json!({})).unwrap_or_else(|e| panic!("{format}: {e}"))
    }

    #[test]
    fn fields_and_json() {
        let row = json!({"Name": "web-1", "Labels": {"a": "1"}, "Ports": 80});
        assert_eq!(one("{{.Name}}", row.clone()), "web-1\n");
        assert_eq!(
            one("{{json .}}", row.clone()),
            "{\"Name\":\"web-1\",\"Labels\":{\"a\":\"1\"},\"Ports\":80}\n"
        );
        assert_eq!(one("{{json .Labels}}", row.clone()), "{\"a\":\"1\"}\n");
        assert_eq!(one("{{.Labels.a}} {{.Labels.zz}}", row.clone()), "1 <no value>\n");
        assert_eq!(one("{{.Ports}}", row), "80\n");
    }

    #[test]
    fn operands_need_a_space_between_them() {
        let row = json!({"Name": "web-1"});
        let err = render("{{json.}}", std::slice::from_ref(&row), &json!({})).unwrap_err();
        assert!(err.to_string().contains("unexpected <.> in operand"), "{err}");
        assert!(render("{{printf \"%s\".Name}}", std::slice::from_ref(&row), &json!({})).is_err());
        assert_eq!(
            one("{{json .Name}}|{{(printf \"%s\" .Name)}}|{{.Name|upper}}", row),
            "\"web-1\"|web-1|WEB-1\n"
        );
    }

    #[test]
    fn printf_widths_and_slice() {
        let row = json!({"Name": "web-1", "Code": 3, "Ratio": 0.5, "L": ["a", "b", "c"]});
        assert_eq!(
            one("{{printf \"%03d|%-6s|%6s|%+d\" .Code .Name .Name .Code}}", row.clone()),
            "003|web-1 | web-1|+3\n"
        );
        assert_eq!(
            one("{{printf \"%.2f %x %.3s %%\" .Ratio 255 .Name}}", row.clone()),
            "0.50 ff web %\n"
        );
        assert_eq!(one("{{printf \"%d %d\" .Code}}", row.clone()), "3 %!d(MISSING)\n");
        assert_eq!(
            one("{{slice .Name 0 3}}|{{slice .Name 2}}|{{slice .L 1 2}}", row.clone()),
            "web|b-1|[b]\n"
        );
        assert!(render("{{slice .Name 2 9}}", std::slice::from_ref(&row), &json!({})).is_err());
        let ports = json!({"P": [{"URL": "0.0.0.0", "Port": 80}]});
        assert_eq!(
            one("{{(index .P 0).URL}}:{{(index .P 0).Port}}", ports.clone()),
            "0.0.0.0:80\n"
        );
        assert!(render("{{(index .P 0).Nope}}", &[ports], &json!({})).is_err());
    }

    #[test]
    fn docker_functions() {
        let row = json!({"Name": "Web Server", "Names": ["a", "b"], "Id": "0123456789abcdef"});
        assert_eq!(
            one("{{upper .Name}}|{{lower .Name}}", row.clone()),
            "WEB SERVER|web server\n"
        );
        assert_eq!(one("{{title \"hello big-world\"}}", row.clone()), "Hello Big-World\n");
        assert_eq!(one("{{join .Names \", \"}}", row.clone()), "a, b\n");
        assert_eq!(
            one("{{range split \"x:y\" \":\"}}[{{.}}]{{end}}", row.clone()),
            "[x][y]\n"
        );
        assert_eq!(one("{{truncate .Id 12}}", row.clone()), "0123456789ab\n");
        assert_eq!(one("{{pad .Name 1 2}}|", row.clone()), " Web Server  |\n");
        assert_eq!(one("{{.Name | lower | upper}}", row.clone()), "WEB SERVER\n");
        assert_eq!(one("{{len .Names}} {{index .Names 1}}", row.clone()), "2 b\n");
        assert_eq!(one("{{printf \"%s=%d%%\" \"x\" 5}}", row), "x=5%\n");
    }

    #[test]
    fn methods_with_arguments() {
        let row = json!({"Labels": "com.x=1,b=two"});
        assert_eq!(one("{{.Label \"b\"}}", row), "two\n");
        let row = json!({"Labels": {"k": "v"}});
        assert_eq!(one("{{.Label \"k\"}}-{{.Label \"none\"}}", row), "v-\n");
    }

    #[test]
    fn control_structures() {
        let row = json!({"List": [1, 2, 3], "Empty": [], "On": true, "Map": {"b": 2, "a": 1}});
        assert_eq!(one("{{range .List}}{{.}},{{end}}", row.clone()), "1,2,3,\n");
        assert_eq!(one("{{range .Empty}}x{{else}}none{{end}}", row.clone()), "none\n");
        assert_eq!(
            one("{{range $k, $v := .Map}}{{$k}}={{$v}} {{end}}", row.clone()),
            "a=1 b=2 \n"
        );
        assert_eq!(one("{{if .On}}yes{{else}}no{{end}}", row.clone()), "yes\n");
        assert_eq!(
            one(
                "{{if not .On}}a{{else if eq (len .List) 3}}b{{else}}c{{end}}",
                row.clone()
            ),
            "b\n"
        );
        assert_eq!(one("{{with .Map}}{{.a}}{{end}}", row.clone()), "1\n");
        assert_eq!(one("{{range .List -}} {{.}} {{- end}}", row.clone()), "123\n");
        assert_eq!(one("{{$x := .List}}{{len $x}}", row), "3\n");
    }

    #[test]
    fn table_directive_aligns_columns_with_headers() {
        let rows = vec![
            json!({"Name": "a", "Status": "running"}),
            json!({"Name": "longer-name-1", "Status": "x"}),
        ];
        let headers = json!({"Name": "NAME", "Status": "STATUS"});
        let out = render("table {{.Name}}\\t{{.Status}}", &rows, &headers).unwrap();
        assert_eq!(
            out,
            "NAME            STATUS\na               running\nlonger-name-1   x\n"
        );
        // Text functions leave headers alone, as Docker's HeaderFunctions do.
        let out = render("table {{upper .Name}}", &rows, &headers).unwrap();
        assert_eq!(out, "NAME\nA\nLONGER-NAME-1\n");
        // Docker's headers: unknown fields, and labels by their last part.
        let out = render("table {{.Nope}}\t{{.Label \"com.x.my-key\"}}", &[], &headers).unwrap();
        assert_eq!(out, "<no value>   my key\n");
    }

    #[test]
    fn errors_carry_the_position() {
        let e = render("{{.Name}} {{nosuch .Name}}", &[json!({"Name": "x"})], &json!({})).unwrap_err();
        assert_eq!((e.line, e.col), (1, 12));
        assert!(e.to_string().contains("function \"nosuch\" not defined"), "{e}");
        let e = render("a\n{{if .X}}", &[], &json!({})).unwrap_err();
        assert_eq!(e.line, 2);
        assert!(e.msg.contains("no {{end}}"), "{e}");
        let e = render("{{.Missing}}", &[json!({"Name": "x"})], &json!({})).unwrap_err();
        assert!(e.msg.contains("can't evaluate field Missing"), "{e}");
        assert!(render("{{end}}", &[], &json!({})).is_err());
        assert!(render("{{.Name", &[], &json!({})).is_err());
        assert!(render("{{join .Name}}", &[json!({"Name": "x"})], &json!({})).is_err());
    }

    #[test]
    fn root_fields_are_what_a_template_can_read() {
        let fields = |f: &str| {
            Template::parse(f)
                .unwrap()
                .root_fields()
                .map(|s| s.into_iter().collect::<Vec<_>>())
        };
        assert_eq!(
            fields("table {{.Name}}\t{{.Ports}}"),
            Some(vec!["Name".into(), "Names".into(), "Ports".into(), "Portss".into()])
        );
        // `.Label "k"` reads Labels; a block's pipeline counts, and a
        // field inside the block (of the block's value) is kept too.
        let f = fields("{{.Label \"k\"}}{{with .A}}{{.B}}{{end}}{{range $i, $e := .C}}{{$e}}{{end}}").unwrap();
        for k in ["Labels", "A", "B", "C"] {
            assert!(f.contains(&k.to_string()), "{k} in {f:?}");
        }
        assert_eq!(fields("{{$.D.E}}"), Some(vec!["D".into(), "Ds".into()]));
        // The whole row.
        for whole in [
            "{{json .}}",
            "{{.}}",
            "{{$}}",
            "{{with $x := .}}{{end}}",
            "{{if .A}}{{printf \"%v\" .}}{{end}}",
            "{{(.).Name}}",
        ] {
            assert_eq!(fields(whole), None, "{whole}");
        }
    }
}
