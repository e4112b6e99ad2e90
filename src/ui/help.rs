//! The help overlay: every key.

use std::time::Duration;

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Padding, Paragraph, Widget, Wrap};

use super::theme::Theme;
use super::{centered, panel_block};
use crate::app::App;
use crate::util::units;

/// Every key and what it does.
pub const KEYS: &[(&str, &str)] = &[
    (
        "↑/↓  j/k",
        "select a task (scroll the log when it has focus)",
    ),
    ("g/G", "first / last task (top / bottom of the log)"),
    ("Tab", "switch focus between tasks and log"),
    ("PgUp/PgDn", "scroll the log a page"),
    ("Ctrl-u/Ctrl-d", "scroll the log half a page"),
    ("/", "search the log; Enter finds, Esc cancels"),
    ("n/N", "next / previous match"),
    ("f", "follow the end of the log as it grows"),
    ("r", "poll now"),
    ("p  Space", "pause / resume polling"),
    ("+/-", "poll less / more often"),
    ("S", "switchover (--allow-switchover) · c: source checklist"),
    ("? F1", "this help (↑↓ PgUp/PgDn scroll it)"),
    ("Esc", "close overlays, clear the search"),
    ("q F10 Ctrl-C", "quit"),
];

/// The keys `migtop lab` adds.
pub const LAB_KEYS: &[(&str, &str)] = &[
    ("F", "lab: freeze / thaw the link (no WAL sent, still up)"),
    ("C", "lab: cut / restore the link"),
    (
        "U",
        "lab: drop the unlogged tables and slot, commit the prepared xact",
    ),
    ("P", "lab: pause / resume replay on the standby"),
];

/// The keys of `migtop replay`, in place of the live keys that talk to the API ([`LIVE_ONLY`]).
pub const REPLAY_KEYS: &[(&str, &str)] = &[
    (
        "Space p",
        "replay: play / pause (at the end: from the start)",
    ),
    ("←/→  h/l", "replay: one poll back / forward"),
    (
        "[ / ]",
        "replay: previous / next change of stage, state or verdict",
    ),
    ("+/-", "replay: faster / slower"),
];

/// The keys of [`KEYS`] that a replay has no use for: nothing is polled or sent.
const LIVE_ONLY: &[&str] = &["r", "p  Space", "+/-", "S"];

/// The help overlay as data: the readiness thresholds it explains.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HelpView {
    /// The lab's keys are on (`migtop lab`).
    pub lab_keys: bool,
    /// A recording is replayed (`migtop replay`): its keys instead of the live ones.
    pub replay: bool,
    /// `--max-lag`.
    pub max_lag: u64,
    /// How long IN SYNC must hold.
    pub stable_for: Duration,
    /// Rows scrolled down (clamped to what there is to scroll).
    pub scroll: u16,
}

impl HelpView {
    /// The help for the configuration of `app`.
    pub fn of(app: &App) -> HelpView {
        HelpView {
            lab_keys: app.config().lab_keys,
            replay: app.config().command == "replay",
            max_lag: app.config().readiness.max_lag,
            stable_for: app.config().readiness.stable_for,
            scroll: app.help_scroll(),
        }
    }
}

/// The help overlay widget: the view and its theme, drawn centred in the area it is given.
#[derive(Debug, Clone)]
pub struct HelpOverlay {
    pub view: HelpView,
    pub theme: Theme,
}

impl Widget for HelpOverlay {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let theme = &self.theme;
        let lab: &[(&str, &str)] = if self.view.lab_keys { LAB_KEYS } else { &[] };
        let replay = self.view.replay;
        let own: &[(&str, &str)] = if replay { REPLAY_KEYS } else { &[] };
        let mut lines: Vec<Line> = own
            .iter()
            .chain(
                KEYS.iter()
                    .filter(|(k, _)| !(replay && LIVE_ONLY.contains(k))),
            )
            .chain(lab)
            .map(|(k, d)| {
                Line::from(vec![
                    Span::styled(format!("{k:<14}"), theme.strong()),
                    Span::raw(d.to_string()),
                ])
            })
            .collect();
        let r = &self.view;
        lines.push(Line::default());
        let stable = units::duration(r.stable_for);
        let readiness = [
            format!(
                "IN SYNC: increment, streaming, Synced, link alive, no failed precheck, \
                 lag ≤ {} for {stable}.",
                units::bytes(r.max_lag),
            ),
            format!(
                "DRAINED (needs --source-dsn): for {stable} the source's next xid unchanged \
                 and no writing transaction open; replayed up to the source's position. \
                 Without --source-dsn the best is IN SYNC."
            ),
            "Lag ≥ X: a lower bound (not streaming, or the link silent); no ETA.".to_string(),
        ];
        lines.extend(
            readiness
                .into_iter()
                .map(|text| Line::styled(text, theme.dim())),
        );
        // A column of padding each side, so wrapped lines keep the same left edge.
        let w = 74.min(area.width.saturating_sub(2));
        let inner_w = w.saturating_sub(4).max(1);
        let paragraph = Paragraph::new(lines).wrap(Wrap { trim: false });
        let total = paragraph.line_count(inner_w) as u16;
        let h = (total + 2).min(area.height);
        let rect = centered(area, w, h);
        // When the help does not fit it scrolls, and says how much is above and below.
        let visible = h.saturating_sub(2);
        let scroll = self.view.scroll.min(total.saturating_sub(visible));
        let below = total.saturating_sub(scroll + visible);
        Clear.render(rect, buf);
        let mut title = vec![
            Span::styled(" Help ", theme.accent()),
            Span::styled("Esc closes ", theme.dim()),
        ];
        if scroll > 0 {
            title.push(Span::styled(format!("▲ {scroll} "), theme.dim()));
        }
        let mut block = panel_block(Line::from(title), theme, true).padding(Padding::horizontal(1));
        if below > 0 {
            block = block.title_bottom(
                Line::styled(format!(" ▼ {below} more (↓ PgDn) "), theme.accent()).right_aligned(),
            );
        }
        paragraph.block(block).scroll((scroll, 0)).render(rect, buf);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replay_plus_is_faster() {
        // recording::player doubles the speed on `+` and halves it on `-`.
        assert!(REPLAY_KEYS.contains(&("+/-", "replay: faster / slower")));
    }
    use crate::ui::test_text as text;

    const MIB: u64 = 1024 * 1024;

    fn render(w: u16, h: u16) -> Buffer {
        render_for(w, h, false)
    }

    fn render_for(w: u16, h: u16, replay: bool) -> Buffer {
        let mut buf = Buffer::empty(Rect::new(0, 0, w, h));
        HelpOverlay {
            view: HelpView {
                lab_keys: false,
                replay,
                max_lag: 16 * MIB,
                stable_for: Duration::from_secs(30),
                scroll: 0,
            },
            theme: Theme { color: false },
        }
        .render(buf.area, &mut buf);
        buf
    }

    #[test]
    fn a_short_pane_wraps_with_an_even_edge_and_says_how_much_more() {
        let want = Buffer::with_lines([
            " ┌ Help Esc closes ───────────────────┐ ",
            " │ ↑/↓  j/k      select a task        │ ",
            " │ (scroll the log when it has focus) │ ",
            " │ g/G           first / last task    │ ",
            " │ (top / bottom of the log)          │ ",
            " └──────────────── ▼ 38 more (↓ PgDn) ┘ ",
        ]);
        assert_eq!(text(&render(40, 6)), text(&want));
    }

    #[test]
    fn a_tall_pane_explains_the_thresholds() {
        let got = text(&render(80, 24));
        // Everything fits at 80x24: nothing to scroll.
        assert!(!got.concat().contains("more (↓ PgDn)"), "{got:#?}");
        for want in [
            "│ IN SYNC: increment, streaming, Synced, link alive, no failed precheck, │",
            "│ lag ≤ 16.0 MiB for 30s.   ",
            "│ DRAINED (needs --source-dsn): for 30s the source's next xid unchanged  │",
            "│ Without --source-dsn the best is IN SYNC.   ",
            "│ Lag ≥ X: a lower bound (not streaming, or the link silent); no ETA.    │",
        ] {
            assert!(got.iter().any(|l| l.contains(want)), "{want}: {got:#?}");
        }
    }

    #[test]
    fn a_replay_lists_its_own_keys_not_the_live_ones() {
        let got = text(&render_for(80, 30, true)).concat();
        for want in [
            "replay: play / pause",
            "replay: one poll back",
            "[ / ]",
            "quit",
        ] {
            assert!(got.contains(want), "{want}: {got}");
        }
        for live in ["poll now", "pause / resume polling", "switchover (needs"] {
            assert!(!got.contains(live), "{live}: {got}");
        }
        let live = text(&render_for(80, 30, false)).concat();
        assert!(
            live.contains("poll now") && !live.contains("replay:"),
            "{live}"
        );
    }
}
