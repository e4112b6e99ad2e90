//! Mouse to actions: a click selects a task (or focuses the log), the wheel scrolls what is
//! under the pointer (the task list, the log, the help). Hit-testing uses the same layout as
//! the drawing (`App::layout`), so it never disagrees with the screen.

use crossterm::event::{MouseButton, MouseEvent, MouseEventKind};
use ratatui::layout::{Position, Rect};

use super::{Action, App, Effect, Focus, Overlay};

/// Lines the wheel scrolls the log or the help by, per notch.
const WHEEL_LINES: i32 = 3;

impl App {
    /// Maps a mouse event to an action, then applies it (pointer motion does nothing).
    pub fn on_mouse(&mut self, ev: MouseEvent) -> Vec<Effect> {
        match self.mouse_action(ev) {
            Some(a) => self.update(a),
            None => Vec::new(),
        }
    }

    /// The action a mouse event means right now, if any.
    pub fn mouse_action(&self, ev: MouseEvent) -> Option<Action> {
        let wheel = match ev.kind {
            MouseEventKind::ScrollUp => -1,
            MouseEventKind::ScrollDown => 1,
            MouseEventKind::Down(MouseButton::Left) => 0,
            _ => return None,
        };
        match &self.overlay {
            Some(Overlay::Help) if wheel != 0 => {
                return Some(Action::HelpScroll(wheel * WHEEL_LINES));
            }
            Some(_) => return None,
            None => {}
        }
        if self.log.input.is_some() {
            return None;
        }
        let at = Position::new(ev.column, ev.row);
        let l = self.layout();
        if l.too_small {
            return None;
        }
        if l.tasks.contains(at) {
            return match wheel {
                -1 => Some(Action::Up),
                1 => Some(Action::Down),
                _ => self.row_at(l.tasks, ev.row).map(Action::SelectRow),
            };
        }
        if l.log.is_some_and(|r| r.contains(at)) {
            return Some(match wheel {
                0 => Action::FocusLog,
                n => Action::ScrollLines(i64::from(n * WHEEL_LINES)),
            });
        }
        None
    }

    /// The row of the task table at screen row `y` (below its border and header), if any.
    fn row_at(&self, table: Rect, y: u16) -> Option<usize> {
        let first = table.y + 2;
        if y < first || y + 1 >= table.bottom() {
            return None;
        }
        let idx = self.task_offset + usize::from(y - first);
        (idx < self.rows.len()).then_some(idx)
    }

    /// Selects row `idx` with the task list focused.
    pub(super) fn select_row(&mut self, idx: usize) {
        self.focus = Focus::Tasks;
        self.select(idx);
    }
}

#[cfg(test)]
mod tests {
    use crossterm::event::KeyModifiers;

    use super::*;
    use crate::app::fixtures::{app, item, ok};

    fn mouse(kind: MouseEventKind, column: u16, row: u16) -> MouseEvent {
        MouseEvent {
            kind,
            column,
            row,
            modifiers: KeyModifiers::NONE,
        }
    }

    fn with_tasks() -> App {
        let mut a = app();
        a.update(Action::Resize(80, 24));
        let items: Vec<_> = (1..=4)
            .map(|i| item(i, "increment", "streaming", Some(0), ""))
            .collect();
        ok(&mut a, crate::app::fixtures::EAST, 0, &items);
        a
    }

    #[test]
    fn a_click_selects_the_row_under_the_pointer() {
        let mut a = with_tasks();
        let t = a.layout().tasks;
        let click = |row| mouse(MouseEventKind::Down(MouseButton::Left), t.x + 5, row);
        a.on_mouse(click(t.y + 2 + 2));
        assert_eq!(a.selected, 2);
        a.on_mouse(click(t.y + 2));
        assert_eq!(a.selected, 0);
        // The header and the border select nothing.
        assert!(a.mouse_action(click(t.y + 1)).is_none());
        assert!(a.mouse_action(click(t.y)).is_none());
    }

    #[test]
    fn the_wheel_scrolls_what_is_under_the_pointer() {
        let mut a = with_tasks();
        let l = a.layout();
        a.on_mouse(mouse(
            MouseEventKind::ScrollDown,
            l.tasks.x + 3,
            l.tasks.y + 3,
        ));
        assert_eq!(a.selected, 1);
        if let Some(log) = l.log {
            assert!(matches!(
                a.mouse_action(mouse(MouseEventKind::ScrollUp, log.x + 3, log.y + 2)),
                Some(Action::ScrollLines(-3))
            ));
            a.on_mouse(mouse(
                MouseEventKind::Down(MouseButton::Left),
                log.x + 3,
                log.y + 2,
            ));
            assert_eq!(a.focus, Focus::Log);
        }
        // Motion and the header do nothing and draw nothing.
        a.take_dirty();
        assert!(a.on_mouse(mouse(MouseEventKind::Moved, 3, 3)).is_empty());
        assert!(!a.take_dirty());
        assert!(
            a.mouse_action(mouse(MouseEventKind::ScrollDown, 3, 0))
                .is_none()
        );
    }

    #[test]
    fn in_the_help_the_wheel_scrolls_it() {
        let mut a = with_tasks();
        a.update(Action::ToggleHelp);
        a.on_mouse(mouse(MouseEventKind::ScrollDown, 10, 10));
        assert_eq!(a.help_scroll, 3);
        assert!(
            a.mouse_action(mouse(MouseEventKind::Down(MouseButton::Left), 10, 10))
                .is_none()
        );
    }
}
