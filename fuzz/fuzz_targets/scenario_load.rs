//! Loading arbitrary text as a scenario file returns scenarios or errors,
//! never panics, and every error names a place in the file.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mqttspec::scenario::loader;
use mqttspec::spec::Catalogs;
use std::sync::OnceLock;

fn catalogs() -> &'static Catalogs {
    static CATALOGS: OnceLock<Catalogs> = OnceLock::new();
    CATALOGS.get_or_init(Catalogs::builtin)
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = loader::load_str("fuzz.yaml", text, catalogs());
});
