//! The header: instances, poll age and countdown, pause, staleness and the last error.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::theme::Theme;
use super::{age, fit_spans};
use crate::app::App;
use crate::units;

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
    }
    left.push(sep());
    let names = app
        .instances
        .iter()
        .map(|i| i.name.as_str())
        .collect::<Vec<_>>()
        .join(" ");
    if names.chars().count() <= 44 {
        left.push(Span::raw(names));
    } else {
        left.push(Span::raw(format!("{} instances", app.instances.len())));
    }
    left.push(sep());
    // The oldest instance's last success: the figure a stale warning is about.
    let oldest_ok = if app.instances.iter().all(|i| i.last_ok.is_some()) {
        app.instances.iter().filter_map(|i| i.last_ok).min()
    } else {
        None
    };
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
    } else if let Some(n) = next {
        left.push(Span::raw(format!("next in {}", age(n, app.now))));
    } else {
        left.push(Span::raw("next soon"));
    }
    left.push(Span::styled(
        format!(" (every {})", units::duration(app.interval)),
        theme.dim(),
    ));
    let room = width.saturating_sub(badges_w + 1);
    let mut spans = fit_spans(left, room);
    let used: usize = spans.iter().map(|s| s.width()).sum();
    if !badges.is_empty() {
        spans.push(Span::raw(" ".repeat(width.saturating_sub(used + badges_w))));
        spans.extend(badges);
    }
    let mut lines = vec![Line::from(spans)];

    if area.height > 1 {
        // The most recent failure across instances.
        let failing: Vec<_> = app
            .instances
            .iter()
            .filter_map(|i| i.last_error.as_ref().map(|(t, e)| (i, t, e)))
            .collect();
        if let Some((inst, _, err)) = failing.iter().max_by_key(|(_, t, _)| **t) {
            let s = vec![
                Span::styled(" ✗ ", theme.bad()),
                Span::styled(format!("{}: ", inst.name), theme.strong()),
                Span::styled(err.to_string(), theme.bad()),
            ];
            let retry = match (app.paused, inst.next_poll, inst.polling_since) {
                (true, _, _) => " · paused".to_string(),
                (_, _, Some(_)) => " · retrying…".to_string(),
                (_, Some(n), _) => format!(" · retry in {}", age(n, app.now)),
                _ => String::new(),
            };
            let more = if failing.len() > 1 {
                format!(" (+{} more)", failing.len() - 1)
            } else {
                String::new()
            };
            let tail = format!("{retry}{more}");
            let tail_w = tail.chars().count();
            let mut head = fit_spans(s, width.saturating_sub(tail_w));
            head.push(Span::styled(tail, theme.dim()));
            lines.push(Line::from(head));
        }
    }
    frame.render_widget(Paragraph::new(lines), area);
}
