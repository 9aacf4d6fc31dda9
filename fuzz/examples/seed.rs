//! Builds the fuzzing seed corpus.
//!
//! Usage: seed CASES_DIR SEEDS_DIR OUT_DIR
//!
//! * From every scenario file under CASES_DIR: the `raw` hex of each step,
//!   and each structured packet (`packet`, with its `override`, and the
//!   CONNECT of `open`) encoded for every version the scenario runs on.
//!   Variables are replaced by plausible values; a template that still does
//!   not make a packet (a matcher, for instance) is skipped.
//! * From SEEDS_DIR: hand-written packets as hex, `v3.1.1/*.hex` and
//!   `v5.0/*.hex` (`#` starts a comment), and scenario files `scenario/*.yaml`.
//!
//! Writes OUT_DIR/<target>/<hash> files for the decode_v311, decode_v5,
//! framer and scenario_load targets.

use bytes::BytesMut;
use mqttspec::codec::{self, binary::parse_hex, Overrides, Packet, ProtocolVersion};
use serde_json::{Map, Value};
use std::collections::hash_map::DefaultHasher;
use std::collections::BTreeSet;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::{env, fs, process};

/// Seeds gathered per version, and streams (the packets one scenario sends,
/// in order) for the framer.
#[derive(Default)]
struct Corpus {
    v311: BTreeSet<Vec<u8>>,
    v5: BTreeSet<Vec<u8>>,
    streams: BTreeSet<Vec<u8>>,
    scenarios: BTreeSet<Vec<u8>>,
}

impl Corpus {
    fn add(&mut self, version: ProtocolVersion, bytes: Vec<u8>) {
        if version.is_v5() {
            self.v5.insert(bytes);
        } else {
            self.v311.insert(bytes);
        }
    }
}

fn main() {
    let args: Vec<PathBuf> = env::args_os().skip(1).map(PathBuf::from).collect();
    let [cases, seeds, out] = args.as_slice() else {
        eprintln!("usage: seed CASES_DIR SEEDS_DIR OUT_DIR");
        process::exit(2);
    };
    let mut corpus = Corpus::default();
    let mut skipped = 0usize;

    for file in yaml_files(cases) {
        // The statement catalog is not a scenario file.
        if file.components().any(|c| c.as_os_str() == "spec") {
            continue;
        }
        let Ok(text) = fs::read_to_string(&file) else {
            continue;
        };
        corpus.scenarios.insert(text.clone().into_bytes());
        match serde_saphyr::from_str::<Value>(&text) {
            Ok(doc) => skipped += from_scenario_file(&doc, &mut corpus),
            Err(e) => eprintln!("seed: {}: not YAML ({e}); skipped", file.display()),
        }
    }

    for (dir, version) in [
        ("v3.1.1", ProtocolVersion::V3_1_1),
        ("v5.0", ProtocolVersion::V5),
    ] {
        let mut stream = Vec::new();
        for file in files_with_ext(&seeds.join(dir), "hex") {
            let text = fs::read_to_string(&file).unwrap_or_default();
            let hex: String = text
                .lines()
                .map(|l| l.split('#').next().unwrap_or(""))
                .collect::<Vec<_>>()
                .join(" ");
            match parse_hex(&hex) {
                Ok(bytes) => {
                    stream.extend_from_slice(&bytes);
                    corpus.add(version, bytes);
                }
                Err(e) => eprintln!("seed: {}: {e}", file.display()),
            }
        }
        if !stream.is_empty() {
            corpus.streams.insert(stream);
        }
    }
    for file in files_with_ext(&seeds.join("scenario"), "yaml") {
        if let Ok(text) = fs::read(&file) {
            corpus.scenarios.insert(text);
        }
    }

    // Framer inputs: [max-size selector, chunk seed (2 bytes), stream...].
    // Selectors: 0x80 (no practical limit), 0x4f (304 bytes), 0x10 (16 bytes).
    let framer: BTreeSet<Vec<u8>> = corpus
        .streams
        .iter()
        .flat_map(|s| {
            [[0x80, 0x01, 0x00], [0x4f, 0x35, 0x12], [0x10, 0xff, 0x7e]].map(|head| {
                let mut v = head.to_vec();
                v.extend_from_slice(s);
                v
            })
        })
        .collect();

    let mut written = 0;
    written += write_all(&out.join("decode_v311"), &corpus.v311);
    written += write_all(&out.join("decode_v5"), &corpus.v5);
    written += write_all(&out.join("framer"), &framer);
    written += write_all(&out.join("scenario_load"), &corpus.scenarios);
    fs::create_dir_all(out.join("roundtrip")).expect("create corpus dir");
    println!(
        "seed: {} 3.1.1 packets, {} 5.0 packets, {} streams, {} scenario files ({written} files written, {skipped} templates skipped)",
        corpus.v311.len(),
        corpus.v5.len(),
        framer.len(),
        corpus.scenarios.len()
    );
}

/// Collects the seeds of one scenario file; returns how many packet
/// templates could not be encoded.
fn from_scenario_file(doc: &Value, corpus: &mut Corpus) -> usize {
    let file_versions = versions(doc.get("protocol"));
    let mut skipped = 0;
    let Some(scenarios) = doc.get("scenarios").and_then(Value::as_array) else {
        return 0;
    };
    for scenario in scenarios {
        let vs = match scenario.get("protocol") {
            Some(p) => versions(Some(p)),
            None => file_versions.clone(),
        };
        for &version in &vs {
            let mut stream = Vec::new();
            for step in scenario
                .get("steps")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                skipped += from_step(step, version, corpus, &mut stream);
            }
            if !stream.is_empty() {
                corpus.streams.insert(stream);
            }
        }
    }
    skipped
}

fn versions(protocol: Option<&Value>) -> Vec<ProtocolVersion> {
    match protocol.and_then(Value::as_str) {
        Some("3.1.1") => vec![ProtocolVersion::V3_1_1],
        Some("5.0") | Some("5") => vec![ProtocolVersion::V5],
        _ => vec![ProtocolVersion::V3_1_1, ProtocolVersion::V5],
    }
}

/// Seeds from one step, a one-key mapping such as `{send: {...}}`. Packets
/// the step sends also go to `stream`.
fn from_step(
    step: &Value,
    version: ProtocolVersion,
    corpus: &mut Corpus,
    stream: &mut Vec<u8>,
) -> usize {
    let Some((kind, body)) = step.as_object().and_then(|m| m.iter().next()) else {
        return 0;
    };
    let sends = matches!(kind.as_str(), "send" | "open");
    let mut skipped = 0;
    let mut found = Vec::new();
    collect(body, version, &mut found, &mut skipped);
    if kind == "open" {
        // The CONNECT that `open` sends: its partial template over defaults.
        let connect = body
            .get("connect")
            .cloned()
            .unwrap_or(Value::Object(Map::new()));
        if connect.is_object() {
            let overrides = body.get("override").cloned();
            let template = Value::Object(Map::from_iter([("connect".into(), connect)]));
            match encode(&template, overrides.as_ref(), version) {
                Some(b) => found.push(b),
                None => skipped += 1,
            }
        }
    }
    for bytes in found {
        if sends {
            stream.extend_from_slice(&bytes);
        }
        corpus.add(version, bytes);
    }
    skipped
}

/// Walks a step body for `raw` hex and `packet` templates.
fn collect(v: &Value, version: ProtocolVersion, found: &mut Vec<Vec<u8>>, skipped: &mut usize) {
    match v {
        Value::Object(map) => {
            if let Some(Value::String(raw)) = map.get("raw") {
                match parse_hex(&substitute_str(raw)) {
                    Ok(b) => found.push(b),
                    Err(_) => *skipped += 1,
                }
            }
            if let Some(template) = map.get("packet") {
                match encode(template, map.get("override"), version) {
                    Some(b) => found.push(b),
                    None => *skipped += 1,
                }
            }
            for (k, child) in map {
                if k != "packet" && k != "raw" {
                    collect(child, version, found, skipped);
                }
            }
        }
        Value::Array(items) => {
            for item in items {
                collect(item, version, found, skipped);
            }
        }
        _ => {}
    }
}

fn encode(
    template: &Value,
    overrides: Option<&Value>,
    version: ProtocolVersion,
) -> Option<Vec<u8>> {
    let mut packet: Packet = serde_json::from_value(substitute(template)).ok()?;
    let overrides: Overrides = match overrides {
        Some(o) => serde_json::from_value(substitute(o)).ok()?,
        None => Overrides::default(),
    };
    fill_defaults(&mut packet, version);
    let mut out = BytesMut::new();
    codec::encode_with(&packet, version, &overrides, &mut out).ok()?;
    Some(out.to_vec())
}

/// What the engine would fill in before sending: packet identifiers and the
/// CONNECT's protocol level and client id.
fn fill_defaults(packet: &mut Packet, version: ProtocolVersion) {
    match packet {
        Packet::Publish(p) if p.qos > 0 && p.packet_id.is_none() => p.packet_id = Some(1),
        Packet::Subscribe(s) if s.packet_id.is_none() => s.packet_id = Some(1),
        Packet::Unsubscribe(u) if u.packet_id.is_none() => u.packet_id = Some(1),
        Packet::Connect(c) => {
            if c.protocol_level == 0 {
                c.protocol_level = version.level();
            }
            if c.client_id.is_empty() {
                c.client_id = "seed".into();
            }
        }
        _ => {}
    }
}

/// Replaces scenario variables: a string that is exactly `{name}` becomes
/// the number 1 (such variables hold packet identifiers and the like), and
/// `{name}` inside a string becomes a short word.
fn substitute(v: &Value) -> Value {
    match v {
        Value::String(s) if is_whole_variable(s) => Value::from(1),
        Value::String(s) => Value::String(substitute_str(s)),
        Value::Array(items) => Value::Array(items.iter().map(substitute).collect()),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), substitute(v)))
                .collect(),
        ),
        other => other.clone(),
    }
}

fn is_whole_variable(s: &str) -> bool {
    s.starts_with('{')
        && s.ends_with('}')
        && !s.starts_with("{{")
        && !s[1..s.len() - 1].contains(['{', '}'])
}

fn substitute_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('{') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        if let Some(tail) = rest.strip_prefix("{{") {
            out.push('{');
            rest = tail;
        } else if let Some(end) = rest.find('}') {
            out.push_str(if rest.starts_with("{ns}") { "ns1" } else { "v" });
            rest = &rest[end + 1..];
        } else {
            break;
        }
    }
    out.push_str(rest);
    out.replace("}}", "}")
}

fn yaml_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = fs::read_dir(&d) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if matches!(
                path.extension().and_then(|e| e.to_str()),
                Some("yaml" | "yml")
            ) {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

fn files_with_ext(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().and_then(|e| e.to_str()) == Some(ext))
        .collect();
    out.sort();
    out
}

/// Writes each input as a file named by its hash; returns how many.
fn write_all(dir: &Path, inputs: &BTreeSet<Vec<u8>>) -> usize {
    fs::create_dir_all(dir).expect("create corpus dir");
    for input in inputs {
        let mut h = DefaultHasher::new();
        input.hash(&mut h);
        let path = dir.join(format!("seed-{:016x}", h.finish()));
        fs::write(&path, input).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    }
    inputs.len()
}
