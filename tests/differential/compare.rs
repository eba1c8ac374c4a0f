//! Differences between the two sides' step results, and the two lists that
//! may excuse one: allowed.txt (orch differs on purpose, with the issue)
//! and known-gaps.txt (orch bugs not fixed yet; a gap that no longer
//! reproduces fails the run, so the list stays true).

use serde_json::Value;

/// One difference: `LINE:path` (LINE is the step's line in `steps`).
#[derive(Debug, Clone)]
pub struct Diff {
    pub path: String,
    pub orch: String,
    pub compose: String,
}

fn show(v: Option<&Value>) -> String {
    match v {
        None => "<absent>".into(),
        Some(v) => {
            let s = v.to_string();
            if s.len() > 300 {
                format!("{}…", &s[..s.char_indices().nth(300).map_or(s.len(), |(i, _)| i)])
            } else {
                s
            }
        }
    }
}

/// Whether two arrays of strings differ in what they hold (not only in
/// order).
fn lines_differ(a: &[Value], b: &[Value]) -> bool {
    a.iter().chain(b).all(Value::is_string) && (!only_in(a, b).is_empty() || !only_in(b, a).is_empty())
}

/// The items of `a` left once each item of `b` has taken out one equal.
fn only_in(a: &[Value], b: &[Value]) -> Vec<Value> {
    let mut rest: Vec<&Value> = b.iter().collect();
    let mut out = Vec::new();
    for v in a {
        match rest.iter().position(|r| *r == v) {
            Some(i) => {
                rest.swap_remove(i);
            }
            None => out.push(v.clone()),
        }
    }
    out
}

/// Every path where the two values differ. Objects are compared key by
/// key, anything else as a whole.
pub fn diff(prefix: &str, orch: Option<&Value>, compose: Option<&Value>, out: &mut Vec<Diff>) {
    match (orch, compose) {
        (Some(Value::Object(a)), Some(Value::Object(b))) => {
            let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
            keys.sort();
            keys.dedup();
            for k in keys {
                diff(&format!("{prefix}.{k}"), a.get(k), b.get(k), out);
            }
        }
        (a, b) if a == b => {}
        // Lines (stdout, stderr): the lines each side alone has, which a
        // cut-off whole would hide.
        (Some(Value::Array(a)), Some(Value::Array(b))) if lines_differ(a, b) => out.push(Diff {
            path: prefix.to_string(),
            orch: format!("only here: {}", show(Some(&Value::from(only_in(a, b))))),
            compose: format!("only here: {}", show(Some(&Value::from(only_in(b, a))))),
        }),
        (a, b) => out.push(Diff {
            path: prefix.to_string(),
            orch: show(a),
            compose: show(b),
        }),
    }
}

/// The fault rule: orch may hold a subset of the reference's objects after
/// a failed step, never more; objects both hold must match (except their
/// state: orch may have stopped short of starting them).
pub fn diff_subset(prefix: &str, orch: &Value, compose: &Value, out: &mut Vec<Diff>) {
    for section in ["containers", "networks", "volumes", "images"] {
        let (a, b) = (&orch[section], &compose[section]);
        for (name, o) in a.as_object().into_iter().flatten() {
            let path = format!("{prefix}{section}.{name}");
            match b.get(name) {
                None => out.push(Diff {
                    path,
                    orch: "<created>".into(),
                    compose: "<absent>".into(),
                }),
                Some(c) => {
                    let (mut o, mut c) = (o.clone(), c.clone());
                    for v in [&mut o, &mut c] {
                        if let Some(m) = v.as_object_mut() {
                            m.remove("State");
                            m.remove("change");
                        }
                    }
                    diff(&path, Some(&o), Some(&c), out);
                }
            }
        }
    }
}

/// One line of allowed.txt or known-gaps.txt.
#[derive(Debug, Clone)]
pub struct Entry {
    pub scenario: String,
    pub pattern: String,
    pub note: String,
    pub file: &'static str,
    pub line: usize,
}

/// Reads `SCENARIO PATTERN NOTE...` lines (`#` comments).
pub fn read_list(path: &std::path::Path, file: &'static str) -> Vec<Entry> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let mut out = Vec::new();
    for (i, l) in text.lines().enumerate() {
        let l = l.trim();
        if l.is_empty() || l.starts_with('#') {
            continue;
        }
        let mut parts = l.split_whitespace();
        let scenario = parts.next().unwrap_or_default().to_string();
        let pattern = parts.next().unwrap_or_default().to_string();
        let note = parts.collect::<Vec<_>>().join(" ");
        out.push(Entry {
            scenario,
            pattern,
            note,
            file,
            line: i + 1,
        });
    }
    out
}

/// `*` matches any run of characters; everything else literally.
pub fn glob(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let mut rest = text;
    for (i, part) in parts.iter().enumerate() {
        if i == 0 {
            match rest.strip_prefix(part) {
                Some(r) => rest = r,
                None => return false,
            }
        } else if i + 1 == parts.len() {
            return rest.ends_with(part);
        } else {
            match rest.find(part) {
                Some(at) => rest = &rest[at + part.len()..],
                None => return false,
            }
        }
    }
    true
}

/// allowed.txt and known-gaps.txt, shared by the compose runner and the
/// swarm runner (tests/swarm_differential.rs, scenarios `swarm-*`).
pub struct Lists {
    pub allowed: Vec<Entry>,
    pub gaps: Vec<Entry>,
    /// (file, line) of entries that excused a difference in this run.
    pub used: std::sync::Mutex<std::collections::HashSet<(&'static str, usize)>>,
}

/// What the lists make of one scenario's differences.
pub struct Excused<'a> {
    /// Differences no entry excuses: failures.
    pub unexcused: Vec<&'a Diff>,
    /// The notes of the known gaps that excused one.
    pub tolerated: Vec<String>,
    /// Entries naming this scenario that excused nothing: failures too,
    /// so the lists stay true.
    pub stale: Vec<String>,
}

impl Lists {
    pub fn load(root: &std::path::Path) -> Lists {
        Lists {
            allowed: read_list(&root.join("allowed.txt"), "allowed.txt"),
            gaps: read_list(&root.join("known-gaps.txt"), "known-gaps.txt"),
            used: Default::default(),
        }
    }

    /// Entries that apply to scenario `name`: its own, and those whose
    /// scenario field is a pattern (`*`, `build-*`) matching it.
    fn entries_for(&self, name: &str) -> Vec<&Entry> {
        self.allowed
            .iter()
            .chain(&self.gaps)
            .filter(|e| e.scenario == name || (e.scenario.contains('*') && glob(&e.scenario, name)))
            .collect()
    }

    /// Sorts scenario `name`'s differences by the entries that apply to it.
    pub fn excuse<'a>(&self, name: &str, diffs: &'a [Diff]) -> Excused<'a> {
        let entries = self.entries_for(name);
        let mut used = vec![false; entries.len()];
        let mut unexcused = Vec::new();
        for d in diffs {
            match entries.iter().position(|e| glob(&e.pattern, &d.path)) {
                Some(i) => used[i] = true,
                None => unexcused.push(d),
            }
        }
        let (mut tolerated, mut stale) = (Vec::new(), Vec::new());
        for (e, used) in entries.iter().zip(&used) {
            if *used {
                self.used.lock().unwrap().insert((e.file, e.line));
                if e.file == "known-gaps.txt" {
                    tolerated.push(e.note.clone());
                }
            } else if e.scenario == name && !e.note.starts_with("(intermittent)") {
                stale.push(format!(
                    "{}:{} `{}` no longer reproduces: remove it ({})",
                    e.file, e.line, e.pattern, e.note
                ));
            }
        }
        Excused {
            unexcused,
            tolerated,
            stale,
        }
    }

    /// Entries for several scenarios (`*`) of this runner's family (the
    /// scenario patterns `mine` accepts) that matched nothing in a full run.
    pub fn stale_shared(&self, mine: impl Fn(&str) -> bool) -> Vec<String> {
        let used = self.used.lock().unwrap();
        self.allowed
            .iter()
            .chain(&self.gaps)
            .filter(|e| e.scenario.contains('*') && mine(&e.scenario) && !e.note.starts_with("(intermittent)"))
            .filter(|e| !used.contains(&(e.file, e.line)))
            .map(|e| {
                format!(
                    "{}:{} `{} {}` no longer reproduces: remove it ({})",
                    e.file, e.line, e.scenario, e.pattern, e.note
                )
            })
            .collect()
    }
}
