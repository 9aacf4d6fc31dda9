//! Variables of a scenario and their substitution into packet templates and
//! matchers: `{ns}`, `{client_id.NAME}`, profile values and captured values.
//!
//! A string that is exactly `"{name}"` becomes the variable's value with its
//! type (`packet_id: "{pid}"` is a number); inside a longer string the value
//! is written as text. `{{` is a literal `{`. `"{=name}"` is a capture and is
//! left for the matcher.

use serde_json::Value;
use std::collections::hash_map::RandomState;
use std::collections::BTreeMap;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU32, Ordering};

#[derive(Debug, Clone, Default)]
pub struct Vars {
    values: BTreeMap<String, Value>,
}

impl Vars {
    pub fn set(&mut self, name: impl Into<String>, value: Value) {
        self.values.insert(name.into(), value);
    }

    pub fn get(&self, name: &str) -> Option<&Value> {
        self.values.get(name)
    }

    /// `template` with every variable replaced; an unknown variable is an error.
    pub fn substitute(&self, template: &Value) -> Result<Value, String> {
        self.walk(template, true)
    }

    /// Like [`Vars::substitute`], but unknown variables stay as written (for
    /// showing a matcher in a message).
    pub fn substitute_lenient(&self, template: &Value) -> Value {
        self.walk(template, false)
            .unwrap_or_else(|_| template.clone())
    }

    fn walk(&self, v: &Value, strict: bool) -> Result<Value, String> {
        Ok(match v {
            Value::String(s) => self.string(s, strict)?,
            Value::Array(items) => Value::Array(
                items
                    .iter()
                    .map(|i| self.walk(i, strict))
                    .collect::<Result<_, _>>()?,
            ),
            Value::Object(map) => Value::Object(
                map.iter()
                    .map(|(k, i)| Ok((k.clone(), self.walk(i, strict)?)))
                    .collect::<Result<_, String>>()?,
            ),
            other => other.clone(),
        })
    }

    /// One string: whole-string variables keep their type.
    pub fn string(&self, s: &str, strict: bool) -> Result<Value, String> {
        if capture_name(s).is_some() {
            return Ok(Value::String(s.to_string()));
        }
        if let Some(name) = whole_var(s) {
            return match self.values.get(name) {
                Some(v) => Ok(v.clone()),
                None if strict => Err(unknown(name)),
                None => Ok(Value::String(s.to_string())),
            };
        }
        self.interpolate(s, strict).map(Value::String)
    }

    /// Replaces every `{name}` in `s` by the variable's text.
    pub fn interpolate(&self, s: &str, strict: bool) -> Result<String, String> {
        let mut out = String::with_capacity(s.len());
        let mut rest = s;
        while let Some(open) = rest.find('{') {
            out.push_str(&rest[..open]);
            let after = &rest[open + 1..];
            if let Some(stripped) = after.strip_prefix('{') {
                out.push('{');
                rest = stripped;
                continue;
            }
            let Some(close) = after.find('}') else {
                out.push_str(&rest[open..]);
                return Ok(out);
            };
            let name = &after[..close];
            match self.values.get(name) {
                Some(v) => out.push_str(&as_text(v)),
                None if strict => return Err(unknown(name)),
                None => out.push_str(&rest[open..open + close + 2]),
            }
            rest = &after[close + 1..];
        }
        out.push_str(rest);
        Ok(out)
    }
}

fn unknown(name: &str) -> String {
    format!("variable `{{{name}}}` has no value here")
}

/// `"{name}"` with nothing around it (and not a capture or an escape).
fn whole_var(s: &str) -> Option<&str> {
    let inner = s.strip_prefix('{')?.strip_suffix('}')?;
    if inner.is_empty() || inner.contains(['{', '}']) || inner.starts_with('=') {
        return None;
    }
    Some(inner)
}

/// The name in a capture `"{=name}"`.
pub fn capture_name(s: &str) -> Option<&str> {
    let inner = s.strip_prefix("{=")?.strip_suffix('}')?;
    (!inner.is_empty() && !inner.contains(['{', '}'])).then_some(inner)
}

/// A value written into a longer string.
pub fn as_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// Namespaces for the trials of one run: a random prefix for the run and a
/// counter per trial. Every namespace has the same length (9 characters,
/// [a-z0-9]), so `{ns}{name}` client identifiers of different trials never
/// collide and stay within the 23 characters every 3.1.1 server accepts.
pub struct Namespaces {
    prefix: String,
    next: AtomicU32,
}

const BASE36: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
/// Digits of the per-trial counter.
const COUNTER_DIGITS: u32 = 4;

impl Default for Namespaces {
    fn default() -> Self {
        Self::new()
    }
}

impl Namespaces {
    pub fn new() -> Namespaces {
        // RandomState is seeded from the OS per process; the clock separates
        // runs of one process.
        let mut h = RandomState::new().build_hasher();
        if let Ok(d) = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
            h.write_u128(d.as_nanos());
        }
        h.write_u32(std::process::id());
        let mut r = h.finish();
        let mut prefix = String::new();
        // A letter first, then four alphanumerics.
        prefix.push(BASE36[10 + (r % 26) as usize] as char);
        r /= 26;
        for _ in 0..4 {
            prefix.push(BASE36[(r % 36) as usize] as char);
            r /= 36;
        }
        Self::with_prefix(&prefix)
    }

    /// Namespaces under a fixed prefix (for tests).
    pub fn with_prefix(prefix: &str) -> Namespaces {
        Namespaces {
            prefix: prefix.to_string(),
            next: AtomicU32::new(0),
        }
    }

    pub fn next(&self) -> String {
        let mut n = self.next.fetch_add(1, Ordering::Relaxed) % 36u32.pow(COUNTER_DIGITS);
        let mut digits = [b'0'; COUNTER_DIGITS as usize];
        for d in digits.iter_mut().rev() {
            *d = BASE36[(n % 36) as usize];
            n /= 36;
        }
        format!("{}{}", self.prefix, String::from_utf8_lossy(&digits))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn vars() -> Vars {
        let mut v = Vars::default();
        v.set("ns", json!("ab12"));
        v.set("pid", json!(7));
        v.set("client_id.a", json!("ab12a"));
        v
    }

    #[test]
    fn whole_string_keeps_type() {
        let v = vars();
        assert_eq!(
            v.substitute(&json!({"packet_id": "{pid}"})).unwrap(),
            json!({"packet_id": 7})
        );
        assert_eq!(v.substitute(&json!("{ns}")).unwrap(), json!("ab12"));
    }

    #[test]
    fn inside_strings_as_text() {
        let v = vars();
        assert_eq!(
            v.substitute(&json!({"topic": "{ns}/t/{pid}", "c": "x{client_id.a}"}))
                .unwrap(),
            json!({"topic": "ab12/t/7", "c": "xab12a"})
        );
    }

    #[test]
    fn escapes_and_captures() {
        let v = vars();
        assert_eq!(v.substitute(&json!("{{ns}")).unwrap(), json!("{ns}"));
        assert_eq!(v.substitute(&json!("a{{b")).unwrap(), json!("a{b"));
        assert_eq!(v.substitute(&json!("{=x}")).unwrap(), json!("{=x}"));
        assert_eq!(
            v.substitute(&json!("open { only")).unwrap(),
            json!("open { only")
        );
    }

    #[test]
    fn unknown_variable_is_an_error_unless_lenient() {
        let v = vars();
        assert!(v
            .substitute(&json!("{nope}/x"))
            .unwrap_err()
            .contains("{nope}"));
        assert!(v.substitute(&json!("{nope}")).is_err());
        assert_eq!(
            v.substitute_lenient(&json!(["{nope}", "{ns}"])),
            json!(["{nope}", "ab12"])
        );
    }

    #[test]
    fn namespaces_are_short_unique_and_alphanumeric() {
        let n = Namespaces::new();
        let a = n.next();
        let b = n.next();
        assert_ne!(a, b);
        assert_eq!(a.len(), 9);
        assert!(a.bytes().all(|c| c.is_ascii_alphanumeric()));
        assert!(a.as_bytes()[0].is_ascii_alphabetic());
        let fixed = Namespaces::with_prefix("q");
        assert_eq!(fixed.next(), "q0000");
        assert_eq!(fixed.next(), "q0001");
    }
}
