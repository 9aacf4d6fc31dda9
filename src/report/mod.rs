//! Report formats, one file each. Every format reads a
//! [`RunReport`](crate::outcome::RunReport) and returns the whole document
//! as a string; [`write`] puts documents on disk atomically.

pub mod case_page;
pub mod html;
pub mod json;
pub mod junit;
pub mod markdown;
pub mod matrix;
pub mod read;
pub mod write;

use crate::codec::ProtocolVersion;

/// `3.1.1` -> `v3_1_1`: a protocol as an identifier segment.
pub(crate) fn protocol_slug(p: ProtocolVersion) -> String {
    format!("v{}", p.as_str().replace('.', "_"))
}

#[cfg(test)]
pub(crate) mod sample {
    //! A small hand-built run with one result of each verdict.

    use crate::codec::ProtocolVersion;
    use crate::outcome::*;
    use std::time::Duration;

    fn result(
        id: &str,
        protocol: ProtocolVersion,
        reqs: &[&str],
        verdict: Verdict,
    ) -> ScenarioResult {
        ScenarioResult {
            id: id.into(),
            title: format!("title of {id}"),
            protocol,
            requirements: reqs.iter().map(|s| s.to_string()).collect(),
            section: reqs[0]
                .trim_start_matches("MQTT-")
                .split('.')
                .take(2)
                .collect::<Vec<_>>()
                .join("."),
            verdict,
            violated: None,
            message: None,
            expected: None,
            observed: None,
            notes: vec![],
            duration: Duration::from_millis(12),
            transcript: Transcript::default(),
            source: format!("cases/{id}.yaml:3"),
        }
    }

    pub fn run() -> RunReport {
        let v3 = ProtocolVersion::V3_1_1;
        let v5 = ProtocolVersion::V5;
        let pass = result(
            "connect/reserved-flag",
            v3,
            &["MQTT-3.1.2-3"],
            Verdict::Pass,
        );
        let mut fail = result("publish/qos-3-closes", v3, &["MQTT-3.3.1-4"], Verdict::Fail);
        fail.violated = Some("MQTT-3.3.1-4".into());
        fail.message = Some("the connection stayed open <after> & \"QoS 3\"".into());
        fail.expected = Some("close".into());
        fail.observed = Some("PUBACK id=1".into());
        fail.transcript.entries = vec![
            TranscriptEntry {
                at_ms: 0.4,
                connection: "a".into(),
                direction: Direction::Sent,
                text: "PUBLISH qos=3 topic=\"x]]>y\" payload=<script>\u{1}".into(),
                hex: "36070003612f620001".into(),
            },
            TranscriptEntry {
                at_ms: 1.5,
                connection: "a".into(),
                direction: Direction::Received,
                text: "PUBACK id=1".into(),
                hex: "40020001".into(),
            },
        ];
        let mut skip = result(
            "retain/new-subscriber",
            v5,
            &["MQTT-3.3.1-6", "MQTT-3.3.1-8"],
            Verdict::Skip,
        );
        skip.message = Some("needs retain: the broker does not offer it".into());
        let mut error = result("subscribe/wildcard", v5, &["MQTT-3.8.3-1"], Verdict::Error);
        error.message = Some("connection refused".into());
        let mut pass5 = result("publish/qos-3-closes", v5, &["MQTT-3.3.1-4"], Verdict::Pass);
        pass5.notes.push(Note {
            statement: Some("MQTT-3.3.1-4".into()),
            message: "closed without DISCONNECT 0x81".into(),
        });
        RunReport {
            meta: RunMeta {
                mqttspec_version: "0.1.0".into(),
                started_at: "2024-05-06T07:08:09Z".into(),
                target: "tcp://127.0.0.1:1883".into(),
                broker: Some("mosquitto 2.0.18".into()),
                protocols: vec![v3, v5],
                jobs: 8,
                duration_ms: 1234,
            },
            scenarios: vec![pass, fail, skip, error, pass5],
            target_died: None,
            interrupted: None,
        }
    }
}
