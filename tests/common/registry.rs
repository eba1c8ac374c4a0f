//! A private image registry for tests: Debian's `docker-registry` (the
//! CNCF distribution registry, installed by .ci/setup) on a free loopback
//! port with its storage in a temp folder. The engine lets 127.0.0.0/8
//! registries speak plain HTTP, so `127.0.0.1:PORT/name:tag` pushes and
//! pulls without TLS. Killed when dropped, also when a test fails.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BINARY: &str = "/usr/bin/docker-registry";

/// The one account of `start_with_auth`'s registry.
pub const USER: &str = "orch";
pub const PASSWORD: &str = "orch-test-pw";
/// bcrypt (cost 4) of PASSWORD, as htpasswd files hold it.
const HASH: &str = "$2b$04$uwTDUGXie.V8d4itXITNp.Y56R1ZpwSGFchyWNHoOih4R9JxOuYwG";

pub struct Registry {
    /// `127.0.0.1:PORT`, the prefix of image references.
    pub addr: String,
    /// `Basic …` for a registry that wants credentials.
    authorization: Option<String>,
    child: Child,
    dir: tempfile::TempDir,
}

/// A status code, the response's headers and its body.
pub struct Response {
    pub status: u16,
    pub headers: String,
    pub body: String,
}

impl Registry {
    /// Starts a registry and waits until it answers `/v2/`.
    pub fn start() -> Registry {
        Self::start_with(false)
    }

    /// Starts a registry that takes only `USER`:`PASSWORD` (HTTP basic
    /// auth from an htpasswd file).
    pub fn start_with_auth() -> Registry {
        Self::start_with(true)
    }

    /// `start_with_auth`'s registry on `ip` (an address of this host, e.g.
    /// a test cluster's bridge, whose nodes reach it there).
    pub fn start_with_auth_on(ip: &str) -> Registry {
        Self::start_on(true, ip)
    }

    fn start_with(auth: bool) -> Registry {
        Self::start_on(auth, "127.0.0.1")
    }

    /// A registry on 127.0.0.1 that speaks only HTTPS, with a certificate
    /// from a test CA, and the CA's file (for `SSL_CERT_FILE`, which Go
    /// and rustls-native-certs both read). `request` cannot reach it.
    pub fn start_tls() -> (Registry, std::path::PathBuf) {
        for _ in 0..5 {
            if let Some(r) = Self::try_start_as(false, "127.0.0.1", true) {
                let ca = r.dir.path().join("ca.pem");
                return (r, ca);
            }
        }
        panic!("docker-registry with TLS did not come up");
    }

    fn start_on(auth: bool, ip: &str) -> Registry {
        assert!(
            std::path::Path::new(BINARY).exists(),
            "{BINARY} is missing: apt-get install docker-registry (.ci/setup does)"
        );
        // A port the kernel just handed out can be taken again between
        // this probe and the registry's bind: a few tries.
        for _ in 0..5 {
            if let Some(r) = Self::try_start(auth, ip) {
                return r;
            }
        }
        panic!("docker-registry did not come up on {ip}");
    }

    fn try_start(auth: bool, ip: &str) -> Option<Registry> {
        Self::try_start_as(auth, ip, false)
    }

    fn try_start_as(auth: bool, ip: &str, tls: bool) -> Option<Registry> {
        let port = TcpListener::bind(format!("{ip}:0")).ok()?.local_addr().ok()?.port();
        let dir = tempfile::tempdir().ok()?;
        let addr = format!("{ip}:{port}");
        let config = format!(
            "version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\n\
             storage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\n\
             http:\n  addr: {addr}\n",
            dir.path().join("data").display()
        );
        let mut config = config;
        if auth {
            let file = dir.path().join("htpasswd");
            std::fs::write(&file, format!("{USER}:{HASH}\n")).ok()?;
            config += &format!(
                "auth:\n  htpasswd:\n    realm: orch-test\n    path: {}\n",
                file.display()
            );
        }
        if tls {
            test_certificates(dir.path(), ip)?;
            let d = dir.path().display();
            config += &format!("  tls:\n    certificate: {d}/cert.pem\n    key: {d}/key.pem\n");
        }
        let cfg = dir.path().join("config.yml");
        std::fs::write(&cfg, config).ok()?;
        // Its errors (log level error) go to a file a test can show.
        let log = std::fs::File::create(dir.path().join("registry.log")).ok()?;
        let child = Command::new(BINARY)
            .arg("serve")
            .arg(&cfg)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .ok()?;
        let mut r = Registry {
            authorization: auth.then(|| format!("Basic {}", basic())),
            addr,
            child,
            dir,
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if r.child.try_wait().ok().flatten().is_some() {
                return None; // exited: the port was taken
            }
            // 401 when it wants credentials, 400 to plain HTTP when it
            // speaks TLS: up all the same.
            if matches!(r.get("/v2/").map(|x| x.status), Some(200 | 401 | 400)) {
                return Some(r);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }

    /// What the registry has logged (errors only).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("registry.log")).unwrap_or_default()
    }

    /// One HTTP/1.0 request (the registry speaks plain HTTP here).
    pub fn request(&self, method: &str, path: &str, accept: &str) -> Option<Response> {
        let mut s = TcpStream::connect(&self.addr).ok()?;
        s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
        let auth = self
            .authorization
            .as_ref()
            .map(|a| format!("Authorization: {a}\r\n"))
            .unwrap_or_default();
        write!(
            s,
            "{method} {path} HTTP/1.0\r\nHost: {}\r\nAccept: {accept}\r\n{auth}\r\n",
            self.addr
        )
        .ok()?;
        let mut raw = String::new();
        s.read_to_string(&mut raw).ok()?;
        let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((&raw, ""));
        let status = head.split_whitespace().nth(1)?.parse().ok()?;
        Some(Response {
            status,
            headers: head.to_string(),
            body: body.to_string(),
        })
    }

    pub fn get(&self, path: &str) -> Option<Response> {
        self.request("GET", path, "*/*")
    }

    /// The tags the registry holds for repository `name`, sorted (empty
    /// when it has no such repository).
    pub fn tags(&self, name: &str) -> Vec<String> {
        let Some(r) = self.get(&format!("/v2/{name}/tags/list")) else {
            return Vec::new();
        };
        if r.status != 200 {
            return Vec::new();
        }
        let v: serde_json::Value = serde_json::from_str(&r.body).unwrap_or_default();
        let mut tags: Vec<String> = v["tags"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|t| t.as_str().map(str::to_string))
            .collect();
        tags.sort();
        tags
    }

    /// The manifest digest of `name:tag` (the registry's
    /// Docker-Content-Digest), or None when it has no such manifest.
    pub fn digest(&self, name: &str, tag: &str) -> Option<String> {
        let accept = "application/vnd.docker.distribution.manifest.v2+json, \
                      application/vnd.oci.image.manifest.v1+json, \
                      application/vnd.oci.image.index.v1+json, \
                      application/vnd.docker.distribution.manifest.list.v2+json";
        let r = self.request("HEAD", &format!("/v2/{name}/manifests/{tag}"), accept)?;
        if r.status != 200 {
            return None;
        }
        r.headers.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("docker-content-digest")
                .then(|| v.trim().to_string())
        })
    }
}

/// A test CA (`ca.pem`) and a server certificate it signed for `ip`
/// (`cert.pem`, `key.pem`) in `dir`.
fn test_certificates(dir: &std::path::Path, ip: &str) -> Option<()> {
    let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
    let ext = format!("subjectAltName=IP:{ip}\nextendedKeyUsage=serverAuth\n");
    std::fs::write(dir.join("ext.cnf"), ext).ok()?;
    let steps: [Vec<&str>; 3] = [
        [
            &["req", "-x509"][..],
            &ec,
            &[
                "-days",
                "2",
                "-subj",
                "/CN=orch test CA",
                "-keyout",
                "ca-key.pem",
                "-out",
                "ca.pem",
            ],
        ]
        .concat(),
        [
            &["req", "-new"][..],
            &ec,
            &["-subj", "/CN=registry", "-keyout", "key.pem", "-out", "server.csr"],
        ]
        .concat(),
        vec![
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca-key.pem",
            "-CAcreateserial",
            "-days",
            "2",
            "-out",
            "cert.pem",
            "-extfile",
            "ext.cnf",
        ],
    ];
    for args in steps {
        let ok = Command::new("openssl")
            .current_dir(dir)
            .args(&args)
            .output()
            .ok()?
            .status
            .success();
        ok.then_some(())?;
    }
    Some(())
}

/// base64 of `USER:PASSWORD`, as HTTP basic auth and the Docker CLI's
/// config file (`auths.HOST.auth`) hold it.
pub fn basic() -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{PASSWORD}"))
}

impl Registry {
    /// A Docker CLI config folder (for `DOCKER_CONFIG`) holding this
    /// registry's credentials.
    pub fn cli_config(&self) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let cfg = serde_json::json!({ "auths": { self.addr.clone(): { "auth": basic() } } });
        std::fs::write(dir.path().join("config.json"), cfg.to_string()).unwrap();
        dir
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
