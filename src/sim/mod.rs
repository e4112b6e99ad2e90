//! The simulator: a local RDS OpenAPI endpoint that real clients accept, driven by scenarios.
//!
//! - [`start`]: the built-in (or a file) scenario on a tokio task, for `migtop demo` and tests.
//! - [`start_with_source`] / [`start_with_config`]: the same server over any [`TaskSource`]
//!   (`migtop lab` serves a real PostgreSQL standby this way).
//! - [`run`]: `migtop simulate`.
//!
//! Stop a server with [`SimHandle::shutdown`], or just drop the handle.

pub mod auth;
pub mod clock;
pub mod detail;
pub mod engine;
pub mod error;
pub mod faults;
pub mod position;
pub mod quantity;
pub mod render;
pub mod scenario;
pub mod server;
pub mod source;

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use clap::{Args, ValueEnum};
use tokio::sync::oneshot;

use crate::aliyun::Credentials;
use crate::aliyun::credentials::{self, CredentialError, CredentialOptions};
use crate::cli::UsageError;

pub use clock::{Clock, ManualClock, RealClock};
pub use engine::ScenarioSource;
pub use error::SimError;
pub use faults::{FaultKind, FaultSpec};
pub use render::Shape;
pub use scenario::Scenario;
pub use server::ServerConfig;
pub use source::{NewTask, Password, ReplicationView, SourceView, TaskSource, TaskView};

/// AccessKey id the simulator accepts when no credentials are configured (documented).
pub const DEMO_ACCESS_KEY_ID: &str = "LTAI5tMigtopDemoKey";
/// The matching demo secret (documented; only ever valid against the simulator).
pub const DEMO_ACCESS_KEY_SECRET: &str = "migtop-demo-secret";

/// `migtop simulate`.
#[derive(Debug, Clone, Args)]
pub struct SimulateArgs {
    /// Address to listen on (loopback by default).
    #[arg(long, default_value = "127.0.0.1:0")]
    pub listen: SocketAddr,
    /// Scenario file (default: the built-in scenario; see assets/scenarios/README.md).
    #[arg(long, value_name = "FILE")]
    pub scenario: Option<PathBuf>,
    /// Simulated time runs this many times faster.
    #[arg(long, default_value_t = 1.0, value_parser = crate::cli::parse_speed)]
    pub speed: f64,
    /// Random seed.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Inject a fault, KIND[:RATE][:PARAM][@FROM..TO]: latency, hang, 5xx, throttling,
    /// malformed, truncated, reset (e.g. throttling:0.2, latency:1:800ms, reset@30s..60s).
    #[arg(long = "fault", value_name = "SPEC", value_parser = FaultSpec::parse_flag)]
    pub faults: Vec<FaultSpec>,
    /// Response shape (default: the scenario's, normally like the reference sample).
    #[arg(long, value_enum)]
    pub shape: Option<ShapeArg>,
}

/// `--shape` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ShapeArg {
    /// Like the reference sample: escaped ReplicationInfo, literal \n, numeric password.
    Sample,
    /// Plain JSON, real newlines, Items as a single object, numbers as strings.
    Plain,
}

/// How to start an in-process simulator.
#[derive(Debug, Clone)]
pub struct SimOptions {
    pub listen: SocketAddr,
    pub scenario: Option<PathBuf>,
    pub speed: f64,
    pub seed: u64,
    /// Credentials it accepts; `None` means the demo pair.
    pub credentials: Option<Credentials>,
}

/// A running simulator. Dropping it stops the server.
pub struct SimHandle {
    pub addr: SocketAddr,
    pub instances: Vec<String>,
    pub credentials: Credentials,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl SimHandle {
    /// `http://HOST:PORT`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// migtop's own client for this simulator, signing with the credentials it accepts
    /// (used by `demo` and `lab`, so they exercise the production path).
    pub fn client(&self) -> anyhow::Result<crate::aliyun::RdsClient> {
        use anyhow::Context;
        let endpoint = reqwest::Url::parse(&self.endpoint())
            .with_context(|| format!("the simulator's address {} is not a URL", self.endpoint()))?;
        let config = crate::aliyun::ClientConfig {
            endpoint,
            timeout: std::time::Duration::from_secs(10),
            retry: crate::aliyun::RetryPolicy::default(),
            region: None,
        };
        crate::aliyun::RdsClient::new(config, self.credentials.clone())
    }

    /// Stops accepting, closes every connection and waits for the server task to end.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for SimHandle {
    fn drop(&mut self) {
        // The server task sees the closed channel and stops on its own.
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// The documented demo pair.
pub fn demo_credentials() -> Credentials {
    Credentials {
        access_key_id: DEMO_ACCESS_KEY_ID.to_string(),
        access_key_secret: DEMO_ACCESS_KEY_SECRET.to_string().into(),
        security_token: None,
        origin: "the built-in demo pair".to_string(),
    }
}

fn load_scenario(path: Option<&PathBuf>) -> Result<Scenario, UsageError> {
    match path {
        Some(p) => Scenario::load(p).map_err(|e| UsageError(e.to_string())),
        None => Ok(Scenario::builtin()),
    }
}

/// Starts the simulator on a tokio task.
pub async fn start(opts: SimOptions) -> anyhow::Result<SimHandle> {
    let scenario = load_scenario(opts.scenario.as_ref())?;
    let clock: Arc<dyn Clock> = Arc::new(RealClock::with_epoch(opts.speed, scenario.epoch));
    let source = Arc::new(ScenarioSource::new(&scenario, opts.seed, clock.clone()));
    start_with_config(
        ServerConfig {
            listen: opts.listen,
            credentials: opts.credentials.unwrap_or_else(demo_credentials),
            shape: scenario.shape,
            faults: scenario.faults.clone(),
            seed: opts.seed,
            clock,
        },
        source,
    )
    .await
}

/// Serves `source` on `listen`, accepting `credentials`, with the sample response shape, no
/// faults and real time (the lab's entry point).
pub async fn start_with_source(
    listen: SocketAddr,
    credentials: Credentials,
    source: Arc<dyn TaskSource>,
) -> anyhow::Result<SimHandle> {
    start_with_config(
        ServerConfig {
            listen,
            credentials,
            shape: Shape::sample(),
            faults: vec![],
            seed: 0,
            clock: Arc::new(RealClock::new(1.0)),
        },
        source,
    )
    .await
}

/// Serves `source` with every server option spelled out.
pub async fn start_with_config(
    config: ServerConfig,
    source: Arc<dyn TaskSource>,
) -> anyhow::Result<SimHandle> {
    let listen = config.listen;
    let credentials = config.credentials.clone();
    let instances = source.instances().await;
    let running = server::serve(config, source)
        .await
        .map_err(|e| UsageError(format!("cannot listen on {listen}: {e}")))?;
    Ok(SimHandle {
        addr: running.addr,
        instances,
        credentials,
        stop: Some(running.stop),
        task: Some(running.task),
    })
}

/// The credentials `migtop simulate` accepts and a phrase saying where the secret comes from.
pub fn simulate_credentials() -> Result<(Credentials, String), UsageError> {
    match credentials::resolve(&CredentialOptions::default()) {
        Ok(r) => {
            for w in &r.warnings {
                eprintln!("{w}");
            }
            let origin = format!("secret from the {}", r.credentials.origin);
            Ok((r.credentials, origin))
        }
        Err(CredentialError::NotFound(..)) => Ok((
            demo_credentials(),
            "nothing configured, so the documented demo pair; its secret is in assets/scenarios/README.md"
                .to_string(),
        )),
        Err(e) => Err(UsageError(format!(
            "cannot pick the credentials to accept: {e}"
        ))),
    }
}

/// `migtop simulate`: serve until Ctrl-C or SIGTERM.
pub async fn run(args: SimulateArgs) -> anyhow::Result<i32> {
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .try_init();
    let (credentials, origin) = simulate_credentials()?;
    let scenario = load_scenario(args.scenario.as_ref())?;
    let clock: Arc<dyn Clock> = Arc::new(RealClock::with_epoch(args.speed, scenario.epoch));
    let source = Arc::new(ScenarioSource::new(&scenario, args.seed, clock.clone()));
    let mut faults = scenario.faults.clone();
    faults.extend(args.faults.iter().cloned());
    let shape = match args.shape {
        Some(ShapeArg::Sample) => Shape::sample(),
        Some(ShapeArg::Plain) => Shape::plain(),
        None => scenario.shape,
    };
    let key_id = credentials.access_key_id.clone();
    let handle = start_with_config(
        ServerConfig {
            listen: args.listen,
            credentials,
            shape,
            faults,
            seed: args.seed,
            clock,
        },
        source,
    )
    .await?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "listening on {}", handle.endpoint())?;
    writeln!(out, "instances: {}", handle.instances.join(" "))?;
    writeln!(out, "accepts AccessKey id {key_id} ({origin})")?;
    let name = if scenario.name.is_empty() {
        "unnamed"
    } else {
        &scenario.name
    };
    writeln!(
        out,
        "scenario {name}, speed {}x, seed {}; stop with Ctrl-C",
        args.speed, args.seed
    )?;
    writeln!(
        out,
        "try: migtop status --endpoint {} -i {}",
        handle.endpoint(),
        handle.instances.first().map(String::as_str).unwrap_or("ID")
    )?;
    out.flush()?;
    drop(out);
    wait_for_stop().await;
    handle.shutdown().await;
    Ok(0)
}

/// Waits for Ctrl-C or SIGTERM.
async fn wait_for_stop() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
