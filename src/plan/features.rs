//! Engine features a service needs, checked before any container of the
//! run is created: compose refuses such a service outright rather than
//! letting an older engine drop the setting without a word.

use super::desired::ServiceSpec;
use bollard::Docker;

/// The first API version whose engine (Docker 25) honours
/// `healthcheck.start_interval`.
const START_INTERVAL_API: (usize, usize) = (1, 44);

/// Why `svc` cannot be created on the engine `d` talks to, with compose's
/// own words (pkg/compose/convert.go `ToMobyHealthCheck`): an older engine
/// would ignore `start_interval`, and an engine bug (moby#48874) makes it
/// meaningless without `start_period`.
pub fn unsupported(d: &Docker, svc: &ServiceSpec) -> Option<String> {
    let hc = svc.body.get("Healthcheck")?;
    hc.get("StartInterval")?;
    let v = d.client_version();
    if (v.major_version, v.minor_version) < START_INTERVAL_API {
        return Some("can't set healthcheck.start_interval as feature require Docker Engine v25 or later".into());
    }
    if hc.get("StartPeriod").is_none() {
        return Some("healthcheck.start_interval requires healthcheck.start_period to be set".into());
    }
    None
}
