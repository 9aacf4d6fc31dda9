//! The JSON report: everything a run produced, for other tools (result
//! pages, dashboards, diffs between brokers). Its shape is documented in
//! `reports/schema/report.schema.json`; [`SCHEMA_VERSION`] changes whenever
//! that shape does.

use crate::codec::ProtocolVersion;
use crate::outcome::{
    Note, RequirementResult, RunMeta, RunReport, ScenarioResult, Summary, TranscriptEntry, Verdict,
};
use serde::Serialize;

pub const SCHEMA_VERSION: u32 = 1;

#[derive(Serialize)]
struct Document<'a> {
    schema_version: u32,
    meta: &'a RunMeta,
    summary: Summary,
    scenarios: Vec<Scenario<'a>>,
    requirements: Vec<RequirementResult>,
    target_died: Option<&'a str>,
    interrupted: Option<&'a str>,
}

#[derive(Serialize)]
struct Scenario<'a> {
    id: &'a str,
    protocol: ProtocolVersion,
    title: &'a str,
    section: &'a str,
    requirements: &'a [String],
    verdict: Verdict,
    violated: Option<&'a str>,
    message: Option<&'a str>,
    expected: Option<&'a str>,
    observed: Option<&'a str>,
    notes: &'a [Note],
    duration_ms: u64,
    source: &'a str,
    transcript: &'a [TranscriptEntry],
}

impl<'a> From<&'a ScenarioResult> for Scenario<'a> {
    fn from(s: &'a ScenarioResult) -> Self {
        Scenario {
            id: &s.id,
            protocol: s.protocol,
            title: &s.title,
            section: &s.section,
            requirements: &s.requirements,
            verdict: s.verdict,
            violated: s.violated.as_deref(),
            message: s.message.as_deref(),
            expected: s.expected.as_deref(),
            observed: s.observed.as_deref(),
            notes: &s.notes,
            duration_ms: s.duration.as_millis().min(u64::MAX as u128) as u64,
            source: &s.source,
            transcript: &s.transcript.entries,
        }
    }
}

/// The whole JSON document, pretty-printed, ending with a newline.
pub fn render(report: &RunReport) -> String {
    let doc = Document {
        schema_version: SCHEMA_VERSION,
        meta: &report.meta,
        summary: report.summary(),
        scenarios: report.scenarios.iter().map(Scenario::from).collect(),
        requirements: report.requirements(),
        target_died: report.target_died.as_deref(),
        interrupted: report.interrupted.as_deref(),
    };
    let mut s = serde_json::to_string_pretty(&doc).expect("the report model always serializes");
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::sample;
    use serde_json::Value;

    #[test]
    fn shape_and_values() {
        let v: Value = serde_json::from_str(&render(&sample::run())).unwrap();
        assert_eq!(v["schema_version"], 1);
        assert_eq!(v["meta"]["target"], "tcp://127.0.0.1:1883");
        assert_eq!(v["meta"]["protocols"], serde_json::json!(["3.1.1", "5.0"]));
        assert_eq!(v["summary"]["scenarios"]["fail"], 1);
        assert_eq!(v["summary"]["scenarios"]["pass"], 2);
        let fail = &v["scenarios"][1];
        assert_eq!(fail["verdict"], "fail");
        assert_eq!(fail["violated"], "MQTT-3.3.1-4");
        assert_eq!(fail["duration_ms"], 12);
        assert_eq!(fail["transcript"][1]["direction"], "received");
        assert_eq!(fail["transcript"][1]["hex"], "40020001");
        let reqs = v["requirements"].as_array().unwrap();
        let r = reqs
            .iter()
            .find(|r| r["id"] == "MQTT-3.3.1-4" && r["protocol"] == "3.1.1")
            .unwrap();
        assert_eq!(r["verdict"], "fail");
        assert_eq!(r["scenarios"], serde_json::json!(["publish/qos-3-closes"]));
        assert_eq!(v["target_died"], Value::Null);
    }
}
