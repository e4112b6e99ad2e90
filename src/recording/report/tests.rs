//! The report from a recording made up poll by poll: the page parses as XML, the chart's
//! points map back to the recorded lags, the events and summary say what happened.

use std::time::Duration;

use chrono::{DateTime, FixedOffset, Utc};
use quick_xml::Reader;
use quick_xml::events::Event as XmlEvent;
use serde_json::json;

use super::*;
use crate::aliyun::{ApiError, InstanceSnapshot};
use crate::model::Page;
use crate::poller::PollResult;
use crate::probe::{ProbeReport, SourceSample};
use crate::recording::{PollRecord, SwitchoverRecord, encode};

const MIB: u64 = 1 << 20;
const BASE: u64 = 0x5_0000_0000;

fn t(s: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(1_780_000_000 + s, 0).unwrap()
}

fn lsn(v: u64) -> String {
    format!("{:X}/{:X}", v >> 32, v & 0xFFFF_FFFF)
}

/// One poll at `s` s: task 7 in `stage`/`state`, the source at `end` (also the probe's
/// reading when `probe`), `lag` bytes not replayed.
fn poll(s: i64, stage: &str, state: &str, end: u64, lag: u64, probe: bool) -> Entry {
    let ri = json!({
        "Status": state, "ReceiveStartLsn": "5/0", "ReceivedLsn": lsn(end), "LatestEndLsn": lsn(end),
        "ReplayLsn": lsn(end - lag), "Synced": if state == "streaming" { "true" } else { "false" },
        "ReceivedTli": "1", "Conninfo": "user=rep password=CONNPW-MARK-5120 host=10.0.0.5",
    })
    .to_string();
    let body = json!({"Items": [{"TaskId": 7, "TaskName": "orders <b>&amp;</b> \"eu\"",
        "MigrateStage": stage, "ReplicationState": state, "ReplicationInfo": ri,
        "SourcePassword": "SRCPW-MARK-7731",
        "Detail": "[Check]\\nCheck disk: warning(warning:<script>alert(1)</script>)"}]});
    let page = Page::from_json("pgm-1", &body).unwrap();
    Entry::Poll(PollRecord::from(&PollResult {
        instance: "pgm-1".into(),
        started: t(s),
        at: t(s),
        result: Ok(InstanceSnapshot {
            instance: "pgm-1".into(),
            request_id: Some("R".into()),
            tasks: page.tasks,
            item_errors: vec![],
            ..Default::default()
        }),
        source: probe.then(|| ProbeReport {
            target: "postgres://rep:********@10.0.0.5/postgres".into(),
            result: Ok(SourceSample {
                at: t(s),
                lsn: crate::model::Lsn(end),
                in_recovery: false,
                timeline: Some(1),
                server_version: Some(150004),
                round_trip_ms: 1,
                // The source's transactions move with its WAL in this story: still when idle.
                next_xid: Some(1000 + end / MIB),
                xid_in_progress: Some(false),
                wal_sender_timeout: None,
                simulated: false,
            }),
            checklist: None,
        }),
    }))
}

fn failed(s: i64) -> Entry {
    Entry::Poll(PollRecord::from(&PollResult {
        instance: "pgm-1".into(),
        started: t(s),
        at: t(s),
        result: Err(ApiError::Api {
            code: "Throttling.User".into(),
            message: "Request was denied due to user flow control <&>".into(),
            request_id: Some("R-9".into()),
            http_status: 400,
        }),
        source: None,
    }))
}

/// Five minutes of one task: basebackup until 30 s, increment with the lag falling from
/// 40 MiB to 0 by 100 s, a disconnect at 120–130 s, throttled at 140–150 s, the source still from 155 s
/// (DRAINED 30 s later), the switchover sent at 240 s, stage switch at 245 s, success at 260 s.
fn story() -> Vec<Entry> {
    let mut v = Vec::new();
    let mut end = BASE;
    for s in (0..=260).step_by(5) {
        let e = match s {
            0..=25 => poll(s, "basebackup", "unstarted", end, 0, true),
            140 | 145 | 150 => failed(s),
            120 | 125 => {
                end += MIB;
                poll(s, "increment", "disconnect", end, 2 * MIB, true)
            }
            30..=159 => {
                end += 2 * MIB;
                let lag = if s <= 100 {
                    (40 * MIB).saturating_sub((s as u64 - 30) * 40 * MIB / 70)
                } else {
                    0
                };
                poll(s, "increment", "streaming", end, lag, true)
            }
            160..=240 => poll(s, "increment", "streaming", end, 0, true),
            245..=255 => poll(s, "switch", "finish", end, 0, true),
            _ => poll(s, "success", "finish", end, 0, true),
        };
        v.push(e);
        if s == 240 {
            v.push(Entry::Switchover(SwitchoverRecord {
                instance: "pgm-1".into(),
                task_id: Some(7),
                requested: t(240),
                at: t(241),
                accepted: true,
                message: "ActivateMigrationTargetInstance accepted, request id R-77.".into(),
                origin: "dashboard".into(),
            }));
        }
    }
    v
}

fn recording() -> Recording {
    let text: String = story().iter().map(encode).collect();
    Recording::parse(&text)
}

fn config() -> ReportConfig {
    ReportConfig {
        readiness: ReadinessConfig {
            max_lag: 16 * MIB,
            stable_for: Duration::from_secs(30),
        },
        local_offset: FixedOffset::east_opt(8 * 3600).unwrap(),
        interval: None,
        title: "cutover <pgm-1>.jsonl".into(),
    }
}

/// A minimal DOM of the page, read with an XML parser (the page must be well-formed).
#[derive(Debug, Default, Clone)]
struct Node {
    name: String,
    attrs: Vec<(String, String)>,
    children: Vec<Node>,
    text: String,
}

impl Node {
    fn attr(&self, k: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(a, _)| a == k)
            .map(|(_, v)| v.as_str())
    }

    fn has_class(&self, c: &str) -> bool {
        self.attr("class")
            .is_some_and(|v| v.split_whitespace().any(|x| x == c))
    }

    fn all<'a>(&'a self, pred: &dyn Fn(&Node) -> bool, out: &mut Vec<&'a Node>) {
        if pred(self) {
            out.push(self);
        }
        for c in &self.children {
            c.all(pred, out);
        }
    }

    fn find_all(&self, pred: impl Fn(&Node) -> bool) -> Vec<&Node> {
        let mut out = Vec::new();
        self.all(&pred, &mut out);
        out
    }

    /// All text below this node.
    fn text_all(&self) -> String {
        let mut s = self.text.clone();
        for c in &self.children {
            s.push_str(&c.text_all());
        }
        s
    }
}

fn parse(html: &str) -> Node {
    let mut reader = Reader::from_str(html);
    let mut stack = vec![Node::default()];
    let attrs = |e: &quick_xml::events::BytesStart| -> Vec<(String, String)> {
        e.attributes()
            .map(|a| {
                let a = a.expect("well-formed attribute");
                (
                    String::from_utf8(a.key.as_ref().to_vec()).unwrap(),
                    a.unescape_value().expect("escaped value").into_owned(),
                )
            })
            .collect()
    };
    loop {
        match reader.read_event().expect("the page is well-formed XML") {
            XmlEvent::Start(e) => stack.push(Node {
                name: String::from_utf8(e.name().as_ref().to_vec()).unwrap(),
                attrs: attrs(&e),
                ..Default::default()
            }),
            XmlEvent::Empty(e) => {
                let n = Node {
                    name: String::from_utf8(e.name().as_ref().to_vec()).unwrap(),
                    attrs: attrs(&e),
                    ..Default::default()
                };
                stack.last_mut().unwrap().children.push(n);
            }
            XmlEvent::Text(t) => {
                let text = t.unescape().expect("escaped text");
                stack.last_mut().unwrap().text.push_str(&text);
            }
            XmlEvent::End(e) => {
                let n = stack.pop().unwrap();
                assert_eq!(n.name.as_bytes(), e.name().as_ref(), "mismatched tags");
                stack.last_mut().unwrap().children.push(n);
            }
            XmlEvent::Eof => break,
            _ => {}
        }
    }
    assert_eq!(stack.len(), 1, "unclosed elements");
    stack.pop().unwrap()
}

fn summary_cell<'a>(doc: &'a Node, key: &str) -> &'a Node {
    let rows = doc.find_all(|n| n.name == "tr" && n.attr("data-key") == Some(key));
    assert_eq!(rows.len(), 1, "summary row {key}");
    rows[0].children.iter().find(|c| c.name == "td").unwrap()
}

#[test]
fn the_analysis_follows_the_story() {
    let r = build(&recording(), &config());
    assert_eq!(r.tasks.len(), 1);
    assert_eq!(r.interval, Duration::from_secs(5));
    let task = &r.tasks[0];
    let s = &task.summary;
    assert_eq!(s.polls, 53);
    assert_eq!(s.failed_polls, 3);
    assert_eq!(s.max_reported.unwrap().0, 40 * MIB);
    assert_eq!(s.max_reported.unwrap().1, t(30));
    // Stage times: basebackup ≥ 30 s (began before the recording), increment 215 s, switch
    // 15 s, success 0 s.
    let stage = |name: &str| {
        s.time_in_stage
            .iter()
            .find(|(st, ..)| st.as_str() == name)
            .map(|(_, d, lb)| (d.as_secs(), *lb))
    };
    assert_eq!(stage("basebackup"), Some((30, true)));
    assert_eq!(stage("increment"), Some((215, false)));
    assert_eq!(stage("switch"), Some((15, false)));
    // The lag is within 16 MiB from 75 s; 30 s of that is IN SYNC at 105 s.
    let first_in_sync = s.first_in_sync.unwrap();
    assert_eq!(first_in_sync, t(105));
    // The source is still from 155 s (lag 0): DRAINED 30 s later.
    assert_eq!(s.first_drained, Some(t(185)));
    let sw = s.switchover.as_ref().unwrap();
    assert!(sw.sent_by_migtop);
    assert_eq!(sw.at, t(241));
    assert_eq!(sw.verdict_before, Some(VerdictKind::Drained));
    assert_eq!(sw.drained_for, Some(Duration::from_secs(56)));
    let kinds: Vec<EventKind> = task.events.iter().map(|e| e.kind).collect();
    for k in [
        EventKind::FirstSeen,
        EventKind::Stage,
        EventKind::Disconnect,
        EventKind::Reconnect,
        EventKind::Verdict,
        EventKind::Error,
        EventKind::Recovered,
        EventKind::Switchover,
    ] {
        assert!(kinds.contains(&k), "{k:?} missing from {kinds:?}");
    }
    // The three throttled polls are one event.
    let errors: Vec<&Event> = task
        .events
        .iter()
        .filter(|e| e.kind == EventKind::Error)
        .collect();
    assert_eq!(errors.len(), 1);
    assert!(
        errors[0].text.starts_with("3 failures in a row"),
        "{}",
        errors[0].text
    );
}

#[test]
fn the_page_is_self_contained_and_escaped() {
    let html = html::render(&build(&recording(), &config()));
    let lower = html.to_lowercase();
    for banned in [
        "<script", "http://", "https://", "src=", "url(", "@import", "<link",
    ] {
        assert!(!lower.contains(banned), "{banned} in the page");
    }
    for secret in ["SRCPW-MARK-7731", "CONNPW-MARK-5120", "SourcePassword"] {
        assert!(!html.contains(secret), "{secret} in the page");
    }
    let doc = parse(&html);
    // Server text shows as text, never as markup.
    let h2 = doc.find_all(|n| n.name == "h2");
    assert!(
        h2[0].text_all().contains("orders <b>&amp;</b> \"eu\""),
        "{}",
        h2[0].text_all()
    );
    assert!(
        doc.find_all(|n| n.name == "b" && n.text == "&amp;")
            .is_empty()
    );
    let title = doc.find_all(|n| n.name == "title");
    assert_eq!(title[0].text, "migtop report: cutover <pgm-1>.jsonl");
    let events = doc.find_all(|n| n.name == "table" && n.has_class("events"));
    assert!(events[0].text_all().contains("user flow control <&>"));
}

#[test]
fn the_chart_points_are_the_recorded_lags() {
    let report = build(&recording(), &config());
    let html = html::render(&report);
    let doc = parse(&html);
    let svgs = doc.find_all(|n| n.name == "svg");
    assert_eq!(svgs.len(), 1);
    let svg = svgs[0];
    let t0: i64 = svg.attr("data-t0").unwrap().parse().unwrap();
    let t1: i64 = svg.attr("data-t1").unwrap().parse().unwrap();
    let ymax: u64 = svg.attr("data-ymax").unwrap().parse().unwrap();
    let plot: Vec<f64> = svg
        .attr("data-plot")
        .unwrap()
        .split(' ')
        .map(|v| v.parse().unwrap())
        .collect();
    assert_eq!(t0, t(0).timestamp_millis());
    assert_eq!(t1, t(260).timestamp_millis());
    assert_eq!(ymax, 50 * MIB);
    // Invert the scale: each vertex is (time, lag) of a recorded poll.
    let invert = |x: f64, y: f64| {
        let at = t0 + (((x - plot[0]) / plot[2]) * (t1 - t0) as f64).round() as i64;
        let lag = ((plot[1] + plot[3] - y) / plot[3]) * ymax as f64;
        (at, lag)
    };
    let reported = svg.find_all(|n| n.name == "polyline" && n.has_class("reported"));
    // The failed polls break the line, and so do the changes between exact values and lower
    // bounds (not streaming: the basebackup's unstarted receiver, the disconnect).
    assert_eq!(reported.len(), 5);
    let lower = svg.find_all(|n| n.name == "polyline" && n.has_class("lower-bound"));
    assert_eq!(lower.len(), 2);
    assert!(lower.iter().all(|l| l.attr("stroke-dasharray").is_some()));
    let mut vertices = Vec::new();
    for line in &reported {
        for pair in line.attr("points").unwrap().split(' ') {
            let (x, y) = pair.split_once(',').unwrap();
            vertices.push(invert(x.parse().unwrap(), y.parse().unwrap()));
        }
    }
    let task = &report.tasks[0];
    let expected: Vec<(i64, u64)> = task
        .points
        .iter()
        .filter_map(|p| p.reported.map(|l| (p.at.timestamp_millis(), l)))
        .collect();
    assert_eq!(vertices.len(), expected.len());
    let tolerance_ms = (t1 - t0) as f64 / plot[2] * 0.1 + 1.0;
    let tolerance_lag = ymax as f64 / plot[3] * 0.1 + 1.0;
    for ((at, lag), (eat, elag)) in vertices.iter().zip(&expected) {
        assert!(((at - eat) as f64).abs() <= tolerance_ms, "{at} vs {eat}");
        assert!(
            (lag - *elag as f64).abs() <= tolerance_lag,
            "{lag} vs {elag}"
        );
    }
    // The true lag is drawn too (the probe read the source every poll).
    assert!(!svg.find_all(|n| n.has_class("true")).is_empty());
    // The max-lag line and one verdict rectangle per verdict stretch.
    assert_eq!(svg.find_all(|n| n.has_class("max-lag")).len(), 1);
    assert_eq!(
        svg.find_all(|n| n.name == "rect" && n.has_class("verdict"))
            .len(),
        task.verdicts.len()
    );
    assert_eq!(svg.find_all(|n| n.has_class("failed-poll")).len(), 3);
}

#[test]
fn the_summary_and_events_tables_carry_the_figures() {
    let html = html::render(&build(&recording(), &config()));
    let doc = parse(&html);
    let max = summary_cell(&doc, "max-reported");
    let bytes = max.find_all(|n| n.attr("data-bytes").is_some());
    assert_eq!(bytes[0].attr("data-bytes"), Some(&*(40 * MIB).to_string()));
    assert!(max.text_all().contains("40.0 MiB"), "{}", max.text_all());
    // Times are local (UTC+08:00 here).
    let first = summary_cell(&doc, "first-in-sync");
    assert_eq!(
        first.find_all(|n| n.attr("data-ts").is_some())[0].attr("data-ts"),
        Some(&*t(105).timestamp().to_string())
    );
    let local = t(105).with_timezone(&FixedOffset::east_opt(8 * 3600).unwrap());
    assert!(
        first
            .text_all()
            .contains(&local.format("%H:%M:%S").to_string())
    );
    let drained = summary_cell(&doc, "drained-to-switchover");
    let secs = drained.find_all(|n| n.attr("data-seconds").is_some());
    assert_eq!(secs[0].attr("data-seconds"), Some("56"));
    assert_eq!(secs[0].text, "56s");
    let stage_rows = doc.find_all(|n| n.attr("data-key") == Some("stage-time"));
    let increment = stage_rows
        .iter()
        .find(|r| r.attr("data-stage") == Some("increment"))
        .unwrap();
    assert_eq!(increment.attr("data-seconds"), Some("215"));
    let basebackup = stage_rows
        .iter()
        .find(|r| r.attr("data-stage") == Some("basebackup"))
        .unwrap();
    assert!(basebackup.text_all().contains("≥ 30s"));
    // The events table: one row per event, in time order, with its kind as class.
    let rows =
        doc.find_all(|n| n.name == "tr" && n.attr("class").is_some_and(|c| c.starts_with("ev-")));
    let kinds: Vec<&str> = rows.iter().map(|r| r.attr("class").unwrap()).collect();
    assert_eq!(kinds[0], "ev-first-seen");
    let pos = |k: &str| {
        kinds
            .iter()
            .position(|c| *c == k)
            .unwrap_or_else(|| panic!("{k} in {kinds:?}"))
    };
    assert!(pos("ev-stage") < pos("ev-disconnect"));
    assert!(pos("ev-disconnect") < pos("ev-reconnect"));
    assert!(pos("ev-reconnect") < pos("ev-error"));
    assert!(pos("ev-error") < pos("ev-switchover"));
    let switch_row = rows[pos("ev-switchover")].text_all();
    assert!(switch_row.contains("accepted"), "{switch_row}");
}

#[test]
fn a_recording_without_tasks_or_with_errors_only_still_reports() {
    let text: String = [failed(0), failed(5)].iter().map(encode).collect();
    let r = build(&Recording::parse(&text), &config());
    assert!(r.tasks.is_empty());
    assert_eq!(r.failed_polls, 2);
    assert_eq!(r.instance_events.len(), 1);
    let doc = parse(&html::render(&r));
    assert!(doc.text_all().contains("No task was listed"));
    assert!(doc.text_all().contains("2 failures in a row"));
}

#[test]
fn the_cutover_evidence_is_a_timeline_in_the_page() {
    use crate::recording::cutover::{CutoverEvent, CutoverRecord};
    let step = |s: i64, event: CutoverEvent| {
        Entry::Cutover(CutoverRecord {
            instance: "pgm-1".into(),
            task_id: Some(7),
            at: t(s),
            event,
        })
    };
    let mut entries = story();
    entries.extend([
        step(200, CutoverEvent::FenceOn),
        step(
            230,
            CutoverEvent::Token {
                lsn: "0/5000000".parse().unwrap(),
                next_xid: 900,
            },
        ),
        step(
            231,
            CutoverEvent::SwitchCheck {
                judged_at: t(230),
                judged_lsn: "0/5000000".parse().unwrap(),
                judged_xid: 900,
                source_lsn: Some("0/5000000".parse().unwrap()),
                next_xid: Some(901),
                received: Some("0/5000000".parse().unwrap()),
                passed: false,
                text: "the source wrote since it was judged: next xid 900 → 901 <script>".into(),
            },
        ),
        step(
            232,
            CutoverEvent::FenceOff {
                reason: "refused at the switch".into(),
            },
        ),
    ]);
    let text: String = entries.iter().map(encode).collect();
    let r = build(&Recording::parse(&text), &config());
    let steps: Vec<&str> = r.evidence.iter().map(|e| e.step).collect();
    assert_eq!(
        steps,
        ["fence on", "token", "check at the switch", "fence off"]
    );
    assert_eq!(r.evidence[2].passed, Some(false));
    let page = html::render(&r);
    assert!(!page.contains("<script>"), "server text is escaped");
    let doc = parse(&page);
    let rows = doc.find_all(|n| n.name == "tr" && n.attr("data-step").is_some());
    let cells: Vec<String> = rows.iter().map(|r| r.text_all()).collect();
    assert_eq!(rows.len(), 4, "{cells:?}");
    assert!(cells[1].contains("token 0/5000000"), "{}", cells[1]);
    assert!(
        cells[2].contains("FAILED") && cells[2].contains("next xid 900 → 901 <script>"),
        "{}",
        cells[2]
    );
    assert!(cells[3].contains("refused at the switch"), "{}", cells[3]);
    // Without cutover lines there is no such section.
    let plain: String = story().iter().map(encode).collect();
    let page = html::render(&build(&Recording::parse(&plain), &config()));
    assert!(!page.contains("Cutover evidence"));
}

/// Writes the story's page to `target/report-story.html`, to look at in a browser:
/// `cargo test --lib report::tests::write_story_page -- --ignored`.
#[test]
#[ignore]
fn write_story_page() {
    let html = html::render(&build(&recording(), &config()));
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/target/report-story.html");
    std::fs::write(path, html).unwrap();
}

#[test]
fn the_checklist_is_an_event_and_in_the_summary_and_finished_is_finished() {
    use crate::probe::checklist::{Finding, RelKind};
    let lossy = Checklist::new(
        t(0),
        vec!["postgres".into()],
        vec![Finding::Unlogged {
            database: "postgres".into(),
            schema: "public".into(),
            name: "orders_cache <x>".into(),
            relkind: RelKind::Table,
            bytes: 3 * MIB,
            rows: Some(50_000),
        }],
    );
    let mut entries = story();
    // Read on the first two polls, saying the same: one event.
    for e in entries.iter_mut().take(2) {
        if let Entry::Poll(p) = e
            && let Some(src) = p.source.as_mut()
        {
            src.checklist = Some(Box::new(lossy.clone()));
        }
    }
    let text: String = entries.iter().map(encode).collect();
    let r = build(&Recording::parse(&text), &config());
    let task = &r.tasks[0];
    let events: Vec<&Event> = task
        .events
        .iter()
        .filter(|e| e.kind == EventKind::Checklist)
        .collect();
    assert_eq!(events.len(), 1, "{events:#?}");
    assert!(
        events[0]
            .text
            .contains("1 loses data; 1 unlogged table (3.00 MiB) will be empty on RDS"),
        "{}",
        events[0].text
    );
    assert_eq!(task.last_verdict.kind(), VerdictKind::Finished);
    let html = html::render(&r);
    assert!(!html.contains("loses nothing"));
    let doc = parse(&html);
    let verdict = summary_cell(&doc, "last-verdict").text_all();
    assert!(
        verdict.contains("FINISHED") && !verdict.contains("NOT READY"),
        "{verdict}"
    );
    let checklist = summary_cell(&doc, "checklist").text_all();
    assert!(
        checklist.contains("unlogged table public.orders_cache <x> in postgres"),
        "{checklist}"
    );
}
