use serde_json::{json, Value};

use super::{obj, vars, write};
use crate::compose::load::model_canon::canonical;
use crate::compose::load::model_merge::{merge_map, unicity};
use crate::compose::load::model_normalize::normalize;
use crate::compose::load::{load_model, Options};

fn model(dir: &std::path::Path, files: &[&str]) -> Result<Value, String> {
    let opts = Options {
        files: files.iter().map(|f| dir.join(f)).collect(),
        cwd: dir.to_path_buf(),
        env: vars(&[("IMG", "set"), ("FOO", "set")]),
        ..Default::default()
    };
    load_model(&opts).map(|m| m.doc).map_err(|e| e.message)
}

#[test]
fn short_forms_become_long_and_unparsable_ones_stay() {
    let mut cfg = obj(json!({"services": {"web": {
        "build": "ctx",
        "depends_on": ["db"],
        "networks": ["front"],
        "secrets": ["token"],
        "volumes": ["${SRC:-./data}:/data:ro", "named:/n"],
        "ports": ["${PORT}:80"],
        "env_file": "a.env",
        "dns": ["", "1.1.1.1"],
    }}, "networks": {"ext": {"external": {"name": "real"}}}}));
    let mut warnings = Vec::new();
    canonical(&mut cfg, &mut warnings).unwrap();
    let web = &cfg["services"]["web"];
    assert_eq!(web["build"], json!({"context": "ctx"}));
    assert_eq!(
        web["depends_on"]["db"],
        json!({"condition": "service_started", "required": true})
    );
    assert_eq!(web["networks"], json!({"front": null}));
    assert_eq!(web["secrets"], json!([{"source": "token"}]));
    // A colon inside `${...}` is not a separator.
    assert_eq!(web["volumes"][0]["source"], "${SRC:-./data}");
    assert_eq!(web["volumes"][0]["read_only"], true);
    assert_eq!(web["volumes"][1]["type"], "volume");
    assert_eq!(web["ports"], json!(["${PORT}:80"]));
    assert_eq!(web["env_file"], json!([{"path": "a.env", "required": true}]));
    assert_eq!(web["dns"], json!(["1.1.1.1"]));
    assert_eq!(cfg["networks"]["ext"], json!({"external": true, "name": "real"}));
    assert_eq!(
        warnings,
        ["networks.ext: external.name is deprecated. Please set name and external: true"]
    );
}

#[test]
fn merging_follows_compose_go_rules_then_one_entry_per_key() {
    let mut base = obj(json!({"services": {"web": {
        "environment": {"A": "base", "B": "base"},
        "command": ["a", "b"],
        "labels": ["x=1"],
    }}}));
    let over = obj(json!({"services": {"web": {
        "environment": ["B=over", "C=over"],
        "command": ["c"],
        "labels": {"x": "2"},
    }}}));
    merge_map(&mut base, over, &mut Vec::new());
    unicity(&mut base).unwrap();
    let web = &base["services"]["web"];
    // A map becomes sorted `k=v` entries; the later entry wins in place.
    assert_eq!(web["environment"], json!(["A=base", "B=over", "C=over"]));
    assert_eq!(web["command"], json!(["c"]));
    assert_eq!(web["labels"], json!(["x=2"]));
}

#[test]
fn normalising_adds_the_default_network_implied_dependencies_and_names() {
    let mut dict = obj(json!({
        "name": "demo",
        "services": {
            "web": {"links": ["db:database"], "environment": {"HOME_DIR": null, "SET": "x"}},
            "db": {"network_mode": "host", "build": {"context": "."}},
        },
        "volumes": {"data": null, "ext": {"external": true}},
    }));
    normalize(&mut dict, &vars(&[("HOME_DIR", "/home/u")]));
    assert_eq!(dict["services"]["web"]["networks"], json!({"default": null}));
    assert!(dict["services"]["db"].get("networks").is_none());
    assert_eq!(
        dict["services"]["web"]["depends_on"]["db"],
        json!({"condition": "service_started", "restart": true, "required": true})
    );
    assert_eq!(dict["services"]["web"]["environment"]["HOME_DIR"], "/home/u");
    assert_eq!(dict["services"]["db"]["build"]["dockerfile"], "Dockerfile");
    assert_eq!(dict["networks"]["default"], json!({"name": "demo_default"}));
    assert_eq!(dict["volumes"]["data"], json!({"name": "demo_data"}));
    assert_eq!(dict["volumes"]["ext"]["name"], "ext");
}

#[test]
fn the_model_keeps_every_service_and_resource_and_sorts_keys() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "compose.yaml",
        "name: demo\nservices:\n  web: {image: \"${IMG}\", profiles: [debug], environment: [FOO]}\nvolumes: {unused: {}}\n",
    );
    let m = model(dir.path(), &["compose.yaml"]).unwrap();
    let keys: Vec<&String> = m.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["name", "networks", "services", "volumes"]);
    assert_eq!(m["services"]["web"]["image"], "${IMG}");
    // LoadModel has no variables: `FOO` is not resolved.
    assert_eq!(m["services"]["web"]["environment"], json!(["FOO"]));
    assert_eq!(m["volumes"]["unused"]["name"], "demo_unused");
}

#[test]
fn extends_and_reset_in_the_model() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "base/common.yaml",
        "services:\n  app: {image: base, volumes: [./data:/data], environment: [A=1]}\n",
    );
    write(
        dir.path(),
        "compose.yaml",
        "services:\n  web:\n    extends: {file: base/common.yaml, service: app}\n    environment: !reset []\n",
    );
    let m = model(dir.path(), &["compose.yaml"]).unwrap();
    let web = &m["services"]["web"];
    assert!(web.get("extends").is_none());
    assert_eq!(web["image"], "base");
    // The base's relative paths are its own folder's.
    let data = dir.path().join("base/data").display().to_string();
    assert_eq!(web["volumes"][0]["source"], data);
    assert!(web.get("environment").is_none());
}

#[test]
fn an_unknown_service_key_is_rejected_as_compose_schema_does() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "compose.yaml", "services:\n  web: {image: a, imgae: b}\n");
    let e = model(dir.path(), &["compose.yaml"]).unwrap_err();
    assert!(
        e.ends_with("services.web additional properties 'imgae' not allowed"),
        "{e}"
    );
}

#[test]
fn json_prints_the_lists_compose_go_left_nil_as_null() {
    let model = json!({"services": {"a": {
        "command": [], "environment": [], "labels": [], "healthcheck": {"test": []},
        "build": {"args": [], "tags": []},
    }}});
    let json = crate::compose::load::nil_lists_as_null(&model);
    let a = &json["services"]["a"];
    assert_eq!(a["command"], Value::Null);
    assert_eq!(a["environment"], Value::Null);
    assert_eq!(a["healthcheck"]["test"], Value::Null);
    assert_eq!(a["build"]["args"], Value::Null);
    // Lists unicity rebuilt stay empty lists.
    assert_eq!(a["labels"], json!([]));
    assert_eq!(a["build"]["tags"], json!([]));
}
