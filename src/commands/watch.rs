//! `migtop watch`: the dashboard against the real API.

use std::sync::Arc;

use super::dashboard_config::{WATCH_INTERVAL, app_config};
use super::{api, cutover};
use crate::cli::WatchArgs;
use crate::poller::ApiSource;
use crate::{dashboard, logging};

/// `migtop watch` (and `migtop -i ID`).
pub async fn run(mut args: WatchArgs) -> anyhow::Result<i32> {
    cutover::apply(&mut args.api, Some(&mut args.ui))?;
    let client = api::client(&args.api)?;
    let probe = api::source_probe(&args.api)?;
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
        probe.as_ref(),
    );
    dashboard::run(source, Some(client), probe, config).await
}
