//! Rebuilds the library whenever anything under `cases/` changes, files
//! added or removed included, so the embedded scenario suite is never stale.

fn main() {
    println!("cargo:rerun-if-changed=cases");
}
