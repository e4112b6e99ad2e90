//! Where each panel goes for a given terminal size: a pure function, shared by drawing and by
//! the state (which needs the log viewport to page and the table height to scroll).

use ratatui::layout::Rect;
use ratatui::widgets::Block;

use crate::app::App;

/// Below this width the dashboard asks for a larger pane.
pub const MIN_WIDTH: u16 = 50;
/// Below this height the dashboard asks for a larger pane.
pub const MIN_HEIGHT: u16 = 14;

/// Height of the lag gauge and readiness row.
const MIDDLE: u16 = 6;
/// With a source probe the gauge has a second bar: one more row, when the pane has it.
const MIDDLE_PROBED: u16 = 7;
/// Panes shorter than this keep [`MIDDLE`] even with a probe (the gauge drops its legend).
const PROBED_MIN_HEIGHT: u16 = 20;

/// The panels' rectangles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AppLayout {
    /// Too small to draw the dashboard: only the "enlarge" message.
    pub too_small: bool,
    pub header: Rect,
    pub tasks: Rect,
    pub stage: Rect,
    pub lag: Rect,
    pub verdict: Rect,
    /// Collapsed when there is no room.
    pub log: Option<Rect>,
    /// Collapsed when the pane is narrow or short.
    pub details: Option<Rect>,
    pub footer: Rect,
}

/// The header's height: one line, plus one or two for the last error (two only when the
/// sentence needs them and the pane is tall enough to spare a row).
pub fn header_height(app: &App, area: Rect) -> u16 {
    let rows = super::header::error_rows(app, area.width);
    1 + if area.height >= 24 { rows } else { rows.min(1) }
}

/// Lays the dashboard out in `area`.
pub fn compute(area: Rect, app: &App) -> AppLayout {
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        return AppLayout {
            too_small: true,
            ..Default::default()
        };
    }
    let (x, w) = (area.x, area.width);
    let mut y = area.y;
    let mut take = |h: u16| {
        let r = Rect::new(x, y, w, h);
        y += h;
        r
    };
    let header_h = header_height(app, area);
    let middle_h = if app.source.is_some() && area.height >= PROBED_MIN_HEIGHT {
        MIDDLE_PROBED
    } else {
        MIDDLE
    };
    let fixed = header_h + 1 + 1 + middle_h;
    let rest = area.height - fixed;
    let want = app.rows.len().max(1) as u16 + 3;
    // The table first, leaving the log at least 4 rows (2 lines) when it can.
    let mut tasks_h = want.min(rest.saturating_sub(6).max(5)).min(rest);
    let mut log_h = rest - tasks_h;
    if log_h < 4 {
        tasks_h = rest;
        log_h = 0;
    }
    let header = take(header_h);
    let tasks = take(tasks_h);
    let stage = take(1);
    let middle = take(middle_h);
    let bottom = take(log_h);
    let footer = take(1);
    let verdict_w = (w * 38 / 100).clamp(20, 40);
    let lag = Rect::new(x, middle.y, w - verdict_w, middle_h);
    let verdict = Rect::new(x + w - verdict_w, middle.y, verdict_w, middle_h);
    let (log, details) = if log_h == 0 {
        (None, None)
    } else if w >= 72 && log_h >= 5 {
        let dw = (w * 40 / 100).clamp(32, 46);
        (
            Some(Rect::new(x, bottom.y, w - dw, log_h)),
            Some(Rect::new(x + w - dw, bottom.y, dw, log_h)),
        )
    } else {
        (Some(bottom), None)
    };
    AppLayout {
        too_small: false,
        header,
        tasks,
        stage,
        lag,
        verdict,
        log,
        details,
        footer,
    }
}

/// The text area inside the log panel's border.
pub fn log_inner(log: Rect) -> Rect {
    Block::bordered().inner(log)
}
