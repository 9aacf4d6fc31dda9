//! Topic Name and Topic Filter syntax (§4.7 in both versions, shared
//! subscriptions §4.8.2 in 5.0).

use crate::codec::primitives::sid;
use crate::codec::ProtocolVersion;

/// A syntax problem in a topic: byte index inside the string, statement ID
/// of the version checked, and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicError {
    pub index: usize,
    pub statement: Option<&'static str>,
    pub message: String,
}

fn fail(index: usize, statement: Option<&'static str>, message: &str) -> TopicError {
    TopicError {
        index,
        statement,
        message: message.to_owned(),
    }
}

/// Checks a Topic Name as carried by PUBLISH. An empty name is accepted here
/// because 5.0 allows it with a Topic Alias; the caller decides.
pub fn check_topic_name(name: &str, v: ProtocolVersion) -> Result<(), TopicError> {
    let _ = v;
    match name.bytes().position(|b| b == b'+' || b == b'#') {
        // Both versions number this statement the same.
        Some(i) => Err(fail(
            i,
            Some("MQTT-3.3.2-2"),
            "Topic Name contains a wildcard character",
        )),
        None => Ok(()),
    }
}

/// Checks a Topic Filter (SUBSCRIBE, UNSUBSCRIBE): not empty, `#` alone in
/// the last level, `+` alone in its level; in 5.0 a `$share/` prefix must
/// name a share and be followed by a filter.
pub fn check_topic_filter(filter: &str, v: ProtocolVersion) -> Result<(), TopicError> {
    if filter.is_empty() {
        return Err(fail(0, Some("MQTT-4.7.3-1"), "Topic Filter is empty"));
    }
    let mut base = 0;
    let mut rest = filter;
    if v.is_v5() {
        if let Some(after) = filter.strip_prefix("$share/") {
            base = "$share/".len();
            let Some(slash) = after.find('/') else {
                return Err(fail(
                    base,
                    Some("MQTT-4.8.2-2"),
                    "shared subscription has no '/' after the ShareName",
                ));
            };
            let share = &after[..slash];
            if share.is_empty() {
                return Err(fail(base, Some("MQTT-4.8.2-1"), "ShareName is empty"));
            }
            if let Some(i) = share.find(['+', '#']) {
                return Err(fail(
                    base + i,
                    Some("MQTT-4.8.2-2"),
                    "ShareName contains a wildcard",
                ));
            }
            base += slash + 1;
            rest = &after[slash + 1..];
            if rest.is_empty() {
                return Err(fail(
                    base,
                    Some("MQTT-4.8.2-2"),
                    "shared subscription has no Topic Filter",
                ));
            }
        }
    }
    let multi = sid(v, Some("MQTT-4.7.1-2"), Some("MQTT-4.7.1-1"));
    let single = sid(v, Some("MQTT-4.7.1-3"), Some("MQTT-4.7.1-2"));
    let mut level_start = 0;
    let bytes = rest.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b'/' => level_start = i + 1,
            b'#' if i != level_start || i + 1 != bytes.len() => {
                return Err(fail(
                    base + i,
                    multi,
                    "'#' must be a whole level and the last one",
                ));
            }
            b'+' if i != level_start || !(i + 1 == bytes.len() || bytes[i + 1] == b'/') => {
                return Err(fail(base + i, single, "'+' must occupy a whole level"));
            }
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ProtocolVersion::*;

    #[test]
    fn valid_filters() {
        for f in [
            "#",
            "+",
            "a/#",
            "a/+/b",
            "+/+",
            "/",
            "a//b",
            "/#",
            "sport/tennis/+",
            "$SYS/#",
        ] {
            assert_eq!(check_topic_filter(f, V3_1_1), Ok(()), "{f}");
            assert_eq!(check_topic_filter(f, V5), Ok(()), "{f}");
        }
        assert_eq!(check_topic_filter("$share/g/a/+", V5), Ok(()));
        assert_eq!(check_topic_filter("$share/g/#", V5), Ok(()));
    }

    #[test]
    fn invalid_filters_name_the_version_statement() {
        let e = check_topic_filter("a/b#", V3_1_1).unwrap_err();
        assert_eq!((e.index, e.statement), (3, Some("MQTT-4.7.1-2")));
        let e = check_topic_filter("a/b#", V5).unwrap_err();
        assert_eq!(e.statement, Some("MQTT-4.7.1-1"));
        let e = check_topic_filter("a/#/b", V5).unwrap_err();
        assert_eq!(e.statement, Some("MQTT-4.7.1-1"));
        let e = check_topic_filter("a+/b", V3_1_1).unwrap_err();
        assert_eq!((e.index, e.statement), (1, Some("MQTT-4.7.1-3")));
        let e = check_topic_filter("a/+b", V5).unwrap_err();
        assert_eq!(e.statement, Some("MQTT-4.7.1-2"));
        assert_eq!(
            check_topic_filter("", V5).unwrap_err().statement,
            Some("MQTT-4.7.3-1")
        );
        assert_eq!(
            check_topic_filter("$share//a", V5).unwrap_err().statement,
            Some("MQTT-4.8.2-1")
        );
        assert_eq!(
            check_topic_filter("$share/g+/a", V5).unwrap_err().statement,
            Some("MQTT-4.8.2-2")
        );
        assert_eq!(
            check_topic_filter("$share/g", V5).unwrap_err().statement,
            Some("MQTT-4.8.2-2")
        );
        assert_eq!(
            check_topic_filter("$share/g/", V5).unwrap_err().statement,
            Some("MQTT-4.8.2-2")
        );
        // 3.1.1 has no shared subscriptions: an ordinary filter.
        assert_eq!(check_topic_filter("$share/g", V3_1_1), Ok(()));
    }

    #[test]
    fn topic_names() {
        assert!(check_topic_name("a/b", V5).is_ok());
        assert_eq!(check_topic_name("a/+", V3_1_1).unwrap_err().index, 2);
        assert_eq!(
            check_topic_name("#", V5).unwrap_err().statement,
            Some("MQTT-3.3.2-2")
        );
    }
}
