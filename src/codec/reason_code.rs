//! Reason codes (5.0 §2.4) and 3.1.1 return codes, with the packets each
//! one may appear in.
//!
//! [`ReasonCode`] is an open newtype: any byte can be held and printed, and
//! the named constants cover every code the spec defines.

use crate::codec::error::{DecodeError, ErrorKind};
use crate::codec::primitives::Reader;
use crate::codec::properties::PropertyContext;
use crate::codec::ProtocolVersion;
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ReasonCode(pub u8);

impl ReasonCode {
    pub const SUCCESS: ReasonCode = ReasonCode(0x00);
    pub const NORMAL_DISCONNECTION: ReasonCode = ReasonCode(0x00);
    pub const GRANTED_QOS_0: ReasonCode = ReasonCode(0x00);
    pub const GRANTED_QOS_1: ReasonCode = ReasonCode(0x01);
    pub const GRANTED_QOS_2: ReasonCode = ReasonCode(0x02);
    pub const DISCONNECT_WITH_WILL_MESSAGE: ReasonCode = ReasonCode(0x04);
    pub const NO_MATCHING_SUBSCRIBERS: ReasonCode = ReasonCode(0x10);
    pub const NO_SUBSCRIPTION_EXISTED: ReasonCode = ReasonCode(0x11);
    pub const CONTINUE_AUTHENTICATION: ReasonCode = ReasonCode(0x18);
    pub const RE_AUTHENTICATE: ReasonCode = ReasonCode(0x19);
    pub const UNSPECIFIED_ERROR: ReasonCode = ReasonCode(0x80);
    pub const MALFORMED_PACKET: ReasonCode = ReasonCode(0x81);
    pub const PROTOCOL_ERROR: ReasonCode = ReasonCode(0x82);
    pub const IMPLEMENTATION_SPECIFIC_ERROR: ReasonCode = ReasonCode(0x83);
    pub const UNSUPPORTED_PROTOCOL_VERSION: ReasonCode = ReasonCode(0x84);
    pub const CLIENT_IDENTIFIER_NOT_VALID: ReasonCode = ReasonCode(0x85);
    pub const BAD_USER_NAME_OR_PASSWORD: ReasonCode = ReasonCode(0x86);
    pub const NOT_AUTHORIZED: ReasonCode = ReasonCode(0x87);
    pub const SERVER_UNAVAILABLE: ReasonCode = ReasonCode(0x88);
    pub const SERVER_BUSY: ReasonCode = ReasonCode(0x89);
    pub const BANNED: ReasonCode = ReasonCode(0x8A);
    pub const SERVER_SHUTTING_DOWN: ReasonCode = ReasonCode(0x8B);
    pub const BAD_AUTHENTICATION_METHOD: ReasonCode = ReasonCode(0x8C);
    pub const KEEP_ALIVE_TIMEOUT: ReasonCode = ReasonCode(0x8D);
    pub const SESSION_TAKEN_OVER: ReasonCode = ReasonCode(0x8E);
    pub const TOPIC_FILTER_INVALID: ReasonCode = ReasonCode(0x8F);
    pub const TOPIC_NAME_INVALID: ReasonCode = ReasonCode(0x90);
    pub const PACKET_IDENTIFIER_IN_USE: ReasonCode = ReasonCode(0x91);
    pub const PACKET_IDENTIFIER_NOT_FOUND: ReasonCode = ReasonCode(0x92);
    pub const RECEIVE_MAXIMUM_EXCEEDED: ReasonCode = ReasonCode(0x93);
    pub const TOPIC_ALIAS_INVALID: ReasonCode = ReasonCode(0x94);
    pub const PACKET_TOO_LARGE: ReasonCode = ReasonCode(0x95);
    pub const MESSAGE_RATE_TOO_HIGH: ReasonCode = ReasonCode(0x96);
    pub const QUOTA_EXCEEDED: ReasonCode = ReasonCode(0x97);
    pub const ADMINISTRATIVE_ACTION: ReasonCode = ReasonCode(0x98);
    pub const PAYLOAD_FORMAT_INVALID: ReasonCode = ReasonCode(0x99);
    pub const RETAIN_NOT_SUPPORTED: ReasonCode = ReasonCode(0x9A);
    pub const QOS_NOT_SUPPORTED: ReasonCode = ReasonCode(0x9B);
    pub const USE_ANOTHER_SERVER: ReasonCode = ReasonCode(0x9C);
    pub const SERVER_MOVED: ReasonCode = ReasonCode(0x9D);
    pub const SHARED_SUBSCRIPTIONS_NOT_SUPPORTED: ReasonCode = ReasonCode(0x9E);
    pub const CONNECTION_RATE_EXCEEDED: ReasonCode = ReasonCode(0x9F);
    pub const MAXIMUM_CONNECT_TIME: ReasonCode = ReasonCode(0xA0);
    pub const SUBSCRIPTION_IDENTIFIERS_NOT_SUPPORTED: ReasonCode = ReasonCode(0xA1);
    pub const WILDCARD_SUBSCRIPTIONS_NOT_SUPPORTED: ReasonCode = ReasonCode(0xA2);

    /// Whether the code signals failure (0x80 and above).
    pub fn is_error(self) -> bool {
        self.0 >= 0x80
    }
}

impl fmt::Display for ReasonCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "0x{:02X}", self.0)
    }
}

use PropertyContext as P;

/// 5.0 packets that carry a reason code, as bits of [`PropertyContext`].
const CONNACK: u16 = 1 << (P::Connack as u16);
const PUBACK: u16 = 1 << (P::Puback as u16);
const PUBREC: u16 = 1 << (P::Pubrec as u16);
const PUBREL: u16 = 1 << (P::Pubrel as u16);
const PUBCOMP: u16 = 1 << (P::Pubcomp as u16);
const SUBACK: u16 = 1 << (P::Suback as u16);
const UNSUBACK: u16 = 1 << (P::Unsuback as u16);
const DISCONNECT: u16 = 1 << (P::Disconnect as u16);
const AUTH: u16 = 1 << (P::Auth as u16);

/// One row of the 5.0 reason code table: code, name, packets allowed.
/// Code 0 has a different name per packet; see [`name`].
pub const REASON_CODES: &[(u8, &str, u16)] = &[
    (
        0x00,
        "Success",
        CONNACK | PUBACK | PUBREC | PUBREL | PUBCOMP | SUBACK | UNSUBACK | DISCONNECT | AUTH,
    ),
    (0x01, "Granted QoS 1", SUBACK),
    (0x02, "Granted QoS 2", SUBACK),
    (0x04, "Disconnect with Will Message", DISCONNECT),
    (0x10, "No matching subscribers", PUBACK | PUBREC),
    (0x11, "No subscription existed", UNSUBACK),
    (0x18, "Continue authentication", AUTH),
    (0x19, "Re-authenticate", AUTH),
    (
        0x80,
        "Unspecified error",
        CONNACK | PUBACK | PUBREC | SUBACK | UNSUBACK | DISCONNECT,
    ),
    (0x81, "Malformed Packet", CONNACK | DISCONNECT),
    (0x82, "Protocol Error", CONNACK | DISCONNECT),
    (
        0x83,
        "Implementation specific error",
        CONNACK | PUBACK | PUBREC | SUBACK | UNSUBACK | DISCONNECT,
    ),
    (0x84, "Unsupported Protocol Version", CONNACK),
    (0x85, "Client Identifier not valid", CONNACK),
    (0x86, "Bad User Name or Password", CONNACK),
    (
        0x87,
        "Not authorized",
        CONNACK | PUBACK | PUBREC | SUBACK | UNSUBACK | DISCONNECT,
    ),
    (0x88, "Server unavailable", CONNACK),
    (0x89, "Server busy", CONNACK | DISCONNECT),
    (0x8A, "Banned", CONNACK),
    (0x8B, "Server shutting down", DISCONNECT),
    (0x8C, "Bad authentication method", CONNACK | DISCONNECT),
    (0x8D, "Keep Alive timeout", DISCONNECT),
    (0x8E, "Session taken over", DISCONNECT),
    (0x8F, "Topic Filter invalid", SUBACK | UNSUBACK | DISCONNECT),
    (
        0x90,
        "Topic Name invalid",
        CONNACK | PUBACK | PUBREC | DISCONNECT,
    ),
    (
        0x91,
        "Packet Identifier in use",
        PUBACK | PUBREC | SUBACK | UNSUBACK,
    ),
    (0x92, "Packet Identifier not found", PUBREL | PUBCOMP),
    (0x93, "Receive Maximum exceeded", DISCONNECT),
    (0x94, "Topic Alias invalid", DISCONNECT),
    (0x95, "Packet too large", CONNACK | DISCONNECT),
    (0x96, "Message rate too high", DISCONNECT),
    (
        0x97,
        "Quota exceeded",
        CONNACK | PUBACK | PUBREC | SUBACK | DISCONNECT,
    ),
    (0x98, "Administrative action", DISCONNECT),
    (
        0x99,
        "Payload format invalid",
        CONNACK | PUBACK | PUBREC | DISCONNECT,
    ),
    (0x9A, "Retain not supported", CONNACK | DISCONNECT),
    (0x9B, "QoS not supported", CONNACK | DISCONNECT),
    (0x9C, "Use another server", CONNACK | DISCONNECT),
    (0x9D, "Server moved", CONNACK | DISCONNECT),
    (
        0x9E,
        "Shared Subscriptions not supported",
        SUBACK | DISCONNECT,
    ),
    (0x9F, "Connection rate exceeded", CONNACK | DISCONNECT),
    (0xA0, "Maximum connect time", DISCONNECT),
    (
        0xA1,
        "Subscription Identifiers not supported",
        SUBACK | DISCONNECT,
    ),
    (
        0xA2,
        "Wildcard Subscriptions not supported",
        SUBACK | DISCONNECT,
    ),
];

/// 3.1.1 CONNACK return codes (Table 3.1); 6..=255 are reserved.
pub const CONNACK_RETURN_CODES_V311: &[(u8, &str)] = &[
    (0x00, "Connection Accepted"),
    (0x01, "unacceptable protocol version"),
    (0x02, "identifier rejected"),
    (0x03, "Server unavailable"),
    (0x04, "bad user name or password"),
    (0x05, "not authorized"),
];

/// 3.1.1 SUBACK return codes [MQTT-3.9.3-2].
pub const SUBACK_RETURN_CODES_V311: &[(u8, &str)] = &[
    (0x00, "Success - Maximum QoS 0"),
    (0x01, "Success - Maximum QoS 1"),
    (0x02, "Success - Maximum QoS 2"),
    (0x80, "Failure"),
];

/// Whether `code` may appear in a 5.0 packet of kind `ctx`.
pub fn allowed_v5(ctx: PropertyContext, code: u8) -> bool {
    let bit = 1u16 << (ctx as u16);
    REASON_CODES
        .iter()
        .any(|&(c, _, mask)| c == code && mask & bit != 0)
}

/// Whether `code` may appear in `ctx` in `version` (3.1.1 has codes only in
/// CONNACK and SUBACK).
pub fn allowed(version: ProtocolVersion, ctx: PropertyContext, code: u8) -> bool {
    if version.is_v5() {
        return allowed_v5(ctx, code);
    }
    match ctx {
        P::Connack => CONNACK_RETURN_CODES_V311.iter().any(|&(c, _)| c == code),
        P::Suback => SUBACK_RETURN_CODES_V311.iter().any(|&(c, _)| c == code),
        _ => false,
    }
}

/// The spec's name for `code` in `ctx`, if it has one there.
pub fn name(version: ProtocolVersion, ctx: PropertyContext, code: u8) -> Option<&'static str> {
    if !version.is_v5() {
        let table = match ctx {
            P::Connack => CONNACK_RETURN_CODES_V311,
            P::Suback => SUBACK_RETURN_CODES_V311,
            _ => return None,
        };
        return table.iter().find(|&&(c, _)| c == code).map(|&(_, n)| n);
    }
    if code == 0 {
        return Some(match ctx {
            P::Disconnect => "Normal disconnection",
            P::Suback => "Granted QoS 0",
            _ => "Success",
        });
    }
    REASON_CODES
        .iter()
        .find(|&&(c, _, _)| c == code)
        .map(|&(_, n, _)| n)
}

/// The statement requiring the sender of `ctx` to use a listed code.
fn statement(version: ProtocolVersion, ctx: PropertyContext) -> Option<&'static str> {
    if !version.is_v5() {
        return match ctx {
            P::Suback => Some("MQTT-3.9.3-2"),
            _ => None,
        };
    }
    Some(match ctx {
        P::Connack => "MQTT-3.2.2-8",
        P::Puback => "MQTT-3.4.2-1",
        P::Pubrec => "MQTT-3.5.2-1",
        P::Pubrel => "MQTT-3.6.2-1",
        P::Pubcomp => "MQTT-3.7.2-1",
        P::Suback => "MQTT-3.9.3-2",
        P::Unsuback => "MQTT-3.11.3-2",
        P::Disconnect => "MQTT-3.14.2-1",
        P::Auth => "MQTT-3.15.2-1",
        _ => return None,
    })
}

/// Rejects a code that `ctx` may not carry (a Protocol Error: the packet is
/// well-formed but the sender used a value the spec does not give it).
pub(crate) fn check(
    r: &Reader<'_, '_>,
    at: usize,
    ctx: PropertyContext,
    code: u8,
) -> Result<(), DecodeError> {
    if allowed(r.version, ctx, code) {
        return Ok(());
    }
    Err(r.err_at(
        at,
        ErrorKind::ProtocolError,
        "reason code",
        statement(r.version, ctx),
        format!(
            "0x{code:02X} is not a {} {} code",
            ctx.name(),
            if r.version.is_v5() {
                "reason"
            } else {
                "return"
            }
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_spot_checks() {
        assert!(allowed_v5(P::Puback, 0x10));
        assert!(!allowed_v5(P::Pubrel, 0x10));
        assert!(allowed_v5(P::Pubrel, 0x92));
        assert!(allowed_v5(P::Disconnect, 0x04));
        assert!(!allowed_v5(P::Connack, 0x04));
        assert!(allowed_v5(P::Auth, 0x19));
        assert!(!allowed_v5(P::Auth, 0x80));
        assert!(!allowed_v5(P::Suback, 0x03));
        assert!(allowed(ProtocolVersion::V3_1_1, P::Connack, 5));
        assert!(!allowed(ProtocolVersion::V3_1_1, P::Connack, 6));
        assert!(!allowed(ProtocolVersion::V3_1_1, P::Suback, 0x81));
        assert_eq!(
            name(ProtocolVersion::V5, P::Disconnect, 0),
            Some("Normal disconnection")
        );
        assert_eq!(
            name(ProtocolVersion::V5, P::Connack, 0x87),
            Some("Not authorized")
        );
    }

    #[test]
    fn codes_are_sorted_and_unique() {
        for w in REASON_CODES.windows(2) {
            assert!(w[0].0 < w[1].0);
        }
    }
}
