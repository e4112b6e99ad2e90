//! The stage progress bar: precheck → basebackup → startup → increment → switch → success,
//! with the base backup's percentage, rate and ETA while a progress line gives them; for a
//! physical standby read from its primary, startup → catchup → streaming.

use std::time::Duration;

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget};

use super::fit_spans;
use super::theme::Theme;
use crate::app::App;
use crate::model::{ReplicationState, Stage, TaskKind};
use crate::util::units;
use crate::verdict::backup::{BackupEta, BackupRate};

/// The base backup's progress as the bar shows it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BackupView {
    pub percent: f64,
    /// Between the two latest readings; `None` with one reading or stale data.
    pub rate: Option<BackupRate>,
    pub eta: Option<BackupEta>,
}

/// The stage bar as data.
#[derive(Debug, Clone, PartialEq)]
pub enum StageBar {
    /// The selected task's stage.
    Task {
        stage: Option<Stage>,
        /// How long the task has been in its stage.
        since: Duration,
        /// Whether migtop saw the stage begin (else `since` is a lower bound).
        exact: bool,
        /// In basebackup, what its progress lines say.
        backup: Option<BackupView>,
    },
    /// A physical standby read from its primary (`--primary`): its walsender's state.
    Stream {
        state: Option<ReplicationState>,
        /// How long the task has been in its stage (catchup and streaming are one stage, so
        /// this counts from the first of them).
        since: Duration,
        exact: bool,
    },
    /// An instance row is selected: its name, if any.
    NoTask(Option<String>),
}

impl StageBar {
    /// The bar for the selection of `app`.
    pub fn of(app: &App) -> StageBar {
        match app.selected_task() {
            Some(e) if e.task.kind == TaskKind::Physical => StageBar::Stream {
                state: e.task.replication_state.clone(),
                since: (app.now() - e.stage_since).to_std().unwrap_or_default(),
                exact: e.stage_since_exact,
            },
            Some(e) => StageBar::Task {
                stage: e.task.stage.clone(),
                since: (app.now() - e.stage_since).to_std().unwrap_or_default(),
                exact: e.stage_since_exact,
                backup: e.history.backup_trend().map(|tr| {
                    // Stale data keeps its percentage but makes no claim about the rate.
                    let fresh = app.task_stale_age(&e.task).is_none();
                    BackupView {
                        percent: tr.latest.percent,
                        rate: tr.rate.filter(|_| fresh),
                        eta: tr.eta(app.now()).filter(|_| fresh),
                    }
                }),
            },
            None => StageBar::NoTask(app.selected_instance().map(|i| i.name.clone())),
        }
    }
}

/// The stage bar widget: the view and its theme.
#[derive(Debug, Clone)]
pub struct StageBarWidget {
    pub bar: StageBar,
    pub theme: Theme,
}

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

/// `75% · 120 MiB/s · ETA 2m05s`, after the current stage's name.
fn backup_spans(b: &BackupView, theme: &Theme) -> Vec<Span<'static>> {
    let mut v = vec![Span::styled(
        format!(" {}%", b.percent.floor() as u8),
        theme.accent(),
    )];
    if let Some(rate) = b.rate {
        let text = match rate {
            BackupRate::BytesPerSec(r) => units::rate(r),
            BackupRate::PercentPerSec(r) => format!("{:.1}%/min", r * 60.0),
        };
        v.push(Span::styled(" · ", theme.dim()));
        v.push(Span::raw(text));
    }
    match b.eta {
        Some(BackupEta::In(d)) => {
            v.push(Span::styled(" · ", theme.dim()));
            v.push(Span::raw(format!("ETA {}", units::duration(d))));
        }
        Some(BackupEta::Overdue) => {
            v.push(Span::styled(" · ", theme.dim()));
            v.push(Span::styled("ETA overdue", theme.warn()));
        }
        None => {}
    }
    v
}

/// How much of the path a bar spells out.
#[derive(Clone, Copy, PartialEq)]
enum Detail {
    Full,
    /// Short names for the other stages.
    Compact,
    /// Short names, and no stages after the current one.
    Current,
}

/// The bar's spans for a task in `stage` for `since`, in at most `width` columns.
pub fn spans(
    stage: Option<&Stage>,
    since: Duration,
    exact: bool,
    backup: Option<&BackupView>,
    theme: &Theme,
    width: usize,
) -> Vec<Span<'static>> {
    let current = stage;
    let since = format!("{}{}", if exact { "" } else { "≥" }, units::duration(since));
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
    // Progress only where it belongs: the current stage is basebackup.
    let backup = backup.filter(|_| *current.expect("indexed") == Stage::Basebackup);
    let path: Vec<(&str, &str)> = Stage::ALL.iter().map(|s| (s.as_str(), short(s))).collect();
    path_spans(&path, idx, finished, backup, &tail, theme, width)
}

/// The path a physical standby walks, as `pg_stat_replication`'s state names it: (name, short
/// name). No RDS stage appears: migtop checked none of them.
const STREAM_PATH: [(&str, &str); 3] = [
    ("startup", "start"),
    ("catchup", "catch"),
    ("streaming", "stream"),
];

/// The bar of a physical standby read from its primary: startup → catchup → streaming.
pub fn stream_spans(
    state: Option<&ReplicationState>,
    since: Duration,
    exact: bool,
    theme: &Theme,
    width: usize,
) -> Vec<Span<'static>> {
    let since = format!("{}{}", if exact { "" } else { "≥" }, units::duration(since));
    let idx = match state {
        Some(ReplicationState::Unstarted) => 1,
        Some(ReplicationState::Catchup) => 2,
        Some(ReplicationState::Streaming) => 3,
        other => {
            let what = other.map_or("unknown".to_string(), |s| s.to_string());
            return vec![
                Span::styled(" Walsender ", theme.strong()),
                Span::styled(what, theme.warn()),
                Span::styled(format!("  for {since}"), theme.dim()),
            ];
        }
    };
    path_spans(
        &STREAM_PATH,
        idx,
        false,
        None,
        &format!("  for {since}"),
        theme,
        width,
    )
}

/// A path of named steps with the `idx`-th (from 1) current, in at most `width` columns.
fn path_spans(
    path: &[(&str, &str)],
    idx: u8,
    finished: bool,
    backup: Option<&BackupView>,
    tail: &str,
    theme: &Theme,
    width: usize,
) -> Vec<Span<'static>> {
    let build = |detail: Detail| -> Vec<Span<'static>> {
        let mut v = vec![Span::raw(" ")];
        for (i, (name, short)) in path.iter().enumerate() {
            let n = i as u8 + 1;
            if n > idx && detail == Detail::Current {
                break;
            }
            if i > 0 {
                v.push(Span::styled(" › ", theme.dim()));
            }
            let label = if detail != Detail::Full && n != idx {
                short
            } else {
                name
            };
            if n < idx || (finished && n == idx) {
                v.push(Span::styled(format!("✓ {label}"), theme.good()));
            } else if n == idx {
                v.push(Span::styled(format!("▶ {label}"), theme.accent()));
                if let Some(b) = backup {
                    v.extend(backup_spans(b, theme));
                }
            } else {
                v.push(Span::styled(format!("· {label}"), theme.dim()));
            }
        }
        v.push(Span::styled(tail.to_string(), theme.dim()));
        v
    };
    let fits = |v: &[Span]| v.iter().map(|s| s.width()).sum::<usize>() <= width;
    let full = build(Detail::Full);
    if fits(&full) {
        return full;
    }
    let compact = build(Detail::Compact);
    // Without progress the short path is as before: cut at the end when it must be.
    if fits(&compact) || backup.is_none() {
        return fit_spans(compact, width);
    }
    fit_spans(build(Detail::Current), width)
}

impl Widget for StageBarWidget {
    /// One line.
    fn render(self, area: Rect, buf: &mut Buffer) {
        let theme = &self.theme;
        let line = match &self.bar {
            StageBar::Task {
                stage,
                since,
                exact,
                backup,
            } => Line::from(spans(
                stage.as_ref(),
                *since,
                *exact,
                backup.as_ref(),
                theme,
                area.width as usize,
            )),
            StageBar::Stream {
                state,
                since,
                exact,
            } => Line::from(stream_spans(
                state.as_ref(),
                *since,
                *exact,
                theme,
                area.width as usize,
            )),
            StageBar::NoTask(instance) => Line::styled(
                match instance {
                    Some(i) => format!(" {i}: no task to show"),
                    None => " no task selected".to_string(),
                },
                theme.dim(),
            ),
        };
        Paragraph::new(line).render(area, buf);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(bar: StageBar, width: u16) -> Buffer {
        let mut buf = Buffer::empty(Rect::new(0, 0, width, 1));
        StageBarWidget {
            bar,
            theme: Theme { color: false },
        }
        .render(buf.area, &mut buf);
        buf
    }

    /// The buffer's text, styles aside.
    fn text(buf: &Buffer) -> String {
        buf.content().iter().map(|c| c.symbol()).collect()
    }

    fn increment(width: u16, exact: bool) -> Buffer {
        render(
            StageBar::Task {
                stage: Some(Stage::Increment),
                since: Duration::from_secs(75),
                exact,
                backup: None,
            },
            width,
        )
    }

    #[test]
    fn the_whole_path_when_it_fits() {
        let want = Buffer::with_lines([
            " ✓ precheck › ✓ basebackup › ✓ startup › ▶ increment › · switch › · success  for 1m15s    ",
        ]);
        assert_eq!(text(&increment(want.area.width, true)), text(&want));
    }

    #[test]
    fn short_names_and_a_lower_bound_when_narrow() {
        let want = Buffer::with_lines([
            " ✓ pre › ✓ base › ✓ start › ▶ increment › · switch › · done  for ≥1m15s",
        ]);
        assert_eq!(text(&increment(want.area.width, false)), text(&want));
    }

    fn basebackup(width: u16, backup: Option<BackupView>) -> String {
        text(&render(
            StageBar::Task {
                stage: Some(Stage::Basebackup),
                since: Duration::from_secs(200),
                exact: true,
                backup,
            },
            width,
        ))
    }

    const TWO_READINGS: BackupView = BackupView {
        percent: 75.0,
        rate: Some(BackupRate::BytesPerSec(47185920.0)),
        eta: Some(BackupEta::In(Duration::from_secs(100))),
    };

    #[test]
    fn basebackup_progress_with_rate_and_eta() {
        assert_eq!(
            basebackup(120, Some(TWO_READINGS)).trim_end(),
            " ✓ precheck › ▶ basebackup 75% · 45.0 MiB/s · ETA 1m40s › · startup › · increment › · switch › · success  for 3m20s"
        );
        // At 80 columns the stages still to come give way to the figures.
        assert_eq!(
            basebackup(80, Some(TWO_READINGS)).trim_end(),
            " ✓ pre › ▶ basebackup 75% · 45.0 MiB/s · ETA 1m40s  for 3m20s"
        );
        let overdue = BackupView {
            percent: 12.5,
            rate: Some(BackupRate::PercentPerSec(0.01)),
            eta: Some(BackupEta::Overdue),
        };
        assert_eq!(
            basebackup(80, Some(overdue)).trim_end(),
            " ✓ pre › ▶ basebackup 12% · 0.6%/min · ETA overdue  for 3m20s"
        );
    }

    #[test]
    fn one_reading_is_a_percentage_only_and_none_is_the_old_bar() {
        let one = BackupView {
            percent: 25.0,
            rate: None,
            eta: None,
        };
        assert_eq!(
            basebackup(80, Some(one)).trim_end(),
            " ✓ pre › ▶ basebackup 25% › · start › · incr › · switch › · done  for 3m20s"
        );
        assert_eq!(
            basebackup(80, None).trim_end(),
            " ✓ pre › ▶ basebackup › · start › · incr › · switch › · done  for 3m20s"
        );
        // Never wider than the bar, even very narrow.
        for w in [10u16, 30, 45] {
            assert_eq!(
                basebackup(w, Some(TWO_READINGS)).chars().count(),
                w as usize
            );
        }
    }

    #[test]
    fn an_unknown_stage_and_an_instance_row() {
        let odd = render(
            StageBar::Task {
                stage: Some(Stage::Unknown("migrating".into())),
                since: Duration::from_secs(5),
                exact: true,
                backup: None,
            },
            50,
        );
        assert_eq!(
            text(&odd),
            text(&Buffer::with_lines([format!(
                "{:<50}",
                " Stage migrating (not a known stage)  for 5s"
            )]))
        );
        let none = render(StageBar::NoTask(Some("pgm-a".into())), 30);
        assert_eq!(
            text(&none),
            text(&Buffer::with_lines([format!(
                "{:<30}",
                " pgm-a: no task to show"
            )]))
        );
    }
}
