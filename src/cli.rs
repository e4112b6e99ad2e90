//! Command-line interface: the flags and sub-commands as clap definitions, nothing more
//! (what each command does is in [`crate::commands`]).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::lab::source::LAB_INSTANCE;
use crate::model::Stage;
use crate::probe::SourceDsn;
use crate::sim::FaultSpec;
use crate::util::units::{parse_bytes, parse_duration, parse_interval, parse_listen, parse_speed};
use crate::verdict::readiness::ReadinessConfig;

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
    /// Poll one task until it reaches a stage, IN SYNC or DRAINED (for scripts and CI;
    /// exit 0 met, 3 timeout, 4 can no longer get there, 1 API errors, 2 usage).
    Wait(WaitArgs),
    /// Switch over one task from a script: judge a full stable window, confirm, optionally
    /// fence the source (--fence), check the source at the switch, call
    /// ActivateMigrationTargetInstance, wait for success and verify the new primary
    /// (--target-dsn) (exit 5 when not ready).
    Switchover(SwitchoverArgs),
    /// The dashboard against the built-in simulator (no cloud account needed).
    Demo(DemoArgs),
    /// The dashboard on a recording made with --record, on the recording's clock.
    Replay(ReplayArgs),
    /// One self-contained HTML page from a recording: lag charts, stages, events, summary.
    Report(ReportArgs),
    /// Serve a simulated RDS OpenAPI endpoint on loopback.
    Simulate(SimulateArgs),
    /// Poll instances headless and serve Prometheus metrics at /metrics.
    Exporter(ExporterArgs),
    /// A real PostgreSQL primary and standby behind the simulated API, with the dashboard on
    /// it (needs the PostgreSQL server binaries).
    Lab(LabArgs),
    /// Print the config file's path and the effective settings (never secrets).
    Config(ConfigArgs),
    /// Print a shell completion script (e.g. `migtop completions bash > ~/.local/share/bash-completion/completions/migtop`).
    Completions(CompletionsArgs),
    /// Print the man page (roff), e.g. `migtop man > ~/.local/share/man/man1/migtop.1`.
    Man,
}

/// `migtop config`.
#[derive(Debug, Clone, Args)]
pub struct ConfigArgs {
    /// Show the settings of `[cutover.NAME]` (over `[defaults]`).
    #[arg(long, value_name = "NAME")]
    pub cutover: Option<String>,
}

/// `migtop completions`.
#[derive(Debug, Clone, Args)]
pub struct CompletionsArgs {
    /// The shell.
    #[arg(value_enum)]
    pub shell: ShellArg,
}

/// Shells `completions` writes for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ShellArg {
    Bash,
    Zsh,
    Fish,
}

/// How to reach the API and which tasks to read.
#[derive(Debug, Clone, Args, Default)]
pub struct ApiArgs {
    /// Settings from `[cutover.NAME]` in the config file (see `migtop config`).
    #[arg(long, value_name = "NAME")]
    pub cutover: Option<String>,
    /// RDS instance id (DBInstanceName); repeat for several.
    #[arg(short = 'i', long = "instance", value_name = "ID")]
    pub instances: Vec<String>,
    /// A PostgreSQL primary whose physical standbys to watch without a cloud API: each
    /// walsender in pg_stat_replication is a task, and the primary is read as their source
    /// (true lag, DRAINED). Repeat for several. The role needs pg_monitor.
    #[arg(long = "primary", value_name = "DSN", conflicts_with = "instances")]
    pub primaries: Vec<SourceDsn>,
    /// A PostgreSQL standby to watch on its own side (its WAL receiver, replay, a paused
    /// replay); with one --primary, that primary is its source (true lag, DRAINED). Repeat
    /// for several. The role needs pg_monitor.
    #[arg(long = "standby", value_name = "DSN", conflicts_with = "instances")]
    pub standbys: Vec<SourceDsn>,
    /// API endpoint: a URL, or a host meaning https://HOST (default: by region, else
    /// rds.aliyuncs.com).
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
    /// Deadline for one poll of an instance: every page and every retry included (also the
    /// source probe's limit for one reading).
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
    /// Also append this poll to a recording (JSON lines; see `migtop replay` and `report`).
    #[arg(long, value_name = "FILE")]
    pub record: Option<PathBuf>,
    /// Lag above which a task is blocked (the READY column and `blockers`) [default: 16MiB].
    #[arg(long, value_name = "SIZE", value_parser = parse_bytes)]
    pub max_lag: Option<u64>,
}

/// Output formats of `status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    Table,
    Json,
}

/// The readiness thresholds of every command that judges (the dashboard, `exporter`, `wait`,
/// `switchover`). No clap defaults: a config file fills what the command line leaves unset,
/// so "not given" must stay visible; [`ThresholdArgs::readiness`] applies the defaults.
#[derive(Debug, Clone, Args, Default)]
pub struct ThresholdArgs {
    /// Lag above which a task is NOT READY (e.g. 16MiB, 1GiB, 500KB) [default: 16MiB].
    #[arg(long, value_name = "SIZE", value_parser = parse_bytes)]
    pub max_lag: Option<u64>,
    /// How long lag must stay within --max-lag before IN SYNC [default: 30s].
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub stable_for: Option<Duration>,
}

impl ThresholdArgs {
    /// The thresholds given, the built-in defaults for the rest.
    pub fn readiness(&self) -> ReadinessConfig {
        let d = ReadinessConfig::default();
        ReadinessConfig {
            max_lag: self.max_lag.unwrap_or(d.max_lag),
            stable_for: self.stable_for.unwrap_or(d.stable_for),
        }
    }
}

/// Options of the dashboard shared by `watch` and `demo`.
#[derive(Debug, Clone, Args, Default)]
pub struct UiArgs {
    /// Poll interval [default: 5s; 2s for demo and lab].
    #[arg(long, value_name = "DURATION", value_parser = parse_interval)]
    pub interval: Option<Duration>,
    #[command(flatten)]
    pub thresholds: ThresholdArgs,
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
    /// Append every poll to a recording (JSON lines; see `migtop replay` and `report`).
    #[arg(long, value_name = "FILE")]
    pub record: Option<PathBuf>,
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
/// exporters use and not an IANA-registered service port).
pub const EXPORTER_LISTEN: &str = "127.0.0.1:9847";

/// `migtop exporter`.
#[derive(Debug, Clone, Args)]
pub struct ExporterArgs {
    #[command(flatten)]
    pub api: ApiArgs,
    /// Serve the metrics at http://ADDR/metrics.
    #[arg(long, value_name = "ADDR", default_value = EXPORTER_LISTEN, value_parser = parse_listen)]
    pub listen: SocketAddr,
    /// Poll interval of every instance [default: 15s].
    #[arg(long, value_name = "DURATION", value_parser = parse_interval)]
    pub interval: Option<Duration>,
    #[command(flatten)]
    pub thresholds: ThresholdArgs,
    /// Also append every poll to this recording (JSON lines; see `migtop replay`, `report`).
    #[arg(long, value_name = "FILE")]
    pub record: Option<PathBuf>,
}

/// What `wait` waits for: exactly one of these.
#[derive(Debug, Clone, Args)]
#[group(required = true, multiple = false)]
pub struct UntilArgs {
    /// Until the task is in this stage (precheck, basebackup, startup, increment, switch,
    /// success).
    #[arg(long, value_name = "STAGE", value_parser = Stage::parse_known)]
    pub stage: Option<Stage>,
    /// Until the verdict is IN SYNC (or DRAINED), as the dashboard judges it.
    #[arg(long)]
    pub in_sync: bool,
    /// Until the verdict is DRAINED (needs --source-dsn: only the source can confirm it).
    #[arg(long)]
    pub drained: bool,
}

/// How the scripted commands (`wait`, `switchover`) poll and judge.
#[derive(Debug, Clone, Args)]
pub struct ScriptArgs {
    /// Poll interval [default: 5s].
    #[arg(long, value_name = "DURATION", value_parser = parse_interval)]
    pub interval: Option<Duration>,
    #[command(flatten)]
    pub thresholds: ThresholdArgs,
    /// Give up after this many failed polls in a row (exit 1).
    #[arg(long, value_name = "N", default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_errors: u32,
    /// Also append every poll to a recording (JSON lines; see `migtop replay` and `report`).
    #[arg(long, value_name = "FILE")]
    pub record: Option<PathBuf>,
    /// Also serve Prometheus metrics at http://ADDR/metrics while the command runs.
    #[arg(long, value_name = "ADDR", value_parser = parse_listen)]
    pub metrics_listen: Option<SocketAddr>,
}

/// `migtop wait`. Its `--timeout` bounds the whole wait; one poll's deadline is
/// `--poll-timeout`.
#[derive(Debug, Clone, Args)]
#[command(mut_arg("timeout", |a| a.long("poll-timeout")))]
pub struct WaitArgs {
    #[command(flatten)]
    pub api: ApiArgs,
    #[command(flatten)]
    pub until: UntilArgs,
    #[command(flatten)]
    pub script: ScriptArgs,
    /// Give up after this long (exit 3) [default: wait as long as it takes].
    #[arg(id = "wait_timeout", long = "timeout", value_name = "DURATION", value_parser = parse_duration)]
    pub timeout: Option<Duration>,
}

/// What `switchover` requires of the verdict before it switches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Require {
    /// DRAINED: the source confirmed the standby has everything (needs --source-dsn).
    Drained,
    /// IN SYNC or DRAINED: the lag stayed within --max-lag for --stable-for.
    InSync,
}

/// A loss `switchover --accept-loss` accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AcceptLossArg {
    /// Unlogged tables, sequences and materialized views: they will be empty on RDS.
    Unlogged,
}

/// `migtop switchover`. Its `--timeout` bounds the wait for `success` after the call; one
/// poll's deadline is `--poll-timeout`.
#[derive(Debug, Clone, Args)]
#[command(mut_arg("timeout", |a| a.long("poll-timeout")))]
pub struct SwitchoverArgs {
    #[command(flatten)]
    pub api: ApiArgs,
    /// The verdict required, held over a full --stable-for window.
    #[arg(long, value_enum)]
    pub require: Require,
    /// Do not ask for the instance id to be typed (needed without a terminal).
    #[arg(long)]
    pub yes: bool,
    /// Switch over although the source's checklist finds data RDS will not have (with
    /// --require drained, refused otherwise): `unlogged` relations will be empty on RDS.
    #[arg(long, value_enum, value_name = "WHAT")]
    pub accept_loss: Vec<AcceptLossArg>,
    #[command(flatten)]
    pub script: ScriptArgs,
    /// How long to wait for the task to reach success after the call (exit 3 past it); with
    /// --fence, also the longest the source stays fenced before the call (then the fence is
    /// lifted, exit 3).
    #[arg(id = "switch_timeout", long = "timeout", value_name = "DURATION", default_value = "10m", value_parser = parse_duration)]
    pub timeout: Duration,
    /// Make the source refuse new writes before the switch (a soft fence:
    /// default_transaction_read_only), wait for DRAINED under it, take the token and switch
    /// once the standby replayed it; lifted again unless the switch was sent. Needs
    /// --require drained.
    #[arg(long)]
    pub fence: bool,
    /// With --fence: end the sessions still holding a transaction id instead of waiting for
    /// them.
    #[arg(long, requires = "fence")]
    pub fence_terminate: bool,
    /// The new primary (the RDS instance) to check after the switch: out of recovery, on a
    /// new timeline that began at or past the token. Keep the password in PGPASSWORD or
    /// ~/.pgpass.
    #[arg(
        long,
        value_name = "DSN",
        env = "MIGTOP_TARGET_DSN",
        hide_env_values = true
    )]
    pub target_dsn: Option<SourceDsn>,
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

/// How a recording's verdicts are judged (`replay`, `report`): as `watch` judges them.
#[derive(Debug, Clone, Args)]
pub struct JudgeArgs {
    /// Lag above which a task is NOT READY (e.g. 16MiB, 1GiB, 500KB).
    #[arg(long, value_name = "SIZE", default_value = "16MiB", value_parser = parse_bytes)]
    pub max_lag: u64,
    /// How long lag must stay within --max-lag before IN SYNC.
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = parse_duration)]
    pub stable_for: Duration,
    /// The poll interval staleness is judged against [default: read from the recording].
    #[arg(long, value_name = "DURATION", value_parser = parse_interval)]
    pub interval: Option<Duration>,
}

/// `migtop replay`.
#[derive(Debug, Clone, Args)]
pub struct ReplayArgs {
    /// The recording (made with --record).
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// The recording plays this many times faster than it happened.
    #[arg(long, default_value_t = 1.0, value_parser = parse_speed)]
    pub speed: f64,
    #[command(flatten)]
    pub judge: JudgeArgs,
    /// No colours (NO_COLOR is honoured too).
    #[arg(long)]
    pub no_color: bool,
}

/// `migtop report`.
#[derive(Debug, Clone, Args)]
pub struct ReportArgs {
    /// The recording (made with --record).
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Where to write the page (`-` for stdout) [default: FILE with .html].
    #[arg(long, short = 'o', value_name = "PAGE")]
    pub output: Option<PathBuf>,
    #[command(flatten)]
    pub judge: JudgeArgs,
    /// Times in UTC instead of this machine's zone.
    #[arg(long)]
    pub utc: bool,
}

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
    #[arg(long, default_value_t = 1.0, value_parser = parse_speed)]
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
    /// Temporary credentials from the simulated STS and ECS metadata service last at most
    /// this long (e.g. 20s, to watch clients renew them).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub sts_lifetime: Option<Duration>,
}

/// `--shape` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ShapeArg {
    /// Like the reference sample: escaped ReplicationInfo, literal \n, numeric password.
    Sample,
    /// Plain JSON, real newlines, Items as a single object, numbers as strings.
    Plain,
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
    /// No scheduled replay pause, link cut or freeze (the write load still runs).
    #[arg(long)]
    pub no_faults: bool,
    /// Do not make the unlogged tables (50,000 rows in `postgres` and in a second database,
    /// `shop`) that the source checklist finds and a switchover leaves empty.
    #[arg(long)]
    pub no_unlogged: bool,
    /// Do not make the logical replication slot the source checklist finds.
    #[arg(long)]
    pub no_logical_slot: bool,
    /// Leave a prepared transaction open on the primary: DRAINED waits for it (`U` commits it).
    #[arg(long)]
    pub prepared_xact: bool,
    /// The instance id the API serves.
    #[arg(long, value_name = "ID", default_value = LAB_INSTANCE)]
    pub instance: String,
    /// Keep a writer inserting N rows per second (one per transaction) into migtop_writes on
    /// the primary for as long as the lab runs: only a fence (`switchover --fence`) stops it.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub writer_tps: u32,
    #[command(flatten)]
    pub ui: UiArgs,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cli_definition_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }

    #[test]
    fn exporter_and_metrics_listen_flags() {
        let cli = Cli::try_parse_from(["migtop", "exporter", "-i", "a", "-i", "b"]).unwrap();
        let Some(Command::Exporter(e)) = cli.command else {
            panic!("not exporter");
        };
        assert_eq!(e.listen, EXPORTER_LISTEN.parse().unwrap());
        assert!(e.listen.ip().is_loopback());
        assert_eq!(e.interval, None, "15s applies after the config file");
        assert_eq!(e.api.instances, vec!["a", "b"]);
        let cli = Cli::try_parse_from([
            "migtop",
            "watch",
            "-i",
            "a",
            "--metrics-listen",
            "[::1]:9900",
        ])
        .unwrap();
        let Some(Command::Watch(w)) = cli.command else {
            panic!("not watch");
        };
        assert_eq!(w.metrics_listen, Some("[::1]:9900".parse().unwrap()));
        assert!(
            Cli::try_parse_from(["migtop", "exporter", "-i", "a", "--listen", "9847"]).is_err()
        );
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
        let e = crate::commands::api::source_probe(&s.api).unwrap_err();
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
