//! The precheck log: the parsed `Detail`, wrapped to the panel, scrollable and searchable.

use ratatui::Frame;
use ratatui::layout::{Margin, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Scrollbar, ScrollbarOrientation, ScrollbarState};
use unicode_width::UnicodeWidthStr;

use super::theme::Theme;
use super::{is_focused, panel_block};
use crate::app::{App, Focus};
use crate::model::{DetailLine, Precheck, Severity};

/// What a piece of log text is, for its style.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Section,
    Success,
    Warning,
    Fail,
    Other,
    Time,
    Text,
}

/// One display row of the wrapped log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogRow {
    /// The logical `Detail` line this row belongs to.
    pub line: usize,
    pub segs: Vec<(String, Kind)>,
}

impl LogRow {
    /// The row's text.
    pub fn text(&self) -> String {
        self.segs.iter().map(|(s, _)| s.as_str()).collect()
    }
}

fn severity_kind(s: Severity) -> Kind {
    match s {
        Severity::Success => Kind::Success,
        Severity::Warning => Kind::Warning,
        Severity::Fail => Kind::Fail,
        Severity::Other => Kind::Other,
    }
}

/// A log line as styled pieces (unwrapped).
pub fn segments(l: &DetailLine) -> Vec<(String, Kind)> {
    match l {
        DetailLine::Section(s) => vec![(format!("[{s}]"), Kind::Section)],
        DetailLine::Check {
            name,
            severity,
            status,
            message,
        } => {
            let k = severity_kind(*severity);
            let sym = match severity {
                Severity::Success => "✓",
                Severity::Warning => "!",
                Severity::Fail => "✗",
                Severity::Other => "?",
            };
            let mut v = vec![
                (format!("  {sym} "), k),
                (name.clone(), Kind::Text),
                (": ".into(), Kind::Text),
                (status.clone(), k),
            ];
            if let Some(m) = message {
                v.push((format!(" — {m}"), k));
            }
            v
        }
        DetailLine::Progress { time, text } => {
            let stamp = time.map_or("---".to_string(), |t| {
                t.format("%m-%d %H:%M:%S").to_string()
            });
            vec![
                ("  ".into(), Kind::Text),
                (stamp, Kind::Time),
                (format!(" {text}"), Kind::Text),
            ]
        }
        DetailLine::Text(s) => vec![(format!("  {s}"), Kind::Text)],
    }
}

/// The text of a log line as shown, for searching.
pub fn line_text(l: &DetailLine) -> String {
    segments(l).into_iter().map(|(s, _)| s).collect()
}

/// Splits pieces into words and single spaces, keeping each piece's kind.
fn tokens(segs: Vec<(String, Kind)>) -> Vec<(String, Kind)> {
    let mut out = Vec::new();
    for (s, k) in segs {
        let mut word = String::new();
        for c in s.chars() {
            if c == ' ' {
                if !word.is_empty() {
                    out.push((std::mem::take(&mut word), k));
                }
                out.push((" ".into(), k));
            } else {
                word.push(c);
            }
        }
        if !word.is_empty() {
            out.push((word, k));
        }
    }
    out
}

fn push_merged(segs: &mut Vec<(String, Kind)>, s: &str, k: Kind) {
    match segs.last_mut() {
        Some((last, lk)) if *lk == k => last.push_str(s),
        _ => segs.push((s.to_string(), k)),
    }
}

/// Drops the spaces a row ends with (where it was broken).
fn finish(mut segs: Vec<(String, Kind)>) -> Vec<(String, Kind)> {
    loop {
        let n = segs.len();
        let Some((last, _)) = segs.last_mut() else {
            break;
        };
        let trimmed = last.trim_end_matches(' ').len();
        if trimmed == 0 && n > 1 {
            segs.pop();
        } else {
            last.truncate(trimmed);
            break;
        }
    }
    segs
}

/// Wraps the log to `width` columns; continuation rows are indented.
pub fn wrap(p: &Precheck, width: usize) -> Vec<LogRow> {
    let width = width.max(8);
    let indent = 4.min(width / 4);
    let mut rows = Vec::new();
    for (i, l) in p.lines.iter().enumerate() {
        let mut cur: Vec<(String, Kind)> = Vec::new();
        let mut cur_w = 0;
        let mut fresh = true; // nothing but indentation on the current row
        for (tok, k) in tokens(segments(l)) {
            let w = tok.width();
            if tok == " " && cur_w + 1 > width {
                continue;
            }
            if cur_w + w > width && !fresh {
                rows.push(LogRow {
                    line: i,
                    segs: finish(std::mem::take(&mut cur)),
                });
                cur.push((" ".repeat(indent), Kind::Text));
                cur_w = indent;
                fresh = true;
                if tok == " " {
                    continue;
                }
            }
            if cur_w + w > width {
                // A word longer than the row: break it anywhere.
                for c in tok.chars() {
                    let cw = c.to_string().width();
                    if cur_w + cw > width {
                        rows.push(LogRow {
                            line: i,
                            segs: finish(std::mem::take(&mut cur)),
                        });
                        cur.push((" ".repeat(indent), Kind::Text));
                        cur_w = indent;
                    }
                    push_merged(&mut cur, &c.to_string(), k);
                    cur_w += cw;
                }
                fresh = false;
                continue;
            }
            push_merged(&mut cur, &tok, k);
            cur_w += w;
            if tok != " " {
                fresh = false;
            }
        }
        rows.push(LogRow {
            line: i,
            segs: finish(cur),
        });
    }
    rows
}

/// The display row to open the log at: the section heading of the first warning or failure
/// (`None` when every check passed).
pub fn first_problem_row(p: &Precheck, rows: &[LogRow]) -> Option<usize> {
    let problem = p.lines.iter().position(|l| {
        matches!(
            l,
            DetailLine::Check {
                severity: Severity::Warning | Severity::Fail,
                ..
            }
        )
    })?;
    let heading = p.lines[..problem]
        .iter()
        .rposition(|l| matches!(l, DetailLine::Section(_)))
        .filter(|h| problem - h <= 3)
        .unwrap_or(problem);
    rows.iter().position(|r| r.line == heading)
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

/// Splits `text` around case-insensitive occurrences of `query` (ASCII case folding, so byte
/// offsets stay valid).
fn highlight(text: &str, base: Style, query: &str, hl: Style) -> Vec<Span<'static>> {
    if query.is_empty() {
        return vec![Span::styled(text.to_string(), base)];
    }
    let lower = text.to_ascii_lowercase();
    let q = query.to_ascii_lowercase();
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(pos) = lower[from..].find(&q) {
        let at = from + pos;
        if !text.is_char_boundary(at) || !text.is_char_boundary(at + q.len()) {
            break;
        }
        if at > from {
            out.push(Span::styled(text[from..at].to_string(), base));
        }
        out.push(Span::styled(text[at..at + q.len()].to_string(), hl));
        from = at + q.len();
    }
    if from < text.len() {
        out.push(Span::styled(text[from..].to_string(), base));
    }
    out
}

/// Draws the selected task's log into `area`.
pub fn draw(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let focused = is_focused(app, Focus::Log);
    let entry = app.selected_task();
    let mut title = vec![Span::styled(
        " Precheck log ",
        if focused {
            theme.accent()
        } else {
            theme.strong()
        },
    )];
    if let Some(e) = entry {
        let c = e.task.precheck.counts;
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
    if app.log.follow {
        title.push(Span::styled("FOLLOW", theme.accent()));
        title.push(Span::raw(" "));
    }
    let mut block = panel_block(Line::from(title), theme, focused);
    let query = app.log.search.as_ref().map(|s| s.query.clone());
    if let Some(input) = &app.log.input {
        block = block.title_bottom(Line::from(vec![
            Span::styled(" /", theme.accent()),
            Span::raw(input.clone()),
            Span::styled("█ ", theme.dim()),
        ]));
    } else if let Some(s) = &app.log.search {
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
        frame.render_widget(Paragraph::new("").block(block), area);
        return;
    };
    let rows = wrap(&entry.task.precheck, inner.width as usize);
    if rows.is_empty() {
        frame.render_widget(
            Paragraph::new(Line::styled(" no Detail yet", theme.dim())).block(block),
            area,
        );
        return;
    }
    let h = inner.height as usize;
    let top = app.log_scroll(&rows, h);
    let current_line = app
        .log
        .search
        .as_ref()
        .and_then(|s| s.current.map(|c| s.matches[c]));
    let matched: &[usize] = app.log.search.as_ref().map_or(&[], |s| &s.matches);
    let lines: Vec<Line> = rows
        .iter()
        .skip(top)
        .take(h)
        .map(|r| {
            let is_match = matched.contains(&r.line);
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
    frame.render_widget(Paragraph::new(lines).block(block), area);
    if rows.len() > h {
        let mut state = ScrollbarState::new(rows.len().saturating_sub(h) + 1).position(top);
        frame.render_stateful_widget(
            Scrollbar::new(ScrollbarOrientation::VerticalRight)
                .begin_symbol(None)
                .end_symbol(None),
            area.inner(Margin {
                vertical: 1,
                horizontal: 0,
            }),
            &mut state,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_long_lines_with_an_indent() {
        let p = Precheck::parse(
            "[Check source glibc version]\nCheck source glibc version compatible: warning(warning:source glibc version is not compatible with rds pg)\n",
        );
        let rows = wrap(&p, 30);
        let texts: Vec<String> = rows.iter().map(|r| r.text()).collect();
        assert_eq!(
            texts,
            vec![
                "[Check source glibc version]",
                "  ! Check source glibc version",
                "    compatible: warning —",
                "    source glibc version is",
                "    not compatible with rds pg",
            ]
        );
        assert!(rows.iter().skip(1).all(|r| r.line == 1));
        assert!(texts.iter().all(|t| t.width() <= 30));
    }

    #[test]
    fn very_long_words_are_broken() {
        let p = Precheck::parse(&"x".repeat(50));
        let rows = wrap(&p, 20);
        assert!(rows.iter().all(|r| r.text().width() <= 20));
        assert_eq!(
            rows.iter().map(|r| r.text().trim().len()).sum::<usize>(),
            50
        );
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
}
