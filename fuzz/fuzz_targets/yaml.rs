//! The spanned YAML parser (anchors, aliases, merge keys, tags) on
//! arbitrary text.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else { return };
    let _ = orch::compose::yaml::parse(s, 0);
});
