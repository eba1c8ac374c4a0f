//! `use_api_socket: true`, as Docker Compose applies it (its
//! `useAPISocket`, a client-side stand-in for the Docker CLI's
//! `--use-api-socket`): before creating containers it rewrites the project,
//! so every such service gets
//!
//! - a bind of `/var/run/docker.sock` at the same path,
//! - `DOCKER_CONFIG=/run/secrets/docker` unless it sets `DOCKER_CONFIG`,
//! - config `#apisocket` at `/run/secrets/docker/config.json`: a Docker CLI
//!   config holding the user's registry credentials (all of them, from the
//!   config file and its credential helpers).
//!
//! The config hash is computed from the rewritten service, so compose's
//! container carries a hash that `config --hash` (which prints the
//! service as written) does not; orch rewrites the same way, so both tools
//! see each other's containers as current.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use base64::Engine as _;
use serde::Serialize;
use serde_json::{json, Map, Value};

const SOCKET: &str = "/var/run/docker.sock";
const CONFIG_DIR: &str = "/run/secrets/docker";
/// The config compose adds (a name no compose file can declare).
pub const CONFIG_KEY: &str = "#apisocket";

/// `doc` with compose's rewrite applied to every `use_api_socket` service.
/// The config's content (the credentials) is read only when a container is
/// about to be created or started ([`content`]): planning a `down` or a
/// `ps` runs no credential helper.
pub fn apply(doc: &Value) -> Value {
    let uses = |s: &Value| s["use_api_socket"].as_bool() == Some(true);
    let mut doc = doc.clone();
    for svc in doc["services"].as_object_mut().into_iter().flat_map(|m| m.values_mut()) {
        if uses(svc) {
            rewrite(svc);
        }
    }
    doc
}

/// The config's content: a Docker CLI config holding every credential
/// the user's CLI config gives (its error is compose's, which then
/// creates no container).
pub fn content() -> crate::error::Result<String> {
    Ok(cli_config(&credentials()?))
}

/// One service's part, in compose-go's canonical form (the hash input).
fn rewrite(svc: &mut Value) {
    let push = |svc: &mut Value, key: &str, item: Value| match svc.get_mut(key).and_then(Value::as_array_mut) {
        Some(list) => list.push(item),
        None => svc[key] = json!([item]),
    };
    push(
        svc,
        "volumes",
        json!({"type": "bind", "source": SOCKET, "target": SOCKET}),
    );
    if !svc["environment"].is_object() {
        svc["environment"] = json!({});
    }
    // A DOCKER_CONFIG already set means the user chose where the client
    // config is; compose then leaves it alone.
    if svc["environment"].get("DOCKER_CONFIG").is_none() {
        svc["environment"]["DOCKER_CONFIG"] = json!(CONFIG_DIR);
    }
    push(
        svc,
        "configs",
        json!({"source": CONFIG_KEY, "target": format!("{CONFIG_DIR}/config.json")}),
    );
    // New keys in compose-go's field order, the environment sorted: the
    // hash is taken over this order.
    if let Some(m) = svc.as_object_mut() {
        crate::compose::load::reorder_service(m);
    }
}

/// A registry credential as the Docker CLI holds it in memory.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Auth {
    pub username: String,
    pub password: String,
    pub email: String,
    pub identity_token: String,
    pub registry_token: String,
}

/// What the Docker CLI writes (`configfile.SaveToWriter`, tab-indented):
/// only `auths`, each with `username:password` folded into `auth`.
fn cli_config(auths: &BTreeMap<String, Auth>) -> String {
    #[derive(Serialize)]
    struct Saved {
        #[serde(skip_serializing_if = "String::is_empty")]
        auth: String,
        #[serde(skip_serializing_if = "String::is_empty")]
        email: String,
        #[serde(rename = "identitytoken", skip_serializing_if = "String::is_empty")]
        identity_token: String,
        #[serde(rename = "registrytoken", skip_serializing_if = "String::is_empty")]
        registry_token: String,
    }
    let saved: BTreeMap<&String, Saved> = auths
        .iter()
        .map(|(k, a)| {
            let auth = if a.username.is_empty() && a.password.is_empty() {
                String::new()
            } else {
                base64::engine::general_purpose::STANDARD.encode(format!("{}:{}", a.username, a.password))
            };
            let s = Saved {
                auth,
                email: a.email.clone(),
                identity_token: a.identity_token.clone(),
                registry_token: a.registry_token.clone(),
            };
            (k, s)
        })
        .collect();
    let mut out = Vec::new();
    let fmt = serde_json::ser::PrettyFormatter::with_indent(b"\t");
    let mut ser = serde_json::Serializer::with_formatter(&mut out, fmt);
    let _ = json!({ "auths": saved }).serialize(&mut ser);
    String::from_utf8(out).unwrap_or_default()
}

/// The Docker CLI's config file: `$DOCKER_CONFIG/config.json`, else
/// `~/.docker/config.json`.
fn config_path() -> Option<PathBuf> {
    let dir = match std::env::var_os("DOCKER_CONFIG").filter(|d| !d.is_empty()) {
        Some(d) => PathBuf::from(d),
        None => PathBuf::from(std::env::var_os("HOME")?).join(".docker"),
    };
    Some(dir.join("config.json"))
}

/// Every credential, as the CLI's `GetAllCredentials`: the default store
/// (the file, or `credsStore`'s helper), then each `credHelpers` entry
/// (one that fails is skipped, as the CLI only warns). Also what
/// `image::push` and `image::pull` send as X-Registry-Auth.
pub(crate) fn credentials() -> crate::error::Result<BTreeMap<String, Auth>> {
    let Some(path) = config_path() else {
        return Ok(BTreeMap::new());
    };
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(BTreeMap::new()),
        Err(e) => return Err(format!("resolving credentials failed: reading {}: {e}", path.display()).into()),
    };
    let cfg: Value = serde_json::from_str(&text)
        .map_err(|e| format!("resolving credentials failed: parsing {}: {e}", path.display()))?;
    let file = file_auths(&cfg);
    let mut out = match cfg["credsStore"].as_str().filter(|s| !s.is_empty()) {
        None => file.clone(),
        Some(store) => {
            let mut all = BTreeMap::new();
            for registry in helper_list(store)? {
                let mut a = file.get(&registry).cloned().unwrap_or_default();
                helper_get(store, &registry, &mut a)?;
                all.insert(registry, a);
            }
            all
        }
    };
    for (registry, helper) in cfg["credHelpers"].as_object().into_iter().flatten() {
        let mut a = file.get(registry).cloned().unwrap_or_default();
        if helper_get(helper.as_str().unwrap_or_default(), registry, &mut a).is_ok() {
            out.insert(registry.clone(), a);
        }
    }
    Ok(out)
}

/// The file's `auths`, `auth` decoded into user and password.
fn file_auths(cfg: &Value) -> BTreeMap<String, Auth> {
    let text = |v: &Value, k: &str| v[k].as_str().unwrap_or_default().to_string();
    let mut out = BTreeMap::new();
    for (registry, v) in cfg["auths"].as_object().into_iter().flatten() {
        let mut a = Auth {
            username: text(v, "username"),
            password: text(v, "password"),
            email: text(v, "email"),
            identity_token: text(v, "identitytoken"),
            registry_token: text(v, "registrytoken"),
        };
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(text(v, "auth"))
            .ok()
            .and_then(|b| String::from_utf8(b).ok());
        if let Some((u, p)) = decoded.as_deref().and_then(|d| d.split_once(':')) {
            a.username = u.to_string();
            a.password = p.trim_end_matches('\0').to_string();
        }
        out.insert(registry.clone(), a);
    }
    out
}

/// `docker-credential-HELPER ACTION`, `input` on stdin; its stdout.
fn helper(name: &str, action: &str, input: &str) -> crate::error::Result<String> {
    use std::io::Write;
    let bin = format!("docker-credential-{name}");
    let mut child = Command::new(&bin)
        .arg(action)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("resolving credentials failed: running {bin}: {e}"))?;
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(input.as_bytes());
    }
    let out = child
        .wait_with_output()
        .map_err(|e| format!("resolving credentials failed: running {bin}: {e}"))?;
    let text = String::from_utf8_lossy(&out.stdout).trim().to_string();
    if !out.status.success() {
        return Err(format!("resolving credentials failed: {bin} {action}: {text}").into());
    }
    Ok(text)
}

fn helper_list(store: &str) -> crate::error::Result<Vec<String>> {
    let listed: Map<String, Value> = serde_json::from_str(&helper(store, "list", "")?)
        .map_err(|e| format!("resolving credentials failed: docker-credential-{store} list: {e}"))?;
    Ok(listed.keys().cloned().collect())
}

/// Fills `a` from the helper's answer for `registry` (a `<token>` user
/// means the secret is an identity token).
fn helper_get(store: &str, registry: &str, a: &mut Auth) -> crate::error::Result<()> {
    let got: Value = serde_json::from_str(&helper(store, "get", registry)?)
        .map_err(|e| format!("resolving credentials failed: docker-credential-{store} get: {e}"))?;
    let user = got["Username"].as_str().unwrap_or_default();
    let secret = got["Secret"].as_str().unwrap_or_default().to_string();
    if user == "<token>" {
        a.username.clear();
        a.password.clear();
        a.identity_token = secret;
    } else {
        a.username = user.to_string();
        a.password = secret;
        a.identity_token.clear();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rewrites_the_service_as_compose_does() {
        let mut svc = json!({"environment": {"Z": "1", "A": null}, "image": "x"});
        rewrite(&mut svc);
        assert_eq!(
            serde_json::to_string(&svc).unwrap(),
            serde_json::to_string(&json!({
                "configs": [{"source": "#apisocket", "target": "/run/secrets/docker/config.json"}],
                "environment": {"A": null, "DOCKER_CONFIG": "/run/secrets/docker", "Z": "1"},
                "image": "x",
                "volumes": [{"type": "bind", "source": SOCKET, "target": SOCKET}],
            }))
            .unwrap()
        );
        let mut own = json!({"environment": {"DOCKER_CONFIG": "/mine"}, "volumes": [{"type": "volume"}]});
        rewrite(&mut own);
        assert_eq!(own["environment"], json!({"DOCKER_CONFIG": "/mine"}));
        assert_eq!(own["volumes"].as_array().map(Vec::len), Some(2));
    }

    #[test]
    fn writes_the_cli_config_as_the_docker_cli_does() {
        assert_eq!(cli_config(&BTreeMap::new()), "{\n\t\"auths\": {}\n}");
        let cfg = json!({"auths": {"r.io": {"auth": "dTpw", "email": "e@x"}, "t.io": {"identitytoken": "tok"}}});
        assert_eq!(
            cli_config(&file_auths(&cfg)),
            "{\n\t\"auths\": {\n\t\t\"r.io\": {\n\t\t\t\"auth\": \"dTpw\",\n\t\t\t\"email\": \"e@x\"\n\t\t},\n\t\t\"t.io\": {\n\t\t\t\"identitytoken\": \"tok\"\n\t\t}\n\t}\n}"
        );
    }
}
