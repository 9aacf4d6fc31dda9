//! Decoding throughput of a realistic 3.1.1 stream, against other Rust MQTT
//! codecs and against a plain copy of the same bytes (the physical limit).
//!
//! The stream: 1,000,000 QoS 1 PUBLISH (32-byte topic, 64-byte payload,
//! packet identifiers cycling 1..=65535), a PUBACK after every 10th and a
//! SUBSCRIBE after every 100th; built once, outside the timer. Every decoder
//! decodes every packet; results go through `black_box`, and each decoder's
//! packet count is checked once before timing. Throughput is per packet.
//!
//! Run: cargo bench --bench codec -- --warm-up-time 1 --measurement-time 5

use bytes::BytesMut;
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, SamplingMode, Throughput};
use mqttspec::codec::{self, DecodeOptions, Framer, Packet, ProtocolVersion, Sender};
use std::hint::black_box;

const PUBLISHES: usize = 1_000_000;
const TOPIC_LEN: usize = 32;
const PAYLOAD_LEN: usize = 64;
/// Large enough for any packet in the stream; the limit itself is not what
/// is measured.
const MAX_PACKET: usize = 1 << 20;

struct Stream {
    bytes: Vec<u8>,
    packets: usize,
    publishes: usize,
}

/// Cycles 1..=65535 (zero is not a valid packet identifier).
fn packet_id(i: usize) -> u16 {
    (i % 65_535) as u16 + 1
}

/// Encodes the stream by hand, so every decoder sees the same bytes and the
/// input does not depend on the encoder under test.
fn build_stream() -> Stream {
    let mut bytes = Vec::with_capacity(PUBLISHES * 106);
    let mut packets = 0;
    let mut subscribes = 0;
    for i in 0..PUBLISHES {
        let mut topic = format!("bench/{i:010}/");
        while topic.len() < TOPIC_LEN {
            topic.push(char::from(b'a' + (topic.len() % 26) as u8));
        }
        let pid = packet_id(i);
        // PUBLISH, QoS 1: Remaining Length = 2 + topic + 2 + payload = 100.
        bytes.push(0x32);
        bytes.push((2 + TOPIC_LEN + 2 + PAYLOAD_LEN) as u8);
        bytes.extend_from_slice(&(TOPIC_LEN as u16).to_be_bytes());
        bytes.extend_from_slice(topic.as_bytes());
        bytes.extend_from_slice(&pid.to_be_bytes());
        bytes.extend((0..PAYLOAD_LEN).map(|j| (i + j) as u8));
        packets += 1;
        if (i + 1) % 10 == 0 {
            bytes.extend_from_slice(&[0x40, 0x02]);
            bytes.extend_from_slice(&pid.to_be_bytes());
            packets += 1;
        }
        if (i + 1) % 100 == 0 {
            let filter = format!("bench/{:04}/+/#", subscribes % 10_000);
            bytes.push(0x82);
            bytes.push((2 + 2 + filter.len() + 1) as u8);
            bytes.extend_from_slice(&packet_id(subscribes).to_be_bytes());
            bytes.extend_from_slice(&(filter.len() as u16).to_be_bytes());
            bytes.extend_from_slice(filter.as_bytes());
            bytes.push(0x01);
            subscribes += 1;
            packets += 1;
        }
    }
    Stream {
        bytes,
        packets,
        publishes: PUBLISHES,
    }
}

/// mqttspec: frame each packet, then decode it with the strict decoder as a
/// server reads a client's stream: every check, including the ones that
/// depend on the sender (`decode_bytes_with` also keeps the payload a slice
/// of the frame instead of copying it). Returns the buffer so its release is
/// not timed.
fn decode_mqttspec(mut buf: BytesMut, mut on_packet: impl FnMut(&Packet)) -> BytesMut {
    let mut framer = Framer::new(MAX_PACKET);
    let opts = DecodeOptions {
        sender: Some(Sender::Client),
    };
    while let Some(frame) = framer.next_frame(&mut buf).expect("mqttspec framing") {
        let decoded = codec::decode_bytes_with(frame, ProtocolVersion::V3_1_1, &opts)
            .expect("mqttspec decode");
        on_packet(&decoded.packet);
        black_box(decoded);
    }
    assert!(buf.is_empty(), "mqttspec left bytes unframed");
    buf
}

/// rumqttc's v4 codec reads one packet off the front of a `BytesMut`.
fn decode_rumqttc(mut buf: BytesMut, mut on_packet: impl FnMut(&rumqttc::Packet)) -> BytesMut {
    while !buf.is_empty() {
        let packet = rumqttc::Packet::read(&mut buf, MAX_PACKET).expect("rumqttc decode");
        on_packet(&packet);
        black_box(packet);
    }
    buf
}

/// mqttrs decodes in place from a slice but does not say how long the
/// packet was, so the caller reads the fixed header to step to the next one.
fn decode_mqttrs(bytes: &[u8], mut on_packet: impl FnMut(&mqttrs::Packet<'_>)) {
    let mut pos = 0;
    while pos < bytes.len() {
        let rest = &bytes[pos..];
        let packet = mqttrs::decode_slice(rest)
            .expect("mqttrs decode")
            .expect("mqttrs: whole packet");
        on_packet(&packet);
        black_box(packet);
        pos += frame_len(rest);
    }
}

/// Fixed header length + Remaining Length.
fn frame_len(bytes: &[u8]) -> usize {
    let mut len = 0usize;
    for (i, &b) in bytes[1..].iter().take(4).enumerate() {
        len |= ((b & 0x7f) as usize) << (7 * i);
        if b & 0x80 == 0 {
            return 1 + (i + 1) + len;
        }
    }
    panic!("bad Remaining Length");
}

/// Each decoder must see every packet, and the right kinds of packets.
fn verify(stream: &Stream) {
    let (mut n, mut publishes) = (0, 0);
    drop(decode_mqttspec(BytesMut::from(&stream.bytes[..]), |p| {
        n += 1;
        publishes += usize::from(
            matches!(p, Packet::Publish(p) if p.qos == 1 && p.payload.len() == PAYLOAD_LEN),
        );
    }));
    assert_eq!(
        (n, publishes),
        (stream.packets, stream.publishes),
        "mqttspec"
    );

    let (mut n, mut publishes) = (0, 0);
    drop(decode_rumqttc(BytesMut::from(&stream.bytes[..]), |p| {
        n += 1;
        publishes +=
            usize::from(matches!(p, rumqttc::Packet::Publish(p) if p.payload.len() == PAYLOAD_LEN));
    }));
    assert_eq!(
        (n, publishes),
        (stream.packets, stream.publishes),
        "rumqttc"
    );

    let (mut n, mut publishes) = (0, 0);
    decode_mqttrs(&stream.bytes, |p| {
        n += 1;
        publishes +=
            usize::from(matches!(p, mqttrs::Packet::Publish(p) if p.payload.len() == PAYLOAD_LEN));
    });
    assert_eq!((n, publishes), (stream.packets, stream.publishes), "mqttrs");
}

fn decode(c: &mut Criterion) {
    let stream = build_stream();
    verify(&stream);

    let mut group = c.benchmark_group("decode");
    group.throughput(Throughput::Elements(stream.packets as u64));
    // One iteration is a whole ~100 MB stream: a few dozen are plenty.
    group.sampling_mode(SamplingMode::Flat);
    group.sample_size(10);

    group.bench_function("mqttspec", |b| {
        b.iter_batched(
            || BytesMut::from(&stream.bytes[..]),
            |buf| decode_mqttspec(buf, |_| {}),
            BatchSize::PerIteration,
        )
    });
    group.bench_function("mqttrs", |b| {
        b.iter(|| decode_mqttrs(black_box(&stream.bytes), |_| {}))
    });
    group.bench_function("rumqttc", |b| {
        b.iter_batched(
            || BytesMut::from(&stream.bytes[..]),
            |buf| decode_rumqttc(buf, |_| {}),
            BatchSize::PerIteration,
        )
    });
    let mut dst = vec![0u8; stream.bytes.len()];
    group.bench_function("memcpy", |b| {
        b.iter(|| {
            dst.copy_from_slice(black_box(&stream.bytes));
            black_box(&mut dst);
        })
    });
    group.finish();
}

criterion_group!(benches, decode);
criterion_main!(benches);
