//! Registry-less image distribution: copy an image from this engine into
//! other engines (a swarm's nodes) by streaming `docker save` into
//! `docker load`, all targets at once, skipping any that already hold the
//! same image ID. Nothing is buffered on disk or in memory beyond the
//! stream's chunks. Also `docker save` to a file (`image::save`).

use std::sync::Arc;

use bollard::query_parameters as qp;
use futures_util::{stream, StreamExt};
use serde::Serialize;

use super::{client, engine_err, resolve_path, RhaiResult};
use crate::bridge;
use crate::docker::Endpoint;

/// What happened on one target engine.
#[derive(Debug, Serialize)]
pub struct Pushed {
    pub host: String,
    /// `loaded`, `present` (same image ID already there) or `failed`.
    pub action: String,
    pub id: String,
    pub error: Option<String>,
}

/// Copies `name` from `from` to every engine in `hosts`.
pub async fn push(from: Arc<Endpoint>, name: &str, hosts: Vec<String>) -> crate::error::Result<Vec<Pushed>> {
    let src = from.client().await.map_err(|e| e.to_string())?.clone();
    let id = src
        .inspect_image(name)
        .await
        .map_err(|e| crate::error::Error::from_engine(format!("image {name}"), &e))?
        .id
        .unwrap_or_default();
    let jobs = hosts.into_iter().map(|host| {
        let src = src.clone();
        let id = id.clone();
        async move {
            let r = push_one(&src, name, &id, &host).await;
            match r {
                Ok(action) => Pushed {
                    host,
                    action: action.into(),
                    id,
                    error: None,
                },
                Err(e) => Pushed {
                    host,
                    action: "failed".into(),
                    id,
                    error: Some(e.message),
                },
            }
        }
    });
    Ok(stream::iter(jobs).buffer_unordered(16).collect().await)
}

async fn push_one(src: &bollard::Docker, name: &str, id: &str, host: &str) -> crate::error::Result<&'static str> {
    let ep = super::node_engines::endpoint_for(host);
    let dst = ep.client().await.map_err(|e| e.to_string())?;
    if let Ok(img) = dst.inspect_image(name).await {
        if img.id.as_deref() == Some(id) {
            return Ok("present");
        }
    }
    let (src, dst) = (crate::docker::patient(src, None), crate::docker::patient(dst, None));
    let tar = src.export_image(name);
    let mut load = dst.import_image_stream(qp::ImportImageOptions::default(), tar, None);
    while let Some(item) = load.next().await {
        let info = item.map_err(|e| crate::error::Error::from_engine(format!("load into {host}"), &e))?;
        if let Some(detail) = info.error_detail {
            return Err(format!("load into {host}: {}", detail.message.unwrap_or_default()).into());
        }
    }
    let got = dst
        .inspect_image(name)
        .await
        .map_err(|e| crate::error::Error::from_engine(format!("{host}: image not there after loading"), &e))?;
    if got.id.as_deref() != Some(id) {
        return Err(format!(
            "{host}: loaded, but {name} is {} there, not {id}",
            got.id.unwrap_or_default()
        )
        .into());
    }
    Ok("loaded")
}

/// `docker save` of `names` into the file `path` (relative to the script).
pub(super) fn save_to(ep: &Arc<Endpoint>, names: &[String], path: &str) -> RhaiResult<()> {
    use tokio::io::AsyncWriteExt;
    crate::api::host_access("image::save")?;
    let file = resolve_path(path);
    let what = format!("image save {}", names.join(" "));
    bridge::block_on(async {
        let d = client(ep).await?;
        // Write to a temporary name first: an interrupted save never leaves
        // a truncated tar where a good one is expected.
        let tmp = file.with_extension("orch-partial");
        let mut f = tokio::fs::File::create(&tmp)
            .await
            .map_err(|e| format!("{what}: {}: {e}", tmp.display()))?;
        let refs: Vec<&str> = names.iter().map(|s| s.as_str()).collect();
        let d = crate::docker::patient(d, None);
        let mut s = d.export_images(&refs);
        while let Some(chunk) = s.next().await {
            let chunk = match chunk {
                Ok(c) => c,
                Err(e) => {
                    let _ = tokio::fs::remove_file(&tmp).await;
                    return Err(engine_err(&what, &e));
                }
            };
            f.write_all(&chunk).await.map_err(|e| format!("{what}: {e}"))?;
        }
        f.flush().await.map_err(|e| format!("{what}: {e}"))?;
        tokio::fs::rename(&tmp, &file)
            .await
            .map_err(|e| format!("{what}: {e}"))?;
        Ok(())
    })
}
