//! Checks of report documents against their published structure, shared by
//! tests/reports.rs and tests/cli.rs. Both interpret the schema files
//! themselves (the subset of XSD and JSON Schema they use), so the schemas
//! stay the single description of the formats.

#![allow(dead_code)]

use quick_xml::events::Event;
use quick_xml::Reader;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;

pub fn repo_file(rel: &str) -> String {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join(rel);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

#[derive(Debug)]
pub struct Element {
    pub name: String,
    pub attrs: BTreeMap<String, String>,
    pub children: Vec<Element>,
    /// Non-blank character data (text and CDATA) directly inside.
    pub text: String,
}

pub fn parse_xml(xml: &str) -> Result<Element, String> {
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

pub fn junit_errors(xml: &str) -> Vec<String> {
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

pub fn json_errors(v: &Value) -> Vec<String> {
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
