//! Codec tests over whole packets: round trips, known byte strings, short
//! forms, and a table of malformed packets with the error each must give.

use crate::codec::binary::parse_hex;
use crate::codec::*;
use bytes::BytesMut;
use ProtocolVersion::{V3_1_1, V5};

fn enc(p: &Packet, v: ProtocolVersion) -> Vec<u8> {
    let mut b = BytesMut::new();
    encode(p, v, &mut b).unwrap_or_else(|e| panic!("encode {p}: {e}"));
    b.to_vec()
}

fn hex(s: &str) -> Vec<u8> {
    parse_hex(s).unwrap()
}

/// Decodes `bytes` whole, then again through the framer split at every
/// offset, and checks both give the same result.
pub(crate) fn decode_all_ways(bytes: &[u8], v: ProtocolVersion) -> Result<Decoded, DecodeError> {
    let whole = decode(bytes, v);
    let zero_copy = decode_bytes(bytes::Bytes::copy_from_slice(bytes), v);
    assert_eq!(whole, zero_copy, "decode_bytes disagrees with decode");
    for split in 0..=bytes.len() {
        let mut f = Framer::new(usize::MAX);
        let mut buf = BytesMut::from(&bytes[..split]);
        let mut frame = f.next_frame(&mut buf);
        if let Ok(None) = frame {
            buf.extend_from_slice(&bytes[split..]);
            frame = f.next_frame(&mut buf);
        }
        match frame {
            Ok(Some(fr)) if !buf.is_empty() => {
                // Bytes after one whole packet: decode refuses them there.
                let w = whole.as_ref().expect_err("decode accepted trailing bytes");
                assert_eq!(
                    (w.kind, w.offset),
                    (ErrorKind::Malformed, fr.len()),
                    "split {split}"
                );
            }
            Ok(Some(fr)) => assert_eq!(
                decode(&fr, v),
                whole,
                "framed decode differs at split {split}"
            ),
            Ok(None) => assert_eq!(
                whole.as_ref().map_err(|e| e.kind),
                Err(ErrorKind::Incomplete),
                "framer wants more bytes at split {split} but decode did not"
            ),
            Err(e) => {
                let w = whole
                    .as_ref()
                    .expect_err("framer failed but decode succeeded");
                assert_eq!(e.kind, w.kind, "split {split}");
            }
        }
    }
    whole
}

fn round_trip(p: Packet, v: ProtocolVersion) {
    let bytes = enc(&p, v);
    let d = decode_all_ways(&bytes, v).unwrap_or_else(|e| panic!("{p} in {v}: {e}"));
    assert_eq!(d.packet, p, "{v}: bytes {}", binary::to_hex(&bytes));
    assert!(d.notes.is_empty(), "{:?}", d.notes);
    // Re-encoding what was decoded gives back the same bytes.
    assert_eq!(enc(&d.packet, v), bytes);
}

fn props_for(ctx: properties::PropertyContext) -> Properties {
    use properties::PropertyContext as C;
    let mut p = Properties {
        user_properties: vec![("k".into(), "v".into()), ("k".into(), "w".into())],
        ..Default::default()
    };
    match ctx {
        C::Connect => {
            p.session_expiry_interval = Some(30);
            p.receive_maximum = Some(10);
            p.maximum_packet_size = Some(1 << 20);
            p.topic_alias_maximum = Some(5);
            p.request_response_information = Some(1);
            p.request_problem_information = Some(0);
            p.authentication_method = Some("SCRAM".into());
            p.authentication_data = Some(Binary::from(vec![0, 1, 2]));
        }
        C::Will => {
            p.will_delay_interval = Some(5);
            p.payload_format_indicator = Some(1);
            p.message_expiry_interval = Some(60);
            p.content_type = Some("text/plain".into());
            p.response_topic = Some("r/t".into());
            p.correlation_data = Some(Binary::from("id-1"));
        }
        C::Connack => {
            p.session_expiry_interval = Some(0);
            p.assigned_client_identifier = Some("auto-1".into());
            p.server_keep_alive = Some(20);
            p.response_information = Some("resp".into());
            p.server_reference = Some("other".into());
            p.reason_string = Some("ok".into());
            p.receive_maximum = Some(100);
            p.topic_alias_maximum = Some(10);
            p.maximum_qos = Some(1);
            p.retain_available = Some(0);
            p.maximum_packet_size = Some(65536);
            p.wildcard_subscription_available = Some(1);
            p.subscription_identifier_available = Some(1);
            p.shared_subscription_available = Some(0);
        }
        C::Publish => {
            p.payload_format_indicator = Some(0);
            p.message_expiry_interval = Some(9);
            p.topic_alias = Some(3);
            p.response_topic = Some("resp/x".into());
            p.correlation_data = Some(Binary::from(vec![0xff]));
            p.subscription_identifiers = vec![1, 268_435_455];
            p.content_type = Some("json".into());
        }
        C::Subscribe => p.subscription_identifiers = vec![16_384],
        C::Disconnect => {
            p.session_expiry_interval = Some(10);
            p.reason_string = Some("bye".into());
            p.server_reference = Some("s2".into());
        }
        C::Auth => {
            p.authentication_method = Some("SCRAM".into());
            p.authentication_data = Some(Binary::from("x"));
            p.reason_string = Some("more".into());
        }
        _ => p.reason_string = Some("why".into()),
    }
    p
}

/// One packet of each type, with every field set; `rich` adds 5.0 properties.
fn samples(v: ProtocolVersion) -> Vec<Packet> {
    use properties::PropertyContext as C;
    let v5 = v.is_v5();
    let pr = |c| {
        if v5 {
            props_for(c)
        } else {
            Properties::default()
        }
    };
    let ack = |c, rc| Ack {
        packet_id: 0x1234,
        reason_code: if v5 { rc } else { 0 },
        properties: pr(c),
    };
    vec![
        Packet::Connect(Connect {
            protocol_level: v.level(),
            clean_session: false,
            keep_alive: 0,
            client_id: "client-1".into(),
            will: Some(Will {
                topic: "will/t".into(),
                payload: Binary::from(vec![1, 2, 3]),
                qos: 2,
                retain: true,
                properties: pr(C::Will),
            }),
            username: Some("user".into()),
            password: Some(Binary::from("pw")),
            properties: pr(C::Connect),
            ..Default::default()
        }),
        Packet::Connect(Connect {
            protocol_level: v.level(),
            ..Default::default()
        }),
        Packet::Connack(Connack {
            session_present: true,
            reason_code: 0,
            properties: pr(C::Connack),
        }),
        Packet::Connack(Connack {
            session_present: false,
            reason_code: if v5 { 0x87 } else { 5 },
            properties: Properties::default(),
        }),
        Packet::Publish(Publish {
            dup: true,
            qos: 2,
            retain: true,
            topic: "a/b/c".into(),
            packet_id: Some(65535),
            properties: pr(C::Publish),
            payload: Binary::from(vec![0, 159, 146, 150]),
        }),
        Packet::Publish(Publish {
            topic: "t".into(),
            ..Default::default()
        }),
        Packet::Puback(ack(C::Puback, 0x10)),
        Packet::Pubrec(ack(C::Pubrec, 0x80)),
        Packet::Pubrel(ack(C::Pubrel, 0x92)),
        Packet::Pubcomp(ack(C::Pubcomp, 0)),
        Packet::Subscribe(Subscribe {
            packet_id: Some(7),
            properties: pr(C::Subscribe),
            filters: vec![
                Subscription {
                    filter: "a/+/c".into(),
                    qos: 1,
                    no_local: v5,
                    retain_as_published: v5,
                    retain_handling: if v5 { 2 } else { 0 },
                },
                Subscription {
                    filter: "#".into(),
                    qos: 2,
                    ..Default::default()
                },
            ],
        }),
        Packet::Suback(Suback {
            packet_id: 7,
            properties: pr(C::Suback),
            reason_codes: vec![1, 2, 0, 0x80],
        }),
        Packet::Unsubscribe(Unsubscribe {
            packet_id: Some(8),
            properties: if v5 {
                Properties {
                    user_properties: vec![("a".into(), "".into())],
                    ..Default::default()
                }
            } else {
                Properties::default()
            },
            filters: vec!["a/+/c".into(), "x".into()],
        }),
        Packet::Unsuback(Unsuback {
            packet_id: 8,
            properties: pr(C::Unsuback),
            reason_codes: if v5 { vec![0, 0x11] } else { vec![] },
        }),
        Packet::Pingreq(Empty {}),
        Packet::Pingresp(Empty {}),
        Packet::Disconnect(Disconnect {
            reason_code: if v5 { 0x04 } else { 0 },
            properties: pr(C::Disconnect),
        }),
    ]
    .into_iter()
    .chain(v5.then(|| {
        Packet::Auth(Auth {
            reason_code: 0x18,
            properties: props_for(C::Auth),
        })
    }))
    .collect()
}

#[test]
fn every_packet_type_round_trips_in_3_1_1() {
    let s = samples(V3_1_1);
    assert_eq!(s.len(), 17);
    for p in s {
        round_trip(p, V3_1_1);
    }
}

#[test]
fn every_packet_type_round_trips_in_5_0() {
    let s = samples(V5);
    assert_eq!(s.len(), 18);
    for p in s {
        round_trip(p, V5);
    }
}

#[test]
fn v5_short_forms_round_trip() {
    for p in [
        Packet::Disconnect(Disconnect::default()),
        Packet::Disconnect(Disconnect {
            reason_code: 0x8e,
            ..Default::default()
        }),
        Packet::Auth(Auth::default()),
        Packet::Puback(Ack {
            packet_id: 1,
            ..Default::default()
        }),
        Packet::Pubrec(Ack {
            packet_id: 1,
            reason_code: 0x10,
            ..Default::default()
        }),
    ] {
        round_trip(p, V5);
    }
}

#[test]
fn known_bytes() {
    // 3.1.1 CONNECT, clean session, keep alive 60, client id "a".
    let connect = hex("10 0d 0004 4d515454 04 02 003c 0001 61");
    let d = decode_all_ways(&connect, V3_1_1).unwrap();
    assert_eq!(
        d.packet,
        Packet::Connect(Connect {
            protocol_level: 4,
            client_id: "a".into(),
            ..Default::default()
        })
    );
    // The level in a CONNECT decides its layout, whatever the caller says.
    let v5connect = hex("10 0e 0004 4d515454 05 02 003c 00 0001 61");
    match decode(&v5connect, V3_1_1).unwrap().packet {
        Packet::Connect(c) => assert_eq!((c.protocol_level, c.client_id.as_str()), (5, "a")),
        other => panic!("{other}"),
    }
    let publish = hex("32 0b 0003 612f62 0003 6869 ff00");
    let d = decode_all_ways(&publish, V3_1_1).unwrap();
    assert_eq!(
        d.packet.to_string(),
        r#"PUBLISH qos=1 id=3 topic="a/b" payload=hex:6869ff00 (4 bytes)"#
    );
}

#[test]
fn valid_short_forms() {
    let cases: &[(&str, Packet)] = &[
        ("e0 00", Packet::Disconnect(Disconnect::default())),
        (
            "e0 01 8e",
            Packet::Disconnect(Disconnect {
                reason_code: 0x8e,
                ..Default::default()
            }),
        ),
        ("e0 02 00 00", Packet::Disconnect(Disconnect::default())),
        ("f0 00", Packet::Auth(Auth::default())),
        (
            "f0 02 18 00",
            Packet::Auth(Auth {
                reason_code: 0x18,
                ..Default::default()
            }),
        ),
        (
            "40 02 00 05",
            Packet::Puback(Ack {
                packet_id: 5,
                ..Default::default()
            }),
        ),
        (
            "40 03 00 05 10",
            Packet::Puback(Ack {
                packet_id: 5,
                reason_code: 0x10,
                ..Default::default()
            }),
        ),
        (
            "40 04 00 05 00 00",
            Packet::Puback(Ack {
                packet_id: 5,
                ..Default::default()
            }),
        ),
        (
            "50 03 00 05 80",
            Packet::Pubrec(Ack {
                packet_id: 5,
                reason_code: 0x80,
                ..Default::default()
            }),
        ),
        (
            "62 02 00 05",
            Packet::Pubrel(Ack {
                packet_id: 5,
                ..Default::default()
            }),
        ),
        (
            "62 03 00 05 92",
            Packet::Pubrel(Ack {
                packet_id: 5,
                reason_code: 0x92,
                ..Default::default()
            }),
        ),
        (
            "70 02 00 05",
            Packet::Pubcomp(Ack {
                packet_id: 5,
                ..Default::default()
            }),
        ),
        (
            "70 03 00 05 92",
            Packet::Pubcomp(Ack {
                packet_id: 5,
                reason_code: 0x92,
                ..Default::default()
            }),
        ),
    ];
    for (h, want) in cases {
        let d = decode_all_ways(&hex(h), V5).unwrap_or_else(|e| panic!("{h}: {e}"));
        assert_eq!(&d.packet, want, "{h}");
    }
    // 3.1.1 forms of the same packets.
    assert_eq!(
        decode_all_ways(&hex("e0 00"), V3_1_1).unwrap().packet,
        Packet::Disconnect(Disconnect::default())
    );
    assert_eq!(
        decode_all_ways(&hex("40 02 00 05"), V3_1_1).unwrap().packet,
        Packet::Puback(Ack {
            packet_id: 5,
            ..Default::default()
        })
    );
}

#[test]
fn encoder_picks_the_shortest_ack_form() {
    let p = Packet::Puback(Ack {
        packet_id: 5,
        ..Default::default()
    });
    assert_eq!(enc(&p, V5), hex("40 02 00 05"));
    let p = Packet::Puback(Ack {
        packet_id: 5,
        reason_code: 0x10,
        ..Default::default()
    });
    assert_eq!(enc(&p, V5), hex("40 03 00 05 10"));
    assert_eq!(
        enc(&Packet::Disconnect(Disconnect::default()), V5),
        hex("e0 00")
    );
    assert_eq!(enc(&Packet::Auth(Auth::default()), V5), hex("f0 00"));
}
