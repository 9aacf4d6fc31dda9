//! JUnit XML, the format CI systems (Jenkins, GitLab, GitHub actions)
//! display natively.
//!
//! One `testsuite` per protocol version and spec section, one `testcase` per
//! scenario result. `testcase@name` starts with the statement IDs so a CI
//! page reads as a list of requirements; `classname` is
//! `mqtt.v3_1_1.section_3_3`. The packet transcript goes in `system-out`.

use crate::codec::ProtocolVersion;
use crate::outcome::{statement_key, RunReport, ScenarioResult, StatementKey, Verdict};
use junit_report::{Duration, OffsetDateTime, Report, TestCase, TestCaseBuilder, TestSuite};
use std::collections::BTreeMap;

/// The whole JUnit document.
pub fn render(report: &RunReport) -> String {
    let timestamp =
        parse_rfc3339_utc(&report.meta.started_at).unwrap_or_else(OffsetDateTime::now_utc);

    // Group by (protocol, section), sections in numeric order.
    let mut groups: BTreeMap<(ProtocolVersion, StatementKey, String), Vec<&ScenarioResult>> =
        BTreeMap::new();
    for s in &report.scenarios {
        groups
            .entry((s.protocol, statement_key(&s.section), s.section.clone()))
            .or_default()
            .push(s);
    }

    let mut suites = Vec::new();
    let mut skipped_per_suite = Vec::new();
    for ((protocol, _, section), results) in groups {
        let class = classname(protocol, &section);
        let mut suite = TestSuite::new(&class);
        suite.package = format!("mqtt.{}", super::protocol_slug(protocol));
        suite.set_timestamp(timestamp);
        for s in &results {
            suite.add_testcase(testcase(s, &class));
        }
        skipped_per_suite.push(
            results
                .iter()
                .filter(|s| s.verdict == Verdict::Skip)
                .count(),
        );
        suites.push(suite);
    }
    if let Some(why) = &report.target_died {
        // A crash of the peer is a result of its own, visible in CI as an error.
        let mut suite = TestSuite::new("mqttspec.target");
        suite.package = "mqttspec".into();
        suite.set_timestamp(timestamp);
        let name = format!("target {}", xml_text(&report.meta.target));
        let tc = TestCaseBuilder::error(&name, Duration::ZERO, "target-died", &xml_text(why))
            .set_classname("mqttspec.target")
            .build();
        suite.add_testcase(tc);
        skipped_per_suite.push(0);
        suites.push(suite);
    }

    let mut doc = Report::new();
    doc.add_testsuites(suites);
    let mut out = Vec::new();
    doc.write_xml(&mut out)
        .expect("writing XML to memory cannot fail");
    let xml = String::from_utf8(out).expect("the XML writer produces UTF-8");
    fix_up(&xml, &skipped_per_suite)
}

/// The JUnit document with the known failures of a baseline (key
/// `"<protocol> <scenario id>"` -> reason) shown as skipped, with the
/// reason, as the project's own harness shows expected failures.
pub fn render_known(report: &RunReport, known: &BTreeMap<String, String>) -> String {
    let mut r = report.clone();
    for s in &mut r.scenarios {
        if let Some(reason) = known.get(&crate::baseline::key(s)) {
            s.message = Some(format!("known {} (baseline): {reason}", s.verdict));
            s.verdict = Verdict::Skip;
        }
    }
    render(&r)
}

/// `mqtt.v3_1_1.section_3_3`.
pub fn classname(protocol: ProtocolVersion, section: &str) -> String {
    let section: String = section
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    let section = if section.is_empty() {
        "unknown".into()
    } else {
        section
    };
    format!(
        "mqtt.{}.section_{}",
        super::protocol_slug(protocol),
        section
    )
}

/// `MQTT-3.3.1-4 publish/qos-3-closes`.
pub fn testcase_name(s: &ScenarioResult) -> String {
    let mut name = String::new();
    for r in &s.requirements {
        name.push_str(r);
        name.push(' ');
    }
    name.push_str(&s.id);
    name
}

fn testcase(s: &ScenarioResult, class: &str) -> TestCase {
    let name = xml_text(&testcase_name(s));
    let time = Duration::microseconds(s.duration.as_micros().min(i64::MAX as u128) as i64);
    let mut tc = match s.verdict {
        Verdict::Pass => TestCaseBuilder::success(&name, time),
        Verdict::Fail => {
            let violated = s.charged_statement().unwrap_or("requirement");
            let message = format!(
                "{violated} violated: {}",
                s.message.as_deref().unwrap_or("no detail")
            );
            let mut b = TestCaseBuilder::failure(&name, time, violated, &xml_text(&message));
            b.set_trace(&cdata(&failure_detail(s, violated)));
            b
        }
        Verdict::Error => {
            let message = s.message.as_deref().unwrap_or("no verdict reached");
            let mut b = TestCaseBuilder::error(&name, time, "error", &xml_text(message));
            b.set_trace(&cdata(&format!("source: {}\n", s.source)));
            b
        }
        Verdict::Skip | Verdict::NotRun => TestCaseBuilder::skipped_with_cause(
            &name,
            s.verdict.as_str(),
            &xml_text(s.message.as_deref().unwrap_or("not run")),
        ),
    };
    tc.set_classname(class);
    let out = system_out(s);
    if !out.is_empty() {
        tc.set_system_out(&cdata(&out));
    }
    tc.build()
}

fn failure_detail(s: &ScenarioResult, violated: &str) -> String {
    let mut d = format!("violated: {violated}\n");
    if let Some(m) = &s.message {
        d.push_str(&format!("message:  {m}\n"));
    }
    d.push_str(&format!(
        "expected: {}\n",
        s.expected.as_deref().unwrap_or("(not recorded)")
    ));
    d.push_str(&format!(
        "observed: {}\n",
        s.observed.as_deref().unwrap_or("(not recorded)")
    ));
    d.push_str(&format!("source:   {}\n", s.source));
    d
}

fn system_out(s: &ScenarioResult) -> String {
    let mut out = String::new();
    for n in &s.notes {
        match &n.statement {
            Some(id) => out.push_str(&format!("note [{id}]: {}\n", n.message)),
            None => out.push_str(&format!("note: {}\n", n.message)),
        }
    }
    if !s.transcript.entries.is_empty() {
        out.push_str(&s.transcript.render());
    }
    out
}

/// Replaces characters XML 1.0 cannot carry at all (most C0 controls,
/// U+FFFE, U+FFFF) by a visible `\u{..}` escape. A broker may put anything
/// in a topic or payload; the report must stay parseable.
pub fn xml_text(s: &str) -> String {
    let ok = |c: char| {
        matches!(c, '\t' | '\n' | '\r')
            || ('\u{20}'..='\u{D7FF}').contains(&c)
            || ('\u{E000}'..='\u{FFFD}').contains(&c)
            || c >= '\u{10000}'
    };
    if s.chars().all(ok) {
        return s.to_string();
    }
    s.chars()
        .map(|c| {
            if ok(c) {
                c.to_string()
            } else {
                format!("\\u{{{:x}}}", c as u32)
            }
        })
        .collect()
}

/// Text destined for a CDATA section: [`xml_text`], and any `]]>` split
/// across two sections so it cannot end the section early.
fn cdata(s: &str) -> String {
    xml_text(s).replace("]]>", "]]]]><![CDATA[>")
}

/// Two corrections to the XML writer's output, applied to start tags in
/// document order (CDATA content is copied untouched): `testsuite` gets the
/// `skipped` count the writer lacks, and `skipped` loses the `type`
/// attribute that the common JUnit schema does not allow there.
fn fix_up(xml: &str, skipped_counts: &[usize]) -> String {
    const SUITE: &str = "<testsuite ";
    const SKIPPED: &str = "<skipped type=\"skip\" ";
    const CDATA_OPEN: &str = "<![CDATA[";
    let mut out = String::with_capacity(xml.len() + skipped_counts.len() * 16);
    let mut counts = skipped_counts.iter();
    let mut rest = xml;
    while let Some(pos) = rest.find('<') {
        out.push_str(&rest[..pos]);
        rest = &rest[pos..];
        if rest.starts_with(CDATA_OPEN) {
            let end = rest.find("]]>").map(|e| e + 3).unwrap_or(rest.len());
            out.push_str(&rest[..end]);
            rest = &rest[end..];
        } else if rest.starts_with(SUITE) {
            out.push_str(SUITE);
            if let Some(n) = counts.next() {
                out.push_str(&format!("skipped=\"{n}\" "));
            }
            rest = &rest[SUITE.len()..];
        } else if rest.starts_with(SKIPPED) {
            out.push_str("<skipped ");
            rest = &rest[SKIPPED.len()..];
        } else {
            out.push('<');
            rest = &rest[1..];
        }
    }
    out.push_str(rest);
    out
}

/// `2024-05-06T07:08:09Z` or with fractional seconds; UTC only (what the
/// run records).
fn parse_rfc3339_utc(s: &str) -> Option<OffsetDateTime> {
    let b = s.as_bytes();
    if b.len() < 20 || !s.ends_with('Z') || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let t = s.get(r)?;
        if t.bytes().all(|c| c.is_ascii_digit()) {
            t.parse().ok()
        } else {
            None
        }
    };
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, sec) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || sec > 60 {
        return None;
    }
    // Days since 1970-01-01 of a proleptic Gregorian date.
    let (y, mo) = if mo <= 2 {
        (y - 1, mo + 9)
    } else {
        (y, mo - 3)
    };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * mo + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    OffsetDateTime::from_unix_timestamp(days * 86_400 + h * 3600 + mi * 60 + sec).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::sample;

    #[test]
    fn names_classes_and_results() {
        let xml = render(&sample::run());
        assert!(
            xml.contains(r#"name="MQTT-3.3.1-4 publish/qos-3-closes""#),
            "{xml}"
        );
        assert!(xml.contains(r#"classname="mqtt.v3_1_1.section_3_3""#));
        assert!(
            xml.contains(r#"<testsuite skipped="0" id="0" name="mqtt.v3_1_1.section_3_1""#),
            "{xml}"
        );
        assert!(xml.contains(r#"name="mqtt.v5_0.section_3_3""#));
        assert!(xml.contains(r#"skipped="1""#));
        assert!(xml.contains(r#"<failure type="MQTT-3.3.1-4" message="MQTT-3.3.1-4 violated: the connection stayed open &lt;after&gt; &amp; &quot;QoS 3&quot;""#), "{xml}");
        assert!(xml.contains("expected: close"));
        assert!(xml.contains("observed: PUBACK id=1"));
        assert!(xml.contains(r#"<skipped message="needs retain: the broker does not offer it"/>"#));
        assert!(xml.contains(r#"<error type="error" message="connection refused">"#));
        assert!(xml.contains(r#"timestamp="2024-05-06T07:08:09Z""#), "{xml}");
    }

    #[test]
    fn hostile_text_stays_well_formed() {
        let xml = render(&sample::run());
        // `]]>` inside the transcript is split, the control character escaped.
        assert!(xml.contains(r#"topic="x]]]]><![CDATA[>y""#), "{xml}");
        assert!(xml.contains(r"payload=<script>\u{1}"));
        assert!(!xml.contains('\u{1}'));
    }

    #[test]
    fn target_death_is_an_error_testcase() {
        let mut run = sample::run();
        run.target_died = Some("process exited with signal 11".into());
        let xml = render(&run);
        assert!(
            xml.contains(r#"<error type="target-died" message="process exited with signal 11"/>"#),
            "{xml}"
        );
    }

    #[test]
    fn rfc3339() {
        let t = parse_rfc3339_utc("2024-05-06T07:08:09Z").unwrap();
        assert_eq!(t.unix_timestamp(), 1_714_979_289);
        assert_eq!(
            parse_rfc3339_utc("1970-01-01T00:00:00.123Z")
                .unwrap()
                .unix_timestamp(),
            0
        );
        assert!(parse_rfc3339_utc("2024-13-06T07:08:09Z").is_none());
        assert!(parse_rfc3339_utc("yesterday").is_none());
    }

    #[test]
    fn fix_up_ignores_cdata() {
        let xml = r#"<a><testsuite id="0"><x><![CDATA[<testsuite <skipped type="skip" ]]><skipped type="skip" message="m"/></x></testsuite><testsuite id="1"/></a>"#;
        assert_eq!(
            fix_up(xml, &[2, 3]),
            r#"<a><testsuite skipped="2" id="0"><x><![CDATA[<testsuite <skipped type="skip" ]]><skipped message="m"/></x></testsuite><testsuite skipped="3" id="1"/></a>"#
        );
    }
}
