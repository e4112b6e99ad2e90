//! Where each panel goes for a given terminal size: a pure function of a small input, shared
//! by drawing and by the state (which needs the log viewport to page and the table height to
//! scroll).

use ratatui::layout::Rect;
use ratatui::widgets::Block;

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

/// What the layout depends on besides the terminal size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LayoutInput {
    /// Rows the header's alert needs at the pane's width (0 without an alert, at most 2).
    pub alert_rows: u16,
    /// A source probe is configured: the lag gauge has a second bar.
    pub probed: bool,
    /// Lines of the task table (tasks and task-less instances).
    pub task_rows: usize,
}

/// The header's height: one line, plus one or two for the alert (two only when the sentence
/// needs them and the pane is tall enough to spare a row).
pub fn header_height(alert_rows: u16, area: Rect) -> u16 {
    1 + if area.height >= 24 {
        alert_rows
    } else {
        alert_rows.min(1)
    }
}

/// Lays the dashboard out in `area`.
pub fn compute(area: Rect, input: &LayoutInput) -> AppLayout {
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
    let header_h = header_height(input.alert_rows, area);
    let middle_h = if input.probed && area.height >= PROBED_MIN_HEIGHT {
        MIDDLE_PROBED
    } else {
        MIDDLE
    };
    let fixed = header_h + 1 + 1 + middle_h;
    let rest = area.height - fixed;
    let want = input.task_rows.max(1) as u16 + 3;
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

#[cfg(test)]
mod tests {
    use super::*;

    fn input(alert_rows: u16, probed: bool, task_rows: usize) -> LayoutInput {
        LayoutInput {
            alert_rows,
            probed,
            task_rows,
        }
    }

    #[test]
    fn too_small_panes_get_only_the_message() {
        assert!(compute(Rect::new(0, 0, 49, 24), &input(0, false, 1)).too_small);
        assert!(compute(Rect::new(0, 0, 80, 13), &input(0, false, 1)).too_small);
        assert!(!compute(Rect::new(0, 0, 50, 14), &input(0, false, 1)).too_small);
    }

    #[test]
    fn panels_stack_without_gaps() {
        let l = compute(Rect::new(0, 0, 80, 24), &input(0, false, 3));
        assert_eq!(l.header, Rect::new(0, 0, 80, 1));
        assert_eq!(l.tasks, Rect::new(0, 1, 80, 6));
        assert_eq!(l.stage.y, 7);
        assert_eq!((l.lag.y, l.lag.height), (8, 6));
        assert_eq!(l.lag.width + l.verdict.width, 80);
        let log = l.log.unwrap();
        assert_eq!((log.y, log.height), (14, 9));
        assert_eq!(l.details.unwrap().x, log.width);
        assert_eq!(l.footer, Rect::new(0, 23, 80, 1));
    }

    #[test]
    fn an_alert_and_a_probe_take_rows_when_there_are_rows_to_give() {
        let area = Rect::new(0, 0, 80, 24);
        assert_eq!(compute(area, &input(2, false, 3)).header.height, 3);
        assert_eq!(compute(area, &input(2, true, 3)).lag.height, 7);
        let short = Rect::new(0, 0, 80, 18);
        assert_eq!(compute(short, &input(2, false, 3)).header.height, 2);
        assert_eq!(compute(short, &input(0, true, 3)).lag.height, 6);
    }

    #[test]
    fn the_log_collapses_before_the_table_shrinks_below_two_rows() {
        // 8 rows below the fixed panels: 5 for the table would leave the log 3, too few.
        let l = compute(Rect::new(0, 0, 60, 17), &input(0, false, 40));
        assert_eq!(l.log, None);
        assert_eq!(l.details, None);
        assert_eq!(l.tasks.height, 8);
        let l = compute(Rect::new(0, 0, 60, 18), &input(0, false, 40));
        assert_eq!((l.tasks.height, l.log.unwrap().height), (5, 4));
    }
}
