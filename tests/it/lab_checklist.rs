//! The source checklist against a real PostgreSQL (`migtop lab --serve`, which makes unlogged
//! tables with rows in two databases and a logical slot): no output says "loses nothing",
//! `switchover --require drained` refuses naming both tables, `--accept-loss unlogged`
//! switches over, and the promoted standby has the tables empty, as the checklist said.
//!
//! Needs PostgreSQL server binaries (`.ci/install-postgres`); with `MIGTOP_SKIP_PG=1` the
//! test is skipped with a printed reason instead of failing.

use std::process::Stdio;
use std::time::Duration;

use migtop::lab::fixtures::{LOGICAL_SLOT, ROWS, SECOND_DB, SECOND_TABLE, UNLOGGED_TABLE};
use migtop::lab::source::LAB_INSTANCE;
use tokio::io::AsyncBufReadExt;

use crate::lab_cmd::{migtop, reachable_tempdir};
use crate::support::machine;
use crate::support::pg::*;

/// Runs the binary to its end; (exit code, stdout, stderr).
async fn run(tmp: &std::path::Path, args: &[&str]) -> (Option<i32>, String, String) {
    let out = tokio::time::timeout(Duration::from_secs(240), migtop(tmp).args(args).output())
        .await
        .unwrap_or_else(|_| panic!("migtop {args:?} did not end in time"))
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unlogged_tables_in_two_databases_refuse_a_drained_switchover() {
    let _machine = machine::heavy().await;
    if !have_pg() {
        return;
    }
    let tmp = reachable_tempdir();
    let mut child = migtop(tmp.path())
        .args(["lab", "--serve", "--speed", "8", "--no-faults"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut out = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let lines: Vec<String> = tokio::time::timeout(Duration::from_secs(90), async {
        let mut v = Vec::new();
        while v.len() < 4 {
            match out.next_line().await.unwrap() {
                Some(l) => v.push(l),
                None => break,
            }
        }
        v
    })
    .await
    .expect("migtop lab --serve printed its lines in time");
    assert!(lines.len() >= 4, "stdout: {lines:?}");
    let endpoint = lines[0].strip_prefix("listening on ").unwrap().to_string();
    let primary = lines[2].strip_prefix("primary: ").unwrap().to_string();
    let standby = lines[3].strip_prefix("standby: ").unwrap().to_string();
    let source = format!("{primary}?sslmode=disable");
    let api = [
        "--endpoint",
        endpoint.as_str(),
        "-i",
        LAB_INSTANCE,
        "--source-dsn",
        source.as_str(),
    ];
    let mut everything = String::new();

    // status: the checklist in JSON, both tables named, the slot too.
    let (code, json, err) = run(tmp.path(), &[&["status", "-o", "json"][..], &api].concat()).await;
    assert_eq!(code, Some(0), "{err}");
    let doc: serde_json::Value = serde_json::from_str(&json).unwrap();
    let checks = &doc["source_checks"];
    assert_eq!(checks["counts"]["loses_data"], 2, "{checks:#}");
    assert!(checks["counts"]["breaks_consumers"].as_u64() >= Some(1));
    let texts: Vec<&str> = checks["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["text"].as_str().unwrap())
        .collect();
    let first = format!("public.{UNLOGGED_TABLE} in postgres");
    let second = format!("public.{SECOND_TABLE} in {SECOND_DB}");
    assert!(texts.iter().any(|t| t.contains(&first)), "{texts:#?}");
    assert!(texts.iter().any(|t| t.contains(&second)), "{texts:#?}");
    assert!(texts.iter().any(|t| t.contains(LOGICAL_SLOT)), "{texts:#?}");
    let databases = checks["databases"].as_array().unwrap();
    assert!(databases.iter().any(|d| d == SECOND_DB), "{checks:#}");
    everything.push_str(&json);
    let (_, table, _) = run(tmp.path(), &[&["status"][..], &api].concat()).await;
    assert!(table.contains("source checklist: 2 loses data"), "{table}");
    everything.push_str(&table);

    // wait --drained: DRAINED, in words that say what is lost.
    let timing = ["--interval", "1s", "--stable-for", "3s"];
    let (code, _, err) = run(
        tmp.path(),
        &[
            &["wait", "--drained", "--timeout", "180s"][..],
            &api,
            &timing,
        ]
        .concat(),
    )
    .await;
    assert_eq!(code, Some(0), "{err}");
    assert!(
        err.contains("DRAINED · 2 unlogged tables ("),
        "the wait lines name the loss: {err}"
    );
    everything.push_str(&err);

    // switchover --require drained: refused, naming each table; nothing sent.
    let (code, _, err) = run(
        tmp.path(),
        &[
            &["switchover", "--require", "drained", "--yes"][..],
            &api,
            &timing,
        ]
        .concat(),
    )
    .await;
    assert_eq!(code, Some(5), "{err}");
    assert!(err.contains(&first) && err.contains(&second), "{err}");
    assert!(err.contains("--accept-loss unlogged"), "{err}");
    assert!(
        !err.contains("calling ActivateMigrationTargetInstance"),
        "{err}"
    );
    everything.push_str(&err);
    assert!(
        !everything.contains("loses nothing"),
        "no output may say it: {everything}"
    );

    // Accepted: it switches over, and the promoted standby has both tables, empty.
    let (code, _, err) = run(
        tmp.path(),
        &[
            &[
                "switchover",
                "--require",
                "drained",
                "--yes",
                "--accept-loss",
                "unlogged",
            ][..],
            &api,
            &timing,
        ]
        .concat(),
    )
    .await;
    assert_eq!(code, Some(0), "{err}");
    assert!(err.contains("loss accepted"), "{err}");
    assert!(err.contains("reached success"), "{err}");
    let pg = connect(&primary).await;
    let on_source: i64 = pg
        .query_one(&format!("SELECT count(*) FROM {UNLOGGED_TABLE}"), &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(on_source, ROWS);
    let rds = connect(&standby).await;
    let on_rds: i64 = rds
        .query_one(&format!("SELECT count(*) FROM {UNLOGGED_TABLE}"), &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(
        on_rds, 0,
        "physical replication does not carry unlogged rows"
    );
    drop((pg, rds));

    // SAFETY: signalling our own child.
    unsafe {
        libc::kill(child.id().unwrap() as i32, libc::SIGTERM);
    }
    let status = tokio::time::timeout(Duration::from_secs(30), child.wait())
        .await
        .expect("migtop lab exits after SIGTERM")
        .unwrap();
    assert_eq!(status.code(), Some(0));
}

/// The checklist read by the probe itself on a real primary: every kind of item, and a role
/// without the privileges sees items saying what it cannot read, never a clean list.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_probe_reads_every_item_and_says_what_it_cannot_read() {
    use migtop::lab::{Fixtures, Lab, LabOptions};
    use migtop::probe::checklist::{Finding, Severity};
    use migtop::probe::{SourceDsn, SourceProbe};

    let _machine = machine::heavy().await;
    if !have_pg() {
        return;
    }
    let lab = Lab::start(LabOptions {
        fixtures: Fixtures {
            unlogged: true,
            logical_slot: true,
            prepared: true,
        },
        ..LabOptions::default()
    })
    .await
    .unwrap_or_else(|e| panic!("the lab did not start: {e:#}"));
    let pg = connect(&lab.primary_dsn()).await;
    // A session that wrote and stays open: it holds an xid.
    let writer = connect(&lab.primary_dsn()).await;
    for sql in [
        "SET application_name = 'orders-api'",
        "CREATE TABLE w (i int)",
        "BEGIN; INSERT INTO w VALUES (1)",
    ] {
        writer.batch_execute(sql).await.unwrap();
    }
    let probe = |user: &str| {
        let dsn = lab.primary_dsn().replace("postgres@", &format!("{user}@"));
        SourceProbe::new(
            SourceDsn::new(format!("{dsn}?sslmode=disable")),
            Duration::from_secs(10),
        )
        .unwrap()
    };

    let c = probe("postgres").checklist().await;
    eprintln!("{c:#?}");
    assert!(c.databases.iter().any(|d| d == SECOND_DB), "{c:#?}");
    let texts: Vec<String> = c.items.iter().map(|i| i.to_string()).collect();
    let has = |s: &str| texts.iter().any(|t| t.contains(s));
    assert!(
        has(&format!("public.{UNLOGGED_TABLE} in postgres")),
        "{texts:#?}"
    );
    assert!(
        has(&format!("public.{SECOND_TABLE} in {SECOND_DB}")),
        "{texts:#?}"
    );
    assert!(
        has(&format!(
            "~{} rows",
            migtop::probe::checklist::count(ROWS as u64)
        )),
        "{texts:#?}"
    );
    assert!(
        has(&format!(
            "logical slot {LOGICAL_SLOT} (test_decoding, inactive"
        )),
        "{texts:#?}"
    );
    assert!(
        has("prepared transaction migtop_lab_prepared in postgres"),
        "{texts:#?}"
    );
    assert!(
        has("(orders-api) from 127.0.0.1 holds an xid"),
        "{texts:#?}"
    );
    assert!(has("INSERT INTO w VALUES (1)"), "{texts:#?}");
    assert_eq!(c.count(Severity::LosesData), 2, "{texts:#?}");

    // A role that may not connect to `shop` nor see others' sessions.
    pg.batch_execute(&format!(
        "CREATE ROLE monitor LOGIN; REVOKE CONNECT ON DATABASE {SECOND_DB} FROM PUBLIC"
    ))
    .await
    .unwrap();
    let c = probe("monitor").checklist().await;
    let texts: Vec<String> = c.items.iter().map(|i| i.to_string()).collect();
    let unreadable: Vec<&Finding> = c
        .items
        .iter()
        .filter(|i| matches!(i, Finding::Unreadable { .. }))
        .collect();
    assert!(
        unreadable
            .iter()
            .any(|i| i.severity() == Severity::LosesData
                && i.to_string()
                    .starts_with(&format!("cannot read database {SECOND_DB}: "))
                && i.to_string().contains("permission denied")),
        "{texts:#?}"
    );
    assert!(
        unreadable
            .iter()
            .any(|i| i.severity() == Severity::BlocksDrained
                && i.to_string().contains("sessions of other roles")),
        "{texts:#?}"
    );
    assert!(c.loses_data(), "an unreadable database is no clean bill");
    writer.batch_execute("ROLLBACK").await.unwrap();
    lab.drop_fixtures().await.unwrap();
    let c = probe("postgres").checklist().await;
    assert_eq!(c.count(Severity::LosesData), 0, "{c:#?}");
    assert_eq!(c.count(Severity::BlocksDrained), 0, "{c:#?}");
}
