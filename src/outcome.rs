//! Results of a run: what the engine produces and every report consumes.

use crate::codec::ProtocolVersion;
use serde::Serialize;
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Pass,
    Fail,
    /// Not run: a needed capability is missing (the reason says which).
    Skip,
    /// The tool could not reach a verdict (target unreachable, bad template...).
    Error,
}

/// Direction of a transcript line, seen from mqttspec.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    Sent,
    Received,
    /// Not a packet: connect, close, timeout, decode error...
    Event,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TranscriptEntry {
    /// Milliseconds since the scenario started.
    pub at_ms: f64,
    pub connection: String,
    pub direction: Direction,
    /// The decoded packet (or the event) in readable form.
    pub text: String,
    /// The raw bytes, hex; empty for events.
    pub hex: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Transcript {
    pub entries: Vec<TranscriptEntry>,
}

impl Transcript {
    /// One line per entry: `  12.3ms a -> PUBLISH ...`.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for e in &self.entries {
            let arrow = match e.direction {
                Direction::Sent => "->",
                Direction::Received => "<-",
                Direction::Event => "**",
            };
            out.push_str(&format!(
                "{:>9.1}ms {} {} {}",
                e.at_ms, e.connection, arrow, e.text
            ));
            if !e.hex.is_empty() {
                out.push_str(&format!("  [{}]", e.hex));
            }
            out.push('\n');
        }
        out
    }
}

/// A SHOULD-level finding, or a remark that does not change the verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Note {
    pub statement: Option<String>,
    pub message: String,
}

/// The result of one scenario on one protocol version.
#[derive(Debug, Clone, Serialize)]
pub struct ScenarioResult {
    pub id: String,
    pub title: String,
    pub protocol: ProtocolVersion,
    pub requirements: Vec<String>,
    pub section: String,
    pub verdict: Verdict,
    /// The statement a failure violated.
    pub violated: Option<String>,
    /// Why it failed, errored or was skipped.
    pub message: Option<String>,
    pub expected: Option<String>,
    pub observed: Option<String>,
    pub notes: Vec<Note>,
    #[serde(serialize_with = "as_millis")]
    pub duration: Duration,
    pub transcript: Transcript,
    /// `file:line` of the scenario.
    pub source: String,
}

fn as_millis<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(d.as_millis() as u64)
}

/// Identification of what was tested and how.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RunMeta {
    pub mqttspec_version: String,
    /// RFC 3339 UTC start time.
    pub started_at: String,
    /// e.g. `tcp://127.0.0.1:1883`, `spawn: mosquitto -p {port}`, `embedded`.
    pub target: String,
    /// Broker name and version when known (embedded broker, spawn, profile).
    pub broker: Option<String>,
    pub protocols: Vec<ProtocolVersion>,
    pub jobs: usize,
    pub duration_ms: u64,
}

/// Everything a run produced; the input of every report format.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RunReport {
    pub meta: RunMeta,
    pub scenarios: Vec<ScenarioResult>,
    /// Set when the target died during the run (a crash is its own verdict).
    pub target_died: Option<String>,
}
