//! A whole lab session, as `migtop lab` runs it: the lab, the lab's task source, the simulator
//! API serving it, and the timeline (the write load, a replay pause, a link cut and a
//! link freeze on a schedule).
//!
//! Cleanup: [`LabSession::stop`] stops the schedule, the API server, then both PostgreSQL
//! servers, and removes the lab's directory. A panic unwinds through the same drops;
//! `std::process::exit` elsewhere runs the lab's `atexit` cleanup (see [`super::guard`]).

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use chrono::Utc;

use super::schedule::Schedule;
use super::source::{LabSource, LabTaskOptions};
use super::{Lab, LabOptions, LoadPlan, pg};
use crate::aliyun::Credentials;
use crate::sim::{self, SimHandle};
use crate::util::error::UsageError;
use crate::util::units;

/// The lab's write load at speed 1: the demo plan at twice its pace (about 55 s of writes in
/// bursts and quiet periods, then none), so lag peaks at a few MB over the 512 KiB/s link and
/// drains within a minute of the start.
pub fn load_plan(speed: f64) -> LoadPlan {
    LoadPlan::demo().scaled(2.0 * speed)
}

/// What a session runs.
#[derive(Debug, Clone)]
pub struct SessionConfig {
    /// The timeline (write load, replay pause, link cut) runs this many times faster.
    pub speed: f64,
    /// Address the API listens on.
    pub listen: SocketAddr,
    /// Bandwidth of the replication link in bytes per second; 0 for unlimited.
    pub link_rate: u64,
    /// The scheduled replay pause, link cut and freeze (the write load runs either way).
    pub faults: bool,
    /// The instance id the API serves.
    pub instance: String,
    /// A writer that keeps going at this many transactions per second until a fence stops
    /// it (`--writer-tps`); 0 for none.
    pub writer_tps: u32,
    /// What the source checklist will find (unlogged tables, a logical slot, ...).
    pub fixtures: super::Fixtures,
}

/// The PostgreSQL binaries, or a configuration error saying how to get them.
pub fn find_binaries() -> Result<pg::PgBin, UsageError> {
    pg::PgBin::find(None).map_err(|e| {
        let mut text = format!("migtop lab needs PostgreSQL: {e:#}");
        if !text.contains(".ci/install-postgres") {
            text.push_str(
                ". Install them with `.ci/install-postgres` (Debian: apt install postgresql-15) \
                 or point MIGTOP_PG_BINDIR at their directory",
            );
        }
        UsageError(text)
    })
}

/// What runs while the lab is up.
pub struct LabSession {
    pub lab: Arc<Lab>,
    pub source: Arc<LabSource>,
    pub api: SimHandle,
    config: SessionConfig,
    schedule: Option<tokio::task::JoinHandle<()>>,
    /// The `--writer-tps` writer, once started.
    pub writer: Option<crate::lab::load::Writer>,
}

impl LabSession {
    /// Starts the lab, its task source and the API accepting `credentials`. Dropping the
    /// future part-way removes what was made so far.
    pub async fn start(config: SessionConfig, credentials: Credentials) -> anyhow::Result<Self> {
        let created = Utc::now();
        let lab = Lab::start(LabOptions {
            link_rate: (config.link_rate > 0).then_some(config.link_rate),
            pgbench_init: true,
            fixtures: config.fixtures,
            ..LabOptions::default()
        })
        .await?;
        let lab = Arc::new(lab);
        let source = Arc::new(
            LabSource::new(
                lab.clone(),
                LabTaskOptions {
                    instance: config.instance.clone(),
                    created,
                    ..LabTaskOptions::default()
                },
            )
            .await
            .context("cannot read the lab's standby")?,
        );
        let api = sim::start_with_source(config.listen, credentials, source.clone()).await?;
        Ok(LabSession {
            lab,
            source,
            api,
            config,
            schedule: None,
            writer: None,
        })
    }

    /// Starts the write load and the schedule of faults; returns a one-line summary of them.
    /// On an error the caller still [`stop`](Self::stop)s the session.
    pub async fn start_timeline(&mut self) -> anyhow::Result<String> {
        let speed = self.config.speed;
        let plan = load_plan(speed);
        let schedule = if self.config.faults {
            Schedule::demo().scaled(speed)
        } else {
            Schedule::none()
        };
        let link = match self.config.link_rate {
            0 => "unlimited".to_string(),
            r => units::rate(r.max(1024) as f64),
        };
        let summary = format!(
            "pgbench writes in bursts for {} then stops; {}; link {link}",
            units::duration(plan.total()),
            schedule.describe(),
        );
        self.lab
            .start_load(plan)
            .await
            .context("cannot start the write load")?;
        let summary = match self.config.writer_tps {
            0 => summary,
            tps => {
                let writer = crate::lab::load::Writer::start(&self.lab.primary_dsn(), tps)
                    .await
                    .context("cannot start the writer")?;
                self.writer = Some(writer);
                format!(
                    "{summary}; a writer inserts {tps} rows/s into {} until fenced",
                    crate::lab::load::WRITES_TABLE
                )
            }
        };
        self.schedule = Some(tokio::spawn(schedule.run(self.lab.clone())));
        Ok(summary)
    }

    /// Stops the schedule's effects, the API, the load and both servers; removes the directory.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        drop(self.writer.take());
        if let Some(schedule) = self.schedule.take() {
            schedule.abort();
            let _ = schedule.await;
        }
        self.api.shutdown().await;
        drop(self.source);
        self.lab.close().await
    }
}
