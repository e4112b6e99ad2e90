//! `--primary`: physical standbys read from their primary, without a cloud API, against a
//! real PostgreSQL primary and standby (the lab's).

use std::time::Duration;

use migtop::model::Lsn;

use crate::lab_pg::{lab, migtop, write_wal};
use crate::support::machine;
use crate::support::pg::*;

fn lsn(v: &serde_json::Value) -> Lsn {
    v.as_str()
        .unwrap_or_else(|| panic!("not an LSN: {v}"))
        .parse()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn primary_mode_lag_is_pg_wal_lsn_diff_on_the_primary() {
    let _machine = machine::heavy().await;
    let Some(lab) = lab().await else { return };
    let pg = connect(&lab.primary_dsn()).await;
    lab.pause_replay().await.unwrap();
    write_wal(&pg, 20_000).await;
    // Wait until the standby has flushed the writes (replay stays paused).
    let current = current_lsn(&pg).await;
    eventually(
        "the standby to flush the writes",
        Duration::from_secs(30),
        || async {
            let row = pg
                .query_opt("SELECT flush_lsn::text FROM pg_stat_replication", &[])
                .await
                .unwrap()?;
            let flush: Option<String> = row.get(0);
            flush
                .and_then(|f| f.parse::<Lsn>().ok())
                .filter(|f| *f >= current)
        },
    )
    .await;

    let primary = format!("{}?sslmode=disable", lab.primary_dsn());
    let (code, out, err) = migtop(
        &[
            "status",
            "--primary",
            &primary,
            "--max-lag",
            "1MiB",
            "-o",
            "json",
        ],
        &[],
    )
    .await;
    assert_eq!(code, 0, "stderr: {err}\nstdout: {out}");
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    let inst = &doc["instances"][0];
    assert!(
        inst["instance"].as_str().unwrap().contains(":"),
        "named host:port/db: {inst}"
    );
    let tasks = inst["tasks"].as_array().unwrap();
    assert_eq!(tasks.len(), 1, "one walsender, one task: {inst}");
    let t = &tasks[0];
    eprintln!("status --primary: {t}");
    let (src, replay) = (lsn(&t["source_lsn"]), lsn(&t["lsn"]["replay"]));
    // The replay position is pg_stat_replication's own (replay is paused: it holds still).
    let row_replay: String = pg
        .query_one("SELECT replay_lsn::text FROM pg_stat_replication", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(replay, row_replay.parse::<Lsn>().unwrap());
    assert_eq!(
        t["true_lag_bytes"].as_i64().unwrap(),
        pg_diff(&pg, src, replay).await,
        "the true lag is pg_wal_lsn_diff(current, replay_lsn) on the primary"
    );
    assert!(t["true_lag_bytes"].as_i64().unwrap() > 3_000_000, "{t}");
    assert_eq!(t["stage"], "increment", "{t}");
    assert_eq!(t["replication_state"], "streaming", "{t}");
    // The replayed position trails: not ready, and the lag is why.
    let blockers = t["blockers"].to_string();
    assert!(blockers.contains("lag"), "{blockers}");
    // What was sent and not yet replayed, as the primary counts it.
    let (latest, received) = (lsn(&t["lsn"]["latest_end"]), lsn(&t["lsn"]["received"]));
    assert_eq!(
        t["lag_bytes"].as_i64().unwrap(),
        pg_diff_greatest(&pg, latest, received, replay).await
    );
    lab.resume_replay().await.unwrap();
    lab.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paused_replay_is_named_and_the_primary_is_the_standby_s_source() {
    let _machine = machine::heavy().await;
    let Some(lab) = lab().await else { return };
    let pg = connect(&lab.primary_dsn()).await;
    let standby = connect(&lab.standby_dsn()).await;
    lab.pause_replay().await.unwrap();
    write_wal(&pg, 20_000).await;
    let current = current_lsn(&pg).await;
    eventually(
        "the standby to receive the writes",
        Duration::from_secs(30),
        || async {
            let got: Option<String> = standby
                .query_one("SELECT pg_last_wal_receive_lsn()::text", &[])
                .await
                .unwrap()
                .get(0);
            got.and_then(|g| g.parse::<Lsn>().ok())
                .filter(|g| *g >= current)
        },
    )
    .await;

    let primary = format!("{}?sslmode=disable", lab.primary_dsn());
    let standby_dsn = format!("{}?sslmode=disable", lab.standby_dsn());
    let (code, out, err) = migtop(
        &[
            "status",
            "--primary",
            &primary,
            "--standby",
            &standby_dsn,
            "-o",
            "json",
        ],
        &[],
    )
    .await;
    assert_eq!(code, 0, "stderr: {err}\nstdout: {out}");
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    let instances = doc["instances"].as_array().unwrap();
    assert_eq!(instances.len(), 2, "{doc}");
    // The standby's own task: its replay position is the standby's, its source the primary.
    let t = &instances[1]["tasks"][0];
    eprintln!("status --standby: {t}");
    let replayed: String = standby
        .query_one("SELECT pg_last_wal_replay_lsn()::text", &[])
        .await
        .unwrap()
        .get(0);
    let (src, replay) = (lsn(&t["source_lsn"]), lsn(&t["lsn"]["replay"]));
    assert_eq!(replay, replayed.parse::<Lsn>().unwrap());
    assert_eq!(
        t["true_lag_bytes"].as_i64().unwrap(),
        pg_diff(&pg, src, replay).await,
        "with both DSNs the lag is the true lag"
    );
    let blockers = t["blockers"].to_string();
    assert!(
        blockers.contains("Replay is paused"),
        "the reason is named: {blockers}"
    );
    lab.resume_replay().await.unwrap();
    lab.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_exporter_serves_a_primary_s_standbys() {
    use crate::support::script::{free_port, scrape_task_metrics};

    let _machine = machine::heavy().await;
    let Some(lab) = lab().await else { return };
    let primary = format!("{}?sslmode=disable", lab.primary_dsn());
    let port = free_port();
    let home = tempfile::tempdir().unwrap();
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_migtop"))
        .args([
            "exporter",
            "--primary",
            &primary,
            "--listen",
            &format!("127.0.0.1:{port}"),
        ])
        .env_clear()
        .env("HOME", home.path())
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let body = scrape_task_metrics(port).await;
    child.kill().await.ok();
    let verdict = body
        .lines()
        .find(|l| l.starts_with("migtop_task_verdict") && l.ends_with(" 1"))
        .unwrap_or_else(|| panic!("no verdict for the walsender's task:\n{body}"));
    assert!(verdict.contains("migtop-standby"), "{verdict}");
    assert!(
        verdict.contains(":") && verdict.contains("/postgres"),
        "{verdict}"
    );
    lab.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn primary_and_instance_flags_do_not_mix_and_a_bad_primary_is_named() {
    let (code, _, err) = migtop(
        &[
            "status",
            "-i",
            "pgm-x",
            "--primary",
            "postgres://u@127.0.0.1:1/db",
        ],
        &[],
    )
    .await;
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--primary"), "{err}");
    let (code, _, err) = migtop(
        &[
            "status",
            "--primary",
            "postgres://u:pw-secret@127.0.0.1:1/db?connect_timeout=2",
            "--timeout",
            "3s",
        ],
        &[],
    )
    .await;
    assert_ne!(code, 0, "{err}");
    assert!(err.contains("127.0.0.1:1/db"), "{err}");
    assert!(
        !err.contains("pw-secret"),
        "the password never shows: {err}"
    );
}

const MIB: u64 = 1 << 20;

/// A primary with two standbys, read every 5 s for 40 s: `standby1` streams 2 MiB behind with
/// a slot held past `max_wal_size`; a second, unnamed one (`walreceiver`) is still catching up.
fn physical_app() -> migtop::app::App {
    use migtop::aliyun::InstanceSnapshot;
    use migtop::app::{Action, App, AppConfig};
    use migtop::poller::{PollEvent, PollResult};
    use migtop::probe::walsenders::{PrimaryReading, Slot, Walsender, to_tasks};

    let instance = "10.0.0.5:5432/postgres";
    let mut config = AppConfig::new(vec![instance.into()]);
    config.interval = Duration::from_secs(5);
    config.source_probe = Some(crate::support::dashboard::SOURCE.into());
    let mut app = App::new(config, crate::support::dashboard::at(0));
    for s in (0..=40).step_by(5) {
        let cur = 0x3_0000_0000 + s as u64 * MIB;
        let at = crate::support::dashboard::at(s);
        let standby = |name: &str, client: &str, state: &str, behind: u64| Walsender {
            pid: 4242,
            application_name: name.into(),
            client: client.into(),
            state: state.into(),
            sent: Some(Lsn(cur)),
            write: Some(Lsn(cur - behind / 4)),
            flush: Some(Lsn(cur - behind / 2)),
            replay: Some(Lsn(cur - behind)),
            write_lag: Some(0.002),
            flush_lag: Some(0.004),
            replay_lag: Some(0.9),
            reply_time: Some(at - chrono::Duration::milliseconds(20)),
            sync_state: Some("async".into()),
            slot: None,
        };
        let mut first = standby("standby1", "10.0.0.7:40000", "streaming", 2 * MIB);
        first.slot = Some(Slot {
            name: "standby1".into(),
            wal_status: Some("extended".into()),
            safe_wal_size: Some(512 * MIB as i64),
        });
        let reading = PrimaryReading {
            current: Some(Lsn(cur)),
            walsenders: vec![
                first,
                standby("walreceiver", "10.0.0.8:40001", "catchup", 900 * MIB),
            ],
        };
        let snapshot = InstanceSnapshot {
            instance: instance.into(),
            request_id: None,
            tasks: to_tasks(instance, &reading),
            item_errors: Vec::new(),
            notes: None,
        };
        app.update(Action::Poll(PollEvent::Finished(PollResult {
            instance: instance.into(),
            started: at,
            at,
            result: Ok(snapshot),
            source: Some(crate::support::dashboard::source_at(s, cur)),
        })));
        app.update(Action::Tick(at));
    }
    app
}

#[test]
fn physical_standbys_80x24_and_120x40() {
    use crate::support::dashboard::{render, screen};
    let mut a = physical_app();
    let t = render(&mut a, 80, 24);
    let s = screen(&t);
    // Their own path, never an RDS stage migtop did not check.
    assert!(s.contains("▶ streaming"), "{s}");
    assert!(!s.contains("precheck"), "{s}");
    assert!(s.contains("standby1") && s.contains("walreceiver"), "{s}");
    assert!(s.contains("Slot standby1: extended, 512 MiB"), "{s}");
    insta::assert_snapshot!("physical_standbys_80x24", t.backend());
    let t = render(&mut a, 120, 40);
    let s = screen(&t);
    assert!(s.contains("standby"), "{s}");
    assert!(s.contains("replay_lag 0.900 s"), "{s}");
    insta::assert_snapshot!("physical_standbys_120x40", t.backend());
}
