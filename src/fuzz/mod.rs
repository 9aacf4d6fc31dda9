//! The network fuzzer behind `mqttspec fuzz`: sessions built from the
//! scenario corpus and the packet generator, mutated ([`mutate`]), played
//! against a broker at high rate ([`exec`]), judged by four oracles (crash,
//! hang, memory: [`monitor`]; spec violation: [`oracle`]), minimised
//! ([`minimise`]) and written as replayable scenarios ([`finding`]).
//!
//! Inputs are deterministic: session `i` of a run is built from the run's
//! seed and `i` alone, and `--shard I/N` runs the indices `I-1, I-1+N, ...`.
//! A violation is kept only when the scenario engine, replaying the
//! written scenario, fails it too.

pub mod corpus;
pub mod exec;
pub mod finding;
pub mod minimise;
pub mod monitor;
pub mod mutate;
pub mod oracle;
pub mod rng;
pub mod session;

use crate::codec::ProtocolVersion;
use crate::engine::{run_scenario, EngineConfig};
use crate::outcome::Verdict;
use crate::spec::catalog::Catalogs;
use crate::target::{self, Running, Target};
use exec::{execute, Timing};
use finding::Finding;
use oracle::{judge, plans, Oracle, Violation};
use rng::{session_seed, Rng};
use serde::Serialize;
use session::Session;
use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, Mutex, RwLock};

/// Everything `mqttspec fuzz` was asked to do.
#[derive(Debug, Clone)]
pub struct FuzzConfig {
    pub target: Target,
    pub versions: Vec<ProtocolVersion>,
    pub duration: Option<Duration>,
    pub sessions: Option<u64>,
    pub seed: u64,
    pub jobs: usize,
    /// `(I, N)`, 1 <= I <= N.
    pub shard: (u64, u64),
    pub findings: Option<PathBuf>,
    pub corpus: Option<PathBuf>,
    /// Bytes.
    pub rss_limit: Option<u64>,
    /// How findings name the broker (default: what the target says).
    pub broker: Option<String>,
    pub timing: Timing,
    /// Deadline of the liveness probe's CONNACK.
    pub hang_deadline: Duration,
    /// How often the broker's health is checked.
    pub check_every: Duration,
}

impl Default for FuzzConfig {
    fn default() -> Self {
        FuzzConfig {
            #[cfg(feature = "embedded-broker")]
            target: Target::Embedded,
            #[cfg(not(feature = "embedded-broker"))]
            target: Target::Tcp("127.0.0.1:1883".into()),
            versions: vec![ProtocolVersion::V3_1_1, ProtocolVersion::V5],
            duration: Some(Duration::from_secs(60)),
            sessions: None,
            seed: 0,
            jobs: 32,
            shard: (1, 1),
            findings: None,
            corpus: None,
            rss_limit: None,
            broker: None,
            timing: Timing::default(),
            hang_deadline: Duration::from_secs(2),
            check_every: Duration::from_secs(1),
        }
    }
}

#[derive(Debug)]
pub enum FuzzError {
    /// A bad corpus or findings folder.
    Usage(String),
    /// The target could not be started or reached.
    Target(String),
}

/// One finding in the summary (`--json`).
#[derive(Debug, Clone, Serialize)]
pub struct FindingRecord {
    pub oracle: &'static str,
    pub statement: Option<String>,
    pub description: String,
    /// Path of the finding's scenario file (when `--findings` is given).
    pub scenario: Option<String>,
    pub seed: u64,
    pub session: u64,
}

/// What the status line shows.
#[derive(Debug, Clone, Default)]
pub struct Progress {
    pub sessions: u64,
    pub elapsed: Duration,
    /// crash, hang, memory, violation.
    pub findings: [u64; 4],
    /// Bit per packet type written.
    pub types: u16,
    /// Uses of each of [`mutate::MUTATORS`].
    pub mutators: Vec<u64>,
}

impl Progress {
    pub fn rate(&self) -> f64 {
        let s = self.elapsed.as_secs_f64();
        if s > 0.0 {
            self.sessions as f64 / s
        } else {
            0.0
        }
    }
}

/// The summary (`--json`; schema in `reports/schema/fuzz-summary.schema.json`).
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub seed: u64,
    pub sessions: u64,
    pub duration_s: f64,
    pub sessions_per_s: f64,
    pub findings: Vec<FindingRecord>,
    pub target: String,
    pub broker: String,
    pub protocols: Vec<String>,
    pub shard: String,
    /// Packet types written at least once.
    pub packet_types: Vec<String>,
    /// Uses of each mutator.
    pub mutators: BTreeMap<String, u64>,
    /// Candidate findings dropped because a replay did not show them again.
    pub unconfirmed: u64,
}

/// Per-version addresses of the broker; they change when it is restarted.
type Addrs = Arc<std::sync::RwLock<BTreeMap<u8, String>>>;

fn addrs_of(r: &Running, versions: &[ProtocolVersion]) -> BTreeMap<u8, String> {
    versions
        .iter()
        .filter_map(|v| r.endpoint(*v).dial.map(|a| (v.level(), a)))
        .collect()
}

fn addr(addrs: &Addrs, v: ProtocolVersion) -> String {
    addrs
        .read()
        .unwrap_or_else(|p| p.into_inner())
        .get(&v.level())
        .cloned()
        .unwrap_or_default()
}

/// What a worker reports about one session.
struct Done {
    built: mutate::Built,
    session: Session,
    violation: Option<(Violation, Vec<Vec<u8>>)>,
    suspicious: bool,
}

/// Loads the seeds of the chosen versions.
fn load_seeds(cfg: &FuzzConfig) -> Result<(Catalogs, Vec<corpus::Seed>), FuzzError> {
    let (catalogs, scenarios) =
        crate::scenario::load_suite(None).map_err(|e| FuzzError::Usage(e.to_string()))?;
    let mut seeds = corpus::from_scenarios(&scenarios, &cfg.versions);
    if let Some(dir) = &cfg.corpus {
        let yaml = crate::scenario::loader::scenario_paths(dir)
            .map(|p| !p.is_empty())
            .unwrap_or(false);
        if yaml {
            let extra = crate::scenario::load_dir(dir, &catalogs)
                .map_err(|e| FuzzError::Usage(e.to_string()))?;
            seeds.extend(corpus::from_scenarios(&extra, &cfg.versions));
        }
        let raw = corpus::raw_files(dir, &cfg.versions)
            .map_err(|e| FuzzError::Usage(format!("{}: {e}", dir.display())))?;
        seeds.extend(raw);
    }
    Ok((catalogs, seeds))
}

/// Builds sessions on a thread of its own (the generator's strategies stay
/// on it) until the receiver is dropped or `count` sessions are built.
fn spawn_generator(
    cfg: &FuzzConfig,
    seeds: Vec<corpus::Seed>,
    tx: mpsc::Sender<mutate::Built>,
) -> std::thread::JoinHandle<()> {
    let (shard_i, shard_n) = cfg.shard;
    let versions = cfg.versions.clone();
    let run_seed = cfg.seed;
    let count = cfg.sessions;
    std::thread::spawn(move || {
        let gen = mutate::Generator::default();
        let by_version: Vec<Vec<&corpus::Seed>> = versions
            .iter()
            .map(|v| seeds.iter().filter(|s| s.version == *v).collect())
            .collect();
        let mut k = 0u64;
        let mut built_count = 0u64;
        loop {
            if count.is_some_and(|c| built_count >= c) {
                break;
            }
            let index = (shard_i - 1) + k * shard_n;
            k += 1;
            let mut rng = Rng::new(session_seed(run_seed, index));
            let vi = rng.below(versions.len());
            let pool = &by_version[vi];
            let seed = (!pool.is_empty() && rng.chance(3, 4)).then(|| *rng.pick(pool));
            let built = mutate::build(index, versions[vi], seed, &mut rng, &gen);
            if built.session.is_none() {
                continue;
            }
            built_count += 1;
            if tx.blocking_send(built).is_err() {
                break;
            }
        }
    })
}

pub async fn run(
    cfg: &FuzzConfig,
    progress: &mut (dyn FnMut(&Progress) + Send),
) -> Result<Summary, FuzzError> {
    let (catalogs, seeds) = load_seeds(cfg)?;
    if let Some(dir) = &cfg.findings {
        std::fs::create_dir_all(dir)
            .map_err(|e| FuzzError::Usage(format!("{}: {e}", dir.display())))?;
    }
    #[cfg(feature = "embedded-broker")]
    if cfg.target == Target::Embedded {
        monitor::watch_embedded_panics();
    }
    let running = target::start(&cfg.target)
        .await
        .map_err(|e| FuzzError::Target(e.0))?;
    let broker = cfg
        .broker
        .clone()
        .or_else(|| running.broker.clone())
        .unwrap_or_else(|| running.description.clone());
    let addrs: Addrs = Arc::new(std::sync::RwLock::new(addrs_of(&running, &cfg.versions)));
    // Every address must answer before the run starts.
    for v in &cfg.versions {
        let a = addr(&addrs, *v);
        if let Err(e) = monitor::probe(&a, *v, "mqttspecfzstart", Duration::from_secs(5)).await {
            running.stop().await;
            return Err(FuzzError::Target(format!(
                "{broker} at {a} (MQTT {v}): {e}"
            )));
        }
    }
    let mut fz = Fuzzer {
        cfg: cfg.clone(),
        catalogs: Arc::new(catalogs),
        running: Some(running),
        addrs,
        broker,
        gate: Arc::new(RwLock::new(())),
        seen: HashSet::new(),
        known: Arc::new(std::sync::RwLock::new(HashSet::new())),
        tries: HashMap::new(),
        findings: Vec::new(),
        records: Vec::new(),
        recent: VecDeque::new(),
        stderr_seen: 0,
        unconfirmed: 0,
        stopped: false,
        probes: 0,
    };
    if let Some((_, n)) = fz.running.as_ref().and_then(Running::stderr) {
        fz.stderr_seen = n;
    }
    let result = fz.fuzz(seeds, progress).await;
    if let Some(r) = fz.running.take() {
        r.stop().await;
    }
    result
}

/// What violation triage needs; it runs beside the fuzzing, one candidate
/// at a time.
struct Triage {
    addrs: Addrs,
    catalogs: Arc<Catalogs>,
    broker: String,
    seed: u64,
    timing: Timing,
}

impl Triage {
    /// Replays `s` alone and returns its violation, if any.
    async fn replay(&self, s: &Session, timing: &Timing) -> Option<(Violation, Vec<Vec<u8>>)> {
        let a = addr(&self.addrs, s.version);
        let plans = plans(s);
        let obs = execute(&a, s, &plans, timing).await;
        judge(s, &plans, &obs).map(|v| (v, obs.conns.iter().map(|c| c.received.clone()).collect()))
    }

    /// A candidate violation: confirmed alone, minimised, written, and kept
    /// only if the scenario engine fails the written scenario too.
    async fn violation(&self, s: Session, v: Violation) -> Option<Finding> {
        let want = v.key();
        let slow = Timing {
            close_wait: Duration::from_secs(2),
            settle: Duration::from_millis(50),
            ..self.timing
        };
        let (first, _) = self.replay(&s, &slow).await?;
        if first.key() != want {
            return None;
        }
        let check = Timing {
            close_wait: Duration::from_millis(300),
            settle: Duration::from_millis(20),
            ..self.timing
        };
        let mut holds = SameViolation {
            triage: self,
            timing: check,
            want: want.clone(),
        };
        let small = minimise::minimise(&s, &mut holds, 300).await;
        let (v2, received) = self
            .replay(&small, &slow)
            .await
            .filter(|(x, _)| x.key() == want)?;
        let f = Finding {
            oracle: Oracle::Violation,
            statement: v2.statement.clone(),
            description: match &v2.rule {
                Some(r) => format!("{} (the client's packet breaks {r})", v2.description),
                None => v2.description.clone(),
            },
            signature: v2.key(),
            session: small,
            violation: Some(v2),
            received,
            seed: self.seed,
            minimised: true,
        };
        self.engine_fails(&f).await.then_some(f)
    }

    /// Whether the scenario engine, replaying the finding's scenario, fails it.
    async fn engine_fails(&self, f: &Finding) -> bool {
        let plans = plans(&f.session);
        let (name, text) = finding::scenario(f, &self.broker, &plans);
        let Ok(scenarios) = crate::scenario::load_str(&name, &text, &self.catalogs) else {
            return false;
        };
        let endpoint = crate::target::Endpoint {
            dial: Some(addr(&self.addrs, f.session.version)),
            ..Default::default()
        };
        for sc in &scenarios {
            let r = run_scenario(
                sc,
                f.session.version,
                "fzreplay",
                &endpoint,
                &EngineConfig::default(),
            )
            .await;
            if r.verdict == Verdict::Fail {
                return true;
            }
        }
        false
    }
}

/// A replay alone still shows the same violation.
struct SameViolation<'a> {
    triage: &'a Triage,
    timing: Timing,
    want: String,
}

impl minimise::Holds for SameViolation<'_> {
    async fn holds(&mut self, s: Session) -> bool {
        matches!(self.triage.replay(&s, &self.timing).await, Some((x, _)) if x.key() == self.want)
    }
}

/// A replay alone crashes or hangs the broker again.
struct Reproduces<'a> {
    fuzzer: &'a mut Fuzzer,
    oracle: Oracle,
}

impl minimise::Holds for Reproduces<'_> {
    async fn holds(&mut self, s: Session) -> bool {
        self.fuzzer.reproduces(&s, self.oracle).await
    }
}

struct Fuzzer {
    cfg: FuzzConfig,
    catalogs: Arc<Catalogs>,
    running: Option<Running>,
    addrs: Addrs,
    broker: String,
    /// Sessions hold it shared; health checks and triage hold it alone,
    /// so they see a quiet broker.
    gate: Arc<RwLock<()>>,
    seen: HashSet<String>,
    /// Violation keys already found or given up on; sessions that can
    /// only repeat them do not wait long for a close.
    known: Arc<std::sync::RwLock<HashSet<String>>>,
    /// Triage attempts per violation key.
    tries: HashMap<String, u32>,
    findings: Vec<Finding>,
    records: Vec<FindingRecord>,
    /// Sessions since the broker was last seen healthy, newest last.
    recent: VecDeque<Session>,
    stderr_seen: u64,
    unconfirmed: u64,
    /// The target is gone and cannot be restarted.
    stopped: bool,
    probes: u64,
}

/// Sessions kept for finding the one that crashed or hung the broker.
const RECENT: usize = 256;

impl Fuzzer {
    async fn fuzz(
        &mut self,
        seeds: Vec<corpus::Seed>,
        progress: &mut (dyn FnMut(&Progress) + Send),
    ) -> Result<Summary, FuzzError> {
        let started = Instant::now();
        let (btx, brx) = mpsc::channel::<mutate::Built>(1024);
        let generator = spawn_generator(&self.cfg, seeds, btx);
        let brx = Arc::new(Mutex::new(brx));
        let (dtx, mut drx) = mpsc::channel::<Done>(1024);
        let stop = Arc::new(AtomicBool::new(false));
        let mut workers = Vec::new();
        for _ in 0..self.cfg.jobs {
            let brx = brx.clone();
            let dtx = dtx.clone();
            let gate = self.gate.clone();
            let addrs = self.addrs.clone();
            let stop = stop.clone();
            let known = self.known.clone();
            let timing = self.cfg.timing;
            workers.push(tokio::spawn(async move {
                loop {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    let next = brx.lock().await.recv().await;
                    let Some(mut built) = next else { break };
                    let Some(session) = built.session.take() else {
                        continue;
                    };
                    let _g = gate.read().await;
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    let a = addr(&addrs, session.version);
                    let plans = plans(&session);
                    let repeat = {
                        let k = known.read().unwrap_or_else(|p| p.into_inner());
                        plans
                            .iter()
                            .filter_map(|p| p.bad.as_ref())
                            .any(|b| k.contains(&b.not_closed_key()))
                    };
                    let t = if repeat {
                        Timing {
                            close_wait: timing.settle * 4,
                            ..timing
                        }
                    } else {
                        timing
                    };
                    let obs = execute(&a, &session, &plans, &t).await;
                    let violation = judge(&session, &plans, &obs)
                        .map(|v| (v, obs.conns.iter().map(|c| c.received.clone()).collect()));
                    let suspicious = obs.suspicious();
                    drop(_g);
                    let done = Done {
                        built,
                        session,
                        violation,
                        suspicious,
                    };
                    if dtx.send(done).await.is_err() {
                        break;
                    }
                }
            }));
        }
        drop(dtx);
        let (ttx, mut trx) = mpsc::channel::<(Session, Violation)>(64);
        let (rtx, mut rrx) = mpsc::channel::<(String, Option<Finding>)>(64);
        let triage = Triage {
            addrs: self.addrs.clone(),
            catalogs: self.catalogs.clone(),
            broker: self.broker.clone(),
            seed: self.cfg.seed,
            timing: self.cfg.timing,
        };
        let triage_task = tokio::spawn(async move {
            while let Some((s, v)) = trx.recv().await {
                let key = v.key();
                let f = triage.violation(s, v).await;
                if rtx.send((key, f)).await.is_err() {
                    break;
                }
            }
        });
        let mut pending: HashSet<String> = HashSet::new();
        let mut p = Progress {
            mutators: vec![0; mutate::MUTATORS.len()],
            ..Progress::default()
        };
        let mut tick = tokio::time::interval(Duration::from_millis(250));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut last_check = Instant::now();
        loop {
            let out_of_time = self.cfg.duration.is_some_and(|d| started.elapsed() >= d);
            if out_of_time || self.stopped {
                p.elapsed = started.elapsed();
                break;
            }
            tokio::select! {
                d = drx.recv() => {
                    let Some(d) = d else {
                        p.elapsed = started.elapsed();
                        break;
                    };
                    p.sessions += 1;
                    p.types |= d.built.types;
                    for m in &d.built.mutators {
                        p.mutators[*m] += 1;
                    }
                    if self.recent.len() >= RECENT {
                        self.recent.pop_front();
                    }
                    self.recent.push_back(d.session.clone());
                    if let Some((v, _received)) = d.violation {
                        let key = v.key();
                        let known = self.known.read().unwrap_or_else(|p| p.into_inner()).contains(&key);
                        if !known && !pending.contains(&key) && ttx.try_send((d.session, v)).is_ok() {
                            pending.insert(key);
                        }
                    }
                    if d.suspicious {
                        self.health().await;
                        last_check = Instant::now();
                    }
                }
                r = rrx.recv() => {
                    let Some((key, found)) = r else { continue };
                    pending.remove(&key);
                    match found {
                        Some(f) => {
                            self.known.write().unwrap_or_else(|p| p.into_inner()).insert(key);
                            self.keep(f);
                        }
                        None => {
                            self.unconfirmed += 1;
                            let tries = self.tries.entry(key.clone()).or_insert(0);
                            *tries += 1;
                            if *tries >= 3 {
                                // It never reproduces alone: stop spending time on it.
                                self.known.write().unwrap_or_else(|p| p.into_inner()).insert(key);
                            }
                        }
                    }
                }
                _ = tick.tick() => {
                    if last_check.elapsed() >= self.cfg.check_every {
                        self.health().await;
                        last_check = Instant::now();
                    }
                    p.elapsed = started.elapsed();
                    p.findings = self.counts();
                    progress(&p);
                }
            }
        }
        stop.store(true, Ordering::Relaxed);
        // Candidates under triage still count when they finish soon.
        let grace = Instant::now() + Duration::from_secs(30);
        while !pending.is_empty() && !self.stopped {
            match tokio::time::timeout_at(grace.into(), rrx.recv()).await {
                Ok(Some((key, found))) => {
                    pending.remove(&key);
                    if let Some(f) = found {
                        self.known
                            .write()
                            .unwrap_or_else(|p| p.into_inner())
                            .insert(key);
                        self.keep(f);
                    } else {
                        self.unconfirmed += 1;
                    }
                }
                _ => break,
            }
        }
        drop(ttx);
        triage_task.abort();
        // Unblock the generator and the workers.
        brx.lock().await.close();
        while drx.try_recv().is_ok() {}
        drop(drx);
        for w in workers {
            if let Err(e) = w.await {
                if e.is_panic() {
                    std::panic::resume_unwind(e.into_panic());
                }
            }
        }
        let _ = tokio::task::spawn_blocking(move || generator.join()).await;
        if !self.stopped {
            self.health().await;
        }
        p.findings = self.counts();
        progress(&p);
        let secs = p.elapsed.as_secs_f64();
        Ok(Summary {
            seed: self.cfg.seed,
            sessions: p.sessions,
            duration_s: (secs * 1000.0).round() / 1000.0,
            sessions_per_s: (p.rate() * 10.0).round() / 10.0,
            findings: self.records.clone(),
            target: self.cfg.target.to_string(),
            broker: self.broker.clone(),
            protocols: self.cfg.versions.iter().map(|v| v.to_string()).collect(),
            shard: format!("{}/{}", self.cfg.shard.0, self.cfg.shard.1),
            packet_types: (1..=15u8)
                .filter(|t| p.types & (1 << t) != 0)
                .filter_map(crate::codec::PacketType::from_nibble)
                .map(|t| t.name().to_string())
                .collect(),
            mutators: mutate::MUTATORS
                .iter()
                .zip(&p.mutators)
                .map(|(m, n)| (m.to_string(), *n))
                .collect(),
            unconfirmed: self.unconfirmed,
        })
    }

    fn counts(&self) -> [u64; 4] {
        let mut c = [0u64; 4];
        for f in &self.findings {
            c[f.oracle as usize] += 1;
        }
        c
    }

    fn keep(&mut self, f: Finding) {
        let plans = plans(&f.session);
        let (name, text) = finding::scenario(&f, &self.broker, &plans);
        let scenario = self.cfg.findings.as_ref().and_then(|dir| {
            let path = dir.join(&name);
            std::fs::write(&path, text)
                .ok()
                .map(|_| path.display().to_string())
        });
        self.records.push(FindingRecord {
            oracle: f.oracle.name(),
            statement: f.statement.clone(),
            description: f.description.clone(),
            scenario,
            seed: f.seed,
            session: f.session.index,
        });
        self.findings.push(f);
    }

    /// Crash, memory and liveness checks, on a quiet broker.
    async fn health(&mut self) {
        let gate = self.gate.clone();
        let _g = gate.write().await;
        if let Some((oracle, message)) = self.sick().await {
            self.triage(oracle, message).await;
        }
        self.recent.clear();
    }

    /// What is wrong with the broker now, if anything.
    async fn sick(&mut self) -> Option<(Oracle, String)> {
        let running = self.running.as_ref()?;
        if let Some(why) = running.died() {
            let line = monitor::crash_line(&why)
                .unwrap_or_else(|| why.lines().next().unwrap_or("").to_string());
            return Some((Oracle::Crash, line));
        }
        if let Some((tail, written)) = running.stderr() {
            if written > self.stderr_seen {
                let new = (written - self.stderr_seen) as usize;
                self.stderr_seen = written;
                let start = tail.len().saturating_sub(new);
                let start = (start..tail.len())
                    .find(|i| tail.is_char_boundary(*i))
                    .unwrap_or(tail.len());
                if let Some(line) = monitor::crash_line(&tail[start..]) {
                    return Some((Oracle::Crash, line));
                }
            }
        }
        if let Some(line) = monitor::take_embedded_panics().into_iter().next() {
            return Some((Oracle::Crash, line));
        }
        if let (Some(limit), Some(pgid)) = (self.cfg.rss_limit, running.process_group()) {
            if let Some(rss) = monitor::group_rss(pgid) {
                if rss > limit {
                    return Some((
                        Oracle::Memory,
                        format!(
                            "resident memory {} MiB is over the limit of {} MiB",
                            rss >> 20,
                            limit >> 20
                        ),
                    ));
                }
            }
        }
        let v = self.cfg.versions[0];
        self.probes += 1;
        let id = format!("mqttspecfzprobe{}", self.probes);
        let a = addr(&self.addrs, v);
        if monitor::probe(&a, v, &id, self.cfg.hang_deadline)
            .await
            .is_ok()
        {
            return None;
        }
        // Once more, so a single slow answer is not a hang.
        match monitor::probe(&a, v, &id, self.cfg.hang_deadline).await {
            Ok(_) => None,
            Err(e) => {
                if let Some(why) = self.running.as_ref().and_then(Running::died) {
                    return Some((Oracle::Crash, monitor::crash_line(&why).unwrap_or(why)));
                }
                Some((Oracle::Hang, format!("a fresh CONNECT got no CONNACK: {e}")))
            }
        }
    }

    /// Whether the broker is unwell right now (without consuming its stderr).
    async fn sick_now(&mut self) -> Option<Oracle> {
        let seen = self.stderr_seen;
        let r = self.sick().await.map(|(o, _)| o);
        self.stderr_seen = seen;
        r
    }

    /// Restarts a spawned broker; a TCP target cannot be restarted.
    async fn restart(&mut self) -> bool {
        if !matches!(self.cfg.target, Target::Spawn { .. }) {
            return false;
        }
        if let Some(r) = self.running.take() {
            r.stop().await;
        }
        match target::start(&self.cfg.target).await {
            Ok(r) => {
                *self.addrs.write().unwrap_or_else(|p| p.into_inner()) =
                    addrs_of(&r, &self.cfg.versions);
                self.stderr_seen = r.stderr().map_or(0, |(_, n)| n);
                self.running = Some(r);
                true
            }
            Err(_) => false,
        }
    }

    /// Finds the session that makes the broker crash or hang, minimises it
    /// and keeps the finding.
    async fn triage(&mut self, oracle: Oracle, message: String) {
        let first_line = message.lines().next().unwrap_or("").to_string();
        let signature = match oracle {
            Oracle::Hang => "no CONNACK".to_string(),
            Oracle::Memory => "rss".to_string(),
            _ => monitor::signature(&first_line),
        };
        let key = format!("{}|-|{signature}", oracle.name());
        let recent: Vec<Session> = self.recent.iter().rev().cloned().collect();
        let restartable = self.restart().await;
        if !restartable && oracle != Oracle::Memory {
            // The broker is gone or stuck for good: report and stop.
            if matches!(oracle, Oracle::Crash | Oracle::Hang) {
                self.stopped = self.running.as_ref().is_none_or(|r| r.died().is_some())
                    || oracle == Oracle::Hang;
            }
        }
        if self.seen.contains(&key) {
            return;
        }
        self.seen.insert(key);
        let mut culprit = None;
        let alive = restartable || self.sick_now().await.is_none();
        if alive && oracle != Oracle::Memory {
            let deadline = Instant::now() + Duration::from_secs(60);
            for s in recent.iter().take(64) {
                if Instant::now() > deadline {
                    break;
                }
                if self.reproduces(s, oracle).await {
                    culprit = Some(s.clone());
                    break;
                }
            }
        }
        let (session, minimised, note) = match culprit {
            Some(s) => {
                let mut holds = Reproduces { fuzzer: self, oracle };
                let small = minimise::minimise(&s, &mut holds, 60).await;
                (small, true, String::new())
            }
            None => (
                recent.first().cloned().unwrap_or(Session {
                    index: 0,
                    version: self.cfg.versions[0],
                    ops: Vec::new(),
                    origin: "none".into(),
                }),
                false,
                "\n(no single session reproduced it alone; the scenario holds the last session before it)".to_string(),
            ),
        };
        let f = Finding {
            oracle,
            statement: Some(finding::liveness_statement(session.version).to_string()),
            description: format!("{message}{note}"),
            signature,
            session,
            violation: None,
            received: Vec::new(),
            seed: self.cfg.seed,
            minimised,
        };
        self.keep(f);
    }

    /// Plays `s` alone on a healthy broker and checks the oracle; restarts
    /// the broker afterwards when it crashed or hung.
    async fn reproduces(&mut self, s: &Session, oracle: Oracle) -> bool {
        let a = addr(&self.addrs, s.version);
        let plans = plans(s);
        let _ = execute(&a, s, &plans, &self.cfg.timing).await;
        tokio::time::sleep(Duration::from_millis(50)).await;
        let hit = match self.sick().await {
            Some((o, _)) => o == oracle,
            None => false,
        };
        let broken = self.running.as_ref().is_none_or(|r| r.died().is_some());
        if hit || broken {
            self.restart().await;
        }
        hit
    }
}
