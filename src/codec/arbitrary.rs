//! Proptest strategies for the packet model: every packet they produce is
//! valid for the version asked for, so encoding then decoding it must give
//! it back unchanged. The codec's tests and the network fuzzer
//! (`crate::fuzz`) both draw their valid packets from here.

use crate::codec::properties::{PropertyContext as Ctx, PROPERTY_TABLE};
use crate::codec::reason_code::allowed;
use crate::codec::*;
use proptest::collection::vec;
use proptest::option::of;
use proptest::prelude::*;

/// Text without U+0000, control characters or non-characters (those give
/// notes), mixing one-, two-, three- and four-byte UTF-8.
fn text(max: usize) -> impl Strategy<Value = String> {
    proptest::string::string_regex(&format!("[a-zA-Z0-9 ._$/+#é€😀-]{{0,{max}}}")).unwrap()
}

fn topic_name() -> impl Strategy<Value = String> {
    proptest::string::string_regex("[a-z0-9é€😀$_/-]{1,20}").unwrap()
}

fn topic_filter() -> impl Strategy<Value = String> {
    let level = prop_oneof![
        Just("+".to_owned()),
        Just(String::new()),
        proptest::string::string_regex("[a-z0-9é€]{1,6}").unwrap(),
    ];
    (vec(level, 1..4), any::<bool>()).prop_map(|(levels, multi)| {
        let mut f = levels.join("/");
        if multi {
            f.push_str(if f.is_empty() { "#" } else { "/#" });
        }
        if f.is_empty() {
            f.push('a');
        }
        f
    })
}

fn binary(max: usize) -> impl Strategy<Value = Binary> {
    vec(any::<u8>(), 0..max).prop_map(Binary::from)
}

fn bool_byte() -> impl Strategy<Value = u8> {
    0u8..=1
}

fn nonzero_u16() -> impl Strategy<Value = u16> {
    1u16..=u16::MAX
}

/// Every property set to something (or nothing), then trimmed to what `ctx`
/// allows.
pub fn properties(ctx: Ctx) -> impl Strategy<Value = Properties> {
    let a = (
        of(bool_byte()),
        of(any::<u32>()),
        of(text(8)),
        of(topic_name()),
        of(binary(8)),
        vec(1u32..=268_435_455, 0..3),
        of(any::<u32>()),
        of(text(8)),
        of(any::<u16>()),
        of(text(8)),
        of(binary(8)),
        of(bool_byte()),
    );
    let b = (
        of(any::<u32>()),
        of(bool_byte()),
        of(text(8)),
        of(text(8)),
        of(text(8)),
        of(nonzero_u16()),
        of(any::<u16>()),
        of(nonzero_u16()),
        of(bool_byte()),
        of(bool_byte()),
        vec((text(4), text(4)), 0..3),
        of(1u32..=u32::MAX),
    );
    let c = (of(bool_byte()), of(bool_byte()), of(bool_byte()));
    (a, b, c).prop_map(move |(a, b, c)| {
        let mut p = Properties {
            payload_format_indicator: a.0,
            message_expiry_interval: a.1,
            content_type: a.2,
            response_topic: a.3,
            correlation_data: a.4,
            subscription_identifiers: a.5,
            session_expiry_interval: a.6,
            assigned_client_identifier: a.7,
            server_keep_alive: a.8,
            authentication_method: a.9,
            authentication_data: a.10,
            request_problem_information: a.11,
            will_delay_interval: b.0,
            request_response_information: b.1,
            response_information: b.2,
            server_reference: b.3,
            reason_string: b.4,
            receive_maximum: b.5,
            topic_alias_maximum: b.6,
            topic_alias: b.7,
            maximum_qos: b.8,
            retain_available: b.9,
            user_properties: b.10,
            maximum_packet_size: b.11,
            wildcard_subscription_available: c.0,
            subscription_identifier_available: c.1,
            shared_subscription_available: c.2,
        };
        retain_allowed(&mut p, ctx);
        p
    })
}

/// Clears every property `ctx` may not carry (by the property table).
pub fn retain_allowed(p: &mut Properties, ctx: Ctx) {
    let ok = |name: &str| {
        PROPERTY_TABLE
            .iter()
            .any(|i| i.name == name && i.allowed_in(ctx))
    };
    macro_rules! keep {
        ($($f:ident),*) => {
            $(if !ok(stringify!($f)) { p.$f = Default::default(); })*
        };
    }
    keep!(
        payload_format_indicator,
        message_expiry_interval,
        content_type,
        response_topic,
        correlation_data,
        subscription_identifiers,
        session_expiry_interval,
        assigned_client_identifier,
        server_keep_alive,
        authentication_method,
        authentication_data,
        request_problem_information,
        will_delay_interval,
        request_response_information,
        response_information,
        server_reference,
        reason_string,
        receive_maximum,
        topic_alias_maximum,
        topic_alias,
        maximum_qos,
        retain_available,
        user_properties,
        maximum_packet_size,
        wildcard_subscription_available,
        subscription_identifier_available,
        shared_subscription_available
    );
    // Authentication Data needs an Authentication Method.
    if p.authentication_method.is_none() {
        p.authentication_data = None;
    }
    // A SUBSCRIBE carries at most one Subscription Identifier.
    if ctx == Ctx::Subscribe {
        p.subscription_identifiers.truncate(1);
    }
}

fn props(v: ProtocolVersion, ctx: Ctx) -> BoxedStrategy<Properties> {
    if v.is_v5() {
        properties(ctx).boxed()
    } else {
        Just(Properties::default()).boxed()
    }
}

fn code(v: ProtocolVersion, ctx: Ctx) -> BoxedStrategy<u8> {
    let codes: Vec<u8> = (0..=255u8).filter(|c| allowed(v, ctx, *c)).collect();
    proptest::sample::select(codes).boxed()
}

fn packet_id() -> impl Strategy<Value = u16> {
    nonzero_u16()
}

pub fn connect(v: ProtocolVersion) -> impl Strategy<Value = Connect> {
    let v5 = v.is_v5();
    let will = (
        topic_name(),
        binary(16),
        0u8..=2,
        any::<bool>(),
        props(v, Ctx::Will),
    )
        .prop_map(|(topic, payload, qos, retain, mut properties)| {
            if std::str::from_utf8(payload.as_slice()).is_err() {
                properties.payload_format_indicator =
                    properties.payload_format_indicator.map(|_| 0);
            }
            Will {
                topic,
                payload,
                qos,
                retain,
                properties,
            }
        });
    (
        any::<bool>(),
        any::<u16>(),
        text(23),
        of(will),
        of(text(12)),
        of(binary(12)),
        props(v, Ctx::Connect),
    )
        .prop_map(
            move |(clean, keep_alive, client_id, will, username, password, properties)| {
                let mut c = Connect {
                    protocol_name: "MQTT".into(),
                    protocol_level: v.level(),
                    clean_session: clean,
                    keep_alive,
                    client_id,
                    will,
                    username,
                    password,
                    properties,
                };
                if !v5 {
                    // MQTT-3.1.2-22 and MQTT-3.1.3-7.
                    if c.username.is_none() {
                        c.password = None;
                    }
                    if c.client_id.is_empty() {
                        c.clean_session = true;
                    }
                }
                c
            },
        )
}

pub fn publish(v: ProtocolVersion) -> impl Strategy<Value = Publish> {
    (
        any::<bool>(),
        0u8..=2,
        any::<bool>(),
        topic_name(),
        packet_id(),
        props(v, Ctx::Publish),
        binary(64),
        any::<bool>(),
    )
        .prop_map(
            |(dup, qos, retain, topic, id, properties, payload, drop_topic)| {
                let mut p = Publish {
                    dup: dup && qos > 0,
                    qos,
                    retain,
                    topic,
                    packet_id: (qos > 0).then_some(id),
                    properties,
                    payload,
                };
                // Claiming UTF-8 for other bytes earns a note; keep the claim honest.
                if std::str::from_utf8(p.payload.as_slice()).is_err() {
                    p.properties.payload_format_indicator =
                        p.properties.payload_format_indicator.map(|_| 0);
                }
                // 5.0: a Topic Alias may stand in for the name.
                if drop_topic && p.properties.topic_alias.is_some() {
                    p.topic.clear();
                }
                p
            },
        )
}

fn ack(v: ProtocolVersion, ctx: Ctx) -> BoxedStrategy<Ack> {
    let rc = if v.is_v5() {
        code(v, ctx)
    } else {
        Just(0).boxed()
    };
    (packet_id(), rc, props(v, ctx))
        .prop_map(|(packet_id, reason_code, properties)| Ack {
            packet_id,
            reason_code,
            properties,
        })
        .boxed()
}

pub fn subscribe(v: ProtocolVersion) -> impl Strategy<Value = Subscribe> {
    let v5 = v.is_v5();
    let sub = (
        topic_filter(),
        0u8..=2,
        any::<bool>(),
        any::<bool>(),
        0u8..=2,
        any::<bool>(),
    )
        .prop_map(move |(filter, qos, nl, rap, rh, shared)| {
            let mut s = Subscription {
                filter,
                qos,
                ..Default::default()
            };
            if v5 {
                s.no_local = nl && !shared;
                s.retain_as_published = rap;
                s.retain_handling = rh;
                if shared {
                    s.filter = format!("$share/grp/{}", s.filter);
                }
            }
            s
        });
    (packet_id(), props(v, Ctx::Subscribe), vec(sub, 1..4)).prop_map(|(id, properties, filters)| {
        Subscribe {
            packet_id: Some(id),
            properties,
            filters,
        }
    })
}

pub fn packet(v: ProtocolVersion) -> BoxedStrategy<Packet> {
    let v5 = v.is_v5();
    let mut options = vec![
        connect(v).prop_map(Packet::Connect).boxed(),
        (any::<bool>(), code(v, Ctx::Connack), props(v, Ctx::Connack))
            .prop_map(|(sp, reason_code, properties)| {
                Packet::Connack(Connack {
                    session_present: sp && reason_code == 0,
                    reason_code,
                    properties,
                })
            })
            .boxed(),
        publish(v).prop_map(Packet::Publish).boxed(),
        ack(v, Ctx::Puback).prop_map(Packet::Puback).boxed(),
        ack(v, Ctx::Pubrec).prop_map(Packet::Pubrec).boxed(),
        ack(v, Ctx::Pubrel).prop_map(Packet::Pubrel).boxed(),
        ack(v, Ctx::Pubcomp).prop_map(Packet::Pubcomp).boxed(),
        subscribe(v).prop_map(Packet::Subscribe).boxed(),
        (
            packet_id(),
            props(v, Ctx::Suback),
            vec(code(v, Ctx::Suback), 1..5),
        )
            .prop_map(|(packet_id, properties, reason_codes)| {
                Packet::Suback(Suback {
                    packet_id,
                    properties,
                    reason_codes,
                })
            })
            .boxed(),
        (
            packet_id(),
            props(v, Ctx::Unsubscribe),
            vec(topic_filter(), 1..4),
        )
            .prop_map(|(id, properties, filters)| {
                Packet::Unsubscribe(Unsubscribe {
                    packet_id: Some(id),
                    properties,
                    filters,
                })
            })
            .boxed(),
        (
            packet_id(),
            props(v, Ctx::Unsuback),
            vec(
                if v5 {
                    code(v, Ctx::Unsuback)
                } else {
                    Just(0).boxed()
                },
                1..5,
            ),
        )
            .prop_map(move |(packet_id, properties, codes)| {
                Packet::Unsuback(Unsuback {
                    packet_id,
                    properties,
                    reason_codes: if v5 { codes } else { Vec::new() },
                })
            })
            .boxed(),
        Just(Packet::Pingreq(Empty {})).boxed(),
        Just(Packet::Pingresp(Empty {})).boxed(),
    ];
    if v5 {
        options.push(
            (code(v, Ctx::Disconnect), props(v, Ctx::Disconnect))
                .prop_map(|(reason_code, properties)| {
                    Packet::Disconnect(Disconnect {
                        reason_code,
                        properties,
                    })
                })
                .boxed(),
        );
        options.push(
            (code(v, Ctx::Auth), props(v, Ctx::Auth))
                .prop_map(|(reason_code, properties)| {
                    Packet::Auth(Auth {
                        reason_code,
                        properties,
                    })
                })
                .boxed(),
        );
    } else {
        options.push(Just(Packet::Disconnect(Disconnect::default())).boxed());
    }
    proptest::strategy::Union::new(options).boxed()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::tests::decode_all_ways;
    use bytes::BytesMut;
    use ProtocolVersion::{V3_1_1, V5};

    fn enc(p: &Packet, v: ProtocolVersion) -> Vec<u8> {
        let mut b = BytesMut::new();
        encode(p, v, &mut b).unwrap();
        b.to_vec()
    }

    fn round_trip(p: &Packet, v: ProtocolVersion) -> Result<(), TestCaseError> {
        let bytes = enc(p, v);
        // Through the framer at every split, too.
        let d = decode_all_ways(&bytes, v).map_err(|e| TestCaseError::fail(format!("{p}: {e}")))?;
        prop_assert_eq!(&d.packet, p);
        prop_assert!(d.notes.is_empty(), "{:?}", d.notes);
        prop_assert_eq!(enc(&d.packet, v), bytes);
        Ok(())
    }

    proptest! {
        // PROPTEST_CASES raises the count for a longer run.
        #![proptest_config(ProptestConfig::with_cases(
            std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(512)
        ))]

        #[test]
        fn model_round_trips_in_3_1_1(p in packet(V3_1_1)) {
            round_trip(&p, V3_1_1)?;
        }

        #[test]
        fn model_round_trips_in_5_0(p in packet(V5)) {
            round_trip(&p, V5)?;
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in vec(any::<u8>(), 0..200), v5 in any::<bool>()) {
            let v = if v5 { V5 } else { V3_1_1 };
            let _ = decode_all_ways(&bytes, v);
        }

        /// Valid packets with a few bytes changed or cut: near misses reach
        /// deeper into the decoder than random bytes do.
        #[test]
        fn mutated_packets_never_panic(
            p in packet(V5),
            v5 in any::<bool>(),
            edits in vec((any::<prop::sample::Index>(), any::<u8>()), 0..4),
            cut in any::<prop::sample::Index>(),
        ) {
            let v = if v5 { V5 } else { V3_1_1 };
            let mut bytes = enc(&p, v);
            for (i, b) in edits {
                let i = i.index(bytes.len());
                bytes[i] = b;
            }
            if bytes.len() > 2 {
                let keep = 2 + cut.index(bytes.len() - 1);
                bytes.truncate(keep);
            }
            let _ = decode_all_ways(&bytes, v);
        }

        /// The one-line rendering never panics, whatever the model holds.
        #[test]
        fn display_never_panics(p in packet(V5)) {
            prop_assert!(!p.to_string().is_empty());
        }
    }
}
