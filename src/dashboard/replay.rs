//! The replay session (`migtop replay FILE`): a recording played on its own clock. Keys go to
//! the [`Player`]; nothing has effects (nothing is sent anywhere).

use std::time::Duration;

use crossterm::event::Event;

use super::tui::Tui;
use super::{Fed, Session};
use crate::app::{App, Effect};
use crate::recording::player::Player;
use crate::ui::replay_bar;

/// How often the replay's clock moves on (and the screen may change).
const FRAME: Duration = Duration::from_millis(100);

/// Replays until the DBA quits or a signal ends it; the terminal is restored in every case.
pub async fn run(player: Player) -> anyhow::Result<i32> {
    let mut session = Replay::new(player);
    super::run_session(&mut session).await
}

/// A replay session: the player and the wall clock that drives it.
pub struct Replay {
    player: Player,
    frame: tokio::time::Interval,
    last: tokio::time::Instant,
}

impl Replay {
    /// A session on `player`, its clock starting now.
    pub fn new(player: Player) -> Replay {
        let mut frame = tokio::time::interval(FRAME);
        frame.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        Replay {
            player,
            frame,
            last: tokio::time::Instant::now(),
        }
    }
}

impl Session for Replay {
    fn app(&self) -> &App {
        self.player.app()
    }

    fn take_dirty(&mut self) -> bool {
        self.player.take_dirty()
    }

    fn is_dirty(&self) -> bool {
        self.player.is_dirty()
    }

    fn on_input(&mut self, ev: Event) -> Vec<Effect> {
        match ev {
            Event::Key(k) => self.player.on_key(k),
            Event::Resize(w, h) => self.player.resize(w, h),
            _ => {}
        }
        Vec::new()
    }

    async fn next(&mut self) -> Fed {
        self.frame.tick().await;
        let now = tokio::time::Instant::now();
        self.player.advance(now - self.last);
        self.last = now;
        Fed {
            effects: Vec::new(),
            urgent: true,
        }
    }

    fn effect(&mut self, _: Effect) {}

    fn draw(&self, tui: &mut Tui) -> std::io::Result<()> {
        let paused = self.player.paused();
        tui.draw_with(|f| replay_bar::draw_replay(f, self.player.app(), paused))
    }
}
