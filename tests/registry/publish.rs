//! `publish` beside compose against the private registry: the artifact
//! each tool leaves there, compose reading it back, the checks and
//! errors around it, HTTPS with a test CA.

use std::process::Command;

use super::common::registry::Registry;
use super::common::*;
use super::{Case, COMPOSE, ORCH};

const PUBLISH: &str = r#"
services:
  web:
    image: ${REG}/${NS}/base:v1
    env_file: ./web.env # travels as its hash
    extends:
      file: base.yaml
      service: common
  app:
    build: ./app
    image: ${REG}/${NS}/app:v1
"#;

/// `publish` beside compose: the artifact each tool leaves in the
/// registry (layers, annotations, manifest layout; times and namespaces
/// aside), compose reading orch's artifact back, and the checks, errors
/// and messages before and around the push.
#[test]
fn publish_as_compose() {
    let mut case = Case::new("regpub", PUBLISH);
    case.seed("base:v1");
    case.seed("app:v1");
    std::fs::write(case.path().join("web.env"), "GREETING=hello\n").unwrap();
    std::fs::write(
        case.path().join("base.yaml"),
        "services:\n  common:\n    command: [\"sleep\", \"9\"]\n",
    )
    .unwrap();
    // compose's switch for a registry without TLS; orch honours it too.
    case.env = vec![("__TEST__INSECURE__REGISTRY__".into(), "1".into())];
    let repo = |t: usize, tag: &str| format!("{}/{}/pub:{tag}", case.reg.addr, case.ns[t]);
    let both = |args: &[&str], tag: &str, want: i32| {
        let outs = [ORCH, COMPOSE].map(|t| {
            let mut a: Vec<String> = args.iter().map(|s| s.to_string()).collect();
            if !tag.is_empty() {
                a.push(repo(t, tag));
            }
            case.run(t, &a.iter().map(String::as_str).collect::<Vec<_>>())
        });
        let text = |t: usize, s: String| {
            let mut lines: Vec<String> = s
                .replace(&case.ns[t], "NS")
                .lines()
                .filter(|l| !l.contains("Bake"))
                .map(str::to_string)
                .collect();
            lines.sort(); // the tools push services' images at once
            lines
        };
        let seen = [ORCH, COMPOSE].map(|t| {
            (
                outs[t].status.code(),
                text(t, stdout(&outs[t])),
                text(t, stderr(&outs[t])),
            )
        });
        assert_eq!(
            seen[ORCH], seen[COMPOSE],
            "{args:?} {tag}: orch (left) and compose (right)"
        );
        assert_eq!(seen[ORCH].0, Some(want), "{args:?} {tag}: {seen:?}");
    };
    // The manifest under `tag`, as text with times and namespaces out;
    // `decode` shows each layer's content instead of its digest.
    let manifest = |t: usize, tag: &str, decode: bool| -> String {
        let path = format!("/v2/{}/pub/manifests/{tag}", case.ns[t]);
        let r = case
            .reg
            .request("GET", &path, "application/vnd.oci.image.manifest.v1+json")
            .unwrap();
        assert_eq!(r.status, 200, "tool {t}: {path}: {}", r.body);
        let mut v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
        v["annotations"]["org.opencontainers.image.created"] = "T".into();
        for l in v["layers"].as_array_mut().into_iter().flatten().filter(|_| decode) {
            use base64::Engine as _;
            let data = base64::engine::general_purpose::STANDARD
                .decode(l["data"].as_str().unwrap())
                .unwrap();
            let data = String::from_utf8(data).unwrap().replace(&case.ns[t], "NS");
            l["data"] = data.into();
            l["digest"] = "D".into();
            l["size"] = 0.into();
        }
        v.to_string()
    };

    // Environment refused without --with-env; an unbuilt image reported
    // and passed over (compose's IgnoreFailures).
    both(&["--progress", "plain", "publish"], "1", 1);
    both(&["--progress", "plain", "publish", "-y"], "1", 0);
    assert_eq!(
        manifest(ORCH, "1", false),
        manifest(COMPOSE, "1", false),
        "the raw files: byte for byte"
    );
    both(
        &[
            "--progress",
            "json",
            "publish",
            "-y",
            "--with-env",
            "--resolve-image-digests",
        ],
        "2",
        0,
    );
    let m = case.same("--with-env --resolve-image-digests", |t| manifest(t, "2", true));
    assert!(
        m.contains("GREETING=hello") && m.contains("image-digests.yaml") && m.contains("@sha256:"),
        "{m}"
    );
    both(&["publish", "-y", "--oci-version", "1.0"], "3", 0);
    case.same("OCI 1.0", |t| manifest(t, "3", false));
    both(&["publish", "-y", "--app"], "4", 0);
    case.same("--app", |t| manifest(t, "4", true));
    let image = case.reg.digest(&format!("{}/base", case.ns[ORCH]), "v1").unwrap();
    assert!(case.same("the app's image copied", |t| case
        .reg
        .digest(&format!("{}/pub", case.ns[t]), &image)
        .is_some()));

    // compose reads back what each tool published, the same way.
    let read_back = |t: usize| {
        let (code, text) = compose_reads(&repo(t, "2"), ("__TEST__INSECURE__REGISTRY__", "1"));
        assert_eq!(code, Some(0), "{text}");
        text.replace(&case.ns[t], "NS")
    };
    assert!(case
        .same("compose -f oci://… config", read_back)
        .contains("GREETING: hello"));

    // A dry run pushes nothing; errors as compose's.
    both(&["--progress", "plain", "--dry-run", "publish", "-y"], "dry", 0);
    assert_eq!(case.same("dry run", |t| case.tags(t, "pub")), ["1", "2", "3", "4"]);
    both(
        &["--progress", "plain", "publish", "-y", "--oci-version", "2.0"],
        "5",
        1,
    );
    both(&["--progress", "plain", "publish", "-y", "127.0.0.1:1/x/y:1"], "", 1);
    both(&["publish", "-y", "--app", "Bad/Ref:1"], "", 1);
    both(&["publish", "-y", "--resolve-image-digests", "--app"], "7", 0);
    std::fs::write(
        case.path().join("compose.yaml"),
        PUBLISH.replace("base:v1", "base:nosuch"),
    )
    .unwrap();
    both(
        &["--progress", "plain", "publish", "-y", "--resolve-image-digests"],
        "8",
        1,
    );
    std::fs::write(case.path().join("compose.yaml"), "services:\n  b:\n    build: ./app\n").unwrap();
    both(&["publish", "-y"], "6", 1);
    // Profiles do not hide a service from publish; a local include stops it first.
    std::fs::write(case.path().join("other.yaml"), "services:\n  o:\n    image: busybox\n").unwrap();
    let yaml = "include: [other.yaml]\nservices:\n  b:\n    build: ./app\n    profiles: [dev]\n";
    std::fs::write(case.path().join("compose.yaml"), yaml).unwrap();
    both(&["publish", "-y"], "6", 1);
    std::fs::write(case.path().join("compose.yaml"), &yaml[21..]).unwrap();
    both(&["publish", "-y"], "6", 1);
}

/// `publish` over HTTPS: with the test CA trusted (`SSL_CERT_FILE`, read
/// by Go and by rustls-native-certs alike) both tools publish, and
/// compose reads each artifact back; without it both refuse the
/// registry's certificate.
#[test]
fn publish_over_https_as_compose() {
    let (reg, ca) = Registry::start_tls();
    let mut case = Case::on(reg, "regtls", "services:\n  web:\n    image: busybox\n");
    let ca = ("SSL_CERT_FILE".to_string(), ca.display().to_string());
    let repo = |t: usize, tag: &str| format!("{}/{}/pub:{tag}", case.reg.addr, case.ns[t]);
    case.env = vec![ca.clone()];
    for t in [ORCH, COMPOSE] {
        let out = case.run(t, &["publish", "-y", &repo(t, "1")]);
        assert!(out.status.success(), "tool {t}: {}", stderr(&out));
    }
    let read_back = |t: usize| compose_reads(&repo(t, "1"), (&ca.0, &ca.1));
    let (code, text) = case.same("read back over HTTPS", read_back);
    assert_eq!(code, Some(0));
    assert!(text.contains("image: busybox"), "{text}");
    case.env = Vec::new();
    let refused = |t: usize| {
        let out = case.run(t, &["publish", "-y", &repo(t, "2")]);
        let last = stderr(&out)
            .lines()
            .last()
            .unwrap_or_default()
            .replace(&case.ns[t], "NS");
        (out.status.code(), last)
    };
    let (code, why) = case.same("an untrusted certificate", refused);
    assert_eq!(code, Some(1));
    assert!(why.ends_with("x509: certificate signed by unknown authority"), "{why}");
}

/// compose's `config` of the artifact at `repo` (`oci://`), with `env`
/// set: its exit code, and its stdout or else its stderr. compose keeps
/// what it fetched in the user's cache folder, one folder per reference
/// hash: a folder of its own here, shown as `CACHE/`.
fn compose_reads(repo: &str, env: (&str, &str)) -> (Option<i32>, String) {
    let cache = tempfile::tempdir().unwrap();
    let out = Command::new(compose_ref())
        .args(["-p", "readback", "-f", &format!("oci://{repo}"), "config"])
        .env(env.0, env.1)
        .env("XDG_CACHE_HOME", cache.path())
        .current_dir(cache.path())
        .output()
        .unwrap();
    let text = if out.status.success() {
        stdout(&out)
    } else {
        stderr(&out)
    };
    let cached = format!("{}/docker-compose/", cache.path().display());
    let lines = text.lines().map(|l| match l.split_once(&cached) {
        Some((a, b)) => format!("{a}CACHE/{}", b.get(64..).unwrap_or(b)),
        None => l.to_string(),
    });
    (out.status.code(), lines.collect::<Vec<_>>().join("\n"))
}
