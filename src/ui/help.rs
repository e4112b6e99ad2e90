//! The help overlay: every key.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph, Wrap};

use super::theme::Theme;
use super::{centered, panel_block};
use crate::app::App;
use crate::units;

/// Every key and what it does.
pub const KEYS: &[(&str, &str)] = &[
    (
        "↑/↓  j/k",
        "select a task (scroll the log when it has focus)",
    ),
    ("g/G", "first / last task (top / bottom of the log)"),
    ("Tab", "switch focus between tasks and log"),
    ("PgUp/PgDn", "scroll the log a page"),
    ("Ctrl-u/Ctrl-d", "scroll the log half a page"),
    ("/", "search the log; Enter finds, Esc cancels"),
    ("n/N", "next / previous match"),
    ("f", "follow the end of the log as it grows"),
    ("r", "poll now"),
    ("p  Space", "pause / resume polling"),
    ("+/-", "poll less / more often"),
    ("S", "switchover (needs --allow-switchover)"),
    ("? F1", "this help (↑↓ PgUp/PgDn scroll it)"),
    ("Esc", "close overlays, clear the search"),
    ("q F10 Ctrl-C", "quit"),
];

/// Draws the help overlay centred in `area`.
pub fn draw(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let mut lines: Vec<Line> = KEYS
        .iter()
        .map(|(k, d)| {
            Line::from(vec![
                Span::styled(format!(" {k:<14}"), theme.strong()),
                Span::raw(d.to_string()),
            ])
        })
        .collect();
    let r = &app.config.readiness;
    lines.push(Line::default());
    lines.push(Line::styled(
        format!(
            " IN SYNC: stage increment, streaming, Synced, lag ≤ {} for {}.",
            units::bytes(r.max_lag),
            units::duration(r.stable_for)
        ),
        theme.dim(),
    ));
    lines.push(Line::styled(
        " DRAINED: also lag 0 and the source's WAL end unchanged.",
        theme.dim(),
    ));
    let w = 72.min(area.width.saturating_sub(2));
    let inner_w = w.saturating_sub(2).max(1);
    let paragraph = Paragraph::new(lines).wrap(Wrap { trim: false });
    let total = paragraph.line_count(inner_w) as u16;
    let h = (total + 2).min(area.height);
    let rect = centered(area, w, h);
    // When the help does not fit it scrolls, and says how much is above and below.
    let visible = h.saturating_sub(2);
    let scroll = app.help_scroll.min(total.saturating_sub(visible));
    let below = total.saturating_sub(scroll + visible);
    frame.render_widget(Clear, rect);
    let mut title = vec![
        Span::styled(" Help ", theme.accent()),
        Span::styled("Esc closes ", theme.dim()),
    ];
    if scroll > 0 {
        title.push(Span::styled(format!("▲ {scroll} ",), theme.dim()));
    }
    let mut block = panel_block(Line::from(title), theme, true);
    if below > 0 {
        block = block.title_bottom(
            Line::styled(format!(" ▼ {below} more (↓ PgDn) "), theme.accent()).right_aligned(),
        );
    }
    frame.render_widget(paragraph.block(block).scroll((scroll, 0)), rect);
}
