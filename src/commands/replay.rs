//! `migtop replay FILE`: the dashboard on a recording, on the recording's clock.

use chrono::Local;

use super::dashboard_config::{WATCH_INTERVAL, color_enabled};
use crate::app::AppConfig;
use crate::cli::{JudgeArgs, ReplayArgs};
use crate::dashboard;
use crate::recording::Recording;
use crate::recording::player::{self, Player};
use crate::util::error::UsageError;
use crate::verdict::readiness::ReadinessConfig;

/// Reads a recording for `replay` or `report`: unreadable lines are warnings on stderr, a
/// file with nothing readable is a usage error.
pub fn read(path: &std::path::Path) -> Result<Recording, UsageError> {
    let rec = Recording::read(path).map_err(|e| UsageError(e.to_string()))?;
    for w in &rec.warnings {
        eprintln!("migtop: warning: {}: {w}", path.display());
    }
    Ok(rec)
}

/// The readiness thresholds of `--max-lag` and `--stable-for`.
pub fn readiness(j: &JudgeArgs) -> ReadinessConfig {
    ReadinessConfig {
        max_lag: j.max_lag,
        stable_for: j.stable_for,
    }
}

/// `migtop replay FILE`.
pub async fn run(args: ReplayArgs) -> anyhow::Result<i32> {
    let rec = read(&args.file)?;
    dashboard::require_terminal()?;
    let mut base = AppConfig::new(vec![]);
    base.interval = args
        .judge
        .interval
        .or_else(|| player::guess_interval(&rec))
        .unwrap_or(WATCH_INTERVAL);
    base.readiness = readiness(&args.judge);
    let no_color_env = std::env::var("NO_COLOR").ok();
    base.color = color_enabled(args.no_color, no_color_env.as_deref());
    base.local_offset = *Local::now().offset();
    let config = player::app_config(&rec, base);
    let player = Player::new(rec, config, args.speed);
    dashboard::replay::run(player).await
}
