//! Parts of a loaded project's canonical document: its services in
//! dependency order, and the document cut down to some services (with
//! what they depend on and the resources they use), as compose selects
//! them for `config SERVICE...` and `--no-deps`-less commands.

use serde_json::Value;

/// Services, each after the services it depends on (depth first, in name
/// order); dependencies that are not in the project (a disabled profile's,
/// `required: false`) are skipped as compose-go skips them.
pub fn dependency_order(services: &serde_json::Map<String, Value>) -> Vec<String> {
    fn visit<'a>(
        name: &'a str,
        services: &'a serde_json::Map<String, Value>,
        seen: &mut std::collections::HashSet<&'a str>,
        out: &mut Vec<String>,
    ) {
        // Marked before its dependencies are visited, as compose-go does
        // (a cycle is a load error before this runs).
        if !services.contains_key(name) || !seen.insert(name) {
            return;
        }
        let mut deps: Vec<&String> = services[name]
            .get("depends_on")
            .and_then(Value::as_object)
            .map(|d| d.keys().collect())
            .unwrap_or_default();
        deps.sort();
        for d in deps {
            visit(d, services, seen, out);
        }
        out.push(name.to_string());
    }
    let mut names: Vec<&String> = services.keys().collect();
    names.sort();
    let (mut seen, mut out) = (Default::default(), Vec::new());
    for n in names {
        visit(n, services, &mut seen, &mut out);
    }
    out
}

/// `names` and their dependencies (transitively) kept in `doc`, the rest
/// of the services dropped, then the top-level resources no kept service
/// uses.
pub fn select_services(doc: &mut Value, names: &[String]) {
    let Some(services) = doc.get("services").and_then(Value::as_object).cloned() else {
        return;
    };
    let mut keep: Vec<String> = Vec::new();
    let mut todo: Vec<String> = names.to_vec();
    while let Some(n) = todo.pop() {
        if keep.contains(&n) || !services.contains_key(&n) {
            continue;
        }
        if let Some(deps) = services[&n].get("depends_on").and_then(Value::as_object) {
            todo.extend(deps.keys().cloned());
        }
        keep.push(n);
    }
    let mut kept = serde_json::Map::new();
    for (name, mut svc) in services {
        if !keep.contains(&name) {
            continue;
        }
        if let Some(deps) = svc.get_mut("depends_on").and_then(Value::as_object_mut) {
            deps.retain(|d, _| keep.contains(d));
        }
        kept.insert(name, svc);
    }
    let used = |section: &str| -> Vec<String> {
        let mut out = Vec::new();
        for svc in kept.values() {
            match section {
                "networks" => out.extend(svc["networks"].as_object().into_iter().flat_map(|m| m.keys().cloned())),
                "volumes" => out.extend(svc["volumes"].as_array().into_iter().flatten().filter_map(|v| {
                    (v["type"] == "volume")
                        .then(|| v["source"].as_str().map(str::to_string))
                        .flatten()
                })),
                _ => {
                    let own = svc[section].as_array().into_iter().flatten();
                    let build = svc["build"]["secrets"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter(|_| section == "secrets");
                    out.extend(
                        own.chain(build)
                            .filter_map(|x| x.as_str().or_else(|| x["source"].as_str()).map(str::to_string)),
                    );
                }
            }
        }
        out
    };
    let sections: Vec<(&str, Vec<String>)> = ["networks", "volumes", "secrets", "configs"]
        .into_iter()
        .map(|s| (s, used(s)))
        .collect();
    let Some(top) = doc.as_object_mut() else { return };
    top.insert("services".into(), Value::Object(kept));
    for (section, used) in sections {
        if let Some(m) = top.get_mut(section).and_then(Value::as_object_mut) {
            m.retain(|k, _| used.contains(k));
            if m.is_empty() {
                top.shift_remove(section);
            }
        }
    }
}
