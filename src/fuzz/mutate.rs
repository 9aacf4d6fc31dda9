//! Builds a session from a seed: typed mutations on the packet model and
//! the encoder's overrides first (field values, flags, lengths, 5.0
//! properties, packet order, extra clients), then, sometimes, mutations of
//! the encoded bytes (bit flips, truncation, splicing, invalid UTF-8) and
//! of the writes (split across TCP writes, pauses).
//!
//! Valid packets come from the codec's one generator,
//! [`crate::codec::arbitrary`], driven by the session's own random seed.

use super::corpus::{Item, Seed, SEED_NS};
use super::rng::Rng;
use super::session::{Op, Session, MAX_CONNS};
use crate::codec::arbitrary;
use crate::codec::properties::{PropertyContext as Ctx, PropertyType, PROPERTY_TABLE};
use crate::codec::{
    self, Ack, Binary, Connect, Empty, Overrides, Packet, Properties, ProtocolVersion, Publish,
    Subscribe, Subscription, Will,
};
use bytes::BytesMut;
use proptest::strategy::{BoxedStrategy, Strategy, ValueTree};
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use std::time::Duration;

/// Names of the mutators, as counted in the status line and the summary.
pub const MUTATORS: &[&str] = &[
    "field",
    "flags",
    "length",
    "properties",
    "order",
    "insert",
    "clients",
    "body",
    "string-length",
    "connect-flags",
    "bytes",
    "utf8",
    "split",
    "pause",
];

/// The strategies of [`arbitrary`], built once per version.
pub struct Generator {
    connect: [BoxedStrategy<Connect>; 2],
    packet: [BoxedStrategy<Packet>; 2],
    properties: Vec<(Ctx, BoxedStrategy<Properties>)>,
}

const CONTEXTS: &[Ctx] = &[
    Ctx::Connect,
    Ctx::Will,
    Ctx::Connack,
    Ctx::Publish,
    Ctx::Puback,
    Ctx::Pubrec,
    Ctx::Pubrel,
    Ctx::Pubcomp,
    Ctx::Subscribe,
    Ctx::Suback,
    Ctx::Unsubscribe,
    Ctx::Unsuback,
    Ctx::Disconnect,
    Ctx::Auth,
];

fn vi(v: ProtocolVersion) -> usize {
    usize::from(v.is_v5())
}

impl Default for Generator {
    fn default() -> Self {
        use ProtocolVersion::{V3_1_1, V5};
        Generator {
            connect: [
                arbitrary::connect(V3_1_1).boxed(),
                arbitrary::connect(V5).boxed(),
            ],
            packet: [arbitrary::packet(V3_1_1), arbitrary::packet(V5)],
            properties: CONTEXTS
                .iter()
                .map(|c| (*c, arbitrary::properties(*c).boxed()))
                .collect(),
        }
    }
}

/// One value of `s`, drawn with a runner seeded from `rng`.
fn draw<T: std::fmt::Debug>(s: &BoxedStrategy<T>, rng: &mut Rng) -> Option<T> {
    let mut runner = TestRunner::new_with_rng(
        Config::default(),
        TestRng::from_seed(RngAlgorithm::ChaCha, &rng.seed32()),
    );
    s.new_tree(&mut runner).ok().map(|t| t.current())
}

/// What a build did, for the statistics.
#[derive(Debug, Default, Clone)]
pub struct Built {
    pub session: Option<Session>,
    /// Indices into [`MUTATORS`].
    pub mutators: Vec<usize>,
    /// Bit per packet type number written (typed items only).
    pub types: u16,
}

/// Builds session `index` from `seed` (or, with `seed` `None`, from
/// generated packets).
pub fn build(
    index: u64,
    version: ProtocolVersion,
    seed: Option<&Seed>,
    rng: &mut Rng,
    gen: &Generator,
) -> Built {
    let ns = format!("fz{index:x}");
    let mut m = Mutation {
        rng,
        gen,
        version,
        ns: ns.clone(),
        items: Vec::new(),
        used: Vec::new(),
    };
    let origin = match seed {
        Some(s) => {
            m.items = s.items.clone();
            s.id.clone()
        }
        None => {
            m.generated();
            "generated".to_string()
        }
    };
    for (_, item) in &mut m.items {
        if let Item::Packet(p, _) = item {
            rename(p, SEED_NS, &ns);
        }
    }
    let rounds = 1 + m.rng.below(3);
    for _ in 0..rounds {
        m.typed();
    }
    let mut types = 0u16;
    let mut ops = Vec::new();
    for (conn, item) in &m.items {
        let bytes = match item {
            Item::Raw(b) => b.clone(),
            Item::Packet(p, ov) => {
                types |= 1 << (p.packet_type() as u16);
                let mut buf = BytesMut::new();
                if codec::encode_with(p, version, ov, &mut buf).is_err() {
                    buf.clear();
                    if codec::encode(p, version, &mut buf).is_err() {
                        continue;
                    }
                }
                buf.to_vec()
            }
        };
        ops.push(Op::Send { conn: *conn, bytes });
    }
    if ops.is_empty() {
        return Built::default();
    }
    if m.rng.chance(2, 5) {
        m.bytes(&mut ops);
    }
    if m.rng.chance(1, 5) {
        m.split(&mut ops);
    }
    let mut used = m.used;
    used.sort_unstable();
    used.dedup();
    let names: Vec<&str> = used.iter().map(|i| MUTATORS[*i]).collect();
    Built {
        session: Some(Session {
            index,
            version,
            ops,
            origin: format!("{origin} + {}", names.join(", ")),
        }),
        mutators: used,
        types,
    }
}

struct Mutation<'a> {
    rng: &'a mut Rng,
    gen: &'a Generator,
    version: ProtocolVersion,
    ns: String,
    items: Vec<(usize, Item)>,
    used: Vec<usize>,
}

fn mutator(name: &str) -> usize {
    MUTATORS.iter().position(|m| *m == name).unwrap_or(0)
}

/// Strings at the edges of what a field allows.
fn edge_string(rng: &mut Rng, ns: &str) -> String {
    match rng.below(14) {
        0 => String::new(),
        1 => "\u{0}".into(),
        2 => format!("{ns}/\u{0}/x"),
        3 => "\u{FFFF}".into(),
        4 => "\u{FEFF}".into(),
        5 => format!("{ns}\u{7}\u{1F}"),
        6 => "a".repeat(24),
        7 => "a".repeat(65_535),
        8 => format!("{ns}/+/#"),
        9 => "#".into(),
        10 => "$SYS/x".into(),
        11 => "/".into(),
        12 => format!("{ns}/é€😀"),
        _ => "a".repeat(256 + rng.below(600)),
    }
}

fn edge_filter(rng: &mut Rng, ns: &str) -> String {
    match rng.below(12) {
        0 => String::new(),
        1 => format!("{ns}/#/x"),
        2 => format!("{ns}/a+"),
        3 => format!("{ns}#"),
        4 => "$share/".into(),
        5 => "$share/g".into(),
        6 => format!("$share/g/{ns}/#"),
        7 => format!("$share/+/{ns}"),
        8 => "#".into(),
        9 => "+".into(),
        10 => format!("{ns}/\u{0}"),
        _ => edge_string(rng, ns),
    }
}

fn edge_u16(rng: &mut Rng) -> u16 {
    *rng.pick(&[
        0, 1, 2, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0x8000, 0xfffe, 0xffff,
    ])
}

impl Mutation<'_> {
    fn note(&mut self, name: &str) {
        self.used.push(mutator(name));
    }

    /// A valid CONNECT and a few valid packets from the generator.
    fn generated(&mut self) {
        let v = self.version;
        if let Some(mut c) = draw(&self.gen.connect[vi(v)], self.rng) {
            c.client_id = format!("{}a", self.ns);
            if c.keep_alive == 0 {
                c.keep_alive = 60;
            }
            self.items.push((
                0,
                Item::Packet(Box::new(Packet::Connect(c)), Overrides::default()),
            ));
        }
        for _ in 0..1 + self.rng.below(4) {
            if let Some(p) = draw(&self.gen.packet[vi(v)], self.rng) {
                if !matches!(p, Packet::Connect(_)) || self.rng.chance(1, 4) {
                    self.push_packet(0, p);
                }
            }
        }
    }

    fn push_packet(&mut self, conn: usize, mut p: Packet) {
        rename_topics(&mut p, &self.ns);
        self.items
            .push((conn, Item::Packet(Box::new(p), Overrides::default())));
    }

    /// Index of a random typed item, if any.
    fn typed_item(&mut self) -> Option<usize> {
        let typed: Vec<usize> = (0..self.items.len())
            .filter(|i| matches!(self.items[*i].1, Item::Packet(..)))
            .collect();
        (!typed.is_empty()).then(|| *self.rng.pick(&typed))
    }

    fn typed(&mut self) {
        let choice = self.rng.below(20);
        match choice {
            0..=5 => self.field(),
            6 | 7 => self.flags(),
            8 | 9 => self.length(),
            10..=12 => self.properties(),
            13 => self.order(),
            14 | 15 => self.insert(),
            16 => self.clients(),
            17 => self.body(),
            18 => self.string_length(),
            _ => self.connect_flags(),
        }
    }

    fn field(&mut self) {
        let Some(i) = self.typed_item() else { return };
        self.note("field");
        let ns = self.ns.clone();
        let v5 = self.version.is_v5();
        let rng = &mut *self.rng;
        let Item::Packet(p, _) = &mut self.items[i].1 else {
            return;
        };
        match &mut **p {
            Packet::Connect(c) => match rng.below(10) {
                0 => c.client_id = edge_string(rng, &ns),
                1 => c.keep_alive = edge_u16(rng),
                2 => c.protocol_level = *rng.pick(&[0, 3, 4, 5, 6, 255]),
                3 => {
                    c.protocol_name =
                        (*rng.pick(&["MQIsdp", "mqtt", "MQTT\u{0}", "", "MQTTT"])).to_string()
                }
                4 => c.clean_session = !c.clean_session,
                5 => {
                    c.will = Some(Will {
                        topic: edge_string(rng, &ns),
                        payload: Binary::from(vec![rng.byte(); rng.below(64)]),
                        qos: rng.below(4) as u8,
                        retain: rng.chance(1, 2),
                        properties: Properties::default(),
                    })
                }
                6 => c.will = None,
                7 => c.username = Some(edge_string(rng, &ns)),
                8 => {
                    c.username = None;
                    c.password = Some(Binary::from(vec![0x61; 1 + rng.below(8)]));
                }
                _ => {
                    if v5 {
                        c.properties.receive_maximum = Some(edge_u16(rng));
                        c.properties.topic_alias_maximum = Some(edge_u16(rng));
                        c.properties.maximum_packet_size = Some(*rng.pick(&[0, 1, 2, 5, 64]));
                    } else {
                        c.client_id = format!("{ns}{}", "x".repeat(rng.below(40)));
                    }
                }
            },
            Packet::Publish(x) => match rng.below(9) {
                0 => x.qos = rng.below(4) as u8,
                1 => x.dup = !x.dup,
                2 => x.retain = !x.retain,
                3 => x.topic = edge_string(rng, &ns),
                4 => x.packet_id = *rng.pick(&[None, Some(0), Some(1), Some(0xffff)]),
                5 => {
                    x.payload = Binary::from(vec![
                        rng.byte();
                        *rng.pick(&[0, 1, 127, 128, 16_384, 70_000])
                    ])
                }
                6 if v5 => x.properties.topic_alias = Some(edge_u16(rng)),
                7 if v5 => x.properties.subscription_identifiers = vec![rng.below(3) as u32],
                _ if v5 => {
                    x.properties.payload_format_indicator = Some(rng.below(3) as u8);
                    x.payload = Binary::from(vec![0xff, 0xfe, rng.byte()]);
                }
                _ => x.topic = format!("{ns}/{}", "l/".repeat(rng.below(200))),
            },
            Packet::Subscribe(s) => match rng.below(6) {
                0 => s.filters.clear(),
                1 => s.packet_id = *rng.pick(&[None, Some(0), Some(0xffff)]),
                2 if v5 => s.properties.subscription_identifiers = vec![rng.below(2) as u32],
                _ => {
                    let f = Subscription {
                        filter: edge_filter(rng, &ns),
                        qos: rng.below(4) as u8,
                        no_local: v5 && rng.chance(1, 3),
                        retain_as_published: v5 && rng.chance(1, 3),
                        retain_handling: if v5 { rng.below(4) as u8 } else { 0 },
                    };
                    if s.filters.is_empty() || rng.chance(1, 2) {
                        s.filters.push(f);
                    } else {
                        let k = rng.below(s.filters.len());
                        s.filters[k] = f;
                    }
                }
            },
            Packet::Unsubscribe(u) => match rng.below(3) {
                0 => u.filters.clear(),
                1 => u.packet_id = *rng.pick(&[None, Some(0), Some(0xffff)]),
                _ => u.filters.push(edge_filter(rng, &ns)),
            },
            Packet::Puback(a) | Packet::Pubrec(a) | Packet::Pubrel(a) | Packet::Pubcomp(a) => {
                if rng.chance(1, 2) {
                    a.packet_id = edge_u16(rng);
                } else {
                    a.reason_code = rng.byte();
                }
            }
            Packet::Disconnect(d) => {
                d.reason_code = rng.byte();
                if v5 && rng.chance(1, 2) {
                    d.properties.session_expiry_interval = Some(*rng.pick(&[0, 1, u32::MAX]));
                }
            }
            Packet::Auth(a) => a.reason_code = rng.byte(),
            other => {
                // Server-only or empty packets: send a PINGREQ-shaped oddity.
                *other = Packet::Pingreq(Empty {});
            }
        }
    }

    fn overrides_of(&mut self, i: usize) -> Option<(&mut Packet, &mut Overrides)> {
        match &mut self.items[i].1 {
            Item::Packet(p, ov) => Some((&mut **p, ov)),
            Item::Raw(_) => None,
        }
    }

    fn flags(&mut self) {
        let Some(i) = self.typed_item() else { return };
        self.note("flags");
        let r = self.rng.below(16) as u8;
        let bit = 1u8 << self.rng.below(4);
        let flip = self.rng.chance(1, 2);
        if let Some((p, ov)) = self.overrides_of(i) {
            ov.flags = Some(if flip { p.wire_flags() ^ bit } else { r });
        }
    }

    fn length(&mut self) {
        let Some(i) = self.typed_item() else { return };
        self.note("length");
        let choice = self.rng.below(6);
        let delta = 1 + self.rng.below(4) as u32;
        let Some((p, ov)) = self.overrides_of(i) else {
            return;
        };
        let mut buf = BytesMut::new();
        let real = match codec::encode(p, ProtocolVersion::V5, &mut buf) {
            Ok(()) => codec::FixedHeader::parse(&buf).map_or(0, |h| h.remaining_length),
            Err(_) => 0,
        };
        match choice {
            0 => ov.remaining_length = Some(real.saturating_sub(delta)),
            1 => ov.remaining_length = Some(real + delta),
            2 => ov.remaining_length = Some(0),
            3 => ov.remaining_length = Some(268_435_455),
            4 => {
                // The same value in more bytes than needed.
                let mut bytes = crate::codec::primitives::vbi_array(real).0.to_vec();
                let n = crate::codec::primitives::vbi_len(real);
                bytes.truncate(n);
                bytes[n - 1] |= 0x80;
                bytes.push(0x00);
                ov.remaining_length_bytes = Some(Binary::from(bytes));
            }
            _ => ov.remaining_length_bytes = Some(Binary::from(vec![0x80, 0x80, 0x80, 0x80, 0x01])),
        }
    }

    fn properties(&mut self) {
        if !self.version.is_v5() {
            return self.field();
        }
        let Some(i) = self.typed_item() else { return };
        self.note("properties");
        let choice = self.rng.below(5);
        let extra = property_bytes(self.rng);
        let lie = self.rng.below(8) as u32;
        let k = self.rng.below(self.gen.properties.len());
        let other = draw(&self.gen.properties[k].1, self.rng);
        let Some((p, ov)) = self.overrides_of(i) else {
            return;
        };
        match choice {
            0 | 1 => {
                let mut b = ov
                    .extra_properties
                    .as_ref()
                    .map(|b| b.as_slice().to_vec())
                    .unwrap_or_default();
                b.extend_from_slice(&extra);
                ov.extra_properties = Some(Binary::from(b));
            }
            2 => ov.property_length = Some(lie),
            3 => {
                if let (Some(props), Some(other)) = (properties_mut(p), other) {
                    // Properties of another packet type: some are not allowed here.
                    *props = other;
                }
            }
            _ => {
                if let Some(props) = properties_mut(p) {
                    *props = Properties::default();
                }
            }
        }
        if matches!(p, Packet::Pingreq(_) | Packet::Pingresp(_)) {
            ov.extra_properties = None;
            ov.property_length = None;
        }
    }

    fn order(&mut self) {
        if self.items.len() < 2 {
            return self.insert();
        }
        self.note("order");
        let n = self.items.len();
        let (a, b) = (self.rng.below(n), self.rng.below(n));
        match self.rng.below(4) {
            0 => self.items.swap(a, b),
            1 => {
                // A second copy: a second CONNECT, a repeated SUBSCRIBE...
                let it = self.items[a].clone();
                self.items.insert(b, it);
            }
            2 => {
                self.items.remove(a);
            }
            _ => {
                // The CONNECT later, so other packets come before it.
                let it = self.items.remove(0);
                self.items.insert(b.min(self.items.len()), it);
            }
        }
    }

    fn insert(&mut self) {
        self.note("insert");
        let conn = self.items.first().map_or(0, |x| x.0);
        let at = self
            .rng
            .below(self.items.len() + 1)
            .max(1)
            .min(self.items.len());
        let p = if self.rng.chance(1, 3) {
            // An acknowledgement for a packet identifier nobody used.
            let a = Ack {
                packet_id: edge_u16(self.rng),
                reason_code: 0,
                properties: Properties::default(),
            };
            match self.rng.below(4) {
                0 => Packet::Puback(a),
                1 => Packet::Pubrec(a),
                2 => Packet::Pubrel(a),
                _ => Packet::Pubcomp(a),
            }
        } else {
            match draw(&self.gen.packet[vi(self.version)], self.rng) {
                Some(p) => p,
                None => return,
            }
        };
        let mut p = p;
        rename_topics(&mut p, &self.ns);
        self.items
            .insert(at, (conn, Item::Packet(Box::new(p), Overrides::default())));
    }

    /// A second client: the same client ID (takeover), a shared
    /// subscription, or a retained message for a later subscriber.
    fn clients(&mut self) {
        let used: usize = self.items.iter().map(|(c, _)| *c + 1).max().unwrap_or(0);
        if used >= MAX_CONNS {
            return self.order();
        }
        self.note("clients");
        let second = used;
        let ns = self.ns.clone();
        let v = self.version;
        let connect = |id: String| Connect {
            protocol_name: v.protocol_name().into(),
            protocol_level: v.level(),
            clean_session: true,
            keep_alive: 60,
            client_id: id,
            ..Connect::default()
        };
        let first_connect = self.items.iter().find_map(|(_, i)| match i {
            Item::Packet(p, _) => match &**p {
                Packet::Connect(c) => Some(c.clone()),
                _ => None,
            },
            _ => None,
        });
        let sub = |filter: String, qos: u8| {
            Packet::Subscribe(Subscribe {
                packet_id: Some(7),
                properties: Properties::default(),
                filters: vec![Subscription {
                    filter,
                    qos,
                    ..Subscription::default()
                }],
            })
        };
        let publish = |retain: bool, qos: u8| {
            Packet::Publish(Publish {
                topic: format!("{ns}/t"),
                qos,
                retain,
                packet_id: (qos > 0).then_some(9),
                payload: Binary::from("x"),
                ..Publish::default()
            })
        };
        let mut add = Vec::new();
        match self.rng.below(3) {
            0 => {
                let c = first_connect.unwrap_or_else(|| connect(format!("{ns}a")));
                add.push(Packet::Connect(c));
            }
            1 => {
                add.push(Packet::Connect(connect(format!("{ns}{second}"))));
                add.push(sub(format!("$share/g/{ns}/#"), self.rng.below(3) as u8));
                add.push(publish(false, self.rng.below(3) as u8));
            }
            _ => {
                add.push(Packet::Connect(connect(format!("{ns}{second}"))));
                add.push(publish(true, self.rng.below(3) as u8));
                add.push(sub(format!("{ns}/#"), self.rng.below(3) as u8));
            }
        }
        let at = self.rng.below(self.items.len() + 1);
        for (k, p) in add.into_iter().enumerate() {
            self.items.insert(
                (at + k).min(self.items.len()),
                (second, Item::Packet(Box::new(p), Overrides::default())),
            );
        }
    }

    fn body(&mut self) {
        let Some(i) = self.typed_item() else { return };
        self.note("body");
        let cut = self.rng.below(12);
        let tail: Vec<u8> = (0..1 + self.rng.below(6))
            .map(|_| self.rng.byte())
            .collect();
        let trailing = self.rng.chance(1, 2);
        if let Some((_, ov)) = self.overrides_of(i) {
            if trailing {
                ov.trailing = Some(Binary::from(tail));
            } else {
                ov.truncate_body = Some(cut);
            }
        }
    }

    fn string_length(&mut self) {
        let Some(i) = self.typed_item() else { return };
        let n = edge_u16(self.rng);
        let Some((p, ov)) = self.overrides_of(i) else {
            return;
        };
        let has_string = match p {
            Packet::Connect(_) | Packet::Publish(_) => true,
            Packet::Subscribe(s) => !s.filters.is_empty(),
            Packet::Unsubscribe(u) => !u.filters.is_empty(),
            _ => false,
        };
        if has_string {
            ov.string_length = Some(n);
            self.note("string-length");
        }
    }

    fn connect_flags(&mut self) {
        let connect = (0..self.items.len()).find(|i| {
            matches!(&self.items[*i].1, Item::Packet(p, _) if matches!(**p, Packet::Connect(_)))
        });
        let Some(i) = connect else {
            return self.field();
        };
        self.note("connect-flags");
        let b = self.rng.byte();
        let bit = 1u8 << self.rng.below(8);
        let flip = self.rng.chance(1, 2);
        if let Some((p, ov)) = self.overrides_of(i) {
            let Packet::Connect(c) = p else { return };
            let mut current = if c.clean_session { 0x02 } else { 0 };
            if c.will.is_some() {
                current |= 0x04;
            }
            if c.username.is_some() {
                current |= 0x80;
            }
            if c.password.is_some() {
                current |= 0x40;
            }
            ov.connect_flags = Some(if flip { current ^ bit } else { b });
        }
    }

    /// Mutations of the encoded bytes.
    fn bytes(&mut self, ops: &mut [Op]) {
        let sends: Vec<usize> = (0..ops.len())
            .filter(|i| matches!(&ops[*i], Op::Send { bytes, .. } if !bytes.is_empty()))
            .collect();
        if sends.is_empty() {
            return;
        }
        let i = *self.rng.pick(&sends);
        let donor = *self.rng.pick(&sends);
        let donor_bytes = match &ops[donor] {
            Op::Send { bytes, .. } => bytes.clone(),
            _ => Vec::new(),
        };
        let choice = self.rng.below(7);
        self.note(if choice == 6 { "utf8" } else { "bytes" });
        let Op::Send { bytes, .. } = &mut ops[i] else {
            return;
        };
        let n = bytes.len();
        match choice {
            0 => {
                for _ in 0..1 + self.rng.below(4) {
                    let at = self.rng.below(n);
                    bytes[at] ^= 1 << self.rng.below(8);
                }
            }
            1 => {
                let at = self.rng.below(n);
                bytes[at] = *self.rng.pick(&[0x00, 0xff, 0x7f, 0x80, 0x01, 0xfe]);
            }
            2 => bytes.truncate(self.rng.below(n)),
            3 => {
                let extra: Vec<u8> = (0..1 + self.rng.below(8))
                    .map(|_| self.rng.byte())
                    .collect();
                bytes.extend_from_slice(&extra);
            }
            4 => {
                let at = self.rng.below(n + 1);
                let from = self.rng.below(donor_bytes.len());
                let len = self.rng.below(donor_bytes.len() - from + 1);
                let piece = donor_bytes[from..from + len].to_vec();
                bytes.splice(at..at, piece);
            }
            5 => {
                // Remove a run of bytes.
                let from = self.rng.below(n);
                let len = 1 + self.rng.below((n - from).min(8));
                bytes.drain(from..from + len);
            }
            _ => {
                // Invalid UTF-8 over a run of printable bytes (most likely a string).
                let runs: Vec<usize> = (0..n.saturating_sub(2))
                    .filter(|k| bytes[*k..*k + 3].iter().all(|b| b.is_ascii_graphic()))
                    .collect();
                if runs.is_empty() {
                    return;
                }
                let at = *self.rng.pick(&runs);
                let seqs: [&[u8]; 5] = [
                    &[0xc0, 0x80],
                    &[0xed, 0xa0, 0x80],
                    &[0xff],
                    &[0xf4, 0x90, 0x80],
                    &[0xe0, 0x80, 0xaf],
                ];
                let seq = *self.rng.pick(&seqs);
                let len = seq.len().min(n - at);
                bytes[at..at + len].copy_from_slice(&seq[..len]);
            }
        }
    }

    /// One write cut into several, maybe with pauses between them.
    fn split(&mut self, ops: &mut Vec<Op>) {
        let sends: Vec<usize> = (0..ops.len())
            .filter(|i| matches!(&ops[*i], Op::Send { bytes, .. } if bytes.len() >= 2))
            .collect();
        if sends.is_empty() {
            return;
        }
        let i = *self.rng.pick(&sends);
        let Op::Send { conn, bytes } = ops[i].clone() else {
            return;
        };
        let pause = self.rng.chance(1, 2);
        self.note(if pause { "pause" } else { "split" });
        let mut cuts: Vec<usize> = (0..1 + self.rng.below(3))
            .map(|_| 1 + self.rng.below(bytes.len() - 1))
            .collect();
        cuts.sort_unstable();
        cuts.dedup();
        let mut parts = Vec::new();
        let mut from = 0;
        for c in cuts.into_iter().chain([bytes.len()]) {
            if !parts.is_empty() && pause {
                parts.push(Op::Pause(Duration::from_millis(
                    1 + self.rng.below(20) as u64,
                )));
            }
            parts.push(Op::Send {
                conn,
                bytes: bytes[from..c].to_vec(),
            });
            from = c;
        }
        ops.splice(i..=i, parts);
    }
}

fn properties_mut(p: &mut Packet) -> Option<&mut Properties> {
    Some(match p {
        Packet::Connect(c) => &mut c.properties,
        Packet::Connack(c) => &mut c.properties,
        Packet::Publish(x) => &mut x.properties,
        Packet::Puback(a) | Packet::Pubrec(a) | Packet::Pubrel(a) | Packet::Pubcomp(a) => {
            &mut a.properties
        }
        Packet::Subscribe(s) => &mut s.properties,
        Packet::Suback(s) => &mut s.properties,
        Packet::Unsubscribe(u) => &mut u.properties,
        Packet::Unsuback(u) => &mut u.properties,
        Packet::Disconnect(d) => &mut d.properties,
        Packet::Auth(a) => &mut a.properties,
        Packet::Pingreq(_) | Packet::Pingresp(_) => return None,
    })
}

/// Raw bytes of one property: a known identifier with a value of its own
/// type, of the wrong type, or cut short; or an unknown identifier.
fn property_bytes(rng: &mut Rng) -> Vec<u8> {
    let info = rng.pick(PROPERTY_TABLE);
    let mut out = vec![info.id];
    if rng.chance(1, 12) {
        out[0] = *rng.pick(&[0x00, 0x04, 0x7f, 0xff]);
    }
    let ty = if rng.chance(1, 4) {
        *rng.pick(&[
            PropertyType::Byte,
            PropertyType::TwoByteInteger,
            PropertyType::FourByteInteger,
            PropertyType::VariableByteInteger,
            PropertyType::Utf8String,
            PropertyType::BinaryData,
            PropertyType::Utf8StringPair,
        ])
    } else {
        info.ty
    };
    let string = |rng: &mut Rng, out: &mut Vec<u8>| {
        let all: [&[u8]; 6] = [b"x", b"", b"\0", b"\xc0\x80", b"a/+", b"\xff"];
        let s = *rng.pick(&all);
        out.extend_from_slice(&(s.len() as u16).to_be_bytes());
        out.extend_from_slice(s);
    };
    match ty {
        PropertyType::Byte => out.push(*rng.pick(&[0, 1, 2, 0xff])),
        PropertyType::TwoByteInteger => out.extend_from_slice(&edge_u16(rng).to_be_bytes()),
        PropertyType::FourByteInteger => {
            out.extend_from_slice(&rng.pick(&[0u32, 1, 0xffff_ffff]).to_be_bytes())
        }
        PropertyType::VariableByteInteger => {
            let all: [&[u8]; 4] = [&[0x00], &[0x01], &[0x80, 0x00], &[0xff, 0xff, 0xff, 0x7f]];
            let v = *rng.pick(&all);
            out.extend_from_slice(v);
        }
        PropertyType::Utf8String | PropertyType::BinaryData => string(rng, &mut out),
        PropertyType::Utf8StringPair => {
            string(rng, &mut out);
            string(rng, &mut out);
        }
    }
    if rng.chance(1, 8) {
        out.truncate(1 + rng.below(out.len()));
    }
    out
}

/// Replaces `from` with `to` in client IDs, topics and filters.
fn rename(p: &mut Packet, from: &str, to: &str) {
    let r = |s: &mut String| {
        if s.contains(from) {
            *s = s.replace(from, to);
        }
    };
    match p {
        Packet::Connect(c) => {
            r(&mut c.client_id);
            if let Some(w) = &mut c.will {
                r(&mut w.topic);
            }
        }
        Packet::Publish(x) => r(&mut x.topic),
        Packet::Subscribe(s) => s.filters.iter_mut().for_each(|f| r(&mut f.filter)),
        Packet::Unsubscribe(u) => u.filters.iter_mut().for_each(r),
        _ => {}
    }
}

/// Generated topics and filters go under the session's namespace, so
/// concurrent sessions do not see each other's messages.
fn rename_topics(p: &mut Packet, ns: &str) {
    let put = |s: &mut String| {
        if !s.starts_with(ns) {
            *s = format!("{ns}/{s}");
        }
    };
    match p {
        Packet::Connect(c) => {
            c.client_id = format!("{ns}g");
            if let Some(w) = &mut c.will {
                put(&mut w.topic);
            }
        }
        Packet::Publish(x) if !x.topic.is_empty() => put(&mut x.topic),
        Packet::Subscribe(s) => s.filters.iter_mut().for_each(|f| {
            if !f.filter.starts_with("$share/") {
                put(&mut f.filter)
            }
        }),
        Packet::Unsubscribe(u) => u.filters.iter_mut().for_each(put),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fuzz::rng::session_seed;

    fn sessions(seed: u64, n: u64) -> Vec<Session> {
        let gen = Generator::default();
        (0..n)
            .filter_map(|i| {
                let mut rng = Rng::new(session_seed(seed, i));
                build(i, ProtocolVersion::V5, None, &mut rng, &gen).session
            })
            .collect()
    }

    #[test]
    fn the_same_seed_builds_the_same_sessions() {
        let a = sessions(42, 50);
        let b = sessions(42, 50);
        assert_eq!(a.len(), b.len());
        assert!(a.len() > 40);
        for (x, y) in a.iter().zip(&b) {
            assert_eq!(x.ops, y.ops);
        }
        let c = sessions(43, 50);
        assert!(a.iter().zip(&c).any(|(x, y)| x.ops != y.ops));
    }

    #[test]
    fn mutators_all_get_used() {
        let gen = Generator::default();
        let mut seen = vec![false; MUTATORS.len()];
        for i in 0..3000 {
            let mut rng = Rng::new(session_seed(1, i));
            let v = if i % 2 == 0 {
                ProtocolVersion::V5
            } else {
                ProtocolVersion::V3_1_1
            };
            for m in build(i, v, None, &mut rng, &gen).mutators {
                seen[m] = true;
            }
        }
        let missing: Vec<_> = MUTATORS
            .iter()
            .zip(&seen)
            .filter(|(_, s)| !**s)
            .map(|(m, _)| *m)
            .collect();
        assert!(missing.is_empty(), "{missing:?}");
    }
}
