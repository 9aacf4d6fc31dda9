//! How much of each catalog the scenarios check: per statement, the
//! scenarios covering it, or why none can.

use crate::codec::ProtocolVersion;
use crate::scenario::{Filter, Scenario};
use crate::spec::catalog::{Catalogs, Side};
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write as _;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// At least one scenario checks it.
    Covered,
    /// Wire-testable, but no scenario checks it yet.
    NotCovered,
    /// A peer cannot observe it over the network (see `reason`).
    NotTestable,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Covered => "covered",
            Status::NotCovered => "not covered",
            Status::NotTestable => "not wire-testable",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StatementCoverage {
    pub id: String,
    pub section: String,
    pub applies_to: Side,
    pub level: String,
    pub status: Status,
    /// IDs of the scenarios that check it on this version.
    pub scenarios: Vec<String>,
    /// Why it is not wire-testable.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Totals {
    pub statements: usize,
    pub wire_testable: usize,
    pub covered: usize,
    /// Covered statements among the wire-testable ones.
    pub covered_wire_testable: usize,
    pub not_covered: usize,
    pub not_testable: usize,
}

impl Totals {
    fn add(&mut self, st: &StatementCoverage, wire_testable: bool) {
        self.statements += 1;
        self.wire_testable += usize::from(wire_testable);
        match st.status {
            Status::Covered => {
                self.covered += 1;
                self.covered_wire_testable += usize::from(wire_testable);
            }
            Status::NotCovered => self.not_covered += 1,
            Status::NotTestable => self.not_testable += 1,
        }
    }

    /// Covered wire-testable statements, in percent of the wire-testable ones.
    pub fn percent(&self) -> f64 {
        if self.wire_testable == 0 {
            0.0
        } else {
            100.0 * self.covered_wire_testable as f64 / self.wire_testable as f64
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VersionCoverage {
    pub protocol: ProtocolVersion,
    pub totals: Totals,
    /// Totals by whose behaviour the statements constrain.
    pub by_side: BTreeMap<Side, Totals>,
    /// Scenarios that run on this version.
    pub scenarios: usize,
    pub statements: Vec<StatementCoverage>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Coverage {
    pub versions: Vec<VersionCoverage>,
}

/// The coverage of the versions `filter` selects, by the scenarios it
/// selects; with `--requirement` globs, only the matching statements.
pub fn coverage(catalogs: &Catalogs, scenarios: &[Scenario], filter: &Filter) -> Coverage {
    let mut versions = Vec::new();
    for catalog in catalogs.iter() {
        let v = catalog.version();
        if !filter.includes(v) {
            continue;
        }
        let mut by_statement: BTreeMap<&str, Vec<String>> = BTreeMap::new();
        let mut count = 0;
        for s in scenarios
            .iter()
            .filter(|s| s.protocols.contains(&v) && filter.matches(s))
        {
            count += 1;
            for r in s.requirements_for(v) {
                by_statement.entry(r).or_default().push(s.id.clone());
            }
        }
        let mut totals = Totals::default();
        let mut by_side: BTreeMap<Side, Totals> = [Side::Server, Side::Client, Side::Both]
            .into_iter()
            .map(|side| (side, Totals::default()))
            .collect();
        let mut rows = Vec::new();
        for st in catalog.iter().filter(|st| filter.matches_statement(&st.id)) {
            let covering = by_statement.remove(st.id.as_str()).unwrap_or_default();
            let (status, reason) = if !covering.is_empty() {
                (Status::Covered, None)
            } else if !st.wire_testable {
                let reason = st
                    .not_testable
                    .clone()
                    .unwrap_or_else(|| "no reason given in the catalog".into());
                (Status::NotTestable, Some(reason))
            } else {
                (Status::NotCovered, None)
            };
            let row = StatementCoverage {
                id: st.id.clone(),
                section: st.section.clone(),
                applies_to: st.applies_to,
                level: st.level.clone(),
                status,
                scenarios: covering,
                reason,
            };
            totals.add(&row, st.wire_testable);
            by_side
                .entry(st.applies_to)
                .or_default()
                .add(&row, st.wire_testable);
            rows.push(row);
        }
        versions.push(VersionCoverage {
            protocol: v,
            totals,
            by_side,
            scenarios: count,
            statements: rows,
        });
    }
    Coverage { versions }
}

impl Coverage {
    /// A table per version (one row per statement) followed by its totals.
    pub fn render_text(&self) -> String {
        let mut out = String::new();
        for v in &self.versions {
            let _ = writeln!(out, "MQTT {}", v.protocol);
            let id_width = v
                .statements
                .iter()
                .map(|s| s.id.len())
                .max()
                .unwrap_or(2)
                .max(9);
            let section_width = v
                .statements
                .iter()
                .map(|s| s.section.len())
                .max()
                .unwrap_or(7)
                .max(7);
            let _ = writeln!(
                out,
                "  {:id_width$}  {:section_width$}  {:6}  {:17}  SCENARIOS / REASON",
                "STATEMENT", "SECTION", "SIDE", "STATUS"
            );
            for s in &v.statements {
                let detail = match s.status {
                    Status::NotTestable => s.reason.clone().unwrap_or_default(),
                    _ => s.scenarios.join(", "),
                };
                let line = format!(
                    "  {:id_width$}  {:section_width$}  {:6}  {:17}  {}",
                    s.id,
                    s.section,
                    s.applies_to.as_str(),
                    s.status.as_str(),
                    detail
                );
                let _ = writeln!(out, "{}", line.trim_end());
            }
            let _ = writeln!(out);
            let _ = writeln!(
                out,
                "  {:7}  {:>10}  {:>13}  {:>7}  {:>11}  {:>17}  {:>7}",
                "SIDE",
                "STATEMENTS",
                "WIRE-TESTABLE",
                "COVERED",
                "NOT COVERED",
                "NOT WIRE-TESTABLE",
                "COVERED%"
            );
            let mut rows: Vec<(&str, &Totals)> = v
                .by_side
                .iter()
                .map(|(side, t)| (side.as_str(), t))
                .collect();
            rows.push(("total", &v.totals));
            for (name, t) in rows {
                let _ = writeln!(
                    out,
                    "  {:7}  {:>10}  {:>13}  {:>7}  {:>11}  {:>17}  {:>6.1}%",
                    name,
                    t.statements,
                    t.wire_testable,
                    t.covered,
                    t.not_covered,
                    t.not_testable,
                    t.percent()
                );
            }
            let _ = writeln!(
                out,
                "  {} scenario{} cover{} {} of {} wire-testable statements ({:.1}%)\n",
                v.scenarios,
                if v.scenarios == 1 { "" } else { "s" },
                if v.scenarios == 1 { "s" } else { "" },
                v.totals.covered_wire_testable,
                v.totals.wire_testable,
                v.totals.percent()
            );
        }
        out
    }

    /// The coverage as pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::ProtocolVersion::{V3_1_1, V5};
    use crate::scenario::load_str;

    const SCENARIOS: &str = "\
protocol: both
scenarios:
  - {id: a, title: t, requirements: [MQTT-3.3.1-4], steps: [open: a]}
  - {id: b, title: t, requirements: [MQTT-3.3.1-4, MQTT-3.1.2-3], steps: [open: a]}
  - {id: c, title: t, protocol: \"5.0\", requirements: [MQTT-1.5.4-1], steps: [open: a]}
";

    #[test]
    fn counts_statements_per_version_and_side() {
        let catalogs = Catalogs::embedded().unwrap();
        let scenarios = load_str("t.yaml", SCENARIOS, &catalogs).unwrap();
        let cov = coverage(&catalogs, &scenarios, &Filter::default());
        assert_eq!(cov.versions.len(), 2);
        let v3 = &cov.versions[0];
        assert_eq!(v3.protocol, V3_1_1);
        assert_eq!(v3.scenarios, 2);
        let v3_catalog = catalogs.get(V3_1_1).unwrap();
        assert_eq!(v3.totals.statements, v3_catalog.len());
        assert_eq!(v3.totals.covered, 2);
        let not_testable = v3_catalog.iter().filter(|s| !s.wire_testable).count();
        assert_eq!(v3.totals.not_testable, not_testable);
        assert_eq!(v3.totals.not_covered, v3_catalog.len() - 2 - not_testable);
        let row = v3
            .statements
            .iter()
            .find(|s| s.id == "MQTT-3.3.1-4")
            .unwrap();
        assert_eq!(row.status, Status::Covered);
        assert_eq!(row.scenarios, ["a", "b"]);
        let sides: usize = v3.by_side.values().map(|t| t.statements).sum();
        assert_eq!(sides, v3.totals.statements);
        let side = v3_catalog.applies_to("MQTT-3.3.1-4").unwrap();
        assert!(v3.by_side[&side].covered >= 1);
        let nt = v3
            .statements
            .iter()
            .find(|s| s.status == Status::NotTestable)
            .unwrap();
        assert!(nt.reason.as_deref().is_some_and(|r| !r.is_empty()));

        let v5 = &cov.versions[1];
        assert_eq!(v5.scenarios, 3);
        assert_eq!(v5.totals.covered, 3);
        let row = v5
            .statements
            .iter()
            .find(|s| s.id == "MQTT-1.5.4-1")
            .unwrap();
        assert_eq!(row.scenarios, ["c"]);
    }

    #[test]
    fn filters_versions_and_statements() {
        let catalogs = Catalogs::embedded().unwrap();
        let scenarios = load_str("t.yaml", SCENARIOS, &catalogs).unwrap();
        let f = Filter::new(&[], &["MQTT-3.3.1-*".into()], Some(V5)).unwrap();
        let cov = coverage(&catalogs, &scenarios, &f);
        assert_eq!(cov.versions.len(), 1);
        let v5 = &cov.versions[0];
        assert_eq!(v5.protocol, V5);
        assert!(v5
            .statements
            .iter()
            .all(|s| s.id.starts_with("MQTT-3.3.1-")));
        assert_eq!(v5.totals.covered, 1);
        assert_eq!(v5.scenarios, 2);
    }

    #[test]
    fn renders_text_and_json() {
        let catalogs = Catalogs::embedded().unwrap();
        let scenarios = load_str("t.yaml", SCENARIOS, &catalogs).unwrap();
        let cov = coverage(&catalogs, &scenarios, &Filter::default());
        let text = cov.render_text();
        assert!(text.starts_with("MQTT 3.1.1\n"), "{text}");
        assert!(text.contains("MQTT 5.0\n"));
        let line = text
            .lines()
            .find(|l| l.trim_start().starts_with("MQTT-3.3.1-4 "))
            .unwrap();
        assert!(line.contains("covered") && line.ends_with("a, b"), "{line}");
        assert!(text.contains("not wire-testable"));
        assert!(text.contains("2 scenarios cover 2 of"), "{text}");
        let total = text
            .lines()
            .find(|l| l.trim_start().starts_with("total"))
            .unwrap();
        assert!(
            total.contains(&catalogs.get(V3_1_1).unwrap().len().to_string()),
            "{total}"
        );

        let json: serde_json::Value = serde_json::from_str(&cov.to_json()).unwrap();
        assert_eq!(json["versions"][0]["protocol"], "3.1.1");
        assert_eq!(json["versions"][1]["totals"]["covered"], 3);
        assert!(
            json["versions"][0]["by_side"]["server"]["statements"]
                .as_u64()
                .unwrap()
                > 0
        );
        let row = json["versions"][0]["statements"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["id"] == "MQTT-3.3.1-4")
            .unwrap();
        assert_eq!(row["status"], "covered");
        assert_eq!(row["scenarios"], serde_json::json!(["a", "b"]));
    }
}
