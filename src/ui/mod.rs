//! Drawing: a pure function of [`App`], no I/O. Every panel is a `Widget` over a view type
//! built from the state here (each view's `of`, the only code below this module that reads
//! `App`); the layout and the log's text come from [`crate::app::view`].

pub mod checklist;
pub mod details;
pub mod footer;
pub mod header;
pub mod help;
pub mod lag_gauge;
pub mod precheck_log;
pub mod replay_bar;
pub mod stage_bar;
pub mod switchover;
pub mod task_list;
pub mod theme;
pub mod verdict;

use std::time::Duration;

use chrono::{DateTime, FixedOffset, Utc};
use ratatui::Frame;
use ratatui::layout::{Alignment, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Wrap};

use crate::app::view::layout;
use crate::app::{App, Focus, Overlay};
use crate::util::units;
use theme::Theme;

/// Draws the whole screen for `app`.
pub fn draw(frame: &mut Frame, app: &App) {
    let area = frame.area();
    let theme = Theme {
        color: app.config().color,
    };
    let l = layout::compute(area, &app.layout_input(area.width));
    if l.too_small {
        draw_too_small(frame, area, &theme);
        return;
    }
    frame.render_widget(
        header::Header {
            view: header::HeaderView::of(app),
            theme,
        },
        l.header,
    );
    frame.render_widget(
        task_list::TaskList {
            view: task_list::TaskListView::of(app),
            theme,
        },
        l.tasks,
    );
    frame.render_widget(
        stage_bar::StageBarWidget {
            bar: stage_bar::StageBar::of(app),
            theme,
        },
        l.stage,
    );
    frame.render_widget(
        lag_gauge::LagGauge {
            view: lag_gauge::LagView::of(app),
            theme,
        },
        l.lag,
    );
    frame.render_widget(
        verdict::VerdictPanel {
            view: verdict::VerdictView::of(app),
            theme,
        },
        l.verdict,
    );
    if let Some(r) = l.log {
        frame.render_widget(
            precheck_log::PrecheckLog {
                view: precheck_log::LogPanelView::of(app, r),
                theme,
            },
            r,
        );
    }
    if let Some(r) = l.details {
        frame.render_widget(
            details::DetailsPanel {
                view: details::DetailsView::of(app),
                theme,
            },
            r,
        );
    }
    frame.render_widget(footer::Footer::of(app, theme), l.footer);
    match &app.overlay() {
        Some(Overlay::Help) => frame.render_widget(
            help::HelpOverlay {
                view: help::HelpView::of(app),
                theme,
            },
            area,
        ),
        Some(Overlay::Notice { title, text }) => draw_notice(frame, area, title, text, &theme),
        Some(Overlay::Switchover(d)) => frame.render_widget(
            switchover::SwitchoverDialog {
                view: switchover::SwitchoverView::of(app, d),
                theme,
            },
            area,
        ),
        Some(Overlay::Checklist) => frame.render_widget(
            checklist::ChecklistOverlay {
                view: checklist::ChecklistView::of(app),
                theme,
            },
            area,
        ),
        None => {}
    }
}

fn draw_too_small(frame: &mut Frame, area: Rect, theme: &Theme) {
    let lines = vec![
        Line::styled("Enlarge the pane", theme.warn()),
        Line::from(format!(
            "migtop needs at least {}x{}; this one is {}x{}.",
            layout::MIN_WIDTH,
            layout::MIN_HEIGHT,
            area.width,
            area.height
        )),
        Line::styled("q quits", theme.dim()),
    ];
    let h = (lines.len() as u16 + 2).min(area.height);
    let y = area.y + area.height.saturating_sub(h) / 2;
    let r = Rect::new(area.x, y, area.width, h);
    frame.render_widget(
        Paragraph::new(lines)
            .alignment(Alignment::Center)
            .wrap(Wrap { trim: true }),
        r,
    );
}

fn draw_notice(frame: &mut Frame, area: Rect, title: &str, text: &str, theme: &Theme) {
    let w = area.width.saturating_sub(4).min(64);
    let inner_w = w.saturating_sub(2).max(1) as usize;
    let text_rows = text.chars().count().div_ceil(inner_w).max(1) as u16 + 1;
    let r = centered(area, w, (text_rows + 4).min(area.height));
    frame.render_widget(Clear, r);
    let block = panel_block(format!(" {title} "), theme, true);
    let lines = vec![
        Line::from(text.to_string()),
        Line::default(),
        Line::styled("Esc closes", theme.dim()),
    ];
    frame.render_widget(
        Paragraph::new(lines).block(block).wrap(Wrap { trim: true }),
        r,
    );
}

/// A bordered panel with a title; the focused one has an accented border.
pub fn panel_block<'a>(title: impl Into<Line<'a>>, theme: &Theme, focused: bool) -> Block<'a> {
    let b = Block::bordered().title(title);
    if focused {
        b.border_style(theme.focus_border())
    } else {
        b
    }
}

/// Whether `focus` is the focused panel and no overlay hides it.
pub fn is_focused(app: &App, focus: Focus) -> bool {
    app.focus() == focus && app.overlay().is_none()
}

/// A `w`×`h` rectangle centred in `area`.
pub fn centered(area: Rect, w: u16, h: u16) -> Rect {
    let w = w.min(area.width);
    let h = h.min(area.height);
    Rect::new(
        area.x + (area.width - w) / 2,
        area.y + (area.height - h) / 2,
        w,
        h,
    )
}

/// The age of `t` at `now`, e.g. `12s`; `0s` for the future.
pub fn age(now: DateTime<Utc>, t: DateTime<Utc>) -> String {
    units::duration((now - t).to_std().unwrap_or(Duration::ZERO))
}

/// `t` in the session's local offset; `long` adds the year and seconds.
pub fn local_time(t: DateTime<FixedOffset>, offset: FixedOffset, long: bool) -> String {
    let l = t.with_timezone(&offset);
    if long {
        l.format("%Y-%m-%d %H:%M:%S").to_string()
    } else {
        l.format("%m-%d %H:%M").to_string()
    }
}

/// Truncates to `max` display columns with an ellipsis.
pub fn truncate(s: &str, max: usize) -> String {
    use unicode_width::UnicodeWidthChar;
    let total: usize = s.chars().map(|c| c.width().unwrap_or(0)).sum();
    if total <= max {
        return s.to_string();
    }
    let mut out = String::new();
    let mut w = 0;
    for c in s.chars() {
        let cw = c.width().unwrap_or(0);
        if w + cw + 1 > max {
            break;
        }
        out.push(c);
        w += cw;
    }
    if max > 0 {
        out.push('…');
    }
    out
}

/// Shortens to `max` columns by cutting the middle, keeping both ends (instance ids differ at
/// their ends: `pgm-bp1demo00erp01` → `pgm-bp1…0erp01`).
pub fn mid_truncate(s: &str, max: usize) -> String {
    let chars: Vec<char> = s.chars().collect();
    if chars.len() <= max || max < 5 {
        return truncate(s, max);
    }
    let tail = (max - 1) / 2;
    let head = max - 1 - tail;
    let mut out: String = chars[..head].iter().collect();
    out.push('…');
    out.extend(&chars[chars.len() - tail..]);
    out
}

/// Keeps spans from the left while they fit in `max` columns, truncating the one that does not.
pub fn fit_spans(spans: Vec<Span<'static>>, max: usize) -> Vec<Span<'static>> {
    let mut out = Vec::new();
    let mut used = 0;
    for s in spans {
        let w = s.width();
        if used + w <= max {
            used += w;
            out.push(s);
        } else {
            let room = max - used;
            if room > 1 {
                out.push(Span::styled(truncate(&s.content, room), s.style));
            }
            break;
        }
    }
    out
}

/// A buffer's text, styles aside, one string per row (for the panels' `Buffer::with_lines` tests).
#[cfg(test)]
pub(crate) fn test_text(buf: &ratatui::buffer::Buffer) -> Vec<String> {
    (0..buf.area.height)
        .map(|y| (0..buf.area.width).map(|x| buf[(x, y)].symbol()).collect())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncation_keeps_what_matters() {
        assert_eq!(truncate("abcdef", 10), "abcdef");
        assert_eq!(truncate("abcdef", 4), "abc…");
        assert_eq!(mid_truncate("pgm-bp1demo00erp01", 14), "pgm-bp1…0erp01");
        assert_eq!(mid_truncate("pgm-bp1demo00erp01", 13), "pgm-bp…0erp01");
        assert_eq!(mid_truncate("short", 14), "short");
        assert_eq!(mid_truncate("abcdefgh", 4), "abc…");
    }
}
