use serde_json::{json, Value};

use super::obj;
use crate::compose::load::schema::{is_service_key, reorder_service};

fn keys(v: &Value) -> Vec<&str> {
    v.as_object().unwrap().keys().map(String::as_str).collect()
}

#[test]
fn a_service_s_keys_come_in_compose_s_order() {
    let mut m = obj(json!({
        "image": "x",
        "environment": {"B": "1", "A": "2"},
        "profiles": ["p"],
        "healthcheck": {"retries": 3, "test": ["CMD", "true"]},
        "build": {"target": "t", "context": "/c"},
        "extra_hosts": ["b=2", "a=1"],
        "ulimits": {"nproc": {"hard": 2, "soft": 1}},
        "deploy": {"resources": {}, "mode": "replicated", "update_config": {"order": "start-first", "delay": "1s"}},
    }));
    reorder_service(&mut m);
    let v = Value::Object(m);
    assert_eq!(
        keys(&v),
        [
            "profiles",
            "build",
            "deploy",
            "environment",
            "extra_hosts",
            "healthcheck",
            "image",
            "ulimits"
        ]
    );
    assert_eq!(keys(&v["environment"]), ["A", "B"]);
    assert_eq!(keys(&v["healthcheck"]), ["test", "retries"]);
    assert_eq!(keys(&v["build"]), ["context", "target"]);
    assert_eq!(v["extra_hosts"], json!(["a=1", "b=2"]));
    assert_eq!(keys(&v["ulimits"]["nproc"]), ["soft", "hard"]);
    assert_eq!(keys(&v["deploy"]), ["mode", "update_config", "resources"]);
    assert_eq!(keys(&v["deploy"]["update_config"]), ["delay", "order"]);
}

#[test]
fn service_keys_are_the_printed_ones_but_legacy() {
    for k in ["profiles", "image", "working_dir", "post_start", "pull_refresh_after"] {
        assert!(is_service_key(k), "{k}");
    }
    for k in [
        "dockerfile",
        "log_driver",
        "log_opt",
        "net",
        "volume_driver",
        "x-foo",
        "imagee",
    ] {
        assert!(!is_service_key(k), "{k}");
    }
}
