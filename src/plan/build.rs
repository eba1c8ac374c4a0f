//! Builds a service's image with the engine's builder, as the applier's
//! first phase (compose builds every image before creating anything).

use std::time::Instant;

use bollard::query_parameters as qp;
use futures_util::StreamExt;

use super::apply::Ctx;
use crate::docker::flatten;

/// Builds `image` for `service`; the error is one line naming both.
pub(super) async fn build(ctx: &Ctx, service: &str, image: &str) -> Result<(), String> {
    let t = Instant::now();
    let svc = ctx.desired.service(service).expect("planned");
    let b = svc.build.clone().expect("build step has a build section");
    ctx.emit("Image", image, "Building", false, t);
    let context = std::path::PathBuf::from(&b.context);
    let dockerfile = if std::path::Path::new(&b.dockerfile).is_absolute() {
        std::path::PathBuf::from(&b.dockerfile)
    } else {
        context.join(&b.dockerfile)
    };
    let result = async {
        let (tar, df) = crate::api::image::context_tar(&context, &dockerfile, &[])?;
        let opts = qp::BuildImageOptions {
            dockerfile: df,
            t: Some(image.to_string()),
            buildargs: Some(b.args.clone().into_iter().collect()),
            labels: Some(b.labels.clone().into_iter().collect()),
            target: b.target.clone().unwrap_or_default(),
            nocache: b.no_cache,
            rm: true,
            forcerm: true,
            ..Default::default()
        };
        let patient = crate::docker::patient(&ctx.d, None);
        let mut stream = patient.build_image(opts, None, Some(bollard::body_full(tar.into())));
        let mut last = Vec::new();
        while let Some(item) = stream.next().await {
            let info = item.map_err(|e| flatten(&e))?;
            if let Some(detail) = info.error_detail {
                return Err(format!("{}{}", detail.message.unwrap_or_default(), tail(&last)));
            }
            if let Some(s) = info.stream {
                last.extend(s.lines().filter(|l| !l.trim().is_empty()).map(str::to_string));
                if last.len() > 5 {
                    last.drain(..last.len() - 5);
                }
            }
        }
        Ok(())
    }
    .await;
    match result {
        Ok(()) => {
            ctx.emit("Image", image, "Built", true, t);
            Ok(())
        }
        Err(e) => {
            let msg = format!("service {service}: building {image}: {e}");
            ctx.fail("Image", image, &msg, t);
            Err(msg)
        }
    }
}

fn tail(lines: &[String]) -> String {
    if lines.is_empty() {
        String::new()
    } else {
        format!("\n  last build output:\n    {}", lines.join("\n    "))
    }
}
