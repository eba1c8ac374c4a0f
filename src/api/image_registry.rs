//! Pushing images to their registry, with the credentials the Docker CLI
//! would send (its config file and credential helpers). Merged into the
//! `image` namespace.
//!
//! ```rhai
//! let digest = image::push("127.0.0.1:5001/team/web:1");
//! ```

use bollard::auth::DockerCredentials;
use bollard::query_parameters as qp;
use futures_util::StreamExt;
use rhai::plugin::*;

use super::{client, RhaiResult};
use crate::bridge;
use crate::docker::flatten;
use crate::oci;

/// The key the Docker CLI files a reference's credentials under
/// (`registry.GetAuthConfigKey`): Docker Hub's is its v1 URL, any other
/// registry's its host ([`oci::split_domain`]).
pub fn auth_key(reference: &str) -> String {
    match oci::split_domain(reference).0 {
        oci::DOCKER_HUB_HOST => DOCKER_HUB.to_string(),
        host => host.to_string(),
    }
}

const DOCKER_HUB: &str = "https://index.docker.io/v1/";

/// A config key as the CLI compares them (`ConvertToHostname`): scheme and
/// path dropped, so `https://host:5000/v2/` matches `host:5000`.
fn hostname(key: &str) -> &str {
    if key == DOCKER_HUB {
        return key;
    }
    let k = key
        .strip_prefix("https://")
        .or_else(|| key.strip_prefix("http://"))
        .unwrap_or(key);
    k.split('/').next().unwrap_or(k)
}

/// The credentials for `reference`'s registry, or none (anonymous, as the
/// CLI sends an empty auth when it has none). A config file or helper that
/// cannot be read leaves the request anonymous: the Docker CLI only warns
/// about a broken config, and a public image needs no credentials. With
/// host access turned off (`orch::api::confine`) the host's config and
/// helpers are not read: anonymous too.
pub fn credentials_for(reference: &str) -> Option<DockerCredentials> {
    crate::api::host_access("registry credentials").ok()?;
    let key = auth_key(reference);
    let all = crate::plan::apisocket::credentials().unwrap_or_default();
    let found = all.into_iter().find(|(k, _)| hostname(k) == key || k == &key);
    found.map(|(k, a)| {
        let some = |s: String| (!s.is_empty()).then_some(s);
        DockerCredentials {
            username: some(a.username),
            password: some(a.password),
            email: some(a.email),
            serveraddress: Some(k),
            identitytoken: some(a.identity_token),
            registrytoken: some(a.registry_token),
            auth: None,
        }
    })
}

/// The digest in the engine's last push line (`TAG: digest: sha256:… size: N`).
fn digest_of(status: &str) -> Option<String> {
    let rest = status.split("digest: ").nth(1)?;
    Some(rest.split_whitespace().next()?.to_string())
}

/// A reference as Docker's `ParseDockerRef` spells it out: the registry
/// host (`docker.io`, with `library/` for official images) and a tag
/// (`latest` when none is given and no digest either).
pub fn normalized(reference: &str) -> String {
    let (host, rest) = oci::split_domain(reference);
    let qualified = format!("{host}/{rest}");
    let last = qualified.rsplit('/').next().unwrap_or_default();
    if last.contains(':') || last.contains('@') {
        qualified
    } else {
        format!("{qualified}:latest")
    }
}

#[export_module]
pub mod api {
    /// The image ID compose's `--dry-run` reports for a build of
    /// `service` (`dryRun-` and the SHA-1 of the name): dry runs build
    /// nothing, and say so in compose's words.
    ///
    /// ```rhai
    /// print(image::dry_run_id("web"));
    /// ```
    pub fn dry_run_id(service: &str) -> String {
        crate::plan::dry::build_id(service)
    }

    /// A reference spelled out as Docker's `ParseDockerRef` does: the
    /// registry (`docker.io`, `library/` for official images) and a tag
    /// (`latest` when it has neither tag nor digest).
    ///
    /// ```rhai
    /// print(image::normalized("busybox"));   // docker.io/library/busybox:latest
    /// ```
    #[rhai_fn(name = "normalized")]
    pub fn normalized_ref(reference: &str) -> String {
        super::normalized(reference)
    }

    /// The reference pinned to the digest its registry holds for it now
    /// (`host/name:tag@sha256:…`, as compose's `config
    /// --resolve-image-digests` writes it); a reference with a digest
    /// already is only spelled out. Fails when the registry lacks it.
    ///
    /// ```rhai
    /// try { print(image::resolve_digest("127.0.0.1:5001/team/web:1")); } catch (e) { eprint(e); }
    /// ```
    #[rhai_fn(return_raw)]
    pub fn resolve_digest(name: &str) -> RhaiResult<String> {
        let full = normalized(name);
        if full.contains('@') {
            return Ok(full);
        }
        let creds = credentials_for(name);
        let ep = crate::api::endpoint();
        let found = bridge::block_on(async {
            let d = client(&ep).await?;
            d.inspect_registry_image(name, creds)
                .await
                .map_err(|e| -> Box<rhai::EvalAltResult> { format!("{name}: {}", flatten(&e)).into() })
        })?;
        Ok(format!("{full}@{}", found.descriptor.digest.unwrap_or_default()))
    }

    /// Pushes an image (by its full reference, `registry/name:tag`) to its
    /// registry with the credentials the Docker CLI has for it, and
    /// returns the digest the registry gave the manifest. Fails with the
    /// engine's message (unknown image, unreachable or refusing registry).
    ///
    /// ```rhai
    /// try { print(image::push("127.0.0.1:5001/team/web:1")); } catch (e) { eprint(e); }
    /// ```
    #[rhai_fn(return_raw)]
    pub fn push(name: &str) -> RhaiResult<String> {
        let (repo, tag) = super::super::image::split_tag(name);
        let creds = credentials_for(&repo);
        let ep = crate::api::endpoint();
        let what = format!("image push {name}");
        bridge::block_on(async {
            let d = client(&ep).await?;
            let d = crate::docker::patient(d, None);
            let opts = qp::PushImageOptions {
                tag: Some(tag),
                ..Default::default()
            };
            let mut digest = String::new();
            let mut s = d.push_image(&repo, Some(opts), creds);
            while let Some(item) = s.next().await {
                let info =
                    item.map_err(|e| -> Box<rhai::EvalAltResult> { format!("{what}: {}", flatten(&e)).into() })?;
                if let Some(detail) = info.error_detail {
                    return Err(format!("{what}: {}", detail.message.unwrap_or_default().trim()).into());
                }
                if let Some(d) = info.status.as_deref().and_then(digest_of) {
                    digest = d;
                }
            }
            Ok(digest)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_as_the_cli_files_them() {
        assert_eq!(auth_key("busybox"), DOCKER_HUB);
        assert_eq!(auth_key("acme/web"), DOCKER_HUB);
        assert_eq!(auth_key("docker.io/acme/web"), DOCKER_HUB);
        assert_eq!(auth_key("127.0.0.1:5001/a/b"), "127.0.0.1:5001");
        assert_eq!(auth_key("localhost/a"), "localhost");
        assert_eq!(normalized("busybox"), "docker.io/library/busybox:latest");
        assert_eq!(normalized("acme/web:2"), "docker.io/acme/web:2");
        assert_eq!(normalized("127.0.0.1:5001/a/b"), "127.0.0.1:5001/a/b:latest");
        assert_eq!(normalized("reg.io/a@sha256:00"), "reg.io/a@sha256:00");
        // Docker Hub's names, spelled in full or the old way.
        assert_eq!(normalized("docker.io/busybox"), "docker.io/library/busybox:latest");
        assert_eq!(normalized("index.docker.io/acme/web"), "docker.io/acme/web:latest");
        assert_eq!(auth_key("index.docker.io/acme/web"), DOCKER_HUB);
        assert_eq!(auth_key("Registry/a"), "Registry");
        assert_eq!(hostname("https://reg.example:5000/v2/"), "reg.example:5000");
        assert_eq!(
            digest_of("t1: digest: sha256:f845 size: 735").as_deref(),
            Some("sha256:f845")
        );
    }
}
