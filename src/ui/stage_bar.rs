//! The stage progress bar: precheck → basebackup → startup → increment → switch → success.

use std::time::Duration;

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget};

use super::fit_spans;
use super::theme::Theme;
use crate::app::App;
use crate::model::Stage;
use crate::units;

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
    },
    /// An instance row is selected: its name, if any.
    NoTask(Option<String>),
}

impl StageBar {
    /// The bar for the selection of `app`.
    pub fn of(app: &App) -> StageBar {
        match app.selected_task() {
            Some(e) => StageBar::Task {
                stage: e.task.stage.clone(),
                since: (app.now - e.stage_since).to_std().unwrap_or_default(),
                exact: e.stage_since_exact,
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

/// The bar's spans for a task in `stage` for `since`, in at most `width` columns.
pub fn spans(
    stage: Option<&Stage>,
    since: Duration,
    exact: bool,
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

impl Widget for StageBarWidget {
    /// One line.
    fn render(self, area: Rect, buf: &mut Buffer) {
        let theme = &self.theme;
        let line = match &self.bar {
            StageBar::Task {
                stage,
                since,
                exact,
            } => Line::from(spans(
                stage.as_ref(),
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

    #[test]
    fn an_unknown_stage_and_an_instance_row() {
        let odd = render(
            StageBar::Task {
                stage: Some(Stage::Unknown("migrating".into())),
                since: Duration::from_secs(5),
                exact: true,
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
