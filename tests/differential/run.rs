//! Runs one scenario: both sides step by step, a snapshot after every
//! compose step, the differences collected; both projects removed at the
//! end, also on panic.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{json, Value};

use crate::compare::{diff, diff_subset, Diff};
use crate::order;
use crate::refview::{dependencies, project_flags, subcommand, History};
use crate::script::{expand, Action, Step};
use crate::snapshot::{take, Subst};
use crate::tool::{docker, free_net, free_ports, run, Kind, Outcome, Side};

const STEP_LIMIT: Duration = Duration::from_secs(180);

/// A step's time on both sides.
pub struct Timing {
    pub line: usize,
    pub text: String,
    pub orch: Duration,
    pub compose: Duration,
}

/// What a scenario found.
pub struct Report {
    pub diffs: Vec<Diff>,
    /// Broken fixtures (the reference did not fail an `expect-fail` step,
    /// a `docker` step failed, ...): always failures.
    pub errors: Vec<String>,
    pub timings: Vec<Timing>,
    /// Step line → (orch, compose) outcomes, to explain a diff.
    pub outcomes: BTreeMap<usize, (Outcome, Outcome)>,
    pub steps: Vec<Step>,
}

/// Removes both projects when dropped.
struct Guard(Vec<(String, PathBuf)>);

impl Drop for Guard {
    fn drop(&mut self) {
        for (project, dir) in &self.0 {
            cleanup(project, dir);
        }
    }
}

fn ids(args: &[&str]) -> Vec<String> {
    docker(args)
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

/// The reference's `down -v --rmi local --remove-orphans`, then whatever
/// still carries the project's label or name (orch's objects may lack
/// labels, which is what the suite is there to find).
pub fn cleanup(project: &str, dir: &Path) {
    let label = format!("label=com.docker.compose.project={project}");
    let name = format!("name={project}");
    let mut anon = Vec::new();
    let containers: Vec<String> = ids(&["ps", "-aq", "--filter", &label])
        .into_iter()
        .chain(ids(&["ps", "-aq", "--filter", &name]))
        .collect();
    for c in &containers {
        anon.extend(
            ids(&["inspect", "-f", "{{range .Mounts}}{{.Name}}\n{{end}}", c])
                .into_iter()
                .filter(|n| n.len() == 64),
        );
    }
    let _ = std::process::Command::new(crate::common::compose_ref())
        .args([
            "-p",
            project,
            "down",
            "-v",
            "--rmi",
            "local",
            "--remove-orphans",
            "-t",
            "0",
        ])
        .current_dir(dir)
        .env("COMPOSE_PROFILES", "*")
        .output();
    for c in containers.iter().chain(ids(&["ps", "-aq", "--filter", &label]).iter()) {
        docker(&["rm", "-f", "-v", c]);
    }
    let mine = |n: &str| n.starts_with(&format!("{project}_")) || n.starts_with(&format!("{project}-"));
    for n in ids(&["network", "ls", "--filter", &label, "--format", "{{.Name}}"])
        .into_iter()
        .chain(
            ids(&["network", "ls", "--filter", &name, "--format", "{{.Name}}"])
                .into_iter()
                .filter(|n| mine(n)),
        )
    {
        docker(&["network", "rm", &n]);
    }
    for v in ids(&["volume", "ls", "-q", "--filter", &label])
        .into_iter()
        .chain(
            ids(&["volume", "ls", "-q", "--filter", &name])
                .into_iter()
                .filter(|n| mine(n)),
        )
        .chain(anon)
        .chain(crate::snapshot::anonymous_volumes(project))
    {
        docker(&["volume", "rm", "-f", &v]);
    }
    let images = ids(&["images", "--format", "{{.Repository}}:{{.Tag}}"]);
    for i in images.iter().filter(|i| i.contains(project)) {
        docker(&["rmi", "-f", i]);
    }
    for i in ids(&["images", "-aq", "--filter", &label]) {
        docker(&["rmi", "-f", &i]);
    }
}

fn copy_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for e in std::fs::read_dir(from)? {
        let e = e?;
        let target = to.join(e.file_name());
        let kind = e.file_type()?;
        if kind.is_dir() {
            copy_dir(&e.path(), &target)?;
        } else if kind.is_symlink() {
            // Kept a link (fixtures of `cp -L`).
            std::os::unix::fs::symlink(std::fs::read_link(e.path())?, &target)?;
        } else {
            std::fs::copy(e.path(), &target)?;
        }
    }
    Ok(())
}

/// One side's running state across steps.
struct State {
    side: Side,
    hist: History,
    prev: BTreeMap<String, String>,
    /// Every container ID seen so far → its name.
    gone: BTreeMap<String, String>,
    _tmp: tempfile::TempDir,
}

impl State {
    fn new(kind: Kind, project: String, src: &Path) -> State {
        let tmp = tempfile::Builder::new().prefix("orch-dt-").tempdir().expect("tempdir");
        copy_dir(src, tmp.path()).expect("copy scenario");
        let side = Side {
            kind,
            project,
            dir: tmp.path().to_path_buf(),
            ports: free_ports(4),
            net: free_net(),
            env: Vec::new(),
        };
        State {
            side,
            hist: History::default(),
            prev: BTreeMap::new(),
            gone: BTreeMap::new(),
            _tmp: tmp,
        }
    }
}

/// Runs scenario `name` from folder `src`; `tag` makes project names unique.
pub fn scenario(name: &str, src: &Path, steps: Vec<Step>, tag: &str) -> Report {
    let short: String = name.chars().take(28).collect();
    let mut sides = [
        State::new(Kind::Orch, format!("dt{tag}-{short}-o"), src),
        State::new(Kind::Compose, format!("dt{tag}-{short}-c"), src),
    ];
    let _guard = Guard(
        sides
            .iter()
            .map(|s| (s.side.project.clone(), s.side.dir.clone()))
            .collect(),
    );
    let mut report = Report {
        diffs: Vec::new(),
        errors: Vec::new(),
        timings: Vec::new(),
        outcomes: BTreeMap::new(),
        steps: steps.clone(),
    };
    let mut held = Vec::new();
    let mut lenient = false;
    for step in &steps {
        match &step.action {
            Action::Compose(args) => {
                let [o, c] = &mut sides;
                let ((ov, oo), (cv, co)) = if step.together {
                    std::thread::scope(|t| {
                        let orch = t.spawn(|| compose_step(o, step, args));
                        let compose = compose_step(c, step, args);
                        (orch.join().expect("orch's side of the step"), compose)
                    })
                } else {
                    (compose_step(o, step, args), compose_step(c, step, args))
                };
                compare_step(&mut report, step, ov, cv, lenient, &co);
                lenient = step.expect_fail;
                if !step.cross {
                    report.timings.push(Timing {
                        line: step.line,
                        text: step.text.clone(),
                        orch: oo.took,
                        compose: co.took,
                    });
                }
                report.outcomes.insert(step.line, (oo, co));
            }
            other => {
                for s in sides.iter_mut() {
                    if let Err(e) = directive(s, other, &mut held) {
                        report.errors.push(format!(
                            "steps:{} `{}` ({}): {e}",
                            step.line,
                            step.text,
                            s.side.kind.name()
                        ));
                    }
                }
            }
        }
    }
    report
}

fn directive(s: &mut State, action: &Action, held: &mut Vec<std::net::TcpListener>) -> Result<(), String> {
    let dir = s.side.dir.clone();
    match action {
        Action::Cp(a, b) => std::fs::copy(dir.join(a), dir.join(b))
            .map(|_| ())
            .map_err(|e| e.to_string()),
        Action::Rm(a) => std::fs::remove_file(dir.join(a)).map_err(|e| e.to_string()),
        Action::Env(k, v) => {
            s.side.env.retain(|(x, _)| x != k);
            s.side.env.push((k.clone(), v.clone()));
            Ok(())
        }
        Action::Unenv(k) => {
            s.side.env.retain(|(x, _)| x != k);
            Ok(())
        }
        Action::Docker(args) => {
            let vars = s.side.vars();
            let args: Vec<String> = args.iter().map(|a| expand(a, &vars)).collect();
            let out = std::process::Command::new("docker")
                .args(&args)
                .current_dir(&dir)
                .output();
            match out {
                Ok(o) if o.status.success() => Ok(()),
                Ok(o) => Err(String::from_utf8_lossy(&o.stderr).trim().to_string()),
                Err(e) => Err(e.to_string()),
            }
        }
        Action::HoldPort(n) => {
            let port = s.side.ports.get(n - 1).ok_or("no such port")?;
            let l = std::net::TcpListener::bind(("0.0.0.0", *port)).map_err(|e| e.to_string())?;
            held.push(l);
            Ok(())
        }
        Action::Compose(_) => unreachable!(),
    }
}

/// Runs a compose step on one side and returns what it left: exit code,
/// stdout (when compared), dependency order and the engine snapshot.
fn compose_step(s: &mut State, step: &Step, args: &[String]) -> (Value, Outcome) {
    let vars = s.side.vars();
    let args: &[String] = &args.iter().map(|a| expand(a, &vars)).collect::<Vec<_>>();
    s.hist.refresh(&s.side, &project_flags(args));
    let bin = if step.cross { s.side.kind.other() } else { s.side.kind };
    let cmd = s.side.command(bin, args);
    let stdin = step.stdin.as_ref().map(|f| s.side.dir.join(f));
    let rec = order::Recorder::start(&s.side.project);
    let out = run(cmd, stdin.as_deref(), STEP_LIMIT);
    let until = order::now();
    let snap = take(&s.side, &s.hist, &s.prev, &s.gone);
    s.prev = snap.ids.clone();
    s.gone
        .extend(snap.ids.iter().map(|(name, id)| (id.clone(), name.clone())));
    let mut v = snap.value;
    v["exit"] = json!(out.code);
    if step.stdout {
        let stdout = if subcommand(args) == "version" {
            // Each tool prints its own version number.
            let own = match bin {
                Kind::Orch => env!("CARGO_PKG_VERSION"),
                Kind::Compose => "2.40.3",
            };
            out.stdout.replace(own, "<version>")
        } else {
            out.stdout.clone()
        };
        v["stdout"] = norm_stdout(&stdout, &snap.subst);
        if step.table {
            v["stdout"] =
                json!({ "table": out.stdout.lines().map(|l| table_line(&snap.subst.apply(l))).collect::<Vec<_>>() });
        }
        if step.unordered {
            if let Some(Value::Array(lines)) = v["stdout"].get_mut("lines") {
                lines.sort_by_key(Value::to_string);
            }
            // A JSON document's arrays are sets then (`build --print`'s
            // bake group lists targets in Go map order).
            if let Some(doc) = v["stdout"].get_mut("json") {
                sort_arrays(doc);
            }
        }
    }
    if step.stderr {
        let mut lines: Vec<String> = out
            .stderr
            .lines()
            .filter(|l| !l.trim().is_empty() && !l.contains(NO_BUILDX))
            .map(|l| snap.subst.apply(l.trim_end()))
            .collect();
        if step.unordered {
            lines.sort();
        }
        v["stderr"] = json!(lines);
    }
    let deps = dependencies(&s.hist.current.doc, &subcommand(args));
    v["order"] = order::relations(rec, &s.side.project, &until, &deps);
    (v, out)
}

/// The reference's warning, on every build, that this machine has no
/// buildx for its Bake builder: about its own setup, not the project.
const NO_BUILDX: &str = "Docker Compose is configured to build using Bake, but buildx isn't installed";

/// Sorts every array in `v`, at any depth.
fn sort_arrays(v: &mut Value) {
    match v {
        Value::Array(a) => {
            a.iter_mut().for_each(sort_arrays);
            a.sort_by_key(Value::to_string);
        }
        Value::Object(m) => m.values_mut().for_each(sort_arrays),
        _ => {}
    }
}

const VOLATILE_OUTPUT: &[&str] = &[
    "ID",
    "CreatedAt",
    "RunningFor",
    "Status",
    "Size",
    "Created",
    "LastTagTime",
];

/// Comma-joined sets in `ps --format json` (Go map order: random).
const SET_OUTPUT: &[&str] = &["Labels", "Mounts", "Networks", "LocalVolumes"];

/// A line of a human table with its volatile parts dropped: go-units'
/// human durations become `<time>`, numbers of 4+ digits and clock times
/// (`top`'s PIDs, STIME, TIME) `<n>`, and column padding (whose width
/// follows them) one double space.
fn table_line(line: &str) -> String {
    static TIME: std::sync::OnceLock<regex_automata::meta::Regex> = std::sync::OnceLock::new();
    let re = TIME.get_or_init(|| {
        regex_automata::meta::Regex::new(
            r"Less than a second|About an? (minute|hour)|\d+ (second|minute|hour|day|week|month|year)s?",
        )
        .expect("valid pattern")
    });
    let mut out = String::new();
    let mut last = 0;
    for m in re.find_iter(line) {
        out.push_str(&line[last..m.start()]);
        out.push_str("<time>");
        last = m.end();
    }
    out.push_str(&line[last..]);
    // `top`: process IDs and clock times are each side's own.
    static NUMS: std::sync::OnceLock<regex_automata::meta::Regex> = std::sync::OnceLock::new();
    let nums = NUMS
        .get_or_init(|| regex_automata::meta::Regex::new(r"\b(\d{4,}|\d\d:\d\d(:\d\d)?)\b").expect("valid pattern"));
    let (line, mut out, mut last) = (out, String::new(), 0);
    for m in nums.find_iter(&line) {
        out.push_str(&line[last..m.start()]);
        out.push_str("<n>");
        last = m.end();
    }
    out.push_str(&line[last..]);
    let cells: Vec<&str> = out
        .trim_end()
        .split("  ")
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .collect();
    cells.join("  ")
}

/// Machine-readable stdout, normalised: JSON (one document, or one per
/// line, the shape kept; lists of named objects keyed by name), else the
/// lines.
fn norm_stdout(out: &str, subst: &Subst) -> Value {
    let strip = |v: Value| -> Value {
        let mut v = subst.value(&v);
        if let Some(m) = v.as_object_mut() {
            for k in VOLATILE_OUTPUT {
                m.remove(*k);
            }
            // As in the snapshot: whether a probe has passed yet is timing.
            if matches!(m.get("Health").and_then(Value::as_str), Some("starting" | "healthy")) {
                m.insert("Health".into(), json!("starting or healthy"));
            }
            for k in SET_OUTPUT {
                if let Some(Value::String(s)) = m.get(*k) {
                    // Long names are cut with an ellipsis: their tails differ.
                    // Volume and network config hashes cover the project
                    // name (as in the snapshot): only presence compares.
                    let mut parts: Vec<&str> = s
                        .split(',')
                        .map(|p| match p {
                            _ if p.ends_with('…') => "<cut>",
                            _ if k == &"Labels" && is_raw_hash_label(p) => "com.docker.compose.config-hash=<present>",
                            _ => p,
                        })
                        .collect();
                    parts.sort();
                    m.insert(k.to_string(), json!(parts.join(",")));
                }
            }
        }
        v
    };
    let keyed = |a: Vec<Value>| -> Value {
        // Rows named by `Name` (ps, ls) or `ContainerName` (images, whose
        // order compose takes from a Go map).
        let key = ["Name", "ContainerName"]
            .into_iter()
            .find(|k| a.iter().all(|v| v.get(*k).and_then(Value::as_str).is_some()));
        let mut m = serde_json::Map::new();
        for (i, v) in a.into_iter().enumerate() {
            let k = if let Some(key) = key {
                subst.apply(v[key].as_str().unwrap_or_default())
            } else {
                format!("[{i}]")
            };
            m.insert(k, strip(v));
        }
        Value::Object(m)
    };
    let lines: Vec<&str> = out.lines().filter(|l| !l.trim().is_empty()).collect();
    if let Ok(v) = serde_json::from_str::<Value>(out) {
        return match v {
            Value::Array(a) => json!({ "json": keyed(a) }),
            v => json!({ "json": strip(v) }),
        };
    }
    let parsed: Vec<Value> = lines.iter().filter_map(|l| serde_json::from_str(l).ok()).collect();
    if !lines.is_empty() && parsed.len() == lines.len() {
        return json!({ "json-lines": keyed(parsed) });
    }
    json!({"lines": lines.iter().map(|l| subst.apply(l.trim_end())).collect::<Vec<_>>()})
}

/// `com.docker.compose.config-hash=` with a hash the substitutions did
/// not name (a container's becomes `SERVICE@V`).
fn is_raw_hash_label(label: &str) -> bool {
    label
        .strip_prefix("com.docker.compose.config-hash=")
        .is_some_and(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()))
}

fn compare_step(r: &mut Report, step: &Step, mut o: Value, mut c: Value, lenient: bool, co: &Outcome) {
    let prefix = format!("{}:", step.line);
    if lenient {
        for v in [&mut o, &mut c] {
            for ctr in v["containers"].as_object_mut().into_iter().flatten().map(|(_, x)| x) {
                ctr.as_object_mut().map(|m| m.remove("change"));
            }
        }
    }
    if step.cross {
        for (side, v) in [("orch", &o), ("compose", &c)] {
            for (name, ctr) in v["containers"].as_object().into_iter().flatten() {
                if ctr["change"] != "kept" {
                    r.diffs.push(Diff {
                        path: format!("{prefix}cross.{side}-project.{name}"),
                        orch: format!("{} (by the other tool)", ctr["change"]),
                        compose: "\"kept\"".into(),
                    });
                }
            }
        }
    }
    if step.expect_fail {
        if co.code == 0 {
            r.errors.push(format!(
                "steps:{} `{}`: the reference did not fail",
                step.line, step.text
            ));
        }
        diff(
            &format!("{prefix}exit"),
            Some(&o["exit"]),
            Some(&c["exit"]),
            &mut r.diffs,
        );
        diff(
            &format!("{prefix}stdout"),
            o.get("stdout"),
            c.get("stdout"),
            &mut r.diffs,
        );
        diff(
            &format!("{prefix}stderr"),
            o.get("stderr"),
            c.get("stderr"),
            &mut r.diffs,
        );
        diff_subset(&prefix, &o, &c, &mut r.diffs);
        return;
    }
    let (Value::Object(a), Value::Object(b)) = (o, c) else {
        return;
    };
    let keys: Vec<String> = a
        .keys()
        .chain(b.keys())
        .cloned()
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    for k in keys {
        diff(&format!("{prefix}{k}"), a.get(&k), b.get(&k), &mut r.diffs);
    }
}
