//! The header: instances, poll age and countdown, pause, staleness and the last error.

use std::time::Duration;

use chrono::{DateTime, Utc};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget, Wrap};

use super::theme::Theme;
use super::{age, fit_spans};
use crate::app::App;
use crate::app::view::alert::{Alert, Tone};
use crate::util::units;

/// The header as data: the instances, the polling clock and the alert.
#[derive(Debug, Clone, PartialEq)]
pub struct HeaderView {
    /// `--label`.
    pub label: Option<String>,
    /// The lab's note beside the label (e.g. `link frozen`).
    pub lab_note: Option<String>,
    /// The instance ids, in order.
    pub instances: Vec<String>,
    pub paused: bool,
    /// The age of the stalest instance's data, when some instance is stale.
    pub stale_age: Option<Duration>,
    /// The oldest instance's last success: the figure a stale warning is about.
    pub oldest_ok: Option<DateTime<Utc>>,
    /// When the oldest poll in flight began; `None` when none is.
    pub polling_since: Option<DateTime<Utc>>,
    /// The next poll due.
    pub next_poll: Option<DateTime<Utc>>,
    pub interval: Duration,
    pub now: DateTime<Utc>,
    /// The second line, when there is an error to show.
    pub alert: Option<Alert>,
}

impl HeaderView {
    /// The header for the state of `app`.
    pub fn of(app: &App) -> HeaderView {
        HeaderView {
            label: app.config().label.clone(),
            lab_note: app.lab_note().map(str::to_owned),
            instances: app.instances().iter().map(|i| i.name.clone()).collect(),
            paused: app.paused(),
            stale_age: app
                .instances()
                .iter()
                .filter_map(|i| app.stale_age(i))
                .max(),
            oldest_ok: app.instances().iter().filter_map(|i| i.last_ok).min(),
            polling_since: app.instances().iter().filter_map(|i| i.polling_since).min(),
            next_poll: app.instances().iter().filter_map(|i| i.next_poll).min(),
            interval: app.interval(),
            now: app.now(),
            alert: app.alert(),
        }
    }
}

/// The header widget: the view and its theme (one line, two with an alert).
#[derive(Debug, Clone)]
pub struct Header {
    pub view: HeaderView,
    pub theme: Theme,
}

impl Widget for Header {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let theme = &self.theme;
        let v = &self.view;
        let width = area.width as usize;
        let mut badges: Vec<Span<'static>> = Vec::new();
        if v.paused {
            badges.push(Span::styled(" PAUSED ", theme.badge(Color::Yellow)));
        }
        let stale_age = v.stale_age;
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
        if let Some(label) = &v.label {
            left.push(Span::styled(format!(" {label}"), theme.accent()));
            if let Some(note) = &v.lab_note {
                left.push(Span::styled(format!(" · {note}"), theme.warn()));
            }
        }
        left.push(sep());
        let names = v.instances.join(" ");
        let names_at = left.len();
        left.push(Span::raw(names));
        left.push(sep());
        // The oldest instance's last success: the figure a stale warning is about.
        match v.oldest_ok {
            Some(t) => {
                let style = if stale_age.is_some() {
                    theme.bad()
                } else {
                    Style::default()
                };
                left.push(Span::styled(
                    format!("updated {} ago", age(v.now, t)),
                    style,
                ));
            }
            None => left.push(Span::styled("waiting for data", theme.dim())),
        }
        left.push(sep());
        let next = v.next_poll;
        if v.paused {
            left.push(Span::styled("polling paused", theme.warn()));
        } else if let Some(since) = v.polling_since {
            let secs = (v.now - since).num_seconds();
            if secs >= 2 {
                left.push(Span::raw(format!("polling… {secs}s")));
            } else {
                left.push(Span::raw("polling…"));
            }
        } else if let Some(n) = next.filter(|n| *n > v.now) {
            left.push(Span::raw(format!("next in {}", age(n, v.now))));
        } else if next.is_some() {
            left.push(Span::raw("next poll due"));
        } else {
            left.push(Span::raw("next soon"));
        }
        left.push(Span::styled(
            format!(" (every {})", units::duration(v.interval)),
            theme.dim(),
        ));
        let room = width.saturating_sub(badges_w + 1);
        if left.iter().map(|s| s.width()).sum::<usize>() > room && v.instances.len() > 1 {
            // The names do not fit: count them instead (the table lists them anyway).
            left[names_at] = Span::raw(format!("{} instances", v.instances.len()));
        }
        let mut spans = fit_spans(left, room);
        let used: usize = spans.iter().map(|s| s.width()).sum();
        if !badges.is_empty() {
            spans.push(Span::raw(" ".repeat(width.saturating_sub(used + badges_w))));
            spans.extend(badges);
        }
        let lines = vec![Line::from(spans)];

        Paragraph::new(lines).render(Rect { height: 1, ..area }, buf);
        if area.height > 1
            && let Some(alert) = &v.alert
        {
            let spans = alert_spans(alert, theme);
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
            Paragraph::new(Line::from(spans))
                .wrap(Wrap { trim: false })
                .render(rest, buf);
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ui::test_text as text;

    fn view() -> HeaderView {
        HeaderView {
            label: None,
            lab_note: None,
            instances: vec!["pgm-a".into()],
            paused: false,
            stale_age: None,
            oldest_ok: None,
            polling_since: None,
            next_poll: None,
            interval: Duration::from_secs(10),
            now: DateTime::from_timestamp(1_700_000_000, 0).unwrap(),
            alert: None,
        }
    }

    fn render(view: HeaderView, w: u16, h: u16) -> Buffer {
        let mut buf = Buffer::empty(Rect::new(0, 0, w, h));
        Header {
            view,
            theme: Theme { color: false },
        }
        .render(buf.area, &mut buf);
        buf
    }

    #[test]
    fn a_narrow_header_keeps_the_pause_badge() {
        let v = HeaderView {
            paused: true,
            ..view()
        };
        let want = Buffer::with_lines([" migtop │ pgm-a │ waiting for …  PAUSED "]);
        assert_eq!(text(&render(v, 40, 1)), text(&want));
    }

    #[test]
    fn names_that_do_not_fit_are_counted() {
        let now = view().now;
        let v = HeaderView {
            instances: vec!["pgm-aaaaaaaaaaaaaaaa".into(), "pgm-bbbbbbbbbbbbbbbb".into()],
            oldest_ok: Some(now - chrono::Duration::seconds(5)),
            next_poll: Some(now + chrono::Duration::seconds(3)),
            ..view()
        };
        let want = Buffer::with_lines([format!(
            "{:<70}",
            " migtop │ 2 instances │ updated 5s ago │ next in 3s (every 10s)"
        )]);
        assert_eq!(text(&render(v, 70, 1)), text(&want));
    }
}
