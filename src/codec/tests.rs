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
        buf.extend_from_slice(&bytes[split..]);
        if let Ok(None) = frame {
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

use ErrorKind::{Incomplete, Malformed, ProtocolError, UnsupportedVersion};

/// (hex, version, sender, kind, statement, what it shows)
type Bad = (
    &'static str,
    ProtocolVersion,
    Option<Sender>,
    ErrorKind,
    Option<&'static str>,
    &'static str,
);

const CLIENT: Option<Sender> = Some(Sender::Client);
const SERVER: Option<Sender> = Some(Sender::Server);

#[rustfmt::skip]
const MALFORMED: &[Bad] = &[
    // Fixed header and framing.
    ("00 00", V3_1_1, None, Malformed, None, "packet type 0 is reserved"),
    ("f0 00", V3_1_1, None, Malformed, None, "packet type 15 is reserved in 3.1.1"),
    ("c1 00", V3_1_1, None, Malformed, Some("MQTT-2.2.2-1"), "PINGREQ flags"),
    ("c1 00", V5, None, Malformed, Some("MQTT-2.1.3-1"), "PINGREQ flags"),
    ("21 02 00 00", V3_1_1, None, Malformed, Some("MQTT-2.2.2-1"), "CONNACK flags"),
    ("60 02 00 01", V3_1_1, None, Malformed, Some("MQTT-3.6.1-1"), "PUBREL flags 0000"),
    ("64 02 00 01", V5, None, Malformed, Some("MQTT-3.6.1-1"), "PUBREL flags 0100"),
    ("80 06 00 01 00 01 61 00", V3_1_1, None, Malformed, Some("MQTT-3.8.1-1"), "SUBSCRIBE flags"),
    ("a0 05 00 01 00 01 61", V5, None, Malformed, Some("MQTT-3.10.1-1"), "UNSUBSCRIBE flags"),
    ("e1 00", V3_1_1, None, Malformed, Some("MQTT-3.14.1-1"), "DISCONNECT flags"),
    ("f1 00", V5, None, Malformed, Some("MQTT-3.15.1-1"), "AUTH flags"),
    ("c0 80 00", V5, None, Malformed, Some("MQTT-1.5.5-1"), "non-minimal Remaining Length in 5.0"),
    ("c0 ff ff ff ff 01", V5, None, Malformed, None, "five-byte Remaining Length"),
    ("c0 01 00", V3_1_1, None, Malformed, None, "PINGREQ with a body"),
    ("c0 00 c0", V3_1_1, None, Malformed, None, "bytes after the packet"),
    ("30 05 00 03 61", V3_1_1, None, Incomplete, None, "body shorter than the Remaining Length"),
    ("30", V3_1_1, None, Incomplete, None, "no Remaining Length yet"),
    ("", V3_1_1, None, Incomplete, None, "nothing at all"),
    // CONNECT.
    ("10 0d 00 04 4d515454 04 03 003c 0001 61", V3_1_1, None, Malformed, Some("MQTT-3.1.2-3"), "reserved connect flag"),
    ("10 0e 00 04 4d515454 05 03 003c 00 0001 61", V5, None, Malformed, Some("MQTT-3.1.2-3"), "reserved connect flag"),
    ("10 0d 00 04 4d515454 04 0a 003c 0001 61", V3_1_1, None, Malformed, Some("MQTT-3.1.2-13"), "Will QoS without Will"),
    ("10 0e 00 04 4d515454 05 0a 003c 00 0001 61", V5, None, Malformed, Some("MQTT-3.1.2-11"), "Will QoS without Will"),
    ("10 0d 00 04 4d515454 04 22 003c 0001 61", V3_1_1, None, Malformed, Some("MQTT-3.1.2-15"), "Will Retain without Will"),
    ("10 0e 00 04 4d515454 05 22 003c 00 0001 61", V5, None, Malformed, Some("MQTT-3.1.2-13"), "Will Retain without Will"),
    ("10 0d 00 04 4d515454 04 1e 003c 0001 61", V3_1_1, None, Malformed, Some("MQTT-3.1.2-14"), "Will QoS 3"),
    ("10 0e 00 04 4d515454 05 1e 003c 00 0001 61", V5, None, Malformed, Some("MQTT-3.1.2-12"), "Will QoS 3"),
    ("10 0f 00 04 4d515454 04 42 003c 0001 61 0000", V3_1_1, None, Malformed, Some("MQTT-3.1.2-22"), "password without user name"),
    ("10 0d 00 04 4d515454 04 82 003c 0001 61", V3_1_1, None, Malformed, Some("MQTT-3.1.2-19"), "user name flag, no user name"),
    ("10 0e 00 04 4d515454 05 82 003c 00 0001 61", V5, None, Malformed, Some("MQTT-3.1.2-17"), "user name flag, no user name"),
    ("10 11 00 04 4d515454 05 c2 003c 00 0001 61 0001 75", V5, None, Malformed, Some("MQTT-3.1.2-19"), "password flag, no password"),
    ("10 10 00 04 4d515454 04 02 003c 0001 61 0001 62", V3_1_1, None, Malformed, Some("MQTT-3.1.2-18"), "user name without its flag"),
    ("10 11 00 04 4d515454 05 02 003c 00 0001 61 0001 62", V5, None, Malformed, Some("MQTT-3.1.2-16"), "user name without its flag"),
    ("10 0c 00 04 4d515454 04 00 003c 0000", V3_1_1, None, ProtocolError, Some("MQTT-3.1.3-7"), "empty ClientId without CleanSession"),
    ("10 0f 00 06 4d5149736470 03 02 003c 0001 61", V3_1_1, None, UnsupportedVersion, Some("MQTT-3.1.2-2"), "MQTT 3.1 CONNECT"),
    ("10 0d 00 04 4d515454 06 02 003c 0001 61", V5, None, UnsupportedVersion, Some("MQTT-3.1.2-2"), "unknown level"),
    ("10 0d 00 04 4d515458 04 02 003c 0001 61", V3_1_1, None, UnsupportedVersion, Some("MQTT-3.1.2-1"), "protocol name MQTX"),
    ("10 0d 00 04 4d515454 04 02 003c 0001 00", V3_1_1, None, Malformed, Some("MQTT-1.5.3-2"), "U+0000 in ClientId"),
    ("10 14 00 04 4d515454 04 06 003c 0001 61 0003 612f23 0000", V3_1_1, None, ProtocolError, Some("MQTT-4.7.1-1"), "wildcard in Will Topic"),
    ("10 16 00 04 4d515454 05 06 003c 00 0001 61 00 0003 612f2b 0000", V5, None, ProtocolError, Some("MQTT-4.7.0-1"), "wildcard in Will Topic"),
    // 5.0 properties.
    ("10 11 00 04 4d515454 05 02 003c 03 230001 0001 61", V5, None, Malformed, None, "Topic Alias not allowed in CONNECT"),
    ("10 18 00 04 4d515454 05 02 003c 0a 1100000001 1100000002 0001 61", V5, None, ProtocolError, None, "Session Expiry Interval twice"),
    ("10 0f 00 04 4d515454 05 02 003c 8000 0001 61", V5, None, Malformed, Some("MQTT-1.5.5-1"), "non-minimal Property Length"),
    ("10 0f 00 04 4d515454 05 02 003c 01 7f 0001 61", V5, None, Malformed, None, "unknown property"),
    ("10 0e 00 04 4d515454 05 02 003c 20 0001 61", V5, None, Malformed, None, "Property Length past the end"),
    ("10 10 00 04 4d515454 05 02 003c 02 2100 0001 61", V5, None, Malformed, None, "property value cut by the Property Length"),
    ("10 11 00 04 4d515454 05 02 003c 03 210000 0001 61", V5, None, ProtocolError, None, "Receive Maximum 0"),
    ("10 10 00 04 4d515454 05 02 003c 02 1702 0001 61", V5, None, ProtocolError, None, "Request Problem Information 2"),
    ("10 12 00 04 4d515454 05 02 003c 04 16 0001 78 0001 61", V5, None, ProtocolError, None, "Authentication Data without Method"),
    // PUBLISH.
    ("36 07 00 03 612f62 0001", V3_1_1, None, Malformed, Some("MQTT-3.3.1-4"), "QoS 3"),
    ("36 08 00 03 612f62 0001 00", V5, None, Malformed, Some("MQTT-3.3.1-4"), "QoS 3"),
    ("38 05 00 03 612f62", V3_1_1, None, ProtocolError, Some("MQTT-3.3.1-2"), "DUP on QoS 0"),
    ("30 05 00 03 612f2b", V3_1_1, None, ProtocolError, Some("MQTT-3.3.2-2"), "wildcard in Topic Name"),
    ("30 06 00 03 23 2f 62 00", V5, None, ProtocolError, Some("MQTT-3.3.2-2"), "wildcard in Topic Name"),
    ("30 05 00 03 610062", V3_1_1, None, Malformed, Some("MQTT-1.5.3-2"), "U+0000 in Topic Name"),
    ("30 06 00 03 610062 00", V5, None, Malformed, Some("MQTT-1.5.4-2"), "U+0000 in Topic Name"),
    ("30 05 00 03 61ff62", V3_1_1, None, Malformed, Some("MQTT-1.5.3-1"), "byte 0xFF in Topic Name"),
    ("30 05 00 03 eda080", V3_1_1, None, Malformed, Some("MQTT-1.5.3-1"), "surrogate U+D800 in Topic Name"),
    ("30 06 00 03 eda080 00", V5, None, Malformed, Some("MQTT-1.5.4-1"), "surrogate U+D800 in Topic Name"),
    ("30 06 00 03 c0af61 00", V5, None, Malformed, Some("MQTT-1.5.4-1"), "overlong '/' in Topic Name"),
    ("30 04 00 03 6162", V3_1_1, None, Malformed, None, "string longer than the packet"),
    ("32 07 00 03 612f62 0000", V3_1_1, None, ProtocolError, Some("MQTT-2.3.1-1"), "packet identifier 0"),
    ("32 08 00 03 612f62 0000 00", V5, None, ProtocolError, None, "packet identifier 0, sender unknown"),
    ("32 08 00 03 612f62 0000 00", V5, CLIENT, ProtocolError, Some("MQTT-2.2.1-3"), "packet identifier 0 from a Client"),
    ("32 08 00 03 612f62 0000 00", V5, SERVER, ProtocolError, Some("MQTT-2.2.1-4"), "packet identifier 0 from a Server"),
    ("32 05 00 03 612f62", V3_1_1, None, Malformed, None, "QoS 1 without packet identifier"),
    ("30 02 00 00", V3_1_1, None, ProtocolError, Some("MQTT-4.7.3-1"), "empty Topic Name"),
    ("30 03 00 00 00", V5, None, ProtocolError, None, "empty Topic Name without Topic Alias"),
    ("30 06 00 00 03 230000", V5, None, ProtocolError, Some("MQTT-3.3.2-8"), "Topic Alias 0"),
    ("30 06 00 01 61 02 0b01", V5, CLIENT, ProtocolError, Some("MQTT-3.3.4-6"), "Subscription Identifier from a Client"),
    ("30 06 00 01 61 02 0b00", V5, None, ProtocolError, None, "Subscription Identifier 0"),
    ("30 08 00 01 61 04 0b 80 80 00", V5, None, Malformed, Some("MQTT-1.5.5-1"), "non-minimal Subscription Identifier"),
    ("30 09 00 01 61 05 08 0002 612b", V5, None, ProtocolError, Some("MQTT-3.3.2-14"), "wildcard in Response Topic"),
    ("30 06 00 01 61 02 1100", V5, None, Malformed, None, "Session Expiry Interval not allowed in PUBLISH (and cut)"),
    ("30 0a 00 01 61 06 11 00000001 00", V5, None, Malformed, None, "Session Expiry Interval not allowed in PUBLISH"),
    // Acknowledgements.
    ("40 02 00 00", V3_1_1, None, ProtocolError, Some("MQTT-2.3.1-6"), "PUBACK packet identifier 0"),
    ("70 02 00 00", V5, None, ProtocolError, Some("MQTT-2.2.1-5"), "PUBCOMP packet identifier 0"),
    ("40 03 00 01 00", V3_1_1, None, Malformed, None, "3.1.1 PUBACK with a reason code"),
    ("40 01 00", V5, None, Malformed, None, "PUBACK cut inside the packet identifier"),
    ("40 03 00 01 92", V5, None, ProtocolError, Some("MQTT-3.4.2-1"), "PUBACK with a PUBREL reason code"),
    ("50 03 00 01 01", V5, None, ProtocolError, Some("MQTT-3.5.2-1"), "PUBREC reason code 0x01"),
    ("62 03 00 01 10", V5, None, ProtocolError, Some("MQTT-3.6.2-1"), "PUBREL reason code 0x10"),
    ("70 03 00 01 80", V5, None, ProtocolError, Some("MQTT-3.7.2-1"), "PUBCOMP reason code 0x80"),
    ("40 05 00 01 00 03 00", V5, None, Malformed, None, "Property Length past the end of PUBACK"),
    ("40 07 00 01 00 03 23 0001", V5, None, Malformed, None, "Topic Alias not allowed in PUBACK"),
    // CONNACK.
    ("20 02 01 05", V3_1_1, None, ProtocolError, Some("MQTT-3.2.2-4"), "Session Present with an error code"),
    ("20 03 01 87 00", V5, None, ProtocolError, Some("MQTT-3.2.2-6"), "Session Present with an error code"),
    ("20 03 02 00 00", V5, None, Malformed, Some("MQTT-3.2.2-1"), "reserved acknowledge flags"),
    ("20 02 02 00", V3_1_1, None, Malformed, None, "reserved acknowledge flags"),
    ("20 02 00 06", V3_1_1, None, ProtocolError, None, "reserved return code"),
    ("20 03 00 04 00", V5, None, ProtocolError, Some("MQTT-3.2.2-8"), "DISCONNECT-only reason code"),
    ("20 02 00 00", V5, None, Malformed, None, "5.0 CONNACK without Property Length"),
    ("20 03 00 00 00", V3_1_1, None, Malformed, None, "3.1.1 CONNACK with an extra byte"),
    ("20 05 00 00 02 2402", V5, None, ProtocolError, None, "Maximum QoS 2"),
    // SUBSCRIBE / SUBACK.
    ("82 02 00 01", V3_1_1, None, ProtocolError, Some("MQTT-3.8.3-3"), "SUBSCRIBE without filters"),
    ("82 03 00 01 00", V5, None, ProtocolError, Some("MQTT-3.8.3-2"), "SUBSCRIBE without filters"),
    ("82 06 00 00 0001 61 00", V3_1_1, None, ProtocolError, Some("MQTT-2.3.1-1"), "SUBSCRIBE packet identifier 0"),
    ("82 07 00 00 00 0001 61 00", V5, None, ProtocolError, Some("MQTT-2.2.1-3"), "SUBSCRIBE packet identifier 0"),
    ("82 06 00 01 0001 61 04", V3_1_1, None, Malformed, Some("MQTT-3.8.3-4"), "reserved subscription option bits"),
    ("82 06 00 01 0001 61 03", V3_1_1, None, Malformed, Some("MQTT-3.8.3-4"), "requested QoS 3"),
    ("82 07 00 01 00 0001 61 40", V5, None, Malformed, Some("MQTT-3.8.3-5"), "reserved subscription option bits"),
    ("82 07 00 01 00 0001 61 03", V5, None, ProtocolError, None, "requested QoS 3"),
    ("82 07 00 01 00 0001 61 30", V5, None, ProtocolError, None, "Retain Handling 3"),
    ("82 10 00 01 00 000a 2473686172652f672f61 04", V5, None, ProtocolError, Some("MQTT-3.8.3-4"), "No Local on a shared subscription"),
    ("82 07 00 01 0002 6123 00", V3_1_1, None, ProtocolError, Some("MQTT-4.7.1-2"), "'#' not alone in its level"),
    ("82 08 00 01 00 0002 6123 00", V5, None, ProtocolError, Some("MQTT-4.7.1-1"), "'#' not alone in its level"),
    ("82 09 00 01 0004 612f2b62 00", V3_1_1, None, ProtocolError, Some("MQTT-4.7.1-3"), "'+' not alone in its level"),
    ("82 0a 00 01 00 0004 612f2b62 00", V5, None, ProtocolError, Some("MQTT-4.7.1-2"), "'+' not alone in its level"),
    ("82 05 00 01 0000 00", V3_1_1, None, ProtocolError, Some("MQTT-4.7.3-1"), "empty Topic Filter"),
    ("82 0d 00 01 00 0007 2473686172652f 00", V5, None, ProtocolError, Some("MQTT-4.8.2-2"), "'$share/' with nothing after"),
    ("82 0b 00 01 04 0b01 0b02 0001 61 00", V5, None, ProtocolError, None, "two Subscription Identifiers in SUBSCRIBE"),
    ("82 05 00 01 0001 61", V3_1_1, None, Malformed, None, "filter without options byte"),
    ("90 03 00 01 03", V3_1_1, None, ProtocolError, Some("MQTT-3.9.3-2"), "SUBACK return code 3"),
    ("90 04 00 01 00 11", V5, None, ProtocolError, Some("MQTT-3.9.3-2"), "SUBACK reason code 0x11"),
    ("90 02 00 01", V3_1_1, None, ProtocolError, Some("MQTT-3.8.4-5"), "SUBACK without return codes"),
    ("90 03 00 01 00", V5, None, ProtocolError, Some("MQTT-3.8.4-6"), "SUBACK without reason codes"),
    ("90 03 00 00 00", V3_1_1, None, ProtocolError, Some("MQTT-2.3.1-7"), "SUBACK packet identifier 0"),
    // UNSUBSCRIBE / UNSUBACK.
    ("a2 02 00 01", V3_1_1, None, ProtocolError, Some("MQTT-3.10.3-2"), "UNSUBSCRIBE without filters"),
    ("a2 03 00 01 00", V5, None, ProtocolError, Some("MQTT-3.10.3-2"), "UNSUBSCRIBE without filters"),
    ("a2 05 00 01 0001 00", V3_1_1, None, Malformed, Some("MQTT-1.5.3-2"), "U+0000 in a Topic Filter"),
    ("b0 03 00 01 00", V3_1_1, None, Malformed, None, "3.1.1 UNSUBACK with a code"),
    ("b0 04 00 01 00 10", V5, None, ProtocolError, Some("MQTT-3.11.3-2"), "UNSUBACK reason code 0x10"),
    ("b0 04 00 00 00 00", V5, None, ProtocolError, Some("MQTT-2.2.1-6"), "UNSUBACK packet identifier 0"),
    // DISCONNECT / AUTH.
    ("e0 01 00", V3_1_1, None, Malformed, None, "3.1.1 DISCONNECT with a body"),
    ("e0 01 05", V5, None, ProtocolError, Some("MQTT-3.14.2-1"), "DISCONNECT reason code 0x05"),
    ("e0 07 00 05 11 00000001", V5, SERVER, ProtocolError, Some("MQTT-3.14.2-2"), "Session Expiry Interval from a Server"),
    ("e0 02 00 05", V5, None, Malformed, None, "Property Length past the end"),
    ("f0 02 80 00", V5, None, ProtocolError, Some("MQTT-3.15.2-1"), "AUTH reason code 0x80"),
    ("f0 05 18 03 21 0001", V5, None, Malformed, None, "Receive Maximum not allowed in AUTH"),
    // Sender.
    ("20 02 00 00", V3_1_1, CLIENT, ProtocolError, None, "CONNACK from a Client"),
    ("c0 00", V3_1_1, SERVER, ProtocolError, None, "PINGREQ from a Server"),
    ("e0 00", V3_1_1, SERVER, ProtocolError, None, "DISCONNECT from a 3.1.1 Server"),
];

fn catalog(v: ProtocolVersion) -> String {
    let path = format!(
        "{}/cases/spec/mqtt-{}.yaml",
        env!("CARGO_MANIFEST_DIR"),
        v.as_str()
    );
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[test]
fn malformed_packets_give_the_exact_error() {
    let cat311 = catalog(V3_1_1);
    let cat5 = catalog(V5);
    for &(h, v, sender, kind, statement, what) in MALFORMED {
        let bytes = hex(h);
        let opts = DecodeOptions { sender };
        let got = decode_with(&bytes, v, &opts);
        let e = match got {
            Ok(d) => panic!("{what} ({h}, {v}) decoded as {}", d.packet),
            Err(e) => e,
        };
        assert_eq!(
            (e.kind, e.statement),
            (kind, statement),
            "{what} ({h}, {v}): {e}"
        );
        assert!(
            e.offset <= bytes.len(),
            "{what}: offset {} past the input",
            e.offset
        );
        if let Some(id) = statement {
            let cat = if v.is_v5() { &cat5 } else { &cat311 };
            assert!(
                cat.contains(&format!("- id: {id}\n")),
                "{id} is not a {v} statement"
            );
        }
        if sender.is_none() {
            // Framed at every split, the same error (or the same wait).
            let whole = decode_all_ways(&bytes, v).unwrap_err();
            assert_eq!(whole, e);
        }
    }
}

#[test]
fn should_level_observations_are_notes() {
    // U+0001 and U+FFFF in a topic: decoded, with one note each.
    let d = decode_all_ways(&hex("30 08 00 06 61 01 62 efbfbf"), V3_1_1).unwrap();
    let msgs: Vec<_> = d.notes.iter().map(|n| (n.offset, n.field)).collect();
    assert_eq!(msgs, [(5, "topic name"), (7, "topic name")]);
    // U+0085 (a C1 control) in a 5.0 user property.
    let d = decode_all_ways(&hex("30 0c 00 01 61 08 26 0001 6b 0002 c285"), V5).unwrap();
    assert_eq!(d.notes.len(), 1, "{:?}", d.notes);
    // A BOM is kept, not stripped, and is no reason for a note.
    let d = decode_all_ways(&hex("30 06 00 04 efbbbf 61"), V3_1_1).unwrap();
    match d.packet {
        Packet::Publish(p) => assert_eq!(p.topic, "\u{feff}a"),
        other => panic!("{other}"),
    }
    assert!(d.notes.is_empty());
    // Non-minimal Remaining Length: a note in 3.1.1 (no statement forbids it).
    let d = decode_all_ways(&hex("c0 80 00"), V3_1_1).unwrap();
    assert_eq!(d.notes.len(), 1);
    // A 3.1.1 server's refusal of a 5.0 CONNECT reads as what it is.
    let d = decode_all_ways(&hex("20 02 00 01"), V5).unwrap();
    assert_eq!(
        d.packet,
        Packet::Connack(Connack {
            reason_code: 1,
            ..Default::default()
        })
    );
    assert_eq!(d.notes.len(), 1);
    // The encoder writes such a model back the same way (and vice versa).
    assert_eq!(enc(&d.packet, V5), hex("20 02 00 01"));
    let d = decode_all_ways(&hex("20 03 00 84 00"), V3_1_1).unwrap();
    assert_eq!(
        d.packet,
        Packet::Connack(Connack {
            reason_code: 0x84,
            ..Default::default()
        })
    );
    assert_eq!(enc(&d.packet, V3_1_1), hex("20 03 00 84 00"));
    // Payload Format Indicator 1 with a non-UTF-8 payload: forwarded as is.
    let d = decode_all_ways(&hex("30 07 00 01 61 02 0101 ff"), V5).unwrap();
    assert_eq!(d.notes[0].field, "payload");
}

#[test]
fn what_the_spec_allows_decodes() {
    let ok: &[(&str, ProtocolVersion, Option<Sender>)] = &[
        // Topic Alias with an empty Topic Name.
        ("30 06 00 00 03 230001", V5, None),
        // Subscription Identifiers (several) in a Server's PUBLISH.
        ("30 08 00 01 61 04 0b01 0b02", V5, Some(Sender::Server)),
        // Session Expiry Interval in a Client's DISCONNECT.
        ("e0 07 00 05 11 00000001", V5, Some(Sender::Client)),
        // Password without User Name is allowed in 5.0.
        ("10 10 00 04 4d515454 05 42 003c 00 0001 61 0000", V5, None),
        // Empty ClientId with Clean Start 0 is the server's call in 5.0.
        ("10 0d 00 04 4d515454 05 00 003c 00 0000", V5, None),
        // Several User Properties with the same key.
        (
            "e0 10 00 0e 26 0001 61 0001 62 26 0001 61 0001 62",
            V5,
            None,
        ),
        // A shared subscription with No Local 0.
        ("82 10 00 01 00 000a 2473686172652f672f61 00", V5, None),
        // "$share/..." is an ordinary filter in 3.1.1.
        ("82 0f 00 01 000a 2473686172652f672f61 00", V3_1_1, None),
        // QoS 0 PUBLISH with an empty payload; DUP on QoS 1.
        ("30 03 00 01 61", V3_1_1, None),
        ("3a 05 00 01 61 0001", V3_1_1, None),
        // AUTH with a reason code but no Property Length (noted).
        ("f0 01 18", V5, None),
        // A server refusing the client's version in its own version's form.
        ("20 02 00 01", V5, None),
        ("20 03 00 84 00", V3_1_1, None),
        // UNSUBSCRIBE with wildcard filters.
        ("a2 08 00 01 0001 23 0001 2b", V3_1_1, None),
    ];
    for &(h, v, sender) in ok {
        let bytes = hex(h);
        decode_with(&bytes, v, &DecodeOptions { sender })
            .unwrap_or_else(|e| panic!("{h} ({v}): {e}"));
        if sender.is_none() {
            decode_all_ways(&bytes, v).unwrap();
        }
    }
}

fn enc_with(p: &Packet, v: ProtocolVersion, ov: &Overrides) -> Vec<u8> {
    let mut b = BytesMut::new();
    encode_with(p, v, ov, &mut b).unwrap_or_else(|e| panic!("encode {p}: {e}"));
    b.to_vec()
}

fn ping() -> Packet {
    Packet::Pingreq(Empty {})
}

fn publish_ab() -> Packet {
    Packet::Publish(Publish {
        topic: "a/b".into(),
        ..Default::default()
    })
}

#[test]
fn every_override_changes_exactly_its_part() {
    let ov = |f: &dyn Fn(&mut Overrides)| {
        let mut o = Overrides::default();
        f(&mut o);
        o
    };
    let puback = Packet::Puback(Ack {
        packet_id: 1,
        ..Default::default()
    });
    let cases: Vec<(Packet, ProtocolVersion, Overrides, &str)> = vec![
        (
            puback.clone(),
            V3_1_1,
            ov(&|o| o.packet_type = Some(0)),
            "00 02 0001",
        ),
        (
            Packet::Pubrel(Ack {
                packet_id: 1,
                ..Default::default()
            }),
            V3_1_1,
            ov(&|o| o.flags = Some(0)),
            "60 02 0001",
        ),
        (
            ping(),
            V3_1_1,
            ov(&|o| o.remaining_length = Some(10)),
            "c0 0a",
        ),
        (
            ping(),
            V3_1_1,
            ov(&|o| o.remaining_length = Some(200)),
            "c0 c8 01",
        ),
        (
            ping(),
            V5,
            ov(&|o| o.remaining_length_bytes = Some(Binary::from(vec![0x80, 0x00]))),
            "c0 80 00",
        ),
        (
            ping(),
            V5,
            ov(&|o| {
                o.remaining_length = Some(3);
                o.remaining_length_bytes = Some(Binary::from(vec![0xff, 0xff, 0xff, 0xff, 0x7f]));
            }),
            "c0 ff ff ff ff 7f",
        ),
        (
            Packet::Connect(Connect {
                client_id: "a".into(),
                ..Default::default()
            }),
            V3_1_1,
            ov(&|o| o.connect_flags = Some(0x03)),
            "10 0d 0004 4d515454 04 03 003c 0001 61",
        ),
        (
            Packet::Connect(Connect {
                client_id: "a".into(),
                ..Default::default()
            }),
            V3_1_1,
            ov(&|o| o.string_length = Some(5)),
            "10 0d 0005 4d515454 04 02 003c 0001 61",
        ),
        (
            publish_ab(),
            V3_1_1,
            ov(&|o| o.string_length = Some(0xffff)),
            "30 05 ffff 612f62",
        ),
        (
            publish_ab(),
            V5,
            ov(&|o| o.extra_properties = Some(Binary::from(vec![0x23, 0, 1]))),
            "30 09 0003 612f62 03 230001",
        ),
        (
            publish_ab(),
            V5,
            ov(&|o| o.property_length = Some(100)),
            "30 06 0003 612f62 64",
        ),
        (
            ping(),
            V3_1_1,
            ov(&|o| o.trailing = Some(Binary::from(vec![0]))),
            "c0 01 00",
        ),
        (
            ping(),
            V3_1_1,
            ov(&|o| {
                o.trailing = Some(Binary::from(vec![0]));
                o.remaining_length = Some(0);
            }),
            "c0 00 00",
        ),
        (
            publish_ab(),
            V3_1_1,
            ov(&|o| o.truncate_body = Some(2)),
            "30 02 0003",
        ),
        (
            publish_ab(),
            V3_1_1,
            ov(&|o| {
                o.truncate_body = Some(2);
                o.trailing = Some(Binary::from("x"));
            }),
            "30 03 0003 78",
        ),
        // A property override makes a 5.0 acknowledgement use its full form.
        (
            puback.clone(),
            V5,
            ov(&|o| o.extra_properties = Some(Binary::from(vec![0x1f, 0, 0]))),
            "40 07 0001 00 03 1f0000",
        ),
        (
            Packet::Disconnect(Disconnect::default()),
            V5,
            ov(&|o| o.property_length = Some(0)),
            "e0 02 00 00",
        ),
        (
            Packet::Subscribe(Subscribe {
                packet_id: Some(1),
                filters: vec![Subscription {
                    filter: "a".into(),
                    ..Default::default()
                }],
                ..Default::default()
            }),
            V3_1_1,
            ov(&|o| o.string_length = Some(2)),
            "82 06 0001 0002 61 00",
        ),
    ];
    for (p, v, o, want) in cases {
        assert_eq!(
            binary::to_hex(&enc_with(&p, v, &o)),
            binary::to_hex(&hex(want)),
            "{p} with {o:?}"
        );
    }
}

#[test]
fn overrides_that_cannot_apply_are_refused() {
    let bad = |p: Packet, v: ProtocolVersion, o: Overrides| {
        let mut b = BytesMut::new();
        assert!(encode_with(&p, v, &o, &mut b).is_err(), "{p} with {o:?}");
    };
    bad(
        publish_ab(),
        V5,
        Overrides {
            connect_flags: Some(0),
            ..Default::default()
        },
    );
    bad(
        ping(),
        V5,
        Overrides {
            string_length: Some(1),
            ..Default::default()
        },
    );
    bad(
        publish_ab(),
        V3_1_1,
        Overrides {
            extra_properties: Some(Binary::from("x")),
            ..Default::default()
        },
    );
    bad(
        ping(),
        V5,
        Overrides {
            property_length: Some(1),
            ..Default::default()
        },
    );
    bad(
        ping(),
        V5,
        Overrides {
            packet_type: Some(16),
            ..Default::default()
        },
    );
    bad(
        ping(),
        V5,
        Overrides {
            flags: Some(16),
            ..Default::default()
        },
    );
    // Fields that have no wire form at all.
    let p = Packet::Publish(Publish {
        qos: 1,
        topic: "t".into(),
        ..Default::default()
    });
    bad(p, V5, Overrides::default());
    bad(
        Packet::Subscribe(Subscribe::default()),
        V5,
        Overrides::default(),
    );
    let p = Packet::Publish(Publish {
        topic: "x".repeat(70_000),
        ..Default::default()
    });
    bad(p, V3_1_1, Overrides::default());
}

#[test]
fn encoder_writes_invalid_models_for_negative_tests() {
    // Each is written as asked, and the decoder names the broken rule.
    let cases: Vec<(Packet, ProtocolVersion, Option<&str>)> = vec![
        (
            Packet::Publish(Publish {
                topic: "a/#".into(),
                ..Default::default()
            }),
            V3_1_1,
            Some("MQTT-3.3.2-2"),
        ),
        (
            Packet::Publish(Publish {
                qos: 3,
                packet_id: Some(1),
                topic: "a".into(),
                ..Default::default()
            }),
            V3_1_1,
            Some("MQTT-3.3.1-4"),
        ),
        (
            Packet::Publish(Publish {
                dup: true,
                topic: "a".into(),
                ..Default::default()
            }),
            V5,
            Some("MQTT-3.3.1-2"),
        ),
        (
            Packet::Publish(Publish {
                qos: 1,
                packet_id: Some(0),
                topic: "a".into(),
                ..Default::default()
            }),
            V3_1_1,
            Some("MQTT-2.3.1-1"),
        ),
        (
            Packet::Subscribe(Subscribe {
                packet_id: Some(1),
                ..Default::default()
            }),
            V5,
            Some("MQTT-3.8.3-2"),
        ),
        (
            Packet::Connect(Connect {
                password: Some("p".into()),
                client_id: "c".into(),
                ..Default::default()
            }),
            V3_1_1,
            Some("MQTT-3.1.2-22"),
        ),
        (
            Packet::Publish(Publish {
                topic: "a".into(),
                properties: Properties {
                    session_expiry_interval: Some(1),
                    ..Default::default()
                },
                ..Default::default()
            }),
            V5,
            None,
        ),
    ];
    for (p, v, statement) in cases {
        let bytes = enc(&p, v);
        let e = decode(&bytes, v).expect_err(&p.to_string());
        assert_eq!(e.statement, statement, "{p}: {e}");
    }
    // A packet identifier on a QoS 0 PUBLISH is written [MQTT-2.3.1-5]; the
    // receiver then reads it as the start of the payload.
    let p = Packet::Publish(Publish {
        topic: "a".into(),
        packet_id: Some(0x4142),
        ..Default::default()
    });
    assert_eq!(enc(&p, V3_1_1), hex("30 05 0001 61 4142"));
}

#[test]
fn overrides_deserialize_from_yaml() {
    let o: Overrides = serde_saphyr::from_str(
        "flags: 3\nremaining_length_bytes: {hex: \"80 80 80 80 01\"}\ntrailing: \"xy\"\n",
    )
    .unwrap();
    assert_eq!(o.flags, Some(3));
    assert_eq!(
        o.remaining_length_bytes.unwrap().as_slice(),
        &[0x80, 0x80, 0x80, 0x80, 0x01]
    );
    assert_eq!(o.trailing.unwrap().as_slice(), b"xy");
}

/// Rough timing of the hot path (best of several rounds, so a busy machine
/// disturbs it less); run with
/// `cargo test --release --lib codec::tests::timing -- --ignored --nocapture`.
#[test]
#[ignore]
fn timing() {
    use std::hint::black_box;
    use std::time::Instant;
    fn best(mut f: impl FnMut()) -> f64 {
        let n = 200_000;
        (0..10)
            .map(|_| {
                let t = Instant::now();
                for _ in 0..n {
                    f();
                }
                t.elapsed().as_nanos() as f64 / n as f64
            })
            .fold(f64::MAX, f64::min)
    }
    let p = Packet::Publish(Publish {
        qos: 1,
        packet_id: Some(10),
        topic: "sensors/building-1/floor-2".into(),
        payload: Binary::from(vec![0x5a; 100 - 2 - 2 - 2 - 26]),
        ..Default::default()
    });
    for v in [V3_1_1, V5] {
        let bytes = enc(&p, v);
        let frozen = bytes::Bytes::from(bytes.clone());
        let slice = best(|| {
            let _ = black_box(decode(black_box(&bytes), v));
        });
        let zero = best(|| {
            let _ = black_box(decode_bytes(black_box(frozen.clone()), v));
        });
        let mut out = BytesMut::with_capacity(256);
        let e = best(|| {
            out.clear();
            let _ = encode(black_box(&p), v, &mut out);
            black_box(&out);
        });
        // What the owned model costs at least: the topic String and a copy
        // of the payload.
        let floor = best(|| {
            black_box(String::from(black_box("sensors/building-1/floor-2")));
            black_box(bytes::Bytes::copy_from_slice(black_box(&bytes[32..])));
        });
        println!(
            "{v}: {}-byte QoS 1 PUBLISH: decode {slice:.1} ns, decode_bytes {zero:.1} ns, \
             encode {e:.1} ns (String + payload copy alone: {floor:.1} ns)",
            bytes.len(),
        );
    }
}

#[test]
fn property_table_matches_the_model() {
    use properties::{property_info, PropertyContext as C, PROPERTY_TABLE};
    // One table row per Properties field, under the field's own name.
    let mut all = Properties::default();
    for info in PROPERTY_TABLE {
        let mut p = Properties::default();
        arbitrary_value(&mut p, info.id);
        let mut ids = Vec::new();
        p.for_each(|id, _| ids.push(id));
        assert_eq!(ids, [info.id], "{}", info.name);
        let yaml = serde_json::to_value(&p).unwrap();
        let keys: Vec<_> = yaml.as_object().unwrap().keys().cloned().collect();
        assert_eq!(keys, [info.name.to_owned()]);
        arbitrary_value(&mut all, info.id);
    }
    assert_eq!(
        serde_json::to_value(&all)
            .unwrap()
            .as_object()
            .unwrap()
            .len(),
        PROPERTY_TABLE.len()
    );
    assert_eq!(PROPERTY_TABLE.len(), 27);
    // Spot checks against 5.0 §2.2.2.2.
    let allowed = |id: u8, c: C| property_info(id).unwrap().allowed_in(c);
    assert!(allowed(0x26, C::Auth) && allowed(0x26, C::Will) && allowed(0x26, C::Pubrel));
    assert!(allowed(0x18, C::Will) && !allowed(0x18, C::Connect));
    assert!(allowed(0x11, C::Disconnect) && !allowed(0x11, C::Publish));
    assert!(allowed(0x1f, C::Auth) && !allowed(0x1f, C::Connect) && !allowed(0x1f, C::Publish));
    assert!(allowed(0x0b, C::Subscribe) && !allowed(0x0b, C::Unsubscribe));
    assert!(
        properties::may_repeat(0x0b, C::Publish) && !properties::may_repeat(0x0b, C::Subscribe)
    );
    assert!(property_info(0x00).is_none() && property_info(0x2b).is_none());
}

/// Sets the property `id` to some valid value.
fn arbitrary_value(p: &mut Properties, id: u8) {
    use properties::id::*;
    match id {
        PAYLOAD_FORMAT_INDICATOR => p.payload_format_indicator = Some(1),
        MESSAGE_EXPIRY_INTERVAL => p.message_expiry_interval = Some(1),
        CONTENT_TYPE => p.content_type = Some("c".into()),
        RESPONSE_TOPIC => p.response_topic = Some("r".into()),
        CORRELATION_DATA => p.correlation_data = Some("d".into()),
        SUBSCRIPTION_IDENTIFIER => p.subscription_identifiers = vec![1],
        SESSION_EXPIRY_INTERVAL => p.session_expiry_interval = Some(1),
        ASSIGNED_CLIENT_IDENTIFIER => p.assigned_client_identifier = Some("a".into()),
        SERVER_KEEP_ALIVE => p.server_keep_alive = Some(1),
        AUTHENTICATION_METHOD => p.authentication_method = Some("m".into()),
        AUTHENTICATION_DATA => p.authentication_data = Some("d".into()),
        REQUEST_PROBLEM_INFORMATION => p.request_problem_information = Some(1),
        WILL_DELAY_INTERVAL => p.will_delay_interval = Some(1),
        REQUEST_RESPONSE_INFORMATION => p.request_response_information = Some(1),
        RESPONSE_INFORMATION => p.response_information = Some("i".into()),
        SERVER_REFERENCE => p.server_reference = Some("s".into()),
        REASON_STRING => p.reason_string = Some("r".into()),
        RECEIVE_MAXIMUM => p.receive_maximum = Some(1),
        TOPIC_ALIAS_MAXIMUM => p.topic_alias_maximum = Some(1),
        TOPIC_ALIAS => p.topic_alias = Some(1),
        MAXIMUM_QOS => p.maximum_qos = Some(1),
        RETAIN_AVAILABLE => p.retain_available = Some(1),
        USER_PROPERTY => p.user_properties = vec![("k".into(), "v".into())],
        MAXIMUM_PACKET_SIZE => p.maximum_packet_size = Some(1),
        WILDCARD_SUBSCRIPTION_AVAILABLE => p.wildcard_subscription_available = Some(1),
        SUBSCRIPTION_IDENTIFIER_AVAILABLE => p.subscription_identifier_available = Some(1),
        SHARED_SUBSCRIPTION_AVAILABLE => p.shared_subscription_available = Some(1),
        other => panic!("no test value for property 0x{other:02X}"),
    }
}

#[test]
fn every_statement_id_in_the_codec_exists() {
    // Each ID named anywhere in the codec is in at least one catalog (the
    // tables above check the version too).
    let cats = catalog(V3_1_1) + &catalog(V5);
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/src/codec");
    let mut files = vec![];
    for d in [dir.to_owned(), format!("{dir}/packet")] {
        for e in std::fs::read_dir(d).unwrap() {
            let p = e.unwrap().path();
            if p.extension().is_some_and(|x| x == "rs") {
                files.push(p);
            }
        }
    }
    let mut seen = 0;
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        for (i, _) in text.match_indices("\"MQTT-") {
            let id: String = text[i + 1..].chars().take_while(|c| *c != '"').collect();
            if !id[5..].starts_with(|c: char| c.is_ascii_digit()) {
                continue;
            }
            assert!(
                cats.contains(&format!("- id: {id}\n")),
                "{id} in {}",
                f.display()
            );
            seen += 1;
        }
    }
    assert!(seen > 50, "only {seen} IDs found");
}

#[test]
fn encode_appends_and_leaves_out_alone_on_failure() {
    let mut out = BytesMut::from(&b"xy"[..]);
    encode(&publish_ab(), V3_1_1, &mut out).unwrap();
    encode(&ping(), V5, &mut out).unwrap();
    assert_eq!(out.as_ref(), &hex("7879 3005 0003612f62 c000")[..]);
    let before = out.clone();
    let bad = Packet::Publish(Publish {
        qos: 1,
        topic: "t".into(),
        ..Default::default()
    });
    assert!(encode(&bad, V5, &mut out).is_err());
    let long = Packet::Publish(Publish {
        topic: "t".into(),
        payload: Binary::from(vec![0; 70_000]),
        ..Default::default()
    });
    let mut props_too_long = long.clone();
    if let Packet::Publish(p) = &mut props_too_long {
        p.properties.user_properties = vec![("k".into(), "x".repeat(70_000))];
    }
    assert!(encode(&props_too_long, V5, &mut out).is_err());
    assert_eq!(out, before);
    // Bodies of every length class get the right header.
    for n in [0usize, 127, 128, 16_383, 16_384, 70_000] {
        let mut out = BytesMut::from(&b"z"[..]);
        let p = Packet::Publish(Publish {
            topic: "t".into(),
            payload: Binary::from(vec![7; n]),
            ..Default::default()
        });
        encode(&p, V3_1_1, &mut out).unwrap();
        assert_eq!(decode(&out[1..], V3_1_1).unwrap().packet, p, "payload {n}");
    }
    // A claimed length above the 4-byte maximum is written in five bytes.
    let mut out = BytesMut::new();
    encode_with(
        &ping(),
        V5,
        &Overrides {
            remaining_length: Some(u32::MAX),
            ..Default::default()
        },
        &mut out,
    )
    .unwrap();
    assert_eq!(out.as_ref(), &hex("c0 ff ff ff ff 0f")[..]);
}
