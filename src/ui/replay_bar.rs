//! The footer of a replay: the replay's own keys in place of polling's.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};

use super::theme::Theme;
use crate::app::{App, Focus};

/// The (key, what it does) pairs of a replay, most useful first.
pub fn keys(app: &App, paused: bool) -> Vec<(&'static str, &'static str)> {
    let mut v = vec![
        ("Space", if paused { "play" } else { "pause" }),
        ("←→", "step"),
        ("[ ]", "changes"),
        ("+/-", "speed"),
    ];
    match app.focus() {
        Focus::Tasks => v.extend([("↑↓", "select"), ("Tab", "log")]),
        Focus::Log => v.extend([("↑↓", "scroll"), ("Tab", "tasks")]),
    }
    v.push(("/", "search"));
    v
}

/// Draws the replay's footer over the dashboard's last line, unless a dialog or a search
/// owns the footer.
pub fn draw(frame: &mut Frame, app: &App, paused: bool) {
    let area = frame.area();
    if app.overlay().is_some() || app.log().input.is_some() || area.height == 0 {
        return;
    }
    let theme = Theme {
        color: app.config().color,
    };
    let row = Rect::new(area.x, area.y + area.height - 1, area.width, 1);
    let item = |k: &str, d: &str| -> Vec<Span<'static>> {
        vec![
            Span::styled(format!(" {k}"), theme.strong()),
            Span::styled(format!(" {d} "), theme.dim()),
        ]
    };
    let tail: Vec<Span> = [("?", "help"), ("q", "quit")]
        .iter()
        .flat_map(|(k, d)| item(k, d))
        .collect();
    let tail_w: usize = tail.iter().map(|s| s.width()).sum();
    let mut spans = Vec::new();
    let mut used = 0;
    for (k, d) in keys(app, paused) {
        let it = item(k, d);
        let w: usize = it.iter().map(|s| s.width()).sum();
        if used + w + tail_w > area.width as usize {
            break;
        }
        used += w;
        spans.extend(it);
    }
    spans.extend(tail);
    frame.render_widget(Clear, row);
    frame.render_widget(Paragraph::new(Line::from(spans)), row);
}

/// The whole replay screen: the dashboard, then the replay's footer.
pub fn draw_replay(frame: &mut Frame, app: &App, paused: bool) {
    super::draw(frame, app);
    draw(frame, app, paused);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::{Action, fixtures};
    use crate::ui::test_text as text;
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;
    use ratatui::buffer::Buffer;

    /// The replay's footer alone, drawn on an empty `w`×3 screen.
    fn footer(app: &App, paused: bool, w: u16) -> Vec<String> {
        let mut t = Terminal::new(TestBackend::new(w, 3)).unwrap();
        t.draw(|f| draw(f, app, paused)).unwrap();
        text(t.backend().buffer())
    }

    #[test]
    fn the_replay_keys_replace_pollings_and_fit_the_width() {
        let mut app = fixtures::app();
        app.update(Action::Resize(80, 3));
        let want = Buffer::with_lines([
            "                                                                                ",
            "                                                                                ",
            " Space play  ←→ step  [ ] changes  +/- speed  ↑↓ select  ? help  q quit         ",
        ]);
        assert_eq!(footer(&app, true, 80), text(&want));
        // Only whole keys, most useful first: what does not fit goes, help and quit stay.
        let want = Buffer::with_lines([
            "                                        ",
            "                                        ",
            " Space pause  ←→ step  ? help  q quit   ",
        ]);
        assert_eq!(footer(&app, false, 40), text(&want));
    }

    #[test]
    fn the_log_focus_names_its_keys_and_a_dialog_hides_the_bar() {
        let mut app = fixtures::app();
        app.update(Action::FocusLog);
        let last = footer(&app, true, 80).pop().unwrap();
        assert_eq!(
            last,
            " Space play  ←→ step  [ ] changes  +/- speed  ↑↓ scroll  ? help  q quit         "
        );
        app.update(Action::ToggleHelp);
        assert!(footer(&app, true, 80).iter().all(|l| l.trim().is_empty()));
    }
}
