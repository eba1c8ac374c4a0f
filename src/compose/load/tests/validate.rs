use std::collections::{BTreeMap, HashMap};

use serde_json::{json, Map, Value};

use super::obj;
use crate::compose::load::validate::{check_cycles, depends_on, service, Declared};
use crate::compose::load::Files;

fn declared() -> Declared {
    Declared {
        networks: ["front".to_string()].into_iter().collect(),
        ..Default::default()
    }
}

#[test]
fn a_service_needs_an_image_and_declared_references() {
    let cases = [
        (
            json!({}),
            "service \"a\" has neither an image nor a build context specified: invalid compose project",
        ),
        (
            json!({"image": "x", "platform": "linux/arm64", "build": {"platforms": ["linux/amd64"]}}),
            "service.build.platforms MUST include service.platform \"linux/arm64\": invalid compose project",
        ),
        (
            json!({"image": "x", "networks": {"back": null}}),
            "service \"a\" refers to undefined network back: invalid compose project",
        ),
        (
            json!({"image": "x", "volumes": [{"type": "volume", "source": "data"}]}),
            "service \"a\" refers to undefined volume data: invalid compose project",
        ),
        (
            json!({"image": "x", "secrets": [{"source": "s"}]}),
            "service \"a\" refers to undefined secret s: invalid compose project",
        ),
        (
            json!({"image": "x", "configs": [{"source": "c"}]}),
            "service \"a\" refers to undefined config c: invalid compose project",
        ),
        (
            json!({"image": "x", "scale": 2, "deploy": {"replicas": 3}}),
            "services.a: can't set distinct values on 'scale' and 'deploy.replicas': invalid compose project",
        ),
    ];
    for (m, want) in cases {
        assert_eq!(service("a", &obj(m.clone()), &declared()).unwrap_err(), want, "{m}");
    }
    let ok = json!({"provider": {}, "network_mode": "host", "networks": {"undeclared": null},
        "volumes": [{"type": "bind", "source": "/x"}], "scale": 2, "deploy": {"replicas": 2}});
    assert_eq!(service("a", &obj(ok), &declared()), Ok(()));
}

fn services(v: Value) -> BTreeMap<String, Map<String, Value>> {
    obj(v).into_iter().map(|(k, v)| (k, obj(v))).collect()
}

#[test]
fn required_dependencies_must_exist() {
    let s = services(json!({"a": {"depends_on": {"gone": {"required": false}, "b": {}}}, "b": {}}));
    assert!(depends_on(&s, &HashMap::new(), &Files::default()).is_ok());
    let s = services(json!({"a": {"depends_on": {"gone": {"required": true}}}}));
    let e = depends_on(&s, &HashMap::new(), &Files::default()).unwrap_err();
    assert_eq!(
        e.message,
        "service \"a\" depends on undefined service \"gone\": invalid compose project"
    );
}

#[test]
fn dependency_cycles_are_reported_from_the_first_service() {
    let s = services(
        json!({"a": {"depends_on": {"b": {}}}, "b": {"depends_on": {"c": {}}}, "c": {"depends_on": {"a": {}}}, "d": {}}),
    );
    let e = check_cycles(&s, &HashMap::new(), &Files::default()).unwrap_err();
    assert_eq!(e.message, "dependency cycle detected: a -> b -> c -> a");
    let s = services(json!({"a": {"depends_on": {"b": {}}}, "b": {"depends_on": {"outside": {}}}}));
    assert!(check_cycles(&s, &HashMap::new(), &Files::default()).is_ok());
}
