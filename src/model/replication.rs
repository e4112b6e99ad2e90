//! The decoded `ReplicationInfo`: the standby's WAL receiver as the API reports it.

use chrono::{DateTime, FixedOffset};
use serde_json::Value;

use super::lsn::Lsn;
use super::value::{boolean, text, time};

/// `ReplicationInfo` decoded; every field is optional because the API writes `"null"` freely.
/// Deliberate twin of [`crate::sim::ReplicationView`], which encodes it: they must not share code,
/// so a bug in one cannot hide the same bug in the other.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct ReplicationInfo {
    pub status: Option<String>,
    pub receive_start_lsn: Option<Lsn>,
    pub receive_start_tli: Option<u32>,
    pub received_lsn: Option<Lsn>,
    pub received_tli: Option<u32>,
    pub latest_end_lsn: Option<Lsn>,
    pub latest_end_time: Option<DateTime<FixedOffset>>,
    pub replay_lsn: Option<Lsn>,
    /// `ReplayLag` in seconds, as reported (meaningless on an idle source); a negative value
    /// (the standby's clock behind the source's) is dropped: no lag is below zero.
    pub replay_lag_seconds: Option<f64>,
    pub replay_timestamp: Option<DateTime<FixedOffset>>,
    pub last_msg_send_time: Option<DateTime<FixedOffset>>,
    pub last_msg_receipt_time: Option<DateTime<FixedOffset>>,
    pub synced: Option<bool>,
    pub is_slave: Option<bool>,
    /// The receiver's conninfo with any password masked.
    pub conninfo: Option<String>,
}

/// Why a `ReplicationInfo` string could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("ReplicationInfo is not a JSON object: {0}")]
pub struct ReplicationInfoError(pub String);

impl ReplicationInfo {
    /// Decodes the `ReplicationInfo` string, plain JSON or JSON with backslash-escaped quotes.
    /// `Ok(None)` for an empty or `"null"` value.
    pub fn parse(raw: &str) -> Result<Option<ReplicationInfo>, ReplicationInfoError> {
        let raw = raw.trim();
        if raw.is_empty() || raw.eq_ignore_ascii_case("null") || raw == "{}" {
            return Ok(None);
        }
        let obj = parse_object(raw).ok_or_else(|| {
            let snippet: String = raw.chars().take(60).collect();
            ReplicationInfoError(snippet)
        })?;
        Ok(Some(Self::from_object(&obj)))
    }

    /// Builds from an already-decoded JSON object.
    pub fn from_object(o: &serde_json::Map<String, Value>) -> ReplicationInfo {
        // `0/0` is PostgreSQL's "no position": unknown, never position zero.
        let lsn = |k: &str| {
            text(o.get(k))
                .and_then(|s| s.parse::<Lsn>().ok())
                .and_then(Lsn::valid)
        };
        let tli = |k: &str| text(o.get(k)).and_then(|s| s.parse::<u32>().ok());
        ReplicationInfo {
            status: text(o.get("Status")),
            receive_start_lsn: lsn("ReceiveStartLsn"),
            receive_start_tli: tli("ReceiveStartTli"),
            received_lsn: lsn("ReceivedLsn"),
            received_tli: tli("ReceivedTli"),
            latest_end_lsn: lsn("LatestEndLsn"),
            latest_end_time: time(o.get("LatestEndTime")),
            replay_lsn: lsn("ReplayLsn"),
            replay_lag_seconds: text(o.get("ReplayLag"))
                .and_then(|s| s.parse::<f64>().ok())
                .filter(|f| f.is_finite() && *f >= 0.0),
            replay_timestamp: time(o.get("ReplayTimestamp")),
            last_msg_send_time: time(o.get("LastMsgSendTime")),
            last_msg_receipt_time: time(o.get("LastMsgReceiptTime")),
            synced: boolean(o.get("Synced")),
            is_slave: boolean(o.get("IsSlave")),
            conninfo: text(o.get("Conninfo")).map(|c| crate::util::redact::conninfo(&c)),
        }
    }

    /// Total bytes the standby is behind the source: max(LatestEndLsn, ReceivedLsn) − ReplayLsn;
    /// `None` when an input is missing or `0/0`, or when ReplayLsn is ahead of both (the
    /// standby cannot replay WAL it never received: the figures contradict each other, and a
    /// lag of 0 read from them would be a claim nothing supports).
    pub fn lag_bytes(&self) -> Option<u64> {
        let head = self.latest_end()?.max(self.received()?);
        let replay = self.replay()?;
        (replay <= head).then(|| head.bytes_since(replay))
    }

    /// Bytes the source has but the standby has not yet received: LatestEndLsn − ReceivedLsn.
    pub fn not_received_bytes(&self) -> Option<u64> {
        Some(self.latest_end()?.bytes_since(self.received()?))
    }

    /// Bytes received but not yet replayed: ReceivedLsn − ReplayLsn.
    pub fn not_replayed_bytes(&self) -> Option<u64> {
        Some(self.received()?.bytes_since(self.replay()?))
    }

    /// True when ReplayLsn is ahead of every position the standby says it received
    /// (see [`Self::lag_bytes`]).
    pub fn replay_ahead(&self) -> bool {
        match (self.replay(), self.latest_end(), self.received()) {
            (Some(p), Some(e), Some(r)) => p > e.max(r),
            _ => false,
        }
    }

    // The positions as judged: a `0/0` that came in some other way (a recording) is unknown.
    fn received(&self) -> Option<Lsn> {
        self.received_lsn.and_then(Lsn::valid)
    }
    fn latest_end(&self) -> Option<Lsn> {
        self.latest_end_lsn.and_then(Lsn::valid)
    }
    fn replay(&self) -> Option<Lsn> {
        self.replay_lsn.and_then(Lsn::valid)
    }

    /// True right after a receiver restart, when ReceivedLsn still trails ReplayLsn.
    pub fn receiver_restarting(&self) -> bool {
        matches!((self.received(), self.replay()), (Some(r), Some(p)) if r < p)
    }
}

/// Reads a JSON object from plain JSON, or from JSON whose quotes are backslash-escaped
/// (`{\"Status\":...}`), possibly escaped more than once.
fn parse_object(raw: &str) -> Option<serde_json::Map<String, Value>> {
    let mut current = raw.to_string();
    for _ in 0..4 {
        match serde_json::from_str::<Value>(&current) {
            Ok(Value::Object(o)) => return Some(o),
            // A JSON string holding the object: decode one more level.
            Ok(Value::String(inner)) => current = inner,
            _ => {
                // Unescape one level by reading it as the body of a JSON string literal.
                let unescaped = serde_json::from_str::<String>(&format!("\"{current}\"")).ok()?;
                if unescaped == current {
                    return None;
                }
                current = unescaped;
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = r#"{\"Status\":\"streaming\",\"ReceiveStartLsn\":\"0/3000000\",\"ReceivedTli\":\"1\",\"LatestEndTime\":\"2022-02-25 17:03:59.3344+08\",\"Synced\":\"true\",\"IsSlave\":\"true\",\"ReplayTimestamp\":\"null\",\"LastMsgSendTime\":\"2022-03-01 14:42:57.967537+08\",\"Conninfo\":\"user=migratetest password=******** host=172.16.254.203 port=5432\",\"LastMsgReceiptTime\":\"2022-03-01 14:42:57.96727+08\",\"LatestEndLsn\":\"0/3000148\",\"ReceivedLsn\":\"0/3000148\",\"ReplayLsn\":\"0/3000148\",\"ReceiveStartTli\":\"1\",\"ReplayLag\":\"0\"}"#;

    #[test]
    fn escaped_sample_decodes() {
        let r = ReplicationInfo::parse(SAMPLE).unwrap().unwrap();
        assert_eq!(r.status.as_deref(), Some("streaming"));
        assert_eq!(r.received_lsn, Some(Lsn(0x3000148)));
        assert_eq!(r.receive_start_lsn, Some(Lsn(0x3000000)));
        assert_eq!(r.received_tli, Some(1));
        assert_eq!(r.synced, Some(true));
        assert_eq!(r.replay_timestamp, None);
        assert_eq!(r.replay_lag_seconds, Some(0.0));
        assert_eq!(r.lag_bytes(), Some(0));
        assert_eq!(r.not_received_bytes(), Some(0));
        assert_eq!(r.not_replayed_bytes(), Some(0));
    }

    #[test]
    fn plain_and_double_encoded_json_decode() {
        let plain = SAMPLE.replace("\\\"", "\"");
        assert_eq!(
            ReplicationInfo::parse(&plain).unwrap(),
            ReplicationInfo::parse(SAMPLE).unwrap()
        );
        let double = serde_json::to_string(&plain).unwrap();
        assert_eq!(
            ReplicationInfo::parse(&double).unwrap(),
            ReplicationInfo::parse(SAMPLE).unwrap()
        );
    }

    #[test]
    fn null_and_garbage() {
        assert_eq!(ReplicationInfo::parse("null").unwrap(), None);
        assert_eq!(ReplicationInfo::parse("").unwrap(), None);
        assert!(ReplicationInfo::parse("{\"Status\":").is_err());
        assert!(ReplicationInfo::parse("[1,2]").is_err());
    }

    #[test]
    fn lag_arithmetic() {
        let r = ReplicationInfo {
            latest_end_lsn: Some("0/5000000".parse().unwrap()),
            received_lsn: Some("0/4000000".parse().unwrap()),
            replay_lsn: Some("0/3800000".parse().unwrap()),
            ..Default::default()
        };
        assert_eq!(r.not_received_bytes(), Some(0x1000000));
        assert_eq!(r.not_replayed_bytes(), Some(0x800000));
        assert_eq!(r.lag_bytes(), Some(0x1800000));
        // After a receiver restart ReceivedLsn trails ReplayLsn: never negative.
        let restarted = ReplicationInfo {
            received_lsn: Some("0/3000000".parse().unwrap()),
            ..r.clone()
        };
        assert!(restarted.receiver_restarting());
        assert_eq!(restarted.not_replayed_bytes(), Some(0));
        assert_eq!(restarted.lag_bytes(), Some(0x1800000));
        // A missing input is unknown, never zero.
        let missing = ReplicationInfo {
            replay_lsn: None,
            ..r
        };
        assert_eq!(missing.lag_bytes(), None);
        assert_eq!(missing.not_replayed_bytes(), None);
        assert_eq!(missing.not_received_bytes(), Some(0x1000000));
    }

    fn info(end: u64, recv: u64, replay: u64) -> ReplicationInfo {
        ReplicationInfo {
            latest_end_lsn: Some(Lsn(end)),
            received_lsn: Some(Lsn(recv)),
            replay_lsn: Some(Lsn(replay)),
            ..Default::default()
        }
    }

    #[test]
    fn zero_zero_is_no_position() {
        let raw = r#"{"LatestEndLsn":"0/0","ReceivedLsn":"0/0","ReplayLsn":"0/0","ReplayLag":"0"}"#;
        let r = ReplicationInfo::parse(raw).unwrap().unwrap();
        assert_eq!(r.received_lsn, None);
        assert_eq!(r.lag_bytes(), None);
        // Also when a 0/0 arrives decoded (a recording): never a lag of 0.
        assert_eq!(info(0, 0, 0).lag_bytes(), None);
        assert_eq!(info(0x5000, 0x5000, 0).lag_bytes(), None);
        assert_eq!(info(0, 0x5000, 0x5000).not_received_bytes(), None);
    }

    #[test]
    fn replay_ahead_of_everything_received_is_no_lag() {
        let r = info(0x3000148, 0x3000148, 0x4000000);
        assert!(r.replay_ahead());
        assert_eq!(r.lag_bytes(), None);
        assert_eq!(r.not_replayed_bytes(), Some(0));
    }

    #[test]
    fn negative_and_odd_replay_lag_is_dropped() {
        for (v, want) in [
            ("-3.5", None),
            ("-0", Some(0.0)),
            ("1e400", None),
            ("NaN", None),
            ("2.5", Some(2.5)),
        ] {
            let raw = format!(r#"{{"ReplayLag":"{v}"}}"#);
            let r = ReplicationInfo::parse(&raw).unwrap().unwrap();
            assert_eq!(r.replay_lag_seconds, want, "{v}");
        }
    }

    proptest::proptest! {
        /// Whatever three positions say, the lag is never more than the head, never computed
        /// from a 0/0, and never 0 for a replay ahead of the head.
        #[test]
        fn lag_is_bounded_and_never_from_nothing(
            end in proptest::prop_oneof![proptest::strategy::Just(0u64), proptest::num::u64::ANY],
            recv in proptest::prop_oneof![proptest::strategy::Just(0u64), proptest::num::u64::ANY],
            replay in proptest::prop_oneof![proptest::strategy::Just(0u64), proptest::num::u64::ANY],
        ) {
            let r = info(end, recv, replay);
            match r.lag_bytes() {
                Some(lag) => {
                    proptest::prop_assert!(end != 0 && recv != 0 && replay != 0);
                    proptest::prop_assert!(replay <= end.max(recv));
                    proptest::prop_assert_eq!(lag, end.max(recv) - replay);
                }
                None => proptest::prop_assert!(end == 0 || recv == 0 || replay == 0 || replay > end.max(recv)),
            }
            if let Some(b) = r.not_received_bytes() { proptest::prop_assert!(b <= end); }
            if let Some(b) = r.not_replayed_bytes() { proptest::prop_assert!(b <= recv); }
            // The same through the decoder, from the text form.
            let raw = format!(r#"{{"LatestEndLsn":"{}","ReceivedLsn":"{}","ReplayLsn":"{}"}}"#, Lsn(end), Lsn(recv), Lsn(replay));
            let decoded = ReplicationInfo::parse(&raw).unwrap().unwrap();
            proptest::prop_assert_eq!(decoded.lag_bytes(), r.lag_bytes());
        }
    }

    #[test]
    fn conninfo_password_never_kept() {
        let raw = r#"{"Conninfo":"user=u password=hunter2 host=h"}"#;
        let r = ReplicationInfo::parse(raw).unwrap().unwrap();
        assert_eq!(
            r.conninfo.as_deref(),
            Some("user=u password=******** host=h")
        );
    }
}
