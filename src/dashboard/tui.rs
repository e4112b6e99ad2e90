//! The terminal: raw mode and the alternate screen on the way in, always restored on the way
//! out (normal exit, error, panic, signal), and frames drawn as synchronized updates. A frame
//! that changes no cell writes nothing at all (see [`FrameBackend`]).

use std::io::{self, BufWriter, Stdout, Write};
use std::sync::Once;
use std::sync::atomic::{AtomicBool, Ordering};

use crossterm::event::{DisableMouseCapture, EnableMouseCapture, Event, EventStream};
use crossterm::terminal::{
    BeginSynchronizedUpdate, EndSynchronizedUpdate, EnterAlternateScreen, LeaveAlternateScreen,
    disable_raw_mode, enable_raw_mode,
};
use crossterm::{cursor, execute, queue};
use futures::StreamExt;
use ratatui::Terminal;
use ratatui::backend::{Backend, ClearType, CrosstermBackend, WindowSize};
use ratatui::buffer::Cell;
use ratatui::layout::{Position, Size};

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
    terminal: Terminal<FrameBackend<BufWriter<Stdout>>>,
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
        match Terminal::new(FrameBackend::on_stdout(out)) {
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
        self.terminal.draw(render).map(|_| ())
    }

    /// Rings the terminal bell (tmux flags the window).
    pub fn bell(&mut self) -> io::Result<()> {
        if !ACTIVE.load(Ordering::SeqCst) {
            return Ok(());
        }
        let b = self.terminal.backend_mut();
        b.write_all(b"\x07")?;
        Write::flush(b)
    }

    /// Gives the terminal back.
    pub fn restore(&mut self) {
        restore_terminal();
    }
}

/// Terminal input (keys, mouse, resizes), read on a task of its own. Polled straight from an
/// event loop's `select!`, crossterm's `EventStream` tries its reader's lock on every pass of
/// the loop while its waker thread holds it, spinning through dozens of `sched_yield` calls a
/// second; here it is polled only when input has arrived.
pub struct Input {
    rx: tokio::sync::mpsc::Receiver<io::Result<Event>>,
    task: tokio::task::JoinHandle<()>,
}

impl Input {
    /// Starts reading the terminal's input.
    pub fn spawn() -> Input {
        let (tx, rx) = tokio::sync::mpsc::channel(64);
        let task = tokio::spawn(async move {
            let mut events = EventStream::new();
            while let Some(ev) = events.next().await {
                if tx.send(ev).await.is_err() {
                    break;
                }
            }
        });
        Input { rx, task }
    }

    /// The next event; `None` once the terminal's input has ended. Cancel-safe.
    pub async fn next(&mut self) -> Option<io::Result<Event>> {
        self.rx.recv().await
    }
}

impl Drop for Input {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The crossterm backend, writing only what a frame changes: ratatui diffs the cells, but
/// around every diff (an empty one too) the plain backend resets the colours and hides the
/// cursor again, about 40 bytes a frame with the synchronized-update markers. Here a frame
/// with no changed cell writes nothing, the cursor is hidden once, and the markers surround
/// only frames that change something.
pub struct FrameBackend<W: Write> {
    inner: CrosstermBackend<W>,
    /// Whether the cursor is known to be hidden (nothing is written to hide it again).
    cursor_hidden: bool,
    /// Whether `out` is this process's stdout, so its size can be asked of stdout.
    on_stdout: bool,
}

impl<W: Write> FrameBackend<W> {
    /// A backend writing to `out`.
    pub fn new(out: W) -> FrameBackend<W> {
        FrameBackend {
            inner: CrosstermBackend::new(out),
            cursor_hidden: false,
            on_stdout: false,
        }
    }

    /// A backend writing to `out`, which is stdout.
    pub fn on_stdout(out: W) -> FrameBackend<W> {
        FrameBackend {
            on_stdout: true,
            ..FrameBackend::new(out)
        }
    }
}

/// The size of the terminal on stdout, from one ioctl. Ratatui asks for the size before every
/// frame, and crossterm answers by opening and closing /dev/tty each time.
fn stdout_size() -> Option<Size> {
    let ws = rustix::termios::tcgetwinsize(std::io::stdout()).ok()?;
    (ws.ws_col > 0 && ws.ws_row > 0).then(|| Size::new(ws.ws_col, ws.ws_row))
}

/// Bytes written straight through (the bell).
impl<W: Write> Write for FrameBackend<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.inner.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        Write::flush(&mut self.inner)
    }
}

impl<W: Write> Backend for FrameBackend<W> {
    type Error = io::Error;

    fn draw<'a, I>(&mut self, content: I) -> io::Result<()>
    where
        I: Iterator<Item = (u16, u16, &'a Cell)>,
    {
        let mut content = content.peekable();
        if content.peek().is_none() {
            return Ok(());
        }
        queue!(self.inner, BeginSynchronizedUpdate)?;
        self.inner.draw(content)?;
        queue!(self.inner, EndSynchronizedUpdate)
    }

    fn hide_cursor(&mut self) -> io::Result<()> {
        if !self.cursor_hidden {
            queue!(self.inner, cursor::Hide)?;
            self.cursor_hidden = true;
        }
        Ok(())
    }

    fn show_cursor(&mut self) -> io::Result<()> {
        self.cursor_hidden = false;
        queue!(self.inner, cursor::Show)
    }

    fn get_cursor_position(&mut self) -> io::Result<Position> {
        self.inner.get_cursor_position()
    }

    fn set_cursor_position<P: Into<Position>>(&mut self, position: P) -> io::Result<()> {
        self.inner.set_cursor_position(position)
    }

    fn clear(&mut self) -> io::Result<()> {
        self.inner.clear()
    }

    fn clear_region(&mut self, clear_type: ClearType) -> io::Result<()> {
        self.inner.clear_region(clear_type)
    }

    fn append_lines(&mut self, n: u16) -> io::Result<()> {
        self.inner.append_lines(n)
    }

    fn size(&self) -> io::Result<Size> {
        match self.on_stdout.then(stdout_size).flatten() {
            Some(size) => Ok(size),
            None => self.inner.size(),
        }
    }

    fn window_size(&mut self) -> io::Result<WindowSize> {
        self.inner.window_size()
    }

    fn flush(&mut self) -> io::Result<()> {
        Backend::flush(&mut self.inner)
    }
}

impl Drop for Tui {
    fn drop(&mut self) {
        restore_terminal();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::widgets::Paragraph;
    use std::cell::RefCell;
    use std::rc::Rc;

    /// A writer the test can read back while the terminal owns it.
    #[derive(Clone, Default)]
    struct Shared(Rc<RefCell<Vec<u8>>>);

    impl Write for Shared {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0.borrow_mut().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    impl Shared {
        fn take(&self) -> String {
            String::from_utf8(std::mem::take(&mut *self.0.borrow_mut())).unwrap()
        }
    }

    fn terminal(out: &Shared) -> Terminal<FrameBackend<Shared>> {
        let options = ratatui::TerminalOptions {
            viewport: ratatui::Viewport::Fixed(ratatui::layout::Rect::new(0, 0, 20, 3)),
        };
        Terminal::with_options(FrameBackend::new(out.clone()), options).unwrap()
    }

    #[test]
    fn an_unchanged_frame_writes_nothing() {
        let out = Shared::default();
        let mut t = terminal(&out);
        let draw = |t: &mut Terminal<_>, text: &'static str| {
            t.draw(|f| f.render_widget(Paragraph::new(text), f.area()))
                .unwrap();
        };
        draw(&mut t, "age=3s");
        let first = out.take();
        assert!(first.contains("age=3s"), "{first:?}");
        assert!(first.starts_with("\x1b[?2026h"), "{first:?}");
        assert_eq!(first.matches("\x1b[?25l").count(), 1, "{first:?}");

        draw(&mut t, "age=3s");
        assert_eq!(out.take(), "", "nothing changed, nothing written");

        // One changed cell: the cell, framed as a synchronized update; the cursor stays hidden.
        draw(&mut t, "age=4s");
        let next = out.take();
        assert!(next.contains('4') && !next.contains("age"), "{next:?}");
        assert!(
            next.starts_with("\x1b[?2026h") && next.ends_with("\x1b[?2026l"),
            "{next:?}"
        );
        assert!(!next.contains("\x1b[?25l"), "{next:?}");
        assert!(next.len() < 48, "{} bytes: {next:?}", next.len());
    }
}
