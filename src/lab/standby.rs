//! The standby as RDS reports it: `pg_stat_wal_receiver` and the replay functions turned into
//! the API's `ReplicationInfo` object (every value a string, `"null"` when absent, timestamps
//! PostgreSQL-style with an offset, the conninfo password masked).
//!
//! When no WAL receiver is running, `pg_stat_wal_receiver` has no row but PostgreSQL keeps
//! the last values in shared memory (`WalRcvData`). The lab mirrors that: it reports the last
//! row it saw with `Status` `stopped` (the receiver state of that name), and ReceivedLsn from
//! `pg_last_wal_receive_lsn()`, which is that same shared value.

use serde_json::{Map, Value};

use crate::model::{ReplicationState, Stage};

/// One row of `pg_stat_wal_receiver`, as text.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReceiverRow {
    pub status: Option<String>,
    pub receive_start_lsn: Option<String>,
    pub receive_start_tli: Option<String>,
    pub flushed_lsn: Option<String>,
    pub received_tli: Option<String>,
    pub latest_end_lsn: Option<String>,
    pub latest_end_time: Option<String>,
    pub last_msg_send_time: Option<String>,
    pub last_msg_receipt_time: Option<String>,
    pub conninfo: Option<String>,
}

/// One reading of the standby.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StandbyReading {
    /// `pg_is_in_recovery()`.
    pub in_recovery: bool,
    /// The WAL receiver, if one is running.
    pub receiver: Option<ReceiverRow>,
    /// `pg_last_wal_receive_lsn()`.
    pub receive_lsn: Option<String>,
    /// `pg_last_wal_replay_lsn()`.
    pub replay_lsn: Option<String>,
    /// `pg_last_xact_replay_timestamp()`.
    pub replay_timestamp: Option<String>,
    /// `pg_is_wal_replay_paused()` (only asked in recovery).
    pub replay_paused: Option<bool>,
    /// Seconds since the last replayed transaction; 0 when everything received is replayed.
    pub replay_lag_seconds: Option<f64>,
}

/// Reads everything in one statement, so the values belong together. The session's time
/// zone decides the timestamps' offset.
pub const READ_SQL: &str = "\
SELECT pg_is_in_recovery(),
       w.status, w.receive_start_lsn::text, w.receive_start_tli::text, w.flushed_lsn::text,
       w.received_tli::text, w.latest_end_lsn::text, w.latest_end_time::text,
       w.last_msg_send_time::text, w.last_msg_receipt_time::text, w.conninfo,
       pg_last_wal_receive_lsn()::text, pg_last_wal_replay_lsn()::text,
       pg_last_xact_replay_timestamp()::text,
       CASE WHEN pg_is_in_recovery() THEN pg_is_wal_replay_paused() END,
       CASE WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0::float8
            ELSE extract(epoch FROM now() - pg_last_xact_replay_timestamp())::float8 END
  FROM (SELECT 1) AS one LEFT JOIN pg_stat_wal_receiver AS w ON true";

/// Reads the standby.
pub async fn read(
    client: &tokio_postgres::Client,
) -> Result<StandbyReading, tokio_postgres::Error> {
    let row = client.query_one(READ_SQL, &[]).await?;
    let s = |i: usize| -> Result<Option<String>, tokio_postgres::Error> { row.try_get(i) };
    let status = s(1)?;
    let receiver = match status {
        Some(status) => Some(ReceiverRow {
            status: Some(status),
            receive_start_lsn: s(2)?,
            receive_start_tli: s(3)?,
            flushed_lsn: s(4)?,
            received_tli: s(5)?,
            latest_end_lsn: s(6)?,
            latest_end_time: s(7)?,
            last_msg_send_time: s(8)?,
            last_msg_receipt_time: s(9)?,
            conninfo: s(10)?,
        }),
        None => None,
    };
    Ok(StandbyReading {
        in_recovery: row.try_get(0)?,
        receiver,
        receive_lsn: s(11)?,
        replay_lsn: s(12)?,
        replay_timestamp: s(13)?,
        replay_paused: row.try_get(14)?,
        replay_lag_seconds: row.try_get(15)?,
    })
}

/// The lab task's replication state: `finish` once promoted; `disconnect` when no receiver
/// runs or it is not `streaming`; `catchup` while the primary's walsender says so; else
/// `streaming`.
pub fn replication_state(
    reading: &StandbyReading,
    walsender_state: Option<&str>,
) -> ReplicationState {
    if !reading.in_recovery {
        return ReplicationState::Finish;
    }
    match reading.receiver.as_ref().and_then(|r| r.status.as_deref()) {
        Some("streaming") => {}
        _ => return ReplicationState::Disconnect,
    }
    match walsender_state {
        Some("catchup") | Some("startup") => ReplicationState::Catchup,
        _ => ReplicationState::Streaming,
    }
}

/// Where the lab's migration stands: the standby replicating is `increment`, promotion under
/// way is `switch`, a promoted standby is `success`.
pub fn stage(reading: &StandbyReading, switching: bool) -> Stage {
    if !reading.in_recovery {
        Stage::Success
    } else if switching {
        Stage::Switch
    } else {
        Stage::Increment
    }
}

/// The `ReplicationInfo` object. `last_row` is the last receiver row seen, used when no
/// receiver runs (see the module comment); `state` is [`replication_state`]'s answer.
pub fn replication_info(
    reading: &StandbyReading,
    last_row: Option<&ReceiverRow>,
    state: &ReplicationState,
) -> Map<String, Value> {
    let live = reading.receiver.as_ref();
    let row = live.or(last_row);
    let status = match live {
        Some(r) => r.status.clone(),
        None if reading.in_recovery => Some("stopped".to_string()),
        None => None,
    };
    let field = |f: fn(&ReceiverRow) -> &Option<String>| row.and_then(|r| f(r).clone());
    let received = live
        .and_then(|r| r.flushed_lsn.clone())
        .or_else(|| reading.receive_lsn.clone())
        .or_else(|| field(|r| &r.flushed_lsn));
    let replay_lag = reading.replay_lag_seconds.map(|s| {
        if s == 0.0 {
            "0".to_string()
        } else {
            format!("{:.3}", s.max(0.0))
        }
    });
    let synced = reading.in_recovery && *state == ReplicationState::Streaming;
    let pairs: [(&str, Option<String>); 15] = [
        ("Status", status),
        ("ReceiveStartLsn", field(|r| &r.receive_start_lsn)),
        ("ReceiveStartTli", field(|r| &r.receive_start_tli)),
        ("ReceivedLsn", received),
        ("ReceivedTli", field(|r| &r.received_tli)),
        ("LatestEndLsn", field(|r| &r.latest_end_lsn)),
        ("LatestEndTime", field(|r| &r.latest_end_time)),
        ("ReplayLsn", reading.replay_lsn.clone()),
        ("ReplayLag", replay_lag),
        ("ReplayTimestamp", reading.replay_timestamp.clone()),
        ("LastMsgSendTime", field(|r| &r.last_msg_send_time)),
        ("LastMsgReceiptTime", field(|r| &r.last_msg_receipt_time)),
        ("Synced", Some(synced.to_string())),
        ("IsSlave", Some(reading.in_recovery.to_string())),
        (
            "Conninfo",
            field(|r| &r.conninfo).map(|c| crate::util::redact::conninfo(&c)),
        ),
    ];
    pairs
        .into_iter()
        .map(|(k, v)| {
            (
                k.to_string(),
                Value::String(v.unwrap_or_else(|| "null".into())),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Lsn, ReplicationInfo};

    fn row() -> ReceiverRow {
        ReceiverRow {
            status: Some("streaming".into()),
            receive_start_lsn: Some("0/3000000".into()),
            receive_start_tli: Some("1".into()),
            flushed_lsn: Some("0/5000148".into()),
            received_tli: Some("1".into()),
            latest_end_lsn: Some("0/5000200".into()),
            latest_end_time: Some("2022-03-01 14:42:57.967537+08".into()),
            last_msg_send_time: Some("2022-03-01 14:42:58.1+08".into()),
            last_msg_receipt_time: Some("2022-03-01 14:42:58.2+08".into()),
            conninfo: Some("user=postgres password=secret host=127.0.0.1 port=5433".into()),
        }
    }

    fn reading() -> StandbyReading {
        StandbyReading {
            in_recovery: true,
            receiver: Some(row()),
            receive_lsn: Some("0/5000148".into()),
            replay_lsn: Some("0/5000000".into()),
            replay_timestamp: Some("2022-03-01 14:42:50.5+08".into()),
            replay_paused: Some(false),
            replay_lag_seconds: Some(7.4567),
        }
    }

    #[test]
    fn builds_the_api_object_that_migtop_decodes() {
        let r = reading();
        let state = replication_state(&r, Some("streaming"));
        assert_eq!(state, ReplicationState::Streaming);
        let obj = replication_info(&r, None, &state);
        assert_eq!(obj.len(), 15);
        assert!(obj.values().all(|v| v.is_string()));
        assert_eq!(obj["Synced"], "true");
        assert_eq!(obj["IsSlave"], "true");
        assert_eq!(obj["ReplayLag"], "7.457");
        assert_eq!(
            obj["Conninfo"],
            "user=postgres password=******** host=127.0.0.1 port=5433"
        );
        let info = ReplicationInfo::from_object(&obj);
        assert_eq!(info.received_lsn, Some(Lsn(0x5000148)));
        assert_eq!(info.not_replayed_bytes(), Some(0x148));
        assert_eq!(info.not_received_bytes(), Some(0x200 - 0x148));
        assert_eq!(info.lag_bytes(), Some(0x200));
        assert_eq!(
            info.latest_end_time.unwrap().offset().local_minus_utc(),
            8 * 3600
        );
        // And it survives the API's escaping.
        let escaped = serde_json::to_string(&Value::Object(obj))
            .unwrap()
            .replace('"', "\\\"");
        assert_eq!(ReplicationInfo::parse(&escaped).unwrap().unwrap(), info);
    }

    #[test]
    fn states() {
        let r = reading();
        assert_eq!(
            replication_state(&r, Some("catchup")),
            ReplicationState::Catchup
        );
        assert_eq!(replication_state(&r, None), ReplicationState::Streaming);
        let mut waiting = reading();
        waiting.receiver.as_mut().unwrap().status = Some("waiting".into());
        assert_eq!(
            replication_state(&waiting, Some("streaming")),
            ReplicationState::Disconnect
        );
        let gone = StandbyReading {
            receiver: None,
            ..reading()
        };
        assert_eq!(replication_state(&gone, None), ReplicationState::Disconnect);
        let promoted = StandbyReading {
            in_recovery: false,
            receiver: None,
            ..reading()
        };
        assert_eq!(replication_state(&promoted, None), ReplicationState::Finish);
        assert_eq!(stage(&promoted, true), Stage::Success);
        assert_eq!(stage(&r, true), Stage::Switch);
        assert_eq!(stage(&r, false), Stage::Increment);
    }

    #[test]
    fn without_a_receiver_the_last_values_are_kept_with_status_stopped() {
        let gone = StandbyReading {
            receiver: None,
            receive_lsn: Some("0/5000148".into()),
            ..reading()
        };
        let state = replication_state(&gone, None);
        let obj = replication_info(&gone, Some(&row()), &state);
        assert_eq!(obj["Status"], "stopped");
        assert_eq!(obj["LatestEndLsn"], "0/5000200");
        assert_eq!(obj["ReceivedLsn"], "0/5000148");
        assert_eq!(obj["Synced"], "false");
        let never = replication_info(&gone, None, &state);
        assert_eq!(never["LatestEndLsn"], "null");
        assert_eq!(never["ReceivedLsn"], "0/5000148");
        assert_eq!(never["Conninfo"], "null");
    }
}
