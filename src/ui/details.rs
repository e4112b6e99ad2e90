//! Task details: source, account, times (local and age) and WAL positions. Never a password.

use chrono::{DateTime, FixedOffset, Utc};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget};

use super::theme::Theme;
use super::{age, local_time, panel_block, truncate};
use crate::app::App;
use crate::model::{Lsn, Task};

/// The details panel as data: the selected task and the source probe's reading.
#[derive(Debug, Clone)]
pub struct DetailsView<'a> {
    /// The selected task; `None` on an instance row.
    pub task: Option<&'a Task>,
    /// The source's own position, when a probe is configured.
    pub source: Option<SourceLsn>,
    pub now: DateTime<Utc>,
    /// The session's local offset, for times.
    pub local_offset: FixedOffset,
}

/// What the source probe last read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceLsn {
    /// Its position and when it was read.
    Read { lsn: Lsn, at: DateTime<Utc> },
    /// The probe fails.
    Failing,
    /// No reading yet.
    Waiting,
}

impl<'a> DetailsView<'a> {
    /// The details of the selection of `app`.
    pub fn of(app: &'a App) -> DetailsView<'a> {
        DetailsView {
            task: app.selected_task().map(|e| &e.task),
            // The selected task's own source: a simulated probe lends each instance its own,
            // and the readings of all of them together end with another instance's position.
            source: app.source().map(|_| {
                let own = app
                    .selected_task()
                    .and_then(|e| app.source_of(&e.task.instance));
                match own.map(|src| (src.sample(), src.error())) {
                    Some((Some(s), _)) => SourceLsn::Read {
                        lsn: s.lsn,
                        at: s.at,
                    },
                    Some((None, Some(_))) => SourceLsn::Failing,
                    _ => SourceLsn::Waiting,
                }
            }),
            now: app.now(),
            local_offset: app.config().local_offset,
        }
    }
}

/// The detail lines of the selected task for an inner width of `width`.
pub fn lines(view: &DetailsView, width: usize, theme: &Theme) -> Vec<Line<'static>> {
    let Some(t) = view.task else {
        return vec![Line::styled("no task selected", theme.dim())];
    };
    let now = view.now;
    let long = width >= 40;
    let label_w = 9;
    let row = |label: &str, value: String| -> Line<'static> {
        Line::from(vec![
            Span::styled(format!("{label:<label_w$}"), theme.dim()),
            Span::raw(truncate(&value, width.saturating_sub(label_w))),
        ])
    };
    let dash = || "—".to_string();
    let when = |v: Option<DateTime<FixedOffset>>| -> String {
        match v {
            Some(t) => {
                let utc = t.with_timezone(&Utc);
                let rel = if utc > now {
                    format!("in {}", age(utc, now))
                } else if long {
                    format!("{} ago", age(now, utc))
                } else {
                    age(now, utc)
                };
                format!("{} ({rel})", local_time(t, view.local_offset, long))
            }
            None => dash(),
        }
    };
    let s = &t.source;
    let addr = match (&s.ip, s.port) {
        (Some(ip), Some(p)) => format!("{ip}:{p}"),
        (Some(ip), None) => ip.clone(),
        (None, Some(p)) => format!("?:{p}"),
        (None, None) => dash(),
    };
    // Most useful first: short panes show only the top lines.
    let mut v = vec![
        row("Source", addr),
        row("Account", s.account.clone().unwrap_or_else(dash)),
    ];
    if t.switch_time.is_some() {
        v.push(row("Switch", when(t.switch_time)));
    }
    v.push(row("Modified", when(t.modified)));
    v.push(row("Created", when(t.created)));
    v.push(row("Category", s.category.clone().unwrap_or_else(dash)));
    if let Some(target) = &t.target_instance_name {
        v.push(row("Target", target.clone()));
        // A look-alike letter (a Cyrillic `а` in `pgm-…`) is legal text; say it is there.
        let foreign: Vec<String> = target
            .chars()
            .filter(|c| !c.is_ascii())
            .map(|c| format!("{c} U+{:04X}", c as u32))
            .collect();
        if !foreign.is_empty() {
            v.push(Line::from(vec![
                Span::styled(format!("{:<label_w$}", ""), theme.dim()),
                Span::styled(
                    truncate(
                        &format!("non-ASCII: {}", foreign.join(", ")),
                        width.saturating_sub(label_w),
                    ),
                    theme.warn(),
                ),
            ]));
        }
    }
    if let Some(r) = &t.replication {
        let lsn = |l: Option<Lsn>| l.map_or(dash(), |l| l.to_string());
        // The source's own position (with a probe), read right after this poll.
        if let Some(src) = view.source {
            let text = match src {
                SourceLsn::Read { lsn, at } => format!("{lsn} ({} ago)", age(now, at)),
                SourceLsn::Failing => "probe failing".to_string(),
                SourceLsn::Waiting => "waiting".to_string(),
            };
            v.push(row("Src LSN", text));
        }
        v.push(row("End LSN", lsn(r.latest_end_lsn)));
        v.push(row(
            "Received",
            format!(
                "{}{}",
                lsn(r.received_lsn),
                r.received_tli
                    .map_or(String::new(), |t| format!(" tli {t}"))
            ),
        ));
        v.push(row("Replayed", lsn(r.replay_lsn)));
    }
    for w in &t.decode_warnings {
        v.push(Line::styled(truncate(w, width), theme.warn()));
    }
    v
}

/// The details panel widget: the view and its theme.
#[derive(Debug, Clone)]
pub struct DetailsPanel<'a> {
    pub view: DetailsView<'a>,
    pub theme: Theme,
}

impl Widget for DetailsPanel<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let theme = &self.theme;
        let block = panel_block(Span::styled(" Details ", theme.strong()), theme, false);
        let inner = block.inner(area);
        let l = lines(&self.view, inner.width as usize, theme);
        Paragraph::new(l).block(block).render(area, buf);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ui::test_text as text;

    fn render(view: DetailsView, w: u16, h: u16) -> Buffer {
        let mut buf = Buffer::empty(Rect::new(0, 0, w, h));
        DetailsPanel {
            view,
            theme: Theme { color: false },
        }
        .render(buf.area, &mut buf);
        buf
    }

    fn view(task: Option<&Task>, source: Option<SourceLsn>) -> DetailsView<'_> {
        DetailsView {
            task,
            source,
            now: DateTime::from_timestamp(1_700_000_000, 0).unwrap(),
            local_offset: FixedOffset::east_opt(0).unwrap(),
        }
    }

    #[test]
    fn an_instance_row_has_no_task() {
        let want = Buffer::with_lines([
            "┌ Details ─────────────────────────────┐",
            "│no task selected                      │",
            "│                                      │",
            "└──────────────────────────────────────┘",
        ]);
        assert_eq!(text(&render(view(None, None), 40, 4)), text(&want));
    }

    #[test]
    fn a_short_pane_keeps_the_top_lines_and_never_the_password() {
        let item = serde_json::json!({
            "TaskId": 7,
            "MigrateStage": "increment",
            "SourceIpAddress": "10.0.0.5",
            "SourcePort": 5432,
            "SourceAccount": "repl",
            "SourcePassword": "Pa55-word-xyz",
            "ReplicationInfo": "{\"ReplayLsn\":\"0/3000000\"}",
        });
        let task = Task::from_value("pgm-1", &item).unwrap();
        let want = Buffer::with_lines([
            "┌ Details ─────────────────────────────┐",
            "│Source   10.0.0.5:5432                │",
            "│Account  repl                         │",
            "│Modified —                            │",
            "│Created  —                            │",
            "└──────────────────────────────────────┘",
        ]);
        let got = render(view(Some(&task), Some(SourceLsn::Failing)), 40, 6);
        assert_eq!(text(&got), text(&want));
    }

    #[test]
    fn a_look_alike_letter_in_the_target_is_pointed_out() {
        let item = serde_json::json!({
            "TaskId": 1,
            "MigrateStage": "increment",
            "TargetInstanceName": "pgm-\u{430}x",
        });
        let task = Task::from_value("pgm-1", &item).unwrap();
        let got = text(&render(view(Some(&task), None), 50, 12)).join("\n");
        assert!(got.contains("Target   pgm-аx"), "{got}");
        assert!(got.contains("non-ASCII: а U+0430"), "{got}");
    }
}
