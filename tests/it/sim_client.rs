//! migtop's own client against the simulator: every task, pagination and TotalSize, filters,
//! the activation rules, task creation and both response shapes.

use std::collections::BTreeMap;
use std::time::Duration;

use migtop::aliyun::TaskFilter;
use migtop::model::{ReplicationState, Stage};
use migtop::sim::Scenario;
use serde_json::json;

use crate::support::rpc::*;
use crate::support::sim::*;

const T: Duration = Duration::from_secs(5);

fn ids() -> Vec<String> {
    Scenario::builtin().instance_ids()
}

#[tokio::test]
async fn every_default_task_reads_and_decodes() {
    let s = sim().await;
    let c = client(&s.endpoint(), T, 1);
    let mut names = vec![];
    for i in ids() {
        let snap = c.describe_tasks(&i, &TaskFilter::default()).await.unwrap();
        assert!(snap.item_errors.is_empty(), "{:?}", snap.item_errors);
        for t in &snap.tasks {
            assert!(t.decode_warnings.is_empty(), "{:?}", t.decode_warnings);
            assert_eq!(t.target_instance_name.as_deref(), Some(i.as_str()));
            names.push(t.task_name.clone().unwrap());
        }
    }
    names.sort();
    assert_eq!(
        names,
        [
            "bi-migrate",
            "crm-migrate",
            "crm-precheck",
            "erp-migrate",
            "erp-precheck-1",
            "hr-migrate",
            "log-migrate"
        ]
    );
    let crm = c
        .describe_tasks("pgm-bp1demo00crm02", &TaskFilter::default())
        .await
        .unwrap();
    let t = crm
        .tasks
        .iter()
        .find(|t| t.task_name.as_deref() == Some("crm-migrate"))
        .unwrap();
    assert_eq!(t.stage, Some(Stage::Increment));
    assert_eq!(t.replication_state, Some(ReplicationState::Streaming));
    assert_eq!(t.precheck.counts.warning, 1);
    let r = t.replication.as_ref().unwrap();
    assert_eq!(r.lag_bytes(), Some(40 << 20));
    assert_eq!(
        r.conninfo
            .as_deref()
            .map(|c| c.contains("password=********")),
        Some(true)
    );
    // Prechecks read through the other operation.
    let pre = c
        .describe_prechecks("pgm-bp1demo00erp01", &TaskFilter::default())
        .await
        .unwrap();
    assert_eq!(pre.tasks.len(), 2);
    assert!(
        pre.tasks
            .iter()
            .all(|t| t.stage.is_none() && t.replication.is_none())
    );
    assert_eq!(pre.tasks[0].precheck.counts.fail, 1);
}

#[tokio::test]
async fn time_moves_stages_and_lsns_consistently() {
    let s = sim().await;
    let c = client(&s.endpoint(), T, 1);
    let read = |name: &'static str| {
        let c = c.clone();
        async move {
            let i = match name {
                "bi-migrate" => "pgm-bp1demo00bi004",
                _ => "pgm-bp1demo00erp01",
            };
            let snap = c.describe_tasks(i, &TaskFilter::default()).await.unwrap();
            snap.tasks
                .into_iter()
                .find(|t| t.task_name.as_deref() == Some(name))
                .unwrap()
        }
    };
    let before = read("erp-migrate").await;
    let bi_before = read("bi-migrate").await;
    s.advance(600.0);
    let after = read("erp-migrate").await;
    let bi_after = read("bi-migrate").await;
    let (rb, ra) = (before.replication.unwrap(), after.replication.unwrap());
    assert!(ra.replay_lsn > rb.replay_lsn);
    assert!(ra.latest_end_lsn > rb.latest_end_lsn);
    assert!(ra.lag_bytes() < rb.lag_bytes());
    assert!(after.modified >= before.modified);
    assert_eq!(bi_before.stage, Some(Stage::Basebackup));
    assert_eq!(bi_after.stage, Some(Stage::Increment));
    assert!(bi_after.precheck.lines.len() > bi_before.precheck.lines.len());
}

/// A scenario with one instance holding `n` tasks.
fn many_tasks(n: i64) -> Scenario {
    let tasks: Vec<_> = (1..=n)
        .map(|i| {
            json!({
                "id": 1000 + i,
                "name": format!("t{i:03}"),
                "source": {"ip": format!("10.0.{}.{}", i / 100, i % 100), "port": 5432 + (i % 3), "password": "pw"},
                "precheck_only": true,
                "in_stage_for": "1h"
            })
        })
        .collect();
    let doc = json!({"instances": [{"id": "pgm-many", "tasks": tasks}, {"id": "pgm-empty"}]});
    Scenario::from_json(&doc.to_string(), "test").unwrap()
}

#[tokio::test]
async fn pagination_reports_total_size_and_the_client_reads_every_page() {
    let s = sim_with(many_tasks(250), vec![], creds()).await;
    let c = client(&s.endpoint(), T, 1);
    let snap = c
        .describe_tasks("pgm-many", &TaskFilter::default())
        .await
        .unwrap();
    assert_eq!(snap.tasks.len(), 250);
    let mut ids: Vec<i64> = snap.tasks.iter().map(|t| t.task_id.unwrap()).collect();
    ids.dedup();
    assert_eq!(ids.len(), 250);
    assert!(
        c.describe_tasks("pgm-empty", &TaskFilter::default())
            .await
            .unwrap()
            .tasks
            .is_empty()
    );
    let page = |n: &'static str, size: &'static str| {
        let ep = s.endpoint();
        async move {
            Describe::page("pgm-many")
                .with("PageNumber", n)
                .with("PageSize", size)
                .call(&ep)
                .await
        }
    };
    let (status, body) = page("3", "7").await;
    assert_eq!(status, 200);
    assert_eq!(
        (
            body["TotalSize"].clone(),
            body["PageNumber"].clone(),
            body["PageSize"].clone()
        ),
        (json!(250), json!(3), json!(7))
    );
    let items = body["Items"].as_array().unwrap();
    assert_eq!(items.len(), 7);
    assert_eq!(items[0]["TaskName"], "t015");
    let (_, last) = page("36", "7").await;
    assert_eq!(last["Items"].as_array().unwrap().len(), 5);
    let (_, beyond) = page("99", "7").await;
    assert_eq!(beyond["Items"].as_array().unwrap().len(), 0);
    assert_eq!(beyond["TotalSize"], 250);
    let (_, big) = page("1", "1000").await;
    assert_eq!(big["PageSize"], 100);
    assert_eq!(big["Items"].as_array().unwrap().len(), 100);
    for (n, size) in [("0", "10"), ("1", "0"), ("x", "10"), ("1", "-3")] {
        let (status, body) = page(n, size).await;
        assert_eq!(
            (status, error_code(&body).as_str()),
            (400, "InvalidParameter"),
            "{n}/{size}"
        );
    }
}

#[tokio::test]
async fn filters_narrow_the_list_and_total_size() {
    let s = sim_with(many_tasks(30), vec![], creds()).await;
    let c = client(&s.endpoint(), T, 1);
    let read = |f: TaskFilter| {
        let c = c.clone();
        async move { c.describe_tasks("pgm-many", &f).await.unwrap().tasks }
    };
    let by_id = read(TaskFilter {
        task_id: Some(1007),
        ..Default::default()
    })
    .await;
    assert_eq!(by_id.len(), 1);
    assert_eq!(by_id[0].task_name.as_deref(), Some("t007"));
    let by_name = read(TaskFilter {
        task_name: Some("t012".into()),
        ..Default::default()
    })
    .await;
    assert_eq!(by_name[0].task_id, Some(1012));
    let by_ip = read(TaskFilter {
        source_ip: Some("10.0.0.21".into()),
        ..Default::default()
    })
    .await;
    assert_eq!(by_ip.len(), 1);
    let by_port = read(TaskFilter {
        source_port: Some(5433),
        ..Default::default()
    })
    .await;
    assert_eq!(by_port.len(), 10);
    let both = read(TaskFilter {
        source_port: Some(5433),
        task_name: Some("t004".into()),
        ..Default::default()
    })
    .await;
    assert_eq!(both.len(), 1);
    let none = read(TaskFilter {
        task_name: Some("nope".into()),
        ..Default::default()
    })
    .await;
    assert!(none.is_empty());
    let (status, body) = Describe::page("pgm-many")
        .with("PageSize", "5")
        .with("SourcePort", "5434")
        .call(&s.endpoint())
        .await;
    assert_eq!(status, 200);
    assert_eq!(body["TotalSize"], 10);
    let (status, body) = Describe::page("pgm-many")
        .with("PageSize", "5")
        .with("TaskId", "abc")
        .call(&s.endpoint())
        .await;
    assert_eq!(
        (status, error_code(&body).as_str()),
        (400, "InvalidParameter")
    );
}

#[tokio::test]
async fn activation_only_in_increment_then_switch_then_success() {
    let s = sim().await;
    let c = client(&s.endpoint(), T, 1);
    let code =
        |r: Result<serde_json::Value, migtop::aliyun::ApiError>| r.unwrap_err().code().to_string();
    assert_eq!(
        code(c.activate_migration_target("pgm-bp1demo00bi004").await),
        "InvalidMigrateStatus"
    );
    assert_eq!(
        code(c.activate_migration_target("pgm-bp1demo00hr005").await),
        "InvalidMigrateTask"
    );
    assert_eq!(
        code(c.activate_migration_target("pgm-nope").await),
        "InvalidDBInstanceName.NotFound"
    );
    // Without ForceSwitch, only a task with no lag may switch.
    s.advance(5.0);
    let unforced = |inst: &'static str| {
        let ep = s.endpoint();
        async move {
            call_v1(
                &ep,
                "ActivateMigrationTargetInstance",
                &[
                    ("DBInstanceName", inst),
                    ("SwitchTimeMode", "0"),
                    ("ForceSwitch", "0"),
                ],
            )
            .await
        }
    };
    let (status, body) = unforced("pgm-bp1demo00erp01").await;
    assert_eq!(
        (status, error_code(&body).as_str()),
        (400, "InvalidMigrateStatus")
    );
    s.advance(60.0);
    let (status, body) = unforced("pgm-bp1demo00crm02").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["TaskId"], 440437202);
    assert_eq!(body["SourceIpAddress"], "10.20.1.15");
    assert_eq!(body["SourcePort"], 5433);
    let read = || {
        let c = c.clone();
        async move {
            let snap = c
                .describe_tasks("pgm-bp1demo00crm02", &TaskFilter::default())
                .await
                .unwrap();
            snap.tasks
                .into_iter()
                .find(|t| t.task_id == Some(440437202))
                .unwrap()
        }
    };
    let t = read().await;
    assert_eq!(t.stage, Some(Stage::Switch));
    assert!(t.switch_time.is_some());
    assert_eq!(
        code(c.activate_migration_target("pgm-bp1demo00crm02").await),
        "InvalidMigrateStatus"
    );
    s.advance(10.0);
    let t = read().await;
    assert_eq!(t.stage, Some(Stage::Success));
    assert_eq!(t.replication_state, Some(ReplicationState::Finish));
    assert_eq!(t.replication.unwrap().is_slave, Some(false));
    // ForceSwitch=1 (what migtop sends) switches a lagging task.
    let r = c
        .activate_migration_target("pgm-bp1demo00erp01")
        .await
        .unwrap();
    assert_eq!(r["TaskId"], 440437102);
    let (status, body) = call_v1(
        &s.endpoint(),
        "ActivateMigrationTargetInstance",
        &[
            ("DBInstanceName", "pgm-bp1demo00log03"),
            ("SwitchTimeMode", "1"),
        ],
    )
    .await;
    assert_eq!(
        (status, error_code(&body).as_str()),
        (400, "InvalidParameter")
    );
}

#[tokio::test]
async fn created_tasks_start_at_precheck() {
    let s = sim().await;
    let c = client(&s.endpoint(), T, 1);
    let mut p = BTreeMap::new();
    for (k, v) in [
        ("DBInstanceName", "pgm-bp1demo00hr005"),
        ("SourceIpAddress", "172.16.1.2"),
        ("SourcePort", "5432"),
        ("SourceAccount", "migratetest"),
        ("SourcePassword", "s3cret-pw"),
        ("SourceCategory", "ecsOnVpc"),
        ("TaskName", "hr-again"),
    ] {
        p.insert(k.to_string(), v.to_string());
    }
    let r = c.call("CreateCloudMigrationTask", &p).await.unwrap();
    let id = r["TaskId"].as_i64().unwrap();
    assert_eq!(r["TaskName"], "hr-again");
    let snap = c
        .describe_tasks(
            "pgm-bp1demo00hr005",
            &TaskFilter {
                task_id: Some(id),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(snap.tasks[0].stage, Some(Stage::Precheck));
    s.advance(300.0);
    let snap = c
        .describe_tasks(
            "pgm-bp1demo00hr005",
            &TaskFilter {
                task_id: Some(id),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(snap.tasks[0].stage, Some(Stage::Increment));
    p.remove("SourcePassword");
    let e = c.call("CreateCloudMigrationTask", &p).await.unwrap_err();
    assert_eq!(e.code(), "MissingParameter");
    let mut p2 = p.clone();
    p2.insert("SourcePassword".into(), "x".into());
    p2.insert("DBInstanceName".into(), "pgm-nope".into());
    assert_eq!(
        c.call("CreateCloudMigrationTask", &p2)
            .await
            .unwrap_err()
            .code(),
        "InvalidDBInstanceName.NotFound"
    );
    p2.insert("DBInstanceName".into(), "pgm-bp1demo00hr005".into());
    p2.insert("SourceCategory".into(), "moon".into());
    assert_eq!(
        c.call("CreateCloudMigrationTask", &p2)
            .await
            .unwrap_err()
            .code(),
        "InvalidParameter"
    );
}

#[tokio::test]
async fn plain_shape_decodes_to_the_same_tasks() {
    let sample = sim().await;
    let mut scenario = Scenario::builtin();
    scenario.shape = migtop::sim::Shape::plain();
    let plain = sim_with(scenario, vec![], creds()).await;
    let (_, raw) = Describe::page("pgm-bp1demo00log03")
        .call(&plain.endpoint())
        .await;
    assert!(raw["Items"].is_object(), "one item is an object: {raw}");
    assert!(raw["Items"]["Detail"].as_str().unwrap().contains('\n'));
    assert!(
        raw["Items"]["ReplicationInfo"]
            .as_str()
            .unwrap()
            .starts_with("{\"Status\"")
    );
    assert_eq!(raw["Items"]["TaskId"], "440437301");
    let (_, raw) = Describe::page("pgm-bp1demo00log03")
        .call(&sample.endpoint())
        .await;
    assert!(raw["Items"][0]["Detail"].as_str().unwrap().contains("\\n"));
    assert!(
        raw["Items"][0]["ReplicationInfo"]
            .as_str()
            .unwrap()
            .starts_with("{\\\"Status")
    );
    assert!(
        raw["Items"][0]["SourcePassword"].is_string(),
        "not numeric: kept a string"
    );
    for i in ids() {
        let a = client(&sample.endpoint(), T, 1)
            .describe_tasks(&i, &TaskFilter::default())
            .await
            .unwrap();
        let b = client(&plain.endpoint(), T, 1)
            .describe_tasks(&i, &TaskFilter::default())
            .await
            .unwrap();
        assert_eq!(a.tasks.len(), b.tasks.len());
        for (x, y) in a.tasks.iter().zip(&b.tasks) {
            assert_eq!(x.replication, y.replication, "{i}");
            assert_eq!(x.precheck, y.precheck, "{i}");
            assert_eq!((x.task_id, &x.stage), (y.task_id, &y.stage));
        }
    }
}

#[tokio::test]
async fn stopping_the_server_frees_the_port() {
    let s = sim().await;
    let addr = s.handle.addr;
    s.handle.shutdown().await;
    // Nothing answers any more.
    let e = client(&format!("http://{addr}"), Duration::from_secs(2), 1)
        .describe_tasks("pgm-bp1demo00erp01", &TaskFilter::default())
        .await
        .unwrap_err();
    assert_eq!(e.code(), "NetworkError");
    // The public start() with the demo pair works too.
    let h = migtop::sim::start(migtop::sim::SimOptions {
        listen: "127.0.0.1:0".parse().unwrap(),
        scenario: None,
        speed: 1.0,
        seed: 1,
        credentials: None,
    })
    .await
    .unwrap();
    assert_eq!(h.instances.len(), 5);
    let c = client_with(&h.endpoint(), T, 1, h.credentials.clone());
    assert_eq!(
        c.describe_tasks(&h.instances[0], &TaskFilter::default())
            .await
            .unwrap()
            .tasks
            .len(),
        2
    );
    drop(h);
    let bad = migtop::sim::start(migtop::sim::SimOptions {
        listen: "127.0.0.1:0".parse().unwrap(),
        scenario: Some("/nonexistent/scenario.json".into()),
        speed: 1.0,
        seed: 1,
        credentials: None,
    })
    .await;
    let msg = bad.err().unwrap().to_string();
    assert!(msg.contains("/nonexistent/scenario.json"), "{msg}");
}
