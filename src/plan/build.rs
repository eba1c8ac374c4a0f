//! Builds a service's image with the engine's builder, as the applier's
//! first phase (compose builds every image before creating anything).

use std::time::Instant;

use super::apply::Ctx;

/// Builds `image` for `service`; the error is one line naming both.
pub(super) async fn build(ctx: &Ctx, service: &str, image: &str) -> crate::error::Result<()> {
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
    let req = crate::build::Request {
        context,
        dockerfile,
        tag: Some(image.to_string()),
        args: b.args.clone().into_iter().collect(),
        labels: b.labels.clone().into_iter().collect(),
        target: b.target.clone(),
        no_cache: b.no_cache,
        ..Default::default()
    };
    let result = crate::build::run(&ctx.d, &req, |_| {}).await.map(|_| ());
    match result {
        Ok(()) => {
            ctx.emit("Image", image, "Built", true, t);
            Ok(())
        }
        Err(e) => {
            let msg = format!("service {service}: building {image}: {e}");
            ctx.fail("Image", image, &msg, t);
            Err(msg.into())
        }
    }
}
