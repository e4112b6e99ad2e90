//! `migtop watch`: the dashboard against the real API.

use std::sync::Arc;

use super::dashboard_config::{WATCH_INTERVAL, app_config};
use super::{api, cutover, metrics_endpoint, record};
use crate::cli::WatchArgs;
use crate::dashboard;
use crate::poller::{ApiSource, SnapshotSource};
use crate::probe::Probe;
use crate::util::logging;

/// `migtop watch` (and `migtop -i ID`).
pub async fn run(mut args: WatchArgs) -> anyhow::Result<i32> {
    cutover::apply(&mut args.api, cutover::Knobs::ui(&mut args.ui))?;
    // The cloud API's tasks, or the servers' own (--primary, --standby).
    let (source, client, probe, instances): (Arc<dyn SnapshotSource>, _, _, _) =
        match api::native(&args.api)? {
            Some((source, probe, names)) => (
                Arc::new(source),
                None,
                probe.map(|p| Box::new(p) as Box<dyn Probe>),
                names,
            ),
            None => {
                let client = api::client(&args.api)?;
                let probe = api::source_probe(&args.api)?.map(|p| Box::new(p) as Box<dyn Probe>);
                let source = ApiSource {
                    client: client.clone(),
                    filter: api::filter(&args.api),
                };
                (
                    Arc::new(source),
                    Some(client),
                    probe,
                    args.api.instances.clone(),
                )
            }
        };
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
