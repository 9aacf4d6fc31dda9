//! A single self-contained HTML page (inline style, no script, no external
//! asset): the summary, a statement × protocol matrix, and one block per
//! scenario result with its packet transcript. Every string from the run is
//! escaped.

use crate::codec::ProtocolVersion;
use crate::outcome::{statement_key, RunReport, ScenarioResult, StatementKey, Verdict};
use std::collections::BTreeMap;
use std::fmt::Write;

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:2em;color:#222}\
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:.2em .6em;text-align:left;vertical-align:top}\
.pass{background:#dff0d8}.fail{background:#f2dede}.error{background:#fcf8e3}.skip{background:#eee}\
pre{background:#f6f6f6;padding:.6em;overflow-x:auto}details{margin:.3em 0}summary{cursor:pointer}\
dt{font-weight:bold}dd{margin:0 0 .4em 1.5em}";

pub fn render(report: &RunReport) -> String {
    let meta = &report.meta;
    let summary = report.summary();
    let mut h = String::new();
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <title>mqttspec report: {}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n\
         <h1>mqttspec report</h1>\n",
        esc(&meta.target)
    );

    h.push_str("<table>\n");
    let mut row = |k: &str, v: &str| {
        let _ = writeln!(h, "<tr><th>{}</th><td>{}</td></tr>", esc(k), esc(v));
    };
    row("Target", &meta.target);
    row("Broker", meta.broker.as_deref().unwrap_or("unknown"));
    let protocols: Vec<&str> = meta.protocols.iter().map(|p| p.as_str()).collect();
    row("Protocols", &protocols.join(", "));
    row("mqttspec", &meta.mqttspec_version);
    row("Started", &meta.started_at);
    row("Duration", &format!("{} ms", meta.duration_ms));
    row("Jobs", &meta.jobs.to_string());
    h.push_str("</table>\n");

    if let Some(why) = &report.target_died {
        let _ = writeln!(
            h,
            "<p class=\"fail\"><strong>The target died during the run:</strong> {}</p>",
            esc(why)
        );
    }

    h.push_str("<h2>Summary</h2>\n<table>\n<tr><th></th><th>pass</th><th>fail</th><th>error</th><th>skip</th><th>total</th></tr>\n");
    for (name, c) in [
        ("Scenarios", summary.scenarios),
        ("Requirements", summary.requirements),
    ] {
        let _ = writeln!(
            h,
            "<tr><th>{name}</th><td class=\"pass\">{}</td><td class=\"fail\">{}</td>\
             <td class=\"error\">{}</td><td class=\"skip\">{}</td><td>{}</td></tr>",
            c.pass,
            c.fail,
            c.error,
            c.skip,
            c.total()
        );
    }
    h.push_str("</table>\n");

    // Statement × protocol matrix; a cell links to the scenarios behind it.
    let reqs = report.requirements();
    let mut columns: Vec<ProtocolVersion> = reqs.iter().map(|r| r.protocol).collect();
    columns.sort();
    columns.dedup();
    let mut rows: BTreeMap<(StatementKey, &str), Vec<Option<usize>>> = BTreeMap::new();
    for (i, r) in reqs.iter().enumerate() {
        let col = columns.iter().position(|p| *p == r.protocol).unwrap_or(0);
        rows.entry((statement_key(&r.id), r.id.as_str()))
            .or_insert_with(|| vec![None; columns.len()])[col] = Some(i);
    }
    h.push_str("<h2>Requirements</h2>\n<table>\n<tr><th>Statement</th>");
    for p in &columns {
        let _ = write!(h, "<th>MQTT {p}</th>");
    }
    h.push_str("</tr>\n");
    for ((_, id), cells) in &rows {
        let _ = write!(h, "<tr><td>{}</td>", esc(id));
        for cell in cells {
            match cell {
                None => h.push_str("<td></td>"),
                Some(i) => {
                    let r = &reqs[*i];
                    let _ = write!(h, "<td class=\"{}\">{}", r.verdict, r.verdict);
                    for s in &r.scenarios {
                        let _ = write!(
                            h,
                            " <a href=\"#{}\">{}</a>",
                            esc(&anchor(r.protocol, s)),
                            esc(s)
                        );
                    }
                    h.push_str("</td>");
                }
            }
        }
        h.push_str("</tr>\n");
    }
    h.push_str("</table>\n");

    h.push_str("<h2>Scenarios</h2>\n");
    for s in &report.scenarios {
        scenario_block(&mut h, s);
    }
    h.push_str("</body>\n</html>\n");
    h
}

fn scenario_block(h: &mut String, s: &ScenarioResult) {
    let open = if matches!(s.verdict, Verdict::Fail | Verdict::Error | Verdict::Flaky) {
        " open"
    } else {
        ""
    };
    let _ = writeln!(
        h,
        "<details id=\"{}\"{open}><summary><span class=\"{}\">{}</span> {} ({}): {}</summary>\n<dl>",
        esc(&anchor(s.protocol, &s.id)),
        s.verdict,
        s.verdict,
        esc(&s.id),
        s.protocol,
        esc(&s.title)
    );
    let mut item = |k: &str, v: &str| {
        let _ = writeln!(h, "<dt>{}</dt><dd>{}</dd>", esc(k), esc(v));
    };
    item("Requirements", &s.requirements.join(", "));
    if !s.violated.is_empty() {
        item("Violated", &s.violated_text());
    }
    if let Some(m) = &s.message {
        item("Message", m);
    }
    if let Some(e) = &s.expected {
        item("Expected", e);
    }
    if let Some(o) = &s.observed {
        item("Observed", o);
    }
    for n in &s.notes {
        match &n.statement {
            Some(id) => item("Note", &format!("[{id}] {}", n.message)),
            None => item("Note", &n.message),
        }
    }
    item("Source", &s.source);
    item("Duration", &format!("{} ms", s.duration.as_millis()));
    h.push_str("</dl>\n");
    if !s.transcript.entries.is_empty() {
        let _ = writeln!(h, "<pre>{}</pre>", esc(&s.transcript.render()));
    }
    for (i, a) in s.attempts.iter().enumerate() {
        let _ = writeln!(
            h,
            "<p>Re-run {} alone: <span class=\"{}\">{}</span> {}</p>",
            i + 1,
            a.verdict,
            a.verdict,
            esc(a.message.as_deref().unwrap_or(""))
        );
        if !a.transcript.entries.is_empty() {
            let _ = writeln!(h, "<pre>{}</pre>", esc(&a.transcript.render()));
        }
    }
    h.push_str("</details>\n");
}

/// The fragment id of a scenario result: `v3_1_1-publish/qos-3-closes`.
fn anchor(p: ProtocolVersion, id: &str) -> String {
    format!("{}-{id}", super::protocol_slug(p))
}

/// Escapes text for element content and quoted attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::sample;

    #[test]
    fn page_has_summary_matrix_and_details() {
        let page = render(&sample::run());
        assert!(page.starts_with("<!DOCTYPE html>"));
        assert!(page.contains("<tr><th>Scenarios</th><td class=\"pass\">2</td><td class=\"fail\">1</td><td class=\"error\">1</td><td class=\"skip\">1</td><td>5</td></tr>"), "{page}");
        // One matrix row for MQTT-3.3.1-4 with a cell per protocol.
        assert!(page.contains("<tr><td>MQTT-3.3.1-4</td><td class=\"fail\">fail <a href=\"#v3_1_1-publish/qos-3-closes\">publish/qos-3-closes</a></td><td class=\"pass\">pass <a href=\"#v5_0-publish/qos-3-closes\">publish/qos-3-closes</a></td></tr>"), "{page}");
        // A requirement only checked on 5.0 has an empty 3.1.1 cell.
        assert!(page.contains("<tr><td>MQTT-3.8.3-1</td><td></td><td class=\"error\">"));
        assert!(page.contains("<details id=\"v3_1_1-publish/qos-3-closes\" open>"));
        assert!(page.contains("<details id=\"v3_1_1-connect/reserved-flag\"><summary>"));
    }

    #[test]
    fn everything_is_escaped_and_nothing_is_fetched() {
        let page = render(&sample::run());
        assert!(page.contains("payload=&lt;script&gt;"));
        assert!(page.contains("stayed open &lt;after&gt; &amp; &quot;QoS 3&quot;"));
        assert!(!page.contains("<script"));
        for external in ["src=", "http://", "https://", "<link", "@import"] {
            assert!(!page.contains(external), "{external}");
        }
    }
}
