//! The engine's own JSON, never narrowed: requests and answers as
//! `serde_json::Value` (key order kept), over bollard's connection.
//!
//! Why not bollard's models for swarm specs: they lose fields. The
//! container spec's health check is `HealthCheck` in its model where the
//! engine sends `Healthcheck`, `Service` has no `PreviousSpec`, and no
//! model keeps keys it does not know, so a spec read through them and
//! written back silently drops whatever they miss. Swarm objects (services,
//! nodes, secrets, configs, the swarm, tasks) travel through here instead.
//!
//! How: bollard 0.21 has no public raw-request call, but it has a public
//! request hook (`Docker::with_request_modifier`) and a call whose answer
//! it hands back as raw bytes (`export_container`, a GET whose body is
//! streamed unread). [`call`] clones the client (sharing its connection:
//! unix socket, TCP or TLS, and the negotiated API version), rewrites that
//! one request's method, path and body, and parses the bytes. (`ping`,
//! used before, hands back text made by a lossy UTF-8 pass and a copy:
//! 6 % of the instructions of `orch ps` on 500 containers.)
//! Engine errors come back as bollard's `DockerResponseServerError` with
//! the status and the engine's message, as for every other call.

use bollard::errors::Error;
use bollard::{body_full, Docker};
use bytes::Bytes;
use futures_util::StreamExt;
use http::uri::{PathAndQuery, Uri};
use http::Method;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// Sends `method path` (path after the API version, with its query) with
/// `body` as JSON; returns the engine's JSON answer (`Null` when it sent
/// none).
pub async fn call(d: &Docker, method: Method, path: &str, body: Option<&Value>) -> Result<Value, Error> {
    call_with(d, method, path, body, None).await
}

/// [`call`] with the `X-Registry-Auth` header (base64url of the JSON
/// credentials, as the Docker CLI sends them): what lets swarm agents
/// pull a service's image from a private registry.
pub async fn call_with(
    d: &Docker,
    method: Method,
    path: &str,
    body: Option<&Value>,
    registry_auth: Option<String>,
) -> Result<Value, Error> {
    let body = request(d, method, path, body, registry_auth).await?;
    parse(path, &body)
}

/// Sends the request; the engine's answer as it came.
async fn request(
    d: &Docker,
    method: Method,
    path: &str,
    body: Option<&Value>,
    registry_auth: Option<String>,
) -> Result<Vec<u8>, Error> {
    let v = d.client_version();
    let full = format!("/v{}.{}{}", v.major_version, v.minor_version, path);
    let pq: PathAndQuery = full.parse().map_err(|e: http::uri::InvalidUri| Error::IOError {
        err: std::io::Error::new(std::io::ErrorKind::InvalidInput, format!("{full}: {e}")),
    })?;
    let payload = Bytes::from(body.map(|b| b.to_string()).unwrap_or_default());
    let client = d.clone().with_request_modifier(move |req| {
        let (mut parts, _) = req.into_parts();
        parts.method = method.clone();
        // One JSON content type (the hooked call sets its own as well).
        parts.headers.insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static("application/json"),
        );
        if let Some(auth) = registry_auth
            .as_deref()
            .and_then(|a| http::HeaderValue::from_str(a).ok())
        {
            parts.headers.insert("X-Registry-Auth", auth);
        }
        let mut uri = parts.uri.clone().into_parts();
        uri.path_and_query = Some(pq.clone());
        if let Ok(u) = Uri::from_parts(uri) {
            parts.uri = u;
        }
        http::Request::from_parts(parts, body_full(payload.clone()))
    });
    // The name is never sent: the hook above replaces the whole path.
    let mut chunks = client.export_container("-");
    let mut answer = Vec::new();
    while let Some(chunk) = chunks.next().await {
        answer.extend_from_slice(&chunk?);
    }
    Ok(answer)
}

/// The engine's answer `body` to `path` as `T` (`T::default()` when it
/// sent nothing).
fn parse<T: DeserializeOwned + Default>(path: &str, body: &[u8]) -> Result<T, Error> {
    if body.trim_ascii().is_empty() {
        return Ok(T::default());
    }
    serde_json::from_slice(body).map_err(|e| Error::IOError {
        err: std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!(
                "{path}: the engine's answer is not JSON ({e}): {}",
                clip(&String::from_utf8_lossy(body))
            ),
        ),
    })
}

/// `GET path`, its answer read straight into `T` (a script value, for one)
/// rather than through a [`Value`]: one pass over a long list instead of
/// two (`orch service ls` of 50 services, bench/swarm.sh).
pub async fn get_as<T: DeserializeOwned + Default>(d: &Docker, path: &str) -> Result<T, Error> {
    let body = request(d, Method::GET, path, None, None).await?;
    parse(path, &body)
}

fn clip(s: &str) -> &str {
    match s.char_indices().nth(200) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

/// `GET path`.
pub async fn get(d: &Docker, path: &str) -> Result<Value, Error> {
    get_as(d, path).await
}

/// `POST path` with a JSON body.
pub async fn post(d: &Docker, path: &str, body: &Value) -> Result<Value, Error> {
    call(d, Method::POST, path, Some(body)).await
}

/// `DELETE path`.
pub async fn delete(d: &Docker, path: &str) -> Result<(), Error> {
    call(d, Method::DELETE, path, None).await.map(|_| ())
}

/// `s` percent-encoded for a path segment or a query value.
pub fn enc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `?k=v&…` from pairs whose value is `Some` (empty when none is).
pub fn query(pairs: &[(&str, Option<String>)]) -> String {
    let parts: Vec<String> = pairs
        .iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k}={}", enc(v))))
        .collect();
    if parts.is_empty() {
        String::new()
    } else {
        format!("?{}", parts.join("&"))
    }
}

/// The engine's `filters` query value (`{"label":["a=b"]}`), if any.
pub fn filters<'a>(f: impl IntoIterator<Item = (&'a str, &'a [String])>) -> Option<String> {
    let mut m = serde_json::Map::new();
    for (k, v) in f {
        if !v.is_empty() {
            m.insert(k.to_string(), Value::from(v.to_vec()));
        }
    }
    (!m.is_empty()).then(|| Value::Object(m).to_string())
}

/// The `Version.Index` of an object, for updates.
pub fn version(obj: &Value) -> u64 {
    obj["Version"]["Index"].as_u64().unwrap_or_default()
}

/// `image` as Docker's Go client sends it on every service create and
/// update (`imageWithTagString`): familiar form, `:latest` added when it
/// has neither tag nor digest. Done here too so that orch and docker store
/// the same string, and a service one made is not restarted by the other
/// for an image spelling.
pub fn tagged_image(image: &str) -> String {
    let familiar = image
        .strip_prefix("docker.io/library/")
        .or_else(|| image.strip_prefix("docker.io/"))
        .unwrap_or(image);
    let last = familiar.rsplit('/').next().unwrap_or(familiar);
    if familiar.is_empty() || familiar.contains('@') || last.contains(':') {
        familiar.to_string()
    } else {
        format!("{familiar}:latest")
    }
}

/// A service spec with its container image as Docker's client sends it
/// ([`tagged_image`]).
pub fn with_tagged_image(mut spec: Value) -> Value {
    if let Some(image) = spec.pointer_mut("/TaskTemplate/ContainerSpec/Image") {
        if let Some(i) = image.as_str() {
            *image = Value::String(tagged_image(i));
        }
    }
    spec
}

/// Whether two specs say the same thing: equal after dropping the zero
/// values (`null`, `false`, `0`, `""`, `{}`, `[]`) that the engine and Go's
/// `omitempty` add or leave out, numbers compared by value.
pub fn same(a: &Value, b: &Value) -> bool {
    fn zero(v: &Value) -> bool {
        match v {
            Value::Null => true,
            Value::Bool(b) => !b,
            Value::Number(n) => n.as_f64() == Some(0.0),
            Value::String(s) => s.is_empty(),
            Value::Array(a) => a.is_empty(),
            Value::Object(o) => o.values().all(zero),
        }
    }
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            x.iter().all(|(k, v)| y.get(k).map_or(zero(v), |w| same(v, w)))
                && y.iter().all(|(k, w)| x.contains_key(k) || zero(w))
        }
        (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(v, w)| same(v, w)),
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (x, y) if zero(x) && zero(y) => true,
        (x, y) => x == y,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn same_ignores_zero_values_only() {
        let a = json!({"Name": "web", "Labels": {}, "Mode": {"Replicated": {"Replicas": 2}}, "R": 0.0});
        let b = json!({"Name": "web", "Mode": {"Replicated": {"Replicas": 2}}, "X": null, "R": 0});
        assert!(same(&a, &b));
        let c = json!({"Name": "web", "Mode": {"Replicated": {"Replicas": 3}}});
        assert!(!same(&a, &c));
        assert!(!same(&json!({"A": [1, 2]}), &json!({"A": [2, 1]})));
        assert!(!same(&json!({"A": "x"}), &json!({})));
    }

    #[test]
    fn images_tagged_as_dockers_client_does() {
        for (given, sent) in [
            ("busybox", "busybox:latest"),
            ("orch-test/busybox", "orch-test/busybox:latest"),
            ("busybox:1.36", "busybox:1.36"),
            ("localhost:5000/web", "localhost:5000/web:latest"),
            ("localhost:5000/web:2", "localhost:5000/web:2"),
            ("docker.io/library/redis", "redis:latest"),
            ("docker.io/acme/web:3", "acme/web:3"),
            ("web@sha256:0123", "web@sha256:0123"),
        ] {
            assert_eq!(tagged_image(given), sent, "{given}");
        }
        let spec = with_tagged_image(json!({"TaskTemplate": {"ContainerSpec": {"Image": "web"}}}));
        assert_eq!(spec["TaskTemplate"]["ContainerSpec"]["Image"], "web:latest");
        assert_eq!(with_tagged_image(json!({"Name": "x"})), json!({"Name": "x"}));
    }

    #[test]
    fn query_encodes_values() {
        assert_eq!(query(&[("a", None)]), "");
        assert_eq!(
            query(&[
                ("filters", Some("{\"name\":[\"a b\"]}".into())),
                ("status", Some("true".into()))
            ]),
            "?filters=%7B%22name%22%3A%5B%22a%20b%22%5D%7D&status=true"
        );
    }
}
