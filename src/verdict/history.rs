//! Per-task history of polled samples: the sparkline, WAL/replay rates and catch-up ETA.

use std::collections::VecDeque;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::model::{BackupReading, Lsn, ReplicationState, Stage, Task};
use crate::probe::{ProbeError, ProbeReport, SourceComparison, SourceSample};

/// Progress readings each sample keeps from its `Detail` (the newest ones): two give a rate
/// from the first poll when the log holds both.
pub const READINGS_KEPT: usize = 2;

/// What one successful poll said about a task (only the figures the dashboard trends).
#[derive(Debug, Clone, PartialEq)]
pub struct SampleData {
    pub stage: Option<Stage>,
    pub state: Option<ReplicationState>,
    pub synced: Option<bool>,
    /// Total lag: max(LatestEndLsn, ReceivedLsn) − ReplayLsn; `None` when unknown.
    pub lag: Option<u64>,
    pub latest_end: Option<Lsn>,
    pub received: Option<Lsn>,
    pub replay: Option<Lsn>,
    pub tli: Option<u32>,
    /// ReceiveStartLsn: a new value means the WAL receiver restarted streaming.
    pub receive_start: Option<Lsn>,
    pub receiver_restarting: bool,
    /// A source probe is configured (its reading may still have failed: `source` is `None`).
    pub probed: bool,
    /// The source probe's reading set against this task's LSNs.
    pub source: Option<SourceComparison>,
    /// The source probe's reading of this poll (position, next xid, transactions in
    /// progress, `wal_sender_timeout`), `None` without a probe or when it failed.
    pub reading: Option<SourceSample>,
    /// `LastMsgReceiptTime`: when the standby last heard from the source (the standby's
    /// clock).
    pub last_msg_receipt: Option<DateTime<Utc>>,
    /// How many precheck checks failed, and the first of them (its name).
    pub precheck_failed: usize,
    pub first_failed: Option<String>,
    /// In stage basebackup, the newest progress lines of `Detail` (at most
    /// [`READINGS_KEPT`], oldest first).
    pub backup: Vec<BackupReading>,
}

impl SampleData {
    /// The figures of `task` as polled, without a source probe.
    pub fn of(task: &Task) -> SampleData {
        let r = task.replication.as_ref();
        SampleData {
            stage: task.stage.clone(),
            state: task.replication_state.clone(),
            synced: r.and_then(|r| r.synced),
            lag: r.and_then(|r| r.lag_bytes()),
            latest_end: r.and_then(|r| r.latest_end_lsn).and_then(Lsn::valid),
            received: r.and_then(|r| r.received_lsn).and_then(Lsn::valid),
            replay: r.and_then(|r| r.replay_lsn).and_then(Lsn::valid),
            tli: r.and_then(|r| r.received_tli),
            receive_start: r.and_then(|r| r.receive_start_lsn).and_then(Lsn::valid),
            receiver_restarting: r.is_some_and(|r| r.receiver_restarting()),
            probed: false,
            source: None,
            reading: None,
            last_msg_receipt: r
                .and_then(|r| r.last_msg_receipt_time)
                .map(|t| t.with_timezone(&Utc)),
            precheck_failed: task.precheck.counts.fail,
            first_failed: task.precheck.first_failure().map(str::to_string),
            // Only where it is shown: a big Detail is not scanned on every poll for nothing.
            backup: if task.stage == Some(Stage::Basebackup) {
                task.precheck.backup_readings(READINGS_KEPT)
            } else {
                Vec::new()
            },
        }
    }

    /// The figures of `task` with the source probe's reading of the same poll (`probed`: a
    /// probe is configured; `sample`: its reading, `None` when it failed).
    pub fn probed(task: &Task, probed: bool, sample: Option<&SourceSample>) -> SampleData {
        SampleData {
            probed,
            source: sample.map(|s| SourceComparison::new(s, task.replication.as_ref())),
            reading: sample.cloned(),
            ..SampleData::of(task)
        }
    }

    /// Source position − ReplayLsn, when the probe read the source.
    pub fn true_lag(&self) -> Option<u64> {
        self.source.and_then(|c| c.true_lag_bytes)
    }

    /// The lag readiness is judged on: the larger of the reported and the true lag (the true
    /// lag is the better figure: it sees WAL the source has not yet announced, e.g. while the
    /// link is down); the reported lag alone without a probe reading.
    pub fn judged_lag(&self) -> Option<u64> {
        match (self.lag, self.true_lag()) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        }
    }

    /// Whether the lag RDS reports is only a lower bound, by this sample alone: the receiver
    /// is not streaming, so LatestEndLsn is as old as the link's last message and the source
    /// may be far ahead. An unknown lag or a finished migration has none to bound. (A link
    /// that still says
    /// `streaming` but has gone silent is judged over several samples: see
    /// [`crate::verdict::readiness::reported_lag_is_lower_bound`].)
    pub fn reported_lag_is_lower_bound(&self) -> bool {
        self.lag_can_be_bounded() && self.state != Some(ReplicationState::Streaming)
    }

    /// Whether there is a reported lag that can be a lower bound at all: one is known, and
    /// the migration is not past the switchover.
    pub fn lag_can_be_bounded(&self) -> bool {
        let finished = matches!(self.stage, Some(Stage::Success | Stage::Switch))
            || self.state == Some(ReplicationState::Finish);
        self.lag.is_some() && !finished
    }

    /// Whether the judged lag ([`Self::judged_lag`]) is only a lower bound, by this sample
    /// alone: the reported lag is one and no probe reading makes it exact (the true lag, the
    /// source's own position − ReplayLsn, is exact whatever the link does).
    pub fn lag_is_lower_bound(&self) -> bool {
        self.reported_lag_is_lower_bound() && self.true_lag().is_none()
    }

    /// The furthest WAL position known to exist on the source.
    pub fn head(&self) -> Option<Lsn> {
        match (self.latest_end, self.received) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        }
    }
}

/// One poll as seen by one task: its data, or `None` when the poll failed (a gap).
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub at: DateTime<Utc>,
    pub data: Option<SampleData>,
}

/// How the standby is doing against the source's WAL generation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Eta {
    /// Not enough samples or inputs to say.
    Unknown,
    /// No lag at all.
    CaughtUp,
    /// Replay keeps pace with generation and the lag is within the threshold.
    KeepingUp,
    /// Replay is faster than generation: the lag reaches 0 in about this long.
    In(Duration),
    /// Generation is as fast as or faster than replay and the lag is above the threshold.
    NotCatchingUp,
}

/// Rates over the recent window, bytes per second.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Rates {
    /// How fast the source's WAL end moves.
    pub wal: Option<f64>,
    /// How fast the standby replays.
    pub replay: Option<f64>,
}

/// The trend of one task's polls, oldest first.
#[derive(Debug, Clone, Default)]
pub struct History {
    samples: VecDeque<Sample>,
    /// Set anew by every push, from a counter shared by all histories (so a history put in
    /// another's place never repeats its revision): what was judged from these samples is
    /// still right while it holds.
    revision: u64,
}

static REVISIONS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

/// The instant `d` before `at`, or the earliest instant chrono holds: a window longer than
/// history (a huge `--stable-for`) covers all of it instead of overflowing.
fn before(at: DateTime<Utc>, d: Duration) -> DateTime<Utc> {
    chrono::Duration::from_std(d)
        .ok()
        .and_then(|d| at.checked_sub_signed(d))
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
}

/// Samples kept at most, whatever the window (bounds memory on tiny intervals).
const MAX_SAMPLES: usize = 4096;

impl History {
    /// Appends a sample and forgets samples older than `keep` before it.
    pub fn push(&mut self, sample: Sample, keep: Duration) {
        self.revision = REVISIONS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let cutoff = before(sample.at, keep);
        self.samples.push_back(sample);
        while self.samples.len() > MAX_SAMPLES
            || self
                .samples
                .front()
                .is_some_and(|s| s.at < cutoff && self.samples.len() > 2)
        {
            self.samples.pop_front();
        }
    }

    /// Changes with every push (the only way the samples change); 0 before the first.
    pub fn revision(&self) -> u64 {
        self.revision
    }

    /// Every sample, oldest first.
    pub fn samples(&self) -> &VecDeque<Sample> {
        &self.samples
    }

    /// The newest sample that has data.
    pub fn latest(&self) -> Option<(&DateTime<Utc>, &SampleData)> {
        self.samples
            .iter()
            .rev()
            .find_map(|s| s.data.as_ref().map(|d| (&s.at, d)))
    }

    /// The last `n` lag values, oldest first; `None` where a poll failed or the lag was unknown.
    pub fn lag_series(&self, n: usize) -> Vec<Option<u64>> {
        let skip = self.samples.len().saturating_sub(n);
        self.samples
            .iter()
            .skip(skip)
            .map(|s| s.data.as_ref().and_then(|d| d.lag))
            .collect()
    }

    /// WAL generation and replay rates over the samples of the last `window`, counted only
    /// since the last discontinuity (timeline switch or an LSN going backwards), so a receiver
    /// restart never produces a negative or huge rate.
    pub fn rates(&self, window: Duration) -> Rates {
        let Some((last_at, _)) = self.latest() else {
            return Rates::default();
        };
        let from = before(*last_at, window);
        let with_data: Vec<(&DateTime<Utc>, &SampleData)> = self
            .samples
            .iter()
            .filter(|s| s.at >= from)
            .filter_map(|s| s.data.as_ref().map(|d| (&s.at, d)))
            .collect();
        let rate = |pick: &dyn Fn(&SampleData) -> Option<Lsn>| -> Option<f64> {
            // Walk back from the newest sample while the series is continuous.
            let (t1, d1) = with_data.last()?;
            let v1 = pick(d1)?;
            let mut first = (*t1, v1);
            let mut tli = d1.tli;
            let mut next_v = v1;
            for (t, d) in with_data.iter().rev().skip(1) {
                let Some(v) = pick(d) else { break };
                if v > next_v || (d.tli.is_some() && tli.is_some() && d.tli != tli) {
                    break;
                }
                first = (*t, v);
                next_v = v;
                tli = d.tli.or(tli);
            }
            let secs = (**t1 - *first.0).num_milliseconds() as f64 / 1000.0;
            (secs > 0.0).then(|| v1.bytes_since(first.1) as f64 / secs)
        };
        Rates {
            wal: rate(&|d| d.head()),
            replay: rate(&|d| d.replay),
        }
    }

    /// The timeline switch seen within the samples of the last `window`, as (old, new).
    pub fn timeline_change(&self, window: Duration) -> Option<(u32, u32)> {
        let (last_at, _) = self.latest()?;
        let from = before(*last_at, window);
        let mut prev: Option<u32> = None;
        let mut change = None;
        for s in &self.samples {
            let Some(tli) = s.data.as_ref().and_then(|d| d.tli) else {
                continue;
            };
            if let Some(p) = prev
                && p != tli
                && s.at >= from
            {
                change = Some((p, tli));
            }
            prev = Some(tli);
        }
        change
    }

    /// Whether the receiver restarted within the last `window`: ReceivedLsn trailing
    /// ReplayLsn, or ReceiveStartLsn moving (the receiver streams again from a new start).
    pub fn recent_restart(&self, window: Duration) -> bool {
        let Some((last_at, _)) = self.latest() else {
            return false;
        };
        let from = before(*last_at, window);
        let mut prev_start: Option<Lsn> = None;
        let mut restarted = false;
        for s in &self.samples {
            let Some(d) = s.data.as_ref() else { continue };
            let moved = matches!((prev_start, d.receive_start), (Some(a), Some(b)) if a != b);
            if s.at >= from && (d.receiver_restarting || moved) {
                restarted = true;
            }
            prev_start = d.receive_start.or(prev_start);
        }
        restarted
    }
}

/// The source probe's recent readings: one source per session, read after every successful
/// poll.
#[derive(Debug, Clone)]
pub struct SourceHistory {
    /// The source's DSN, redacted.
    pub target: String,
    /// When the last reading came and what it was.
    pub last: Option<(DateTime<Utc>, Result<SourceSample, ProbeError>)>,
    /// Successful readings of the recent past, oldest first.
    samples: VecDeque<SourceSample>,
}

impl SourceHistory {
    /// No reading yet of the source named `target` (redacted).
    pub fn new(target: impl Into<String>) -> SourceHistory {
        SourceHistory {
            target: target.into(),
            last: None,
            samples: VecDeque::new(),
        }
    }

    /// Takes a reading at `at`, forgetting successful ones older than `keep` before it.
    pub fn push(&mut self, at: DateTime<Utc>, report: ProbeReport, keep: Duration) {
        self.target = report.target;
        if let Ok(s) = &report.result {
            let cutoff = before(s.at, keep);
            self.samples.push_back(s.clone());
            while self.samples.len() > MAX_SAMPLES
                || self
                    .samples
                    .front()
                    .is_some_and(|f| f.at < cutoff && self.samples.len() > 2)
            {
                self.samples.pop_front();
            }
        }
        self.last = Some((at, report.result));
    }

    /// The last reading, if it succeeded.
    pub fn sample(&self) -> Option<&SourceSample> {
        self.last.as_ref().and_then(|(_, r)| r.as_ref().ok())
    }

    /// Why the last reading failed, if it did.
    pub fn error(&self) -> Option<&ProbeError> {
        self.last.as_ref().and_then(|(_, r)| r.as_ref().err())
    }

    /// The source's WAL generation rate over the successful readings of the last `window`,
    /// counted only since the last discontinuity (position going backwards or a timeline
    /// change: another server answered).
    pub fn wal_rate(&self, window: Duration) -> Option<f64> {
        let last = self.samples.back()?;
        let from = before(last.at, window);
        let mut first = last;
        for s in self.samples.iter().rev().skip(1) {
            if s.at < from || s.lsn > first.lsn || s.timeline != last.timeline {
                break;
            }
            first = s;
        }
        crate::probe::wal_rate(first, last).filter(|_| first.at < last.at)
    }
}

/// The catch-up outlook for a lag given the rates; `max_lag` separates keeping up from not.
pub fn eta(lag: Option<u64>, rates: Rates, max_lag: u64) -> Eta {
    let Some(lag) = lag else { return Eta::Unknown };
    if lag == 0 {
        return Eta::CaughtUp;
    }
    let (Some(wal), Some(replay)) = (rates.wal, rates.replay) else {
        return Eta::Unknown;
    };
    // A margin so that noise around equal rates neither produces absurd ETAs nor flaps.
    let margin = (wal * 0.02).max(1.0);
    let closing = replay - wal;
    if closing > margin {
        let secs = lag as f64 / closing;
        if secs.is_finite() && secs < 1e9 {
            return Eta::In(Duration::from_secs_f64(secs.max(1.0)));
        }
    }
    if closing >= -margin && lag <= max_lag {
        Eta::KeepingUp
    } else {
        Eta::NotCatchingUp
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn windows_longer_than_chrono_holds_do_not_overflow() {
        let at = Utc::now();
        assert_eq!(before(at, Duration::MAX), DateTime::<Utc>::MIN_UTC);
        assert_eq!(
            before(at, Duration::from_secs(300_000 * 31_557_600)),
            DateTime::<Utc>::MIN_UTC
        );
        assert_eq!(
            before(at, Duration::from_secs(60)),
            at - chrono::Duration::seconds(60)
        );
    }

    use super::*;

    fn t(s: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000 + s, 0).unwrap()
    }

    fn data(end: u64, recv: u64, replay: u64, tli: u32) -> SampleData {
        SampleData {
            stage: Some(Stage::Increment),
            state: Some(ReplicationState::Streaming),
            synced: Some(true),
            lag: Some(end.max(recv).saturating_sub(replay)),
            latest_end: Some(Lsn(end)),
            received: Some(Lsn(recv)),
            replay: Some(Lsn(replay)),
            tli: Some(tli),
            receive_start: Some(Lsn(0)),
            receiver_restarting: recv < replay,
            probed: false,
            source: None,
            reading: None,
            last_msg_receipt: None,
            precheck_failed: 0,
            first_failed: None,
            backup: Vec::new(),
        }
    }

    const W: Duration = Duration::from_secs(60);

    #[test]
    fn a_new_receive_start_is_a_restart_even_when_caught_up() {
        let mut h = History::default();
        let at_start = |start: u64, at: i64| Sample {
            at: t(at),
            data: Some(SampleData {
                receive_start: Some(Lsn(start)),
                ..data(9000, 9000, 9000, 1)
            }),
        };
        h.push(at_start(0x300_0000, 0), W);
        h.push(at_start(0x300_0000, 10), W);
        assert!(!h.recent_restart(W));
        h.push(at_start(0x400_0000, 20), W);
        assert!(h.recent_restart(W));
        // Out of the window, the mark goes away.
        h.push(at_start(0x400_0000, 100), W);
        assert!(!h.recent_restart(W));
    }

    #[test]
    fn rates_from_successive_samples() {
        let mut h = History::default();
        h.push(
            Sample {
                at: t(0),
                data: Some(data(1000, 1000, 0, 1)),
            },
            W,
        );
        h.push(
            Sample {
                at: t(10),
                data: None,
            },
            W,
        );
        h.push(
            Sample {
                at: t(20),
                data: Some(data(3000, 3000, 4000, 1)),
            },
            W,
        );
        let r = h.rates(W);
        assert_eq!(r.wal, Some(100.0));
        assert_eq!(r.replay, Some(200.0));
        assert_eq!(h.lag_series(10), vec![Some(1000), None, Some(0)]);
    }

    #[test]
    fn discontinuities_reset_the_rate_window() {
        let mut h = History::default();
        h.push(
            Sample {
                at: t(0),
                data: Some(data(5000, 5000, 5000, 1)),
            },
            W,
        );
        // Receiver restart: received goes back to a segment boundary.
        h.push(
            Sample {
                at: t(10),
                data: Some(data(6000, 100, 5500, 1)),
            },
            W,
        );
        h.push(
            Sample {
                at: t(20),
                data: Some(data(7000, 7000, 6500, 2)),
            },
            W,
        );
        assert!(h.recent_restart(W));
        assert_eq!(h.timeline_change(W), Some((1, 2)));
        // Only the last sample after the timeline switch: no rate yet.
        assert_eq!(h.rates(W).wal, None);
    }

    #[test]
    fn old_samples_are_forgotten() {
        let mut h = History::default();
        for i in 0..100 {
            h.push(
                Sample {
                    at: t(i * 10),
                    data: None,
                },
                Duration::from_secs(100),
            );
        }
        assert_eq!(h.samples().len(), 11);
    }

    #[test]
    fn source_rate_over_the_window_since_the_last_discontinuity() {
        let sample = |s: i64, lsn: u64, tli: u32| SourceSample {
            at: t(s),
            lsn: Lsn(lsn),
            in_recovery: false,
            timeline: Some(tli),
            server_version: Some(150000),
            round_trip_ms: 1,
            next_xid: None,
            xid_in_progress: None,
            wal_sender_timeout: None,
            simulated: false,
        };
        let report = |r: Result<SourceSample, ProbeError>| ProbeReport {
            target: "postgres://u@h/db".into(),
            result: r,
            checklist: None,
        };
        let mut h = SourceHistory::new("postgres://u@h/db");
        assert_eq!(h.wal_rate(W), None);
        h.push(t(0), report(Ok(sample(0, 1000, 1))), W);
        assert_eq!(h.wal_rate(W), None, "one reading is no rate");
        h.push(t(10), report(Ok(sample(10, 2000, 1))), W);
        h.push(t(20), report(Ok(sample(20, 5000, 1))), W);
        assert_eq!(h.wal_rate(W), Some(200.0));
        assert_eq!(h.wal_rate(Duration::from_secs(10)), Some(300.0));
        let err = ProbeError::Timeout {
            target: "postgres://u@h/db".into(),
            secs: 5,
        };
        h.push(t(25), report(Err(err.clone())), W);
        assert_eq!(h.error(), Some(&err));
        assert_eq!(h.sample(), None);
        assert_eq!(h.wal_rate(W), Some(200.0), "a failure keeps the rate");
        // Another server (a new timeline) starts a new series.
        h.push(t(30), report(Ok(sample(30, 100, 2))), W);
        assert_eq!(h.wal_rate(W), None);
        h.push(t(40), report(Ok(sample(40, 1100, 2))), W);
        assert_eq!(h.wal_rate(W), Some(100.0));
    }

    #[test]
    fn eta_cases() {
        let r = |w, p| Rates {
            wal: Some(w),
            replay: Some(p),
        };
        assert_eq!(eta(None, r(1.0, 2.0), 10), Eta::Unknown);
        assert_eq!(eta(Some(0), Rates::default(), 10), Eta::CaughtUp);
        assert_eq!(
            eta(Some(1000), r(100.0, 200.0), 10),
            Eta::In(Duration::from_secs(10))
        );
        assert_eq!(eta(Some(5), r(100.0, 100.0), 10), Eta::KeepingUp);
        assert_eq!(eta(Some(500), r(100.0, 90.0), 10), Eta::NotCatchingUp);
        // Falling behind is not keeping up, even below the threshold.
        assert_eq!(eta(Some(5), r(100.0, 50.0), 10), Eta::NotCatchingUp);
        assert_eq!(eta(Some(500), Rates::default(), 10), Eta::Unknown);
    }
}
