//! The LSN lag gauge: total lag split into transport and apply, on a log scale against
//! `--max-lag`, a sparkline of recent polls, rates and the catch-up outlook.

use std::time::Duration;

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget};

use super::theme::Theme;
use super::{fit_spans, panel_block};
use crate::app::{App, TaskEntry};
use crate::history::{self, Eta, History, Rates, SourceHistory};
use crate::units;

/// Everything the gauge shows, derived from a task's history.
#[derive(Debug, Clone, PartialEq)]
pub struct LagFigures {
    /// Total lag as the API reports it; `None` is unknown, never 0.
    pub total: Option<u64>,
    /// Not yet received (LatestEndLsn − ReceivedLsn).
    pub transport: Option<u64>,
    /// Received, not yet replayed (ReceivedLsn − ReplayLsn).
    pub apply: Option<u64>,
    pub rates: Rates,
    pub eta: Eta,
    /// The WAL receiver restarted recently (ReceivedLsn trailed ReplayLsn).
    pub restart: bool,
    /// A timeline switch seen recently, as (old, new).
    pub timeline: Option<(u32, u32)>,
    /// The true lag measured on the source, when a source probe is configured.
    pub true_lag: Option<u64>,
    /// What the source probe adds; `None` without a probe.
    pub source: Option<SourceFigures>,
}

/// The source probe's figures for one task.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceFigures {
    /// How far LatestEndLsn trails the source's position: WAL the source wrote that the
    /// standby has not even been told about yet.
    pub unsent: Option<u64>,
    /// The source's WAL generation rate from its own successive readings.
    pub wal_rate: Option<f64>,
    /// Why there is no true lag, when there is none.
    pub problem: Option<SourceProblem>,
}

/// Why the true lag is unknown.
#[derive(Debug, Clone, PartialEq)]
pub enum SourceProblem {
    /// No reading yet.
    Waiting,
    /// The last reading failed (the sentence, password-free).
    Failed(String),
    /// The standby has replayed past the source's position: the DSN names another server.
    Mismatch,
    /// The task has no ReplayLsn to compare with.
    NoReplay,
}

impl SourceProblem {
    /// A short phrase for the gauge.
    pub fn text(&self) -> String {
        match self {
            SourceProblem::Waiting => "waiting for the source".into(),
            SourceProblem::Failed(e) => format!("source probe: {e}"),
            SourceProblem::Mismatch => "the standby is ahead: not this task's source".into(),
            SourceProblem::NoReplay => "no ReplayLsn to compare".into(),
        }
    }
}

/// The figures of `entry`, with the source probe's readings when one is configured, rates
/// over `window`, the outlook judged against `max_lag`.
pub fn figures(
    entry: &TaskEntry,
    source: Option<&SourceHistory>,
    window: Duration,
    max_lag: u64,
) -> LagFigures {
    let r = entry.task.replication.as_ref();
    let total = r.and_then(|r| r.lag_bytes());
    let rates = entry.history.rates(window);
    let latest = entry.history.latest().map(|(_, d)| d);
    let true_lag = latest.and_then(|d| d.true_lag());
    let source = source.map(|src| {
        let cmp = latest.and_then(|d| d.source);
        let problem = if true_lag.is_some() {
            None
        } else if let Some(e) = src.error() {
            Some(SourceProblem::Failed(e.to_string()))
        } else if cmp.is_some_and(|c| c.mismatch) {
            Some(SourceProblem::Mismatch)
        } else if cmp.is_some() {
            Some(SourceProblem::NoReplay)
        } else {
            Some(SourceProblem::Waiting)
        };
        SourceFigures {
            unsent: cmp.and_then(|c| c.latest_end_trail_bytes),
            // A failing probe has no current rate: the API's figure is shown instead.
            wal_rate: src
                .error()
                .is_none()
                .then(|| src.wal_rate(window))
                .flatten(),
            problem,
        }
    });
    // With the source's own figures the outlook is judged on them: they are the better ones.
    let eta = match (true_lag, &source) {
        (Some(t), Some(s)) => history::eta(
            Some(t),
            Rates {
                wal: s.wal_rate.or(rates.wal),
                replay: rates.replay,
            },
            max_lag,
        ),
        _ => history::eta(total, rates, max_lag),
    };
    LagFigures {
        total,
        transport: r.and_then(|r| r.transport_bytes()),
        apply: r.and_then(|r| r.apply_bytes()),
        rates,
        eta,
        restart: r.is_some_and(|r| r.receiver_restarting()) || entry.history.recent_restart(window),
        timeline: entry.history.timeline_change(window),
        true_lag,
        source,
    }
}

/// Where `bytes` falls on the log-scale bar of `width` cells: 1 KiB is empty, 16 × max full.
pub fn position(bytes: u64, max_lag: u64, width: usize) -> usize {
    if bytes == 0 || width == 0 {
        return 0;
    }
    let lo = 1024f64.ln();
    let hi = ((max_lag.max(2048) as f64) * 16.0).ln();
    let f = (((bytes as f64).ln() - lo) / (hi - lo)).clamp(0.0, 1.0);
    ((f * width as f64).round() as usize).clamp(1, width)
}

/// The glyphs of the bar's parts, left to right: not replayed, not received, not yet sent.
const PART_GLYPHS: [char; 3] = ['█', '▒', '░'];

/// One gauge row: `label`, the figure, and a log-scale bar whose filled cells are split among
/// `parts` (byte counts, drawn with [`PART_GLYPHS`] in order; what they leave of the total
/// takes the glyph after the last part given).
fn gauge(
    label: &str,
    total: Option<u64>,
    parts: &[Option<u64>],
    max_lag: u64,
    width: usize,
    theme: &Theme,
) -> Line<'static> {
    let value = match total {
        Some(t) => Span::styled(
            format!("{:>9}", units::bytes(t)),
            theme
                .level(t, max_lag)
                .add_modifier(ratatui::style::Modifier::BOLD),
        ),
        None => Span::styled(format!("{:>9}", "unknown"), theme.dim()),
    };
    let mut spans = vec![
        Span::styled(label.to_string(), theme.dim()),
        value,
        Span::raw(" "),
    ];
    let max_label = format!(" max {}", units::bytes(max_lag));
    let used: usize = spans.iter().map(|s| s.width()).sum();
    let mut bar_w = width.saturating_sub(used + 2);
    let show_max = bar_w >= 18;
    if show_max {
        bar_w -= max_label.chars().count();
    }
    if bar_w < 4 {
        return Line::from(spans);
    }
    let mark = position(max_lag, max_lag, bar_w).min(bar_w - 1);
    let filled = total.map_or(0, |t| position(t, max_lag, bar_w));
    // Cell boundaries of the parts: each takes its share of the filled cells.
    let mut ends = Vec::new();
    let mut sum = 0u64;
    for p in parts.iter().take(PART_GLYPHS.len() - 1) {
        sum = sum.saturating_add(p.unwrap_or(0));
        let end = match total {
            Some(t) if t > 0 => ((filled as f64) * (sum.min(t) as f64 / t as f64)).round() as usize,
            _ => 0,
        };
        ends.push(end.min(filled));
    }
    let fill_style = total.map_or(theme.dim(), |t| theme.level(t, max_lag));
    spans.push(Span::styled("▕", theme.dim()));
    let mut bar = String::new();
    let mut styles: Vec<Style> = Vec::new();
    for i in 0..bar_w {
        let (c, s) = if i < filled {
            let part = ends.iter().position(|e| i < *e).unwrap_or(ends.len());
            (PART_GLYPHS[part], fill_style)
        } else if i == mark {
            ('│', theme.strong())
        } else {
            ('·', theme.dim())
        };
        bar.push(c);
        styles.push(s);
    }
    // Group runs of equal style into spans.
    let chars: Vec<char> = bar.chars().collect();
    let mut start = 0;
    for i in 1..=chars.len() {
        if i == chars.len() || styles[i] != styles[start] {
            spans.push(Span::styled(
                chars[start..i].iter().collect::<String>(),
                styles[start],
            ));
            start = i;
        }
    }
    spans.push(Span::styled("▏", theme.dim()));
    if show_max {
        spans.push(Span::styled(max_label, theme.dim()));
    }
    Line::from(spans)
}

/// The true-lag row when the true lag is unknown: why, in words.
fn unknown_true_row(problem: &SourceProblem, width: usize, theme: &Theme) -> Line<'static> {
    let style = match problem {
        SourceProblem::Waiting | SourceProblem::NoReplay => theme.dim(),
        SourceProblem::Failed(_) | SourceProblem::Mismatch => theme.bad(),
    };
    Line::from(fit_spans(
        vec![
            Span::styled(TRUE_LABEL, theme.dim()),
            Span::styled(format!("{:>9}", "unknown"), theme.dim()),
            Span::raw("  "),
            Span::styled(problem.text(), style),
        ],
        width,
    ))
}

const REPORTED_LABEL: &str = " reported";
const TRUE_LABEL: &str = " true    ";

/// The legend of the bar's glyphs, in the longest wording that fits `width`.
fn legend(f: &LagFigures, width: usize, theme: &Theme) -> Line<'static> {
    let b = |v: Option<u64>| v.map_or("unknown".to_string(), units::bytes);
    // The third part only when it is known (a failed probe has no source position).
    let unsent = f.source.as_ref().and_then(|s| s.unsent).map(|u| b(Some(u)));
    let wordings: [[&str; 3]; 4] = [
        ["not replayed", "not received", "not yet sent"],
        ["apply", "transport", "unsent"],
        ["apply", "recv", "unsent"],
        ["apply", "recv", "new"],
    ];
    let build = |words: [&str; 3], gap: &str| -> Vec<Span<'static>> {
        let mut v = vec![
            Span::raw(" █ "),
            Span::styled(format!("{} ", words[0]), theme.dim()),
            Span::raw(b(f.apply)),
            Span::raw(format!("{gap}▒ ")),
            Span::styled(format!("{} ", words[1]), theme.dim()),
            Span::raw(b(f.transport)),
        ];
        if let Some(u) = &unsent {
            v.push(Span::raw(format!("{gap}░ ")));
            v.push(Span::styled(format!("{} ", words[2]), theme.dim()));
            v.push(Span::raw(u.clone()));
        }
        v
    };
    // Chosen for the widest figures (`1023 KiB`), so the wording does not change as they do.
    const FIGURE: usize = 8;
    for (i, words) in wordings.iter().enumerate() {
        let gap = if i < 2 { "  " } else { " " };
        let parts = if unsent.is_some() { 3 } else { 2 };
        let need: usize = words[..parts]
            .iter()
            .map(|w| 2 + w.chars().count() + 1 + FIGURE)
            .sum::<usize>()
            + 1
            + gap.len() * (parts - 1);
        if need <= width {
            return Line::from(build(*words, gap));
        }
    }
    Line::from(fit_spans(build(wordings[3], " "), width))
}

/// The sparkline of recent lag samples on a linear scale up to `max_lag` (or the largest value
/// shown), coloured against `max_lag`; blank cells are failed polls or unknown lag.
pub fn sparkline(
    history: &History,
    max_lag: u64,
    width: usize,
    theme: &Theme,
) -> Vec<Span<'static>> {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let series = history.lag_series(width);
    // Against the threshold, or the largest value shown when that is higher.
    let top = series
        .iter()
        .flatten()
        .copied()
        .max()
        .unwrap_or(0)
        .max(max_lag)
        .max(1);
    let mut spans = Vec::new();
    if series.len() < width {
        spans.push(Span::raw(" ".repeat(width - series.len())));
    }
    for v in series {
        match v {
            None => spans.push(Span::raw(" ")),
            Some(l) => {
                // Zero is the lowest bar; any lag at all is at least the next one.
                let level = match l {
                    0 => 0,
                    _ => (((l as f64 / top as f64) * 7.0).round() as usize).clamp(1, 7),
                };
                spans.push(Span::styled(
                    BARS[level].to_string(),
                    theme.level(l, max_lag),
                ));
            }
        }
    }
    spans
}

fn rates_line(f: &LagFigures, theme: &Theme) -> Vec<Span<'static>> {
    let rate = |r: Option<f64>| r.map_or("unknown".to_string(), units::rate);
    // The source's own rate when it is read; else how fast its reported end moves.
    let (label, wal) = match f.source.as_ref().and_then(|s| s.wal_rate) {
        Some(r) => ("source WAL ", Some(r)),
        None => ("WAL ", f.rates.wal),
    };
    vec![
        Span::styled(label, theme.dim()),
        Span::raw(rate(wal)),
        Span::styled(" · replay ", theme.dim()),
        Span::raw(rate(f.rates.replay)),
    ]
}

/// The catch-up outlook: an ETA, "caught up", "keeping up" or "not catching up".
pub fn outlook(eta: Eta, theme: &Theme) -> Span<'static> {
    match eta {
        Eta::Unknown => Span::styled("ETA unknown", theme.dim()),
        Eta::CaughtUp => Span::styled("caught up", theme.good()),
        Eta::KeepingUp => Span::styled("keeping up", theme.good()),
        Eta::In(d) => Span::styled(
            if d.as_secs() > 86400 * 7 {
                "ETA >7d".to_string()
            } else {
                format!("ETA {}", units::duration(d))
            },
            theme.warn(),
        ),
        Eta::NotCatchingUp => Span::styled("not catching up", theme.bad()),
    }
}

/// The gauge panel as data.
#[derive(Debug, Clone)]
pub enum LagView<'a> {
    /// The selected task's figures and its history (for the trend).
    Task {
        figures: LagFigures,
        /// The task has ReplicationInfo (else there is nothing to gauge yet).
        has_replication: bool,
        history: &'a History,
        /// `--max-lag`.
        max_lag: u64,
    },
    /// An instance row: what is known about polling it, and whether that is a failure.
    NoTask { text: String, failing: bool },
}

impl<'a> LagView<'a> {
    /// The gauge for the selection of `app`.
    pub fn of(app: &'a App) -> LagView<'a> {
        let Some(entry) = app.selected_task() else {
            // An instance row: say what is known about polling it.
            let (text, failing) = match app.selected_instance() {
                Some(i) => match &i.last_error {
                    Some((_, e)) => (format!("{}: {e}", i.name), true),
                    None if i.last_ok.is_some() => {
                        (format!("{}: no migration tasks match", i.name), false)
                    }
                    None => (format!("{}: waiting for the first poll", i.name), false),
                },
                None => ("no task selected".to_string(), false),
            };
            return LagView::NoTask { text, failing };
        };
        let max_lag = app.config.readiness.max_lag;
        LagView::Task {
            figures: figures(
                entry,
                app.source_for(&entry.task.instance),
                app.trend_window(),
                max_lag,
            ),
            has_replication: entry.task.replication.is_some(),
            history: &entry.history,
            max_lag,
        }
    }
}

/// The gauge widget: the view and its theme.
#[derive(Debug, Clone)]
pub struct LagGauge<'a> {
    pub view: LagView<'a>,
    pub theme: Theme,
}

impl Widget for LagGauge<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let theme = &self.theme;
        let (f, has_replication, history, max_lag) = match self.view {
            LagView::Task {
                figures,
                has_replication,
                history,
                max_lag,
            } => (figures, has_replication, history, max_lag),
            LagView::NoTask { text, failing } => {
                let block = panel_block(Span::styled(" Lag ", theme.strong()), theme, false);
                let style = if failing { theme.bad() } else { theme.dim() };
                Paragraph::new(Line::styled(text, style))
                    .block(block)
                    .wrap(ratatui::widgets::Wrap { trim: true })
                    .render(area, buf);
                return;
            }
        };
        let mut title = vec![Span::styled(" Lag ", theme.strong())];
        if f.restart {
            title.push(Span::styled("receiver restarted ", theme.warn()));
        }
        if let Some((a, b)) = f.timeline {
            title.push(Span::styled(format!("timeline {a}→{b} "), theme.warn()));
        }
        let block = panel_block(Line::from(title), theme, false);
        let inner = block.inner(area);
        let w = inner.width as usize;
        let mut lines = Vec::new();
        // The legend goes first when the panel is short.
        let mut legend_at = None;
        if !has_replication {
            lines.push(gauge("", None, &[], max_lag, w, theme));
            lines.push(Line::styled(
                " no ReplicationInfo yet (unknown, not 0)",
                theme.dim(),
            ));
        } else if let Some(src) = &f.source {
            lines.push(gauge(
                REPORTED_LABEL,
                f.total,
                &[f.apply],
                max_lag,
                w,
                theme,
            ));
            match (f.true_lag, &src.problem) {
                (Some(t), _) => lines.push(gauge(
                    TRUE_LABEL,
                    Some(t),
                    &[f.apply, f.transport],
                    max_lag,
                    w,
                    theme,
                )),
                (None, Some(p)) => lines.push(unknown_true_row(p, w, theme)),
                (None, None) => lines.push(unknown_true_row(&SourceProblem::Waiting, w, theme)),
            }
            legend_at = Some(lines.len());
            lines.push(legend(&f, w, theme));
        } else {
            lines.push(gauge("", f.total, &[f.apply], max_lag, w, theme));
            legend_at = Some(lines.len());
            lines.push(legend(&f, w, theme));
        }
        // The trend, with the outlook at its right end.
        let out = outlook(f.eta, theme);
        let spark_w = w.saturating_sub(7 + out.width() + 2);
        let mut spark = vec![Span::styled(" trend ", theme.dim())];
        spark.extend(sparkline(history, max_lag, spark_w, theme));
        spark.push(Span::raw("  "));
        spark.push(out);
        lines.push(Line::from(fit_spans(spark, w)));
        let mut rates = vec![Span::raw(" ")];
        rates.extend(rates_line(&f, theme));
        lines.push(Line::from(fit_spans(rates, w)));
        if lines.len() > inner.height as usize
            && let Some(i) = legend_at
        {
            lines.remove(i);
        }
        Paragraph::new(lines).block(block).render(area, buf);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ui::test_text as text;

    #[test]
    fn log_scale_positions() {
        let max = 16 << 20;
        assert_eq!(position(0, max, 20), 0);
        assert_eq!(position(1, max, 20), 1);
        // The threshold sits at 14/18 of the bar (1 KiB .. 256 MiB).
        assert_eq!(position(max, max, 18), 14);
        assert_eq!(position(u64::MAX, max, 20), 20);
    }

    fn render(view: LagView, w: u16, h: u16) -> Buffer {
        let mut buf = Buffer::empty(Rect::new(0, 0, w, h));
        LagGauge {
            view,
            theme: Theme { color: false },
        }
        .render(buf.area, &mut buf);
        buf
    }

    #[test]
    fn a_gauge_with_its_legend_trend_and_rates() {
        let max = 16 << 20;
        let history = History::default();
        let figures = LagFigures {
            total: Some(4 << 20),
            transport: Some(1 << 20),
            apply: Some(3 << 20),
            rates: Rates::default(),
            eta: Eta::Unknown,
            restart: false,
            timeline: None,
            true_lag: None,
            source: None,
        };
        let view = LagView::Task {
            figures,
            has_replication: true,
            history: &history,
            max_lag: max,
        };
        let want = Buffer::with_lines([
            "┌ Lag ─────────────────────────────────────────────────────┐",
            "│ 4.00 MiB ▕█████████████████▒▒▒▒▒····│······▏ max 16.0 MiB│",
            "│ █ not replayed 3.00 MiB  ▒ not received 1.00 MiB         │",
            "│ trend                                         ETA unknown│",
            "│ WAL unknown · replay unknown                             │",
            "└──────────────────────────────────────────────────────────┘",
        ]);
        assert_eq!(text(&render(view, 60, 6)), text(&want));
    }

    #[test]
    fn an_instance_row_says_why_there_is_no_gauge() {
        let view = LagView::NoTask {
            text: "pgm-a: waiting for the first poll".into(),
            failing: false,
        };
        let want = Buffer::with_lines([
            "┌ Lag ─────────────────────────────┐",
            "│pgm-a: waiting for the first poll │",
            "└──────────────────────────────────┘",
        ]);
        assert_eq!(text(&render(view, 36, 3)), text(&want));
    }
}
