//! Where the simulator's tasks come from: the [`TaskSource`] hook.
//!
//! The server (auth, pagination, filters, activation rules, errors, faults, response shape)
//! is shared; a source only says which instances exist, what their tasks look like right now,
//! and what to do when a switchover is requested. The scenario engine is the default source;
//! `migtop lab` plugs in one that reads a real PostgreSQL standby.

use std::fmt;

use async_trait::async_trait;
use chrono::{DateTime, FixedOffset, Utc};

use super::error::SimError;
use crate::model::{Lsn, ReplicationState, Stage};

/// A source password: kept to be returned as the real API does, never printed or logged.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl Password {
    /// Wraps a password.
    pub fn new(p: impl Into<String>) -> Password {
        Password(p.into())
    }

    /// The password itself, for the response body only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(********)")
    }
}

/// Where the self-managed source is.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceView {
    /// `ecsonvpc`, `idcOnVpc`, `internet`...
    pub category: String,
    pub ip: String,
    pub port: u16,
    pub account: String,
    pub password: Password,
}

/// The WAL receiver as `pg_stat_wal_receiver` and the replay functions report it.
/// `None` fields are rendered as `"null"` (no receiver row, or unknown).
/// Deliberate twin of [`crate::model::ReplicationInfo`], which decodes it: they must not share
/// code, so a bug in one cannot hide the same bug in the other.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ReplicationView {
    /// Receiver status (`streaming`, `starting`, `stopping`...); `None` when no receiver runs.
    pub status: Option<String>,
    pub receive_start_lsn: Option<Lsn>,
    pub receive_start_tli: Option<u32>,
    pub received_lsn: Option<Lsn>,
    pub received_tli: Option<u32>,
    pub latest_end_lsn: Option<Lsn>,
    pub latest_end_time: Option<DateTime<FixedOffset>>,
    pub replay_lsn: Option<Lsn>,
    /// Seconds, as the API writes `ReplayLag`.
    pub replay_lag_seconds: Option<f64>,
    pub replay_timestamp: Option<DateTime<FixedOffset>>,
    pub last_msg_send_time: Option<DateTime<FixedOffset>>,
    pub last_msg_receipt_time: Option<DateTime<FixedOffset>>,
    pub synced: bool,
    pub is_slave: bool,
    /// Conninfo with the password already masked as `********`.
    pub conninfo: Option<String>,
}

/// One task as the API shows it right now.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskView {
    pub task_id: i64,
    pub task_name: String,
    /// `TargetInstanceName`: the instance the task migrates into.
    pub target_instance: String,
    pub stage: Stage,
    pub replication_state: ReplicationState,
    /// `None` renders as `"null"` (no standby yet).
    pub replication: Option<ReplicationView>,
    /// `Detail`, one entry per line (joined with the response shape's newline).
    pub detail: Vec<String>,
    pub source: SourceView,
    pub created: DateTime<Utc>,
    pub modified: DateTime<Utc>,
    pub switch_time: Option<DateTime<Utc>>,
}

impl TaskView {
    /// Total lag in bytes (max(LatestEndLsn, ReceivedLsn) − ReplayLsn), when known.
    pub fn lag_bytes(&self) -> Option<u64> {
        let r = self.replication.as_ref()?;
        let head = r.latest_end_lsn?.max(r.received_lsn?);
        Some(head.bytes_since(r.replay_lsn?))
    }
}

/// What `CreateCloudMigrationTask` / `CreateCloudMigrationPrecheckTask` asked for.
#[derive(Debug, Clone, PartialEq)]
pub struct NewTask {
    pub task_name: String,
    pub source: SourceView,
    /// True for `CreateCloudMigrationPrecheckTask`: the task stops after the precheck.
    pub precheck_only: bool,
}

/// Supplies the simulator's instances and tasks. Implementations must be cheap to call on
/// every request and must never put `SourcePassword` in logs.
#[async_trait]
pub trait TaskSource: Send + Sync {
    /// The instance ids served, in display order.
    async fn instances(&self) -> Vec<String>;

    /// Every task of `instance` as of now; `None` when the instance is unknown (404).
    async fn tasks(&self, instance: &str) -> Option<Vec<TaskView>>;

    /// Starts the switchover of `task_id`. The server has already checked the rules (the
    /// task exists and is in stage increment); the source makes it happen (stage `switch`,
    /// then `success`), or refuses with an error.
    async fn activate(&self, instance: &str, task_id: i64) -> Result<(), SimError>;

    /// Adds a task that starts at precheck and returns its id.
    async fn create_task(&self, instance: &str, task: NewTask) -> Result<i64, SimError> {
        let _ = (instance, task);
        Err(SimError::unsupported("Creating migration tasks"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_debug_is_masked() {
        let p = Password::new("hunter2");
        assert_eq!(format!("{p:?}"), "Password(********)");
        assert_eq!(p.expose(), "hunter2");
        let s = SourceView {
            category: "ecsonvpc".into(),
            ip: "10.0.0.1".into(),
            port: 5432,
            account: "a".into(),
            password: p,
        };
        assert!(!format!("{s:?}").contains("hunter2"));
    }
}
