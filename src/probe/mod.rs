//! The source probe: the source's own WAL position, read with `pg_current_wal_lsn()`, and
//! whether any transaction wrote (its next transaction id).
//!
//! Only the source knows how far it has written; the RDS API only reports what the standby
//! received, so `source − ReplayLsn` is the true lag. WAL alone cannot say whether the
//! source is idle (checkpoints and running-transactions records keep writing some), but
//! only a transaction that writes is given a transaction id: the next xid standing still
//! while none is in progress is the evidence that nothing was written. Nothing here assigns
//! an xid or needs a privilege beyond login. A probe failure is a value, never fatal.

pub mod admin;
pub mod checklist;
pub mod connect;
pub mod conninfo;
pub mod dsn;
pub mod per_instance;
pub mod tls;
pub mod wal_receiver;
pub mod walsenders;

use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use serde::Serialize;
use tokio::task::JoinHandle;

pub use checklist::Checklist;
pub use dsn::{DsnError, SourceDsn};

use crate::model::{Lsn, ReplicationInfo};

/// One reading of the source.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct SourceSample {
    /// When the answer arrived (local clock).
    pub at: DateTime<Utc>,
    /// `pg_current_wal_lsn()`; on a source that is itself a standby, the furthest of its
    /// received and replayed positions.
    pub lsn: Lsn,
    /// `pg_is_in_recovery()`: the source is a standby (a cascade, or it was promoted away).
    pub in_recovery: bool,
    /// The source's timeline, when known.
    pub timeline: Option<u32>,
    /// `server_version_num`, e.g. 150004.
    pub server_version: Option<u32>,
    /// Round trip of the query in milliseconds.
    pub round_trip_ms: u64,
    /// The next transaction id the source will assign (epoch included): it moves only when a
    /// transaction writes, never for housekeeping WAL. `None` when the server cannot say.
    pub next_xid: Option<u64>,
    /// A transaction holding an xid (one that wrote, or a prepared one) is in progress.
    pub xid_in_progress: Option<bool>,
    /// The source's `wal_sender_timeout` (read once per session); zero when disabled.
    #[serde(skip)]
    pub wal_sender_timeout: Option<Duration>,
    /// The reading comes from a simulator, not from a real server.
    pub simulated: bool,
}

/// Why a sample could not be taken. The text names the source by its redacted DSN only.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProbeError {
    /// The DSN or its TLS settings are unusable (a configuration problem).
    #[error("{0}")]
    Config(String),
    /// No session could be opened.
    #[error("cannot connect to the source {target}: {reason}")]
    Connect { target: String, reason: String },
    /// The session was opened but the query failed.
    #[error("the source {target} could not report its WAL position: {reason}")]
    Query { target: String, reason: String },
    /// No answer in time.
    #[error("the source {target} did not answer within {secs} s")]
    Timeout { target: String, secs: u64 },
}

/// The result of one probe.
pub type ProbeResult = Result<SourceSample, ProbeError>;

/// A probe's answer together with the (redacted) source it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct ProbeReport {
    /// The DSN, redacted.
    pub target: String,
    pub result: ProbeResult,
    /// The source's checklist, when this reading took one (at start, then every
    /// [`CHECKLIST_EVERY`], or sooner when a transaction started or ended holding an xid).
    /// Boxed: it is rare, and a poll result travels through channels by value.
    pub checklist: Option<Box<Checklist>>,
}

impl ProbeReport {
    /// The sample, if the probe succeeded.
    pub fn sample(&self) -> Option<&SourceSample> {
        self.result.as_ref().ok()
    }
}

/// How often the checklist is read again: it opens a session per database, so not on every
/// poll.
pub const CHECKLIST_EVERY: Duration = Duration::from_secs(60);

/// How soon after a reading the checklist is read again when the source's xid state changed
/// (so the sessions it names are the ones DRAINED waits for, or none).
/// Not sooner: on a busy source the xid state flips between polls, and each reading opens a
/// session per database.
pub const CHECKLIST_SOONEST: Duration = Duration::from_secs(15);

/// Whether the checklist is due: never read, read [`CHECKLIST_EVERY`] ago, or the xid state
/// changed since and [`CHECKLIST_SOONEST`] passed. `last`: how long ago it was read and the
/// xid state then.
pub fn checklist_due(last: Option<(Duration, Option<bool>)>, in_progress: Option<bool>) -> bool {
    match last {
        None => true,
        Some((ago, _)) if ago >= CHECKLIST_EVERY => true,
        Some((ago, then)) => ago >= CHECKLIST_SOONEST && then != in_progress,
    }
}

/// Read once per session: the version (which query to use) and `wal_sender_timeout` (ms).
const SESSION_SQL: &str = "SELECT current_setting('server_version_num')::int, \
       (SELECT setting FROM pg_settings WHERE name = 'wal_sender_timeout')";

/// Anything that reads a migration's source: the real [`SourceProbe`], or a simulator lending
/// its own sources (whose samples say `simulated`).
pub trait Probe: Send + std::fmt::Debug {
    /// Reads the source of `instance`'s tasks once (a real probe has one source for all).
    fn report<'a>(&'a mut self, instance: &'a str) -> BoxFuture<'a, ProbeReport>;
    /// What is read, redacted (the DSN, or a simulator's name).
    fn target(&self) -> &str;
}

impl Probe for SourceProbe {
    fn report<'a>(&'a mut self, _instance: &'a str) -> BoxFuture<'a, ProbeReport> {
        Box::pin(SourceProbe::report(self))
    }

    fn target(&self) -> &str {
        SourceProbe::target(self)
    }
}

/// One query, one round trip: recovery state, position, timeline, and the transaction ids
/// (`$snapshot`: xmax, xmin, `age(xmax)` and the `FROM` items).
///
/// The snapshot's xmax is *latest completed* xid + 1: a transaction that wrote and is still
/// open with the newest xid is neither below it nor in the snapshot's list. `age(xid)` counts
/// from the true next xid (`ReadNextTransactionId`, which assigns none), so next xid =
/// xmax + age(xmax), and some xid is in progress when xmin < next xid.
macro_rules! sample_sql {
    ($snapshot:literal) => {
        concat!(
            "SELECT r, \
       (CASE WHEN r THEN greatest(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn()) \
             ELSE pg_current_wal_lsn() END)::text, \
       (CASE WHEN r THEN (SELECT received_tli::bigint FROM pg_stat_wal_receiver) \
             ELSE ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::bigint END), ",
            $snapshot
        )
    };
}

/// The sample query on PostgreSQL 13 and newer.
pub const SAMPLE_SQL: &str = sample_sql!(
    "pg_snapshot_xmax(s)::text, pg_snapshot_xmin(s)::text, age(pg_snapshot_xmax(s)::xid) \
  FROM pg_is_in_recovery() AS r, pg_current_snapshot() AS s"
);

/// The sample query before 13: no `pg_current_snapshot`, and no `xid8` to cast to `xid`
/// (the same numbers from the `txid_*` functions, epoch included).
pub const SAMPLE_SQL_LEGACY: &str = sample_sql!(
    "txid_snapshot_xmax(s)::text, txid_snapshot_xmin(s)::text, \
       age((txid_snapshot_xmax(s) % 4294967296)::text::xid) \
  FROM pg_is_in_recovery() AS r, txid_current_snapshot() AS s"
);

/// The sample query for a server of `version` (`server_version_num`).
pub fn sample_sql(version: u32) -> &'static str {
    if version >= 130000 {
        SAMPLE_SQL
    } else {
        SAMPLE_SQL_LEGACY
    }
}

/// The next xid and whether one is in progress, from the snapshot's xmax and xmin and
/// `age(xmax)`; `None`s when the numbers do not fit together (e.g. a permanent xid, whose
/// age is `i32::MAX`).
pub fn xid_state(xmax: u64, xmin: u64, age_of_xmax: i32) -> (Option<u64>, Option<bool>) {
    if !(0..i32::MAX).contains(&age_of_xmax) || xmin > xmax {
        return (None, None);
    }
    let next = xmax + age_of_xmax as u64;
    (Some(next), Some(xmin < next))
}

struct Session {
    client: tokio_postgres::Client,
    conn: JoinHandle<()>,
    /// `server_version_num`, read when the session opened.
    version: u32,
    /// `wal_sender_timeout`, read when the session opened.
    wal_sender_timeout: Option<Duration>,
}

impl Drop for Session {
    fn drop(&mut self) {
        self.conn.abort();
    }
}

/// Reads the source's WAL position on demand, keeping one session open and reopening it
/// after a failure.
pub struct SourceProbe {
    dsn: SourceDsn,
    timeout: Duration,
    session: Option<Session>,
    warnings: Vec<String>,
    /// When the checklist was last read, and the xid state then.
    checklist_read: Option<(std::time::Instant, Option<bool>)>,
}

impl std::fmt::Debug for SourceProbe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SourceProbe")
            .field("dsn", &self.dsn)
            .field("timeout", &self.timeout)
            .field("connected", &self.session.is_some())
            .finish()
    }
}

impl SourceProbe {
    /// A probe of `dsn`; each sample (connect included) must finish within `timeout`.
    /// Checks the DSN at once so configuration mistakes surface before the first poll.
    pub fn new(dsn: SourceDsn, timeout: Duration) -> Result<SourceProbe, ProbeError> {
        let resolved = dsn.resolve().map_err(|e| ProbeError::Config(e.0))?;
        tls::connector(resolved.ssl_mode, &resolved.root_cert)
            .map_err(|e| ProbeError::Config(e.0))?;
        Ok(SourceProbe {
            dsn,
            timeout,
            session: None,
            warnings: resolved.warnings,
            checklist_read: None,
        })
    }

    /// The DSN, redacted.
    pub fn target(&self) -> &str {
        self.dsn.redacted()
    }

    /// Things found while reading the DSN (e.g. an unsafe `.pgpass`), to show once.
    pub fn take_warnings(&mut self) -> Vec<String> {
        std::mem::take(&mut self.warnings)
    }

    /// Reads the source once and labels the answer with the redacted DSN; the checklist too
    /// when it is due ([`checklist_due`]) and the source answered.
    pub async fn report(&mut self) -> ProbeReport {
        let result = self.sample().await;
        let checklist = match &result {
            Ok(s) => {
                let last = self.checklist_read.map(|(at, then)| (at.elapsed(), then));
                if checklist_due(last, s.xid_in_progress) {
                    self.checklist_read = Some((std::time::Instant::now(), s.xid_in_progress));
                    Some(Box::new(self.checklist().await))
                } else {
                    None
                }
            }
            Err(_) => None,
        };
        ProbeReport {
            target: self.target().to_string(),
            result,
            checklist,
        }
    }

    /// Reads the checklist now, in every database that accepts connections; what cannot be
    /// read (no answer in time included) is an item, never a clean list.
    pub async fn checklist(&mut self) -> Checklist {
        let limit = self.timeout.saturating_mul(3);
        match tokio::time::timeout(limit, self.read_checklist()).await {
            Ok(c) => c,
            Err(_) => {
                // A hung session is dropped; the next sample opens a new one.
                self.session = None;
                Checklist::new(
                    Utc::now(),
                    Vec::new(),
                    vec![checklist::Finding::Unreadable {
                        what: "the checklist".into(),
                        reason: format!("no answer within {} s", limit.as_secs().max(1)),
                        severity: checklist::Severity::LosesData,
                    }],
                )
            }
        }
    }

    async fn read_checklist(&mut self) -> Checklist {
        use checklist::{Finding, Severity, read};
        let unreadable = |what: String, reason: String| Finding::Unreadable {
            what,
            reason,
            severity: Severity::LosesData,
        };
        if self.session.is_none() {
            match self.connect().await {
                Ok(s) => self.session = Some(s),
                Err(e) => {
                    return Checklist::new(
                        Utc::now(),
                        Vec::new(),
                        vec![unreadable("the source".into(), e.to_string())],
                    );
                }
            }
        }
        let Some(s) = self.session.as_ref() else {
            unreachable!("a session was just opened")
        };
        let (databases, mut items) = read::cluster(&s.client, s.version).await;
        let current: Option<String> = s
            .client
            .query_one("SELECT current_database()::text", &[])
            .await
            .ok()
            .and_then(|r| r.try_get(0).ok());
        let mut read_dbs = Vec::new();
        for db in databases.iter().take(read::MAX_DATABASES) {
            if current.as_ref() == Some(db) {
                items.extend(read::database(&s.client, db).await);
            } else {
                match self.open(Some(db)).await {
                    Ok((client, conn)) => {
                        items.extend(read::database(&client, db).await);
                        conn.abort();
                    }
                    Err(reason) => {
                        items.push(unreadable(format!("database {db}"), reason));
                        continue;
                    }
                }
            }
            read_dbs.push(db.clone());
        }
        if databases.len() > read::MAX_DATABASES {
            items.push(unreadable(
                format!("{} more databases", databases.len() - read::MAX_DATABASES),
                format!("only the first {} are read", read::MAX_DATABASES),
            ));
        }
        Checklist::new(Utc::now(), read_dbs, items)
    }

    /// Reads the source once. A stale session is replaced and the query retried once.
    pub async fn sample(&mut self) -> ProbeResult {
        let deadline = tokio::time::Instant::now() + self.timeout;
        let secs = self.timeout.as_secs().max(1);
        match tokio::time::timeout_at(deadline, self.sample_inner()).await {
            Ok(r) => r,
            Err(_) => {
                // A hung session is dropped; the next sample opens a new one.
                self.session = None;
                Err(ProbeError::Timeout {
                    target: self.target().to_string(),
                    secs,
                })
            }
        }
    }

    async fn sample_inner(&mut self) -> ProbeResult {
        if let Some(s) = &self.session {
            match query(s).await {
                Ok(sample) => return Ok(sample),
                // The server answered with an error: the session is fine, the query is not.
                Err(reason) if !s.client.is_closed() => return Err(self.query_error(reason)),
                // The session died (server restart, idle timeout, terminated): open a new one.
                Err(_) => self.session = None,
            }
        }
        let session = self.connect().await?;
        let result = query(&session).await;
        self.session = Some(session);
        result.map_err(|reason| self.query_error(reason))
    }

    fn query_error(&self, reason: String) -> ProbeError {
        use secrecy::ExposeSecret;
        ProbeError::Query {
            target: self.target().to_string(),
            reason: dsn::scrub_password(&reason, self.dsn.secret().expose_secret()),
        }
    }

    /// A session with the DSN's settings, on `dbname` instead of the DSN's database when
    /// given; the error is the reason alone (password scrubbed).
    async fn open(
        &self,
        dbname: Option<&str>,
    ) -> Result<(tokio_postgres::Client, JoinHandle<()>), String> {
        connect::open(&self.dsn, dbname, "source probe")
            .await
            .map_err(|e| match e {
                ProbeError::Config(reason) | ProbeError::Connect { reason, .. } => reason,
                other => other.to_string(),
            })
    }

    async fn connect(&mut self) -> Result<Session, ProbeError> {
        let target = self.target().to_string();
        // Configuration mistakes first, as such (`open` would give only their text).
        let resolved = self.dsn.resolve().map_err(|e| ProbeError::Config(e.0))?;
        tls::connector(resolved.ssl_mode, &resolved.root_cert)
            .map_err(|e| ProbeError::Config(e.0))?;
        let (client, conn) = self
            .open(None)
            .await
            .map_err(|reason| ProbeError::Connect { target, reason })?;
        let row = client
            .query_one(SESSION_SQL, &[])
            .await
            .map_err(|e| self.query_error(self.describe(&e)))?;
        let version: i32 = row
            .try_get(0)
            .map_err(|e| self.query_error(error_text(&e)))?;
        let timeout: Option<String> = row.try_get(1).unwrap_or(None);
        Ok(Session {
            client,
            conn,
            version: u32::try_from(version).unwrap_or(0),
            wal_sender_timeout: timeout
                .and_then(|ms| ms.parse::<u64>().ok())
                .map(Duration::from_millis),
        })
    }

    /// An error's text without the password, with the server's message when there is one.
    fn describe(&self, e: &tokio_postgres::Error) -> String {
        connect::scrub(&self.dsn, &error_text(e))
    }
}

async fn query(session: &Session) -> Result<SourceSample, String> {
    let started = std::time::Instant::now();
    let row = session
        .client
        .query_one(sample_sql(session.version), &[])
        .await
        .map_err(|e| error_text(&e))?;
    let col =
        |i: usize| -> Result<Option<String>, String> { row.try_get(i).map_err(|e| error_text(&e)) };
    let in_recovery: bool = row.try_get(0).map_err(|e| error_text(&e))?;
    let lsn = col(1)?;
    let timeline: Option<i64> = row.try_get(2).map_err(|e| error_text(&e))?;
    let xmax = col(3)?.and_then(|x| x.parse::<u64>().ok());
    let xmin = col(4)?.and_then(|x| x.parse::<u64>().ok());
    let age: Option<i32> = row.try_get(5).map_err(|e| error_text(&e))?;
    let (next_xid, xid_in_progress) = match (xmax, xmin, age) {
        (Some(xmax), Some(xmin), Some(age)) => xid_state(xmax, xmin, age),
        _ => (None, None),
    };
    let lsn = lsn
        .ok_or_else(|| {
            "the source reported no WAL position (a standby that has received nothing yet)"
                .to_string()
        })?
        .parse::<Lsn>()
        .map_err(|e| e.to_string())?;
    Ok(SourceSample {
        at: Utc::now(),
        lsn,
        in_recovery,
        timeline: timeline.and_then(|t| u32::try_from(t).ok()),
        server_version: (session.version > 0).then_some(session.version),
        round_trip_ms: started.elapsed().as_millis() as u64,
        next_xid,
        xid_in_progress,
        wal_sender_timeout: session.wal_sender_timeout,
        simulated: false,
    })
}

/// A time read as seconds since the epoch (`extract(epoch FROM …)::float8`, which needs no
/// chrono feature of tokio-postgres); `None` for infinity or NaN.
pub fn from_epoch(secs: f64) -> Option<DateTime<Utc>> {
    if !secs.is_finite() {
        return None;
    }
    DateTime::from_timestamp(secs.floor() as i64, (secs.fract() * 1e9) as u32)
}

/// `tokio_postgres::Error` as one line: the server's severity and message, or the I/O cause.
pub fn error_text(e: &tokio_postgres::Error) -> String {
    if let Some(db) = e.as_db_error() {
        return format!("{}: {}", db.severity(), db.message());
    }
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        let s_text = s.to_string();
        if !text.contains(&s_text) {
            text = format!("{text}: {s_text}");
        }
        source = s.source();
    }
    text
}

/// True lag in bytes: the source's position minus the standby's ReplayLsn. `None` when the
/// standby claims to be ahead, which means the probe is not looking at this task's source,
/// and when either is `0/0` (no position).
pub fn true_lag_bytes(source: Lsn, replay: Lsn) -> Option<u64> {
    let (source, replay) = (source.valid()?, replay.valid()?);
    (source >= replay).then(|| source.bytes_since(replay))
}

/// How far LatestEndLsn (the source's end of WAL as last reported to the standby) trails the
/// source's position now; `None` when it is ahead (not this task's source) or either is `0/0`.
pub fn latest_end_trail_bytes(source: Lsn, latest_end: Lsn) -> Option<u64> {
    let (source, latest_end) = (source.valid()?, latest_end.valid()?);
    (source >= latest_end).then(|| source.bytes_since(latest_end))
}

/// The source's WAL generation rate in bytes per second between two samples; `None` when the
/// position went backwards (another server, or a restore) or no time passed.
pub fn wal_rate(earlier: &SourceSample, later: &SourceSample) -> Option<f64> {
    let secs = (later.at - earlier.at).num_microseconds()? as f64 / 1e6;
    if secs <= 0.0 || later.lsn < earlier.lsn {
        return None;
    }
    Some(later.lsn.bytes_since(earlier.lsn) as f64 / secs)
}

/// The source sample set against one task's replication info.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SourceComparison {
    /// Source position − ReplayLsn.
    pub true_lag_bytes: Option<u64>,
    /// Source position − LatestEndLsn.
    pub latest_end_trail_bytes: Option<u64>,
    /// The standby's ReplayLsn is ahead of the source: the DSN names another server.
    pub mismatch: bool,
}

impl SourceComparison {
    /// Compares a sample with a task's `ReplicationInfo`.
    pub fn new(sample: &SourceSample, info: Option<&ReplicationInfo>) -> SourceComparison {
        let replay = info.and_then(|i| i.replay_lsn);
        let latest = info.and_then(|i| i.latest_end_lsn);
        SourceComparison {
            true_lag_bytes: replay.and_then(|r| true_lag_bytes(sample.lsn, r)),
            latest_end_trail_bytes: latest.and_then(|l| latest_end_trail_bytes(sample.lsn, l)),
            mismatch: replay.is_some_and(|r| r > sample.lsn),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(at_ms: i64, lsn: &str) -> SourceSample {
        SourceSample {
            at: DateTime::from_timestamp_millis(1_700_000_000_000 + at_ms).unwrap(),
            lsn: lsn.parse().unwrap(),
            in_recovery: false,
            timeline: Some(1),
            server_version: Some(150000),
            round_trip_ms: 1,
            next_xid: Some(750),
            xid_in_progress: Some(false),
            wal_sender_timeout: Some(Duration::from_secs(60)),
            simulated: false,
        }
    }

    #[test]
    fn the_checklist_is_read_at_start_now_and_then_and_when_writers_change() {
        let s = Duration::from_secs;
        assert!(checklist_due(None, Some(false)), "at start");
        assert!(!checklist_due(Some((s(2), Some(false))), Some(false)));
        assert!(checklist_due(Some((s(60), Some(false))), Some(false)));
        // A writer came or went: read again soon, not at once.
        assert!(!checklist_due(Some((s(2), Some(false))), Some(true)));
        assert!(!checklist_due(Some((s(14), Some(false))), Some(true)));
        assert!(checklist_due(Some((s(15), Some(false))), Some(true)));
        assert!(checklist_due(Some((s(16), Some(true))), Some(false)));
    }

    #[test]
    fn next_xid_counts_the_open_writer_the_snapshot_hides() {
        // Idle: xmax = xmin = next.
        assert_eq!(xid_state(725, 725, 0), (Some(725), Some(false)));
        // A writer holds xid 725, the newest: xmax (latest completed + 1) stays 725.
        assert_eq!(xid_state(725, 725, 1), (Some(726), Some(true)));
        // An older writer still open below xmax.
        assert_eq!(xid_state(900, 890, 0), (Some(900), Some(true)));
        // Permanent xids are "infinitely old"; nonsense is unknown, not idle.
        assert_eq!(xid_state(2, 2, i32::MAX), (None, None));
        assert_eq!(xid_state(5, 6, 0), (None, None));
        assert_eq!(xid_state(5, 5, -1), (None, None));
        // Epochs carry through: the next xid is a 64-bit number.
        let e = 3u64 << 32;
        assert_eq!(xid_state(e + 10, e + 10, 4), (Some(e + 14), Some(true)));
    }

    #[test]
    fn the_query_fits_the_server_and_assigns_no_xid() {
        assert!(sample_sql(150004).contains("pg_current_snapshot()"));
        assert!(sample_sql(120010).contains("txid_current_snapshot()"));
        for sql in [SAMPLE_SQL, SAMPLE_SQL_LEGACY] {
            assert!(!sql.contains("txid_current()") && !sql.contains("pg_current_xact_id()"));
        }
    }

    #[test]
    fn true_lag_and_trail() {
        let src: Lsn = "1/0".parse().unwrap();
        assert_eq!(
            true_lag_bytes(src, "0/FFFFFF00".parse().unwrap()),
            Some(256)
        );
        assert_eq!(true_lag_bytes(src, src), Some(0));
        assert_eq!(true_lag_bytes(src, "1/1".parse().unwrap()), None);
        assert_eq!(
            latest_end_trail_bytes(src, "0/FFFF0000".parse().unwrap()),
            Some(0x10000)
        );
    }

    #[test]
    fn rate_from_two_samples() {
        let a = sample(0, "0/1000000");
        let b = sample(2000, "0/1200000");
        assert_eq!(wal_rate(&a, &b), Some(0x200000 as f64 / 2.0));
        assert_eq!(wal_rate(&b, &a), None, "time and position went backwards");
        assert_eq!(wal_rate(&a, &a), None, "no time passed");
        let restored = sample(3000, "0/100");
        assert_eq!(wal_rate(&b, &restored), None);
        let idle = sample(4000, "0/1200000");
        assert_eq!(wal_rate(&b, &idle), Some(0.0));
    }

    #[test]
    fn comparison_with_a_task() {
        let s = sample(0, "0/5000000");
        let info = ReplicationInfo {
            latest_end_lsn: Some("0/4800000".parse().unwrap()),
            received_lsn: Some("0/4800000".parse().unwrap()),
            replay_lsn: Some("0/4000000".parse().unwrap()),
            ..Default::default()
        };
        let c = SourceComparison::new(&s, Some(&info));
        assert_eq!(c.true_lag_bytes, Some(0x1000000));
        assert_eq!(c.latest_end_trail_bytes, Some(0x800000));
        assert!(!c.mismatch);
        let ahead = ReplicationInfo {
            replay_lsn: Some("0/6000000".parse().unwrap()),
            ..info
        };
        let c = SourceComparison::new(&s, Some(&ahead));
        assert_eq!(c.true_lag_bytes, None);
        assert!(c.mismatch);
        let c = SourceComparison::new(&s, None);
        assert_eq!(c.true_lag_bytes, None);
        assert!(!c.mismatch);
    }

    #[tokio::test]
    async fn unreachable_source_is_a_value_without_the_password() {
        // A port nothing listens on: bind, note the port, close.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let dsn = SourceDsn::new(format!(
            "postgres://repl:hunter2-secret@127.0.0.1:{port}/postgres?sslmode=disable"
        ));
        let mut probe = SourceProbe::new(dsn, Duration::from_secs(5)).unwrap();
        for _ in 0..2 {
            let e = probe.sample().await.unwrap_err();
            let text = e.to_string();
            assert!(matches!(e, ProbeError::Connect { .. }), "{e:?}");
            assert!(!text.contains("hunter2"), "{text}");
            assert!(!format!("{e:?}").contains("hunter2"));
            assert!(text.contains(&format!("127.0.0.1:{port}")), "{text}");
        }
        assert!(!format!("{probe:?}").contains("hunter2"));
    }

    #[tokio::test]
    async fn silent_server_times_out() {
        // Accepts TCP but never speaks: the probe must give up in time.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let hold = tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((s, _)) = listener.accept().await {
                held.push(s);
            }
        });
        let dsn = SourceDsn::new(format!("host=127.0.0.1 port={port} user=u sslmode=disable"));
        let mut probe = SourceProbe::new(dsn, Duration::from_millis(300)).unwrap();
        let e = probe.sample().await.unwrap_err();
        assert!(matches!(e, ProbeError::Timeout { .. }), "{e:?}");
        hold.abort();
    }

    #[test]
    fn bad_configuration_is_reported_at_once() {
        let e = SourceProbe::new(
            SourceDsn::new(
                "host=h user=u password=hunter2-secret sslmode=verify-full sslrootcert=/nope.pem",
            ),
            Duration::from_secs(1),
        )
        .unwrap_err();
        assert!(matches!(e, ProbeError::Config(_)));
        assert!(!e.to_string().contains("hunter2"));
    }
}
