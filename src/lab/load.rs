//! Write load on the lab's primary: `pgbench` at a varying rate (bursts, quiet periods, then a
//! final stop of writes), as a cancellable tokio task.
//!
//! Each phase with a rate runs one `pgbench -R TPS -T SECONDS`; a phase with rate 0 is a quiet
//! period. When the plan ends (and does not repeat) writes stop for good, so the standby's lag
//! drains to zero, the moment a DBA waits for before switching over.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use serde::Serialize;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// One stretch of the plan.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LoadPhase {
    /// Transactions per second (pgbench `-R`); 0 is a quiet period.
    pub tps: u32,
    #[serde(with = "secs")]
    pub duration: Duration,
    /// pgbench clients (`-c`).
    pub clients: u32,
}

mod secs {
    pub fn serialize<S: serde::Serializer>(
        d: &std::time::Duration,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        s.serialize_f64(d.as_secs_f64())
    }
}

/// A sequence of phases; after the last one, writes stop unless it repeats.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LoadPlan {
    pub phases: Vec<LoadPhase>,
    pub repeat: bool,
}

impl LoadPlan {
    /// A plan with a warm-up, two bursts around a quiet period, a steady stretch and a final
    /// stop of writes: about two minutes.
    pub fn demo() -> LoadPlan {
        let p = |tps, secs, clients| LoadPhase {
            tps,
            duration: Duration::from_secs(secs),
            clients,
        };
        LoadPlan {
            phases: vec![
                p(50, 10, 2),
                p(600, 15, 4),
                p(0, 15, 1),
                p(400, 20, 4),
                p(100, 30, 2),
                p(20, 20, 1),
            ],
            repeat: false,
        }
    }

    /// A single phase of `tps` for `duration`, then no more writes.
    pub fn once(tps: u32, duration: Duration) -> LoadPlan {
        LoadPlan {
            phases: vec![LoadPhase {
                tps,
                duration,
                clients: 2,
            }],
            repeat: false,
        }
    }

    /// The same plan with every phase `speed` times shorter (at least one second each, as
    /// pgbench counts whole seconds).
    pub fn scaled(mut self, speed: f64) -> LoadPlan {
        if speed.is_finite() && speed > 0.0 {
            for p in &mut self.phases {
                p.duration = p.duration.div_f64(speed).max(Duration::from_secs(1));
            }
        }
        self
    }

    /// Total length of one pass.
    pub fn total(&self) -> Duration {
        self.phases.iter().map(|p| p.duration).sum()
    }
}

/// What the load driver is doing.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum LoadState {
    /// Phase `phase` (0-based) writing at `tps`.
    Writing { phase: usize, tps: u32 },
    /// Phase `phase` is a quiet period.
    Quiet { phase: usize },
    /// The plan is over: no more writes.
    Finished,
    /// Stopped before the end.
    Stopped,
    /// pgbench failed; the text is its output's tail.
    Failed { error: String },
}

/// Where pgbench connects and logs.
#[derive(Debug, Clone)]
pub struct Target {
    pub pgbench: PathBuf,
    pub port: u16,
    pub log: PathBuf,
}

impl Target {
    fn command(&self) -> tokio::process::Command {
        let mut cmd = tokio::process::Command::new(&self.pgbench);
        for (k, _) in std::env::vars_os() {
            if k.to_str().is_some_and(|k| k.starts_with("PG")) {
                cmd.env_remove(k);
            }
        }
        cmd.args([
            "-h",
            "127.0.0.1",
            "-p",
            &self.port.to_string(),
            "-U",
            "postgres",
        ])
        .stdin(Stdio::null())
        .process_group(0)
        .kill_on_drop(true);
        cmd
    }

    fn log_file(&self) -> std::io::Result<std::fs::File> {
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
    }

    /// `pgbench -i` at scale 1 with server-side data generation (fast, and itself real WAL).
    pub async fn initialize(&self) -> anyhow::Result<()> {
        let out = self
            .command()
            .args(["-i", "-s", "1", "-q", "-I", "dtGp", "postgres"])
            .output()
            .await?;
        if !out.status.success() {
            anyhow::bail!(
                "pgbench -i failed: {}",
                super::pg::tail(&String::from_utf8_lossy(&out.stderr), 6)
            );
        }
        Ok(())
    }
}

/// A running plan; dropping it stops the writes at once.
pub struct LoadHandle {
    state: watch::Receiver<LoadState>,
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl LoadHandle {
    /// Starts the plan on the tokio runtime. The pgbench tables must exist.
    pub fn start(target: Target, plan: LoadPlan) -> LoadHandle {
        let first = match plan.phases.first() {
            Some(p) if p.tps > 0 => LoadState::Writing {
                phase: 0,
                tps: p.tps,
            },
            Some(_) => LoadState::Quiet { phase: 0 },
            None => LoadState::Finished,
        };
        let (state_tx, state) = watch::channel(first);
        let (stop, stop_rx) = watch::channel(false);
        let task = tokio::spawn(drive(target, plan, state_tx, stop_rx));
        LoadHandle { state, stop, task }
    }

    /// The current state.
    pub fn state(&self) -> LoadState {
        self.state.borrow().clone()
    }

    /// A receiver that sees every state change.
    pub fn watch(&self) -> watch::Receiver<LoadState> {
        self.state.clone()
    }

    /// Stops the writes and waits until pgbench is gone.
    pub async fn stop(mut self) {
        let _ = self.stop.send(true);
        let _ = (&mut self.task).await;
    }

    /// Waits for the plan to end by itself.
    pub async fn finished(&mut self) {
        let _ = (&mut self.task).await;
    }
}

impl Drop for LoadHandle {
    fn drop(&mut self) {
        // Aborting drops the pgbench child, which kill_on_drop kills.
        self.task.abort();
    }
}

async fn drive(
    target: Target,
    plan: LoadPlan,
    state: watch::Sender<LoadState>,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        for (i, phase) in plan.phases.iter().enumerate() {
            let outcome = if phase.tps == 0 {
                state.send_replace(LoadState::Quiet { phase: i });
                tokio::select! {
                    _ = tokio::time::sleep(phase.duration) => Ok(()),
                    _ = stop.changed() => Err(None),
                }
            } else {
                state.send_replace(LoadState::Writing {
                    phase: i,
                    tps: phase.tps,
                });
                run_phase(&target, phase, &mut stop).await
            };
            match outcome {
                Ok(()) => {}
                Err(None) => {
                    state.send_replace(LoadState::Stopped);
                    return;
                }
                Err(Some(error)) => {
                    state.send_replace(LoadState::Failed { error });
                    return;
                }
            }
        }
        if !plan.repeat || plan.phases.is_empty() {
            state.send_replace(LoadState::Finished);
            return;
        }
    }
}

/// One pgbench run. `Err(None)` when stopped, `Err(Some(text))` when pgbench failed.
async fn run_phase(
    target: &Target,
    phase: &LoadPhase,
    stop: &mut watch::Receiver<bool>,
) -> Result<(), Option<String>> {
    let secs = phase.duration.as_secs_f64().ceil().max(1.0) as u64;
    let clients = phase.clients.max(1);
    let log = target.log_file().map_err(|e| Some(e.to_string()))?;
    let err_log = log.try_clone().map_err(|e| Some(e.to_string()))?;
    let mut child = target
        .command()
        .args([
            "-n",
            "-c",
            &clients.to_string(),
            "-j",
            &clients.min(4).to_string(),
        ])
        .args(["-R", &phase.tps.to_string(), "-T", &secs.to_string()])
        .arg("postgres")
        .stdout(log)
        .stderr(err_log)
        .spawn()
        .map_err(|e| Some(format!("cannot start pgbench: {e}")))?;
    // pgbench stops itself after -T; the phase ends on time even if it lingers.
    let deadline = tokio::time::sleep(phase.duration + Duration::from_secs(3));
    tokio::select! {
        status = child.wait() => match status {
            Ok(s) if s.success() => Ok(()),
            Ok(s) => Err(Some(format!(
                "pgbench exited with {s}: {}",
                super::pg::log_tail(&target.log, 4)
            ))),
            Err(e) => Err(Some(e.to_string())),
        },
        _ = deadline => {
            let _ = child.kill().await;
            Ok(())
        }
        _ = stop.changed() => {
            let _ = child.kill().await;
            Err(None)
        }
    }
}

/// The table the lab's writer fills, one row per transaction.
pub const WRITES_TABLE: &str = "migtop_writes";

/// What the writer has done so far.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct WriterStats {
    /// Transactions committed (one row each).
    pub committed: u64,
    /// Transactions that failed (e.g. refused by a fence: read-only).
    pub failed: u64,
    /// The last failure's message.
    pub last_error: Option<String>,
}

/// The lab's application: inserts one row per transaction into [`WRITES_TABLE`] at a steady
/// rate, for as long as it lives. A failed insert is counted and tried again a second later,
/// so nothing but a fence (or a stopped server) keeps it from writing: the load a cutover
/// must stop. Dropping it stops it.
pub struct Writer {
    stats: watch::Receiver<WriterStats>,
    task: JoinHandle<()>,
}

impl Writer {
    /// Creates the table on `conninfo` (the primary) and starts writing at `tps` (at least 1).
    pub async fn start(conninfo: &str, tps: u32) -> anyhow::Result<Writer> {
        let client = connect(conninfo).await?;
        // Autovacuum's ANALYZE of this table would take a transaction id of its own under a
        // fence (ANALYZE is allowed in read-only transactions) and rightly reset DRAINED; the
        // lab keeps it off this one table so a fenced cutover settles in a predictable time.
        client
            .batch_execute(&format!(
                "CREATE TABLE IF NOT EXISTS {WRITES_TABLE} \
                 (id bigserial PRIMARY KEY, at timestamptz NOT NULL DEFAULT now(), pad text) \
                 WITH (autovacuum_enabled = off)"
            ))
            .await?;
        let (tx, stats) = watch::channel(WriterStats::default());
        let period = Duration::from_secs_f64(1.0 / f64::from(tps.max(1)));
        let conninfo = conninfo.to_string();
        let task = tokio::spawn(write_forever(conninfo, client, period, tx));
        Ok(Writer { stats, task })
    }

    /// What it has done so far.
    pub fn stats(&self) -> WriterStats {
        self.stats.borrow().clone()
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn connect(conninfo: &str) -> Result<tokio_postgres::Client, tokio_postgres::Error> {
    let (client, connection) = tokio_postgres::connect(conninfo, tokio_postgres::NoTls).await?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    Ok(client)
}

async fn write_forever(
    conninfo: String,
    mut client: tokio_postgres::Client,
    period: Duration,
    stats: watch::Sender<WriterStats>,
) {
    let sql = format!("INSERT INTO {WRITES_TABLE} (pad) VALUES (repeat('w', 100))");
    let mut tick = tokio::time::interval(period);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if client.is_closed() {
            match connect(&conninfo).await {
                Ok(c) => client = c,
                Err(e) => {
                    stats.send_modify(|s| {
                        s.failed += 1;
                        s.last_error = Some(super::pg::tail(&e.to_string(), 1));
                    });
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    continue;
                }
            }
        }
        match client.batch_execute(&sql).await {
            Ok(()) => stats.send_modify(|s| s.committed += 1),
            Err(e) => {
                let text = match e.as_db_error() {
                    Some(db) => db.message().to_string(),
                    None => e.to_string(),
                };
                stats.send_modify(|s| {
                    s.failed += 1;
                    s.last_error = Some(text);
                });
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plans() {
        let d = LoadPlan::demo();
        assert!(!d.repeat);
        assert!(d.phases.iter().any(|p| p.tps == 0), "has a quiet period");
        assert_eq!(d.total(), Duration::from_secs(110));
        let fast = d.scaled(10.0);
        assert_eq!(fast.phases[0].duration, Duration::from_secs(1));
        assert_eq!(fast.phases[4].duration, Duration::from_secs(3));
        assert_eq!(LoadPlan::once(10, Duration::from_secs(2)).phases.len(), 1);
    }

    #[tokio::test]
    async fn a_missing_pgbench_is_a_failed_state_not_a_panic() {
        let dir = tempfile::tempdir().unwrap();
        let target = Target {
            pgbench: dir.path().join("no-such-pgbench"),
            port: 1,
            log: dir.path().join("pgbench.log"),
        };
        let mut h = LoadHandle::start(target, LoadPlan::once(10, Duration::from_secs(1)));
        h.finished().await;
        assert!(
            matches!(h.state(), LoadState::Failed { .. }),
            "{:?}",
            h.state()
        );
    }

    #[tokio::test]
    async fn quiet_plans_stop_on_request() {
        let dir = tempfile::tempdir().unwrap();
        let target = Target {
            pgbench: dir.path().join("unused"),
            port: 1,
            log: dir.path().join("pgbench.log"),
        };
        let plan = LoadPlan {
            phases: vec![LoadPhase {
                tps: 0,
                duration: Duration::from_secs(60),
                clients: 1,
            }],
            repeat: true,
        };
        let h = LoadHandle::start(target, plan);
        assert_eq!(h.state(), LoadState::Quiet { phase: 0 });
        let mut w = h.watch();
        tokio::time::timeout(Duration::from_secs(2), h.stop())
            .await
            .unwrap();
        assert_eq!(*w.borrow_and_update(), LoadState::Stopped);
    }
}
