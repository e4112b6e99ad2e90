//! `migtop watch` and `migtop demo` (STUB — being built in the dashboard issue).

use crate::cli::{DemoArgs, WatchArgs};

/// Runs the dashboard.
pub async fn run(_args: WatchArgs) -> anyhow::Result<i32> {
    anyhow::bail!("the dashboard is not built yet; use `migtop status`")
}

/// Runs the dashboard against an in-process simulator.
pub async fn demo(_args: DemoArgs) -> anyhow::Result<i32> {
    anyhow::bail!("the demo is not built yet")
}
