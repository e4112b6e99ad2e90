//! The footer: the keys that work in the current focus or dialog.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget};

use super::theme::Theme;
use crate::app::{App, Focus, Overlay, SwitchPhase};

/// The footer as data: the keys of the current mode, most useful first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Footer {
    /// (key, what it does) pairs, dropped from the end when they do not fit.
    pub keys: Vec<(&'static str, &'static str)>,
    /// `? help` and `q quit` stay at the end (not while a dialog or the search input is open).
    pub always: bool,
    /// `S switch` stays with them when switchover is enabled, at every width.
    pub switchover: bool,
    pub theme: Theme,
}

impl Footer {
    /// The footer for the state of `app`.
    pub fn of(app: &App, theme: Theme) -> Footer {
        Footer {
            keys: keys(app),
            always: app.overlay().is_none() && app.log().input.is_none(),
            switchover: app.config().allow_switchover,
            theme,
        }
    }
}

/// The (key, what it does) pairs for the current mode, most useful first.
pub fn keys(app: &App) -> Vec<(&'static str, &'static str)> {
    match &app.overlay() {
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
    if app.log().input.is_some() {
        return vec![
            ("type", "search text"),
            ("Enter", "find"),
            ("Esc", "cancel"),
        ];
    }
    let mut v = match app.focus() {
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
    v.push(("p", if app.paused() { "resume" } else { "pause" }));
    v.push(("+/-", "interval"));
    if app.config().lab_keys {
        v.extend([("F", "freeze"), ("C", "cut"), ("P", "replay")]);
    }
    if app.focus() == Focus::Tasks {
        v.push(("PgUp/Dn", "scroll log"));
    }
    v
}

impl Widget for Footer {
    /// One line; `? help` and `q quit` always stay visible.
    fn render(self, area: Rect, buf: &mut Buffer) {
        let theme = self.theme;
        let width = area.width as usize;
        let mut always: Vec<(&str, &str)> = Vec::new();
        if self.always {
            if self.switchover {
                always.push(("S", "switch"));
            }
            always.extend([("?", "help"), ("q", "quit")]);
        }
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
        for (k, d) in self.keys {
            let it = item(k, d);
            let w: usize = it.iter().map(|s| s.width()).sum();
            if used + w + tail_w > width {
                break;
            }
            used += w;
            spans.extend(it);
        }
        spans.extend(tail);
        Paragraph::new(Line::from(spans)).render(area, buf);
    }
}

#[cfg(test)]
mod tests {
    use ratatui::style::{Modifier, Style};

    use super::*;

    fn footer(keys: Vec<(&'static str, &'static str)>, always: bool) -> Footer {
        Footer {
            keys,
            always,
            switchover: false,
            theme: Theme { color: false },
        }
    }

    #[test]
    fn switchover_key_stays_at_every_width_when_enabled() {
        for width in [30u16, 40, 80, 120] {
            let mut buf = Buffer::empty(Rect::new(0, 0, width, 1));
            let mut f = footer(vec![("r", "poll"), ("p", "pause")], true);
            f.switchover = true;
            f.render(buf.area, &mut buf);
            let text: String = buf.content().iter().map(|c| c.symbol()).collect();
            assert!(text.contains("S switch"), "{width}: {text}");
            assert!(text.contains("q quit"), "{width}: {text}");
        }
    }

    #[test]
    fn keys_that_do_not_fit_are_dropped_before_help_and_quit() {
        let mut buf = Buffer::empty(Rect::new(0, 0, 40, 1));
        footer(
            vec![("r", "poll"), ("p", "pause"), ("+/-", "interval")],
            true,
        )
        .render(buf.area, &mut buf);
        let mut want = Buffer::with_lines([format!("{:<40}", " r poll  p pause  ? help  q quit")]);
        let (bold, dim) = (
            Style::new().add_modifier(Modifier::BOLD),
            Style::new().add_modifier(Modifier::DIM),
        );
        for (x, w, style) in [
            (0, 2, bold),
            (2, 6, dim),
            (8, 2, bold),
            (10, 7, dim),
            (17, 2, bold),
            (19, 6, dim),
            (25, 2, bold),
            (27, 6, dim),
        ] {
            want.set_style(Rect::new(x, 0, w, 1), style);
        }
        assert_eq!(buf, want);
    }

    #[test]
    fn a_dialog_shows_only_its_keys() {
        let mut buf = Buffer::empty(Rect::new(0, 0, 30, 1));
        footer(vec![("Enter/Esc", "close")], false).render(buf.area, &mut buf);
        let mut want = Buffer::with_lines([format!("{:<30}", " Enter/Esc close")]);
        want.set_style(
            Rect::new(0, 0, 10, 1),
            Style::new().add_modifier(Modifier::BOLD),
        );
        want.set_style(
            Rect::new(10, 0, 7, 1),
            Style::new().add_modifier(Modifier::DIM),
        );
        assert_eq!(buf, want);
    }
}
