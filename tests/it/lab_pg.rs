//! The lab against real PostgreSQL: migtop's figures must equal PostgreSQL's own.
//!
//! Needs PostgreSQL server binaries (`.ci/install-postgres`): without them a printed skip, a
//! failure under CI (`support::tools`).

use std::time::Duration;

use migtop::lab::{Lab, LabOptions, LabTaskState, LinkMode, LoadPhase, LoadPlan, LoadState};
use migtop::model::{Lsn, ReplicationInfo, ReplicationState, Stage};
use migtop::probe::{SourceDsn, SourceProbe, SourceSample};
use tokio_postgres::Client;

use crate::support::machine;
use crate::support::pg::*;

const WAIT: Duration = Duration::from_secs(30);

/// Starts a lab, or `None` (test skipped) when PostgreSQL is missing (see `support::tools`).
pub(crate) async fn lab() -> Option<Lab> {
    if !have_pg() {
        return None;
    }
    Some(
        Lab::start(LabOptions::default())
            .await
            .unwrap_or_else(|e| panic!("the lab did not start: {e:#}")),
    )
}

/// Writes roughly `rows` × 250 bytes of WAL on the primary.
pub(crate) async fn write_wal(pg: &Client, rows: i64) {
    pg.batch_execute("CREATE TABLE IF NOT EXISTS w (id bigint, pad text)")
        .await
        .unwrap();
    pg.execute(
        "INSERT INTO w SELECT g, repeat('x', 200) FROM generate_series(1, $1::bigint) AS g",
        &[&rows],
    )
    .await
    .unwrap();
}

fn decoded(s: &LabTaskState) -> ReplicationInfo {
    ReplicationInfo::from_object(&s.info)
}

async fn probe_of(lab: &Lab) -> SourceProbe {
    let dsn = SourceDsn::new(format!("{}?sslmode=disable", lab.primary_dsn()));
    SourceProbe::new(dsn, Duration::from_secs(5)).unwrap()
}

async fn sample(p: &mut SourceProbe) -> SourceSample {
    p.sample().await.unwrap_or_else(|e| panic!("probe: {e}"))
}

/// Shuts the lab down and checks that nothing is left.
async fn shut(lab: Lab) {
    let dir = lab.dir().to_path_buf();
    let pids = lab.server_pids();
    lab.shutdown().await.unwrap();
    assert!(!dir.exists(), "{} left behind", dir.display());
    for (name, pid) in pids {
        assert!(
            !migtop::lab::guard::alive(pid as i32),
            "{name} (pid {pid}) still running"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn figures_equal_postgres_own_pg_wal_lsn_diff() {
    let _machine = machine::heavy().await;
    let Some(lab) = lab().await else { return };
    let pg = connect(&lab.primary_dsn()).await;
    let mut probe = probe_of(&lab).await;

    assert!(
        matches!(lab.link_upstream(), migtop::lab::Upstream::Unix(_)),
        "the relay should reach the primary by its Unix socket"
    );
    // Apply lag from a paused replay, transport lag from a slow link: all three figures non-zero.
    lab.pause_replay().await.unwrap();
    lab.set_link_rate(Some(256 * 1024));
    write_wal(&pg, 20_000).await;
    let s = lab
        .wait_for("transport and apply lag", WAIT, |s| {
            let i = decoded(s);
            i.not_received_bytes().unwrap_or(0) > 0 && i.not_replayed_bytes().unwrap_or(0) > 0
        })
        .await
        .unwrap();
    let info = decoded(&s);
    let src = sample(&mut probe).await;
    let (latest, received, replay) = (
        info.latest_end_lsn.unwrap(),
        info.received_lsn.unwrap(),
        info.replay_lsn.unwrap(),
    );
    eprintln!(
        "source {} latest_end {latest} received {received} replay {replay}: lag {:?} transport {:?} apply {:?}",
        src.lsn,
        info.lag_bytes(),
        info.not_received_bytes(),
        info.not_replayed_bytes()
    );
    assert_eq!(
        info.lag_bytes().unwrap() as i64,
        pg_diff_greatest(&pg, latest, received, replay).await
    );
    assert_eq!(
        info.not_received_bytes().unwrap() as i64,
        pg_diff(&pg, latest, received).await
    );
    assert_eq!(
        info.not_replayed_bytes().unwrap() as i64,
        pg_diff(&pg, received, replay).await
    );
    let true_lag = migtop::probe::true_lag_bytes(src.lsn, replay).unwrap();
    assert_eq!(true_lag as i64, pg_diff(&pg, src.lsn, replay).await);
    assert_eq!(
        migtop::probe::latest_end_trail_bytes(src.lsn, latest).unwrap() as i64,
        pg_diff(&pg, src.lsn, latest).await
    );
    assert!(true_lag >= info.lag_bytes().unwrap());
    // The probe's position is the primary's own.
    let direct = current_lsn(&pg).await;
    assert!(src.lsn <= direct);
    assert!(!src.in_recovery);
    assert_eq!(src.timeline, Some(1));
    assert_eq!(src.server_version.map(|v| v / 10000), Some(15));
    assert_eq!(s.state, ReplicationState::Streaming);
    assert_eq!(s.stage, Stage::Increment);
    assert_eq!(s.info["IsSlave"], "true");

    // Writes stop, the link opens, replay resumes: every figure drains to zero.
    lab.set_link_rate(None);
    lab.resume_replay().await.unwrap();
    let end = sample(&mut probe).await.lsn;
    let s = lab
        .wait_for("the lag to drain", WAIT, |s| {
            let i = decoded(s);
            i.lag_bytes() == Some(0) && i.replay_lsn.is_some_and(|r| r >= end)
        })
        .await
        .unwrap();
    let info = decoded(&s);
    assert_eq!(info.not_received_bytes(), Some(0));
    assert_eq!(info.not_replayed_bytes(), Some(0));
    assert_eq!(s.info["ReplayLag"], "0");
    assert_eq!(s.info["Synced"], "true");
    shut(lab).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paused_replay_shows_growing_apply_lag() {
    let _machine = machine::heavy().await;
    let Some(lab) = lab().await else { return };
    let pg = connect(&lab.primary_dsn()).await;
    let mut probe = probe_of(&lab).await;
    lab.pause_replay().await.unwrap();
    lab.wait_for("replay paused", WAIT, |s| {
        s.reading.replay_paused == Some(true)
    })
    .await
    .unwrap();

    let mut applies = Vec::new();
    let mut replays = Vec::new();
    for _ in 0..3 {
        write_wal(&pg, 4_000).await;
        let written = sample(&mut probe).await.lsn;
        // Everything written has arrived; only replay is behind.
        let s = lab
            .wait_for("the standby to receive the writes", WAIT, |s| {
                decoded(s).received_lsn.is_some_and(|r| r >= written)
            })
            .await
            .unwrap();
        let info = decoded(&s);
        assert_eq!(
            s.state,
            ReplicationState::Streaming,
            "a pause is no disconnect"
        );
        applies.push(info.not_replayed_bytes().unwrap());
        replays.push(info.replay_lsn.unwrap());
    }
    eprintln!("apply lag while paused: {applies:?}");
    assert!(applies[0] > 0 && applies[0] < applies[1] && applies[1] < applies[2]);
    assert!(
        replays.windows(2).all(|w| w[0] == w[1]),
        "replay moved while paused"
    );

    lab.resume_replay().await.unwrap();
    lab.wait_for("apply lag to drain", WAIT, |s| {
        decoded(s).not_replayed_bytes() == Some(0) && s.reading.replay_paused == Some(false)
    })
    .await
    .unwrap();
    shut(lab).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cut_link_shows_disconnect_and_recovers() {
    let _machine = machine::heavy().await;
    let Some(lab) = lab().await else { return };
    let pg = connect(&lab.primary_dsn()).await;
    let mut probe = probe_of(&lab).await;
    write_wal(&pg, 1_000).await;
    let before = lab
        .wait_for("streaming", WAIT, |s| {
            s.state == ReplicationState::Streaming
        })
        .await
        .unwrap();
    let tli_before = decoded(&before).received_tli;

    lab.cut_link();
    assert_eq!(lab.link_mode(), LinkMode::Cut);
    let cut = lab
        .wait_for("disconnect", WAIT, |s| {
            s.state == ReplicationState::Disconnect
        })
        .await
        .unwrap();
    assert_ne!(cut.info["Status"], "streaming");
    assert_eq!(cut.info["Synced"], "false");
    // The primary notices the closed socket a moment after the standby does.
    eventually("the walsender to go away", WAIT, || async {
        lab.walsender_state().await.is_none().then_some(())
    })
    .await;

    // The source writes on; the standby cannot know. Only the probe sees the true lag.
    let received_at_cut = decoded(&cut).received_lsn.unwrap();
    write_wal(&pg, 8_000).await;
    let src = sample(&mut probe).await;
    let during = lab.task_state().await.unwrap();
    let info = decoded(&during);
    assert_eq!(during.state, ReplicationState::Disconnect);
    assert_eq!(info.received_lsn, Some(received_at_cut));
    let true_lag = migtop::probe::true_lag_bytes(src.lsn, info.replay_lsn.unwrap()).unwrap();
    assert_eq!(
        true_lag as i64,
        pg_diff(&pg, src.lsn, info.replay_lsn.unwrap()).await
    );
    eprintln!(
        "cut: reported lag {:?}, true lag {true_lag}, Status {}",
        info.lag_bytes(),
        during.info["Status"]
    );
    assert!(true_lag > 1_000_000, "true lag {true_lag}");
    assert!(info.lag_bytes().unwrap_or(0) < true_lag);
    assert!(
        lab.link_stats().connections_refused >= 1,
        "the standby did not retry"
    );

    lab.restore_link();
    let back = lab
        .wait_for("streaming again, caught up", WAIT, |s| {
            let i = decoded(s);
            s.state == ReplicationState::Streaming
                && i.replay_lsn.is_some_and(|r| r >= src.lsn)
                && i.lag_bytes() == Some(0)
        })
        .await
        .unwrap();
    let info = decoded(&back);
    // The receiver restarts at the start of a WAL segment, on the same timeline.
    let start = info.receive_start_lsn.unwrap();
    assert_eq!(start.0 % Lsn::SEGMENT, 0, "ReceiveStartLsn {start}");
    assert_eq!(info.received_tli, tli_before);
    shut(lab).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stalled_link_still_says_streaming_but_the_probe_knows() {
    let _machine = machine::heavy().await;
    let Some(lab) = lab().await else { return };
    let pg = connect(&lab.primary_dsn()).await;
    let mut probe = probe_of(&lab).await;
    // LatestEndLsn is only known once the walsender has sent something.
    write_wal(&pg, 100).await;
    let written = sample(&mut probe).await.lsn;
    lab.wait_for("streaming, LatestEndLsn known", WAIT, |s| {
        s.state == ReplicationState::Streaming
            && decoded(s).latest_end_lsn.is_some_and(|l| l >= written)
    })
    .await
    .unwrap();
    lab.stall_link();
    // Bytes already past the relay still arrive; wait until nothing moves.
    let mut stalled = decoded(&lab.task_state().await.unwrap());
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        tokio::time::sleep(Duration::from_millis(300)).await;
        let now = decoded(&lab.task_state().await.unwrap());
        if now.received_lsn == stalled.received_lsn {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the stalled standby kept receiving"
        );
        stalled = now;
    }
    write_wal(&pg, 8_000).await;
    let src = sample(&mut probe).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let s = lab.task_state().await.unwrap();
    let info = decoded(&s);
    // Until wal_receiver_timeout the standby believes all is well.
    assert_eq!(s.state, ReplicationState::Streaming);
    assert_eq!(info.received_lsn, stalled.received_lsn);
    let true_lag = migtop::probe::true_lag_bytes(src.lsn, info.replay_lsn.unwrap()).unwrap();
    assert!(true_lag > 1_000_000, "true lag {true_lag}");
    assert!(
        migtop::probe::latest_end_trail_bytes(src.lsn, info.latest_end_lsn.unwrap()).unwrap()
            > 1_000_000
    );
    lab.restore_link();
    lab.wait_for("catching up after the stall", WAIT, |s| {
        decoded(s).replay_lsn.is_some_and(|r| r >= src.lsn)
    })
    .await
    .unwrap();
    shut(lab).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn promotion_finishes_the_task() {
    let _machine = machine::heavy().await;
    let Some(lab) = lab().await else { return };
    lab.promote().await.unwrap();
    let s = lab.task_state().await.unwrap();
    assert_eq!(s.stage, Stage::Success);
    assert_eq!(s.state, ReplicationState::Finish);
    assert_eq!(s.info["IsSlave"], "false");
    assert_eq!(s.info["Synced"], "false");
    // The promoted standby takes writes, on a new timeline.
    let standby = connect(&lab.standby_dsn()).await;
    standby
        .batch_execute("CREATE TABLE after_switch (x int)")
        .await
        .unwrap();
    let mut probe = SourceProbe::new(
        SourceDsn::new(format!("{}?sslmode=disable", lab.standby_dsn())),
        Duration::from_secs(5),
    )
    .unwrap();
    let s = sample(&mut probe).await;
    assert!(!s.in_recovery);
    assert_eq!(s.timeline, Some(2));
    shut(lab).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pgbench_load_writes_in_phases_then_stops() {
    let _machine = machine::heavy().await;
    let Some(lab) = lab().await else { return };
    let mut probe = probe_of(&lab).await;
    let plan = LoadPlan {
        phases: vec![
            LoadPhase {
                tps: 200,
                duration: Duration::from_secs(2),
                clients: 2,
            },
            LoadPhase {
                tps: 0,
                duration: Duration::from_secs(1),
                clients: 1,
            },
        ],
        repeat: false,
    };
    lab.start_load(plan).await.unwrap();
    let start = sample(&mut probe).await;
    eventually("the plan to finish", WAIT, || async {
        (lab.load_state().await == Some(LoadState::Finished)).then_some(())
    })
    .await;
    let end = sample(&mut probe).await;
    let rate = migtop::probe::wal_rate(&start, &end).unwrap();
    eprintln!(
        "pgbench wrote {} bytes of WAL ({rate:.0} B/s)",
        end.lsn.bytes_since(start.lsn)
    );
    assert!(end.lsn.bytes_since(start.lsn) > 50_000);
    lab.wait_for("the standby to catch up after writes stop", WAIT, |s| {
        decoded(s).replay_lsn.is_some_and(|r| r >= end.lsn)
    })
    .await
    .unwrap();

    // A long plan stops at once on request.
    lab.start_load(LoadPlan::once(100, Duration::from_secs(60)))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let t = std::time::Instant::now();
    lab.stop_load().await;
    assert!(t.elapsed() < Duration::from_secs(3));
    assert_eq!(lab.load_state().await, None);
    let pg = connect(&lab.primary_dsn()).await;
    let clients: i64 = pg
        .query_one(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'pgbench'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    let _ = eventually("pgbench sessions to go", WAIT, || async {
        let n: i64 = pg
            .query_one(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'pgbench'",
                &[],
            )
            .await
            .unwrap()
            .get(0);
        (n == 0).then_some(())
    })
    .await;
    eprintln!("pgbench sessions right after stop: {clients}");
    shut(lab).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn probe_works_as_an_unprivileged_role_and_on_a_standby() {
    let _machine = machine::heavy().await;
    let Some(lab) = lab().await else { return };
    let pg = connect(&lab.primary_dsn()).await;
    pg.batch_execute("CREATE ROLE monitor LOGIN").await.unwrap();
    let dsn = format!(
        "host=127.0.0.1 port={} user=monitor dbname=postgres sslmode=disable",
        lab.primary_port()
    );
    let mut p = SourceProbe::new(SourceDsn::new(dsn), Duration::from_secs(5)).unwrap();
    let s = sample(&mut p).await;
    assert_eq!(s.timeline, Some(1));
    assert!(!s.in_recovery);

    // Pointed at the standby (a cascade source): its received/replayed position.
    let mut p = SourceProbe::new(
        SourceDsn::new(format!("{}?sslmode=disable", lab.standby_dsn())),
        Duration::from_secs(5),
    )
    .unwrap();
    let s = sample(&mut p).await;
    assert!(s.in_recovery);
    assert_eq!(s.timeline, Some(1));
    shut(lab).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn probe_reconnects_after_the_source_drops_it() {
    let _machine = machine::heavy().await;
    let Some(lab) = lab().await else { return };
    let pg = connect(&lab.primary_dsn()).await;
    let mut p = SourceProbe::new(
        SourceDsn::new(format!(
            "{}?sslmode=disable&application_name=probe-under-test",
            lab.primary_dsn()
        )),
        Duration::from_secs(5),
    )
    .unwrap();
    sample(&mut p).await;
    let killed: i64 = pg
        .query_one(
            "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE application_name = 'probe-under-test') t",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(killed, 1);
    eventually("the probe's session to end", WAIT, || async {
        let n: i64 = pg
            .query_one(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'probe-under-test'",
                &[],
            )
            .await
            .unwrap()
            .get(0);
        (n == 0).then_some(())
    })
    .await;
    // The dead session is noticed and replaced within the same call.
    let s = p
        .sample()
        .await
        .unwrap_or_else(|e| panic!("no reconnect: {e}"));
    assert!(s.lsn > Lsn(0));
    shut(lab).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_the_lab_cleans_up_too() {
    let _machine = machine::heavy().await;
    let Some(lab) = lab().await else { return };
    let dir = lab.dir().to_path_buf();
    let pids = lab.server_pids();
    assert_eq!(pids.len(), 2);
    drop(lab);
    assert!(!dir.exists());
    assert!(
        pids.iter()
            .all(|(_, p)| !migtop::lab::guard::alive(*p as i32))
    );
}

// ---------------------------------------------------------------------------------------
// `migtop status --source-dsn` end to end: the real binary, an API answering with the lab's
// live ReplicationInfo, and the lab's primary as the source.

/// Serves DescribeCloudMigrationResult with one task whose ReplicationInfo is read live
/// from the lab (escaped as in the API's samples).
async fn serve_lab_api(
    lab: std::sync::Arc<Lab>,
) -> (std::net::SocketAddr, tokio::task::JoinHandle<()>) {
    let app = axum::Router::new().fallback(move || {
        let lab = lab.clone();
        async move {
            let s = lab.task_state().await.unwrap();
            let body = serde_json::json!({
                "RequestId": "LAB-REQ",
                "TotalSize": 1,
                "PageNumber": 1,
                "PageSize": 100,
                "Items": [{
                    "TaskId": 1,
                    "TaskName": "lab",
                    "MigrateStage": s.stage.as_str(),
                    "ReplicationState": s.state.as_str(),
                    "ReplicationInfo": s.replication_info_string().replace('"', "\\\""),
                    "SourceIpAddress": "127.0.0.1",
                    "SourcePort": lab.primary_port(),
                    "SourceAccount": "postgres",
                    "SourcePassword": 123456,
                }]
            });
            ([("content-type", "application/json")], body.to_string())
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (addr, server)
}

pub(crate) async fn migtop(args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let home = tempfile::tempdir().unwrap();
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_migtop"));
    cmd.args(args)
        .env_clear()
        .env("HOME", home.path())
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("ALIBABA_CLOUD_ACCESS_KEY_ID", "LTAI5tLABTEST")
        .env("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "lab-secret");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().await.unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_with_source_dsn_reports_the_true_lag() {
    let _machine = machine::heavy().await;
    let Some(lab) = lab().await else { return };
    let lab = std::sync::Arc::new(lab);
    let pg = connect(&lab.primary_dsn()).await;
    let mut probe = probe_of(&lab).await;
    lab.pause_replay().await.unwrap();
    write_wal(&pg, 5_000).await;
    let written = sample(&mut probe).await.lsn;
    lab.wait_for("the writes to arrive", WAIT, |s| {
        decoded(s).received_lsn.is_some_and(|r| r >= written)
    })
    .await
    .unwrap();
    let (addr, server) = serve_lab_api(lab.clone()).await;
    let endpoint = format!("http://{addr}");
    let source = format!("{}?sslmode=disable", lab.primary_dsn());

    let (code, out, err) = migtop(
        &[
            "status",
            "--endpoint",
            &endpoint,
            "-i",
            "pgm-lab",
            "--source-dsn",
            &source,
            "-o",
            "json",
        ],
        &[],
    )
    .await;
    assert_eq!(code, 0, "stderr: {err}");
    assert!(err.is_empty(), "stderr: {err}");
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    let t = &doc["instances"][0]["tasks"][0];
    let lsn = |v: &serde_json::Value| v.as_str().unwrap().parse::<Lsn>().unwrap();
    let (src, replay) = (lsn(&t["source_lsn"]), lsn(&t["lsn"]["replay"]));
    let (latest, received) = (lsn(&t["lsn"]["latest_end"]), lsn(&t["lsn"]["received"]));
    eprintln!("status: {t}");
    assert!(src >= written);
    assert_eq!(
        t["true_lag_bytes"].as_i64().unwrap(),
        pg_diff(&pg, src, replay).await
    );
    assert!(t["true_lag_bytes"].as_i64().unwrap() > 1_000_000);
    // The figure readiness judges: the larger of the reported and the true lag.
    assert_eq!(
        t["judged_lag_bytes"].as_u64(),
        t["lag_bytes"].as_u64().max(t["true_lag_bytes"].as_u64())
    );
    assert_eq!(
        t["lag_bytes"].as_i64().unwrap(),
        pg_diff_greatest(&pg, latest, received, replay).await
    );
    assert_eq!(
        t["apply_bytes"].as_i64().unwrap(),
        pg_diff(&pg, received, replay).await
    );
    assert_eq!(doc["source_probe"]["lsn"], t["source_lsn"]);
    assert_eq!(doc["source_probe"]["timeline"], 1);
    assert!(doc["source_probe"]["error"].is_null());

    let (code, out, _) = migtop(
        &["status", "--endpoint", &endpoint, "-i", "pgm-lab"],
        &[("MIGTOP_SOURCE_DSN", &source)],
    )
    .await;
    assert_eq!(code, 0);
    assert!(out.lines().next().unwrap().contains("TRUE LAG"), "{out}");
    assert!(out.contains(&format!("source {source}: at ")), "{out}");

    // A source that cannot be reached: the API read stands, the exit code too.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let bad = format!("postgres://repl:Pa55-word-xyz@127.0.0.1:{port}/postgres?sslmode=disable");
    let (code, out, err) = migtop(
        &[
            "status",
            "--endpoint",
            &endpoint,
            "-i",
            "pgm-lab",
            "--source-dsn",
            &bad,
            "-o",
            "json",
        ],
        &[],
    )
    .await;
    assert_eq!(code, 0, "stderr: {err}");
    assert!(!out.contains("Pa55") && !err.contains("Pa55"), "{out}{err}");
    assert!(err.contains("the API read succeeded"), "{err}");
    assert!(
        err.contains("password in --source-dsn shows in `ps`"),
        "{err}"
    );
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(doc["instances"][0]["tasks"][0]["true_lag_bytes"].is_null());
    assert!(
        doc["instances"][0]["tasks"][0]["lag_bytes"]
            .as_i64()
            .unwrap()
            > 0
    );
    assert!(
        doc["source_probe"]["error"]
            .as_str()
            .unwrap()
            .contains("cannot connect")
    );

    lab.resume_replay().await.unwrap();
    server.abort();
    let _ = server.await;
    let lab = std::sync::Arc::try_unwrap(lab).expect("the API server let go of the lab");
    shut(lab).await;
}

// ---------------------------------------------------------------------------------------
// TLS: libpq's sslmode semantics against a real server with a test CA.

/// Whether the probe's session (application_name tls-probe) is encrypted.
async fn encrypted(pg: &Client) -> Option<bool> {
    pg.query_one(
        "SELECT bool_and(s.ssl) FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) \
         WHERE a.application_name = 'tls-probe'",
        &[],
    )
    .await
    .unwrap()
    .get(0)
}

fn openssl(args: &[&str], dir: &std::path::Path) -> bool {
    std::process::Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn probe_tls_follows_sslmode() {
    let _machine = machine::heavy().await;
    let Some(lab) = lab().await else { return };
    let dir = lab.dir().to_path_buf();
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
    ];
    let ok = openssl(
        &[
            &["req", "-x509"][..],
            &ec,
            &[
                "-keyout",
                "ca.key",
                "-out",
                "ca.crt",
                "-days",
                "2",
                "-subj",
                "/CN=migtop test CA",
                "-addext",
                "basicConstraints=critical,CA:TRUE",
                "-addext",
                "keyUsage=critical,keyCertSign,cRLSign",
            ],
        ]
        .concat(),
        &dir,
    ) && openssl(
        &[
            &["req"][..],
            &ec,
            &[
                "-keyout",
                "other.key",
                "-out",
                "other.crt",
                "-x509",
                "-days",
                "2",
                "-subj",
                "/CN=other CA",
                "-addext",
                "basicConstraints=critical,CA:TRUE",
            ],
        ]
        .concat(),
        &dir,
    ) && openssl(
        &[
            &["req"][..],
            &ec,
            &[
                "-keyout",
                "server.key",
                "-out",
                "server.csr",
                "-subj",
                "/CN=db.example.invalid",
            ],
        ]
        .concat(),
        &dir,
    ) && {
        std::fs::write(
            dir.join("san.ext"),
            "subjectAltName=DNS:db.example.invalid,IP:127.0.0.1\n",
        )
        .unwrap();
        openssl(
            &[
                "x509",
                "-req",
                "-in",
                "server.csr",
                "-CA",
                "ca.crt",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-out",
                "server.crt",
                "-days",
                "2",
                "-extfile",
                "san.ext",
            ],
            &dir,
        )
    };
    if !ok {
        eprintln!("skipped: the openssl command is missing or failed");
        shut(lab).await;
        return;
    }
    {
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        let owner = std::fs::metadata(&dir).unwrap();
        for f in ["server.key", "server.crt"] {
            std::os::unix::fs::chown(dir.join(f), Some(owner.uid()), Some(owner.gid())).unwrap();
            std::fs::set_permissions(dir.join(f), std::fs::Permissions::from_mode(0o600)).unwrap();
        }
    }
    let pg = connect(&lab.primary_dsn()).await;
    for stmt in [
        "ALTER SYSTEM SET ssl = on".to_string(),
        format!(
            "ALTER SYSTEM SET ssl_cert_file = '{}/server.crt'",
            dir.display()
        ),
        format!(
            "ALTER SYSTEM SET ssl_key_file = '{}/server.key'",
            dir.display()
        ),
        "SELECT pg_reload_conf()".to_string(),
    ] {
        pg.batch_execute(&stmt).await.unwrap();
    }
    let primary = lab.primary_dsn();
    eventually("ssl on", WAIT, || async {
        let c = connect(&primary).await;
        let on: String = c.query_one("SHOW ssl", &[]).await.unwrap().get(0);
        (on == "on").then_some(())
    })
    .await;

    let port = lab.primary_port();
    let ca = dir.join("ca.crt");
    let other = dir.join("other.crt");
    let try_mode = |extra: String| {
        let dsn =
            format!("port={port} user=postgres dbname=postgres application_name=tls-probe {extra}");
        async move {
            let mut p = SourceProbe::new(SourceDsn::new(dsn), Duration::from_secs(5))
                .map_err(|e| e.to_string())?;
            p.sample().await.map(|_| p).map_err(|e| e.to_string())
        }
    };
    let p = try_mode("host=127.0.0.1 sslmode=require".into())
        .await
        .unwrap();
    assert_eq!(encrypted(&pg).await, Some(true), "require did not encrypt");
    drop(p);
    let p = try_mode(format!(
        "host=127.0.0.1 sslmode=verify-full sslrootcert={}",
        ca.display()
    ))
    .await
    .unwrap();
    assert_eq!(encrypted(&pg).await, Some(true));
    drop(p);
    let e = try_mode(format!(
        "host=wrong.example.invalid hostaddr=127.0.0.1 sslmode=verify-full sslrootcert={}",
        ca.display()
    ))
    .await
    .expect_err("verify-full accepted a name the certificate does not carry");
    eprintln!("verify-full, wrong name: {e}");
    try_mode(format!(
        "host=wrong.example.invalid hostaddr=127.0.0.1 sslmode=verify-ca sslrootcert={}",
        ca.display()
    ))
    .await
    .expect("verify-ca checks the chain only");
    let e = try_mode(format!(
        "host=127.0.0.1 sslmode=verify-ca sslrootcert={}",
        other.display()
    ))
    .await
    .expect_err("verify-ca accepted a certificate from an untrusted CA");
    eprintln!("verify-ca, other CA: {e}");
    try_mode(format!(
        "host=127.0.0.1 sslmode=require sslrootcert={}",
        other.display()
    ))
    .await
    .expect_err("require with sslrootcert verifies like verify-ca (libpq)");
    tokio::time::sleep(Duration::from_millis(200)).await;
    let p = try_mode("host=127.0.0.1 sslmode=disable".into())
        .await
        .unwrap();
    assert_eq!(encrypted(&pg).await, Some(false), "disable encrypted");
    drop(p);
    shut(lab).await;
}

// ---------------------------------------------------------------------------------------
// Cleanup when the process ends badly: a child test process runs a lab and panics, exits,
// is signalled or killed; the parent checks that nothing is left.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "runs only as the child of the cleanup tests"]
async fn lab_child() {
    let Ok(mode) = std::env::var("MIGTOP_LAB_CHILD") else {
        return;
    };
    let opts = LabOptions {
        parent_dir: std::env::var_os("MIGTOP_LAB_PARENT").map(Into::into),
        ..LabOptions::default()
    };
    let lab = Lab::start(opts).await.unwrap();
    let pids: Vec<String> = lab
        .server_pids()
        .iter()
        .map(|(_, p)| p.to_string())
        .collect();
    if mode.starts_with("sig") {
        migtop::lab::guard::exit_on_signals().unwrap();
    }
    println!("LAB {} {}", lab.dir().display(), pids.join(","));
    match mode.as_str() {
        "panic" => panic!("deliberate panic with a lab running"),
        "exit" => std::process::exit(3),
        _ => std::future::pending::<()>().await,
    }
}

/// Runs `lab_child` in `mode`; returns the lab's directory, the server pids and the child.
async fn child_lab(
    mode: &str,
    parent: &std::path::Path,
) -> (std::path::PathBuf, Vec<i32>, tokio::process::Child) {
    use tokio::io::AsyncBufReadExt;
    let mut child = tokio::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "lab_pg::lab_child",
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("MIGTOP_LAB_CHILD", mode)
        .env("MIGTOP_LAB_PARENT", parent)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let line = tokio::time::timeout(WAIT, async {
        while let Some(l) = lines.next_line().await.unwrap() {
            // The harness prints "test lab_child ... " on the same line first.
            if let Some(at) = l.find("LAB ") {
                return l[at + 4..].to_string();
            }
        }
        panic!("the child ended without starting a lab");
    })
    .await
    .expect("the child lab did not start in time");
    let (dir, pids) = line.rsplit_once(' ').unwrap();
    let pids = pids.split(',').map(|p| p.parse().unwrap()).collect();
    // Keep draining its stdout so it never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    (dir.into(), pids, child)
}

/// A parent directory the servers' user can reach.
fn child_parent() -> tempfile::TempDir {
    use std::os::unix::fs::PermissionsExt;
    let d = tempfile::tempdir().unwrap();
    std::fs::set_permissions(d.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    d
}

fn assert_gone(dir: &std::path::Path, pids: &[i32], how: &str) {
    assert!(!dir.exists(), "{how}: {} left behind", dir.display());
    for p in pids {
        assert!(
            !migtop::lab::guard::alive(*p),
            "{how}: server pid {p} still running"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cleanup_on_panic_exit_sigint_and_sigterm() {
    let _machine = machine::heavy().await;
    if !have_pg() {
        return;
    }
    let parent = child_parent();
    let runs = ["panic", "exit", "sigint", "sigterm"].map(|mode| {
        let parent = parent.path().to_path_buf();
        tokio::spawn(async move {
            let (dir, pids, mut child) = child_lab(mode, &parent).await;
            assert_eq!(pids.len(), 2);
            let signal = match mode {
                "sigint" => Some(libc::SIGINT),
                "sigterm" => Some(libc::SIGTERM),
                _ => None,
            };
            if let Some(sig) = signal {
                // (A panicking or exiting child may already be cleaning up; this one waits.)
                assert!(pids.iter().all(|p| migtop::lab::guard::alive(*p)));
                // SAFETY: signalling our own child process.
                unsafe {
                    libc::kill(child.id().unwrap() as i32, sig);
                }
            }
            let status = tokio::time::timeout(WAIT, child.wait())
                .await
                .expect("the child did not exit")
                .unwrap();
            let expected = match (mode, signal) {
                (_, Some(sig)) => 128 + sig,
                ("panic", _) => 101,
                _ => 3,
            };
            assert_eq!(status.code(), Some(expected), "{mode}");
            assert_gone(&dir, &pids, mode);
        })
    });
    for r in runs {
        r.await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_lab_is_swept_by_the_next_one() {
    let _machine = machine::heavy().await;
    if !have_pg() {
        return;
    }
    let parent = child_parent();
    let (dir, pids, mut child) = child_lab("hang", parent.path()).await;
    child.kill().await.unwrap();
    child.wait().await.unwrap();
    // SIGKILL leaves everything behind...
    assert!(dir.exists());
    assert!(pids.iter().all(|p| migtop::lab::guard::alive(*p)));
    // ...until the next lab starts in the same place.
    let lab = Lab::start(LabOptions {
        parent_dir: Some(parent.path().to_path_buf()),
        ..LabOptions::default()
    })
    .await
    .unwrap();
    assert_gone(&dir, &pids, "sweep");
    shut(lab).await;
}
