//! The precheck log panel: the selected task's `Detail`, wrapped to the panel, scrolled and
//! with search matches highlighted (the text itself comes from [`crate::app::view::log_text`]).

use ratatui::buffer::Buffer;
use ratatui::layout::{Margin, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{
    Block, Paragraph, Scrollbar, ScrollbarOrientation, ScrollbarState, StatefulWidget, Widget,
};

use super::theme::Theme;
use super::{is_focused, panel_block};
use crate::app::view::log_text::{Kind, LogClock, LogRow, find_all, wrap};
use crate::app::{App, Focus, Search};
use crate::model::SeverityCounts;

/// The log panel as data: the selected task's rows wrapped to the panel, where they scroll to,
/// and the search.
#[derive(Debug, Clone)]
pub struct LogPanelView<'a> {
    /// The selected task's log, `None` on an instance row.
    pub log: Option<TaskLog>,
    pub focused: bool,
    /// Following the end of the log.
    pub follow: bool,
    /// The search being typed after `/`.
    pub input: Option<&'a str>,
    /// The last search.
    pub search: Option<&'a Search>,
}

/// The selected task's log, wrapped.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskLog {
    /// Check counts for the title.
    pub counts: SeverityCounts,
    /// The rows in view of the `Detail` wrapped to the panel's inner width.
    pub rows: Vec<LogRow>,
    /// The first row in view.
    pub top: usize,
    /// The rows of the whole log (a lower bound until all of it is wrapped: the scrollbar's
    /// length).
    pub total: usize,
    /// How its times were converted (said in the title).
    pub clock: LogClock,
}

impl<'a> LogPanelView<'a> {
    /// The log panel for the selection of `app`, drawn into `area`: the rows are wrapped to
    /// its inner width and scrolled as the state says.
    pub fn of(app: &'a App, area: Rect) -> LogPanelView<'a> {
        let inner = Block::bordered().inner(area);
        let log = app.selected_task().map(|e| {
            let (width, height) = (inner.width as usize, inner.height as usize);
            let clock = app.log_clock(&e.task);
            // Only the rows in view are wrapped (a 50 MB Detail is not wrapped for a frame).
            let w = app.log_window(width, height).unwrap_or_else(|| {
                let rows = wrap(&e.task.precheck, width, &clock);
                crate::app::LogWindow {
                    total: rows.len(),
                    rows,
                    top: 0,
                    exact: true,
                }
            });
            TaskLog {
                counts: e.task.precheck.counts,
                rows: w.rows,
                top: w.top,
                total: w.total,
                clock,
            }
        });
        LogPanelView {
            log,
            focused: is_focused(app, Focus::Log),
            follow: app.log().follow,
            input: app.log().input.as_deref(),
            search: app.log().search.as_ref(),
        }
    }
}

fn style(k: Kind, theme: &Theme) -> Style {
    match k {
        Kind::Section => theme.accent(),
        Kind::Success => theme.good(),
        Kind::Warning => theme.warn(),
        Kind::Fail => theme.bad(),
        Kind::Other => Style::default(),
        Kind::Time => theme.dim(),
        Kind::Text => Style::default(),
    }
}

/// Splits `text` around case-insensitive occurrences of `query`, found as the search finds
/// them ([`find_all`]), so every matching line shows its match.
fn highlight(text: &str, base: Style, query: &str, hl: Style) -> Vec<Span<'static>> {
    if query.is_empty() {
        return vec![Span::styled(text.to_string(), base)];
    }
    let mut out = Vec::new();
    let mut from = 0;
    for r in find_all(text, query) {
        if r.start > from {
            out.push(Span::styled(text[from..r.start].to_string(), base));
        }
        out.push(Span::styled(text[r.clone()].to_string(), hl));
        from = r.end;
    }
    if from < text.len() {
        out.push(Span::styled(text[from..].to_string(), base));
    }
    out
}

/// The log panel widget: the view and its theme.
#[derive(Debug, Clone)]
pub struct PrecheckLog<'a> {
    pub view: LogPanelView<'a>,
    pub theme: Theme,
}

impl Widget for PrecheckLog<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let theme = &self.theme;
        let v = &self.view;
        let focused = v.focused;
        let entry = v.log.as_ref();
        let mut title = vec![Span::styled(
            " Precheck log ",
            if focused {
                theme.accent()
            } else {
                theme.strong()
            },
        )];
        if let Some(e) = entry {
            let c = e.counts;
            title.push(Span::styled(
                format!("{} warn", c.warning),
                if c.warning > 0 {
                    theme.warn()
                } else {
                    theme.dim()
                },
            ));
            title.push(Span::styled(" · ", theme.dim()));
            title.push(Span::styled(
                format!("{} fail", c.fail),
                if c.fail > 0 { theme.bad() } else { theme.dim() },
            ));
            title.push(Span::raw(" "));
        }
        if v.follow {
            title.push(Span::styled("FOLLOW", theme.accent()));
            title.push(Span::raw(" "));
        }
        // Where the log's times were converted, said once at the right of the title when it fits.
        let used: usize = title.iter().map(|s| s.width()).sum::<usize>() + 3;
        let note = entry.and_then(|e| {
            [true, false]
                .into_iter()
                .filter_map(|long| e.clock.note(long))
                .map(|n| format!(" {n} "))
                .find(|n| {
                    used + unicode_width::UnicodeWidthStr::width(n.as_str()) <= area.width as usize
                })
        });
        let mut block = panel_block(Line::from(title), theme, focused);
        if let Some(n) = note {
            block = block.title(Line::styled(n, theme.dim()).right_aligned());
        }
        let query = v.search.map(|s| s.query.clone());
        if let Some(input) = v.input {
            block = block.title_bottom(Line::from(vec![
                Span::styled(" /", theme.accent()),
                Span::raw(input.to_string()),
                Span::styled("█ ", theme.dim()),
            ]));
        } else if let Some(s) = v.search {
            let pos = match (s.current, s.matches.len()) {
                (_, 0) => "no match".to_string(),
                (Some(c), n) => format!("{}/{n}", c + 1),
                (None, n) => format!("{n} matches"),
            };
            block = block.title_bottom(Line::from(vec![
                Span::styled(format!(" /{} ", s.query), theme.accent()),
                Span::styled(format!("{pos} "), theme.dim()),
            ]));
        }
        let inner = block.inner(area);
        let Some(entry) = entry else {
            Paragraph::new("").block(block).render(area, buf);
            return;
        };
        let rows = &entry.rows;
        if rows.is_empty() && entry.total == 0 {
            Paragraph::new(Line::styled(" no Detail yet", theme.dim()))
                .block(block)
                .render(area, buf);
            return;
        }
        let h = inner.height as usize;
        let top = entry.top;
        // `matches[c]` as the state keeps it; a stale index shows no current match.
        let current_line = v
            .search
            .and_then(|s| s.current.and_then(|c| s.matches.get(c).copied()));
        let matched: &[usize] = v.search.map_or(&[], |s| &s.matches);
        let lines: Vec<Line> = rows
            .iter()
            .take(h)
            .map(|r| {
                // Matches are in line order: a binary search, not a scan per row.
                let is_match = matched.binary_search(&r.line).is_ok();
                let hl = if Some(r.line) == current_line {
                    theme
                        .matched()
                        .add_modifier(Modifier::BOLD | Modifier::UNDERLINED)
                } else {
                    theme.matched()
                };
                let spans: Vec<Span> = r
                    .segs
                    .iter()
                    .flat_map(|(s, k)| match (&query, is_match) {
                        (Some(q), true) => highlight(s, style(*k, theme), q, hl),
                        _ => vec![Span::styled(s.clone(), style(*k, theme))],
                    })
                    .collect();
                Line::from(spans)
            })
            .collect();
        Paragraph::new(lines).block(block).render(area, buf);
        if entry.total > h {
            let mut state = ScrollbarState::new(entry.total.saturating_sub(h) + 1).position(top);
            Scrollbar::new(ScrollbarOrientation::VerticalRight)
                .begin_symbol(None)
                .end_symbol(None)
                .render(
                    area.inner(Margin {
                        vertical: 1,
                        horizontal: 0,
                    }),
                    buf,
                    &mut state,
                );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{DetailZone, Precheck};
    use crate::ui::test_text;
    use chrono::FixedOffset;

    fn render(width: u16, assumed: bool, local_hours: i32) -> Vec<String> {
        let p = Precheck::parse(
            "[Start RDS instance]\n2022-02-25 17:00:29 --- Start RDS instance as slave\n",
        );
        let clock = LogClock {
            zone: DetailZone {
                offset: FixedOffset::east_opt(8 * 3600).unwrap(),
                assumed,
            },
            local: FixedOffset::east_opt(local_hours * 3600).unwrap(),
        };
        let view = LogPanelView {
            log: Some(TaskLog {
                counts: p.counts,
                rows: wrap(&p, width as usize - 2, &clock),
                top: 0,
                total: 2,
                clock,
            }),
            focused: false,
            follow: false,
            input: None,
            search: None,
        };
        let mut buf = Buffer::empty(Rect::new(0, 0, width, 4));
        PrecheckLog {
            view,
            theme: Theme { color: false },
        }
        .render(buf.area, &mut buf);
        test_text(&buf)
    }

    #[test]
    fn times_are_local_and_the_title_says_from_which_zone() {
        assert_eq!(
            render(74, true, 0),
            [
                "┌ Precheck log 0 warn · 0 fail ───────────── times +08 (assumed) → local ┐",
                "│[Start RDS instance]                                                    │",
                "│  02-25 09:00:29 Start RDS instance as slave                            │",
                "└────────────────────────────────────────────────────────────────────────┘",
            ]
        );
        // Narrower: the short note; narrower still: none rather than a garbled title.
        assert_eq!(
            render(48, false, 0)[0],
            "┌ Precheck log 0 warn · 0 fail ─── +08 → local ┐"
        );
        assert_eq!(
            render(40, false, 0)[0],
            "┌ Precheck log 0 warn · 0 fail ────────┐"
        );
        // Local time is the log's zone: nothing converted, nothing to say.
        let same = render(48, true, 8);
        assert_eq!(same[0], "┌ Precheck log 0 warn · 0 fail ────────────────┐");
        assert!(same[2].contains("02-25 17:00:29"), "{}", same[2]);
    }

    const LONG: &str = "[Check rds empty]\nCheck rds databases: success\n[Check source glibc version]\nCheck source glibc version compatible: warning(warning:glibc too old)\n[Check disk size]\nCheck disk size enough: success\n[Check wal keep size]\nCheck wal keep size large enough: fail(too small)\n";

    /// `LONG` in a `w`×`h` panel from row `top`, with `search` and `input`.
    fn panel(w: u16, h: u16, top: usize, search: Option<&Search>, input: Option<&str>) -> Buffer {
        let p = Precheck::parse(LONG);
        let clock = LogClock {
            zone: DetailZone {
                offset: FixedOffset::east_opt(0).unwrap(),
                assumed: false,
            },
            local: FixedOffset::east_opt(0).unwrap(),
        };
        let view = LogPanelView {
            log: Some({
                // The panel gets the rows in view, as the app's log window gives them.
                let all = wrap(&p, w as usize - 2, &clock);
                TaskLog {
                    counts: p.counts,
                    total: all.len(),
                    rows: all[top.min(all.len())..].to_vec(),
                    top,
                    clock,
                }
            }),
            focused: true,
            follow: false,
            input,
            search,
        };
        let mut buf = Buffer::empty(Rect::new(0, 0, w, h));
        PrecheckLog {
            view,
            theme: Theme { color: false },
        }
        .render(buf.area, &mut buf);
        buf
    }

    #[test]
    fn a_scrolled_log_with_a_search_shows_the_match_and_the_scrollbar() {
        let search = Search {
            query: "glibc".into(),
            matches: vec![2, 3],
            current: Some(1),
        };
        let buf = panel(40, 7, 2, Some(&search), None);
        let want = Buffer::with_lines([
            "┌ Precheck log 1 warn · 1 fail ────────┐",
            "│[Check source glibc version]          ║",
            "│  ! Check source glibc version        █",
            "│    compatible: warning — glibc too   █",
            "│    old                               ║",
            "│[Check disk size]                     ║",
            "└ /glibc 2/2 ──────────────────────────┘",
        ]);
        assert_eq!(test_text(&buf), test_text(&want));
        // Every match is marked; the current one (line 3, both of its rows) also underlined.
        let at = |row: u16| {
            let line = &test_text(&buf)[row as usize];
            let x = line[..line.find("glibc").unwrap()].chars().count();
            buf[(x as u16, row)].modifier
        };
        assert!(at(1).contains(Modifier::REVERSED));
        assert!(!at(1).contains(Modifier::UNDERLINED));
        assert!(at(2).contains(Modifier::REVERSED | Modifier::UNDERLINED));
        assert!(at(3).contains(Modifier::REVERSED | Modifier::UNDERLINED));
    }

    #[test]
    fn the_search_being_typed_is_in_the_bottom_border() {
        let want = Buffer::with_lines([
            "┌ Precheck log 1 warn · 1 fail ────────┐",
            "│[Check rds empty]                     █",
            "│  ✓ Check rds databases: success      ║",
            "│[Check source glibc version]          ║",
            "└ /wal█ ───────────────────────────────┘",
        ]);
        let buf = panel(40, 5, 0, None, Some("wal"));
        assert_eq!(test_text(&buf), test_text(&want));
    }

    #[test]
    fn highlight_is_case_insensitive() {
        let s = highlight(
            "Check GLIBC here",
            Style::default(),
            "glibc",
            Style::default().add_modifier(Modifier::BOLD),
        );
        assert_eq!(s.len(), 3);
        assert_eq!(s[1].content, "GLIBC");
    }

    #[test]
    fn highlight_folds_case_beyond_ascii() {
        // The search matches `ÜBERSICHT` for `übersicht`: the highlight must find it too.
        let hl = Style::default().add_modifier(Modifier::BOLD);
        let s = highlight("CHECK ÜBERSICHT: ok", Style::default(), "übersicht", hl);
        let lit: Vec<_> = s.iter().filter(|s| s.style == hl).collect();
        assert_eq!(lit.len(), 1);
        assert_eq!(lit[0].content, "ÜBERSICHT");
    }
}
