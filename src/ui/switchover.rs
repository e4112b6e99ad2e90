//! The switchover dialog: the verdict, a typed confirmation, then the API's answer.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph, Widget, Wrap};

use super::theme::Theme;
use super::{centered, panel_block, verdict};
use crate::app::{App, SwitchDialog, SwitchPhase};
use crate::model::{ReplicationState, Stage};
use crate::util::units;
use crate::verdict::readiness::{NotDrained, Verdict, VerdictKind};

/// The dialog as data: the dialog's state and the task it acts on.
#[derive(Debug, Clone)]
pub struct SwitchoverView<'a> {
    pub dialog: &'a SwitchDialog,
    /// The task, while it is still listed.
    pub task: Option<SwitchTask>,
}

/// What the dialog shows of its task.
#[derive(Debug, Clone, PartialEq)]
pub struct SwitchTask {
    pub name: String,
    pub verdict: Verdict,
    /// The lag the verdict judged ([`crate::app::TaskEntry::judged_lag`]).
    pub judged_lag: Option<u64>,
    /// `judged_lag` is only a lower bound ([`crate::app::TaskEntry::lag_is_lower_bound`]).
    pub lag_lower_bound: bool,
    pub stage: Option<Stage>,
    pub state: Option<ReplicationState>,
}

impl<'a> SwitchoverView<'a> {
    /// The dialog `d` over the tasks of `app`.
    pub fn of(app: &App, d: &'a SwitchDialog) -> SwitchoverView<'a> {
        SwitchoverView {
            dialog: d,
            task: app.tasks().get(&d.task_key).map(|e| SwitchTask {
                name: e.task.display_name(),
                verdict: e.verdict.clone(),
                judged_lag: e.judged_lag(),
                lag_lower_bound: e.lag_is_lower_bound(),
                stage: e.task.stage.clone(),
                state: e.task.replication_state.clone(),
            }),
        }
    }
}

/// The switchover dialog widget: the view and its theme, drawn centred in the area it is given.
#[derive(Debug, Clone)]
pub struct SwitchoverDialog<'a> {
    pub view: SwitchoverView<'a>,
    pub theme: Theme,
}

impl Widget for SwitchoverDialog<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let theme = &self.theme;
        let d = self.view.dialog;
        let entry = self.view.task.as_ref();
        let mut lines: Vec<Line> = Vec::new();
        let name = entry.map_or(d.task_key.clone(), |e| e.name.clone());
        lines.push(Line::from(vec![
            Span::raw("Task "),
            Span::styled(name, theme.strong()),
            Span::raw(" on "),
            Span::styled(d.instance.clone(), theme.strong()),
        ]));
        // The verdict matters while the DBA decides; once the call is sent, the live verdict
        // would only describe the switchover itself, so show where the task is instead.
        if matches!(d.phase, SwitchPhase::Typing) {
            verdict_lines(&mut lines, entry, theme);
        } else if let Some(e) = entry {
            let stage = e
                .stage
                .as_ref()
                .map_or("unknown".to_string(), |s| s.to_string());
            let state = e
                .state
                .as_ref()
                .map_or("unknown".to_string(), |s| s.to_string());
            lines.push(Line::from(format!("Now: stage {stage}, state {state}")));
        }
        lines.push(Line::default());
        match &d.phase {
            SwitchPhase::Typing => {
                lines.push(Line::from(
                "This calls ActivateMigrationTargetInstance (switch now). Type the instance id to confirm:",
            ));
                lines.push(Line::from(vec![
                    Span::styled("> ", theme.accent()),
                    Span::raw(d.typed.clone()),
                    Span::styled("█", theme.dim()),
                ]));
                if let Some(h) = &d.hint {
                    lines.push(Line::styled(h.clone(), theme.warn()));
                }
            }
            SwitchPhase::Sending => lines.push(Line::styled(
                "Sending ActivateMigrationTargetInstance…",
                theme.warn(),
            )),
            SwitchPhase::Done(Ok(t)) => lines.push(Line::styled(t.clone(), theme.good())),
            SwitchPhase::Done(Err(t)) => {
                lines.push(Line::styled(format!("Refused: {t}"), theme.bad()))
            }
        }
        let w = 70.min(area.width.saturating_sub(2));
        let h = 14.min(area.height);
        let rect = centered(area, w, h);
        Clear.render(rect, buf);
        let danger = matches!(d.phase, SwitchPhase::Typing)
            && entry.is_none_or(|e| e.verdict.kind() != VerdictKind::Drained);
        let title = Line::from(Span::styled(
            " Switchover ",
            if danger { theme.bad() } else { theme.accent() },
        ));
        let mut block = panel_block(title, theme, true);
        if danger {
            block = block.border_style(theme.bad());
        }
        Paragraph::new(lines)
            .block(block)
            .wrap(Wrap { trim: false })
            .render(rect, buf);
    }
}

/// The verdict badge and what it means for a switchover now.
fn verdict_lines(lines: &mut Vec<Line<'static>>, entry: Option<&SwitchTask>, theme: &Theme) {
    let v = entry.map(|e| &e.verdict);
    match v {
        Some(v) => {
            let mut l = vec![Span::raw("Verdict "), verdict::badge(v, theme)];
            // The lag the verdict judged: with a source probe, never less than the true lag;
            // `≥ X` when it is only a lower bound.
            if let Some(e) = entry
                && let Some(lag) = e.judged_lag
            {
                l.push(Span::raw(format!(
                    "  lag {}",
                    units::lag(lag, e.lag_lower_bound)
                )));
            }
            lines.push(Line::from(l));
        }
        None => lines.push(Line::styled("The task is no longer listed.", theme.bad())),
    }
    match v {
        Some(Verdict::Drained { simulated, .. }) => lines.push(Line::styled(
            if *simulated {
                "DRAINED (simulated probe): the source has stopped writing; a switchover now loses nothing."
            } else {
                "DRAINED: the source has stopped writing; a switchover now loses nothing."
            },
            theme.good(),
        )),
        Some(Verdict::InSync {
            not_drained: NotDrained::NoProbe,
            ..
        }) => lines.push(Line::styled(
            "Not DRAINED (IN SYNC): the source's position is unknown to RDS; it may still be \
             writing, and changes not yet replayed are lost. --source-dsn confirms DRAINED.",
            theme.bad(),
        )),
        Some(v @ Verdict::InSync { .. }) => lines.push(Line::styled(
            format!(
                "Not DRAINED ({}): the source may still be writing; changes not yet replayed are lost.",
                v.label()
            ),
            theme.bad(),
        )),
        Some(v) => {
            let reasons: Vec<String> = v.reasons().iter().map(|r| r.to_string()).collect();
            lines.push(Line::styled(
                format!("Not DRAINED, NOT READY: {}.", reasons.join("; ")),
                theme.bad(),
            ));
        }
        None => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ui::test_text as text;
    use ratatui::style::Modifier;
    use std::time::Duration;

    fn dialog(phase: SwitchPhase, typed: &str) -> SwitchDialog {
        SwitchDialog {
            task_key: "pgm-a/7".into(),
            instance: "pgm-a".into(),
            typed: typed.into(),
            phase,
            hint: None,
        }
    }

    fn task(verdict: Verdict) -> SwitchTask {
        SwitchTask {
            name: "orders".into(),
            verdict,
            judged_lag: Some(0),
            lag_lower_bound: false,
            stage: Some(Stage::Increment),
            state: Some(ReplicationState::Streaming),
        }
    }

    fn render(d: &SwitchDialog, task: Option<SwitchTask>, w: u16, h: u16) -> Buffer {
        let mut buf = Buffer::empty(Rect::new(0, 0, w, h));
        SwitchoverDialog {
            view: SwitchoverView { dialog: d, task },
            theme: Theme { color: false },
        }
        .render(buf.area, &mut buf);
        buf
    }

    #[test]
    fn a_drained_task_asks_for_the_instance_id() {
        let d = dialog(SwitchPhase::Typing, "pgm-");
        let drained = Verdict::Drained {
            stable: Duration::from_secs(30),
            simulated: false,
        };
        let want = Buffer::with_lines([
            " ┌ Switchover ──────────────────────────────────┐ ",
            " │Task orders on pgm-a                          │ ",
            " │Verdict  DRAINED   lag 0 B                    │ ",
            " │DRAINED: the source has stopped writing; a    │ ",
            " │switchover now loses nothing.                 │ ",
            " │                                              │ ",
            " │This calls ActivateMigrationTargetInstance    │ ",
            " │(switch now). Type the instance id to confirm:│ ",
            " │> pgm-█                                       │ ",
            " │                                              │ ",
            " │                                              │ ",
            " │                                              │ ",
            " │                                              │ ",
            " └──────────────────────────────────────────────┘ ",
        ]);
        assert_eq!(text(&render(&d, Some(task(drained)), 50, 14)), text(&want));
    }

    #[test]
    fn an_in_sync_task_without_a_probe_is_said_to_lose_changes() {
        let mut d = dialog(SwitchPhase::Typing, "pgm-b");
        d.hint = Some("Type pgm-a exactly.".into());
        let in_sync = Verdict::InSync {
            lag: 0,
            stable: Duration::from_secs(30),
            not_drained: NotDrained::NoProbe,
        };
        let want = Buffer::with_lines([
            " ┌ Switchover ──────────────────────────────────┐ ",
            " │Task orders on pgm-a                          │ ",
            " │Verdict  IN SYNC   lag 0 B                    │ ",
            " │Not DRAINED (IN SYNC): the source's position  │ ",
            " │is unknown to RDS; it may still be writing,   │ ",
            " │and changes not yet replayed are lost.        │ ",
            " │--source-dsn confirms DRAINED.                │ ",
            " │                                              │ ",
            " │This calls ActivateMigrationTargetInstance    │ ",
            " │(switch now). Type the instance id to confirm:│ ",
            " │> pgm-b█                                      │ ",
            " │Type pgm-a exactly.                           │ ",
            " │                                              │ ",
            " └──────────────────────────────────────────────┘ ",
        ]);
        let buf = render(&d, Some(task(in_sync)), 50, 14);
        assert_eq!(text(&buf), text(&want));
        // Not DRAINED: the frame itself warns (red with colour; bold underlined without).
        assert!(buf[(1, 0)].modifier.contains(Modifier::UNDERLINED));
    }

    #[test]
    fn a_task_no_longer_listed_is_said_so() {
        let want = Buffer::with_lines([
            " ┌ Switchover ──────────────────────────────────┐ ",
            " │Task pgm-a/7 on pgm-a                         │ ",
            " │The task is no longer listed.                 │ ",
            " │                                              │ ",
            " │This calls ActivateMigrationTargetInstance    │ ",
            " │(switch now). Type the instance id to confirm:│ ",
            " │> █                                           │ ",
            " └──────────────────────────────────────────────┘ ",
        ]);
        let buf = render(&dialog(SwitchPhase::Typing, ""), None, 50, 8);
        assert_eq!(text(&buf), text(&want));
        assert!(buf[(1, 0)].modifier.contains(Modifier::UNDERLINED));
    }

    #[test]
    fn once_sent_it_shows_where_the_task_is_and_the_answer() {
        let not_ready = || Some(task(Verdict::NotReady(vec![])));
        let sending = render(&dialog(SwitchPhase::Sending, "pgm-a"), not_ready(), 50, 7);
        let want = Buffer::with_lines([
            " ┌ Switchover ──────────────────────────────────┐ ",
            " │Task orders on pgm-a                          │ ",
            " │Now: stage increment, state streaming         │ ",
            " │                                              │ ",
            " │Sending ActivateMigrationTargetInstance…      │ ",
            " │                                              │ ",
            " └──────────────────────────────────────────────┘ ",
        ]);
        assert_eq!(text(&sending), text(&want));
        // Sent: no longer a warning frame.
        assert!(!sending[(1, 0)].modifier.contains(Modifier::UNDERLINED));
        let refused = SwitchPhase::Done(Err("InvalidStatus: not now".into()));
        let want = Buffer::with_lines([
            " ┌ Switchover ──────────────────────────────────┐ ",
            " │Task orders on pgm-a                          │ ",
            " │Now: stage increment, state streaming         │ ",
            " │                                              │ ",
            " │Refused: InvalidStatus: not now               │ ",
            " │                                              │ ",
            " └──────────────────────────────────────────────┘ ",
        ]);
        let buf = render(&dialog(refused, "pgm-a"), not_ready(), 50, 7);
        assert_eq!(text(&buf), text(&want));
    }
}
