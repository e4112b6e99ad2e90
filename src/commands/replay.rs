//! `migtop replay FILE`: the dashboard on a recording, on the recording's clock.

use std::time::Duration;

use anyhow::Context;
use chrono::Local;
use crossterm::event::Event;

use super::dashboard_config::{WATCH_INTERVAL, color_enabled};
use crate::app::{Action, AppConfig};
use crate::cli::{JudgeArgs, ReplayArgs};
use crate::dashboard;
use crate::dashboard::tui::{self, Tui};
use crate::recording::Recording;
use crate::recording::player::{self, Player};
use crate::ui::replay_bar;
use crate::util::error::{EXIT_OK, UsageError};
use crate::util::signals::{StopSignal, StopSignals};
use crate::verdict::readiness::ReadinessConfig;

/// How often the replay's clock moves on (and the screen may change).
const FRAME: Duration = Duration::from_millis(100);

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
    let mut player = Player::new(rec, config, args.speed);

    let mut signals = StopSignals::listen()?;
    let mut tui = Tui::enter().context("cannot set up the terminal")?;
    if let Ok((w, h)) = tui.size() {
        player.app_mut().update(Action::Resize(w, h));
    }
    let mut events = tui::Input::spawn();
    let mut frame = tokio::time::interval(FRAME);
    frame.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut last = tokio::time::Instant::now();
    let mut ended_by: Option<StopSignal> = None;
    loop {
        if player.quit() || tui::panicked() {
            break;
        }
        if player.take_dirty() {
            let paused = player.paused();
            let app = player.app();
            tui.draw_with(|f| replay_bar::draw_replay(f, app, paused))?;
        }
        tokio::select! {
            ev = events.next() => match ev {
                Some(Ok(Event::Key(k))) => player.on_key(k),
                Some(Ok(Event::Resize(w, h))) => {
                    player.app_mut().update(Action::Resize(w, h));
                }
                Some(Ok(_)) => {}
                Some(Err(e)) => {
                    tracing::error!("terminal input failed: {e}");
                    break;
                }
                None => break,
            },
            _ = frame.tick() => {
                let now = tokio::time::Instant::now();
                player.advance(now - last);
                last = now;
            }
            sig = signals.recv() => { ended_by = Some(sig); break }
        }
    }
    tui.restore();
    if tui::panicked() {
        anyhow::bail!("internal error (see the message above); the terminal was restored");
    }
    Ok(ended_by.map_or(EXIT_OK, |s| s.exit_code()))
}
