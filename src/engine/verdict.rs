//! From failed checks to a verdict.
//!
//! * A failed MUST check ends the scenario: verdict Fail, naming the
//!   statement the check is for (its `checks`, else the scenario's first
//!   requirement).
//! * A failed SHOULD check (step `level: should`) is a note; the scenario goes on.
//! * In a `level: should` scenario the first failure ends it as a Pass with a note.
//! * Problems on the tool's side (bad template, unknown connection, target
//!   unreachable, deadline of the whole scenario) are Errors, never Fails.

use crate::codec::ProtocolVersion;
use crate::outcome::{Note, Verdict};
use crate::scenario::{Check, Level};

/// What ends a scenario before its last step.
#[derive(Debug, Clone, PartialEq)]
pub enum Stop {
    Fail(Failure),
    /// A failure in a SHOULD-level scenario: reported as a note.
    Noted,
    Error(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub statement: String,
    pub message: String,
    pub expected: Option<String>,
    pub observed: Option<String>,
}

/// The evidence of a failed check.
#[derive(Debug, Clone, Default)]
pub struct Evidence {
    pub message: String,
    pub expected: Option<String>,
    pub observed: Option<String>,
}

/// Collects notes and decides what a failed check does.
#[derive(Debug, Clone)]
pub struct Judge {
    scenario_level: Level,
    version: ProtocolVersion,
    first_requirement: String,
    pub notes: Vec<Note>,
}

impl Judge {
    /// `requirements` are the scenario's statements on `version`.
    pub fn new(scenario_level: Level, version: ProtocolVersion, requirements: &[String]) -> Judge {
        Judge {
            scenario_level,
            version,
            first_requirement: requirements.first().cloned().unwrap_or_default(),
            notes: Vec::new(),
        }
    }

    /// The statement a check is for.
    pub fn statement(&self, check: &Check) -> String {
        check
            .statement(self.version)
            .map_or_else(|| self.first_requirement.clone(), str::to_string)
    }

    /// A check failed: `Err` ends the scenario, `Ok` goes on after a note.
    pub fn failed(&mut self, check: &Check, ev: Evidence) -> Result<(), Stop> {
        let statement = self.statement(check);
        let should = check.level == Level::Should || self.scenario_level == Level::Should;
        if should {
            let mut message = format!("SHOULD not met: {}", ev.message);
            if let (Some(e), Some(o)) = (&ev.expected, &ev.observed) {
                message.push_str(&format!(" (expected {e}; observed {o})"));
            }
            self.notes.push(Note {
                statement: Some(statement),
                message,
            });
            if self.scenario_level == Level::Should {
                return Err(Stop::Noted);
            }
            return Ok(());
        }
        Err(Stop::Fail(Failure {
            statement,
            message: ev.message,
            expected: ev.expected,
            observed: ev.observed,
        }))
    }

    pub fn note(&mut self, statement: Option<String>, message: String) {
        self.notes.push(Note { statement, message });
    }
}

/// The verdict, statement and texts for a scenario that ended with `end`.
pub struct Outcome {
    pub verdict: Verdict,
    pub violated: Option<String>,
    pub message: Option<String>,
    pub expected: Option<String>,
    pub observed: Option<String>,
}

pub fn outcome(end: Result<(), Stop>) -> Outcome {
    match end {
        Ok(()) | Err(Stop::Noted) => Outcome {
            verdict: Verdict::Pass,
            violated: None,
            message: None,
            expected: None,
            observed: None,
        },
        Err(Stop::Fail(f)) => Outcome {
            verdict: Verdict::Fail,
            violated: Some(f.statement),
            message: Some(f.message),
            expected: f.expected,
            observed: f.observed,
        },
        Err(Stop::Error(message)) => Outcome {
            verdict: Verdict::Error,
            violated: None,
            message: Some(message),
            expected: None,
            observed: None,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(msg: &str) -> Evidence {
        Evidence {
            message: msg.into(),
            expected: Some("1".into()),
            observed: Some("0".into()),
        }
    }

    const V: ProtocolVersion = ProtocolVersion::V3_1_1;

    #[test]
    fn must_fails_with_the_checked_statement_or_the_first_requirement() {
        let reqs = vec!["MQTT-1".to_string(), "MQTT-2".to_string()];
        let mut j = Judge::new(Level::Must, V, &reqs);
        let e = j.failed(&Check::default(), ev("x")).unwrap_err();
        assert!(matches!(e, Stop::Fail(ref f) if f.statement == "MQTT-1"));
        let named = Check::of("MQTT-2", &[V], Level::Must);
        let e = j.failed(&named, ev("x")).unwrap_err();
        let o = outcome(Err(e));
        assert_eq!(o.verdict, Verdict::Fail);
        assert_eq!(o.violated.as_deref(), Some("MQTT-2"));
        assert_eq!(o.expected.as_deref(), Some("1"));
    }

    #[test]
    fn should_check_is_a_note_and_goes_on() {
        let mut j = Judge::new(Level::Must, V, &["MQTT-1".to_string()]);
        let should = Check {
            checks: Vec::new(),
            level: Level::Should,
        };
        assert!(j.failed(&should, ev("late")).is_ok());
        assert_eq!(j.notes.len(), 1);
        assert_eq!(j.notes[0].statement.as_deref(), Some("MQTT-1"));
        assert!(j.notes[0].message.contains("late"));
    }

    #[test]
    fn should_scenario_ends_as_a_pass_with_a_note() {
        let mut j = Judge::new(Level::Should, V, &["MQTT-1".to_string()]);
        let e = j.failed(&Check::default(), ev("no")).unwrap_err();
        assert_eq!(e, Stop::Noted);
        assert_eq!(outcome(Err(e)).verdict, Verdict::Pass);
        assert_eq!(j.notes.len(), 1);
    }

    #[test]
    fn a_check_names_the_statement_of_the_running_version() {
        let check = Check {
            checks: vec![
                (ProtocolVersion::V3_1_1, "MQTT-3.1.2-24".into()),
                (ProtocolVersion::V5, "MQTT-3.1.2-22".into()),
            ],
            level: Level::Must,
        };
        for (v, want) in [
            (ProtocolVersion::V3_1_1, "MQTT-3.1.2-24"),
            (ProtocolVersion::V5, "MQTT-3.1.2-22"),
        ] {
            let mut j = Judge::new(Level::Must, v, &["MQTT-9".to_string()]);
            let e = j.failed(&check, ev("late")).unwrap_err();
            assert!(
                matches!(e, Stop::Fail(ref f) if f.statement == want),
                "{v}: {e:?}"
            );
        }
        // A version the check does not name falls back to its first requirement.
        let only5 = Check::of("MQTT-5", &[ProtocolVersion::V5], Level::Must);
        let mut j = Judge::new(Level::Must, V, &["MQTT-1".to_string()]);
        let e = j.failed(&only5, ev("x")).unwrap_err();
        assert!(matches!(e, Stop::Fail(ref f) if f.statement == "MQTT-1"));
    }

    #[test]
    fn tool_problems_are_errors() {
        let o = outcome(Err(Stop::Error("bad template".into())));
        assert_eq!(o.verdict, Verdict::Error);
        assert_eq!(o.violated, None);
    }
}
