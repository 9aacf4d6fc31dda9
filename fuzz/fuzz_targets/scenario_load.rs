//! Loading arbitrary text as a scenario file returns scenarios or an error,
//! never panics, and an error points into the text it was given.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mqttspec::scenario::loader;
use mqttspec::spec::Catalogs;
use std::sync::OnceLock;

const NAME: &str = "fuzz.yaml";

fn catalogs() -> &'static Catalogs {
    static CATALOGS: OnceLock<Catalogs> = OnceLock::new();
    CATALOGS.get_or_init(|| Catalogs::embedded().expect("the built-in catalogs load"))
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Err(e) = loader::load_str(NAME, text, catalogs()) {
        assert_eq!(e.file, NAME, "error names another file: {e:?}");
        // Line 0 is an error about the file as a whole. Any of the YAML
        // line breaks may start a line (CR LF is counted twice: an upper bound).
        let breaks = ['\n', '\r', '\u{85}', '\u{2028}', '\u{2029}'];
        let lines = 1 + text.chars().filter(|c| breaks.contains(c)).count();
        assert!(
            e.line <= lines,
            "error at line {} of a {lines}-line text: {e:?}",
            e.line
        );
    }
});
