//! Every scenario in cases/, on every protocol it declares, as one test per
//! trial, against reference brokers:
//!
//! * the embedded rumqttd (trials `v3.1.1/<id>`, `v5.0/<id>`);
//! * mosquitto when it is installed (`mosquitto/v3.1.1/<id>`...), started
//!   with `ci/brokers/mosquitto.sh`; likewise aedes, amqtt and ejabberd
//!   (5.0 only, with the login its script prints) when their
//!   scripts report them installed.
//!
//! A trial passes when the verdict is the one recorded in
//! `tests/expected/<broker>-<version>.yaml` (a map from
//! `"<protocol> <scenario id>"` to `{verdict, violated, reason, flaky}`;
//! scenarios not listed are expected to pass; `flaky: true` accepts a pass
//! too, for behaviour that depends on timing). Any change fails the trial with the
//! transcript. A scenario skipped for a missing capability is reported as
//! ignored, with the reason.
//!
//! Each broker is started once, on first use, and shared by its trials,
//! which run concurrently (`--test-threads`, default 16).
//!
//! With `MQTTSPEC_EXPECTED_DRAFT=DIR`, the entries that would make the
//! changed trials pass are written to `DIR/<broker>-<version>.yaml`, with
//! the evidence as a first reason, for review.

use libtest_mimic::{Arguments, Completion, Failed, Trial};
use mqttspec::codec::ProtocolVersion;
use mqttspec::engine::{run_scenario, EngineConfig, Login, Namespaces};
use mqttspec::outcome::{ScenarioResult, Verdict};
use mqttspec::run::Capabilities;
use mqttspec::scenario::{load_dir, Profile, Scenario};
use mqttspec::spec::catalog::Catalogs;
use mqttspec::target::{self, Running, Target};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, LazyLock, Mutex, OnceLock};
use std::time::Duration;

static RUNTIME: LazyLock<tokio::runtime::Runtime> = LazyLock::new(|| {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .expect("tokio runtime")
});

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// One expected outcome that is not a plain pass.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Expected {
    verdict: Verdict2,
    /// The violated statements: one ID, or a list (the duty first, then the
    /// rules the broker failed to enforce).
    #[serde(default)]
    violated: Option<Ids>,
    /// The broker does not always behave so: a pass is accepted too.
    #[serde(default)]
    flaky: bool,
    /// Why the broker behaves so: required, so every entry is explained.
    reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
enum Ids {
    One(String),
    Many(Vec<String>),
}

impl Ids {
    fn list(&self) -> Vec<String> {
        match self {
            Ids::One(s) => vec![s.clone()],
            Ids::Many(v) => v.clone(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Verdict2 {
    Pass,
    Fail,
    Skip,
    Error,
    /// The broker's behaviour varies from run to run (the reason says
    /// how): pass, fail and error are all accepted.
    Flaky,
}

impl Verdict2 {
    fn of(v: Verdict) -> Verdict2 {
        match v {
            Verdict::Pass => Verdict2::Pass,
            Verdict::Fail => Verdict2::Fail,
            Verdict::Skip | Verdict::Inconclusive | Verdict::NotCovered => Verdict2::Skip,
            Verdict::Error | Verdict::NotRun => Verdict2::Error,
            Verdict::Flaky => Verdict2::Flaky,
        }
    }
}

fn violated_ids(r: &ScenarioResult) -> Vec<String> {
    r.violated.iter().map(|v| v.id.clone()).collect()
}

type Expectations = BTreeMap<String, Expected>;

fn load_expectations(path: &Path) -> Result<Expectations, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    // A file with nothing but comments is an empty map.
    let map: Option<Expectations> =
        serde_saphyr::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    let map = map.unwrap_or_default();
    for (key, e) in &map {
        if e.reason.trim().is_empty() {
            return Err(format!("{}: `{key}` has no reason", path.display()));
        }
        if e.verdict == Verdict2::Fail && e.violated.is_none() {
            return Err(format!(
                "{}: `{key}` fails but names no violated statement",
                path.display()
            ));
        }
    }
    Ok(map)
}

/// A broker the suite runs against.
struct BrokerDef {
    /// Trial name prefix ("" for the embedded broker).
    prefix: String,
    target: Target,
    /// `tests/expected/<name>.yaml`, e.g. `mosquitto-2.0.11`.
    expected_name: String,
    /// How many of its trials may run at once (`None`: as many as the harness runs).
    parallel: Option<usize>,
    /// The protocol versions it is tested on (`None`: every version).
    protocols: Option<Vec<ProtocolVersion>>,
    /// User name and password for every CONNECT.
    login: Option<Login>,
    /// The spec sections whose scenarios it runs (`None`: all of them).
    sections: Option<&'static [&'static str]>,
}

struct Live {
    running: Running,
    caps: Capabilities,
    namespaces: Namespaces,
    died: Mutex<Option<String>>,
}

struct Broker {
    def: BrokerDef,
    /// Permits for [`BrokerDef::parallel`] trials at once.
    slots: Option<Arc<tokio::sync::Semaphore>>,
    expected: Result<Expectations, String>,
    live: OnceLock<Result<Live, String>>,
}

impl Broker {
    fn live(&self, versions: &[ProtocolVersion]) -> Result<&Live, String> {
        self.live
            .get_or_init(|| {
                RUNTIME.block_on(async {
                    let running = target::start(&self.def.target)
                        .await
                        .map_err(|e| format!("{} did not start: {e}", self.def.expected_name))?;
                    let namespaces = Namespaces::new();
                    let profile = Profile::default();
                    let caps = Capabilities::learn(
                        &running,
                        &profile,
                        versions,
                        &namespaces,
                        self.def.login.as_ref(),
                        Duration::from_secs(2),
                    )
                    .await;
                    Ok(Live {
                        running,
                        caps,
                        namespaces,
                        died: Mutex::new(None),
                    })
                })
            })
            .as_ref()
            .map_err(Clone::clone)
    }
}

/// The version a `ci/brokers/<name>.sh version` prints, if it is installed.
fn script_version(name: &str) -> Option<String> {
    let script = root().join("ci/brokers").join(format!("{name}.sh"));
    let out = Command::new(&script).arg("version").output().ok()?;
    if !out.status.success() {
        return None;
    }
    // "mosquitto 2.0.11" -> "mosquitto-2.0.11"
    let line = String::from_utf8_lossy(&out.stdout)
        .lines()
        .next()?
        .trim()
        .to_string();
    let mut parts = line.split_whitespace();
    let (n, v) = (parts.next()?, parts.next()?);
    Some(format!("{n}-{v}"))
}

fn spawned(name: &str) -> Option<BrokerDef> {
    let expected_name = script_version(name)?;
    let script = root().join("ci/brokers").join(format!("{name}.sh"));
    // mosquitto also serves MQTT over WebSocket, so section 6 runs there.
    let ws = if name == "mosquitto" {
        " {ws_port}"
    } else {
        ""
    };
    Some(BrokerDef {
        prefix: format!("{name}/"),
        target: Target::Spawn {
            command: format!("exec '{}' start {{port}}{ws}", script.display()),
        },
        expected_name,
        // amqtt 0.12.1 sends old retained messages to unrelated connections
        // when a retained message is cleared, so concurrent trials would see
        // each other's messages: one at a time.
        parallel: (name == "amqtt").then_some(1),
        // ejabberd is tested on 5.0, the version this suite adds it for.
        protocols: (name == "ejabberd").then(|| vec![ProtocolVersion::V5]),
        login: script_login(name),
        // ejabberd joined the harness with the 5.0 suite; a section's
        // trials run on it once its verdicts have been checked there.
        sections: (name == "ejabberd").then_some(EJABBERD_SECTIONS),
    })
}

/// The sections whose 5.0 verdicts on ejabberd are checked and recorded.
const EJABBERD_SECTIONS: &[&str] = &["1.5", "2.1", "2.2", "3.1", "3.2", "6"];

/// The user name and password a broker script prints for
/// `credentials` (brokers that let no client in without them).
fn script_login(name: &str) -> Option<Login> {
    let script = root().join("ci/brokers").join(format!("{name}.sh"));
    let text = std::fs::read_to_string(&script).ok()?;
    if !text.contains("credentials)") {
        return None;
    }
    let out = Command::new(&script).arg("credentials").output().ok()?;
    let out = String::from_utf8_lossy(&out.stdout);
    let field = |k: &str| {
        out.lines()
            .find_map(|l| l.strip_prefix(k))
            .map(|v| v.trim().to_string())
    };
    Some(Login {
        username: field("username:")?,
        password: field("password:")?,
    })
}

fn brokers() -> Vec<BrokerDef> {
    let mut out = vec![BrokerDef {
        prefix: String::new(),
        target: Target::Embedded,
        expected_name: "rumqttd-0.20.0".into(),
        // rumqttd 0.20.0 handles a DISCONNECT and the close that follows as
        // two disconnections of the same slot; when a new connection took
        // the slot in between, the second one drops it (reset on its next
        // packet). Fewer trials at once keep that rare; the harness runs
        // them one at a time so that a verdict never depends on it.
        parallel: Some(1),
        protocols: None,
        login: None,
        sections: None,
    }];
    out.extend(
        ["mosquitto", "aedes", "amqtt", "ejabberd"]
            .into_iter()
            .filter_map(spawned),
    );
    out
}

fn key(v: ProtocolVersion, id: &str) -> String {
    format!("{v} {id}")
}

/// Compares a result with what is expected of this broker.
fn judge(r: &ScenarioResult, expected: Option<&Expected>) -> Result<Completion, Failed> {
    let want = expected.map_or(Verdict2::Pass, |e| e.verdict);
    let got = Verdict2::of(r.verdict);
    if got == Verdict2::Skip && expected.is_none() {
        return Ok(Completion::ignored_with(
            r.message.clone().unwrap_or_default(),
        ));
    }
    if got == Verdict2::Pass && expected.is_some_and(|e| e.flaky) {
        return Ok(Completion::Completed);
    }
    if want == Verdict2::Flaky && got != Verdict2::Skip {
        return Ok(Completion::Completed);
    }
    let violated_ok = match (expected.and_then(|e| e.violated.as_ref()), got) {
        (Some(w), Verdict2::Fail) => violated_ids(r) == w.list(),
        _ => true,
    };
    if got == want && violated_ok {
        return match got {
            Verdict2::Skip => Ok(Completion::ignored_with(
                r.message.clone().unwrap_or_default(),
            )),
            _ => Ok(Completion::Completed),
        };
    }
    let mut msg = format!("verdict changed: expected {want:?}");
    if let Some(e) = expected {
        if let Some(v) = &e.violated {
            msg.push_str(&format!(" violating {}", v.list().join(", ")));
        }
        msg.push_str(&format!(" ({})", e.reason));
    }
    msg.push_str(&format!(", got {got:?}"));
    if !r.violated.is_empty() {
        msg.push_str(&format!(" violating {}", violated_ids(r).join(", ")));
    }
    if let Some(m) = &r.message {
        msg.push_str(&format!("\n  {m}"));
    }
    if let (Some(e), Some(o)) = (&r.expected, &r.observed) {
        msg.push_str(&format!("\n  expected: {e}\n  observed: {o}"));
    }
    for n in &r.notes {
        msg.push_str(&format!("\n  note: {}", n.message));
    }
    msg.push_str(&format!("\n  at {}\n{}", r.source, r.transcript.render()));
    Err(msg.into())
}

fn run_trial(
    broker: &Broker,
    scenario: &Scenario,
    v: ProtocolVersion,
    versions: &[ProtocolVersion],
) -> Result<Completion, Failed> {
    let expectations = match &broker.expected {
        Ok(e) => e,
        Err(why) => return Ok(Completion::ignored_with(why)),
    };
    let live = broker.live(versions)?;
    let _slot = match &broker.slots {
        Some(s) => Some(
            RUNTIME
                .block_on(s.clone().acquire_owned())
                .map_err(|e| e.to_string())?,
        ),
        None => None,
    };
    if let Some(why) = live.died.lock().unwrap_or_else(|p| p.into_inner()).clone() {
        return Err(format!("the broker died earlier: {why}").into());
    }
    let result = match live
        .caps
        .skip_reason(scenario, v, live.running.is_listener())
    {
        Some(why) => mqttspec::run::not_run(scenario, v, Verdict::Skip, why),
        None => {
            let ns = live.namespaces.next();
            let endpoint = live.running.endpoint(v);
            let config = EngineConfig {
                login: broker.def.login.clone(),
                ..EngineConfig::default()
            };
            RUNTIME.block_on(run_scenario(scenario, v, &ns, &endpoint, &config))
        }
    };
    if let Some(why) = live.running.died() {
        let mut d = live.died.lock().unwrap_or_else(|p| p.into_inner());
        d.get_or_insert_with(|| format!("during {v} {}: {why}", scenario.id));
        return Err(format!(
            "the broker died during this scenario: {why}\n{}",
            result.transcript.render()
        )
        .into());
    }
    let ns = result_ns(&result);
    let expected = expectations.get(&key(v, &scenario.id));
    let verdict = judge(&result, expected);
    if verdict.is_err() {
        draft(broker, scenario, &result, ns.as_deref(), expected.is_some());
    }
    verdict
}

/// Entries to review, per expectations file, when `MQTTSPEC_EXPECTED_DRAFT`
/// names a folder: for every trial whose verdict changed, the entry the
/// expectations file would need, with the evidence as a first reason.
static DRAFTS: Mutex<BTreeMap<String, BTreeMap<String, String>>> = Mutex::new(BTreeMap::new());

/// The namespace of a trial, read back from its first CONNECT's client id.
fn result_ns(r: &ScenarioResult) -> Option<String> {
    let e = r
        .transcript
        .entries
        .iter()
        .find(|e| e.text.starts_with("CONNECT"))?;
    let id = e.text.split("client_id=\"").nth(1)?.split('"').next()?;
    // Namespaces are 9 characters; the connection name follows.
    id.get(..9).map(str::to_string)
}

fn draft(broker: &Broker, s: &Scenario, r: &ScenarioResult, ns: Option<&str>, listed: bool) {
    if std::env::var_os("MQTTSPEC_EXPECTED_DRAFT").is_none() {
        return;
    }
    let k = key(r.protocol, &s.id);
    let entry = if r.verdict == Verdict::Pass {
        format!("# {k:?}: passes now; remove its entry\n")
    } else {
        let mut msg = r.message.clone().unwrap_or_default();
        if let Some(ns) = ns {
            msg = msg.replace(ns, "{ns}");
        }
        // Drop the step number and the repeated packet.
        if let Some((_, rest)) = msg.split_once("): ") {
            msg = rest.to_string();
        }
        if let Some((head, _)) = msg.split_once(" (received on ") {
            msg = head.to_string();
        }
        let name = broker
            .def
            .expected_name
            .split('-')
            .next()
            .unwrap_or_default();
        let reason = format!("{}; {name} instead: {msg}", s.title);
        let mut e = format!(
            "{k:?}:\n  verdict: {}\n",
            format!("{:?}", r.verdict).to_lowercase()
        );
        match r.violated.as_slice() {
            [] => {}
            [one] => e.push_str(&format!("  violated: {}\n", one.id)),
            many => e.push_str(&format!(
                "  violated: [{}]\n",
                many.iter()
                    .map(|v| v.id.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        }
        e.push_str(&format!(
            "  reason: {}\n",
            serde_json::Value::String(reason)
        ));
        if listed {
            e.insert_str(0, "# replaces the current entry\n");
        }
        e
    };
    DRAFTS
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .entry(broker.def.expected_name.clone())
        .or_default()
        .insert(k, entry);
}

fn write_drafts() {
    let Some(dir) = std::env::var_os("MQTTSPEC_EXPECTED_DRAFT").map(PathBuf::from) else {
        return;
    };
    let drafts = DRAFTS.lock().unwrap_or_else(|p| p.into_inner());
    for (name, entries) in drafts.iter() {
        let path = dir.join(format!("{name}.yaml"));
        let mut text = format!(
            "# Changed verdicts for tests/expected/{name}.yaml: review every reason before copying.\n"
        );
        for e in entries.values() {
            text.push_str(e);
        }
        match std::fs::create_dir_all(&dir).and_then(|()| std::fs::write(&path, text)) {
            Ok(()) => eprintln!("draft of changed verdicts: {}", path.display()),
            Err(e) => eprintln!("cannot write {}: {e}", path.display()),
        }
    }
}

fn main() {
    let mut args = Arguments::from_args();
    if args.test_threads.is_none() {
        // Trials mostly wait on the network.
        args.test_threads = Some(16);
    }
    let cases = std::env::var_os("MQTTSPEC_CASES")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("cases"));
    let loaded = Catalogs::for_cases_dir(&cases).and_then(|c| load_dir(&cases, &c));
    let scenarios = match loaded {
        Ok(s) => Arc::new(s),
        Err(e) => {
            let msg = e.to_string();
            let trial = Trial::test("load cases", move || Err(msg.into()));
            libtest_mimic::run(&args, vec![trial]).exit();
        }
    };
    let mut versions: Vec<ProtocolVersion> =
        scenarios.iter().flat_map(|s| s.protocols.clone()).collect();
    versions.sort();
    versions.dedup();
    let versions = Arc::new(versions);

    let brokers: Vec<Arc<Broker>> = brokers()
        .into_iter()
        .map(|def| {
            let path = root()
                .join("tests/expected")
                .join(format!("{}.yaml", def.expected_name));
            let expected = if path.exists() {
                load_expectations(&path)
            } else {
                Err(format!(
                    "no expected verdicts for {} ({})",
                    def.expected_name,
                    path.display()
                ))
            };
            Arc::new(Broker {
                slots: def
                    .parallel
                    .map(|n| Arc::new(tokio::sync::Semaphore::new(n))),
                def,
                expected,
                live: OnceLock::new(),
            })
        })
        .collect();

    // One list per broker, interleaved below so that threads waiting for a
    // slot of one broker never hold back the trials of another.
    let mut per_broker: Vec<Vec<Trial>> = Vec::new();
    for broker in &brokers {
        let mut trials = Vec::new();
        let prefix = &broker.def.prefix;
        // An expectations file that does not load is a failure of its own.
        if let Err(e) = &broker.expected {
            if !e.starts_with("no expected verdicts") {
                let e = e.clone();
                trials.push(Trial::test(
                    format!("{prefix}expected-verdicts"),
                    move || Err(e.into()),
                ));
            }
        }
        // Entries that name no trial are stale.
        if let Ok(map) = &broker.expected {
            let known: std::collections::BTreeSet<String> = scenarios
                .iter()
                .flat_map(|s| s.protocols.iter().map(|v| key(*v, &s.id)))
                .collect();
            let stale: Vec<String> = map
                .keys()
                .filter(|k| !known.contains(*k))
                .cloned()
                .collect();
            let name = broker.def.expected_name.clone();
            trials.push(Trial::test(
                format!("{prefix}expected-verdicts"),
                move || {
                    if stale.is_empty() {
                        Ok(())
                    } else {
                        Err(format!(
                            "tests/expected/{name}.yaml names trials that do not exist: {stale:?}"
                        )
                        .into())
                    }
                },
            ));
        }
        for (i, s) in scenarios.iter().enumerate() {
            // Scenarios for clients under test run in tests/clients.rs.
            if s.role == mqttspec::scenario::Role::Server {
                continue;
            }
            for &v in &s.protocols {
                if broker
                    .def
                    .protocols
                    .as_ref()
                    .is_some_and(|p| !p.contains(&v))
                {
                    continue;
                }
                if broker
                    .def
                    .sections
                    .is_some_and(|list| !list.contains(&s.section.as_str()))
                {
                    continue;
                }
                let (broker, scenarios, versions) =
                    (broker.clone(), scenarios.clone(), versions.clone());
                trials.push(Trial::ignorable_test(
                    format!("{prefix}v{v}/{}", s.id),
                    move || run_trial(&broker, &scenarios[i], v, &versions),
                ));
            }
        }
        per_broker.push(trials);
    }
    let mut trials = Vec::new();
    let mut lists: Vec<_> = per_broker.into_iter().map(Vec::into_iter).collect();
    while !lists.is_empty() {
        lists.retain_mut(|l| match l.next() {
            Some(t) => {
                trials.push(t);
                true
            }
            None => false,
        });
    }

    let conclusion = libtest_mimic::run(&args, trials);
    write_drafts();
    // The trials are gone: stop the brokers that were started.
    for broker in brokers {
        if let Ok(b) = Arc::try_unwrap(broker) {
            if let Some(Ok(live)) = b.live.into_inner() {
                RUNTIME.block_on(live.running.stop());
            }
        }
    }
    conclusion.exit();
}
