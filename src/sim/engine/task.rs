//! One task's simulation: its stages, the WAL written on the source, shipped over a link of
//! limited throughput and replayed at a limited rate, with disconnect episodes; advanced in
//! fixed simulated ticks.

use chrono::FixedOffset;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::writes::WriteHistory;
use crate::model::Stage;
use crate::sim::clock::Calendar;
use crate::sim::detail::{self, CheckResult, DetailLog};
use crate::sim::error::SimError;
use crate::sim::position::{MAX_LSN, lsn, segment_start};
use crate::sim::scenario::TaskSpec;

/// Simulated seconds per step.
pub const TICK: f64 = 0.5;
/// Steps per advance before steps get coarser (a huge jump at extreme --speed stays cheap).
const MAX_STEPS: u64 = 200_000;
/// How often an idle sender still sends a message (keepalive), in seconds.
const KEEPALIVE: f64 = 10.0;
/// How often an idle source still writes a little WAL (checkpoint and running-transactions
/// records), in seconds, and how much: housekeeping, no transaction, no xid.
const HOUSEKEEPING_EVERY: f64 = 15.0;
const HOUSEKEEPING_BYTES: f64 = 114.0;
/// WAL per write transaction, to count the xids the writes were given.
const TXN_BYTES: f64 = 16.0 * 1024.0;
/// Stage order as indices.
const ORDER: [Stage; 6] = Stage::ALL;

/// A task's source as its own server would report it (for the simulated probe).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SourceReading {
    pub lsn: crate::model::Lsn,
    pub next_xid: u64,
    pub xid_in_progress: bool,
}

/// One simulated task.
pub struct TaskSim {
    pub(super) spec: TaskSpec,
    pub(super) instance: String,
    /// Simulated time of the spec's time zero (0 for scenario tasks, creation for new ones).
    pub(super) origin: f64,
    pub(super) rng: StdRng,
    pub(super) tz: FixedOffset,
    /// Calendar time of simulated time zero.
    pub(super) calendar: Calendar,
    pub(super) checks: Vec<CheckResult>,
    pub(super) stage: Stage,
    pub(super) stage_since: f64,
    pub(super) created: f64,
    pub(super) modified: f64,
    pub(super) switch_time: Option<f64>,
    pub(super) checks_shown: usize,
    pub(super) backup_done: f64,
    pub(super) backup_marks: u8,
    pub(super) backup_start: f64,
    pub(super) source: f64,
    pub(super) received: f64,
    pub(super) flushed: f64,
    pub(super) replay: f64,
    pub(super) receive_start: f64,
    pub(super) latest_end: f64,
    pub(super) latest_end_time: f64,
    pub(super) last_msg: f64,
    pub(super) connected: bool,
    pub(super) caught_up: bool,
    pub(super) promoted: bool,
    /// The source's writes, to date replayed positions.
    pub(super) history: WriteHistory,
    /// The source's next transaction id: moves with writes, not with housekeeping WAL.
    pub(super) next_xid: u64,
    /// The source wrote transactions in the last step.
    pub(super) writing: bool,
    /// When the source last wrote housekeeping WAL.
    pub(super) housekeeping_at: f64,
    pub(super) detail: DetailLog,
    pub(super) tick: u64,
    /// Time of the last step.
    pub(super) t: f64,
}

impl TaskSim {
    /// A task whose spec's time zero is simulated time `origin`; `calendar` dates
    /// simulated seconds and `tz` the offset its timestamps are written in.
    pub fn new(
        instance: &str,
        spec: TaskSpec,
        seed: u64,
        calendar: Calendar,
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
            calendar,
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
            history: WriteHistory::default(),
            next_xid: 100_000 + (spec.id.unsigned_abs() % 100_000) * 10,
            writing: false,
            housekeeping_at: origin,
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
                self.history.push(start, starts[1]);
                self.history.push(pos, t0);
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
                self.history.push(self.replay, t0 - behind_secs);
                self.history.push(pos, t0);
            }
            Stage::Switch | Stage::Success => {
                self.connected = self.stage == Stage::Switch;
                self.caught_up = true;
                self.promoted = self.stage == Stage::Success;
                self.latest_end_time = starts[idx.min(4)];
                self.history.push(pos, starts[4]);
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
        self.writing = write > 0.0 && !self.promoted;
        if self.writing {
            self.source = (self.source + write).min(MAX_LSN);
            self.next_xid += ((write / TXN_BYTES).ceil() as u64).max(1);
            let recent = self.history.last_time().is_some_and(|ht| t - ht < 1.0);
            if !recent {
                self.history.push(self.source, t);
            }
        } else if !self.promoted && t - self.housekeeping_at >= HOUSEKEEPING_EVERY {
            // Not a transaction: no xid, and not in the write history (whose times are
            // commit times).
            self.source = (self.source + HOUSEKEEPING_BYTES).min(MAX_LSN);
            self.housekeeping_at = t;
        }
    }

    /// The source as its own server would report it: WAL position, next xid, and whether a
    /// writing transaction is in progress (while it writes, one always is).
    pub fn source_reading(&self) -> SourceReading {
        SourceReading {
            lsn: lsn(self.source),
            next_xid: self.next_xid,
            xid_in_progress: self.writing,
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
                    self.history.push(self.source, t);
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

    /// The task id.
    pub fn id(&self) -> i64 {
        self.spec.id
    }

    /// The current stage.
    pub fn stage(&self) -> &Stage {
        &self.stage
    }
}
