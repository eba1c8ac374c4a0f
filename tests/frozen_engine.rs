//! An engine that stops answering (frozen dockerd) or drops connections:
//! orch gives up after the deadline with a message naming the engine and
//! the call, Ctrl-C still works, and a dropped connection reads as one.
//! The engine is a fake on a private socket, so the machine's engine and
//! other tests are never touched.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::*;

#[derive(Clone, Copy)]
enum Fault {
    /// Answers the version handshake, then never answers again.
    Freeze,
    /// Answers the version handshake, then closes each connection unanswered.
    Close,
}

/// A fake engine on a fresh socket; returns its `unix://` address.
fn fake_engine(fault: Fault) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let sock: PathBuf = dir.path().join("engine.sock");
    let listener = UnixListener::bind(&sock).unwrap();
    std::thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            std::thread::spawn(move || serve(conn, fault));
        }
    });
    (dir, format!("unix://{}", sock.display()))
}

fn serve(conn: UnixStream, fault: Fault) {
    let mut reader = BufReader::new(conn.try_clone().unwrap());
    let mut conn = conn;
    loop {
        let mut request_line = String::new();
        if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
            return;
        }
        let mut length = 0usize;
        loop {
            let mut h = String::new();
            if reader.read_line(&mut h).unwrap_or(0) == 0 {
                return;
            }
            if h == "\r\n" {
                break;
            }
            if let Some(v) = h.to_ascii_lowercase().strip_prefix("content-length:") {
                length = v.trim().parse().unwrap_or(0);
            }
        }
        let mut body = vec![0; length];
        let _ = reader.read_exact(&mut body);
        if request_line.contains("/version") || request_line.contains("/_ping") {
            let json =
                r#"{"ApiVersion":"1.41","MinAPIVersion":"1.12","Version":"20.10.0","Os":"linux","Arch":"amd64"}"#;
            let _ = write!(
                conn,
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nApi-Version: 1.41\r\nContent-Length: {}\r\n\r\n{json}",
                json.len()
            );
            continue;
        }
        match fault {
            Fault::Freeze => std::thread::sleep(Duration::from_secs(3600)),
            Fault::Close => return,
        }
    }
}

const SCRIPT: &str = "print(\"ready\");\ncontainer::create(#{ image: \"busybox\", name: \"web-1\" });\n";

#[test]
fn a_frozen_engine_fails_the_call_after_the_deadline_naming_engine_and_call() {
    let (_d, host) = fake_engine(Fault::Freeze);
    let (_s, path) = script(SCRIPT);
    let out = orch()
        .args(["--engine-timeout", "2", "run"])
        .arg(&path)
        .env("DOCKER_HOST", &host)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains(&format!("the Docker engine at {host} did not answer within 2 s")),
        "{err}"
    );
    assert!(err.contains("during `container create"), "{err}");
}

#[test]
fn a_dropped_connection_reads_in_users_words() {
    let (_d, host) = fake_engine(Fault::Close);
    let (_s, path) = script(SCRIPT);
    let out = orch()
        .arg("run")
        .arg(&path)
        .env("DOCKER_HOST", &host)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains(&format!(
            "the Docker engine at {host} closed the connection during `container create"
        )),
        "{err}"
    );
    assert!(!err.contains("hyper"), "{err}");
}

#[test]
fn ctrl_c_ends_a_call_to_a_frozen_engine() {
    let (_d, host) = fake_engine(Fault::Freeze);
    let (_s, path) = script(SCRIPT);
    let mut child = orch()
        .arg("run")
        .arg(&path)
        .env("DOCKER_HOST", &host)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    assert_eq!(lines.next().unwrap().unwrap(), "ready");
    std::thread::sleep(Duration::from_millis(300));
    let kill = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    // A hang guard, not a timing assertion: the default deadline is 120 s.
    let sent = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if sent.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            panic!("orch did not exit after SIGINT");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(status.code(), Some(130));
}
