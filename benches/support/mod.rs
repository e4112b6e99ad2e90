//! The bench's dashboard: the same two instances the render tests draw, polled for a while.
//! (A copy of the tests' fixture, kept small: benches do not borrow test modules.)

use std::time::Duration;

use chrono::{DateTime, Utc};
use migtop::aliyun::InstanceSnapshot;
use migtop::app::{Action, App, AppConfig};
use migtop::model::Page;
use migtop::poller::{PollEvent, PollResult};
use serde_json::{Value, json};

const MIB: u64 = 1024 * 1024;

/// The reference sample's Detail: a glibc warning, then progress lines.
const DETAIL: &str = r"[Check rds empty]\nCheck rds databases: success\n[Check source connectivity]\nCheck ip connectable: success\nCheck port connectable: success\nCheck database connectable: success\nCheck account replication privilege: success\nCheck account createrole privilege: success\nCheck account monitor privilege: success\n[Check source version]\nCheck major version consistent: success\n[Check source glibc version]\nCheck source glibc version compatible: warning(warning:source glibc version is not compatible with rds pg)\n[Check disk size]\nCheck disk size enough: success\n[Check wal keep size]\nCheck wal keep size large enough: success\n[Check spec params]\nCheck if spec params too large: success\n[Start RDS instance]\n2026-02-28 17:00:29 --- Start RDS instance as slave for data replication\n[Synchronize data]\n2026-02-28 17:01:05 --- Synchronize data from source to RDS by streaming replication \n";

/// A precheck that failed.
const DETAIL_FAIL: &str = r"[Check rds empty]\nCheck rds databases: success\n[Check disk size]\nCheck disk size enough: fail(fail:target disk 20GB is smaller than source data 35GB)\n[Check wal keep size]\nCheck wal keep size large enough: warning(warning:wal_keep_size 0 may let the source recycle WAL the standby still needs)\n";

fn lsn(v: u64) -> String {
    format!("{:X}/{:X}", v >> 32, v & 0xFFFF_FFFF)
}

/// LSN positions of a task: source end, received, replayed.
#[derive(Debug, Clone, Copy)]
struct Pos {
    end: u64,
    recv: u64,
    replay: u64,
}

/// Positions with `lag` bytes behind `end`, split evenly between transport and apply.
fn pos(end: u64, lag: u64) -> Pos {
    Pos {
        end,
        recv: end - lag / 2,
        replay: end - lag,
    }
}

/// One task item as the API returns it (escaped ReplicationInfo, literal `\n` in Detail).
fn item(id: i64, name: &str, stage: &str, state: &str, p: Option<Pos>, detail: &str) -> Value {
    let ri = match p {
        None => "null".to_string(),
        Some(p) => json!({
            "Status": state, "ReceiveStartLsn": "5/0", "ReceiveStartTli": "1",
            "ReceivedLsn": lsn(p.recv), "ReceivedTli": "1",
            "LatestEndLsn": lsn(p.end), "LatestEndTime": "2026-03-01 14:39:59.3344+08",
            "ReplayLsn": lsn(p.replay), "ReplayLag": "0.5",
            "ReplayTimestamp": "2026-03-01 14:39:58.1+08",
            "LastMsgSendTime": "2026-03-01 14:39:59.96+08", "LastMsgReceiptTime": "2026-03-01 14:39:59.97+08",
            "Synced": if state == "streaming" { "true" } else { "false" }, "IsSlave": "true",
            "Conninfo": "user=migrator password=******** host=10.1.2.3 port=5432"
        })
        .to_string()
        .replace('"', "\\\""),
    };
    json!({
        "TaskId": id, "TaskName": name, "MigrateStage": stage, "ReplicationState": state,
        "ReplicationInfo": ri, "SourceCategory": "ecsOnVpc", "SourceIpAddress": "10.1.2.3",
        "SourcePort": 5432, "SourceAccount": "migrator", "SourcePassword": 123456,
        "TargetInstanceName": "null", "GmtCreated": "2026-02-28T08:53:13Z",
        "GmtModified": "2026-03-01T06:20:00Z", "SwitchTime": "null", "Detail": detail
    })
}

/// The snapshot an instance answers with.
fn snapshot(instance: &str, items: Vec<Value>) -> InstanceSnapshot {
    let body = json!({"TotalSize": items.len(), "RequestId": "REQ-0001", "Items": items});
    let page = Page::from_json(instance, &body).unwrap();
    InstanceSnapshot {
        instance: instance.to_string(),
        request_id: page.request_id,
        tasks: page.tasks,
        item_errors: page.item_errors,
        ..Default::default()
    }
}

/// Two instances polled every 5 s.
fn config() -> AppConfig {
    let mut c = AppConfig::new(vec!["pgm-demo-east".into(), "pgm-demo-west".into()]);
    c.interval = Duration::from_secs(5);
    c
}

fn at(s: i64) -> DateTime<Utc> {
    t0() + chrono::Duration::seconds(s)
}

fn t0() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-03-01T06:40:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

fn ok(app: &mut App, instance: &str, at_s: i64, items: Vec<Value>) {
    app.update(Action::Poll(PollEvent::Finished(PollResult {
        instance: instance.into(),
        started: at(at_s),
        at: at(at_s),
        result: Ok(snapshot(instance, items)),
        source: None,
    })));
    app.update(Action::Poll(PollEvent::Scheduled {
        instance: instance.into(),
        next: Some(at(at_s + 5)),
    }));
}

/// The west instance's tasks: a failed precheck and a finished task.
fn west_items() -> Vec<Value> {
    vec![
        item(501, "crm", "precheck", "unstarted", None, DETAIL_FAIL),
        item(
            502,
            "archive",
            "success",
            "finish",
            Some(pos(0x9_0000_0000, 0)),
            DETAIL,
        ),
    ]
}

/// East's tasks at second `s`: one in precheck, one in base backup, and `main` (task 401) in
/// increment at the given positions.
fn east_items(main: Pos) -> Vec<Value> {
    vec![
        item(401, "orders", "increment", "streaming", Some(main), DETAIL),
        item(402, "billing", "basebackup", "unstarted", None, DETAIL),
        item(403, "events", "precheck", "unstarted", None, &DETAIL[..400]),
    ]
}

/// A dashboard whose two instances were polled every 5 s for `until` s: east's task 401
/// streams at 2 MiB/s, 2 MiB behind (full history, sparkline and log).
pub fn polled_app(until: i64) -> App {
    let mut app = App::new(config(), t0());
    let mut s = 0;
    while s <= until {
        let end = 0x5_0000_0000 + s as u64 * 2 * MIB;
        ok(&mut app, "pgm-demo-east", s, east_items(pos(end, 2 * MIB)));
        ok(&mut app, "pgm-demo-west", s, west_items());
        s += 5;
    }
    app.update(Action::Tick(
        at(until) + chrono::Duration::milliseconds(1500),
    ));
    app
}
