//! Scenarios: the YAML model, its loader and its validation.

pub mod drive;
pub mod embedded;
pub mod error;
pub mod filter;
pub mod loader;
pub mod model;
pub mod parse;
pub mod profile;
pub mod template;
pub mod yaml;

pub use error::LoadError;
pub use filter::Filter;
pub use loader::{load_dir, load_embedded, load_files, load_str, load_suite};
pub use model::*;
pub use profile::Profile;
