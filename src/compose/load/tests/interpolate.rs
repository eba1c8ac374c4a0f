use super::{files, node, vars};
use crate::compose::canon::to_json;
use crate::compose::load::interpolate::interpolate_tree;
use serde_json::json;

fn run(text: &str, env: &[(&str, &str)]) -> Result<(serde_json::Value, Vec<String>), String> {
    let mut n = node(text);
    let mut unset = Vec::new();
    interpolate_tree(&mut n, "", &vars(env), &files(text), &mut unset).map_err(|e| e.message)?;
    Ok((to_json(&n), unset))
}

#[test]
fn values_are_interpolated_and_retyped_unless_quoted() {
    let text = "services:\n  a:\n    image: \"img:${TAG}\"\n    x-port: ${PORT}\n    x-quoted: \"${PORT}\"\n    x-${TAG}: keys stay\n    x-list: [$PORT, \"$$literal\"]\n";
    let (doc, unset) = run(text, &[("TAG", "v1"), ("PORT", "8080")]).unwrap();
    assert_eq!(
        doc,
        json!({"services": {"a": {
            "image": "img:v1",
            "x-port": 8080,
            "x-quoted": "8080",
            "x-${TAG}": "keys stay",
            "x-list": [8080, "$literal"],
        }}})
    );
    assert!(unset.is_empty());
}

#[test]
fn unset_variables_are_recorded_and_blank() {
    let (doc, unset) = run("services:\n  a:\n    image: \"x${MISSING}y\"\n", &[]).unwrap();
    assert_eq!(doc["services"]["a"]["image"], "xy");
    assert_eq!(unset, ["MISSING"]);
}

#[test]
fn typed_paths_are_cast_even_when_quoted() {
    let text = "services:\n  a:\n    ports: [{target: \"80\"}]\n    init: \"yes\"\n    cpus: \"1.5\"\n    ulimits: {nofile: \"10\"}\n    labels: {x: \"10\"}\nnetworks:\n  n: {external: \"true\"}\n";
    let (doc, _) = run(text, &[]).unwrap();
    assert_eq!(doc["services"]["a"]["ports"][0]["target"], 80);
    assert_eq!(doc["services"]["a"]["init"], true);
    assert_eq!(doc["services"]["a"]["cpus"], 1.5);
    assert_eq!(doc["services"]["a"]["ulimits"]["nofile"], 10);
    assert_eq!(doc["services"]["a"]["labels"]["x"], "10");
    assert_eq!(doc["networks"]["n"]["external"], true);
}

#[test]
fn a_failed_cast_says_go_s_words_at_the_path() {
    let err = run("services:\n  a:\n    scale: \"${N:-many}\"\n", &[]).unwrap_err();
    assert_eq!(
        err,
        "error while interpolating services.a.scale: failed to cast to expected type: strconv.Atoi: parsing \"many\": invalid syntax"
    );
    let err = run("services:\n  a:\n    privileged: maybe\n", &[]).unwrap_err();
    assert_eq!(
        err,
        "error while interpolating services.a.privileged: failed to cast to expected type: invalid boolean: maybe"
    );
}

#[test]
fn bad_syntax_and_required_variables_are_errors() {
    let text = "services:\n  a:\n    image: \"${A\"\n";
    let mut n = node(text);
    let e = interpolate_tree(&mut n, "", &vars(&[]), &files(text), &mut Vec::new()).unwrap_err();
    assert_eq!(e.message, "invalid interpolation format for services.a.image");
    assert_eq!(e.help.as_deref(), Some("You may need to escape any $ with another $."));
    let (_, _, span) = *e.at.unwrap();
    assert_eq!(&text[span.start..span.start + 1], "\"");
    let err = run("services:\n  a:\n    image: ${IMG:?set IMG}\n", &[]).unwrap_err();
    assert_eq!(
        err,
        "error while interpolating services.a.image: required variable IMG is missing a value: set IMG"
    );
}
