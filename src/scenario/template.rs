//! Load-time checks of packet templates (what mqttspec sends) and matchers
//! (what it expects): variable references, matcher special forms, and the
//! shape of the packet against the codec's model.
//!
//! The shape check deserializes the template, with every special form
//! removed, into [`crate::codec::Packet`], whose types reject unknown fields;
//! because it reads the located YAML tree, a misspelt field is reported at
//! its own line and column.

use crate::codec::{Packet, PacketType, ProtocolVersion};
use crate::scenario::yaml::{from_node, DeError, Kind, Loc, Node};
use std::collections::HashSet;

/// Variables the engine always defines (besides `client_id.NAME` and captures).
pub const BUILTIN_VARIABLES: &[&str] = &[
    "ns",
    "username",
    "password",
    "denied_topic",
    "auth_method",
    "auth_data",
];

/// Upper bound on `one_of` alternatives in one matcher: each is checked
/// separately, so this bounds the work a hostile file can cause.
pub const MAX_ALTERNATIVES: usize = 64;

/// Template or matcher.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Sent: only `{name}` substitutions are allowed.
    Template,
    /// Compared: `{one_of: [...]}`, `{absent: true}` and `"{=name}"` too.
    Matcher,
}

/// What variables are in scope at a step.
pub struct Scope<'a> {
    /// Connection names opened so far (for `{client_id.NAME}`).
    pub connections: &'a HashSet<String>,
    /// Variables captured by earlier steps.
    pub captured: &'a HashSet<String>,
}

/// A reference inside a string.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Ref<'s> {
    Use(&'s str),
    Capture(&'s str),
}

fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && s.len() <= 64
}

fn check_variable_name(name: &str) -> Result<(), String> {
    if let Some(conn) = name.strip_prefix("client_id.") {
        if super::parse::is_connection_name(conn) {
            return Ok(());
        }
    } else if is_identifier(name) {
        return Ok(());
    }
    Err(format!(
        "`{{{name}}}` is not a variable name (letters, digits and `_`, or client_id.NAME); write `{{{{` for a literal `{{`"
    ))
}

/// The `{...}` references in `s`. `{{` is a literal brace; a capture must be
/// the whole string.
fn scan(s: &str) -> Result<Vec<Ref<'_>>, String> {
    if let Some(name) = s.strip_prefix("{=").and_then(|r| r.strip_suffix('}')) {
        if !name.contains(['{', '}']) {
            if !is_identifier(name) {
                return Err(format!(
                    "`{{={name}}}`: a captured variable is named with letters, digits and `_`"
                ));
            }
            return Ok(vec![Ref::Capture(name)]);
        }
    }
    let mut refs = Vec::new();
    let mut rest = s;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        if let Some(tail) = after.strip_prefix('{') {
            rest = tail;
            continue;
        }
        let Some(close) = after.find('}') else {
            return Err("unclosed `{` (write `{{` for a literal `{`)".into());
        };
        let name = &after[..close];
        if name.starts_with('=') {
            return Err(format!(
                "`{{{name}}}`: a capture must be the whole string, e.g. \"{{=pid}}\""
            ));
        }
        check_variable_name(name)?;
        refs.push(Ref::Use(name));
        rest = &after[close + 1..];
    }
    Ok(refs)
}

/// A string that is exactly one reference (`"{pid}"` or `"{=pid}"`) stands
/// for a value of any type, so it is left out of the shape check.
fn whole_reference(s: &str) -> bool {
    let Some(inner) = s.strip_prefix('{').and_then(|r| r.strip_suffix('}')) else {
        return false;
    };
    !inner.starts_with('{') && !inner.contains(['{', '}'])
}

enum Special<'a> {
    OneOf(&'a [Node]),
    Absent,
    Reference,
}

fn special(node: &Node, mode: Mode) -> Result<Option<Special<'_>>, DeError> {
    match &node.kind {
        Kind::Str(s) if whole_reference(s) => {
            if mode == Mode::Template && s.starts_with("{=") {
                return Err(DeError::at(
                    node.loc,
                    "a capture (`{=name}`) is only allowed in what is expected, not in what is sent",
                ));
            }
            Ok(Some(Special::Reference))
        }
        Kind::Map(entries) if entries.len() == 1 => {
            let (k, v) = &entries[0];
            let form = match k.as_str() {
                Some(f @ ("one_of" | "absent")) => f,
                _ => return Ok(None),
            };
            if mode == Mode::Template {
                return Err(DeError::at(
                    k.loc,
                    format!("`{form}` is only allowed in what is expected, not in what is sent"),
                ));
            }
            if form == "absent" {
                return match v.kind {
                    Kind::Bool(true) => Ok(Some(Special::Absent)),
                    _ => Err(DeError::at(
                        v.loc,
                        format!(
                            "expected `absent: true`, found {} (to accept anything, leave the field out)",
                            v.describe()
                        ),
                    )),
                };
            }
            match v.as_seq() {
                Some(alts) if !alts.is_empty() => Ok(Some(Special::OneOf(alts))),
                _ => Err(DeError::at(
                    v.loc,
                    format!(
                        "expected a non-empty list of alternatives, found {}",
                        v.describe()
                    ),
                )),
            }
        }
        _ => Ok(None),
    }
}

/// Checks every string's variable references; returns the names captured.
pub fn check_variables(
    node: &Node,
    mode: Mode,
    scope: &Scope<'_>,
    captures: &mut Vec<String>,
) -> Result<(), DeError> {
    match &node.kind {
        Kind::Str(s) => {
            for r in scan(s).map_err(|m| DeError::at(node.loc, m))? {
                match r {
                    Ref::Capture(name) => {
                        if mode == Mode::Template {
                            return Err(DeError::at(
                                node.loc,
                                "a capture (`{=name}`) is only allowed in what is expected, not in what is sent",
                            ));
                        }
                        if BUILTIN_VARIABLES.contains(&name) {
                            return Err(DeError::at(
                                node.loc,
                                format!("`{name}` is a built-in variable and cannot be captured"),
                            ));
                        }
                        captures.push(name.to_owned());
                    }
                    Ref::Use(name) => {
                        check_use(name, scope).map_err(|m| DeError::at(node.loc, m))?
                    }
                }
            }
            Ok(())
        }
        Kind::Seq(items) => items
            .iter()
            .try_for_each(|n| check_variables(n, mode, scope, captures)),
        Kind::Map(entries) => entries
            .iter()
            .try_for_each(|(_, v)| check_variables(v, mode, scope, captures)),
        _ => Ok(()),
    }
}

fn check_use(name: &str, scope: &Scope<'_>) -> Result<(), String> {
    if BUILTIN_VARIABLES.contains(&name) || scope.captured.contains(name) {
        return Ok(());
    }
    if let Some(conn) = name.strip_prefix("client_id.") {
        if scope.connections.contains(conn) {
            return Ok(());
        }
        return Err(format!(
            "`{{{name}}}`: no connection `{conn}` has been opened before this step"
        ));
    }
    Err(format!(
        "unknown variable `{{{name}}}`: expected one of ns, username, password, denied_topic, auth_method, auth_data, client_id.NAME, or a variable captured earlier with \"{{={name}}}\""
    ))
}

/// A copy of `node` without its special forms; the one_of nodes listed in
/// `chosen` are replaced by the alternative chosen for them.
fn strip(
    node: &Node,
    mode: Mode,
    chosen: &[(*const Node, &Node)],
) -> Result<Option<Node>, DeError> {
    match special(node, mode)? {
        Some(Special::Absent | Special::Reference) => return Ok(None),
        Some(Special::OneOf(_)) => {
            let me: *const Node = node;
            return match chosen.iter().find(|(p, _)| *p == me) {
                Some((_, alt)) => strip(alt, mode, chosen),
                None => Ok(None),
            };
        }
        None => {}
    }
    let kind = match &node.kind {
        Kind::Seq(items) => {
            let mut out = Vec::with_capacity(items.len());
            for item in items {
                if let Some(n) = strip(item, mode, chosen)? {
                    out.push(n);
                }
            }
            Kind::Seq(out)
        }
        Kind::Map(entries) => {
            let mut out = Vec::with_capacity(entries.len());
            for (k, v) in entries {
                if let Some(n) = strip(v, mode, chosen)? {
                    out.push((k.clone(), n));
                }
            }
            Kind::Map(out)
        }
        other => other.clone(),
    };
    Ok(Some(Node::new(node.loc, kind)))
}

/// The one_of nodes in `node` that are not inside another one_of.
fn outer_one_ofs<'a>(node: &'a Node, out: &mut Vec<&'a Node>) {
    if let Ok(Some(Special::OneOf(_))) = special(node, Mode::Matcher) {
        out.push(node);
        return;
    }
    match &node.kind {
        Kind::Seq(items) => items.iter().for_each(|n| outer_one_ofs(n, out)),
        Kind::Map(entries) => entries.iter().for_each(|(_, v)| outer_one_ofs(v, out)),
        _ => {}
    }
}

/// The rules a packet must follow beyond its shape.
pub struct Rules<'a> {
    pub protocols: &'a [ProtocolVersion],
    /// The packet types allowed here (empty: any).
    pub types: &'a [PacketType],
}

fn check_packet(packet: &Packet, at: Loc, rules: &Rules<'_>) -> Result<(), DeError> {
    let ty = packet.packet_type();
    if !rules.types.is_empty() && !rules.types.contains(&ty) {
        let names: Vec<_> = rules.types.iter().map(|t| t.name()).collect();
        return Err(DeError::at(
            at,
            format!(
                "expected a {} packet here, found {}",
                names.join(" or "),
                ty.name()
            ),
        ));
    }
    if ty == PacketType::Auth && rules.protocols.contains(&ProtocolVersion::V3_1_1) {
        return Err(DeError::at(
            at,
            "AUTH exists only in MQTT 5.0, and this scenario runs on 3.1.1",
        ));
    }
    Ok(())
}

fn check_shape(node: &Node, rules: &Rules<'_>) -> Result<(), DeError> {
    let packet: Packet = from_node(node)?;
    let at = node
        .as_map()
        .and_then(|m| m.first())
        .map_or(node.loc, |(k, _)| k.loc);
    check_packet(&packet, at, rules)
}

/// Checks a whole-packet template (`{publish: {...}}`) against the packet model.
pub fn check_template(node: &Node, rules: &Rules<'_>) -> Result<(), DeError> {
    match strip(node, Mode::Template, &[])? {
        Some(stripped) => check_shape(&stripped, rules),
        None => Err(DeError::at(
            node.loc,
            "expected a packet such as {publish: {topic: t}}, found a variable",
        )),
    }
}

/// Checks a whole-packet matcher: the fields it names must exist in the
/// packet model, with values of the right type. Each `one_of` alternative
/// is checked in its place.
pub fn check_matcher(node: &Node, rules: &Rules<'_>) -> Result<(), DeError> {
    let mut budget = MAX_ALTERNATIVES;
    let mut chosen = Vec::new();
    check_matcher_in(node, node, rules, &mut chosen, &mut budget)
}

fn check_matcher_in<'a>(
    root: &'a Node,
    scope: &'a Node,
    rules: &Rules<'_>,
    chosen: &mut Vec<(*const Node, &'a Node)>,
    budget: &mut usize,
) -> Result<(), DeError> {
    if let Some(stripped) = strip(root, Mode::Matcher, chosen)? {
        check_shape(&stripped, rules)?;
    }
    let mut nested = Vec::new();
    outer_one_ofs(scope, &mut nested);
    for one_of in nested {
        let Some(Special::OneOf(alts)) = special(one_of, Mode::Matcher)? else {
            continue;
        };
        for alt in alts {
            if *budget == 0 {
                return Err(DeError::at(
                    one_of.loc,
                    format!("more than {MAX_ALTERNATIVES} `one_of` alternatives in one packet"),
                ));
            }
            *budget -= 1;
            chosen.push((one_of as *const Node, alt));
            let result = check_matcher_in(root, alt, rules, chosen, budget);
            chosen.pop();
            result?;
        }
    }
    Ok(())
}

/// Wraps packet fields (`{clean_session: false}`) into a packet
/// (`{connect: {clean_session: false}}`) so they can be checked as one.
pub fn wrap(name: &str, fields: &Node) -> Node {
    Node::new(
        fields.loc,
        Kind::Map(vec![(
            Node::new(fields.loc, Kind::Str(name.to_owned())),
            fields.clone(),
        )]),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::yaml::{parse, Limits};

    fn node(text: &str) -> Node {
        parse(text, &Limits::default()).unwrap()
    }

    const BOTH: Rules<'static> = Rules {
        protocols: &[ProtocolVersion::V3_1_1, ProtocolVersion::V5],
        types: &[],
    };

    #[test]
    fn scanning_strings() {
        assert_eq!(scan("plain").unwrap(), vec![]);
        assert_eq!(
            scan("{ns}/a/{x}").unwrap(),
            vec![Ref::Use("ns"), Ref::Use("x")]
        );
        assert_eq!(scan("{{ns}/a").unwrap(), vec![]);
        assert_eq!(scan("{=pid}").unwrap(), vec![Ref::Capture("pid")]);
        assert_eq!(
            scan("{client_id.a}").unwrap(),
            vec![Ref::Use("client_id.a")]
        );
        assert!(scan("{ns").unwrap_err().contains("unclosed"));
        assert!(scan("x{=pid}").unwrap_err().contains("whole string"));
        assert!(scan("{}").is_err());
        assert!(scan("{a b}").is_err());
        assert!(scan("{client_id.toolongname123}").is_err());
    }

    #[test]
    fn variables_must_be_defined() {
        let conns: HashSet<String> = ["a".to_string()].into();
        let captured: HashSet<String> = ["pid".to_string()].into();
        let scope = Scope {
            connections: &conns,
            captured: &captured,
        };
        let mut caps = Vec::new();
        let ok = node("publish: {topic: \"{ns}/{client_id.a}\", packet_id: \"{pid}\"}");
        check_variables(&ok, Mode::Template, &scope, &mut caps).unwrap();
        let bad = node("publish:\n  topic: \"{nss}/t\"\n");
        let e = check_variables(&bad, Mode::Template, &scope, &mut caps).unwrap_err();
        assert_eq!(e.loc, Loc::new(2, 10));
        assert!(e.message.starts_with("unknown variable `{nss}`"), "{e}");
        let bad = node("publish: {topic: \"{client_id.b}\"}");
        let e = check_variables(&bad, Mode::Template, &scope, &mut caps).unwrap_err();
        assert!(e.message.contains("no connection `b`"), "{e}");
        let cap = node("puback: {packet_id: \"{=id}\"}");
        check_variables(&cap, Mode::Matcher, &scope, &mut caps).unwrap();
        assert_eq!(caps, ["id"]);
        assert!(check_variables(&cap, Mode::Template, &scope, &mut caps).is_err());
        let cap = node("puback: {packet_id: \"{=ns}\"}");
        assert!(check_variables(&cap, Mode::Matcher, &scope, &mut caps).is_err());
    }

    #[test]
    fn templates_follow_the_packet_model() {
        check_template(
            &node("publish: {topic: t, qos: 0x01, packet_id: \"{pid}\"}"),
            &BOTH,
        )
        .unwrap();
        let e = check_template(
            &node("publish:\n  topic: t\n  qos: 1\n  retained: true\n"),
            &BOTH,
        )
        .unwrap_err();
        assert_eq!(e.loc, Loc::new(4, 3));
        assert!(
            e.message
                .starts_with("unknown field `retained`, expected one of"),
            "{e}"
        );
        let e = check_template(&node("publish: {qos: {one_of: [1, 2]}}"), &BOTH).unwrap_err();
        assert!(
            e.message.contains("only allowed in what is expected"),
            "{e}"
        );
        let e = check_template(&node("auth: {}"), &BOTH).unwrap_err();
        assert!(e.message.contains("only in MQTT 5.0"), "{e}");
        let v5 = Rules {
            protocols: &[ProtocolVersion::V5],
            types: &[],
        };
        check_template(&node("auth: {reason_code: 0x18}"), &v5).unwrap();
    }

    #[test]
    fn matchers_strip_special_forms() {
        let m = node(
            "publish:\n  topic: \"{=t}\"\n  qos: {one_of: [1, 2]}\n  properties: {absent: true}\n  payload: hi\n",
        );
        check_matcher(&m, &BOTH).unwrap();
        let m = node(
            "one_of:\n  - {puback: {reason_code: 0}}\n  - {disconnect: {reason_code: 0x80}}\n",
        );
        check_matcher(&m, &BOTH).unwrap();
    }

    #[test]
    fn each_alternative_is_checked_in_place() {
        let m = node("publish:\n  qos: {one_of: [1, x]}\n");
        let e = check_matcher(&m, &BOTH).unwrap_err();
        assert_eq!(e.loc, Loc::new(2, 21), "{e}");
        let m = node("one_of:\n  - {puback: {}}\n  - {pubak: {}}\n");
        let e = check_matcher(&m, &BOTH).unwrap_err();
        assert_eq!(e.loc, Loc::new(3, 6), "{e}");
        assert!(e.message.contains("unknown variant `pubak`"), "{e}");
        // Nested alternatives.
        let m = node("one_of:\n  - {suback: {reason_codes: [{one_of: [0, bad]}]}}\n");
        let e = check_matcher(&m, &BOTH).unwrap_err();
        assert_eq!(e.loc.line, 2, "{e}");
    }

    #[test]
    fn matcher_errors() {
        let e = check_matcher(&node("puback: {packet_id: {absent: false}}"), &BOTH).unwrap_err();
        assert!(e.message.contains("absent: true"), "{e}");
        let e = check_matcher(&node("puback: {packet_id: {one_of: []}}"), &BOTH).unwrap_err();
        assert!(e.message.contains("non-empty list"), "{e}");
        let e = check_matcher(&node("puback: {packet_idd: 1}"), &BOTH).unwrap_err();
        assert_eq!(e.loc, Loc::new(1, 10));
        let connack = Rules {
            protocols: BOTH.protocols,
            types: &[PacketType::Connack],
        };
        let e = check_matcher(&node("puback: {}"), &connack).unwrap_err();
        assert!(e.message.contains("expected a CONNACK"), "{e}");
    }

    #[test]
    fn alternatives_are_bounded() {
        let alts = vec!["0"; MAX_ALTERNATIVES + 1].join(", ");
        let m = node(&format!("suback: {{reason_codes: [{{one_of: [{alts}]}}]}}"));
        let e = check_matcher(&m, &BOTH).unwrap_err();
        assert!(e.message.contains("more than 64"), "{e}");
    }
}
