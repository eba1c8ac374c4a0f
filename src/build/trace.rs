//! A build's log as plain lines. The classic builder sends text; BuildKit
//! sends status records (vertices started, finished, cached or failed, and
//! the output of each step), which are put in the shape of the Docker CLI's
//! `--progress plain` (`#2 [1/3] FROM …`, `#3 CACHED`, `#4 0.21 output`) so
//! both builders' logs read the same to a user.

use std::collections::{HashMap, HashSet};

use bollard::moby::buildkit::v1::StatusResponse;

use super::{Error, TAIL_LINES};

/// The log so far: the last lines (for an error) and BuildKit's vertex
/// numbers, given in the order vertices first appear, as the CLI does.
#[derive(Default)]
pub struct Log {
    tail: Vec<String>,
    numbers: HashMap<String, usize>,
    announced: HashSet<String>,
    finished: HashSet<String>,
}

impl Log {
    /// A line of text (classic builder, or a line made from a record).
    pub fn line(&mut self, line: &str, on_line: &mut impl FnMut(&str)) {
        on_line(line);
        self.tail.push(line.to_string());
        if self.tail.len() > TAIL_LINES {
            self.tail.remove(0);
        }
    }

    /// One BuildKit status record.
    pub fn buildkit(&mut self, status: &StatusResponse, on_line: &mut impl FnMut(&str)) {
        for v in &status.vertexes {
            let n = self.number(&v.digest);
            if self.announced.insert(v.digest.clone()) {
                self.line(&format!("#{n} {}", v.name), on_line);
            }
            if !v.error.is_empty() {
                self.line(&format!("#{n} ERROR: {}", v.error), on_line);
            } else if v.completed.is_some() && self.finished.insert(v.digest.clone()) {
                self.line(&format!("#{n} {}", if v.cached { "CACHED" } else { "DONE" }), on_line);
            }
        }
        for l in &status.logs {
            let n = self.number(&l.vertex);
            let text = String::from_utf8_lossy(&l.msg);
            for line in text.lines().filter(|l| !l.trim().is_empty()) {
                self.line(&format!("#{n} {line}"), on_line);
            }
        }
    }

    /// The build failed with `message`: the error, with the last lines.
    pub fn error(&self, message: String) -> Error {
        Error {
            message,
            tail: self.tail.clone(),
        }
    }

    fn number(&mut self, digest: &str) -> usize {
        let next = self.numbers.len() + 1;
        *self.numbers.entry(digest.to_string()).or_insert(next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bollard::moby::buildkit::v1::{Vertex, VertexLog};

    fn vertex(digest: &str, name: &str, done: bool, cached: bool, error: &str) -> Vertex {
        Vertex {
            digest: digest.into(),
            name: name.into(),
            cached,
            completed: done.then(Default::default),
            error: error.into(),
            ..Default::default()
        }
    }

    #[test]
    fn records_become_plain_progress_lines() {
        let mut log = Log::default();
        let mut seen = Vec::new();
        let mut push = |l: &str| seen.push(l.to_string());
        let first = StatusResponse {
            vertexes: vec![vertex("a", "[1/2] FROM base", false, false, "")],
            ..Default::default()
        };
        log.buildkit(&first, &mut push);
        let second = StatusResponse {
            vertexes: vec![
                vertex("a", "[1/2] FROM base", true, true, ""),
                vertex("b", "[2/2] RUN false", true, false, "exit code: 1"),
            ],
            logs: vec![VertexLog {
                vertex: "b".into(),
                msg: b"oops\n\nagain\n".to_vec(),
                ..Default::default()
            }],
            ..Default::default()
        };
        log.buildkit(&second, &mut push);
        assert_eq!(
            seen,
            [
                "#1 [1/2] FROM base",
                "#1 CACHED",
                "#2 [2/2] RUN false",
                "#2 ERROR: exit code: 1",
                "#2 oops",
                "#2 again"
            ]
        );
        let err = log.error("failed".into());
        assert_eq!(err.tail.len(), TAIL_LINES);
        assert_eq!(err.tail.last().map(String::as_str), Some("#2 again"));
    }
}
