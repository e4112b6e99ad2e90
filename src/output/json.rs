//! The `status --output json` document: a stable contract, documented in the README.

use chrono::{DateTime, FixedOffset, SecondsFormat};
use serde::Serialize;

use crate::aliyun::InstanceSnapshot;
use crate::aliyun::error::{ApiError, ErrorJson};
use crate::model::{Lsn, SeverityCounts, Task};

/// The whole document.
#[derive(Debug, Serialize)]
pub struct StatusJson {
    pub instances: Vec<InstanceJson>,
}

/// One instance: its tasks, or the error that stopped the read.
#[derive(Debug, Serialize)]
pub struct InstanceJson {
    pub instance: String,
    pub request_id: Option<String>,
    pub error: Option<ErrorJson>,
    pub tasks: Vec<TaskJson>,
}

/// The four LSNs of the WAL receiver.
#[derive(Debug, Serialize)]
pub struct LsnJson {
    pub receive_start: Option<Lsn>,
    pub received: Option<Lsn>,
    pub latest_end: Option<Lsn>,
    pub replay: Option<Lsn>,
}

/// Precheck counts (successes, warnings, failures).
#[derive(Debug, Serialize)]
pub struct PrecheckJson {
    pub success: usize,
    pub warning: usize,
    pub fail: usize,
}

/// Where the source is; there is no password field, ever.
#[derive(Debug, Serialize)]
pub struct SourceJson {
    pub category: Option<String>,
    pub ip: Option<String>,
    pub port: Option<i64>,
    pub account: Option<String>,
}

/// One task.
#[derive(Debug, Serialize)]
pub struct TaskJson {
    pub task_id: Option<i64>,
    pub task_name: Option<String>,
    pub instance: String,
    pub stage: Option<String>,
    pub stage_index: Option<u8>,
    pub replication_state: Option<String>,
    pub lsn: LsnJson,
    pub lag_bytes: Option<u64>,
    pub transport_bytes: Option<u64>,
    pub apply_bytes: Option<u64>,
    pub replay_lag_seconds: Option<f64>,
    pub synced: Option<bool>,
    pub precheck: PrecheckJson,
    pub source: SourceJson,
    pub created: Option<String>,
    pub modified: Option<String>,
    pub switch_time: Option<String>,
}

fn stamp(t: &Option<DateTime<FixedOffset>>) -> Option<String> {
    t.map(|t| t.to_rfc3339_opts(SecondsFormat::AutoSi, true))
}

impl From<&Task> for TaskJson {
    fn from(t: &Task) -> TaskJson {
        let r = t.replication.as_ref();
        let SeverityCounts {
            success,
            warning,
            fail,
            ..
        } = t.precheck.counts;
        TaskJson {
            task_id: t.task_id,
            task_name: t.task_name.clone(),
            instance: t.instance.clone(),
            stage: t.stage.as_ref().map(|s| s.to_string()),
            stage_index: t.stage.as_ref().and_then(|s| s.index()),
            replication_state: t.replication_state.as_ref().map(|s| s.to_string()),
            lsn: LsnJson {
                receive_start: r.and_then(|r| r.receive_start_lsn),
                received: r.and_then(|r| r.received_lsn),
                latest_end: r.and_then(|r| r.latest_end_lsn),
                replay: r.and_then(|r| r.replay_lsn),
            },
            lag_bytes: r.and_then(|r| r.lag_bytes()),
            transport_bytes: r.and_then(|r| r.transport_bytes()),
            apply_bytes: r.and_then(|r| r.apply_bytes()),
            replay_lag_seconds: r.and_then(|r| r.replay_lag_seconds),
            synced: r.and_then(|r| r.synced),
            precheck: PrecheckJson {
                success,
                warning,
                fail,
            },
            source: SourceJson {
                category: t.source.category.clone(),
                ip: t.source.ip.clone(),
                port: t.source.port,
                account: t.source.account.clone(),
            },
            created: stamp(&t.created),
            modified: stamp(&t.modified),
            switch_time: stamp(&t.switch_time),
        }
    }
}

impl InstanceJson {
    /// From the result of reading one instance.
    pub fn from_result(
        instance: &str,
        result: &Result<InstanceSnapshot, ApiError>,
    ) -> InstanceJson {
        match result {
            Ok(s) => InstanceJson {
                instance: instance.to_string(),
                request_id: s.request_id.clone(),
                error: None,
                tasks: s.tasks.iter().map(TaskJson::from).collect(),
            },
            Err(e) => InstanceJson {
                instance: instance.to_string(),
                request_id: e.request_id().map(str::to_string),
                error: Some(e.to_json()),
                tasks: vec![],
            },
        }
    }
}
