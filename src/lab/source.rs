//! The lab as a simulator [`TaskSource`]: one instance with one migration task whose stage,
//! replication state and `ReplicationInfo` come live from the real standby.
//!
//! The standby is read by a background task every [`REFRESH`] (and at once after a
//! switchover request), never per HTTP request, so any number of clients polling the API
//! cost the servers one small query each half second. `Detail` is written like RDS writes it:
//! the precheck (from real facts about the primary), then `[Backup data]`,
//! `[Start RDS instance]` and `[Synchronize data]` with timestamps, disconnects and
//! reconnects as the receiver reports them, and `[Switch RDS instance]` once activated.
//! `ActivateMigrationTargetInstance` promotes the standby (`pg_promote()`): the task shows
//! `switch` until the standby has left recovery, then `success`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, FixedOffset, Utc};
use tokio::sync::Notify;
use tokio::task::JoinHandle;

use super::{Lab, LabTaskState, SourceFacts};
use crate::model::{ReplicationInfo, ReplicationState, Stage};
use crate::sim::detail::{self, CHECKS, CheckResult, CheckStatus, DetailLog};
use crate::sim::{Password, ReplicationView, SimError, SourceView, TaskSource, TaskView};
use crate::util::units;

/// The instance id the lab serves by default.
pub const LAB_INSTANCE: &str = "pgm-lab00000001";
/// The lab task's id.
pub const LAB_TASK_ID: i64 = 10001;
/// How often the standby is read.
pub const REFRESH: Duration = Duration::from_millis(500);

/// How the lab's task is presented.
#[derive(Debug, Clone)]
pub struct LabTaskOptions {
    pub instance: String,
    pub task_name: String,
    /// When the lab started: the task's creation and the start of its Detail.
    pub created: DateTime<Utc>,
    /// Offset of the Detail timestamps, in hours (the API's samples use +08).
    pub utc_offset_hours: i8,
}

impl Default for LabTaskOptions {
    fn default() -> Self {
        LabTaskOptions {
            instance: LAB_INSTANCE.to_string(),
            task_name: "migtop-lab".to_string(),
            created: Utc::now(),
            utc_offset_hours: 8,
        }
    }
}

/// What the API shows, refreshed in the background.
struct Shown {
    state: LabTaskState,
    detail: DetailLog,
    modified: DateTime<Utc>,
    switch_time: Option<DateTime<Utc>>,
    /// Whether the standby has left recovery (the Detail says so once).
    promoted: bool,
}

struct Shared {
    lab: Arc<Lab>,
    opts: LabTaskOptions,
    tz: FixedOffset,
    source: SourceView,
    shown: Mutex<Shown>,
    /// A switchover was requested and has not failed.
    switching: AtomicBool,
    wake: Notify,
}

impl Shared {
    fn shown(&self) -> std::sync::MutexGuard<'_, Shown> {
        self.shown.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn stamp(&self, text: &str) -> String {
        detail::progress(&Utc::now().with_timezone(&self.tz), text)
    }

    /// Takes a new reading into what is shown, writing Detail lines for what changed.
    fn take(&self, state: LabTaskState) {
        let now = Utc::now();
        let mut shown = self.shown();
        let before = shown.state.state.clone();
        let after = state.state.clone();
        let connected = |s: &ReplicationState| {
            matches!(s, ReplicationState::Streaming | ReplicationState::Catchup)
        };
        if connected(&before) && after == ReplicationState::Disconnect {
            let line = self.stamp("Replication connection to source lost, retrying");
            shown.detail.event(line);
            shown.modified = now;
        } else if before == ReplicationState::Disconnect && connected(&after) {
            let from = ReplicationInfo::from_object(&state.info)
                .receive_start_lsn
                .map_or("unknown".to_string(), |l| l.to_string());
            let line = self.stamp(&format!(
                "Replication connection to source restored, streaming from {from}"
            ));
            shown.detail.event(line);
            shown.modified = now;
        }
        if !state.reading.in_recovery && !shown.promoted {
            shown.promoted = true;
            let line = self.stamp("Switch over finished, the RDS instance is now the primary");
            shown.detail.line(line);
            shown.modified = now;
        }
        if before != after {
            shown.modified = now;
        }
        shown.state = state;
    }

    /// The task as the API shows it now.
    fn view(&self) -> TaskView {
        let shown = self.shown();
        let s = &shown.state;
        let stage = if !s.reading.in_recovery {
            Stage::Success
        } else if self.switching.load(Ordering::SeqCst) {
            Stage::Switch
        } else {
            s.stage.clone()
        };
        let i = ReplicationInfo::from_object(&s.info);
        let replication = ReplicationView {
            status: i.status,
            receive_start_lsn: i.receive_start_lsn,
            receive_start_tli: i.receive_start_tli,
            received_lsn: i.received_lsn,
            received_tli: i.received_tli,
            latest_end_lsn: i.latest_end_lsn,
            latest_end_time: i.latest_end_time,
            replay_lsn: i.replay_lsn,
            replay_lag_seconds: i.replay_lag_seconds,
            replay_timestamp: i.replay_timestamp,
            last_msg_send_time: i.last_msg_send_time,
            last_msg_receipt_time: i.last_msg_receipt_time,
            synced: i.synced.unwrap_or(false),
            is_slave: i.is_slave.unwrap_or(false),
            conninfo: i.conninfo,
        };
        TaskView {
            task_id: LAB_TASK_ID,
            task_name: self.opts.task_name.clone(),
            target_instance: self.opts.instance.clone(),
            stage,
            replication_state: s.state.clone(),
            replication: Some(replication),
            detail: shown.detail.lines(),
            source: self.source.clone(),
            created: self.opts.created,
            modified: shown.modified,
            switch_time: shown.switch_time,
        }
    }
}

/// The lab's task, served through the simulator. Dropping it stops the background reads.
pub struct LabSource {
    shared: Arc<Shared>,
    refresher: JoinHandle<()>,
}

impl LabSource {
    /// Reads the lab once (precheck facts and the standby) and starts refreshing.
    pub async fn new(lab: Arc<Lab>, opts: LabTaskOptions) -> anyhow::Result<LabSource> {
        let tz = FixedOffset::east_opt(i32::from(opts.utc_offset_hours.clamp(-12, 14)) * 3600)
            .expect("offset within a day");
        let facts = lab.source_facts().await?;
        let state = lab.task_state().await?;
        let ready = Utc::now();
        let mut log = DetailLog::default();
        log.set_precheck(detail::precheck_lines(
            &precheck(&facts, lab.as_ref()),
            CHECKS.len(),
        ));
        let at = |t: DateTime<Utc>, text: &str| detail::progress(&t.with_timezone(&tz), text);
        log.section(
            "Backup data",
            at(
                opts.created,
                &format!(
                    "Start to backup data from source by pg_basebackup ({})",
                    units::bytes(facts.data_bytes)
                ),
            ),
        );
        log.line(at(ready, "Backup data finished"));
        log.section(
            "Start RDS instance",
            at(ready, "Start RDS instance as slave for data replication"),
        );
        // The trailing space is in the reference sample too.
        log.section(
            "Synchronize data",
            at(
                ready,
                "Synchronize data from source to RDS by streaming replication ",
            ),
        );
        let source = SourceView {
            category: "idcOnVpc".to_string(),
            ip: "127.0.0.1".to_string(),
            port: lab.primary_port(),
            account: facts.account.clone(),
            // The lab's servers trust loopback connections: there is no password.
            password: Password::new(""),
        };
        let shared = Arc::new(Shared {
            lab,
            opts,
            tz,
            source,
            shown: Mutex::new(Shown {
                state,
                detail: log,
                modified: ready,
                switch_time: None,
                promoted: false,
            }),
            switching: AtomicBool::new(false),
            wake: Notify::new(),
        });
        let refresher = tokio::spawn(refresh(Arc::downgrade(&shared)));
        Ok(LabSource { shared, refresher })
    }

    /// The instance served.
    pub fn instance(&self) -> &str {
        &self.shared.opts.instance
    }

    /// The task as the API shows it now.
    pub fn view(&self) -> TaskView {
        self.shared.view()
    }
}

impl Drop for LabSource {
    fn drop(&mut self) {
        self.refresher.abort();
    }
}

/// Reads the standby every [`REFRESH`], or at once when woken, while the source lives.
async fn refresh(shared: std::sync::Weak<Shared>) {
    loop {
        let Some(s) = shared.upgrade() else { return };
        if s.lab.is_closed() {
            return;
        }
        match s.lab.task_state().await {
            Ok(state) => s.take(state),
            Err(e) => tracing::debug!("lab: cannot read the standby: {e:#}"),
        }
        let wake = async { s.wake.notified().await };
        tokio::select! {
            _ = tokio::time::sleep(REFRESH) => {}
            _ = wake => {}
        }
    }
}

/// The precheck results from what the primary says (same host and binaries: the checks RDS
/// makes across machines pass by construction; the others are real).
fn precheck(facts: &SourceFacts, lab: &Lab) -> Vec<CheckResult> {
    let ok = CheckResult::Status(CheckStatus::Success);
    CHECKS
        .iter()
        .map(|c| match c.key {
            "replication_privilege" if !facts.can_replicate => CheckResult::WithMessage {
                status: CheckStatus::Fail,
                message: format!("account {} has no REPLICATION privilege", facts.account),
            },
            "major_version" => {
                let lab_major = super::pg::parse_major(lab.version()).unwrap_or(0);
                if facts.server_version / 10000 == lab_major {
                    ok.clone()
                } else {
                    CheckResult::Status(CheckStatus::Fail)
                }
            }
            "wal_keep_size" if !facts.has_slot && facts.wal_keep_size_mb < 1024 => {
                CheckResult::WithMessage {
                    status: CheckStatus::Warning,
                    message: format!(
                        "wal_keep_size is {} MB and no replication slot is used",
                        facts.wal_keep_size_mb
                    ),
                }
            }
            "spec_params" if facts.max_connections > 5000 => {
                CheckResult::Status(CheckStatus::Warning)
            }
            _ => ok.clone(),
        })
        .collect()
}

#[async_trait]
impl TaskSource for LabSource {
    async fn instances(&self) -> Vec<String> {
        vec![self.shared.opts.instance.clone()]
    }

    async fn tasks(&self, instance: &str) -> Option<Vec<TaskView>> {
        (instance == self.shared.opts.instance).then(|| vec![self.shared.view()])
    }

    async fn activate(&self, _instance: &str, task_id: i64) -> Result<(), SimError> {
        if task_id != LAB_TASK_ID {
            return Err(SimError::invalid_migrate_status());
        }
        if self.shared.switching.swap(true, Ordering::SeqCst) {
            // A second request while the first is carried out.
            return Err(SimError::invalid_migrate_status());
        }
        {
            let now = Utc::now();
            let mut shown = self.shared.shown();
            shown.switch_time = Some(now);
            shown.modified = now;
            let line = self
                .shared
                .stamp("Start to switch over: stop data synchronization and promote RDS instance");
            shown.detail.section("Switch RDS instance", line);
        }
        tracing::warn!("lab: switchover requested, promoting the standby");
        let shared = self.shared.clone();
        tokio::spawn(async move {
            match shared.lab.promote().await {
                Ok(()) => {
                    tracing::info!("lab: the standby is promoted");
                    // The application now writes to the new primary: the old one goes quiet.
                    shared.lab.stop_load().await;
                }
                Err(e) => {
                    tracing::error!("lab: promotion failed: {e:#}");
                    let line = shared.stamp(&format!("Switch over failed: {e:#}"));
                    let mut shown = shared.shown();
                    shown.detail.event(line);
                    shown.modified = Utc::now();
                    drop(shown);
                    shared.switching.store(false, Ordering::SeqCst);
                }
            }
            shared.wake.notify_one();
        });
        Ok(())
    }
}
