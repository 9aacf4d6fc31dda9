//! The catalog of normative statements of one MQTT version
//! (`cases/spec/mqtt-3.1.1.yaml`, `cases/spec/mqtt-5.0.yaml`).
//!
//! The same ID names different statements in 3.1.1 and 5.0, so every lookup
//! goes through the catalog of one version.

use crate::codec::ProtocolVersion;
use crate::scenario::embedded;
use crate::scenario::yaml::{self, Limits, Loc};
use crate::scenario::LoadError;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::Path;

/// Whose behaviour a statement constrains.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    Server,
    Client,
    Both,
}

impl Side {
    pub fn as_str(self) -> &'static str {
        match self {
            Side::Server => "server",
            Side::Client => "client",
            Side::Both => "both",
        }
    }
}

/// One normative statement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Statement {
    /// e.g. `MQTT-3.1.2-3`.
    pub id: String,
    /// The deepest heading the statement sits under, e.g. `3.1.2.4`.
    pub section: String,
    /// That heading's title.
    pub title: String,
    /// The governing keyword: `MUST`, `MUST NOT`, or `NONE` for the few
    /// statements without one.
    pub level: String,
    pub applies_to: Side,
    /// Whether a peer on the network can observe it being kept or broken.
    pub wire_testable: bool,
    /// What it requires, in a sentence.
    pub summary: String,
    /// Why it cannot be checked over the wire (when `wire_testable` is false).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_testable: Option<String>,
    /// Capabilities the peer must have for the statement to apply.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub needs: Vec<String>,
}

impl Statement {
    /// The section cut to two levels (`3.1.2.4` → `3.1`), used to group reports.
    pub fn chapter(&self) -> String {
        two_levels(&self.section)
    }
}

/// `3.1.2.4` → `3.1`; `4` → `4`.
pub fn two_levels(section: &str) -> String {
    section.split('.').take(2).collect::<Vec<_>>().join(".")
}

/// The statements of one version, in file order, indexed by ID.
#[derive(Debug, Clone)]
pub struct Catalog {
    version: ProtocolVersion,
    statements: Vec<Statement>,
    index: HashMap<String, usize>,
}

impl Catalog {
    /// Parses a catalog file; `name` is used in error messages.
    pub fn from_yaml(
        version: ProtocolVersion,
        name: &str,
        text: &str,
    ) -> Result<Catalog, LoadError> {
        let root =
            yaml::parse(text, &Limits::default()).map_err(|e| LoadError::from_de(name, e))?;
        let Some(items) = root.as_seq() else {
            return Err(LoadError::new(
                name,
                root.loc,
                format!("expected a list of statements, found {}", root.describe()),
            ));
        };
        let mut statements = Vec::with_capacity(items.len());
        let mut index = HashMap::with_capacity(items.len());
        for item in items {
            let st: Statement = yaml::from_node(item).map_err(|e| LoadError::from_de(name, e))?;
            let at = item.get("id").map_or(item.loc, |n| n.loc);
            if !is_statement_id(&st.id) {
                return Err(LoadError::new(
                    name,
                    at,
                    format!("`{}` is not a statement ID like MQTT-3.1.2-3", st.id),
                ));
            }
            if index.insert(st.id.clone(), statements.len()).is_some() {
                return Err(LoadError::new(
                    name,
                    at,
                    format!("duplicate statement `{}`", st.id),
                ));
            }
            statements.push(st);
        }
        Ok(Catalog {
            version,
            statements,
            index,
        })
    }

    pub fn version(&self) -> ProtocolVersion {
        self.version
    }

    pub fn get(&self, id: &str) -> Option<&Statement> {
        self.index.get(id).map(|&i| &self.statements[i])
    }

    pub fn contains(&self, id: &str) -> bool {
        self.index.contains_key(id)
    }

    pub fn iter(&self) -> std::slice::Iter<'_, Statement> {
        self.statements.iter()
    }

    pub fn len(&self) -> usize {
        self.statements.len()
    }

    pub fn is_empty(&self) -> bool {
        self.statements.is_empty()
    }

    pub fn section(&self, id: &str) -> Option<&str> {
        self.get(id).map(|s| s.section.as_str())
    }

    pub fn applies_to(&self, id: &str) -> Option<Side> {
        self.get(id).map(|s| s.applies_to)
    }

    pub fn wire_testable(&self, id: &str) -> Option<bool> {
        self.get(id).map(|s| s.wire_testable)
    }

    pub fn summary(&self, id: &str) -> Option<&str> {
        self.get(id).map(|s| s.summary.as_str())
    }

    pub fn needs(&self, id: &str) -> Option<&[String]> {
        self.get(id).map(|s| s.needs.as_slice())
    }

    pub fn not_testable(&self, id: &str) -> Option<&str> {
        self.get(id).and_then(|s| s.not_testable.as_deref())
    }
}

impl<'a> IntoIterator for &'a Catalog {
    type Item = &'a Statement;
    type IntoIter = std::slice::Iter<'a, Statement>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

/// `MQTT-` then dot-separated numbers, a dash and a number.
pub fn is_statement_id(id: &str) -> bool {
    let Some(rest) = id.strip_prefix("MQTT-") else {
        return false;
    };
    let Some((section, n)) = rest.rsplit_once('-') else {
        return false;
    };
    let number = |s: &str| !s.is_empty() && s.len() <= 4 && s.bytes().all(|b| b.is_ascii_digit());
    number(n) && section.split('.').all(number)
}

/// The catalogs of both versions mqttspec tests.
#[derive(Debug, Clone)]
pub struct Catalogs {
    v3_1_1: Catalog,
    v5: Catalog,
}

/// File name of a version's catalog inside `cases/spec/`.
pub fn file_name(version: ProtocolVersion) -> &'static str {
    match version {
        ProtocolVersion::V5 => "mqtt-5.0.yaml",
        _ => "mqtt-3.1.1.yaml",
    }
}

impl Catalogs {
    pub fn new(v3_1_1: Catalog, v5: Catalog) -> Catalogs {
        Catalogs { v3_1_1, v5 }
    }

    /// The catalogs compiled into the binary.
    pub fn embedded() -> Result<Catalogs, LoadError> {
        let load = |v: ProtocolVersion| {
            let rel = format!("spec/{}", file_name(v));
            let name = format!("{}/{rel}", embedded::ROOT);
            let text = embedded::file(&rel)
                .ok_or_else(|| LoadError::file(&name, "not embedded in this build"))?;
            Catalog::from_yaml(v, &name, text)
        };
        Ok(Catalogs::new(
            load(ProtocolVersion::V3_1_1)?,
            load(ProtocolVersion::V5)?,
        ))
    }

    /// Reads `mqtt-3.1.1.yaml` and `mqtt-5.0.yaml` from `dir`.
    pub fn from_dir(dir: &Path) -> Result<Catalogs, LoadError> {
        let load = |v: ProtocolVersion| {
            let path = dir.join(file_name(v));
            let name = path.display().to_string();
            let text = read_capped(&path, Limits::default().max_bytes)?;
            Catalog::from_yaml(v, &name, &text)
        };
        Ok(Catalogs::new(
            load(ProtocolVersion::V3_1_1)?,
            load(ProtocolVersion::V5)?,
        ))
    }

    /// The catalogs that go with a scenario folder: `DIR/spec/` when it has
    /// them, else the embedded ones.
    pub fn for_cases_dir(dir: &Path) -> Result<Catalogs, LoadError> {
        let spec = dir.join("spec");
        if spec.join(file_name(ProtocolVersion::V3_1_1)).is_file()
            || spec.join(file_name(ProtocolVersion::V5)).is_file()
        {
            Catalogs::from_dir(&spec)
        } else {
            Catalogs::embedded()
        }
    }

    /// The catalog of `version`; 3.1 has none.
    pub fn get(&self, version: ProtocolVersion) -> Option<&Catalog> {
        match version {
            ProtocolVersion::V3_1_1 => Some(&self.v3_1_1),
            ProtocolVersion::V5 => Some(&self.v5),
            ProtocolVersion::V3_1 => None,
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = &Catalog> {
        [&self.v3_1_1, &self.v5].into_iter()
    }
}

/// Reads a file after checking its size, so a huge file is never read whole.
pub(crate) fn read_capped(path: &Path, max: usize) -> Result<String, LoadError> {
    let name = path.display().to_string();
    let meta = std::fs::metadata(path).map_err(|e| LoadError::file(&name, e.to_string()))?;
    if meta.len() > max as u64 {
        return Err(LoadError::new(
            &name,
            Loc::new(1, 1),
            format!(
                "file is {} bytes, more than the limit of {max} bytes",
                meta.len()
            ),
        ));
    }
    let bytes = std::fs::read(path).map_err(|e| LoadError::file(&name, e.to_string()))?;
    String::from_utf8(bytes).map_err(|_| LoadError::file(&name, "not UTF-8 text"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SMALL: &str = "\
- id: MQTT-3.1.2-3
  section: \"3.1.2.3\"
  title: Connect Flags
  level: MUST
  applies_to: server
  wire_testable: true
  summary: The reserved flag must be zero.
- id: MQTT-7.1.1-1
  section: \"7.1.1\"
  title: Conformance
  level: MUST
  applies_to: both
  wire_testable: false
  not_testable: meta clause
  summary: Meta.
  needs: [websocket]
";

    #[test]
    fn lookups() {
        let c = Catalog::from_yaml(ProtocolVersion::V3_1_1, "c.yaml", SMALL).unwrap();
        assert_eq!(c.len(), 2);
        assert_eq!(c.section("MQTT-3.1.2-3"), Some("3.1.2.3"));
        assert_eq!(c.applies_to("MQTT-3.1.2-3"), Some(Side::Server));
        assert_eq!(c.wire_testable("MQTT-7.1.1-1"), Some(false));
        assert_eq!(c.not_testable("MQTT-7.1.1-1"), Some("meta clause"));
        assert_eq!(c.needs("MQTT-7.1.1-1").unwrap(), ["websocket".to_string()]);
        assert_eq!(c.get("MQTT-3.1.2-3").unwrap().chapter(), "3.1");
        assert!(c.get("MQTT-9.9.9-9").is_none());
        let ids: Vec<_> = c.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(ids, ["MQTT-3.1.2-3", "MQTT-7.1.1-1"]);
    }

    #[test]
    fn errors_are_located() {
        let bad = SMALL.replace("  summary: Meta.", "  sumary: Meta.");
        let e = Catalog::from_yaml(ProtocolVersion::V5, "c.yaml", &bad).unwrap_err();
        assert_eq!((e.line, e.column), (15, 3), "{e}");
        assert!(e.message.starts_with("unknown field `sumary`"), "{e}");

        let dup = SMALL.replace("MQTT-7.1.1-1", "MQTT-3.1.2-3");
        let e = Catalog::from_yaml(ProtocolVersion::V5, "c.yaml", &dup).unwrap_err();
        assert_eq!(
            e.to_string(),
            "c.yaml:8:7: duplicate statement `MQTT-3.1.2-3`"
        );

        let e = Catalog::from_yaml(ProtocolVersion::V5, "c.yaml", "a: 1").unwrap_err();
        assert!(e.message.contains("expected a list"), "{e}");
    }

    #[test]
    fn statement_ids() {
        assert!(is_statement_id("MQTT-3.1.2-3"));
        assert!(is_statement_id("MQTT-4.7.0-1"));
        assert!(!is_statement_id("MQTT-3.1.2"));
        assert!(!is_statement_id("mqtt-3.1.2-3"));
        assert!(!is_statement_id("MQTT-3..2-3"));
        assert!(!is_statement_id("MQTT-3.1.2-"));
    }

    #[test]
    fn embedded_catalogs_load() {
        let c = Catalogs::embedded().unwrap();
        let v3 = c.get(ProtocolVersion::V3_1_1).unwrap();
        let v5 = c.get(ProtocolVersion::V5).unwrap();
        assert!(
            v3.len() > 100 && v5.len() > 200,
            "{} {}",
            v3.len(),
            v5.len()
        );
        // The same ID means different things in the two versions.
        assert!(v5.contains("MQTT-1.5.4-1"));
        assert!(!v3.contains("MQTT-1.5.4-1"));
        assert!(v3.contains("MQTT-1.5.3-1"));
        assert!(!v5.contains("MQTT-1.5.3-1"));
        for st in v3.iter().chain(v5.iter()) {
            assert!(is_statement_id(&st.id));
            assert!(st.wire_testable || st.not_testable.is_some(), "{}", st.id);
        }
    }
}
