//! `mqttspec replay REPORT.json SCENARIO-ID`: runs one scenario of a
//! report again, against the target the report names, and prints its
//! transcript.

use super::Exit;
use crate::cli::{parse_tcp_target, Protocols, ReplayArgs, RunArgs, Selection};
use crate::report::read;

pub fn replay(args: &ReplayArgs) -> Exit {
    let report = match read::load(&args.report) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("mqttspec: {e}");
            return Exit::Usage;
        }
    };
    let versions: Vec<&str> = report
        .scenarios
        .iter()
        .filter(|s| s.id == args.scenario)
        .map(|s| s.protocol.as_str())
        .collect();
    if versions.is_empty() {
        eprintln!(
            "mqttspec: {} has no scenario `{}`",
            args.report.display(),
            args.scenario
        );
        return Exit::Usage;
    }
    let protocol = match (args.protocol, versions.as_slice()) {
        (Protocols::Only(v), _) => Protocols::Only(v),
        (Protocols::All, [one]) => match one.parse() {
            Ok(v) => Protocols::Only(v),
            Err(_) => Protocols::All,
        },
        (Protocols::All, _) => Protocols::All,
    };
    let mut run = RunArgs {
        selection: Selection {
            filters: vec![exact(&args.scenario)],
            protocol,
            requirements: vec![],
            cases: args.cases.clone(),
        },
        verbose: 2,
        quiet: true,
        ..RunArgs::default()
    };
    match target_of(&report.target) {
        Ok(Target::Tcp(addr)) => {
            run.target = Some(addr);
            run.websocket = websocket_of(&report.target);
        }
        Ok(Target::Spawn(cmd)) => run.spawn = Some(cmd),
        Ok(Target::Embedded) => {}
        Err(e) => {
            eprintln!("mqttspec: {e}");
            return Exit::Usage;
        }
    }
    super::run::run(&run)
}

/// A glob matching exactly `id` (the selection treats plain text as a
/// substring): the first character in brackets, the rest escaped.
pub fn exact(id: &str) -> String {
    let mut chars = id.chars();
    match chars.next() {
        Some(c) => format!("[{c}]{}", glob::Pattern::escape(chars.as_str())),
        None => String::new(),
    }
}

/// The WebSocket endpoint a report's target names: `... (WebSocket ws://...)`.
fn websocket_of(meta: &str) -> Option<crate::target::WebSocketUrl> {
    let rest = &meta[meta.find("(WebSocket ")? + 11..];
    crate::target::WebSocketUrl::parse(rest.trim_end_matches(')')).ok()
}

#[derive(Debug, PartialEq, Eq)]
pub enum Target {
    Tcp(String),
    Spawn(String),
    Embedded,
}

/// The report's `meta.target` back into a target: `tcp://HOST:PORT`,
/// `spawn: COMMAND` (with an optional ` (WebSocket ...)` suffix), `embedded`.
pub fn target_of(meta: &str) -> Result<Target, String> {
    if meta.starts_with("embedded") {
        return Ok(Target::Embedded);
    }
    if let Some(cmd) = meta.strip_prefix("spawn: ") {
        let cmd = match cmd.rfind(" (WebSocket ") {
            Some(i) if cmd.ends_with(')') => &cmd[..i],
            _ => cmd,
        };
        return Ok(Target::Spawn(cmd.to_string()));
    }
    let first = meta.split_whitespace().next().unwrap_or("");
    parse_tcp_target(first)
        .map(Target::Tcp)
        .map_err(|_| format!("the report's target `{meta}` is not one mqttspec can start again"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_from_reports() {
        assert_eq!(
            target_of("tcp://127.0.0.1:1883"),
            Ok(Target::Tcp("127.0.0.1:1883".into()))
        );
        assert_eq!(
            target_of("spawn: ci/brokers/mosquitto.sh start {port} {ws_port} (WebSocket ws://127.0.0.1:42409/mqtt)"),
            Ok(Target::Spawn("ci/brokers/mosquitto.sh start {port} {ws_port}".into()))
        );
        assert_eq!(target_of("embedded rumqttd 0.20"), Ok(Target::Embedded));
        assert!(target_of("carrier pigeon").is_err());
    }

    #[test]
    fn exact_selects_one_id() {
        let p = glob::Pattern::new(&exact("3.3.1/qos-3-closes")).unwrap();
        assert!(p.matches("3.3.1/qos-3-closes"));
        assert!(!p.matches("3.3.1/qos-3-closes-2"));
        assert!(!p.matches("x3.3.1/qos-3-closes"));
        let p = glob::Pattern::new(&exact("a[1]*")).unwrap();
        assert!(p.matches("a[1]*") && !p.matches("a1x"));
    }
}
