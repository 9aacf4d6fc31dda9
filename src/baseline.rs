//! Regression mode for peers that are not (yet) fully conformant: a
//! baseline file records the verdicts that are known and accepted, in the
//! format of `tests/expected/` (`"<protocol> <scenario id>": {verdict,
//! violated, flaky, reason}`; a scenario not listed is expected to pass),
//! and a run is compared with it: only a change for the worse fails.

use crate::outcome::{RunReport, ScenarioResult, Verdict};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// The placeholder `--save-baseline` writes for each failure's reason.
pub const REASON_PLACEHOLDER: &str = "TODO: say why this failure is known and accepted";

/// Largest baseline file read.
const MAX_BYTES: usize = 16 * 1024 * 1024;

/// One known verdict.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct Entry {
    /// `fail`, `error` or `skip` (`pass` is allowed and means nothing).
    pub verdict: String,
    /// The statement a known failure violates.
    pub violated: Option<String>,
    /// A pass is accepted too (timing-dependent behaviour).
    pub flaky: bool,
    pub reason: String,
}

/// `"<protocol> <scenario id>"` -> entry.
pub type Baseline = BTreeMap<String, Entry>;

/// The key of a scenario result: `3.1.1 3.3.1/qos-3-closes`.
pub fn key(r: &ScenarioResult) -> String {
    format!("{} {}", r.protocol, r.id)
}

/// Parses a baseline file; errors name the file (and the line where the
/// YAML parser gives one).
pub fn parse(name: &str, text: &str) -> Result<Baseline, String> {
    if text.len() > MAX_BYTES {
        return Err(format!("{name}: larger than {MAX_BYTES} bytes"));
    }
    if text.trim().is_empty() {
        return Ok(Baseline::new());
    }
    let b: Option<Baseline> = serde_saphyr::from_str(text).map_err(|e| format!("{name}: {e}"))?;
    let b = b.unwrap_or_default();
    for (k, e) in &b {
        if !matches!(e.verdict.as_str(), "pass" | "fail" | "error" | "skip") {
            return Err(format!(
                "{name}: \"{k}\": verdict `{}` is not pass, fail, error or skip",
                e.verdict
            ));
        }
    }
    Ok(b)
}

/// A baseline of `report`: every verdict other than pass. Failures and
/// errors get [`REASON_PLACEHOLDER`] (with what was observed, to help
/// fill it in); skips keep their reason.
pub fn save(report: &RunReport) -> String {
    let mut s = String::new();
    let who = match &report.meta.broker {
        Some(b) => format!("{} ({b})", report.meta.target),
        None => report.meta.target.clone(),
    };
    let _ = writeln!(
        s,
        "# mqttspec baseline: known verdicts of {who}, run {}.\n\
         # Key: \"<protocol> <scenario id>\"; a scenario not listed is expected to pass.\n\
         # Replace each TODO reason with why the failure is known and accepted;\n\
         # `mqttspec run --baseline FILE` then fails only on a change for the worse.",
        report.meta.started_at
    );
    let mut results: Vec<&ScenarioResult> = report
        .scenarios
        .iter()
        .filter(|r| matches!(r.verdict, Verdict::Fail | Verdict::Error | Verdict::Skip))
        .collect();
    results.sort_by_key(|r| key(r));
    for r in results {
        let _ = writeln!(s, "{}:", quote(&key(r)));
        let _ = writeln!(s, "  verdict: {}", r.verdict.as_str());
        if let Some(v) = r.charged_statement() {
            let _ = writeln!(s, "  violated: {}", quote(v));
        }
        let reason = match r.verdict {
            Verdict::Skip => r.message.clone().unwrap_or_else(|| "skipped".into()),
            _ => {
                let seen = r.message.as_deref().unwrap_or("no detail");
                format!("{REASON_PLACEHOLDER} ({seen})")
            }
        };
        let _ = writeln!(s, "  reason: {}", quote(&reason));
    }
    s
}

/// A YAML double-quoted scalar (JSON string syntax is valid YAML).
fn quote(s: &str) -> String {
    serde_json::to_string(s).expect("a string always serializes")
}

/// One result set against its baseline entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub key: String,
    /// Now: verdict and the statement a failure is charged to.
    pub verdict: Verdict,
    pub violated: Option<String>,
    pub message: Option<String>,
    /// The baseline: verdict (`pass` when not listed), statement, reason.
    pub was: String,
    pub was_violated: Option<String>,
    pub reason: String,
}

/// A run compared with a baseline.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Comparison {
    /// Failed or errored where the baseline says pass or skip (or errored
    /// where it says fail): regressions.
    pub new_failures: Vec<Change>,
    /// Failed on another statement than the baseline's: regressions.
    pub changed: Vec<Change>,
    /// Passed where the baseline has a failure or error: update the baseline.
    pub fixed: Vec<Change>,
    /// Failed (or errored) as the baseline says.
    pub known: Vec<Change>,
}

impl Comparison {
    pub fn regressed(&self) -> bool {
        !self.new_failures.is_empty() || !self.changed.is_empty()
    }

    /// Keys of the known failures and errors with their reasons, for the
    /// JUnit report (shown there as skipped).
    pub fn known_reasons(&self) -> BTreeMap<String, String> {
        self.known
            .iter()
            .map(|c| (c.key.clone(), c.reason.clone()))
            .collect()
    }

    /// The lines the summary ends with.
    pub fn render(&self, name: &str) -> String {
        let mut s = format!(
            "baseline {name}: {} new failures, {} changed, {} fixed, {} known failures\n",
            self.new_failures.len(),
            self.changed.len(),
            self.fixed.len(),
            self.known.len()
        );
        for c in &self.new_failures {
            let _ = writeln!(
                s,
                "  NEW     {} {}{} (baseline: {}): {}",
                c.key,
                c.verdict,
                c.violated
                    .as_deref()
                    .map(|v| format!(" {v}"))
                    .unwrap_or_default(),
                c.was,
                one_line(c.message.as_deref().unwrap_or("no detail"))
            );
        }
        for c in &self.changed {
            let _ = writeln!(
                s,
                "  CHANGED {} now violates {} (baseline: {})",
                c.key,
                c.violated.as_deref().unwrap_or("?"),
                c.was_violated.as_deref().unwrap_or("?")
            );
        }
        for c in &self.fixed {
            let _ = writeln!(
                s,
                "  FIXED   {} passes now (baseline: {}); remove it from the baseline",
                c.key, c.was
            );
        }
        for c in &self.known {
            let _ = writeln!(s, "  KNOWN   {}: {}", c.key, one_line(&c.reason));
        }
        s
    }
}

fn one_line(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// Compares every result of `report` with `baseline`. Skips and results
/// not run are never regressions: they say nothing about the peer.
pub fn compare(report: &RunReport, baseline: &Baseline) -> Comparison {
    let mut out = Comparison::default();
    for r in &report.scenarios {
        let k = key(r);
        let entry = baseline.get(&k);
        let was = entry.map_or("pass", |e| e.verdict.as_str());
        let change = Change {
            key: k.clone(),
            verdict: r.verdict,
            violated: r.charged_statement().map(str::to_string),
            message: r.message.clone(),
            was: was.to_string(),
            was_violated: entry.and_then(|e| e.violated.clone()),
            reason: entry.map(|e| e.reason.clone()).unwrap_or_default(),
        };
        match (r.verdict, was) {
            (Verdict::Fail, "fail") => {
                let same = match (&change.was_violated, &change.violated) {
                    (None, _) => true,
                    (Some(a), Some(b)) => a == b,
                    (Some(_), None) => false,
                };
                if same {
                    out.known.push(change);
                } else {
                    out.changed.push(change);
                }
            }
            (Verdict::Error, "error") => out.known.push(change),
            (Verdict::Fail | Verdict::Error, _) => out.new_failures.push(change),
            (Verdict::Pass, "fail" | "error") => out.fixed.push(change),
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::sample;

    #[test]
    fn saved_baseline_reads_back_and_matches_its_run() {
        let run = sample::run();
        let text = save(&run);
        assert!(text.contains(
            "\"3.1.1 publish/qos-3-closes\":\n  verdict: fail\n  violated: \"MQTT-3.3.1-4\"\n  reason: \"TODO: say why"
        ), "{text}");
        assert!(text.contains("\"5.0 retain/new-subscriber\":\n  verdict: skip\n  reason: \"needs retain: the broker does not offer it\"\n"));
        assert!(!text.contains("connect/reserved-flag"));
        let b = parse("b.yaml", &text).unwrap();
        assert_eq!(b.len(), 3);
        assert_eq!(
            b["3.1.1 publish/qos-3-closes"].violated.as_deref(),
            Some("MQTT-3.3.1-4")
        );
        // The run it was saved from does not regress.
        let c = compare(&run, &b);
        assert!(!c.regressed(), "{c:?}");
        assert_eq!(c.known.len(), 2);
        let junit = c.known_reasons();
        assert!(junit["3.1.1 publish/qos-3-closes"].starts_with("TODO"));
    }

    #[test]
    fn regressions_fixes_and_changed_statements() {
        let mut run = sample::run();
        let baseline = parse(
            "b.yaml",
            "\"3.1.1 publish/qos-3-closes\":\n  verdict: fail\n  violated: MQTT-3.3.1-4\n  reason: accepted\n\
             \"5.0 subscribe/wildcard\": {verdict: error, reason: flaky network}\n\
             \"3.1.1 connect/reserved-flag\": {verdict: fail, reason: old bug}\n",
        )
        .unwrap();
        let c = compare(&run, &baseline);
        assert!(!c.regressed());
        assert_eq!(c.fixed.len(), 1);
        assert_eq!(c.fixed[0].key, "3.1.1 connect/reserved-flag");
        assert_eq!(c.known.len(), 2);
        let text = c.render("b.yaml");
        assert!(text.starts_with(
            "baseline b.yaml: 0 new failures, 0 changed, 1 fixed, 2 known failures\n"
        ));
        assert!(text.contains("  KNOWN   3.1.1 publish/qos-3-closes: accepted\n"));
        assert!(text.contains("  FIXED   3.1.1 connect/reserved-flag passes now (baseline: fail)"));

        // A pass turning into a failure, and a failure on another statement.
        run.scenarios[0].verdict = Verdict::Fail;
        run.scenarios[0].message = Some("closed".into());
        run.scenarios[1].violated = Some("MQTT-4.8.0-1".into());
        let c = compare(&run, &baseline);
        assert!(c.regressed());
        let mut b2 = baseline.clone();
        b2.remove("3.1.1 connect/reserved-flag");
        let c = compare(&run, &b2);
        assert_eq!(c.new_failures.len(), 1);
        assert_eq!(c.new_failures[0].key, "3.1.1 connect/reserved-flag");
        assert_eq!(c.changed.len(), 1);
        let text = c.render("b.yaml");
        assert!(text.contains("  NEW     3.1.1 connect/reserved-flag fail MQTT-3.1.2-3 (baseline: pass): closed\n"), "{text}");
        assert!(text.contains("  CHANGED 3.1.1 publish/qos-3-closes now violates MQTT-4.8.0-1 (baseline: MQTT-3.3.1-4)\n"));

        // An error where the baseline says pass is a regression too; a skip is not.
        let mut run = sample::run();
        run.scenarios[1].verdict = Verdict::Skip;
        let c = compare(&run, &Baseline::new());
        assert_eq!(c.new_failures.len(), 1);
        assert_eq!(c.new_failures[0].key, "5.0 subscribe/wildcard");
    }

    #[test]
    fn bad_files() {
        assert!(parse("b.yaml", "").unwrap().is_empty());
        let e = parse("b.yaml", "\"x\": {verdict: maybe, reason: r}\n").unwrap_err();
        assert!(e.contains("verdict `maybe`"), "{e}");
        let e = parse("b.yaml", "\"x\": [1,\n").unwrap_err();
        assert!(e.starts_with("b.yaml: "), "{e}");
    }
}
