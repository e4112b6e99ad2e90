//! `migtop demo`: the simulator in-process, the dashboard against it over real HTTP, with the
//! simulator's own sources lent as a (simulated) source probe.

use std::sync::Arc;

use anyhow::Context;

use super::dashboard_config::{DEMO_INTERVAL, app_config, speed_label};
use crate::cli::DemoArgs;
use crate::poller::ApiSource;
use crate::probe::Probe;
use crate::util::logging;
use crate::{dashboard, sim};

/// `migtop demo`.
pub async fn run(args: DemoArgs) -> anyhow::Result<i32> {
    dashboard::require_terminal()?;
    logging::to_file(args.ui.log_file.as_deref())?;
    let recorder = super::record::open(args.ui.record.as_deref())?;
    let handle = sim::start(sim::SimOptions {
        listen: "127.0.0.1:0".parse().expect("valid address"),
        scenario: args.scenario.clone(),
        speed: args.speed,
        seed: args.seed,
        credentials: None,
    })
    .await
    .context("cannot start the built-in simulator")?;
    let client = handle.client()?;
    let source = Arc::new(ApiSource {
        client: client.clone(),
        filter: Default::default(),
    });
    let probe = handle
        .scenario
        .clone()
        .map(|s| Box::new(sim::SimulatedProbe::new(s)) as Box<dyn Probe>);
    let config = app_config(
        "demo",
        &args.ui,
        DEMO_INTERVAL,
        handle.instances.clone(),
        Some(speed_label("demo", args.speed)),
        probe.as_deref(),
    );
    let code = dashboard::run(
        source,
        Some(client),
        probe,
        config,
        dashboard::Extras {
            recorder,
            ..Default::default()
        },
    )
    .await;
    handle.shutdown().await;
    code
}
