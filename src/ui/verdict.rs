//! The readiness verdict: NOT READY with every reason, IN SYNC or DRAINED.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Color;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget, Wrap};

use super::panel_block;
use super::theme::Theme;
use crate::app::App;
use crate::model::Stage;
use crate::util::units;
use crate::verdict::readiness::{NotDrained, Reason, Verdict};

/// The verdict badge.
pub fn badge(v: &Verdict, theme: &Theme) -> Span<'static> {
    // Past the switchover there is nothing to be ready for: say where the task is, without
    // the alarm colour.
    let past_switchover = match v.reasons().first() {
        Some(Reason::Stage(Some(Stage::Success))) => Some("FINISHED"),
        Some(Reason::Stage(Some(Stage::Switch))) => Some("SWITCHING"),
        _ => None,
    };
    let (label, bg) = match (v, past_switchover) {
        (Verdict::NotReady(_), Some(label)) => (label, Color::Cyan),
        (Verdict::NotReady(_), None) => (v.label(), Color::Red),
        (Verdict::InSync { .. }, _) => (v.label(), Color::Yellow),
        (Verdict::Drained { .. }, _) => (v.label(), Color::Green),
    };
    Span::styled(format!(" {label} "), theme.badge(bg))
}

/// The lines explaining `v` in `width` columns: the full reasons when each fits on a line,
/// else their terse forms.
pub fn explain(v: &Verdict, max_lag: u64, width: usize, theme: &Theme) -> Vec<Line<'static>> {
    match v {
        Verdict::NotReady(reasons) => {
            let long = reasons
                .iter()
                .all(|r| r.to_string().chars().count() + 2 <= width);
            reasons
                .iter()
                .map(|r| {
                    let text = if long { r.to_string() } else { r.short() };
                    Line::from(vec![Span::styled("• ", theme.bad()), Span::raw(text)])
                })
                .collect()
        }
        Verdict::InSync {
            lag,
            stable,
            not_drained,
        } => {
            let mut lines = vec![
                Line::from(format!(
                    "lag {} ≤ {}",
                    units::bytes(*lag),
                    units::bytes(max_lag)
                )),
                Line::from(format!("held for {}", units::duration(*stable))),
            ];
            match not_drained {
                // RDS cannot know the source's position: say so, and what would.
                NotDrained::NoProbe => {
                    lines.push(Line::styled("source position unknown:", theme.warn()));
                    lines.push(Line::styled("DRAINED needs --source-dsn", theme.warn()));
                }
                NotDrained::Unconfirmed => {
                    lines.push(Line::styled("true lag unknown:", theme.warn()));
                    lines.push(Line::styled("DRAINED unconfirmed", theme.warn()));
                }
                other => lines.push(Line::styled(other.to_string(), theme.dim())),
            }
            lines
        }
        Verdict::Drained { stable, simulated } => vec![
            Line::from(format!("source idle {}", units::duration(*stable))),
            Line::styled(
                if *simulated {
                    "loses nothing (simulated)"
                } else {
                    "switchover loses nothing"
                },
                theme.good(),
            ),
        ],
    }
}

/// The verdict panel as data.
#[derive(Debug, Clone, PartialEq)]
pub enum VerdictView {
    /// The selected task's verdict.
    Task {
        verdict: Verdict,
        /// `S switch over` is offered (allowed, and the task is in stage increment).
        can_switch: bool,
        /// `--max-lag`.
        max_lag: u64,
    },
    /// An instance row: whether it answered (with no tasks) or not yet.
    NoTask { answered: bool },
}

impl VerdictView {
    /// The verdict panel for the selection of `app`.
    pub fn of(app: &App) -> VerdictView {
        let Some(entry) = app.selected_task() else {
            return VerdictView::NoTask {
                answered: app.selected_instance().is_some_and(|i| i.last_ok.is_some()),
            };
        };
        VerdictView::Task {
            verdict: entry.verdict.clone(),
            can_switch: app.config().allow_switchover && entry.task.stage == Some(Stage::Increment),
            max_lag: app.config().readiness.max_lag,
        }
    }
}

/// The verdict panel widget: the view and its theme.
#[derive(Debug, Clone)]
pub struct VerdictPanel {
    pub view: VerdictView,
    pub theme: Theme,
}

impl Widget for VerdictPanel {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let theme = &self.theme;
        let VerdictView::Task {
            verdict,
            can_switch,
            max_lag,
        } = &self.view
        else {
            let nothing = Verdict::NotReady(vec![Reason::NoData]);
            let title = Line::from(vec![Span::raw(" "), badge(&nothing, theme), Span::raw(" ")]);
            let block = panel_block(title, theme, false);
            let text = match self.view {
                VerdictView::NoTask { answered: true } => "no migration tasks on this instance",
                _ => "no data for this instance yet",
            };
            Paragraph::new(Line::styled(text, theme.dim()))
                .block(block)
                .wrap(Wrap { trim: true })
                .render(area, buf);
            return;
        };
        let mut title = vec![Span::raw(" "), badge(verdict, theme), Span::raw(" ")];
        if *can_switch {
            title.push(Span::styled("S switch over ", theme.dim()));
        }
        let block = panel_block(Line::from(title), theme, false);
        let inner = block.inner(area);
        let lines = explain(verdict, *max_lag, inner.width as usize, theme);
        Paragraph::new(lines)
            .block(block)
            .wrap(Wrap { trim: false })
            .render(area, buf);
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::ui::test_text as text;

    const MIB: u64 = 1024 * 1024;

    fn render(view: VerdictView, w: u16, h: u16) -> Buffer {
        let mut buf = Buffer::empty(Rect::new(0, 0, w, h));
        VerdictPanel {
            view,
            theme: Theme { color: false },
        }
        .render(buf.area, &mut buf);
        buf
    }

    #[test]
    fn in_sync_with_the_switch_key() {
        let view = VerdictView::Task {
            verdict: Verdict::InSync {
                lag: 2 * MIB,
                stable: Duration::from_secs(45),
                not_drained: NotDrained::SourceWriting,
            },
            can_switch: true,
            max_lag: 16 * MIB,
        };
        let want = Buffer::with_lines([
            "┌  IN SYNC  S switch over ───┐",
            "│lag 2.00 MiB ≤ 16.0 MiB     │",
            "│held for 45s                │",
            "│source still writing        │",
            "└────────────────────────────┘",
        ]);
        assert_eq!(text(&render(view, 30, 5)), text(&want));
    }

    #[test]
    fn an_unconfirmed_drain_says_so() {
        let view = VerdictView::Task {
            verdict: Verdict::InSync {
                lag: 0,
                stable: Duration::from_secs(30),
                not_drained: NotDrained::Unconfirmed,
            },
            can_switch: false,
            max_lag: 16 * MIB,
        };
        let want = Buffer::with_lines([
            "┌  IN SYNC  ─────────┐",
            "│lag 0 B ≤ 16.0 MiB  │",
            "│held for 30s        │",
            "│true lag unknown:   │",
            "│DRAINED unconfirmed │",
            "└────────────────────┘",
        ]);
        assert_eq!(text(&render(view, 22, 6)), text(&want));
    }

    #[test]
    fn not_ready_lists_terse_reasons_when_narrow() {
        let view = VerdictView::Task {
            verdict: Verdict::NotReady(vec![
                Reason::Stage(Some(Stage::Basebackup)),
                Reason::LagAbove {
                    lag: 100 * MIB,
                    max: 16 * MIB,
                    lower_bound: false,
                },
            ]),
            can_switch: false,
            max_lag: 16 * MIB,
        };
        let want = Buffer::with_lines([
            "┌  NOT READY  ───────┐",
            "│• stage basebackup  │",
            "│• lag > 16.0 MiB    │",
            "└────────────────────┘",
        ]);
        assert_eq!(text(&render(view, 22, 4)), text(&want));
    }

    #[test]
    fn a_lower_bound_lag_reads_at_least() {
        let view = VerdictView::Task {
            verdict: Verdict::NotReady(vec![
                Reason::State(Some(crate::model::ReplicationState::Disconnect)),
                Reason::LagAbove {
                    lag: 100 * MIB,
                    max: 16 * MIB,
                    lower_bound: true,
                },
            ]),
            can_switch: false,
            max_lag: 16 * MIB,
        };
        let want = Buffer::with_lines([
            "┌  NOT READY  ──────────────────────┐",
            "│• state disconnect, not streaming  │",
            "│• lag ≥ 100 MiB > 16.0 MiB         │",
            "└───────────────────────────────────┘",
        ]);
        assert_eq!(text(&render(view, 37, 4)), text(&want));
    }

    #[test]
    fn an_instance_without_tasks() {
        let want = Buffer::with_lines([
            "┌  NOT READY  ───────┐",
            "│no migration tasks  │",
            "│on this instance    │",
            "└────────────────────┘",
        ]);
        let got = render(VerdictView::NoTask { answered: true }, 22, 4);
        assert_eq!(text(&got), text(&want));
    }
}
