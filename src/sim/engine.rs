//! The scenario engine: tasks moving through their stages with WAL written on the source,
//! shipped over a network of limited throughput, replayed at a limited rate, with disconnect
//! episodes; advanced lazily in fixed simulated ticks, so a seed gives the same run.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use chrono::{DateTime, FixedOffset, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::clock::{Clock, to_datetime};
use super::detail::{self, CheckResult, DetailLog};
use super::error::SimError;
use super::scenario::{Scenario, SourceSpec, TaskSpec};
use super::source::{NewTask, Password, ReplicationView, SourceView, TaskSource, TaskView};
use crate::model::{Lsn, ReplicationState, Stage};
use crate::units;

/// Simulated seconds per step.
pub const TICK: f64 = 0.5;
/// Steps per advance before steps get coarser (a huge jump at extreme --speed stays cheap).
const MAX_STEPS: u64 = 200_000;
/// LSN positions are kept as f64 bytes; this keeps them exact (2^52 bytes = 4 PiB).
pub const MAX_LSN: f64 = 4_503_599_627_370_496.0;
/// Source write samples kept to map a replayed LSN back to its commit time.
const HISTORY_CAP: usize = 4096;
/// How often an idle sender still sends a message (keepalive), in seconds.
const KEEPALIVE: f64 = 10.0;
/// Tasks an instance may hold (CreateCloudMigrationTask beyond this is refused).
pub const MAX_TASKS_PER_INSTANCE: usize = 1000;
/// Stage order as indices.
const ORDER: [Stage; 6] = Stage::ALL;

fn segment_start(pos: f64) -> f64 {
    let seg = Lsn::SEGMENT as f64;
    (pos / seg).floor() * seg
}

fn lsn(pos: f64) -> Lsn {
    Lsn(pos.clamp(0.0, MAX_LSN).floor() as u64)
}

/// One simulated task.
pub struct TaskSim {
    spec: TaskSpec,
    instance: String,
    /// Simulated time of the spec's time zero (0 for scenario tasks, creation for new ones).
    origin: f64,
    rng: StdRng,
    tz: FixedOffset,
    /// Calendar time of simulated time zero.
    epoch: DateTime<Utc>,
    checks: Vec<CheckResult>,
    stage: Stage,
    stage_since: f64,
    created: f64,
    modified: f64,
    switch_time: Option<f64>,
    checks_shown: usize,
    backup_done: f64,
    backup_marks: u8,
    backup_start: f64,
    source: f64,
    received: f64,
    flushed: f64,
    replay: f64,
    receive_start: f64,
    latest_end: f64,
    latest_end_time: f64,
    last_msg: f64,
    connected: bool,
    caught_up: bool,
    promoted: bool,
    history: VecDeque<(f64, f64)>,
    detail: DetailLog,
    tick: u64,
    /// Time of the last step.
    t: f64,
}

impl TaskSim {
    /// A task whose spec's time zero is simulated time `origin`; `epoch` is the calendar
    /// time of simulated zero and `tz` the offset its timestamps are written in.
    pub fn new(
        instance: &str,
        spec: TaskSpec,
        seed: u64,
        epoch: DateTime<Utc>,
        tz: FixedOffset,
        origin: f64,
    ) -> TaskSim {
        let mix = (spec.id as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        let durations = [
            spec.precheck.duration.0,
            spec.basebackup.duration(),
            spec.startup.duration.0,
            spec.increment_for.0,
            spec.switch.duration.0,
        ];
        let idx = spec.stage.index().map_or(0, |i| usize::from(i) - 1);
        let mut starts = [0.0f64; 6];
        starts[idx] = origin - spec.in_stage_for.0;
        for i in (0..idx).rev() {
            starts[i] = starts[i + 1] - durations[i];
        }
        let pos = spec.lsn.0 as f64;
        let mut sim = TaskSim {
            checks: spec.precheck.resolved(),
            instance: instance.to_string(),
            origin,
            rng: StdRng::seed_from_u64(seed ^ mix),
            tz,
            epoch,
            stage: Stage::Precheck,
            stage_since: starts[0],
            created: starts[0],
            modified: starts[0],
            switch_time: None,
            checks_shown: 0,
            backup_done: 0.0,
            backup_marks: 0,
            backup_start: pos,
            source: pos,
            received: pos,
            flushed: pos,
            replay: pos,
            receive_start: segment_start(pos),
            latest_end: pos,
            latest_end_time: origin,
            last_msg: origin,
            connected: false,
            caught_up: false,
            promoted: false,
            history: VecDeque::new(),
            detail: DetailLog::default(),
            tick: 0,
            t: origin,
            spec,
        };
        // Write the history of the stages already behind it, with their past timestamps.
        for (i, stage) in ORDER.iter().enumerate().take(idx + 1) {
            if i > 0 {
                if *stage == Stage::Startup {
                    sim.backup_history(starts[1], durations[1]);
                }
                sim.enter(stage.clone(), starts[i]);
            }
        }
        let n = detail::CHECKS.len();
        sim.checks_shown = if idx > 0 {
            n
        } else {
            let d = durations[0];
            let frac = if d <= 0.0 {
                1.0
            } else {
                (origin - starts[0]) / d
            };
            ((frac * n as f64).floor().max(0.0) as usize).min(n)
        };
        sim.detail
            .set_precheck(detail::precheck_lines(&sim.checks, sim.checks_shown));
        sim.init_positions(&starts, idx);
        sim
    }

    /// LSNs and link state at time zero, per the spec.
    fn init_positions(&mut self, starts: &[f64; 6], idx: usize) {
        let pos = self.source;
        let rate = self.spec.wal.rate.0.max(1.0);
        let t0 = self.origin;
        match self.stage {
            Stage::Basebackup => {
                let elapsed = t0 - starts[1];
                self.backup_done =
                    (self.spec.basebackup.rate.0 * elapsed).min(self.spec.basebackup.size.0 as f64);
                self.backup_marks = (self.backup_done / self.spec.basebackup.size.0.max(1) as f64
                    * 4.0)
                    .floor()
                    .clamp(0.0, 3.0) as u8;
                for q in 1..=u64::from(self.backup_marks) {
                    let at = starts[1] + self.spec.basebackup.duration() * q as f64 / 4.0;
                    let line = self.backup_line(at, q);
                    self.detail.line(line);
                }
                let start = (pos - rate * elapsed).max(0.0);
                self.backup_start = start;
                self.replay = start;
                self.received = start;
                self.flushed = start;
                self.receive_start = segment_start(start);
                self.push_history(start, starts[1]);
                self.push_history(pos, t0);
            }
            Stage::Startup | Stage::Increment => {
                let lag = self.spec.lag.0 as f64;
                self.replay = pos - lag;
                self.received = pos - lag / 2.0;
                self.flushed = self.received;
                let streaming_since = t0 - starts[2];
                let start_guess = (pos - rate * streaming_since).max(0.0);
                self.receive_start = segment_start(start_guess.min(self.replay));
                self.connected = !self.down_at(t0);
                self.caught_up = lag <= 64.0 * 1048576.0;
                self.latest_end_time = if self.spec.wal.rate_at(0.0) > 0.0 {
                    t0
                } else {
                    t0 - 60.0
                };
                let behind_secs = (lag / rate).min(3600.0);
                self.push_history(self.replay, t0 - behind_secs);
                self.push_history(pos, t0);
            }
            Stage::Switch | Stage::Success => {
                self.connected = self.stage == Stage::Switch;
                self.caught_up = true;
                self.promoted = self.stage == Stage::Success;
                self.latest_end_time = starts[idx.min(4)];
                self.push_history(pos, starts[4]);
            }
            _ => {}
        }
    }

    fn down_at(&self, t: f64) -> bool {
        let rel = t - self.origin;
        self.spec.disconnects.iter().any(|d| d.active(rel))
    }

    fn jitter(&mut self, j: f64) -> f64 {
        if j <= 0.0 {
            1.0
        } else {
            self.rng.random_range((1.0 - j).max(0.0)..=(1.0 + j))
        }
    }

    fn stamp(&self, t: f64) -> DateTime<FixedOffset> {
        to_datetime(self.epoch, t).with_timezone(&self.tz)
    }

    fn progress(&self, t: f64, text: &str) -> String {
        detail::progress(&self.stamp(t), text)
    }

    fn push_history(&mut self, pos: f64, t: f64) {
        if let Some(last) = self.history.back()
            && pos <= last.0
        {
            return;
        }
        if self.history.len() >= HISTORY_CAP {
            self.history.pop_front();
        }
        self.history.push_back((pos, t));
    }

    /// When the source wrote position `pos` (its commit time, for ReplayTimestamp).
    fn written_at(&self, pos: f64) -> Option<f64> {
        let first = self.history.front()?;
        if pos <= first.0 {
            return Some(first.1);
        }
        let i = self.history.partition_point(|(p, _)| *p < pos);
        match (self.history.get(i.wrapping_sub(1)), self.history.get(i)) {
            (Some(a), Some(b)) if b.0 > a.0 => {
                Some(a.1 + (b.1 - a.1) * ((pos - a.0) / (b.0 - a.0)).clamp(0.0, 1.0))
            }
            (_, Some(b)) => Some(b.1),
            (Some(a), None) => Some(a.1),
            (None, None) => None,
        }
    }

    /// `Backup data: 50% (24.0 GiB of 48.0 GiB)` stamped at `at`.
    fn backup_line(&self, at: f64, quarter: u64) -> String {
        let size = self.spec.basebackup.size.0;
        self.progress(
            at,
            &format!(
                "Backup data: {}% ({} of {})",
                quarter * 25,
                units::bytes(size / 4 * quarter),
                units::bytes(size)
            ),
        )
    }

    fn backup_history(&mut self, start: f64, duration: f64) {
        for q in 1..=3u64 {
            let line = self.backup_line(start + duration * q as f64 / 4.0, q);
            self.detail.line(line);
        }
        let line = self.progress(start + duration, "Backup data finished");
        self.detail.line(line);
    }

    /// Moves to `stage` at `t`, writing its Detail lines.
    fn enter(&mut self, stage: Stage, t: f64) {
        let line = |s: &Self, text: &str| s.progress(t, text);
        match stage {
            Stage::Basebackup => {
                let l = line(
                    self,
                    &format!(
                        "Start to backup data from source by pg_basebackup ({})",
                        units::bytes(self.spec.basebackup.size.0)
                    ),
                );
                self.detail.section("Backup data", l);
            }
            Stage::Startup => {
                let l = line(self, "Start RDS instance as slave for data replication");
                self.detail.section("Start RDS instance", l);
            }
            Stage::Increment => {
                // The trailing space is in the reference sample too.
                let l = line(
                    self,
                    "Synchronize data from source to RDS by streaming replication ",
                );
                self.detail.section("Synchronize data", l);
            }
            Stage::Switch => {
                let l = line(
                    self,
                    "Start to switch over: stop data synchronization and promote RDS instance",
                );
                self.detail.section("Switch RDS instance", l);
                self.switch_time = Some(t);
            }
            Stage::Success => {
                let l = line(
                    self,
                    "Switch over finished, the RDS instance is now the primary",
                );
                self.detail.line(l);
                self.promoted = true;
                self.connected = false;
            }
            Stage::Precheck | Stage::Unknown(_) => {}
        }
        self.stage = stage;
        self.stage_since = t;
        self.modified = t;
    }

    /// Advances to simulated time `to` in whole ticks.
    pub fn advance(&mut self, to: f64) {
        let target = ((to - self.origin) / TICK).floor();
        if !target.is_finite() || target <= self.tick as f64 {
            return;
        }
        let target = target.min(u64::MAX as f64 / 2.0) as u64;
        let mut remaining = target - self.tick;
        let stride = (remaining / MAX_STEPS).max(1);
        while remaining > 0 {
            let s = stride.min(remaining);
            self.tick += s;
            self.t = self.origin + self.tick as f64 * TICK;
            if self.is_settled() {
                // Nothing moves any more: skip the remaining steps.
                self.tick = target;
                self.t = self.origin + self.tick as f64 * TICK;
                break;
            }
            self.step(self.t, s as f64 * TICK);
            remaining -= s;
        }
    }

    fn is_settled(&self) -> bool {
        match self.stage {
            Stage::Success => true,
            Stage::Precheck => {
                self.checks_shown == self.checks.len()
                    && (self.spec.precheck_only || self.spec.precheck.fails())
            }
            _ => false,
        }
    }

    fn step(&mut self, t: f64, dt: f64) {
        let rel = t - self.origin;
        let j = self.spec.wal.jitter;
        let write = if self.promoted {
            0.0
        } else {
            self.spec.wal.rate_at(rel) * self.jitter(j) * dt
        };
        // The stage moves first: WAL written during this step is shipped and replayed in
        // the next one, so a busy source always shows some lag, as a real one does.
        self.stage_step(t, dt);
        if write > 0.0 && !self.promoted {
            self.source = (self.source + write).min(MAX_LSN);
            let recent = self.history.back().is_some_and(|(_, ht)| t - ht < 1.0);
            if !recent {
                self.push_history(self.source, t);
            }
        }
    }

    fn stage_step(&mut self, t: f64, dt: f64) {
        match self.stage {
            Stage::Precheck => {
                let n = self.checks.len();
                let d = self.spec.precheck.duration.0;
                let frac = if d <= 0.0 {
                    1.0
                } else {
                    (t - self.stage_since) / d
                };
                let shown = ((frac * n as f64).floor().max(0.0) as usize).min(n);
                if shown != self.checks_shown {
                    self.checks_shown = shown;
                    self.detail
                        .set_precheck(detail::precheck_lines(&self.checks, shown));
                    self.modified = t;
                }
                if shown == n && !self.spec.precheck_only && !self.spec.precheck.fails() {
                    self.enter(Stage::Basebackup, t);
                    self.backup_start = self.source;
                    self.backup_done = 0.0;
                    self.backup_marks = 0;
                    self.replay = self.source;
                    self.received = self.source;
                    self.flushed = self.source;
                    self.push_history(self.source, t);
                }
            }
            Stage::Basebackup => {
                let jit = self.jitter(0.1);
                self.backup_done += self.spec.basebackup.rate.0 * jit * dt;
                let size = self.spec.basebackup.size.0;
                let quarter = (self.backup_done / size.max(1) as f64 * 4.0).floor();
                while f64::from(self.backup_marks) < quarter.min(3.0) {
                    self.backup_marks += 1;
                    let line = self.backup_line(t, u64::from(self.backup_marks));
                    self.detail.line(line);
                    self.modified = t;
                }
                if self.backup_done >= size as f64 {
                    let line = self.progress(t, "Backup data finished");
                    self.detail.line(line);
                    self.enter(Stage::Startup, t);
                    // The standby replays from the backup's start; the receiver asks for
                    // WAL from the start of that segment.
                    self.replay = self.backup_start;
                    self.receive_start = segment_start(self.backup_start);
                    self.received = self.receive_start;
                    self.flushed = self.backup_start;
                    self.connected = !self.down_at(t);
                    self.caught_up = false;
                    self.last_msg = t;
                    // The first message from the sender reports its end of WAL.
                    self.latest_end = self.source;
                    self.latest_end_time = t;
                }
            }
            Stage::Startup => {
                self.replicate(t, dt);
                if t - self.stage_since >= self.spec.startup.duration.0 {
                    self.enter(Stage::Increment, t);
                }
            }
            Stage::Increment => self.replicate(t, dt),
            Stage::Switch => {
                let d = self.spec.switch.duration.0;
                if t - self.stage_since < d / 2.0 {
                    self.replicate(t, dt);
                } else if t - self.stage_since >= d {
                    self.enter(Stage::Success, t);
                } else if !self.promoted {
                    // Replay what was received, then promotion ends the receiver.
                    self.replay = self.flushed;
                    self.connected = false;
                    self.promoted = true;
                    self.modified = t;
                }
            }
            Stage::Success | Stage::Unknown(_) => {}
        }
    }

    /// Ships and replays WAL for one step.
    fn replicate(&mut self, t: f64, dt: f64) {
        let down = self.down_at(t);
        if down && self.connected {
            self.connected = false;
            self.caught_up = false;
            let line = self.progress(t, "Replication connection to source lost, retrying");
            self.detail.event(line);
            self.modified = t;
        } else if !down && !self.connected {
            // The startup process asks for WAL from the start of the segment it needs next.
            self.connected = true;
            self.receive_start = segment_start(self.received);
            self.received = self.receive_start;
            self.latest_end = self.source;
            self.last_msg = t;
            let line = self.progress(
                t,
                &format!(
                    "Replication connection to source restored, streaming from {}",
                    lsn(self.receive_start)
                ),
            );
            self.detail.event(line);
            self.modified = t;
        }
        // Replay what was on disk at the start of the step, then ship.
        let jit = self.jitter(self.spec.replay.jitter);
        let apply = self.spec.replay.rate.0 * jit * dt;
        self.replay += apply.min((self.flushed - self.replay).max(0.0));
        if self.connected {
            let jit = self.jitter(self.spec.network.jitter);
            let net = self.spec.network.rate.0 * jit * dt;
            let shipped = net.min((self.source - self.received).max(0.0));
            self.received += shipped;
            self.flushed = self.flushed.max(self.received);
            if self.source > self.latest_end {
                self.latest_end = self.source;
                self.latest_end_time = t;
            }
            if shipped > 0.0 || t - self.last_msg >= KEEPALIVE {
                self.last_msg = t;
            }
            if self.received >= self.source {
                self.caught_up = true;
            }
        }
    }

    /// Starts the switchover now.
    pub fn activate(&mut self) -> Result<(), SimError> {
        if self.stage != Stage::Increment {
            return Err(SimError::invalid_migrate_status());
        }
        let t = self.t;
        self.enter(Stage::Switch, t);
        Ok(())
    }

    /// The task as the API shows it at simulated time `now`.
    pub fn view(&self, now: f64) -> TaskView {
        let at = |t: f64| to_datetime(self.epoch, t);
        let local = |t: f64| at(t).with_timezone(&self.tz);
        let replication_state = match self.stage {
            Stage::Precheck | Stage::Basebackup | Stage::Unknown(_) => ReplicationState::Unstarted,
            Stage::Startup | Stage::Increment => {
                if !self.connected {
                    ReplicationState::Disconnect
                } else if self.caught_up {
                    ReplicationState::Streaming
                } else {
                    ReplicationState::Catchup
                }
            }
            Stage::Switch | Stage::Success => ReplicationState::Finish,
        };
        let spec = &self.spec;
        let replay_ts = self.written_at(self.replay);
        let receiver_running = matches!(
            self.stage,
            Stage::Startup | Stage::Increment | Stage::Switch
        ) && self.connected
            && !self.promoted;
        let replication = match self.stage {
            Stage::Precheck | Stage::Basebackup | Stage::Unknown(_) => None,
            _ => {
                let lag_secs = if self.promoted
                    || (receiver_running && self.replay >= self.received.floor())
                {
                    Some(0.0)
                } else {
                    replay_ts.map(|ts| ((now - ts).max(0.0) * 1000.0).round() / 1000.0)
                };
                let mut r = ReplicationView {
                    replay_lsn: Some(lsn(self.replay)),
                    replay_timestamp: replay_ts.map(local),
                    replay_lag_seconds: lag_secs,
                    synced: self.promoted
                        || (receiver_running && self.caught_up && self.received >= self.latest_end),
                    is_slave: !self.promoted,
                    ..Default::default()
                };
                if receiver_running {
                    // A receipt a fraction of a millisecond after the send, varying per tick.
                    let receipt = self.last_msg + 0.000_2 + (self.tick % 17) as f64 * 0.000_11;
                    r.status = Some("streaming".into());
                    r.receive_start_lsn = Some(lsn(self.receive_start));
                    r.receive_start_tli = Some(spec.timeline);
                    r.received_lsn = Some(lsn(self.received));
                    r.received_tli = Some(spec.timeline);
                    r.latest_end_lsn = Some(lsn(self.latest_end));
                    r.latest_end_time = Some(local(self.latest_end_time));
                    r.last_msg_send_time = Some(local(self.last_msg));
                    r.last_msg_receipt_time = Some(local(receipt));
                    r.conninfo = Some(conninfo(&spec.source));
                }
                Some(r)
            }
        };
        TaskView {
            task_id: spec.id,
            task_name: spec.name.clone(),
            target_instance: self.instance.clone(),
            stage: self.stage.clone(),
            replication_state,
            replication,
            detail: self.detail.lines(),
            source: SourceView {
                category: spec.source.category.clone(),
                ip: spec.source.ip.clone(),
                port: spec.source.port,
                account: spec.source.account.clone(),
                password: Password::new(spec.source.password.clone()),
            },
            created: at(self.created),
            modified: at(self.modified),
            switch_time: self.switch_time.map(at),
        }
    }

    /// The task id.
    pub fn id(&self) -> i64 {
        self.spec.id
    }

    /// The current stage.
    pub fn stage(&self) -> &Stage {
        &self.stage
    }
}

/// The receiver's conninfo as pg_stat_wal_receiver shows it (password already obfuscated).
pub fn conninfo(s: &SourceSpec) -> String {
    format!(
        "user={} password=******** channel_binding=prefer dbname=replication host={} port={} application_name=rds_db_instance fallback_application_name=walreceiver sslmode=prefer sslcompression=1 sslsni=1 ssl_min_protocol_version=TLSv1.2 gssencmode=prefer krbsrvname=postgres target_session_attrs=any",
        s.account, s.ip, s.port
    )
}

/// Every instance and task of a scenario.
pub struct World {
    instances: Vec<(String, Vec<TaskSim>)>,
    seed: u64,
    epoch: DateTime<Utc>,
    tz: FixedOffset,
    next_id: i64,
}

impl World {
    /// The scenario at simulated time zero; `epoch` is its calendar time.
    pub fn new(scenario: &Scenario, seed: u64, epoch: DateTime<Utc>) -> World {
        let tz = scenario.timezone;
        let instances = scenario
            .instances
            .iter()
            .map(|i| {
                let tasks = i
                    .tasks
                    .iter()
                    .map(|t| TaskSim::new(&i.id, t.clone(), seed, epoch, tz, 0.0))
                    .collect();
                (i.id.clone(), tasks)
            })
            .collect();
        let next_id = scenario
            .instances
            .iter()
            .flat_map(|i| &i.tasks)
            .map(|t| t.id)
            .max()
            .unwrap_or(440_000_000)
            .saturating_add(1);
        World {
            instances,
            seed,
            epoch,
            tz,
            next_id,
        }
    }

    /// Runs every task up to simulated time `to`.
    pub fn advance(&mut self, to: f64) {
        for (_, tasks) in &mut self.instances {
            for t in tasks {
                t.advance(to);
            }
        }
    }

    /// Instance ids in order.
    pub fn instance_ids(&self) -> Vec<String> {
        self.instances.iter().map(|(id, _)| id.clone()).collect()
    }

    fn tasks_mut(&mut self, instance: &str) -> Option<&mut Vec<TaskSim>> {
        self.instances
            .iter_mut()
            .find(|(id, _)| id == instance)
            .map(|(_, t)| t)
    }

    /// The tasks of `instance` as the API shows them at `now`; `None` for an unknown instance.
    pub fn views(&self, instance: &str, now: f64) -> Option<Vec<TaskView>> {
        self.instances
            .iter()
            .find(|(id, _)| id == instance)
            .map(|(_, tasks)| tasks.iter().map(|t| t.view(now)).collect())
    }

    /// Starts the switchover of a task.
    pub fn activate(&mut self, instance: &str, task_id: i64) -> Result<(), SimError> {
        self.tasks_mut(instance)
            .ok_or_else(SimError::instance_not_found)?
            .iter_mut()
            .find(|t| t.id() == task_id)
            .ok_or_else(SimError::invalid_migrate_task)?
            .activate()
    }

    /// Adds a task that starts at precheck at simulated time `now`.
    pub fn create(&mut self, instance: &str, task: NewTask, now: f64) -> Result<i64, SimError> {
        let id = self.next_id;
        let mut rng = StdRng::seed_from_u64(self.seed ^ (id as u64));
        let start =
            Lsn((rng.random_range(1u64..0x40) << 32) | (rng.random_range(0u64..0x1000) << 20));
        let spec: TaskSpec = serde_json::from_value(serde_json::json!({
            "id": id,
            "name": task.task_name,
            "precheck_only": task.precheck_only,
            "source": {
                "ip": task.source.ip,
                "port": task.source.port,
                "account": task.source.account,
                "password": task.source.password.expose(),
                "category": task.source.category,
            },
            "lsn": start.to_string(),
        }))
        .map_err(|e| SimError::new("InternalError", e.to_string(), 500))?;
        let (epoch, tz, seed) = (self.epoch, self.tz, self.seed);
        let tasks = self
            .tasks_mut(instance)
            .ok_or_else(SimError::instance_not_found)?;
        if tasks.len() >= MAX_TASKS_PER_INSTANCE {
            return Err(SimError::new(
                "QuotaExceeded.MigrateTask",
                format!("An instance holds at most {MAX_TASKS_PER_INSTANCE} migration tasks."),
                400,
            ));
        }
        let mut sim = TaskSim::new(instance, spec, seed, epoch, tz, now);
        sim.advance(now);
        tasks.push(sim);
        self.next_id += 1;
        Ok(id)
    }
}

/// The scenario engine as a [`TaskSource`], driven by a [`Clock`].
pub struct ScenarioSource {
    world: Mutex<World>,
    clock: Arc<dyn Clock>,
}

impl ScenarioSource {
    /// Plays `scenario` with `seed` on `clock` (whose epoch dates simulated zero).
    pub fn new(scenario: &Scenario, seed: u64, clock: Arc<dyn Clock>) -> ScenarioSource {
        ScenarioSource {
            world: Mutex::new(World::new(scenario, seed, clock.epoch())),
            clock,
        }
    }

    /// The clock it runs on.
    pub fn clock(&self) -> Arc<dyn Clock> {
        self.clock.clone()
    }

    /// Runs `f` on the world advanced to now.
    fn with_world<R>(&self, f: impl FnOnce(&mut World, f64) -> R) -> R {
        let mut w = self.world.lock().unwrap_or_else(|e| e.into_inner());
        let now = self.clock.now();
        w.advance(now);
        f(&mut w, now)
    }
}

#[async_trait]
impl TaskSource for ScenarioSource {
    async fn instances(&self) -> Vec<String> {
        self.with_world(|w, _| w.instance_ids())
    }

    async fn tasks(&self, instance: &str) -> Option<Vec<TaskView>> {
        self.with_world(|w, now| w.views(instance, now))
    }

    async fn activate(&self, instance: &str, task_id: i64) -> Result<(), SimError> {
        self.with_world(|w, _| w.activate(instance, task_id))
    }

    async fn create_task(&self, instance: &str, task: NewTask) -> Result<i64, SimError> {
        self.with_world(|w, now| w.create(instance, task, now))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    const MIB: u64 = 1 << 20;

    fn epoch() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2024, 6, 11, 2, 0, 0).unwrap()
    }

    fn world(seed: u64) -> World {
        World::new(&Scenario::builtin(), seed, epoch())
    }

    fn task(w: &World, name: &str, now: f64) -> TaskView {
        w.instance_ids()
            .iter()
            .flat_map(|i| w.views(i, now).unwrap())
            .find(|t| t.task_name == name)
            .unwrap_or_else(|| panic!("no task {name}"))
    }

    fn rep(t: &TaskView) -> &ReplicationView {
        t.replication.as_ref().expect("replication info")
    }

    #[test]
    fn same_seed_same_run_other_seed_other_run() {
        let (mut a, mut b, mut c) = (world(7), world(7), world(8));
        for t in [1.0, 10.0, 33.3, 120.0, 400.0] {
            a.advance(t);
            b.advance(t);
            c.advance(t);
        }
        for i in a.instance_ids() {
            assert_eq!(a.views(&i, 400.0), b.views(&i, 400.0));
        }
        assert_ne!(
            task(&a, "erp-migrate", 400.0).replication,
            task(&c, "erp-migrate", 400.0).replication
        );
        // Polling more often does not change the outcome.
        let mut d = world(7);
        for k in 0..=800 {
            d.advance(f64::from(k) * 0.5);
        }
        assert_eq!(
            d.views("pgm-bp1demo00log03", 400.0),
            a.views("pgm-bp1demo00log03", 400.0)
        );
    }

    #[test]
    fn default_scenario_starts_with_every_case() {
        let w = world(1);
        let stage = |n: &str| task(&w, n, 0.0).stage;
        assert_eq!(stage("erp-precheck-1"), Stage::Precheck);
        assert_eq!(stage("erp-migrate"), Stage::Increment);
        assert_eq!(stage("crm-migrate"), Stage::Increment);
        assert_eq!(stage("log-migrate"), Stage::Increment);
        assert_eq!(stage("bi-migrate"), Stage::Basebackup);
        assert_eq!(stage("hr-migrate"), Stage::Success);
        let failed = task(&w, "erp-precheck-1", 0.0);
        assert!(failed.detail.iter().any(|l| l.contains("privilege: fail(")));
        assert_eq!(failed.replication_state, ReplicationState::Unstarted);
        assert!(failed.replication.is_none());
        let glibc = task(&w, "crm-precheck", 0.0);
        assert!(
            glibc
                .detail
                .iter()
                .any(|l| l.starts_with("Check source glibc version compatible: warning(warning:"))
        );
        let hr = task(&w, "hr-migrate", 0.0);
        assert_eq!(hr.replication_state, ReplicationState::Finish);
        assert!(!rep(&hr).is_slave);
        assert!(hr.switch_time.is_some());
        assert!(hr.detail.iter().any(|l| l.contains("Switch over finished")));
        let created = task(&w, "erp-migrate", 0.0).created;
        assert!(created < epoch() - chrono::Duration::minutes(50));
        // The backup log of a task past it has its quarter marks.
        let erp = task(&w, "erp-migrate", 0.0);
        assert!(erp.detail.iter().any(|l| l.contains("Backup data: 50%")));
        assert!(erp.detail.iter().any(|l| l == "[Synchronize data]"));
        assert!(erp.lag_bytes().unwrap() > 2000 * MIB);
        // A backup in progress shows the quarters it has passed, and no more.
        let bi = task(&w, "bi-migrate", 0.0);
        assert!(bi.detail.iter().any(|l| l.contains("Backup data: 25%")));
        assert!(!bi.detail.iter().any(|l| l.contains("Backup data: 50%")));
        assert!(bi.replication.is_none());
    }

    /// The demo's promise: crm goes IN SYNC (lag ≤ 16 MiB for 30 s) and then DRAINED (lag 0,
    /// LatestEndLsn unchanged for 30 s) within about a minute.
    #[test]
    fn crm_goes_in_sync_then_drained_within_a_minute() {
        let mut w = world(1);
        let start = task(&w, "crm-migrate", 0.0);
        assert!(start.lag_bytes().unwrap() > 16 * MIB, "starts NOT READY");
        let (mut ok_since, mut in_sync_at) = (None::<f64>, None::<f64>);
        let (mut idle_since, mut drained_at, mut last_end) = (None::<f64>, None::<f64>, None);
        let mut lags = vec![];
        for k in 0..=140 {
            let t = f64::from(k) * 0.5;
            w.advance(t);
            let v = task(&w, "crm-migrate", t);
            let lag = v.lag_bytes().unwrap();
            lags.push(lag);
            let end = rep(&v).latest_end_lsn;
            if lag <= 16 * MIB {
                let s = *ok_since.get_or_insert(t);
                if t - s >= 30.0 && in_sync_at.is_none() {
                    in_sync_at = Some(t);
                }
            } else {
                ok_since = None;
            }
            if lag == 0 && end == last_end {
                let s = *idle_since.get_or_insert(t);
                if t - s >= 30.0 && drained_at.is_none() {
                    drained_at = Some(t);
                }
            } else {
                idle_since = None;
            }
            last_end = end;
        }
        let in_sync_at = in_sync_at.expect("IN SYNC");
        let drained_at = drained_at.expect("DRAINED");
        println!("crm-migrate: IN SYNC at {in_sync_at} s, DRAINED at {drained_at} s");
        assert!(in_sync_at <= 45.0, "in sync at {in_sync_at}");
        assert!(drained_at <= 65.0, "drained at {drained_at}");
        assert!(in_sync_at < drained_at);
        // Lag moved while the source wrote.
        let moving = lags[2..40].windows(2).filter(|p| p[0] != p[1]).count();
        assert!(moving > 10, "{lags:?}");
        let end = task(&w, "crm-migrate", 70.0);
        assert_eq!(rep(&end).replay_lag_seconds, Some(0.0));
        assert_eq!(end.replication_state, ReplicationState::Streaming);
        assert!(rep(&end).synced);
    }

    #[test]
    fn erp_lag_fluctuates_and_catches_up() {
        let mut w = world(1);
        let mut lags = vec![];
        for k in 0..=1200 {
            let t = f64::from(k);
            w.advance(t);
            lags.push(task(&w, "erp-migrate", t).lag_bytes().unwrap());
        }
        let min_after = *lags[200..].iter().min().unwrap();
        let max_after = *lags[200..].iter().max().unwrap();
        assert!(min_after < 32 * MIB, "catches up: {min_after}");
        assert!(max_after > 100 * MIB, "bursts: {max_after}");
        assert!(lags[0] > 10 * max_after / 4, "starts far behind");
        let v = task(&w, "erp-migrate", 1200.0);
        assert_eq!(v.replication_state, ReplicationState::Streaming);
    }

    #[test]
    fn log_disconnects_and_reconnects_at_a_segment_boundary() {
        let mut w = world(1);
        w.advance(44.0);
        let before = task(&w, "log-migrate", 44.0);
        let received_before = rep(&before).received_lsn.unwrap();
        w.advance(50.0);
        let down = task(&w, "log-migrate", 50.0);
        assert_eq!(down.replication_state, ReplicationState::Disconnect);
        let r = rep(&down);
        assert_eq!(r.status, None);
        assert_eq!(r.received_lsn, None);
        assert_eq!(r.latest_end_lsn, None);
        assert!(r.replay_lsn.is_some() && r.is_slave && !r.synced);
        assert!(
            down.detail
                .iter()
                .any(|l| l.contains("connection to source lost"))
        );
        w.advance(75.5);
        let up = task(&w, "log-migrate", 75.5);
        assert_ne!(up.replication_state, ReplicationState::Disconnect);
        let r = rep(&up);
        let start = r.receive_start_lsn.unwrap();
        assert_eq!(start.0 % Lsn::SEGMENT, 0);
        assert!(start >= received_before.segment_start());
        assert!(
            up.detail
                .iter()
                .any(|l| l.contains(&format!("streaming from {start}")))
        );
        // It happens again four minutes later.
        w.advance(290.0);
        assert_eq!(
            task(&w, "log-migrate", 290.0).replication_state,
            ReplicationState::Disconnect
        );
    }

    #[test]
    fn bi_finishes_its_backup_and_streams() {
        let mut w = world(1);
        let mut stages = vec![];
        for k in 0..=900 {
            let t = f64::from(k);
            w.advance(t);
            let s = task(&w, "bi-migrate", t).stage;
            if stages.last() != Some(&s) {
                stages.push(s);
            }
        }
        assert_eq!(
            stages,
            [Stage::Basebackup, Stage::Startup, Stage::Increment]
        );
        let v = task(&w, "bi-migrate", 900.0);
        assert!(v.lag_bytes().unwrap() < 64 * MIB, "{:?}", v.lag_bytes());
        for l in [
            "Backup data: 75%",
            "Backup data finished",
            "[Start RDS instance]",
        ] {
            assert!(v.detail.iter().any(|d| d.contains(l)), "{l}");
        }
    }

    #[test]
    fn postgres_invariants_hold_for_an_hour() {
        let mut w = world(3);
        let mut last: std::collections::HashMap<String, (Lsn, Lsn)> = Default::default();
        for k in 0..=7200 {
            let t = f64::from(k) * 0.5;
            w.advance(t);
            for i in w.instance_ids() {
                for v in w.views(&i, t).unwrap() {
                    let Some(r) = &v.replication else { continue };
                    let replay = r.replay_lsn.unwrap();
                    if let (Some(recv), Some(end), Some(start)) =
                        (r.received_lsn, r.latest_end_lsn, r.receive_start_lsn)
                    {
                        assert!(recv <= end, "{} t={t}: received > latest end", v.task_name);
                        assert!(start <= recv, "{} t={t}", v.task_name);
                        assert_eq!(start.0 % Lsn::SEGMENT, 0);
                        if let Some((_, prev_end)) = last.get(&v.task_name) {
                            assert!(end >= *prev_end, "{} t={t}: end went back", v.task_name);
                        }
                        last.insert(v.task_name.clone(), (replay, end));
                    }
                    if let Some((prev_replay, _)) = last.get(&v.task_name) {
                        assert!(
                            replay >= *prev_replay,
                            "{} t={t}: replay went back",
                            v.task_name
                        );
                    }
                    assert!(
                        v.detail.len() < 80,
                        "{}: {} lines",
                        v.task_name,
                        v.detail.len()
                    );
                }
            }
        }
    }

    #[test]
    fn switchover_goes_switch_then_success() {
        let mut w = world(1);
        w.advance(70.0);
        assert!(w.activate("pgm-bp1demo00bi004", 440437401).is_err());
        assert_eq!(
            w.activate("pgm-bp1demo00crm02", 1).unwrap_err().code,
            "InvalidMigrateTask"
        );
        w.activate("pgm-bp1demo00crm02", 440437202).unwrap();
        let s = task(&w, "crm-migrate", 70.0);
        assert_eq!(s.stage, Stage::Switch);
        assert_eq!(s.replication_state, ReplicationState::Finish);
        assert!(s.switch_time.is_some());
        assert_eq!(
            w.activate("pgm-bp1demo00crm02", 440437202)
                .unwrap_err()
                .code,
            "InvalidMigrateStatus"
        );
        w.advance(80.0);
        let done = task(&w, "crm-migrate", 80.0);
        assert_eq!(done.stage, Stage::Success);
        assert!(!rep(&done).is_slave);
        assert!(
            done.detail
                .iter()
                .any(|l| l.contains("[Switch RDS instance]"))
        );
    }

    #[test]
    fn created_tasks_run_through_the_stages() {
        let mut w = world(1);
        w.advance(10.0);
        let new = NewTask {
            task_name: "new-one".into(),
            precheck_only: false,
            source: SourceView {
                category: "ecsOnVpc".into(),
                ip: "10.1.1.1".into(),
                port: 5432,
                account: "m".into(),
                password: Password::new("pw"),
            },
        };
        assert!(w.create("pgm-nope", new.clone(), 10.0).is_err());
        let id = w.create("pgm-bp1demo00hr005", new, 10.0).unwrap();
        assert_eq!(id, 440437502);
        let v = task(&w, "new-one", 10.0);
        assert_eq!(v.stage, Stage::Precheck);
        assert!(v.detail.is_empty());
        assert_eq!(v.created, epoch() + chrono::Duration::seconds(10));
        w.advance(25.0);
        assert!(!task(&w, "new-one", 25.0).detail.is_empty());
        w.advance(200.0);
        assert_eq!(task(&w, "new-one", 200.0).stage, Stage::Increment);
    }

    #[test]
    fn huge_jumps_stay_cheap_and_sane() {
        let mut w = world(1);
        let t0 = std::time::Instant::now();
        w.advance(1e9);
        assert!(t0.elapsed() < std::time::Duration::from_secs(30));
        for i in w.instance_ids() {
            for v in w.views(&i, 1e9).unwrap() {
                assert!(v.detail.len() < 80);
                if let Some(r) = &v.replication {
                    assert!(r.replay_lsn.unwrap().0 as f64 <= MAX_LSN);
                }
            }
        }
        w.advance(f64::NAN);
        w.advance(f64::INFINITY);
        w.advance(-5.0);
    }
}
