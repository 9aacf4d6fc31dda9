//! Scenarios: the YAML model, its loader and its validation.

pub mod model;

pub use model::*;
