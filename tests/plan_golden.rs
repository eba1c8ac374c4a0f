//! The planner without an engine, in the manner of docker/compose's
//! `plan_test.go`: each case in `tests/golden/plan/*.case` is a compose file
//! (read by orch's loader), what the engine holds (written by hand in a
//! small line format), options, and the plan orch must print for them.
//!
//! A case file's sections, each after a `== NAME` line:
//!
//! - `compose`: the compose file (its `name:` is the project).
//! - `engine`, one thing per line:
//!   `image REF ID` | `image REF missing` | `image REF error MESSAGE`;
//!   `network NAME [stale|foreign|other-project]`;
//!   `volume NAME [stale|foreign]`;
//!   `container SERVICE NUMBER STATE [stale] [oldimage] [name=NAME]`
//!   (hash and image are the service's current ones unless `stale` or
//!   `oldimage`; a service the file lacks is an orphan).
//! - `options` (optional), one per line: `force_recreate`, `no_recreate`,
//!   `no_deps`, `remove_orphans`, `always_recreate_deps`,
//!   `recreate_volumes`, `build always|never`, `scale SERVICE=N`,
//!   `services A B`.
//! - `plan`: the expected text (`Plan`'s Display), or `error: MESSAGE`.
//!
//! `ORCH_BLESS=1 cargo test --test plan_golden` rewrites the `plan`
//! sections from what orch computes; review the diff before committing.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use orch::compose::load;
use orch::plan::desired::{self, Desired, LABEL_HASH, LABEL_NETWORK, LABEL_PROJECT};
use orch::plan::diff::{self, BuildPolicy, Options};
use orch::plan::observed::{Observed, ObservedContainer};

struct Case {
    sections: Vec<(String, String)>,
}

impl Case {
    fn read(path: &Path) -> Case {
        let text = std::fs::read_to_string(path).unwrap();
        let mut sections: Vec<(String, String)> = Vec::new();
        for line in text.lines() {
            if let Some(name) = line.strip_prefix("== ") {
                sections.push((name.trim().to_string(), String::new()));
            } else if let Some((_, body)) = sections.last_mut() {
                body.push_str(line);
                body.push('\n');
            }
        }
        Case { sections }
    }

    fn get(&self, name: &str) -> &str {
        self.sections
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, b)| b.as_str())
            .unwrap_or("")
    }

    fn write(&self, path: &Path, plan: &str) {
        let text = std::fs::read_to_string(path).unwrap();
        let head = text.split("\n== plan\n").next().unwrap();
        std::fs::write(path, format!("{head}\n== plan\n{plan}")).unwrap();
    }
}

fn desired_of(yaml: &str) -> Desired {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("compose.yaml");
    std::fs::write(&file, yaml).unwrap();
    let project = load::load(&load::Options {
        files: vec![file],
        cwd: dir.path().to_path_buf(),
        ..Default::default()
    })
    .unwrap_or_else(|e| panic!("loading the case's compose file: {e:?}"));
    let mut d = desired::from_compose(&project.doc).unwrap();
    d.disabled = project.disabled_services;
    d
}

fn observed_of(engine: &str, d: &Desired) -> Observed {
    let mut o = Observed::default();
    let labels = |project: &str, key: Option<(&str, &str)>, hash: &str| {
        let mut l = HashMap::from([(LABEL_PROJECT.to_string(), project.to_string())]);
        l.insert(LABEL_HASH.into(), hash.into());
        if let Some((k, v)) = key {
            l.insert(k.into(), v.into());
        }
        l
    };
    for line in engine.lines().filter(|l| !l.trim().is_empty()) {
        let w: Vec<&str> = line.split_whitespace().collect();
        match w.as_slice() {
            ["image", r, "missing"] => drop(o.images.insert(r.to_string(), false)),
            ["image", r, "error", msg @ ..] => drop(o.image_errors.insert(r.to_string(), msg.join(" "))),
            ["image", r, id] => {
                o.images.insert(r.to_string(), true);
                o.image_ids.insert(r.to_string(), id.to_string());
            }
            ["network", name, rest @ ..] => {
                let spec = d.networks.iter().find(|n| &n.name == name);
                let key = spec.map(|n| n.key.as_str()).unwrap_or("default");
                let hash = if rest.contains(&"stale") {
                    "stale"
                } else {
                    spec.map_or("", |n| &n.hash)
                };
                let mut l = labels(&d.project, Some((LABEL_NETWORK, key)), hash);
                if rest.contains(&"foreign") {
                    l.clear();
                } else if rest.contains(&"other-project") {
                    l.insert(LABEL_PROJECT.into(), "another".into());
                }
                o.networks.push(name.to_string());
                o.labels.insert(name.to_string(), l);
            }
            ["volume", name, rest @ ..] => {
                let spec = d.volumes.iter().find(|v| &v.name == name);
                let hash = if rest.contains(&"stale") {
                    "stale"
                } else {
                    spec.map_or("", |v| &v.hash)
                };
                let mut l = labels(&d.project, None, hash);
                if rest.contains(&"foreign") {
                    l.clear();
                }
                o.volumes.push(name.to_string());
                o.labels.insert(format!("volume {name}"), l);
            }
            ["container", service, number, state, rest @ ..] => {
                let number: usize = number.parse().unwrap();
                let spec = d.service(service);
                let hash = match (rest.contains(&"stale"), spec) {
                    (false, Some(s)) => s.hash.clone(),
                    _ => "stale".into(),
                };
                let image = match (rest.contains(&"oldimage"), spec) {
                    (false, Some(s)) => o.image_ids.get(&s.image).cloned().unwrap_or_default(),
                    _ => "sha256:old".into(),
                };
                let name = rest
                    .iter()
                    .find_map(|x| x.strip_prefix("name="))
                    .map(str::to_string)
                    .unwrap_or_else(|| format!("{}-{service}-{number}", d.project));
                o.containers.push(ObservedContainer {
                    id: format!("id-{name}"),
                    name,
                    service: service.to_string(),
                    number,
                    hash,
                    image,
                    state: state.to_string(),
                    created: (o.containers.len() + 1) as i64,
                });
            }
            _ => panic!("engine line not understood: {line}"),
        }
    }
    o
}

fn options_of(text: &str) -> Options {
    let mut o = Options::default();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let w: Vec<&str> = line.split_whitespace().collect();
        match w.as_slice() {
            ["force_recreate"] => o.force_recreate = true,
            ["no_recreate"] => o.no_recreate = true,
            ["no_deps"] => o.no_deps = true,
            ["remove_orphans"] => o.remove_orphans = true,
            ["always_recreate_deps"] => o.always_recreate_deps = true,
            ["recreate_volumes"] => o.recreate_volumes = true,
            ["build", "always"] => o.build = BuildPolicy::Always,
            ["build", "never"] => o.build = BuildPolicy::Never,
            ["scale", kv] => {
                let (k, v) = kv.split_once('=').unwrap();
                o.scale.insert(k.to_string(), v.parse().unwrap());
            }
            ["services", names @ ..] => o.services = names.iter().map(|s| s.to_string()).collect(),
            _ => panic!("option not understood: {line}"),
        }
    }
    o
}

fn cases() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/plan");
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "case"))
        .collect();
    v.sort();
    v
}

#[test]
fn every_case_plans_as_its_golden_text() {
    let bless = std::env::var_os("ORCH_BLESS").is_some();
    let cases = cases();
    assert!(cases.len() >= 30, "only {} planner cases", cases.len());
    let mut failed = Vec::new();
    for path in &cases {
        let case = Case::read(path);
        let d = desired_of(case.get("compose"));
        let observed = observed_of(case.get("engine"), &d);
        let got = match diff::plan(&d, &observed, &options_of(case.get("options"))) {
            Ok(p) => p.to_string(),
            Err(e) => format!("error: {e}\n"),
        };
        if bless {
            case.write(path, &got);
        } else if got != case.get("plan") {
            failed.push(format!(
                "{}:\n--- expected\n{}--- got\n{got}",
                path.display(),
                case.get("plan")
            ));
        }
    }
    assert!(
        failed.is_empty(),
        "{} case(s) differ:\n{}",
        failed.len(),
        failed.join("\n")
    );
}
