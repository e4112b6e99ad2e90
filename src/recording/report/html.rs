//! The report page: well-formed (XHTML-compatible) HTML with inline CSS and inline SVG, no
//! scripts and nothing loaded from elsewhere, so it opens offline and attaches to a ticket.
//!
//! Written with maud rather than askama: `html!` is checked by the compiler and escapes every
//! `(value)` it is given, so no row can forget to (the page was once `writeln!` with manual
//! escaping, and some rows skipped it); the page is one Rust function over the report's
//! types, with no template files and no second language to keep in step. What must not be
//! escaped is marked: the chart's SVG (built by `svg`, which escapes its own text) and the two
//! `<meta/>` tags, which maud would write unclosed, as HTML allows and XML does not.

use std::time::Duration;

use chrono::{DateTime, FixedOffset, Utc};
use maud::{DOCTYPE, Markup, PreEscaped, html};

use super::svg;
use super::{Report, TaskReport, label};
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

fn badge(v: VerdictKind) -> Markup {
    html! { span class={ "badge " (verdict_class(v)) } { (label(v)) } }
}

/// Control characters have no place in a page and break XML parsers: server text (a task's
/// name, an error) may carry them, so the whole page is cleaned once (the markup itself has
/// none but newlines).
fn without_controls(page: String) -> String {
    if !page
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t')
    {
        return page;
    }
    page.chars()
        .map(|c| {
            if c.is_control() && c != '\n' && c != '\t' {
                '\u{FFFD}'
            } else {
                c
            }
        })
        .collect()
}

/// The page for `report`.
pub fn render(report: &Report) -> String {
    let off = &report.local_offset;
    let span = (report.to - report.from).to_std().unwrap_or_default();
    let page = html! {
        (DOCTYPE) "\n"
        html lang="en" {
            head {
                (PreEscaped(r#"<meta charset="utf-8"/><meta name="viewport" content="width=device-width, initial-scale=1"/>"#))
                title { "migtop report: " (report.title) }
                style { (PreEscaped(CSS)) }
            }
            "\n"
            body {
                h1 { "Migration report: " (report.title) }
                p.meta #recording {
                    "Recorded from " b { (time(report.from, off)) } " to " b { (time(report.to, off)) }
                    " (" (dur(span)) "), times in UTC" (off) ". "
                    (report.polls) " poll" @if report.polls != 1 { "s" } " of "
                    (report.instances.join(", ")) ", " (report.failed_polls) " failed."
                }
                p.meta #rules {
                    "Verdicts re-evaluated with the dashboard's rules: lag at most "
                    b { (units::bytes(report.readiness.max_lag)) } " for "
                    b { (dur(report.readiness.stable_for)) } "; poll interval " (dur(report.interval))
                    @if report.interval_guessed { " (from the recording)" }
                    ". "
                    @match &report.probe {
                        Some(t) => { "Source probe: " (t) " (true lag = the source's position − ReplayLsn)." }
                        None => "No source probe: only the lag the API reported is known.",
                    }
                }
                "\n"
                @for w in &report.warnings {
                    p class="meta warn" { "Recording: " (w) }
                    "\n"
                }
                @if report.tasks.len() > 1 {
                    ul #tasks {
                        @for t in &report.tasks {
                            li {
                                a href={ "#" (anchor(&t.key)) } { (t.name) }
                                " on " (t.instance) ": " (badge(t.last_verdict.kind()))
                            }
                            "\n"
                        }
                    }
                }
                @if report.tasks.is_empty() {
                    p { "No task was listed in this recording." }
                }
                @for t in &report.tasks {
                    (task_section(report, t))
                }
                (evidence(report))
                @if !report.instance_events.is_empty() {
                    h2 { "Instances without tasks" }
                    table.events #instance-events {
                        thead { tr { th { "time" } th { "instance" } th { "event" } th { "details" } } }
                        tbody {
                            @for (inst, e) in &report.instance_events {
                                tr class={ "ev-" (e.kind.as_str().replace(' ', "-")) } {
                                    td.time { (time(e.at, off)) }
                                    td { (inst) }
                                    td { (e.kind.as_str()) }
                                    td { (e.text) }
                                }
                                "\n"
                            }
                        }
                    }
                }
                footer {
                    "Made by migtop " (env!("CARGO_PKG_VERSION")) " from a recording. Lags are bytes of WAL; the reported lag is max(LatestEndLsn, ReceivedLsn) − ReplayLsn as RDS reports it; the true lag needs the source probe. A stage time marked ≥ began before the recording or had not ended when it stopped."
                }
            }
        }
        "\n"
    };
    without_controls(page.into_string())
}

/// "Cutover evidence": the steps `migtop switchover` carried out, on one timeline.
fn evidence(report: &Report) -> Markup {
    let off = &report.local_offset;
    html! {
        @if !report.evidence.is_empty() {
            h2 { "Cutover evidence" }
            table.events #evidence {
                thead { tr { th { "time" } th { "instance" } th { "step" } th { "result" } th { "details" } } }
                tbody {
                    @for e in &report.evidence {
                        tr data-step=(e.step.replace(' ', "-")) {
                            td.time { (time(e.at, off)) }
                            td { (e.instance) }
                            td { (e.step) }
                            td {
                                @match e.passed {
                                    Some(true) => "passed",
                                    Some(false) => "FAILED",
                                    None => "",
                                }
                            }
                            td { (e.text) }
                        }
                        "\n"
                    }
                }
            }
        }
    }
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

/// A line of a task's summary table.
fn row(key: &str, name: &str, value: Markup) -> Markup {
    html! { tr data-key=(key) { th { (name) } td { (value) } } "\n" }
}

/// `≥ X` when the figure was read while it was only a lower bound.
fn lag(v: &Option<(u64, DateTime<Utc>)>, lower_bound: bool, off: &FixedOffset) -> Markup {
    html! {
        @match v {
            Some((b, at)) => { span data-bytes=(b) { (units::lag(*b, lower_bound)) } " at " (time(*at, off)) }
            None => "unknown",
        }
    }
}

/// A time with its Unix timestamp for machines, or `none`.
fn at_or(v: Option<DateTime<Utc>>, none: &str, off: &FixedOffset) -> Markup {
    html! {
        @match v {
            Some(at) => span data-ts=(at.timestamp()) { (time(at, off)) },
            None => (none),
        }
    }
}

fn summary(report: &Report, t: &TaskReport) -> Markup {
    let off = &report.local_offset;
    let s = &t.summary;
    let last = &t.last_verdict;
    let reasons = match last {
        // What DRAINED loses, by the source checklist ("loses nothing" only without a loss).
        Verdict::Drained { simulated, .. } => {
            words::drained_words(*simulated, t.checklist.as_ref())
        }
        // Past the switchover the badge says it all.
        _ if matches!(last.kind(), VerdictKind::Switching | VerdictKind::Finished) => String::new(),
        _ => last
            .reasons()
            .iter()
            .map(|r| r.to_string())
            .collect::<Vec<_>>()
            .join("; "),
    };
    let switchover = html! {
        @match &s.switchover {
            None => "no switchover in this recording",
            Some(sw) => {
                span data-ts=(sw.at.timestamp()) { (time(sw.at, off)) }
                @if sw.sent_by_migtop { " (sent by migtop, accepted)" }
                @else { " (seen as the stage moving on (between two polls))" }
            }
        }
    };
    let drained = html! {
        @match &s.switchover {
            None => "—",
            Some(sw) => @match (sw.drained_for, sw.verdict_before) {
                (Some(d), _) => {
                    span data-seconds=(d.as_secs()) { (dur(d)) }
                    " (DRAINED at " (time(sw.at - chrono::Duration::from_std(d).unwrap_or_default(), off)) ")"
                }
                (None, Some(v)) => { "not DRAINED at the switchover: the verdict was " (badge(v)) }
                (None, None) => "no verdict before the switchover",
            },
        }
    };
    html! {
        table.summary {
            tbody {
                (row("last-verdict", "Verdict at the end", html! {
                    (badge(last.kind())) @if !reasons.is_empty() { " " (reasons) }
                }))
                @if let Some(c) = &t.checklist {
                    (row("checklist", "Source checklist", html! {
                        (c.counts_text()) " (read " (time(c.at, off)) ")"
                        @if !c.items.is_empty() {
                            ul {
                                @for i in &c.items {
                                    li data-severity=(i.severity().key()) {
                                        (i.severity().label()) ": " (i.to_string())
                                    }
                                }
                            }
                        }
                    }))
                }
                @for (stage, d, lower) in &s.time_in_stage {
                    tr data-key="stage-time" data-stage=(stage.as_str()) data-seconds=(d.as_secs()) {
                        th { "Time in " (stage.as_str()) }
                        td.num { @if *lower { "≥ " } (dur(*d)) }
                    }
                    "\n"
                }
                (row("max-reported", "Max lag (reported)", lag(&s.max_reported, s.max_reported_lower_bound, off)))
                @if report.probe.is_some() {
                    (row("max-true", "Max lag (true)", lag(&s.max_true, false, off)))
                }
                (row("first-in-sync", "First IN SYNC", at_or(s.first_in_sync, "never", off)))
                (row("first-drained", "First DRAINED", at_or(s.first_drained, "never", off)))
                (row("switchover", "Switchover", switchover))
                (row("drained-to-switchover", "DRAINED to switchover", drained))
                (row("polls", "Polls", html! { (s.polls) " (" (s.failed_polls) " failed)" }))
            }
        }
    }
}

fn chart(report: &Report, t: &TaskReport) -> Markup {
    let off = &report.local_offset;
    let t0 = t.points.first().map_or(report.from, |p| p.at);
    let t1 = t.points.last().map_or(report.to, |p| p.at);
    html! {
        figure {
            // Built by `svg`, which escapes its own text.
            (PreEscaped(svg::lag_chart(t, t0, t1, report.readiness.max_lag, off)))
            "\n"
            figcaption.legend {
                span { i.swatch style={ "background:" (svg::REPORTED_COLOR) } {} "reported lag (dotted: a lower bound: not streaming or the link silent)" }
                @if report.probe.is_some() {
                    span { i.swatch style={ "background:" (svg::TRUE_COLOR) } {} "true lag (source probe)" }
                }
                span { i.swatch style="background:#dc2626" {} "--max-lag" }
                span {
                    "verdict: " (badge(VerdictKind::NotReady)) " " (badge(VerdictKind::InSync)) " "
                    (badge(VerdictKind::Drained))
                }
            }
        }
    }
}

fn stage_timeline(report: &Report, t: &TaskReport) -> Markup {
    let off = &report.local_offset;
    html! {
        h3 { "Stage timeline" }
        table.stages {
            thead { tr { th { "stage" } th { "from" } th { "to" } th { "for" } } }
            tbody {
                @for sp in &t.stages {
                    tr {
                        td { (sp.value.as_ref().map_or("unknown", |s| s.as_str())) }
                        td.time { @if sp.open_start { "≤ " } (time(sp.from, off)) }
                        td.time { (time(sp.to, off)) @if sp.open_end { " (still)" } }
                        td.num { @if sp.open_start || sp.open_end { "≥ " } (dur(sp.duration())) }
                    }
                    "\n"
                }
            }
        }
    }
}

fn events(report: &Report, t: &TaskReport) -> Markup {
    let off = &report.local_offset;
    html! {
        h3 { "Events" }
        table.events {
            thead { tr { th { "time" } th { "event" } th { "details" } } }
            tbody {
                @for e in &t.events {
                    tr class={ "ev-" (e.kind.as_str().replace(' ', "-")) } {
                        td.time { (time(e.at, off)) }
                        td { (e.kind.as_str()) }
                        td { (e.text) }
                    }
                    "\n"
                }
            }
        }
    }
}

fn task_section(report: &Report, t: &TaskReport) -> Markup {
    let id = t.task_id.map(|i| format!(" (TaskId {i})"));
    html! {
        section.task id=(anchor(&t.key)) {
            "\n"
            h2 { "Task " (t.name) @if let Some(id) = &id { (id) } " on " (t.instance) }
            "\n"
            (summary(report, t))
            "\n"
            (chart(report, t))
            "\n"
            (stage_timeline(report, t))
            "\n"
            (events(report, t))
        }
        "\n"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_become_replacement_characters() {
        assert_eq!(
            without_controls("a\x1b[31mb\x07\n\tc".into()),
            "a\u{FFFD}[31mb\u{FFFD}\n\tc"
        );
        assert_eq!(without_controls("plain\n".into()), "plain\n");
    }

    #[test]
    fn badges_and_rows_escape_what_they_are_given() {
        let r = row("k", "<th>", html! { ("a & b") });
        assert_eq!(
            r.into_string(),
            "<tr data-key=\"k\"><th>&lt;th&gt;</th><td>a &amp; b</td></tr>\n"
        );
    }
}
