//! The help overlay: every key.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};

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
    ("?", "this help"),
    ("Esc", "close overlays, clear the search"),
    ("q  Ctrl-C", "quit"),
];

/// The keys `migtop lab` adds.
pub const LAB_KEYS: &[(&str, &str)] = &[
    ("F", "lab: freeze / thaw the link (no WAL sent, still up)"),
    ("C", "lab: cut / restore the link"),
    ("P", "lab: pause / resume replay on the standby"),
];

/// Draws the help overlay centred in `area`.
pub fn draw(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let lab: &[(&str, &str)] = if app.config.lab_keys { LAB_KEYS } else { &[] };
    let mut lines: Vec<Line> = KEYS
        .iter()
        .chain(lab)
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
    let h = (lines.len() as u16 + 2).min(area.height);
    let rect = centered(area, w, h);
    frame.render_widget(Clear, rect);
    let block = panel_block(
        Line::from(vec![
            Span::styled(" Help ", theme.accent()),
            Span::styled("Esc closes ", theme.dim()),
        ]),
        theme,
        true,
    );
    frame.render_widget(Paragraph::new(lines).block(block), rect);
}
