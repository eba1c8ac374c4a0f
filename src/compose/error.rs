//! A load error as a diagnostic: the message, and where it points (file,
//! line, column and the marked source line) when it comes from a node.

use miette::{LabeledSpan, MietteDiagnostic, NamedSource, Report};

use super::yaml::Span;

#[derive(Debug, Clone)]
pub struct LoadError {
    pub message: String,
    /// (file name, file text, span) of the offending node.
    pub at: Option<Box<(String, String, Span)>>,
    pub help: Option<String>,
}

impl LoadError {
    pub fn plain(message: impl Into<String>) -> Self {
        LoadError {
            message: message.into(),
            at: None,
            help: None,
        }
    }

    /// The diagnostic as text (no colour: it travels in a script error).
    pub fn render(&self) -> String {
        let mut d = MietteDiagnostic::new(self.message.clone());
        if let Some(h) = &self.help {
            d = d.with_help(h.clone());
        }
        let report = match self.at.as_deref() {
            Some((name, text, span)) => {
                let end = span.start + text[span.start..].chars().next().map(char::len_utf8).unwrap_or(0);
                d = d.with_label(LabeledSpan::at(span.start..end.max(span.start), "here"));
                Report::new(d).with_source_code(NamedSource::new(name.clone(), text.clone()))
            }
            None => Report::new(d),
        };
        let handler = miette::GraphicalReportHandler::new_themed(miette::GraphicalTheme::unicode_nocolor())
            .with_width(usize::MAX);
        let mut out = String::new();
        let _ = handler.render_report(&mut out, report.as_ref());
        out
    }

    /// `file:line:col` of the node, if any.
    pub fn location(&self) -> Option<String> {
        self.at.as_deref().map(|(n, _, s)| format!("{n}:{}:{}", s.line, s.col))
    }
}

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}
