//! The source probe: the source's own WAL position, read with `pg_current_wal_lsn()`.
//!
//! Only the source knows how far it has written; the RDS API only reports what the standby
//! received, so `source − ReplayLsn` is the true lag. A probe failure is a value, never fatal.

pub mod conninfo;
pub mod dsn;
pub mod tls;

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;
use tokio::task::JoinHandle;

pub use dsn::{DsnError, SourceDsn};

use crate::model::{Lsn, ReplicationInfo};

/// One reading of the source.
#[derive(Debug, Clone, PartialEq, Serialize)]
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
    /// The source's next transaction id (`xmax` of `pg_current_snapshot()`): it moves only
    /// when a transaction that writes is assigned an xid. `None` when not read.
    pub next_xid: Option<u64>,
    /// Whether transactions holding an xid were in progress (`xmin < xmax` of the snapshot).
    pub xid_in_progress: Option<bool>,
    /// The source's `wal_sender_timeout` (its keepalive period is half of it); `None` when
    /// not read.
    #[serde(skip)]
    pub wal_sender_timeout: Option<Duration>,
    /// The reading comes from the built-in simulator, not from a real source.
    pub simulated: bool,
}

/// Why a sample could not be taken. The text names the source by its redacted DSN only.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
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
}

impl ProbeReport {
    /// The sample, if the probe succeeded.
    pub fn sample(&self) -> Option<&SourceSample> {
        self.result.as_ref().ok()
    }
}

/// One query, one round trip: position, recovery state, timeline, version.
const SAMPLE_SQL: &str = "SELECT r, \
       (CASE WHEN r THEN greatest(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn()) \
             ELSE pg_current_wal_lsn() END)::text, \
       (CASE WHEN r THEN (SELECT received_tli::bigint FROM pg_stat_wal_receiver) \
             ELSE ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::bigint END), \
       current_setting('server_version_num')::int \
  FROM pg_is_in_recovery() AS r";

struct Session {
    client: tokio_postgres::Client,
    conn: JoinHandle<()>,
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

    /// Reads the source once and labels the answer with the redacted DSN.
    pub async fn report(&mut self) -> ProbeReport {
        let result = self.sample().await;
        ProbeReport {
            target: self.target().to_string(),
            result,
        }
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
            match query(&s.client).await {
                Ok(sample) => return Ok(sample),
                // The server answered with an error: the session is fine, the query is not.
                Err(reason) if !s.client.is_closed() => return Err(self.query_error(reason)),
                // The session died (server restart, idle timeout, terminated): open a new one.
                Err(_) => self.session = None,
            }
        }
        let session = self.connect().await?;
        let result = query(&session.client).await;
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

    async fn connect(&mut self) -> Result<Session, ProbeError> {
        let target = self.target().to_string();
        let resolved = self.dsn.resolve().map_err(|e| ProbeError::Config(e.0))?;
        let (mode, tls) = tls::connector(resolved.ssl_mode, &resolved.root_cert)
            .map_err(|e| ProbeError::Config(e.0))?;
        let mut config = resolved.config;
        config.ssl_mode(mode);
        let (client, connection) = config.connect(tls).await.map_err(|e| ProbeError::Connect {
            target: target.clone(),
            reason: self.describe(&e),
        })?;
        let conn = tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!("source probe session ended: {e}");
            }
        });
        Ok(Session { client, conn })
    }

    /// An error's text without the password, with the server's message when there is one.
    fn describe(&self, e: &tokio_postgres::Error) -> String {
        use secrecy::ExposeSecret;
        dsn::scrub_password(&error_text(e), self.dsn.secret().expose_secret())
    }
}

async fn query(client: &tokio_postgres::Client) -> Result<SourceSample, String> {
    let started = std::time::Instant::now();
    let row = client
        .query_one(SAMPLE_SQL, &[])
        .await
        .map_err(|e| error_text(&e))?;
    let in_recovery: bool = row.try_get(0).map_err(|e| error_text(&e))?;
    let lsn: Option<String> = row.try_get(1).map_err(|e| error_text(&e))?;
    let timeline: Option<i64> = row.try_get(2).map_err(|e| error_text(&e))?;
    let version: Option<i32> = row.try_get(3).map_err(|e| error_text(&e))?;
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
        server_version: version.and_then(|v| u32::try_from(v).ok()),
        round_trip_ms: started.elapsed().as_millis() as u64,
        next_xid: None,
        xid_in_progress: None,
        wal_sender_timeout: None,
        simulated: false,
    })
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
/// standby claims to be ahead, which means the probe is not looking at this task's source.
pub fn true_lag_bytes(source: Lsn, replay: Lsn) -> Option<u64> {
    (source >= replay).then(|| source.bytes_since(replay))
}

/// How far LatestEndLsn (the source's end of WAL as last reported to the standby) trails the
/// source's position now; `None` when it is ahead (not this task's source).
pub fn latest_end_trail_bytes(source: Lsn, latest_end: Lsn) -> Option<u64> {
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
            next_xid: None,
            xid_in_progress: None,
            wal_sender_timeout: None,
            simulated: false,
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
