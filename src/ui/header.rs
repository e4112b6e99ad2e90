//! The header: instances, poll age and countdown, pause, staleness and the last error.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use super::theme::Theme;
use super::{age, fit_spans};
use crate::app::App;
use crate::units;
use crate::view::alert::{Alert, Tone};

/// Draws the header into `area` (one line, two with an error).
pub fn draw(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let width = area.width as usize;
    let mut badges: Vec<Span<'static>> = Vec::new();
    if app.paused {
        badges.push(Span::styled(" PAUSED ", theme.badge(Color::Yellow)));
    }
    let stale_age = app.instances.iter().filter_map(|i| app.stale_age(i)).max();
    if let Some(a) = stale_age {
        badges.push(Span::raw(" "));
        badges.push(Span::styled(
            format!(" STALE {} ", units::duration(a)),
            theme.badge(Color::Red),
        ));
    }
    let badges_w: usize = badges.iter().map(|s| s.width()).sum();

    let sep = || Span::styled(" │ ", theme.dim());
    let mut left: Vec<Span<'static>> = vec![Span::styled(" migtop", theme.accent())];
    if let Some(label) = &app.config.label {
        left.push(Span::styled(format!(" {label}"), theme.accent()));
        if let Some(note) = &app.lab_note {
            left.push(Span::styled(format!(" · {note}"), theme.warn()));
        }
    }
    left.push(sep());
    let names = app
        .instances
        .iter()
        .map(|i| i.name.as_str())
        .collect::<Vec<_>>()
        .join(" ");
    let names_at = left.len();
    left.push(Span::raw(names));
    left.push(sep());
    // The oldest instance's last success: the figure a stale warning is about.
    let oldest_ok = app.instances.iter().filter_map(|i| i.last_ok).min();
    match oldest_ok {
        Some(t) => {
            let style = if stale_age.is_some() {
                theme.bad()
            } else {
                Style::default()
            };
            left.push(Span::styled(
                format!("updated {} ago", age(app.now, t)),
                style,
            ));
        }
        None => left.push(Span::styled("waiting for data", theme.dim())),
    }
    left.push(sep());
    let polling = app.instances.iter().any(|i| i.polling_since.is_some());
    let next = app.instances.iter().filter_map(|i| i.next_poll).min();
    if app.paused {
        left.push(Span::styled("polling paused", theme.warn()));
    } else if polling {
        let since = app
            .instances
            .iter()
            .filter_map(|i| i.polling_since)
            .min()
            .unwrap_or(app.now);
        let secs = (app.now - since).num_seconds();
        if secs >= 2 {
            left.push(Span::raw(format!("polling… {secs}s")));
        } else {
            left.push(Span::raw("polling…"));
        }
    } else if let Some(n) = next.filter(|n| *n > app.now) {
        left.push(Span::raw(format!("next in {}", age(n, app.now))));
    } else if next.is_some() {
        left.push(Span::raw("next poll due"));
    } else {
        left.push(Span::raw("next soon"));
    }
    left.push(Span::styled(
        format!(" (every {})", units::duration(app.interval)),
        theme.dim(),
    ));
    let room = width.saturating_sub(badges_w + 1);
    if left.iter().map(|s| s.width()).sum::<usize>() > room && app.instances.len() > 1 {
        // The names do not fit: count them instead (the table lists them anyway).
        left[names_at] = Span::raw(format!("{} instances", app.instances.len()));
    }
    let mut spans = fit_spans(left, room);
    let used: usize = spans.iter().map(|s| s.width()).sum();
    if !badges.is_empty() {
        spans.push(Span::raw(" ".repeat(width.saturating_sub(used + badges_w))));
        spans.extend(badges);
    }
    let lines = vec![Line::from(spans)];

    frame.render_widget(Paragraph::new(lines), Rect { height: 1, ..area });
    if area.height > 1
        && let Some(alert) = app.alert()
    {
        let spans = alert_spans(&alert, theme);
        let rest = Rect {
            y: area.y + 1,
            height: area.height - 1,
            ..area
        };
        let spans = if rest.height == 1 {
            fit_spans(spans, width)
        } else {
            spans
        };
        frame.render_widget(
            Paragraph::new(Line::from(spans)).wrap(Wrap { trim: false }),
            rest,
        );
    }
}

/// The alert as styled spans.
pub fn alert_spans(alert: &Alert, theme: &Theme) -> Vec<Span<'static>> {
    alert
        .pieces()
        .into_iter()
        .map(|(text, tone)| {
            let style = match tone {
                Tone::Bad => theme.bad(),
                Tone::Warn => theme.warn(),
                Tone::Strong => theme.strong(),
                Tone::Dim => theme.dim(),
                Tone::Plain => Style::default(),
            };
            Span::styled(text, style)
        })
        .collect()
}
