//! `migtop exporter`: the pollers without a screen, their results served to Prometheus.

use std::io::Write;
use std::sync::Arc;

use super::dashboard_config::headless_config;
use super::{api, metrics_endpoint, record};
use crate::cli::ExporterArgs;
use crate::error::EXIT_OK;
use crate::logging;
use crate::metrics;
use crate::poller::ApiSource;
use crate::probe::Probe;
use crate::readiness::ReadinessConfig;
use crate::signals::StopSignals;

/// Serves the metrics until SIGTERM or Ctrl-C (exit 0: stopping is how a service ends).
pub async fn run(args: ExporterArgs) -> anyhow::Result<i32> {
    logging::to_stderr("migtop=info");
    let client = api::client(&args.api)?;
    let probe = api::source_probe(&args.api)?.map(|p| Box::new(p) as Box<dyn Probe>);
    let (registry, server) = metrics_endpoint::start(args.listen).await?;
    let mut signals = StopSignals::listen_without_hangup()?;
    let recorder = record::open(args.record.as_deref())?;
    let config = headless_config(
        args.api.instances.clone(),
        args.interval,
        ReadinessConfig {
            max_lag: args.max_lag,
            stable_for: args.stable_for,
        },
        probe.as_deref(),
    );
    let source = Arc::new(ApiSource {
        client,
        filter: api::filter(&args.api),
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
    let stop = async move {
        let sig = signals.recv().await;
        tracing::info!("stopping on {}", sig.name());
    };
    metrics::feed::run(source, probe, config, registry, recorder, stop).await;
    server.shutdown().await;
    Ok(EXIT_OK)
}
