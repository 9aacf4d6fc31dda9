//! Selecting scenarios: by ID (substring or glob), by the statements they
//! check (globs such as `MQTT-3.1.2-*`) and by protocol version.

use crate::codec::ProtocolVersion;
use crate::scenario::model::Scenario;
use glob::Pattern;

/// A selection. An empty list selects everything on its axis; a scenario is
/// selected when it matches every axis.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    ids: Vec<IdFilter>,
    requirements: Vec<Pattern>,
    /// `None`: every version.
    protocol: Option<ProtocolVersion>,
}

#[derive(Debug, Clone)]
enum IdFilter {
    Substring(String),
    Glob(Pattern),
}

impl IdFilter {
    fn matches(&self, id: &str) -> bool {
        match self {
            IdFilter::Substring(s) => id.contains(s.as_str()),
            IdFilter::Glob(p) => p.matches(id),
        }
    }
}

fn pattern(text: &str) -> Result<Pattern, String> {
    Pattern::new(text).map_err(|e| format!("bad pattern `{text}`: {e}"))
}

impl Filter {
    /// `ids`: substrings of scenario IDs, or globs when they contain `*`, `?`
    /// or `[` (`publish/*`). `requirements`: statement ID globs.
    /// `protocol`: one version, or `None` for all.
    pub fn new(
        ids: &[String],
        requirements: &[String],
        protocol: Option<ProtocolVersion>,
    ) -> Result<Filter, String> {
        let ids = ids
            .iter()
            .map(|s| {
                if s.contains(['*', '?', '[']) {
                    pattern(s).map(IdFilter::Glob)
                } else {
                    Ok(IdFilter::Substring(s.clone()))
                }
            })
            .collect::<Result<_, _>>()?;
        let requirements = requirements
            .iter()
            .map(|s| pattern(s))
            .collect::<Result<_, _>>()?;
        Ok(Filter {
            ids,
            requirements,
            protocol,
        })
    }

    pub fn protocol(&self) -> Option<ProtocolVersion> {
        self.protocol
    }

    /// Whether a version is selected.
    pub fn includes(&self, version: ProtocolVersion) -> bool {
        self.protocol.is_none_or(|p| p == version)
    }

    /// Whether a statement ID matches the `--requirement` globs.
    pub fn matches_statement(&self, id: &str) -> bool {
        self.requirements.is_empty() || self.requirements.iter().any(|p| p.matches(id))
    }

    /// Whether the scenario is selected on at least one of its versions.
    pub fn matches(&self, s: &Scenario) -> bool {
        (self.ids.is_empty() || self.ids.iter().any(|f| f.matches(&s.id)))
            && (self.requirements.is_empty()
                || s.requirements.iter().any(|r| self.matches_statement(r)))
            && s.protocols.iter().any(|&v| self.includes(v))
    }

    /// The selected scenarios, each narrowed to the selected versions.
    pub fn apply(&self, scenarios: Vec<Scenario>) -> Vec<Scenario> {
        scenarios
            .into_iter()
            .filter(|s| self.matches(s))
            .map(|mut s| {
                s.protocols.retain(|&v| self.includes(v));
                s
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::ProtocolVersion::{V3_1_1, V5};
    use crate::scenario::model::{Level, Role, Source};

    fn scenario(id: &str, reqs: &[&str], protocols: &[ProtocolVersion]) -> Scenario {
        Scenario {
            id: id.into(),
            title: "t".into(),
            requirements: reqs.iter().map(|r| r.to_string()).collect(),
            by_version: vec![],
            protocols: protocols.to_vec(),
            role: Role::Client,
            needs: vec![],
            level: Level::Must,
            timeout: None,
            steps: vec![],
            section: "3.1".into(),
            source: Source {
                file: "f".into(),
                line: 1,
                column: 1,
            },
        }
    }

    fn ids(f: &Filter, all: &[Scenario]) -> Vec<String> {
        f.apply(all.to_vec()).into_iter().map(|s| s.id).collect()
    }

    #[test]
    fn selects_on_every_axis() {
        let all = vec![
            scenario("connect/reserved-flag", &["MQTT-3.1.2-3"], &[V3_1_1, V5]),
            scenario("publish/qos-3", &["MQTT-3.3.1-4"], &[V3_1_1]),
            scenario("publish/retain", &["MQTT-3.3.1-5", "MQTT-3.3.1-6"], &[V5]),
        ];
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(ids(&Filter::default(), &all).len(), 3);
        let f = Filter::new(&s(&["qos"]), &[], None).unwrap();
        assert_eq!(ids(&f, &all), ["publish/qos-3"]);
        let f = Filter::new(&s(&["publish/*"]), &[], None).unwrap();
        assert_eq!(ids(&f, &all), ["publish/qos-3", "publish/retain"]);
        let f = Filter::new(&s(&["connect", "retain"]), &[], None).unwrap();
        assert_eq!(ids(&f, &all), ["connect/reserved-flag", "publish/retain"]);
        let f = Filter::new(&[], &s(&["MQTT-3.3.1-*"]), None).unwrap();
        assert_eq!(ids(&f, &all), ["publish/qos-3", "publish/retain"]);
        let f = Filter::new(&[], &s(&["MQTT-3.3.1-6"]), None).unwrap();
        assert_eq!(ids(&f, &all), ["publish/retain"]);
        let f = Filter::new(&[], &[], Some(V5)).unwrap();
        assert_eq!(ids(&f, &all), ["connect/reserved-flag", "publish/retain"]);
        // Selected scenarios are narrowed to the selected version.
        assert_eq!(f.apply(all.clone())[0].protocols, [V5]);
        let f = Filter::new(&s(&["publish"]), &s(&["MQTT-3.3.1-4"]), Some(V5)).unwrap();
        assert!(ids(&f, &all).is_empty());
        assert!(Filter::new(&[], &s(&["MQTT-[3"]), None).is_err());
    }
}
