//! The cutover itself against real PostgreSQL (issue 16, part B): `switchover --fence` with a
//! writer still going, the fence lifted when the switch cannot happen, the check at the
//! moment of the switch refusing a write injected after the judgement, and a role without
//! the fence's privileges changing nothing.
//!
//! Timing: every wait is a deadline on a condition, generous for a loaded 2-core machine.

use std::sync::Arc;
use std::time::Duration;

use migtop::aliyun::{ClientConfig, Credentials, RdsClient, RetryPolicy};
use migtop::commands::script::Session;
use migtop::commands::switchover::check;
use migtop::lab::load::{WRITES_TABLE, Writer};
use migtop::lab::source::{LAB_INSTANCE, LabSource, LabTaskOptions};
use migtop::lab::{Lab, LabOptions};
use migtop::probe::{SourceDsn, SourceProbe};
use migtop::sim::SimHandle;
use migtop::verdict::cutover::SourceMark;
use migtop::verdict::readiness::{ReadinessConfig, VerdictKind};
use tokio::io::AsyncBufReadExt;
use tokio_postgres::Client;

use crate::support::machine;
use crate::support::pg::*;
use crate::support::script::{KEY_ID, SECRET, migtop};

const WAIT: Duration = Duration::from_secs(90);

/// The lab behind the simulator's API, accepting the scripted commands' key.
struct Served {
    lab: Arc<Lab>,
    source: Arc<LabSource>,
    api: SimHandle,
}

impl Served {
    async fn start() -> Option<Served> {
        if !have_pg() {
            return None;
        }
        let lab = Arc::new(
            Lab::start(LabOptions::default())
                .await
                .unwrap_or_else(|e| panic!("the lab did not start: {e:#}")),
        );
        let source = Arc::new(
            LabSource::new(lab.clone(), LabTaskOptions::default())
                .await
                .unwrap(),
        );
        let api = migtop::sim::start_with_source(
            "127.0.0.1:0".parse().unwrap(),
            credentials(),
            source.clone(),
        )
        .await
        .unwrap();
        Some(Served { lab, source, api })
    }

    fn primary(&self) -> String {
        format!("{}?sslmode=disable", self.lab.primary_dsn())
    }

    fn standby(&self) -> String {
        format!("{}?sslmode=disable", self.lab.standby_dsn())
    }

    /// `switchover` on this lab with the common flags, then `extra`.
    fn args(&self, extra: &[&str]) -> Vec<String> {
        let mut v: Vec<String> = [
            "switchover",
            "--endpoint",
            &self.api.endpoint(),
            "-i",
            LAB_INSTANCE,
            "--source-dsn",
            &self.primary(),
            "--require",
            "drained",
            "--yes",
            "--interval",
            "1s",
            "--stable-for",
            "5s",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        v.extend(extra.iter().map(|s| s.to_string()));
        v
    }

    async fn stop(self) {
        self.api.shutdown().await;
        drop(self.source);
        self.lab.close().await.unwrap();
    }
}

fn credentials() -> Credentials {
    Credentials {
        access_key_id: KEY_ID.into(),
        access_key_secret: SECRET.to_string().into(),
        security_token: None,
        origin: "test".into(),
    }
}

async fn count(pg: &Client) -> i64 {
    pg.query_one(&format!("SELECT count(*) FROM {WRITES_TABLE}"), &[])
        .await
        .unwrap()
        .get(0)
}

/// An insert in a new session with the server's defaults: `Err(message)` when refused.
async fn try_write(dsn: &str) -> Result<(), String> {
    let pg = connect(dsn).await;
    pg.batch_execute(&format!(
        "INSERT INTO {WRITES_TABLE} (pad) VALUES ('probe')"
    ))
    .await
    .map_err(|e| {
        e.as_db_error()
            .map(|d| d.message().to_string())
            .unwrap_or_else(|| e.to_string())
    })
}

async fn writer(served: &Served) -> Writer {
    let w = Writer::start(&served.lab.primary_dsn(), 20).await.unwrap();
    eventually("the writer commits", WAIT, || {
        let n = w.stats().committed;
        async move { (n >= 20).then_some(()) }
    })
    .await;
    w
}

/// `switchover --fence --require drained --target-dsn` with the writer at 20 tps: exit 0,
/// every committed row on the new primary, the source read-only afterwards, the proof
/// printed and the evidence in the recording's report; by a role with only the grants the
/// README lists. First, a role without them changes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fenced_switchover_with_a_writer_loses_nothing() {
    let _machine = machine::heavy().await;
    let Some(served) = Served::start().await else {
        return;
    };
    let home = tempfile::tempdir().unwrap();
    let pg = connect(&served.lab.primary_dsn()).await;
    let writer = writer(&served).await;

    // A plain role: refused before anything changes.
    pg.batch_execute("CREATE ROLE app LOGIN").await.unwrap();
    let app_dsn = served
        .primary()
        .replace("postgres://postgres@", "postgres://app@");
    let mut args = served.args(&["--fence"]);
    let at = args.iter().position(|a| a == "--source-dsn").unwrap();
    args[at + 1] = app_dsn;
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let (code, _, err) = migtop(home.path(), &argv).await;
    assert_eq!(code, 5, "{err}");
    assert!(err.contains("cannot fence the source"), "{err}");
    assert!(err.contains("nothing was changed"), "{err}");
    assert!(
        err.contains("GRANT ALTER SYSTEM ON PARAMETER default_transaction_read_only TO app"),
        "{err}"
    );
    assert!(!err.contains("fence on"), "{err}");
    let read_only: String = pg
        .query_one("SHOW default_transaction_read_only", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(read_only, "off");

    // A role with exactly the grants the README lists (not a superuser): fenced, drained,
    // switched, verified. It may not read the timeline history file, so the switch point
    // comes from pg_last_wal_replay_lsn().
    pg.batch_execute(
        "CREATE ROLE fencer LOGIN; \
         GRANT ALTER SYSTEM ON PARAMETER default_transaction_read_only TO fencer; \
         GRANT EXECUTE ON FUNCTION pg_reload_conf() TO fencer; \
         GRANT pg_signal_backend, pg_read_all_stats TO fencer",
    )
    .await
    .unwrap();
    let as_fencer = |dsn: String| dsn.replace("postgres://postgres@", "postgres://fencer@");
    let record = home.path().join("cutover.jsonl");
    let standby = as_fencer(served.standby());
    let mut args = served.args(&[
        "--fence",
        "--target-dsn",
        &standby,
        "--timeout",
        "120s",
        "--record",
        record.to_str().unwrap(),
    ]);
    args[at + 1] = as_fencer(served.primary());
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let (code, _, err) = migtop(home.path(), &argv).await;
    eprintln!("{err}");
    assert_eq!(code, 0, "{err}");
    for line in [
        "fence on: the source",
        "token ",
        "check at the switch: judged at ",
        "calling ActivateMigrationTargetInstance",
        "the fence stays on the old primary",
        "ALTER SYSTEM RESET default_transaction_read_only",
        "reached success",
        "verified: the new primary holds everything up to ",
        "read from pg_last_wal_replay_lsn() (the history file: ",
    ] {
        assert!(err.contains(line), "no {line:?} in:\n{err}");
    }
    assert!(!err.contains("fence lifted"), "{err}");

    // The source refuses writes; the writer is stopped by it, not by anything else.
    let refused = try_write(&served.lab.primary_dsn()).await.unwrap_err();
    assert!(refused.contains("read-only transaction"), "{refused}");
    let stats = writer.stats();
    assert!(stats.failed > 0, "{stats:?}");
    assert!(
        stats
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains("read-only")),
        "{stats:?}"
    );
    // Every row the source committed is on the new primary.
    let sb = connect(&served.lab.standby_dsn()).await;
    let (on_source, on_target) = (count(&pg).await, count(&sb).await);
    eprintln!("rows: source {on_source}, new primary {on_target}; writer {stats:?}");
    assert!(on_source > 20);
    assert_eq!(on_source, on_target, "rows lost in the switch");
    assert_eq!(stats.committed as i64, on_source, "the writer's own count");
    // The new primary takes writes.
    try_write(&served.lab.standby_dsn()).await.unwrap();

    // The evidence: on a timeline in the report.
    let page = home.path().join("cutover.html");
    let (code, _, err) = migtop(
        home.path(),
        &[
            "report",
            record.to_str().unwrap(),
            "-o",
            page.to_str().unwrap(),
            "--utc",
        ],
    )
    .await;
    assert_eq!(code, 0, "{err}");
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(
        html.contains("<h2>Cutover evidence</h2>"),
        "no evidence section"
    );
    for step in [
        "data-step=\"fence-on\"",
        "data-step=\"token\"",
        "data-step=\"check-at-the-switch\"",
        "data-step=\"activation\"",
        "data-step=\"verification\"",
    ] {
        assert!(html.contains(step), "no {step} in the report");
    }
    assert!(!html.contains("data-step=\"fence-off\""));
    drop(writer);
    served.stop().await;
}

/// The link frozen once the fence is on (and WAL the standby will not get): the standby
/// never replays the token, `--timeout 20s` passes, the fence is lifted and the source takes
/// writes again; nothing was switched. Then SIGTERM under the fence lifts it too; and a
/// session holding a transaction id is ended by `--fence-terminate`, and a proof pointed at the
/// wrong server fails with exit 1.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_frozen_link_lifts_the_fence_at_the_timeout() {
    let _machine = machine::heavy().await;
    let Some(served) = Served::start().await else {
        return;
    };
    let home = tempfile::tempdir().unwrap();
    let writer = writer(&served).await;
    let args = served.args(&["--fence", "--timeout", "20s"]);
    let (mut child, mut lines, mut err) = until_fence(home.path(), &args).await;
    served.lab.freeze_link();
    // WAL that takes no transaction id, which the standby will not receive.
    let pg = connect(&served.lab.primary_dsn()).await;
    pg.batch_execute("SET default_transaction_read_only = off; CHECKPOINT")
        .await
        .unwrap();
    let status = tokio::time::timeout(WAIT, async {
        while let Some(l) = lines.next_line().await.unwrap() {
            err.push_str(&l);
            err.push('\n');
        }
        child.wait().await.unwrap()
    })
    .await
    .unwrap_or_else(|_| panic!("switchover did not end:\n{err}"));
    eprintln!("{err}");
    assert_eq!(status.code(), Some(3), "{err}");
    assert!(err.contains("--timeout"), "{err}");
    assert!(
        err.contains("fence lifted") && err.contains("the source takes writes again"),
        "{err}"
    );
    assert!(
        !err.contains("calling ActivateMigrationTargetInstance"),
        "{err}"
    );
    // The source takes writes again (the reload reaches new sessions at once).
    try_write(&served.lab.primary_dsn()).await.unwrap();
    let before = writer.stats().committed;
    eventually("the writer writes again", WAIT, || {
        let n = writer.stats().committed;
        async move { (n > before).then_some(()) }
    })
    .await;
    served.lab.restore_link();

    // SIGTERM under the fence lifts it too.
    let args = served.args(&["--fence", "--timeout", "60s"]);
    let (mut child, mut lines, mut err) = until_fence(home.path(), &args).await;
    // SAFETY: signalling our own child.
    unsafe {
        libc::kill(child.id().unwrap() as i32, libc::SIGTERM);
    }
    let status = tokio::time::timeout(WAIT, async {
        while let Some(l) = lines.next_line().await.unwrap() {
            err.push_str(&l);
            err.push('\n');
        }
        child.wait().await.unwrap()
    })
    .await
    .unwrap_or_else(|_| panic!("switchover did not end on SIGTERM:\n{err}"));
    eprintln!("{err}");
    assert_eq!(status.code(), Some(128 + libc::SIGTERM), "{err}");
    assert!(
        err.contains("fence lifted (SIGTERM before the switch)"),
        "{err}"
    );
    try_write(&served.lab.primary_dsn()).await.unwrap();

    // A session holding a transaction id across the fence: listed, and ended with
    // --fence-terminate; then the switch goes through.
    let holder = connect(&served.lab.primary_dsn()).await;
    holder
        .batch_execute(&format!(
            "BEGIN; INSERT INTO {WRITES_TABLE} (pad) VALUES ('held')"
        ))
        .await
        .unwrap();
    // The proof is pointed at the wrong server (the old primary): the switch goes through,
    // the proof fails, naming what it found (exit 1).
    let wrong = served.primary();
    let args = served.args(&[
        "--fence",
        "--fence-terminate",
        "--timeout",
        "60s",
        "--target-dsn",
        &wrong,
    ]);
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let (code, _, err) = migtop(home.path(), &argv).await;
    eprintln!("{err}");
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("holds a transaction id: pid "), "{err}");
    assert!(err.contains("terminated pid "), "{err}");
    assert!(err.contains("reached success"), "{err}");
    assert!(
        err.contains("NOT verified: the new primary")
            && err.contains("the target is on timeline 1, not past the source's 1"),
        "{err}"
    );
    assert!(!err.contains("verified: the new primary holds"), "{err}");
    assert!(
        holder.batch_execute("COMMIT").await.is_err(),
        "the holder's session was not ended"
    );
    drop(writer);
    served.stop().await;
}

type Lines = tokio::io::Lines<tokio::io::BufReader<tokio::process::ChildStderr>>;

/// Starts `migtop ARGS` and reads its stderr until the fence is on.
async fn until_fence(
    home: &std::path::Path,
    args: &[String],
) -> (tokio::process::Child, Lines, String) {
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_migtop"))
        .args(args)
        .env_clear()
        .env("HOME", home)
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("ALIBABA_CLOUD_ACCESS_KEY_ID", KEY_ID)
        .env("ALIBABA_CLOUD_ACCESS_KEY_SECRET", SECRET)
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = tokio::io::BufReader::new(child.stderr.take().unwrap()).lines();
    let mut err = String::new();
    tokio::time::timeout(WAIT, async {
        while let Some(l) = lines.next_line().await.unwrap() {
            err.push_str(&l);
            err.push('\n');
            if l.contains("fence on:") {
                return;
            }
        }
        panic!("switchover ended before the fence:\n{err}");
    })
    .await
    .unwrap_or_else(|_| panic!("no fence in time:\n{err}"));
    (child, lines, err)
}

/// The check at the moment of the switch, against the real source: clear on an idle source
/// the standby has caught up with; a write injected after the judged window makes it refuse.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_after_the_judgement_is_refused_at_the_switch() {
    let _machine = machine::heavy().await;
    let Some(served) = Served::start().await else {
        return;
    };
    let client = RdsClient::new(
        ClientConfig {
            endpoint: served.api.endpoint().parse().unwrap(),
            timeout: Duration::from_secs(10),
            retry: RetryPolicy::default(),
            region: None,
        },
        credentials(),
    )
    .unwrap();
    let probe =
        SourceProbe::new(SourceDsn::new(served.primary()), Duration::from_secs(10)).unwrap();
    let mut s = Session::with(
        client,
        served.api.instances[0].clone(),
        Some(probe),
        Duration::from_secs(1),
        ReadinessConfig {
            stable_for: Duration::from_secs(3),
            ..ReadinessConfig::default()
        },
    );
    let deadline = tokio::time::Instant::now() + WAIT;
    let judged = loop {
        s.poll().await;
        let key = s.key.clone();
        let drained = key
            .as_deref()
            .and_then(|k| s.judge.task(k))
            .filter(|e| e.verdict.kind() == VerdictKind::Drained)
            .and_then(|e| e.history.latest())
            .and_then(|(_, d)| SourceMark::of_sample(d));
        if let Some(mark) = drained {
            break mark;
        }
        assert!(tokio::time::Instant::now() < deadline, "never DRAINED");
        tokio::time::sleep(Duration::from_secs(1)).await;
    };
    let soon = || tokio::time::Instant::now() + Duration::from_secs(20);
    let now = check::at_switch(&mut s, &judged, soon(), 5, Duration::from_secs(1))
        .await
        .unwrap_or_else(|r| panic!("an idle source was refused: {r:?}"));
    assert_eq!(now.next_xid, judged.next_xid);
    // The injected write.
    let pg = connect(&served.lab.primary_dsn()).await;
    pg.batch_execute("CREATE TABLE injected (id int); INSERT INTO injected VALUES (1)")
        .await
        .unwrap();
    let refused = check::at_switch(&mut s, &judged, soon(), 5, Duration::from_secs(1))
        .await
        .unwrap_err();
    assert_eq!(refused.code, 5);
    assert!(
        refused
            .why
            .contains("the source wrote since it was judged: next xid"),
        "{}",
        refused.why
    );
    served.stop().await;
}
