//! OCI artifacts in a registry: compose's published projects (`docker
//! compose publish`) and the image manifests an application artifact
//! carries. The wire format is compose's own (`internal/oci` of compose
//! v2.40.3): the same media types, annotations and manifest layout, so
//! `docker compose -f oci://…` reads what orch publishes and orch's
//! artifacts compare with compose's byte for byte but for the time.

mod client;
mod reference;

use std::collections::BTreeMap;

use bytes::Bytes;
use http::Method;
use serde_json::{json, Value};
use sha2::{Digest as _, Sha256};

pub use client::{encode, Creds, OciError, Registry};
pub use reference::{parse_reference, split_domain, DOCKER_HUB_HOST};

/// The artifact type of a published compose project (OCI 1.1).
pub const PROJECT_ARTIFACT: &str = "application/vnd.docker.compose.project";
/// A compose file, one layer each.
pub const COMPOSE_YAML: &str = "application/vnd.docker.compose.file+yaml";
/// The config of an OCI 1.0 artifact: `{}` under compose's own type, so
/// tools without `artifactType` still tell it from an image.
pub const EMPTY_CONFIG_V1_0: &str = "application/vnd.docker.compose.config.empty.v1+json";
/// An env file, one layer each (`publish --with-env`).
pub const ENV_FILE: &str = "application/vnd.docker.compose.envfile";
const EMPTY_JSON: &str = "application/vnd.oci.empty.v1+json";
const IMAGE_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
const IMAGE_INDEX: &str = "application/vnd.oci.image.index.v1+json";
const MANIFEST_TYPES: &str = "application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.v2+json, application/vnd.docker.distribution.manifest.list.v2+json";

/// An OCI content descriptor, with the content itself when it is small
/// enough to travel inline (`data`, as compose puts every layer).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Descriptor {
    pub media_type: String,
    pub digest: String,
    pub size: u64,
    pub annotations: BTreeMap<String, String>,
    pub data: Option<Vec<u8>>,
    pub artifact_type: String,
}

impl Descriptor {
    /// A descriptor of `content`, carried inline.
    pub fn of(media_type: &str, content: Vec<u8>, annotations: BTreeMap<String, String>) -> Self {
        Descriptor {
            media_type: media_type.to_string(),
            digest: sha256(&content),
            size: content.len() as u64,
            annotations,
            data: Some(content),
            artifact_type: String::new(),
        }
    }

    /// As Go's `v1.Descriptor` marshals: its field order, empty fields left out.
    pub fn to_json(&self) -> Value {
        let mut v = json!({ "mediaType": self.media_type, "digest": self.digest, "size": self.size });
        if !self.annotations.is_empty() {
            v["annotations"] = json!(self.annotations);
        }
        if let Some(d) = &self.data {
            use base64::Engine as _;
            v["data"] = json!(base64::engine::general_purpose::STANDARD.encode(d));
        }
        if !self.artifact_type.is_empty() {
            v["artifactType"] = json!(self.artifact_type);
        }
        v
    }

    fn from_json(v: &Value) -> Self {
        Descriptor {
            media_type: v["mediaType"].as_str().unwrap_or_default().to_string(),
            digest: v["digest"].as_str().unwrap_or_default().to_string(),
            size: v["size"].as_u64().unwrap_or_default(),
            annotations: serde_json::from_value(v["annotations"].clone()).unwrap_or_default(),
            data: None,
            artifact_type: v["artifactType"].as_str().unwrap_or_default().to_string(),
        }
    }
}

/// `sha256:<hex>` of `bytes`.
pub fn sha256(bytes: &[u8]) -> String {
    format!("sha256:{:x}", Sha256::digest(bytes))
}

/// JSON as Go's encoder writes it (compose marshals its manifests so).
pub fn go_json(v: &Value) -> Vec<u8> {
    crate::gojson::marshal(v).into_bytes()
}

/// A repository in a registry, and the client that reaches it.
#[derive(Clone)]
pub struct Repo {
    pub registry: Registry,
    /// `host` as written in the reference (`docker.io` for Docker Hub).
    pub host: String,
    pub name: String,
}

impl Repo {
    fn scope(&self) -> String {
        format!("repository:{}:pull,push", self.name)
    }

    async fn send(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Bytes,
    ) -> Result<client::Reply, OciError> {
        self.registry.send(method, path, headers, body, &self.scope()).await
    }

    /// Uploads a blob unless the repository has it already (a monolithic
    /// upload: artifacts' blobs are small).
    pub async fn push_blob(&self, digest: &str, content: Bytes) -> Result<(), OciError> {
        let path = format!("/v2/{}/blobs/{digest}", self.name);
        if self
            .send(Method::HEAD, &path, &[], Bytes::new())
            .await?
            .status
            .is_success()
        {
            return Ok(());
        }
        let start = format!("/v2/{}/blobs/uploads/", self.name);
        let reply = self.send(Method::POST, &start, &[], Bytes::new()).await?;
        if !reply.status.is_success() {
            return Err(client::status_error("POST", &start, &reply));
        }
        let location = header(&reply, "location")?;
        let sep = if location.contains('?') { '&' } else { '?' };
        let put = format!("{location}{sep}digest={}", encode(digest));
        let len = content.len().to_string();
        let hs = [
            ("content-type", "application/octet-stream"),
            ("content-length", len.as_str()),
        ];
        let reply = self.send(Method::PUT, &put, &hs, content).await?;
        if !reply.status.is_success() {
            return Err(client::status_error("PUT", &put, &reply));
        }
        Ok(())
    }

    /// Mounts a blob another repository of the same registry holds, or
    /// copies it through this client when the registry will not.
    async fn copy_blob(&self, from: &Repo, digest: &str) -> Result<(), OciError> {
        if from.host == self.host {
            let path = format!(
                "/v2/{}/blobs/uploads/?mount={}&from={}",
                self.name,
                encode(digest),
                encode(&from.name)
            );
            let scope = format!("{} repository:{}:pull", self.scope(), from.name);
            let reply = self
                .registry
                .send(Method::POST, &path, &[], Bytes::new(), &scope)
                .await?;
            if reply.status.as_u16() == 201 {
                return Ok(());
            }
        }
        let get = format!("/v2/{}/blobs/{digest}", from.name);
        let reply = from.send(Method::GET, &get, &[], Bytes::new()).await?;
        if !reply.status.is_success() {
            return Err(client::status_error("GET", &get, &reply));
        }
        self.push_blob(digest, reply.body).await
    }

    /// Stores a manifest under `reference` (a tag, or its digest).
    pub async fn put_manifest(&self, reference: &str, media_type: &str, content: Bytes) -> Result<(), OciError> {
        let path = format!("/v2/{}/manifests/{reference}", self.name);
        let reply = self
            .send(Method::PUT, &path, &[("content-type", media_type)], content)
            .await?;
        if !reply.status.is_success() {
            return Err(client::status_error("PUT", &path, &reply));
        }
        Ok(())
    }

    /// A manifest by tag or digest: its descriptor and content.
    pub async fn get_manifest(&self, reference: &str) -> Result<(Descriptor, Bytes), OciError> {
        let path = format!("/v2/{}/manifests/{reference}", self.name);
        let reply = self
            .send(Method::GET, &path, &[("accept", MANIFEST_TYPES)], Bytes::new())
            .await?;
        if !reply.status.is_success() {
            return Err(client::status_error("GET", &path, &reply));
        }
        let media_type = reply
            .headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or(IMAGE_MANIFEST)
            .to_string();
        let d = Descriptor {
            media_type,
            digest: sha256(&reply.body),
            size: reply.body.len() as u64,
            ..Default::default()
        };
        Ok((d, reply.body))
    }

    /// Copies the manifest `reference` of `from`, with everything it
    /// points at, into this repository (by digest), as containerd's
    /// `CopyChain` does. Returns its descriptor, annotated with where it
    /// came from (`containerd.io/distribution.source.HOST`).
    pub async fn copy_manifest(&self, from: &Repo, reference: &str) -> Result<Descriptor, OciError> {
        let (mut root, content) = from.get_manifest(reference).await?;
        self.copy_children(from, &content).await?;
        self.put_manifest(&root.digest, &root.media_type, content).await?;
        // containerd keys it by host name, without the port (`url.Hostname`).
        let host = from.host.rsplit_once(':').map_or(from.host.as_str(), |(h, _)| h);
        let key = format!("containerd.io/distribution.source.{host}");
        root.annotations.insert(key, from.name.clone());
        Ok(root)
    }

    async fn copy_children(&self, from: &Repo, content: &[u8]) -> Result<(), OciError> {
        let v: Value = serde_json::from_slice(content).map_err(|e| OciError::Protocol(format!("manifest: {e}")))?;
        if let Some(children) = v["manifests"].as_array() {
            for c in children {
                let d = Descriptor::from_json(c);
                let (_, body) = from.get_manifest(&d.digest).await?;
                Box::pin(self.copy_children(from, &body)).await?;
                self.put_manifest(&d.digest, &d.media_type, body).await?;
            }
        }
        let blobs = v["layers"].as_array().into_iter().flatten().chain(Some(&v["config"]));
        for b in blobs.filter(|b| b.is_object()) {
            self.copy_blob(from, &Descriptor::from_json(b).digest).await?;
        }
        Ok(())
    }
}

/// A header the protocol requires in `reply`.
fn header(reply: &client::Reply, name: &str) -> Result<String, OciError> {
    reply
        .headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .ok_or_else(|| OciError::Protocol(format!("the registry's answer has no {name} header")))
}

/// Which OCI version a published manifest follows: 1.1 carries the
/// artifact type, 1.0 says it through its config's media type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OciVersion {
    V1_0,
    V1_1,
}

/// compose's artifact manifest of `layers` (`generateManifest`): its
/// descriptor, with the manifest inline, and the config blob it needs.
pub fn artifact_manifest(
    layers: &[Descriptor],
    version: OciVersion,
    created: &str,
    compose_version: &str,
) -> (Descriptor, Descriptor) {
    let (config, artifact_type) = match version {
        OciVersion::V1_0 => (Descriptor::of(EMPTY_CONFIG_V1_0, b"{}".to_vec(), BTreeMap::new()), ""),
        OciVersion::V1_1 => (
            Descriptor::of(EMPTY_JSON, b"{}".to_vec(), BTreeMap::new()),
            PROJECT_ARTIFACT,
        ),
    };
    let mut m = json!({ "schemaVersion": 2, "mediaType": IMAGE_MANIFEST });
    if !artifact_type.is_empty() {
        m["artifactType"] = json!(artifact_type);
    }
    m["config"] = config.to_json();
    m["layers"] = Value::Array(layers.iter().map(Descriptor::to_json).collect());
    m["annotations"] = json!({ "org.opencontainers.image.created": created });
    let annotations = BTreeMap::from([("com.docker.compose.version".to_string(), compose_version.to_string())]);
    let mut d = Descriptor::of(IMAGE_MANIFEST, go_json(&m), annotations);
    d.artifact_type = artifact_type.to_string();
    (d, config)
}

/// Pushes a compose project artifact as compose's `PushManifest` does:
/// the config and layers first, then the manifest under `tag`. With no
/// version asked for, OCI 1.1, falling back to 1.0 when the registry
/// refuses it with a client error other than an authentication one.
pub async fn push_artifact(
    repo: &Repo,
    tag: &str,
    layers: &[Descriptor],
    version: Option<OciVersion>,
    created: &str,
    compose_version: &str,
) -> Result<Descriptor, OciError> {
    if version != Some(OciVersion::V1_0) {
        push_inline(repo, &Descriptor::of(EMPTY_JSON, b"{}".to_vec(), BTreeMap::new())).await?;
    }
    for l in layers {
        push_inline(repo, l).await?;
    }
    let push = |v| async move {
        let (manifest, config) = artifact_manifest(layers, v, created, compose_version);
        push_inline(repo, &config).await?;
        let body = Bytes::from(manifest.data.clone().unwrap_or_default());
        repo.put_manifest(tag, &manifest.media_type, body).await?;
        Ok::<_, OciError>(manifest)
    };
    match version {
        Some(v) => push(v).await,
        None => match push(OciVersion::V1_1).await {
            Err(e)
                if e.status()
                    .is_some_and(|s| (400..500).contains(&s) && ![401, 403, 407].contains(&s)) =>
            {
                push(OciVersion::V1_0).await
            }
            other => other,
        },
    }
}

async fn push_inline(repo: &Repo, d: &Descriptor) -> Result<(), OciError> {
    repo.push_blob(&d.digest, Bytes::from(d.data.clone().unwrap_or_default()))
        .await
}

/// compose's index of an application's images (`publish --app`): the
/// copied image manifests, with the project's manifest as its subject,
/// stored by digest.
pub async fn push_app_index(
    repo: &Repo,
    project: &Descriptor,
    images: &[Descriptor],
    compose_version: &str,
) -> Result<Descriptor, OciError> {
    let mut subject = project.clone();
    subject.data = None;
    let version = BTreeMap::from([("com.docker.compose.version".to_string(), compose_version.to_string())]);
    let index = json!({
        "schemaVersion": 2,
        "mediaType": IMAGE_INDEX,
        "manifests": images.iter().map(Descriptor::to_json).collect::<Vec<_>>(),
        "subject": subject.to_json(),
        "annotations": version,
    });
    let mut d = Descriptor::of(IMAGE_INDEX, go_json(&index), version);
    d.artifact_type = PROJECT_ARTIFACT.to_string();
    repo.put_manifest(&d.digest, IMAGE_INDEX, Bytes::from(d.data.clone().unwrap_or_default()))
        .await?;
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifests_are_compose_s_byte_for_byte() {
        let l = Descriptor::of(
            COMPOSE_YAML,
            b"services: {}\n".to_vec(),
            BTreeMap::from([("com.docker.compose.file".into(), "compose.yaml".into())]),
        );
        let (m, config) = artifact_manifest(&[l], OciVersion::V1_1, "2026-01-02T03:04:05Z", "2.40.3");
        assert_eq!(
            config.digest,
            "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
        );
        let text = String::from_utf8(m.data.unwrap()).unwrap();
        assert!(text.starts_with(r#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","artifactType":"application/vnd.docker.compose.project","config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2,"data":"e30="},"layers":[{"mediaType":"application/vnd.docker.compose.file+yaml""#), "{text}");
        assert!(text.ends_with(r#""annotations":{"org.opencontainers.image.created":"2026-01-02T03:04:05Z"}}"#));
    }
}
