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
        && let Some(spans) = error_spans(app, theme)
    {
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

/// The most recent failure across instances: code, retry countdown, then the sentence (with
/// the message and request id), so the most useful part survives truncation.
pub fn error_spans(app: &App, theme: &Theme) -> Option<Vec<Span<'static>>> {
    let failing: Vec<_> = app
        .instances
        .iter()
        .filter_map(|i| i.last_error.as_ref().map(|(t, e)| (i, t, e)))
        .collect();
    let Some((inst, _, err)) = failing.iter().max_by_key(|(_, t, _)| **t) else {
        // No failed poll, but a failing source probe is worth a line (never fatal: the
        // API's figures stand, only the true lag is unknown).
        if let Some(e) = app.source.as_ref().and_then(|s| s.error()) {
            return Some(vec![
                Span::styled(" ! ", theme.warn()),
                Span::styled("source probe", theme.strong()),
                Span::styled(" · true lag unknown · ", theme.dim()),
                Span::raw(e.to_string()),
            ]);
        }
        // Items that could not be decoded are worth a line too.
        let inst = app.instances.iter().find(|i| !i.item_errors.is_empty())?;
        let n = inst.item_errors.len();
        return Some(vec![
            Span::styled(" ! ", theme.warn()),
            Span::styled(format!("{} ", inst.name), theme.strong()),
            Span::styled(
                format!(
                    "{n} unreadable task{} skipped: ",
                    if n == 1 { "" } else { "s" }
                ),
                theme.warn(),
            ),
            Span::raw(inst.item_errors.join("; ")),
        ]);
    };
    let retry = match (app.paused, inst.next_poll, inst.polling_since) {
        (true, _, _) => "paused".to_string(),
        (_, _, Some(_)) => "retrying…".to_string(),
        (_, Some(n), _) => format!("retry in {}", age(n, app.now)),
        _ => "retry soon".to_string(),
    };
    let more = if failing.len() > 1 {
        format!(" (+{} more failing)", failing.len() - 1)
    } else {
        String::new()
    };
    let sentence = err.to_string();
    let prefix = format!("{}: ", err.code());
    let message = sentence
        .strip_prefix(&prefix)
        .unwrap_or(&sentence)
        .to_string();
    Some(vec![
        Span::styled(" ✗ ", theme.bad()),
        Span::styled(format!("{} ", inst.name), theme.strong()),
        Span::styled(err.code().to_string(), theme.bad()),
        Span::styled(format!(" · {retry}{more} · "), theme.dim()),
        Span::raw(message),
    ])
}

/// Rows the error needs at `width` (0 without an error, at most 2).
pub fn error_rows(app: &App, width: u16) -> u16 {
    match error_spans(app, &Theme { color: false }) {
        None => 0,
        Some(s) => {
            let w: usize = s.iter().map(|s| s.width()).sum();
            if w <= width as usize { 1 } else { 2 }
        }
    }
}
