//! The stage progress bar: precheck → basebackup → startup → increment → switch → success.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::theme::Theme;
use super::{age, fit_spans};
use crate::app::{App, TaskEntry};
use crate::model::Stage;

fn short(stage: &Stage) -> &str {
    match stage {
        Stage::Precheck => "pre",
        Stage::Basebackup => "base",
        Stage::Startup => "start",
        Stage::Increment => "incr",
        Stage::Switch => "switch",
        Stage::Success => "done",
        Stage::Unknown(s) => s,
    }
}

/// The bar's spans for `entry` in at most `width` columns.
pub fn spans(entry: &TaskEntry, app: &App, theme: &Theme, width: usize) -> Vec<Span<'static>> {
    let current = entry.task.stage.as_ref();
    let since = format!(
        "{}{}",
        if entry.stage_since_exact { "" } else { "≥" },
        age(app.now, entry.stage_since)
    );
    let Some(idx) = current.and_then(|s| s.index()) else {
        let what = current.map_or("unknown".to_string(), |s| {
            format!("{s} (not a known stage)")
        });
        return vec![
            Span::styled(" Stage ", theme.strong()),
            Span::styled(what, theme.warn()),
            Span::styled(format!("  for {since}"), theme.dim()),
        ];
    };
    let finished = *current.expect("indexed") == Stage::Success;
    let tail = if finished {
        "  finished".to_string()
    } else {
        format!("  for {since}")
    };
    let build = |compact: bool| -> Vec<Span<'static>> {
        let mut v = vec![Span::raw(" ")];
        for (i, s) in Stage::ALL.iter().enumerate() {
            let n = i as u8 + 1;
            if i > 0 {
                v.push(Span::styled(" › ", theme.dim()));
            }
            let label = if compact && n != idx {
                short(s)
            } else {
                s.as_str()
            };
            if n < idx || (finished && n == idx) {
                v.push(Span::styled(format!("✓ {label}"), theme.good()));
            } else if n == idx {
                v.push(Span::styled(format!("▶ {label}"), theme.accent()));
            } else {
                v.push(Span::styled(format!("· {label}"), theme.dim()));
            }
        }
        v.push(Span::styled(tail.clone(), theme.dim()));
        v
    };
    let full = build(false);
    if full.iter().map(|s| s.width()).sum::<usize>() <= width {
        return full;
    }
    fit_spans(build(true), width)
}

/// Draws the stage bar of the selected task into `area` (one line).
pub fn draw(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let line = match app.selected_task() {
        Some(e) => Line::from(spans(e, app, theme, area.width as usize)),
        None => Line::styled(
            match app.selected_instance() {
                Some(i) => format!(" {}: no task to show", i.name),
                None => " no task selected".to_string(),
            },
            theme.dim(),
        ),
    };
    frame.render_widget(Paragraph::new(line), area);
}
