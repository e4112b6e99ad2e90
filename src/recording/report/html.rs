//! The report page: well-formed (XHTML-compatible) HTML with inline CSS and inline SVG, no
//! scripts and nothing loaded from elsewhere, so it opens offline and attaches to a ticket.

use std::fmt::Write;
use std::time::Duration;

use chrono::{DateTime, FixedOffset, Utc};

use super::svg;
use super::{Report, TaskReport, esc, label};
use crate::util::units;
use crate::verdict::readiness::{Verdict, VerdictKind};
use crate::verdict::words;

const CSS: &str = "
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:24px auto;max-width:960px;color:#111827;line-height:1.4}
h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 6px;border-bottom:1px solid #d1d5db;padding-bottom:4px}
h3{font-size:15px;margin:16px 0 6px}
p.meta{color:#374151;margin:4px 0}
table{border-collapse:collapse;font-size:13px;margin:4px 0}
th,td{border:1px solid #e5e7eb;padding:3px 8px;text-align:left;vertical-align:top}
th{background:#f3f4f6;font-weight:600}
table.summary th{width:260px}
td.num{text-align:right;font-variant-numeric:tabular-nums}
td.time{white-space:nowrap;font-variant-numeric:tabular-nums}
.badge{display:inline-block;padding:0 6px;border-radius:3px;color:#fff;font-weight:600;font-size:12px}
.v-not-ready{background:#dc2626}.v-in-sync{background:#ca8a04}.v-drained{background:#16a34a}.v-past{background:#0891b2}
tr.ev-error td,tr.ev-disconnect td,tr.ev-probe-error td{background:#fef2f2}
tr.ev-switchover td{background:#fefce8;font-weight:600}
tr.ev-stage td{background:#eff6ff}
.legend span{margin-right:16px;font-size:12px}
.swatch{display:inline-block;width:18px;height:3px;vertical-align:middle;margin-right:4px}
.warn{color:#b45309}
footer{margin-top:32px;color:#6b7280;font-size:12px}
@media print{body{margin:0}h2{page-break-before:auto}figure{page-break-inside:avoid}}
";

fn time(at: DateTime<Utc>, offset: &FixedOffset) -> String {
    at.with_timezone(offset)
        .format("%Y-%m-%d %H:%M:%S")
        .to_string()
}

fn dur(d: Duration) -> String {
    units::duration(d)
}

fn verdict_class(v: VerdictKind) -> &'static str {
    match v {
        VerdictKind::NotReady => "v-not-ready",
        VerdictKind::InSync => "v-in-sync",
        VerdictKind::Drained => "v-drained",
        VerdictKind::Switching | VerdictKind::Finished => "v-past",
    }
}

fn badge(v: VerdictKind) -> String {
    format!(
        r#"<span class="badge {}">{}</span>"#,
        verdict_class(v),
        label(v)
    )
}

/// The page for `report`.
pub fn render(report: &Report) -> String {
    let off = &report.local_offset;
    let mut h = String::new();
    h.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n");
    h.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n");
    let _ = writeln!(
        h,
        "<title>migtop report: {}</title>\n<style>{CSS}</style>\n</head>\n<body>",
        esc(&report.title)
    );
    let _ = writeln!(h, "<h1>Migration report: {}</h1>", esc(&report.title));
    let span = (report.to - report.from).to_std().unwrap_or_default();
    let _ = writeln!(
        h,
        r#"<p class="meta" id="recording">Recorded from <b>{}</b> to <b>{}</b> ({}), times in UTC{}. {} poll{} of {}, {} failed.</p>"#,
        time(report.from, off),
        time(report.to, off),
        dur(span),
        off,
        report.polls,
        if report.polls == 1 { "" } else { "s" },
        esc(&report.instances.join(", ")),
        report.failed_polls
    );
    let _ = writeln!(
        h,
        r#"<p class="meta" id="rules">Verdicts re-evaluated with the dashboard's rules: lag at most <b>{}</b> for <b>{}</b>; poll interval {}{}. {}</p>"#,
        esc(&units::bytes(report.readiness.max_lag)),
        dur(report.readiness.stable_for),
        dur(report.interval),
        if report.interval_guessed {
            " (from the recording)"
        } else {
            ""
        },
        match &report.probe {
            Some(t) => format!(
                "Source probe: {} (true lag = the source's position − ReplayLsn).",
                esc(t)
            ),
            None => "No source probe: only the lag the API reported is known.".to_string(),
        }
    );
    for w in &report.warnings {
        let _ = writeln!(h, r#"<p class="meta warn">Recording: {}</p>"#, esc(w));
    }
    if report.tasks.len() > 1 {
        h.push_str("<ul id=\"tasks\">\n");
        for t in &report.tasks {
            let _ = writeln!(
                h,
                "<li><a href=\"#{}\">{}</a> on {}: {}</li>",
                anchor(&t.key),
                esc(&t.name),
                esc(&t.instance),
                badge(t.last_verdict.kind())
            );
        }
        h.push_str("</ul>\n");
    }
    if report.tasks.is_empty() {
        h.push_str("<p>No task was listed in this recording.</p>\n");
    }
    for t in &report.tasks {
        task_section(&mut h, report, t);
    }
    evidence_section(&mut h, report);
    if !report.instance_events.is_empty() {
        h.push_str("<h2>Instances without tasks</h2>\n<table class=\"events\" id=\"instance-events\">\n<thead><tr><th>time</th><th>instance</th><th>event</th><th>details</th></tr></thead>\n<tbody>\n");
        for (inst, e) in &report.instance_events {
            let _ = writeln!(
                h,
                r#"<tr class="ev-{}"><td class="time">{}</td><td>{}</td><td>{}</td><td>{}</td></tr>"#,
                e.kind.as_str().replace(' ', "-"),
                time(e.at, off),
                esc(inst),
                esc(e.kind.as_str()),
                esc(&e.text)
            );
        }
        h.push_str("</tbody>\n</table>\n");
    }
    let _ = writeln!(
        h,
        "<footer>Made by migtop {} from a recording. Lags are bytes of WAL; the reported lag is max(LatestEndLsn, ReceivedLsn) − ReplayLsn as RDS reports it; the true lag needs the source probe. A stage time marked ≥ began before the recording or had not ended when it stopped.</footer>\n</body>\n</html>",
        env!("CARGO_PKG_VERSION")
    );
    h
}

/// "Cutover evidence": the steps `migtop switchover` carried out, on one timeline.
fn evidence_section(h: &mut String, report: &Report) {
    if report.evidence.is_empty() {
        return;
    }
    let off = &report.local_offset;
    h.push_str("<h2>Cutover evidence</h2>\n<table class=\"events\" id=\"evidence\">\n<thead><tr><th>time</th><th>instance</th><th>step</th><th>result</th><th>details</th></tr></thead>\n<tbody>\n");
    for e in &report.evidence {
        let result = match e.passed {
            Some(true) => "passed",
            Some(false) => "FAILED",
            None => "",
        };
        let _ = writeln!(
            h,
            r#"<tr data-step="{}"><td class="time">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>"#,
            e.step.replace(' ', "-"),
            time(e.at, off),
            esc(&e.instance),
            esc(e.step),
            result,
            esc(&e.text)
        );
    }
    h.push_str("</tbody>\n</table>\n");
}

/// An id attribute for a task key (`pgm-1/7` → `task-pgm-1-7`).
pub fn anchor(key: &str) -> String {
    let mut s = String::from("task-");
    for c in key.chars() {
        s.push(if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
            c
        } else {
            '-'
        });
    }
    s
}

fn row(h: &mut String, key: &str, name: &str, value: &str) {
    let _ = writeln!(
        h,
        r#"<tr data-key="{key}"><th>{}</th><td>{value}</td></tr>"#,
        esc(name)
    );
}

fn task_section(h: &mut String, report: &Report, t: &TaskReport) {
    let off = &report.local_offset;
    let id = t
        .task_id
        .map(|i| format!(" (TaskId {i})"))
        .unwrap_or_default();
    let _ = writeln!(
        h,
        r#"<section class="task" id="{}">
<h2>Task {}{} on {}</h2>"#,
        anchor(&t.key),
        esc(&t.name),
        id,
        esc(&t.instance)
    );
    // Summary.
    let s = &t.summary;
    h.push_str("<table class=\"summary\">\n<tbody>\n");
    let last = &t.last_verdict;
    let reasons = match last {
        // What DRAINED loses, by the source checklist ("loses nothing" only without a loss).
        Verdict::Drained { simulated, .. } => {
            esc(&words::drained_words(*simulated, t.checklist.as_ref()))
        }
        // Past the switchover the badge says it all.
        _ if matches!(last.kind(), VerdictKind::Switching | VerdictKind::Finished) => String::new(),
        _ => last
            .reasons()
            .iter()
            .map(|r| esc(&r.to_string()))
            .collect::<Vec<_>>()
            .join("; "),
    };
    row(
        h,
        "last-verdict",
        "Verdict at the end",
        &if reasons.is_empty() {
            badge(last.kind())
        } else {
            format!("{} {reasons}", badge(last.kind()))
        },
    );
    if let Some(c) = &t.checklist {
        let items: String = c
            .items
            .iter()
            .map(|i| {
                format!(
                    r#"<li data-severity="{}">{}: {}</li>"#,
                    i.severity().key(),
                    esc(i.severity().label()),
                    esc(&i.to_string())
                )
            })
            .collect();
        row(
            h,
            "checklist",
            "Source checklist",
            &format!(
                "{} (read {}){}",
                esc(&c.counts_text()),
                time(c.at, off),
                if items.is_empty() {
                    String::new()
                } else {
                    format!("<ul>{items}</ul>")
                }
            ),
        );
    }
    for (stage, d, lower) in &s.time_in_stage {
        let _ = writeln!(
            h,
            r#"<tr data-key="stage-time" data-stage="{}" data-seconds="{}"><th>Time in {}</th><td class="num">{}{}</td></tr>"#,
            esc(stage.as_str()),
            d.as_secs(),
            esc(stage.as_str()),
            if *lower { "≥ " } else { "" },
            dur(*d)
        );
    }
    // `≥ X` when the figure was read while it was only a lower bound.
    let lag = |v: &Option<(u64, DateTime<Utc>)>, lower_bound: bool| match v {
        Some((b, at)) => format!(
            r#"<span data-bytes="{b}">{}</span> at {}"#,
            esc(&units::lag(*b, lower_bound)),
            time(*at, off)
        ),
        None => "unknown".to_string(),
    };
    row(
        h,
        "max-reported",
        "Max lag (reported)",
        &lag(&s.max_reported, s.max_reported_lower_bound),
    );
    if report.probe.is_some() {
        row(h, "max-true", "Max lag (true)", &lag(&s.max_true, false));
    }
    let at_or = |v: Option<DateTime<Utc>>, none: &str| match v {
        Some(at) => format!(
            r#"<span data-ts="{}">{}</span>"#,
            at.timestamp(),
            time(at, off)
        ),
        None => none.to_string(),
    };
    row(
        h,
        "first-in-sync",
        "First IN SYNC",
        &at_or(s.first_in_sync, "never"),
    );
    row(
        h,
        "first-drained",
        "First DRAINED",
        &at_or(s.first_drained, "never"),
    );
    let sw = match &s.switchover {
        None => "no switchover in this recording".to_string(),
        Some(sw) => {
            let how = if sw.sent_by_migtop {
                "sent by migtop, accepted"
            } else {
                "seen as the stage moving on (between two polls)"
            };
            format!(
                r#"<span data-ts="{}">{}</span> ({how})"#,
                sw.at.timestamp(),
                time(sw.at, off)
            )
        }
    };
    row(h, "switchover", "Switchover", &sw);
    let drained = match &s.switchover {
        None => "—".to_string(),
        Some(sw) => match (sw.drained_for, sw.verdict_before) {
            (Some(d), _) => format!(
                r#"<span data-seconds="{}">{}</span> (DRAINED at {})"#,
                d.as_secs(),
                dur(d),
                time(
                    sw.at - chrono::Duration::from_std(d).unwrap_or_default(),
                    off
                )
            ),
            (None, Some(v)) => format!(
                "not DRAINED at the switchover: the verdict was {}",
                badge(v)
            ),
            (None, None) => "no verdict before the switchover".to_string(),
        },
    };
    row(
        h,
        "drained-to-switchover",
        "DRAINED to switchover",
        &drained,
    );
    row(
        h,
        "polls",
        "Polls",
        &format!("{} ({} failed)", s.polls, s.failed_polls),
    );
    h.push_str("</tbody>\n</table>\n");
    // Chart.
    let t0 = t.points.first().map_or(report.from, |p| p.at);
    let t1 = t.points.last().map_or(report.to, |p| p.at);
    h.push_str("<figure>\n");
    h.push_str(&svg::lag_chart(t, t0, t1, report.readiness.max_lag, off));
    let _ = writeln!(
        h,
        r#"
<figcaption class="legend"><span><i class="swatch" style="background:{}"></i>reported lag (dotted: a lower bound: not streaming or the link silent)</span>{}<span><i class="swatch" style="background:#dc2626"></i>--max-lag</span><span>verdict: {} {} {}</span></figcaption>
</figure>"#,
        svg::REPORTED_COLOR,
        if report.probe.is_some() {
            format!(
                r#"<span><i class="swatch" style="background:{}"></i>true lag (source probe)</span>"#,
                svg::TRUE_COLOR
            )
        } else {
            String::new()
        },
        badge(VerdictKind::NotReady),
        badge(VerdictKind::InSync),
        badge(VerdictKind::Drained)
    );
    // Stage timeline.
    h.push_str("<h3>Stage timeline</h3>\n<table class=\"stages\">\n<thead><tr><th>stage</th><th>from</th><th>to</th><th>for</th></tr></thead>\n<tbody>\n");
    for sp in &t.stages {
        let name = sp.value.as_ref().map_or("unknown", |s| s.as_str());
        let _ = writeln!(
            h,
            r#"<tr><td>{}</td><td class="time">{}{}</td><td class="time">{}{}</td><td class="num">{}{}</td></tr>"#,
            esc(name),
            if sp.open_start { "≤ " } else { "" },
            time(sp.from, off),
            time(sp.to, off),
            if sp.open_end { " (still)" } else { "" },
            if sp.open_start || sp.open_end {
                "≥ "
            } else {
                ""
            },
            dur(sp.duration())
        );
    }
    h.push_str("</tbody>\n</table>\n");
    // Events.
    h.push_str("<h3>Events</h3>\n<table class=\"events\">\n<thead><tr><th>time</th><th>event</th><th>details</th></tr></thead>\n<tbody>\n");
    for e in &t.events {
        let details = esc(&e.text);
        let _ = writeln!(
            h,
            r#"<tr class="ev-{}"><td class="time">{}</td><td>{}</td><td>{}</td></tr>"#,
            e.kind.as_str().replace(' ', "-"),
            time(e.at, off),
            esc(e.kind.as_str()),
            details
        );
    }
    h.push_str("</tbody>\n</table>\n</section>\n");
}
