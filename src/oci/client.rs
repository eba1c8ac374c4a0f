//! A registry client of the OCI distribution API, for what the engine
//! cannot do: pushing content that is not an image (compose's `publish`
//! artifacts) and copying manifests between repositories.
//!
//! It speaks HTTPS with the host's trusted roots (rustls, as bollard's
//! connection already does), and plain HTTP only when told to: compose does
//! the same, with its `__TEST__INSECURE__REGISTRY__` switch. Registries
//! that want credentials answer 401 with a `WWW-Authenticate` challenge;
//! the client then asks the token service (`Bearer`) or sends them as
//! they are (`Basic`), the two schemes the Docker CLI knows.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use bytes::Bytes;
use http::{header, Method, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client as HyperClient;
use hyper_util::rt::TokioExecutor;

type Connector = hyper_rustls::HttpsConnector<hyper_util::client::legacy::connect::HttpConnector>;

/// Credentials for one registry, as the Docker CLI's config holds them.
#[derive(Clone, Debug, Default)]
pub struct Creds {
    pub username: String,
    pub password: String,
    /// An OAuth refresh token (`docker login` to some registries).
    pub identity_token: String,
}

/// What went wrong talking to a registry, in the words the Docker tools use.
#[derive(Debug, Clone, thiserror::Error)]
pub enum OciError {
    /// The registry answered with an unexpected status.
    #[error("unexpected status from {method} request to {url}: {status}{detail}")]
    Status {
        method: String,
        url: String,
        status: String,
        detail: String,
        code: u16,
    },
    /// The registry could not be reached, or the connection failed.
    #[error("failed to do request: {method} {url:?}: {reason}")]
    Transport {
        method: String,
        url: String,
        reason: String,
    },
    /// The registry's answer was not what the protocol says.
    #[error("{0}")]
    Protocol(String),
}

impl OciError {
    /// The HTTP status, when the registry answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            OciError::Status { code, .. } => Some(*code),
            _ => None,
        }
    }
}

/// A response: status, headers and the whole body (registry answers for
/// artifacts and manifests are small).
pub struct Reply {
    pub status: StatusCode,
    pub headers: http::HeaderMap,
    pub body: Bytes,
}

/// One registry host's client: its scheme, credentials and the bearer
/// tokens it has been given, per scope.
#[derive(Clone)]
pub struct Registry {
    http: HyperClient<Connector, Full<Bytes>>,
    /// `https://host` or `http://host`.
    base: String,
    creds: Option<Creds>,
    tokens: Arc<Mutex<HashMap<String, String>>>,
}

impl Registry {
    /// A client for `host` (`registry.example:5000`); `plain_http` talks
    /// HTTP instead of HTTPS. `docker.io` is served by
    /// `registry-1.docker.io`, as every Docker tool knows.
    pub fn new(host: &str, plain_http: bool, creds: Option<Creds>) -> Result<Self, OciError> {
        let host = if host == "docker.io" {
            "registry-1.docker.io"
        } else {
            host
        };
        let scheme = if plain_http { "http" } else { "https" };
        Ok(Registry {
            http: HyperClient::builder(TokioExecutor::new()).build(connector()?),
            base: format!("{scheme}://{host}"),
            creds,
            tokens: Arc::new(Mutex::new(HashMap::new())),
        })
    }

    /// Sends a request to `path` (`/v2/…`, or a full URL a registry gave
    /// as a location), answering an authentication challenge once.
    /// `scope` is the token scope the request needs
    /// (`repository:team/app:pull,push`).
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Bytes,
        scope: &str,
    ) -> Result<Reply, OciError> {
        let url = if path.starts_with("http://") || path.starts_with("https://") {
            path.to_string()
        } else {
            format!("{}{path}", self.base)
        };
        let token = self.tokens.lock().unwrap().get(scope).cloned();
        let reply = self
            .once(&method, &url, headers, body.clone(), token.as_deref())
            .await?;
        if reply.status != StatusCode::UNAUTHORIZED {
            return self.follow(&method, reply).await;
        }
        let Some(auth) = self.answer(&reply, scope).await? else {
            return Ok(reply);
        };
        self.tokens.lock().unwrap().insert(scope.to_string(), auth.clone());
        let reply = self.once(&method, &url, headers, body, Some(&auth)).await?;
        self.follow(&method, reply).await
    }

    /// A read's redirects followed (registries send blobs from elsewhere,
    /// a CDN or object store), without the registry's credentials.
    async fn follow(&self, method: &Method, mut reply: Reply) -> Result<Reply, OciError> {
        for _ in 0..5 {
            let moved = matches!(reply.status.as_u16(), 301 | 302 | 303 | 307 | 308);
            let Some(to) = reply.headers.get(header::LOCATION).and_then(|v| v.to_str().ok()) else {
                return Ok(reply);
            };
            if !moved || !(method == Method::GET || method == Method::HEAD) {
                return Ok(reply);
            }
            let to = if to.starts_with('/') {
                format!("{}{to}", self.base)
            } else {
                to.to_string()
            };
            reply = self.once(method, &to, &[], Bytes::new(), None).await?;
        }
        Ok(reply)
    }

    async fn once(
        &self,
        method: &Method,
        url: &str,
        headers: &[(&str, &str)],
        body: Bytes,
        auth: Option<&str>,
    ) -> Result<Reply, OciError> {
        let transport = |reason: String| OciError::Transport {
            method: go_op(method),
            url: url.to_string(),
            reason,
        };
        let mut req = Request::builder().method(method.clone()).uri(url);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        if let Some(a) = auth {
            req = req.header(header::AUTHORIZATION, a);
        }
        req = req.header(header::USER_AGENT, concat!("orch/", env!("CARGO_PKG_VERSION")));
        let req = req.body(Full::new(body)).map_err(|e| transport(e.to_string()))?;
        let res = self
            .http
            .request(req)
            .await
            .map_err(|e| transport(go_reason(&chain(&e), url)))?;
        let (parts, body) = res.into_parts();
        let body = body.collect().await.map_err(|e| transport(e.to_string()))?.to_bytes();
        Ok(Reply {
            status: parts.status,
            headers: parts.headers,
            body,
        })
    }

    /// The `Authorization` value that answers a 401's challenge, or none
    /// when the challenge is one the client cannot answer.
    async fn answer(&self, reply: &Reply, scope: &str) -> Result<Option<String>, OciError> {
        let Some(challenge) = reply
            .headers
            .get(header::WWW_AUTHENTICATE)
            .and_then(|v| v.to_str().ok())
        else {
            return Ok(None);
        };
        let (scheme, params) = challenge.split_once(' ').unwrap_or((challenge, ""));
        let params = parse_params(params);
        if scheme.eq_ignore_ascii_case("basic") {
            return Ok(self.creds.as_ref().map(basic));
        }
        if !scheme.eq_ignore_ascii_case("bearer") {
            return Ok(None);
        }
        let Some(realm) = params.get("realm") else {
            return Ok(None);
        };
        let service = params.get("service").cloned().unwrap_or_default();
        let mut url = format!("{realm}?service={}", encode(&service));
        for s in [params.get("scope").map(String::as_str).unwrap_or(""), scope] {
            if !s.is_empty() {
                url.push_str(&format!("&scope={}", encode(s)));
            }
        }
        let reply = match &self.creds {
            Some(c) if !c.identity_token.is_empty() => {
                let form = format!(
                    "grant_type=refresh_token&client_id=orch&service={}&scope={}&refresh_token={}",
                    encode(&service),
                    encode(scope),
                    encode(&c.identity_token)
                );
                let ct = [("content-type", "application/x-www-form-urlencoded")];
                self.once(&Method::POST, realm, &ct, Bytes::from(form), None).await?
            }
            Some(c) => {
                self.once(&Method::GET, &url, &[], Bytes::new(), Some(&basic(c)))
                    .await?
            }
            None => self.once(&Method::GET, &url, &[], Bytes::new(), None).await?,
        };
        if !reply.status.is_success() {
            return Err(status_error("GET", realm, &reply));
        }
        let v: serde_json::Value = serde_json::from_slice(&reply.body)
            .map_err(|e| OciError::Protocol(format!("token service {realm}: {e}")))?;
        let token = v["token"]
            .as_str()
            .or_else(|| v["access_token"].as_str())
            .unwrap_or_default();
        Ok(Some(format!("Bearer {token}")))
    }
}

/// The error for a reply the caller did not expect, with the registry's
/// own message when it sent one (`{"errors":[{"message":…}]}`).
pub fn status_error(method: &str, url: &str, reply: &Reply) -> OciError {
    let detail = serde_json::from_slice::<serde_json::Value>(&reply.body)
        .ok()
        .and_then(|v| {
            let e = v["errors"].get(0)?;
            Some(format!(" - {}", e["message"].as_str().or_else(|| e["code"].as_str())?))
        })
        .unwrap_or_default();
    OciError::Status {
        method: method.to_string(),
        url: url.to_string(),
        status: reply.status.to_string(),
        detail,
        code: reply.status.as_u16(),
    }
}

fn basic(c: &Creds) -> String {
    let raw = format!("{}:{}", c.username, c.password);
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(raw))
}

/// HTTPS with the host's trusted certificates, or HTTP.
fn connector() -> Result<Connector, OciError> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls_native_certs::load_native_certs().certs {
        let _ = roots.add(cert);
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| OciError::Protocol(format!("TLS setup: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_or_http()
        .enable_http1()
        .build())
}

/// `key="value", key2=value2` of a challenge.
fn parse_params(s: &str) -> HashMap<String, String> {
    let mut out = HashMap::new();
    let mut rest = s.trim();
    while let Some((k, after)) = rest.split_once('=') {
        let k = k.trim().trim_start_matches(',').trim().to_ascii_lowercase();
        let (v, next) = if let Some(q) = after.strip_prefix('"') {
            let end = q.find('"').unwrap_or(q.len());
            (&q[..end], q.get(end + 1..).unwrap_or(""))
        } else {
            let end = after.find(',').unwrap_or(after.len());
            (&after[..end], &after[end..])
        };
        out.insert(k, v.to_string());
        rest = next.trim_start_matches(',').trim();
    }
    out
}

/// Percent-encoding for a query value.
pub fn encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Go's name for a request's method in its errors (`Head`, `Put`).
fn go_op(method: &Method) -> String {
    let m = method.as_str();
    format!("{}{}", &m[..1], m[1..].to_ascii_lowercase())
}

/// A transport failure in the words of Go's `net/http`, which compose's
/// messages carry; others as hyper gives them.
fn go_reason(chain: &str, url: &str) -> String {
    let authority = url
        .split("://")
        .nth(1)
        .unwrap_or(url)
        .split('/')
        .next()
        .unwrap_or_default();
    let host = authority.rsplit_once(':').map_or(authority, |(h, _)| h);
    if chain.contains("Connection refused") {
        format!("dial tcp {authority}: connect: connection refused")
    } else if chain.contains("InvalidContentType") || chain.contains("corrupt message") {
        "http: server gave HTTP response to HTTPS client".to_string()
    } else if let Some((_, why)) = chain.split_once("invalid peer certificate: ") {
        let why = if why.starts_with("UnknownIssuer") {
            "x509: certificate signed by unknown authority"
        } else {
            why
        };
        format!("tls: failed to verify certificate: {why}")
    } else if chain.contains("failed to lookup address") || chain.contains("dns error") {
        format!("dial tcp: lookup {host}: no such host")
    } else {
        chain.to_string()
    }
}

/// An error with its causes, innermost last (hyper's outer "client error
/// (Connect)" says nothing alone).
fn chain(e: &dyn std::error::Error) -> String {
    let mut parts = vec![e.to_string()];
    let mut cur = e.source();
    while let Some(c) = cur {
        parts.push(c.to_string());
        cur = c.source();
    }
    parts.join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// A registry that wants a bearer token from its own token service
    /// (`/token`, given Basic credentials) and sends blobs from elsewhere
    /// (`/cdn`, a redirect). Answers `n` requests; returns what it saw.
    async fn fake_registry(n: usize) -> (String, tokio::task::JoinHandle<Vec<String>>) {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap().to_string();
        let realm = format!("http://{addr}/token");
        let task = tokio::spawn(async move {
            let mut seen = Vec::new();
            for _ in 0..n {
                let (mut c, _) = l.accept().await.unwrap();
                let mut buf = vec![0u8; 4096];
                let len = c.read(&mut buf).await.unwrap();
                let req = String::from_utf8_lossy(&buf[..len]).to_string();
                let line = req.lines().next().unwrap_or_default().to_string();
                let auth = req
                    .lines()
                    .find(|l| l.to_ascii_lowercase().starts_with("authorization:"))
                    .unwrap_or("");
                seen.push(format!("{line} | {auth}"));
                let (status, extra, body) = if line.contains("/token?") {
                    ("200 OK", String::new(), r#"{"token":"T1"}"#.to_string())
                } else if line.contains("/cdn") {
                    ("200 OK", String::new(), "blob".to_string())
                } else if !auth.contains("Bearer T1") {
                    let c = format!("WWW-Authenticate: Bearer realm=\"{realm}\",service=\"reg\"\r\n");
                    ("401 Unauthorized", c, String::new())
                } else {
                    (
                        "307 Temporary Redirect",
                        "Location: /cdn/x\r\n".to_string(),
                        String::new(),
                    )
                };
                let resp = format!(
                    "HTTP/1.1 {status}\r\n{extra}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                c.write_all(resp.as_bytes()).await.unwrap();
            }
            seen
        });
        (addr, task)
    }

    #[tokio::test]
    async fn bearer_challenges_are_answered_and_redirects_followed() {
        let (addr, server) = fake_registry(4).await;
        let creds = Creds {
            username: "u".into(),
            password: "p".into(),
            ..Default::default()
        };
        let r = Registry::new(&addr, true, Some(creds)).unwrap();
        let reply = r
            .send(
                Method::GET,
                "/v2/a/blobs/sha256:x",
                &[],
                Bytes::new(),
                "repository:a:pull",
            )
            .await
            .unwrap();
        assert_eq!((reply.status.as_u16(), &reply.body[..]), (200, &b"blob"[..]));
        let seen = tokio::time::timeout(std::time::Duration::from_secs(5), server)
            .await
            .expect("4 requests")
            .unwrap();
        assert!(
            seen[0].starts_with("GET /v2/a/blobs/sha256:x") && seen[0].ends_with("| "),
            "{seen:?}"
        );
        assert!(
            seen[1].contains("/token?service=reg&scope=repository%3Aa%3Apull"),
            "{seen:?}"
        );
        assert!(
            seen[1].contains("Basic dTpw"),
            "the token service gets the credentials: {seen:?}"
        );
        assert!(seen[2].contains("Bearer T1"), "{seen:?}");
        assert!(
            seen[3].starts_with("GET /cdn/x") && seen[3].ends_with("| "),
            "no credentials to the CDN: {seen:?}"
        );
    }

    #[test]
    fn challenges_are_read_as_registries_write_them() {
        let p = parse_params(
            r#"realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:a/b:pull""#,
        );
        assert_eq!(p["realm"], "https://auth.docker.io/token");
        assert_eq!(p["service"], "registry.docker.io");
        assert_eq!(p["scope"], "repository:a/b:pull");
        let p = parse_params("realm=x, service=y");
        assert_eq!((p["realm"].as_str(), p["service"].as_str()), ("x", "y"));
        assert_eq!(encode("repository:a/b:pull,push"), "repository%3Aa%2Fb%3Apull%2Cpush");
    }
}
