//! What the broker under test supports (`--profile FILE`).
//!
//! In 5.0 most capabilities can be read from the CONNACK; in 3.1.1 there is
//! no such negotiation, so a profile says what the broker offers. Without a
//! profile, every standard feature is assumed and every feature that needs
//! broker configuration (credentials, authorization...) is assumed absent.
//!
//! ```yaml
//! broker: "mosquitto 2.0.18"
//! unsupported: [qos2]                  # or: qos2: false
//! zero_length_client_id: false
//! credentials: {username: test, password: secret}
//! denied_topic: "forbidden/#"
//! auth_method: SCRAM-SHA-1            # 5.0 enhanced authentication (implies enhanced_auth)
//! auth_data: "n,,n=user,r=nonce"      # first Authentication Data, as text
//! ```

use crate::scenario::parse::{string, Fields};
use crate::scenario::yaml::{self, DeError, Kind, Limits, Node};
use crate::scenario::LoadError;
use std::collections::BTreeSet;
use std::path::Path;

/// Features a broker may have, which scenarios name in `needs`.
pub const CAPABILITIES: &[&str] = &[
    "retain",
    "qos1",
    "qos2",
    "wildcards",
    "zero_length_client_id",
    "dollar_topics",
    "shared_subscriptions",
    "subscription_identifiers",
    "topic_alias",
    "session_persistence",
    "credentials",
    "authorization",
    "client_id_rejection",
    "enhanced_auth",
    "websocket",
    "no_qos2",
    "no_retain",
    "no_wildcards",
    "no_shared_subscriptions",
    "no_subscription_identifiers",
];

/// Why a WebSocket scenario is skipped on a target without that endpoint.
pub const NO_WEBSOCKET: &str = "no WebSocket endpoint (give --websocket or {ws_port} in --spawn)";

/// Supported unless a profile says otherwise.
pub const STANDARD: &[&str] = &[
    "retain",
    "qos1",
    "qos2",
    "wildcards",
    "zero_length_client_id",
    "dollar_topics",
    "shared_subscriptions",
    "subscription_identifiers",
    "topic_alias",
    "session_persistence",
];

/// Username and password the broker accepts.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Credentials {
    pub username: String,
    pub password: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    /// Free text, e.g. "mosquitto 2.0.18", shown in reports.
    pub broker: Option<String>,
    /// Supported capabilities. A `no_X` capability is never stored: it is
    /// the absence of `X`.
    supported: BTreeSet<String>,
    pub credentials: Option<Credentials>,
    /// A topic the test client is not allowed to use.
    pub denied_topic: Option<String>,
    /// 5.0 enhanced authentication: the method the broker supports, and the
    /// Authentication Data a CONNECT starts the exchange with.
    pub auth_method: Option<String>,
    pub auth_data: Option<String>,
}

impl Default for Profile {
    fn default() -> Self {
        Profile {
            broker: None,
            supported: STANDARD.iter().map(|s| s.to_string()).collect(),
            credentials: None,
            denied_topic: None,
            auth_method: None,
            auth_data: None,
        }
    }
}

/// `no_qos2` → `qos2`.
fn negated(cap: &str) -> Option<&str> {
    cap.strip_prefix("no_")
}

impl Profile {
    /// Reads a profile file.
    pub fn load(path: &Path) -> Result<Profile, LoadError> {
        let text = crate::spec::catalog::read_capped(path, Limits::default().max_bytes)?;
        Profile::from_str(&path.display().to_string(), &text)
    }

    /// Parses a profile; `name` is used in error messages.
    pub fn from_str(name: &str, text: &str) -> Result<Profile, LoadError> {
        let root =
            yaml::parse(text, &Limits::default()).map_err(|e| LoadError::from_de(name, e))?;
        Profile::from_node(&root).map_err(|e| LoadError::from_de(name, e))
    }

    fn from_node(root: &Node) -> Result<Profile, DeError> {
        let mut profile = Profile::default();
        if root.kind == Kind::Null {
            return Ok(profile);
        }
        let mut keys = vec![
            "broker",
            "supports",
            "unsupported",
            "credentials",
            "denied_topic",
            "auth_method",
            "auth_data",
        ];
        keys.extend_from_slice(CAPABILITIES);
        let f = Fields::new(root, "a profile", &keys)?;
        if let Some(n) = f.get("broker") {
            profile.broker = Some(string(n, "the broker's name and version")?.to_owned());
        }
        // Data that implies a capability comes first; explicit settings win.
        if let Some(n) = f.get("credentials") {
            let c = Fields::new(
                n,
                "{username: ..., password: ...}",
                &["username", "password"],
            )?;
            profile.credentials = Some(Credentials {
                username: string(c.req("username")?, "a username")?.to_owned(),
                password: string(c.req("password")?, "a password")?.to_owned(),
            });
            profile.set("credentials", true);
        }
        if let Some(n) = f.get("denied_topic") {
            profile.denied_topic = Some(string(n, "a topic")?.to_owned());
            profile.set("authorization", true);
        }
        if let Some(n) = f.get("auth_method") {
            profile.auth_method = Some(string(n, "an authentication method")?.to_owned());
            profile.set("enhanced_auth", true);
        }
        if let Some(n) = f.get("auth_data") {
            profile.auth_data = Some(string(n, "authentication data")?.to_owned());
        }
        let mut explicit: Vec<(String, &'static str)> = Vec::new();
        let mut note = |node: &Node, cap: &str, how: &'static str| -> Result<(), DeError> {
            capability(node, cap)?;
            let base = negated(cap).unwrap_or(cap);
            if let Some((_, first)) = explicit.iter().find(|(c, _)| c == base) {
                return Err(DeError::at(
                    node.loc,
                    format!("`{cap}` is set twice (also in `{first}`)"),
                ));
            }
            explicit.push((base.to_owned(), how));
            Ok(())
        };
        for (key, on) in [("supports", true), ("unsupported", false)] {
            let Some(n) = f.get(key) else {
                continue;
            };
            let Some(items) = n.as_seq() else {
                return Err(DeError::at(
                    n.loc,
                    format!("expected a list of capabilities, found {}", n.describe()),
                ));
            };
            for item in items {
                let cap = string(item, "a capability")?;
                note(item, cap, key)?;
                profile.set(cap, on);
            }
        }
        for &cap in CAPABILITIES {
            let Some(n) = f.get(cap) else {
                continue;
            };
            if cap == "credentials" && n.as_map().is_some() {
                continue;
            }
            let Kind::Bool(on) = n.kind else {
                return Err(DeError::at(
                    n.loc,
                    format!(
                        "expected `{cap}: true` or `{cap}: false`, found {}",
                        n.describe()
                    ),
                ));
            };
            note(n, cap, cap)?;
            profile.set(cap, on);
        }
        if profile.supports("credentials") && profile.credentials.is_none() {
            return Err(DeError::at(
                root.loc,
                "capability `credentials` needs `credentials: {username: ..., password: ...}`",
            ));
        }
        if profile.supports("enhanced_auth") && profile.auth_method.is_none() {
            return Err(DeError::at(
                root.loc,
                "capability `enhanced_auth` needs `auth_method: ...`",
            ));
        }
        if profile.supports("authorization") && profile.denied_topic.is_none() {
            return Err(DeError::at(
                root.loc,
                "capability `authorization` needs `denied_topic: ...`",
            ));
        }
        Ok(profile)
    }

    /// Marks `cap` supported or not, whatever the profile file said; for
    /// capabilities that come from the target (`websocket`).
    pub fn set_supported(&mut self, cap: &str, on: bool) {
        self.set(cap, on);
    }

    fn set(&mut self, cap: &str, on: bool) {
        match negated(cap) {
            Some(base) => self.set(base, !on),
            None if on => {
                self.supported.insert(cap.to_owned());
            }
            None => {
                self.supported.remove(cap);
            }
        }
    }

    /// Whether the broker has `cap` (for `no_X`: whether it lacks `X`).
    pub fn supports(&self, cap: &str) -> bool {
        match negated(cap) {
            Some(base) => !self.supports(base),
            None => self.supported.contains(cap),
        }
    }

    /// The supported capabilities, `no_X` included where `X` is absent.
    pub fn capabilities(&self) -> Vec<&'static str> {
        CAPABILITIES
            .iter()
            .copied()
            .filter(|c| self.supports(c))
            .collect()
    }

    /// Why a scenario needing `needs` cannot run on this broker, or `None`
    /// when it can.
    pub fn missing(&self, needs: &[String]) -> Option<String> {
        let cap = needs.iter().find(|c| !self.supports(c))?;
        let how = match cap.as_str() {
            "credentials" => "describe the broker in a profile (--profile) with `credentials: {username: ..., password: ...}`".to_string(),
            "authorization" => "describe the broker in a profile (--profile) with `denied_topic: ...`".to_string(),
            "enhanced_auth" => "describe the broker in a profile (--profile) with `auth_method: ...` and `auth_data: ...`".to_string(),
            "websocket" => return Some(NO_WEBSOCKET.to_string()),
            c if negated(c).is_some() => format!(
                "it applies only to brokers without `{}`; mark that unsupported in the profile (--profile)",
                negated(c).unwrap_or_default()
            ),
            c if STANDARD.contains(&c) => "the profile marks it unsupported".to_string(),
            c => format!("it depends on broker configuration; add `supports: [{c}]` to the profile (--profile)"),
        };
        Some(format!("needs capability `{cap}`: {how}"))
    }
}

fn capability(node: &Node, cap: &str) -> Result<(), DeError> {
    if CAPABILITIES.contains(&cap) {
        return Ok(());
    }
    let list: Vec<String> = CAPABILITIES.iter().map(|c| format!("`{c}`")).collect();
    Err(DeError::at(
        node.loc,
        format!(
            "unknown capability `{cap}`, expected one of {}",
            list.join(", ")
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn needs(caps: &[&str]) -> Vec<String> {
        caps.iter().map(|c| c.to_string()).collect()
    }

    #[test]
    fn default_profile() {
        let p = Profile::default();
        for cap in STANDARD {
            assert!(p.supports(cap), "{cap}");
        }
        for cap in [
            "credentials",
            "authorization",
            "client_id_rejection",
            "enhanced_auth",
            "no_qos2",
            "no_retain",
            "no_wildcards",
            "no_shared_subscriptions",
            "no_subscription_identifiers",
        ] {
            assert!(!p.supports(cap), "{cap}");
        }
        assert_eq!(p.missing(&needs(&["retain", "qos2"])), None);
        let why = p.missing(&needs(&["retain", "credentials"])).unwrap();
        assert!(why.starts_with("needs capability `credentials`"), "{why}");
        assert!(why.contains("--profile"), "{why}");
        let why = p.missing(&needs(&["no_qos2"])).unwrap();
        assert!(why.contains("without `qos2`"), "{why}");
    }

    #[test]
    fn auth_method_implies_enhanced_auth() {
        let p = Profile::from_str(
            "p.yaml",
            "auth_method: SCRAM-SHA-1\nauth_data: \"n,,n=u\"\n",
        )
        .unwrap();
        assert!(p.supports("enhanced_auth"));
        assert_eq!(p.auth_method.as_deref(), Some("SCRAM-SHA-1"));
        assert_eq!(p.auth_data.as_deref(), Some("n,,n=u"));
        assert!(!Profile::default().supports("enhanced_auth"));
        let e = Profile::from_str("p.yaml", "supports: [enhanced_auth]\n").unwrap_err();
        assert!(e.to_string().contains("auth_method"), "{e}");
    }

    #[test]
    fn profile_file() {
        let p = Profile::from_str(
            "p.yaml",
            "broker: \"mosquitto 2.0.18\"\nunsupported: [qos2]\nzero_length_client_id: false\nsupports: [client_id_rejection]\ncredentials: {username: u, password: pw}\ndenied_topic: \"deny/#\"\n",
        )
        .unwrap();
        assert_eq!(p.broker.as_deref(), Some("mosquitto 2.0.18"));
        assert!(!p.supports("qos2"));
        assert!(p.supports("no_qos2"));
        assert!(!p.supports("zero_length_client_id"));
        assert!(p.supports("client_id_rejection"));
        assert!(p.supports("credentials"));
        assert!(p.supports("authorization"));
        assert_eq!(p.credentials.as_ref().unwrap().password, "pw");
        assert_eq!(p.denied_topic.as_deref(), Some("deny/#"));
        let why = p.missing(&needs(&["qos2"])).unwrap();
        assert!(why.contains("marks it unsupported"), "{why}");
        assert_eq!(p.missing(&needs(&["no_qos2", "retain"])), None);
        assert!(p.capabilities().contains(&"no_qos2"));
        // `no_X: true` is `X: false`.
        let p = Profile::from_str("p.yaml", "no_retain: true\n").unwrap();
        assert!(!p.supports("retain"));
        assert_eq!(Profile::from_str("p.yaml", "").unwrap(), Profile::default());
    }

    #[test]
    fn profile_errors() {
        let e = Profile::from_str("p.yaml", "broker: x\nretainn: true\n").unwrap_err();
        assert_eq!((e.line, e.column), (2, 1), "{e}");
        assert!(
            e.message
                .starts_with("unknown field `retainn`, expected one of"),
            "{e}"
        );
        let e = Profile::from_str("p.yaml", "supports: [qos3]\n").unwrap_err();
        assert_eq!(e.to_string().split('(').next().unwrap(), "p.yaml:1:12: unknown capability `qos3`, expected one of `retain`, `qos1`, `qos2`, `wildcards`, `zero_length_client_id`, `dollar_topics`, `shared_subscriptions`, `subscription_identifiers`, `topic_alias`, `session_persistence`, `credentials`, `authorization`, `client_id_rejection`, `enhanced_auth`, `websocket`, `no_qos2`, `no_retain`, `no_wildcards`, `no_shared_subscriptions`, `no_subscription_identifiers`");
        let e =
            Profile::from_str("p.yaml", "supports: [qos2]\nunsupported: [no_qos2]\n").unwrap_err();
        assert!(e.message.contains("set twice"), "{e}");
        let e = Profile::from_str("p.yaml", "credentials: {username: u}\n").unwrap_err();
        assert!(e.message.contains("missing field `password`"), "{e}");
        let e = Profile::from_str("p.yaml", "supports: [authorization]\n").unwrap_err();
        assert!(e.message.contains("denied_topic"), "{e}");
        let e = Profile::from_str("p.yaml", "qos2: no\n").unwrap_err();
        assert!(e.message.contains("expected `qos2: true`"), "{e}");
    }
}
