//! `ORCH_LOG` diagnostics never show secrets: the engine client logs
//! request bodies and answers, and orch redacts them at every level.

mod common;

use common::*;

#[test]
fn trace_logs_of_up_show_no_secret_config_or_environment_value() {
    let project = unique("logsecret");
    let dir = tempfile::tempdir().unwrap();
    let _guard = ProjectCleanup {
        dir: dir.path().to_path_buf(),
        project: project.clone(),
    };
    std::fs::write(
        dir.path().join("compose.yaml"),
        format!(
            "services:\n  web:\n    image: {}\n    command: sleep 60\n    environment:\n      DB_PASSWORD: hunter2-env-value\n    secrets: [s1]\n    configs: [c1]\n\
             secrets:\n  s1:\n    environment: ORCH_TEST_SECRET\n\
             configs:\n  c1:\n    content: config-content-value\n",
            test_image()
        ),
    )
    .unwrap();
    let secrets = ["topsecret-value-42", "hunter2-env-value", "config-content-value"];
    for level in ["debug", "trace"] {
        let out = orch()
            .args(["-p", &project, "up", "-d"])
            .current_dir(dir.path())
            .env("ORCH_TEST_SECRET", secrets[0])
            .env("ORCH_LOG", level)
            .output()
            .unwrap();
        let log = stderr(&out);
        assert!(out.status.success(), "{log}");
        assert!(
            log.contains("DB_PASSWORD=<redacted>"),
            "the log has the request bodies: {log}"
        );
        for s in secrets {
            let b64 = base64_of(s);
            assert!(
                !log.contains(s) && !log.contains(&b64),
                "{level}: {s} in the log:\n{log}"
            );
        }
        // The values did reach the container.
        let id = project_containers(&project).into_values().next().unwrap();
        let seen = docker(&["exec", &id, "cat", "/run/secrets/s1", "/c1"]);
        assert!(seen.contains(secrets[0]) && seen.contains(secrets[2]), "{seen}");
        docker(&["rm", "-f", &id]);
    }
}

fn base64_of(s: &str) -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let b = s.as_bytes();
    let mut out = String::new();
    for chunk in b.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &c)| n | u32::from(c) << (16 - 8 * i));
        for i in 0..=chunk.len() {
            out.push(A[(n >> (18 - 6 * i) & 63) as usize] as char);
        }
    }
    out
}
