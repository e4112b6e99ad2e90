//! A physical standby read on its own side (`--standby`): its WAL receiver
//! (`pg_stat_wal_receiver`), what it received and replayed (`pg_last_wal_receive_lsn()`,
//! `pg_last_wal_replay_lsn()`), whether replay is paused (`pg_is_wal_replay_paused()`) and the
//! commit time of the last transaction it replayed (`pg_last_xact_replay_timestamp()`), as
//! PostgreSQL's "System Administration Functions" and "The Cumulative Statistics System"
//! define them. These are the columns RDS's `ReplicationInfo` is read from, so the task has
//! the same shape as an RDS task's, and the same rules judge it.

use chrono::{DateTime, FixedOffset, Utc};
use tokio_postgres::Row;

use super::admin::Db;
use super::{ProbeError, from_epoch};
use crate::model::{
    DetailLine, Lsn, Precheck, ReplicationInfo, ReplicationState, Severity, Stage, Task, TaskKind,
};

/// One query: recovery, positions, pause, and the WAL receiver (a row of NULLs when none
/// runs: the standby is not connected, or restores from an archive).
pub const STANDBY_SQL: &str = "SELECT pg_is_in_recovery(), \
       pg_last_wal_receive_lsn()::text, pg_last_wal_replay_lsn()::text, \
       CASE WHEN pg_is_in_recovery() THEN pg_is_wal_replay_paused() END, \
       extract(epoch FROM pg_last_xact_replay_timestamp())::float8, \
       w.status, w.flushed_lsn::text, w.latest_end_lsn::text, \
       extract(epoch FROM w.latest_end_time)::float8, \
       extract(epoch FROM w.last_msg_send_time)::float8, \
       extract(epoch FROM w.last_msg_receipt_time)::float8, \
       w.sender_host, w.sender_port, w.slot_name \
  FROM (SELECT 1) AS one LEFT JOIN pg_stat_wal_receiver w ON true";

/// What one reading of a standby found.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct StandbyReading {
    /// `pg_is_in_recovery()`: false once promoted.
    pub in_recovery: bool,
    pub received: Option<Lsn>,
    pub replayed: Option<Lsn>,
    pub replay_paused: Option<bool>,
    pub last_replayed_xact: Option<DateTime<Utc>>,
    /// The WAL receiver's status (`streaming`, `waiting`, ...); `None` when none runs.
    pub receiver_status: Option<String>,
    pub flushed: Option<Lsn>,
    /// The primary's end of WAL as it last told the standby.
    pub latest_end: Option<Lsn>,
    pub latest_end_time: Option<DateTime<Utc>>,
    pub last_msg_send_time: Option<DateTime<Utc>>,
    pub last_msg_receipt_time: Option<DateTime<Utc>>,
    /// `sender_host:sender_port`.
    pub sender: Option<String>,
    pub slot: Option<String>,
}

/// Reads the standby once.
pub async fn read(db: &Db) -> Result<StandbyReading, ProbeError> {
    let rows = db
        .query("reading pg_stat_wal_receiver", STANDBY_SQL)
        .await?;
    Ok(rows.first().map(from_row).unwrap_or_default())
}

fn from_row(r: &Row) -> StandbyReading {
    let text = |i: usize| r.try_get::<_, Option<String>>(i).ok().flatten();
    let lsn = |i: usize| text(i).and_then(|s| s.parse::<Lsn>().ok());
    let time = |i: usize| {
        r.try_get::<_, Option<f64>>(i)
            .ok()
            .flatten()
            .and_then(from_epoch)
    };
    let port: Option<i32> = r.try_get(12).ok().flatten();
    StandbyReading {
        in_recovery: r
            .try_get::<_, Option<bool>>(0)
            .ok()
            .flatten()
            .unwrap_or(false),
        received: lsn(1),
        replayed: lsn(2),
        replay_paused: r.try_get::<_, Option<bool>>(3).ok().flatten(),
        last_replayed_xact: time(4),
        receiver_status: text(5),
        flushed: lsn(6),
        latest_end: lsn(7),
        latest_end_time: time(8),
        last_msg_send_time: time(9),
        last_msg_receipt_time: time(10),
        sender: text(11).map(|h| match port {
            Some(p) => format!("{h}:{p}"),
            None => h,
        }),
        slot: text(13),
    }
}

impl StandbyReading {
    /// The state in the API's words: `streaming` while the receiver streams, `disconnect`
    /// when none runs, anything else as PostgreSQL names it.
    pub fn replication_state(&self) -> ReplicationState {
        match self.receiver_status.as_deref() {
            None => ReplicationState::Disconnect,
            Some(s) => ReplicationState::parse(s),
        }
    }

    /// Caught up with what the primary last said: the receiver streams and has flushed up to
    /// the end of WAL the primary reported (the standby cannot know what was written since).
    pub fn caught_up(&self) -> bool {
        self.receiver_status.as_deref() == Some("streaming")
            && matches!((self.flushed, self.latest_end), (Some(f), Some(e)) if f >= e)
    }
}

/// The standby as a task of `instance`.
pub fn to_task(instance: &str, r: &StandbyReading) -> Task {
    let utc = |t: DateTime<Utc>| t.with_timezone(&FixedOffset::east_opt(0).expect("UTC"));
    let state = r.replication_state();
    Task {
        kind: TaskKind::Physical,
        // The standby's own side of the stream, beside the walsender its primary shows.
        task_name: Some("wal receiver".to_string()),
        instance: instance.to_string(),
        target_instance_name: Some(instance.to_string()),
        // Promoted: no longer a standby of anything.
        stage: Some(if r.in_recovery {
            Stage::Increment
        } else {
            Stage::Success
        }),
        replication_state: Some(if r.in_recovery {
            state
        } else {
            ReplicationState::Finish
        }),
        replication: Some(ReplicationInfo {
            status: r.receiver_status.clone(),
            received_lsn: r.flushed.or(r.received),
            latest_end_lsn: r.latest_end,
            latest_end_time: r.latest_end_time.map(utc),
            replay_lsn: r.replayed,
            replay_timestamp: r.last_replayed_xact.map(utc),
            last_msg_send_time: r.last_msg_send_time.map(utc),
            last_msg_receipt_time: r.last_msg_receipt_time.map(utc),
            synced: Some(r.caught_up()),
            is_slave: Some(r.in_recovery),
            ..ReplicationInfo::default()
        }),
        precheck: log(r),
        ..Task::default()
    }
}

/// The log panel's lines: the receiver, and replay's pause as a check (a paused replay
/// fails it, which the verdict counts as a reason).
pub fn log(r: &StandbyReading) -> Precheck {
    let show = |l: Option<Lsn>| l.map_or("—".to_string(), |l| l.to_string());
    let mut lines = vec![
        DetailLine::Section("pg_stat_wal_receiver".into()),
        DetailLine::Text(format!(
            "status {} · sender {} · slot {}",
            r.receiver_status.as_deref().unwrap_or("no WAL receiver"),
            r.sender.as_deref().unwrap_or("—"),
            r.slot.as_deref().unwrap_or("—")
        )),
        DetailLine::Text(format!(
            "received {} · flushed {} · primary's end {} · replayed {}",
            show(r.received),
            show(r.flushed),
            show(r.latest_end),
            show(r.replayed)
        )),
        DetailLine::Section("replay".into()),
    ];
    if r.in_recovery {
        let (severity, status) = match r.replay_paused {
            Some(true) => (Severity::Fail, "fail"),
            Some(false) => (Severity::Success, "success"),
            None => (Severity::Other, "unknown"),
        };
        lines.push(DetailLine::Check {
            name: match r.replay_paused {
                Some(true) => "Replay is paused (SELECT pg_wal_replay_resume() resumes it)".into(),
                _ => "Replay is not paused".into(),
            },
            severity,
            status: status.into(),
            message: None,
        });
    } else {
        lines.push(DetailLine::Text(
            "not in recovery: this server has been promoted".into(),
        ));
    }
    Precheck::from_lines(lines)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn streaming() -> StandbyReading {
        StandbyReading {
            in_recovery: true,
            received: Some(Lsn(0x3000100)),
            replayed: Some(Lsn(0x3000000)),
            replay_paused: Some(false),
            receiver_status: Some("streaming".into()),
            flushed: Some(Lsn(0x3000100)),
            latest_end: Some(Lsn(0x3000100)),
            last_msg_receipt_time: DateTime::from_timestamp(1_780_000_000, 0),
            sender: Some("10.0.0.5:5432".into()),
            ..StandbyReading::default()
        }
    }

    #[test]
    fn a_streaming_standby_is_caught_up_with_what_the_primary_said() {
        let t = to_task("s:5432/postgres", &streaming());
        assert_eq!(t.replication_state, Some(ReplicationState::Streaming));
        let info = t.replication.as_ref().unwrap();
        assert_eq!(info.synced, Some(true));
        assert_eq!(info.received_lsn, Some(Lsn(0x3000100)));
        assert_eq!(t.precheck.counts.fail, 0);
        assert_eq!(t.precheck.counts.success, 1);
    }

    #[test]
    fn a_paused_replay_is_a_failed_check() {
        let mut r = streaming();
        r.replay_paused = Some(true);
        let t = to_task("s", &r);
        assert_eq!(t.precheck.counts.fail, 1);
        assert!(
            t.precheck
                .first_failure()
                .unwrap()
                .contains("Replay is paused"),
            "{:?}",
            t.precheck
        );
    }

    #[test]
    fn no_receiver_is_a_disconnect_and_behind_the_primary_is_not_caught_up() {
        let mut r = streaming();
        r.flushed = Some(Lsn(0x3000000));
        assert!(!r.caught_up());
        r.receiver_status = None;
        assert_eq!(r.replication_state(), ReplicationState::Disconnect);
        let t = to_task("s", &r);
        assert_eq!(t.replication.unwrap().synced, Some(false));
    }

    #[test]
    fn a_promoted_server_is_finished() {
        let mut r = streaming();
        r.in_recovery = false;
        r.replay_paused = None;
        let t = to_task("s", &r);
        assert_eq!(t.stage, Some(Stage::Success));
        assert_eq!(t.replication_state, Some(ReplicationState::Finish));
    }
}
