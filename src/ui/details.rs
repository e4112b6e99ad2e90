//! Task details: source, account, times (local and age) and WAL positions. Never a password.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::theme::Theme;
use super::{age, local_time, panel_block, truncate};
use crate::app::App;

/// The detail lines of the selected task for an inner width of `width`.
pub fn lines(app: &App, width: usize, theme: &Theme) -> Vec<Line<'static>> {
    let Some(e) = app.selected_task() else {
        return vec![Line::styled("no task selected", theme.dim())];
    };
    let t = &e.task;
    let long = width >= 40;
    let label_w = 9;
    let row = |label: &str, value: String| -> Line<'static> {
        Line::from(vec![
            Span::styled(format!("{label:<label_w$}"), theme.dim()),
            Span::raw(truncate(&value, width.saturating_sub(label_w))),
        ])
    };
    let dash = || "—".to_string();
    let when = |v: Option<chrono::DateTime<chrono::FixedOffset>>| -> String {
        match v {
            Some(t) => {
                let utc = t.with_timezone(&chrono::Utc);
                let rel = if utc > app.now {
                    format!("in {}", age(utc, app.now))
                } else if long {
                    format!("{} ago", age(app.now, utc))
                } else {
                    age(app.now, utc)
                };
                format!("{} ({rel})", local_time(t, app.config.local_offset, long))
            }
            None => dash(),
        }
    };
    let s = &t.source;
    let addr = match (&s.ip, s.port) {
        (Some(ip), Some(p)) => format!("{ip}:{p}"),
        (Some(ip), None) => ip.clone(),
        (None, Some(p)) => format!("?:{p}"),
        (None, None) => dash(),
    };
    // Most useful first: short panes show only the top lines.
    let mut v = vec![
        row("Source", addr),
        row("Account", s.account.clone().unwrap_or_else(dash)),
    ];
    if t.switch_time.is_some() {
        v.push(row("Switch", when(t.switch_time)));
    }
    v.push(row("Modified", when(t.modified)));
    v.push(row("Created", when(t.created)));
    v.push(row("Category", s.category.clone().unwrap_or_else(dash)));
    if let Some(target) = &t.target_instance_name {
        v.push(row("Target", target.clone()));
    }
    if let Some(r) = &t.replication {
        let lsn = |l: Option<crate::model::Lsn>| l.map_or(dash(), |l| l.to_string());
        // The source's own position (with a probe), read right after this poll.
        if let Some(src) = &app.source {
            let text = match (src.sample(), src.error()) {
                (Some(s), _) => format!("{} ({} ago)", s.lsn, age(app.now, s.at)),
                (None, Some(_)) => "probe failing".to_string(),
                (None, None) => "waiting".to_string(),
            };
            v.push(row("Src LSN", text));
        }
        v.push(row("End LSN", lsn(r.latest_end_lsn)));
        v.push(row(
            "Received",
            format!(
                "{}{}",
                lsn(r.received_lsn),
                r.received_tli
                    .map_or(String::new(), |t| format!(" tli {t}"))
            ),
        ));
        v.push(row("Replayed", lsn(r.replay_lsn)));
    }
    for w in &t.decode_warnings {
        v.push(Line::styled(truncate(w, width), theme.warn()));
    }
    v
}

/// Draws the details of the selected task into `area`.
pub fn draw(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let block = panel_block(Span::styled(" Details ", theme.strong()), theme, false);
    let inner = block.inner(area);
    let l = lines(app, inner.width as usize, theme);
    frame.render_widget(Paragraph::new(l).block(block), area);
}
