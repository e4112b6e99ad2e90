//! The simulator: a local RDS OpenAPI endpoint that real clients accept, driven by scenarios.
//!
//! - [`start`]: the built-in (or a file) scenario on a tokio task, for `migtop demo` and tests.
//! - [`start_scenario`]: a loaded scenario with extra faults and another response shape
//!   (`migtop simulate`).
//! - [`start_with_source`] / [`start_with_config`]: the same server over any [`TaskSource`]
//!   (`migtop lab` serves a real PostgreSQL standby this way).
//!
//! Stop a server with [`SimHandle::shutdown`], or just drop the handle.

pub mod auth;
pub mod clock;
pub mod detail;
pub mod engine;
pub mod error;
pub mod faults;
pub mod metadata;
pub mod position;
pub mod probe;
pub mod quantity;
pub mod render;
pub mod scenario;
pub mod server;
pub mod sign_v3;
pub mod source;
pub mod sts;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::aliyun::Credentials;
use crate::util::accept::ServerHandle;
use crate::util::error::UsageError;

pub use clock::{Clock, ManualClock, RealClock};
pub use engine::ScenarioSource;
pub use error::SimError;
pub use faults::{FaultKind, FaultSpec};
pub use probe::SimulatedProbe;
pub use render::Shape;
pub use scenario::Scenario;
pub use server::ServerConfig;
pub use source::{NewTask, Password, ReplicationView, SourceView, TaskSource, TaskView};

/// AccessKey id the simulator accepts when no credentials are configured (documented).
pub const DEMO_ACCESS_KEY_ID: &str = "LTAI5tMigtopDemoKey";
/// The matching demo secret (documented; only ever valid against the simulator).
pub const DEMO_ACCESS_KEY_SECRET: &str = "migtop-demo-secret";

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
    /// The scenario engine behind the server, when it serves a scenario (for the simulated
    /// source probe).
    pub scenario: Option<Arc<ScenarioSource>>,
    /// Dropping it stops the server.
    server: ServerHandle,
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
    pub async fn shutdown(self) {
        self.server.shutdown().await;
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

/// The scenario in `path`, or the built-in one; a file that cannot be used is a usage error.
pub fn load_scenario(path: Option<&Path>) -> Result<Scenario, UsageError> {
    match path {
        Some(p) => Scenario::load(p).map_err(|e| UsageError(e.to_string())),
        None => Ok(Scenario::builtin()),
    }
}

/// How to serve a loaded scenario.
#[derive(Debug, Clone)]
pub struct ScenarioOptions {
    pub listen: SocketAddr,
    /// Simulated time runs this many times faster.
    pub speed: f64,
    pub seed: u64,
    /// Credentials it accepts.
    pub credentials: Credentials,
    /// Faults injected on top of the scenario's own.
    pub extra_faults: Vec<FaultSpec>,
    /// The response shape, instead of the scenario's.
    pub shape: Option<Shape>,
    /// How the simulated STS and ECS metadata service behave.
    pub sts: sts::StsConfig,
}

/// Starts the simulator on a tokio task.
pub async fn start(opts: SimOptions) -> anyhow::Result<SimHandle> {
    let scenario = load_scenario(opts.scenario.as_deref())?;
    start_scenario(
        &scenario,
        ScenarioOptions {
            listen: opts.listen,
            speed: opts.speed,
            seed: opts.seed,
            credentials: opts.credentials.unwrap_or_else(demo_credentials),
            extra_faults: vec![],
            shape: None,
            sts: sts::StsConfig::default(),
        },
    )
    .await
}

/// Serves `scenario` on a tokio task, its clock dated by the scenario's epoch.
pub async fn start_scenario(
    scenario: &Scenario,
    opts: ScenarioOptions,
) -> anyhow::Result<SimHandle> {
    let clock: Arc<dyn Clock> = Arc::new(RealClock::with_epoch(opts.speed, scenario.epoch));
    let source = Arc::new(ScenarioSource::new(scenario, opts.seed, clock.clone()));
    let mut faults = scenario.faults.clone();
    faults.extend(opts.extra_faults);
    let mut handle = start_with_sts(
        ServerConfig {
            listen: opts.listen,
            credentials: opts.credentials,
            shape: opts.shape.unwrap_or(scenario.shape),
            faults,
            seed: opts.seed,
            clock,
        },
        opts.sts,
        source.clone(),
    )
    .await?;
    handle.scenario = Some(source);
    Ok(handle)
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
    start_with_sts(config, sts::StsConfig::default(), source).await
}

/// Like [`start_with_config`], with the simulated STS configured too.
pub async fn start_with_sts(
    config: ServerConfig,
    sts_config: sts::StsConfig,
    source: Arc<dyn TaskSource>,
) -> anyhow::Result<SimHandle> {
    let listen = config.listen;
    let credentials = config.credentials.clone();
    let instances = source.instances().await;
    let sts = Arc::new(sts::Sts::new(sts_config));
    let running = server::serve(config, source, sts)
        .await
        .map_err(|e| UsageError(format!("cannot listen on {listen}: {e}")))?;
    Ok(SimHandle {
        scenario: None,
        addr: running.local_addr(),
        instances,
        credentials,
        server: running,
    })
}
