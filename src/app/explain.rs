//! `mqttspec explain ID`: what a statement requires (our summary), which
//! scenarios check it, and, given a JSON report, its last verdict there.

use super::Exit;
use crate::cli::ExplainArgs;
use crate::report::read::{self, LoadedReport};
use crate::scenario::{load_suite, Filter, Scenario};
use crate::spec::coverage::coverage;
use crate::spec::Catalogs;

pub fn explain(args: &ExplainArgs) -> Exit {
    let (catalogs, scenarios) = match load_suite(args.cases.as_deref()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("mqttspec: {e}");
            return Exit::Usage;
        }
    };
    let report = match &args.report {
        Some(p) => match read::load(p) {
            Ok(r) => Some(r),
            Err(e) => {
                eprintln!("mqttspec: {e}");
                return Exit::Usage;
            }
        },
        None => None,
    };
    match render(&args.id, &catalogs, &scenarios, report.as_ref()) {
        Some(text) => {
            print!("{text}");
            Exit::Ok
        }
        None => {
            eprintln!(
                "mqttspec: `{}` is not a statement of the 3.1.1 or 5.0 catalog (IDs look like MQTT-3.1.2-3)",
                args.id
            );
            Exit::Usage
        }
    }
}

/// The explanation, or `None` when no catalog has the statement.
pub fn render(
    id: &str,
    catalogs: &Catalogs,
    scenarios: &[Scenario],
    report: Option<&LoadedReport>,
) -> Option<String> {
    let id = id.trim();
    let cov = coverage(catalogs, scenarios, &Filter::default());
    let mut out = String::new();
    for catalog in catalogs.iter() {
        let Some(st) = catalog.get(id) else {
            continue;
        };
        let v = catalog.version();
        out.push_str(&format!(
            "{} (MQTT {v}, section {} \"{}\", {}, binds the {})\n  {}\n",
            st.id,
            st.section,
            st.title,
            st.level,
            match st.applies_to.as_str() {
                "both" => "client and the server",
                side => side,
            },
            st.summary
        ));
        let row = cov
            .versions
            .iter()
            .find(|c| c.protocol == v)
            .and_then(|c| c.statements.iter().find(|s| s.id == st.id));
        match row {
            Some(r) if !r.scenarios.is_empty() => {
                out.push_str(&format!("  checked by: {}\n", r.scenarios.join(", ")))
            }
            Some(r) if r.reason.is_some() => out.push_str(&format!(
                "  not wire-testable: {}\n",
                r.reason.as_deref().unwrap_or_default()
            )),
            _ => out.push_str("  checked by: no scenario yet\n"),
        }
        if let Some(r) = report {
            out.push_str(&last_verdict(r, id, v.as_str()));
        }
    }
    (!out.is_empty()).then_some(out)
}

/// The statement's verdict in a report and each scenario's part in it.
fn last_verdict(r: &LoadedReport, id: &str, protocol: &str) -> String {
    let related: Vec<_> = r
        .scenarios
        .iter()
        .filter(|s| {
            s.protocol == protocol
                && (s.requirements.iter().any(|q| q == id) || s.charged().contains(&id))
        })
        .collect();
    let written = r
        .requirements
        .iter()
        .find(|q| q.id == id && q.protocol == protocol)
        .map(|q| q.verdict.as_str());
    let who = r.broker.as_deref().unwrap_or(&r.target);
    if related.is_empty() && written.is_none() {
        return format!("  in {}: not run\n", r.file);
    }
    let mut s = format!(
        "  in {} ({who}, {}): {}\n",
        r.file,
        r.started_at,
        written.unwrap_or("see the scenarios")
    );
    for sc in related {
        let mut line = format!("    {:<5} {}", sc.verdict, sc.id);
        if sc.verdict != "pass" {
            if let Some(m) = &sc.message {
                line.push_str(&format!(": {}", m.replace('\n', " ")));
            }
        }
        s.push_str(&line);
        s.push('\n');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{json, sample};
    use crate::scenario::load_suite;

    #[test]
    fn statement_scenarios_and_last_verdict() {
        let (catalogs, scenarios) = load_suite(None).unwrap();
        let report = read::parse("r.json", &json::render(&sample::run())).unwrap();
        let text = render("MQTT-3.3.1-4", &catalogs, &scenarios, Some(&report)).unwrap();
        let summary = catalogs
            .get(crate::codec::ProtocolVersion::V3_1_1)
            .unwrap()
            .summary("MQTT-3.3.1-4")
            .unwrap();
        assert!(
            text.starts_with("MQTT-3.3.1-4 (MQTT 3.1.1, section 3.3.1"),
            "{text}"
        );
        assert!(text.contains(&format!("\n  {summary}\n")));
        let checked = text
            .lines()
            .find(|l| l.starts_with("  checked by: "))
            .unwrap();
        assert!(checked.contains("3.3.1/"), "{checked}");
        assert!(
            text.contains(
                "  in r.json (mosquitto 2.0.18, 2024-05-06T07:08:09Z): fail\n    \
             fail  publish/qos-3-closes: the connection stayed open"
            ),
            "{text}"
        );
        assert!(render("MQTT-9.9.9-9", &catalogs, &scenarios, None).is_none());
    }
}
