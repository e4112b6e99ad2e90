//! Is it safe to switch over? The verdict is a pure function of a task's recent samples.

use std::fmt;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::history::{Sample, SampleData};
use crate::model::{ReplicationState, Stage};
use crate::units;

/// The thresholds a verdict is judged against (`--max-lag`, `--stable-for`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ReadinessConfig {
    pub max_lag: u64,
    pub stable_for: Duration,
}

impl Default for ReadinessConfig {
    fn default() -> Self {
        ReadinessConfig {
            max_lag: 16 * 1024 * 1024,
            stable_for: Duration::from_secs(30),
        }
    }
}

/// Why a task is not ready for a switchover.
#[derive(Debug, Clone, PartialEq)]
pub enum Reason {
    /// Nothing has been read for this task yet.
    NoData,
    /// The stage is not `increment`.
    Stage(Option<Stage>),
    /// The replication state is not `streaming`.
    State(Option<ReplicationState>),
    /// `Synced` is false or missing.
    NotSynced(Option<bool>),
    /// The lag cannot be computed from what the API reported.
    LagUnknown,
    /// The lag is above `--max-lag`.
    LagAbove { lag: u64, max: u64 },
    /// The last successful poll is too old to trust.
    Stale { age: Duration },
    /// Every condition holds, but not yet for `--stable-for`.
    Settling { stable: Duration, need: Duration },
}

impl Reason {
    /// A terse form for narrow panels (the requirement is implied).
    pub fn short(&self) -> String {
        match self {
            Reason::Stage(Some(Stage::Success)) => "migration finished".into(),
            Reason::Stage(Some(Stage::Switch)) => "switchover under way".into(),
            Reason::Stage(Some(s)) => format!("stage {s}"),
            Reason::State(Some(s)) => format!("state {s}"),
            Reason::NotSynced(Some(false)) => "not Synced".into(),
            Reason::LagAbove { max, .. } => format!("lag > {}", units::bytes(*max)),
            Reason::Stale { age } => format!("stale ({})", units::duration(*age)),
            other => other.to_string(),
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::NoData => write!(f, "no data yet"),
            Reason::Stage(Some(Stage::Success)) => write!(f, "migration finished (success)"),
            Reason::Stage(Some(Stage::Switch)) => write!(f, "switchover under way"),
            Reason::Stage(Some(s)) => write!(f, "stage {s}, not increment"),
            Reason::Stage(None) => write!(f, "stage unknown"),
            Reason::State(Some(s)) => write!(f, "state {s}, not streaming"),
            Reason::State(None) => write!(f, "replication state unknown"),
            Reason::NotSynced(Some(false)) => write!(f, "Synced is false"),
            Reason::NotSynced(_) => write!(f, "Synced unknown"),
            Reason::LagUnknown => write!(f, "lag unknown"),
            Reason::LagAbove { lag, max } => {
                write!(f, "lag {} > {}", units::bytes(*lag), units::bytes(*max))
            }
            Reason::Stale { age } => write!(f, "data stale ({} old)", units::duration(*age)),
            Reason::Settling { stable, need } => write!(
                f,
                "in sync {} of {}",
                units::duration(*stable),
                units::duration(*need)
            ),
        }
    }
}

/// The readiness verdict for one task.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// Not safe to switch over, with every reason.
    NotReady(Vec<Reason>),
    /// Lag within `--max-lag` continuously for at least `--stable-for`.
    InSync { lag: u64, stable: Duration },
    /// Lag 0 and the source's WAL end unchanged for `--stable-for`: a switchover loses nothing.
    Drained { stable: Duration },
}

/// The verdict without its figures, for detecting transitions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VerdictKind {
    NotReady,
    InSync,
    Drained,
}

impl Verdict {
    /// Which of the three verdicts this is.
    pub fn kind(&self) -> VerdictKind {
        match self {
            Verdict::NotReady(_) => VerdictKind::NotReady,
            Verdict::InSync { .. } => VerdictKind::InSync,
            Verdict::Drained { .. } => VerdictKind::Drained,
        }
    }

    /// `NOT READY`, `IN SYNC` or `DRAINED`.
    pub fn label(&self) -> &'static str {
        match self.kind() {
            VerdictKind::NotReady => "NOT READY",
            VerdictKind::InSync => "IN SYNC",
            VerdictKind::Drained => "DRAINED",
        }
    }

    /// The reasons of a NOT READY verdict (empty otherwise).
    pub fn reasons(&self) -> &[Reason] {
        match self {
            Verdict::NotReady(r) => r,
            _ => &[],
        }
    }
}

/// The conditions that must all hold in a sample, as reasons for those that do not.
fn sample_reasons(d: &SampleData, max_lag: u64) -> Vec<Reason> {
    // Past the switchover the other conditions no longer mean anything.
    if matches!(d.stage, Some(Stage::Switch | Stage::Success)) {
        return vec![Reason::Stage(d.stage.clone())];
    }
    let mut r = Vec::new();
    if d.stage != Some(Stage::Increment) {
        r.push(Reason::Stage(d.stage.clone()));
    }
    if d.state != Some(ReplicationState::Streaming) {
        r.push(Reason::State(d.state.clone()));
    }
    if d.synced != Some(true) {
        r.push(Reason::NotSynced(d.synced));
    }
    match d.judged_lag() {
        None => r.push(Reason::LagUnknown),
        Some(lag) if lag > max_lag => r.push(Reason::LagAbove { lag, max: max_lag }),
        Some(_) => {}
    }
    r
}

fn span(from: &DateTime<Utc>, to: &DateTime<Utc>) -> Duration {
    (*to - *from).to_std().unwrap_or_default()
}

/// Judges a task from its samples (oldest first). `stale` is the age of the last successful
/// poll when that is too old to trust. Failed polls (samples without data) neither count for
/// nor break a stable window: staleness is what guards against long gaps.
pub fn evaluate(samples: &[&Sample], stale: Option<Duration>, cfg: &ReadinessConfig) -> Verdict {
    let with_data: Vec<(&DateTime<Utc>, &SampleData)> = samples
        .iter()
        .filter_map(|s| s.data.as_ref().map(|d| (&s.at, d)))
        .collect();
    let Some(&(last_at, last)) = with_data.last() else {
        let mut r = vec![Reason::NoData];
        if let Some(age) = stale {
            r.push(Reason::Stale { age });
        }
        return Verdict::NotReady(r);
    };
    let mut reasons = sample_reasons(last, cfg.max_lag);
    if let Some(age) = stale {
        reasons.push(Reason::Stale { age });
    }
    if !reasons.is_empty() {
        return Verdict::NotReady(reasons);
    }
    // How long every condition has held, back from the newest sample.
    let run_start = with_data
        .iter()
        .rev()
        .take_while(|(_, d)| sample_reasons(d, cfg.max_lag).is_empty())
        .last()
        .map(|(at, _)| *at)
        .unwrap_or(last_at);
    let stable = span(run_start, last_at);
    if stable < cfg.stable_for {
        return Verdict::NotReady(vec![Reason::Settling {
            stable,
            need: cfg.stable_for,
        }]);
    }
    // Drained: lag 0 and the source's WAL end unchanged, for the whole window; with a source
    // probe, the source itself must confirm it (true lag 0) in every sample of the window.
    let drained =
        |d: &SampleData| d.judged_lag() == Some(0) && (!d.probed || d.true_lag() == Some(0));
    if drained(last) && last.latest_end.is_some() {
        let drain_start = with_data
            .iter()
            .rev()
            .take_while(|(_, d)| {
                drained(d)
                    && d.latest_end == last.latest_end
                    && sample_reasons(d, cfg.max_lag).is_empty()
            })
            .last()
            .map(|(at, _)| *at)
            .unwrap_or(last_at);
        let drained = span(drain_start, last_at);
        if drained >= cfg.stable_for {
            return Verdict::Drained { stable: drained };
        }
    }
    Verdict::InSync {
        lag: last.judged_lag().unwrap_or(0),
        stable,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Lsn;

    fn t(s: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000 + s, 0).unwrap()
    }

    fn good(at: i64, lag: u64, end: u64) -> Sample {
        Sample {
            at: t(at),
            data: Some(SampleData {
                stage: Some(Stage::Increment),
                state: Some(ReplicationState::Streaming),
                synced: Some(true),
                lag: Some(lag),
                latest_end: Some(Lsn(end)),
                received: Some(Lsn(end)),
                replay: Some(Lsn(end - lag)),
                tli: Some(1),
                receive_start: None,
                receiver_restarting: false,
                probed: false,
                source: None,
            }),
        }
    }

    fn eval(samples: &[Sample], stale: Option<Duration>) -> Verdict {
        let refs: Vec<&Sample> = samples.iter().collect();
        evaluate(&refs, stale, &ReadinessConfig::default())
    }

    const MIB: u64 = 1024 * 1024;

    #[test]
    fn no_data_is_not_ready() {
        assert_eq!(eval(&[], None), Verdict::NotReady(vec![Reason::NoData]));
        let failed = Sample {
            at: t(0),
            data: None,
        };
        assert_eq!(
            eval(&[failed], Some(Duration::from_secs(20))),
            Verdict::NotReady(vec![
                Reason::NoData,
                Reason::Stale {
                    age: Duration::from_secs(20)
                }
            ])
        );
    }

    #[test]
    fn every_reason_is_listed() {
        let s = Sample {
            at: t(0),
            data: Some(SampleData {
                stage: Some(Stage::Basebackup),
                state: Some(ReplicationState::Catchup),
                synced: Some(false),
                lag: Some(100 * MIB),
                latest_end: None,
                received: None,
                replay: None,
                tli: None,
                receive_start: None,
                receiver_restarting: false,
                probed: false,
                source: None,
            }),
        };
        let v = eval(&[s], Some(Duration::from_secs(16)));
        assert_eq!(
            v,
            Verdict::NotReady(vec![
                Reason::Stage(Some(Stage::Basebackup)),
                Reason::State(Some(ReplicationState::Catchup)),
                Reason::NotSynced(Some(false)),
                Reason::LagAbove {
                    lag: 100 * MIB,
                    max: 16 * MIB
                },
                Reason::Stale {
                    age: Duration::from_secs(16)
                },
            ])
        );
        assert_eq!(v.reasons()[3].to_string(), "lag 100 MiB > 16.0 MiB");
    }

    #[test]
    fn a_finished_task_has_one_reason() {
        let mut s = good(0, 0, 1000);
        let d = s.data.as_mut().unwrap();
        d.stage = Some(Stage::Success);
        d.state = Some(ReplicationState::Finish);
        d.lag = None;
        assert_eq!(
            eval(&[s], None),
            Verdict::NotReady(vec![Reason::Stage(Some(Stage::Success))])
        );
    }

    #[test]
    fn unknown_lag_is_not_zero() {
        let mut s = good(0, 0, 1000);
        s.data.as_mut().unwrap().lag = None;
        assert_eq!(
            eval(&[s], None),
            Verdict::NotReady(vec![Reason::LagUnknown])
        );
    }

    #[test]
    fn in_sync_needs_the_stable_window() {
        let mut v: Vec<Sample> = (0..=5)
            .map(|i| good(i * 5, MIB, 100 * MIB + i as u64))
            .collect();
        assert_eq!(
            eval(&v, None),
            Verdict::NotReady(vec![Reason::Settling {
                stable: Duration::from_secs(25),
                need: Duration::from_secs(30)
            }])
        );
        v.push(good(30, 2 * MIB, 100 * MIB + 9));
        assert_eq!(
            eval(&v, None),
            Verdict::InSync {
                lag: 2 * MIB,
                stable: Duration::from_secs(30)
            }
        );
        // A lag spike restarts the window; a failed poll does not.
        v.push(good(35, 17 * MIB, 120 * MIB));
        assert_eq!(eval(&v, None).kind(), VerdictKind::NotReady);
        v.push(Sample {
            at: t(40),
            data: None,
        });
        for i in 0..=6 {
            v.push(good(45 + i * 5, MIB, 130 * MIB + i as u64));
        }
        assert_eq!(
            eval(&v, None),
            Verdict::InSync {
                lag: MIB,
                stable: Duration::from_secs(30)
            }
        );
        // Staleness overrides everything.
        assert_eq!(
            eval(&v, Some(Duration::from_secs(60))),
            Verdict::NotReady(vec![Reason::Stale {
                age: Duration::from_secs(60)
            }])
        );
    }

    #[test]
    fn drained_needs_zero_lag_and_a_still_source() {
        let mut v: Vec<Sample> = (0..=6).map(|i| good(i * 5, 0, 1000 + i as u64)).collect();
        // Lag 0 but the source is still writing: in sync, not drained.
        assert_eq!(
            eval(&v, None),
            Verdict::InSync {
                lag: 0,
                stable: Duration::from_secs(30)
            }
        );
        for i in 7..=13 {
            v.push(good(i * 5, 0, 5000));
        }
        assert_eq!(
            eval(&v, None),
            Verdict::Drained {
                stable: Duration::from_secs(30)
            }
        );
    }

    fn probed(mut s: Sample, source_lsn: Option<u64>) -> Sample {
        let d = s.data.as_mut().unwrap();
        d.probed = true;
        d.source = source_lsn.map(|l| crate::probe::SourceComparison {
            true_lag_bytes: d.replay.map(|r| l.saturating_sub(r.0)),
            latest_end_trail_bytes: d.latest_end.map(|e| l.saturating_sub(e.0)),
            mismatch: false,
        });
        s
    }

    #[test]
    fn the_true_lag_is_judged_when_the_source_is_read() {
        // Reported 1 MiB, but the source is 20 MiB ahead of ReplayLsn: above 16 MiB.
        let v: Vec<Sample> = (0..=6)
            .map(|i| probed(good(i * 5, MIB, 100 * MIB), Some(119 * MIB)))
            .collect();
        assert_eq!(
            eval(&v, None),
            Verdict::NotReady(vec![Reason::LagAbove {
                lag: 20 * MIB,
                max: 16 * MIB
            }])
        );
        // A failed reading falls back to the reported lag: in sync, never drained.
        let v: Vec<Sample> = (0..=12)
            .map(|i| probed(good(i * 5, 0, 5000), None))
            .collect();
        assert_eq!(
            eval(&v, None),
            Verdict::InSync {
                lag: 0,
                stable: Duration::from_secs(60)
            }
        );
        // Drained once the source confirms it for the whole window.
        let v: Vec<Sample> = (0..=12)
            .map(|i| probed(good(i * 5, 0, 5000), Some(5000)))
            .collect();
        assert_eq!(
            eval(&v, None),
            Verdict::Drained {
                stable: Duration::from_secs(60)
            }
        );
    }
}
