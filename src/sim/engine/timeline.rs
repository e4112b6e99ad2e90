//! A task's dated record: the source's writes (to date what the standby replayed) and the
//! stage transitions with the Detail lines they write.

use chrono::{DateTime, FixedOffset};

use super::task::TaskSim;
use crate::model::Stage;
use crate::sim::detail;
use crate::util::units;

impl TaskSim {
    /// Simulated time `t` as a timestamp in the scenario's zone.
    pub(super) fn stamp(&self, t: f64) -> DateTime<FixedOffset> {
        self.calendar.at(t).with_timezone(&self.tz)
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
