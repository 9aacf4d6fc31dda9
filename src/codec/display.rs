//! One-line renderings of packets for transcripts, e.g.
//! `PUBLISH qos=1 id=3 topic="a/b" payload="hi" (2 bytes)`.

use crate::codec::properties::{property_info, PropertyContext, PropertyValue};
use crate::codec::{reason_code, Binary, Packet, Properties, ProtocolVersion};
use std::fmt;

/// Payload bytes shown before eliding the rest.
const PREVIEW: usize = 48;

struct Data<'a>(&'a [u8]);

impl fmt::Display for Data<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = self.0;
        let cut = b.len() > PREVIEW;
        let shown = &b[..b.len().min(PREVIEW)];
        // A cut may split a character; show the valid prefix as text.
        match std::str::from_utf8(shown) {
            Ok(s) => write!(f, "{s:?}")?,
            Err(e) if cut && e.error_len().is_none() => {
                let s = std::str::from_utf8(&shown[..e.valid_up_to()]).unwrap_or_default();
                write!(f, "{s:?}")?
            }
            Err(_) => write!(f, "hex:{}", crate::codec::binary::to_hex(shown))?,
        }
        if cut {
            f.write_str("…")?;
        }
        Ok(())
    }
}

fn data(b: &Binary) -> Data<'_> {
    Data(b.as_slice())
}

/// ` rc=0x87 (Not authorized)`; the name is looked up in 5.0, then 3.1.1,
/// since a packet does not carry its version.
fn code(f: &mut fmt::Formatter<'_>, label: &str, ctx: PropertyContext, c: u8) -> fmt::Result {
    write!(f, " {label}=0x{c:02X}")?;
    let name = [ProtocolVersion::V5, ProtocolVersion::V3_1_1]
        .into_iter()
        .find(|v| reason_code::allowed(*v, ctx, c))
        .and_then(|v| reason_code::name(v, ctx, c));
    if let Some(n) = name {
        write!(f, " ({n})")?;
    }
    Ok(())
}

fn props(f: &mut fmt::Formatter<'_>, p: &Properties) -> fmt::Result {
    if p.is_empty() {
        return Ok(());
    }
    f.write_str(" {")?;
    let mut first = true;
    let mut res = Ok(());
    p.for_each(|id, v| {
        if res.is_err() {
            return;
        }
        let name = property_info(id).map_or("?", |i| i.name);
        let name = match name {
            "user_properties" => "user_property",
            "subscription_identifiers" => "subscription_identifier",
            n => n,
        };
        let sep = if first { "" } else { ", " };
        first = false;
        res = match v {
            PropertyValue::Byte(x) => write!(f, "{sep}{name}={x}"),
            PropertyValue::U16(x) => write!(f, "{sep}{name}={x}"),
            PropertyValue::U32(x) | PropertyValue::Vbi(x) => write!(f, "{sep}{name}={x}"),
            PropertyValue::Str(s) => write!(f, "{sep}{name}={s:?}"),
            PropertyValue::Bin(b) => write!(f, "{sep}{name}={}", Data(b)),
            PropertyValue::Pair(k, v) => write!(f, "{sep}{name}=({k:?}, {v:?})"),
        };
    });
    res?;
    f.write_str("}")
}

impl fmt::Display for Packet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use PropertyContext as C;
        f.write_str(self.packet_type().name())?;
        match self {
            Packet::Connect(c) => {
                write!(f, " {:?}", c.protocol_name)?;
                if c.protocol_level != 0 {
                    write!(f, " level={}", c.protocol_level)?;
                }
                write!(
                    f,
                    " client_id={:?} clean={} keep_alive={}",
                    c.client_id, c.clean_session as u8, c.keep_alive
                )?;
                if let Some(u) = &c.username {
                    write!(f, " username={u:?}")?;
                }
                if let Some(p) = &c.password {
                    write!(f, " password=({} bytes)", p.len())?;
                }
                props(f, &c.properties)?;
                if let Some(w) = &c.will {
                    write!(f, " will(qos={}", w.qos)?;
                    if w.retain {
                        f.write_str(" retain")?;
                    }
                    write!(
                        f,
                        " topic={:?} payload={} ({} bytes)",
                        w.topic,
                        data(&w.payload),
                        w.payload.len()
                    )?;
                    props(f, &w.properties)?;
                    f.write_str(")")?;
                }
            }
            Packet::Connack(c) => {
                write!(f, " session_present={}", c.session_present as u8)?;
                code(f, "rc", C::Connack, c.reason_code)?;
                props(f, &c.properties)?;
            }
            Packet::Publish(p) => {
                write!(f, " qos={}", p.qos)?;
                if p.dup {
                    f.write_str(" dup")?;
                }
                if p.retain {
                    f.write_str(" retain")?;
                }
                if let Some(id) = p.packet_id {
                    write!(f, " id={id}")?;
                }
                write!(
                    f,
                    " topic={:?} payload={} ({} bytes)",
                    p.topic,
                    data(&p.payload),
                    p.payload.len()
                )?;
                props(f, &p.properties)?;
            }
            Packet::Puback(a) | Packet::Pubrec(a) | Packet::Pubrel(a) | Packet::Pubcomp(a) => {
                let ctx = match self {
                    Packet::Puback(_) => C::Puback,
                    Packet::Pubrec(_) => C::Pubrec,
                    Packet::Pubrel(_) => C::Pubrel,
                    _ => C::Pubcomp,
                };
                write!(f, " id={}", a.packet_id)?;
                if a.reason_code != 0 {
                    code(f, "rc", ctx, a.reason_code)?;
                }
                props(f, &a.properties)?;
            }
            Packet::Subscribe(s) => {
                if let Some(id) = s.packet_id {
                    write!(f, " id={id}")?;
                }
                props(f, &s.properties)?;
                f.write_str(" [")?;
                for (i, x) in s.filters.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{:?} qos={}", x.filter, x.qos)?;
                    if x.no_local {
                        f.write_str(" no_local")?;
                    }
                    if x.retain_as_published {
                        f.write_str(" retain_as_published")?;
                    }
                    if x.retain_handling != 0 {
                        write!(f, " retain_handling={}", x.retain_handling)?;
                    }
                }
                f.write_str("]")?;
            }
            Packet::Suback(s) => {
                write!(f, " id={}", s.packet_id)?;
                props(f, &s.properties)?;
                codes(f, &s.reason_codes)?;
            }
            Packet::Unsubscribe(u) => {
                if let Some(id) = u.packet_id {
                    write!(f, " id={id}")?;
                }
                props(f, &u.properties)?;
                write!(f, " {:?}", u.filters)?;
            }
            Packet::Unsuback(u) => {
                write!(f, " id={}", u.packet_id)?;
                props(f, &u.properties)?;
                if !u.reason_codes.is_empty() {
                    codes(f, &u.reason_codes)?;
                }
            }
            Packet::Pingreq(_) | Packet::Pingresp(_) => {}
            Packet::Disconnect(d) => {
                if d.reason_code != 0 {
                    code(f, "rc", C::Disconnect, d.reason_code)?;
                }
                props(f, &d.properties)?;
            }
            Packet::Auth(a) => {
                code(f, "rc", C::Auth, a.reason_code)?;
                props(f, &a.properties)?;
            }
        }
        Ok(())
    }
}

fn codes(f: &mut fmt::Formatter<'_>, c: &[u8]) -> fmt::Result {
    f.write_str(" codes=[")?;
    for (i, x) in c.iter().enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        write!(f, "0x{x:02X}")?;
    }
    f.write_str("]")
}

#[cfg(test)]
mod tests {
    use crate::codec::*;

    #[test]
    fn publish_line() {
        let p = Packet::Publish(Publish {
            qos: 1,
            packet_id: Some(3),
            topic: "a/b".into(),
            payload: "hi".into(),
            ..Default::default()
        });
        assert_eq!(
            p.to_string(),
            r#"PUBLISH qos=1 id=3 topic="a/b" payload="hi" (2 bytes)"#
        );
    }

    #[test]
    fn other_lines() {
        let c = Packet::Connack(Connack {
            reason_code: 0x87,
            ..Default::default()
        });
        assert_eq!(
            c.to_string(),
            "CONNACK session_present=0 rc=0x87 (Not authorized)"
        );
        let c = Packet::Connack(Connack {
            reason_code: 0x05,
            ..Default::default()
        });
        assert_eq!(
            c.to_string(),
            "CONNACK session_present=0 rc=0x05 (not authorized)"
        );
        let d = Packet::Disconnect(Disconnect {
            reason_code: 0x8e,
            properties: Properties {
                reason_string: Some("bye".into()),
                ..Default::default()
            },
        });
        assert_eq!(
            d.to_string(),
            r#"DISCONNECT rc=0x8E (Session taken over) {reason_string="bye"}"#
        );
        let s = Packet::Suback(Suback {
            packet_id: 7,
            reason_codes: vec![0, 0x80],
            ..Default::default()
        });
        assert_eq!(s.to_string(), "SUBACK id=7 codes=[0x00, 0x80]");
        let bin = Packet::Publish(Publish {
            topic: "t".into(),
            payload: Binary::from(vec![0xff, 0x00]),
            ..Default::default()
        });
        assert_eq!(
            bin.to_string(),
            r#"PUBLISH qos=0 topic="t" payload=hex:ff00 (2 bytes)"#
        );
        let long = Packet::Publish(Publish {
            topic: "t".into(),
            payload: Binary::from("x".repeat(100).as_str()),
            ..Default::default()
        });
        let line = long.to_string();
        assert!(
            line.ends_with(&format!("payload=\"{}\"… (100 bytes)", "x".repeat(48))),
            "{line}"
        );
        assert_eq!(Packet::Pingreq(Empty {}).to_string(), "PINGREQ");
    }
}
