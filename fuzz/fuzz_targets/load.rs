//! The whole loader on arbitrary compose text: parse, interpolate, extends,
//! include, normalise, validate, then print it back as `config` does (JSON
//! and YAML) or render the diagnostic. Any panic or hang is a bug.
#![no_main]

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use orch::compose::{emit, load, Options};

/// One folder per fuzzing process, with a `.env` and an env file the
/// input may refer to.
fn dir() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let d = std::env::temp_dir().join(format!("orch-fuzz-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join(".env"), "FROM_DOTENV=dotenv\nPORT=8080\n").unwrap();
        std::fs::write(d.join("app.env"), "A=1\nB=\"two ${A}\"\n").unwrap();
        d
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let d = dir();
    let file = d.join("compose.yaml");
    if std::fs::write(&file, text).is_err() {
        return;
    }
    let env: HashMap<String, String> = [("FOO", "bar"), ("EMPTY", ""), ("N", "3"), ("NESTED", "${FOO}")]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let opts = Options {
        files: vec![file],
        project_name: Some("fuzz".into()),
        env,
        cwd: d.clone(),
        ..Default::default()
    };
    match load(&opts) {
        Ok(p) => {
            let doc = orch::compose::load::escape_dollars(&p.doc);
            let _ = emit::to_yaml(&doc);
            let _ = serde_json::to_string_pretty(&orch::compose::load::without_service_extensions(&doc));
            let _ = orch::plan::desired::from_compose(&p.doc);
        }
        Err(e) => {
            let _ = e.render();
        }
    }
});
