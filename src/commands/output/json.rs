//! The `status --output json` document: a stable contract, documented in the README.

use chrono::{DateTime, FixedOffset, SecondsFormat};
use serde::Serialize;

use crate::aliyun::InstanceSnapshot;
use crate::aliyun::error::{ApiError, ErrorJson};
use crate::model::{Lsn, SeverityCounts, Task};
use crate::probe::checklist::{Finding, Severity};
use crate::probe::{Checklist, ProbeReport, SourceComparison};
use crate::verdict::history::SampleData;
use crate::verdict::readiness::{self, Reason, Verdict, VerdictKind};

/// The whole document.
#[derive(Debug, Serialize)]
pub struct StatusJson {
    pub instances: Vec<InstanceJson>,
    /// The source probe (`--source-dsn`); `null` when none is configured.
    pub source_probe: Option<SourceProbeJson>,
    /// The source's checklist (`--source-dsn`); `null` without a probe or when the source
    /// could not be read.
    pub source_checks: Option<SourceChecksJson>,
}

/// The source's checklist: what a switchover does not carry or waits on.
#[derive(Debug, Serialize)]
pub struct SourceChecksJson {
    pub read_at: String,
    /// The databases read (every one that accepts connections, templates aside).
    pub databases: Vec<String>,
    /// Items per severity: `loses_data`, `breaks_consumers`, `blocks_drained` (all three
    /// always present).
    pub counts: std::collections::BTreeMap<&'static str, usize>,
    /// What a switchover loses in one phrase; `null` when no item loses data.
    pub loss: Option<String>,
    /// Every item, worst first.
    pub items: Vec<CheckItemJson>,
}

/// One checklist item: its severity, the sentence, and its fields by `kind`.
#[derive(Debug, Serialize)]
pub struct CheckItemJson {
    pub severity: &'static str,
    pub text: String,
    #[serde(flatten)]
    pub finding: Finding,
}

impl From<&Checklist> for SourceChecksJson {
    fn from(c: &Checklist) -> SourceChecksJson {
        SourceChecksJson {
            read_at: c.at.to_rfc3339_opts(SecondsFormat::Millis, true),
            databases: c.databases.clone(),
            counts: Severity::ALL
                .iter()
                .map(|s| (s.key(), c.count(*s)))
                .collect(),
            loss: c.loss_summary(),
            items: c
                .items
                .iter()
                .map(|i| CheckItemJson {
                    severity: i.severity().key(),
                    text: i.to_string(),
                    finding: i.clone(),
                })
                .collect(),
        }
    }
}

/// What the source probe read, or why it could not.
#[derive(Debug, Serialize)]
pub struct SourceProbeJson {
    /// The DSN with its password masked.
    pub target: String,
    /// `pg_current_wal_lsn()` on the source; `null` when the probe failed.
    pub lsn: Option<Lsn>,
    pub timeline: Option<u32>,
    pub in_recovery: Option<bool>,
    pub server_version: Option<u32>,
    pub sampled_at: Option<String>,
    /// One sentence when the probe failed (the API read is unaffected).
    pub error: Option<String>,
}

impl StatusJson {
    /// The document for these reads, with the source probe's answer when one is configured
    /// and each task's `blockers` from `blockers`, keyed by [`Task::key`] (the reasons in the
    /// dashboard's words; a task without an entry has none).
    pub fn build(
        results: &[(String, Result<InstanceSnapshot, ApiError>)],
        probe: Option<&ProbeReport>,
        blockers: &Blockers,
    ) -> StatusJson {
        let sample = probe.and_then(|p| p.sample());
        StatusJson {
            instances: results
                .iter()
                .map(|(i, r)| {
                    let mut inst = InstanceJson::from_result(i, r);
                    let Ok(snap) = r else { return inst };
                    for (tj, t) in inst.tasks.iter_mut().zip(&snap.tasks) {
                        let data = SampleData::probed(t, probe.is_some(), sample);
                        if let Some(sample) = sample {
                            let c = SourceComparison::new(sample, t.replication.as_ref());
                            tj.source_lsn = Some(sample.lsn);
                            tj.true_lag_bytes = c.true_lag_bytes;
                            tj.judged_lag_bytes = data.judged_lag();
                        }
                        let reasons = blockers.get(&t.key()).map(Vec::as_slice).unwrap_or(&[]);
                        tj.lag_is_lower_bound = readiness::lag_is_lower_bound(&data, reasons);
                        tj.blockers = reasons.iter().map(|r| r.to_string()).collect();
                        tj.verdict = Verdict::NotReady(reasons.to_vec()).kind().key();
                    }
                    inst
                })
                .collect(),
            source_probe: probe.map(SourceProbeJson::from),
            source_checks: probe
                .and_then(|p| p.checklist.as_deref())
                .map(SourceChecksJson::from),
        }
    }
}

/// The reasons that already rule a switchover out, per task key
/// ([`Verdict::blockers`](crate::verdict::readiness::Verdict::blockers) over this one poll).
pub type Blockers = std::collections::HashMap<String, Vec<Reason>>;

impl From<&ProbeReport> for SourceProbeJson {
    fn from(p: &ProbeReport) -> SourceProbeJson {
        match &p.result {
            Ok(s) => SourceProbeJson {
                target: p.target.clone(),
                lsn: Some(s.lsn),
                timeline: s.timeline,
                in_recovery: Some(s.in_recovery),
                server_version: s.server_version,
                sampled_at: Some(s.at.to_rfc3339_opts(SecondsFormat::Millis, true)),
                error: None,
            },
            Err(e) => SourceProbeJson {
                target: p.target.clone(),
                lsn: None,
                timeline: None,
                in_recovery: None,
                server_version: None,
                sampled_at: None,
                error: Some(e.to_string()),
            },
        }
    }
}

/// One instance: its tasks, or the error that stopped the read.
#[derive(Debug, Serialize)]
pub struct InstanceJson {
    pub instance: String,
    pub request_id: Option<String>,
    pub error: Option<ErrorJson>,
    /// The pages did not add up (TotalSize never reached): tasks may be missing.
    pub incomplete: bool,
    /// Things to know about this read (merged duplicate tasks, replaced bytes, ...).
    pub warnings: Vec<String>,
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
    /// The source's own WAL position (`--source-dsn`); `null` without a probe or when it failed.
    pub source_lsn: Option<Lsn>,
    /// `source_lsn` − ReplayLsn; `null` when either is unknown or the standby is ahead of it.
    pub true_lag_bytes: Option<u64>,
    /// The lag readiness judges ([`SampleData::judged_lag`]): the larger of `lag_bytes` and
    /// `true_lag_bytes`, whichever is known; the dashboard's LAG column.
    pub judged_lag_bytes: Option<u64>,
    /// `judged_lag_bytes` is only a lower bound ([`readiness::lag_is_lower_bound`]): the
    /// standby is not streaming, or has heard nothing from the source for longer than its
    /// keepalive period, and the source was not read.
    pub lag_is_lower_bound: bool,
    pub replay_lag_seconds: Option<f64>,
    pub synced: Option<bool>,
    /// The reasons, from this one poll, that already rule out a switchover (the dashboard's
    /// words, one string each); empty when none. No blocker is not IN SYNC: that needs
    /// `--stable-for` of polls (`migtop wait --in-sync`).
    pub blockers: Vec<String>,
    /// What this one poll can say: `switching` (stage switch), `finished` (stage success),
    /// else `not_ready`; `in_sync` and `drained` need `--stable-for` of polls (`wait`).
    pub verdict: &'static str,
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
            transport_bytes: r.and_then(|r| r.not_received_bytes()),
            apply_bytes: r.and_then(|r| r.not_replayed_bytes()),
            source_lsn: None,
            true_lag_bytes: None,
            judged_lag_bytes: SampleData::of(t).judged_lag(),
            lag_is_lower_bound: SampleData::of(t).lag_is_lower_bound(),
            replay_lag_seconds: r.and_then(|r| r.replay_lag_seconds),
            synced: r.and_then(|r| r.synced),
            blockers: Vec::new(),
            verdict: VerdictKind::NotReady.key(),
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
                incomplete: s.incomplete(),
                warnings: s.warnings().to_vec(),
                tasks: s.tasks.iter().map(TaskJson::from).collect(),
            },
            Err(e) => InstanceJson {
                instance: instance.to_string(),
                request_id: e.request_id().map(str::to_string),
                error: Some(e.to_json()),
                incomplete: false,
                warnings: vec![],
                tasks: vec![],
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::{ProbeError, SourceSample};

    fn snapshot() -> InstanceSnapshot {
        let item = serde_json::json!({
            "TaskId": 7,
            "MigrateStage": "increment",
            "ReplicationState": "streaming",
            "ReplicationInfo": "{\"Status\":\"streaming\",\"ReceivedLsn\":\"0/3000148\",\"LatestEndLsn\":\"0/3000148\",\"ReplayLsn\":\"0/3000000\"}",
        });
        let precheck = serde_json::json!({"TaskId": 8, "MigrateStage": "precheck"});
        InstanceSnapshot {
            instance: "pgm-1".into(),
            request_id: Some("R".into()),
            tasks: vec![
                Task::from_value("pgm-1", &item).unwrap(),
                Task::from_value("pgm-1", &precheck).unwrap(),
            ],
            item_errors: vec![],
            ..Default::default()
        }
    }

    fn sample(lsn: &str) -> SourceSample {
        SourceSample {
            at: DateTime::from_timestamp(1_700_000_000, 0).unwrap(),
            lsn: lsn.parse().unwrap(),
            in_recovery: false,
            timeline: Some(1),
            server_version: Some(150004),
            round_trip_ms: 2,
            next_xid: None,
            xid_in_progress: None,
            wal_sender_timeout: None,
            simulated: false,
        }
    }

    fn doc(probe: Option<&ProbeReport>) -> serde_json::Value {
        let results = vec![("pgm-1".to_string(), Ok(snapshot()))];
        serde_json::to_value(StatusJson::build(&results, probe, &Blockers::new())).unwrap()
    }

    #[test]
    fn without_a_probe_the_fields_are_null() {
        let d = doc(None);
        assert!(d["source_probe"].is_null());
        let t = &d["instances"][0]["tasks"][0];
        assert!(t["source_lsn"].is_null() && t["true_lag_bytes"].is_null());
        assert_eq!(t["lag_bytes"], 0x148);
        assert_eq!(t["judged_lag_bytes"], 0x148);
        assert!(d["instances"][0]["tasks"][1]["judged_lag_bytes"].is_null());
    }

    /// One task whose standby is in `state`, with a lag of 0x148 bytes.
    fn one_task(state: &str) -> Vec<(String, Result<InstanceSnapshot, ApiError>)> {
        let item = serde_json::json!({
            "TaskId": 7,
            "MigrateStage": "increment",
            "ReplicationState": state,
            "ReplicationInfo": "{\"ReceivedLsn\":\"0/3000148\",\"LatestEndLsn\":\"0/3000148\",\"ReplayLsn\":\"0/3000000\"}",
        });
        vec![(
            "pgm-1".to_string(),
            Ok(InstanceSnapshot {
                instance: "pgm-1".into(),
                tasks: vec![Task::from_value("pgm-1", &item).unwrap()],
                ..Default::default()
            }),
        )]
    }

    #[test]
    fn lag_is_lower_bound_when_not_streaming_or_silent_without_a_source_reading() {
        let task = |results: Vec<(String, Result<InstanceSnapshot, ApiError>)>,
                    probe: Option<&ProbeReport>,
                    blockers: &Blockers| {
            let d = serde_json::to_value(StatusJson::build(&results, probe, blockers)).unwrap();
            d["instances"][0]["tasks"][0].clone()
        };
        let none = Blockers::new();
        assert_eq!(
            task(one_task("streaming"), None, &none)["lag_is_lower_bound"],
            false
        );
        assert_eq!(
            task(one_task("disconnect"), None, &none)["lag_is_lower_bound"],
            true
        );
        // Streaming, but the link is silent: the verdict's reason says so.
        let mut silent = Blockers::new();
        silent.insert(
            "pgm-1/7".into(),
            vec![Reason::NoMessage {
                silent: std::time::Duration::from_secs(45),
                keepalive: std::time::Duration::from_secs(30),
                from: readiness::KeepaliveSource::Assumed,
            }],
        );
        let t = task(one_task("streaming"), None, &silent);
        assert_eq!(t["lag_is_lower_bound"], true);
        assert_eq!(
            t["blockers"][0],
            "no message from the source for 45s (keepalive 30s, default assumed)"
        );
        // The source's position makes it exact.
        let report = ProbeReport {
            target: "src".into(),
            result: Ok(sample("0/3001000")),
            checklist: None,
        };
        let t = task(one_task("disconnect"), Some(&report), &none);
        assert_eq!(t["lag_is_lower_bound"], false);
        assert_eq!(t["judged_lag_bytes"], 0x1000);
        // A failed reading does not.
        let failed = ProbeReport {
            target: "src".into(),
            result: Err(ProbeError::Timeout {
                target: "src".into(),
                secs: 5,
            }),
            checklist: None,
        };
        assert_eq!(
            task(one_task("disconnect"), Some(&failed), &none)["lag_is_lower_bound"],
            true
        );
    }

    #[test]
    fn a_sample_gives_source_lsn_and_true_lag() {
        let report = ProbeReport {
            target: "postgres://u:********@src/db".into(),
            result: Ok(sample("0/3001000")),
            checklist: None,
        };
        let d = doc(Some(&report));
        let t = &d["instances"][0]["tasks"][0];
        assert_eq!(t["source_lsn"], "0/3001000");
        assert_eq!(t["true_lag_bytes"], 0x1000);
        // The judged lag is the larger figure; the reported one keeps its meaning.
        assert_eq!(t["lag_bytes"], 0x148);
        assert_eq!(t["judged_lag_bytes"], 0x1000);
        // A task without ReplicationInfo: the source position, but no lag.
        let p = &d["instances"][0]["tasks"][1];
        assert_eq!(p["source_lsn"], "0/3001000");
        assert!(p["true_lag_bytes"].is_null() && p["judged_lag_bytes"].is_null());
        let s = &d["source_probe"];
        assert_eq!(s["lsn"], "0/3001000");
        assert_eq!(s["timeline"], 1);
        assert_eq!(s["in_recovery"], false);
        assert_eq!(s["sampled_at"], "2023-11-14T22:13:20.000Z");
        assert!(s["error"].is_null());
    }

    #[test]
    fn a_source_behind_the_standby_gives_no_true_lag() {
        let report = ProbeReport {
            target: "src".into(),
            result: Ok(sample("0/2000000")),
            checklist: None,
        };
        let d = doc(Some(&report));
        let t = &d["instances"][0]["tasks"][0];
        assert!(t["true_lag_bytes"].is_null());
        // No true lag: the judged lag is the reported one.
        assert_eq!(t["judged_lag_bytes"], 0x148);
    }

    #[test]
    fn a_failed_probe_is_reported_and_leaves_the_tasks_alone() {
        let report = ProbeReport {
            target: "postgres://u:********@src/db".into(),
            result: Err(ProbeError::Connect {
                target: "postgres://u:********@src/db".into(),
                reason: "Connection refused".into(),
            }),
            checklist: None,
        };
        let d = doc(Some(&report));
        let t = &d["instances"][0]["tasks"][0];
        assert!(t["source_lsn"].is_null() && t["true_lag_bytes"].is_null());
        assert_eq!(t["lag_bytes"], 0x148);
        assert_eq!(t["judged_lag_bytes"], 0x148);
        let s = &d["source_probe"];
        assert!(s["lsn"].is_null());
        assert_eq!(
            s["error"],
            "cannot connect to the source postgres://u:********@src/db: Connection refused"
        );
    }

    #[test]
    fn source_checks_and_the_one_poll_verdict() {
        use crate::model::Stage;
        use crate::probe::checklist::{Finding, RelKind};
        let results = one_task("streaming");
        let checklist = crate::probe::Checklist::new(
            chrono::DateTime::from_timestamp(1_700_000_000, 0).unwrap(),
            vec!["postgres".into(), "shop".into()],
            vec![
                Finding::LogicalSlot {
                    name: "cdc".into(),
                    plugin: Some("pgoutput".into()),
                    database: Some("shop".into()),
                    active: true,
                },
                Finding::Unlogged {
                    database: "shop".into(),
                    schema: "public".into(),
                    name: "cart".into(),
                    relkind: RelKind::Table,
                    bytes: 1 << 20,
                    rows: None,
                },
            ],
        );
        let report = ProbeReport {
            target: "src".into(),
            result: Ok(sample("0/3001000")),
            checklist: Some(Box::new(checklist)),
        };
        let mut finished = Blockers::new();
        finished.insert("pgm-1/7".into(), vec![Reason::Stage(Some(Stage::Success))]);
        let d =
            serde_json::to_value(StatusJson::build(&results, Some(&report), &finished)).unwrap();
        assert_eq!(d["instances"][0]["tasks"][0]["verdict"], "finished");
        let c = &d["source_checks"];
        assert_eq!(c["read_at"], "2023-11-14T22:13:20.000Z");
        assert_eq!(c["databases"], serde_json::json!(["postgres", "shop"]));
        assert_eq!(
            c["counts"],
            serde_json::json!({"loses_data": 1, "breaks_consumers": 1, "blocks_drained": 0})
        );
        assert_eq!(
            c["loss"],
            "1 unlogged table (1.00 MiB) will be empty on RDS"
        );
        let first = &c["items"][0];
        assert_eq!(first["severity"], "loses_data");
        assert_eq!(first["kind"], "unlogged");
        assert_eq!(first["name"], "cart");
        assert_eq!(first["rows"], serde_json::Value::Null);
        assert_eq!(c["items"][1]["kind"], "logical_slot");
        assert_eq!(c["items"][1]["active"], true);
        // Without a probe there is no checklist, and a task in increment is not_ready.
        let d = serde_json::to_value(StatusJson::build(&results, None, &Blockers::new())).unwrap();
        assert_eq!(d["source_checks"], serde_json::Value::Null);
        assert_eq!(d["instances"][0]["tasks"][0]["verdict"], "not_ready");
    }
}
