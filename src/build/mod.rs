//! Image builds on the engine, shared by the `image::build` primitive and
//! the planner's build steps (`up --build`, `build`).
//!
//! Which builder: BuildKit, as Docker Compose and the Docker CLI pick it,
//! unless `DOCKER_BUILDKIT` says false. BuildKit matters for more than
//! parity: it caches by content and runs no commit container per step, so
//! a rebuild after a one-file change takes a fraction of a second where
//! the classic builder takes seconds; and the build cache is the one
//! `docker compose build` fills, so the two tools reuse each other's work.
//! The context is sent as a tar in the request body either way (the engine
//! serves it to BuildKit); the BuildKit session bollard opens beside the
//! request carries registry credentials.
//!
//! What comes back: the image ID, and the build's log as plain lines (the
//! classic builder's `stream` text, or BuildKit's vertex and log records
//! put in the Docker CLI's `--progress plain` shape by [`trace`]), so a
//! failure can show its last lines.

pub mod context;
pub mod dockerignore;
mod trace;

use std::collections::HashMap;
use std::path::PathBuf;

use bollard::models::BuildInfoAux;
use bollard::query_parameters::{BuildImageOptions, BuilderVersion};
use bollard::Docker;
use futures_util::StreamExt;

use crate::docker::flatten;

/// One build, as the caller resolved it (paths absolute).
#[derive(Debug, Clone, Default)]
pub struct Request {
    pub context: PathBuf,
    pub dockerfile: PathBuf,
    /// Host files added to the context at the given paths inside it.
    pub extra: Vec<(String, PathBuf)>,
    /// The first is the build's tag; the caller tags the rest.
    pub tag: Option<String>,
    pub args: HashMap<String, String>,
    pub labels: HashMap<String, String>,
    pub target: Option<String>,
    pub no_cache: bool,
    pub pull: bool,
    pub network: Option<String>,
    pub extra_hosts: Vec<String>,
    pub platform: Option<String>,
    /// The classic builder's memory limit for its build containers, in
    /// bytes (`build -m`; BuildKit ignores it).
    pub memory: Option<i64>,
}

/// Why a build failed: the engine's (or the context's) message and the
/// last lines of the build's log.
#[derive(Debug, Clone)]
pub struct Error {
    pub message: String,
    pub tail: Vec<String>,
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.message.trim())?;
        if !self.tail.is_empty() {
            write!(f, "\n  last build output:\n    {}", self.tail.join("\n    "))?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {}

const TAIL_LINES: usize = 5;

/// Whether builds go to BuildKit: `DOCKER_BUILDKIT` as the Docker CLI
/// reads it (a boolean), BuildKit when it is unset or not a boolean.
pub fn buildkit() -> bool {
    match std::env::var("DOCKER_BUILDKIT") {
        Ok(v) => !matches!(
            v.trim().to_ascii_lowercase().as_str(),
            "0" | "false" | "f" | "no" | "off"
        ),
        Err(_) => true,
    }
}

/// Builds `req` on `d`; `on_line` sees each line of the build's log as it
/// comes. Returns the new image's ID.
pub async fn run(d: &Docker, req: &Request, mut on_line: impl FnMut(&str)) -> Result<String, Error> {
    let fail = |message: String| Error {
        message,
        tail: Vec::new(),
    };
    let (tar, dockerfile) =
        context::context_tar(&req.context, &req.dockerfile, &req.extra).map_err(|e| fail(e.into()))?;
    let kit = buildkit();
    // bollard sends the limit as an i32: a larger one cannot be sent.
    let memory = match req.memory {
        Some(m) => Some(i32::try_from(m).map_err(|_| {
            fail(format!(
                "memory limit {m} bytes: orch can send at most 2147483647 bytes (2 GiB - 1) to the engine's build"
            ))
        })?),
        None => None,
    };
    let options = BuildImageOptions {
        dockerfile,
        t: req.tag.clone(),
        buildargs: Some(req.args.clone()),
        labels: Some(req.labels.clone()),
        target: req.target.clone().unwrap_or_default(),
        nocache: req.no_cache,
        pull: req.pull.then(|| "1".to_string()),
        rm: true,
        forcerm: true,
        networkmode: req.network.clone(),
        extrahosts: (!req.extra_hosts.is_empty()).then(|| req.extra_hosts.join(",")),
        platform: req.platform.clone().unwrap_or_default(),
        memory,
        version: if kit {
            BuilderVersion::BuilderBuildKit
        } else {
            BuilderVersion::BuilderV1
        },
        session: kit.then(session_id),
        ..Default::default()
    };
    let patient = crate::docker::patient(d, None);
    let mut stream = patient.build_image(options, None, Some(bollard::body_full(tar.into())));
    let mut log = trace::Log::default();
    let mut id = None;
    while let Some(item) = stream.next().await {
        let info = match item {
            Ok(info) => info,
            Err(e) => return Err(log.error(flatten(&e))),
        };
        if let Some(detail) = info.error_detail {
            return Err(log.error(detail.message.unwrap_or_default()));
        }
        match info.aux {
            Some(BuildInfoAux::Default(image)) => id = image.id.or(id),
            Some(BuildInfoAux::BuildKit(status)) => log.buildkit(&status, &mut on_line),
            None => {}
        }
        if let Some(text) = info.stream.or(info.status) {
            for line in text.lines().filter(|l| !l.trim().is_empty()) {
                if let Some(rest) = line.strip_prefix("Successfully built ") {
                    id.get_or_insert_with(|| rest.trim().to_string());
                }
                log.line(line, &mut on_line);
            }
        }
    }
    id.ok_or_else(|| log.error("the engine finished without reporting an image ID".into()))
}

/// A session ID unique to this build (BuildKit keys its session by it).
fn session_id() -> String {
    static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!("orch-{}-{nanos:x}-{n}", std::process::id())
}
