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
    /// `ReplayLag` in seconds, as reported (meaningless on an idle source).
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
        let lsn = |k: &str| text(o.get(k)).and_then(|s| s.parse::<Lsn>().ok());
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
                .filter(|f| f.is_finite()),
            replay_timestamp: time(o.get("ReplayTimestamp")),
            last_msg_send_time: time(o.get("LastMsgSendTime")),
            last_msg_receipt_time: time(o.get("LastMsgReceiptTime")),
            synced: boolean(o.get("Synced")),
            is_slave: boolean(o.get("IsSlave")),
            conninfo: text(o.get("Conninfo")).map(|c| crate::util::redact::conninfo(&c)),
        }
    }

    /// Total bytes the standby is behind the source: max(LatestEndLsn, ReceivedLsn) − ReplayLsn,
    /// never below 0; `None` when an input is missing.
    pub fn lag_bytes(&self) -> Option<u64> {
        let head = match (self.latest_end_lsn, self.received_lsn) {
            (Some(a), Some(b)) => a.max(b),
            _ => return None,
        };
        Some(head.bytes_since(self.replay_lsn?))
    }

    /// Bytes the source has but the standby has not yet received: LatestEndLsn − ReceivedLsn.
    pub fn not_received_bytes(&self) -> Option<u64> {
        Some(self.latest_end_lsn?.bytes_since(self.received_lsn?))
    }

    /// Bytes received but not yet replayed: ReceivedLsn − ReplayLsn.
    pub fn not_replayed_bytes(&self) -> Option<u64> {
        Some(self.received_lsn?.bytes_since(self.replay_lsn?))
    }

    /// True right after a receiver restart, when ReceivedLsn still trails ReplayLsn.
    pub fn receiver_restarting(&self) -> bool {
        matches!((self.received_lsn, self.replay_lsn), (Some(r), Some(p)) if r < p)
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
