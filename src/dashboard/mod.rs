//! The dashboard's one event loop ([`run_session`]): terminal, signals, input, frame pacing and
//! restore, the same for every session. Sessions differ only in where their events come from:
//! [`live`] (`watch`, `demo`, `lab`: pollers, API answers, the wall clock) and [`replay`]
//! (`replay`: a recording on its own clock).

pub mod live;
pub mod replay;
pub mod tui;

use std::io::IsTerminal;
use std::time::Duration;

use anyhow::Context;
use crossterm::event::Event;

use crate::app::{App, Effect};
use crate::util::error::{EXIT_OK, UsageError};
use crate::util::signals::{StopSignal, StopSignals};
pub use live::{Extras, LabControl, run};
use tui::Tui;

/// How long a change from the pollers may wait for others to share its frame. The pollers
/// run in step, so one round of polls (a request out, its answer, the next time, for every
/// instance) arrives within a few milliseconds on a near endpoint: drawn as it comes, that
/// was three frames per instance per round. Keys, resizes and the clock draw at once.
const FRAME_SETTLE: Duration = Duration::from_millis(40);

/// Refuses to open the dashboard without a terminal on stdin and stdout.
pub fn require_terminal() -> Result<(), UsageError> {
    if !std::io::stdout().is_terminal() || !std::io::stdin().is_terminal() {
        return Err(UsageError(
            "the dashboard needs a terminal; for scripts use `migtop status` (with --output json)"
                .into(),
        ));
    }
    Ok(())
}

/// What one of a session's own events did: the effects to carry out, and whether the change
/// may wait up to `FRAME_SETTLE` (40 ms) for others to share its frame.
pub struct Fed {
    /// Side effects of the actions the event became.
    pub effects: Vec<Effect>,
    /// Draw at once (keys, answers, the clock) rather than let the frame settle (polls).
    pub urgent: bool,
}

/// One kind of dashboard session: where its events come from and what its effects do. The
/// loop around it is [`run_session`]'s.
pub trait Session {
    /// The state drawn, and asked whether the DBA quit.
    fn app(&self) -> &App;

    /// Whether something was changed since the last call (the app, or the session's own
    /// state that it draws).
    fn take_dirty(&mut self) -> bool;

    /// Whether a change is waiting to be drawn, without clearing it.
    fn is_dirty(&self) -> bool;

    /// Applies terminal input (a key, a click, a resize); returns the effects.
    fn on_input(&mut self, ev: Event) -> Vec<Effect>;

    /// Waits for the session's next event of its own and applies it. Must be cancel-safe:
    /// the loop drops it when input or a signal comes first.
    fn next(&mut self) -> impl Future<Output = Fed>;

    /// Carries out an effect (the loop rings the bell itself).
    fn effect(&mut self, effect: Effect);

    /// Draws the state.
    fn draw(&self, tui: &mut Tui) -> std::io::Result<()>;
}

/// Runs `session` on the terminal until the DBA quits or a signal ends it; the terminal is
/// restored in every case. Returns the exit code (128 + n after signal n).
pub async fn run_session(session: &mut impl Session) -> anyhow::Result<i32> {
    let mut signals = StopSignals::listen()?;
    let mut tui = Tui::enter().context("cannot set up the terminal")?;
    if let Ok((w, h)) = tui.size() {
        session.on_input(Event::Resize(w, h));
    }
    let mut events = tui::Input::spawn();
    let ended_by = event_loop(session, &mut tui, &mut events, &mut signals).await;
    tui.restore();
    if tui::panicked() {
        anyhow::bail!("internal error (see the message above); the terminal was restored");
    }
    match ended_by? {
        Some(sig) => {
            tracing::info!("ended by {}", sig.name());
            Ok(sig.exit_code())
        }
        None => Ok(EXIT_OK),
    }
}

/// The loop itself: draws when the state is dirty (at once, or after [`FRAME_SETTLE`] for a
/// poller's change), waits for input, the session's next event or a stop signal. Returns the
/// signal that ended it, if one did.
async fn event_loop(
    session: &mut impl Session,
    tui: &mut Tui,
    events: &mut tui::Input,
    signals: &mut StopSignals,
) -> anyhow::Result<Option<StopSignal>> {
    // When the changes waiting for a frame get one; `None` while none waits.
    let mut frame_due: Option<tokio::time::Instant> = None;
    // Whether the last event should be seen at once (all but the pollers').
    let mut urgent = true;
    loop {
        if session.app().quit() || tui::panicked() {
            return Ok(None);
        }
        if session.is_dirty() {
            let now = tokio::time::Instant::now();
            if urgent || frame_due.is_some_and(|due| due <= now) {
                session.take_dirty();
                frame_due = None;
                session.draw(tui)?;
            } else if frame_due.is_none() {
                frame_due = Some(now + FRAME_SETTLE);
            }
        }
        urgent = true;
        let effects = tokio::select! {
            ev = events.next() => match ev {
                Some(Ok(ev)) => session.on_input(ev),
                Some(Err(e)) => {
                    tracing::error!("terminal input failed: {e}");
                    return Ok(None);
                }
                None => return Ok(None),
            },
            fed = session.next() => {
                urgent = fed.urgent;
                fed.effects
            }
            sig = signals.recv() => return Ok(Some(sig)),
            _ = tokio::time::sleep_until(frame_due.unwrap_or_else(tokio::time::Instant::now)),
                if frame_due.is_some() => Vec::new(),
        };
        for effect in effects {
            match effect {
                Effect::Bell => {
                    let _ = tui.bell();
                }
                other => session.effect(other),
            }
        }
    }
}
