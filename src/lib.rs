//! mqttspec: an MQTT 3.1.1 and 5.0 conformance test suite.
//!
//! Data flows one way: scenario files are loaded into [`scenario::Scenario`]s,
//! the [`engine`] plays them against a [`target`] through the shared
//! [`codec`], and the [`report`] module writes the [`outcome::RunReport`].

pub mod app;
pub mod baseline;
pub mod cli;
pub mod codec;
pub mod driver;
pub mod engine;
pub mod fuzz;
pub mod outcome;
pub mod preflight;
pub mod report;
pub mod run;
pub mod scenario;
pub mod spec;
pub mod target;
