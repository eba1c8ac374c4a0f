//! Images: build from a context folder, list, inspect, tag, remove, save
//! to a file and load from one.
//!
//! ```rhai
//! let img = image::build(#{ context: "app", tag: "app:dev" });
//! img.tag("app:latest");
//! img.save("app.tar");
//! ```

use std::path::{Path, PathBuf};
use std::sync::Arc;

use bollard::query_parameters as qp;
use futures_util::StreamExt;
use rhai::plugin::*;
use rhai::{Array, Dynamic, Engine, Map, NativeCallContext};

use super::handles::{Doc, Handle};
use super::options::{ImageBuildOpts, ImageRemoveOpts};
use super::value::{array_of, map_of, to_dynamic};
use super::{client, engine_call, engine_err, engine_find, fail, resolve_path, RhaiResult};
use crate::bridge;
use crate::docker::{flatten, Endpoint};

/// An image on an engine. Properties: `id`, `tags`, `size`, `created`,
/// `labels`.
#[derive(Clone, Debug)]
pub struct Image {
    pub ep: Arc<Endpoint>,
    pub id: String,
    pub tags: Vec<String>,
    pub info: Map,
}

impl Image {
    fn what(&self, op: &str) -> String {
        format!("image {op} {}", self.tags.first().unwrap_or(&self.id))
    }
}

fn build(ctx: &NativeCallContext, opts: Map) -> RhaiResult<Image> {
    crate::api::host_access("image::build")?;
    let o: ImageBuildOpts = crate::api::opts::read("image::build", opts)?;
    let context = resolve_path(&crate::api::opts::need("image::build", "context", o.context.clone())?);
    if !context.is_dir() {
        return fail(format!("image::build: context {} is not a folder", context.display()));
    }
    let dockerfile = match o.dockerfile.clone() {
        Some(d) if Path::new(&d).is_absolute() => PathBuf::from(d),
        Some(d) => context.join(d),
        None => context.join("Dockerfile"),
    };
    if !dockerfile.is_file() {
        return fail(format!("image::build: no Dockerfile at {}", dockerfile.display()));
    }
    let mut tags = o.tag.clone().unwrap_or_default();
    tags.extend(o.tags.clone().unwrap_or_default());
    let mut extra = Vec::new();
    if let Some(add) = o.add.clone() {
        for (inside, host) in add {
            extra.push((inside.to_string(), resolve_path(&host.to_string())));
        }
    }
    let mut args = o.args.clone().unwrap_or_default();
    args.extend(o.build_args.clone().unwrap_or_default());
    let req = crate::build::Request {
        context: context.clone(),
        dockerfile,
        extra,
        tag: tags.first().cloned(),
        args,
        labels: o.labels.clone().unwrap_or_default(),
        target: o.target.clone(),
        no_cache: o.no_cache.unwrap_or(false),
        pull: o.pull.unwrap_or(false),
        network: o.network.clone(),
        extra_hosts: o.extra_hosts.clone().unwrap_or_default(),
        platform: o.platform.clone(),
        memory: o.memory,
    };
    let on_output = o.on_output.clone();
    let label = tags.first().cloned().unwrap_or_else(|| context.display().to_string());
    let ep = super::endpoint();
    let d = bridge::block_on(async { client(&ep).await.cloned() })?;
    // The build future is polled on this (the script's) thread, so the
    // script's callback can run for each line as it comes; its first error
    // is kept and returned once the build is over.
    let mut callback_err: Option<Box<rhai::EvalAltResult>> = None;
    let built = bridge::block_on(async {
        Ok(crate::build::run(&d, &req, |line| {
            if let (Some(f), None) = (&on_output, &callback_err) {
                if let Err(e) = f.call_within_context::<Dynamic>(ctx, (line.to_string(),)) {
                    callback_err = Some(e);
                }
            }
        })
        .await)
    })?;
    if let Some(e) = callback_err {
        return Err(e);
    }
    let id = built.map_err(|e| -> Box<rhai::EvalAltResult> { format!("image build {label}: {e}").into() })?;
    for t in tags.iter().skip(1) {
        tag_image(&ep, &id, t)?;
    }
    Ok(Image {
        ep,
        id,
        tags,
        info: Map::new(),
    })
}

/// A pull error; a failed registry lookup is said in plain words.
fn pull_error(what: &str, msg: &str) -> Box<rhai::EvalAltResult> {
    let offline = [
        "no such host",
        "dial tcp",
        "i/o timeout",
        "connection refused",
        "Temporary failure",
        "network is unreachable",
    ];
    if offline.iter().any(|k| msg.contains(k)) {
        format!("{what}: no registry is reachable from the engine ({})", msg.trim()).into()
    } else {
        format!("{what}: {}", msg.trim()).into()
    }
}

fn tag_image(ep: &Arc<Endpoint>, id: &str, target: &str) -> RhaiResult<()> {
    let (repo, tag) = split_tag(target);
    let opts = qp::TagImageOptions {
        repo: Some(repo),
        tag: Some(tag),
    };
    bridge::block_on(async {
        let d = client(ep).await?;
        d.tag_image(id, Some(opts))
            .await
            .map_err(|e| engine_err(format!("image tag {target}"), &e))
    })
}

/// Splits `repo[:tag]` (a `:` inside a registry host:port is not a tag).
pub fn split_tag(name: &str) -> (String, String) {
    match name.rsplit_once(':') {
        Some((repo, tag)) if !tag.contains('/') => (repo.to_string(), tag.to_string()),
        _ => (name.to_string(), "latest".to_string()),
    }
}

fn summary_to_image(ep: Arc<Endpoint>, s: bollard::models::ImageSummary) -> Image {
    let mut info = Map::new();
    info.insert("size".into(), s.size.into());
    info.insert("created".into(), s.created.into());
    info.insert("labels".into(), map_of(s.labels.clone()).into());
    let tags = s.repo_tags.into_iter().filter(|t| t != "<none>:<none>").collect();
    Image {
        ep,
        id: s.id,
        tags,
        info,
    }
}

fn lookup(name: &str) -> RhaiResult<Option<Image>> {
    let ep = super::endpoint();
    let found = engine_find(&ep, format!("image inspect {name}"), |d| d.inspect_image(name))?;
    Ok(found.map(|i| {
        let mut info = Map::new();
        info.insert("size".into(), i.size.unwrap_or_default().into());
        info.insert(
            "created".into(),
            i.created.map(|t| t.unix_timestamp()).unwrap_or_default().into(),
        );
        info.insert(
            "labels".into(),
            map_of(i.config.as_ref().and_then(|c| c.labels.clone()).unwrap_or_default()).into(),
        );
        Image {
            ep: ep.clone(),
            id: i.id.unwrap_or_default(),
            tags: i.repo_tags.unwrap_or_default(),
            info,
        }
    }))
}

/// The properties read from `info`, with their doc comments.
const PROPERTIES: &[(&str, Doc)] = &[
    (
        "size",
        &[
            "Size in bytes (when listed or fetched with `get`).",
            "",
            "```rhai",
            "print(image::get(\"nginx:alpine\").size);",
            "```",
        ],
    ),
    (
        "created",
        &[
            "Creation time (when listed or fetched with `get`).",
            "",
            "```rhai",
            "print(image::get(\"nginx:alpine\").created);",
            "```",
        ],
    ),
    (
        "labels",
        &[
            "The image's labels (when listed or fetched with `get`).",
            "",
            "```rhai",
            "print(image::get(\"web:dev\").labels);",
            "```",
        ],
    ),
];

/// How the module adds the handle's properties.
pub const HANDLE: Handle<Image> = Handle::new(|h| &h.info, PROPERTIES, None);

#[export_module]
pub mod api {
    use super::*;

    pub type Image = super::Image;

    /// Builds an image from a context folder (relative to the script).
    /// Options: `context` (required), `dockerfile`, `tag`/`tags`,
    /// `build_args`, `target`, `labels`, `no_cache`, `pull`, `network`,
    /// `extra_hosts`, `platform`, `memory` (bytes: the classic builder's
    /// memory limit; BuildKit ignores it), `add` (a map of context path →
    /// host file to include), `on_output` (called with each line of build
    /// output).
    ///
    /// ```rhai
    /// let img = image::build(#{ context: ".", tag: "web:dev", build_args: #{ VERSION: "1" } });
    /// ```
    #[rhai_fn(return_raw)]
    pub fn build(ctx: NativeCallContext, opts: Map) -> RhaiResult<Image> {
        crate::api::at(&ctx, || super::build(&ctx, opts))
    }

    /// The image with this name or ID; throws if the engine has none.
    ///
    /// ```rhai
    /// let img = image::get("web:dev");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn get(ctx: NativeCallContext, name: &str) -> RhaiResult<Image> {
        crate::api::at(&ctx, || get_named(name))
    }

    fn get_named(name: &str) -> RhaiResult<Image> {
        match lookup(name)? {
            Some(i) => Ok(i),
            None => fail(format!("image {name}: no such image")),
        }
    }

    /// Whether the engine has this image.
    ///
    /// ```rhai
    /// if !image::exists("web:dev") { print("build it first"); }
    /// ```
    #[rhai_fn(return_raw)]
    pub fn exists(ctx: NativeCallContext, name: &str) -> RhaiResult<bool> {
        crate::api::at(&ctx, || Ok(lookup(name)?.is_some()))
    }

    /// Images on the engine (untagged intermediate ones excluded).
    ///
    /// ```rhai
    /// for i in image::list() { print(i.tags); }
    /// ```
    #[rhai_fn(name = "list", return_raw)]
    pub fn list_all(ctx: NativeCallContext) -> RhaiResult<Array> {
        crate::api::at(&ctx, || list_where(Map::new()))
    }

    /// Images matching Docker filters (`reference`, `label`, `dangling`).
    ///
    /// ```rhai
    /// let mine = image::list(#{ reference: "orch-test/*" });
    /// ```
    #[rhai_fn(name = "list", return_raw)]
    pub fn list_filtered(ctx: NativeCallContext, filter: Map) -> RhaiResult<Array> {
        crate::api::at(&ctx, || list_where(filter))
    }

    fn list_where(filter: Map) -> RhaiResult<Array> {
        let filters = crate::api::value::filters(filter);
        let ep = crate::api::endpoint();
        let opts = qp::ListImagesOptions {
            filters: Some(filters),
            ..Default::default()
        };
        let found = engine_call(&ep, "image list", |d| d.list_images(Some(opts)))?;
        Ok(found
            .into_iter()
            .map(|s| Dynamic::from(summary_to_image(ep.clone(), s)))
            .collect())
    }

    /// Pulls an image from its registry. Where no registry can be reached
    /// the error says so, with the engine's own message.
    ///
    /// ```rhai
    /// try { image::pull("busybox:latest"); } catch (e) { eprint(e); }
    /// ```
    #[rhai_fn(return_raw)]
    pub fn pull(name: &str) -> RhaiResult<Image> {
        let (repo, tag) = split_tag(name);
        let ep = crate::api::endpoint();
        let what = format!("image pull {name}");
        let creds = super::super::image_registry::credentials_for(&repo);
        bridge::block_on(async {
            let d = client(&ep).await?;
            let opts = qp::CreateImageOptions {
                from_image: Some(repo),
                tag: Some(tag),
                ..Default::default()
            };
            let d = crate::docker::patient(d, None);
            let mut s = d.create_image(Some(opts), None, creds);
            while let Some(item) = s.next().await {
                let info = item.map_err(|e| pull_error(&what, &flatten(&e)))?;
                if let Some(detail) = info.error_detail {
                    return Err(pull_error(&what, &detail.message.unwrap_or_default()));
                }
            }
            Ok(())
        })?;
        get_named(name)
    }

    /// Loads images from a tar file made by `save` (or `docker save`) and
    /// returns the names it loaded.
    ///
    /// ```rhai
    /// let names = image::load("app.tar");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn load(ctx: NativeCallContext, path: &str) -> RhaiResult<Array> {
        crate::api::at(&ctx, || {
            crate::api::host_access("image::load")?;
            let file = resolve_path(path);
            let ep = crate::api::endpoint();
            let loaded = bridge::block_on(async {
                let d = client(&ep).await?;
                let f = tokio::fs::File::open(&file)
                    .await
                    .map_err(|e| format!("image load: {}: {e}", file.display()))?;
                let body = tokio_util::io::ReaderStream::new(f);
                let d = crate::docker::patient(d, None);
                let mut s = d.import_image_stream(qp::ImportImageOptions::default(), body, None);
                let mut names = Vec::new();
                while let Some(item) = s.next().await {
                    let info = item.map_err(|e| engine_err(format!("image load {}", file.display()), &e))?;
                    if let Some(detail) = info.error_detail {
                        return Err(
                            format!("image load {}: {}", file.display(), detail.message.unwrap_or_default()).into(),
                        );
                    }
                    if let Some(text) = info.stream {
                        for line in text.lines() {
                            if let Some(n) = line
                                .strip_prefix("Loaded image: ")
                                .or_else(|| line.strip_prefix("Loaded image ID: "))
                            {
                                names.push(n.trim().to_string());
                            }
                        }
                    }
                }
                Ok::<_, Box<rhai::EvalAltResult>>(names)
            })?;
            Ok(array_of(loaded))
        })
    }

    /// Copies an image from this engine into other engines (e.g. each
    /// node of a swarm with no registry) by streaming save into load, all
    /// at once; engines that already have the same image ID are skipped.
    /// Returns `#{ host, action, id, error }` per engine, `action` being
    /// `loaded`, `present` or `failed`.
    ///
    /// ```rhai
    /// for r in image::push_to("web:dev", ["unix:///run/node2.sock"]) { print(`${r.host}: ${r.action}`); }
    /// ```
    #[rhai_fn(return_raw)]
    pub fn push_to(ctx: NativeCallContext, name: &str, hosts: Array) -> RhaiResult<Array> {
        let hosts: Vec<String> = hosts.into_iter().map(|h| h.to_string()).collect();
        let name = name.to_string();
        let from = crate::api::endpoint();
        crate::api::at(&ctx, || {
            bridge::block_on(async move {
                crate::api::distribute::push(from, &name, hosts)
                    .await
                    .map_err(Into::into)
            })
            .map(|v| v.iter().map(crate::api::value::to_dynamic).collect())
        })
    }

    /// Saves several images into one tar file.
    ///
    /// ```rhai
    /// image::save(["web:dev", "db:dev"], "images.tar");
    /// ```
    #[rhai_fn(name = "save", return_raw)]
    pub fn save_many(ctx: NativeCallContext, names: Array, path: &str) -> RhaiResult<()> {
        crate::api::at(&ctx, || {
            let names: Vec<String> = names.into_iter().map(|n| n.to_string()).collect();
            crate::api::distribute::save_to(&crate::api::endpoint(), &names, path)
        })
    }

    /// The image ID (`sha256:…`).
    ///
    /// ```rhai
    /// print(image::get("nginx:alpine").id);
    /// ```
    #[rhai_fn(global, get = "id", pure)]
    pub fn id(i: &mut Image) -> String {
        i.id.clone()
    }

    /// The image's `repo:tag` names.
    ///
    /// ```rhai
    /// print(image::get("nginx:alpine").tags);
    /// ```
    #[rhai_fn(global, get = "tags", pure)]
    pub fn tags(i: &mut Image) -> Array {
        array_of(i.tags.clone())
    }

    /// Adds a name to the image.
    ///
    /// ```rhai
    /// image::get("web:dev").tag("web:latest");
    /// ```
    #[rhai_fn(global, return_raw)]
    pub fn tag(i: &mut Image, target: &str) -> RhaiResult<()> {
        tag_image(&i.ep, &i.id, target)?;
        i.tags.push(target.to_string());
        Ok(())
    }

    /// The engine's full view of the image (Docker's keys).
    ///
    /// ```rhai
    /// print(image::get("nginx:alpine").inspect().Architecture);
    /// ```
    #[rhai_fn(global, return_raw)]
    pub fn inspect(i: &mut Image) -> RhaiResult<Dynamic> {
        let r = engine_call(&i.ep, i.what("inspect"), |d| d.inspect_image(&i.id))?;
        Ok(to_dynamic(&r))
    }

    /// Removes the image by ID (every tag of it; throws if a container
    /// uses it).
    #[rhai_fn(global, name = "remove", return_raw)]
    pub fn remove_default(i: &mut Image) -> RhaiResult<()> {
        remove_opts(i, Map::new())
    }

    /// Removes the image: `force` also when containers use it or it has
    /// several tags; `name` removes just that one tag.
    ///
    /// ```rhai
    /// image::get("web:dev").remove(#{ force: true });
    /// ```
    #[rhai_fn(global, name = "remove", return_raw)]
    pub fn remove_opts(i: &mut Image, opts: Map) -> RhaiResult<()> {
        let o: ImageRemoveOpts = crate::api::opts::read("image remove", opts)?;
        // Like `docker rmi NAME`: untag each name; the image goes with the
        // last one. An untagged image is removed by ID.
        let targets = match o.name.clone() {
            Some(n) => vec![n],
            None if i.tags.is_empty() => vec![i.id.clone()],
            None => i.tags.clone(),
        };
        let opts = qp::RemoveImageOptions {
            force: o.force.unwrap_or(false),
            noprune: o.noprune.unwrap_or(false),
            ..Default::default()
        };
        let ep = i.ep.clone();
        let what = i.what("remove");
        bridge::block_on(async move {
            let d = client(&ep).await?;
            // A tag someone else already removed is not an error; the image
            // being gone altogether is.
            let mut last_missing = None;
            let mut removed = 0;
            for t in targets {
                match d.remove_image(&t, Some(opts.clone()), None).await {
                    Ok(_) => removed += 1,
                    Err(e) if crate::api::is_not_found(&e) => last_missing = Some(e),
                    Err(e) => return Err(engine_err(&what, &e)),
                }
            }
            match last_missing {
                Some(e) if removed == 0 => Err(engine_err(&what, &e)),
                _ => Ok(()),
            }
        })
    }

    /// Saves the image with all its tags to a tar file (as `docker save`).
    ///
    /// ```rhai
    /// image::get("web:dev").save("web.tar");
    /// ```
    #[rhai_fn(global, name = "save", return_raw)]
    pub fn save(i: &mut Image, path: &str) -> RhaiResult<()> {
        // Every name of the image, so `load` brings them all back.
        let names = if i.tags.is_empty() {
            vec![i.id.clone()]
        } else {
            i.tags.clone()
        };
        crate::api::distribute::save_to(&i.ep, &names, path)
    }

    /// The image in one line, as `print` and `${...}` show it.
    ///
    /// ```rhai
    /// let i = image::get("nginx:alpine");
    /// print(`${i}`);   // image nginx:alpine
    /// ```
    #[rhai_fn(global, name = "to_string", pure)]
    pub fn to_string(i: &mut Image) -> String {
        format!("image {}", i.tags.first().unwrap_or(&i.id))
    }

    /// The image with its details, as `debug` shows it.
    ///
    /// ```rhai
    /// let i = image::get("nginx:alpine");
    /// debug(i);
    /// ```
    #[rhai_fn(global, name = "to_debug", pure)]
    pub fn to_debug(i: &mut Image) -> String {
        to_string(i)
    }
}

pub fn register_types(engine: &mut Engine) {
    engine.register_type_with_name::<Image>("Image");
}
