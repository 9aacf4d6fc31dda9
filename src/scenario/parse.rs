//! From a located YAML tree to validated [`Scenario`]s.
//!
//! Parsing and validation happen in one walk so that every error points at
//! the node it is about. The rules are those of `cases/README.md`.

use crate::codec::binary::parse_hex;
use crate::codec::{Overrides, PacketType, ProtocolVersion};
use crate::scenario::model::*;
use crate::scenario::profile::CAPABILITIES;
use crate::scenario::template::{self, Mode, Rules, Scope};
use crate::scenario::yaml::{from_node, DeError, Kind, Loc, Node};
use crate::spec::catalog::{is_statement_id, two_levels, Catalogs};
use serde_json::Value;
use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::time::Duration;

mod across;

/// At most this many scenarios in one file.
pub const MAX_SCENARIOS_PER_FILE: usize = 1_000;
/// At most this many steps in one scenario (counting `expect_unordered` entries).
pub const MAX_STEPS: usize = 1_000;
/// Longest accepted duration.
pub const MAX_DURATION: Duration = Duration::from_secs(3_600);
/// Longest scenario ID.
pub const MAX_ID_LEN: usize = 120;

/// The keys of a mapping, checked against the allowed ones.
pub(crate) struct Fields<'a> {
    node: &'a Node,
    entries: &'a [(Node, Node)],
}

/// Serde's wording, so every unknown key reads the same.
fn unknown_field(key: &str, allowed: &[&str]) -> String {
    match allowed {
        [] => format!("unknown field `{key}`, there are no fields"),
        [one] => format!("unknown field `{key}`, expected `{one}`"),
        _ => {
            let list: Vec<String> = allowed.iter().map(|k| format!("`{k}`")).collect();
            format!("unknown field `{key}`, expected one of {}", list.join(", "))
        }
    }
}

impl<'a> Fields<'a> {
    pub(crate) fn new(node: &'a Node, what: &str, allowed: &[&str]) -> Result<Fields<'a>, DeError> {
        let Some(entries) = node.as_map() else {
            return Err(DeError::at(
                node.loc,
                format!("expected {what} (a mapping), found {}", node.describe()),
            ));
        };
        for (k, _) in entries {
            match k.as_str() {
                Some(key) if allowed.contains(&key) => {}
                Some(key) => return Err(DeError::at(k.loc, unknown_field(key, allowed))),
                None => {
                    return Err(DeError::at(
                        k.loc,
                        format!("expected a field name, found {}", k.describe()),
                    ))
                }
            }
        }
        Ok(Fields { node, entries })
    }

    pub(crate) fn get(&self, key: &str) -> Option<&'a Node> {
        self.entries
            .iter()
            .find(|(k, _)| k.as_str() == Some(key))
            .map(|(_, v)| v)
    }

    pub(crate) fn req(&self, key: &str) -> Result<&'a Node, DeError> {
        self.get(key)
            .ok_or_else(|| DeError::at(self.node.loc, format!("missing field `{key}`")))
    }
}

pub(crate) fn string<'a>(node: &'a Node, what: &str) -> Result<&'a str, DeError> {
    node.as_str().ok_or_else(|| {
        DeError::at(
            node.loc,
            format!("expected {what}, found {}", node.describe()),
        )
    })
}

fn boolean(node: &Node, what: &str) -> Result<bool, DeError> {
    match node.kind {
        Kind::Bool(b) => Ok(b),
        _ => Err(DeError::at(
            node.loc,
            format!("expected {what} (true or false), found {}", node.describe()),
        )),
    }
}

fn list<'a>(node: &'a Node, what: &str) -> Result<&'a [Node], DeError> {
    node.as_seq().ok_or_else(|| {
        DeError::at(
            node.loc,
            format!("expected a list of {what}, found {}", node.describe()),
        )
    })
}

/// `500ms`, `2s`, `1.5s`.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let expected =
        || format!("expected a duration such as `500ms`, `2s` or `1.5s`, found `{text}`");
    let (number, millis_per_unit) = if let Some(n) = text.strip_suffix("ms") {
        (n, 1u64)
    } else if let Some(n) = text.strip_suffix('s') {
        (n, 1000u64)
    } else {
        return Err(expected());
    };
    let (whole, frac) = number.split_once('.').unwrap_or((number, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty()
        || whole.len() > 7
        || !digits(whole)
        || !digits(frac)
        || number.ends_with('.')
    {
        return Err(expected());
    }
    // Fractions are allowed down to the millisecond.
    let frac_digits = if millis_per_unit == 1000 { 3 } else { 0 };
    if frac.len() > frac_digits {
        return Err(format!(
            "`{text}`: durations are counted in whole milliseconds"
        ));
    }
    let whole: u64 = whole.parse().map_err(|_| expected())?;
    let mut frac_millis = 0u64;
    if !frac.is_empty() {
        let padded = format!("{frac:0<3}");
        frac_millis = padded.parse().map_err(|_| expected())?;
    }
    let millis = whole * millis_per_unit + frac_millis;
    let d = Duration::from_millis(millis);
    if d > MAX_DURATION {
        return Err(format!(
            "`{text}` is longer than the limit of {}s",
            MAX_DURATION.as_secs()
        ));
    }
    Ok(d)
}

fn duration(node: &Node) -> Result<Duration, DeError> {
    let text = node.as_str().ok_or_else(|| {
        DeError::at(
            node.loc,
            format!(
                "expected a duration such as `500ms` or `2s`, found {}",
                node.describe()
            ),
        )
    })?;
    parse_duration(text).map_err(|m| DeError::at(node.loc, m))
}

/// `"3.1.1"`, `"5.0"` (also the YAML number 5.0) or `both`.
fn protocols(node: &Node) -> Result<Vec<ProtocolVersion>, DeError> {
    let found = match &node.kind {
        Kind::Str(s) => match s.as_str() {
            "3.1.1" => Some(vec![ProtocolVersion::V3_1_1]),
            "5.0" | "5" => Some(vec![ProtocolVersion::V5]),
            "both" => Some(vec![ProtocolVersion::V3_1_1, ProtocolVersion::V5]),
            _ => None,
        },
        Kind::Float(x) if *x == 5.0 => Some(vec![ProtocolVersion::V5]),
        Kind::Int(5) => Some(vec![ProtocolVersion::V5]),
        _ => None,
    };
    found.ok_or_else(|| {
        DeError::at(
            node.loc,
            format!(
                "expected a protocol: \"3.1.1\", \"5.0\" or both, found {}",
                node.describe()
            ),
        )
    })
}

fn role(node: &Node) -> Result<Role, DeError> {
    match node.as_str() {
        Some("client") => Ok(Role::Client),
        Some("server") => Ok(Role::Server),
        _ => Err(DeError::at(
            node.loc,
            format!(
                "expected a role: client or server, found {}",
                node.describe()
            ),
        )),
    }
}

fn level(node: &Node) -> Result<Level, DeError> {
    match node.as_str() {
        Some("must") => Ok(Level::Must),
        Some("should") => Ok(Level::Should),
        _ => Err(DeError::at(
            node.loc,
            format!(
                "expected a level: must or should, found {}",
                node.describe()
            ),
        )),
    }
}

/// `[A-Za-z0-9]{1,12}`.
pub fn is_connection_name(name: &str) -> bool {
    (1..=12).contains(&name.len()) && name.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// `[a-z0-9._/-]`, at most [`MAX_ID_LEN`] characters.
pub fn is_scenario_id(id: &str) -> bool {
    (1..=MAX_ID_LEN).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._/-".contains(&b))
}

fn connection_name(node: &Node) -> Result<String, DeError> {
    let name = node.as_str().ok_or_else(|| {
        DeError::at(
            node.loc,
            format!("expected a connection name, found {}", node.describe()),
        )
    })?;
    if !is_connection_name(name) {
        return Err(DeError::at(
            node.loc,
            format!("`{name}` is not a connection name: 1 to 12 letters or digits"),
        ));
    }
    Ok(name.to_owned())
}

/// File-wide defaults.
struct FileDefaults {
    protocols: Option<Vec<ProtocolVersion>>,
    role: Option<Role>,
    section: Option<String>,
}

/// Parses a whole scenario file.
pub fn parse_file(file: &str, root: &Node, catalogs: &Catalogs) -> Result<Vec<Scenario>, DeError> {
    let top = Fields::new(
        root,
        "a scenario file",
        &["protocol", "role", "section", "scenarios"],
    )?;
    let defaults = FileDefaults {
        protocols: top.get("protocol").map(protocols).transpose()?,
        role: top.get("role").map(role).transpose()?,
        section: top
            .get("section")
            .map(|n| {
                string(n, "a section in quotes, e.g. \"3.3\"").and_then(|s| {
                    let ok = !s.is_empty()
                        && s.split('.')
                            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
                    if ok {
                        Ok(s.to_owned())
                    } else {
                        Err(DeError::at(
                            n.loc,
                            format!("`{s}` is not a section number such as \"3.3\""),
                        ))
                    }
                })
            })
            .transpose()?,
    };
    let items = list(top.req("scenarios")?, "scenarios")?;
    if items.len() > MAX_SCENARIOS_PER_FILE {
        return Err(DeError::at(
            items[MAX_SCENARIOS_PER_FILE].loc,
            format!("more than {MAX_SCENARIOS_PER_FILE} scenarios in one file"),
        ));
    }
    let mut seen: HashMap<&str, Loc> = HashMap::new();
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        let scenario = parse_scenario(file, item, &defaults, catalogs)?;
        if let Some(first) = seen.get(scenario.id.as_str()) {
            let at = item.get("id").map_or(item.loc, |n| n.loc);
            return Err(DeError::at(
                at,
                format!(
                    "duplicate scenario id `{}` (first at line {})",
                    scenario.id, first.line
                ),
            ));
        }
        let at = item.get("id").map_or(item.loc, |n| n.loc);
        seen.insert(
            item.get("id").and_then(Node::as_str).unwrap_or_default(),
            at,
        );
        out.push(scenario);
    }
    Ok(out)
}

const SCENARIO_KEYS: &[&str] = &[
    "id",
    "title",
    "requirements",
    "protocol",
    "role",
    "needs",
    "level",
    "timeout",
    "steps",
];

fn parse_scenario(
    file: &str,
    node: &Node,
    defaults: &FileDefaults,
    catalogs: &Catalogs,
) -> Result<Scenario, DeError> {
    let f = Fields::new(node, "a scenario", SCENARIO_KEYS)?;
    let id_node = f.req("id")?;
    let id = string(id_node, "a scenario id")?;
    if !is_scenario_id(id) {
        return Err(DeError::at(
            id_node.loc,
            format!(
                "`{id}` is not a scenario id: 1 to {MAX_ID_LEN} characters among a-z 0-9 . _ / -"
            ),
        ));
    }
    let title_node = f.req("title")?;
    let title = string(title_node, "a one-line title")?;
    if title.trim().is_empty() || title.contains('\n') {
        return Err(DeError::at(
            title_node.loc,
            "the title must be one non-empty line",
        ));
    }
    let protocols = match f.get("protocol") {
        Some(n) => protocols(n)?,
        None => defaults.protocols.clone().ok_or_else(|| {
            DeError::at(
                node.loc,
                "missing field `protocol` (give it here or at the top of the file)",
            )
        })?,
    };
    let role = match f.get("role") {
        Some(n) => role(n)?,
        None => defaults.role.unwrap_or(Role::Client),
    };
    let by_version = requirements(f.req("requirements")?, &protocols, catalogs)?;
    let mut requirements: Vec<String> = Vec::new();
    for id in by_version.iter().flat_map(|(_, ids)| ids) {
        if !requirements.contains(id) {
            requirements.push(id.clone());
        }
    }
    let mut needs = Vec::new();
    if let Some(n) = f.get("needs") {
        for item in list(n, "capabilities")? {
            let cap = string(item, "a capability")?;
            // Clients under test announce their own set of capabilities.
            let known = match role {
                Role::Server => crate::driver::CAPABILITIES,
                Role::Client => CAPABILITIES,
            };
            if !known.contains(&cap) {
                return Err(DeError::at(
                    item.loc,
                    unknown_field(cap, known).replace("field", "capability"),
                ));
            }
            if !needs.iter().any(|c| c == cap) {
                needs.push(cap.to_owned());
            }
        }
    }
    let level = f.get("level").map(level).transpose()?.unwrap_or_default();
    let timeout = f.get("timeout").map(duration).transpose()?;
    let section = match &defaults.section {
        Some(s) => s.clone(),
        None => catalogs
            .get(protocols[0])
            .and_then(|c| c.section(&by_version[0].1[0]))
            .map(two_levels)
            .unwrap_or_default(),
    };

    let mut ctx = StepContext {
        protocols: &protocols,
        role,
        requirements: &by_version,
        connections: HashMap::new(),
        opened: HashSet::new(),
        captured: HashSet::new(),
        count: 0,
    };
    let steps_node = f.req("steps")?;
    let step_nodes = list(steps_node, "steps")?;
    if step_nodes.is_empty() {
        return Err(DeError::at(
            steps_node.loc,
            "a scenario needs at least one step",
        ));
    }
    let mut steps = Vec::with_capacity(step_nodes.len());
    for s in step_nodes {
        let step = ctx.step(s)?;
        // Without the capability the scenario would run, and fail, on
        // targets with no WebSocket endpoint instead of being skipped.
        if let Step::Open(o) = &step {
            if o.transport == Transport::WebSocket && !needs.iter().any(|c| c == "websocket") {
                return Err(DeError::at(
                    s.loc,
                    "a `transport: websocket` connection needs `needs: [websocket]` in the scenario",
                ));
            }
        }
        steps.push(step);
    }

    Ok(Scenario {
        id: id.to_owned(),
        title: title.to_owned(),
        requirements,
        by_version,
        protocols,
        role,
        needs,
        level,
        timeout,
        steps,
        section,
        source: Source {
            file: PathBuf::from(file),
            line: node.loc.line as usize,
            column: node.loc.column as usize,
        },
    })
}

/// `requirements:` as a list (the same IDs on every version) or as a
/// mapping from version to list; one entry per version in `protocols`.
fn requirements(
    node: &Node,
    protocols: &[ProtocolVersion],
    catalogs: &Catalogs,
) -> Result<Vec<(ProtocolVersion, Vec<String>)>, DeError> {
    if node.as_map().is_none() {
        let mut out = Vec::new();
        for &v in protocols {
            out.push((v, id_list(node, v, catalogs)?));
        }
        return Ok(out);
    }
    let per = per_version(node, protocols, "requirements")?;
    let mut out = Vec::new();
    for &v in protocols {
        let Some((_, list)) = per.iter().find(|(pv, _)| *pv == v) else {
            return Err(DeError::at(
                node.loc,
                format!("missing the statement IDs of MQTT {v} (the scenario runs on {v})"),
            ));
        };
        out.push((v, id_list(list, v, catalogs)?));
    }
    Ok(out)
}

/// The entries of a `{"3.1.1": ..., "5.0": ...}` mapping; every key is a
/// version the scenario runs on.
fn per_version<'n>(
    node: &'n Node,
    protocols: &[ProtocolVersion],
    what: &str,
) -> Result<Vec<(ProtocolVersion, &'n Node)>, DeError> {
    let mut out: Vec<(ProtocolVersion, &Node)> = Vec::new();
    for (k, v) in node.as_map().unwrap_or_default() {
        let key = match &k.kind {
            Kind::Str(s) => s.clone(),
            Kind::Float(x) => format!("{x:.1}"),
            Kind::Int(x) => x.to_string(),
            _ => k.describe(),
        };
        let version = match key.as_str() {
            "3.1.1" => Some(ProtocolVersion::V3_1_1),
            "5.0" | "5" => Some(ProtocolVersion::V5),
            _ => None,
        };
        let version = version.filter(|pv| protocols.contains(pv)).ok_or_else(|| {
            let on: Vec<&str> = protocols.iter().map(|p| p.as_str()).collect();
            DeError::at(
                k.loc,
                format!(
                    "`{key}` in `{what}` is not a version this scenario runs on ({})",
                    on.join(", ")
                ),
            )
        })?;
        if out.iter().any(|(pv, _)| *pv == version) {
            return Err(DeError::at(k.loc, format!("`{key}` is given twice")));
        }
        out.push((version, v));
    }
    Ok(out)
}

/// A list of statement IDs of `v`, each in its catalog.
fn id_list(node: &Node, v: ProtocolVersion, catalogs: &Catalogs) -> Result<Vec<String>, DeError> {
    let items = list(node, "statement IDs")?;
    if items.is_empty() {
        return Err(DeError::at(
            node.loc,
            "a scenario checks at least one statement (e.g. [MQTT-3.3.1-4])",
        ));
    }
    let mut out: Vec<String> = Vec::with_capacity(items.len());
    for item in items {
        let id = statement_of(item, v, catalogs)?;
        if out.iter().any(|r| r == id) {
            return Err(DeError::at(item.loc, format!("`{id}` is listed twice")));
        }
        out.push(id.to_owned());
    }
    Ok(out)
}

/// A statement ID that exists in the catalog of `v` (when it is loaded).
fn statement_of<'n>(
    item: &'n Node,
    v: ProtocolVersion,
    catalogs: &Catalogs,
) -> Result<&'n str, DeError> {
    let id = string(item, "a statement ID such as MQTT-3.3.1-4")?;
    if !is_statement_id(id) {
        return Err(DeError::at(
            item.loc,
            format!("`{id}` is not a statement ID such as MQTT-3.3.1-4"),
        ));
    }
    let Some(catalog) = catalogs.get(v) else {
        return Ok(id);
    };
    if catalog.contains(id) {
        return Ok(id);
    }
    let elsewhere: Vec<&str> = catalogs
        .iter()
        .filter(|c| c.version() != v && c.contains(id))
        .map(|c| c.version().as_str())
        .collect();
    let message = if elsewhere.is_empty() {
        format!("unknown statement `{id}`: not in the MQTT {v} catalog")
    } else {
        format!(
            "`{id}` is not a statement of MQTT {v}, only of {} (the same ID means different things in each version); restrict `protocol`, use the {v} ID, or give the IDs per version ({{\"3.1.1\": [...], \"5.0\": [...]}})",
            elsewhere.join(", ")
        )
    };
    Err(DeError::at(item.loc, message))
}

/// Connection state while walking the steps.
#[derive(Debug, Clone, Copy)]
struct Conn {
    /// Where it was closed, if it is closed now.
    closed_at: Option<Loc>,
    /// Whether it runs over WebSocket (for the `ws_` keys of `send`).
    websocket: bool,
}

struct StepContext<'a> {
    protocols: &'a [ProtocolVersion],
    role: Role,
    requirements: &'a [(ProtocolVersion, Vec<String>)],
    connections: HashMap<String, Conn>,
    /// Every name opened so far, for `{client_id.NAME}`.
    opened: HashSet<String>,
    captured: HashSet<String>,
    count: usize,
}

const STEP_KINDS: &[&str] = &[
    "open",
    "accept",
    "send",
    "expect",
    "expect_unordered",
    "expect_nothing",
    "expect_close",
    "expect_one_of",
    "expect_count",
    "disconnect",
    "close",
    "wait",
    "drive",
    "expect_event",
];

impl StepContext<'_> {
    fn count_step(&mut self, at: Loc) -> Result<(), DeError> {
        self.count += 1;
        if self.count > MAX_STEPS {
            return Err(DeError::at(
                at,
                format!("more than {MAX_STEPS} steps in one scenario"),
            ));
        }
        Ok(())
    }

    fn step(&mut self, node: &Node) -> Result<Step, DeError> {
        self.count_step(node.loc)?;
        let entries = node.as_map().ok_or_else(|| {
            DeError::at(
                node.loc,
                format!(
                    "expected a step (a mapping with one key: {}), found {}",
                    STEP_KINDS.join(", "),
                    node.describe()
                ),
            )
        })?;
        let Some((key, body)) = entries.first() else {
            return Err(DeError::at(node.loc, "empty step"));
        };
        let kind = string(key, "a step name")?;
        if !STEP_KINDS.contains(&kind) {
            return Err(DeError::at(
                key.loc,
                unknown_field(kind, STEP_KINDS).replace("field", "step"),
            ));
        }
        if entries.len() > 1 {
            let (extra, _) = &entries[1];
            return Err(DeError::at(
                extra.loc,
                format!(
                    "a step has exactly one key; indent `{}` under `{kind}:` or start a new step with `-`",
                    extra.as_str().unwrap_or("?")
                ),
            ));
        }
        match kind {
            "open" => self.open(key, body).map(Step::Open),
            "accept" => self.accept(key, body).map(Step::Accept),
            "send" => self.send(body).map(Step::Send),
            "expect" => {
                let f = Fields::new(
                    body,
                    "an expectation",
                    &[
                        "on", "packet", "within", "max_size", "checks", "enforces", "level",
                    ],
                )?;
                let e = self.expect_fields(&f)?;
                Ok(Step::Expect(e))
            }
            "expect_unordered" => self.expect_unordered(body).map(Step::ExpectUnordered),
            "expect_nothing" => self.expect_nothing(body).map(Step::ExpectNothing),
            "expect_close" => self.expect_close(body).map(Step::ExpectClose),
            "expect_one_of" => self.expect_across(body, true).map(Step::ExpectCount),
            "expect_count" => self.expect_across(body, false).map(Step::ExpectCount),
            "disconnect" => self.disconnect(body).map(Step::Disconnect),
            "close" => self.close(body).map(Step::Close),
            "drive" => {
                self.server_only(key, "drive")?;
                super::drive::drive(body).map(Step::Drive)
            }
            "expect_event" => {
                self.server_only(key, "expect_event")?;
                let mut allowed = vec!["within", "checks", "level"];
                allowed.extend_from_slice(crate::driver::EVENTS);
                let f = Fields::new(body, "an expected adapter event", &allowed)?;
                let check = self.check(&f)?;
                let judged = f.get("checks").is_some();
                super::drive::expect_event(body, check, judged).map(Step::ExpectEvent)
            }
            _ => duration(body).map(Step::Wait),
        }
    }

    /// `drive` and `expect_event` talk to a client under test.
    fn server_only(&self, key: &Node, kind: &str) -> Result<(), DeError> {
        if self.role == Role::Server {
            return Ok(());
        }
        Err(DeError::at(
            key.loc,
            format!("`{kind}` drives a client under test; it needs role: server"),
        ))
    }

    fn scope(&self) -> Scope<'_> {
        Scope {
            connections: &self.opened,
            captured: &self.captured,
        }
    }

    fn rules<'r>(&'r self, types: &'r [PacketType]) -> Rules<'r> {
        Rules {
            protocols: self.protocols,
            types,
        }
    }

    /// Checks a template and returns it as JSON.
    fn template(&self, node: &Node, types: &[PacketType]) -> Result<Value, DeError> {
        template::check_variables(node, Mode::Template, &self.scope(), &mut Vec::new())?;
        template::check_template(node, &self.rules(types))?;
        node.to_json()
    }

    /// Checks a matcher, returns it as JSON and the names it captures.
    fn matcher(&self, node: &Node, types: &[PacketType]) -> Result<(Value, Vec<String>), DeError> {
        let mut captures = Vec::new();
        template::check_variables(node, Mode::Matcher, &self.scope(), &mut captures)?;
        template::check_matcher(node, &self.rules(types))?;
        Ok((node.to_json()?, captures))
    }

    fn check(&self, f: &Fields<'_>) -> Result<Check, DeError> {
        let mut checks = Vec::new();
        if let Some(n) = f.get("checks") {
            if n.as_map().is_some() {
                for (v, id) in per_version(n, self.protocols, "checks")? {
                    checks.push((v, self.checked(id, v)?));
                }
            } else {
                for &v in self.protocols {
                    checks.push((v, self.checked(n, v)?));
                }
            }
        }
        // `enforces`: rules the scenario breaks on purpose, which the peer
        // must enforce; a failure of this check names them too.
        let mut enforces = Vec::new();
        if let Some(n) = f.get("enforces") {
            let items = n.as_seq().ok_or_else(|| {
                DeError::at(
                    n.loc,
                    "`enforces` takes a list of statement IDs, e.g. [MQTT-2.3.1-1]",
                )
            })?;
            for item in items {
                let mut id = String::new();
                for &v in self.protocols {
                    id = self.checked(item, v)?;
                }
                enforces.push(id);
            }
        }
        let level = f.get("level").map(level).transpose()?.unwrap_or_default();
        Ok(Check {
            checks,
            enforces,
            level,
        })
    }

    /// A `checks` ID, which must be one of the requirements of `v`.
    fn checked(&self, n: &Node, v: ProtocolVersion) -> Result<String, DeError> {
        let id = string(n, "a statement ID")?;
        let reqs = self
            .requirements
            .iter()
            .find(|(pv, _)| *pv == v)
            .map_or(&[][..], |(_, ids)| &ids[..]);
        if !reqs.iter().any(|r| r == id) {
            let which = if self.protocols.len() > 1 {
                format!("{v} ")
            } else {
                String::new()
            };
            return Err(DeError::at(
                n.loc,
                format!(
                    "`checks: {id}` must be one of the scenario's {which}requirements ({})",
                    reqs.join(", ")
                ),
            ));
        }
        Ok(id.to_owned())
    }

    /// A connection that must be open now.
    fn on(&self, node: &Node) -> Result<String, DeError> {
        let name = connection_name(node)?;
        match self.connections.get(&name) {
            Some(Conn {
                closed_at: None, ..
            }) => Ok(name),
            Some(Conn {
                closed_at: Some(at),
                ..
            }) => Err(DeError::at(
                node.loc,
                format!(
                    "connection `{name}` was closed at line {}; open it again first",
                    at.line
                ),
            )),
            None => {
                let how = match self.role {
                    Role::Client => "open",
                    Role::Server => "accept",
                };
                Err(DeError::at(
                    node.loc,
                    format!("no connection `{name}`: `{how}` it in an earlier step"),
                ))
            }
        }
    }

    fn start(&mut self, node: &Node, name: &str, websocket: bool) -> Result<(), DeError> {
        if let Some(Conn {
            closed_at: None, ..
        }) = self.connections.get(name)
        {
            return Err(DeError::at(
                node.loc,
                format!("connection `{name}` is already open; close it first or use another name"),
            ));
        }
        self.connections.insert(
            name.to_owned(),
            Conn {
                closed_at: None,
                websocket,
            },
        );
        self.opened.insert(name.to_owned());
        Ok(())
    }

    fn end(&mut self, name: &str, at: Loc) {
        if let Some(c) = self.connections.get_mut(name) {
            c.closed_at = Some(at);
        }
    }

    fn open(&mut self, key: &Node, body: &Node) -> Result<Open, DeError> {
        if self.role == Role::Server {
            return Err(DeError::at(
                key.loc,
                "`open` connects to a broker (role: client); with role: server use `accept`",
            ));
        }
        if body.as_str().is_some() {
            let name = connection_name(body)?;
            self.start(body, &name, false)?;
            return Ok(Open {
                name,
                connect: Some(Value::Object(Default::default())),
                overrides: Overrides::default(),
                connack: Some(default_connack()),
                check: Check::default(),
                within: None,
                transport: Transport::Tcp,
            });
        }
        let f = Fields::new(
            body,
            "a connection name or {name: ..., connect: ..., connack: ...}",
            &[
                "name",
                "connect",
                "override",
                "connack",
                "checks",
                "enforces",
                "level",
                "within",
                "transport",
            ],
        )?;
        let transport = match f.get("transport") {
            None => Transport::Tcp,
            Some(n) => match string(n, "a transport (tcp or websocket)")? {
                "tcp" => Transport::Tcp,
                "websocket" => Transport::WebSocket,
                other => {
                    return Err(DeError::at(
                        n.loc,
                        format!("unknown transport `{other}`, expected `tcp` or `websocket`"),
                    ))
                }
            },
        };
        let name_node = f.req("name")?;
        let name = connection_name(name_node)?;
        // The client ID may refer to the connection being opened.
        self.opened.insert(name.clone());
        let connect = match f.get("connect") {
            Some(n) if n.kind == Kind::Bool(false) => None,
            Some(n) if n.kind == Kind::Bool(true) || n.kind == Kind::Null => {
                Some(Value::Object(Default::default()))
            }
            Some(n) => {
                if n.as_map().is_none() {
                    return Err(DeError::at(
                        n.loc,
                        format!(
                            "expected CONNECT fields such as {{clean_session: false}}, or false, found {}",
                            n.describe()
                        ),
                    ));
                }
                self.template(&template::wrap("connect", n), &[PacketType::Connect])?;
                Some(n.to_json()?)
            }
            None => Some(Value::Object(Default::default())),
        };
        let overrides = match f.get("override") {
            Some(n) => {
                if connect.is_none() {
                    return Err(DeError::at(
                        n.loc,
                        "`override` applies to the CONNECT, and `connect: false` sends none",
                    ));
                }
                from_node::<Overrides>(n)?
            }
            None => Overrides::default(),
        };
        let mut captures = Vec::new();
        let connack = match f.get("connack") {
            Some(n) if n.kind == Kind::Bool(false) => None,
            Some(n) => {
                if connect.is_none() {
                    return Err(DeError::at(
                        n.loc,
                        "no CONNACK is awaited with `connect: false`; send the CONNECT and expect the CONNACK in later steps",
                    ));
                }
                let (m, c) = self.matcher(n, &[PacketType::Connack])?;
                captures = c;
                Some(m)
            }
            None if connect.is_none() => None,
            None => Some(default_connack()),
        };
        // On WebSocket the check also covers the handshake.
        if connack.is_none() && transport == Transport::Tcp {
            for k in ["checks", "enforces", "level", "within"] {
                if let Some(n) = f.get(k) {
                    return Err(DeError::at(
                        n.loc,
                        format!("`{k}` applies to the CONNACK, and none is awaited"),
                    ));
                }
            }
        }
        let check = self.check(&f)?;
        let within = f.get("within").map(duration).transpose()?;
        self.start(name_node, &name, transport == Transport::WebSocket)?;
        self.captured.extend(captures);
        Ok(Open {
            name,
            connect,
            overrides,
            connack,
            check,
            within,
            transport,
        })
    }

    fn accept(&mut self, key: &Node, body: &Node) -> Result<Accept, DeError> {
        if self.role == Role::Client {
            return Err(DeError::at(
                key.loc,
                "`accept` waits for a client (role: server); with role: client use `open`",
            ));
        }
        let (name_node, within) = if body.as_str().is_some() {
            (body, None)
        } else {
            let f = Fields::new(
                body,
                "a connection name or {name: ..., within: ...}",
                &["name", "within"],
            )?;
            (f.req("name")?, f.get("within").map(duration).transpose()?)
        };
        let name = connection_name(name_node)?;
        self.start(name_node, &name, false)?;
        Ok(Accept { name, within })
    }

    fn send(&mut self, body: &Node) -> Result<Send, DeError> {
        let f = Fields::new(
            body,
            "{on: ..., packet: ...} or {on: ..., raw: ...}",
            &["on", "packet", "raw", "override", "ws_opcode", "ws_split"],
        )?;
        let on_node = f.req("on")?;
        let on = self.on(on_node)?;
        let websocket = self.connections.get(&on).is_some_and(|c| c.websocket);
        for k in ["ws_opcode", "ws_split"] {
            if let (Some(n), false) = (f.get(k), websocket) {
                return Err(DeError::at(
                    n.loc,
                    format!("`{k}` applies to WebSocket connections; `{on}` was not opened with `transport: websocket`"),
                ));
            }
        }
        let ws_opcode = match f.get("ws_opcode") {
            None => None,
            Some(n) => Some(match string(n, "a frame type (text or binary)")? {
                "text" => WsOpcode::Text,
                "binary" => WsOpcode::Binary,
                other => {
                    return Err(DeError::at(
                        n.loc,
                        format!("unknown ws_opcode `{other}`, expected `text` or `binary`"),
                    ))
                }
            }),
        };
        let ws_split = match f.get("ws_split") {
            None => Vec::new(),
            Some(n) => {
                let offsets = from_node::<Vec<usize>>(n)?;
                if offsets.is_empty() || offsets[0] == 0 || offsets.windows(2).any(|w| w[0] >= w[1])
                {
                    return Err(DeError::at(
                        n.loc,
                        "`ws_split` takes increasing byte offsets above 0, e.g. [2, 5]",
                    ));
                }
                offsets
            }
        };
        let payload = match (f.get("packet"), f.get("raw")) {
            (Some(p), None) => {
                let template = self.template(p, &[])?;
                let overrides = f
                    .get("override")
                    .map(from_node::<Overrides>)
                    .transpose()?
                    .unwrap_or_default();
                Payload::Packet {
                    template,
                    overrides,
                }
            }
            (None, Some(r)) => {
                if let Some(o) = f.get("override") {
                    return Err(DeError::at(
                        o.loc,
                        "`override` applies to `packet`; raw bytes are sent as they are",
                    ));
                }
                Payload::Raw(raw_bytes(r)?)
            }
            (Some(_), Some(r)) => {
                return Err(DeError::at(
                    r.loc,
                    "give either `packet` or `raw`, not both",
                ))
            }
            (None, None) => return Err(DeError::at(body.loc, "missing field `packet` (or `raw`)")),
        };
        if let (Payload::Raw(bytes), Some(last)) = (&payload, ws_split.last()) {
            if *last >= bytes.len() {
                return Err(DeError::at(
                    on_node.loc,
                    format!(
                        "`ws_split` offset {last} is not inside the {} bytes sent",
                        bytes.len()
                    ),
                ));
            }
        }
        Ok(Send {
            on,
            payload,
            ws_opcode,
            ws_split,
        })
    }

    fn expect_fields(&mut self, f: &Fields<'_>) -> Result<Expect, DeError> {
        let on = self.on(f.req("on")?)?;
        let (packet, captures) = self.matcher(f.req("packet")?, &[])?;
        let within = f.get("within").map(duration).transpose()?;
        let max_size = f.get("max_size").map(from_node::<usize>).transpose()?;
        let check = self.check(f)?;
        self.captured.extend(captures);
        Ok(Expect {
            on,
            packet,
            within,
            max_size,
            check,
        })
    }

    fn expect_unordered(&mut self, body: &Node) -> Result<ExpectUnordered, DeError> {
        let f = Fields::new(
            body,
            "{within: ..., packets: [...]}",
            &["within", "packets"],
        )?;
        let within = f.get("within").map(duration).transpose()?;
        let packets_node = f.req("packets")?;
        let items = list(packets_node, "expected packets")?;
        if items.is_empty() {
            return Err(DeError::at(
                packets_node.loc,
                "expected at least one packet",
            ));
        }
        // Captures become visible after the whole step: the order of
        // arrival is unknown.
        let before = self.captured.clone();
        let mut all = HashSet::new();
        let mut packets = Vec::with_capacity(items.len());
        for item in items {
            self.count_step(item.loc)?;
            let g = Fields::new(
                item,
                "{on: ..., packet: ...}",
                &["on", "packet", "checks", "enforces", "level"],
            )?;
            packets.push(self.expect_fields(&g)?);
            all.extend(std::mem::replace(&mut self.captured, before.clone()));
        }
        self.captured = all;
        Ok(ExpectUnordered { packets, within })
    }

    fn expect_nothing(&mut self, body: &Node) -> Result<ExpectNothing, DeError> {
        let f = Fields::new(
            body,
            "{on: ..., for: ...}",
            &["on", "for", "checks", "enforces", "level"],
        )?;
        let on = self.on(f.req("on")?)?;
        let duration = duration(f.req("for")?)?;
        let check = self.check(&f)?;
        Ok(ExpectNothing {
            on,
            duration,
            check,
        })
    }

    fn expect_close(&mut self, body: &Node) -> Result<ExpectClose, DeError> {
        let f = Fields::new(
            body,
            "{on: ..., within: ...}",
            &[
                "on",
                "within",
                "disconnect",
                "allow_before",
                "instead",
                "max_size",
                "checks",
                "enforces",
                "level",
            ],
        )?;
        let on_node = f.req("on")?;
        let on = self.on(on_node)?;
        let within = f.get("within").map(duration).transpose()?;
        let no_disconnect = f
            .get("disconnect")
            .is_some_and(|n| n.as_str() == Some("none"));
        let disconnect_codes = match f.get("disconnect") {
            None => Vec::new(),
            Some(_) if no_disconnect => Vec::new(),
            Some(n) => match &n.kind {
                Kind::Seq(_) => from_node::<Vec<u8>>(n)?,
                _ => vec![from_node::<u8>(n)?],
            },
        };
        let mut allow_before = Vec::new();
        if let Some(n) = f.get("allow_before") {
            for item in list(n, "packet matchers")? {
                allow_before.push(self.matcher(item, &[])?.0);
            }
        }
        let instead = match f.get("instead") {
            Some(n) => Some(self.matcher(n, &[])?.0),
            None => None,
        };
        let max_size = f.get("max_size").map(from_node::<usize>).transpose()?;
        let check = self.check(&f)?;
        // With `instead` the connection may still be open afterwards.
        if instead.is_none() {
            self.end(&on, on_node.loc);
        }
        Ok(ExpectClose {
            on,
            within,
            disconnect_codes,
            allow_before,
            no_disconnect,
            instead,
            max_size,
            check,
        })
    }

    fn disconnect(&mut self, body: &Node) -> Result<DisconnectStep, DeError> {
        if body.as_str().is_some() {
            let on = self.on(body)?;
            self.end(&on, body.loc);
            return Ok(DisconnectStep { on, template: None });
        }
        let f = Fields::new(
            body,
            "a connection name or {on: ..., packet: ...}",
            &["on", "packet"],
        )?;
        let on_node = f.req("on")?;
        let on = self.on(on_node)?;
        let template = match f.get("packet") {
            Some(p) => {
                if p.as_map().is_none() {
                    return Err(DeError::at(
                        p.loc,
                        format!(
                            "expected DISCONNECT fields such as {{reason_code: 0x04}}, found {}",
                            p.describe()
                        ),
                    ));
                }
                if self.protocols.contains(&ProtocolVersion::V3_1_1)
                    && !p.as_map().unwrap_or_default().is_empty()
                {
                    return Err(DeError::at(
                        p.loc,
                        "a 3.1.1 DISCONNECT has no fields; this scenario runs on 3.1.1",
                    ));
                }
                self.template(&template::wrap("disconnect", p), &[PacketType::Disconnect])?;
                Some(p.to_json()?)
            }
            None => None,
        };
        self.end(&on, on_node.loc);
        Ok(DisconnectStep { on, template })
    }

    fn close(&mut self, body: &Node) -> Result<CloseStep, DeError> {
        let (on_node, reset) = if body.as_str().is_some() {
            (body, false)
        } else {
            let f = Fields::new(
                body,
                "a connection name or {on: ..., reset: true}",
                &["on", "reset"],
            )?;
            let reset = f
                .get("reset")
                .map(|n| boolean(n, "reset"))
                .transpose()?
                .unwrap_or(false);
            (f.req("on")?, reset)
        };
        let on = self.on(on_node)?;
        self.end(&on, on_node.loc);
        Ok(CloseStep { on, reset })
    }
}

/// The CONNACK expected by default: success.
pub fn default_connack() -> Value {
    serde_json::json!({"connack": {"reason_code": 0}})
}

fn raw_bytes(node: &Node) -> Result<Vec<u8>, DeError> {
    let text = string(node, "hex bytes such as \"c0 00\"")?;
    if text.contains('{') {
        return Err(DeError::at(
            node.loc,
            "variables are not substituted in raw bytes; use `packet` with `override` to send a malformed packet that needs one",
        ));
    }
    let bytes = parse_hex(text).map_err(|m| DeError::at(node.loc, format!("bad hex: {m}")))?;
    if bytes.is_empty() {
        return Err(DeError::at(node.loc, "no bytes to send"));
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::load_str;

    fn load(text: &str) -> Result<Vec<Scenario>, String> {
        let catalogs = Catalogs::embedded().expect("embedded catalogs");
        load_str("t.yaml", text, &catalogs).map_err(|e| e.to_string())
    }

    const V311: ProtocolVersion = ProtocolVersion::V3_1_1;
    const V5: ProtocolVersion = ProtocolVersion::V5;

    #[test]
    fn requirements_and_checks_per_version() {
        let text = "protocol: both\nscenarios:\n  - id: a\n    title: t\n    requirements: {\"3.1.1\": [MQTT-2.2.2-2, MQTT-3.1.2-24], 5.0: [MQTT-1.5.4-1]}\n    steps:\n      - open: a\n      - expect_nothing: {on: a, for: 1s, checks: {\"3.1.1\": MQTT-3.1.2-24}}\n";
        let s = &load(text).unwrap()[0];
        assert_eq!(s.requirements_for(V311), ["MQTT-2.2.2-2", "MQTT-3.1.2-24"]);
        assert_eq!(s.requirements_for(V5), ["MQTT-1.5.4-1"]);
        assert_eq!(
            s.requirements,
            ["MQTT-2.2.2-2", "MQTT-3.1.2-24", "MQTT-1.5.4-1"]
        );
        let Step::ExpectNothing(n) = &s.steps[1] else {
            panic!("{:?}", s.steps[1])
        };
        assert_eq!(n.check.statement(V311), Some("MQTT-3.1.2-24"));
        assert_eq!(n.check.statement(V5), None);
        // A plain list and a plain ID stand for every version.
        let plain = "protocol: both\nscenarios:\n  - id: a\n    title: t\n    requirements: [MQTT-3.1.2-24]\n    steps:\n      - open: a\n      - expect_nothing: {on: a, for: 1s, checks: MQTT-3.1.2-24}\n";
        let s = &load(plain).unwrap()[0];
        assert_eq!(s.requirements_for(V5), ["MQTT-3.1.2-24"]);
        let Step::ExpectNothing(n) = &s.steps[1] else {
            panic!()
        };
        assert_eq!(n.check.statement(V5), Some("MQTT-3.1.2-24"));
    }

    #[test]
    fn per_version_ids_are_checked_against_each_catalog() {
        let file = |reqs: &str, checks: &str| {
            format!("protocol: both\nscenarios:\n  - id: a\n    title: t\n    requirements: {reqs}\n    steps:\n      - open: a\n      - expect_nothing: {{on: a, for: 1s{checks}}}\n")
        };
        for (reqs, checks, want) in [
            // A 5.0-only ID listed for 3.1.1.
            (
                "{\"3.1.1\": [MQTT-1.5.4-1], \"5.0\": [MQTT-1.5.4-1]}",
                "",
                "t.yaml:5:",
            ),
            // A version missing.
            (
                "{\"3.1.1\": [MQTT-2.2.2-2]}",
                "",
                "missing the statement IDs of MQTT 5.0",
            ),
            // A version the scenario does not run on.
            (
                "{\"3.1\": [MQTT-2.2.2-2]}",
                "",
                "not a version this scenario runs on",
            ),
            // `checks` must be among that version's requirements.
            (
                "{\"3.1.1\": [MQTT-2.2.2-2], \"5.0\": [MQTT-1.5.4-1]}",
                ", checks: {\"5.0\": MQTT-2.2.2-2}",
                "5.0 requirements",
            ),
            (
                "{\"3.1.1\": [MQTT-2.2.2-2], \"5.0\": [MQTT-1.5.4-1]}",
                ", checks: MQTT-2.2.2-2",
                "5.0 requirements",
            ),
        ] {
            let e = load(&file(reqs, checks)).unwrap_err();
            assert!(e.contains(want), "{reqs} {checks}: {e}");
        }
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("2s"), Ok(Duration::from_secs(2)));
        assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration("0.25s"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("0s"), Ok(Duration::ZERO));
        for bad in [
            "", "s", "2", "2 s", "1.s", ".5s", "1.5ms", "1.2345s", "-1s", "2m", "1e3ms",
        ] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
        assert!(parse_duration("3601s").unwrap_err().contains("limit"));
        assert!(parse_duration("99999999999s").is_err());
    }

    #[test]
    fn names() {
        assert!(is_connection_name("a"));
        assert!(is_connection_name("Sub2"));
        assert!(is_connection_name("abcdefghijkl"));
        assert!(!is_connection_name("abcdefghijklm"));
        assert!(!is_connection_name(""));
        assert!(!is_connection_name("a-b"));
        assert!(is_scenario_id("publish/qos-3.closes_x"));
        assert!(!is_scenario_id("Publish"));
        assert!(!is_scenario_id("a b"));
        assert!(!is_scenario_id(""));
    }
}
