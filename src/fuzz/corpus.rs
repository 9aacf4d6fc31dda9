//! Seed inputs: the packets each client-role scenario sends, in order and
//! per connection, plus the files of `--corpus DIR` (scenario YAML, or any
//! other file as raw bytes for one connection).

use super::session::MAX_CONNS;
use crate::codec::{Overrides, Packet, ProtocolVersion};
use crate::engine::vars::Vars;
use crate::scenario::{Payload, Role, Scenario, Step, Transport};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::path::Path;

/// The namespace written into seed topics and client IDs; each session
/// replaces it with its own.
pub const SEED_NS: &str = "fzns";

#[derive(Debug, Clone)]
pub enum Item {
    Packet(Box<Packet>, Overrides),
    Raw(Vec<u8>),
}

/// One seed: a sequence of writes over up to [`MAX_CONNS`] connections.
#[derive(Debug, Clone)]
pub struct Seed {
    pub id: String,
    pub version: ProtocolVersion,
    pub items: Vec<(usize, Item)>,
}

/// Seeds of every client-role TCP scenario for the versions asked for.
pub fn from_scenarios(scenarios: &[Scenario], versions: &[ProtocolVersion]) -> Vec<Seed> {
    let mut seeds = Vec::new();
    for s in scenarios {
        if s.role != Role::Client {
            continue;
        }
        for v in &s.protocols {
            if !versions.contains(v) {
                continue;
            }
            if let Some(seed) = from_scenario(s, *v) {
                seeds.push(seed);
            }
        }
    }
    seeds
}

fn from_scenario(s: &Scenario, v: ProtocolVersion) -> Option<Seed> {
    let mut vars = Vars::default();
    vars.set("ns", json!(SEED_NS));
    let mut conns: BTreeMap<String, usize> = BTreeMap::new();
    let mut items = Vec::new();
    let mut next_id = 1u16;
    for step in &s.steps {
        match step {
            Step::Open(o) => {
                if o.transport != Transport::Tcp {
                    return None;
                }
                let n = conns.len();
                let conn = *conns.entry(o.name.clone()).or_insert(n);
                if conn >= MAX_CONNS {
                    return None;
                }
                let client_id = format!("{SEED_NS}{}", o.name);
                vars.set(format!("client_id.{}", o.name), json!(client_id));
                let Some(given) = &o.connect else { continue };
                let mut fields = Map::new();
                fields.insert("protocol_name".into(), json!(v.protocol_name()));
                fields.insert("protocol_level".into(), json!(v.level()));
                fields.insert("client_id".into(), json!(client_id));
                if let Value::Object(m) = given {
                    let m = match m.get("connect") {
                        Some(Value::Object(inner)) if m.len() == 1 => inner,
                        _ => m,
                    };
                    for (k, val) in m {
                        fields.insert(k.clone(), val.clone());
                    }
                }
                if let Some(p) = packet(&vars, &json!({ "connect": fields }), v, &mut next_id) {
                    items.push((conn, Item::Packet(Box::new(p), o.overrides.clone())));
                }
            }
            Step::Send(send) => {
                let Some(&conn) = conns.get(&send.on) else {
                    continue;
                };
                match &send.payload {
                    Payload::Raw(b) => items.push((conn, Item::Raw(b.clone()))),
                    Payload::Packet {
                        template,
                        overrides,
                    } => {
                        if let Some(p) = packet(&vars, template, v, &mut next_id) {
                            items.push((conn, Item::Packet(Box::new(p), overrides.clone())));
                        }
                    }
                }
            }
            Step::Disconnect(d) => {
                let Some(&conn) = conns.get(&d.on) else {
                    continue;
                };
                let fields = match &d.template {
                    Some(Value::Object(m)) => match m.get("disconnect") {
                        Some(inner) if m.len() == 1 => inner.clone(),
                        _ => Value::Object(m.clone()),
                    },
                    _ => json!({}),
                };
                let t = json!({ "disconnect": fields });
                if let Some(p) = packet(&vars, &t, v, &mut next_id) {
                    items.push((conn, Item::Packet(Box::new(p), Overrides::default())));
                }
            }
            _ => {}
        }
    }
    (!items.is_empty()).then(|| Seed {
        id: s.id.clone(),
        version: v,
        items,
    })
}

/// A template with the seed's variables, as a packet; `None` when it needs
/// a value only a live run has (a captured variable, a profile value).
fn packet(vars: &Vars, t: &Value, v: ProtocolVersion, next_id: &mut u16) -> Option<Packet> {
    let mut value = vars.substitute(t).ok()?;
    if let Some((name, fields)) = value.as_object_mut().and_then(|m| m.iter_mut().next()) {
        let needs_id = match name.as_str() {
            "publish" => fields.get("qos").and_then(Value::as_u64).unwrap_or(0) > 0,
            "subscribe" | "unsubscribe" => true,
            _ => false,
        };
        if let Some(f) = fields.as_object_mut() {
            if needs_id && !f.contains_key("packet_id") {
                f.insert("packet_id".into(), json!(*next_id));
                *next_id = next_id.wrapping_add(1).max(1);
            }
        }
    }
    let mut p: Packet = serde_json::from_value(value).ok()?;
    if let Packet::Connect(c) = &mut p {
        if c.protocol_level == 0 {
            c.protocol_level = v.level();
        }
    }
    Some(p)
}

/// Files of `--corpus DIR`: scenario files are read as scenarios, any other
/// file as the raw bytes of one connection (for each version).
pub fn raw_files(dir: &Path, versions: &[ProtocolVersion]) -> std::io::Result<Vec<Seed>> {
    let mut seeds = Vec::new();
    let mut paths: Vec<_> = std::fs::read_dir(dir)?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .collect();
    paths.sort();
    for p in paths {
        let ext = p.extension().and_then(|e| e.to_str()).unwrap_or("");
        if ext == "yaml" || ext == "yml" {
            continue;
        }
        let meta = std::fs::metadata(&p)?;
        if meta.len() > 1 << 20 {
            continue;
        }
        let bytes = std::fs::read(&p)?;
        for v in versions {
            seeds.push(Seed {
                id: p.display().to_string(),
                version: *v,
                items: vec![(0, Item::Raw(bytes.clone()))],
            });
        }
    }
    Ok(seeds)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::loader::load_suite;

    #[test]
    fn every_built_in_scenario_version_gives_seeds_with_a_connect() {
        let (_, scenarios) = load_suite(None).unwrap();
        let seeds = from_scenarios(&scenarios, &[ProtocolVersion::V3_1_1, ProtocolVersion::V5]);
        assert!(seeds.len() > 50, "{}", seeds.len());
        let with_connect = seeds
            .iter()
            .filter(|s| {
                s.items.iter().any(
                    |(_, i)| matches!(i, Item::Packet(p, _) if matches!(**p, Packet::Connect(_))),
                )
            })
            .count();
        assert!(with_connect * 2 > seeds.len());
        assert!(seeds
            .iter()
            .all(|s| s.items.iter().all(|(c, _)| *c < MAX_CONNS)));
    }
}
