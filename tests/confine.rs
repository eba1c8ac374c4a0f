//! `orch::api::confine` (what the script fuzz target runs under): after it,
//! the primitives that touch the host refuse, even when a script builds
//! their names at run time. Its own test binary: confinement is for the
//! whole process.

use std::path::PathBuf;

use orch::source::{Limits, Source};

fn run(text: &str, dir: PathBuf) -> i32 {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let src = Source {
        name: "confined.rhai".into(),
        text: text.into(),
        dir: Some(dir),
    };
    orch::script::execute(&rt, src, rhai::Dynamic::UNIT, Limits::default())
}

#[test]
fn confined_scripts_cannot_touch_host_files() {
    let dir = std::env::temp_dir().join(format!("orch-confine-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("secret.txt"), "s3cret").unwrap();
    std::fs::write(dir.join("m.rhai"), "export const X = 1;").unwrap();
    // Allowed before confinement: the same calls work.
    assert_eq!(
        run(r#"if read_file("secret.txt") != "s3cret" { exit(3) }"#, dir.clone()),
        0
    );
    orch::api::confine();
    let refused = [
        r#"write_file("out.txt", "x")"#,
        r#"Fn("write_" + "file").call("out.txt", "x")"#,
        r#"read_file("secret.txt")"#,
        r#"file_exists("secret.txt")"#,
        r#"env("HOME")"#,
        r#"import "m" as m;"#,
        r#"compose::load(#{ files: ["compose.yaml"] })"#,
        r#"engine::connect("unix:///var/run/docker.sock")"#,
    ];
    for text in refused {
        // Each ends the script with an error (exit 1), having done nothing.
        assert_eq!(run(text, dir.clone()), 1, "{text}");
    }
    assert!(!dir.join("out.txt").exists());
    // The embedded stdlib still imports: it is not a host file.
    assert_eq!(run(r#"import "stdlib/lib/cli" as cli;"#, dir.clone()), 0);
    let _ = std::fs::remove_dir_all(&dir);
}
