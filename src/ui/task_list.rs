//! The task table: every task of every instance, one selectable row each.

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Row, StatefulWidget, Table, TableState, Widget};

use super::theme::Theme;
use super::{is_focused, mid_truncate, panel_block};
use crate::app::{App, Focus, RowRef};
use crate::model::{ReplicationState, Stage};
use crate::readiness::VerdictKind;
use crate::units;

/// The task table as data: one row per line, the selection and the scroll offset.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskListView {
    pub rows: Vec<TaskRow>,
    /// The selected row.
    pub selected: usize,
    /// The first row in view.
    pub offset: usize,
    pub focused: bool,
    /// `--max-lag`, for the LAG colour.
    pub max_lag: u64,
    /// The longest instance id, in characters (the INSTANCE column is as wide, within reason).
    pub longest_instance: Option<usize>,
}

/// One line of the task table.
#[derive(Debug, Clone, PartialEq)]
pub enum TaskRow {
    /// A task.
    Task {
        instance: String,
        task_id: Option<i64>,
        task_name: Option<String>,
        /// The name DBAs recognise (the name, else the id).
        display_name: String,
        stage: Option<Stage>,
        state: Option<ReplicationState>,
        /// The lag the verdict judges ([`crate::app::TaskEntry::judged_lag`]).
        lag: Option<u64>,
        /// `lag` is only a lower bound ([`crate::app::TaskEntry::lag_is_lower_bound`]).
        lag_lower_bound: bool,
        verdict: VerdictKind,
        /// The task's instance has not answered for a while.
        stale: bool,
    },
    /// A row whose task is gone from the state (drawn as `?`).
    Missing,
    /// An instance without tasks to show.
    Instance {
        name: String,
        /// The error code of its last failed poll.
        error: Option<String>,
        /// It answered at least once.
        answered: bool,
    },
}

impl TaskListView {
    /// The task table for the state of `app`.
    pub fn of(app: &App) -> TaskListView {
        let rows = app
            .rows
            .iter()
            .map(|r| match r {
                RowRef::Task(key) => {
                    let Some(e) = app.tasks.get(key) else {
                        return TaskRow::Missing;
                    };
                    let t = &e.task;
                    TaskRow::Task {
                        instance: t.instance.clone(),
                        task_id: t.task_id,
                        task_name: t.task_name.clone(),
                        display_name: t.display_name(),
                        stage: t.stage.clone(),
                        state: t.replication_state.clone(),
                        lag: e.judged_lag(),
                        lag_lower_bound: e.lag_is_lower_bound(),
                        verdict: e.verdict.kind(),
                        stale: app.task_stale_age(t).is_some(),
                    }
                }
                RowRef::Instance(i) => {
                    let inst = &app.instances[*i];
                    TaskRow::Instance {
                        name: inst.name.clone(),
                        error: inst.last_error.as_ref().map(|(_, e)| e.code().to_string()),
                        answered: inst.last_ok.is_some(),
                    }
                }
            })
            .collect();
        TaskListView {
            rows,
            selected: app.selected,
            offset: app.task_offset,
            focused: is_focused(app, Focus::Tasks),
            max_lag: app.config.readiness.max_lag,
            longest_instance: app.instances.iter().map(|i| i.name.chars().count()).max(),
        }
    }
}

/// The readiness cell of a task in `stage` judged `verdict`.
pub fn readiness_span(stage: Option<&Stage>, verdict: VerdictKind, theme: &Theme) -> Span<'static> {
    match stage {
        Some(Stage::Success) => return Span::styled("done", theme.good()),
        Some(Stage::Switch) => return Span::styled("switching", theme.accent()),
        _ => {}
    }
    match verdict {
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

/// The task table widget: the view and its theme.
#[derive(Debug, Clone)]
pub struct TaskList {
    pub view: TaskListView,
    pub theme: Theme,
}

impl Widget for TaskList {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let theme = &self.theme;
        let v = &self.view;
        let focused = v.focused;
        let n_tasks = v
            .rows
            .iter()
            .filter(|r| !matches!(r, TaskRow::Instance { .. }))
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
        let longest = v.longest_instance.unwrap_or(8);
        let instance_w = longest.clamp(8, (area.width as usize / 5).max(8)) as u16;
        // Task ids only where there is room; the name is what DBAs recognise.
        let show_ids = area.width >= 100;
        let max_lag = v.max_lag;
        let mut prev_instance: Option<&str> = None;
        let rows: Vec<Row> = v
            .rows
            .iter()
            .enumerate()
            .map(|(i, r)| match r {
                TaskRow::Missing => Row::new(vec![Cell::from("?")]),
                TaskRow::Task {
                    instance: task_instance,
                    task_id,
                    task_name,
                    display_name,
                    stage,
                    state,
                    lag,
                    lag_lower_bound,
                    verdict,
                    stale,
                } => {
                    let name = match (task_id, task_name) {
                        (Some(id), Some(n)) if show_ids => format!("{id} {n}"),
                        _ => display_name.clone(),
                    };
                    // The instance is named once per group of its tasks, and on the first row in
                    // view.
                    let instance = if prev_instance == Some(task_instance.as_str()) && i != v.offset
                    {
                        String::new()
                    } else {
                        mid_truncate(task_instance, instance_w as usize)
                    };
                    prev_instance = Some(task_instance.as_str());
                    let stage_text = match stage {
                        Some(s) => match s.index() {
                            Some(i) => format!("{s} {i}/6"),
                            None => format!("{s} ?"),
                        },
                        None => "-".into(),
                    };
                    // With a source probe the true lag is the better figure: the table shows the
                    // lag the verdict judges, `≥ X` when that is only a lower bound.
                    let lag = match lag {
                        Some(l) => {
                            Span::styled(units::lag(*l, *lag_lower_bound), theme.level(*l, max_lag))
                        }
                        None => Span::styled("unknown", theme.dim()),
                    };
                    let mut cells = Vec::new();
                    if !narrow {
                        cells.push(Cell::from(instance));
                    }
                    cells.extend([
                        Cell::from(name),
                        Cell::from(stage_text),
                        Cell::from(state_span(state.as_ref(), theme)),
                        Cell::from(lag),
                        Cell::from(if *stale {
                            Span::styled("stale", theme.bad())
                        } else {
                            readiness_span(stage.as_ref(), *verdict, theme)
                        }),
                    ]);
                    Row::new(cells)
                }
                TaskRow::Instance {
                    name: inst_name,
                    error,
                    answered,
                } => {
                    prev_instance = Some(inst_name.as_str());
                    let (what, ready, style) = match (error, answered) {
                        (Some(code), _) => (code.clone(), "no data", theme.bad()),
                        (None, true) => ("no migration tasks".to_string(), "", theme.dim()),
                        (None, false) => ("waiting for data…".to_string(), "", theme.dim()),
                    };
                    let mut cells = Vec::new();
                    if !narrow {
                        cells.push(Cell::from(mid_truncate(inst_name, instance_w as usize)));
                    } else {
                        cells.push(Cell::from(Span::styled(
                            format!("{inst_name} {what}"),
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
                Constraint::Length(10),
                Constraint::Length(9),
            ]
        } else {
            vec![
                Constraint::Length(instance_w),
                Constraint::Fill(1),
                Constraint::Length(14),
                Constraint::Length(10),
                Constraint::Length(10),
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
                Style::new().add_modifier(
                    ratatui::style::Modifier::BOLD | ratatui::style::Modifier::UNDERLINED,
                )
            });
        // The state's offset and selection live in the app; ratatui's table only reads them here.
        let mut state = TableState::default()
            .with_offset(v.offset)
            .with_selected(Some(v.selected));
        StatefulWidget::render(table, area, buf, &mut state);
        more_marker(buf, area, v.rows.len(), state.offset(), theme);
    }
}

/// "▼ N more" on the bottom border when rows are clipped below (borders and header take 3).
fn more_marker(buf: &mut Buffer, area: Rect, rows: usize, offset: usize, theme: &Theme) {
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
    Line::styled(text, theme.accent()).render(at, buf);
}
