//! Reading JSON reports back (for the matrix, `explain`, `replay` and
//! baselines). Reading is tolerant on purpose: reports written by older
//! and newer mqttspec versions must still load, so unknown fields are
//! ignored, missing ones get defaults, verdicts are kept as strings (a
//! newer writer may know verdicts this reader does not), and `violated`
//! is accepted as a string, a list of strings, or a list of `{id, role}`.

use serde_json::Value;
use std::path::Path;

/// Largest report file read; a bigger one is refused, not loaded.
pub const MAX_REPORT_BYTES: u64 = 512 * 1024 * 1024;

/// One report as read from disk.
#[derive(Debug, Clone, Default)]
pub struct LoadedReport {
    /// The file it came from, as given.
    pub file: String,
    pub broker: Option<String>,
    pub target: String,
    pub started_at: String,
    pub mqttspec_version: String,
    pub protocols: Vec<String>,
    pub scenarios: Vec<LoadedScenario>,
    /// Aggregated verdicts as the writer computed them, when present.
    pub requirements: Vec<LoadedRequirement>,
    pub target_died: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct LoadedScenario {
    pub id: String,
    pub protocol: String,
    /// `server` (mqttspec tested a broker) or `client`.
    pub side: String,
    pub title: String,
    pub section: String,
    pub requirements: Vec<String>,
    pub verdict: String,
    /// Statements a failure is charged to, in the writer's order.
    pub violated: Vec<String>,
    pub message: Option<String>,
    pub expected: Option<String>,
    pub observed: Option<String>,
    /// `[ID] message` or `message`.
    pub notes: Vec<String>,
    pub duration_ms: u64,
    pub source: String,
    pub transcript: Vec<LoadedEntry>,
}

#[derive(Debug, Clone, Default)]
pub struct LoadedEntry {
    pub at_ms: f64,
    pub connection: String,
    /// `sent`, `received` or `event`.
    pub direction: String,
    pub text: String,
    pub hex: String,
    /// The writer marked this entry as the one that broke the rule.
    pub marked: bool,
}

#[derive(Debug, Clone, Default)]
pub struct LoadedRequirement {
    pub id: String,
    pub protocol: String,
    pub verdict: String,
    pub scenarios: Vec<String>,
}

impl LoadedScenario {
    /// The statements a failure is charged to: the violated ones, else the
    /// first requirement. Empty unless the verdict is `fail`.
    pub fn charged(&self) -> Vec<&str> {
        if self.verdict != "fail" {
            return Vec::new();
        }
        if self.violated.is_empty() {
            self.requirements
                .iter()
                .take(1)
                .map(String::as_str)
                .collect()
        } else {
            self.violated.iter().map(String::as_str).collect()
        }
    }
}

/// Reads and parses one report file; the error is one line naming the file.
pub fn load(path: &Path) -> Result<LoadedReport, String> {
    let name = path.display().to_string();
    let meta = std::fs::metadata(path).map_err(|e| format!("{name}: {e}"))?;
    if meta.len() > MAX_REPORT_BYTES {
        return Err(format!(
            "{name}: {} bytes, more than the {MAX_REPORT_BYTES} a report may have",
            meta.len()
        ));
    }
    let text = std::fs::read_to_string(path).map_err(|e| format!("{name}: {e}"))?;
    parse(&name, &text)
}

/// Parses a report's text; `name` is used in errors and kept as `file`.
pub fn parse(name: &str, text: &str) -> Result<LoadedReport, String> {
    let v: Value = serde_json::from_str(text)
        .map_err(|e| format!("{name}:{}:{}: not a JSON report: {e}", e.line(), e.column()))?;
    if !v.is_object() || !v.get("scenarios").is_some_and(Value::is_array) {
        return Err(format!(
            "{name}: not an mqttspec JSON report (no `scenarios` list)"
        ));
    }
    let meta = &v["meta"];
    Ok(LoadedReport {
        file: name.to_string(),
        broker: opt_str(&meta["broker"]),
        target: str_of(&meta["target"]),
        started_at: str_of(&meta["started_at"]),
        mqttspec_version: str_of(&meta["mqttspec_version"]),
        protocols: strings(&meta["protocols"]),
        scenarios: list(&v["scenarios"]).iter().map(scenario).collect(),
        requirements: list(&v["requirements"])
            .iter()
            .map(|r| LoadedRequirement {
                id: str_of(&r["id"]),
                protocol: str_of(&r["protocol"]),
                verdict: str_of(&r["verdict"]),
                scenarios: strings(&r["scenarios"]),
            })
            .filter(|r| !r.id.is_empty())
            .collect(),
        target_died: opt_str(&v["target_died"]),
    })
}

fn scenario(s: &Value) -> LoadedScenario {
    let source = str_of(&s["source"]);
    let side = opt_str(&s["side"])
        .or_else(|| opt_str(&s["role"]))
        .unwrap_or_else(|| side_from_source(&source).to_string());
    let observed = opt_str(&s["observed"]);
    let mut transcript: Vec<LoadedEntry> = list(&s["transcript"])
        .iter()
        .map(|e| LoadedEntry {
            at_ms: e["at_ms"].as_f64().unwrap_or(0.0),
            connection: str_of(&e["connection"]),
            direction: str_of(&e["direction"]),
            text: str_of(&e["text"]),
            hex: str_of(&e["hex"]),
            marked: ["violation", "violating", "marked"]
                .iter()
                .any(|k| e[*k].as_bool() == Some(true)),
        })
        .collect();
    let verdict = str_of(&s["verdict"]);
    // Without a mark from the writer, the received packet that is exactly
    // the failure's `observed` is the one that broke the rule (the last
    // such one: the expectation that failed looked at the latest packet).
    if verdict == "fail" && !transcript.iter().any(|e| e.marked) {
        if let Some(obs) = &observed {
            if let Some(e) = transcript
                .iter_mut()
                .rev()
                .find(|e| e.direction == "received" && &e.text == obs)
            {
                e.marked = true;
            }
        }
    }
    LoadedScenario {
        id: str_of(&s["id"]),
        protocol: str_of(&s["protocol"]),
        side,
        title: str_of(&s["title"]),
        section: str_of(&s["section"]),
        requirements: strings(&s["requirements"]),
        verdict,
        violated: violated(&s["violated"]),
        message: opt_str(&s["message"]),
        expected: opt_str(&s["expected"]),
        observed,
        notes: list(&s["notes"])
            .iter()
            .map(
                |n| match (opt_str(&n["statement"]), opt_str(&n["message"])) {
                    (Some(id), Some(m)) => format!("[{id}] {m}"),
                    (None, Some(m)) => m,
                    _ => n.as_str().map(str::to_string).unwrap_or_default(),
                },
            )
            .filter(|n| !n.is_empty())
            .collect(),
        duration_ms: s["duration_ms"].as_u64().unwrap_or(0),
        source,
        transcript,
    }
}

/// `violated`: null, "ID", ["ID", ...] or [{id, role}, ...].
fn violated(v: &Value) -> Vec<String> {
    match v {
        Value::String(s) => vec![s.clone()],
        Value::Array(items) => items
            .iter()
            .filter_map(|i| match i {
                Value::String(s) => Some(s.clone()),
                Value::Object(_) => opt_str(&i["id"]),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// Scenarios against clients live under `.../client/...`.
pub fn side_from_source(source: &str) -> &'static str {
    if source.contains("/client/") {
        "client"
    } else {
        "server"
    }
}

fn list(v: &Value) -> &[Value] {
    v.as_array().map(Vec::as_slice).unwrap_or(&[])
}

fn str_of(v: &Value) -> String {
    opt_str(v).unwrap_or_default()
}

fn opt_str(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn strings(v: &Value) -> Vec<String> {
    list(v).iter().filter_map(opt_str).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{json, sample};

    #[test]
    fn reads_what_the_json_report_writes() {
        let r = parse("x.json", &json::render(&sample::run())).unwrap();
        assert_eq!(r.broker.as_deref(), Some("mosquitto 2.0.18"));
        assert_eq!(r.protocols, ["3.1.1", "5.0"]);
        assert_eq!(r.scenarios.len(), 5);
        let fail = &r.scenarios[1];
        assert_eq!(fail.verdict, "fail");
        assert_eq!(fail.side, "server");
        assert_eq!(fail.violated, ["MQTT-3.3.1-4"]);
        assert_eq!(fail.charged(), ["MQTT-3.3.1-4"]);
        // `observed` is the PUBACK: that entry is the marked one.
        let marked: Vec<_> = fail.transcript.iter().filter(|e| e.marked).collect();
        assert_eq!(marked.len(), 1);
        assert_eq!(marked[0].hex, "40020001");
        assert_eq!(
            r.scenarios[4].notes,
            ["[MQTT-3.3.1-4] closed without DISCONNECT 0x81"]
        );
        assert!(r
            .requirements
            .iter()
            .any(|q| q.id == "MQTT-3.3.1-4" && q.protocol == "3.1.1" && q.verdict == "fail"));
    }

    #[test]
    fn tolerates_other_shapes() {
        let text = r#"{"meta": {"broker": null}, "extra": 1, "scenarios": [
            {"id": "a", "protocol": "5.0", "verdict": "inconclusive", "source": "cases/v5.0/client/3.1.yaml:3",
             "violated": [{"id": "MQTT-1-1", "role": "duty"}, {"id": "MQTT-1-2", "role": "enforces"}],
             "transcript": [{"at_ms": 1, "direction": "received", "text": "X", "violation": true}]},
            {"id": "b", "verdict": "fail", "violated": ["MQTT-2-1"], "requirements": ["MQTT-2-2"]},
            {"id": "c", "verdict": "fail", "requirements": ["MQTT-3-1", "MQTT-3-2"]}
        ]}"#;
        let r = parse("y.json", text).unwrap();
        assert_eq!(r.broker, None);
        let a = &r.scenarios[0];
        assert_eq!(
            (a.side.as_str(), a.verdict.as_str()),
            ("client", "inconclusive")
        );
        assert_eq!(a.violated, ["MQTT-1-1", "MQTT-1-2"]);
        assert!(a.charged().is_empty());
        assert!(a.transcript[0].marked);
        assert_eq!(r.scenarios[1].charged(), ["MQTT-2-1"]);
        assert_eq!(r.scenarios[2].charged(), ["MQTT-3-1"]);
    }

    #[test]
    fn errors_name_the_file_and_position() {
        let e = parse("bad.json", "{\n  \"scenarios\": [,]\n}").unwrap_err();
        assert!(e.starts_with("bad.json:2:"), "{e}");
        let e = parse("bad.json", "[1, 2]").unwrap_err();
        assert_eq!(
            e,
            "bad.json: not an mqttspec JSON report (no `scenarios` list)"
        );
    }
}
