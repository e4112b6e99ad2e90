//! Test fixtures for the state's unit tests: an app of two instances, tasks as the API sends
//! them, polls fed straight in.

use std::time::Duration;

use chrono::{DateTime, Utc};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use serde_json::{Value, json};

use super::{Action, App, AppConfig, Effect};
use crate::aliyun::{ApiError, InstanceSnapshot};
use crate::model::Task;
use crate::poller::{PollEvent, PollResult};

pub const EAST: &str = "pgm-east";
pub const WEST: &str = "pgm-west";
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

/// A fresh app of two instances at `t0`, 5 s interval.
pub fn app() -> App {
    App::new(config(), t0())
}

/// The config of [`app`].
pub fn config() -> AppConfig {
    let mut c = AppConfig::new(vec![EAST.into(), WEST.into()]);
    c.interval = Duration::from_secs(5);
    c
}

/// A task item with `lag` bytes of lag (split between transport and apply), or without
/// ReplicationInfo; `detail` is the precheck log (real newlines).
pub fn item(id: i64, stage: &str, state: &str, lag: Option<u64>, detail: &str) -> Value {
    let lsn = |v: u64| format!("{:X}/{:X}", v >> 32, v & 0xFFFF_FFFF);
    let end = 0x5_0000_0000u64;
    let ri = lag.map_or("null".to_string(), |lag| {
        json!({
            "Status": state,
            "ReceivedLsn": lsn(end - lag / 2),
            "LatestEndLsn": lsn(end),
            "ReplayLsn": lsn(end - lag),
            "Synced": if state == "streaming" { "true" } else { "false" },
        })
        .to_string()
    });
    json!({
        "TaskId": id, "TaskName": format!("task{id}"), "MigrateStage": stage,
        "ReplicationState": state, "ReplicationInfo": ri, "Detail": detail,
    })
}

/// A successful poll of `instance` at `s` seconds answering `items`.
pub fn ok(app: &mut App, instance: &str, s: i64, items: &[Value]) -> Vec<Effect> {
    let tasks: Vec<Task> = items
        .iter()
        .map(|v| Task::from_value(instance, v).unwrap())
        .collect();
    app.update(Action::Poll(PollEvent::Finished(PollResult {
        instance: instance.into(),
        started: at(s),
        at: at(s),
        result: Ok(InstanceSnapshot {
            instance: instance.into(),
            request_id: Some("REQ".into()),
            tasks,
            item_errors: Vec::new(),
            ..Default::default()
        }),
        source: None,
    })))
}

/// A failed poll of `instance` at `s` seconds.
pub fn fail(app: &mut App, instance: &str, s: i64, err: ApiError) -> Vec<Effect> {
    app.update(Action::Poll(PollEvent::Finished(PollResult {
        instance: instance.into(),
        started: at(s),
        at: at(s),
        result: Err(err),
        source: None,
    })))
}

/// A throttling error as the service returns it.
pub fn throttled() -> ApiError {
    ApiError::Api {
        code: "Throttling.User".into(),
        message: "Request was denied due to user flow control.".into(),
        request_id: Some("REQ-9".into()),
        http_status: 400,
    }
}

/// A key press.
pub fn key(code: KeyCode) -> KeyEvent {
    KeyEvent::new(code, KeyModifiers::NONE)
}

/// A character key.
pub fn ch(c: char) -> KeyEvent {
    key(KeyCode::Char(c))
}

/// Ctrl + a character.
pub fn ctrl(c: char) -> KeyEvent {
    KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL)
}
