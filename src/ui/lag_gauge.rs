//! The LSN lag gauge: total lag split into its parts (not replayed, not received, and with a
//! source probe not sent), on a log scale against `--max-lag`, a sparkline of recent polls,
//! rates and the catch-up outlook. A lag that is only a lower bound reads `≥ X` and has no
//! outlook; a finished task has no rates.

use std::time::Duration;

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget};

use super::theme::Theme;
use super::{fit_spans, panel_block};
use crate::app::{App, TaskEntry};
use crate::model::{Lsn, ReplicationState, Stage};
use crate::util::units;
use crate::verdict::history::{self, Eta, History, Rates, SourceHistory};
use crate::verdict::readiness::Reason;

/// Everything the gauge shows, derived from a task's history.
#[derive(Debug, Clone, PartialEq)]
pub struct LagFigures {
    /// Total lag as the API reports it; `None` is unknown, never 0.
    pub total: Option<u64>,
    /// Not received: LatestEndLsn − ReceivedLsn.
    pub not_received: Option<u64>,
    /// Not replayed: ReceivedLsn − ReplayLsn.
    pub not_replayed: Option<u64>,
    /// The reported figures (`total`, `not_received`) are only lower bounds
    /// ([`crate::verdict::readiness::reported_lag_is_lower_bound`]).
    pub lower_bound: bool,
    pub rates: Rates,
    pub outlook: Outlook,
    /// The task is past the switchover: its final state instead of rates.
    pub finished: Option<Finished>,
    /// The WAL receiver restarted recently (ReceivedLsn trailed ReplayLsn).
    pub restart: bool,
    /// A timeline switch seen recently, as (old, new).
    pub timeline: Option<(u32, u32)>,
    /// The true lag measured on the source, when a source probe is configured.
    pub true_lag: Option<u64>,
    /// What the source probe adds; `None` without a probe.
    pub source: Option<SourceFigures>,
}

/// What the trend line says at its right end.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Outlook {
    /// The catch-up outlook of an exact lag.
    Eta(Eta),
    /// The lag is only a lower bound: no ETA, never "caught up" or "keeping up".
    LowerBound,
    /// The lag is exact (the source's own position) but the link is down: nothing can catch
    /// up until it is back, so no ETA.
    LinkDown,
    /// Past the switchover there is nothing to catch up.
    Finished,
}

/// What a task past the switchover shows instead of rates.
#[derive(Debug, Clone, PartialEq)]
pub struct Finished {
    /// `migration finished` or `switchover under way`.
    pub what: &'static str,
    /// The last replication state reported.
    pub state: Option<ReplicationState>,
    /// The last ReplayLsn reported.
    pub replayed: Option<Lsn>,
}

/// The source probe's figures for one task.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceFigures {
    /// Not sent: how far LatestEndLsn trails the source's position, WAL the source wrote that
    /// the standby has not even been told about yet.
    pub not_sent: Option<u64>,
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
            not_sent: cmp.and_then(|c| c.latest_end_trail_bytes),
            // A failing probe has no current rate: the API's figure is shown instead.
            wal_rate: src
                .error()
                .is_none()
                .then(|| src.wal_rate(window))
                .flatten(),
            problem,
        }
    });
    let finished = match entry.task.stage {
        Some(Stage::Success) => Some("migration finished"),
        Some(Stage::Switch) => Some("switchover under way"),
        _ => None,
    }
    .map(|what| Finished {
        what,
        state: entry.task.replication_state.clone(),
        replayed: r.and_then(|r| r.replay_lsn),
    });
    let lower_bound = entry.reported_lag_is_lower_bound();
    // The link is cut (not streaming) or silent: the reported end stands still whatever the
    // source does, and the standby only replays what it already had. Neither rate says how
    // the lag will move, so none is shown, and there is no ETA.
    let link_down = finished.is_none()
        && total.is_some()
        && (entry.task.replication_state != Some(ReplicationState::Streaming)
            || entry
                .verdict
                .reasons()
                .iter()
                .any(|r| matches!(r, Reason::NoMessage { .. })));
    let rates = if lower_bound || link_down {
        Rates {
            wal: None,
            replay: None,
        }
    } else {
        rates
    };
    // With the source's own figures the outlook is judged on them: they are the better ones
    // (and exact, whatever the link does).
    let outlook = match (true_lag, &source) {
        _ if finished.is_some() => Outlook::Finished,
        _ if lower_bound => Outlook::LowerBound,
        _ if link_down => Outlook::LinkDown,
        (Some(t), Some(s)) => Outlook::Eta(history::eta(
            Some(t),
            Rates {
                wal: s.wal_rate.or(rates.wal),
                replay: rates.replay,
            },
            max_lag,
        )),
        _ => Outlook::Eta(history::eta(total, rates, max_lag)),
    };
    LagFigures {
        total,
        not_received: r.and_then(|r| r.not_received_bytes()),
        not_replayed: r.and_then(|r| r.not_replayed_bytes()),
        lower_bound,
        rates,
        outlook,
        finished,
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

/// What the gauge rows of one panel share: the figure's width (so figures line up), the
/// scale's `--max-lag`, the panel's inner width and the theme.
#[derive(Clone, Copy)]
struct Rows<'a> {
    fig_w: usize,
    max_lag: u64,
    width: usize,
    theme: &'a Theme,
}

/// The glyphs of the bar's parts, left to right: not replayed, not received, not yet sent.
const PART_GLYPHS: [char; 3] = ['█', '▒', '░'];

/// One gauge row: `label`, the figure (`≥ X` when `lower_bound`), and a log-scale bar whose filled cells are split among
/// `parts` (byte counts, drawn with [`PART_GLYPHS`] in order; what they leave of the total
/// takes the glyph after the last part given).
fn gauge(
    rows: &Rows,
    label: &str,
    total: Option<u64>,
    lower_bound: bool,
    parts: &[Option<u64>],
) -> Line<'static> {
    let Rows {
        fig_w,
        max_lag,
        width,
        theme,
    } = *rows;
    let value = match total {
        // Never touching the label, even as `≥ 1023 KiB`.
        Some(t) => Span::styled(
            format!(" {:>fig_w$}", units::lag(t, lower_bound)),
            theme
                .level(t, max_lag)
                .add_modifier(ratatui::style::Modifier::BOLD),
        ),
        None => Span::styled(format!(" {:>fig_w$}", "unknown"), theme.dim()),
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
fn unknown_true_row(
    problem: &SourceProblem,
    fig_w: usize,
    width: usize,
    theme: &Theme,
) -> Line<'static> {
    let style = match problem {
        SourceProblem::Waiting | SourceProblem::NoReplay => theme.dim(),
        SourceProblem::Failed(_) | SourceProblem::Mismatch => theme.bad(),
    };
    Line::from(fit_spans(
        vec![
            Span::styled(TRUE_LABEL, theme.dim()),
            Span::styled(format!(" {:>fig_w$}", "unknown"), theme.dim()),
            Span::raw("  "),
            Span::styled(problem.text(), style),
        ],
        width,
    ))
}

/// Columns of the widest byte figure (`1023 KiB`).
const FIGURE_W: usize = 8;

const REPORTED_LABEL: &str = " reported";
const TRUE_LABEL: &str = " true    ";

/// The legend of the bar's glyphs: each part's words (not replayed, not received, not sent:
/// the same words at every width) and figure, with wider gaps when they fit, without the
/// figures when they do not (the bar still shows the proportions).
fn legend(f: &LagFigures, width: usize, theme: &Theme) -> Line<'static> {
    let b = |v: Option<u64>, lower: bool| v.map_or("unknown".to_string(), |v| units::lag(v, lower));
    // The third part only when it is known (a failed probe has no source position); known,
    // it makes the parts exact (they add up to the true lag).
    let not_sent = f.source.as_ref().and_then(|s| s.not_sent);
    let mut parts = vec![
        (PART_GLYPHS[0], "not replayed", b(f.not_replayed, false)),
        (
            PART_GLYPHS[1],
            "not received",
            b(f.not_received, f.lower_bound && not_sent.is_none()),
        ),
    ];
    if let Some(n) = not_sent {
        parts.push((PART_GLYPHS[2], "not sent", b(Some(n), false)));
    }
    let build = |figures: bool, gap: &str| -> Vec<Span<'static>> {
        let mut v = Vec::new();
        for (i, (glyph, words, figure)) in parts.iter().enumerate() {
            v.push(Span::raw(format!(
                "{}{glyph} ",
                if i == 0 { " " } else { gap }
            )));
            if figures {
                v.push(Span::styled(format!("{words} "), theme.dim()));
                v.push(Span::raw(figure.clone()));
            } else {
                v.push(Span::styled(words.to_string(), theme.dim()));
            }
        }
        v
    };
    // Chosen for the widest figures (`1023 KiB`, `≥ 1023 KiB`), so the form does not change
    // as they do.
    let need = |figures: bool, gap: &str| -> usize {
        parts
            .iter()
            .map(|(_, words, figure)| {
                let fig = if figures {
                    1 + if figure.starts_with('≥') { 10 } else { 8 }
                } else {
                    0
                };
                2 + words.chars().count() + fig
            })
            .sum::<usize>()
            + 1
            + gap.len() * (parts.len() - 1)
    };
    for (figures, gap) in [(true, "  "), (true, " "), (false, " ")] {
        if need(figures, gap) <= width {
            return Line::from(build(figures, gap));
        }
    }
    Line::from(fit_spans(build(false, " "), width))
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
    // Past the switchover rates mean nothing: the final state instead.
    if let Some(done) = &f.finished {
        let mut v = vec![Span::styled("final: state ", theme.dim())];
        v.push(Span::raw(
            done.state
                .as_ref()
                .map_or("unknown".to_string(), |s| s.to_string()),
        ));
        if let Some(lsn) = done.replayed {
            v.push(Span::styled(" · replayed to ", theme.dim()));
            v.push(Span::raw(lsn.to_string()));
        }
        return v;
    }
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

/// The outlook's words: for an exact lag an ETA, "caught up", "keeping up" or "not catching
/// up"; for a lower bound only that; past the switchover what happened.
pub fn outlook(o: &Outlook, finished: Option<&Finished>, theme: &Theme) -> Span<'static> {
    let eta = match o {
        Outlook::Eta(eta) => *eta,
        Outlook::LowerBound => return Span::styled("lower bound: no ETA", theme.warn()),
        Outlook::LinkDown => return Span::styled("link down: no ETA", theme.warn()),
        Outlook::Finished => {
            return Span::styled(finished.map_or("finished", |f| f.what), theme.accent());
        }
    };
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
        figures: Box<LagFigures>,
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
        let max_lag = app.config().readiness.max_lag;
        LagView::Task {
            figures: Box::new(figures(
                entry,
                app.source_for(&entry.task.instance),
                app.trend_window(),
                max_lag,
            )),
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
        // The figures of the rows line up, `≥ ` or not.
        let fig_w = if f.lower_bound {
            FIGURE_W + 2
        } else {
            FIGURE_W
        };
        let rows = Rows {
            fig_w,
            max_lag,
            width: w,
            theme,
        };
        // The legend goes first when the panel is short.
        let mut legend_at = None;
        if !has_replication {
            let rows = Rows {
                fig_w: FIGURE_W,
                ..rows
            };
            lines.push(gauge(&rows, "", None, false, &[]));
            lines.push(Line::styled(
                " no ReplicationInfo yet (unknown, not 0)",
                theme.dim(),
            ));
        } else if let Some(src) = &f.source {
            lines.push(gauge(
                &rows,
                REPORTED_LABEL,
                f.total,
                f.lower_bound,
                &[f.not_replayed],
            ));
            match (f.true_lag, &src.problem) {
                (Some(t), _) => lines.push(gauge(
                    &rows,
                    TRUE_LABEL,
                    Some(t),
                    false,
                    &[f.not_replayed, f.not_received],
                )),
                (None, Some(p)) => lines.push(unknown_true_row(p, fig_w, w, theme)),
                (None, None) => {
                    lines.push(unknown_true_row(&SourceProblem::Waiting, fig_w, w, theme))
                }
            }
            legend_at = Some(lines.len());
            lines.push(legend(&f, w, theme));
        } else {
            lines.push(gauge(&rows, "", f.total, f.lower_bound, &[f.not_replayed]));
            legend_at = Some(lines.len());
            lines.push(legend(&f, w, theme));
        }
        // The trend, with the outlook at its right end.
        let out = outlook(&f.outlook, f.finished.as_ref(), theme);
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

    /// Figures of 4 MiB: 3 not replayed, 1 not received, nothing else known.
    fn four_mib() -> LagFigures {
        LagFigures {
            total: Some(4 << 20),
            not_received: Some(1 << 20),
            not_replayed: Some(3 << 20),
            lower_bound: false,
            rates: Rates::default(),
            outlook: Outlook::Eta(Eta::Unknown),
            finished: None,
            restart: false,
            timeline: None,
            true_lag: None,
            source: None,
        }
    }

    fn task_view(figures: LagFigures, history: &History) -> LagView<'_> {
        LagView::Task {
            figures: Box::new(figures),
            has_replication: true,
            history,
            max_lag: 16 << 20,
        }
    }

    #[test]
    fn a_gauge_with_its_legend_trend_and_rates() {
        let history = History::default();
        let want = Buffer::with_lines([
            "┌ Lag ─────────────────────────────────────────────────────┐",
            "│ 4.00 MiB ▕█████████████████▒▒▒▒▒····│······▏ max 16.0 MiB│",
            "│ █ not replayed 3.00 MiB  ▒ not received 1.00 MiB         │",
            "│ trend                                         ETA unknown│",
            "│ WAL unknown · replay unknown                             │",
            "└──────────────────────────────────────────────────────────┘",
        ]);
        assert_eq!(
            text(&render(task_view(four_mib(), &history), 60, 6)),
            text(&want)
        );
    }

    #[test]
    fn a_cut_link_shows_no_rate_and_no_eta() {
        use crate::app::fixtures::{EAST, MIB, app, item, ok};
        let mut a = app();
        for (i, lag) in [40, 30, 20].into_iter().enumerate() {
            ok(
                &mut a,
                EAST,
                i as i64 * 5,
                &[item(1, "increment", "streaming", Some(lag * MIB), "")],
            );
        }
        let f = figures(
            a.selected_task().unwrap(),
            None,
            Duration::from_secs(60),
            16 * MIB,
        );
        assert!(f.rates.replay.is_some(), "streaming: a replay rate {f:?}");
        // The link is cut; the standby still replays what it had, which says nothing of when
        // it catches up.
        ok(
            &mut a,
            EAST,
            15,
            &[item(1, "increment", "disconnect", Some(10 * MIB), "")],
        );
        let f = figures(
            a.selected_task().unwrap(),
            None,
            Duration::from_secs(60),
            16 * MIB,
        );
        assert_eq!((f.rates.wal, f.rates.replay), (None, None), "{f:?}");
        assert!(!matches!(f.outlook, Outlook::Eta(_)), "{f:?}");
        let theme = Theme { color: false };
        assert!(
            !outlook(&f.outlook, None, &theme).content.contains("ETA "),
            "{f:?}"
        );
    }

    #[test]
    fn a_lower_bound_reads_at_least_and_has_no_outlook() {
        let history = History::default();
        let figures = LagFigures {
            lower_bound: true,
            outlook: Outlook::LowerBound,
            ..four_mib()
        };
        let want = Buffer::with_lines([
            "┌ Lag ─────────────────────────────────────────────────────┐",
            "│ ≥ 4.00 MiB ▕████████████████▒▒▒▒▒···│······▏ max 16.0 MiB│",
            "│ █ not replayed 3.00 MiB  ▒ not received ≥ 1.00 MiB       │",
            "│ trend                                 lower bound: no ETA│",
            "│ WAL unknown · replay unknown                             │",
            "└──────────────────────────────────────────────────────────┘",
        ]);
        assert_eq!(
            text(&render(task_view(figures, &history), 60, 6)),
            text(&want)
        );
    }

    #[test]
    fn the_legend_keeps_its_words_when_narrow() {
        let history = History::default();
        let probed = LagFigures {
            true_lag: Some(7 << 20),
            source: Some(SourceFigures {
                not_sent: Some(3 << 20),
                wal_rate: None,
                problem: None,
            }),
            ..four_mib()
        };
        // Wide: every part with its figure.
        let wide = text(&render(task_view(probed.clone(), &history), 80, 7));
        assert_eq!(
            wide[3],
            "│ █ not replayed 3.00 MiB  ▒ not received 1.00 MiB  ░ not sent 3.00 MiB        │"
        );
        // At 80 columns the panel is 50 wide: the words stay, the figures go.
        let narrow = text(&render(task_view(probed, &history), 50, 7));
        assert_eq!(
            narrow[3],
            "│ █ not replayed ▒ not received ░ not sent       │"
        );
        let two = text(&render(task_view(four_mib(), &history), 36, 6));
        assert_eq!(two[2], "│ █ not replayed ▒ not received    │");
    }

    #[test]
    fn a_finished_task_shows_its_final_state_not_rates() {
        let history = History::default();
        let figures = LagFigures {
            total: Some(0),
            not_received: Some(0),
            not_replayed: Some(0),
            outlook: Outlook::Finished,
            finished: Some(Finished {
                what: "migration finished",
                state: Some(ReplicationState::Finish),
                replayed: Some(Lsn(0x5_0000_0000)),
            }),
            ..four_mib()
        };
        let got = text(&render(task_view(figures, &history), 60, 6));
        assert_eq!(
            got[3],
            "│ trend                                  migration finished│"
        );
        assert_eq!(
            got[4],
            "│ final: state finish · replayed to 5/0                    │"
        );
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
