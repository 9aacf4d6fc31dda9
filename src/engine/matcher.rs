//! Partial matching of a received packet against a matcher from a scenario.
//!
//! The packet is compared in its serde form (`serde_json::to_value`), the
//! same shape scenarios write: scalars must be equal, a mapping compares only
//! the keys it names, a list matches element by element and must have the
//! same length. Special forms: `{one_of: [..]}`, `{absent: true}`,
//! `{hex: ".."}` (bytes) and the capture `"{=name}"`. Variables in the
//! matcher are substituted as each leaf is compared.

use super::vars::{capture_name, Vars};
use crate::codec::binary::parse_hex;
use crate::codec::Packet;
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::fmt;

/// Captured values, committed only when the whole match succeeds.
pub type Captures = BTreeMap<String, Value>;

/// Why a packet did not match: the first differing field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    /// e.g. `publish.qos`; empty for the packet type itself.
    pub path: String,
    pub expected: String,
    pub observed: String,
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            write!(f, "expected {}, observed {}", self.expected, self.observed)
        } else {
            write!(
                f,
                "field {}: expected {}, observed {}",
                self.path, self.expected, self.observed
            )
        }
    }
}

/// A match either fails on the peer's side or cannot be evaluated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MatchError {
    Mismatch(Mismatch),
    /// The scenario's fault, e.g. a variable without a value.
    Tool(String),
}

impl From<Mismatch> for MatchError {
    fn from(m: Mismatch) -> Self {
        MatchError::Mismatch(m)
    }
}

/// Matches `packet` against `matcher`; on success returns what it captured.
pub fn match_packet(matcher: &Value, packet: &Packet, vars: &Vars) -> Result<Captures, MatchError> {
    let observed = serde_json::to_value(packet)
        .map_err(|e| MatchError::Tool(format!("cannot represent the packet: {e}")))?;
    match_value(matcher, &observed, vars)
}

/// Matches any observed value (the packet's serde form at the top).
pub fn match_value(matcher: &Value, observed: &Value, vars: &Vars) -> Result<Captures, MatchError> {
    let mut caps = Captures::new();
    // A different packet type is reported as such, not as a missing field.
    if let (Some((mk, _)), Some((ok, _))) = (single_key(matcher), single_key(observed)) {
        if !is_special(mk) && mk != ok {
            return Err(Mismatch {
                path: String::new(),
                expected: format!("a {} packet", mk.to_uppercase()),
                observed: format!("a {} packet", ok.to_uppercase()),
            }
            .into());
        }
    }
    walk(matcher, observed, "", vars, &mut caps)?;
    Ok(caps)
}

fn single_key(v: &Value) -> Option<(&str, &Value)> {
    match v {
        Value::Object(m) if m.len() == 1 => m.iter().next().map(|(k, v)| (k.as_str(), v)),
        _ => None,
    }
}

fn single_key_map(m: &Map<String, Value>) -> Option<(&str, &Value)> {
    if m.len() == 1 {
        m.iter().next().map(|(k, v)| (k.as_str(), v))
    } else {
        None
    }
}

fn is_special(key: &str) -> bool {
    matches!(key, "one_of" | "absent" | "hex")
}

fn walk(
    m: &Value,
    o: &Value,
    path: &str,
    vars: &Vars,
    caps: &mut Captures,
) -> Result<(), MatchError> {
    match m {
        Value::Object(map) => walk_object(map, o, path, vars, caps),
        Value::Array(items) => {
            let Value::Array(obs) = o else {
                return Err(mismatch(path, m, vars, o));
            };
            if items.len() != obs.len() {
                return Err(Mismatch {
                    path: path.to_string(),
                    expected: format!(
                        "{} element(s) {}",
                        items.len(),
                        show(&vars.substitute_lenient(m))
                    ),
                    observed: format!("{} element(s) {}", obs.len(), show(o)),
                }
                .into());
            }
            for (i, (mi, oi)) in items.iter().zip(obs).enumerate() {
                walk(mi, oi, &format!("{path}[{i}]"), vars, caps)?;
            }
            Ok(())
        }
        Value::String(s) => {
            if let Some(name) = capture_name(s) {
                caps.insert(name.to_string(), o.clone());
                return Ok(());
            }
            let want = vars.string(s, true).map_err(MatchError::Tool)?;
            if scalar_eq(&want, o) {
                Ok(())
            } else {
                Err(mismatch(path, &want, vars, o))
            }
        }
        scalar => {
            if scalar_eq(scalar, o) {
                Ok(())
            } else {
                Err(mismatch(path, scalar, vars, o))
            }
        }
    }
}

fn walk_object(
    map: &Map<String, Value>,
    o: &Value,
    path: &str,
    vars: &Vars,
    caps: &mut Captures,
) -> Result<(), MatchError> {
    if map.len() == 1 {
        if let Some(alts) = map.get("one_of").and_then(Value::as_array) {
            for alt in alts {
                let mut trial = caps.clone();
                match walk(alt, o, path, vars, &mut trial) {
                    Ok(()) => {
                        *caps = trial;
                        return Ok(());
                    }
                    Err(MatchError::Tool(e)) => return Err(MatchError::Tool(e)),
                    Err(MatchError::Mismatch(_)) => {}
                }
            }
            let shown: Vec<String> = alts
                .iter()
                .map(|a| show(&vars.substitute_lenient(a)))
                .collect();
            return Err(Mismatch {
                path: path.to_string(),
                expected: format!("one of {}", shown.join(" | ")),
                observed: show(o),
            }
            .into());
        }
        if let Some(want_absent) = map.get("absent").and_then(Value::as_bool) {
            return if is_absent(o) == want_absent {
                Ok(())
            } else {
                Err(Mismatch {
                    path: path.to_string(),
                    expected: if want_absent { "absent" } else { "present" }.to_string(),
                    observed: show(o),
                }
                .into())
            };
        }
        if let Some(Value::String(h)) = map.get("hex") {
            let text = vars.interpolate(h, true).map_err(MatchError::Tool)?;
            let want = parse_hex(&text).map_err(|e| MatchError::Tool(format!("{path}: {e}")))?;
            return if bytes_of(o).as_deref() == Some(&want[..]) {
                Ok(())
            } else {
                Err(Mismatch {
                    path: path.to_string(),
                    expected: format!("bytes {}", crate::codec::binary::to_hex(&want)),
                    observed: match bytes_of(o) {
                        Some(b) => format!("bytes {}", crate::codec::binary::to_hex(&b)),
                        None => show(o),
                    },
                }
                .into())
            };
        }
    }
    // At the top, a packet matcher inside `one_of` names a packet type too:
    // `{pingresp: {}}` must not match a PUBLISH just because it names no field.
    if path.is_empty() {
        if let (Some((mk, _)), Some((ok, _))) = (single_key_map(map), single_key(o)) {
            if !is_special(mk) && mk != ok {
                return Err(Mismatch {
                    path: String::new(),
                    expected: format!("a {} packet", mk.to_uppercase()),
                    observed: format!("a {} packet", ok.to_uppercase()),
                }
                .into());
            }
        }
    }
    let obs = match o {
        Value::Object(obs) => Some(obs),
        // A missing sub-structure (e.g. no will) only matches an empty mapping.
        Value::Null => None,
        _ => return Err(mismatch(path, &Value::Object(map.clone()), vars, o)),
    };
    if obs.is_none() && !map.is_empty() {
        return Err(mismatch(path, &Value::Object(map.clone()), vars, o));
    }
    for (k, mv) in map {
        let ov = obs.and_then(|x| x.get(k)).unwrap_or(&Value::Null);
        let sub = if path.is_empty() {
            k.clone()
        } else {
            format!("{path}.{k}")
        };
        walk(mv, ov, &sub, vars, caps)?;
    }
    Ok(())
}

/// Absent, null or empty.
fn is_absent(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        _ => false,
    }
}

/// The bytes of a binary field in its serde form: a UTF-8 string or `{hex}`.
fn bytes_of(v: &Value) -> Option<Vec<u8>> {
    match v {
        Value::String(s) => Some(s.as_bytes().to_vec()),
        Value::Object(m) if m.len() == 1 => m.get("hex")?.as_str().and_then(|h| parse_hex(h).ok()),
        _ => None,
    }
}

/// Equality of an expected scalar (or a captured value) with an observed one.
fn scalar_eq(want: &Value, o: &Value) -> bool {
    match (want, o) {
        (Value::Number(a), Value::Number(b)) => match (a.as_u64(), b.as_u64()) {
            (Some(x), Some(y)) => x == y,
            _ => match (a.as_i64(), b.as_i64()) {
                (Some(x), Some(y)) => x == y,
                _ => a.as_f64() == b.as_f64(),
            },
        },
        // A text payload against a binary one that is not UTF-8 never matches.
        (Value::String(_), Value::Object(_)) => false,
        (Value::Array(a), Value::Array(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| scalar_eq(x, y))
        }
        (Value::Object(a), Value::Object(b)) => {
            a.len() == b.len()
                && a.iter()
                    .all(|(k, x)| b.get(k).is_some_and(|y| scalar_eq(x, y)))
        }
        _ => want == o,
    }
}

fn mismatch(path: &str, want: &Value, vars: &Vars, o: &Value) -> MatchError {
    Mismatch {
        path: path.to_string(),
        expected: show(&vars.substitute_lenient(want)),
        observed: show(o),
    }
    .into()
}

/// A value in one short line.
pub fn show(v: &Value) -> String {
    let s = match v {
        Value::Null => "nothing".to_string(),
        other => other.to_string(),
    };
    const MAX: usize = 200;
    if s.len() > MAX {
        let mut cut = MAX;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        format!("{}...", &s[..cut])
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn m(matcher: Value, observed: Value) -> Result<Captures, MatchError> {
        let mut vars = Vars::default();
        vars.set("ns", json!("n1"));
        vars.set("pid", json!(5));
        match_value(&matcher, &observed, &vars)
    }

    fn mm(matcher: Value, observed: Value) -> String {
        match m(matcher, observed) {
            Err(MatchError::Mismatch(x)) => x.to_string(),
            other => panic!("expected a mismatch, got {other:?}"),
        }
    }

    #[test]
    fn one_of_alternatives_name_their_packet_type() {
        let publish = json!({"publish": {"qos": 0, "payload": "4"}});
        let alts = json!({"one_of": [{"pingresp": {}}, {"suback": {}}]});
        assert!(m(alts.clone(), publish).is_err());
        assert!(m(alts, json!({"pingresp": {}})).is_ok());
    }

    #[test]
    fn partial_mappings_and_scalars() {
        let pkt = json!({"publish": {"qos": 1, "retain": false, "topic": "n1/t", "packet_id": 3, "payload": "hi"}});
        assert!(m(json!({"publish": {"qos": 1}}), pkt.clone()).is_ok());
        assert!(m(
            json!({"publish": {"topic": "{ns}/t", "payload": "hi"}}),
            pkt.clone()
        )
        .is_ok());
        assert_eq!(
            mm(json!({"publish": {"qos": 0}}), pkt.clone()),
            "field publish.qos: expected 0, observed 1"
        );
        assert_eq!(
            mm(json!({"puback": {}}), pkt.clone()),
            "expected a PUBACK packet, observed a PUBLISH packet"
        );
        assert_eq!(
            mm(json!({"publish": {"packet_id": "{pid}"}}), pkt),
            "field publish.packet_id: expected 5, observed 3"
        );
    }

    #[test]
    fn lists_have_the_same_length() {
        let pkt = json!({"suback": {"packet_id": 1, "reason_codes": [0, 1]}});
        assert!(m(json!({"suback": {"reason_codes": [0, 1]}}), pkt.clone()).is_ok());
        assert!(mm(json!({"suback": {"reason_codes": [0]}}), pkt.clone()).contains("1 element(s)"));
        assert_eq!(
            mm(json!({"suback": {"reason_codes": [0, 2]}}), pkt),
            "field suback.reason_codes[1]: expected 2, observed 1"
        );
    }

    #[test]
    fn one_of_absent_and_hex() {
        let pkt =
            json!({"connack": {"session_present": false, "reason_code": 0x87, "properties": {}}});
        assert!(m(
            json!({"connack": {"reason_code": {"one_of": [0x85, 0x87]}}}),
            pkt.clone()
        )
        .is_ok());
        assert!(mm(
            json!({"connack": {"reason_code": {"one_of": [0x85, 0x86]}}}),
            pkt.clone()
        )
        .contains("one of 133 | 134"));
        assert!(m(
            json!({"connack": {"properties": {"reason_string": {"absent": true}}}}),
            pkt.clone()
        )
        .is_ok());
        assert!(m(
            json!({"connack": {"properties": {"absent": true}}}),
            pkt.clone()
        )
        .is_ok());
        assert!(
            mm(json!({"connack": {"reason_code": {"absent": true}}}), pkt)
                .contains("expected absent")
        );
        let bin = json!({"publish": {"payload": {"hex": "00ff"}}});
        assert!(m(
            json!({"publish": {"payload": {"hex": "00 FF"}}}),
            bin.clone()
        )
        .is_ok());
        assert!(m(json!({"publish": {"payload": "hi"}}), bin).is_err());
        let text = json!({"publish": {"payload": "hi"}});
        assert!(m(json!({"publish": {"payload": {"hex": "6869"}}}), text).is_ok());
    }

    #[test]
    fn captures_commit_only_on_success() {
        let pkt = json!({"publish": {"packet_id": 9, "topic": "n1/t"}});
        let caps = m(json!({"publish": {"packet_id": "{=pid}"}}), pkt.clone()).unwrap();
        assert_eq!(caps.get("pid"), Some(&json!(9)));
        let alt = json!({"publish": {"one_of": [{"packet_id": "{=a}", "topic": "x"}, {"packet_id": "{=b}"}]}});
        let caps = m(alt, pkt).unwrap();
        assert_eq!(caps.get("a"), None);
        assert_eq!(caps.get("b"), Some(&json!(9)));
    }

    #[test]
    fn missing_structures_and_unknown_variables() {
        let pkt = json!({"connect": {"will": null, "client_id": "x"}});
        assert!(
            mm(json!({"connect": {"will": {"topic": "t"}}}), pkt.clone())
                .contains("observed nothing")
        );
        assert!(matches!(
            m(json!({"connect": {"client_id": "{nope}"}}), pkt),
            Err(MatchError::Tool(_))
        ));
    }
}
