//! The TaskSource hook (what `migtop lab` plugs into): a hand-made source served by the same
//! server, with auth, filters, activation rules and rendering shared.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{FixedOffset, Utc};
use migtop::aliyun::TaskFilter;
use migtop::model::{Lsn, ReplicationState, Stage};
use migtop::sim::{Password, ReplicationView, SimError, SourceView, TaskSource, TaskView};

use crate::support::sim::*;

/// One instance, one task, whose stage the test controls; activation is counted.
struct Fixed {
    stage: std::sync::Mutex<Stage>,
    activations: AtomicUsize,
}

#[async_trait]
impl TaskSource for Fixed {
    async fn instances(&self) -> Vec<String> {
        vec!["pgm-lab".into()]
    }

    async fn tasks(&self, instance: &str) -> Option<Vec<TaskView>> {
        if instance != "pgm-lab" {
            return None;
        }
        let tz = FixedOffset::east_opt(8 * 3600).unwrap();
        let now = Utc::now();
        Some(vec![TaskView {
            task_id: 77,
            task_name: "lab".into(),
            target_instance: "pgm-lab".into(),
            stage: self.stage.lock().unwrap().clone(),
            replication_state: ReplicationState::Streaming,
            replication: Some(ReplicationView {
                status: Some("streaming".into()),
                receive_start_lsn: Some(Lsn(0x3000000)),
                receive_start_tli: Some(1),
                received_lsn: Some(Lsn(0x3000148)),
                received_tli: Some(1),
                latest_end_lsn: Some(Lsn(0x3000148)),
                latest_end_time: Some(now.with_timezone(&tz)),
                replay_lsn: Some(Lsn(0x3000148)),
                replay_lag_seconds: Some(0.0),
                synced: true,
                is_slave: true,
                ..Default::default()
            }),
            detail: vec!["[Synchronize data]".into()],
            source: SourceView {
                category: "ecsonvpc".into(),
                ip: "127.0.0.1".into(),
                port: 5432,
                account: "postgres".into(),
                password: Password::new("lab-pw"),
            },
            created: now,
            modified: now,
            switch_time: None,
        }])
    }

    async fn activate(&self, _instance: &str, task_id: i64) -> Result<(), SimError> {
        assert_eq!(task_id, 77);
        self.activations.fetch_add(1, Ordering::SeqCst);
        *self.stage.lock().unwrap() = Stage::Switch;
        Ok(())
    }
}

#[tokio::test]
async fn a_custom_source_is_served_with_the_shared_rules() {
    let source = Arc::new(Fixed {
        stage: std::sync::Mutex::new(Stage::Startup),
        activations: AtomicUsize::new(0),
    });
    let handle =
        migtop::sim::start_with_source("127.0.0.1:0".parse().unwrap(), creds(), source.clone())
            .await
            .unwrap();
    assert_eq!(handle.instances, ["pgm-lab"]);
    let c = client(&handle.endpoint(), Duration::from_secs(5), 1);
    let snap = c
        .describe_tasks("pgm-lab", &TaskFilter::default())
        .await
        .unwrap();
    let t = &snap.tasks[0];
    assert_eq!(t.task_id, Some(77));
    assert_eq!(t.replication.as_ref().unwrap().lag_bytes(), Some(0));
    let none = c
        .describe_tasks(
            "pgm-lab",
            &TaskFilter {
                task_id: Some(1),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert!(none.tasks.is_empty());
    assert_eq!(
        c.describe_tasks("pgm-other", &TaskFilter::default())
            .await
            .unwrap_err()
            .code(),
        "InvalidDBInstanceName.NotFound"
    );
    // Not in increment: the server refuses without asking the source.
    let e = c.activate_migration_target("pgm-lab").await.unwrap_err();
    assert_eq!(e.code(), "InvalidMigrateStatus");
    assert_eq!(source.activations.load(Ordering::SeqCst), 0);
    *source.stage.lock().unwrap() = Stage::Increment;
    let r = c.activate_migration_target("pgm-lab").await.unwrap();
    assert_eq!(r["TaskId"], 77);
    assert_eq!(source.activations.load(Ordering::SeqCst), 1);
    // CreateCloudMigrationTask is not something this source does.
    let mut p = std::collections::BTreeMap::new();
    for (k, v) in [
        ("DBInstanceName", "pgm-lab"),
        ("SourceIpAddress", "127.0.0.1"),
        ("SourcePort", "5432"),
        ("SourceAccount", "a"),
        ("SourcePassword", "b"),
        ("SourceCategory", "ecsOnVpc"),
        ("TaskName", "n"),
    ] {
        p.insert(k.to_string(), v.to_string());
    }
    assert_eq!(
        c.call("CreateCloudMigrationTask", &p)
            .await
            .unwrap_err()
            .code(),
        "OperationDenied"
    );
    handle.shutdown().await;
}
