//! Report documents checked against their published structure: the JUnit
//! XML against tests/data/junit.xsd, the JSON against
//! reports/schema/report.schema.json. Both checks interpret the schema
//! files themselves (the subset of XSD and JSON Schema they use), so the
//! schemas stay the single description of the formats.

use mqttspec::codec::ProtocolVersion;
use mqttspec::outcome::*;
use mqttspec::report::{html, json, junit, markdown};
use quick_xml::events::Event;
use quick_xml::Reader;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

// ---------------------------------------------------------------- fixtures

fn result(
    id: &str,
    protocol: ProtocolVersion,
    reqs: &[&str],
    section: &str,
    verdict: Verdict,
) -> ScenarioResult {
    ScenarioResult {
        id: id.into(),
        title: format!("{id} title"),
        protocol,
        requirements: reqs.iter().map(|s| s.to_string()).collect(),
        section: section.into(),
        verdict,
        violated: None,
        message: None,
        expected: None,
        observed: None,
        notes: vec![],
        duration: Duration::from_micros(1500),
        transcript: Transcript::default(),
        source: format!("cases/v3.1.1/server/{section}.yaml:10"),
    }
}

fn entry(at_ms: f64, direction: Direction, text: &str, hex: &str) -> TranscriptEntry {
    TranscriptEntry {
        at_ms,
        connection: "a".into(),
        direction,
        text: text.into(),
        hex: hex.into(),
    }
}

/// Every verdict, two protocols, several sections, and text a hostile
/// broker could have put into the transcript.
fn full_run() -> RunReport {
    use ProtocolVersion::{V3_1_1 as V3, V5};
    let mut fail = result(
        "publish/qos-3-closes",
        V3,
        &["MQTT-3.3.1-4"],
        "3.3",
        Verdict::Fail,
    );
    fail.violated = Some("MQTT-3.3.1-4".into());
    fail.message = Some("the server kept the connection open".into());
    fail.expected = Some("the connection closed".into());
    fail.observed = Some("PUBACK packet_id=1".into());
    fail.transcript.entries = vec![
        entry(0.2, Direction::Event, "connected", ""),
        entry(
            0.5,
            Direction::Sent,
            "PUBLISH qos=3 topic=\"a/b\"",
            "36070003612f620001",
        ),
        entry(
            1.7,
            Direction::Received,
            "PUBACK packet_id=1 ]]> </system-out> \u{0} \u{1b}[31m <![CDATA[",
            "40020001",
        ),
    ];
    let mut pass = result(
        "connect/reserved-flag",
        V3,
        &["MQTT-3.1.2-3"],
        "3.1",
        Verdict::Pass,
    );
    pass.transcript.entries = vec![entry(
        0.1,
        Direction::Sent,
        "CONNECT",
        "100c00044d5154540402003c0000",
    )];
    pass.notes.push(Note {
        statement: Some("MQTT-3.1.2-3".into()),
        message: "closed without CONNACK".into(),
    });
    let mut skip = result(
        "retain/new-subscriber",
        V5,
        &["MQTT-3.3.1-6", "MQTT-3.3.1-8"],
        "3.3",
        Verdict::Skip,
    );
    skip.message = Some("needs retain, which the broker's CONNACK says it lacks".into());
    let mut error = result(
        "subscribe/wildcard",
        V5,
        &["MQTT-3.8.3-1"],
        "3.8",
        Verdict::Error,
    );
    error.message = Some("connection refused \"quoted\" & <tagged>".into());
    let pass5 = result(
        "publish/qos-3-closes",
        V5,
        &["MQTT-3.3.1-4"],
        "3.3",
        Verdict::Pass,
    );
    RunReport {
        meta: RunMeta {
            mqttspec_version: "0.1.0".into(),
            started_at: "2025-01-02T03:04:05Z".into(),
            target: "tcp://127.0.0.1:1883".into(),
            broker: None,
            protocols: vec![V3, V5],
            jobs: 4,
            duration_ms: 321,
        },
        scenarios: vec![fail, pass, skip, error, pass5],
        target_died: Some("process exited: signal 11".into()),
    }
}

fn repo_file(rel: &str) -> String {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join(rel);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

// ------------------------------------------------- XML tree and XSD subset

#[derive(Debug)]
struct Element {
    name: String,
    attrs: BTreeMap<String, String>,
    children: Vec<Element>,
    /// Non-blank character data (text and CDATA) directly inside.
    text: String,
}

fn parse_xml(xml: &str) -> Result<Element, String> {
    if let Some(c) = xml
        .chars()
        .find(|&c| c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
    {
        return Err(format!(
            "character U+{:04X} is not allowed in XML 1.0",
            c as u32
        ));
    }
    let mut reader = Reader::from_str(xml);
    let mut stack: Vec<Element> = Vec::new();
    let mut root = None;
    let open = |e: &quick_xml::events::BytesStart| -> Result<Element, String> {
        let mut attrs = BTreeMap::new();
        for a in e.attributes() {
            let a = a.map_err(|e| e.to_string())?;
            let key = String::from_utf8(a.key.as_ref().to_vec()).map_err(|e| e.to_string())?;
            let value = a.unescape_value().map_err(|e| e.to_string())?.into_owned();
            attrs.insert(key, value);
        }
        Ok(Element {
            name: String::from_utf8(e.name().as_ref().to_vec()).map_err(|e| e.to_string())?,
            attrs,
            children: vec![],
            text: String::new(),
        })
    };
    loop {
        let ev = reader
            .read_event()
            .map_err(|e| format!("at {}: {e}", reader.buffer_position()))?;
        match ev {
            Event::Start(e) => stack.push(open(&e)?),
            Event::Empty(e) => {
                let el = open(&e)?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(el),
                    None => root = Some(el),
                }
            }
            Event::End(_) => {
                let el = stack.pop().ok_or("unbalanced end tag")?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(el),
                    None => root = Some(el),
                }
            }
            Event::Text(t) => {
                let t = t.decode().map_err(|e| e.to_string())?;
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(t.trim());
                } else if !t.trim().is_empty() {
                    return Err("text outside the root element".into());
                }
            }
            Event::GeneralRef(_) => {
                if let Some(top) = stack.last_mut() {
                    top.text.push('&');
                }
            }
            Event::CData(c) => {
                let c =
                    String::from_utf8(c.into_inner().into_owned()).map_err(|e| e.to_string())?;
                stack
                    .last_mut()
                    .ok_or("CDATA outside the root element")?
                    .text
                    .push_str(&c);
            }
            Event::Eof => break,
            Event::Decl(_) | Event::Comment(_) | Event::PI(_) | Event::DocType(_) => {}
        }
    }
    if !stack.is_empty() {
        return Err("unclosed element".into());
    }
    root.ok_or_else(|| "no root element".into())
}

#[derive(Debug, Default)]
struct ElementDecl {
    /// (name, type, required)
    attrs: Vec<(String, String, bool)>,
    /// Child particles in order: (name, min, max); `None` max is unbounded.
    particles: Vec<(String, usize, Option<usize>)>,
    /// A repeated choice: children in any order, each any number of times.
    choice: bool,
    text: bool,
}

/// Reads the flat XSD layout of tests/data/junit.xsd: top-level element
/// declarations with a complexType holding a sequence or choice of element
/// references, attributes, and `mixed` for text.
fn read_xsd(xsd: &str) -> BTreeMap<String, ElementDecl> {
    let root = parse_xml(xsd).expect("the XSD is well-formed XML");
    assert_eq!(root.name, "xs:schema");
    let occurs = |el: &Element, key: &str| -> Option<usize> {
        match el.attrs.get(key).map(String::as_str) {
            None => Some(1),
            Some("unbounded") => None,
            Some(n) => Some(n.parse().unwrap()),
        }
    };
    let mut decls = BTreeMap::new();
    for el in &root.children {
        assert_eq!(el.name, "xs:element");
        let mut decl = ElementDecl::default();
        for ct in &el.children {
            assert_eq!(ct.name, "xs:complexType");
            decl.text = ct.attrs.get("mixed").map(String::as_str) == Some("true");
            for part in &ct.children {
                match part.name.as_str() {
                    "xs:sequence" | "xs:choice" => {
                        decl.choice = part.name == "xs:choice";
                        for r in &part.children {
                            let name = r.attrs["ref"].clone();
                            decl.particles.push((
                                name,
                                occurs(r, "minOccurs").unwrap(),
                                occurs(r, "maxOccurs"),
                            ));
                        }
                    }
                    "xs:attribute" => decl.attrs.push((
                        part.attrs["name"].clone(),
                        part.attrs["type"].clone(),
                        part.attrs.get("use").map(String::as_str) == Some("required"),
                    )),
                    other => panic!("XSD construct {other} is outside the supported subset"),
                }
            }
        }
        decls.insert(el.attrs["name"].clone(), decl);
    }
    decls
}

fn check_type(ty: &str, v: &str) -> bool {
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    match ty {
        "xs:string" => true,
        "xs:nonNegativeInteger" => digits(v),
        "xs:decimal" => {
            let v = v.strip_prefix('-').unwrap_or(v);
            match v.split_once('.') {
                Some((a, b)) => (digits(a) || a.is_empty()) && digits(b),
                None => digits(v),
            }
        }
        "xs:dateTime" => {
            let b = v.as_bytes();
            b.len() >= 19
                && [4, 7].iter().all(|&i| b[i] == b'-')
                && b[10] == b'T'
                && [13, 16].iter().all(|&i| b[i] == b':')
                && [0..4, 5..7, 8..10, 11..13, 14..16, 17..19]
                    .into_iter()
                    .all(|r| digits(&v[r]))
        }
        other => panic!("XSD type {other} is outside the supported subset"),
    }
}

fn validate(
    el: &Element,
    decls: &BTreeMap<String, ElementDecl>,
    path: &str,
    errors: &mut Vec<String>,
) {
    let path = format!("{path}/{}", el.name);
    let Some(decl) = decls.get(&el.name) else {
        errors.push(format!("{path}: element not declared"));
        return;
    };
    for key in el.attrs.keys() {
        if !decl.attrs.iter().any(|(n, _, _)| n == key) {
            errors.push(format!("{path}: attribute `{key}` not allowed"));
        }
    }
    for (name, ty, required) in &decl.attrs {
        match el.attrs.get(name) {
            None if *required => {
                errors.push(format!("{path}: required attribute `{name}` missing"))
            }
            Some(v) if !check_type(ty, v) => {
                errors.push(format!("{path}: `{name}`=\"{v}\" is not {ty}"))
            }
            _ => {}
        }
    }
    if !decl.text && !el.text.is_empty() {
        errors.push(format!("{path}: text not allowed"));
    }
    if decl.choice {
        for c in &el.children {
            if !decl.particles.iter().any(|(n, _, _)| *n == c.name) {
                errors.push(format!("{path}: child <{}> not allowed", c.name));
            }
        }
    } else {
        // Match the sequence in order, each particle within its bounds.
        let mut i = 0;
        for (name, min, max) in &decl.particles {
            let mut n = 0;
            while i < el.children.len() && el.children[i].name == *name {
                n += 1;
                i += 1;
            }
            if n < *min || max.is_some_and(|m| n > m) {
                errors.push(format!("{path}: <{name}> occurs {n} times"));
            }
        }
        if let Some(c) = el.children.get(i) {
            errors.push(format!("{path}: child <{}> not allowed here", c.name));
        }
    }
    for c in &el.children {
        validate(c, decls, &path, errors);
    }
}

fn junit_errors(xml: &str) -> Vec<String> {
    let decls = read_xsd(&repo_file("tests/data/junit.xsd"));
    match parse_xml(xml) {
        Err(e) => vec![format!("not well-formed: {e}")],
        Ok(root) => {
            let mut errors = vec![];
            if root.name != "testsuites" {
                errors.push(format!("root is <{}>", root.name));
            }
            validate(&root, &decls, "", &mut errors);
            errors
        }
    }
}

#[test]
fn junit_conforms_to_the_xsd() {
    for run in [full_run(), RunReport::default()] {
        let xml = junit::render(&run);
        assert_eq!(junit_errors(&xml), Vec::<String>::new(), "{xml}");
    }
}

#[test]
fn the_xsd_check_catches_violations() {
    let good = junit::render(&full_run());
    let missing_class = good.replacen(" classname=\"mqtt.v3_1_1.section_3_1\"", "", 1);
    assert!(junit_errors(&missing_class)
        .iter()
        .any(|e| e.contains("`classname` missing")));
    let bad_child = good.replacen("<system-out>", "<stdout/><system-out>", 1);
    assert!(junit_errors(&bad_child)
        .iter()
        .any(|e| e.contains("<stdout> not allowed")));
    let bad_count = good.replacen("tests=\"", "tests=\"x", 1);
    assert!(junit_errors(&bad_count)
        .iter()
        .any(|e| e.contains("not xs:nonNegativeInteger")));
    let control = good.replacen("connected", "conn\u{1}ected", 1);
    assert!(junit_errors(&control)[0].contains("U+0001"));
    let unclosed = good.replacen("</testcase>", "", 1);
    assert!(junit_errors(&unclosed)[0].contains("not well-formed"));
}

#[test]
fn junit_content() {
    let root = parse_xml(&junit::render(&full_run())).unwrap();
    let suites: Vec<&str> = root
        .children
        .iter()
        .map(|s| s.attrs["name"].as_str())
        .collect();
    assert_eq!(
        suites,
        [
            "mqtt.v3_1_1.section_3_1",
            "mqtt.v3_1_1.section_3_3",
            "mqtt.v5_0.section_3_3",
            "mqtt.v5_0.section_3_8",
            "mqttspec.target"
        ]
    );
    let v5_33 = &root.children[2];
    assert_eq!(
        (
            &v5_33.attrs["tests"][..],
            &v5_33.attrs["skipped"][..],
            &v5_33.attrs["failures"][..]
        ),
        ("2", "1", "0")
    );

    let case = &root.children[1].children[0];
    assert_eq!(case.attrs["name"], "MQTT-3.3.1-4 publish/qos-3-closes");
    assert_eq!(case.attrs["classname"], "mqtt.v3_1_1.section_3_3");
    assert_eq!(case.attrs["time"], "0.0015");
    let failure = &case.children[0];
    assert_eq!(failure.name, "failure");
    assert_eq!(
        failure.attrs["message"],
        "MQTT-3.3.1-4 violated: the server kept the connection open"
    );
    assert!(failure.text.contains("expected: the connection closed\n"));
    assert!(failure.text.contains("observed: PUBACK packet_id=1\n"));
    let out = &case.children[1];
    assert_eq!(out.name, "system-out");
    // The transcript survives intact, `]]>` included; the NUL and ESC are escaped.
    assert!(out.text.contains("  [36070003612f620001]"), "{}", out.text);
    assert!(
        out.text
            .contains("PUBACK packet_id=1 ]]> </system-out> \\u{0} \\u{1b}[31m <![CDATA["),
        "{}",
        out.text
    );

    let skipped = &v5_33
        .children
        .iter()
        .find(|c| c.attrs["name"].starts_with("MQTT-3.3.1-6 MQTT-3.3.1-8 "))
        .unwrap()
        .children[0];
    assert_eq!(skipped.name, "skipped");
    assert_eq!(
        skipped.attrs["message"],
        "needs retain, which the broker's CONNACK says it lacks"
    );
    let error = &root.children[3].children[0].children[0];
    assert_eq!(
        (error.name.as_str(), error.attrs["message"].as_str()),
        ("error", "connection refused \"quoted\" & <tagged>")
    );
    let died = &root.children[4].children[0].children[0];
    assert_eq!(
        (died.name.as_str(), died.attrs["message"].as_str()),
        ("error", "process exited: signal 11")
    );
}

// ------------------------------------------------- JSON Schema subset

/// Checks `v` against the keywords report.schema.json uses: type, const,
/// enum, required, properties, additionalProperties: false, items, minimum, $ref.
fn check_json(schema: &Value, root: &Value, v: &Value, path: &str, errors: &mut Vec<String>) {
    let s = schema.as_object().expect("schema nodes are objects");
    if let Some(r) = s.get("$ref") {
        let name = r
            .as_str()
            .unwrap()
            .strip_prefix("#/$defs/")
            .expect("local $defs refs only");
        return check_json(&root["$defs"][name], root, v, path, errors);
    }
    for key in s.keys() {
        let known = [
            "$schema",
            "title",
            "description",
            "type",
            "const",
            "enum",
            "required",
            "properties",
            "additionalProperties",
            "items",
            "minimum",
            "$defs",
        ];
        assert!(
            known.contains(&key.as_str()),
            "keyword {key} is outside the supported subset"
        );
    }
    if let Some(t) = s.get("type") {
        let types: Vec<&str> = match t {
            Value::String(t) => vec![t],
            Value::Array(ts) => ts.iter().map(|t| t.as_str().unwrap()).collect(),
            _ => panic!("bad type keyword"),
        };
        let ok = types.iter().any(|t| match *t {
            "object" => v.is_object(),
            "array" => v.is_array(),
            "string" => v.is_string(),
            "integer" => v.is_u64() || v.is_i64(),
            "number" => v.is_number(),
            "null" => v.is_null(),
            "boolean" => v.is_boolean(),
            other => panic!("type {other}"),
        });
        if !ok {
            errors.push(format!("{path}: {v} is not of type {t}"));
            return;
        }
    }
    if let Some(c) = s.get("const") {
        if v != c {
            errors.push(format!("{path}: {v} is not {c}"));
        }
    }
    if let Some(e) = s.get("enum") {
        if !e.as_array().unwrap().contains(v) {
            errors.push(format!("{path}: {v} not in {e}"));
        }
    }
    if let Some(m) = s.get("minimum") {
        if v.as_f64().unwrap_or(f64::NAN) < m.as_f64().unwrap() {
            errors.push(format!("{path}: {v} below {m}"));
        }
    }
    if let Some(obj) = v.as_object() {
        for r in s
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if !obj.contains_key(r.as_str().unwrap()) {
                errors.push(format!("{path}: required key {r} missing"));
            }
        }
        let props = s.get("properties").and_then(Value::as_object);
        for (k, child) in obj {
            match props.and_then(|p| p.get(k)) {
                Some(ps) => check_json(ps, root, child, &format!("{path}/{k}"), errors),
                None if s.get("additionalProperties") == Some(&Value::Bool(false)) => {
                    errors.push(format!("{path}: key {k} not allowed"))
                }
                None => {}
            }
        }
    }
    if let (Some(items), Some(arr)) = (s.get("items"), v.as_array()) {
        for (i, x) in arr.iter().enumerate() {
            check_json(items, root, x, &format!("{path}/{i}"), errors);
        }
    }
}

fn json_errors(v: &Value) -> Vec<String> {
    let schema: Value =
        serde_json::from_str(&repo_file("reports/schema/report.schema.json")).unwrap();
    assert_eq!(
        schema["$schema"],
        "https://json-schema.org/draft/2020-12/schema"
    );
    let mut errors = vec![];
    check_json(&schema, &schema, v, "", &mut errors);
    errors
}

#[test]
fn json_conforms_to_the_schema() {
    for run in [full_run(), RunReport::default()] {
        let v: Value = serde_json::from_str(&json::render(&run)).unwrap();
        assert_eq!(json_errors(&v), Vec::<String>::new(), "{v:#}");
    }
}

#[test]
fn the_schema_check_catches_violations() {
    let v: Value = serde_json::from_str(&json::render(&full_run())).unwrap();
    let mut missing = v.clone();
    missing["scenarios"][0]
        .as_object_mut()
        .unwrap()
        .remove("violated");
    assert!(json_errors(&missing)
        .iter()
        .any(|e| e.contains("/scenarios/0: required key \"violated\"")));
    let mut bad_verdict = v.clone();
    bad_verdict["requirements"][0]["verdict"] = "passed".into();
    assert!(json_errors(&bad_verdict)
        .iter()
        .any(|e| e.contains("not in")));
    let mut extra = v.clone();
    extra["meta"]["color"] = "blue".into();
    assert!(json_errors(&extra)
        .iter()
        .any(|e| e.contains("key color not allowed")));
    let mut negative = v;
    negative["summary"]["scenarios"]["pass"] = (-1).into();
    assert!(!json_errors(&negative).is_empty());
}

#[test]
fn json_content() {
    let v: Value = serde_json::from_str(&json::render(&full_run())).unwrap();
    assert_eq!(
        v["summary"]["scenarios"],
        serde_json::json!({"pass": 2, "fail": 1, "skip": 1, "error": 1})
    );
    assert_eq!(
        v["summary"]["requirements"],
        serde_json::json!({"pass": 2, "fail": 1, "skip": 2, "error": 1})
    );
    assert_eq!(v["target_died"], "process exited: signal 11");
    assert_eq!(
        v["scenarios"][0]["transcript"][2]["text"],
        "PUBACK packet_id=1 ]]> </system-out> \u{0} \u{1b}[31m <![CDATA["
    );
    let ids: Vec<String> = v["requirements"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            format!(
                "{} {} {}",
                r["protocol"].as_str().unwrap(),
                r["id"].as_str().unwrap(),
                r["verdict"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        ids,
        [
            "3.1.1 MQTT-3.1.2-3 pass",
            "3.1.1 MQTT-3.3.1-4 fail",
            "5.0 MQTT-3.3.1-4 pass",
            "5.0 MQTT-3.3.1-6 skip",
            "5.0 MQTT-3.3.1-8 skip",
            "5.0 MQTT-3.8.3-1 error"
        ]
    );
}

// ------------------------------------------------- Markdown and HTML

#[test]
fn markdown_for_a_pull_request() {
    let md = markdown::render(&full_run());
    assert!(md.starts_with("## mqttspec report\n\n**Scenarios:** 2 pass, 1 fail, 1 error, 1 skip."));
    assert!(md.contains("**The target died during the run:** process exited: signal 11"));
    assert!(md.contains("- **MQTT-3.3.1-4** (3.1.1) `publish/qos-3-closes`: the server kept the connection open; expected the connection closed; observed PUBACK packet\\_id=1\n"), "{md}");
    // Every table row has exactly four pipes: nothing in a cell breaks the table.
    for row in md.lines().filter(|l| l.starts_with("| MQTT-")) {
        assert_eq!(
            row.matches('|').count() - row.matches("\\|").count(),
            4,
            "{row}"
        );
    }
    assert_eq!(md.lines().filter(|l| l.starts_with("| MQTT-")).count(), 6);
}

#[test]
fn html_is_self_contained_and_escaped() {
    let page = html::render(&full_run());
    assert!(page.contains("PUBACK packet_id=1 ]]&gt; &lt;/system-out&gt;"));
    assert!(page.contains("connection refused &quot;quoted&quot; &amp; &lt;tagged&gt;"));
    assert!(page.contains("The target died during the run:</strong> process exited: signal 11"));
    // Every scenario result has its block, every matrix link a target.
    for s in &full_run().scenarios {
        let slug = format!("v{}", s.protocol.as_str().replace('.', "_"));
        assert!(
            page.contains(&format!("<details id=\"{slug}-{}\"", s.id)),
            "{}",
            s.id
        );
        assert!(
            page.contains(&format!("href=\"#{slug}-{}\"", s.id)),
            "{}",
            s.id
        );
    }
    for external in ["src=", "href=\"http", "<link", "<script", "url("] {
        assert!(!page.contains(external), "{external}");
    }
}
