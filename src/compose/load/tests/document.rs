use std::collections::BTreeMap;
use std::path::PathBuf;

use serde_json::{json, Map, Value};

use super::{files, node, obj};
use crate::compose::load::document::{build, escape_dollars, without_service_extensions};
use crate::compose::load::merge::Acc;

/// An accumulator with the top-level sections of `text`, relative to `/p`.
fn acc(text: &str) -> Acc {
    let root = node(text);
    let mut acc = Acc::default();
    for (section, store) in [
        ("networks", &mut acc.networks),
        ("volumes", &mut acc.volumes),
        ("secrets", &mut acc.secrets),
        ("configs", &mut acc.configs),
    ] {
        for (k, v) in root.get(section).and_then(|n| n.as_map()).into_iter().flatten() {
            store.push((k.scalar_text().unwrap(), v.clone(), PathBuf::from("/p")));
        }
    }
    acc.extensions.insert("x-z".into(), json!(1));
    acc
}

fn services(v: Value) -> BTreeMap<String, Map<String, Value>> {
    obj(v).into_iter().map(|(k, v)| (k, obj(v))).collect()
}

#[test]
fn the_document_keeps_used_resources_in_compose_s_forms() {
    let text = "networks:\n  front: {labels: [a=b]}\n  unused: {}\n  ext: {external: true}\nvolumes:\n  data: {driver: local, driver_opts: {o: bind, device: ./d}}\n  other: {driver_opts: {o: bind, device: ./o}}\n  spare: {}\nsecrets:\n  s: {file: ./s.txt}\n  b: {external: true}\nconfigs:\n  c: {name: own}\n";
    let svcs = services(json!({"web": {
        "networks": {"front": null, "ext": null, "default": null},
        "volumes": [{"type": "volume", "source": "data", "target": "/d"}, {"type": "volume", "source": "other", "target": "/o"}],
        "secrets": [{"source": "s"}],
        "configs": [{"source": "c"}],
        "build": {"secrets": ["b"]},
    }}));
    let doc = build("proj", svcs.clone(), acc(text), true, false, &files(text)).unwrap();
    // --all-resources: the unused ones too.
    let all = build("proj", svcs, acc(text), true, true, &files(text)).unwrap();
    assert_eq!(all["networks"]["unused"]["name"], "proj_unused");
    assert_eq!(all["volumes"]["spare"]["name"], "proj_spare");
    assert_eq!(
        doc,
        json!({
            "name": "proj",
            "networks": {
                "default": {"name": "proj_default", "ipam": {}},
                "ext": {"name": "ext", "ipam": {}, "external": true},
                "front": {"name": "proj_front", "ipam": {}, "labels": {"a": "b"}},
            },
            "services": {"web": {
                "networks": {"front": null, "ext": null, "default": null},
                "volumes": [{"type": "volume", "source": "data", "target": "/d"}, {"type": "volume", "source": "other", "target": "/o"}],
                "secrets": [{"source": "s"}],
                "configs": [{"source": "c"}],
                "build": {"secrets": ["b"]},
            }},
            // compose-go makes a bind device a path only for `driver: local`.
            "volumes": {
                "data": {"name": "proj_data", "driver": "local", "driver_opts": {"o": "bind", "device": "/p/d"}},
                "other": {"name": "proj_other", "driver_opts": {"o": "bind", "device": "./o"}},
            },
            "secrets": {"b": {"name": "b", "external": true}, "s": {"name": "proj_s", "file": "/p/s.txt"}},
            "configs": {"c": {"name": "own"}},
            "x-z": 1,
        })
    );
    let keys: Vec<&String> = doc.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        ["configs", "name", "networks", "secrets", "services", "volumes", "x-z"]
    );
}

#[test]
fn printed_forms_escape_dollars_and_drop_service_extensions() {
    let doc = json!({"services": {"a": {"image": "x", "x-own": 1, "command": ["echo", "$HOME"],
        "develop": {"watch": [{"path": "/p", "x-rule": 2}]}}}, "x-top": "$"});
    assert_eq!(
        without_service_extensions(&doc),
        json!({"services": {"a": {"image": "x", "command": ["echo", "$HOME"],
            "develop": {"watch": [{"path": "/p"}]}}}, "x-top": "$"})
    );
    assert_eq!(
        escape_dollars(&json!({"a": ["$x", 1, {"b": "$$"}]})),
        json!({"a": ["$$x", 1, {"b": "$$$$"}]})
    );
}
