use std::collections::{BTreeMap, HashMap};

use serde_json::{json, Value};

use super::obj;
use crate::compose::load::normalize::services;
use crate::compose::load::validate::Declared;
use crate::compose::load::Files;

fn declared(networks: &[&str]) -> Declared {
    Declared {
        networks: networks.iter().map(|s| s.to_string()).collect(),
        ..Default::default()
    }
}

fn run(svcs: Value, nets: &[&str]) -> Result<(Value, bool), String> {
    let mut m: BTreeMap<String, serde_json::Map<String, Value>> = obj(svcs)
        .into_iter()
        .map(|(k, v)| (k, v.as_object().cloned().unwrap()))
        .collect();
    let uses_default = services(&mut m, &HashMap::new(), &declared(nets), &Files::default()).map_err(|e| e.message)?;
    let doc = Value::Object(m.into_iter().map(|(k, v)| (k, Value::Object(v))).collect());
    Ok((doc, uses_default))
}

#[test]
fn compose_s_defaults_are_filled_in_its_key_order() {
    let (doc, uses_default) = run(
        json!({"a": {"tty": false, "privileged": true, "image": "x", "scale": 3, "deploy": {"replicas": 3}}}),
        &[],
    )
    .unwrap();
    assert!(uses_default);
    assert_eq!(
        doc["a"],
        json!({"command": null, "deploy": {"replicas": 3}, "entrypoint": null, "image": "x",
            "networks": {"default": null}, "privileged": true, "scale": 3})
    );
    let keys: Vec<&String> = doc["a"].as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        [
            "command",
            "deploy",
            "entrypoint",
            "image",
            "networks",
            "privileged",
            "scale"
        ]
    );
}

#[test]
fn shared_namespaces_links_and_volumes_from_imply_dependencies() {
    let (doc, uses_default) = run(
        json!({"a": {"image": "x", "network_mode": "service:b", "pid": "service:c", "links": ["d:alias"], "volumes_from": ["e:ro", "container:f"]},
               "b": {"image": "x", "networks": {"front": null}}}),
        &["front"],
    )
    .unwrap();
    assert!(!uses_default);
    assert_eq!(
        doc["a"]["depends_on"],
        json!({
            "b": {"condition": "service_started", "restart": true, "required": true},
            "c": {"condition": "service_started", "restart": true, "required": true},
            "d": {"condition": "service_started", "restart": true, "required": true},
            "e": {"condition": "service_started", "required": true},
        })
    );
    assert!(doc["a"].get("networks").is_none());
}

#[test]
fn a_service_is_checked_before_it_is_completed() {
    let err = run(json!({"a": {"image": "x", "networks": {"nope": null}}}), &[]).unwrap_err();
    assert_eq!(
        err,
        "service \"a\" refers to undefined network nope: invalid compose project"
    );
}
