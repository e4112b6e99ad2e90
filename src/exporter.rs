//! `migtop exporter`: the pollers without a screen, their results served to Prometheus.

use std::io::Write;
use std::sync::Arc;

use tokio::signal::unix::{SignalKind, signal};

use crate::app::AppConfig;
use crate::cli::{EXIT_OK, ExporterArgs, UsageError};
use crate::metrics::{self, Metrics};
use crate::poller::ApiSource;
use crate::readiness::ReadinessConfig;

/// Serves the metrics until SIGTERM or Ctrl-C (exit 0).
pub async fn run(args: ExporterArgs) -> anyhow::Result<i32> {
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("MIGTOP_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("migtop=info")),
        )
        .try_init();
    let client = args.api.client()?;
    let probe = args.api.source_probe()?;
    let metrics = Arc::new(Metrics::new());
    let server = serve_metrics(args.listen, metrics.clone()).await?;
    let mut config = AppConfig::new(args.api.instances.clone());
    config.interval = args.interval;
    config.readiness = ReadinessConfig {
        max_lag: args.max_lag,
        stable_for: args.stable_for,
    };
    let source = Arc::new(ApiSource {
        client,
        filter: args.api.filter(),
    });
    {
        let mut out = std::io::stdout().lock();
        writeln!(
            out,
            "serving metrics on http://{}/metrics",
            server.local_addr()
        )?;
        writeln!(
            out,
            "polling {} every {}; stop with Ctrl-C",
            args.api.instances.join(" "),
            humantime::format_duration(args.interval)
        )?;
        out.flush()?;
    }
    let mut term = signal(SignalKind::terminate())?;
    let stop = async move {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    };
    metrics::feed::run(source, probe, config, metrics, stop).await;
    server.shutdown().await;
    Ok(EXIT_OK)
}

/// Starts the `/metrics` server on `addr`; an address that cannot be bound is a usage error
/// (exit 2) naming it. For `exporter`, and for `watch --metrics-listen` (and `wait`) before the
/// screen opens.
pub async fn serve_metrics(
    addr: std::net::SocketAddr,
    metrics: Arc<Metrics>,
) -> anyhow::Result<metrics::MetricsServer> {
    metrics::serve(addr, metrics)
        .await
        .map_err(|e| UsageError(format!("cannot serve metrics on {addr}: {e}")).into())
}
