use std::path::Path;

use serde_json::{json, Value};

use super::{load_in, obj, vars, write};
use crate::compose::load::merge::{merge_service, Acc};

fn tags(t: &[(&str, &str)]) -> Vec<(String, String)> {
    t.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

#[test]
fn lists_merge_by_their_key_and_maps_deeply() {
    let mut base = obj(json!({
        "image": "a",
        "command": ["one"],
        "volumes": [{"type": "bind", "source": "/x", "target": "/data"}, {"type": "volume", "source": "v", "target": "/v"}],
        "secrets": [{"source": "s", "target": "/run/secrets/s"}],
        "ports": [{"target": 80}],
        "dns": ["1.1.1.1"],
        "environment": {"A": "1", "B": "1"},
        "build": {"context": "/c", "args": {"X": "1"}},
    }));
    let over = obj(json!({
        "command": ["two"],
        "volumes": [{"type": "bind", "source": "/y", "target": "/data"}],
        "secrets": [{"source": "s", "target": "/elsewhere"}, {"source": "t", "target": "/run/secrets/t"}],
        "ports": [{"target": 80}, {"target": 81}],
        "dns": ["1.1.1.1", "8.8.8.8"],
        "environment": {"B": "2"},
        "build": {"args": {"Y": "2"}},
    }));
    merge_service(&mut base, over, &[]);
    assert_eq!(
        Value::Object(base),
        json!({
            "build": {"context": "/c", "args": {"X": "1", "Y": "2"}},
            "command": ["two"],
            "dns": ["1.1.1.1", "8.8.8.8"],
            "environment": {"A": "1", "B": "2"},
            "image": "a",
            "ports": [{"target": 80}, {"target": 81}],
            "secrets": [{"source": "s", "target": "/elsewhere"}, {"source": "t", "target": "/run/secrets/t"}],
            "volumes": [{"type": "bind", "source": "/y", "target": "/data"}, {"type": "volume", "source": "v", "target": "/v"}],
        })
    );
}

#[test]
fn reset_removes_and_override_replaces() {
    let mut base = obj(json!({"image": "a", "ports": [{"target": 80}], "labels": {"a": "1", "b": "2"}}));
    let over = obj(json!({"ports": [], "labels": {"c": "3"}}));
    merge_service(&mut base, over, &tags(&[("ports", "!reset"), ("labels", "!override")]));
    assert_eq!(Value::Object(base), json!({"image": "a", "labels": {"c": "3"}}));
}

fn load(dir: &Path, names: &[&str]) -> Result<(Acc, Vec<String>), String> {
    load_in(dir, names, &vars(&[]))
}

#[test]
fn files_merge_in_order_with_their_sections_and_extensions() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "a.yaml",
        "version: '3'\nname: first\nservices:\n  web: {image: a, ports: ['80']}\nnetworks: {n1: {}}\nx-a: 1\n",
    );
    write(
        dir.path(),
        "b.yaml",
        "name: second\nservices:\n  web: {image: b}\n  db: {image: d}\nnetworks: {n1: {driver: x}, n2: {}}\nx-a: 2\n",
    );
    let (acc, warnings) = load(dir.path(), &["a.yaml", "b.yaml"]).unwrap();
    let names: Vec<&str> = acc.merged.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["web", "db"]);
    assert_eq!(acc.merged[0].1["image"], "b");
    assert_eq!(acc.merged[0].1["ports"][0]["target"], 80);
    let nets: Vec<&str> = acc.networks.iter().map(|(k, _, _)| k.as_str()).collect();
    assert_eq!(nets, ["n1", "n2"]);
    assert_eq!(acc.networks[0].1.get("driver").and_then(|d| d.as_str()), Some("x"));
    assert_eq!(acc.extensions["x-a"], 2);
    assert_eq!(acc.file_name.as_deref(), Some("second"));
    assert!(acc.service_nodes.contains_key("db"));
    assert_eq!(warnings.len(), 1);
    assert!(warnings[0].ends_with("a.yaml: the attribute `version` is obsolete, it will be ignored, please remove it to avoid potential confusion"));
}
