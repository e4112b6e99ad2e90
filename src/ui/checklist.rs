//! The source checklist overlay (`c`): every item the checklist found on the selected task's
//! source, grouped by severity, and when it was read.

use chrono::{DateTime, Utc};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph, Widget, Wrap};

use super::theme::Theme;
use super::{centered, panel_block};
use crate::app::App;
use crate::probe::Checklist;
use crate::probe::checklist::Severity;
use crate::util::units;

/// The overlay as data.
#[derive(Debug, Clone, PartialEq)]
pub struct ChecklistView {
    /// The instance whose source it is (of the selected row), if any.
    pub instance: Option<String>,
    /// Whether a source probe is configured at all.
    pub probed: bool,
    pub checklist: Option<Checklist>,
    pub now: DateTime<Utc>,
}

impl ChecklistView {
    /// The checklist of the selected row's source.
    pub fn of(app: &App) -> ChecklistView {
        let instance = app.selected_instance().map(|i| i.name.clone());
        ChecklistView {
            checklist: instance
                .as_deref()
                .and_then(|i| app.checklist_for(i))
                .cloned(),
            instance,
            probed: app.source().is_some(),
            now: app.now(),
        }
    }

    /// The lines of the overlay.
    pub fn lines(&self, theme: &Theme) -> Vec<Line<'static>> {
        let mut out = Vec::new();
        let Some(c) = &self.checklist else {
            out.push(Line::styled(
                if self.probed {
                    "Not read yet: the checklist is read with the first reading of the source."
                } else {
                    "No source probe: the checklist needs --source-dsn."
                },
                theme.warn(),
            ));
            out.push(Line::default());
            out.push(Line::styled("Esc closes", theme.dim()));
            return out;
        };
        let age = (self.now - c.at).to_std().unwrap_or_default();
        out.push(Line::from(format!(
            "Read {} ago{} in {} database{}: {}",
            units::duration(age),
            if c.simulated { " (simulated)" } else { "" },
            c.databases.len(),
            if c.databases.len() == 1 { "" } else { "s" },
            c.databases.join(", ")
        )));
        if c.items.is_empty() {
            out.push(Line::styled(
                "Nothing found: no unlogged data, logical slot, subscription, prepared \
                 transaction or session holding an xid.",
                theme.good(),
            ));
        }
        for severity in Severity::ALL {
            let items: Vec<_> = c.of(severity).collect();
            if items.is_empty() {
                continue;
            }
            let (style, why) = match severity {
                Severity::LosesData => (theme.bad(), "RDS will not have it"),
                Severity::BreaksConsumers => (theme.warn(), "not carried to RDS"),
                Severity::BlocksDrained => (theme.dim(), "DRAINED waits for them"),
            };
            out.push(Line::default());
            out.push(Line::from(vec![
                Span::styled(format!("{} ({})", severity.label(), items.len()), style),
                Span::styled(format!("  {why}"), theme.dim()),
            ]));
            for i in items {
                out.push(Line::from(vec![
                    Span::styled("• ", style),
                    Span::raw(i.to_string()),
                ]));
            }
        }
        out.push(Line::default());
        out.push(Line::styled("Esc closes", theme.dim()));
        out
    }
}

/// The overlay widget, centred in the area it is given.
#[derive(Debug, Clone)]
pub struct ChecklistOverlay {
    pub view: ChecklistView,
    pub theme: Theme,
}

impl Widget for ChecklistOverlay {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let lines = self.view.lines(&self.theme);
        let w = area.width.saturating_sub(4).min(100);
        let inner_w = w.saturating_sub(2).max(1) as usize;
        let rows: usize = lines
            .iter()
            .map(|l| l.width().div_ceil(inner_w).max(1))
            .sum();
        let h = (rows as u16).saturating_add(2).min(area.height);
        let rect = centered(area, w, h);
        Clear.render(rect, buf);
        let title = match &self.view.instance {
            Some(i) => format!(" Source checklist · {i} "),
            None => " Source checklist ".to_string(),
        };
        Paragraph::new(lines)
            .block(panel_block(title, &self.theme, true))
            .wrap(Wrap { trim: false })
            .render(rect, buf);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::checklist::{Finding, RelKind};
    use crate::ui::test_text as text;

    fn t(s: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000 + s, 0).unwrap()
    }

    fn render(view: ChecklistView, w: u16, h: u16) -> Buffer {
        let mut buf = Buffer::empty(Rect::new(0, 0, w, h));
        ChecklistOverlay {
            view,
            theme: Theme { color: false },
        }
        .render(buf.area, &mut buf);
        buf
    }

    #[test]
    fn items_by_severity() {
        let c = Checklist::new(
            t(0),
            vec!["postgres".into()],
            vec![
                Finding::LogicalSlot {
                    name: "cdc".into(),
                    plugin: Some("pgoutput".into()),
                    database: None,
                    active: false,
                },
                Finding::Unlogged {
                    database: "postgres".into(),
                    schema: "public".into(),
                    name: "t".into(),
                    relkind: RelKind::Table,
                    bytes: 8192,
                    rows: Some(3),
                },
            ],
        );
        let view = ChecklistView {
            instance: Some("pgm-1".into()),
            probed: true,
            checklist: Some(c),
            now: t(12),
        };
        let got = text(&render(view, 60, 14)).join("\n");
        assert!(got.contains("Source checklist · pgm-1"), "{got}");
        assert!(
            got.contains("Read 12s ago in 1 database: postgres"),
            "{got}"
        );
        let loses = got.find("loses data (1)").expect("loses data first");
        let breaks = got.find("breaks consumers (1)").expect(&got);
        assert!(loses < breaks, "{got}");
    }

    #[test]
    fn without_a_probe_it_says_what_is_needed() {
        let view = ChecklistView {
            instance: None,
            probed: false,
            checklist: None,
            now: t(0),
        };
        let got = text(&render(view, 60, 8)).join("\n");
        assert!(got.contains("needs --source-dsn"), "{got}");
    }
}
