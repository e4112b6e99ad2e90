//! `migtop watch`: the dashboard against the real API.

use std::sync::Arc;

use super::api;
use super::dashboard_config::{WATCH_INTERVAL, app_config};
use crate::cli::WatchArgs;
use crate::poller::ApiSource;
use crate::probe::Probe;
use crate::{dashboard, logging};

/// `migtop watch` (and `migtop -i ID`).
pub async fn run(args: WatchArgs) -> anyhow::Result<i32> {
    let client = api::client(&args.api)?;
    let probe = api::source_probe(&args.api)?.map(|p| Box::new(p) as Box<dyn Probe>);
    dashboard::require_terminal()?;
    logging::to_file(args.ui.log_file.as_deref())?;
    let source = Arc::new(ApiSource {
        client: client.clone(),
        filter: api::filter(&args.api),
    });
    let config = app_config(
        &args.ui,
        WATCH_INTERVAL,
        args.api.instances.clone(),
        None,
        probe.as_deref(),
    );
    dashboard::run(source, Some(client), probe, None, config).await
}
