//! `migtop exporter`: the pollers without a screen, their results served to Prometheus.

use std::io::Write;
use std::time::Duration;

use super::dashboard_config::headless_config;
use super::{api, cutover, metrics_endpoint, record};
use crate::cli::ExporterArgs;
use crate::metrics;
use crate::util::error::EXIT_OK;
use crate::util::logging;
use crate::util::signals::StopSignals;

/// Default poll interval of `exporter` (a scrape every 15 s or more is the Prometheus norm).
pub const EXPORTER_INTERVAL: Duration = Duration::from_secs(15);

/// Serves the metrics until SIGTERM or Ctrl-C (exit 0: stopping is how a service ends).
pub async fn run(mut args: ExporterArgs) -> anyhow::Result<i32> {
    // `--cutover NAME`: instances, endpoint, filters, source and thresholds from the config
    // file.
    let knobs = cutover::Knobs::exporter(&mut args.interval, &mut args.thresholds);
    cutover::apply(&mut args.api, knobs)?;
    let interval = args.interval.unwrap_or(EXPORTER_INTERVAL);
    logging::to_stderr("migtop=info");
    // The cloud API's tasks, or the servers' own (--primary, --standby).
    let api::Sources {
        source,
        probe,
        instances,
        ..
    } = api::sources(&args.api)?;
    let (registry, server) = metrics_endpoint::start(args.listen).await?;
    registry.expect_instances(&instances);
    let mut signals = StopSignals::listen_without_hangup()?;
    let recorder = record::open(args.record.as_deref())?;
    let config = headless_config(
        instances.clone(),
        interval,
        args.thresholds.readiness(),
        probe.as_deref(),
    );
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
            instances.join(" "),
            humantime::format_duration(interval)
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
