//! The lag chart of one task as inline SVG: reported and true lag over time, the `--max-lag`
//! line, the verdict strip and the stage timeline under it. Styling is in attributes so the
//! SVG draws the same inside the page or on its own.

use std::fmt::Write;

use chrono::{DateTime, FixedOffset, Utc};

use super::{Point, Span, TaskReport, esc, label};
use crate::model::Stage;
use crate::util::units;
use crate::verdict::readiness::VerdictKind;

/// The whole picture.
pub const WIDTH: f64 = 900.0;
pub const HEIGHT: f64 = 290.0;
/// The plot area: left, top, width, height.
pub const PLOT: (f64, f64, f64, f64) = (76.0, 14.0, 806.0, 196.0);
const VERDICT_Y: f64 = 238.0;
const STAGE_Y: f64 = 258.0;
const STRIP_H: f64 = 14.0;

/// Colours (also used by the page's legend).
pub const REPORTED_COLOR: &str = "#1f5fa8";
pub const TRUE_COLOR: &str = "#c2410c";

/// The colour of a verdict.
pub fn verdict_color(v: VerdictKind) -> &'static str {
    match v {
        VerdictKind::NotReady => "#dc2626",
        VerdictKind::InSync => "#eab308",
        VerdictKind::Drained => "#16a34a",
        VerdictKind::Switching | VerdictKind::Finished => "#0891b2",
    }
}

/// The colour of a stage (by its place in the sequence).
pub fn stage_color(s: Option<&Stage>) -> &'static str {
    match s.and_then(Stage::index) {
        Some(1) => "#cbd5e1",
        Some(2) => "#bfdbfe",
        Some(3) => "#c7d2fe",
        Some(4) => "#bbf7d0",
        Some(5) => "#fde68a",
        Some(6) => "#a7f3d0",
        _ => "#e5e7eb",
    }
}

/// The time axis: `t0` at the plot's left edge, `t1` at its right.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scale {
    pub t0: DateTime<Utc>,
    pub t1: DateTime<Utc>,
    /// The lag at the top of the plot.
    pub ymax: u64,
}

impl Scale {
    /// The x of a time.
    pub fn x(&self, at: DateTime<Utc>) -> f64 {
        let span = (self.t1 - self.t0).num_milliseconds().max(1) as f64;
        let off = (at - self.t0).num_milliseconds() as f64;
        PLOT.0 + (off / span).clamp(0.0, 1.0) * PLOT.2
    }

    /// The y of a lag.
    pub fn y(&self, lag: u64) -> f64 {
        let frac = (lag as f64 / self.ymax.max(1) as f64).clamp(0.0, 1.0);
        PLOT.1 + PLOT.3 * (1.0 - frac)
    }
}

/// A round number of bytes at or above `v`: 1, 2 or 5 times a power of ten, in bytes, KiB,
/// MiB, GiB or TiB, so the axis labels read well.
pub fn nice_ceiling(v: u64) -> u64 {
    let v = v.max(1);
    for unit in [1u64, 1 << 10, 1 << 20, 1 << 30, 1 << 40] {
        for mag in [1u64, 10, 100] {
            for m in [1u64, 2, 5] {
                let c = m * mag * unit;
                if c >= v {
                    return c;
                }
            }
        }
    }
    v
}

/// Tick spacing for the time axis: at most about eight ticks.
fn time_step(span_secs: i64) -> i64 {
    const STEPS: [i64; 16] = [
        1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 21600, 86400,
    ];
    STEPS
        .iter()
        .copied()
        .find(|s| span_secs / s <= 8)
        .unwrap_or(86400 * ((span_secs / 86400 / 8).max(1)))
}

/// Thins a series drawn into `PLOT.2` columns to the first, lowest, highest and last point
/// of each column, so hours of polls stay a small file with the same picture.
fn thin(points: Vec<(f64, f64)>) -> Vec<(f64, f64)> {
    if points.len() <= (PLOT.2 as usize) * 2 {
        return points;
    }
    let mut out = Vec::new();
    let mut i = 0;
    while i < points.len() {
        let col = points[i].0.floor();
        let mut j = i;
        while j < points.len() && points[j].0.floor() == col {
            j += 1;
        }
        let group = &points[i..j];
        let lo = group
            .iter()
            .copied()
            .fold(group[0], |a, p| if p.1 > a.1 { p } else { a });
        let hi = group
            .iter()
            .copied()
            .fold(group[0], |a, p| if p.1 < a.1 { p } else { a });
        let mut keep = vec![group[0], lo, hi, group[group.len() - 1]];
        keep.sort_by(|a, b| a.0.total_cmp(&b.0));
        keep.dedup();
        out.extend(keep);
        i = j;
    }
    out
}

/// The unbroken runs of a series: a failed poll or an unknown lag breaks the line.
/// The unbroken runs of a series, each with whether its values are lower bounds: a failed
/// poll or an unknown lag breaks the line, and so does a change between exact values and
/// lower bounds (drawn differently).
fn runs(
    points: &[Point],
    pick: impl Fn(&Point) -> Option<u64>,
    lower: impl Fn(&Point) -> bool,
    s: &Scale,
) -> Vec<(bool, Vec<(f64, f64)>)> {
    let mut out: Vec<(bool, Vec<(f64, f64)>)> = Vec::new();
    let mut cur: Vec<(f64, f64)> = Vec::new();
    let mut cur_lower = false;
    for p in points {
        let v = pick(p);
        if (v.is_none() || lower(p) != cur_lower) && !cur.is_empty() {
            out.push((cur_lower, std::mem::take(&mut cur)));
        }
        if let Some(v) = v {
            cur_lower = lower(p);
            cur.push((s.x(p.at), s.y(v)));
        }
    }
    if !cur.is_empty() {
        out.push((cur_lower, cur));
    }
    out.into_iter().map(|(l, r)| (l, thin(r))).collect()
}

fn series(
    svg: &mut String,
    class: &str,
    color: &str,
    dash: &str,
    runs: &[(bool, Vec<(f64, f64)>)],
) {
    for (lower, run) in runs {
        // A lower bound is dotted: the real value was at least this.
        let (class, dash) = if *lower {
            (
                format!("{class} lower-bound"),
                r#" stroke-dasharray="1.5 3""#,
            )
        } else {
            (class.to_string(), dash)
        };
        if run.len() == 1 {
            let _ = write!(
                svg,
                r#"<circle class="{class}" cx="{:.1}" cy="{:.1}" r="2.5" fill="{color}"/>"#,
                run[0].0, run[0].1
            );
            continue;
        }
        let pts: Vec<String> = run.iter().map(|(x, y)| format!("{x:.1},{y:.1}")).collect();
        let _ = write!(
            svg,
            r#"<polyline class="{class}" fill="none" stroke="{color}" stroke-width="1.8"{dash} stroke-linejoin="round" points="{}"/>"#,
            pts.join(" ")
        );
    }
}

/// One coloured, named stretch of a strip.
struct Band {
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    color: &'static str,
    name: String,
}

fn strip(svg: &mut String, class: &str, y: f64, bands: &[Band], s: &Scale, offset: &FixedOffset) {
    for b in bands {
        let x0 = s.x(b.from);
        let x1 = s.x(b.to).max(x0 + 1.0);
        let _ = write!(
            svg,
            r#"<rect class="{class}" x="{x0:.1}" y="{y:.1}" width="{:.1}" height="{STRIP_H}" fill="{}"><title>{} from {} to {}</title></rect>"#,
            x1 - x0,
            b.color,
            esc(&b.name),
            b.from.with_timezone(offset).format("%H:%M:%S"),
            b.to.with_timezone(offset).format("%H:%M:%S"),
        );
        // Name the stretch inside it when it is wide enough to read.
        if x1 - x0 > 7.0 * b.name.chars().count() as f64 + 6.0 {
            let _ = write!(
                svg,
                r##"<text x="{:.1}" y="{:.1}" font-size="10" fill="#111827">{}</text>"##,
                x0 + 3.0,
                y + STRIP_H - 3.5,
                esc(&b.name)
            );
        }
    }
}

fn bands<T>(
    spans: &[Span<T>],
    color: impl Fn(&T) -> &'static str,
    name: impl Fn(&T) -> String,
) -> Vec<Band> {
    spans
        .iter()
        .map(|sp| Band {
            from: sp.from,
            to: sp.to,
            color: color(&sp.value),
            name: name(&sp.value),
        })
        .collect()
}

/// The chart of one task over `[t0, t1]` with the `--max-lag` line.
pub fn lag_chart(
    task: &TaskReport,
    t0: DateTime<Utc>,
    t1: DateTime<Utc>,
    max_lag: u64,
    offset: &FixedOffset,
) -> String {
    let data_max = task
        .points
        .iter()
        .flat_map(|p| [p.reported, p.true_lag])
        .flatten()
        .max()
        .unwrap_or(0);
    let scale = Scale {
        t0,
        t1: if t1 > t0 {
            t1
        } else {
            t0 + chrono::Duration::seconds(1)
        },
        ymax: nice_ceiling(data_max.max(1024)),
    };
    let (px, py, pw, ph) = PLOT;
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg class="lag-chart" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" role="img" aria-label="{}" data-t0="{}" data-t1="{}" data-ymax="{}" data-plot="{px} {py} {pw} {ph}" font-family="sans-serif">"#,
        esc(&format!("lag of task {} over time", task.name)),
        scale.t0.timestamp_millis(),
        scale.t1.timestamp_millis(),
        scale.ymax,
    );
    // Stage bands behind the plot.
    for sp in &task.stages {
        let x0 = scale.x(sp.from);
        let x1 = scale.x(sp.to).max(x0 + 1.0);
        let _ = write!(
            svg,
            r#"<rect x="{x0:.1}" y="{py}" width="{:.1}" height="{ph}" fill="{}" fill-opacity="0.35"/>"#,
            x1 - x0,
            stage_color(sp.value.as_ref())
        );
    }
    let _ = write!(
        svg,
        r##"<rect x="{px}" y="{py}" width="{pw}" height="{ph}" fill="none" stroke="#9ca3af"/>"##
    );
    // The lag axis.
    for k in 0..=4u64 {
        let v = scale.ymax / 4 * k;
        let y = scale.y(v);
        let _ = write!(
            svg,
            r##"<line x1="{px}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="#e5e7eb"/><text class="y-tick" x="{:.1}" y="{:.1}" font-size="11" text-anchor="end" fill="#374151">{}</text>"##,
            px + pw,
            px - 6.0,
            y + 4.0,
            esc(&units::bytes(v))
        );
    }
    // The time axis.
    let span = (scale.t1 - scale.t0).num_seconds().max(1);
    let step = time_step(span);
    let first = scale.t0.timestamp().div_euclid(step) * step + step;
    let fmt = if step >= 60 { "%H:%M" } else { "%H:%M:%S" };
    let mut t = first;
    while t <= scale.t1.timestamp() {
        let at = DateTime::from_timestamp(t, 0).unwrap_or(scale.t0);
        let x = scale.x(at);
        // A label at the right edge ends there instead of running off the picture.
        let anchor = if x > px + pw - 25.0 { "end" } else { "middle" };
        let _ = write!(
            svg,
            r##"<line x1="{x:.1}" y1="{:.1}" x2="{x:.1}" y2="{:.1}" stroke="#9ca3af"/><text class="x-tick" x="{x:.1}" y="{:.1}" font-size="11" text-anchor="{anchor}" fill="#374151">{}</text>"##,
            py + ph,
            py + ph + 4.0,
            py + ph + 17.0,
            at.with_timezone(offset).format(fmt)
        );
        t += step;
    }
    // The threshold, when it is within the plot.
    if max_lag <= scale.ymax {
        let y = scale.y(max_lag);
        let _ = write!(
            svg,
            r##"<line class="max-lag" x1="{px}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="#dc2626" stroke-dasharray="2 3"/><text x="{:.1}" y="{:.1}" font-size="10" text-anchor="end" fill="#dc2626">max lag {}</text>"##,
            px + pw,
            px + pw - 4.0,
            y - 3.0,
            esc(&units::bytes(max_lag))
        );
    }
    series(
        &mut svg,
        "reported",
        REPORTED_COLOR,
        "",
        &runs(&task.points, |p| p.reported, |p| p.lower_bound, &scale),
    );
    series(
        &mut svg,
        "true",
        TRUE_COLOR,
        r#" stroke-dasharray="5 3""#,
        &runs(&task.points, |p| p.true_lag, |_| false, &scale),
    );
    if data_max == 0 && !task.points.iter().any(|p| p.reported.is_some()) {
        let _ = write!(
            svg,
            r##"<text class="no-data" x="{:.1}" y="{:.1}" font-size="13" text-anchor="middle" fill="#6b7280">no lag reported in this recording</text>"##,
            px + pw / 2.0,
            py + ph / 2.0
        );
    }
    // Failed polls as ticks on the time axis.
    for p in task.points.iter().filter(|p| p.failed) {
        let x = scale.x(p.at);
        let _ = write!(
            svg,
            r##"<line class="failed-poll" x1="{x:.1}" y1="{:.1}" x2="{x:.1}" y2="{:.1}" stroke="#7f1d1d" stroke-width="2"/>"##,
            py + ph - 8.0,
            py + ph
        );
    }
    let _ = write!(
        svg,
        r##"<text x="{:.1}" y="{:.1}" font-size="11" text-anchor="end" fill="#374151">verdict</text>"##,
        px - 6.0,
        VERDICT_Y + STRIP_H - 3.0
    );
    let verdicts = bands(
        &task.verdicts,
        |v| verdict_color(*v),
        |v| label(*v).to_string(),
    );
    strip(&mut svg, "verdict", VERDICT_Y, &verdicts, &scale, offset);
    let _ = write!(
        svg,
        r##"<text x="{:.1}" y="{:.1}" font-size="11" text-anchor="end" fill="#374151">stage</text>"##,
        px - 6.0,
        STAGE_Y + STRIP_H - 3.0
    );
    let stages = bands(
        &task.stages,
        |s| stage_color(s.as_ref()),
        |s| s.as_ref().map_or("unknown".to_string(), |s| s.to_string()),
    );
    strip(&mut svg, "stage", STAGE_Y, &stages, &scale, offset);
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ceilings_are_round() {
        assert_eq!(nice_ceiling(0), 1);
        assert_eq!(nice_ceiling(3), 5);
        assert_eq!(nice_ceiling(1000), 1024);
        assert_eq!(nice_ceiling(1025), 2 << 10);
        assert_eq!(nice_ceiling(15 << 20), 20 << 20);
        assert_eq!(nice_ceiling(600 << 20), 1 << 30);
    }

    #[test]
    fn time_steps_give_few_ticks() {
        assert_eq!(time_step(10), 2);
        assert_eq!(time_step(120), 15);
        assert_eq!(time_step(3600), 600);
        assert!(3 * 86400 * 30 / time_step(3 * 86400 * 30) <= 8);
    }

    #[test]
    fn thinning_keeps_the_extremes() {
        let pts: Vec<(f64, f64)> = (0..10_000)
            .map(|i| {
                (
                    PLOT.0 + i as f64 * 0.05,
                    if i == 4321 { 0.0 } else { 100.0 },
                )
            })
            .collect();
        let thin = thin(pts);
        assert!(thin.len() < 4000);
        assert!(thin.iter().any(|p| p.1 == 0.0));
    }
}
