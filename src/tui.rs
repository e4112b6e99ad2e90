//! The terminal: raw mode and the alternate screen on the way in, always restored on the way
//! out (normal exit, error, panic, signal), and frames drawn as synchronized updates.

use std::io::{self, BufWriter, Stdout, Write};
use std::sync::Once;
use std::sync::atomic::{AtomicBool, Ordering};

use crossterm::event::{DisableMouseCapture, EnableMouseCapture};
use crossterm::terminal::{
    BeginSynchronizedUpdate, EndSynchronizedUpdate, EnterAlternateScreen, LeaveAlternateScreen,
    disable_raw_mode, enable_raw_mode,
};
use crossterm::{cursor, execute, queue};
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;

use crate::app::App;
use crate::ui;

static PANICKED: AtomicBool = AtomicBool::new(false);
static HOOK: Once = Once::new();
/// Whether the screen is currently taken over (so restoring twice is harmless).
static ACTIVE: AtomicBool = AtomicBool::new(false);

/// Whether any thread panicked since the terminal was set up (the UI then stops).
pub fn panicked() -> bool {
    PANICKED.load(Ordering::SeqCst)
}

/// Puts the terminal back as it was: cooked mode, main screen, visible cursor.
pub fn restore_terminal() {
    if ACTIVE.swap(false, Ordering::SeqCst) {
        let _ = disable_raw_mode();
        let mut out = io::stdout();
        let _ = execute!(
            out,
            EndSynchronizedUpdate,
            DisableMouseCapture,
            LeaveAlternateScreen,
            cursor::Show
        );
        let _ = out.flush();
    }
}

fn install_panic_hook() {
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            // Restore first so the message lands on a readable screen.
            restore_terminal();
            PANICKED.store(true, Ordering::SeqCst);
            previous(info);
        }));
    });
}

/// The dashboard's terminal.
pub struct Tui {
    /// Buffered so that a whole frame leaves in one write: no torn frames even where the
    /// terminal ignores synchronized updates.
    terminal: Terminal<CrosstermBackend<BufWriter<Stdout>>>,
}

/// Room for a full frame of a large pane with its escape sequences.
const FRAME_BUFFER: usize = 256 * 1024;

impl Tui {
    /// Takes over the terminal.
    pub fn enter() -> io::Result<Tui> {
        install_panic_hook();
        enable_raw_mode()?;
        ACTIVE.store(true, Ordering::SeqCst);
        let mut out = io::stdout();
        if let Err(e) = execute!(out, EnterAlternateScreen, EnableMouseCapture, cursor::Hide) {
            restore_terminal();
            return Err(e);
        }
        let out = BufWriter::with_capacity(FRAME_BUFFER, io::stdout());
        match Terminal::new(CrosstermBackend::new(out)) {
            Ok(mut terminal) => {
                let _ = terminal.clear();
                Ok(Tui { terminal })
            }
            Err(e) => {
                restore_terminal();
                Err(e)
            }
        }
    }

    /// The terminal's size in columns and rows.
    pub fn size(&self) -> io::Result<(u16, u16)> {
        let s = self.terminal.size()?;
        Ok((s.width, s.height))
    }

    /// Draws one frame as a synchronized update (no tearing in tmux and modern terminals).
    pub fn draw(&mut self, app: &App) -> io::Result<()> {
        self.draw_with(|f| ui::draw(f, app))
    }

    /// Draws one frame with `render` (the dashboard plus something of the caller's).
    pub fn draw_with(&mut self, render: impl FnOnce(&mut ratatui::Frame)) -> io::Result<()> {
        // After a panic restored the terminal, drawing would scribble on the main screen.
        if !ACTIVE.load(Ordering::SeqCst) {
            return Ok(());
        }
        queue!(self.terminal.backend_mut(), BeginSynchronizedUpdate)?;
        let drawn = self.terminal.draw(render).map(|_| ());
        execute!(self.terminal.backend_mut(), EndSynchronizedUpdate)?;
        drawn
    }

    /// Rings the terminal bell (tmux flags the window).
    pub fn bell(&mut self) -> io::Result<()> {
        if !ACTIVE.load(Ordering::SeqCst) {
            return Ok(());
        }
        let b = self.terminal.backend_mut();
        b.write_all(b"\x07")?;
        b.flush()
    }

    /// Gives the terminal back.
    pub fn restore(&mut self) {
        restore_terminal();
    }
}

impl Drop for Tui {
    fn drop(&mut self) {
        restore_terminal();
    }
}
