//! Turning task views into the API's JSON, with the reference sample's quirks (or without).

use chrono::{DateTime, FixedOffset, Offset, Utc};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::source::{ReplicationView, TaskView};

/// How responses are shaped. The default looks like the reference sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Shape {
    /// `ReplicationInfo` as JSON whose quotes are backslash-escaped (`{\"Status\":...}`).
    pub escaped_replication_info: bool,
    /// `Detail` with literal `\n` (backslash, n) instead of real newlines.
    pub literal_newlines: bool,
    /// A page of exactly one item has `Items` as that object; no items, no `Items`.
    pub single_item_as_object: bool,
    /// `TaskId`, `SourcePort`, `PageNumber`, `PageSize` as strings.
    pub numbers_as_strings: bool,
    /// Absent values as JSON `null` instead of the string `"null"`.
    pub json_nulls: bool,
    /// A numeric `SourcePassword` as a JSON number, like the sample.
    pub password_as_number: bool,
}

impl Default for Shape {
    fn default() -> Self {
        Shape::sample()
    }
}

impl Shape {
    /// Like the reference sample: escaped ReplicationInfo, literal `\n`, `"null"` strings,
    /// a numeric SourcePassword, `Items` an array.
    pub fn sample() -> Shape {
        Shape {
            escaped_replication_info: true,
            literal_newlines: true,
            single_item_as_object: false,
            numbers_as_strings: false,
            json_nulls: false,
            password_as_number: true,
        }
    }

    /// The other variations a client must take: plain JSON, real newlines, `Items` as a
    /// single object, numbers as strings, JSON nulls.
    pub fn plain() -> Shape {
        Shape {
            escaped_replication_info: false,
            literal_newlines: false,
            single_item_as_object: true,
            numbers_as_strings: true,
            json_nulls: true,
            password_as_number: false,
        }
    }

    fn null(&self) -> Value {
        if self.json_nulls {
            Value::Null
        } else {
            Value::String("null".into())
        }
    }

    fn int(&self, n: i64) -> Value {
        if self.numbers_as_strings {
            Value::String(n.to_string())
        } else {
            json!(n)
        }
    }
}

/// `2022-03-01 14:42:57.967537+08`: PostgreSQL's text form of a timestamptz (fraction
/// trimmed of trailing zeros, offset as `+08` or `+05:30`).
pub fn pg_timestamp(t: &DateTime<FixedOffset>) -> String {
    let mut s = t.format("%Y-%m-%d %H:%M:%S").to_string();
    let micros = t.timestamp_subsec_micros();
    if micros > 0 {
        let frac = format!("{micros:06}");
        s.push('.');
        s.push_str(frac.trim_end_matches('0'));
    }
    let secs = t.offset().fix().local_minus_utc();
    let sign = if secs < 0 { '-' } else { '+' };
    let (h, m) = (secs.abs() / 3600, (secs.abs() % 3600) / 60);
    if m == 0 {
        s.push_str(&format!("{sign}{h:02}"));
    } else {
        s.push_str(&format!("{sign}{h:02}:{m:02}"));
    }
    s
}

/// `2022-02-25T08:53:13Z`.
pub fn iso(t: &DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// The ReplicationInfo JSON text (all values strings, `"null"` for unknown), keys in the
/// sample's order.
pub fn replication_json(r: &ReplicationView) -> String {
    let s = |v: Option<String>| v.unwrap_or_else(|| "null".to_string());
    let lsn = |v: Option<crate::model::Lsn>| s(v.map(|l| l.to_string()));
    let ts = |v: &Option<DateTime<FixedOffset>>| s(v.as_ref().map(pg_timestamp));
    let lag = r.replay_lag_seconds.filter(|v| v.is_finite()).map(|v| {
        if v.fract() == 0.0 {
            format!("{v:.0}")
        } else {
            format!("{v:.3}")
        }
    });
    let fields: [(&str, String); 15] = [
        ("Status", s(r.status.clone())),
        ("ReceiveStartLsn", lsn(r.receive_start_lsn)),
        ("ReceivedTli", s(r.received_tli.map(|t| t.to_string()))),
        ("LatestEndTime", ts(&r.latest_end_time)),
        ("Synced", r.synced.to_string()),
        ("IsSlave", r.is_slave.to_string()),
        ("ReplayTimestamp", ts(&r.replay_timestamp)),
        ("LastMsgSendTime", ts(&r.last_msg_send_time)),
        ("Conninfo", s(r.conninfo.clone())),
        ("LastMsgReceiptTime", ts(&r.last_msg_receipt_time)),
        ("LatestEndLsn", lsn(r.latest_end_lsn)),
        ("ReceivedLsn", lsn(r.received_lsn)),
        ("ReplayLsn", lsn(r.replay_lsn)),
        (
            "ReceiveStartTli",
            s(r.receive_start_tli.map(|t| t.to_string())),
        ),
        ("ReplayLag", s(lag)),
    ];
    let body = fields
        .iter()
        .map(|(k, v)| format!("{}:{}", Value::from(*k), Value::from(v.as_str())))
        .collect::<Vec<_>>()
        .join(",");
    format!("{{{body}}}")
}

/// Which operation an item is rendered for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemKind {
    /// DescribeCloudMigrationResult: every field.
    Migration,
    /// DescribeCloudMigrationPrecheckResult: without MigrateStage, ReplicationState,
    /// ReplicationInfo and SwitchTime.
    Precheck,
}

/// One element of `Items`.
pub fn item(t: &TaskView, kind: ItemKind, shape: &Shape) -> Value {
    let mut o = Map::new();
    let text = |s: &str| Value::String(s.to_string());
    o.insert("GmtCreated".into(), text(&iso(&t.created)));
    o.insert("GmtModified".into(), text(&iso(&t.modified)));
    o.insert("TaskId".into(), shape.int(t.task_id));
    o.insert("TaskName".into(), text(&t.task_name));
    o.insert("SourceCategory".into(), text(&t.source.category));
    o.insert("SourceIpAddress".into(), text(&t.source.ip));
    o.insert("SourcePort".into(), shape.int(i64::from(t.source.port)));
    o.insert("SourceAccount".into(), text(&t.source.account));
    o.insert(
        "SourcePassword".into(),
        password(t.source.password.expose(), shape),
    );
    o.insert("TargetEip".into(), shape.null());
    o.insert("TargetInstanceName".into(), text(&t.target_instance));
    let newline = if shape.literal_newlines { "\\n" } else { "\n" };
    let mut detail = String::new();
    for line in &t.detail {
        detail.push_str(line);
        detail.push_str(newline);
    }
    o.insert("Detail".into(), text(&detail));
    if kind == ItemKind::Migration {
        o.insert("MigrateStage".into(), text(t.stage.as_str()));
        o.insert(
            "ReplicationState".into(),
            text(t.replication_state.as_str()),
        );
        let info = match &t.replication {
            Some(r) => {
                let j = replication_json(r);
                if shape.escaped_replication_info {
                    Value::String(j.replace('"', "\\\""))
                } else {
                    Value::String(j)
                }
            }
            None => shape.null(),
        };
        o.insert("ReplicationInfo".into(), info);
        o.insert(
            "SwitchTime".into(),
            t.switch_time
                .as_ref()
                .map(|s| text(&iso(s)))
                .unwrap_or_else(|| shape.null()),
        );
    }
    Value::Object(o)
}

/// The password as the API returns it: a number when it is one (like the sample).
fn password(p: &str, shape: &Shape) -> Value {
    let numeric = !p.is_empty()
        && p.len() < 16
        && p.bytes().all(|b| b.is_ascii_digit())
        && !(p.len() > 1 && p.starts_with('0'));
    match p.parse::<i64>() {
        Ok(n) if numeric && shape.password_as_number => json!(n),
        _ => Value::String(p.to_string()),
    }
}

/// A whole page: TotalSize, RequestId, PageNumber, PageSize and Items.
pub fn page(
    items: Vec<Value>,
    total: usize,
    page_number: i64,
    page_size: i64,
    request_id: &str,
    shape: &Shape,
) -> Value {
    let mut o = Map::new();
    o.insert("TotalSize".into(), json!(total));
    o.insert("RequestId".into(), json!(request_id));
    o.insert("PageNumber".into(), shape.int(page_number));
    o.insert("PageSize".into(), shape.int(page_size));
    match items.len() {
        0 if shape.single_item_as_object => {}
        1 if shape.single_item_as_object => {
            o.insert("Items".into(), items.into_iter().next().unwrap_or_default());
        }
        _ => {
            o.insert("Items".into(), Value::Array(items));
        }
    }
    Value::Object(o)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Lsn, Page, ReplicationState, Stage};
    use crate::sim::source::{Password, SourceView};
    use chrono::TimeZone;

    fn plus8() -> FixedOffset {
        FixedOffset::east_opt(8 * 3600).unwrap()
    }

    fn view() -> TaskView {
        let t = Utc.with_ymd_and_hms(2022, 3, 1, 6, 42, 57).unwrap();
        TaskView {
            task_id: 440437220,
            task_name: "362c6c7a".into(),
            target_instance: "pgm-1".into(),
            stage: Stage::Increment,
            replication_state: ReplicationState::Streaming,
            replication: Some(ReplicationView {
                status: Some("streaming".into()),
                receive_start_lsn: Some(Lsn(0x3000000)),
                receive_start_tli: Some(1),
                received_lsn: Some(Lsn(0x3000148)),
                received_tli: Some(1),
                latest_end_lsn: Some(Lsn(0x3000148)),
                latest_end_time: Some(t.with_timezone(&plus8())),
                replay_lsn: Some(Lsn(0x3000148)),
                replay_lag_seconds: Some(0.0),
                replay_timestamp: None,
                last_msg_send_time: Some(
                    (t + chrono::Duration::microseconds(967537)).with_timezone(&plus8()),
                ),
                last_msg_receipt_time: Some(t.with_timezone(&plus8())),
                synced: true,
                is_slave: true,
                conninfo: Some("user=migratetest password=******** host=172.16.254.203".into()),
            }),
            detail: vec![
                "[Check rds empty]".into(),
                "Check rds databases: success".into(),
            ],
            source: SourceView {
                category: "ecsonvpc".into(),
                ip: "172.16.254.203".into(),
                port: 5432,
                account: "migratetest".into(),
                password: Password::new("123456"),
            },
            created: t,
            modified: t,
            switch_time: None,
        }
    }

    #[test]
    fn pg_timestamps_look_like_postgres() {
        let t = Utc
            .with_ymd_and_hms(2022, 2, 25, 9, 3, 59)
            .unwrap()
            .with_timezone(&plus8())
            + chrono::Duration::microseconds(334400);
        assert_eq!(pg_timestamp(&t), "2022-02-25 17:03:59.3344+08");
        let whole = Utc.with_ymd_and_hms(2022, 2, 25, 9, 3, 59).unwrap();
        assert_eq!(
            pg_timestamp(&whole.with_timezone(&FixedOffset::east_opt(19800).unwrap())),
            "2022-02-25 14:33:59+05:30"
        );
        assert_eq!(
            pg_timestamp(&whole.with_timezone(&FixedOffset::west_opt(3600).unwrap())),
            "2022-02-25 08:03:59-01"
        );
    }

    #[test]
    fn sample_shape_matches_the_reference_quirks() {
        let v = item(&view(), ItemKind::Migration, &Shape::sample());
        let info = v["ReplicationInfo"].as_str().unwrap();
        assert!(info.starts_with(r#"{\"Status\":\"streaming\",\"ReceiveStartLsn\":\"0/3000000\""#));
        assert!(info.contains(r#"\"ReplayTimestamp\":\"null\""#));
        assert!(info.contains(r#"\"LastMsgSendTime\":\"2022-03-01 14:42:57.967537+08\""#));
        assert_eq!(
            v["Detail"],
            "[Check rds empty]\\nCheck rds databases: success\\n"
        );
        assert_eq!(v["SourcePassword"], 123456);
        assert_eq!(v["TaskId"], 440437220);
        assert_eq!(v["TargetEip"], "null");
        assert_eq!(v["SwitchTime"], "null");
        // And migtop's own decoder reads it back.
        let body = page(vec![v], 1, 1, 10, "R", &Shape::sample());
        let p = Page::from_json("pgm-1", &body).unwrap();
        let r = p.tasks[0].replication.as_ref().unwrap();
        assert_eq!(r.received_lsn, Some(Lsn(0x3000148)));
        assert_eq!(r.lag_bytes(), Some(0));
        assert_eq!(p.tasks[0].precheck.counts.success, 1);
    }

    #[test]
    fn plain_shape_varies_everything() {
        let shape = Shape::plain();
        let v = item(&view(), ItemKind::Migration, &shape);
        assert!(
            v["ReplicationInfo"]
                .as_str()
                .unwrap()
                .starts_with("{\"Status\"")
        );
        assert_eq!(
            v["Detail"],
            "[Check rds empty]\nCheck rds databases: success\n"
        );
        assert_eq!(v["TaskId"], "440437220");
        assert_eq!(v["SourcePassword"], "123456");
        assert_eq!(v["TargetEip"], Value::Null);
        let one = page(vec![v.clone()], 1, 1, 10, "R", &shape);
        assert!(one["Items"].is_object());
        let none = page(vec![], 0, 1, 10, "R", &shape);
        assert!(none.get("Items").is_none());
        let two = page(vec![v.clone(), v], 2, 1, 10, "R", &shape);
        assert_eq!(two["Items"].as_array().unwrap().len(), 2);
        let p = Page::from_json("pgm-1", &one).unwrap();
        assert_eq!(p.tasks[0].task_id, Some(440437220));
    }

    #[test]
    fn precheck_items_leave_out_replication() {
        let v = item(&view(), ItemKind::Precheck, &Shape::sample());
        for k in [
            "MigrateStage",
            "ReplicationState",
            "ReplicationInfo",
            "SwitchTime",
        ] {
            assert!(v.get(k).is_none(), "{k}");
        }
    }

    #[test]
    fn odd_passwords_stay_strings() {
        let s = Shape::sample();
        assert_eq!(password("0123", &s), "0123");
        assert_eq!(password("p@ss", &s), "p@ss");
        assert_eq!(password("99999999999999999999", &s), "99999999999999999999");
        assert_eq!(password("", &s), "");
        assert_eq!(password("7", &s), 7);
    }
}
