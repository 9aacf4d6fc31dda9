//! YAML text to a located value tree, and a serde `Deserializer` over that
//! tree whose errors carry the line and column of the node that caused them.
//!
//! Every scenario and profile file goes through [`parse`] once: it enforces
//! the size, depth, node and alias-expansion limits against hostile input,
//! and it keeps a location on every node so that validation that runs after
//! parsing (dangling connection names, unknown statement IDs, packet field
//! names) can still point at the offending line.

use serde::de::{self, DeserializeSeed, IntoDeserializer, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};
use std::fmt;

/// Limits on one YAML file. The defaults are far above what a scenario file
/// needs (the largest hand-written ones are a few hundred lines) and far
/// below what would hurt the process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Bytes of YAML text.
    pub max_bytes: usize,
    /// Nesting of sequences and mappings.
    pub max_depth: usize,
    /// Scalars, sequences and mappings, counted before alias expansion.
    pub max_nodes: usize,
    /// Alias (`*name`) uses.
    pub max_aliases: usize,
    /// Parser events replayed by alias expansion, over the whole file: this is
    /// what stops an exponential "billion laughs" document early.
    pub max_alias_replay: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_bytes: 1 << 20,
            max_depth: 32,
            max_nodes: 100_000,
            max_aliases: 1_000,
            max_alias_replay: 10_000,
        }
    }
}

/// A 1-based position in a file; 0 means unknown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, PartialOrd, Ord, Hash)]
pub struct Loc {
    pub line: u32,
    pub column: u32,
}

impl Loc {
    pub fn new(line: u32, column: u32) -> Loc {
        Loc { line, column }
    }

    pub fn is_known(self) -> bool {
        self.line != 0
    }
}

impl From<serde_saphyr::Location> for Loc {
    fn from(l: serde_saphyr::Location) -> Loc {
        Loc {
            line: u32::try_from(l.line()).unwrap_or(u32::MAX),
            column: u32::try_from(l.column()).unwrap_or(u32::MAX),
        }
    }
}

impl fmt::Display for Loc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

/// A YAML node with where it starts.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub loc: Loc,
    pub kind: Kind,
}

/// The value of a node, with YAML 1.2 core-schema typing (`0x80` is an
/// integer, `5.0` a float, `on` and `no` are strings).
#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    Null,
    Bool(bool),
    Int(i128),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    /// Entries in file order; keys are nodes so that a non-string key can be
    /// reported where it is.
    Map(Vec<(Node, Node)>),
}

impl Node {
    pub fn new(loc: Loc, kind: Kind) -> Node {
        Node { loc, kind }
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.kind {
            Kind::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_map(&self) -> Option<&[(Node, Node)]> {
        match &self.kind {
            Kind::Map(m) => Some(m),
            _ => None,
        }
    }

    pub fn as_seq(&self) -> Option<&[Node]> {
        match &self.kind {
            Kind::Seq(s) => Some(s),
            _ => None,
        }
    }

    /// The value of key `name` in a mapping.
    pub fn get(&self, name: &str) -> Option<&Node> {
        self.as_map()?
            .iter()
            .find(|(k, _)| k.as_str() == Some(name))
            .map(|(_, v)| v)
    }

    /// A short description of what the node is, for "expected X, found Y".
    pub fn describe(&self) -> String {
        match &self.kind {
            Kind::Null => "null".into(),
            Kind::Bool(b) => format!("boolean `{b}`"),
            Kind::Int(i) => format!("integer `{i}`"),
            Kind::Float(x) => format!("floating point `{x}`"),
            Kind::Str(s) => {
                let mut shown: String = s.chars().take(40).collect();
                if shown.len() < s.len() {
                    shown.push('…');
                }
                format!("string {shown:?}")
            }
            Kind::Seq(_) => "a sequence".into(),
            Kind::Map(_) => "a mapping".into(),
        }
    }

    /// The node as JSON (what the engine substitutes variables into).
    pub fn to_json(&self) -> Result<serde_json::Value, DeError> {
        use serde_json::Value as J;
        Ok(match &self.kind {
            Kind::Null => J::Null,
            Kind::Bool(b) => J::Bool(*b),
            Kind::Int(i) => {
                if let Ok(u) = u64::try_from(*i) {
                    J::from(u)
                } else if let Ok(s) = i64::try_from(*i) {
                    J::from(s)
                } else {
                    return Err(DeError::at(
                        self.loc,
                        format!("integer {i} is out of range"),
                    ));
                }
            }
            Kind::Float(x) => match serde_json::Number::from_f64(*x) {
                Some(n) => J::Number(n),
                None => return Err(DeError::at(self.loc, "NaN and infinity are not allowed")),
            },
            Kind::Str(s) => J::String(s.clone()),
            Kind::Seq(items) => J::Array(
                items
                    .iter()
                    .map(Node::to_json)
                    .collect::<Result<Vec<_>, _>>()?,
            ),
            Kind::Map(entries) => {
                let mut m = serde_json::Map::new();
                for (k, v) in entries {
                    let Some(key) = k.as_str() else {
                        return Err(DeError::at(
                            k.loc,
                            format!("expected a string key, found {}", k.describe()),
                        ));
                    };
                    m.insert(key.to_owned(), v.to_json()?);
                }
                J::Object(m)
            }
        })
    }
}

/// A parse or deserialization error; the location is filled in by the
/// innermost node that knows it.
#[derive(Debug, Clone, PartialEq)]
pub struct DeError {
    pub loc: Loc,
    pub message: String,
}

impl DeError {
    pub fn at(loc: Loc, message: impl Into<String>) -> DeError {
        DeError {
            loc,
            message: message.into(),
        }
    }

    /// Sets the location unless a more precise one is already known.
    fn located(mut self, loc: Loc) -> DeError {
        if !self.loc.is_known() {
            self.loc = loc;
        }
        self
    }
}

impl fmt::Display for DeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.loc.is_known() {
            write!(f, "{}: {}", self.loc, self.message)
        } else {
            f.write_str(&self.message)
        }
    }
}

impl std::error::Error for DeError {}

impl de::Error for DeError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        DeError {
            loc: Loc::default(),
            message: msg.to_string(),
        }
    }
}

/// Parses one YAML document into a located tree, within `limits`.
pub fn parse(text: &str, limits: &Limits) -> Result<Node, DeError> {
    if text.len() > limits.max_bytes {
        return Err(DeError::at(
            Loc::new(1, 1),
            format!(
                "file is {} bytes, more than the limit of {} bytes",
                text.len(),
                limits.max_bytes
            ),
        ));
    }
    let budget = serde_saphyr::budget! {
        max_depth: limits.max_depth,
        max_nodes: limits.max_nodes,
        max_aliases: limits.max_aliases,
        max_anchors: limits.max_aliases,
        max_documents: 1,
        max_merge_keys: limits.max_aliases,
        max_events: limits.max_nodes.saturating_mul(4),
        max_total_scalar_bytes: limits.max_bytes,
        max_recorded_anchor_events: limits.max_alias_replay,
        max_recorded_anchor_bytes: limits.max_bytes,
    };
    let alias_limits = serde_saphyr::alias_limits! {
        max_total_replayed_events: limits.max_alias_replay,
        max_replay_stack_depth: limits.max_depth,
    };
    let options = serde_saphyr::options! {
        budget: budget,
        alias_limits: alias_limits,
        strict_booleans: true,
        with_snippet: false,
        non_finite_float_policy: serde_saphyr::NonFiniteFloatPolicy::AsString,
    };
    match serde_saphyr::from_str_with_options::<Option<Node>>(text, options) {
        Ok(Some(node)) => Ok(node),
        Ok(None) => Ok(Node::new(Loc::new(1, 1), Kind::Null)),
        Err(e) => Err(yaml_error(&e, limits)),
    }
}

fn yaml_error(e: &serde_saphyr::Error, limits: &Limits) -> DeError {
    use serde_saphyr::Error as E;
    use serde_saphyr::MessageFormatter;
    let loc = e.location().map(Loc::from).unwrap_or_default();
    let mut inner = e;
    while let E::AliasError { error, .. } | E::WithSnippet { error, .. } = inner {
        inner = error;
    }
    let message = match inner {
        E::Budget { breach, .. } => format!("file too complex: {}", breach_text(breach, limits)),
        E::AliasReplayLimitExceeded { .. }
        | E::AliasExpansionLimitExceeded { .. }
        | E::AliasReplayStackDepthExceeded { .. } => format!(
            "file too complex: aliases expand to more than {} YAML events",
            limits.max_alias_replay
        ),
        other => serde_saphyr::DefaultMessageFormatter
            .format_message(other)
            .into_owned(),
    };
    DeError::at(loc.max(Loc::new(1, 1)), message)
}

fn breach_text(breach: &serde_saphyr::budget::BudgetBreach, limits: &Limits) -> String {
    use serde_saphyr::budget::BudgetBreach as B;
    match breach {
        B::Depth { .. } => format!("nested deeper than {} levels", limits.max_depth),
        B::Nodes { .. } | B::Events { .. } => {
            format!("more than {} YAML nodes", limits.max_nodes)
        }
        B::Aliases { .. }
        | B::Anchors { .. }
        | B::AliasAnchorRatio { .. }
        | B::MergeKeys { .. } => {
            format!(
                "more than {} anchors, aliases or merge keys",
                limits.max_aliases
            )
        }
        B::RecordedAnchorEvents { .. } | B::RecordedAnchorBytes { .. } => format!(
            "anchored content expands to more than {} YAML events",
            limits.max_alias_replay
        ),
        B::ScalarBytes { .. } | B::InputBytes { .. } => {
            format!("more than {} bytes of text", limits.max_bytes)
        }
        B::Documents { .. } => "more than one YAML document (`---`)".into(),
        other => format!("{other:?}"),
    }
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Node, D::Error> {
        let spanned = serde_saphyr::Spanned::<Kind>::deserialize(d)?;
        Ok(Node {
            loc: Loc::from(spanned.referenced),
            kind: spanned.value,
        })
    }
}

impl<'de> Deserialize<'de> for Kind {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Kind, D::Error> {
        d.deserialize_any(KindVisitor)
    }
}

struct KindVisitor;

impl<'de> Visitor<'de> for KindVisitor {
    type Value = Kind;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a YAML value")
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Kind, E> {
        Ok(Kind::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Kind, E> {
        Ok(Kind::Int(v.into()))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Kind, E> {
        Ok(Kind::Int(v.into()))
    }
    fn visit_i128<E: de::Error>(self, v: i128) -> Result<Kind, E> {
        Ok(Kind::Int(v))
    }
    fn visit_u128<E: de::Error>(self, v: u128) -> Result<Kind, E> {
        i128::try_from(v)
            .map(Kind::Int)
            .map_err(|_| E::custom("integer out of range"))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Kind, E> {
        Ok(Kind::Float(v))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Kind, E> {
        Ok(Kind::Str(v.to_owned()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Kind, E> {
        Ok(Kind::Str(v))
    }
    fn visit_bytes<E: de::Error>(self, _: &[u8]) -> Result<Kind, E> {
        Err(E::custom(
            "`!!binary` is not supported; write bytes as {hex: \"...\"}",
        ))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Kind, E> {
        Ok(Kind::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<Kind, E> {
        Ok(Kind::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Kind, D::Error> {
        Kind::deserialize(d)
    }
    fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<Kind, D::Error> {
        Kind::deserialize(d)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Kind, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Node>()? {
            items.push(item);
        }
        Ok(Kind::Seq(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Kind, A::Error> {
        let mut entries = Vec::new();
        while let Some(entry) = map.next_entry::<Node, Node>()? {
            entries.push(entry);
        }
        Ok(Kind::Map(entries))
    }
}

/// Deserializes a Rust value from a node; every error is located.
pub fn from_node<'a, T: Deserialize<'a>>(node: &'a Node) -> Result<T, DeError> {
    T::deserialize(NodeDe(node))
}

/// A serde `Deserializer` reading a [`Node`].
#[derive(Clone, Copy)]
pub struct NodeDe<'a>(pub &'a Node);

impl<'a> NodeDe<'a> {
    fn any<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, DeError> {
        let node = self.0;
        let result = match &node.kind {
            Kind::Null => visitor.visit_unit(),
            Kind::Bool(b) => visitor.visit_bool(*b),
            Kind::Int(i) => {
                if let Ok(u) = u64::try_from(*i) {
                    visitor.visit_u64(u)
                } else if let Ok(s) = i64::try_from(*i) {
                    visitor.visit_i64(s)
                } else {
                    visitor.visit_i128(*i)
                }
            }
            Kind::Float(x) => visitor.visit_f64(*x),
            Kind::Str(s) => visitor.visit_borrowed_str(s),
            Kind::Seq(items) => {
                let mut access = SeqDe {
                    iter: items.iter(),
                    seen: 0,
                };
                let value = visitor.visit_seq(&mut access)?;
                let rest = access.iter.len();
                if rest > 0 {
                    return Err(DeError::at(
                        node.loc,
                        format!(
                            "expected {} elements, found {}",
                            access.seen,
                            access.seen + rest
                        ),
                    ));
                }
                Ok(value)
            }
            Kind::Map(entries) => self.map(entries, visitor),
        };
        result.map_err(|e| e.located(node.loc))
    }

    fn map<V: Visitor<'a>>(
        self,
        entries: &'a [(Node, Node)],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        let mut access = MapDe {
            iter: entries.iter(),
            value: None,
        };
        let value = visitor.visit_map(&mut access)?;
        if let Some((k, _)) = access.iter.next() {
            return Err(DeError::at(k.loc, "unexpected extra entry"));
        }
        Ok(value)
    }
}

impl<'a> Deserializer<'a> for NodeDe<'a> {
    type Error = DeError;

    fn deserialize_any<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.any(visitor)
    }

    fn deserialize_option<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, DeError> {
        match self.0.kind {
            Kind::Null => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'a>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        visitor
            .visit_newtype_struct(self)
            .map_err(|e| e.located(self.0.loc))
    }

    /// A struct written with an empty value (`pingreq:`) has all its defaults.
    fn deserialize_struct<V: Visitor<'a>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        match &self.0.kind {
            Kind::Null => self.map(&[], visitor).map_err(|e| e.located(self.0.loc)),
            _ => self.any(visitor),
        }
    }

    fn deserialize_enum<V: Visitor<'a>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        let node = self.0;
        let result = match &node.kind {
            Kind::Str(s) => visitor.visit_enum(s.as_str().into_deserializer()),
            Kind::Map(entries) if entries.len() == 1 => visitor.visit_enum(EnumDe {
                key: &entries[0].0,
                value: &entries[0].1,
            }),
            _ => Err(DeError::at(
                node.loc,
                format!(
                    "expected a name or a mapping with exactly one key, found {}",
                    node.describe()
                ),
            )),
        };
        result.map_err(|e| e.located(node.loc))
    }

    fn deserialize_ignored_any<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, DeError> {
        visitor.visit_unit()
    }

    serde::forward_to_deserialize_any! {
        <W: Visitor<'a>>
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct seq tuple tuple_struct map identifier
    }
}

struct SeqDe<'a> {
    iter: std::slice::Iter<'a, Node>,
    seen: usize,
}

impl<'a> SeqAccess<'a> for SeqDe<'a> {
    type Error = DeError;

    fn next_element_seed<T: DeserializeSeed<'a>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, DeError> {
        match self.iter.next() {
            Some(node) => {
                self.seen += 1;
                seed.deserialize(NodeDe(node))
                    .map(Some)
                    .map_err(|e| e.located(node.loc))
            }
            None => Ok(None),
        }
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.iter.len())
    }
}

struct MapDe<'a> {
    iter: std::slice::Iter<'a, (Node, Node)>,
    value: Option<&'a Node>,
}

impl<'a> MapAccess<'a> for MapDe<'a> {
    type Error = DeError;

    fn next_key_seed<K: DeserializeSeed<'a>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, DeError> {
        match self.iter.next() {
            Some((k, v)) => {
                self.value = Some(v);
                seed.deserialize(NodeDe(k))
                    .map(Some)
                    .map_err(|e| e.located(k.loc))
            }
            None => Ok(None),
        }
    }

    fn next_value_seed<V: DeserializeSeed<'a>>(&mut self, seed: V) -> Result<V::Value, DeError> {
        let Some(v) = self.value.take() else {
            return Err(de::Error::custom("value requested before key"));
        };
        seed.deserialize(NodeDe(v)).map_err(|e| e.located(v.loc))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.iter.len())
    }
}

struct EnumDe<'a> {
    key: &'a Node,
    value: &'a Node,
}

impl<'a> de::EnumAccess<'a> for EnumDe<'a> {
    type Error = DeError;
    type Variant = NodeDe<'a>;

    fn variant_seed<V: DeserializeSeed<'a>>(
        self,
        seed: V,
    ) -> Result<(V::Value, NodeDe<'a>), DeError> {
        let variant = seed
            .deserialize(NodeDe(self.key))
            .map_err(|e| e.located(self.key.loc))?;
        Ok((variant, NodeDe(self.value)))
    }
}

impl<'a> de::VariantAccess<'a> for NodeDe<'a> {
    type Error = DeError;

    fn unit_variant(self) -> Result<(), DeError> {
        match self.0.kind {
            Kind::Null => Ok(()),
            _ => Err(DeError::at(
                self.0.loc,
                format!("expected nothing, found {}", self.0.describe()),
            )),
        }
    }

    fn newtype_variant_seed<T: DeserializeSeed<'a>>(self, seed: T) -> Result<T::Value, DeError> {
        seed.deserialize(self).map_err(|e| e.located(self.0.loc))
    }

    fn tuple_variant<V: Visitor<'a>>(self, _len: usize, visitor: V) -> Result<V::Value, DeError> {
        self.any(visitor)
    }

    fn struct_variant<V: Visitor<'a>>(
        self,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_struct("", fields, visitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::Packet;

    fn p(text: &str) -> Node {
        parse(text, &Limits::default()).unwrap()
    }

    fn perr(text: &str) -> DeError {
        parse(text, &Limits::default()).unwrap_err()
    }

    #[test]
    fn scalars_follow_the_core_schema() {
        let n = p("a: 0x80\nb: 5.0\nc: \"5.0\"\nd: on\ne: no\nf: true\ng: ~\nh: 3.1.1\ni: -3\n");
        let get = |k: &str| n.get(k).unwrap().kind.clone();
        assert_eq!(get("a"), Kind::Int(128));
        assert_eq!(get("b"), Kind::Float(5.0));
        assert_eq!(get("c"), Kind::Str("5.0".into()));
        assert_eq!(get("d"), Kind::Str("on".into()));
        assert_eq!(get("e"), Kind::Str("no".into()));
        assert_eq!(get("f"), Kind::Bool(true));
        assert_eq!(get("g"), Kind::Null);
        assert_eq!(get("h"), Kind::Str("3.1.1".into()));
        assert_eq!(get("i"), Kind::Int(-3));
    }

    #[test]
    fn nodes_know_where_they_are() {
        let n = p("first: 1\nsecond:\n  - x\n  - {k: v}\n");
        let second = n.get("second").unwrap();
        let items = second.as_seq().unwrap();
        assert_eq!(items[0].loc, Loc::new(3, 5));
        assert_eq!(items[1].loc, Loc::new(4, 5));
        let (k, v) = &items[1].as_map().unwrap()[0];
        assert_eq!(k.loc, Loc::new(4, 6));
        assert_eq!(v.loc, Loc::new(4, 9));
    }

    #[test]
    fn aliases_are_expanded() {
        let n = p("a: &x {k: 1}\nb: *x\n");
        assert_eq!(n.get("a").unwrap().to_json(), n.get("b").unwrap().to_json());
        // Errors inside an alias point at where it is used.
        assert_eq!(n.get("b").unwrap().loc.line, 2);
    }

    #[test]
    fn empty_document_is_null() {
        assert_eq!(p("").kind, Kind::Null);
        assert_eq!(p("# only a comment\n").kind, Kind::Null);
    }

    #[test]
    fn syntax_errors_are_located() {
        let e = perr("a: 1\nb: [1, 2\n");
        assert!(e.loc.line >= 2, "{e}");
        let e = perr("a: 1\na: 2\n");
        assert_eq!(e.loc.line, 2, "{e}");
        assert!(e.message.contains("duplicate"), "{e}");
    }

    #[test]
    fn billion_laughs_fails_fast() {
        let mut text = String::from("a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
        for i in 1..10 {
            let prev = format!("*a{}", i - 1);
            let list = [prev.as_str(); 10].join(", ");
            text.push_str(&format!("a{i}: &a{i} [{list}]\n"));
        }
        let start = std::time::Instant::now();
        let e = perr(&text);
        assert!(start.elapsed() < std::time::Duration::from_secs(2));
        assert!(e.message.contains("too complex"), "{e}");
        assert!(e.loc.is_known(), "{e}");
    }

    #[test]
    fn deep_nesting_is_refused() {
        let text = format!("{}{}", "[".repeat(100), "]".repeat(100));
        let e = perr(&text);
        assert!(e.message.contains("too complex"), "{e}");
        let text = format!("a: {}{}", "{b: ".repeat(40), "}".repeat(40));
        let e = perr(&text);
        assert!(e.message.contains("too complex"), "{e}");
    }

    #[test]
    fn big_files_are_refused_before_parsing() {
        let text = "#".repeat((1 << 20) + 1);
        let e = perr(&text);
        assert_eq!(e.loc, Loc::new(1, 1));
        assert!(e.message.contains("limit of 1048576 bytes"), "{e}");
    }

    #[test]
    fn deserializer_locates_unknown_fields() {
        let n = p("publish:\n  topic: t\n  qoss: 1\n");
        let e = from_node::<Packet>(&n).unwrap_err();
        assert_eq!(e.loc, Loc::new(3, 3), "{e}");
        assert!(
            e.message
                .starts_with("unknown field `qoss`, expected one of"),
            "{e}"
        );
    }

    #[test]
    fn deserializer_locates_type_errors() {
        let n = p("publish: {topic: t, qos: 300}\n");
        let e = from_node::<Packet>(&n).unwrap_err();
        assert_eq!(e.loc, Loc::new(1, 26), "{e}");
        let n = p("suback:\n  reason_codes: [0, x]\n");
        let e = from_node::<Packet>(&n).unwrap_err();
        assert_eq!(e.loc, Loc::new(2, 21), "{e}");
        let n = p("publsh: {}\n");
        let e = from_node::<Packet>(&n).unwrap_err();
        assert_eq!(e.loc, Loc::new(1, 1), "{e}");
        assert!(e.message.contains("unknown variant `publsh`"), "{e}");
    }

    #[test]
    fn deserializer_reads_packets() {
        let n = p("connect: {will: {topic: w, payload: {hex: \"00 ff\"}}, properties: {user_properties: [[a, b]]}}\n");
        let Packet::Connect(c) = from_node::<Packet>(&n).unwrap() else {
            panic!("not a connect");
        };
        assert_eq!(c.will.unwrap().payload.as_slice(), &[0, 255]);
        assert_eq!(c.properties.user_properties, vec![("a".into(), "b".into())]);
        assert_eq!(c.keep_alive, 60);
        let n = p("pingreq:\n");
        assert_eq!(
            from_node::<Packet>(&n).unwrap(),
            Packet::Pingreq(crate::codec::Empty {})
        );
        let n = p("connect: {properties: {user_properties: [[a, b, c]]}}\n");
        assert!(from_node::<Packet>(&n).is_err());
    }

    #[test]
    fn json_conversion_keeps_types() {
        let n = p("a: [1, -2, 2.5, x, true, ~]\n");
        assert_eq!(
            n.to_json().unwrap(),
            serde_json::json!({"a": [1, -2, 2.5, "x", true, null]})
        );
    }
}
