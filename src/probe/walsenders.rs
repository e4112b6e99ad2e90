//! Physical standbys seen from their primary, without a cloud API: one task per walsender in
//! `pg_stat_replication`, its positions against `pg_current_wal_lsn()` as exact byte lags.
//!
//! What each column means is PostgreSQL's "The Cumulative Statistics System",
//! `pg_stat_replication`: `sent_lsn` went over the wire, `write_lsn` / `flush_lsn` the standby
//! wrote / flushed, `replay_lsn` it replayed; `reply_time` is when the primary last heard from
//! it (the standby's clock stamps it, so liveness is still judged on migtop's own clock when
//! the sample arrives). Logical walsenders (those connected to a database) are left out: a
//! subscription is another kind of cutover. Without `pg_monitor` (or superuser) PostgreSQL
//! hides the positions of other roles' walsenders; that is said, never taken as "no lag".

use chrono::{DateTime, FixedOffset, Utc};
use tokio_postgres::Row;

use super::admin::Db;
use super::{ProbeError, from_epoch};
use crate::model::{
    DetailLine, Lsn, Precheck, ReplicationInfo, ReplicationState, Severity, Stage, Task, TaskKind,
};
use crate::util::units;

/// One query: the primary's position, then a row per physical walsender with its slot (a
/// row of NULLs after the position when there is none).
pub const PRIMARY_SQL: &str = "SELECT \
       CASE WHEN pg_is_in_recovery() THEN NULL ELSE pg_current_wal_lsn()::text END, \
       r.pid, r.application_name, host(r.client_addr), r.client_port, r.state, \
       r.sent_lsn::text, r.write_lsn::text, r.flush_lsn::text, r.replay_lsn::text, \
       extract(epoch FROM r.write_lag)::float8, extract(epoch FROM r.flush_lag)::float8, \
       extract(epoch FROM r.replay_lag)::float8, extract(epoch FROM r.reply_time)::float8, \
       r.sync_state, s.slot_name::text, s.wal_status, s.safe_wal_size \
  FROM (SELECT 1) AS one \
  LEFT JOIN (pg_stat_replication r JOIN pg_stat_activity a ON a.pid = r.pid AND a.datname IS NULL) \
         ON true \
  LEFT JOIN pg_replication_slots s ON s.active_pid = r.pid \
 ORDER BY r.application_name, r.client_addr, r.pid";

/// A replication slot a walsender streams from.
#[derive(Debug, Clone, PartialEq)]
pub struct Slot {
    pub name: String,
    /// `reserved`, `extended`, `unreserved` or `lost` (PostgreSQL 13+).
    pub wal_status: Option<String>,
    /// Bytes that can still be written before the slot loses WAL (`NULL`: no limit set).
    pub safe_wal_size: Option<i64>,
}

/// One physical walsender, as `pg_stat_replication` shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct Walsender {
    pub pid: i32,
    pub application_name: String,
    /// `client_addr:client_port`, or `local` for a Unix socket.
    pub client: String,
    /// `startup`, `catchup`, `streaming`, `backup` or `stopping`.
    pub state: String,
    pub sent: Option<Lsn>,
    pub write: Option<Lsn>,
    pub flush: Option<Lsn>,
    pub replay: Option<Lsn>,
    pub write_lag: Option<f64>,
    pub flush_lag: Option<f64>,
    pub replay_lag: Option<f64>,
    /// When the primary last heard from the standby.
    pub reply_time: Option<DateTime<Utc>>,
    pub sync_state: Option<String>,
    pub slot: Option<Slot>,
}

/// What one reading of a primary found.
#[derive(Debug, Clone, PartialEq)]
pub struct PrimaryReading {
    /// `pg_current_wal_lsn()`; `None` when the server is itself in recovery.
    pub current: Option<Lsn>,
    pub walsenders: Vec<Walsender>,
}

/// Reads the primary once.
pub async fn read(db: &Db) -> Result<PrimaryReading, ProbeError> {
    let rows = db.query("reading pg_stat_replication", PRIMARY_SQL).await?;
    Ok(from_rows(&rows))
}

fn from_rows(rows: &[Row]) -> PrimaryReading {
    let lsn = |r: &Row, i: usize| {
        r.try_get::<_, Option<String>>(i)
            .ok()
            .flatten()
            .and_then(|s| s.parse::<Lsn>().ok())
    };
    let f64_at = |r: &Row, i: usize| r.try_get::<_, Option<f64>>(i).ok().flatten();
    let text = |r: &Row, i: usize| r.try_get::<_, Option<String>>(i).ok().flatten();
    let current = rows.first().and_then(|r| lsn(r, 0));
    let walsenders = rows
        .iter()
        .filter_map(|r| {
            let pid: i32 = r.try_get::<_, Option<i32>>(1).ok().flatten()?;
            let host = text(r, 3);
            let port: Option<i32> = r.try_get(4).ok().flatten();
            Some(Walsender {
                pid,
                application_name: text(r, 2).unwrap_or_default(),
                client: match (host, port) {
                    (Some(h), Some(p)) if p >= 0 => format!("{h}:{p}"),
                    (Some(h), _) => h,
                    (None, _) => "local".to_string(),
                },
                state: text(r, 5).unwrap_or_default(),
                sent: lsn(r, 6),
                write: lsn(r, 7),
                flush: lsn(r, 8),
                replay: lsn(r, 9),
                write_lag: f64_at(r, 10),
                flush_lag: f64_at(r, 11),
                replay_lag: f64_at(r, 12),
                reply_time: f64_at(r, 13).and_then(from_epoch),
                sync_state: text(r, 14),
                slot: text(r, 15).map(|name| Slot {
                    name,
                    wal_status: text(r, 16),
                    safe_wal_size: r.try_get::<_, Option<i64>>(17).ok().flatten(),
                }),
            })
        })
        .collect();
    PrimaryReading {
        current,
        walsenders,
    }
}

impl Walsender {
    /// The stage a walsender's state stands for: a base backup, starting, or following.
    pub fn stage(&self) -> Stage {
        match self.state.as_str() {
            "backup" => Stage::Basebackup,
            "startup" => Stage::Startup,
            _ => Stage::Increment,
        }
    }

    /// The replication state in the API's words: `catchup` and `streaming` as they are,
    /// `startup` not yet started; anything else kept verbatim.
    pub fn replication_state(&self) -> ReplicationState {
        match self.state.as_str() {
            "startup" => ReplicationState::Unstarted,
            s => ReplicationState::parse(s),
        }
    }

    /// The positions hidden: PostgreSQL shows them only to `pg_monitor` (or the same role).
    pub fn positions_hidden(&self) -> bool {
        self.sent.is_none() && self.flush.is_none() && self.replay.is_none()
    }
}

/// The walsenders of one primary as tasks of `instance`, named by `application_name` (with
/// the client's address when two standbys share a name, e.g. the default `walreceiver`).
pub fn to_tasks(instance: &str, reading: &PrimaryReading) -> Vec<Task> {
    let name_count = |n: &str| {
        reading
            .walsenders
            .iter()
            .filter(|w| w.application_name == n)
            .count()
    };
    reading
        .walsenders
        .iter()
        .map(|w| {
            let base = if w.application_name.is_empty() {
                format!("pid {}", w.pid)
            } else {
                w.application_name.clone()
            };
            let name = if name_count(&w.application_name) > 1 {
                let host = w
                    .client
                    .rsplit_once(':')
                    .map_or(w.client.as_str(), |(h, _)| h);
                format!("{base}@{host}")
            } else {
                base
            };
            to_task(instance, name, w)
        })
        .collect()
}

fn to_task(instance: &str, name: String, w: &Walsender) -> Task {
    let utc = |t: DateTime<Utc>| t.with_timezone(&FixedOffset::east_opt(0).expect("UTC"));
    let mut warnings = Vec::new();
    if w.positions_hidden() {
        warnings.push(
            "pg_stat_replication hides this standby's positions: grant the role pg_monitor"
                .to_string(),
        );
    }
    Task {
        kind: TaskKind::Physical,
        task_id: None,
        task_name: Some(name),
        instance: instance.to_string(),
        target_instance_name: Some(w.client.clone()),
        stage: Some(w.stage()),
        replication_state: Some(w.replication_state()),
        replication: Some(ReplicationInfo {
            status: Some(w.state.clone()),
            // What the standby holds durably: its flush position, as its own WAL receiver
            // would report it.
            received_lsn: w.flush,
            // The primary's end of WAL as sent to the standby: what a WAL receiver reports
            // as its latest end.
            latest_end_lsn: w.sent,
            replay_lsn: w.replay,
            replay_lag_seconds: w.replay_lag.filter(|s| *s >= 0.0),
            last_msg_receipt_time: w.reply_time.map(utc),
            // PostgreSQL moves a walsender from catchup to streaming once the standby has
            // caught up with the primary: the same promise as RDS's Synced.
            synced: Some(w.state == "streaming"),
            is_slave: Some(true),
            ..ReplicationInfo::default()
        }),
        precheck: log(w),
        decode_warnings: warnings,
        ..Task::default()
    }
}

/// What the log panel shows for a walsender: its client and positions as PostgreSQL reports
/// them, and its slot as a check (a slot about to lose WAL fails, which the verdict counts).
pub fn log(w: &Walsender) -> Precheck {
    let show = |l: Option<Lsn>| l.map_or("—".to_string(), |l| l.to_string());
    let secs = |s: Option<f64>| s.map_or("—".to_string(), |s| format!("{:.3} s", s.max(0.0)));
    let mut lines = vec![
        DetailLine::Section("pg_stat_replication".into()),
        DetailLine::Text(format!(
            "client {} · pid {} · sync {}",
            w.client,
            w.pid,
            w.sync_state.as_deref().unwrap_or("—")
        )),
        DetailLine::Text(format!(
            "sent {} · write {} · flush {} · replay {}",
            show(w.sent),
            show(w.write),
            show(w.flush),
            show(w.replay)
        )),
        DetailLine::Text(format!(
            "write_lag {} · flush_lag {} · replay_lag {}",
            secs(w.write_lag),
            secs(w.flush_lag),
            secs(w.replay_lag)
        )),
    ];
    if let Some(slot) = &w.slot {
        lines.push(DetailLine::Section("pg_replication_slots".into()));
        lines.push(slot_check(slot));
    }
    Precheck::from_lines(lines)
}

/// The slot as a check: `unreserved` (its WAL goes at the next checkpoint) and `lost` fail,
/// `extended` (held past `max_wal_size`) warns, each with the margin `safe_wal_size` gives.
fn slot_check(slot: &Slot) -> DetailLine {
    let status = slot.wal_status.as_deref().unwrap_or("unknown");
    let (severity, word) = match status {
        "unreserved" | "lost" => (Severity::Fail, "fail"),
        "extended" => (Severity::Warning, "warning"),
        "reserved" => (Severity::Success, "success"),
        _ => (Severity::Other, "unknown"),
    };
    // The margin is in the name: a failed check's name is what the verdict's reason quotes.
    let margin = match (status, slot.safe_wal_size) {
        ("lost", _) => "the standby can no longer catch up from it".to_string(),
        (_, Some(b)) => format!("{} left before it loses WAL", units::bytes(b.max(0) as u64)),
        (_, None) => "no limit on the WAL it keeps".to_string(),
    };
    DetailLine::Check {
        name: format!("Slot {}: {status}, {margin}", slot.name),
        severity,
        status: word.into(),
        message: None,
    }
}

/// Bytes each position trails the primary's (sent, write, flush, replay); `None` where a
/// position is unknown or ahead of the primary's (another server).
pub fn byte_lags(current: Lsn, w: &Walsender) -> [Option<u64>; 4] {
    [w.sent, w.write, w.flush, w.replay]
        .map(|p| p.filter(|p| *p <= current).map(|p| current.bytes_since(p)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn walsender(name: &str, client: &str, state: &str) -> Walsender {
        Walsender {
            pid: 42,
            application_name: name.into(),
            client: client.into(),
            state: state.into(),
            sent: Some("0/3000100".parse().unwrap()),
            write: Some("0/3000100".parse().unwrap()),
            flush: Some("0/3000080".parse().unwrap()),
            replay: Some("0/3000000".parse().unwrap()),
            write_lag: Some(0.001),
            flush_lag: Some(0.002),
            replay_lag: Some(0.003),
            reply_time: DateTime::from_timestamp(1_780_000_000, 0),
            sync_state: Some("async".into()),
            slot: None,
        }
    }

    #[test]
    fn a_streaming_walsender_is_an_increment_task_with_its_positions() {
        let r = PrimaryReading {
            current: Some("0/3000200".parse().unwrap()),
            walsenders: vec![walsender("standby1", "127.0.0.1:5000", "streaming")],
        };
        let tasks = to_tasks("db1:5432/postgres", &r);
        assert_eq!(tasks.len(), 1);
        let t = &tasks[0];
        assert_eq!(t.key(), "db1:5432/postgres/standby1");
        assert_eq!(t.stage, Some(Stage::Increment));
        assert_eq!(t.replication_state, Some(ReplicationState::Streaming));
        let info = t.replication.as_ref().unwrap();
        assert_eq!(info.received_lsn, Some("0/3000080".parse().unwrap()));
        assert_eq!(info.replay_lsn, Some("0/3000000".parse().unwrap()));
        assert_eq!(info.synced, Some(true));
        assert!(info.last_msg_receipt_time.is_some());
        assert!(t.decode_warnings.is_empty());
    }

    #[test]
    fn catchup_is_not_synced_and_startup_has_not_started() {
        let mut r = PrimaryReading {
            current: None,
            walsenders: vec![walsender("a", "h:1", "catchup")],
        };
        let t = &to_tasks("p", &r)[0];
        assert_eq!(t.replication.as_ref().unwrap().synced, Some(false));
        assert_eq!(t.replication_state, Some(ReplicationState::Catchup));
        r.walsenders[0].state = "startup".into();
        let t = &to_tasks("p", &r)[0];
        assert_eq!(t.stage, Some(Stage::Startup));
        assert_eq!(t.replication_state, Some(ReplicationState::Unstarted));
        r.walsenders[0].state = "backup".into();
        assert_eq!(to_tasks("p", &r)[0].stage, Some(Stage::Basebackup));
    }

    #[test]
    fn standbys_sharing_the_default_name_are_told_apart_by_address() {
        let r = PrimaryReading {
            current: None,
            walsenders: vec![
                walsender("walreceiver", "10.0.0.7:40000", "streaming"),
                walsender("walreceiver", "10.0.0.8:40001", "streaming"),
                walsender("", "local", "streaming"),
            ],
        };
        let names: Vec<String> = to_tasks("p", &r).iter().map(|t| t.display_name()).collect();
        assert_eq!(
            names,
            ["walreceiver@10.0.0.7", "walreceiver@10.0.0.8", "pid 42"]
        );
    }

    #[test]
    fn hidden_positions_are_said_never_read_as_no_lag() {
        let mut w = walsender("s", "h:1", "streaming");
        (w.sent, w.write, w.flush, w.replay) = (None, None, None, None);
        let r = PrimaryReading {
            current: Some("0/5000000".parse().unwrap()),
            walsenders: vec![w],
        };
        let t = &to_tasks("p", &r)[0];
        assert!(
            t.decode_warnings[0].contains("pg_monitor"),
            "{:?}",
            t.decode_warnings
        );
        assert_eq!(t.lag_bytes(), None);
    }

    #[test]
    fn byte_lags_are_exact_and_never_negative() {
        let w = walsender("s", "h:1", "streaming");
        let cur: Lsn = "0/3000200".parse().unwrap();
        assert_eq!(
            byte_lags(cur, &w),
            [Some(0x100), Some(0x100), Some(0x180), Some(0x200)]
        );
        let behind: Lsn = "0/3000090".parse().unwrap();
        assert_eq!(byte_lags(behind, &w), [None, None, Some(0x10), Some(0x90)]);
    }

    #[test]
    fn a_slot_about_to_lose_wal_is_a_failed_check_with_its_margin() {
        let mut w = walsender("s", "h:1", "streaming");
        let mut slot = |status: &str, safe: Option<i64>| {
            w.slot = Some(Slot {
                name: "standby_slot".into(),
                wal_status: Some(status.into()),
                safe_wal_size: safe,
            });
            let p = log(&w);
            (p.counts, p.problems().first().map(|(_, l)| (*l).clone()))
        };
        let (counts, problem) = slot("unreserved", Some(0));
        assert_eq!(counts.fail, 1);
        let Some(DetailLine::Check { name, .. }) = problem else {
            panic!("no failed check")
        };
        assert_eq!(
            name,
            "Slot standby_slot: unreserved, 0 B left before it loses WAL"
        );
        assert_eq!(slot("lost", None).0.fail, 1);
        let (counts, problem) = slot("extended", Some(64 << 20));
        assert_eq!(counts.warning, 1);
        assert!(format!("{problem:?}").contains("64.0 MiB"), "{problem:?}");
        assert_eq!(slot("reserved", None).0.success, 1);
        // The slot's check reaches the task, where the verdict counts failures.
        let r = PrimaryReading {
            current: None,
            walsenders: vec![w],
        };
        assert_eq!(to_tasks("p", &r)[0].precheck.counts.success, 1);
    }

    #[test]
    fn a_negative_replay_lag_is_dropped() {
        let mut w = walsender("s", "h:1", "streaming");
        w.replay_lag = Some(-1.0);
        let r = PrimaryReading {
            current: None,
            walsenders: vec![w],
        };
        let t = &to_tasks("p", &r)[0];
        assert_eq!(t.replication.as_ref().unwrap().replay_lag_seconds, None);
    }
}
