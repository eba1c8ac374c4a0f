//! Publishing a compose project to a registry as an OCI artifact, as
//! `docker compose publish` does: its compose files (env files and
//! `extends` targets under content names), optionally its env files and
//! its images pinned by digest, and for an application the images
//! themselves. Merged into the `compose` namespace. What to check and ask
//! before, and what to print, is `stdlib/compose/publish.rhai`'s.
//!
//! ```rhai
//! let p = compose::load(#{});
//! compose::publish(p, "registry.example/team/app:1", #{});
//! ```

use std::collections::BTreeMap;

use rhai::plugin::*;
use rhai::Map;

use super::compose::Project;
use super::RhaiResult;
use crate::compose::publish as files;
use crate::oci::{self, Descriptor, OciVersion, Repo};

crate::api::opts::options! {
    /// What `compose::publish` takes besides the project: `with_env`
    /// (add the env files the services name), `oci_version` (`1.0`,
    /// `1.1`; none: 1.1, falling back to 1.0), `digests` (service →
    /// pinned image, for the `image-digests.yaml` layer), `app` (pinned
    /// images to copy into the repository), `dry_run` (push nothing).
    struct PublishOptions {
        with_env: flag,
        oci_version: text,
        digests: string_map,
        app: strings,
        dry_run: flag,
    }
}

/// A refusal in the tool's own words (no script excerpt: the fault is the
/// project's or the registry's, not the script's).
fn refused(e: impl std::fmt::Display) -> Box<EvalAltResult> {
    crate::error::Error::script(e.to_string()).into_rhai()
}

fn layers(p: &Project, o: &PublishOptions) -> RhaiResult<Vec<Descriptor>> {
    let project = &p.0;
    let found = files::files(&project.config_files, &project.working_dir, &project.environment).map_err(refused)?;
    let version = crate::plan::desired::COMPOSE_VERSION.to_string();
    let notes = |key: &str, name: &str| {
        BTreeMap::from([
            ("com.docker.compose.version".to_string(), version.clone()),
            (key.to_string(), name.to_string()),
        ])
    };
    let mut out = Vec::new();
    for l in found.layers {
        let mut a = notes("com.docker.compose.file", &l.name);
        if l.extends {
            a.insert("com.docker.compose.extends".into(), "true".into());
        }
        out.push(Descriptor::of(oci::COMPOSE_YAML, l.content, a));
    }
    if o.with_env == Some(true) {
        for (path, name) in &found.env_files {
            // compose leaves out the env files it cannot read.
            if let Ok(content) = std::fs::read(path) {
                out.push(Descriptor::of(
                    oci::ENV_FILE,
                    content,
                    notes("com.docker.compose.envfile", name),
                ));
            }
        }
    }
    if let Some(d) = o.digests.as_ref().filter(|d| !d.is_empty()) {
        let yaml = files::digests_override(&d.iter().map(|(k, v)| (k.clone(), v.clone())).collect());
        out.push(Descriptor::of(
            oci::COMPOSE_YAML,
            yaml,
            notes("com.docker.compose.file", "image-digests.yaml"),
        ));
    }
    Ok(out)
}

/// The repository of `reference` and its tag, with the client that
/// reaches its registry: the Docker CLI's credentials for it, HTTPS, or
/// plain HTTP when `__TEST__INSECURE__REGISTRY__` is set (compose's switch).
fn repo_of(reference: &str) -> RhaiResult<(Repo, String)> {
    let (host, name, tag) = oci::parse_reference(reference).map_err(refused)?;
    let creds = super::image_registry::credentials_for(reference).map(|c| oci::Creds {
        username: c.username.unwrap_or_default(),
        password: c.password.unwrap_or_default(),
        identity_token: c.identitytoken.unwrap_or_default(),
    });
    let plain = std::env::var_os("__TEST__INSECURE__REGISTRY__").is_some();
    let registry = oci::Registry::new(&host, plain, creds).map_err(refused)?;
    Ok((Repo { registry, host, name }, tag))
}

fn now_rfc3339() -> String {
    // Go's time.RFC3339: whole seconds.
    let now = time::OffsetDateTime::now_utc();
    let now = now.replace_nanosecond(0).unwrap_or(now);
    now.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

fn publish(p: &Project, repository: &str, o: PublishOptions) -> RhaiResult<Map> {
    let layers = layers(p, &o)?;
    let version = match o.oci_version.as_deref().unwrap_or_default() {
        "" => None,
        "1.0" => Some(OciVersion::V1_0),
        "1.1" => Some(OciVersion::V1_1),
        v => return Err(format!("unsupported OCI version: {v}").into()),
    };
    let compose_version = crate::plan::desired::COMPOSE_VERSION;
    let mut out = Map::new();
    out.insert("layers".into(), (layers.len() as i64).into());
    if o.dry_run == Some(true) {
        return Ok(out);
    }
    let (repo, tag) = repo_of(repository)?;
    let created = now_rfc3339();
    let err = refused;
    let manifest = crate::bridge::block_on(async {
        let m = oci::push_artifact(&repo, &tag, &layers, version, &created, compose_version)
            .await
            .map_err(err)?;
        let mut images = Vec::new();
        let app = o.app.clone().unwrap_or_default();
        for image in &app {
            let (from, _) = repo_of(image)?;
            let reference = image.rsplit_once('@').map_or("latest", |(_, d)| d).to_string();
            images.push(repo.copy_manifest(&from, &reference).await.map_err(err)?);
        }
        if !app.is_empty() {
            oci::push_app_index(&repo, &m, &images, compose_version)
                .await
                .map_err(err)?;
        }
        Ok::<_, Box<EvalAltResult>>(m)
    })?;
    out.insert("digest".into(), manifest.digest.into());
    out.insert("size".into(), (manifest.size as i64).into());
    Ok(out)
}

fn check(p: &Project) -> RhaiResult<Map> {
    let project = &p.0;
    let found = files::files(&project.config_files, &project.working_dir, &project.environment).map_err(refused)?;
    let mut paths: Vec<String> = project.config_files.clone();
    paths.extend(found.env_files.keys().cloned());
    for kind in ["configs", "secrets"] {
        let objects = project.doc[kind].as_object().into_iter().flatten();
        paths.extend(objects.filter_map(|(_, o)| o["file"].as_str().map(str::to_string)));
    }
    let mut sensitive = rhai::Array::new();
    for path in paths {
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        for f in files::sensitive(&text) {
            let mut m = Map::new();
            m.insert("type".into(), f.kind.into());
            m.insert("key".into(), f.key.into());
            m.insert("value".into(), f.value.into());
            sensitive.push(m.into());
        }
    }
    let mut out = Map::new();
    let services: rhai::Array = found.env_file_services.into_iter().map(Dynamic::from).collect();
    out.insert("env_file_services".into(), services.into());
    out.insert("sensitive".into(), sensitive.into());
    Ok(out)
}

#[export_module]
pub mod api {
    /// What `publish` asks about before it sends project `p`: the
    /// services that name env files (`env_file_services`), and the
    /// well-known credentials (private keys, cloud and SaaS tokens) in
    /// its compose, env, config and secret files, each `#{ type, key,
    /// value }` (`sensitive`).
    ///
    /// ```rhai
    /// for f in compose::publish_check(compose::load(#{})).sensitive { print(f.type); }
    /// ```
    #[rhai_fn(global, return_raw)]
    pub fn publish_check(ctx: NativeCallContext, p: Project) -> RhaiResult<Map> {
        crate::api::host_access("compose::publish_check")?;
        crate::api::at(&ctx, || super::check(&p))
    }

    /// Publishes project `p` to `repository` (`host/name[:tag]`) as
    /// compose's OCI artifact and returns `#{ digest, size, layers }` of
    /// its manifest. Options: `with_env` (add the env files),
    /// `oci_version` (`"1.0"`, `"1.1"`; default: 1.1, else 1.0),
    /// `digests` (service → pinned image: an `image-digests.yaml` layer),
    /// `app` (pinned images to copy beside it, under an index),
    /// `dry_run` (build it, push nothing). Fails with the registry's
    /// answer, or `cannot publish compose file with local includes`.
    ///
    /// ```rhai
    /// let p = compose::load(#{});
    /// let m = compose::publish(p, "127.0.0.1:5001/team/app:1", #{ with_env: true });
    /// print(m.digest);
    /// ```
    #[rhai_fn(global, return_raw)]
    pub fn publish(ctx: NativeCallContext, p: Project, repository: &str, opts: Map) -> RhaiResult<Map> {
        crate::api::host_access("compose::publish")?;
        let o: super::PublishOptions = crate::api::opts::read("compose::publish", opts)?;
        crate::api::at(&ctx, || super::publish(&p, repository, o))
    }
}
