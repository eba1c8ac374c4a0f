//! A service's `volumes:` as the engine create body's `HostConfig.Binds`
//! and `HostConfig.Mounts`, split exactly as Docker Compose splits them
//! (its `buildContainerVolumes`): the engine reports the two differently
//! (a named volume's mount `Mode` is `rw` through `Binds`, `z` through
//! `Mounts`), and `docker inspect` users and compose itself see that.
//!
//! - A bind goes to `Binds` (`SRC:DST:rw|ro[,z|Z]`) unless its `bind:`
//!   options need the mount API: `create_host_path: false` (only `Binds`
//!   creates a missing host path, so compose keeps it for the default),
//!   a propagation or a `recursive` mode.
//! - A named volume goes to `Binds` (`NAME:DST:rw|ro`) unless its
//!   `volume:` options need the mount API: `nocopy`, `subpath`, `labels`.
//! - Anonymous volumes, tmpfs and everything else go to `Mounts`.

use std::collections::HashMap;

use serde_json::{json, Map, Value};

use super::desired::Desired;
use super::values::bytes;

/// `(binds, mounts)` for service `name`'s `volumes` (canonical JSON).
pub fn build(d: &Desired, name: &str, svc: &Value) -> crate::error::Result<(Vec<String>, Vec<Value>)> {
    let mut binds = Vec::new();
    let mut mounts = Vec::new();
    for v in svc["volumes"].as_array().into_iter().flatten() {
        let target = v["target"].as_str().unwrap_or_default();
        let read_only = v["read_only"].as_bool().unwrap_or(false);
        let mut m = json!({"Target": target});
        if read_only {
            m["ReadOnly"] = json!(true);
        }
        if let Some(c) = v["consistency"].as_str().filter(|c| !c.is_empty()) {
            m["Consistency"] = json!(c);
        }
        match v["type"].as_str().unwrap_or("volume") {
            "bind" => {
                let src = v["source"].as_str().unwrap_or_default();
                let bind = v.get("bind").filter(|b| b.is_object());
                match bind.filter(|b| needs_mount_api_bind(b)) {
                    None => binds.push(bind_string(src, target, read_only, bind, None)),
                    Some(b) => {
                        m["Type"] = json!("bind");
                        m["Source"] = json!(src);
                        m["BindOptions"] = bind_options(b);
                        mounts.push(m);
                    }
                }
            }
            "volume" => {
                let opts = v.get("volume").filter(|o| o.is_object());
                let source = v["source"].as_str().filter(|s| !s.is_empty());
                let declared = source.and_then(|src| d.volumes.iter().find(|x| x.key == src));
                let source = declared.map(|x| x.name.clone()).or(source.map(str::to_string));
                // Only a volume the project declares goes through `Binds`
                // (an undeclared one comes from `run -v`), as compose.
                match source {
                    Some(src) if declared.is_some() && !opts.is_some_and(needs_mount_api_volume) => {
                        binds.push(bind_string(&src, target, read_only, None, opts));
                    }
                    _ => {
                        m["Type"] = json!("volume");
                        if let Some(src) = source {
                            m["Source"] = json!(src);
                        }
                        if let Some(o) = opts {
                            m["VolumeOptions"] = volume_options(o);
                        }
                        mounts.push(m);
                    }
                }
            }
            "tmpfs" => {
                m["Type"] = json!("tmpfs");
                if let Some(t) = v.get("tmpfs").filter(|t| t.is_object()) {
                    let mut o = Map::new();
                    if let Some(size) = bytes(t.get("size")).filter(|s| *s != 0) {
                        o.insert("SizeBytes".into(), json!(size));
                    }
                    if let Some(mode) = t["mode"].as_u64().filter(|m| *m != 0) {
                        o.insert("Mode".into(), json!(mode));
                    }
                    m["TmpfsOptions"] = Value::Object(o);
                }
                mounts.push(m);
            }
            other => return Err(format!("service {name}: volume type {other:?} is not supported by orch yet").into()),
        }
    }
    Ok((binds, mounts))
}

/// What a recreate carries over from the replaced container, as compose's
/// `buildContainerMountOptions` does: `anon` maps the old container's
/// volume mounts' destinations to their volume names. A source-less
/// (anonymous) volume the service declares gets the old volume, as a
/// plain mount without the declared options; a `VOLUME` of the image
/// (`image_volumes`) that nothing else mounts is passed the same way
/// (else the engine would make a new, empty one).
pub fn inherit(body: &mut Value, anon: &HashMap<String, String>, image_volumes: &[String]) {
    let host = &mut body["HostConfig"];
    let mut mounts: Vec<Value> = host["Mounts"].as_array().cloned().unwrap_or_default();
    for m in mounts.iter_mut() {
        if m["Type"] != "volume" || m.get("Source").is_some() {
            continue;
        }
        if let Some(vol) = m["Target"].as_str().and_then(|t| anon.get(t)) {
            m["Source"] = json!(vol);
            if let Some(o) = m.as_object_mut() {
                o.shift_remove("VolumeOptions");
            }
        }
    }
    let bound: Vec<String> = host["Binds"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|b| b.as_str()?.split(':').nth(1).map(str::to_string))
        .collect();
    for path in image_volumes {
        let taken = mounts.iter().any(|m| m["Target"] == path.as_str()) || bound.contains(path);
        if let Some(vol) = anon.get(path).filter(|_| !taken) {
            mounts.push(json!({"Type": "volume", "Source": vol, "Target": path}));
        }
    }
    if !mounts.is_empty() {
        host["Mounts"] = json!(mounts);
    }
}

/// Whether a create body mounts the named volume `name` (engine name),
/// through `Mounts` or `Binds`.
pub fn uses_volume(body: &Value, name: &str) -> bool {
    let host = &body["HostConfig"];
    let mounted = host["Mounts"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|m| m["Type"] == "volume" && m["Source"] == name);
    // A bind's source is an absolute path, so `NAME:` names a volume.
    let bound = host["Binds"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .any(|b| b.split(':').next() == Some(name));
    mounted || bound
}

/// compose's `bindRequiresMountAPI`.
fn needs_mount_api_bind(b: &Value) -> bool {
    b["create_host_path"].as_bool() != Some(true)
        || b["propagation"].as_str().is_some_and(|p| !p.is_empty())
        || b["recursive"].as_str().is_some_and(|r| !r.is_empty())
}

/// compose's `volumeRequiresMountAPI`.
fn needs_mount_api_volume(o: &Value) -> bool {
    o["nocopy"].as_bool() == Some(true)
        || o["subpath"].as_str().is_some_and(|s| !s.is_empty())
        || o["labels"].as_object().is_some_and(|l| !l.is_empty())
}

/// compose's `toBindString`: `SRC:DST:ACCESS[,SELINUX][,PROPAGATION][,nocopy]`.
fn bind_string(src: &str, target: &str, read_only: bool, bind: Option<&Value>, vol: Option<&Value>) -> String {
    let mut opts = vec![if read_only { "ro" } else { "rw" }];
    for key in ["selinux", "propagation"] {
        if let Some(x) = bind.and_then(|b| b[key].as_str()).filter(|x| !x.is_empty()) {
            opts.push(x);
        }
    }
    if vol.is_some_and(|o| o["nocopy"].as_bool() == Some(true)) {
        opts.push("nocopy");
    }
    format!("{src}:{target}:{}", opts.join(","))
}

/// compose's `buildBindOption` (the engine's `BindOptions`).
fn bind_options(b: &Value) -> Value {
    let mut o = Map::new();
    if let Some(p) = b["propagation"].as_str().filter(|p| !p.is_empty()) {
        o.insert("Propagation".into(), json!(p));
    }
    if b["create_host_path"].as_bool() == Some(true) {
        o.insert("CreateMountpoint".into(), json!(true));
    }
    let recursive = match b["recursive"].as_str() {
        Some("disabled") => Some("NonRecursive"),
        Some("writable") => Some("ReadOnlyNonRecursive"),
        Some("readonly") => Some("ReadOnlyForceRecursive"),
        _ => None,
    };
    if let Some(field) = recursive {
        o.insert(field.into(), json!(true));
    }
    Value::Object(o)
}

/// compose's `buildVolumeOptions` (the engine's `VolumeOptions`).
fn volume_options(o: &Value) -> Value {
    let mut out = Map::new();
    if o["nocopy"].as_bool() == Some(true) {
        out.insert("NoCopy".into(), json!(true));
    }
    if let Some(s) = o["subpath"].as_str().filter(|s| !s.is_empty()) {
        out.insert("Subpath".into(), json!(s));
    }
    if let Some(l) = o["labels"].as_object().filter(|l| !l.is_empty()) {
        out.insert("Labels".into(), Value::Object(l.clone()));
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(vols: Value) -> (Vec<String>, Vec<Value>) {
        let mut d = Desired::default();
        d.volumes.push(super::super::desired::VolumeSpec {
            key: "data".into(),
            name: "p_data".into(),
            external: false,
            hash: String::new(),
            body: Value::Null,
        });
        build(&d, "web", &json!({ "volumes": vols })).unwrap()
    }

    #[test]
    fn plain_binds_and_named_volumes_use_binds() {
        let (binds, mounts) = split(json!([
            {"type": "bind", "source": "/h", "target": "/c", "bind": {"create_host_path": true}},
            {"type": "bind", "source": "/h2", "target": "/c2", "read_only": true},
            {"type": "bind", "source": "/h3", "target": "/c3", "bind": {"selinux": "z", "create_host_path": true}},
            {"type": "volume", "source": "data", "target": "/d", "volume": {}},
        ]));
        assert_eq!(binds, ["/h:/c:rw", "/h2:/c2:ro", "/h3:/c3:rw,z", "p_data:/d:rw"]);
        assert!(mounts.is_empty());
    }

    #[test]
    fn a_recreate_inherits_anonymous_and_image_volumes() {
        let mut body = json!({"HostConfig": {
            "Mounts": [{"Type": "volume", "Target": "/anon", "VolumeOptions": {"NoCopy": true}}],
            "Binds": ["p_data:/named:rw"],
        }});
        let anon: HashMap<String, String> = [("/anon", "v1"), ("/img", "v2"), ("/named", "p_data")]
            .into_iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect();
        inherit(&mut body, &anon, &["/img".into(), "/named".into(), "/gone".into()]);
        assert_eq!(
            body["HostConfig"]["Mounts"],
            json!([
                {"Type": "volume", "Target": "/anon", "Source": "v1"},
                {"Type": "volume", "Source": "v2", "Target": "/img"},
            ])
        );
    }

    #[test]
    fn advanced_options_use_the_mount_api() {
        let (binds, mounts) = split(json!([
            {"type": "bind", "source": "/h", "target": "/c", "bind": {"selinux": "z"}},
            {"type": "bind", "source": "/h", "target": "/p", "bind": {"propagation": "rshared", "create_host_path": true}},
            {"type": "volume", "source": "data", "target": "/d", "volume": {"nocopy": true}},
            {"type": "volume", "target": "/anon", "volume": {}},
            {"type": "tmpfs", "target": "/t", "tmpfs": {"size": "1048576", "mode": 1023}},
        ]));
        assert!(binds.is_empty());
        assert_eq!(
            mounts,
            [
                json!({"Target": "/c", "Type": "bind", "Source": "/h", "BindOptions": {}}),
                json!({"Target": "/p", "Type": "bind", "Source": "/h",
                       "BindOptions": {"Propagation": "rshared", "CreateMountpoint": true}}),
                json!({"Target": "/d", "Type": "volume", "Source": "p_data", "VolumeOptions": {"NoCopy": true}}),
                json!({"Target": "/anon", "Type": "volume", "VolumeOptions": {}}),
                json!({"Target": "/t", "Type": "tmpfs", "TmpfsOptions": {"SizeBytes": 1048576, "Mode": 1023}}),
            ]
        );
    }
}
