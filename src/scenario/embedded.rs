//! The `cases/` folder compiled into the binary, so an installed mqttspec
//! runs its suite without a checkout.
//!
//! `build.rs` makes any change under `cases/` (added and removed files
//! included) rebuild the library; a test compares the embedded files with
//! the folder.

use include_dir::{include_dir, Dir};

static CASES: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/cases");

/// The name embedded files are reported under, e.g. `cases/v5.0/server/3.3.yaml`.
pub const ROOT: &str = "cases";

/// Every embedded YAML file as (path relative to `cases/`, text), sorted by path.
/// Files that are not UTF-8 are returned with an empty text and reported by
/// the loader as such.
pub fn yaml_files() -> Vec<(&'static str, Option<&'static str>)> {
    let mut out = Vec::new();
    collect(&CASES, &mut out);
    out.sort_by_key(|(path, _)| *path);
    out
}

/// One embedded file by its path relative to `cases/`.
pub fn file(path: &str) -> Option<&'static str> {
    CASES.get_file(path).and_then(|f| f.contents_utf8())
}

fn collect(dir: &'static Dir<'static>, out: &mut Vec<(&'static str, Option<&'static str>)>) {
    for f in dir.files() {
        let Some(path) = f.path().to_str() else {
            continue;
        };
        if is_yaml(path) {
            out.push((path, f.contents_utf8()));
        }
    }
    for d in dir.dirs() {
        collect(d, out);
    }
}

pub(crate) fn is_yaml(path: &str) -> bool {
    path.ends_with(".yaml") || path.ends_with(".yml")
}
