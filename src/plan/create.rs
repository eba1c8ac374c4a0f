//! The container create request, as compose sends it.
//!
//! Why not bollard's `create_container`: its `ContainerCreateBody` follows
//! API 1.44+, where `Config.MacAddress` is gone (a network endpoint's
//! `MacAddress` replaced it), so a service's `mac_address` would be
//! dropped without a word on the older engines compose still sends it to.
//! The body still passes through bollard's model (every other field is
//! sent exactly as before), then the MAC address goes where compose's
//! `prepareContainerMACAddress` puts it for the negotiated API version,
//! and the request is posted as JSON over bollard's connection.

use bollard::errors::Error;
use bollard::models::ContainerCreateBody;
use bollard::Docker;
use serde_json::{json, Value};

use crate::engine_json;

/// The first API version (Docker 25) with a MAC address per endpoint.
const ENDPOINT_MAC_API: (usize, usize) = (1, 44);

/// The JSON body for creating a container of the service described by
/// `raw` (its canonical document) from orch's create `body`, on an engine
/// speaking API `api`. Errors are compose's refusals of its `mac_address`
/// settings.
pub fn body(body: Value, raw: &Value, api: (usize, usize)) -> crate::error::Result<Value> {
    let model: ContainerCreateBody = serde_json::from_value(body).map_err(|e| e.to_string())?;
    let mut out = serde_json::to_value(model).map_err(|e| e.to_string())?;
    place_mac(&mut out, raw, api)?;
    Ok(out)
}

/// Creates container `name` from a [`body`]; returns its ID. Errors are
/// the engine's, as bollard's (`docker::status` reads a 409).
pub async fn post(d: &Docker, name: &str, body: &Value) -> Result<String, Error> {
    let path = format!("/containers/create?name={}", engine_json::enc(name));
    let answer = engine_json::post(d, &path, body).await?;
    match answer["Id"].as_str() {
        Some(id) => Ok(id.to_string()),
        None => Err(Error::IOError {
            err: std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("the engine's answer to creating {name} has no Id: {answer}"),
            ),
        }),
    }
}

/// compose's `prepareContainerMACAddress`: below API 1.44 the container
/// gets the primary network's `mac_address`, else the service's
/// (`Config.MacAddress`), and at most one network may set one; from 1.44
/// the service's moves to the primary endpoint when that sets none.
fn place_mac(body: &mut Value, raw: &Value, api: (usize, usize)) -> crate::error::Result<()> {
    let mac = |v: &Value| v["mac_address"].as_str().filter(|m| !m.is_empty()).map(str::to_string);
    let service_mac = mac(raw);
    let mut nets: Vec<(i64, &String, &Value)> = raw["networks"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| (v["priority"].as_i64().unwrap_or(0), k, v))
                .collect()
        })
        .unwrap_or_default();
    // compose-go's NetworksByPriority: by priority, then by name.
    nets.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(b.1)));
    let main = nets.first().map(|(_, k, v)| (k.as_str(), mac(v)));
    if let (Some(s), Some((key, Some(m)))) = (&service_mac, &main) {
        if s != m {
            return Err(format!("the service-level mac_address should have the same value as network {key}").into());
        }
    }
    let Some(config) = body.as_object_mut() else {
        return Ok(());
    };
    if api >= ENDPOINT_MAC_API {
        config.shift_remove("MacAddress");
        let primary = config
            .get_mut("NetworkingConfig")
            .and_then(|n| n.get_mut("EndpointsConfig"))
            .and_then(Value::as_object_mut)
            .and_then(|eps| eps.values_mut().next());
        if let (Some(ep), Some(s)) = (primary, service_mac) {
            if mac_of(ep).is_none() {
                ep["MacAddress"] = json!(s);
            }
        }
        return Ok(());
    }
    let mut with: Vec<&str> = nets
        .iter()
        .filter(|(_, _, v)| mac(v).is_some())
        .map(|(_, k, _)| k.as_str())
        .collect();
    if with.len() > 1 {
        with.sort();
        return Err(format!(
            "a MAC address is specified for multiple networks ({}), but this feature requires Docker Engine v25 or later",
            with.join(", ")
        ).into());
    }
    if let Some(m) = main.and_then(|(_, m)| m).or(service_mac) {
        config.insert("MacAddress".into(), json!(m));
    }
    Ok(())
}

fn mac_of(ep: &Value) -> Option<&str> {
    ep["MacAddress"].as_str().filter(|m| !m.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(service: Option<&str>, nets: Value) -> Value {
        let mut r = json!({ "networks": nets });
        if let Some(m) = service {
            r["mac_address"] = json!(m);
        }
        r
    }

    fn created(net_mac: Option<&str>) -> Value {
        let mut ep = json!({ "Aliases": ["web"] });
        if let Some(m) = net_mac {
            ep["MacAddress"] = json!(m);
        }
        json!({ "Image": "busybox", "NetworkingConfig": { "EndpointsConfig": { "p_default": ep } } })
    }

    #[test]
    fn old_engines_get_the_service_mac_in_the_config() {
        let b = body(
            created(None),
            &raw(Some("02:42:ac:11:65:43"), json!({"default": null})),
            (1, 41),
        )
        .unwrap();
        assert_eq!(b["MacAddress"], "02:42:ac:11:65:43");
    }

    #[test]
    fn old_engines_take_the_primary_network_mac() {
        let nets = json!({"back": {"mac_address": "02:00:00:00:00:02"}, "front": {"priority": 5}});
        let b = body(created(None), &raw(None, nets.clone()), (1, 41)).unwrap();
        assert_eq!(b.get("MacAddress"), None, "front (priority 5) is primary and sets none");
        let nets = json!({"back": {"mac_address": "02:00:00:00:00:02"}, "front": null});
        let b = body(created(None), &raw(None, nets), (1, 41)).unwrap();
        assert_eq!(b["MacAddress"], "02:00:00:00:00:02");
    }

    #[test]
    fn new_engines_move_it_to_the_primary_endpoint() {
        let mut start = created(None);
        start["MacAddress"] = json!("02:42:ac:11:65:43");
        let b = body(
            start,
            &raw(Some("02:42:ac:11:65:43"), json!({"default": null})),
            (1, 44),
        )
        .unwrap();
        assert_eq!(b.get("MacAddress"), None);
        assert_eq!(
            b["NetworkingConfig"]["EndpointsConfig"]["p_default"]["MacAddress"],
            "02:42:ac:11:65:43"
        );
    }

    #[test]
    fn compose_refusals() {
        let nets = json!({"default": {"mac_address": "02:00:00:00:00:01"}});
        let e = body(created(None), &raw(Some("02:00:00:00:00:09"), nets), (1, 41)).unwrap_err();
        assert_eq!(
            e,
            "the service-level mac_address should have the same value as network default"
        );
        let nets = json!({"b": {"mac_address": "02:00:00:00:00:01"}, "a": {"mac_address": "02:00:00:00:00:02"}});
        let e = body(created(None), &raw(None, nets.clone()), (1, 41)).unwrap_err();
        assert_eq!(
            e,
            "a MAC address is specified for multiple networks (a, b), but this feature requires Docker Engine v25 or later"
        );
        assert!(body(created(None), &raw(None, nets), (1, 44)).is_ok());
    }
}
