//! The PostgreSQL lab: a real primary (the "self-managed source") and a physical streaming
//! standby made with `pg_basebackup -R` (the "RDS instance"), on free loopback ports in a
//! temporary directory, with controls a migration can suffer: replay paused, link cut,
//! frozen, stalled or slowed, write bursts, promotion.
//!
//! ```text
//!   pgbench ──► primary :P ◄── link :L (relay: cut / freeze / stall / rate) ◄── standby :S (walreceiver)
//! ```
//!
//! [`Lab::task_state`] reads the standby and returns what the RDS API would report for the
//! migration task (stage, replication state and the `ReplicationInfo` object), which the
//! simulator can serve as is. Everything is cleaned up when the [`Lab`] is dropped or shut
//! down, and on exit or signals (see [`guard`]).

pub mod fixtures;
pub mod guard;
pub mod link;
pub mod load;
pub mod pg;
pub mod schedule;
pub mod session;
pub mod source;
pub mod sql;
pub mod standby;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::Mutex as StdMutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::{Context, bail};
use serde_json::{Map, Value};

use crate::model::{Lsn, ReplicationState, Stage};
pub use fixtures::Fixtures;
pub use link::{LinkMode, LinkStats, Upstream};
pub use load::{LoadPhase, LoadPlan, LoadState};
pub use standby::{ReceiverRow, StandbyReading};

/// Name of the standby's replication slot on the primary.
pub const SLOT: &str = "migtop_standby";
/// `cluster_name` of the standby, which is also its walreceiver's `application_name`.
pub const STANDBY_NAME: &str = "migtop-standby";
/// `cluster_name` of the primary.
pub const PRIMARY_NAME: &str = "migtop-primary";

/// How to start a lab.
#[derive(Debug, Clone)]
pub struct LabOptions {
    /// Directory of the PostgreSQL server binaries (default: found, see [`pg::PgBin::find`]).
    pub bindir: Option<PathBuf>,
    /// The account servers run as when migtop runs as root (default `postgres`).
    pub user: Option<String>,
    /// Where the lab's directory is made (default: the system temp dir).
    pub parent_dir: Option<PathBuf>,
    /// Limit for each server to come up and for the standby to start streaming.
    pub startup_timeout: Duration,
    /// UTC offset of the timestamps in `ReplicationInfo`, in hours (the API's samples use +08).
    pub utc_offset_hours: i8,
    /// Bandwidth cap of the link in bytes per second once the standby streams (`None`:
    /// unlimited); the base backup is never throttled.
    pub link_rate: Option<u64>,
    /// Create the pgbench tables before the standby is made, so their ~17 MB of WAL is in
    /// the base backup instead of streaming through a slow link. (Otherwise the first
    /// [`Lab::start_load`] creates them.)
    pub pgbench_init: bool,
    /// What the source checklist will find, made once the standby streams and before the
    /// link is throttled (a second database's creation is WAL).
    pub fixtures: Fixtures,
}

impl Default for LabOptions {
    fn default() -> Self {
        LabOptions {
            bindir: None,
            user: None,
            parent_dir: None,
            startup_timeout: Duration::from_secs(60),
            utc_offset_hours: 8,
            link_rate: None,
            pgbench_init: false,
            fixtures: Fixtures::default(),
        }
    }
}

/// What the RDS API would report for the lab's migration task right now.
#[derive(Debug, Clone, PartialEq)]
pub struct LabTaskState {
    pub stage: Stage,
    pub state: ReplicationState,
    /// `ReplicationInfo`: every value a string.
    pub info: Map<String, Value>,
    /// The raw reading behind it.
    pub reading: StandbyReading,
    /// The link's mode.
    pub link: LinkMode,
    /// The write load, if one was started.
    pub load: Option<LoadState>,
}

impl LabTaskState {
    /// `ReplicationInfo` as the JSON string the API puts in the task.
    pub fn replication_info_string(&self) -> String {
        Value::Object(self.info.clone()).to_string()
    }
}

/// What a precheck reads on the lab's primary.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceFacts {
    /// `server_version_num`, e.g. 150004.
    pub server_version: u32,
    pub wal_level: String,
    /// `wal_keep_size` in MB.
    pub wal_keep_size_mb: i64,
    /// The standby's replication slot exists (so WAL is kept whatever `wal_keep_size`).
    pub has_slot: bool,
    /// The account may replicate (superuser or REPLICATION).
    pub can_replicate: bool,
    /// Size of every database, in bytes.
    pub data_bytes: u64,
    pub max_connections: u32,
    pub account: String,
}

/// A running lab. Dropping it stops both servers and removes its directory.
pub struct Lab {
    // Fields drop in this order: the load and the link before the servers.
    load: tokio::sync::Mutex<Option<load::LoadHandle>>,
    link: link::Link,
    primary: sql::Sql,
    standby: sql::Sql,
    bin: pg::PgBin,
    primary_port: u16,
    standby_port: u16,
    pgbench_ready: AtomicBool,
    switching: AtomicBool,
    last_row: StdMutex<Option<ReceiverRow>>,
    cleanup: Arc<guard::Cleanup>,
    _guard: guard::LabGuard,
}

impl std::fmt::Debug for Lab {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lab")
            .field("dir", &self.dir())
            .field("primary_port", &self.primary_port)
            .field("standby_port", &self.standby_port)
            .field("link_port", &self.link.port())
            .finish()
    }
}

impl Lab {
    /// Creates the clusters, starts them and waits until the standby streams. Takes a few
    /// seconds. On any failure everything made so far is removed.
    pub async fn start(opts: LabOptions) -> anyhow::Result<Lab> {
        let bin = pg::PgBin::find(opts.bindir.as_deref())?;
        let run_as = pg::RunAs::decide(opts.user.as_deref())?;
        let parent = opts.parent_dir.clone().unwrap_or_else(std::env::temp_dir);
        guard::sweep_stale(&parent);
        let dir = pg::create_lab_dir(&parent, run_as.as_ref())?;
        let cleanup = guard::Cleanup::new(dir.clone());
        // From here on, an early return drops the guard, which removes everything.
        let lab_guard = guard::LabGuard(cleanup.clone());
        let run_as = run_as.as_ref();

        let primary_data = dir.join("primary");
        pg::initdb(&bin, run_as, &dir, &primary_data).await?;
        let primary_port = start_server(
            &bin,
            run_as,
            &cleanup,
            "primary",
            PRIMARY_NAME,
            &primary_data,
            opts.startup_timeout,
        )
        .await?;

        let pgbench = load::Target {
            pgbench: bin.tool("pgbench"),
            port: primary_port,
            log: dir.join("pgbench.log"),
        };
        if opts.pgbench_init {
            pgbench.initialize().await?;
        }

        // Through the primary's Unix socket when its path fits (see `link::Upstream::Unix`).
        let socket = dir.join(format!(".s.PGSQL.{primary_port}"));
        let upstream = if socket.as_os_str().len() < 100 && socket.exists() {
            link::Upstream::Unix(socket)
        } else {
            link::Upstream::Tcp(SocketAddr::from(([127, 0, 0, 1], primary_port)))
        };
        let link = link::Link::start(upstream)
            .await
            .context("cannot start the link relay")?;
        let standby_data = dir.join("standby");
        pg::basebackup(&bin, run_as, &dir, &standby_data, link.port(), SLOT).await?;
        let standby_port = start_server(
            &bin,
            run_as,
            &cleanup,
            "standby",
            STANDBY_NAME,
            &standby_data,
            opts.startup_timeout,
        )
        .await?;

        let offset = opts.utc_offset_hours.clamp(-12, 14);
        let tz = format!(
            "SET TIME ZONE INTERVAL '{}{:02}:00' HOUR TO MINUTE",
            if offset < 0 { '-' } else { '+' },
            offset.unsigned_abs()
        );
        let lab = Lab {
            load: tokio::sync::Mutex::new(None),
            link,
            primary: sql::Sql::new(pg::conninfo(primary_port), ""),
            standby: sql::Sql::new(pg::conninfo(standby_port), tz),
            bin,
            primary_port,
            standby_port,
            pgbench_ready: AtomicBool::new(opts.pgbench_init),
            switching: AtomicBool::new(false),
            last_row: StdMutex::new(None),
            cleanup,
            _guard: lab_guard,
        };
        lab.wait_for("the standby to stream", opts.startup_timeout, |s| {
            s.state == ReplicationState::Streaming
        })
        .await
        .map_err(|e| {
            anyhow::anyhow!(
                "{e}; standby log: {}",
                pg::log_tail(&lab.dir().join("standby.log"), 6)
            )
        })?;
        lab.create_fixtures(opts.fixtures)
            .await
            .context("cannot make the checklist's objects on the primary")?;
        // Only now: the base backup, catch-up and fixtures go at full speed.
        lab.link.set_rate(opts.link_rate);
        Ok(lab)
    }

    /// The lab's directory (removed on cleanup).
    pub fn dir(&self) -> &Path {
        self.cleanup.dir()
    }

    /// The PostgreSQL version in use.
    pub fn version(&self) -> &str {
        &self.bin.version
    }

    /// Port of the primary.
    pub fn primary_port(&self) -> u16 {
        self.primary_port
    }

    /// Port of the standby.
    pub fn standby_port(&self) -> u16 {
        self.standby_port
    }

    /// Port of the link relay the standby streams through.
    pub fn link_port(&self) -> u16 {
        self.link.port()
    }

    /// `postgres://postgres@127.0.0.1:PORT/postgres` of the primary (trust auth, no password).
    pub fn primary_dsn(&self) -> String {
        format!(
            "postgres://postgres@127.0.0.1:{}/postgres",
            self.primary_port
        )
    }

    /// `postgres://postgres@127.0.0.1:PORT/postgres` of the standby (trust auth, no password).
    pub fn standby_dsn(&self) -> String {
        format!(
            "postgres://postgres@127.0.0.1:{}/postgres",
            self.standby_port
        )
    }

    /// Pids of the server processes (postmasters), by name.
    pub fn server_pids(&self) -> Vec<(String, u32)> {
        self.cleanup.pids()
    }

    /// Reads the standby once.
    pub async fn read_standby(&self) -> anyhow::Result<StandbyReading> {
        let reading = self
            .standby
            .with_client(async |c| standby::read(c).await)
            .await
            .context("cannot read the standby")?;
        if let Some(r) = &reading.receiver {
            *self.last_row.lock().unwrap_or_else(|e| e.into_inner()) = Some(r.clone());
        }
        Ok(reading)
    }

    /// The primary's walsender state for the standby (`catchup`, `streaming`, ...), if any.
    pub async fn walsender_state(&self) -> Option<String> {
        let rows = self
            .primary
            .query(
                "SELECT state FROM pg_stat_replication WHERE application_name = $1",
                &[&STANDBY_NAME],
            )
            .await
            .ok()?;
        rows.first().and_then(|r| r.try_get(0).ok())
    }

    /// What the RDS API would report for the lab's task now.
    pub async fn task_state(&self) -> anyhow::Result<LabTaskState> {
        let reading = self.read_standby().await?;
        let walsender = if reading.in_recovery {
            self.walsender_state().await
        } else {
            None
        };
        let state = standby::replication_state(&reading, walsender.as_deref());
        let last = self
            .last_row
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let info = standby::replication_info(&reading, last.as_ref(), &state);
        let stage = standby::stage(&reading, self.switching.load(Ordering::SeqCst));
        let load = self.load.lock().await.as_ref().map(|l| l.state());
        Ok(LabTaskState {
            stage,
            state,
            info,
            reading,
            link: self.link.mode(),
            load,
        })
    }

    /// The `ReplicationInfo` object as the API would report it.
    pub async fn replication_info(&self) -> anyhow::Result<Map<String, Value>> {
        Ok(self.task_state().await?.info)
    }

    /// Polls [`Lab::task_state`] until `pred` holds; fails after `timeout` with the last state.
    pub async fn wait_for(
        &self,
        what: &str,
        timeout: Duration,
        pred: impl Fn(&LabTaskState) -> bool,
    ) -> anyhow::Result<LabTaskState> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let last = self.task_state().await;
            match &last {
                Ok(s) if pred(s) => return last,
                _ => {}
            }
            if tokio::time::Instant::now() >= deadline {
                let seen = match last {
                    Ok(s) => format!(
                        "stage {}, state {}, Status {}",
                        s.stage, s.state, s.info["Status"]
                    ),
                    Err(e) => format!("{e:#}"),
                };
                bail!(
                    "waited {} s for {what}; last seen: {seen}",
                    timeout.as_secs()
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// `pg_current_wal_lsn()` on the primary.
    pub async fn source_lsn(&self) -> anyhow::Result<Lsn> {
        let row = self
            .primary
            .one("SELECT pg_current_wal_lsn()::text", &[])
            .await?;
        let text: String = row.try_get(0)?;
        Ok(text.parse()?)
    }

    /// Pauses WAL replay on the standby (`pg_wal_replay_pause()`): the not-replayed part grows.
    pub async fn pause_replay(&self) -> anyhow::Result<()> {
        self.standby
            .one("SELECT pg_wal_replay_pause()", &[])
            .await?;
        Ok(())
    }

    /// Resumes WAL replay (`pg_wal_replay_resume()`).
    pub async fn resume_replay(&self) -> anyhow::Result<()> {
        self.standby
            .one("SELECT pg_wal_replay_resume()", &[])
            .await?;
        Ok(())
    }

    /// Delays replay of each commit by `delay` (`recovery_min_apply_delay`, reloaded live):
    /// a steady apply lag of `delay` worth of writes, which drains when writes stop.
    pub async fn set_apply_delay(&self, delay: Duration) -> anyhow::Result<()> {
        let ms = delay.as_millis().min(i32::MAX as u128);
        self.standby
            .query(
                &format!("ALTER SYSTEM SET recovery_min_apply_delay = '{ms}ms'"),
                &[],
            )
            .await
            .map_err(|e| anyhow::anyhow!("{}", crate::probe::error_text(&e)))?;
        self.standby.one("SELECT pg_reload_conf()", &[]).await?;
        Ok(())
    }

    /// Cuts the link: the standby's connection is closed and its reconnects refused, so its
    /// receiver stops (`disconnect`) while the primary keeps writing.
    pub fn cut_link(&self) {
        self.link.set_mode(LinkMode::Cut);
    }

    /// Stalls the link: connections stay open but nothing flows (a silent network drop).
    pub fn stall_link(&self) {
        self.link.set_mode(LinkMode::Stalled);
    }

    /// Freezes the link: the primary's walsender stops sending (nothing reaches the standby)
    /// while both connections stay open; the standby says `streaming` until
    /// `wal_receiver_timeout` (30 s in the lab).
    pub fn freeze_link(&self) {
        self.link.set_mode(LinkMode::Frozen);
    }

    /// Restores the link; the standby reconnects within `wal_retrieve_retry_interval` (1 s).
    pub fn restore_link(&self) {
        self.link.set_mode(LinkMode::Up);
    }

    /// Caps the link's primary-to-standby bandwidth (bytes per second); `None` lifts it.
    pub fn set_link_rate(&self, bytes_per_sec: Option<u64>) {
        self.link.set_rate(bytes_per_sec);
    }

    /// Where the link relay connects to the primary.
    pub fn link_upstream(&self) -> &Upstream {
        self.link.upstream()
    }

    /// The link's mode.
    pub fn link_mode(&self) -> LinkMode {
        self.link.mode()
    }

    /// The link's byte and connection counters.
    pub fn link_stats(&self) -> LinkStats {
        self.link.stats()
    }

    /// Promotes the standby (`pg_promote()`), as ActivateMigrationTargetInstance would: the
    /// task goes to `switch` while it runs, then `success`.
    pub async fn promote(&self) -> anyhow::Result<()> {
        self.switching.store(true, Ordering::SeqCst);
        let result = self.standby.one("SELECT pg_promote(true, 60)", &[]).await;
        self.switching.store(false, Ordering::SeqCst);
        let done: bool = result?.try_get(0)?;
        if !done {
            bail!("the standby did not finish promotion within 60 s");
        }
        Ok(())
    }

    /// Starts write load on the primary (replacing any running plan); creates the pgbench
    /// tables the first time.
    pub async fn start_load(&self, plan: LoadPlan) -> anyhow::Result<()> {
        let mut slot = self.load.lock().await;
        if let Some(old) = slot.take() {
            old.stop().await;
        }
        let target = load::Target {
            pgbench: self.bin.tool("pgbench"),
            port: self.primary_port,
            log: self.dir().join("pgbench.log"),
        };
        if !self.pgbench_ready.load(Ordering::SeqCst) {
            target.initialize().await?;
            self.pgbench_ready.store(true, Ordering::SeqCst);
        }
        *slot = Some(load::LoadHandle::start(target, plan));
        Ok(())
    }

    /// Stops the write load, if any, and waits until pgbench is gone.
    pub async fn stop_load(&self) {
        if let Some(h) = self.load.lock().await.take() {
            h.stop().await;
        }
    }

    /// The write load's state, if one was started.
    pub async fn load_state(&self) -> Option<LoadState> {
        self.load.lock().await.as_ref().map(|l| l.state())
    }

    /// Facts about the primary a migration precheck looks at.
    pub async fn source_facts(&self) -> anyhow::Result<SourceFacts> {
        let row = self
            .primary
            .one(
                "SELECT current_setting('server_version_num')::int,
                        current_setting('wal_level'),
                        (SELECT setting::bigint FROM pg_settings WHERE name = 'wal_keep_size'),
                        (SELECT count(*) FROM pg_replication_slots WHERE slot_name = $1)::int,
                        (SELECT rolsuper OR rolreplication FROM pg_roles WHERE rolname = current_user),
                        (SELECT sum(pg_database_size(oid)) FROM pg_database)::bigint,
                        current_setting('max_connections')::int,
                        current_user::text",
                &[&SLOT],
            )
            .await?;
        Ok(SourceFacts {
            server_version: row.try_get::<_, i32>(0)? as u32,
            wal_level: row.try_get(1)?,
            wal_keep_size_mb: row.try_get::<_, Option<i64>>(2)?.unwrap_or(0),
            has_slot: row.try_get::<_, i32>(3)? > 0,
            can_replicate: row.try_get::<_, Option<bool>>(4)?.unwrap_or(false),
            data_bytes: row.try_get::<_, Option<i64>>(5)?.unwrap_or(0).max(0) as u64,
            max_connections: row.try_get::<_, i32>(6)? as u32,
            account: row.try_get(7)?,
        })
    }

    /// Stops the load and both servers and removes the directory, through a shared
    /// reference (for a lab held in an `Arc`). Idempotent; afterwards every call to the
    /// servers fails.
    pub async fn close(&self) -> anyhow::Result<()> {
        self.stop_load().await;
        let cleanup = self.cleanup.clone();
        // Off the async threads: stopping servers blocks for a moment.
        tokio::task::spawn_blocking(move || cleanup.run()).await?;
        Ok(())
    }

    /// Whether the servers were stopped and the directory removed.
    pub fn is_closed(&self) -> bool {
        self.cleanup.is_done()
    }

    /// Stops the load, the link and both servers, and removes the directory.
    pub async fn shutdown(self) -> anyhow::Result<()> {
        self.close().await?;
        drop(self);
        Ok(())
    }
}

/// Starts one server on a free port (retrying if another process takes the port first) and
/// waits until it accepts connections. Returns the port.
async fn start_server(
    bin: &pg::PgBin,
    run_as: Option<&pg::RunAs>,
    cleanup: &guard::Cleanup,
    name: &str,
    cluster_name: &str,
    data: &Path,
    timeout: Duration,
) -> anyhow::Result<u16> {
    let dir = cleanup.dir().to_path_buf();
    let log = dir.join(format!("{name}.log"));
    let mut attempt = 0;
    loop {
        attempt += 1;
        let port = pg::free_port()?;
        let child = pg::spawn_server(bin, run_as, &dir, data, port, cluster_name, &log)?;
        // Registered at once, so a cancelled start still stops it.
        cleanup.add_server(name, child);
        match pg::wait_ready(cleanup, name, port, &log, timeout).await {
            Ok(()) => return Ok(port),
            Err(e) => {
                cleanup.stop_server(name);
                if attempt < 3 && pg::lost_port_race(&log) {
                    continue;
                }
                return Err(e.context(format!("the lab's {name} did not start")));
            }
        }
    }
}
