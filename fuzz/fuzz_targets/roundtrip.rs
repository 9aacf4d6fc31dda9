//! Structure-aware: any valid model packet, encoded, decodes back to itself,
//! frames as exactly one packet, and encodes to the same bytes again.
#![no_main]

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use mqttspec::codec::{self, Framer};
use mqttspec_fuzz::{encode_or_panic, hex, model::Input};

fuzz_target!(|input: Input| {
    let version = input.version();
    let packet = input.packet.build(version);
    let bytes = encode_or_panic(&packet, version);

    let decoded = match codec::decode(&bytes, version) {
        Ok(d) => d.packet,
        Err(e) => panic!(
            "a valid {version} packet was rejected: {e}\nbytes: {}\npacket: {packet:#?}",
            hex(&bytes)
        ),
    };
    assert_eq!(
        packet,
        decoded,
        "round trip changed the packet\nbytes: {}",
        hex(&bytes)
    );
    assert_eq!(
        bytes,
        encode_or_panic(&decoded, version),
        "encoding is not stable"
    );

    let mut buf = BytesMut::from(&bytes[..]);
    let frame = Framer::new(bytes.len())
        .next_frame(&mut buf)
        .unwrap_or_else(|e| {
            panic!(
                "framer rejected a valid packet: {e}\nbytes: {}",
                hex(&bytes)
            )
        });
    assert_eq!(
        frame.as_deref(),
        Some(&bytes[..]),
        "framer cut the packet wrongly"
    );
    assert!(buf.is_empty());
});
