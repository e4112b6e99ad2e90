//! The base backup's progress over a task's polls: the latest reading of its `Detail`, the
//! rate between two successive readings and the time left. No reading, one reading, or a
//! task out of stage basebackup: no rate and no ETA (the display falls back to the stage).

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::model::{BackupProgress, BackupReading, Stage};
use crate::verdict::history::History;

/// How fast the backup copies.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum BackupRate {
    /// Both readings gave sizes.
    BytesPerSec(f64),
    /// Percentages only.
    PercentPerSec(f64),
}

/// Where the backup is and how fast it goes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BackupTrend {
    pub latest: BackupProgress,
    /// The poll that first showed the latest reading (this machine's clock): the time left
    /// counts down from there.
    pub seen: DateTime<Utc>,
    /// From the latest reading and the one before it; `None` with a single reading.
    pub rate: Option<BackupRate>,
}

/// When the backup should be done.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackupEta {
    /// In about this long.
    In(Duration),
    /// The estimate has passed without a newer reading.
    Overdue,
}

impl BackupTrend {
    /// The time left at `now`: the rest at the measured rate, less the time since the latest
    /// reading was seen; `None` without a rate or with nothing left to copy.
    pub fn eta(&self, now: DateTime<Utc>) -> Option<BackupEta> {
        let p = self.latest;
        let secs = match self.rate? {
            BackupRate::BytesPerSec(r) => p.remaining_bytes()? as f64 / r,
            BackupRate::PercentPerSec(r) => (100.0 - p.percent) / r,
        };
        if secs <= 0.0 {
            return None;
        }
        let total = Duration::try_from_secs_f64(secs).ok()?;
        let elapsed = (now - self.seen).to_std().unwrap_or_default();
        Some(match total.checked_sub(elapsed) {
            Some(left) if !left.is_zero() => BackupEta::In(left),
            _ => BackupEta::Overdue,
        })
    }
}

/// `a` is an earlier reading than `b`: less done, and written before it when both are timed.
fn earlier(a: &BackupReading, b: &BackupReading) -> bool {
    a.progress.percent < b.progress.percent
        && match (a.at, b.at) {
            (Some(x), Some(y)) => x < y,
            _ => true,
        }
}

impl History {
    /// The newest poll's latest progress reading, while the task is in basebackup.
    pub fn backup_progress(&self) -> Option<BackupProgress> {
        let (_, d) = self.latest()?;
        (d.stage == Some(Stage::Basebackup))
            .then(|| d.backup.last().map(|r| r.progress))
            .flatten()
    }

    /// The base backup's trend over the polls of the current basebackup stage.
    pub fn backup_trend(&self) -> Option<BackupTrend> {
        let (_, last) = self.latest()?;
        if last.stage != Some(Stage::Basebackup) {
            return None;
        }
        let newest = *last.backup.last()?;
        let mut seen = None;
        // The reading just before the newest one, and the first poll that showed it.
        let mut before: Option<(BackupReading, DateTime<Utc>)> = None;
        for s in self.samples().iter().rev() {
            let Some(d) = &s.data else { continue };
            if d.stage != Some(Stage::Basebackup) {
                break;
            }
            for r in d.backup.iter().rev() {
                if *r == newest {
                    seen = Some(s.at);
                } else if earlier(r, &newest) {
                    match &mut before {
                        Some((b, at)) if b == r => *at = s.at,
                        Some((b, _)) if b.progress.percent >= r.progress.percent => {}
                        _ => before = Some((*r, s.at)),
                    }
                }
            }
        }
        let seen = seen?;
        let rate = before.and_then(|(b, b_seen)| {
            // The log's own times when both lines have one (their zone cancels out), else
            // when migtop first saw each.
            let secs = match (b.at, newest.at) {
                (Some(x), Some(y)) => (y - x).num_milliseconds() as f64 / 1000.0,
                _ => (seen - b_seen).num_milliseconds() as f64 / 1000.0,
            };
            if secs <= 0.0 {
                return None;
            }
            let rate = match (b.progress.sizes, newest.progress.sizes) {
                (Some((d0, t0)), Some((d1, t1))) if t0 == t1 && d1 > d0 => {
                    BackupRate::BytesPerSec((d1 - d0) as f64 / secs)
                }
                _ => {
                    BackupRate::PercentPerSec((newest.progress.percent - b.progress.percent) / secs)
                }
            };
            Some(rate)
        });
        Some(BackupTrend {
            latest: newest.progress,
            seen,
            rate,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Task;
    use crate::verdict::history::{Sample, SampleData};
    use chrono::TimeZone;

    const GIB: u64 = 1 << 30;
    const KEEP: Duration = Duration::from_secs(3600);

    fn t(s: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(1_700_000_000 + s, 0).unwrap()
    }

    /// A poll at `at` of a task in `stage` whose Detail holds `lines`.
    fn poll(h: &mut History, at: i64, stage: &str, lines: &[&str]) {
        let item = serde_json::json!({
            "TaskId": 1,
            "MigrateStage": stage,
            "Detail": lines.join("\n"),
        });
        let task = Task::from_value("pgm-1", &item).unwrap();
        h.push(
            Sample {
                at: t(at),
                data: Some(SampleData::of(&task)),
            },
            KEEP,
        );
    }

    const Q1: &str = "2022-02-25 17:01:00 --- Backup data: 25% (4.50 GiB of 18.0 GiB)";
    const Q2: &str = "2022-02-25 17:02:40 --- Backup data: 50% (9.00 GiB of 18.0 GiB)";
    const Q3: &str = "2022-02-25 17:04:20 --- Backup data: 75% (13.5 GiB of 18.0 GiB)";

    #[test]
    fn one_reading_is_a_percentage_without_rate_or_eta() {
        let mut h = History::default();
        poll(&mut h, 0, "basebackup", &[Q1]);
        assert_eq!(h.backup_progress().unwrap().percent, 25.0);
        let tr = h.backup_trend().unwrap();
        assert_eq!((tr.latest.percent, tr.seen, tr.rate), (25.0, t(0), None));
        assert_eq!(tr.eta(t(10)), None);
        // The same reading polled again is still one reading.
        poll(&mut h, 5, "basebackup", &[Q1]);
        let tr = h.backup_trend().unwrap();
        assert_eq!((tr.seen, tr.rate), (t(0), None));
    }

    #[test]
    fn two_readings_give_a_rate_from_the_logs_own_times() {
        let mut h = History::default();
        poll(&mut h, 0, "basebackup", &[Q1]);
        poll(&mut h, 30, "basebackup", &[Q1, Q2]);
        let tr = h.backup_trend().unwrap();
        // 4.5 GiB in the 100 s between the two lines (not the 30 s between the polls).
        assert_eq!(
            tr.rate,
            Some(BackupRate::BytesPerSec(4.5 * GIB as f64 / 100.0))
        );
        assert_eq!(tr.seen, t(30));
        // 9 GiB left: 200 s from when 50% was seen.
        assert_eq!(tr.eta(t(30)), Some(BackupEta::In(Duration::from_secs(200))));
        assert_eq!(tr.eta(t(80)), Some(BackupEta::In(Duration::from_secs(150))));
        assert_eq!(tr.eta(t(230)), Some(BackupEta::Overdue));
        // A log holding both lines gives the rate at the first poll.
        let mut fresh = History::default();
        poll(&mut fresh, 0, "basebackup", &[Q1, Q2, Q3]);
        let tr = fresh.backup_trend().unwrap();
        assert_eq!(tr.latest.percent, 75.0);
        assert_eq!(
            tr.rate,
            Some(BackupRate::BytesPerSec(4.5 * GIB as f64 / 100.0))
        );
    }

    #[test]
    fn untimed_readings_use_the_polls_that_first_showed_them() {
        let mut h = History::default();
        poll(&mut h, 0, "basebackup", &["Backup data: 10%"]);
        poll(&mut h, 10, "basebackup", &["Backup data: 10%"]);
        poll(&mut h, 20, "basebackup", &["Backup data: 20%"]);
        let tr = h.backup_trend().unwrap();
        assert_eq!(tr.rate, Some(BackupRate::PercentPerSec(0.5)));
        assert_eq!(tr.eta(t(20)), Some(BackupEta::In(Duration::from_secs(160))));
        // Two untimed lines first seen in the same poll: no time between them, no rate.
        let mut same = History::default();
        poll(
            &mut same,
            0,
            "basebackup",
            &["Backup data: 10%", "Backup data: 20%"],
        );
        assert_eq!(same.backup_trend().unwrap().rate, None);
    }

    #[test]
    fn out_of_basebackup_or_without_readings_there_is_nothing() {
        let mut h = History::default();
        poll(
            &mut h,
            0,
            "basebackup",
            &["Backup data finished", "Backup data: lots"],
        );
        assert_eq!(h.backup_progress(), None);
        assert_eq!(h.backup_trend(), None);
        poll(&mut h, 10, "basebackup", &[Q1]);
        poll(&mut h, 20, "startup", &[Q1, Q2, "Backup data finished"]);
        assert_eq!(h.backup_progress(), None);
        assert_eq!(h.backup_trend(), None);
        // A failed poll after a reading keeps the last one known.
        let mut g = History::default();
        poll(&mut g, 0, "basebackup", &[Q1]);
        g.push(
            Sample {
                at: t(5),
                data: None,
            },
            KEEP,
        );
        assert_eq!(g.backup_progress().unwrap().percent, 25.0);
    }

    #[test]
    fn a_restarted_backup_is_not_a_negative_rate() {
        let mut h = History::default();
        poll(&mut h, 0, "basebackup", &[Q3]);
        // The backup started over: a lower percentage, written later.
        poll(
            &mut h,
            10,
            "basebackup",
            &[
                Q3,
                "2022-02-25 17:06:00 --- Backup data: 25% (4.50 GiB of 18.0 GiB)",
            ],
        );
        let tr = h.backup_trend().unwrap();
        assert_eq!((tr.latest.percent, tr.rate), (25.0, None));
    }

    #[test]
    fn a_rate_too_slow_to_say_is_no_eta_not_a_panic() {
        let tr = BackupTrend {
            latest: BackupProgress {
                percent: 50.0,
                sizes: None,
            },
            seen: t(0),
            rate: Some(BackupRate::PercentPerSec(1e-300)),
        };
        assert_eq!(tr.eta(t(1)), None);
        let done = BackupTrend {
            latest: BackupProgress {
                percent: 100.0,
                sizes: Some((GIB, GIB)),
            },
            rate: Some(BackupRate::BytesPerSec(1.0)),
            ..tr
        };
        assert_eq!(done.eta(t(1)), None);
    }
}
