//! The catalog of normative statements (cases/spec/*.yaml) and the coverage
//! of it by the scenarios.

pub mod catalog;
pub mod coverage;

pub use catalog::{Catalog, Catalogs, Side, Statement};
pub use coverage::{coverage, Coverage};
