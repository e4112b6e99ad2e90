//! A task's dated record: the source's writes (to date what the standby replayed) and the
//! stage transitions with the Detail lines they write.

use std::collections::VecDeque;

use chrono::{DateTime, FixedOffset};

use super::task::TaskSim;
use crate::model::Stage;
use crate::sim::clock::to_datetime;
use crate::sim::detail;
use crate::units;

/// Source write samples kept to map a replayed LSN back to its commit time.
const HISTORY_CAP: usize = 4096;

/// When the source wrote which position: `(position, simulated time)` samples, oldest first.
#[derive(Debug, Clone, Default)]
pub struct WriteHistory(VecDeque<(f64, f64)>);

impl WriteHistory {
    /// Records that the source had written up to `pos` at `t` (positions only grow).
    pub fn push(&mut self, pos: f64, t: f64) {
        if let Some(last) = self.0.back()
            && pos <= last.0
        {
            return;
        }
        if self.0.len() >= HISTORY_CAP {
            self.0.pop_front();
        }
        self.0.push_back((pos, t));
    }

    /// When the source wrote position `pos` (its commit time, for ReplayTimestamp).
    pub fn written_at(&self, pos: f64) -> Option<f64> {
        let first = self.0.front()?;
        if pos <= first.0 {
            return Some(first.1);
        }
        let i = self.0.partition_point(|(p, _)| *p < pos);
        match (self.0.get(i.wrapping_sub(1)), self.0.get(i)) {
            (Some(a), Some(b)) if b.0 > a.0 => {
                Some(a.1 + (b.1 - a.1) * ((pos - a.0) / (b.0 - a.0)).clamp(0.0, 1.0))
            }
            (_, Some(b)) => Some(b.1),
            (Some(a), None) => Some(a.1),
            (None, None) => None,
        }
    }

    /// The time of the latest sample.
    pub fn last_time(&self) -> Option<f64> {
        self.0.back().map(|(_, t)| *t)
    }
}

impl TaskSim {
    /// Simulated time `t` as a timestamp in the scenario's zone.
    pub(super) fn stamp(&self, t: f64) -> DateTime<FixedOffset> {
        to_datetime(self.epoch, t).with_timezone(&self.tz)
    }

    /// A Detail progress line stamped at `t`.
    pub(super) fn progress(&self, t: f64, text: &str) -> String {
        detail::progress(&self.stamp(t), text)
    }

    /// `Backup data: 50% (24.0 GiB of 48.0 GiB)` stamped at `at`.
    pub(super) fn backup_line(&self, at: f64, quarter: u64) -> String {
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

    /// The Detail lines of a base backup that ran from `start` for `duration`.
    pub(super) fn backup_history(&mut self, start: f64, duration: f64) {
        for q in 1..=3u64 {
            let line = self.backup_line(start + duration * q as f64 / 4.0, q);
            self.detail.line(line);
        }
        let line = self.progress(start + duration, "Backup data finished");
        self.detail.line(line);
    }

    /// Moves to `stage` at `t`, writing its Detail lines.
    pub(super) fn enter(&mut self, stage: Stage, t: f64) {
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
}
