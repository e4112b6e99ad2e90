//! The task table: every task of every instance, one selectable row each.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Row, Table, TableState};

use super::theme::Theme;
use super::{is_focused, mid_truncate, panel_block};
use crate::app::{App, Focus, RowRef, TaskEntry};
use crate::model::{ReplicationState, Stage};
use crate::readiness::VerdictKind;
use crate::units;

/// The readiness cell of a task.
pub fn readiness_span(entry: &TaskEntry, theme: &Theme) -> Span<'static> {
    match entry.task.stage {
        Some(Stage::Success) => return Span::styled("done", theme.good()),
        Some(Stage::Switch) => return Span::styled("switching", theme.accent()),
        _ => {}
    }
    match entry.verdict.kind() {
        VerdictKind::NotReady => Span::styled("not ready", theme.dim()),
        VerdictKind::InSync => Span::styled("IN SYNC", theme.warn()),
        VerdictKind::Drained => Span::styled(
            "DRAINED",
            theme.good().add_modifier(ratatui::style::Modifier::BOLD),
        ),
    }
}

/// The state cell, coloured by how healthy the link is.
pub fn state_span(state: Option<&ReplicationState>, theme: &Theme) -> Span<'static> {
    match state {
        None => Span::styled("-", theme.dim()),
        Some(s @ ReplicationState::Streaming) => Span::styled(s.to_string(), theme.good()),
        Some(s @ ReplicationState::Disconnect) => Span::styled(s.to_string(), theme.bad()),
        Some(s @ ReplicationState::Catchup) => Span::styled(s.to_string(), theme.warn()),
        Some(s) => Span::raw(s.to_string()),
    }
}

/// Draws the task table into `area`.
pub fn draw(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let focused = is_focused(app, Focus::Tasks);
    let n_tasks = app
        .rows
        .iter()
        .filter(|r| matches!(r, RowRef::Task(_)))
        .count();
    let title = Line::from(vec![
        Span::styled(
            " Tasks ",
            if focused {
                theme.accent()
            } else {
                theme.strong()
            },
        ),
        Span::styled(format!("({n_tasks}) "), theme.dim()),
    ]);
    let block = panel_block(title, theme, focused);
    let narrow = area.width < 70;
    let header_cells = if narrow {
        vec!["TASK", "STAGE", "STATE", "LAG", "READY"]
    } else {
        vec!["INSTANCE", "TASK", "STAGE", "STATE", "LAG", "READY"]
    };
    let header = Row::new(header_cells).style(theme.strong());
    // As wide as the longest instance id, within reason.
    let longest = app
        .instances
        .iter()
        .map(|i| i.name.chars().count())
        .max()
        .unwrap_or(8);
    let instance_w = longest.clamp(8, (area.width as usize / 5).max(8)) as u16;
    // Task ids only where there is room; the name is what DBAs recognise.
    let show_ids = area.width >= 100;
    let max_lag = app.config.readiness.max_lag;
    let mut prev_instance: Option<&str> = None;
    let rows: Vec<Row> = app
        .rows
        .iter()
        .enumerate()
        .map(|(i, r)| match r {
            RowRef::Task(key) => {
                let Some(e) = app.tasks.get(key) else {
                    return Row::new(vec![Cell::from("?")]);
                };
                let t = &e.task;
                let name = match (t.task_id, &t.task_name) {
                    (Some(id), Some(n)) if show_ids => format!("{id} {n}"),
                    _ => t.display_name(),
                };
                // The instance is named once per group of its tasks, and on the first row in
                // view.
                let instance = if prev_instance == Some(t.instance.as_str()) && i != app.task_offset
                {
                    String::new()
                } else {
                    mid_truncate(&t.instance, instance_w as usize)
                };
                prev_instance = Some(t.instance.as_str());
                let stage = match &t.stage {
                    Some(s) => match s.index() {
                        Some(i) => format!("{s} {i}/6"),
                        None => format!("{s} ?"),
                    },
                    None => "-".into(),
                };
                // With a source probe the true lag is the better figure: the table shows the
                // lag the verdict judges.
                let lag = match e.judged_lag() {
                    Some(l) => Span::styled(units::bytes(l), theme.level(l, max_lag)),
                    None => Span::styled("unknown", theme.dim()),
                };
                let stale = app.task_stale_age(t).is_some();
                let mut cells = Vec::new();
                if !narrow {
                    cells.push(Cell::from(instance));
                }
                cells.extend([
                    Cell::from(name),
                    Cell::from(stage),
                    Cell::from(state_span(t.replication_state.as_ref(), theme)),
                    Cell::from(lag),
                    Cell::from(if stale {
                        Span::styled("stale", theme.bad())
                    } else {
                        readiness_span(e, theme)
                    }),
                ]);
                Row::new(cells)
            }
            RowRef::Instance(i) => {
                let inst = &app.instances[*i];
                prev_instance = Some(inst.name.as_str());
                let (what, ready, style) = match (&inst.last_error, inst.last_ok) {
                    (Some((_, e)), _) => (e.code().to_string(), "no data", theme.bad()),
                    (None, Some(_)) => ("no migration tasks".to_string(), "", theme.dim()),
                    (None, None) => ("waiting for data…".to_string(), "", theme.dim()),
                };
                let mut cells = Vec::new();
                if !narrow {
                    cells.push(Cell::from(mid_truncate(&inst.name, instance_w as usize)));
                } else {
                    cells.push(Cell::from(Span::styled(
                        format!("{} {what}", inst.name),
                        style,
                    )));
                }
                if !narrow {
                    cells.push(Cell::from(Span::styled(what, style)));
                }
                cells.extend([Cell::from(""), Cell::from(""), Cell::from("")]);
                cells.push(Cell::from(Span::styled(ready, style)));
                Row::new(cells)
            }
        })
        .collect();
    let widths: Vec<Constraint> = if narrow {
        vec![
            Constraint::Fill(1),
            Constraint::Length(14),
            Constraint::Length(10),
            Constraint::Length(9),
            Constraint::Length(9),
        ]
    } else {
        vec![
            Constraint::Length(instance_w),
            Constraint::Fill(1),
            Constraint::Length(14),
            Constraint::Length(10),
            Constraint::Length(9),
            Constraint::Length(9),
        ]
    };
    let table = Table::new(rows, widths)
        .header(header)
        .block(block)
        .column_spacing(1)
        .row_highlight_style(if focused {
            theme.selected()
        } else {
            Style::new()
                .add_modifier(ratatui::style::Modifier::BOLD | ratatui::style::Modifier::UNDERLINED)
        });
    let mut state = TableState::default()
        .with_offset(app.task_offset)
        .with_selected(Some(app.selected));
    frame.render_stateful_widget(table, area, &mut state);
    more_marker(frame, area, app.rows.len(), state.offset(), theme);
}

/// "▼ N more" on the bottom border when rows are clipped below (borders and header take 3).
fn more_marker(frame: &mut Frame, area: Rect, rows: usize, offset: usize, theme: &Theme) {
    let visible = area.height.saturating_sub(3) as usize;
    let below = rows.saturating_sub(offset + visible);
    if below == 0 || area.height < 4 {
        return;
    }
    let text = format!(" ▼ {below} more ");
    let w = unicode_width::UnicodeWidthStr::width(text.as_str()) as u16;
    if area.width < w + 4 {
        return;
    }
    let at = Rect::new(area.right() - w - 2, area.bottom() - 1, w, 1);
    frame.render_widget(Line::styled(text, theme.accent()), at);
}
