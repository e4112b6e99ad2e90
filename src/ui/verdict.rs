//! The readiness verdict: NOT READY with every reason, IN SYNC or DRAINED (saying what the
//! source's checklist finds a switchover loses), SWITCHING or FINISHED.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Color;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget, Wrap};

use super::panel_block;
use super::theme::Theme;
use crate::app::App;
use crate::model::Stage;
use crate::probe::Checklist;
use crate::util::{text, units};
use crate::verdict::readiness::{NotDrained, Reason, Verdict, VerdictKind};
use crate::verdict::words::{self, Loss};

/// The verdict badge.
pub fn badge(v: &Verdict, theme: &Theme) -> Span<'static> {
    // Past the switchover there is nothing to be ready for: say where the task is, without
    // the alarm colour.
    let bg = match v.kind() {
        VerdictKind::NotReady => Color::Red,
        VerdictKind::InSync => Color::Yellow,
        VerdictKind::Drained => Color::Green,
        VerdictKind::Switching | VerdictKind::Finished => Color::Cyan,
    };
    Span::styled(format!(" {} ", v.label()), theme.badge(bg))
}

/// The lines explaining `v` in `width` columns and at most `height` lines: the full reasons
/// when each fits on a line, else their terse forms. Reasons that do not fit are never
/// dropped silently: the last line says `+N more` and names them. Stale data comes first:
/// it makes every other figure old. Then what the source's `checklist` found, when it found
/// anything (its line is kept first when the height is short).
pub fn explain(
    v: &Verdict,
    max_lag: u64,
    width: usize,
    height: usize,
    theme: &Theme,
    checklist: Option<&Checklist>,
) -> Vec<Line<'static>> {
    let summary = checklist
        .filter(|c| !c.items.is_empty())
        .filter(|_| !matches!(v.kind(), VerdictKind::Switching | VerdictKind::Finished))
        .map(|c| {
            let style = if c.loses_data() {
                theme.bad()
            } else {
                theme.warn()
            };
            Line::styled(format!("checklist: {} (c)", c.counts_text()), style)
        });
    let room = height.saturating_sub(usize::from(summary.is_some())).max(1);
    let mut lines = explain_verdict(v, max_lag, width, room, theme, checklist);
    lines.extend(summary);
    lines
}

fn explain_verdict(
    v: &Verdict,
    max_lag: u64,
    width: usize,
    height: usize,
    theme: &Theme,
    checklist: Option<&Checklist>,
) -> Vec<Line<'static>> {
    match v {
        Verdict::NotReady(reasons) => {
            let mut ordered: Vec<&Reason> = reasons
                .iter()
                .filter(|r| matches!(r, Reason::Stale { .. }))
                .collect();
            ordered.extend(
                reasons
                    .iter()
                    .filter(|r| !matches!(r, Reason::Stale { .. })),
            );
            let long = ordered
                .iter()
                .all(|r| text::width(&r.to_string()) + 2 <= width);
            let line = |r: &Reason| {
                let words = if long { r.to_string() } else { r.short() };
                let words = text::truncate(&words, width.saturating_sub(2)).into_owned();
                Line::from(vec![Span::styled("• ", theme.bad()), Span::raw(words)])
            };
            if ordered.len() <= height.max(1) {
                return ordered.into_iter().map(line).collect();
            }
            let shown = height.saturating_sub(1);
            let rest = &ordered[shown..];
            let names: Vec<String> = rest.iter().map(|r| r.short()).collect();
            let more = format!("+{} more: {}", rest.len(), names.join(", "));
            let mut lines: Vec<Line> = ordered[..shown].iter().map(|r| line(r)).collect();
            lines.push(Line::styled(
                text::truncate(&more, width).into_owned(),
                theme.bad(),
            ));
            lines
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
                // Who keeps the source writing, when the checklist names them.
                other => lines.push(Line::styled(
                    format!("{other}{}", words::writers(other, checklist)),
                    theme.dim(),
                )),
            }
            lines
        }
        Verdict::Drained { stable, simulated } => vec![
            Line::from(format!("source idle {}", units::duration(*stable))),
            match words::loss(checklist) {
                Loss::Nothing if !*simulated => {
                    Line::styled("switchover loses nothing", theme.good())
                }
                Loss::Nothing => Line::styled("loses nothing (simulated)", theme.good()),
                _ => Line::styled(words::drained_words(*simulated, checklist), theme.bad()),
            },
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
        /// The newest checklist of the task's source, once read.
        checklist: Option<Checklist>,
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
            checklist: app.checklist_for(&entry.task.instance).cloned(),
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
            checklist,
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
        let lines = explain(
            verdict,
            *max_lag,
            inner.width as usize,
            inner.height as usize,
            theme,
            checklist.as_ref(),
        );
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
    fn reasons_that_do_not_fit_are_counted_and_stale_comes_first() {
        let view = VerdictView::Task {
            verdict: Verdict::NotReady(vec![
                Reason::State(None),
                Reason::NotSynced(None),
                Reason::LagUnknown,
                Reason::PrecheckFailed {
                    count: 1,
                    first: None,
                },
                Reason::Stale {
                    age: Duration::from_secs(90),
                },
            ]),
            can_switch: false,
            max_lag: 16 * MIB,
            checklist: None,
        };
        let want = Buffer::with_lines([
            "┌  NOT READY  ───────────────────────┐",
            "│• data stale (1m30s old)            │",
            "│• replication state unknown         │",
            "│• Synced unknown                    │",
            "│+2 more: lag unknown, precheck fail…│",
            "└────────────────────────────────────┘",
        ]);
        assert_eq!(text(&render(view.clone(), 38, 6)), text(&want));
        // With room for all five, all five.
        let all = text(&render(view, 38, 7)).join("\n");
        assert!(
            all.contains("precheck failed: 1") && !all.contains("more"),
            "{all}"
        );
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
            checklist: None,
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
            checklist: None,
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
            checklist: None,
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
            checklist: None,
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

    #[test]
    fn drained_says_what_is_lost_and_in_sync_who_writes() {
        use crate::probe::checklist::{Finding, RelKind};
        let at = chrono::DateTime::from_timestamp(0, 0).unwrap();
        let lossy = Checklist::new(
            at,
            vec!["postgres".into()],
            vec![Finding::Unlogged {
                database: "postgres".into(),
                schema: "public".into(),
                name: "t".into(),
                relkind: RelKind::Table,
                bytes: 2 * MIB,
                rows: None,
            }],
        );
        let drained = VerdictView::Task {
            verdict: Verdict::Drained {
                stable: Duration::from_secs(40),
                simulated: false,
            },
            can_switch: false,
            max_lag: 16 * MIB,
            checklist: Some(lossy),
        };
        let got = text(&render(drained, 60, 6)).join("\n");
        assert!(
            got.contains("1 unlogged table (2.00 MiB) will be empty on RDS"),
            "{got}"
        );
        assert!(got.contains("checklist: 1 loses data (c)"), "{got}");
        assert!(!got.contains("loses nothing"), "{got}");
        // Never read: not "loses nothing" either.
        let unread = VerdictView::Task {
            verdict: Verdict::Drained {
                stable: Duration::from_secs(40),
                simulated: false,
            },
            can_switch: false,
            max_lag: 16 * MIB,
            checklist: None,
        };
        let got = text(&render(unread, 60, 6)).join("\n");
        assert!(!got.contains("loses nothing"), "{got}");
        let writing = Checklist::new(
            at,
            vec!["postgres".into()],
            vec![Finding::XidSession {
                pid: 4242,
                user: None,
                application: None,
                client: None,
                age_secs: None,
                query: None,
            }],
        );
        let in_sync = VerdictView::Task {
            verdict: Verdict::InSync {
                lag: 0,
                stable: Duration::from_secs(45),
                not_drained: NotDrained::SourceWriting,
            },
            can_switch: false,
            max_lag: 16 * MIB,
            checklist: Some(writing),
        };
        let got = text(&render(in_sync, 60, 7)).join("\n");
        assert!(got.contains("source still writing (pid 4242)"), "{got}");
        assert!(got.contains("checklist: 1 blocks DRAINED (c)"), "{got}");
    }
}
