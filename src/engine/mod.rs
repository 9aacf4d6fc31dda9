//! Runs one scenario against a peer: connections, sends, expectations,
//! timers, variables, verdict.
//!
//! [`run_scenario`] plays one [`Scenario`] on one protocol version against an
//! [`Endpoint`] and returns its [`ScenarioResult`] with the full transcript.
//! It never panics on what the peer does and always ends: every wait has a
//! deadline and so does the whole scenario.

pub mod cleanup;
pub mod connection;
mod drive;
pub mod expect_count;
pub mod matcher;
pub mod probe;
pub mod state;
pub mod steps;
#[cfg(test)]
pub(crate) mod testkit;
pub mod transcript;
pub mod vars;
pub mod verdict;
pub mod websocket;

use crate::codec::ProtocolVersion;
use crate::outcome::ScenarioResult;
use crate::scenario::Scenario;
use crate::target::Endpoint;
use serde_json::Value;
use std::time::{Duration, Instant};

pub use vars::Namespaces;

/// Settings shared by every trial of a run.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// Deadline of a waiting step without `within`.
    pub step_timeout: Duration,
    /// Deadline of a scenario without `timeout`.
    pub scenario_timeout: Duration,
    /// Largest packet accepted from the peer; a larger length claim is a
    /// decode error, never an allocation.
    pub max_packet_size: usize,
    /// Variables from the profile (`username`, `password`, `denied_topic`).
    pub profile_vars: Vec<(String, Value)>,
    /// User name and password every CONNECT of `open` carries unless the
    /// scenario gives either itself or overrides the connect flags: for
    /// brokers that let no client in without them.
    pub login: Option<Login>,
}

/// A user name and password (see [`EngineConfig::login`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Login {
    pub username: String,
    pub password: String,
}

/// Default of [`EngineConfig::max_packet_size`].
pub const DEFAULT_MAX_PACKET_SIZE: usize = 1024 * 1024;

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            step_timeout: Duration::from_secs(2),
            scenario_timeout: Duration::from_secs(10),
            max_packet_size: DEFAULT_MAX_PACKET_SIZE,
            profile_vars: Vec::new(),
            login: None,
        }
    }
}

/// Plays `scenario` on `version` against `endpoint`. `ns` must be unique
/// among the trials that share the peer (see [`Namespaces`]).
pub async fn run_scenario(
    scenario: &Scenario,
    version: ProtocolVersion,
    ns: &str,
    endpoint: &Endpoint,
    config: &EngineConfig,
) -> ScenarioResult {
    let started = Instant::now();
    let mut runner = steps::Runner::new(scenario, version, ns, endpoint, config, started);
    let end = runner.run().await;
    runner.cleanup().await;
    let outcome = verdict::outcome(end);
    ScenarioResult {
        id: scenario.id.clone(),
        title: scenario.title.clone(),
        protocol: version,
        requirements: scenario.requirements_for(version).to_vec(),
        section: scenario.section.clone(),
        verdict: outcome.verdict,
        violated: outcome.violated,
        message: outcome.message,
        expected: outcome.expected,
        observed: outcome.observed,
        notes: runner.judge.notes.clone(),
        duration: started.elapsed(),
        transcript: runner.log.snapshot(),
        source: format!(
            "{}:{}",
            scenario.source.file.display(),
            scenario.source.line
        ),
        attempts: Vec::new(),
    }
}
