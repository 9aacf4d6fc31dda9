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
    /// Not run: the run stopped first (the target died, or an interrupt).
    NotRun,
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
    /// Set when a signal stopped the run (`SIGINT`, `SIGTERM`).
    pub interrupted: Option<String>,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Fail => "fail",
            Verdict::Skip => "skip",
            Verdict::Error => "error",
            Verdict::NotRun => "not run",
        }
    }
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.as_str())
    }
}

/// How many results had each verdict.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub pass: usize,
    pub fail: usize,
    pub skip: usize,
    pub error: usize,
    pub not_run: usize,
}

impl Counts {
    pub fn add(&mut self, v: Verdict) {
        match v {
            Verdict::Pass => self.pass += 1,
            Verdict::Fail => self.fail += 1,
            Verdict::Skip => self.skip += 1,
            Verdict::Error => self.error += 1,
            Verdict::NotRun => self.not_run += 1,
        }
    }

    pub fn total(&self) -> usize {
        self.pass + self.fail + self.skip + self.error + self.not_run
    }
}

impl std::fmt::Display for Counts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} passed, {} failed, {} errors, {} skipped",
            self.pass, self.fail, self.error, self.skip
        )?;
        if self.not_run > 0 {
            write!(f, ", {} not run", self.not_run)?;
        }
        Ok(())
    }
}

/// Counts over scenario results and over aggregated requirements.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub scenarios: Counts,
    pub requirements: Counts,
}

/// The verdict on one normative statement of one protocol version, from
/// every scenario that checks it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RequirementResult {
    pub id: String,
    pub protocol: ProtocolVersion,
    pub verdict: Verdict,
    /// Ids of the scenarios that list it (or violated it), sorted, unique.
    pub scenarios: Vec<String>,
}

impl ScenarioResult {
    /// The statement a failure is charged to: the violated one, else the
    /// first requirement (the default `checks` of every expectation).
    pub fn charged_statement(&self) -> Option<&str> {
        if self.verdict != Verdict::Fail {
            return None;
        }
        self.violated
            .as_deref()
            .or(self.requirements.first().map(String::as_str))
    }
}

impl RunReport {
    /// One verdict per (protocol, statement): fail if a scenario failed
    /// charging it; else error if a scenario listing it errored; else pass
    /// if one listing it passed; else skip. Sorted by protocol, then by the
    /// statement's numbers (so `MQTT-3.1.2-10` follows `MQTT-3.1.2-9`).
    pub fn requirements(&self) -> Vec<RequirementResult> {
        use std::collections::BTreeMap;
        #[derive(Default)]
        struct Acc {
            failed: bool,
            errored: bool,
            passed: bool,
            scenarios: Vec<String>,
        }
        let mut map: BTreeMap<(ProtocolVersion, String), Acc> = BTreeMap::new();
        for s in &self.scenarios {
            let charged = s.charged_statement();
            let mut ids: Vec<&str> = s.requirements.iter().map(String::as_str).collect();
            if let Some(c) = charged {
                if !ids.contains(&c) {
                    ids.push(c);
                }
            }
            for id in ids {
                let acc = map.entry((s.protocol, id.to_string())).or_default();
                acc.scenarios.push(s.id.clone());
                match s.verdict {
                    Verdict::Fail if charged == Some(id) => acc.failed = true,
                    // A failure charged to another statement says nothing
                    // about this one, neither pass nor error.
                    Verdict::Fail => {}
                    Verdict::Error => acc.errored = true,
                    Verdict::Pass => acc.passed = true,
                    Verdict::Skip | Verdict::NotRun => {}
                }
            }
        }
        let mut out: Vec<RequirementResult> = map
            .into_iter()
            .map(|((protocol, id), mut acc)| {
                acc.scenarios.sort();
                acc.scenarios.dedup();
                let verdict = if acc.failed {
                    Verdict::Fail
                } else if acc.errored {
                    Verdict::Error
                } else if acc.passed {
                    Verdict::Pass
                } else {
                    Verdict::Skip
                };
                RequirementResult {
                    id,
                    protocol,
                    verdict,
                    scenarios: acc.scenarios,
                }
            })
            .collect();
        out.sort_by(|a, b| {
            (a.protocol, statement_key(&a.id)).cmp(&(b.protocol, statement_key(&b.id)))
        });
        out
    }

    /// Counts of scenario verdicts and of aggregated requirement verdicts.
    pub fn summary(&self) -> Summary {
        let mut summary = Summary::default();
        for s in &self.scenarios {
            summary.scenarios.add(s.verdict);
        }
        for r in self.requirements() {
            summary.requirements.add(r.verdict);
        }
        summary
    }

    /// True when nothing failed or errored and the target stayed up
    /// (skips are allowed).
    pub fn is_success(&self) -> bool {
        self.target_died.is_none()
            && self.interrupted.is_none()
            && self
                .scenarios
                .iter()
                .all(|s| matches!(s.verdict, Verdict::Pass | Verdict::Skip))
    }
}

/// See [`statement_key`].
pub type StatementKey = Vec<(u64, String)>;

/// Sort key of a statement ID: its digit runs as numbers, the rest as text,
/// so `MQTT-3.1.2-10` sorts after `MQTT-3.1.2-9`.
pub fn statement_key(id: &str) -> StatementKey {
    let mut key = Vec::new();
    let mut rest = id;
    while !rest.is_empty() {
        let digits = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        if digits > 0 {
            let n = rest[..digits].parse().unwrap_or(u64::MAX);
            key.push((n, String::new()));
            rest = &rest[digits..];
        } else {
            let text = rest.len() - rest.trim_start_matches(|c: char| !c.is_ascii_digit()).len();
            key.push((0, rest[..text].to_string()));
            rest = &rest[text..];
        }
    }
    key
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(
        id: &str,
        p: ProtocolVersion,
        reqs: &[&str],
        v: Verdict,
        violated: Option<&str>,
    ) -> ScenarioResult {
        ScenarioResult {
            id: id.into(),
            title: String::new(),
            protocol: p,
            requirements: reqs.iter().map(|s| s.to_string()).collect(),
            section: "3.1".into(),
            verdict: v,
            violated: violated.map(Into::into),
            message: None,
            expected: None,
            observed: None,
            notes: vec![],
            duration: Duration::ZERO,
            transcript: Transcript::default(),
            source: String::new(),
        }
    }

    fn verdict_of(
        report: &RunReport,
        p: ProtocolVersion,
        id: &str,
    ) -> Option<(Verdict, Vec<String>)> {
        report
            .requirements()
            .into_iter()
            .find(|x| x.protocol == p && x.id == id)
            .map(|x| (x.verdict, x.scenarios))
    }

    #[test]
    fn aggregation_precedence() {
        use ProtocolVersion::{V3_1_1 as V3, V5};
        use Verdict::*;
        let report = RunReport {
            scenarios: vec![
                r("a", V3, &["MQTT-1-1", "MQTT-1-2"], Fail, Some("MQTT-1-1")),
                r("b", V3, &["MQTT-1-1"], Pass, None),
                r("c", V3, &["MQTT-1-2", "MQTT-1-3"], Error, None),
                r("d", V3, &["MQTT-1-3"], Pass, None),
                r("e", V3, &["MQTT-1-4"], Skip, None),
                r("f", V3, &["MQTT-1-4"], Pass, None),
                r("g", V3, &["MQTT-1-5"], Skip, None),
                // Violated statement not listed: still reported.
                r("h", V3, &["MQTT-1-6"], Fail, Some("MQTT-2-1")),
                // Failure without a violated statement: charged to the first.
                r("i", V3, &["MQTT-1-7", "MQTT-1-8"], Fail, None),
                r("a", V5, &["MQTT-1-1"], Pass, None),
            ],
            ..Default::default()
        };
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(
            verdict_of(&report, V3, "MQTT-1-1"),
            Some((Fail, s(&["a", "b"])))
        );
        // A failure charged elsewhere says nothing; the error decides.
        assert_eq!(
            verdict_of(&report, V3, "MQTT-1-2"),
            Some((Error, s(&["a", "c"])))
        );
        assert_eq!(
            verdict_of(&report, V3, "MQTT-1-3"),
            Some((Error, s(&["c", "d"])))
        );
        assert_eq!(
            verdict_of(&report, V3, "MQTT-1-4"),
            Some((Pass, s(&["e", "f"])))
        );
        assert_eq!(verdict_of(&report, V3, "MQTT-1-5"), Some((Skip, s(&["g"]))));
        assert_eq!(verdict_of(&report, V3, "MQTT-1-6"), Some((Skip, s(&["h"]))));
        assert_eq!(verdict_of(&report, V3, "MQTT-2-1"), Some((Fail, s(&["h"]))));
        assert_eq!(verdict_of(&report, V3, "MQTT-1-7"), Some((Fail, s(&["i"]))));
        assert_eq!(verdict_of(&report, V3, "MQTT-1-8"), Some((Skip, s(&["i"]))));
        assert_eq!(verdict_of(&report, V5, "MQTT-1-1"), Some((Pass, s(&["a"]))));

        let sum = report.summary();
        assert_eq!(
            sum.scenarios,
            Counts {
                pass: 4,
                fail: 3,
                skip: 2,
                error: 1,
                not_run: 0
            }
        );
        assert_eq!(
            sum.requirements,
            Counts {
                pass: 2,
                fail: 3,
                skip: 3,
                error: 2,
                not_run: 0
            }
        );
        assert!(!report.is_success());
    }

    #[test]
    fn requirements_sort_by_protocol_then_number() {
        use ProtocolVersion::{V3_1_1 as V3, V5};
        let report = RunReport {
            scenarios: vec![
                r("x", V5, &["MQTT-3.1.2-2"], Verdict::Pass, None),
                r(
                    "y",
                    V3,
                    &[
                        "MQTT-3.1.2-10",
                        "MQTT-3.1.2-9",
                        "MQTT-3.10.1-1",
                        "MQTT-3.2.1-1",
                    ],
                    Verdict::Pass,
                    None,
                ),
            ],
            ..Default::default()
        };
        let order: Vec<_> = report
            .requirements()
            .into_iter()
            .map(|r| format!("{} {}", r.protocol, r.id))
            .collect();
        assert_eq!(
            order,
            [
                "3.1.1 MQTT-3.1.2-9",
                "3.1.1 MQTT-3.1.2-10",
                "3.1.1 MQTT-3.2.1-1",
                "3.1.1 MQTT-3.10.1-1",
                "5.0 MQTT-3.1.2-2"
            ]
        );
    }

    #[test]
    fn success_allows_skips_but_not_errors_or_a_dead_target() {
        let mut report = RunReport {
            scenarios: vec![
                r("a", ProtocolVersion::V5, &["MQTT-1-1"], Verdict::Pass, None),
                r("b", ProtocolVersion::V5, &["MQTT-1-1"], Verdict::Skip, None),
            ],
            ..Default::default()
        };
        assert!(report.is_success());
        report.target_died = Some("gone".into());
        assert!(!report.is_success());
        report.target_died = None;
        report.scenarios.push(r(
            "c",
            ProtocolVersion::V5,
            &["MQTT-1-2"],
            Verdict::Error,
            None,
        ));
        assert!(!report.is_success());
    }
}
