//! Checks shared by the fuzz targets.
//!
//! Every target states one property of the codec (or the loader) that must
//! hold for all inputs; a panic anywhere is a finding.

pub mod model;

use bytes::BytesMut;
use mqttspec::codec::{self, DecodeOptions, Packet, ProtocolVersion, Sender};

/// The version to encode a decoded packet with. A CONNECT is decoded by the
/// protocol level it carries, whatever version the caller passed, so it is
/// re-encoded by that level too.
pub fn encoding_version(packet: &Packet, fallback: ProtocolVersion) -> ProtocolVersion {
    match packet {
        Packet::Connect(c) => match c.protocol_level {
            3 => ProtocolVersion::V3_1,
            4 => ProtocolVersion::V3_1_1,
            5 => ProtocolVersion::V5,
            _ => fallback,
        },
        _ => fallback,
    }
}

/// Encodes `packet`, panicking with the packet if the encoder refuses a value
/// the model allows.
pub fn encode_or_panic(packet: &Packet, version: ProtocolVersion) -> BytesMut {
    let mut out = BytesMut::new();
    if let Err(e) = codec::encode(packet, version, &mut out) {
        panic!("encoding failed: {e}\nversion: {version}\npacket: {packet:#?}");
    }
    out
}

/// Strict decoding of arbitrary bytes must never panic, must point its errors
/// inside the input, and whatever it accepts must survive encode → decode
/// unchanged, with the encoding stable from then on.
pub fn check_decode(data: &[u8], version: ProtocolVersion) {
    let plain = codec::decode(data, version);
    // Knowing the sender only adds rules: whatever passes them passes
    // without them, as the same packet.
    for sender in [Sender::Client, Sender::Server] {
        let opts = DecodeOptions {
            sender: Some(sender),
        };
        if let Ok(d) = codec::decode_with(data, version, &opts) {
            match &plain {
                Ok(p) => assert_eq!(p.packet, d.packet, "{sender:?} view differs"),
                Err(e) => panic!(
                    "accepted from a {sender:?} but rejected without a sender: {e}\ninput: {}",
                    hex(data)
                ),
            }
        }
    }
    let first = match plain {
        Ok(d) => d.packet,
        Err(e) => {
            assert!(
                e.offset <= data.len(),
                "error offset {} beyond the {}-byte input: {e}",
                e.offset,
                data.len()
            );
            return;
        }
    };
    let enc_version = encoding_version(&first, version);
    let bytes = encode_or_panic(&first, enc_version);
    let second = match codec::decode(&bytes, version) {
        Ok(d) => d.packet,
        Err(e) => panic!(
            "re-encoded packet does not decode: {e}\ninput:      {}\nre-encoded: {}\npacket: {first:#?}",
            hex(data),
            hex(&bytes)
        ),
    };
    assert_eq!(
        first,
        second,
        "decode → encode → decode changed the packet\ninput:      {}\nre-encoded: {}",
        hex(data),
        hex(&bytes)
    );
    let again = encode_or_panic(&second, enc_version);
    assert_eq!(
        bytes,
        again,
        "encoding is not stable for {second:#?}\ninput: {}",
        hex(data)
    );
}

/// Lower-case hex with a space between bytes, for assertion messages.
pub fn hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(" ")
}
