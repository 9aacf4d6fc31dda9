//! Markdown for a pull-request comment or a CI job summary: counts first,
//! then what went wrong, then one table row per statement and version.

use crate::outcome::{RunReport, Verdict};
use std::fmt::Write;

pub fn render(report: &RunReport) -> String {
    let summary = report.summary();
    let meta = &report.meta;
    let mut md = String::from("## mqttspec report\n\n");
    let s = summary.scenarios;
    let r = summary.requirements;
    let _ = writeln!(
        md,
        "**Scenarios:** {} pass, {} fail, {} error, {} skip. \
         **Requirements:** {} pass, {} fail, {} error, {} skip.\n",
        s.pass, s.fail, s.error, s.skip, r.pass, r.fail, r.error, r.skip
    );
    let _ = write!(md, "Target: `{}`", code(&meta.target));
    if let Some(b) = &meta.broker {
        let _ = write!(md, " ({})", text(b));
    }
    let _ = writeln!(
        md,
        "; mqttspec {}, {} ms, started {}.\n",
        text(&meta.mqttspec_version),
        meta.duration_ms,
        text(&meta.started_at)
    );
    if let Some(why) = &report.target_died {
        let _ = writeln!(md, "**The target died during the run:** {}\n", text(why));
    }
    if let Some(sig) = &report.interrupted {
        let _ = writeln!(
            md,
            "**The run was interrupted ({}):** unfinished scenarios are not run.\n",
            text(sig)
        );
    }

    let failures: Vec<_> = report
        .scenarios
        .iter()
        .filter(|s| s.verdict == Verdict::Fail)
        .collect();
    if !failures.is_empty() {
        md.push_str("### Failures\n\n");
        for f in failures {
            let _ = write!(
                md,
                "- **{}** ({}) `{}`: {}",
                text(f.charged_statement().unwrap_or("?")),
                f.protocol,
                code(&f.id),
                text(f.message.as_deref().unwrap_or("no detail"))
            );
            // The message often quotes both already; say each once.
            let message = f.message.as_deref().unwrap_or_default();
            if let Some(e) = f.expected.as_deref().filter(|e| !message.contains(e)) {
                let _ = write!(md, "; expected {}", text(e));
            }
            if let Some(o) = f.observed.as_deref().filter(|o| !message.contains(o)) {
                let _ = write!(md, "; observed {}", text(o));
            }
            md.push('\n');
        }
        md.push('\n');
    }
    let errors: Vec<_> = report
        .scenarios
        .iter()
        .filter(|s| s.verdict == Verdict::Error)
        .collect();
    if !errors.is_empty() {
        md.push_str("### Errors\n\n");
        for e in errors {
            let _ = writeln!(
                md,
                "- `{}` ({}): {}",
                code(&e.id),
                e.protocol,
                text(e.message.as_deref().unwrap_or("no verdict reached"))
            );
        }
        md.push('\n');
    }

    let reqs = report.requirements();
    let mut protocols: Vec<_> = reqs.iter().map(|r| r.protocol).collect();
    protocols.dedup();
    for p in protocols {
        let _ = writeln!(md, "### MQTT {p}\n");
        md.push_str("| Statement | Verdict | Scenarios |\n|---|---|---|\n");
        for r in reqs.iter().filter(|r| r.protocol == p) {
            let scenarios: Vec<String> = r
                .scenarios
                .iter()
                .map(|s| format!("`{}`", code(s)))
                .collect();
            let _ = writeln!(
                md,
                "| {} | {} | {} |",
                text(&r.id),
                r.verdict,
                scenarios.join(", ")
            );
        }
        md.push('\n');
    }
    md
}

/// Free text from the run (a broker's bytes can end up here): one line, every
/// character Markdown or HTML could act on backslash-escaped, so a message
/// can neither break the table nor inject markup or mentions.
fn text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\n' | '\r' | '\t' => out.push(' '),
            c if c.is_control() => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            // Free text never starts a line here, so only inline syntax
            // needs escaping.
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '~' | '#' | '&' | '@' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

/// Text inside a code span: backticks cannot be escaped there, so they are
/// replaced; pipes are escaped for tables (GitHub honours `\|` in code).
fn code(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '`' => "'".to_string(),
            '|' => "\\|".to_string(),
            '\n' | '\r' => " ".to_string(),
            c if c.is_control() => format!("\\u{{{:x}}}", c as u32),
            c => c.to_string(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::sample;

    #[test]
    fn summary_failures_then_tables() {
        let md = render(&sample::run());
        let summary = md
            .find("**Scenarios:** 2 pass, 1 fail, 1 error, 1 skip")
            .unwrap();
        let failures = md.find("### Failures").unwrap();
        let v3 = md.find("### MQTT 3.1.1").unwrap();
        let v5 = md.find("### MQTT 5.0").unwrap();
        assert!(summary < failures && failures < v3 && v3 < v5, "{md}");
        assert!(md.contains(
            "- **MQTT-3.3.1-4** (3.1.1) `publish/qos-3-closes`: the connection stayed open \\<after\\> \\& \"QoS 3\"; expected close; observed PUBACK id=1\n"
        ), "{md}");
        assert!(
            md.contains("| MQTT-3.3.1-4 | fail | `publish/qos-3-closes` |"),
            "{md}"
        );
        assert!(md.contains("| MQTT-3.3.1-6 | skip | `retain/new-subscriber` |"));
        assert!(md.contains("- `subscribe/wildcard` (5.0): connection refused"));
        // The 5.0 table holds the 5.0 pass of the same scenario.
        assert!(md[v5..].contains("| MQTT-3.3.1-4 | pass | `publish/qos-3-closes` |"));
    }

    #[test]
    fn expected_and_observed_are_not_repeated() {
        let mut run = sample::run();
        run.scenarios[1].message = Some("expected close, observed PUBACK id=1".into());
        let md = render(&run);
        assert!(
            md.contains("`publish/qos-3-closes`: expected close, observed PUBACK id=1\n"),
            "{md}"
        );
    }

    #[test]
    fn hostile_text_cannot_break_a_row() {
        assert_eq!(text("a|b\nc <!-- @x"), "a\\|b c \\<!-- \\@x");
        assert_eq!(code("a`b|c"), "a'b\\|c");
    }
}
