//! `migtop lab`: a real PostgreSQL primary and streaming standby on loopback, write load
//! with pgbench, a replay pause and a link cut on a schedule, the simulator API serving the
//! standby as an RDS migration task, and the dashboard on it (or, with `--serve`, only the
//! API, for other tools).
//!
//! Cleanup: on `q`, Ctrl-C, SIGTERM, SIGHUP or an error the API server stops, then both
//! PostgreSQL servers, and the lab's directory is removed (the terminal is given back first
//! when the dashboard was open). A panic unwinds through the same drops; `std::process::exit`
//! elsewhere runs the lab's `atexit` cleanup (see [`super::guard`]).

use std::io::Write;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use chrono::Utc;
use clap::Args;
use tokio::signal::unix::{Signal, SignalKind, signal};

use super::schedule::Schedule;
use super::source::{LAB_INSTANCE, LabSource, LabTaskOptions};
use super::{Lab, LabOptions, LoadPlan, pg};
use crate::aliyun::Credentials;
use crate::cli::{UiArgs, UsageError, parse_bytes, parse_speed};
use crate::poller::ApiSource;
use crate::probe::{SourceDsn, SourceProbe};
use crate::sim::{self, SimHandle};
use crate::units;
use crate::watch;

/// The lab's write load at speed 1: the demo plan at twice its pace (about 55 s of writes in
/// bursts and quiet periods, then none), so lag peaks at a few MB over the 512 KiB/s link and
/// drains within a minute of the start.
pub fn load_plan(speed: f64) -> LoadPlan {
    LoadPlan::demo().scaled(2.0 * speed)
}

/// `migtop lab`.
#[derive(Debug, Clone, Args)]
pub struct LabArgs {
    /// The lab's timeline (write load, replay pause, link cut) runs this many times faster.
    #[arg(long, default_value_t = 1.0, value_parser = parse_speed)]
    pub speed: f64,
    /// Only serve the API and print where the servers are, until Ctrl-C or SIGTERM.
    #[arg(long)]
    pub serve: bool,
    /// Address the API listens on (loopback by default).
    #[arg(long, default_value = "127.0.0.1:0")]
    pub listen: SocketAddr,
    /// Bandwidth of the replication link, per second (e.g. 512KiB, 2MiB; 0 for unlimited).
    #[arg(long, value_name = "SIZE", default_value = "512KiB", value_parser = parse_bytes)]
    pub link_rate: u64,
    /// No scheduled replay pause or link cut (the write load still runs).
    #[arg(long)]
    pub no_faults: bool,
    /// The instance id the API serves.
    #[arg(long, value_name = "ID", default_value = LAB_INSTANCE)]
    pub instance: String,
    #[command(flatten)]
    pub ui: UiArgs,
}

/// SIGINT, SIGTERM and SIGHUP, listened to from the start so none is lost while the lab
/// comes up.
struct Signals {
    int: Signal,
    term: Signal,
    hup: Signal,
}

impl Signals {
    fn new() -> std::io::Result<Signals> {
        Ok(Signals {
            int: signal(SignalKind::interrupt())?,
            term: signal(SignalKind::terminate())?,
            hup: signal(SignalKind::hangup())?,
        })
    }

    /// The next signal's number.
    async fn recv(&mut self) -> i32 {
        tokio::select! {
            _ = self.int.recv() => libc::SIGINT,
            _ = self.term.recv() => libc::SIGTERM,
            _ = self.hup.recv() => libc::SIGHUP,
        }
    }
}

/// What runs while the lab is up.
struct Running {
    lab: Arc<Lab>,
    source: Arc<LabSource>,
    api: SimHandle,
}

impl Running {
    /// Stops the schedule's effects, the API, the load and both servers; removes the directory.
    async fn stop(self, schedule: tokio::task::JoinHandle<()>) -> anyhow::Result<()> {
        schedule.abort();
        let _ = schedule.await;
        self.api.shutdown().await;
        drop(self.source);
        self.lab.close().await
    }
}

/// Starts everything: the lab, its task source and the API.
async fn start(args: &LabArgs, credentials: Credentials) -> anyhow::Result<Running> {
    let created = Utc::now();
    let lab = Lab::start(LabOptions {
        link_rate: (args.link_rate > 0).then_some(args.link_rate),
        pgbench_init: true,
        ..LabOptions::default()
    })
    .await?;
    let lab = Arc::new(lab);
    let source = Arc::new(
        LabSource::new(
            lab.clone(),
            LabTaskOptions {
                instance: args.instance.clone(),
                created,
                ..LabTaskOptions::default()
            },
        )
        .await
        .context("cannot read the lab's standby")?,
    );
    let api = sim::start_with_source(args.listen, credentials, source.clone()).await?;
    Ok(Running { lab, source, api })
}

/// The PostgreSQL binaries, or a configuration error saying how to get them.
fn find_binaries() -> Result<pg::PgBin, UsageError> {
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

/// `migtop lab`.
pub async fn run(args: LabArgs) -> anyhow::Result<i32> {
    let bin = find_binaries()?;
    if args.serve {
        let _ = tracing_subscriber::fmt()
            .with_writer(std::io::stderr)
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .with_env_filter(
                tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
                    // tokio-postgres reports the servers' shutdown notices at info: noise here.
                    tracing_subscriber::EnvFilter::new("info,tokio_postgres=warn")
                }),
            )
            .try_init();
    } else {
        if watch::require_terminal().is_err() {
            return Err(UsageError(
                "the dashboard needs a terminal; `migtop lab --serve` only serves the API".into(),
            )
            .into());
        }
        watch::init_logging(args.ui.log_file.as_deref())?;
    }
    let (credentials, origin) = if args.serve {
        sim::simulate_credentials()?
    } else {
        (
            sim::demo_credentials(),
            "the built-in demo pair".to_string(),
        )
    };
    let mut signals = Signals::new()?;
    eprintln!(
        "migtop lab: starting a PostgreSQL {} primary and streaming standby…",
        bin.major
    );
    // A signal while the lab comes up drops the start, which removes what was made so far.
    let running = tokio::select! {
        r = start(&args, credentials.clone()) => r?,
        n = signals.recv() => {
            eprintln!("migtop lab: interrupted while starting; cleaned up");
            return Ok(128 + n);
        }
    };
    let plan = load_plan(args.speed);
    let schedule = if args.no_faults {
        Schedule::none()
    } else {
        Schedule::demo().scaled(args.speed)
    };
    let link = match args.link_rate {
        0 => "unlimited".to_string(),
        r => units::rate(r.max(1024) as f64),
    };
    let summary = format!(
        "pgbench writes in bursts for {} then stops; {}; link {link}",
        units::duration(plan.total()),
        schedule.describe(),
    );
    if let Err(e) = running.lab.start_load(plan).await {
        running.stop(tokio::spawn(async {})).await?;
        return Err(e.context("cannot start the write load"));
    }
    let schedule = tokio::spawn(schedule.run(running.lab.clone()));
    tracing::info!("lab: {summary}");

    let outcome = if args.serve {
        serve(&running, &credentials, &origin, &summary, &mut signals).await
    } else {
        dashboard(&args, &running).await
    };
    let stopped = running.stop(schedule).await;
    let code = outcome?;
    stopped?;
    Ok(code)
}

/// `--serve`: the simulator's lines, where the servers are, then wait for a signal.
async fn serve(
    running: &Running,
    credentials: &Credentials,
    origin: &str,
    summary: &str,
    signals: &mut Signals,
) -> anyhow::Result<i32> {
    let api = &running.api;
    let lab = &running.lab;
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "listening on {}", api.endpoint())?;
        writeln!(out, "instances: {}", api.instances.join(" "))?;
        writeln!(out, "primary: {}", lab.primary_dsn())?;
        writeln!(out, "standby: {}", lab.standby_dsn())?;
        writeln!(
            out,
            "accepts AccessKey id {} ({origin})",
            credentials.access_key_id
        )?;
        writeln!(
            out,
            "lab: {} in {}; {summary}; stop with Ctrl-C",
            lab.version(),
            lab.dir().display()
        )?;
        writeln!(
            out,
            "try: migtop watch --endpoint {} -i {} --source-dsn {}",
            api.endpoint(),
            running.source.instance(),
            lab.primary_dsn()
        )?;
        out.flush()?;
    }
    let n = signals.recv().await;
    tracing::info!("lab: signal {n}, stopping");
    // Like `migtop simulate`: a signal is how a server is meant to stop.
    Ok(0)
}

/// The dashboard on the lab, through the real client, with the source probe on the primary.
async fn dashboard(args: &LabArgs, running: &Running) -> anyhow::Result<i32> {
    let client = running.api.client()?;
    let source = Arc::new(ApiSource {
        client: client.clone(),
        filter: Default::default(),
    });
    let dsn = SourceDsn::new(format!("{}?sslmode=disable", running.lab.primary_dsn()));
    let probe = SourceProbe::new(dsn, Duration::from_secs(5))
        .map_err(|e| anyhow::anyhow!("cannot probe the lab's primary: {e}"))?;
    let mut config = watch::app_config(
        &args.ui,
        vec![running.source.instance().to_string()],
        watch::DEMO_INTERVAL,
    );
    config.label = Some(if args.speed == 1.0 {
        "lab".to_string()
    } else {
        format!("lab ×{}", args.speed)
    });
    watch::dashboard(source, Some(client), Some(probe), config).await
}
