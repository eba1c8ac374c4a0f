//! Compose's `${VAR...}` syntax on arbitrary strings.
#![no_main]

use std::collections::HashMap;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else { return };
    let env: HashMap<String, String> = [("FOO", "bar"), ("EMPTY", "")]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let mut unset = Vec::new();
    let _ = orch::compose::interp::interpolate(s, &env, &mut unset);
});
