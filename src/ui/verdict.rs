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
use crate::readiness::{Reason, Verdict};
use crate::units;

/// The verdict badge.
pub fn badge(v: &Verdict, theme: &Theme) -> Span<'static> {
    // Past the switchover there is nothing to be ready for: say where the task is, without
    // the alarm colour.
    let past_switchover = match v.reasons().first() {
        Some(Reason::Stage(Some(Stage::Success))) => Some("FINISHED"),
        Some(Reason::Stage(Some(Stage::Switch))) => Some("SWITCHING"),
        _ => None,
    };
    let (label, bg) = match (v, past_switchover) {
        (Verdict::NotReady(_), Some(label)) => (label, Color::Cyan),
        (Verdict::NotReady(_), None) => (v.label(), Color::Red),
        (Verdict::InSync { .. }, _) => (v.label(), Color::Yellow),
        (Verdict::Drained { .. }, _) => (v.label(), Color::Green),
    };
    Span::styled(format!(" {label} "), theme.badge(bg))
}

/// The lines explaining `v` in `width` columns: the full reasons when each fits on a line,
/// else their terse forms.
pub fn explain(v: &Verdict, max_lag: u64, width: usize, theme: &Theme) -> Vec<Line<'static>> {
    match v {
        Verdict::NotReady(reasons) => {
            let long = reasons
                .iter()
                .all(|r| r.to_string().chars().count() + 2 <= width);
            reasons
                .iter()
                .map(|r| {
                    let text = if long { r.to_string() } else { r.short() };
                    Line::from(vec![Span::styled("• ", theme.bad()), Span::raw(text)])
                })
                .collect()
        }
        Verdict::InSync { lag, stable } => vec![
            Line::from(format!(
                "lag {} ≤ {}",
                units::bytes(*lag),
                units::bytes(max_lag)
            )),
            Line::from(format!("held for {}", units::duration(*stable))),
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
        let nothing = Verdict::NotReady(vec![Reason::NoData]);
        let title = Line::from(vec![Span::raw(" "), badge(&nothing, theme), Span::raw(" ")]);
        let block = panel_block(title, theme, false);
        let text = match app.selected_instance() {
            Some(i) if i.last_ok.is_some() => "no migration tasks on this instance",
            _ => "no data for this instance yet",
        };
        frame.render_widget(
            Paragraph::new(Line::styled(text, theme.dim()))
                .block(block)
                .wrap(Wrap { trim: true }),
            area,
        );
        return;
    };
    let mut title = vec![Span::raw(" "), badge(&entry.verdict, theme), Span::raw(" ")];
    if app.config.allow_switchover && entry.task.stage == Some(Stage::Increment) {
        title.push(Span::styled("S switch over ", theme.dim()));
    }
    let block = panel_block(Line::from(title), theme, false);
    let inner = block.inner(area);
    let mut lines = explain(
        &entry.verdict,
        app.config.readiness.max_lag,
        inner.width as usize,
        theme,
    );
    // With a probe, DRAINED needs the source to confirm it: say so when it cannot.
    let unconfirmed = entry
        .history
        .latest()
        .is_some_and(|(_, d)| d.probed && d.true_lag().is_none());
    if unconfirmed && matches!(entry.verdict, Verdict::InSync { .. }) {
        lines.pop();
        lines.push(Line::styled("true lag unknown:", theme.warn()));
        lines.push(Line::styled("DRAINED unconfirmed", theme.warn()));
    }
    frame.render_widget(
        Paragraph::new(lines)
            .block(block)
            .wrap(Wrap { trim: false }),
        area,
    );
}
