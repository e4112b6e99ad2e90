//! Styles. Only the terminal's named colours on the default background, so the screen reads on
//! light and dark themes alike; without colour, the same meaning is carried by modifiers.

use ratatui::style::{Color, Modifier, Style};

/// The styles of one session (colour or not).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Theme {
    pub color: bool,
}

impl Theme {
    fn pick(&self, color: Style, plain: Style) -> Style {
        if self.color { color } else { plain }
    }

    /// Done, healthy, success.
    pub fn good(&self) -> Style {
        self.pick(Style::new().fg(Color::Green), Style::new())
    }

    /// Needs attention.
    pub fn warn(&self) -> Style {
        self.pick(
            Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD),
            Style::new().add_modifier(Modifier::BOLD),
        )
    }

    /// Wrong, failed, over the limit.
    pub fn bad(&self) -> Style {
        self.pick(
            Style::new().fg(Color::Red).add_modifier(Modifier::BOLD),
            Style::new().add_modifier(Modifier::BOLD | Modifier::UNDERLINED),
        )
    }

    /// Secondary text.
    pub fn dim(&self) -> Style {
        Style::new().add_modifier(Modifier::DIM)
    }

    /// Headings and focus.
    pub fn accent(&self) -> Style {
        self.pick(
            Style::new().fg(Color::Cyan).add_modifier(Modifier::BOLD),
            Style::new().add_modifier(Modifier::BOLD),
        )
    }

    /// Bold.
    pub fn strong(&self) -> Style {
        Style::new().add_modifier(Modifier::BOLD)
    }

    /// A badge on a coloured background (black text reads on every named colour).
    pub fn badge(&self, bg: Color) -> Style {
        self.pick(
            Style::new()
                .fg(Color::Black)
                .bg(bg)
                .add_modifier(Modifier::BOLD),
            Style::new().add_modifier(Modifier::REVERSED | Modifier::BOLD),
        )
    }

    /// The selected table row.
    pub fn selected(&self) -> Style {
        Style::new().add_modifier(Modifier::REVERSED)
    }

    /// The border of the focused panel.
    pub fn focus_border(&self) -> Style {
        self.pick(
            Style::new().fg(Color::Cyan),
            Style::new().add_modifier(Modifier::BOLD),
        )
    }

    /// A search match in the log.
    pub fn matched(&self) -> Style {
        self.pick(
            Style::new().fg(Color::Black).bg(Color::Yellow),
            Style::new().add_modifier(Modifier::REVERSED),
        )
    }

    /// A colour for a fraction of a limit: green, yellow above a quarter, red above the limit.
    pub fn level(&self, value: u64, limit: u64) -> Style {
        if value > limit {
            self.bad()
        } else if value > limit / 4 {
            self.warn()
        } else {
            self.good()
        }
    }
}
