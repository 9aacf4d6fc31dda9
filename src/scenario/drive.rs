//! Parsing of the `drive` and `expect_event` steps (role: server): commands
//! for and events from the adapter of a client under test.

use super::model::{Check, Drive, ExpectEvent};
use super::yaml::{DeError, Node};
use crate::driver::{COMMANDS, EVENTS};
use serde_json::{Map, Value};

/// Fields each command takes (docs/driver-protocol.md).
fn command_fields(cmd: &str) -> &'static [&'static str] {
    match cmd {
        "connect" => &[
            "client_id",
            "clean_start",
            "keep_alive",
            "username",
            "password",
            "will",
            "properties",
        ],
        "subscribe" => &["subscriptions", "properties"],
        "unsubscribe" => &["filters", "properties"],
        "publish" => &[
            "topic",
            "payload",
            "payload_hex",
            "qos",
            "retain",
            "properties",
        ],
        "disconnect" => &["reason_code", "properties"],
        _ => &[],
    }
}

/// `drive: {publish: {topic: a, qos: 1}}` or `drive: exit`.
pub fn drive(body: &Node) -> Result<Drive, DeError> {
    let (name_node, fields) = match (body.as_str(), body.as_map()) {
        (Some(_), _) => (body, None),
        (None, Some([(k, v)])) => (k, Some(v)),
        _ => {
            return Err(DeError::at(
                body.loc,
                format!(
                "expected one driver command ({}), e.g. `drive: {{publish: {{topic: a, qos: 1}}}}`",
                COMMANDS.join(", ")
            ),
            ))
        }
    };
    let name = name_node
        .as_str()
        .ok_or_else(|| DeError::at(name_node.loc, "a driver command name"))?;
    if !COMMANDS.contains(&name) {
        return Err(DeError::at(
            name_node.loc,
            format!(
                "unknown driver command `{name}`, expected one of {}",
                COMMANDS.join(", ")
            ),
        ));
    }
    let mut command = Map::new();
    command.insert("cmd".into(), Value::String(name.to_string()));
    if let Some(v) = fields {
        let allowed = command_fields(name);
        match v.to_json()? {
            Value::Null => {}
            Value::Object(m) => {
                for (k, val) in m {
                    if !allowed.contains(&k.as_str()) {
                        let at = v
                            .as_map()
                            .and_then(|e| e.iter().find(|(key, _)| key.as_str() == Some(&k)))
                            .map_or(v.loc, |(key, _)| key.loc);
                        return Err(DeError::at(
                            at,
                            format!(
                                "`{name}` takes no field `{k}` (it takes: {})",
                                if allowed.is_empty() {
                                    "none".to_string()
                                } else {
                                    allowed.join(", ")
                                }
                            ),
                        ));
                    }
                    command.insert(k, val);
                }
            }
            other => {
                return Err(DeError::at(
                    v.loc,
                    format!("the fields of `{name}` must be a mapping, found {other}"),
                ))
            }
        }
    }
    Ok(Drive {
        command: Value::Object(command),
    })
}

/// `expect_event: {connected: {session_present: false}, within: 2s}`; the
/// keys were checked by the caller.
pub fn expect_event(body: &Node, check: Check, judged: bool) -> Result<ExpectEvent, DeError> {
    let entries = body.as_map().unwrap_or_default();
    let named: Vec<_> = entries
        .iter()
        .filter(|(k, _)| k.as_str().is_some_and(|k| EVENTS.contains(&k)))
        .collect();
    let [(key, value)] = named.as_slice() else {
        return Err(DeError::at(
            body.loc,
            format!(
                "expected exactly one event name ({}) beside within/checks/level",
                EVENTS[1..].join(", ")
            ),
        ));
    };
    let event = key.as_str().unwrap_or_default().to_string();
    if event == "hello" {
        return Err(DeError::at(
            key.loc,
            "`hello` is read when the adapter starts; expect another event",
        ));
    }
    let fields = match value.to_json()? {
        Value::Null => Value::Object(Map::new()),
        v @ Value::Object(_) => v,
        other => {
            return Err(DeError::at(
                value.loc,
                format!("the fields of `{event}` must be a mapping, found {other}"),
            ))
        }
    };
    let within = match entries.iter().find(|(k, _)| k.as_str() == Some("within")) {
        Some((_, n)) => Some(
            n.as_str()
                .ok_or_else(|| DeError::at(n.loc, "expected a duration such as 2s"))
                .and_then(|t| super::parse::parse_duration(t).map_err(|e| DeError::at(n.loc, e)))?,
        ),
        None => None,
    };
    Ok(ExpectEvent {
        event,
        fields,
        within,
        check,
        judged,
    })
}
