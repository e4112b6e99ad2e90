//! The precheck log panel: the selected task's `Detail`, wrapped to the panel, scrolled and
//! with search matches highlighted (the text itself comes from [`crate::view::log_text`]).

use ratatui::Frame;
use ratatui::layout::{Margin, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Scrollbar, ScrollbarOrientation, ScrollbarState};

use super::theme::Theme;
use super::{is_focused, panel_block};
use crate::app::{App, Focus};
use crate::view::log_text::{Kind, find_all, wrap};

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
    let rows = app
        .wrapped_log(inner.width as usize)
        .unwrap_or_else(|| std::sync::Arc::new(wrap(&entry.task.precheck, inner.width as usize)));
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
