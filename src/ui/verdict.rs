//! The readiness verdict: NOT READY with every reason, IN SYNC or DRAINED.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Color;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use super::panel_block;
use super::theme::Theme;
use crate::app::App;
use crate::model::Stage;
use crate::readiness::Verdict;
use crate::units;

/// The verdict badge.
pub fn badge(v: &Verdict, theme: &Theme) -> Span<'static> {
    let bg = match v {
        Verdict::NotReady(_) => Color::Red,
        Verdict::InSync { .. } => Color::Yellow,
        Verdict::Drained { .. } => Color::Green,
    };
    Span::styled(format!(" {} ", v.label()), theme.badge(bg))
}

/// The lines explaining `v`.
pub fn explain(v: &Verdict, max_lag: u64, theme: &Theme) -> Vec<Line<'static>> {
    match v {
        Verdict::NotReady(reasons) => reasons
            .iter()
            .map(|r| {
                Line::from(vec![
                    Span::styled("• ", theme.bad()),
                    Span::raw(r.to_string()),
                ])
            })
            .collect(),
        Verdict::InSync { lag, stable } => vec![
            Line::from(format!(
                "lag {} ≤ {} for {}",
                units::bytes(*lag),
                units::bytes(max_lag),
                units::duration(*stable)
            )),
            Line::styled("source still writing", theme.dim()),
        ],
        Verdict::Drained { stable } => vec![
            Line::from(format!("lag 0, source idle {}", units::duration(*stable))),
            Line::styled("switchover loses nothing", theme.good()),
        ],
    }
}

/// Draws the verdict of the selected task into `area`.
pub fn draw(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let Some(entry) = app.selected_task() else {
        let block = panel_block(Span::styled(" Readiness ", theme.strong()), theme, false);
        let text = match app.selected_instance() {
            Some(i) => match &i.last_error {
                Some((_, e)) => Line::styled(e.to_string(), theme.bad()),
                None => Line::styled("no task to judge", theme.dim()),
            },
            None => Line::styled("no task to judge", theme.dim()),
        };
        frame.render_widget(
            Paragraph::new(text).block(block).wrap(Wrap { trim: true }),
            area,
        );
        return;
    };
    let mut title = vec![Span::raw(" "), badge(&entry.verdict, theme), Span::raw(" ")];
    if app.config.allow_switchover && entry.task.stage == Some(Stage::Increment) {
        title.push(Span::styled("S switch over ", theme.dim()));
    }
    let block = panel_block(Line::from(title), theme, false);
    let lines = explain(&entry.verdict, app.config.readiness.max_lag, theme);
    frame.render_widget(
        Paragraph::new(lines)
            .block(block)
            .wrap(Wrap { trim: false }),
        area,
    );
}
