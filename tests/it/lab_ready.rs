//! Readiness against real PostgreSQL: what the source probe's transaction ids mean, and the
//! verdict the dashboard's state reaches over real polls of the lab's API (issue 9's
//! Done-when: a frozen link, an idle source with housekeeping WAL, a disconnected standby).
//!
//! Timing: every wait is a deadline on a condition, generous for a loaded 2-core machine;
//! nothing asserts how long something took beyond "within a deadline".

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use migtop::aliyun::{ClientConfig, Credentials, RdsClient, RetryPolicy, TaskFilter};
use migtop::app::{Action, App, AppConfig};
use migtop::lab::source::{LabSource, LabTaskOptions};
use migtop::lab::{Lab, LabOptions};
use migtop::model::ReplicationState;
use migtop::poller::{PollEvent, PollResult};
use migtop::probe::{SourceDsn, SourceProbe, SourceSample};
use migtop::sim::SimHandle;
use migtop::verdict::readiness::{ReadinessConfig, Verdict, VerdictKind};
use tokio_postgres::Client;

use crate::support::machine;
use crate::support::pg::*;

const WAIT: Duration = Duration::from_secs(60);

const KEY_ID: &str = "LTAI5tLABREADYTEST";
const SECRET: &str = "lab-ready-secret";

async fn lab() -> Option<Lab> {
    if !have_pg() {
        return None;
    }
    Some(
        Lab::start(LabOptions::default())
            .await
            .unwrap_or_else(|e| panic!("the lab did not start: {e:#}")),
    )
}

fn probe(dsn: &str) -> SourceProbe {
    SourceProbe::new(
        SourceDsn::new(format!("{dsn}?sslmode=disable")),
        Duration::from_secs(10),
    )
    .unwrap()
}

async fn sample(p: &mut SourceProbe) -> SourceSample {
    p.sample().await.unwrap_or_else(|e| panic!("probe: {e}"))
}

/// The next xid and in-progress flag straight from the legacy (`txid_*`) query, which
/// PostgreSQL 15 still has: both queries must agree.
async fn legacy_xids(pg: &Client) -> (Option<u64>, Option<bool>) {
    let row = pg
        .query_one(migtop::probe::SAMPLE_SQL_LEGACY, &[])
        .await
        .unwrap();
    let xmax: String = row.get(3);
    let xmin: String = row.get(4);
    let age: i32 = row.get(5);
    migtop::probe::xid_state(xmax.parse().unwrap(), xmin.parse().unwrap(), age)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn next_xid_moves_only_for_writes_not_for_housekeeping_wal() {
    let _machine = machine::heavy().await;
    let Some(lab) = lab().await else { return };
    let pg = connect(&lab.primary_dsn()).await;
    pg.batch_execute("CREATE TABLE IF NOT EXISTS x (id int); CREATE ROLE monitor LOGIN")
        .await
        .unwrap();
    // A login-only role is enough.
    let mut p = probe(&format!(
        "postgres://monitor@127.0.0.1:{}/postgres",
        lab.primary_port()
    ));

    // Idle: checkpoints write WAL, the next xid stays put.
    let idle = sample(&mut p).await;
    eprintln!("idle: {idle:?}");
    assert!(!idle.simulated);
    assert_eq!(idle.wal_sender_timeout, Some(Duration::from_secs(30)));
    assert_eq!(idle.xid_in_progress, Some(false));
    let next = idle.next_xid.expect("PostgreSQL 15 reports its next xid");
    assert_eq!(legacy_xids(&pg).await, (Some(next), Some(false)));
    for _ in 0..2 {
        pg.batch_execute("CHECKPOINT").await.unwrap();
        let s = sample(&mut p).await;
        assert!(
            s.lsn > idle.lsn,
            "a checkpoint writes WAL: {} → {}",
            idle.lsn,
            s.lsn
        );
        assert_eq!(s.next_xid, Some(next), "housekeeping WAL assigns no xid");
        assert_eq!(s.xid_in_progress, Some(false));
    }
    // A read-only transaction left open holds no xid.
    let reader = connect(&lab.primary_dsn()).await;
    reader
        .batch_execute("BEGIN; SELECT count(*) FROM x")
        .await
        .unwrap();
    let s = sample(&mut p).await;
    assert_eq!((s.next_xid, s.xid_in_progress), (Some(next), Some(false)));
    reader.batch_execute("COMMIT").await.unwrap();

    // A committed write moves it.
    pg.batch_execute("INSERT INTO x VALUES (1)").await.unwrap();
    let s = sample(&mut p).await;
    assert_eq!(
        (s.next_xid, s.xid_in_progress),
        (Some(next + 1), Some(false))
    );

    // A write in a transaction still open: it holds the newest xid, which the snapshot's
    // xmax (latest completed + 1) does not show; the probe's next xid does, and says so.
    let writer = connect(&lab.primary_dsn()).await;
    writer
        .batch_execute("BEGIN; INSERT INTO x VALUES (2)")
        .await
        .unwrap();
    let open = sample(&mut p).await;
    eprintln!("open writer: {open:?}");
    assert_eq!(open.next_xid, Some(next + 2));
    assert_eq!(open.xid_in_progress, Some(true));
    assert_eq!(legacy_xids(&pg).await, (Some(next + 2), Some(true)));
    writer.batch_execute("COMMIT").await.unwrap();
    let done = sample(&mut p).await;
    assert_eq!(
        (done.next_xid, done.xid_in_progress),
        (Some(next + 2), Some(false))
    );

    // A standby as the source (a cascade): the same numbers, from replay.
    let mut on_standby = probe(&lab.standby_dsn());
    let deadline = tokio::time::Instant::now() + WAIT;
    let s = loop {
        let s = sample(&mut on_standby).await;
        if s.next_xid >= Some(next + 2) {
            break s;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the standby did not replay the commit: {s:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    eprintln!("standby: {s:?}");
    assert!(s.in_recovery);
    assert_eq!(s.xid_in_progress, Some(false));
    pg.batch_execute("CHECKPOINT").await.unwrap();
    let again = sample(&mut on_standby).await;
    assert_eq!(again.next_xid, s.next_xid);
    lab.shutdown().await.unwrap();
}

// ---------------------------------------------------------------------------------------
// The dashboard's state over real polls: the lab's task through the simulator's API, the
// primary through the source probe, fed to `App` as the poller would.

/// The lab behind the simulator's API.
struct Served {
    lab: Arc<Lab>,
    source: Arc<LabSource>,
    api: SimHandle,
}

impl Served {
    async fn start() -> Option<Served> {
        let lab = Arc::new(lab().await?);
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

    /// A dashboard state on this lab; with `probed`, the source probe reads the primary.
    fn watch(&self, probed: bool, stable_for: Duration) -> Watch {
        let instance = self.api.instances[0].clone();
        let mut config = AppConfig::new(vec![instance.clone()]);
        config.interval = Duration::from_secs(1);
        config.readiness = ReadinessConfig {
            stable_for,
            ..ReadinessConfig::default()
        };
        let probe = probed.then(|| probe(&self.lab.primary_dsn()));
        config.source_probe = probe.as_ref().map(|p| p.target().to_string());
        Watch {
            app: App::new(config, Utc::now()),
            api: client(&self.api.endpoint()),
            instance,
            probe,
        }
    }

    async fn stop(self) {
        self.api.shutdown().await;
        drop(self.source);
        let dir = self.lab.dir().to_path_buf();
        self.lab.close().await.unwrap();
        assert!(!dir.exists());
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

fn client(endpoint: &str) -> RdsClient {
    RdsClient::new(
        ClientConfig {
            endpoint: endpoint.parse().unwrap(),
            timeout: Duration::from_secs(10),
            retry: RetryPolicy::default(),
            region: None,
        },
        credentials(),
    )
    .unwrap()
}

/// One dashboard state polling the lab.
struct Watch {
    app: App,
    api: RdsClient,
    instance: String,
    probe: Option<SourceProbe>,
}

/// What one poll showed.
#[derive(Debug)]
struct Seen {
    verdict: Verdict,
    state: Option<ReplicationState>,
    /// The judged lag.
    lag: Option<u64>,
    /// The judged lag is only a lower bound.
    lag_lower_bound: bool,
    /// The screen at 120x40, as text.
    screen: String,
}

impl Watch {
    /// Polls the API (and the source, with a probe), as the poller does, and reads the task.
    async fn poll(&mut self) -> Seen {
        let started = Utc::now();
        let result = self
            .api
            .describe_tasks(&self.instance, &TaskFilter::default())
            .await;
        let source = match (&result, self.probe.as_mut()) {
            (Ok(_), Some(p)) => Some(p.report().await),
            _ => None,
        };
        let r = PollResult {
            instance: self.instance.clone(),
            started,
            at: Utc::now(),
            result,
            source,
        };
        self.app.update(Action::Poll(PollEvent::Finished(r)));
        self.app.update(Action::Tick(Utc::now()));
        let entry = self
            .app
            .tasks()
            .values()
            .next()
            .expect("the lab's task is listed");
        let verdict = entry.verdict.clone();
        let state = entry.task.replication_state.clone();
        let lag = entry.judged_lag();
        let lag_lower_bound = entry.lag_is_lower_bound();
        Seen {
            verdict,
            state,
            lag,
            lag_lower_bound,
            screen: self.screen(),
        }
    }

    fn screen(&mut self) -> String {
        use ratatui::Terminal;
        use ratatui::backend::TestBackend;
        self.app.update(Action::Resize(120, 40));
        let mut t = Terminal::new(TestBackend::new(120, 40)).unwrap();
        t.draw(|f| migtop::ui::draw(f, &self.app)).unwrap();
        let buf = t.backend().buffer();
        let mut out = String::new();
        for y in 0..buf.area.height {
            for x in 0..buf.area.width {
                out.push_str(buf[(x, y)].symbol());
            }
            out.push('\n');
        }
        out
    }
}

/// Writes a small transaction on the primary every 100 ms until dropped.
struct Writer(tokio::task::JoinHandle<()>);

impl Writer {
    async fn start(dsn: &str) -> Writer {
        let pg = connect(dsn).await;
        pg.batch_execute("CREATE TABLE IF NOT EXISTS busy (id bigint, pad text)")
            .await
            .unwrap();
        Writer(tokio::spawn(async move {
            loop {
                let _ = pg
                    .batch_execute(
                        "INSERT INTO busy SELECT g, repeat('w', 200) FROM generate_series(1, 200) g",
                    )
                    .await;
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }))
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        self.0.abort();
    }
}

const SETTLE: Duration = Duration::from_secs(90);

/// Polls `w` about once a second until `pred` holds; panics after `timeout` with the last.
async fn poll_until(
    w: &mut Watch,
    what: &str,
    timeout: Duration,
    pred: impl Fn(&Seen) -> bool,
) -> Seen {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let seen = w.poll().await;
        if pred(&seen) {
            return seen;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "waited {timeout:?} for {what}; last: {:?} state {:?} lag {:?}\n{}",
            seen.verdict,
            seen.state,
            seen.lag,
            seen.screen
        );
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// A frozen link (the walsender stops sending, the connection stays up) while the source
/// writes: the standby still says `streaming`; without a probe the dashboard never says
/// DRAINED, with one it says NOT READY within seconds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn frozen_link_is_never_drained_and_not_ready_with_a_probe() {
    let _machine = machine::heavy().await;
    let Some(served) = Served::start().await else {
        return;
    };
    let stable = Duration::from_secs(5);
    let mut blind = served.watch(false, stable);
    let mut probed = served.watch(true, stable);
    // Idle first: the probed view reaches DRAINED (the evidence is there to lose).
    poll_until(&mut probed, "DRAINED before the freeze", SETTLE, |s| {
        s.verdict.kind() == VerdictKind::Drained
    })
    .await;
    blind.poll().await;

    served.lab.freeze_link();
    let writer = Writer::start(&served.lab.primary_dsn()).await;
    let frozen_at = tokio::time::Instant::now();
    let mut not_ready_after = None;
    let mut streaming_polls = 0;
    // Until the standby's wal_receiver_timeout (30 s) it says `streaming`.
    while frozen_at.elapsed() < Duration::from_secs(24) {
        let b = blind.poll().await;
        let p = probed.poll().await;
        if b.state == Some(ReplicationState::Streaming) {
            streaming_polls += 1;
            assert_ne!(
                b.verdict.kind(),
                VerdictKind::Drained,
                "DRAINED without a probe on a frozen link:\n{}",
                b.screen
            );
            assert!(!b.screen.contains("loses nothing"), "{}", b.screen);
        }
        if p.verdict.kind() == VerdictKind::NotReady && not_ready_after.is_none() {
            not_ready_after = Some(frozen_at.elapsed());
        }
        if let Some(after) = not_ready_after {
            // Once NOT READY it stays so while the link is frozen.
            assert_eq!(
                p.verdict.kind(),
                VerdictKind::NotReady,
                "{after:?} after the freeze: {:?}\n{}",
                p.verdict,
                p.screen
            );
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    eprintln!(
        "frozen link: {streaming_polls} polls said streaming; NOT READY with a probe after {not_ready_after:?}"
    );
    assert!(
        streaming_polls >= 3,
        "the standby stopped saying streaming at once"
    );
    let after = not_ready_after.expect("NOT READY with a probe on a frozen link");
    assert!(
        after < Duration::from_secs(15),
        "NOT READY only after {after:?}"
    );
    drop(writer);
    served.lab.restore_link();
    served.stop().await;
}

/// An idle source holds DRAINED for minutes (over two) although its WAL position keeps moving
/// (forced checkpoints every 10 s, as housekeeping does), without flapping; then through 45 s
/// with no WAL at all, where only keepalives cross the link (the liveness rule must not flag
/// them).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_source_holds_drained_through_housekeeping_wal() {
    let _machine = machine::heavy().await;
    let Some(served) = Served::start().await else {
        return;
    };
    let pg = connect(&served.lab.primary_dsn()).await;
    // Idle means idle: autovacuum's ANALYZE is a writing transaction (it would rightly
    // reset the window), so it is off for this test.
    pg.batch_execute("ALTER SYSTEM SET autovacuum = off")
        .await
        .unwrap();
    pg.batch_execute("SELECT pg_reload_conf()").await.unwrap();
    let checkpoints = tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_secs(10)).await;
            if pg.batch_execute("CHECKPOINT").await.is_err() {
                return;
            }
        }
    });
    let mut w = served.watch(true, Duration::from_secs(5));
    poll_until(&mut w, "DRAINED", SETTLE, |s| {
        s.verdict.kind() == VerdictKind::Drained
    })
    .await;
    let mut p = probe(&served.lab.primary_dsn());
    let first = sample(&mut p).await;
    let since = tokio::time::Instant::now();
    let mut polls = 0;
    let mut checkpoints = Some(checkpoints);
    while since.elapsed() < Duration::from_secs(125) {
        if since.elapsed() > Duration::from_secs(80)
            && let Some(c) = checkpoints.take()
        {
            c.abort();
        }
        let s = w.poll().await;
        polls += 1;
        assert_eq!(
            s.verdict.kind(),
            VerdictKind::Drained,
            "DRAINED flapped after {:?} on an idle source: {:?}\n{}",
            since.elapsed(),
            s.verdict,
            s.screen
        );
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    let last = sample(&mut p).await;
    eprintln!(
        "idle source: DRAINED over {polls} polls while WAL moved {} → {}, next xid {:?}",
        first.lsn, last.lsn, last.next_xid
    );
    assert!(last.lsn > first.lsn, "the checkpoints wrote no WAL");
    assert_eq!(
        last.next_xid, first.next_xid,
        "something wrote on the idle source"
    );
    served.stop().await;
}

/// A disconnected standby (link cut) while the source writes: never "caught up", never IN
/// SYNC or DRAINED, and its lag never shown as an exact 0.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disconnected_standby_never_looks_caught_up() {
    let _machine = machine::heavy().await;
    let Some(served) = Served::start().await else {
        return;
    };
    let stable = Duration::from_secs(5);
    let mut blind = served.watch(false, stable);
    let mut probed = served.watch(true, stable);
    blind.poll().await;
    probed.poll().await;
    served.lab.cut_link();
    let writer = Writer::start(&served.lab.primary_dsn()).await;
    poll_until(&mut blind, "disconnect", SETTLE, |s| {
        s.state == Some(ReplicationState::Disconnect)
    })
    .await;
    let since = tokio::time::Instant::now();
    while since.elapsed() < Duration::from_secs(20) {
        let b = blind.poll().await;
        let p = probed.poll().await;
        for (who, s) in [("without a probe", &b), ("with a probe", &p)] {
            assert_eq!(
                s.verdict.kind(),
                VerdictKind::NotReady,
                "{who}: {:?}",
                s.verdict
            );
            assert!(!s.screen.contains("caught up"), "{who}:\n{}", s.screen);
        }
        for exact_zero in ["lag 0 B", "not received 0 B", "caught up"] {
            assert!(
                !b.screen.contains(exact_zero),
                "{exact_zero}:\n{}",
                b.screen
            );
        }
        // Without a probe the lag is never an exact figure: unknown (as this run's standby
        // reports it after the cut) or a lower bound, `≥ X`.
        assert!(b.lag.is_none() || b.lag_lower_bound, "{:?}", b.lag);
        if b.lag.is_some() {
            assert!(b.screen.contains("lower bound: no ETA"), "{}", b.screen);
        }
        // With a probe the true lag is exact.
        assert!(!p.lag_lower_bound, "{:?}", p.lag);
        assert!(
            p.lag.is_some_and(|l| l > 0),
            "with a probe the true lag shows: {:?}",
            p.lag
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    drop(writer);
    served.lab.restore_link();
    served.stop().await;
}
