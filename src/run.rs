//! A whole run: start the target, decide what to skip, run scenario ×
//! protocol trials concurrently (bounded by `jobs`), and collect the report.

use crate::codec::{Connack, ProtocolVersion};
use crate::engine::{self, EngineConfig, Namespaces};
use crate::outcome::{Attempt, Note, RunMeta, RunReport, ScenarioResult, Transcript, Verdict};
use crate::preflight;
use crate::scenario::profile::Profile;
use crate::scenario::{Role, Scenario};
use crate::target::{self, Running, Target, TargetError};
use serde_json::json;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

/// Called after each trial with how far the run is.
pub type ProgressFn = Arc<dyn Fn(&Progress<'_>) + Send + Sync>;

pub struct Progress<'a> {
    pub done: usize,
    pub total: usize,
    pub result: &'a ScenarioResult,
}

#[derive(Clone)]
pub struct RunOptions {
    pub target: Target,
    /// The broker's WebSocket endpoint (`--websocket`).
    pub websocket: Option<target::WebSocketUrl>,
    /// Trials at once (at least 1).
    pub jobs: usize,
    /// How often a failed or errored trial is run again, alone, after the
    /// others; a different outcome makes it `flaky` (0: never).
    pub retries: usize,
    /// Versions to run; empty means every version a scenario declares.
    pub protocols: Vec<ProtocolVersion>,
    pub engine: EngineConfig,
    pub profile: Profile,
    pub progress: Option<ProgressFn>,
    /// Raised by a signal: no new trial starts, running ones end.
    pub interrupt: Option<Arc<Interrupt>>,
}

/// A request to stop the run early (SIGINT, SIGTERM), shared with the
/// signal handler.
#[derive(Default)]
pub struct Interrupt {
    why: Mutex<Option<String>>,
    raised: tokio::sync::watch::Sender<bool>,
}

impl Interrupt {
    /// Stops the run; `why` names the signal. The first reason is kept.
    pub fn raise(&self, why: &str) {
        let mut w = self.why.lock().unwrap_or_else(|p| p.into_inner());
        if w.is_none() {
            *w = Some(why.to_string());
        }
        self.raised.send_replace(true);
    }

    pub fn reason(&self) -> Option<String> {
        self.why.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            #[cfg(feature = "embedded-broker")]
            target: Target::Embedded,
            #[cfg(not(feature = "embedded-broker"))]
            target: Target::Tcp("127.0.0.1:1883".into()),
            websocket: None,
            jobs: 8,
            retries: 1,
            protocols: Vec::new(),
            engine: EngineConfig::default(),
            profile: Profile::default(),
            progress: None,
            interrupt: None,
        }
    }
}

/// Starts the target, runs every trial and stops the target. An
/// unreachable target is an error before any trial.
pub async fn run(scenarios: &[Scenario], options: &RunOptions) -> Result<RunReport, TargetError> {
    let started_at = SystemTime::now();
    let running = target::start_with(&options.target, options.websocket.as_ref()).await?;
    let report = run_on(scenarios, &running, options, started_at).await;
    running.stop().await;
    report
}

/// Runs every trial against a target that is already started, after the
/// preflight (see [`crate::preflight`]); a failed preflight is the error.
pub async fn run_on(
    scenarios: &[Scenario],
    running: &Running,
    options: &RunOptions,
    started_at: SystemTime,
) -> Result<RunReport, TargetError> {
    let clock = Instant::now();
    let namespaces = Arc::new(Namespaces::new());
    let mut config = options.engine.clone();
    config.profile_vars.extend(profile_vars(&options.profile));
    // A broker that checks credentials lets no client in without them.
    if let (None, Some(c)) = (&config.login, &options.profile.credentials) {
        config.login = Some(engine::Login {
            username: c.username.clone(),
            password: c.password.clone(),
        });
    }
    let config = Arc::new(config);

    let trials: Vec<(usize, ProtocolVersion)> = scenarios
        .iter()
        .enumerate()
        .flat_map(|(i, s)| s.protocols.iter().map(move |v| (i, *v)))
        .filter(|(_, v)| options.protocols.is_empty() || options.protocols.contains(v))
        .collect();
    let mut versions: Vec<ProtocolVersion> = trials.iter().map(|t| t.1).collect();
    versions.sort();
    versions.dedup();

    let ready = preflight_all(running, &options.profile, &versions, &namespaces).await?;
    let mut caps = Capabilities::from_preflight(running, &options.profile, ready);
    caps.probe_zero_length_client_id(running, config.login.as_ref(), config.step_timeout)
        .await;

    let total = trials.len();
    let mut results: Vec<Option<ScenarioResult>> = vec![None; total];
    let mut done = 0;
    let report_progress = |done: usize, r: &ScenarioResult| {
        if let Some(p) = &options.progress {
            p(&Progress {
                done,
                total,
                result: r,
            });
        }
    };

    // Trials that need no peer at all are decided here.
    let mut to_run = Vec::new();
    for (slot, &(i, v)) in trials.iter().enumerate() {
        let s = &scenarios[i];
        match caps.skip_reason(s, v, running.is_listener()) {
            Some(why) => {
                let r = not_run(s, v, Verdict::Skip, why);
                done += 1;
                report_progress(done, &r);
                results[slot] = Some(r);
            }
            None => to_run.push((slot, i, v)),
        }
    }
    // A listener is shared: trials with clients under test go one at a time,
    // unless each trial gets its own listener and client (`--client`).
    let (serial, parallel): (Vec<_>, Vec<_>) = to_run
        .into_iter()
        .partition(|&(_, i, _)| scenarios[i].role == Role::Server && running.client.is_none());

    // Raised when the run must stop: the target died or a signal came.
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let interrupt = options.interrupt.clone().unwrap_or_default();
    let mut interrupted = interrupt.raised.subscribe();
    let mut died: Option<String> = None;
    let credentials = options.profile.credentials.clone();

    let jobs = jobs_for(options);
    for (batch, jobs) in [(parallel, jobs), (serial, 1)] {
        let gate = Arc::new(Semaphore::new(jobs));
        let mut set = JoinSet::new();
        for (slot, i, v) in batch {
            let scenario = Arc::new(scenarios[i].clone());
            let endpoint = running.endpoint(v);
            let config = config.clone();
            let namespaces = namespaces.clone();
            let gate = gate.clone();
            let mut stop = stop_rx.clone();
            let client = running.client.clone();
            set.spawn(async move {
                let _permit = gate.acquire_owned().await;
                if *stop.borrow() {
                    return (slot, None);
                }
                let ns = namespaces.next();
                let trial = async {
                    match &client {
                        Some(c) => c.run_trial(&scenario, v, &ns, &config).await,
                        None => engine::run_scenario(&scenario, v, &ns, &endpoint, &config).await,
                    }
                };
                tokio::select! {
                    r = trial => (slot, Some(r)),
                    _ = stop.wait_for(|s| *s) => (slot, None),
                }
            });
        }
        loop {
            let joined = tokio::select! {
                j = set.join_next() => match j {
                    Some(j) => j,
                    None => break,
                },
                _ = interrupted.wait_for(|s| *s), if !*stop_rx.borrow() => {
                    stop_tx.send_replace(true);
                    continue;
                }
            };
            let Ok((slot, Some(mut result))) = joined else {
                continue;
            };
            // Before a failure is recorded: is the target still there?
            if matches!(result.verdict, Verdict::Fail | Verdict::Error) && died.is_none() {
                if let Some(why) =
                    target_gone(running, result.protocol, &namespaces, credentials.as_ref()).await
                {
                    died = Some(why);
                    stop_tx.send_replace(true);
                }
            }
            if let Some(why) = &died {
                if result.verdict != Verdict::Pass {
                    mark_target_died(&mut result, why);
                }
            }
            done += 1;
            report_progress(done, &result);
            results[slot] = Some(result);
        }
    }

    // Failures and errors run again, one at a time, with the target to themselves.
    for _ in 0..options.retries {
        for (slot, &(i, v)) in trials.iter().enumerate() {
            if died.is_some() || *stop_rx.borrow() || interrupt.reason().is_some() {
                break;
            }
            let Some(first) = &results[slot] else {
                continue;
            };
            if !matches!(first.verdict, Verdict::Fail | Verdict::Error)
                || !first.attempts.is_empty()
            {
                continue;
            }
            let ns = namespaces.next();
            let endpoint = running.endpoint(v);
            let mut stop = stop_rx.clone();
            // A client under test gets its own listener and process again.
            let trial = async {
                match &running.client {
                    Some(c) => c.run_trial(&scenarios[i], v, &ns, &config).await,
                    None => engine::run_scenario(&scenarios[i], v, &ns, &endpoint, &config).await,
                }
            };
            let again = tokio::select! {
                r = trial => r,
                _ = interrupted.wait_for(|s| *s) => break,
                _ = stop.wait_for(|s| *s) => break,
            };
            if matches!(again.verdict, Verdict::Fail | Verdict::Error) {
                if let Some(why) = target_gone(running, v, &namespaces, credentials.as_ref()).await
                {
                    died = Some(why);
                    break;
                }
            }
            if let Some(r) = results[slot].as_mut() {
                judge_retry(r, again);
            }
        }
    }

    let interrupted = interrupt.reason();
    let stopped = match (&died, &interrupted) {
        (Some(why), _) => format!("not run: the target died ({})", first_line(why)),
        (None, Some(sig)) => format!("not run: the run was interrupted ({sig})"),
        (None, None) => "the trial ended abnormally".into(),
    };
    let scenarios_out: Vec<ScenarioResult> = results
        .into_iter()
        .zip(&trials)
        .map(|(r, &(i, v))| {
            r.unwrap_or_else(|| {
                let verdict = if died.is_some() || interrupted.is_some() {
                    Verdict::NotRun
                } else {
                    // A panicking trial would leave its slot empty; report it rather than lose it.
                    Verdict::Error
                };
                not_run(&scenarios[i], v, verdict, stopped.clone())
            })
        })
        .collect();
    let target_died = died.or_else(|| running.died());

    Ok(RunReport {
        meta: RunMeta {
            mqttspec_version: env!("CARGO_PKG_VERSION").to_string(),
            started_at: rfc3339(started_at),
            target: running.description.clone(),
            broker: running
                .broker
                .clone()
                .or_else(|| options.profile.broker.clone()),
            protocols: versions,
            jobs,
            duration_ms: clock.elapsed().as_millis() as u64,
        },
        scenarios: scenarios_out,
        target_died,
        interrupted,
        requirement_globs: Vec::new(),
        not_covered: Vec::new(),
    })
}

/// `Some(why)` when the target is gone: a spawned process exited, or a
/// fresh CONNECT gets no CONNACK (asked twice, so one slow answer is not
/// taken for death).
async fn target_gone(
    running: &Running,
    version: ProtocolVersion,
    namespaces: &Namespaces,
    credentials: Option<&crate::scenario::profile::Credentials>,
) -> Option<String> {
    if let Some(why) = running.died() {
        return Some(why);
    }
    let addr = running.endpoint(version).dial?;
    let mut last = String::new();
    for _ in 0..2 {
        let id = format!("{}alive", namespaces.next());
        match preflight::alive(&addr, version, &id, credentials, LIVENESS_WAIT).await {
            Ok(()) => return None,
            Err(e) => last = e,
        }
        if let Some(why) = running.died() {
            return Some(why);
        }
    }
    Some(format!("the target stopped accepting connections: {last}"))
}

/// Folds a re-run into the first result: the same outcome confirms it (a
/// note says so); a different one makes the trial `flaky`, keeping both
/// transcripts.
fn judge_retry(first: &mut ScenarioResult, again: ScenarioResult) {
    let same = again.verdict == first.verdict && again.violated == first.violated;
    let attempt = Attempt {
        verdict: again.verdict,
        violated: again.violated,
        message: again.message,
        duration: again.duration,
        transcript: again.transcript,
    };
    if same {
        first.notes.push(Note {
            statement: None,
            message: format!(
                "the same outcome when run again alone ({})",
                attempt.verdict
            ),
        });
        return;
    }
    let said = |v: Verdict, m: &Option<String>| match m {
        Some(m) => format!("{v}: {}", first_line(m)),
        None => v.to_string(),
    };
    first.message = Some(format!(
        "flaky: first {}; run again alone: {}",
        said(first.verdict, &first.message),
        said(attempt.verdict, &attempt.message)
    ));
    first.verdict = Verdict::Flaky;
    first.attempts.push(attempt);
}

/// How long the liveness check waits for each answer.
const LIVENESS_WAIT: Duration = Duration::from_secs(3);

/// A trial that ended while (or after) the target died says nothing about
/// the statements it checks.
fn mark_target_died(result: &mut ScenarioResult, why: &str) {
    let was = result.message.take().unwrap_or_default();
    result.verdict = Verdict::Error;
    result.violated.clear();
    result.expected = None;
    result.observed = None;
    result.message = Some(format!(
        "target died / stopped accepting: {} (the trial had ended with: {})",
        first_line(why),
        first_line(&was)
    ));
}

/// Runs the preflight for every version: the versions' CONNACKs, or the
/// reason each version is skipped; an error when the run cannot start.
async fn preflight_all(
    running: &Running,
    profile: &Profile,
    versions: &[ProtocolVersion],
    namespaces: &Namespaces,
) -> Result<BTreeMap<ProtocolVersion, preflight::Ready>, TargetError> {
    let mut ready = BTreeMap::new();
    if running.is_listener() {
        return Ok(ready);
    }
    let mut silent = Vec::new();
    for &v in versions {
        let Some(addr) = running.endpoint(v).dial else {
            continue;
        };
        let ns = namespaces.next();
        let id = format!("{ns}preflight");
        let topic = format!("{ns}/preflight");
        match preflight::check(
            &addr,
            v,
            &id,
            &topic,
            profile.credentials.as_ref(),
            preflight::ANSWER_WAIT,
        )
        .await
        {
            Ok(r) => {
                ready.insert(v, r);
            }
            Err(preflight::Refused::Fatal(why)) => return Err(TargetError(why)),
            Err(preflight::Refused::Silent(why)) => silent.push((v, why)),
        }
    }
    let any_ok = ready
        .values()
        .any(|r| matches!(r, preflight::Ready::Yes(_)));
    if !any_ok {
        if let Some((_, why)) = silent.into_iter().next() {
            return Err(TargetError(why));
        }
        if let Some(preflight::Ready::Unsupported(why)) = ready.values().next() {
            return Err(TargetError(format!("{why}; nothing to run")));
        }
        return Ok(ready);
    }
    for (v, why) in silent {
        ready.insert(v, preflight::Ready::Unsupported(why));
    }
    Ok(ready)
}

/// Trials at once. The embedded rumqttd 0.20.0 takes a DISCONNECT and the
/// close after it as two disconnections of one connection slot; when a new
/// connection has taken the slot in between, it is dropped. Few trials at
/// once keep that from disturbing verdicts on the default target.
fn jobs_for(options: &RunOptions) -> usize {
    let jobs = options.jobs.max(1);
    match options.target {
        #[cfg(feature = "embedded-broker")]
        Target::Embedded => jobs.min(EMBEDDED_JOBS),
        _ => jobs,
    }
}

/// Most trials at once against the embedded broker.
pub const EMBEDDED_JOBS: usize = 4;

/// Variables scenarios may use from the profile.
fn profile_vars(profile: &Profile) -> Vec<(String, serde_json::Value)> {
    let mut vars = Vec::new();
    if let Some(c) = &profile.credentials {
        vars.push(("username".to_string(), json!(c.username)));
        vars.push(("password".to_string(), json!(c.password)));
    }
    if let Some(t) = &profile.denied_topic {
        vars.push(("denied_topic".to_string(), json!(t)));
    }
    if let Some(m) = &profile.auth_method {
        vars.push(("auth_method".to_string(), json!(m)));
        let data = profile.auth_data.as_deref().unwrap_or_default();
        vars.push(("auth_data".to_string(), json!(data)));
    }
    vars
}

/// What the peer supports, per version: the profile, and in 5.0 what the
/// broker's CONNACK announces.
pub struct Capabilities {
    profile: Profile,
    /// `--client`: what the adapter's `hello` announced.
    adapter: Option<crate::driver::Hello>,
    /// 5.0: capability → supported, as the CONNACK says; or why 5.0 is unusable.
    v5: Option<Result<BTreeMap<&'static str, bool>, String>>,
    /// Versions the broker does not speak, with the reason.
    unsupported: BTreeMap<ProtocolVersion, String>,
}

impl Capabilities {
    /// Asks the broker (5.0 only) once for the whole run.
    pub async fn learn(
        running: &Running,
        profile: &Profile,
        versions: &[ProtocolVersion],
        namespaces: &Namespaces,
        login: Option<&engine::Login>,
        wait: Duration,
    ) -> Capabilities {
        let mut v5 = None;
        if versions.contains(&ProtocolVersion::V5) && !running.is_listener() {
            let id = format!("{}probe", namespaces.next());
            let endpoint = running.endpoint(ProtocolVersion::V5);
            v5 = Some(
                match engine::probe::connack(&endpoint, ProtocolVersion::V5, &id, login, wait).await
                {
                    Ok(c) if c.reason_code == 0 => Ok(from_connack(&c)),
                    Ok(c) => Err(format!(
                        "the target refused an MQTT 5.0 CONNECT (CONNACK reason code 0x{:02x})",
                        c.reason_code
                    )),
                    Err(e) => Err(format!("an MQTT 5.0 CONNECT got no usable answer: {e}")),
                },
            );
        }
        let mut profile = profile.clone();
        // Only the target knows whether it has a WebSocket endpoint.
        profile.set_supported("websocket", running.websocket().is_some());
        let mut caps = Capabilities {
            profile,
            v5,
            adapter: running.client.as_ref().map(|c| c.hello.clone()),
            unsupported: BTreeMap::new(),
        };
        caps.probe_zero_length_client_id(running, login, wait).await;
        caps
    }

    /// 5.0: a server may refuse zero-length client IDs (0x85), which its
    /// CONNACK cannot announce; one CONNECT with an empty ID says which it
    /// does (capability `zero_length_client_id`).
    pub async fn probe_zero_length_client_id(
        &mut self,
        running: &Running,
        login: Option<&engine::Login>,
        wait: Duration,
    ) {
        let Some(Ok(map)) = &mut self.v5 else {
            return;
        };
        let endpoint = running.endpoint(ProtocolVersion::V5);
        let answer = engine::probe::connack(&endpoint, ProtocolVersion::V5, "", login, wait).await;
        let accepted = matches!(&answer, Ok(c) if c.reason_code == 0);
        map.insert("zero_length_client_id", accepted);
    }

    /// From what the preflight learned: the 5.0 CONNACK, and the versions
    /// the broker does not speak.
    pub fn from_preflight(
        running: &Running,
        profile: &Profile,
        ready: BTreeMap<ProtocolVersion, preflight::Ready>,
    ) -> Capabilities {
        let mut profile = profile.clone();
        profile.set_supported("websocket", running.websocket().is_some());
        let mut v5 = None;
        let mut unsupported = BTreeMap::new();
        for (v, r) in ready {
            match r {
                preflight::Ready::Yes(c) if v == ProtocolVersion::V5 => {
                    v5 = Some(Ok(from_connack(&c)))
                }
                preflight::Ready::Yes(_) => {}
                preflight::Ready::Unsupported(why) => {
                    unsupported.insert(v, why);
                }
            }
        }
        Capabilities {
            profile,
            v5,
            adapter: running.client.as_ref().map(|c| c.hello.clone()),
            unsupported,
        }
    }

    /// Why `scenario` cannot run on `version` here, if it cannot.
    pub fn skip_reason(
        &self,
        scenario: &Scenario,
        version: ProtocolVersion,
        listener: bool,
    ) -> Option<String> {
        match (scenario.role, listener) {
            (Role::Server, false) => {
                return Some("tests a client; run mqttspec with a listening target".into())
            }
            (Role::Client, true) => return Some("tests a broker; the target is a listener".into()),
            _ => {}
        }
        if let (Role::Server, Some(hello)) = (scenario.role, &self.adapter) {
            return hello.missing(version, &scenario.needs);
        }
        if let Some(why) = self.unsupported.get(&version) {
            return Some(why.clone());
        }
        let announced = match (version, &self.v5) {
            (ProtocolVersion::V5, Some(Err(why))) => return Some(why.clone()),
            (ProtocolVersion::V5, Some(Ok(map))) => Some(map),
            _ => None,
        };
        for need in &scenario.needs {
            let (base, wanted) = match need.strip_prefix("no_") {
                Some(b) => (b, false),
                None => (need.as_str(), true),
            };
            match announced.and_then(|m| m.get(base)) {
                Some(&has) if has != wanted => {
                    return Some(format!(
                        "needs {need}: the broker's CONNACK says {base} is {}",
                        if has { "available" } else { "not available" }
                    ));
                }
                Some(_) => {}
                None => {
                    if let Some(why) = self.profile.missing(std::slice::from_ref(need)) {
                        return Some(why);
                    }
                }
            }
        }
        None
    }
}

/// Capabilities a 5.0 CONNACK announces; absent properties mean "available"
/// except Topic Alias Maximum, whose absence means 0 (no aliases).
fn from_connack(c: &Connack) -> BTreeMap<&'static str, bool> {
    let p = &c.properties;
    let qos = p.maximum_qos.unwrap_or(2);
    BTreeMap::from([
        ("retain", p.retain_available != Some(0)),
        ("qos1", qos >= 1),
        ("qos2", qos >= 2),
        ("wildcards", p.wildcard_subscription_available != Some(0)),
        (
            "shared_subscriptions",
            p.shared_subscription_available != Some(0),
        ),
        (
            "subscription_identifiers",
            p.subscription_identifier_available != Some(0),
        ),
        ("topic_alias", p.topic_alias_maximum.unwrap_or(0) > 0),
    ])
}

/// A result for a trial that did not run.
pub fn not_run(
    s: &Scenario,
    v: ProtocolVersion,
    verdict: Verdict,
    message: String,
) -> ScenarioResult {
    ScenarioResult {
        id: s.id.clone(),
        title: s.title.clone(),
        protocol: v,
        requirements: s.requirements.clone(),
        section: s.section.clone(),
        verdict,
        violated: Vec::new(),
        message: Some(message),
        expected: None,
        observed: None,
        notes: Vec::new(),
        duration: Duration::ZERO,
        transcript: Transcript::default(),
        source: format!("{}:{}", s.source.file.display(), s.source.line),
        attempts: Vec::new(),
    }
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or(s)
}

/// `2024-05-01T12:34:56Z` (UTC, whole seconds).
pub fn rfc3339(t: SystemTime) -> String {
    let secs = t
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (y, m, d) = civil_from_days(days as i64);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Days since 1970-01-01 to a proleptic Gregorian date (H. Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::Violation;

    #[test]
    fn rfc3339_dates() {
        let at = |s: u64| rfc3339(SystemTime::UNIX_EPOCH + Duration::from_secs(s));
        assert_eq!(at(0), "1970-01-01T00:00:00Z");
        assert_eq!(at(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(at(1_709_251_199), "2024-02-29T23:59:59Z");
        assert_eq!(at(4_102_444_800), "2100-01-01T00:00:00Z");
    }

    fn result(verdict: Verdict, violated: &[&str], message: &str) -> ScenarioResult {
        ScenarioResult {
            id: "s".into(),
            title: String::new(),
            protocol: ProtocolVersion::V3_1_1,
            requirements: vec!["MQTT-1".into()],
            section: "1".into(),
            verdict,
            violated: violated.iter().map(|v| Violation::duty(*v)).collect(),
            message: Some(message.into()),
            expected: None,
            observed: None,
            notes: Vec::new(),
            duration: Duration::ZERO,
            transcript: Transcript::default(),
            source: String::new(),
            attempts: Vec::new(),
        }
    }

    #[test]
    fn a_retry_with_another_outcome_is_flaky_with_both_runs() {
        let mut first = result(Verdict::Fail, &["MQTT-1"], "closed\nearly");
        judge_retry(&mut first, result(Verdict::Pass, &[], ""));
        assert_eq!(first.verdict, Verdict::Flaky);
        assert_eq!(first.attempts.len(), 1);
        assert_eq!(first.attempts[0].verdict, Verdict::Pass);
        let m = first.message.unwrap();
        assert!(m.contains("fail: closed") && m.contains("pass"), "{m}");
        // A failure on another statement is another outcome too.
        let mut first = result(Verdict::Fail, &["MQTT-1"], "x");
        judge_retry(&mut first, result(Verdict::Fail, &["MQTT-2"], "y"));
        assert_eq!(first.verdict, Verdict::Flaky);
    }

    #[test]
    fn a_retry_with_the_same_outcome_confirms_it() {
        let mut first = result(Verdict::Fail, &["MQTT-1"], "x");
        judge_retry(&mut first, result(Verdict::Fail, &["MQTT-1"], "x again"));
        assert_eq!(first.verdict, Verdict::Fail);
        assert!(first.attempts.is_empty());
        assert_eq!(first.notes.len(), 1);
    }

    #[test]
    fn connack_capabilities() {
        let mut c = Connack::default();
        let m = from_connack(&c);
        assert!(m["retain"] && m["qos2"] && !m["topic_alias"]);
        c.properties.maximum_qos = Some(1);
        c.properties.retain_available = Some(0);
        c.properties.topic_alias_maximum = Some(10);
        let m = from_connack(&c);
        assert!(!m["retain"] && m["qos1"] && !m["qos2"] && m["topic_alias"]);
    }
}
