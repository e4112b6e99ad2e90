//! Is it safe to switch over? The verdict is a pure function of a task's recent samples.
//!
//! What each verdict knows (the README's "What the verdict knows" says the same for users):
//! - IN SYNC: every condition the API can show held for `--stable-for` (stage increment,
//!   streaming, Synced, lag within `--max-lag`, the link alive, no failed precheck). RDS only
//!   reports what the standby received, so IN SYNC never claims a switchover loses nothing.
//! - DRAINED: additionally, the source itself confirmed (a source probe) that no transaction
//!   wrote during the window and the standby replayed everything up to the source's position at
//!   the window's start. Without a probe there is no DRAINED.

use std::fmt;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::model::{Lsn, ReplicationState, Stage};
use crate::util::units;
use crate::verdict::history::{Sample, SampleData};

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

/// PostgreSQL's default `wal_sender_timeout`, assumed when the source's is not read.
pub const DEFAULT_WAL_SENDER_TIMEOUT: Duration = Duration::from_secs(60);

/// How long the source may hold WAL the standby has not received, on a link that is up,
/// before the link counts as stalled: a live walsender sends within milliseconds, so a few
/// seconds (one poll or more) is evidence, not noise.
pub const STALL_AFTER: Duration = Duration::from_secs(3);

/// How far ahead of migtop's clock a `LastMsgReceiptTime` may be and still be clock skew
/// between two synchronised hosts (NTP keeps them within milliseconds; the rest covers a
/// laptop's drift). Further ahead, the standby's clock is wrong, and a time from the future
/// cannot say the link is alive: it is a reason, never a pass.
pub const CLOCK_SKEW_ALLOWED: Duration = Duration::from_secs(2);

/// How long after a transaction leaves the source's in-progress list its commit record is
/// surely written: 3 × the default `wal_writer_delay` (200 ms) for asynchronous commits,
/// rounded up.
pub const ASYNC_FLUSH: Duration = Duration::from_secs(1);

/// How late past the keepalive period a message may come before the link counts as silent,
/// as a fraction (numerator, denominator) of the period. An idle link's messages come *at*
/// the period, not before it (measured on PostgreSQL 15, idle, default timeouts: a keepalive
/// every 30.0–30.1 s), and the API's report adds its own delay, so judging at the period
/// itself would flag a healthy idle link on every other ping. PostgreSQL gives up at twice
/// the period (`wal_sender_timeout`); half a period of grace sits between the two.
pub const KEEPALIVE_GRACE: (u32, u32) = (1, 2);

/// Where the keepalive period the link is judged against comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeepaliveSource {
    /// Half of the source's `wal_sender_timeout`, read by the probe.
    Source,
    /// Half of PostgreSQL's default 60 s: the source's setting is not known.
    Assumed,
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
    /// The lag is above `--max-lag`; `lower_bound`: the lag is only a lower bound (see
    /// [`lag_is_lower_bound`]), the source may be further ahead.
    LagAbove {
        lag: u64,
        max: u64,
        lower_bound: bool,
    },
    /// The last successful poll is too old to trust.
    Stale { age: Duration },
    /// Every condition holds, but not yet for `--stable-for`.
    Settling { stable: Duration, need: Duration },
    /// Checks of the precheck log failed.
    PrecheckFailed { count: usize, first: Option<String> },
    /// Nothing came from the source (not even a keepalive) for longer than its keepalive
    /// period and [`KEEPALIVE_GRACE`]: the link is frozen even if the standby still says
    /// `streaming`.
    NoMessage {
        silent: Duration,
        keepalive: Duration,
        from: KeepaliveSource,
    },
    /// `LastMsgReceiptTime` is this far ahead of migtop's clock (beyond
    /// [`CLOCK_SKEW_ALLOWED`]): the standby's clock is broken, so its times say nothing of
    /// the link's liveness.
    ReceiptAhead { ahead: Duration },
    /// The source (read by the probe) holds WAL the standby has not received, and the
    /// standby received nothing for this long: the link is stalled.
    NotReceiving { stalled: Duration, behind: u64 },
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
            Reason::PrecheckFailed { count, .. } => format!("precheck failed: {count}"),
            Reason::NoMessage { silent, .. } => {
                format!("no message for {}", units::duration(*silent))
            }
            Reason::NotReceiving { stalled, .. } => {
                format!("nothing received {}", units::duration(*stalled))
            }
            Reason::ReceiptAhead { ahead } => {
                format!("receipt time {} ahead", units::duration(*ahead))
            }
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
            Reason::LagAbove {
                lag,
                max,
                lower_bound,
            } => write!(
                f,
                "lag {} > {}",
                units::lag(*lag, *lower_bound),
                units::bytes(*max)
            ),
            Reason::Stale { age } => write!(f, "data stale ({} old)", units::duration(*age)),
            Reason::Settling { stable, need } => write!(
                f,
                "in sync {} of {}",
                units::duration(*stable),
                units::duration(*need)
            ),
            Reason::PrecheckFailed { count, first } => match first {
                Some(first) => write!(f, "precheck failed: {count}, first: {first}"),
                None => write!(f, "precheck failed: {count}"),
            },
            Reason::NoMessage {
                silent,
                keepalive,
                from,
            } => {
                write!(
                    f,
                    "no message from the source for {} (keepalive {}{})",
                    units::duration(*silent),
                    units::duration(*keepalive),
                    match from {
                        KeepaliveSource::Source => "",
                        KeepaliveSource::Assumed => ", default assumed",
                    }
                )
            }
            Reason::ReceiptAhead { ahead } => write!(
                f,
                "LastMsgReceiptTime is {} ahead of this clock (the standby's clock is wrong)",
                units::duration(*ahead)
            ),
            Reason::NotReceiving { stalled, behind } => write!(
                f,
                "nothing received for {} while the source is {} ahead",
                units::duration(*stalled),
                units::bytes(*behind)
            ),
        }
    }
}

/// Why an IN SYNC task is not DRAINED: what the source has not (yet) confirmed.
#[derive(Debug, Clone, PartialEq)]
pub enum NotDrained {
    /// No source probe: RDS alone cannot tell the source's position, so only `--source-dsn`
    /// can confirm DRAINED.
    NoProbe,
    /// A probe is configured but its readings of the window are missing or incomplete.
    Unconfirmed,
    /// Transactions are writing on the source (its next xid moves, or one holding an xid is
    /// in progress).
    SourceWriting,
    /// The source is quiet, but not yet for `--stable-for`.
    Settling { quiet: Duration, need: Duration },
    /// The standby has not yet replayed up to the source's position at the window's start.
    NotReplayed { behind: u64 },
}

impl fmt::Display for NotDrained {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NotDrained::NoProbe => write!(f, "source position unknown"),
            NotDrained::Unconfirmed => write!(f, "source unconfirmed"),
            NotDrained::SourceWriting => write!(f, "source still writing"),
            NotDrained::Settling { quiet, need } => write!(
                f,
                "source quiet {} of {}",
                units::duration(*quiet),
                units::duration(*need)
            ),
            NotDrained::NotReplayed { behind } => {
                write!(f, "{} not replayed", units::bytes(*behind))
            }
        }
    }
}

/// The readiness verdict for one task.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// Not safe to switch over, with every reason.
    NotReady(Vec<Reason>),
    /// Lag within `--max-lag` and the link alive, continuously for at least `--stable-for`;
    /// `not_drained` says what keeps it from DRAINED.
    InSync {
        lag: u64,
        stable: Duration,
        not_drained: NotDrained,
    },
    /// The source confirmed for `--stable-for` that no transaction wrote, and the standby
    /// replayed all it had: a switchover loses nothing. `simulated`: the confirmation came
    /// from the built-in simulator's probe.
    Drained { stable: Duration, simulated: bool },
}

/// The verdict without its figures: what every output calls it (the dashboard, `status`,
/// `wait`, the exporter's `verdict` label, recordings, the report).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum VerdictKind {
    NotReady,
    InSync,
    Drained,
    /// Stage `switch`: the switchover is under way; nothing is judged.
    Switching,
    /// Stage `success`: the migration finished; nothing is judged.
    Finished,
}

impl VerdictKind {
    /// Every kind, in the order of the ladder, then past the switchover.
    pub const ALL: [VerdictKind; 5] = [
        VerdictKind::NotReady,
        VerdictKind::InSync,
        VerdictKind::Drained,
        VerdictKind::Switching,
        VerdictKind::Finished,
    ];

    /// `NOT READY`, `IN SYNC`, `DRAINED`, `SWITCHING` or `FINISHED`.
    pub fn label(self) -> &'static str {
        match self {
            VerdictKind::NotReady => "NOT READY",
            VerdictKind::InSync => "IN SYNC",
            VerdictKind::Drained => "DRAINED",
            VerdictKind::Switching => "SWITCHING",
            VerdictKind::Finished => "FINISHED",
        }
    }

    /// The snake_case key of JSON and the exporter: `not_ready`, ..., `finished`.
    pub fn key(self) -> &'static str {
        match self {
            VerdictKind::NotReady => "not_ready",
            VerdictKind::InSync => "in_sync",
            VerdictKind::Drained => "drained",
            VerdictKind::Switching => "switching",
            VerdictKind::Finished => "finished",
        }
    }
}

impl Verdict {
    /// Which verdict this is. Past the switchover (stage `switch` or `success`, which
    /// [`evaluate`] gives as the first reason) it is SWITCHING or FINISHED, not NOT READY:
    /// there is nothing left to be ready for.
    pub fn kind(&self) -> VerdictKind {
        match self {
            Verdict::NotReady(r) => match r.first() {
                Some(Reason::Stage(Some(Stage::Switch))) => VerdictKind::Switching,
                Some(Reason::Stage(Some(Stage::Success))) => VerdictKind::Finished,
                _ => VerdictKind::NotReady,
            },
            Verdict::InSync { .. } => VerdictKind::InSync,
            Verdict::Drained { .. } => VerdictKind::Drained,
        }
    }

    /// `NOT READY`, `IN SYNC`, `DRAINED`, `SWITCHING` or `FINISHED`.
    pub fn label(&self) -> &'static str {
        self.kind().label()
    }

    /// The reasons of a NOT READY verdict (empty otherwise).
    pub fn reasons(&self) -> &[Reason] {
        match self {
            Verdict::NotReady(r) => r,
            _ => &[],
        }
    }

    /// The reasons that already rule a switchover out, whatever happens next: all of NOT
    /// READY's reasons except waiting for the stable window. Over a single poll, these are
    /// what that poll alone says against a switchover (`status`'s `blockers`).
    pub fn blockers(&self) -> Vec<&Reason> {
        self.reasons()
            .iter()
            .filter(|r| !matches!(r, Reason::Settling { .. }))
            .collect()
    }
}

/// The conditions that must all hold in a sample, as reasons for those that do not.
fn sample_reasons(d: &SampleData, max_lag: u64) -> Vec<Reason> {
    // Past the switchover the other conditions no longer mean anything.
    if matches!(d.stage, Some(Stage::Switch | Stage::Success)) {
        return vec![Reason::Stage(d.stage.clone())];
    }
    let mut r = Vec::new();
    // First: a failed check is why the others do not hold (the task stays in precheck),
    // and the panel may have room for one line only.
    if d.precheck_failed > 0 {
        r.push(Reason::PrecheckFailed {
            count: d.precheck_failed,
            first: d.first_failed.clone(),
        });
    }
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
        Some(lag) if lag > max_lag => r.push(Reason::LagAbove {
            lag,
            max: max_lag,
            lower_bound: d.lag_is_lower_bound(),
        }),
        Some(_) => {}
    }
    r
}

fn span(from: &DateTime<Utc>, to: &DateTime<Utc>) -> Duration {
    (*to - *from).to_std().unwrap_or_default()
}

/// The keepalive period the link is judged against: half of the source's
/// `wal_sender_timeout` as the newest reading says (0 disables it: the default is assumed),
/// else half of PostgreSQL's default.
pub fn keepalive(samples: &[(&DateTime<Utc>, &SampleData)]) -> (Duration, KeepaliveSource) {
    let read = samples
        .iter()
        .rev()
        .find_map(|(_, d)| d.reading.as_ref().and_then(|r| r.wal_sender_timeout))
        .filter(|t| !t.is_zero());
    match read {
        Some(t) => (t / 2, KeepaliveSource::Source),
        None => (DEFAULT_WAL_SENDER_TIMEOUT / 2, KeepaliveSource::Assumed),
    }
}

/// The link's liveness at each sample (same order): the reasons it is dead, if it is.
///
/// "Now" is each sample's poll time (migtop's clock). `LastMsgReceiptTime` is on the
/// standby's clock, so `poll time − receipt` is only right with synchronised clocks; migtop
/// also counts how long it has seen the newest receipt time (its own clock only, at most one
/// poll late) and takes the larger. A receipt time more than [`CLOCK_SKEW_ALLOWED`] ahead of
/// the poll is a reason of its own ([`Reason::ReceiptAhead`]); one earlier than a receipt
/// already seen is no news (the silence counts on from the newest), so times that jump ahead
/// and back cannot pass for a live link. A standby clock behind migtop's can only make the
/// alarm early.
fn link_reasons(samples: &[(&DateTime<Utc>, &SampleData)]) -> Vec<Vec<Reason>> {
    let (keepalive, from) = keepalive(samples);
    let late = keepalive + keepalive * KEEPALIVE_GRACE.0 / KEEPALIVE_GRACE.1;
    let mut receipt: Option<(DateTime<Utc>, DateTime<Utc>)> = None; // (value, first seen)
    let mut received: Option<Lsn> = None;
    let mut behind_since: Option<DateTime<Utc>> = None;
    let mut out = Vec::with_capacity(samples.len());
    for (at, d) in samples {
        let at = **at;
        let mut r = Vec::new();
        if d.state != Some(ReplicationState::Streaming) {
            // Not streaming says it already; the trackers start again with the link.
            receipt = None;
            received = None;
            behind_since = None;
            out.push(r);
            continue;
        }
        if let Some(t) = d.last_msg_receipt {
            let ahead = span(&at, &t);
            if ahead > CLOCK_SKEW_ALLOWED {
                r.push(Reason::ReceiptAhead { ahead });
            }
            // Only a receipt newer than every one seen is news of the link.
            let (t, seen) = match receipt {
                Some((v, seen)) if v >= t => (v, seen),
                _ => (t, at),
            };
            receipt = Some((t, seen));
            let silent = span(&t, &at).max(span(&seen, &at));
            if silent > late {
                r.push(Reason::NoMessage {
                    silent,
                    keepalive,
                    from,
                });
            }
        }
        if d.received != received {
            received = d.received;
            behind_since = None;
        }
        if let (Some(src), Some(recv)) = (d.reading.as_ref().map(|s| s.lsn), d.received) {
            if src > recv {
                behind_since.get_or_insert(at);
            } else {
                behind_since = None;
            }
            if let Some(since) = behind_since {
                let stalled = span(&since, &at);
                if stalled >= STALL_AFTER {
                    r.push(Reason::NotReceiving {
                        stalled,
                        behind: src.bytes_since(recv),
                    });
                }
            }
        }
        out.push(r);
    }
    out
}

/// Whether the link is judged dead among a verdict's `reasons`: nothing came from the source
/// for longer than its keepalive period, so what the standby reports is as old as the last
/// message, whatever its state says.
fn link_silent(reasons: &[Reason]) -> bool {
    reasons
        .iter()
        .any(|r| matches!(r, Reason::NoMessage { .. }))
}

/// Whether the lag RDS reports for a task is only a lower bound, given its newest sample and
/// its verdict's `reasons` ([`Verdict::reasons`]): the standby is not streaming, or the link
/// is silent ([`Reason::NoMessage`]). Either way LatestEndLsn is as old as the link's last
/// message, and the source may have written any amount since. Never for an unknown lag or a
/// finished task.
pub fn reported_lag_is_lower_bound(d: &SampleData, reasons: &[Reason]) -> bool {
    d.reported_lag_is_lower_bound() || (d.lag_can_be_bounded() && link_silent(reasons))
}

/// Whether the lag readiness judges ([`SampleData::judged_lag`]) is only a lower bound: the
/// reported one is ([`reported_lag_is_lower_bound`]) and no source probe reading makes it
/// exact. With a reading the true lag (source position − ReplayLsn) is exact.
pub fn lag_is_lower_bound(d: &SampleData, reasons: &[Reason]) -> bool {
    reported_lag_is_lower_bound(d, reasons) && d.true_lag().is_none()
}

/// What the source's reading of one sample says for DRAINED: its next xid and whether
/// xid-holding transactions were in progress, when both were read and the reading belongs
/// to this task's source.
fn xid_state(d: &SampleData) -> Option<(u64, bool, Lsn, Option<u32>)> {
    let r = d.reading.as_ref()?;
    if d.source.is_some_and(|c| c.mismatch) {
        return None;
    }
    Some((r.next_xid?, r.xid_in_progress?, r.lsn, r.timeline))
}

/// DRAINED or why not, for a task IN SYNC over `window` (oldest first, every sample passing
/// every condition).
///
/// The evidence: over the window, the source's next xid did not move (only a transaction
/// that writes is assigned one) and no xid-holding transaction was in progress at its start
/// (one that got its xid before could still commit inside it); and the standby has replayed
/// up to the source's WAL position read at the window's start (a moment after it: see
/// [`ASYNC_FLUSH`]). WAL written after that carried no transaction (checkpoints,
/// running-xacts records): housekeeping does not break DRAINED.
fn drained(
    window: &[(&DateTime<Utc>, &SampleData)],
    need: Duration,
) -> Result<Verdict, NotDrained> {
    let &(last_at, last) = window.last().expect("a window has a sample");
    if !last.probed {
        return Err(NotDrained::NoProbe);
    }
    let Some((xid, in_progress, _, tli)) = xid_state(last) else {
        return Err(NotDrained::Unconfirmed);
    };
    if in_progress {
        return Err(NotDrained::SourceWriting);
    }
    // Back from the newest reading while the source stayed quiet.
    let mut start = window.len() - 1;
    for (i, (_, d)) in window.iter().enumerate().rev().skip(1) {
        match xid_state(d) {
            Some((x, false, _, t)) if x == xid && t == tli => start = i,
            _ => break,
        }
    }
    let (start_at, _) = window[start];
    let quiet = span(start_at, last_at);
    if quiet.is_zero() {
        return Err(NotDrained::SourceWriting);
    }
    if quiet < need {
        return Err(NotDrained::Settling { quiet, need });
    }
    // The reference position: the source's, read a moment after the window's start. A
    // transaction with `synchronous_commit = off` leaves the in-progress list once its commit
    // record is inserted, but the WAL writer may write it up to 3 × `wal_writer_delay` (600 ms
    // by default) later; a reading [`ASYNC_FLUSH`] on covers it.
    let source_at_start = window[start..]
        .iter()
        .find(|(at, _)| span(start_at, at) >= ASYNC_FLUSH)
        .or(window.last())
        .and_then(|(_, d)| xid_state(d))
        .map(|(_, _, lsn, _)| lsn)
        .expect("every sample of the quiet window has a reading");
    match last.replay {
        Some(replay) if replay >= source_at_start => Ok(Verdict::Drained {
            stable: quiet,
            simulated: window[start..]
                .iter()
                .any(|(_, d)| d.reading.as_ref().is_some_and(|r| r.simulated)),
        }),
        Some(replay) => Err(NotDrained::NotReplayed {
            behind: source_at_start.bytes_since(replay),
        }),
        None => Err(NotDrained::Unconfirmed),
    }
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
    let link = link_reasons(&with_data);
    let holds = |i: usize| {
        let (_, d) = with_data[i];
        sample_reasons(d, cfg.max_lag).is_empty() && link[i].is_empty()
    };
    let mut reasons = sample_reasons(last, cfg.max_lag);
    // Past the switchover the link means nothing either.
    if !matches!(
        reasons.first(),
        Some(Reason::Stage(Some(Stage::Switch | Stage::Success)))
    ) {
        reasons.extend(link[with_data.len() - 1].iter().cloned());
    }
    // A silent link makes the lag a lower bound too.
    let bound = lag_is_lower_bound(last, &reasons);
    for r in &mut reasons {
        if let Reason::LagAbove { lower_bound, .. } = r {
            *lower_bound = bound;
        }
    }
    if let Some(age) = stale {
        reasons.push(Reason::Stale { age });
    }
    if !reasons.is_empty() {
        return Verdict::NotReady(reasons);
    }
    // How long every condition has held, back from the newest sample.
    let run_start = (0..with_data.len())
        .rev()
        .take_while(|i| holds(*i))
        .last()
        .unwrap_or(with_data.len() - 1);
    let stable = span(with_data[run_start].0, last_at);
    if stable < cfg.stable_for {
        return Verdict::NotReady(vec![Reason::Settling {
            stable,
            need: cfg.stable_for,
        }]);
    }
    match drained(&with_data[run_start..], cfg.stable_for) {
        Ok(v) => v,
        Err(not_drained) => Verdict::InSync {
            lag: last.judged_lag().unwrap_or(0),
            stable,
            not_drained,
        },
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
                reading: None,
                last_msg_receipt: None,
                precheck_failed: 0,
                first_failed: None,
                backup: Vec::new(),
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
                reading: None,
                last_msg_receipt: None,
                precheck_failed: 0,
                first_failed: None,
                backup: Vec::new(),
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
                    max: 16 * MIB,
                    lower_bound: true,
                },
                Reason::Stale {
                    age: Duration::from_secs(16)
                },
            ])
        );
        // Catching up, not streaming: the reported lag is only a lower bound.
        assert_eq!(v.reasons()[3].to_string(), "lag ≥ 100 MiB > 16.0 MiB");
    }

    #[test]
    fn a_finished_task_has_one_reason() {
        let mut s = good(0, 0, 1000);
        let d = s.data.as_mut().unwrap();
        d.stage = Some(Stage::Success);
        d.state = Some(ReplicationState::Finish);
        d.lag = None;
        let v = eval(&[s], None);
        assert_eq!(
            v,
            Verdict::NotReady(vec![Reason::Stage(Some(Stage::Success))])
        );
        assert_eq!(v.kind(), VerdictKind::Finished);
        assert_eq!(v.label(), "FINISHED");
    }

    #[test]
    fn past_the_switchover_the_verdict_says_where_the_task_is() {
        let mut s = good(0, 0, 1000);
        s.data.as_mut().unwrap().stage = Some(Stage::Switch);
        let v = eval(&[s.clone()], Some(Duration::from_secs(20)));
        assert_eq!(v.kind(), VerdictKind::Switching, "{v:?}");
        assert_eq!(v.label(), "SWITCHING");
        assert_eq!(VerdictKind::Switching.key(), "switching");
        s.data.as_mut().unwrap().stage = Some(Stage::Basebackup);
        assert_eq!(eval(&[s], None).kind(), VerdictKind::NotReady);
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
                stable: Duration::from_secs(30),
                not_drained: NotDrained::NoProbe,
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
                stable: Duration::from_secs(30),
                not_drained: NotDrained::NoProbe,
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
    fn without_a_probe_never_drained() {
        // Lag 0 and LatestEndLsn still for minutes: RDS cannot know the source is idle.
        let v: Vec<Sample> = (0..=40).map(|i| good(i * 5, 0, 5000)).collect();
        assert_eq!(
            eval(&v, None),
            Verdict::InSync {
                lag: 0,
                stable: Duration::from_secs(200),
                not_drained: NotDrained::NoProbe,
            }
        );
    }

    /// A reading of the source: its position, next xid and whether xid-holding transactions
    /// were in progress.
    fn read(mut s: Sample, lsn: u64, xid: Option<u64>, busy: bool) -> Sample {
        let at = s.at;
        let d = s.data.as_mut().unwrap();
        d.probed = true;
        let sample = crate::probe::SourceSample {
            at,
            lsn: Lsn(lsn),
            in_recovery: false,
            timeline: Some(1),
            server_version: Some(150000),
            round_trip_ms: 1,
            next_xid: xid,
            xid_in_progress: xid.map(|_| busy),
            wal_sender_timeout: None,
            simulated: false,
        };
        d.source = Some(crate::probe::SourceComparison {
            true_lag_bytes: d
                .replay
                .and_then(|r| crate::probe::true_lag_bytes(Lsn(lsn), r)),
            latest_end_trail_bytes: d.latest_end.map(|e| lsn.saturating_sub(e.0)),
            mismatch: d.replay.is_some_and(|r| r.0 > lsn),
        });
        d.reading = Some(sample);
        s
    }

    /// Standby at `standby` (received = replayed), source at `src` with next xid `xid`.
    fn at_pos(at: i64, standby: u64, src: u64, xid: u64, busy: bool) -> Sample {
        read(good(at, 0, standby), src, Some(xid), busy)
    }

    #[test]
    fn drained_needs_a_still_next_xid_and_the_replay_of_the_start() {
        // Writing: the next xid moves every poll.
        let mut v: Vec<Sample> = (0..=6)
            .map(|i| {
                at_pos(
                    i * 5,
                    1000 + i as u64,
                    1000 + i as u64,
                    700 + i as u64,
                    false,
                )
            })
            .collect();
        assert_eq!(
            eval(&v, None),
            Verdict::InSync {
                lag: 0,
                stable: Duration::from_secs(30),
                not_drained: NotDrained::SourceWriting,
            }
        );
        // Quiet from 35 s: settling, then drained 30 s on.
        for i in 7..=12 {
            v.push(at_pos(i * 5, 5000, 5000, 800, false));
        }
        assert_eq!(
            eval(&v, None),
            Verdict::InSync {
                lag: 0,
                stable: Duration::from_secs(60),
                not_drained: NotDrained::Settling {
                    quiet: Duration::from_secs(25),
                    need: Duration::from_secs(30)
                },
            }
        );
        v.push(at_pos(65, 5000, 5000, 800, false));
        assert_eq!(
            eval(&v, None),
            Verdict::Drained {
                stable: Duration::from_secs(30),
                simulated: false
            }
        );
    }

    #[test]
    fn a_transaction_in_progress_at_the_start_is_not_quiet() {
        // The xid does not move, but a transaction holding one is open: it may still commit.
        let mut v: Vec<Sample> = (0..=12)
            .map(|i| at_pos(i * 5, 5000, 5000, 800, true))
            .collect();
        assert_eq!(
            eval(&v, None),
            Verdict::InSync {
                lag: 0,
                stable: Duration::from_secs(60),
                not_drained: NotDrained::SourceWriting,
            }
        );
        // It committed (same next xid): the quiet window starts at the first reading without.
        for i in 13..=19 {
            v.push(at_pos(i * 5, 5200, 5200, 800, false));
        }
        assert_eq!(
            eval(&v, None),
            Verdict::Drained {
                stable: Duration::from_secs(30),
                simulated: false
            }
        );
    }

    #[test]
    fn housekeeping_wal_on_an_idle_source_does_not_flap() {
        // The lab run: after the load stops the source writes a running-xacts record
        // every 15 s and a checkpoint now and then (846 B/s): position moves, next xid not.
        // The standby replays each within a poll.
        let mut v = Vec::new();
        let mut verdicts = Vec::new();
        for i in 0..=60 {
            let src = 0x100_0000 + (i as u64 / 3) * 846 * 15;
            // The newest record is replayed by the next poll.
            let standby = 0x100_0000 + (i.max(1) as u64 - 1) / 3 * 846 * 15;
            v.push(at_pos(i * 5, standby, src, 4242, false));
            verdicts.push(eval(&v, None).kind());
        }
        // Drained once the window has passed (30 s + the first second), then for good.
        let first = verdicts
            .iter()
            .position(|k| *k == VerdictKind::Drained)
            .expect("drained");
        assert!(first <= 8, "drained at poll {first}");
        assert!(
            verdicts[first..].iter().all(|k| *k == VerdictKind::Drained),
            "{verdicts:?}"
        );
    }

    #[test]
    fn drained_waits_for_the_standby_to_replay_the_start() {
        // Quiet source at 9000, received in full, replayed to 8000 (replay paused).
        let v: Vec<Sample> = (0..=12)
            .map(|i| read(good(i * 5, 1000, 9000), 9000, Some(800), false))
            .collect();
        assert_eq!(
            eval(&v, None),
            Verdict::InSync {
                lag: 1000,
                stable: Duration::from_secs(60),
                not_drained: NotDrained::NotReplayed { behind: 1000 },
            }
        );
    }

    #[test]
    fn a_probe_without_the_xid_or_a_failed_reading_cannot_confirm() {
        let v: Vec<Sample> = (0..=12)
            .map(|i| read(good(i * 5, 0, 5000), 5000, None, false))
            .collect();
        assert_eq!(
            eval(&v, None),
            Verdict::InSync {
                lag: 0,
                stable: Duration::from_secs(60),
                not_drained: NotDrained::Unconfirmed,
            }
        );
        let mut v: Vec<Sample> = (0..=12)
            .map(|i| at_pos(i * 5, 5000, 5000, 800, false))
            .collect();
        let mut failed = good(65, 0, 5000);
        failed.data.as_mut().unwrap().probed = true;
        v.push(failed);
        assert_eq!(
            eval(&v, None).kind(),
            VerdictKind::InSync,
            "a failed reading is not a confirmation"
        );
    }

    #[test]
    fn a_simulated_probe_says_so() {
        let v: Vec<Sample> = (0..=12)
            .map(|i| {
                let mut s = at_pos(i * 5, 5000, 5000, 800, false);
                let d = s.data.as_mut().unwrap();
                d.reading.as_mut().unwrap().simulated = true;
                s
            })
            .collect();
        assert_eq!(
            eval(&v, None),
            Verdict::Drained {
                stable: Duration::from_secs(60),
                simulated: true
            }
        );
    }

    fn receipt(mut s: Sample, receipt_at: i64) -> Sample {
        s.data.as_mut().unwrap().last_msg_receipt = Some(t(receipt_at));
        s
    }

    #[test]
    fn a_frozen_link_without_a_probe_is_not_ready_after_the_keepalive_period() {
        // Healthy: a message every few seconds.
        let mut v: Vec<Sample> = (0..=6)
            .map(|i| receipt(good(i * 5, 0, 5000), i * 5 - 1))
            .collect();
        assert_eq!(eval(&v, None).kind(), VerdictKind::InSync);
        // Frozen at 30 s: the standby still says streaming and lag 0. Silence up to the
        // period and its half-period grace (45 s) is still an idle link's.
        for i in 7..=14 {
            v.push(receipt(good(i * 5, 0, 5000), 29));
            assert_eq!(eval(&v, None).kind(), VerdictKind::InSync, "{i}");
        }
        v.push(receipt(good(75, 0, 5000), 29));
        assert_eq!(
            eval(&v, None),
            Verdict::NotReady(vec![Reason::NoMessage {
                silent: Duration::from_secs(46),
                keepalive: Duration::from_secs(30),
                from: KeepaliveSource::Assumed,
            }])
        );
        assert_eq!(
            eval(&v, None).reasons()[0].to_string(),
            "no message from the source for 46s (keepalive 30s, default assumed)"
        );
    }

    #[test]
    fn an_idle_link_s_punctual_keepalive_is_not_silence() {
        // Idle source, default timeouts: a keepalive every 30.1 s (as PostgreSQL 15 sends
        // them), polled every second, the API adding a second of its own: never NOT READY.
        let v: Vec<Sample> = (0..=240)
            .map(|i| {
                let last_ping_ms = (i * 1000 - 1000).max(0) / 30_100 * 30_100;
                let mut s = good(i, 0, 5000);
                s.data.as_mut().unwrap().last_msg_receipt =
                    Some(t(0) + chrono::Duration::milliseconds(last_ping_ms));
                s
            })
            .collect();
        for n in 1..=v.len() {
            assert!(
                !eval(&v[..n], None)
                    .reasons()
                    .iter()
                    .any(|r| matches!(r, Reason::NoMessage { .. })),
                "flagged at {} s: {:?}",
                n - 1,
                eval(&v[..n], None)
            );
        }
    }

    #[test]
    fn a_standby_clock_ahead_is_a_reason_never_a_live_link() {
        // The standby's clock is 100 s ahead of migtop's: every receipt time is from the
        // future, which says the clock is broken, not that the link is alive.
        let v: Vec<Sample> = (0..=6)
            .map(|i| receipt(good(i * 5, 0, 5000), i * 5 + 100))
            .collect();
        assert_eq!(
            eval(&v, None).reasons(),
            &[Reason::ReceiptAhead {
                ahead: Duration::from_secs(100)
            }]
        );
        // Within the allowed skew it is still a live link.
        let v: Vec<Sample> = (0..=6)
            .map(|i| receipt(good(i * 5, 0, 5000), i * 5 + 1))
            .collect();
        assert_eq!(eval(&v, None).kind(), VerdictKind::InSync);
    }

    #[test]
    fn receipt_times_jumping_a_day_ahead_and_back_never_hold_in_sync() {
        // Every other poll a day ahead, the others a plausible time: never IN SYNC, and the
        // plausible-looking ones are no news after the future one (the silence counts on).
        let day = 86_400;
        let v: Vec<Sample> = (0..=40)
            .map(|i| {
                let off = if i % 2 == 0 { day } else { -1 };
                receipt(good(i * 5, 0, 5000), i * 5 + off)
            })
            .collect();
        for n in 1..=v.len() {
            assert_eq!(eval(&v[..n], None).kind(), VerdictKind::NotReady, "{n}");
        }
        let last = eval(&v, None);
        assert!(
            last.reasons()
                .iter()
                .any(|r| matches!(r, Reason::NoMessage { .. } | Reason::ReceiptAhead { .. })),
            "{last:?}"
        );
    }

    #[test]
    fn a_frozen_link_behind_a_future_receipt_is_still_caught() {
        // One future receipt, then the same plausible time forever: the silence is counted
        // on migtop's clock from the future one, so the link goes silent in time.
        let mut v: Vec<Sample> = (0..=6)
            .map(|i| receipt(good(i * 5, 0, 5000), i * 5 - 1))
            .collect();
        v.push(receipt(good(35, 0, 5000), 35 + 3600));
        for i in 8..=20 {
            v.push(receipt(good(i * 5, 0, 5000), 34));
        }
        assert!(
            eval(&v, None)
                .reasons()
                .iter()
                .any(|r| matches!(r, Reason::NoMessage { .. })),
            "{:?}",
            eval(&v, None)
        );
    }

    proptest::proptest! {
        /// Whatever the standby's clock says, a sample whose receipt time is further ahead of
        /// the poll than the allowed skew is never part of an IN SYNC or DRAINED window: the
        /// newest such sample makes it NOT READY, and an older one inside `--stable-for`
        /// keeps the window from being complete.
        #[test]
        fn future_receipt_times_never_pass(offsets in proptest::collection::vec(-200i64..200_000, 1..30)) {
            let v: Vec<Sample> = offsets
                .iter()
                .enumerate()
                .map(|(i, off)| receipt(good(i as i64 * 5, 0, 5000), i as i64 * 5 + off))
                .collect();
            let verdict = eval(&v, None);
            let skew = CLOCK_SKEW_ALLOWED.as_secs() as i64;
            if *offsets.last().unwrap() > skew {
                proptest::prop_assert!(verdict.reasons().contains(&Reason::ReceiptAhead {
                    ahead: Duration::from_secs(*offsets.last().unwrap() as u64)
                }), "{:?}", verdict);
            }
            if verdict.kind() != VerdictKind::NotReady {
                // The window of --stable-for (30 s) back from the newest sample holds no
                // future receipt.
                let n = v.len();
                for (i, off) in offsets.iter().enumerate() {
                    if (n - 1 - i) * 5 <= 30 {
                        proptest::prop_assert!(*off <= skew, "{:?} {:?}", offsets, verdict);
                    }
                }
            }
        }
    }

    #[test]
    fn the_keepalive_period_comes_from_the_source_when_read() {
        let v: Vec<Sample> = (0..=4)
            .map(|i| {
                let mut s = receipt(at_pos(i * 5, 5000, 5000, 800, false), 0);
                let r = s.data.as_mut().unwrap().reading.as_mut().unwrap();
                r.wal_sender_timeout = Some(Duration::from_secs(20));
                s
            })
            .collect();
        assert_eq!(
            eval(&v, None).reasons(),
            &[Reason::NoMessage {
                silent: Duration::from_secs(20),
                keepalive: Duration::from_secs(10),
                from: KeepaliveSource::Source,
            }]
        );
    }

    #[test]
    fn a_frozen_link_with_a_probe_is_not_ready_within_seconds() {
        // Drained and healthy, then the walsender freezes while the source writes 400 KB/s:
        // LatestEndLsn, ReceivedLsn and the receipt time stop; the source moves on.
        let mut v: Vec<Sample> = (0..=12)
            .map(|i| receipt(at_pos(i * 5, 5000, 5000, 800, false), i * 5))
            .collect();
        assert_eq!(eval(&v, None).kind(), VerdictKind::Drained);
        let mut kinds = Vec::new();
        for i in 1..=3 {
            let src = 5000 + i as u64 * 5 * 400_000;
            v.push(receipt(
                at_pos(60 + i * 5, 5000, src, 800 + i as u64 * 50, false),
                60,
            ));
            kinds.push(eval(&v, None));
        }
        // The first poll after the freeze sees the source ahead; the next (5 s later) calls it.
        assert_eq!(kinds[0].kind(), VerdictKind::InSync);
        assert_eq!(
            kinds[1].reasons(),
            &[Reason::NotReceiving {
                stalled: Duration::from_secs(5),
                behind: 4_000_000,
            }]
        );
    }

    #[test]
    fn a_failed_precheck_is_a_reason() {
        let mut s = good(0, 0, 1000);
        let d = s.data.as_mut().unwrap();
        d.precheck_failed = 2;
        d.first_failed = Some("Check disk size enough".into());
        let v = eval(&[s], None);
        assert_eq!(
            v.reasons(),
            &[Reason::PrecheckFailed {
                count: 2,
                first: Some("Check disk size enough".into())
            }]
        );
        assert_eq!(
            v.reasons()[0].to_string(),
            "precheck failed: 2, first: Check disk size enough"
        );
        assert_eq!(v.reasons()[0].short(), "precheck failed: 2");
        // It comes first, before what it causes (a task stuck in precheck).
        let mut s = good(0, 0, 1000);
        let d = s.data.as_mut().unwrap();
        d.precheck_failed = 1;
        d.stage = Some(Stage::Precheck);
        let v = eval(&[s], None);
        assert!(matches!(
            v.reasons()[0],
            Reason::PrecheckFailed { count: 1, .. }
        ));
        assert_eq!(v.reasons()[1], Reason::Stage(Some(Stage::Precheck)));
    }

    #[test]
    fn a_disconnected_standby_shows_its_lag_as_a_lower_bound() {
        // The receiver gave up: RDS still says lag 0, the source may be 100 MB ahead.
        let mut s = good(0, 0, 1000);
        s.data.as_mut().unwrap().state = Some(ReplicationState::Disconnect);
        let v = eval(std::slice::from_ref(&s), None);
        assert_eq!(v.kind(), VerdictKind::NotReady);
        let d = s.data.as_ref().unwrap();
        assert!(lag_is_lower_bound(d, v.reasons()));
        assert!(reported_lag_is_lower_bound(d, v.reasons()));
        // Above the threshold, the reason says so too.
        let mut s = good(0, 100 * MIB, 200 * MIB);
        s.data.as_mut().unwrap().state = Some(ReplicationState::Disconnect);
        assert_eq!(
            eval(&[s], None).reasons()[1].to_string(),
            "lag ≥ 100 MiB > 16.0 MiB"
        );
    }

    #[test]
    fn a_silent_link_makes_the_lag_a_lower_bound_while_streaming() {
        // Frozen at 0 s: the standby says streaming and a lag of 20 MiB; nothing comes.
        let v: Vec<Sample> = (0..=10)
            .map(|i| receipt(good(i * 5, 20 * MIB, 100 * MIB), 0))
            .collect();
        let verdict = eval(&v, None);
        let d = v.last().unwrap().data.as_ref().unwrap();
        assert!(!d.lag_is_lower_bound(), "one sample alone cannot tell");
        assert!(lag_is_lower_bound(d, verdict.reasons()));
        assert!(
            verdict.reasons().contains(&Reason::LagAbove {
                lag: 20 * MIB,
                max: 16 * MIB,
                lower_bound: true
            }),
            "{verdict:?}"
        );
        // Before the keepalive period and its grace the link counts as alive: the lag is
        // exact.
        let early = eval(&v[..10], None);
        let d = v[9].data.as_ref().unwrap();
        assert!(!lag_is_lower_bound(d, early.reasons()), "{early:?}");
    }

    #[test]
    fn a_finished_task_has_no_lower_bound() {
        let mut s = good(0, 0, 1000);
        let d = s.data.as_mut().unwrap();
        d.stage = Some(Stage::Success);
        d.state = Some(ReplicationState::Finish);
        let silent = [Reason::NoMessage {
            silent: Duration::from_secs(90),
            keepalive: Duration::from_secs(30),
            from: KeepaliveSource::Assumed,
        }];
        assert!(!reported_lag_is_lower_bound(d, &silent));
        assert!(!lag_is_lower_bound(d, &[]));
    }

    #[test]
    fn an_unknown_lag_is_no_lower_bound() {
        // A precheck task: nothing to bound, the lag is unknown (never `≥ 0`).
        let mut s = good(0, 0, 1000);
        let d = s.data.as_mut().unwrap();
        d.stage = Some(Stage::Precheck);
        d.state = Some(ReplicationState::Unstarted);
        d.lag = None;
        assert!(!lag_is_lower_bound(d, &[]));
    }

    #[test]
    fn the_source_position_makes_a_lower_bound_exact() {
        let mut s = good(0, 0, 1000);
        s.data.as_mut().unwrap().state = Some(ReplicationState::Disconnect);
        let s = read(s, 9000, Some(1), false);
        let d = s.data.as_ref().unwrap();
        let v = eval(std::slice::from_ref(&s), None);
        // The reported figure stays a lower bound; the judged one (the true lag) is exact.
        assert!(reported_lag_is_lower_bound(d, v.reasons()));
        assert!(!lag_is_lower_bound(d, v.reasons()));
        assert_eq!(d.judged_lag(), Some(8000));
    }

    #[test]
    fn not_streaming_lag_is_a_lower_bound() {
        let mut s = good(0, 0, 1000);
        let d = s.data.as_mut().unwrap();
        assert!(!d.lag_is_lower_bound());
        d.state = Some(ReplicationState::Disconnect);
        assert!(d.lag_is_lower_bound());
        // The source's own position makes it exact again.
        let s = read(s, 1000, Some(1), false);
        assert!(!s.data.as_ref().unwrap().lag_is_lower_bound());
    }
}
