//! The simulator: a local RDS OpenAPI endpoint (STUB — being built in the simulator issue).

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Args;

use crate::aliyun::Credentials;

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
    /// Scenario file (default: the built-in scenario).
    #[arg(long, value_name = "FILE")]
    pub scenario: Option<PathBuf>,
    /// Simulated time runs this many times faster.
    #[arg(long, default_value_t = 1.0, value_parser = crate::cli::parse_speed)]
    pub speed: f64,
    /// Random seed.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
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

/// A running simulator.
pub struct SimHandle {
    pub addr: SocketAddr,
    pub instances: Vec<String>,
    pub credentials: Credentials,
}

impl SimHandle {
    /// `http://HOST:PORT`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }
}

/// Starts the simulator on a tokio task.
pub async fn start(_opts: SimOptions) -> anyhow::Result<SimHandle> {
    anyhow::bail!("the simulator is not built yet")
}

/// `migtop simulate`: serve until Ctrl-C or SIGTERM.
pub async fn run(_args: SimulateArgs) -> anyhow::Result<i32> {
    anyhow::bail!("the simulator is not built yet")
}
