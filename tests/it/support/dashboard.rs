//! The dashboard without a terminal: tasks as the API sends them, polls fed straight into
//! `App`, and the screen drawn on a test backend.

use std::time::Duration;

use chrono::{DateTime, Utc};
use migtop::aliyun::{ApiError, InstanceSnapshot};
use migtop::app::{Action, App, AppConfig, Effect};
use migtop::model::Page;
use migtop::poller::{PollEvent, PollResult};
use migtop::probe::{ProbeError, ProbeReport, SourceSample};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use serde_json::{Value, json};

use super::keys::ch;

pub const MIB: u64 = 1024 * 1024;

/// The fixed "now" every test starts from.
pub fn t0() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-03-01T06:40:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

/// `t0` plus `s` seconds.
pub fn at(s: i64) -> DateTime<Utc> {
    t0() + chrono::Duration::seconds(s)
}

/// The reference sample's Detail: a glibc warning, then progress lines.
pub const DETAIL: &str = r"[Check rds empty]\nCheck rds databases: success\n[Check source connectivity]\nCheck ip connectable: success\nCheck port connectable: success\nCheck database connectable: success\nCheck account replication privilege: success\nCheck account createrole privilege: success\nCheck account monitor privilege: success\n[Check source version]\nCheck major version consistent: success\n[Check source glibc version]\nCheck source glibc version compatible: warning(warning:source glibc version is not compatible with rds pg)\n[Check disk size]\nCheck disk size enough: success\n[Check wal keep size]\nCheck wal keep size large enough: success\n[Check spec params]\nCheck if spec params too large: success\n[Start RDS instance]\n2026-02-28 17:00:29 --- Start RDS instance as slave for data replication\n[Synchronize data]\n2026-02-28 17:01:05 --- Synchronize data from source to RDS by streaming replication \n";

/// A precheck that failed.
pub const DETAIL_FAIL: &str = r"[Check rds empty]\nCheck rds databases: success\n[Check disk size]\nCheck disk size enough: fail(fail:target disk 20GB is smaller than source data 35GB)\n[Check wal keep size]\nCheck wal keep size large enough: warning(warning:wal_keep_size 0 may let the source recycle WAL the standby still needs)\n";

fn lsn(v: u64) -> String {
    format!("{:X}/{:X}", v >> 32, v & 0xFFFF_FFFF)
}

/// LSN positions of a task: source end, received, replayed.
#[derive(Debug, Clone, Copy)]
pub struct Pos {
    pub end: u64,
    pub recv: u64,
    pub replay: u64,
}

/// Positions with `lag` bytes behind `end`, split evenly between transport and apply.
pub fn pos(end: u64, lag: u64) -> Pos {
    Pos {
        end,
        recv: end - lag / 2,
        replay: end - lag,
    }
}

/// One task item as the API returns it (escaped ReplicationInfo, literal `\n` in Detail).
pub fn item(id: i64, name: &str, stage: &str, state: &str, p: Option<Pos>, detail: &str) -> Value {
    let ri = match p {
        None => "null".to_string(),
        Some(p) => json!({
            "Status": state, "ReceiveStartLsn": "5/0", "ReceiveStartTli": "1",
            "ReceivedLsn": lsn(p.recv), "ReceivedTli": "1",
            "LatestEndLsn": lsn(p.end), "LatestEndTime": "2026-03-01 14:39:59.3344+08",
            "ReplayLsn": lsn(p.replay), "ReplayLag": "0.5",
            "ReplayTimestamp": "2026-03-01 14:39:58.1+08",
            "LastMsgSendTime": "2026-03-01 14:39:59.96+08", "LastMsgReceiptTime": RECEIPT,
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
pub fn snapshot(instance: &str, items: Vec<Value>) -> InstanceSnapshot {
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

/// The dashboard config of the tests: two instances, 5 s interval, 30 s stable window.
pub fn config() -> AppConfig {
    let mut c = AppConfig::new(vec!["pgm-demo-east".into(), "pgm-demo-west".into()]);
    c.interval = Duration::from_secs(5);
    c
}

/// The `LastMsgReceiptTime` every [`item`] carries.
pub const RECEIPT: &str = "2026-03-01 14:39:59.97+08";

/// `items` as a healthy link reports them at `at_s` seconds: the standby heard from the
/// source 30 ms before the poll.
pub fn live(items: Vec<Value>, at_s: i64) -> Vec<Value> {
    let t = (at(at_s) - chrono::Duration::milliseconds(30))
        .with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).unwrap())
        .format("%Y-%m-%d %H:%M:%S%.f+08")
        .to_string();
    items
        .into_iter()
        .map(|v| serde_json::from_str(&v.to_string().replace(RECEIPT, &t)).unwrap())
        .collect()
}

/// Feeds a successful poll of `instance` at `at_s` seconds, then schedules the next one.
/// The link is live (see [`live`]); [`ok_as_is`] keeps the items' receipt time.
pub fn ok(app: &mut App, instance: &str, at_s: i64, items: Vec<Value>) -> Vec<Effect> {
    ok_as_is(app, instance, at_s, live(items, at_s))
}

/// As [`ok`], with the items exactly as given.
pub fn ok_as_is(app: &mut App, instance: &str, at_s: i64, items: Vec<Value>) -> Vec<Effect> {
    let mut out = app.update(Action::Poll(PollEvent::Finished(PollResult {
        instance: instance.into(),
        started: at(at_s),
        at: at(at_s),
        result: Ok(snapshot(instance, items)),
        source: None,
    })));
    out.extend(app.update(Action::Poll(PollEvent::Scheduled {
        instance: instance.into(),
        next: Some(at(at_s + 5)),
    })));
    out
}

/// Feeds a failed poll of `instance` at `at_s` seconds with a retry in `retry_s` seconds.
pub fn fail(app: &mut App, instance: &str, at_s: i64, err: ApiError, retry_s: i64) {
    app.update(Action::Poll(PollEvent::Finished(PollResult {
        instance: instance.into(),
        started: at(at_s),
        at: at(at_s),
        result: Err(err),
        source: None,
    })));
    app.update(Action::Poll(PollEvent::Scheduled {
        instance: instance.into(),
        next: Some(at(at_s + retry_s)),
    }));
}

/// A throttling error as the service returns it.
pub fn throttled() -> ApiError {
    ApiError::Api {
        code: "Throttling.User".into(),
        message: "Request was denied due to user flow control.".into(),
        request_id: Some("8A2F1C3E-5B7D-4E9A-9C1B-2D3E4F5A6B7C".into()),
        http_status: 400,
    }
}

/// The west instance's tasks: a failed precheck and a finished task.
pub fn west_items() -> Vec<Value> {
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
pub fn east_items(main: Pos) -> Vec<Value> {
    vec![
        item(401, "orders", "increment", "streaming", Some(main), DETAIL),
        item(402, "billing", "basebackup", "unstarted", None, DETAIL),
        item(403, "events", "precheck", "unstarted", None, &DETAIL[..400]),
    ]
}

/// Both instances polled every 5 s from 0 to `until` s; task 401's positions per second.
pub fn run(app: &mut App, until: i64, main: impl Fn(i64) -> Pos) -> Vec<Effect> {
    let mut out = Vec::new();
    let mut s = 0;
    while s <= until {
        out.extend(ok(app, "pgm-demo-east", s, east_items(main(s))));
        out.extend(ok(app, "pgm-demo-west", s, west_items()));
        s += 5;
    }
    out.extend(app.update(Action::Tick(
        at(until) + chrono::Duration::milliseconds(1500),
    )));
    out
}

/// A fresh app at `t0`.
pub fn app() -> App {
    App::new(config(), t0())
}

/// Draws `app` at `w`×`h` and returns the test terminal.
pub fn render(app: &mut App, w: u16, h: u16) -> Terminal<TestBackend> {
    app.update(Action::Resize(w, h));
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| migtop::ui::draw(f, app)).unwrap();
    t
}

/// The screen as plain text lines.
pub fn screen(t: &Terminal<TestBackend>) -> String {
    let buf = t.backend().buffer();
    let mut out = String::new();
    for y in 0..buf.area.height {
        for x in 0..buf.area.width {
            out.push_str(buf[(x, y)].symbol());
        }
        out.push('\n');
    }
    out
}

/// Selects task `id` by moving down from the top.
pub fn select_task(app: &mut App, id: i64) {
    app.on_key(ch('g'));
    for _ in 0..app.rows().len() {
        if app.selected_task().and_then(|e| e.task.task_id) == Some(id) {
            return;
        }
        app.on_key(ch('j'));
    }
    panic!("task {id} not found");
}

/// The redacted source DSN of the probe tests.
pub const SOURCE: &str = "postgres://monitor:********@10.1.2.3:5432/postgres";

/// The dashboard config with a source probe.
pub fn probed_config() -> AppConfig {
    let mut c = config();
    c.source_probe = Some(SOURCE.into());
    c
}

/// A successful reading of the source at `at_s` seconds. The tests' source writes one
/// transaction per KiB of WAL and has none open between readings: its next xid is `lsn / 1024`.
pub fn source_at(at_s: i64, lsn: u64) -> ProbeReport {
    ProbeReport {
        target: SOURCE.into(),
        result: Ok(SourceSample {
            at: at(at_s),
            lsn: migtop::model::Lsn(lsn),
            in_recovery: false,
            timeline: Some(1),
            server_version: Some(150004),
            round_trip_ms: 1,
            next_xid: Some(lsn / 1024),
            xid_in_progress: Some(false),
            wal_sender_timeout: None,
            simulated: false,
        }),
        checklist: None,
    }
}

/// A checklist read at `at_s` that found nothing.
pub fn clean_checklist(at_s: i64) -> migtop::probe::Checklist {
    migtop::probe::Checklist::new(at(at_s), vec!["postgres".into()], vec![])
}

/// A failed reading of the source (the target is redacted, as the probe reports it).
pub fn source_down() -> ProbeReport {
    ProbeReport {
        target: SOURCE.into(),
        result: Err(ProbeError::Connect {
            target: SOURCE.into(),
            reason: "error connecting to server: Connection refused (os error 111)".into(),
        }),
        checklist: None,
    }
}

/// Feeds a successful poll of `instance` at `at_s` seconds with the source's reading.
pub fn ok_probed(
    app: &mut App,
    instance: &str,
    at_s: i64,
    items: Vec<Value>,
    source: ProbeReport,
) -> Vec<Effect> {
    let mut out = app.update(Action::Poll(PollEvent::Finished(PollResult {
        instance: instance.into(),
        started: at(at_s),
        at: at(at_s),
        result: Ok(snapshot(instance, live(items, at_s))),
        source: Some(source),
    })));
    out.extend(app.update(Action::Poll(PollEvent::Scheduled {
        instance: instance.into(),
        next: Some(at(at_s + 5)),
    })));
    out
}

/// As [`run`], with the source probed after each poll: `main` gives task 401's positions and
/// the source's own position per second (`None`: the probe fails).
pub fn run_probed(
    app: &mut App,
    until: i64,
    main: impl Fn(i64) -> (Pos, Option<u64>),
) -> Vec<Effect> {
    let mut out = Vec::new();
    let mut s = 0;
    while s <= until {
        let (p, src) = main(s);
        // The first reading takes the source's checklist, as the probe does: clean.
        let report = |lsn: Option<u64>| {
            let mut r = lsn.map_or_else(source_down, |l| source_at(s, l));
            if s == 0 && r.result.is_ok() {
                r.checklist = Some(Box::new(clean_checklist(s)));
            }
            r
        };
        out.extend(ok_probed(
            app,
            "pgm-demo-east",
            s,
            east_items(p),
            report(src),
        ));
        out.extend(ok_probed(
            app,
            "pgm-demo-west",
            s,
            west_items(),
            report(src),
        ));
        s += 5;
    }
    out.extend(app.update(Action::Tick(
        at(until) + chrono::Duration::milliseconds(1500),
    )));
    out
}
