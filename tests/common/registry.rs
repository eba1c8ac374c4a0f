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

pub struct Registry {
    /// `127.0.0.1:PORT`, the prefix of image references.
    pub addr: String,
    child: Child,
    _dir: tempfile::TempDir,
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
        assert!(
            std::path::Path::new(BINARY).exists(),
            "{BINARY} is missing: apt-get install docker-registry (.ci/setup does)"
        );
        // A port the kernel just handed out can be taken again between
        // this probe and the registry's bind: a few tries.
        for _ in 0..5 {
            if let Some(r) = Self::try_start() {
                return r;
            }
        }
        panic!("docker-registry did not come up on a loopback port");
    }

    fn try_start() -> Option<Registry> {
        let port = TcpListener::bind("127.0.0.1:0").ok()?.local_addr().ok()?.port();
        let dir = tempfile::tempdir().ok()?;
        let addr = format!("127.0.0.1:{port}");
        let config = format!(
            "version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\n\
             storage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\n\
             http:\n  addr: {addr}\n",
            dir.path().join("data").display()
        );
        let cfg = dir.path().join("config.yml");
        std::fs::write(&cfg, config).ok()?;
        let child = Command::new(BINARY)
            .arg("serve")
            .arg(&cfg)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .ok()?;
        let mut r = Registry { addr, child, _dir: dir };
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if r.child.try_wait().ok().flatten().is_some() {
                return None; // exited: the port was taken
            }
            if r.get("/v2/").map(|x| x.status) == Some(200) {
                return Some(r);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }

    /// One HTTP/1.0 request (the registry speaks plain HTTP here).
    pub fn request(&self, method: &str, path: &str, accept: &str) -> Option<Response> {
        let mut s = TcpStream::connect(&self.addr).ok()?;
        s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
        write!(
            s,
            "{method} {path} HTTP/1.0\r\nHost: {}\r\nAccept: {accept}\r\n\r\n",
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

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
