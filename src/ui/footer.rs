//! The footer: the keys that work in the current focus or dialog.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::theme::Theme;
use crate::app::{App, Focus, Overlay, SwitchPhase};

/// The (key, what it does) pairs for the current mode, most useful first.
pub fn keys(app: &App) -> Vec<(&'static str, &'static str)> {
    match &app.overlay {
        Some(Overlay::Switchover(d)) => {
            return match d.phase {
                SwitchPhase::Typing => vec![
                    ("type", "the instance id"),
                    ("Enter", "switch over"),
                    ("Esc", "cancel"),
                ],
                SwitchPhase::Sending => vec![("Esc", "close (the call continues)")],
                SwitchPhase::Done(_) => vec![("Enter/Esc", "close")],
            };
        }
        Some(_) => return vec![("Esc", "close"), ("q", "quit")],
        None => {}
    }
    if app.log.input.is_some() {
        return vec![
            ("type", "search text"),
            ("Enter", "find"),
            ("Esc", "cancel"),
        ];
    }
    let mut v = match app.focus {
        Focus::Tasks => vec![("↑↓", "select"), ("Tab", "log"), ("/", "search")],
        Focus::Log => vec![
            ("↑↓", "scroll"),
            ("Tab", "tasks"),
            ("/", "search"),
            ("n/N", "next/prev"),
            ("f", "follow"),
        ],
    };
    v.push(("r", "poll"));
    v.push(("p", if app.paused { "resume" } else { "pause" }));
    v.push(("+/-", "interval"));
    if app.config.allow_switchover {
        v.push(("S", "switch over"));
    }
    if app.focus == Focus::Tasks {
        v.push(("PgUp/Dn", "scroll log"));
    }
    v
}

/// Draws the footer into `area`; `? help` and `q quit` always stay visible.
pub fn draw(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let width = area.width as usize;
    let always: Vec<(&str, &str)> = if app.overlay.is_none() && app.log.input.is_none() {
        vec![("?", "help"), ("q", "quit")]
    } else {
        vec![]
    };
    let item = |k: &str, d: &str| -> Vec<Span<'static>> {
        vec![
            Span::styled(format!(" {k}"), theme.strong()),
            Span::styled(format!(" {d} "), theme.dim()),
        ]
    };
    let tail: Vec<Span> = always.iter().flat_map(|(k, d)| item(k, d)).collect();
    let tail_w: usize = tail.iter().map(|s| s.width()).sum();
    let mut spans = Vec::new();
    let mut used = 0;
    for (k, d) in keys(app) {
        let it = item(k, d);
        let w: usize = it.iter().map(|s| s.width()).sum();
        if used + w + tail_w > width {
            break;
        }
        used += w;
        spans.extend(it);
    }
    spans.extend(tail);
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}
