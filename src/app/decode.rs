//! `mqttspec decode`: explain a capture of packets given in hex.

use super::{hex, Exit};
use crate::cli::DecodeArgs;
use crate::codec::{inspect, ProtocolVersion};
use std::io::Write;

/// Prints each packet (or the error with its offset, field and statement);
/// 0 when all are well-formed, 1 when any is not, 2 when the input is not hex.
pub fn decode(args: &DecodeArgs) -> Exit {
    let bytes = match hex::parse_args(&args.hex, &mut std::io::stdin().lock()) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("mqttspec: {e}");
            return Exit::Usage;
        }
    };
    let version = args.protocol.unwrap_or(ProtocolVersion::V3_1_1);
    let entries = inspect::decode_stream(&bytes, version);
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(inspect::render(&entries).as_bytes());
    if inspect::all_well_formed(&entries) {
        Exit::Ok
    } else {
        Exit::Failed
    }
}
