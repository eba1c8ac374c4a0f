//! `.dockerignore` as the Docker CLI reads it (moby's patternmatcher):
//! patterns are anchored at the context root, `*` and `?` stay within one
//! path segment, `**` spans segments, a pattern that matches a folder
//! excludes all below it, `!` re-includes, and the last match wins.

use std::path::Path;

#[derive(Debug, Clone)]
struct Pattern {
    glob: String,
    exclude: bool,
}

/// The parsed rules of one `.dockerignore`.
#[derive(Debug, Clone, Default)]
pub struct DockerIgnore {
    patterns: Vec<Pattern>,
}

impl DockerIgnore {
    /// Reads `<context>/.dockerignore`; no file means nothing is ignored.
    pub fn load(context: &Path) -> std::io::Result<Self> {
        match std::fs::read_to_string(context.join(".dockerignore")) {
            Ok(text) => Ok(Self::parse(&text)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Self::default()),
            Err(e) => Err(e),
        }
    }

    pub fn parse(text: &str) -> Self {
        let mut patterns = Vec::new();
        for line in text.lines() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (exclude, pat) = match line.strip_prefix('!') {
                Some(rest) => (false, rest.trim()),
                None => (true, line),
            };
            let glob = clean(pat);
            if glob.is_empty() {
                continue;
            }
            patterns.push(Pattern { glob, exclude });
        }
        DockerIgnore { patterns }
    }

    /// Whether any `!` rule exists (then an ignored folder must still be
    /// walked, since something inside may be re-included).
    pub fn has_exceptions(&self) -> bool {
        self.patterns.iter().any(|p| !p.exclude)
    }

    /// Whether `rel` (slash-separated, relative to the context) is ignored.
    pub fn is_ignored(&self, rel: &str) -> bool {
        let mut ignored = false;
        for p in &self.patterns {
            if matches_or_parent(&p.glob, rel) {
                ignored = p.exclude;
            }
        }
        ignored
    }
}

/// Go's `filepath.Clean` as far as it matters here, then strips the leading
/// `/` the way the Docker CLI does.
fn clean(p: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    for seg in p.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                out.pop();
            }
            s => out.push(s),
        }
    }
    out.join("/")
}

fn matches_or_parent(glob: &str, rel: &str) -> bool {
    if matches(glob.as_bytes(), rel.as_bytes()) {
        return true;
    }
    let mut end = 0;
    while let Some(i) = rel[end..].find('/') {
        end += i;
        if matches(glob.as_bytes(), &rel.as_bytes()[..end]) {
            return true;
        }
        end += 1;
    }
    false
}

/// Glob match: `*`/`?`/`[...]` within a segment, `**` across segments.
pub fn matches(p: &[u8], s: &[u8]) -> bool {
    if p.is_empty() {
        return s.is_empty();
    }
    if p.starts_with(b"**") {
        let rest = &p[2..];
        if let Some(after) = rest.strip_prefix(b"/") {
            // `**/` is zero or more whole folders.
            if matches(after, s) {
                return true;
            }
            return (0..s.len()).any(|i| s[i] == b'/' && matches(after, &s[i + 1..]));
        }
        return (0..=s.len()).any(|i| matches(rest, &s[i..]));
    }
    match p[0] {
        b'*' => {
            let mut i = 0;
            loop {
                if matches(&p[1..], &s[i..]) {
                    return true;
                }
                if i == s.len() || s[i] == b'/' {
                    return false;
                }
                i += 1;
            }
        }
        b'?' => !s.is_empty() && s[0] != b'/' && matches(&p[1..], &s[1..]),
        b'[' => {
            if s.is_empty() || s[0] == b'/' {
                return false;
            }
            match class(&p[1..], s[0]) {
                Some((ok, len)) => ok && matches(&p[1 + len..], &s[1..]),
                None => s[0] == b'[' && matches(&p[1..], &s[1..]),
            }
        }
        b'\\' if p.len() > 1 => !s.is_empty() && s[0] == p[1] && matches(&p[2..], &s[1..]),
        c => !s.is_empty() && s[0] == c && matches(&p[1..], &s[1..]),
    }
}

/// Matches one byte against a `[...]` class; returns (matched, bytes used
/// including the closing `]`), or None if the class is not closed.
fn class(p: &[u8], c: u8) -> Option<(bool, usize)> {
    let mut i = 0;
    let negate = matches!(p.first(), Some(b'^') | Some(b'!'));
    if negate {
        i += 1;
    }
    let mut hit = false;
    let mut first = true;
    while i < p.len() {
        if p[i] == b']' && !first {
            return Some((hit != negate, i + 1));
        }
        first = false;
        let lo = if p[i] == b'\\' && i + 1 < p.len() {
            i += 1;
            p[i]
        } else {
            p[i]
        };
        if i + 2 < p.len() && p[i + 1] == b'-' && p[i + 2] != b']' {
            let hi = p[i + 2];
            hit |= lo <= c && c <= hi;
            i += 3;
        } else {
            hit |= lo == c;
            i += 1;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_semantics() {
        let d = DockerIgnore::parse("# comment\n*.log\n/build\nsrc/**/*.tmp\n!keep.log\nnode_modules\n");
        assert!(d.is_ignored("a.log"));
        assert!(!d.is_ignored("sub/a.log"), "`*.log` is anchored at the root");
        assert!(!d.is_ignored("keep.log"));
        assert!(d.is_ignored("build/x/y"), "a matched folder excludes its content");
        assert!(d.is_ignored("src/a/b/c.tmp"));
        assert!(d.is_ignored("src/c.tmp"));
        assert!(d.is_ignored("node_modules/x.js"));
        assert!(!d.is_ignored("src/main.rs"));
        let d = DockerIgnore::parse("**/*.md\n[ab]?.txt\n");
        assert!(d.is_ignored("README.md") && d.is_ignored("x/y/z.md"));
        assert!(d.is_ignored("a1.txt") && !d.is_ignored("c1.txt"));
    }
}
