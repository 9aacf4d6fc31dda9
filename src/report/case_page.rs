//! One page of the matrix site per scenario result: the verdict, the
//! statements the scenario checks (with our summaries), expected against
//! observed, the scenario's YAML, and the wire transcript of each
//! connection with timestamps, decoded packets and raw bytes side by side.

use super::html::esc;
use super::matrix::{glyph, summary_of, verdict_class, STYLE};
use super::read::{LoadedReport, LoadedScenario};
use crate::spec::catalog::Catalogs;
use std::fmt::Write;

pub struct Input<'a> {
    pub implementation: &'a str,
    pub report: &'a LoadedReport,
    pub scenario: &'a LoadedScenario,
    pub catalogs: &'a Catalogs,
    pub yaml: Option<String>,
    /// Relative path from the page back to the site root (`../../../`).
    pub root: String,
}

pub fn render(i: &Input) -> String {
    let s = i.scenario;
    let mut h = String::new();
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <title>{id} on {imp} (MQTT {p}): {v}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n\
         <p><a href=\"{root}index.html\">← matrix</a></p>\n\
         <h1 id=\"scenario\">{id}</h1>\n<p>{title}</p>\n<table class=\"meta\">\n",
        id = esc(&s.id),
        imp = esc(i.implementation),
        p = esc(&s.protocol),
        v = esc(&s.verdict),
        root = i.root,
        title = esc(&s.title),
    );
    let _ = writeln!(
        h,
        "<tr><th>Verdict</th><td class=\"{}\" id=\"verdict\">{} {}</td></tr>",
        verdict_class(&s.verdict),
        glyph(&s.verdict),
        esc(&s.verdict)
    );
    let mut row = |k: &str, v: &str| {
        if !v.is_empty() {
            let _ = writeln!(h, "<tr><th>{}</th><td>{}</td></tr>", esc(k), esc(v));
        }
    };
    row("Implementation", i.implementation);
    row("MQTT version", &s.protocol);
    row("Side", &s.side);
    row("Target", &i.report.target);
    row("Run started", &i.report.started_at);
    row("mqttspec", &i.report.mqttspec_version);
    row("Source", &s.source);
    row("Duration", &format!("{} ms", s.duration_ms));
    h.push_str("</table>\n");

    // The statements: the violated ones first.
    h.push_str("<h2>Statements</h2>\n<table class=\"statements\">\n");
    let charged = s.charged();
    let mut ids: Vec<&str> = charged.clone();
    for r in &s.requirements {
        if !ids.contains(&r.as_str()) {
            ids.push(r);
        }
    }
    for id in ids {
        let role = if charged.contains(&id) {
            "violated"
        } else {
            "checked"
        };
        let _ = writeln!(
            h,
            "<tr class=\"{}\"><th>{}</th><td>{}</td><td>{}</td></tr>",
            if role == "violated" { "fail" } else { "" },
            esc(id),
            role,
            esc(summary_of(i.catalogs, &s.protocol, id).unwrap_or("(not in this catalog)"))
        );
    }
    h.push_str("</table>\n");

    h.push_str("<h2>Expected and observed</h2>\n<table class=\"outcome\">\n");
    let mut pre = |k: &str, v: &Option<String>| {
        if let Some(v) = v {
            let _ = writeln!(
                h,
                "<tr><th>{}</th><td><pre>{}</pre></td></tr>",
                esc(k),
                esc(v)
            );
        }
    };
    pre("Message", &s.message);
    pre("Expected", &s.expected);
    pre("Observed", &s.observed);
    for n in &s.notes {
        let _ = writeln!(
            h,
            "<tr><th><sup class=\"n\">*</sup> Note</th><td>{}</td></tr>",
            esc(n)
        );
    }
    h.push_str("</table>\n");

    h.push_str("<h2>Scenario</h2>\n");
    match &i.yaml {
        Some(y) => {
            let _ = writeln!(h, "<pre class=\"yaml\">{}</pre>", esc(y));
        }
        None => {
            let _ = writeln!(
                h,
                "<p>The scenario's YAML is not in this build's cases ({}).</p>",
                esc(&s.source)
            );
        }
    }

    h.push_str("<h2>Transcript</h2>\n");
    if s.transcript.is_empty() {
        h.push_str("<p>Nothing was exchanged.</p>\n");
    }
    let mut conns: Vec<&str> = Vec::new();
    for e in &s.transcript {
        if !conns.contains(&e.connection.as_str()) {
            conns.push(&e.connection);
        }
    }
    for c in conns {
        let _ = writeln!(
            h,
            "<h3>Connection {}</h3>\n<table class=\"wire\" data-connection=\"{}\">\n\
             <thead><tr><th>ms</th><th></th><th>packet</th><th>bytes</th></tr></thead>",
            esc(c),
            esc(c)
        );
        for e in s.transcript.iter().filter(|e| e.connection == c) {
            let arrow = match e.direction.as_str() {
                "sent" => "→",
                "received" => "←",
                _ => "•",
            };
            let (cls, mark) = if e.marked {
                (
                    " class=\"violating\"",
                    " <strong>◀ this broke the rule</strong>",
                )
            } else {
                ("", "")
            };
            let _ = writeln!(
                h,
                "<tr{cls}><td>{:.1}</td><td title=\"{}\">{arrow}</td><td class=\"pk\">{}{mark}</td><td class=\"hex\">{}</td></tr>",
                e.at_ms,
                esc(&e.direction),
                esc(&e.text),
                esc(&spaced(&e.hex))
            );
        }
        h.push_str("</table>\n");
    }
    h.push_str("</body>\n</html>\n");
    h
}

/// `101600` -> `10 16 00`: bytes readable one by one.
fn spaced(hex: &str) -> String {
    let b = hex.as_bytes();
    let mut out = String::with_capacity(hex.len() * 3 / 2);
    for (i, pair) in b.chunks(2).enumerate() {
        if i > 0 {
            out.push(' ');
        }
        out.push_str(&String::from_utf8_lossy(pair));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::read::parse;
    use crate::report::{json, sample};

    #[test]
    fn shows_statements_outcome_yaml_and_transcript() {
        let r = parse("x.json", &json::render(&sample::run())).unwrap();
        let catalogs = Catalogs::embedded().unwrap();
        let page = render(&Input {
            implementation: "mosquitto <2>",
            report: &r,
            scenario: &r.scenarios[1],
            catalogs: &catalogs,
            yaml: Some("- id: publish/qos-3-closes\n  steps: [\"<x>\"]\n".into()),
            root: "../../../".into(),
        });
        assert!(page.contains("<a href=\"../../../index.html\">"));
        assert!(page.contains("<td class=\"fail\" id=\"verdict\">✗ fail</td>"));
        assert!(page.contains("<tr><th>Implementation</th><td>mosquitto &lt;2&gt;</td></tr>"));
        // The violated statement with our summary of it.
        let summary = catalogs
            .get(crate::codec::ProtocolVersion::V3_1_1)
            .unwrap()
            .summary("MQTT-3.3.1-4")
            .unwrap();
        assert!(page.contains(&format!(
            "<tr class=\"fail\"><th>MQTT-3.3.1-4</th><td>violated</td><td>{}</td></tr>",
            esc(summary)
        )));
        assert!(page.contains("<tr><th>Expected</th><td><pre>close</pre></td></tr>"));
        assert!(page.contains("<tr><th>Observed</th><td><pre>PUBACK id=1</pre></td></tr>"));
        assert!(page.contains("<pre class=\"yaml\">- id: publish/qos-3-closes\n  steps: [&quot;&lt;x&gt;&quot;]\n</pre>"));
        // Transcript: decoded beside hex, the observed packet marked.
        assert!(page.contains("<h3>Connection a</h3>"));
        assert!(page.contains("<tr class=\"violating\"><td>1.5</td><td title=\"received\">←</td><td class=\"pk\">PUBACK id=1 <strong>◀ this broke the rule</strong></td><td class=\"hex\">40 02 00 01</td></tr>"), "{page}");
        assert!(page.contains(
            "<td class=\"pk\">PUBLISH qos=3 topic=&quot;x]]&gt;y&quot; payload=&lt;script&gt;"
        ));
        assert!(!page.contains("<script"));
    }
}
