//! Strict 3.1.1 decoding of arbitrary bytes: never a panic, and whatever is
//! accepted survives encode → decode unchanged.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mqttspec::codec::ProtocolVersion;

fuzz_target!(|data: &[u8]| {
    mqttspec_fuzz::check_decode(data, ProtocolVersion::V3_1_1);
});
