//! The task table: every task of every instance, one selectable row each.

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Row, StatefulWidget, Table, TableState, Widget};

use super::theme::Theme;
use super::{is_focused, mid_truncate, panel_block};
use crate::app::{App, Focus, RowRef};
use crate::model::{ReplicationState, SeverityCounts, Stage, TaskKind};
use crate::util::units;
use crate::verdict::readiness::VerdictKind;

/// Column widths: `basebackup 2/6`, `disconnect`, `60.0 MiB`, `not ready`.
const STAGE_W: u16 = 14;
const STATE_W: u16 = 10;
const LAG_W: u16 = 10;
const READY_W: u16 = 9;
/// TASK's room with CHECKS in full, with it terse (`erp-precheck-1`), and at the least.
const FULL_TASK_W: u16 = 20;
const TERSE_TASK_W: u16 = 14;
const MIN_TASK_W: u16 = 8;
/// INSTANCE gives up columns to a terse CHECKS down to this (`pgm-b…erp01`).
const MIN_INSTANCE_W: u16 = 11;

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
        /// An RDS task, or a standby read from its primary (no RDS stages).
        kind: TaskKind,
        stage: Option<Stage>,
        state: Option<ReplicationState>,
        /// The lag the verdict judges ([`crate::app::TaskEntry::judged_lag`]).
        lag: Option<u64>,
        /// `lag` is only a lower bound ([`crate::app::TaskEntry::lag_is_lower_bound`]).
        lag_lower_bound: bool,
        verdict: VerdictKind,
        /// The precheck log's check counts.
        checks: SeverityCounts,
        /// The base backup's percentage by the newest progress line, in stage basebackup.
        backup_percent: Option<f64>,
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
            .rows()
            .iter()
            .map(|r| match r {
                RowRef::Task(key) => {
                    let Some(e) = app.tasks().get(key) else {
                        return TaskRow::Missing;
                    };
                    let t = &e.task;
                    TaskRow::Task {
                        instance: t.instance.clone(),
                        task_id: t.task_id,
                        task_name: t.task_name.clone(),
                        display_name: t.display_name(),
                        kind: t.kind,
                        stage: t.stage.clone(),
                        state: t.replication_state.clone(),
                        lag: e.judged_lag(),
                        lag_lower_bound: e.lag_is_lower_bound(),
                        verdict: e.verdict.kind(),
                        checks: t.precheck.counts,
                        backup_percent: e.history.backup_progress().map(|p| p.percent),
                        stale: app.task_stale_age(t).is_some(),
                    }
                }
                RowRef::Instance(i) => {
                    let inst = &app.instances()[*i];
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
            selected: app.selected(),
            offset: app.task_offset(),
            focused: is_focused(app, Focus::Tasks),
            max_lag: app.config().readiness.max_lag,
            longest_instance: app.instances().iter().map(|i| i.name.chars().count()).max(),
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
        // The stage said it above; a stage the verdict saw first reads the same.
        VerdictKind::Finished => Span::styled("done", theme.good()),
        VerdictKind::Switching => Span::styled("switching", theme.accent()),
    }
}

/// How much room the CHECKS column gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChecksWidth {
    /// `✗ 2 failed`, `! 1 warned`, `ok 12`, `–`.
    Full,
    /// `✗ 2`, `!12`, `ok`, `–` under `CHK`: the colour and the symbol say which.
    Compact,
}

impl ChecksWidth {
    /// Columns the cell takes.
    pub fn columns(self) -> u16 {
        match self {
            ChecksWidth::Full => 11,
            ChecksWidth::Compact => 3,
        }
    }

    /// The column's header.
    pub fn header(self) -> &'static str {
        match self {
            ChecksWidth::Full => "CHECKS",
            ChecksWidth::Compact => "CHK",
        }
    }
}

/// `✗ 2` or `✗12` in three columns (there are a dozen checks).
fn terse(symbol: char, n: usize) -> String {
    if n < 10 {
        format!("{symbol} {n}")
    } else {
        format!("{symbol}{}", n.min(99))
    }
}

/// The CHECKS cell: failures first (they stop the migration), then warnings, else how many
/// passed; `–` before any check has run.
pub fn checks_span(c: SeverityCounts, width: ChecksWidth, theme: &Theme) -> Span<'static> {
    let full = width == ChecksWidth::Full;
    if c.fail > 0 {
        let text = if full {
            format!("✗ {} failed", c.fail)
        } else {
            terse('✗', c.fail)
        };
        Span::styled(text, theme.bad())
    } else if c.warning > 0 {
        let text = if full {
            format!("! {} warned", c.warning)
        } else {
            terse('!', c.warning)
        };
        Span::styled(text, theme.warn())
    } else if c.success > 0 {
        let text = if full {
            format!("ok {}", c.success)
        } else {
            "ok".to_string()
        };
        Span::styled(text, theme.good())
    } else {
        Span::styled("–", theme.dim())
    }
}

/// The STAGE cell: `basebackup 75%` while a progress line says so, else `basebackup 2/6`
/// (also at 100%, which would not fit and says less than "finishing").
pub fn stage_text(stage: Option<&Stage>, backup_percent: Option<f64>) -> String {
    match (stage, backup_percent) {
        (Some(Stage::Basebackup), Some(p)) if (0.0..100.0).contains(&p) => {
            format!("basebackup {}%", p.floor() as u8)
        }
        (Some(s), _) => match s.index() {
            Some(i) => format!("{s} {i}/6"),
            None => format!("{s} ?"),
        },
        (None, _) => "-".into(),
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
        let cols = Columns::at(area.width, v.longest_instance);
        let mut prev_instance: Option<&str> = None;
        let rows: Vec<Row> = v
            .rows
            .iter()
            .enumerate()
            .map(|(i, r)| match r {
                TaskRow::Missing => Row::new(vec![Cell::from("?")]),
                TaskRow::Task { instance, .. } => {
                    // The instance is named once per group of its tasks, and on the first row
                    // in view.
                    let label = if prev_instance == Some(instance.as_str()) && i != v.offset {
                        String::new()
                    } else {
                        mid_truncate(instance, cols.instance_w as usize)
                    };
                    prev_instance = Some(instance.as_str());
                    cols.task_row(r, label, v.max_lag, theme)
                }
                TaskRow::Instance {
                    name,
                    error,
                    answered,
                } => {
                    prev_instance = Some(name.as_str());
                    cols.instance_row(name, error.as_deref(), *answered, theme)
                }
            })
            .collect();
        let table = Table::new(rows, cols.widths())
            .header(cols.header(theme))
            .block(panel_block(title(v, theme), theme, v.focused))
            .column_spacing(1)
            .row_highlight_style(if v.focused {
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

/// `Tasks (N)`: instance rows are not counted.
fn title(v: &TaskListView, theme: &Theme) -> Line<'static> {
    let n_tasks = v
        .rows
        .iter()
        .filter(|r| !matches!(r, TaskRow::Instance { .. }))
        .count();
    Line::from(vec![
        Span::styled(
            " Tasks ",
            if v.focused {
                theme.accent()
            } else {
                theme.strong()
            },
        ),
        Span::styled(format!("({n_tasks}) "), theme.dim()),
    ])
}

/// Which columns the table has at one width, and how wide the flexible ones are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Columns {
    /// Below 70 columns: no INSTANCE column (instance rows name it in TASK).
    narrow: bool,
    instance_w: u16,
    checks: Option<ChecksWidth>,
    /// Task ids before the names, from 100 columns (the name is what DBAs recognise).
    show_ids: bool,
}

impl Columns {
    /// The columns for a table `width` wide whose longest instance id is `longest` long.
    fn at(width: u16, longest: Option<usize>) -> Columns {
        let narrow = width < 70;
        // As wide as the longest instance id, within reason.
        let longest = longest.unwrap_or(8);
        let mut instance_w = longest.clamp(8, (width as usize / 5).max(8)) as u16;
        // TASK's room without CHECKS.
        let room = |instance_w: u16| {
            let fixed = if narrow {
                STAGE_W + STATE_W + LAG_W + READY_W + 4
            } else {
                instance_w + STAGE_W + STATE_W + LAG_W + READY_W + 5
            };
            width.saturating_sub(2).saturating_sub(fixed)
        };
        // CHECKS while TASK keeps room for a name: in full where there is plenty (100+
        // columns), terse at 80, where a long instance id gives up a few columns (ids differ at
        // their ends, which stay), none below (the verdict panel names a failed check first).
        let checks = if narrow {
            None
        } else if room(instance_w) >= ChecksWidth::Full.columns() + 1 + FULL_TASK_W {
            Some(ChecksWidth::Full)
        } else {
            let need = ChecksWidth::Compact.columns() + 1 + TERSE_TASK_W;
            let short = need.saturating_sub(room(instance_w));
            instance_w = instance_w
                .saturating_sub(short)
                .max(MIN_INSTANCE_W.min(instance_w));
            (room(instance_w) >= ChecksWidth::Compact.columns() + 1 + MIN_TASK_W)
                .then_some(ChecksWidth::Compact)
        };
        Columns {
            narrow,
            instance_w,
            checks,
            show_ids: width >= 100,
        }
    }

    fn header(&self, theme: &Theme) -> Row<'static> {
        let mut cells = if self.narrow {
            vec!["TASK", "STAGE", "STATE", "LAG", "READY"]
        } else {
            vec!["INSTANCE", "TASK", "STAGE", "STATE", "LAG", "READY"]
        };
        if let Some(w) = self.checks {
            cells.insert(cells.len() - 1, w.header());
        }
        Row::new(cells).style(theme.strong())
    }

    fn widths(&self) -> Vec<Constraint> {
        let mut widths: Vec<Constraint> = Vec::new();
        if !self.narrow {
            widths.push(Constraint::Length(self.instance_w));
        }
        widths.extend([
            Constraint::Fill(1),
            Constraint::Length(STAGE_W),
            Constraint::Length(STATE_W),
            Constraint::Length(LAG_W),
        ]);
        if let Some(w) = self.checks {
            widths.push(Constraint::Length(w.columns()));
        }
        widths.push(Constraint::Length(READY_W));
        widths
    }

    /// A task's row (`r` is a [`TaskRow::Task`]); `instance` is what its INSTANCE cell says.
    fn task_row(&self, r: &TaskRow, instance: String, max_lag: u64, theme: &Theme) -> Row<'static> {
        let TaskRow::Task {
            task_id,
            task_name,
            display_name,
            kind,
            stage,
            state,
            lag,
            lag_lower_bound,
            verdict,
            stale,
            checks,
            backup_percent,
            ..
        } = r
        else {
            return Row::new(vec![Cell::from("?")]);
        };
        let name = match (task_id, task_name) {
            (Some(id), Some(n)) if self.show_ids => format!("{id} {n}"),
            _ => display_name.clone(),
        };
        // With a source probe the true lag is the better figure: the table shows the lag the
        // verdict judges, `≥ X` when that is only a lower bound.
        let lag = match lag {
            Some(l) => Span::styled(units::lag(*l, *lag_lower_bound), theme.level(*l, max_lag)),
            None => Span::styled("unknown", theme.dim()),
        };
        let mut cells = Vec::new();
        if !self.narrow {
            cells.push(Cell::from(instance));
        }
        cells.extend([
            Cell::from(name),
            Cell::from(match kind {
                // Its state (catchup, streaming) is the STATE cell.
                TaskKind::Physical => "standby".to_string(),
                TaskKind::Rds => stage_text(stage.as_ref(), *backup_percent),
            }),
            Cell::from(state_span(state.as_ref(), theme)),
            Cell::from(lag),
        ]);
        if let Some(w) = self.checks {
            cells.push(Cell::from(checks_span(*checks, w, theme)));
        }
        cells.push(Cell::from(if *stale {
            Span::styled("stale", theme.bad())
        } else {
            readiness_span(stage.as_ref(), *verdict, theme)
        }));
        Row::new(cells)
    }

    /// The row of an instance without tasks to show: its error, or why there are none.
    fn instance_row(
        &self,
        name: &str,
        error: Option<&str>,
        answered: bool,
        theme: &Theme,
    ) -> Row<'static> {
        let (what, ready, style) = match (error, answered) {
            (Some(code), _) => (code.to_string(), "no data", theme.bad()),
            (None, true) => ("no migration tasks".to_string(), "", theme.dim()),
            (None, false) => ("waiting for data…".to_string(), "", theme.dim()),
        };
        let mut cells = Vec::new();
        if self.narrow {
            cells.push(Cell::from(Span::styled(format!("{name} {what}"), style)));
        } else {
            cells.push(Cell::from(mid_truncate(name, self.instance_w as usize)));
            cells.push(Cell::from(Span::styled(what, style)));
        }
        cells.extend([Cell::from(""), Cell::from(""), Cell::from("")]);
        if self.checks.is_some() {
            cells.push(Cell::from(""));
        }
        cells.push(Cell::from(Span::styled(ready, style)));
        Row::new(cells)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ui::test_text;
    use ratatui::style::Modifier;

    fn counts(success: usize, warning: usize, fail: usize) -> SeverityCounts {
        SeverityCounts {
            success,
            warning,
            fail,
            other: 0,
        }
    }

    fn task(name: &str, stage: Stage, checks: SeverityCounts, pct: Option<f64>) -> TaskRow {
        TaskRow::Task {
            instance: "pgm-bp1demo00erp01".into(),
            task_id: Some(440437101),
            task_name: Some(name.into()),
            display_name: name.into(),
            kind: TaskKind::Rds,
            stage: Some(stage),
            state: Some(ReplicationState::Unstarted),
            lag: None,
            lag_lower_bound: false,
            verdict: VerdictKind::NotReady,
            stale: false,
            checks,
            backup_percent: pct,
        }
    }

    fn render(width: u16) -> Vec<String> {
        let view = TaskListView {
            rows: vec![
                task("erp-precheck", Stage::Precheck, counts(10, 1, 2), None),
                task(
                    "erp-backup",
                    Stage::Basebackup,
                    counts(12, 0, 0),
                    Some(75.9),
                ),
                task(
                    "erp-warned",
                    Stage::Basebackup,
                    counts(11, 1, 0),
                    Some(100.0),
                ),
                task("erp-new", Stage::Precheck, counts(0, 0, 0), None),
            ],
            selected: 0,
            offset: 0,
            focused: false,
            max_lag: 16 << 20,
            longest_instance: Some(18),
        };
        let mut buf = Buffer::empty(Rect::new(0, 0, width, 7));
        TaskList {
            view,
            theme: Theme { color: false },
        }
        .render(buf.area, &mut buf);
        test_text(&buf)
    }

    #[test]
    fn checks_and_backup_progress_at_120_columns() {
        assert_eq!(
            render(120)[1..6],
            [
                "│INSTANCE           TASK                                     STAGE          STATE      LAG        CHECKS      READY    │",
                "│pgm-bp1demo00erp01 440437101 erp-precheck                   precheck 1/6   unstarted  unknown    ✗ 2 failed  not ready│",
                "│                   440437101 erp-backup                     basebackup 75% unstarted  unknown    ok 12       not ready│",
                "│                   440437101 erp-warned                     basebackup 2/6 unstarted  unknown    ! 1 warned  not ready│",
                "│                   440437101 erp-new                        precheck 1/6   unstarted  unknown    –           not ready│",
            ]
        );
    }

    #[test]
    fn terse_checks_at_80_columns_none_below() {
        assert_eq!(
            render(80)[1..6],
            [
                "│INSTANCE     TASK           STAGE          STATE      LAG        CHK READY    │",
                "│pgm-bp…erp01 erp-precheck   precheck 1/6   unstarted  unknown    ✗ 2 not ready│",
                "│             erp-backup     basebackup 75% unstarted  unknown    ok  not ready│",
                "│             erp-warned     basebackup 2/6 unstarted  unknown    ! 1 not ready│",
                "│             erp-new        precheck 1/6   unstarted  unknown    –   not ready│",
            ]
        );
        // A long instance id gives up columns for it (`pgm-b…erp01`), down to a point.
        assert!(
            render(74)[2].starts_with("│pgm-b…erp01 erp-prech "),
            "{}",
            render(74)[2]
        );
        assert!(render(74)[1].contains(" CHK "), "{}", render(74)[1]);
        for width in [60, 70] {
            let rows = render(width);
            assert!(!rows[1].contains("CHK"), "{width}: {}", rows[1]);
            assert!(rows[3].contains("basebackup 75%"), "{width}: {}", rows[3]);
        }
    }

    /// A task in increment with `lag` bytes, judged `verdict`.
    fn increment(name: &str, lag: Option<u64>, verdict: VerdictKind, stale: bool) -> TaskRow {
        TaskRow::Task {
            instance: "pgm-east".into(),
            task_id: Some(7),
            task_name: Some(name.into()),
            display_name: name.into(),
            kind: TaskKind::Rds,
            stage: Some(Stage::Increment),
            state: Some(ReplicationState::Streaming),
            lag,
            lag_lower_bound: false,
            verdict,
            stale,
            checks: counts(12, 0, 0),
            backup_percent: None,
        }
    }

    fn list(rows: Vec<TaskRow>, w: u16, h: u16, selected: usize, offset: usize) -> Buffer {
        let view = TaskListView {
            rows,
            selected,
            offset,
            focused: true,
            max_lag: 16 << 20,
            longest_instance: Some(8),
        };
        let mut buf = Buffer::empty(Rect::new(0, 0, w, h));
        TaskList {
            view,
            theme: Theme { color: false },
        }
        .render(buf.area, &mut buf);
        buf
    }

    #[test]
    fn verdicts_lags_instances_and_the_more_marker() {
        let rows = vec![
            increment("orders", Some(0), VerdictKind::Drained, false),
            increment("billing", Some(3 << 20), VerdictKind::InSync, false),
            increment("audit", Some(40 << 20), VerdictKind::NotReady, true),
            TaskRow::Instance {
                name: "pgm-west".into(),
                error: Some("Throttling.User".into()),
                answered: false,
            },
            TaskRow::Instance {
                name: "pgm-north".into(),
                error: None,
                answered: true,
            },
        ];
        let buf = list(rows.clone(), 80, 7, 1, 0);
        let want = Buffer::with_lines([
            "┌ Tasks (3) ───────────────────────────────────────────────────────────────────┐",
            "│INSTANCE TASK               STAGE          STATE      LAG        CHK READY    │",
            "│pgm-east orders             increment 4/6  streaming  0 B        ok  DRAINED  │",
            "│         billing            increment 4/6  streaming  3.00 MiB   ok  IN SYNC  │",
            "│         audit              increment 4/6  streaming  40.0 MiB   ok  stale    │",
            "│pgm-west Throttling.User                                             no data  │",
            "└─────────────────────────────────────────────────────────────────── ▼ 1 more ─┘",
        ]);
        assert_eq!(test_text(&buf), test_text(&want));
        // The selected row (focused) is reversed, the others are not.
        assert!(buf[(10, 3)].modifier.contains(Modifier::REVERSED));
        assert!(!buf[(10, 2)].modifier.contains(Modifier::REVERSED));
        // Scrolled to the end at 60 columns: no INSTANCE column, instance rows say their
        // name first (cut to the TASK column), no marker when nothing is below.
        let want = Buffer::with_lines([
            "┌ Tasks (3) ───────────────────────────────────────────────┐",
            "│TASK        STAGE          STATE      LAG        READY    │",
            "│audit       increment 4/6  streaming  40.0 MiB   stale    │",
            "│pgm-west Th                                      no data  │",
            "│pgm-north n                                               │",
            "└──────────────────────────────────────────────────────────┘",
        ]);
        assert_eq!(test_text(&list(rows, 60, 6, 4, 2)), test_text(&want));
    }

    #[test]
    fn cells() {
        let t = Theme { color: false };
        let c = |s, w, f, width| checks_span(counts(s, w, f), width, &t).content.to_string();
        assert_eq!(c(10, 3, 12, ChecksWidth::Full), "✗ 12 failed");
        assert_eq!(c(10, 3, 0, ChecksWidth::Compact), "! 3");
        assert_eq!(c(10, 3, 12, ChecksWidth::Compact), "✗12");
        assert_eq!(c(10, 0, 0, ChecksWidth::Compact), "ok");
        assert_eq!(c(10, 0, 0, ChecksWidth::Full), "ok 10");
        assert_eq!(c(0, 0, 0, ChecksWidth::Full), "–");
        let b = Some(&Stage::Basebackup);
        assert_eq!(stage_text(b, Some(0.0)), "basebackup 0%");
        assert_eq!(stage_text(b, Some(99.99)), "basebackup 99%");
        assert_eq!(stage_text(b, Some(100.0)), "basebackup 2/6");
        assert_eq!(stage_text(b, Some(f64::NAN)), "basebackup 2/6");
        assert_eq!(stage_text(b, None), "basebackup 2/6");
        assert_eq!(
            stage_text(Some(&Stage::Increment), Some(50.0)),
            "increment 4/6"
        );
        assert_eq!(stage_text(None, None), "-");
    }
}
