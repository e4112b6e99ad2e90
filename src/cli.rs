//! Command-line interface: flags, sub-commands and exit codes.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::aliyun::{self, ClientConfig, CredentialOptions, RdsClient, RetryPolicy, TaskFilter};
use crate::probe::{SourceDsn, SourceProbe};

/// Exit code: every instance was read.
pub const EXIT_OK: i32 = 0;
/// Exit code: an API or network error occurred (what was read is still printed).
pub const EXIT_API: i32 = 1;
/// Exit code: usage or configuration error.
pub const EXIT_USAGE: i32 = 2;

/// Live monitor for ApsaraDB RDS for PostgreSQL cloud migrations.
#[derive(Debug, Parser)]
#[command(
    name = "migtop",
    version,
    about,
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    /// With no sub-command, `migtop -i ID` is `migtop watch -i ID`.
    #[command(flatten)]
    pub watch: WatchArgs,
}

/// What to do.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Poll every instance once and print the tasks (table or JSON).
    Status(StatusArgs),
    /// The live dashboard.
    Watch(WatchArgs),
    /// The dashboard against the built-in simulator (no cloud account needed).
    Demo(DemoArgs),
    /// Serve a simulated RDS OpenAPI endpoint on loopback.
    Simulate(crate::sim::SimulateArgs),
    /// Poll instances headless and serve Prometheus metrics at /metrics.
    Exporter(ExporterArgs),
    /// A real PostgreSQL primary and standby behind the simulated API, with the dashboard on
    /// it (needs the PostgreSQL server binaries).
    Lab(crate::lab::run::LabArgs),
}

/// How to reach the API and which tasks to read.
#[derive(Debug, Clone, Args, Default)]
pub struct ApiArgs {
    /// RDS instance id (DBInstanceName); repeat for several.
    #[arg(short = 'i', long = "instance", value_name = "ID")]
    pub instances: Vec<String>,
    /// API endpoint URL (default: by region, else https://rds.aliyuncs.com).
    #[arg(long, value_name = "URL")]
    pub endpoint: Option<String>,
    /// Region id (else ALIBABA_CLOUD_REGION_ID, else the profile's).
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,
    /// aliyun CLI profile in ~/.aliyun/config.json (else ALIBABA_CLOUD_PROFILE, else current).
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,
    /// aliyun CLI config file.
    #[arg(long, value_name = "FILE", hide = true)]
    pub aliyun_config: Option<PathBuf>,
    /// Request timeout.
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = parse_duration)]
    pub timeout: Duration,
    /// Allow plain http to a non-loopback endpoint.
    #[arg(long)]
    pub allow_insecure_http: bool,
    /// Only the task with this TaskId.
    #[arg(long, value_name = "ID")]
    pub task_id: Option<i64>,
    /// Only the task with this TaskName.
    #[arg(long, value_name = "NAME")]
    pub task_name: Option<String>,
    /// Only tasks from this source IP.
    #[arg(long, value_name = "IP")]
    pub source_ip: Option<String>,
    /// Only tasks from this source port.
    #[arg(long, value_name = "PORT")]
    pub source_port: Option<u16>,
    /// The migration source (postgres://user@host:port/db or key=value), read for its own WAL
    /// position to show the true lag. Keep the password in PGPASSWORD or ~/.pgpass.
    #[arg(
        long,
        value_name = "DSN",
        env = "MIGTOP_SOURCE_DSN",
        hide_env_values = true
    )]
    pub source_dsn: Option<SourceDsn>,
}

/// `migtop status`.
#[derive(Debug, Clone, Args)]
pub struct StatusArgs {
    #[command(flatten)]
    pub api: ApiArgs,
    /// Output format.
    #[arg(long, short = 'o', value_enum, default_value_t = OutputFormat::Table)]
    pub output: OutputFormat,
}

/// Output formats of `status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    Table,
    Json,
}

/// Options of the dashboard shared by `watch` and `demo`.
#[derive(Debug, Clone, Args)]
pub struct UiArgs {
    /// Poll interval [default: 5s; 2s for demo and lab].
    #[arg(long, value_name = "DURATION", value_parser = parse_interval)]
    pub interval: Option<Duration>,
    /// Lag above which a task is NOT READY (e.g. 16MiB, 1GiB, 500KB).
    #[arg(long, value_name = "SIZE", default_value = "16MiB", value_parser = parse_bytes)]
    pub max_lag: u64,
    /// How long lag must stay within --max-lag before IN SYNC.
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = parse_duration)]
    pub stable_for: Duration,
    /// Enable `S` (ActivateMigrationTargetInstance) in the dashboard.
    #[arg(long)]
    pub allow_switchover: bool,
    /// No terminal bell on stage changes, disconnects and readiness.
    #[arg(long)]
    pub no_bell: bool,
    /// No colours (NO_COLOR is honoured too).
    #[arg(long)]
    pub no_color: bool,
    /// Write logs to this file (never to the screen).
    #[arg(long, value_name = "FILE")]
    pub log_file: Option<PathBuf>,
}

/// `migtop watch`.
#[derive(Debug, Clone, Args)]
pub struct WatchArgs {
    #[command(flatten)]
    pub api: ApiArgs,
    #[command(flatten)]
    pub ui: UiArgs,
    /// Also serve Prometheus metrics at http://ADDR/metrics (e.g. 127.0.0.1:9847).
    #[arg(long, value_name = "ADDR", value_parser = parse_listen)]
    pub metrics_listen: Option<SocketAddr>,
}

/// The default address of `migtop exporter` (loopback; port 9847 is in the range Prometheus
/// exporters use and not an IANA well-known or registered service port on this system).
pub const EXPORTER_LISTEN: &str = "127.0.0.1:9847";

/// `migtop exporter`.
#[derive(Debug, Clone, Args)]
pub struct ExporterArgs {
    #[command(flatten)]
    pub api: ApiArgs,
    /// Serve the metrics at http://ADDR/metrics.
    #[arg(long, value_name = "ADDR", default_value = EXPORTER_LISTEN, value_parser = parse_listen)]
    pub listen: SocketAddr,
    /// Poll interval of every instance.
    #[arg(long, value_name = "DURATION", default_value = "15s", value_parser = parse_interval)]
    pub interval: Duration,
    /// Lag above which a task is NOT READY (e.g. 16MiB, 1GiB, 500KB).
    #[arg(long, value_name = "SIZE", default_value = "16MiB", value_parser = parse_bytes)]
    pub max_lag: u64,
    /// How long lag must stay within --max-lag before IN SYNC.
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = parse_duration)]
    pub stable_for: Duration,
}

/// `migtop demo`.
#[derive(Debug, Clone, Args)]
pub struct DemoArgs {
    /// Simulated time runs this many times faster.
    #[arg(long, default_value_t = 1.0, value_parser = parse_speed)]
    pub speed: f64,
    /// Scenario file (default: the built-in scenario).
    #[arg(long, value_name = "FILE")]
    pub scenario: Option<PathBuf>,
    /// Random seed of the scenario.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    #[command(flatten)]
    pub ui: UiArgs,
}

/// Parses `5s`, `1m30s`, `500ms`, or a bare number of seconds.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    if let Ok(secs) = s.parse::<f64>() {
        if secs.is_finite() && secs > 0.0 && secs < 1e9 {
            return Ok(Duration::from_secs_f64(secs));
        }
        return Err(format!("{s:?} is not a positive duration"));
    }
    let d = humantime::parse_duration(s)
        .map_err(|e| format!("{s:?} is not a duration like 5s, 500ms or 1m ({e})"))?;
    if d.is_zero() {
        return Err("the duration must be above zero".into());
    }
    Ok(d)
}

/// A poll interval: at least 1 s, at most 1 h.
pub fn parse_interval(s: &str) -> Result<Duration, String> {
    let d = parse_duration(s)?;
    if d < Duration::from_secs(1) || d > Duration::from_secs(3600) {
        return Err(format!("{s:?}: the interval must be between 1s and 1h"));
    }
    Ok(d)
}

/// Parses byte sizes: `16MiB`, `1 GiB`, `500KB`, `1048576`.
pub fn parse_bytes(s: &str) -> Result<u64, String> {
    s.trim()
        .parse::<bytesize::ByteSize>()
        .map(|b| b.as_u64())
        .map_err(|e| format!("{s:?} is not a size like 16MiB, 1GiB or 500KB ({e})"))
}

/// A listen address such as `127.0.0.1:9847` or `[::1]:9847`.
pub fn parse_listen(s: &str) -> Result<SocketAddr, String> {
    s.trim()
        .parse()
        .map_err(|_| format!("{s:?} is not an address like 127.0.0.1:9847 or [::1]:9847"))
}

/// A speed factor between 0.01 and 10000.
pub fn parse_speed(s: &str) -> Result<f64, String> {
    let v: f64 = s
        .trim()
        .parse()
        .map_err(|_| format!("{s:?} is not a number"))?;
    if !(0.01..=10000.0).contains(&v) {
        return Err(format!("speed {v} is out of range (0.01 to 10000)"));
    }
    Ok(v)
}

/// A configuration problem: printed as one sentence, exit code 2.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

impl ApiArgs {
    /// The task filters given.
    pub fn filter(&self) -> TaskFilter {
        TaskFilter {
            task_id: self.task_id,
            task_name: self.task_name.clone(),
            source_ip: self.source_ip.clone(),
            source_port: self.source_port,
        }
    }

    /// The source probe, when `--source-dsn` (or MIGTOP_SOURCE_DSN) is given; a DSN that cannot
    /// be used is a usage error, its text redacted. Warnings go to stderr.
    pub fn source_probe(&self) -> Result<Option<SourceProbe>, UsageError> {
        // An empty value (e.g. MIGTOP_SOURCE_DSN="") means no probe, not libpq's defaults.
        let Some(dsn) = self.source_dsn.as_ref().filter(|d| !d.is_empty()) else {
            return Ok(None);
        };
        let from_env = std::env::var_os("MIGTOP_SOURCE_DSN").is_some();
        if dsn.has_password() && !from_env {
            eprintln!(
                "migtop: warning: the password in --source-dsn shows in `ps` and shell history; \
                 prefer PGPASSWORD, ~/.pgpass or the MIGTOP_SOURCE_DSN variable"
            );
        }
        let mut probe = SourceProbe::new(dsn.clone(), self.timeout)
            .map_err(|e| UsageError(format!("--source-dsn {}: {e}", dsn.redacted())))?;
        for w in probe.take_warnings() {
            eprintln!("migtop: warning: {w}");
        }
        Ok(Some(probe))
    }

    /// Resolves credentials and endpoint and builds the client; warnings go to stderr.
    pub fn client(&self) -> Result<RdsClient, UsageError> {
        if self.instances.is_empty() {
            return Err(UsageError("name at least one instance with -i ID".into()));
        }
        let resolved = aliyun::credentials::resolve(&CredentialOptions {
            profile: self.profile.clone(),
            region: self.region.clone(),
            config_path: self.aliyun_config.clone(),
            credentials_path: None,
        })
        .map_err(|e| UsageError(e.to_string()))?;
        for w in &resolved.warnings {
            eprintln!("{w}");
        }
        let endpoint = self
            .endpoint
            .clone()
            .unwrap_or_else(|| aliyun::endpoint::for_region(resolved.region.as_deref()));
        let endpoint = aliyun::endpoint::validate(&endpoint, self.allow_insecure_http)
            .map_err(|e| UsageError(e.to_string()))?;
        let config = ClientConfig {
            endpoint,
            timeout: self.timeout,
            retry: RetryPolicy::default(),
            region: resolved.region,
        };
        RdsClient::new(config, resolved.credentials)
            .map_err(|e| UsageError(format!("cannot set up the HTTP client: {e}")))
    }
}

/// Runs the parsed command and returns the process exit code.
pub fn run(cli: Cli) -> i32 {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("migtop: cannot start the async runtime: {e}");
            return EXIT_USAGE;
        }
    };
    let result = runtime.block_on(async move {
        match cli.command {
            Some(Command::Status(args)) => crate::status::run(args).await,
            Some(Command::Watch(args)) => crate::watch::run(args).await,
            None => crate::watch::run(cli.watch).await,
            Some(Command::Demo(args)) => crate::watch::demo(args).await,
            Some(Command::Simulate(args)) => crate::sim::run(args).await,
            Some(Command::Exporter(args)) => crate::exporter::run(args).await,
            Some(Command::Lab(args)) => crate::lab::run::run(args).await,
        }
    });
    match result {
        Ok(code) => code,
        Err(e) => {
            if e.downcast_ref::<UsageError>().is_some() {
                eprintln!("migtop: {e}");
                EXIT_USAGE
            } else {
                eprintln!("migtop: {e:#}");
                EXIT_API
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_sizes_and_durations() {
        assert_eq!(parse_bytes("16MiB").unwrap(), 16 * 1024 * 1024);
        assert_eq!(parse_bytes("1 GiB").unwrap(), 1 << 30);
        assert_eq!(parse_bytes("1048576").unwrap(), 1 << 20);
        assert!(parse_bytes("lots").is_err());
        assert_eq!(parse_duration("5s").unwrap(), Duration::from_secs(5));
        assert_eq!(parse_duration("1.5").unwrap(), Duration::from_millis(1500));
        assert!(parse_duration("0s").is_err());
        assert!(parse_duration("-1").is_err());
        assert!(parse_interval("100ms").is_err());
        assert!(parse_speed("0").is_err());
    }

    #[test]
    fn cli_definition_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }

    #[test]
    fn source_dsn_is_taken_and_never_shown() {
        let cli = Cli::try_parse_from([
            "migtop",
            "status",
            "-i",
            "a",
            "--source-dsn",
            "postgres://repl:hunter2-secret@10.0.0.5/postgres",
        ])
        .unwrap();
        let Some(Command::Status(s)) = &cli.command else {
            panic!("not status");
        };
        assert!(s.api.source_dsn.is_some());
        assert!(!format!("{cli:?}").contains("hunter2"));
        // A DSN clap cannot judge is still taken; migtop reports it later, redacted.
        let cli = Cli::try_parse_from([
            "migtop",
            "status",
            "-i",
            "a",
            "--source-dsn",
            "host=h password=hunter2-secret port=notaport",
        ])
        .unwrap();
        let Some(Command::Status(s)) = cli.command else {
            panic!("not status");
        };
        let e = s.api.source_probe().unwrap_err();
        assert!(e.0.contains("port") && !e.0.contains("hunter2"), "{e}");
    }

    #[test]
    fn plain_instance_flag_means_watch() {
        let cli = Cli::try_parse_from(["migtop", "-i", "pgm-1"]).unwrap();
        assert!(cli.command.is_none());
        assert_eq!(cli.watch.api.instances, vec!["pgm-1"]);
        let cli =
            Cli::try_parse_from(["migtop", "status", "-i", "a", "-i", "b", "--output", "json"])
                .unwrap();
        assert!(
            matches!(cli.command, Some(Command::Status(ref s)) if s.api.instances.len() == 2 && s.output == OutputFormat::Json)
        );
    }
}
