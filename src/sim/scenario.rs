//! Scenario files: instances, tasks, stage timings, WAL, network and replay throughput,
//! disconnect episodes, precheck results, response shape and faults. JSON; documented in
//! `assets/scenarios/README.md`.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;

use chrono::{DateTime, FixedOffset, Utc};
use serde::{Deserialize, Deserializer};

use super::detail::{CHECKS, CheckResult, CheckStatus};
use super::faults::FaultSpec;
use super::quantity::{Bytes, Rate, Secs};
use super::render::Shape;
use crate::model::{Lsn, Stage};

/// The built-in scenario, embedded at build time.
pub const DEFAULT_JSON: &str = include_str!("../../assets/scenarios/default.json");

/// A whole scenario.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// Offset of the timestamps in ReplicationInfo and Detail (default `+08:00`).
    #[serde(default = "default_tz", deserialize_with = "offset")]
    pub timezone: FixedOffset,
    /// Calendar time of simulated second 0 (default: when the simulator starts).
    #[serde(default)]
    pub epoch: Option<DateTime<Utc>>,
    /// `"sample"` (default), `"plain"`, or an object of [`Shape`] fields.
    #[serde(default, deserialize_with = "shape")]
    pub shape: Shape,
    #[serde(default)]
    pub faults: Vec<FaultSpec>,
    pub instances: Vec<InstanceSpec>,
}

/// One RDS instance and its tasks.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InstanceSpec {
    pub id: String,
    #[serde(default)]
    pub tasks: Vec<TaskSpec>,
    /// What the simulated probe's checklist finds on this instance's source (unlogged
    /// relations, logical slots, ...), as the checklist's own items; a session holding an
    /// xid is added while the source writes.
    #[serde(default)]
    pub source_checklist: Vec<crate::probe::checklist::Finding>,
}

/// One migration task.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskSpec {
    pub id: i64,
    pub name: String,
    pub source: SourceSpec,
    /// A `CreateCloudMigrationPrecheckTask` task: stops after the precheck.
    #[serde(default)]
    pub precheck_only: bool,
    /// The stage at simulated time 0.
    #[serde(default = "default_stage", deserialize_with = "stage")]
    pub stage: Stage,
    /// How long the task has already been in `stage` at time 0.
    #[serde(default)]
    pub in_stage_for: Secs,
    #[serde(default)]
    pub precheck: PrecheckSpec,
    #[serde(default)]
    pub basebackup: BasebackupSpec,
    #[serde(default)]
    pub startup: DurationSpec<20>,
    /// Time spent in increment before a switchover (history of tasks that start in switch/success).
    #[serde(default = "default_increment_for")]
    pub increment_for: Secs,
    #[serde(default)]
    pub switch: DurationSpec<8>,
    /// The source's WAL position (`pg_current_wal_lsn()`) at time 0.
    #[serde(default = "default_lsn", deserialize_with = "lsn")]
    pub lsn: Lsn,
    /// How far replay is behind the source at time 0 (stages startup and increment).
    #[serde(default)]
    pub lag: Bytes,
    #[serde(default = "one")]
    pub timeline: u32,
    #[serde(default)]
    pub wal: WalSpec,
    #[serde(default = "default_network")]
    pub network: Throughput,
    #[serde(default = "default_replay")]
    pub replay: Throughput,
    #[serde(default)]
    pub disconnects: Vec<Disconnect>,
}

/// Where the source runs. The password is returned by the API and never printed.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceSpec {
    pub ip: String,
    #[serde(default = "default_port")]
    pub port: u16,
    #[serde(default = "default_account")]
    pub account: String,
    #[serde(deserialize_with = "text_or_number")]
    pub password: String,
    #[serde(default = "default_category")]
    pub category: String,
}

/// Precheck timing and results (every check succeeds unless listed).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrecheckSpec {
    #[serde(default = "default_precheck_duration")]
    pub duration: Secs,
    /// Check key (see the README) → `success`, `warning`, `fail`, or `{status, message}`.
    #[serde(default)]
    pub results: BTreeMap<String, CheckResult>,
}

impl Default for PrecheckSpec {
    fn default() -> Self {
        PrecheckSpec {
            duration: default_precheck_duration(),
            results: BTreeMap::new(),
        }
    }
}

impl PrecheckSpec {
    /// One result per check, in [`CHECKS`] order.
    pub fn resolved(&self) -> Vec<CheckResult> {
        CHECKS
            .iter()
            .map(|c| {
                self.results
                    .get(c.key)
                    .cloned()
                    .unwrap_or(CheckResult::Status(CheckStatus::Success))
            })
            .collect()
    }

    /// Whether any check fails (the task then stays in precheck).
    pub fn fails(&self) -> bool {
        self.results
            .values()
            .any(|r| r.status() == CheckStatus::Fail)
    }
}

/// The full backup: how much and how fast.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BasebackupSpec {
    #[serde(default = "default_backup_size")]
    pub size: Bytes,
    #[serde(default = "default_backup_rate")]
    pub rate: Rate,
}

impl Default for BasebackupSpec {
    fn default() -> Self {
        BasebackupSpec {
            size: default_backup_size(),
            rate: default_backup_rate(),
        }
    }
}

impl BasebackupSpec {
    /// Seconds the backup takes.
    pub fn duration(&self) -> f64 {
        if self.rate.0 <= 0.0 {
            0.0
        } else {
            self.size.0 as f64 / self.rate.0
        }
    }
}

/// A stage that just takes a while (default `D` seconds).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DurationSpec<const D: u32> {
    pub duration: Secs,
}

impl<const D: u32> Default for DurationSpec<D> {
    fn default() -> Self {
        DurationSpec {
            duration: Secs(f64::from(D)),
        }
    }
}

/// How fast the source writes WAL.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WalSpec {
    /// The base rate.
    #[serde(default = "default_wal_rate")]
    pub rate: Rate,
    /// Random variation per step, 0 to 1 (0.5: ±50%).
    #[serde(default = "default_jitter")]
    pub jitter: f64,
    /// Rate changes at given times (the last one reached wins).
    #[serde(default)]
    pub schedule: Vec<RateChange>,
    /// Periodic bursts of heavy writing.
    #[serde(default)]
    pub bursts: Option<Bursts>,
}

impl Default for WalSpec {
    fn default() -> Self {
        WalSpec {
            rate: default_wal_rate(),
            jitter: default_jitter(),
            schedule: vec![],
            bursts: None,
        }
    }
}

impl WalSpec {
    /// The rate (before jitter) at simulated time `t`.
    pub fn rate_at(&self, t: f64) -> f64 {
        let mut rate = self.rate.0;
        let mut latest = f64::NEG_INFINITY;
        for c in &self.schedule {
            let at = c.at.as_f64();
            if at <= t && at >= latest {
                latest = at;
                rate = c.rate.0;
            }
        }
        if let Some(b) = &self.bursts
            && b.every.0 > 0.0
        {
            let phase = (t - b.offset.0).rem_euclid(b.every.0);
            if t >= b.offset.0 && phase < b.duration.0 {
                return rate.max(b.rate.0);
            }
        }
        rate
    }
}

/// From time `at` on, the base rate is `rate`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateChange {
    pub at: SignedSecs,
    pub rate: Rate,
}

/// Every `every`, starting at `offset`, write at `rate` for `duration`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bursts {
    pub every: Secs,
    pub duration: Secs,
    pub rate: Rate,
    #[serde(default)]
    pub offset: Secs,
}

/// A throughput with random variation.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Throughput {
    pub rate: Rate,
    #[serde(default = "default_jitter")]
    pub jitter: f64,
}

/// The replication link is down from `at` for `duration`, repeating every `every` if given.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Disconnect {
    pub at: Secs,
    pub duration: Secs,
    #[serde(default)]
    pub every: Option<Secs>,
}

impl Disconnect {
    /// Whether the link is down at `t`.
    pub fn active(&self, t: f64) -> bool {
        if t < self.at.0 {
            return false;
        }
        let since = t - self.at.0;
        match self.every {
            Some(e) if e.0 > self.duration.0 => since.rem_euclid(e.0) < self.duration.0,
            _ => since < self.duration.0,
        }
    }
}

/// Seconds that may be negative (a time before the simulator started), e.g. `-30s`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SignedSecs(pub f64);

impl SignedSecs {
    /// The value in seconds.
    pub fn as_f64(self) -> f64 {
        self.0
    }
}

impl<'de> Deserialize<'de> for SignedSecs {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            N(f64),
            S(String),
        }
        match Raw::deserialize(d)? {
            Raw::N(n) if n.is_finite() && n.abs() <= 1e9 => Ok(SignedSecs(n)),
            Raw::N(n) => Err(serde::de::Error::custom(format!("{n} is out of range"))),
            Raw::S(s) => {
                let (neg, body) = match s.trim().strip_prefix('-') {
                    Some(b) => (true, b),
                    None => (false, s.trim()),
                };
                let v = super::quantity::parse_secs(body).map_err(serde::de::Error::custom)?;
                Ok(SignedSecs(if neg { -v.0 } else { v.0 }))
            }
        }
    }
}

fn default_tz() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).expect("valid offset")
}
fn default_stage() -> Stage {
    Stage::Precheck
}
fn default_increment_for() -> Secs {
    Secs(3600.0)
}
fn default_lsn() -> Lsn {
    Lsn(0x1_0000_0000)
}
fn one() -> u32 {
    1
}
fn default_port() -> u16 {
    5432
}
fn default_account() -> String {
    "migratetest".into()
}
fn default_category() -> String {
    "ecsonvpc".into()
}
fn default_precheck_duration() -> Secs {
    Secs(30.0)
}
fn default_backup_size() -> Bytes {
    Bytes(4 << 30)
}
fn default_backup_rate() -> Rate {
    Rate(100.0 * 1048576.0)
}
fn default_wal_rate() -> Rate {
    Rate(2.0 * 1048576.0)
}
fn default_jitter() -> f64 {
    0.5
}
fn default_network() -> Throughput {
    Throughput {
        rate: Rate(50.0 * 1048576.0),
        jitter: 0.3,
    }
}
fn default_replay() -> Throughput {
    Throughput {
        rate: Rate(40.0 * 1048576.0),
        jitter: 0.3,
    }
}

fn offset<'de, D: Deserializer<'de>>(d: D) -> Result<FixedOffset, D::Error> {
    let s = String::deserialize(d)?;
    s.parse::<FixedOffset>()
        .map_err(|_| serde::de::Error::custom(format!("{s:?} is not an offset like +08:00")))
}

fn stage<'de, D: Deserializer<'de>>(d: D) -> Result<Stage, D::Error> {
    let s = String::deserialize(d)?;
    match Stage::parse(&s) {
        Stage::Unknown(u) => Err(serde::de::Error::custom(format!(
            "unknown stage {u:?}; use precheck, basebackup, startup, increment, switch or success"
        ))),
        known => Ok(known),
    }
}

fn lsn<'de, D: Deserializer<'de>>(d: D) -> Result<Lsn, D::Error> {
    let s = String::deserialize(d)?;
    s.parse::<Lsn>().map_err(serde::de::Error::custom)
}

fn text_or_number<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        S(String),
        N(serde_json::Number),
    }
    Ok(match Raw::deserialize(d)? {
        Raw::S(s) => s,
        Raw::N(n) => n.to_string(),
    })
}

fn shape<'de, D: Deserializer<'de>>(d: D) -> Result<Shape, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Preset(String),
        Custom(Shape),
    }
    match Raw::deserialize(d)? {
        Raw::Preset(p) => match p.as_str() {
            "sample" => Ok(Shape::sample()),
            "plain" => Ok(Shape::plain()),
            other => Err(serde::de::Error::custom(format!(
                "unknown shape {other:?}; use \"sample\", \"plain\" or an object"
            ))),
        },
        Raw::Custom(s) => Ok(s),
    }
}

/// Why a scenario cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    #[error("cannot read scenario {path}: {message}")]
    Read { path: String, message: String },
    #[error("scenario {path} is not valid: {message}")]
    Invalid { path: String, message: String },
}

impl Scenario {
    /// The built-in scenario.
    pub fn builtin() -> Scenario {
        Scenario::from_json(DEFAULT_JSON, "built-in default")
            .expect("the built-in scenario is valid")
    }

    /// Loads and checks a scenario file.
    pub fn load(path: &Path) -> Result<Scenario, ScenarioError> {
        // A scenario is a few KiB; 4 MiB is far more than any, and a FIFO or a device is refused.
        let text = crate::util::file::read_text_capped(path, 4 * 1024 * 1024).map_err(|e| {
            ScenarioError::Read {
                path: path.display().to_string(),
                message: e.to_string(),
            }
        })?;
        Scenario::from_json(&text, &path.display().to_string())
    }

    /// Parses and checks scenario JSON; `origin` names it in errors.
    pub fn from_json(text: &str, origin: &str) -> Result<Scenario, ScenarioError> {
        let invalid = |message: String| ScenarioError::Invalid {
            path: origin.to_string(),
            message,
        };
        let s: Scenario = serde_json::from_str(text).map_err(|e| invalid(e.to_string()))?;
        s.validate().map_err(invalid)?;
        Ok(s)
    }

    /// Checks what serde cannot: unique ids, known check keys, sane ranges.
    pub fn validate(&self) -> Result<(), String> {
        if self.instances.is_empty() {
            return Err("it has no instances".into());
        }
        let mut instance_ids = HashSet::new();
        let mut task_ids = HashSet::new();
        for i in &self.instances {
            if i.id.trim().is_empty() || i.id.contains(char::is_whitespace) {
                return Err(format!("instance id {:?} is empty or has spaces", i.id));
            }
            if !instance_ids.insert(i.id.as_str()) {
                return Err(format!("instance {} appears twice", i.id));
            }
            for t in &i.tasks {
                let at = |m: String| format!("task {} ({}): {m}", t.id, t.name);
                if t.id <= 0 {
                    return Err(at("the id must be a positive number".into()));
                }
                if !task_ids.insert(t.id) {
                    return Err(at("the id is used twice".into()));
                }
                for key in t.precheck.results.keys() {
                    if !CHECKS.iter().any(|c| c.key == key) {
                        let keys: Vec<&str> = CHECKS.iter().map(|c| c.key).collect();
                        return Err(at(format!(
                            "unknown precheck check {key:?}; known: {}",
                            keys.join(", ")
                        )));
                    }
                }
                let jitters = [t.wal.jitter, t.network.jitter, t.replay.jitter];
                if jitters.iter().any(|j| !(0.0..=1.0).contains(j)) {
                    return Err(at("jitter must be between 0 and 1".into()));
                }
                if t.network.rate.0 <= 0.0 || t.replay.rate.0 <= 0.0 {
                    return Err(at("network and replay rates must be above 0".into()));
                }
                if t.basebackup.rate.0 <= 0.0 {
                    return Err(at("the basebackup rate must be above 0".into()));
                }
                if t.precheck_only && t.stage != Stage::Precheck {
                    return Err(at("a precheck_only task must be in stage precheck".into()));
                }
                if t.precheck.fails() && t.stage != Stage::Precheck {
                    return Err(at(
                        "a task whose precheck fails cannot be past stage precheck".into(),
                    ));
                }
                if t.lsn.0 as f64 >= super::position::MAX_LSN / 2.0 {
                    return Err(at(
                        "lsn is beyond what the simulator models (2^51 bytes)".into()
                    ));
                }
                if t.lag.0 > t.lsn.0 {
                    return Err(at("lag is larger than the LSN".into()));
                }
                for d in &t.disconnects {
                    if d.duration.0 <= 0.0 {
                        return Err(at("a disconnect needs a duration above 0".into()));
                    }
                }
            }
        }
        for f in &self.faults {
            f.validate()?;
        }
        Ok(())
    }

    /// Instance ids in order.
    pub fn instance_ids(&self) -> Vec<String> {
        self.instances.iter().map(|i| i.id.clone()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_scenario_is_valid_and_covers_the_cases() {
        let s = Scenario::builtin();
        assert!(s.instances.len() >= 2);
        let tasks: Vec<&TaskSpec> = s.instances.iter().flat_map(|i| &i.tasks).collect();
        let has = |f: &dyn Fn(&TaskSpec) -> bool| tasks.iter().any(|t| f(t));
        assert!(has(&|t| t
            .precheck
            .results
            .get("glibc")
            .map(|r| r.status())
            == Some(CheckStatus::Warning)));
        assert!(has(&|t| t.precheck.fails()));
        assert!(has(&|t| t.stage == Stage::Basebackup));
        assert!(has(
            &|t| t.stage == Stage::Increment && t.wal.bursts.is_some()
        ));
        assert!(has(
            &|t| t.stage == Stage::Increment && !t.disconnects.is_empty()
        ));
        assert!(has(
            &|t| t.stage == Stage::Increment && t.wal.schedule.iter().any(|c| c.rate.0 == 0.0)
        ));
        assert!(has(&|t| t.stage == Stage::Success));
        assert_eq!(s.shape, Shape::sample());
    }

    #[test]
    fn errors_name_the_problem() {
        let e = Scenario::from_json("{\"instances\": []}", "x.json")
            .unwrap_err()
            .to_string();
        assert!(e.contains("x.json") && e.contains("no instances"), "{e}");
        let e = Scenario::from_json("{\"instances\": [{\"id\": \"a\", \"tasks\": [{\"id\": 1, \"name\": \"t\", \"source\": {\"ip\": \"1.2.3.4\", \"password\": 1}, \"stage\": \"flying\"}]}]}", "x.json")
            .unwrap_err()
            .to_string();
        assert!(e.contains("unknown stage"), "{e}");
        let e = Scenario::from_json("{\"instances\": [{\"id\": \"a\", \"tasks\": [{\"id\": 1, \"name\": \"t\", \"source\": {\"ip\": \"1.2.3.4\", \"password\": 1}, \"precheck\": {\"results\": {\"dns\": \"fail\"}}}]}]}", "x.json")
            .unwrap_err()
            .to_string();
        assert!(e.contains("unknown precheck check \"dns\""), "{e}");
        let e = Scenario::from_json("{\"instances\": [{\"id\": \"a\"}], \"bogus\": 1}", "x.json")
            .unwrap_err()
            .to_string();
        assert!(e.contains("bogus"), "{e}");
        assert!(Scenario::load(Path::new("/nonexistent.json")).is_err());
    }

    #[test]
    fn wal_schedule_bursts_and_disconnects() {
        let w: WalSpec = serde_json::from_str(
            r#"{"rate": 100, "schedule": [{"at": "20s", "rate": 0}, {"at": "-10s", "rate": 50}],
                "bursts": {"every": "60s", "duration": "10s", "rate": 1000, "offset": "30s"}}"#,
        )
        .unwrap();
        assert_eq!(w.rate_at(-20.0), 100.0);
        assert_eq!(w.rate_at(0.0), 50.0);
        assert_eq!(w.rate_at(25.0), 0.0);
        assert_eq!(w.rate_at(35.0), 1000.0);
        assert_eq!(w.rate_at(45.0), 0.0);
        assert_eq!(w.rate_at(95.0), 1000.0);
        let d = Disconnect {
            at: Secs(40.0),
            duration: Secs(30.0),
            every: Some(Secs(240.0)),
        };
        assert!(!d.active(39.0));
        assert!(d.active(40.0) && d.active(69.0));
        assert!(!d.active(70.0));
        assert!(d.active(285.0));
        let once = Disconnect { every: None, ..d };
        assert!(!once.active(285.0));
    }

    #[test]
    fn shapes_by_name_or_object() {
        let s: Scenario =
            serde_json::from_str(r#"{"shape": "plain", "instances": [{"id": "a"}]}"#).unwrap();
        assert_eq!(s.shape, Shape::plain());
        let s: Scenario = serde_json::from_str(
            r#"{"shape": {"literal_newlines": false}, "instances": [{"id": "a"}]}"#,
        )
        .unwrap();
        assert!(!s.shape.literal_newlines && s.shape.escaped_replication_info);
    }
}
