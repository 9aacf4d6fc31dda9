//! The driver protocol: how mqttspec tells a client library under test what
//! to do, and learns what the library reported back.
//!
//! A client library cannot be told "publish now" over MQTT, so each library
//! gets a small adapter program. mqttspec writes one JSON object per line to
//! the adapter's stdin (commands) and reads one JSON object per line from its
//! stdout (events). The first event is always `hello`, naming the library,
//! the MQTT versions it speaks and its capabilities. docs/driver-protocol.md
//! describes every field; reports/schema/driver.schema.json is the schema.

pub mod process;

pub use process::Driver;

use crate::codec::ProtocolVersion;
use serde_json::Value;
use std::collections::BTreeSet;

/// Commands mqttspec sends (the `cmd` field).
pub const COMMANDS: &[&str] = &[
    "connect",
    "subscribe",
    "unsubscribe",
    "publish",
    "disconnect",
    "exit",
];

/// Events an adapter reports (the `event` field), `hello` first.
pub const EVENTS: &[&str] = &[
    "hello",
    "connected",
    "message",
    "subscribed",
    "unsubscribed",
    "published",
    "disconnected",
    "error",
];

/// What a client library can be driven to do; client scenarios name these
/// in `needs` and are skipped when the adapter's `hello` lacks one.
pub const CAPABILITIES: &[&str] = &[
    "qos1",
    "qos2",
    "retain",
    "will",
    "credentials",
    "keep_alive",
    "session",
    "unsubscribe",
    "empty_client_id",
    "properties",
    "user_properties",
    "subscription_options",
    "topic_alias",
    "topic_alias_send",
    "receive_maximum",
    "maximum_packet_size",
    "enhanced_auth",
];

/// The adapter's `hello` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hello {
    pub library: String,
    pub version: String,
    pub protocols: Vec<ProtocolVersion>,
    pub capabilities: BTreeSet<String>,
}

impl Hello {
    /// Reads a `hello` event; unknown capabilities are kept (a newer
    /// adapter may know more than this mqttspec) but never required.
    pub fn parse(v: &Value) -> Result<Hello, String> {
        if v.get("event").and_then(Value::as_str) != Some("hello") {
            return Err(format!("the first line is not a hello event: {v}"));
        }
        let text = |k: &str| {
            v.get(k)
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .ok_or_else(|| format!("hello without a `{k}` string: {v}"))
        };
        let library = text("library")?;
        let version = text("version")?;
        let list = |k: &str| -> Result<Vec<String>, String> {
            match v.get(k) {
                None => Ok(Vec::new()),
                Some(Value::Array(items)) => items
                    .iter()
                    .map(|i| {
                        i.as_str()
                            .map(str::to_string)
                            .ok_or_else(|| format!("hello `{k}` holds a non-string: {i}"))
                    })
                    .collect(),
                Some(other) => Err(format!("hello `{k}` is not a list: {other}")),
            }
        };
        let mut protocols = Vec::new();
        for p in list("protocols")? {
            match p.parse::<ProtocolVersion>() {
                Ok(ProtocolVersion::V3_1) | Err(_) => {
                    return Err(format!("hello names an unknown MQTT version `{p}`"))
                }
                Ok(v) => protocols.push(v),
            }
        }
        if protocols.is_empty() {
            return Err(format!("hello names no MQTT version in `protocols`: {v}"));
        }
        Ok(Hello {
            library,
            version,
            protocols,
            capabilities: list("capabilities")?.into_iter().collect(),
        })
    }

    /// `paho-mqtt 2.1.0`.
    pub fn name(&self) -> String {
        format!("{} {}", self.library, self.version)
    }

    /// Why a scenario needing `needs` on `version` cannot run with this
    /// adapter, if it cannot.
    pub fn missing(&self, version: ProtocolVersion, needs: &[String]) -> Option<String> {
        if !self.protocols.contains(&version) {
            return Some(format!(
                "the client adapter ({}) does not speak MQTT {version}",
                self.name()
            ));
        }
        let cap = needs.iter().find(|c| !self.capabilities.contains(*c))?;
        Some(format!(
            "needs capability `{cap}`: the client adapter ({}) does not announce it",
            self.name()
        ))
    }
}

/// Whether `actual` has everything `expected` says: objects by the keys
/// `expected` names (others are ignored), arrays element by element with
/// equal length, numbers by value, anything else by equality. The error
/// names the first difference.
pub fn match_fields(expected: &Value, actual: &Value) -> Result<(), String> {
    fn walk(path: &str, e: &Value, a: &Value) -> Result<(), String> {
        match (e, a) {
            (Value::Object(em), Value::Object(am)) => {
                for (k, ev) in em {
                    let p = if path.is_empty() {
                        k.clone()
                    } else {
                        format!("{path}.{k}")
                    };
                    match am.get(k) {
                        Some(av) => walk(&p, ev, av)?,
                        None if ev.is_null() => {}
                        None => return Err(format!("`{p}` is missing (expected {ev})")),
                    }
                }
                Ok(())
            }
            (Value::Array(ev), Value::Array(av)) => {
                if ev.len() != av.len() {
                    return Err(format!(
                        "`{path}` has {} items, expected {}",
                        av.len(),
                        ev.len()
                    ));
                }
                for (i, (x, y)) in ev.iter().zip(av).enumerate() {
                    walk(&format!("{path}[{i}]"), x, y)?;
                }
                Ok(())
            }
            (Value::Number(x), Value::Number(y)) if x.as_f64() == y.as_f64() => Ok(()),
            _ if e == a => Ok(()),
            _ => Err(format!("`{path}` is {a}, expected {e}")),
        }
    }
    walk("", expected, actual)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn hello_parses_and_names_what_is_missing() {
        let h = Hello::parse(
            &json!({"event": "hello", "library": "lib", "version": "1.0",
            "protocols": ["3.1.1"], "capabilities": ["qos1", "future_thing"]}),
        )
        .unwrap();
        assert_eq!(h.name(), "lib 1.0");
        assert_eq!(h.missing(ProtocolVersion::V3_1_1, &["qos1".into()]), None);
        assert!(h
            .missing(ProtocolVersion::V3_1_1, &["qos2".into()])
            .unwrap()
            .contains("`qos2`"));
        assert!(h.missing(ProtocolVersion::V5, &[]).unwrap().contains("5.0"));
        assert!(Hello::parse(&json!({"event": "connected"})).is_err());
        assert!(Hello::parse(&json!({"event": "hello", "library": "x", "version": "1"})).is_err());
        assert!(Hello::parse(
            &json!({"event": "hello", "library": "x", "version": "1", "protocols": ["3.1"]})
        )
        .is_err());
    }

    #[test]
    fn fields_match_as_a_subset() {
        let got = json!({"event": "message", "topic": "a", "qos": 1, "properties": {"x": [1, 2]}});
        assert!(match_fields(&json!({"topic": "a"}), &got).is_ok());
        assert!(match_fields(&json!({"qos": 1.0}), &got).is_ok());
        assert!(match_fields(&json!({"properties": {"x": [1, 2]}}), &got).is_ok());
        let e = match_fields(&json!({"properties": {"x": [1]}}), &got).unwrap_err();
        assert!(e.contains("properties.x"), "{e}");
        assert!(match_fields(&json!({"retain": true}), &got)
            .unwrap_err()
            .contains("missing"));
        assert!(match_fields(&json!({"topic": "b"}), &got).is_err());
    }
}
