//! `migtop watch`: the dashboard against the real API.

use super::dashboard_config::{WATCH_INTERVAL, app_config};
use super::{api, cutover, metrics_endpoint, record};
use crate::cli::WatchArgs;
use crate::dashboard;
use crate::util::logging;

/// `migtop watch` (and `migtop -i ID`).
pub async fn run(mut args: WatchArgs) -> anyhow::Result<i32> {
    cutover::apply(&mut args.api, cutover::Knobs::ui(&mut args.ui))?;
    let api::Sources {
        source,
        client,
        probe,
        instances,
    } = api::sources(&args.api)?;
    dashboard::require_terminal()?;
    logging::to_file(args.ui.log_file.as_deref())?;
    let recorder = record::open(args.ui.record.as_deref())?;
    let config = app_config(
        "watch",
        &args.ui,
        WATCH_INTERVAL,
        instances,
        None,
        probe.as_deref(),
    );
    // The metrics server, when asked for, lives exactly as long as the dashboard.
    let (metrics, server) = match args.metrics_listen {
        Some(listen) => {
            let (registry, server) = metrics_endpoint::start(listen).await?;
            registry.expect_instances(&args.api.instances);
            (Some(registry), Some(server))
        }
        None => (None, None),
    };
    let outputs = dashboard::Extras {
        recorder,
        metrics,
        lab: None,
    };
    let code = dashboard::run(source, client, probe, config, outputs).await;
    if let Some(server) = server {
        server.shutdown().await;
    }
    code
}
