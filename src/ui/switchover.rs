//! The switchover dialog: the verdict, the source's checklist, a typed confirmation, then
//! the API's answer.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph, Widget, Wrap};

use super::theme::Theme;
use super::{centered, panel_block, verdict};
use crate::app::{App, SwitchDialog, SwitchPhase};
use crate::model::{ReplicationState, Stage};
use crate::probe::Checklist;
use crate::probe::checklist::Severity;
use crate::util::text::printable;
use crate::util::{text, units};
use crate::verdict::readiness::{NotDrained, Verdict, VerdictKind};
use crate::verdict::words::{self, Loss};

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
    /// The newest checklist of the task's source, once read.
    pub checklist: Option<Checklist>,
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
                checklist: app.checklist_for(&e.task.instance).cloned(),
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
            // As shown everywhere else: an invisible character as its marker.
            Span::styled(printable(&d.instance).into_owned(), theme.strong()),
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
        let w = 70.min(area.width.saturating_sub(2));
        let inner_w = w.saturating_sub(2).max(1) as usize;
        // The checklist's items sit above the confirmation, as many as the screen holds.
        let mut items = Vec::new();
        if matches!(d.phase, SwitchPhase::Typing)
            && let Some(c) = entry.and_then(|e| e.checklist.as_ref())
        {
            items = checklist_lines(c, inner_w, theme);
        }
        let mut tail: Vec<Line> = vec![Line::default()];
        match &d.phase {
            SwitchPhase::Typing => {
                tail.push(Line::from(
                "This calls ActivateMigrationTargetInstance (switch now). Type the instance id to confirm:",
            ));
                tail.push(Line::from(vec![
                    Span::styled("> ", theme.accent()),
                    Span::raw(printable(&d.typed).into_owned()),
                    Span::styled("█", theme.dim()),
                ]));
                if let Some(h) = &d.hint {
                    tail.push(Line::styled(h.clone(), theme.warn()));
                }
            }
            SwitchPhase::Sending => tail.push(Line::styled(
                "Sending ActivateMigrationTargetInstance…",
                theme.warn(),
            )),
            SwitchPhase::Done(Ok(t)) => tail.push(Line::styled(t.clone(), theme.good())),
            SwitchPhase::Done(Err(t)) => {
                tail.push(Line::styled(format!("Refused: {t}"), theme.bad()))
            }
        }
        let rows = |ls: &[Line]| -> usize {
            ls.iter()
                .map(|l| l.width().div_ceil(inner_w).max(1))
                .sum::<usize>()
        };
        let fixed = rows(&lines) + rows(&tail) + 2;
        let room = (area.height as usize).saturating_sub(fixed);
        if items.len() > room {
            // Keep the headline (the first line) and say how many more there are.
            let shown = room.saturating_sub(1);
            let more = items.len() - shown;
            items.truncate(shown);
            if room > 0 {
                items.push(Line::styled(
                    format!("  … +{more} more (c lists them all)"),
                    theme.dim(),
                ));
            }
        }
        lines.extend(items);
        lines.extend(tail);
        let h = (rows(&lines) + 2).max(14).min(area.height as usize) as u16;
        let rect = centered(area, w, h);
        Clear.render(rect, buf);
        let danger = matches!(d.phase, SwitchPhase::Typing)
            && entry.is_none_or(|e| {
                e.verdict.kind() != VerdictKind::Drained
                    || words::loss(e.checklist.as_ref()) != Loss::Nothing
            });
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
    let checklist = entry.and_then(|e| e.checklist.as_ref());
    match v {
        Some(Verdict::Drained { simulated, .. }) => match words::loss(checklist) {
            Loss::Nothing => lines.push(Line::styled(
                if *simulated {
                    "DRAINED (simulated probe): the source has stopped writing; a switchover now loses nothing."
                } else {
                    "DRAINED: the source has stopped writing; a switchover now loses nothing."
                },
                theme.good(),
            )),
            _ => lines.push(Line::styled(
                format!(
                    "DRAINED: the source has stopped writing, but {}.",
                    words::drained_words(*simulated, checklist)
                ),
                theme.bad(),
            )),
        },
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

/// The checklist's items, one line each (cut to `width`), under a headline with the counts.
pub fn checklist_lines(c: &Checklist, width: usize, theme: &Theme) -> Vec<Line<'static>> {
    let simulated = if c.simulated { ", simulated" } else { "" };
    let mut out = vec![Line::styled(
        if c.items.is_empty() {
            format!("Source checklist: clean{simulated}")
        } else {
            format!("Source checklist ({}{simulated}):", c.counts_text())
        },
        if c.loses_data() {
            theme.bad()
        } else {
            theme.strong()
        },
    )];
    for item in &c.items {
        let (mark, style) = match item.severity() {
            Severity::LosesData => ("✗ ", theme.bad()),
            Severity::BreaksConsumers => ("! ", theme.warn()),
            Severity::BlocksDrained => ("… ", theme.dim()),
        };
        let text = text::truncate(&item.to_string(), width.saturating_sub(2)).into_owned();
        out.push(Line::from(vec![Span::styled(mark, style), Span::raw(text)]));
    }
    out
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
            checklist: None,
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
            " │Source checklist: clean                       │ ",
            " │                                              │ ",
            " │This calls ActivateMigrationTargetInstance    │ ",
            " │(switch now). Type the instance id to confirm:│ ",
            " │> pgm-█                                       │ ",
            " │                                              │ ",
            " │                                              │ ",
            " │                                              │ ",
            " └──────────────────────────────────────────────┘ ",
        ]);
        // "Loses nothing" rests on a checklist that was read and found nothing to lose.
        let mut clean = task(drained.clone());
        clean.checklist = Some(Checklist::new(
            chrono::DateTime::from_timestamp(1_780_000_000, 0).unwrap(),
            vec!["postgres".into()],
            vec![],
        ));
        assert_eq!(text(&render(&d, Some(clean), 50, 14)), text(&want));
        // Without one, DRAINED says what it has not checked.
        let unread = text(&render(&d, Some(task(drained)), 50, 14)).join("");
        assert!(!unread.contains("loses nothing"), "{unread}");
        assert!(unread.contains("not read yet"), "{unread}");
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
