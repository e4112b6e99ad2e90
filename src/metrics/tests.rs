use super::*;
use crate::aliyun::{ApiError, InstanceSnapshot};
use crate::app::{Action, AppConfig};
use crate::model::Stage;
use crate::poller::PollEvent;
use crate::verdict::readiness::Reason;
use serde_json::json;

fn t(s: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(1_700_000_000 + s, 0).unwrap()
}

fn task(instance: &str, id: i64, name: &str, stage: &str) -> Task {
    let info = json!({
        "Status": "streaming",
        "LatestEndLsn": "0/5000000",
        "ReceivedLsn": "0/4000000",
        "ReplayLsn": "0/3800000",
        "LastMsgReceiptTime": "2023-11-14 22:13:20+00",
        "Synced": "true",
    });
    Task::from_value(
        instance,
        &json!({
            "TaskId": id,
            "TaskName": name,
            "MigrateStage": stage,
            "ReplicationState": "streaming",
            "ReplicationInfo": info.to_string(),
            "Detail": "[Check disk]\nCheck disk size enough: success\nCheck wal level: fail(no)\n",
        }),
    )
    .unwrap()
}

/// The exposition's sample lines (no comments).
fn samples(m: &Metrics) -> Vec<String> {
    m.encode()
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(str::to_string)
        .collect()
}

fn value(m: &Metrics, series: &str) -> Option<String> {
    samples(m)
        .into_iter()
        .find_map(|l| l.strip_prefix(&format!("{series} ")).map(str::to_string))
}

const L: &str = r#"instance="pgm-1",task_id="7",task_name="orders""#;

#[test]
fn a_silent_or_disconnected_link_exposes_its_lag_as_a_lower_bound() {
    let m = Metrics::new();
    let tk = task("pgm-1", 7, "orders", "increment");
    let silent = Verdict::NotReady(vec![Reason::NoMessage {
        silent: std::time::Duration::from_secs(45),
        keepalive: std::time::Duration::from_secs(30),
        from: crate::verdict::readiness::KeepaliveSource::Assumed,
    }]);
    m.set_tasks(&[TaskReading::new(&tk, None, &silent, t(45))]);
    assert_eq!(
        value(&m, &format!("migtop_task_lag_lower_bound{{{L}}}")).as_deref(),
        Some("1")
    );
    let mut cut = tk.clone();
    cut.replication_state = Some(ReplicationState::Disconnect);
    let r = TaskReading::new(&cut, None, &Verdict::NotReady(vec![]), t(1));
    assert!(r.lag_reported_lower_bound);
}

#[test]
fn a_task_reading_is_exposed_with_its_labels() {
    let m = Metrics::new();
    let tk = task("pgm-1", 7, "orders", "increment");
    let now = t(0) + chrono::Duration::milliseconds(10_500); // 10.5 s after LastMsgReceiptTime
    let r = TaskReading::new(
        &tk,
        None,
        &Verdict::InSync {
            lag: 0,
            stable: Default::default(),
            not_drained: crate::verdict::readiness::NotDrained::NoProbe,
        },
        now,
    );
    m.set_tasks(&[r]);
    assert_eq!(
        value(&m, &format!("migtop_task_stage_index{{{L}}}")).as_deref(),
        Some("4")
    );
    assert_eq!(
        value(
            &m,
            &format!("migtop_task_lag_bytes{{{L},kind=\"reported\"}}")
        )
        .as_deref(),
        Some(&*(0x1800000u64).to_string())
    );
    assert_eq!(
        value(&m, &format!("migtop_task_lag_lower_bound{{{L}}}")).as_deref(),
        Some("0")
    );
    assert_eq!(
        value(&m, &format!("migtop_task_transport_bytes{{{L}}}")).as_deref(),
        Some(&*(0x1000000u64).to_string())
    );
    assert_eq!(
        value(&m, &format!("migtop_task_apply_bytes{{{L}}}")).as_deref(),
        Some(&*(0x800000u64).to_string())
    );
    assert_eq!(
        value(&m, &format!("migtop_task_streaming{{{L}}}")).as_deref(),
        Some("1")
    );
    assert_eq!(
        value(
            &m,
            &format!("migtop_task_seconds_since_source_message{{{L}}}")
        )
        .and_then(|v| v.parse::<f64>().ok()),
        Some(10.5)
    );
    for (v, want) in [("not_ready", "0"), ("in_sync", "1"), ("drained", "0")] {
        assert_eq!(
            value(&m, &format!("migtop_task_verdict{{{L},verdict=\"{v}\"}}")).as_deref(),
            Some(want),
            "{v}"
        );
    }
    assert_eq!(
        value(
            &m,
            &format!("migtop_task_precheck_checks{{{L},result=\"fail\"}}")
        )
        .as_deref(),
        Some("1")
    );
    assert_eq!(
        value(
            &m,
            &format!("migtop_task_precheck_checks{{{L},result=\"success\"}}")
        )
        .as_deref(),
        Some("1")
    );
    // A receipt time slightly ahead of our clock is skew (0); further ahead than the
    // verdict allows (2 s), unknown.
    let soon = TaskReading::new(&tk, None, &Verdict::NotReady(vec![]), t(-1));
    assert_eq!(soon.seconds_since_source_message, Some(0.0));
    let ahead = TaskReading::new(&tk, None, &Verdict::NotReady(vec![]), t(-5));
    assert_eq!(ahead.seconds_since_source_message, None);
    let far = TaskReading::new(&tk, None, &Verdict::NotReady(vec![]), t(-3600));
    assert_eq!(far.seconds_since_source_message, None);
    // No source probe: the true lag is unknown, so absent (never 0).
    assert!(!m.encode().contains("kind=\"true\""));
}

#[test]
fn unknown_values_are_absent_and_gone_tasks_removed() {
    let m = Metrics::new();
    let known = task("pgm-1", 7, "orders", "increment");
    let mut unknown = task("pgm-1", 8, "billing", "rollback");
    unknown.replication = None;
    unknown.replication_state = None;
    unknown.precheck = Default::default();
    let nr = Verdict::NotReady(vec![Reason::NoData]);
    m.set_tasks(&[
        TaskReading::new(&known, None, &nr, t(0)),
        TaskReading::new(&unknown, None, &nr, t(0)),
    ]);
    let text = m.encode();
    let billing: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("task_name=\"billing\""))
        .collect();
    // Only the verdict is known about billing.
    assert_eq!(billing.len(), 5, "{billing:#?}");
    assert!(
        billing
            .iter()
            .all(|l| l.starts_with("migtop_task_verdict{"))
    );
    // A value that becomes unknown disappears; a task that disappears loses every series.
    let mut k2 = known.clone();
    k2.stage = Some(Stage::Unknown("new".into()));
    m.set_tasks(&[TaskReading::new(&k2, None, &nr, t(0))]);
    assert!(value(&m, &format!("migtop_task_stage_index{{{L}}}")).is_none());
    assert!(!m.encode().contains("billing"));
    m.set_tasks(&[]);
    assert!(samples(&m).is_empty(), "{:#?}", samples(&m));
}

#[test]
fn labels_from_the_server_cannot_break_the_exposition() {
    let m = Metrics::new();
    let name = "evil\"} 1\nmigtop_fake 1\r\u{0}\\x\u{85}";
    let tk = task("pgm-1", 7, name, "increment");
    m.set_tasks(&[TaskReading::new(
        &tk,
        None,
        &Verdict::NotReady(vec![]),
        t(0),
    )]);
    let text = m.encode();
    assert!(!text.contains('\r') && !text.contains('\u{0}') && !text.contains('\u{85}'));
    for l in text.lines().filter(|l| !l.starts_with('#')) {
        assert!(l.starts_with("migtop_task_"), "{l}");
        assert!(l.contains(r#"task_name="evil\"} 1"#), "{l}");
    }
    assert_eq!(
        label_value(&"x".repeat(1000)).chars().count(),
        MAX_LABEL_CHARS
    );
}

fn poll(instance: &str, at: i64, result: Result<InstanceSnapshot, ApiError>) -> PollResult {
    PollResult {
        instance: instance.into(),
        started: t(at),
        at: t(at) + chrono::Duration::milliseconds(300),
        result,
        source: None,
    }
}

#[test]
fn the_failure_total_starts_at_zero_for_every_instance() {
    let m = Metrics::new();
    m.expect_instances(&["pgm-1".into(), "pgm-2".into()]);
    // Before any poll: 0, so increase() sees the first failure.
    assert_eq!(
        value(&m, r#"migtop_poll_failures_total{instance="pgm-1"}"#).as_deref(),
        Some("0")
    );
    assert_eq!(
        value(&m, r#"migtop_poll_failures_total{instance="pgm-2"}"#).as_deref(),
        Some("0")
    );
    assert_eq!(
        value(
            &m,
            r#"migtop_poll_duration_seconds_count{instance="pgm-2"}"#
        )
        .as_deref(),
        Some("0")
    );
    assert_eq!(
        value(
            &m,
            r#"migtop_last_poll_success_timestamp_seconds{instance="pgm-2"}"#
        ),
        None
    );
    let err = ApiError::Timeout {
        endpoint: "e".into(),
        seconds: 1.0,
        attempts: 1,
    };
    m.record_poll(&poll("pgm-1", 0, Err(err)));
    assert_eq!(
        value(&m, r#"migtop_poll_failures_total{instance="pgm-1"}"#).as_deref(),
        Some("1")
    );
    assert_eq!(
        value(
            &m,
            r#"migtop_poll_errors_total{instance="pgm-1",code="Timeout"}"#
        )
        .as_deref(),
        Some("1")
    );
}

#[test]
fn series_keep_their_order_from_scrape_to_scrape() {
    let m = Metrics::new();
    let names: Vec<String> = (0..40).map(|i| format!("pgm-{i:02}")).collect();
    m.expect_instances(&names);
    for (i, n) in names.iter().enumerate().rev() {
        m.record_poll(&poll(n, i as i64, Ok(InstanceSnapshot::default())));
    }
    let first = m.encode();
    // Series come and go in between; those that stay keep their places.
    let extra: Vec<String> = (0..40).map(|i| format!("pgm-x{i}")).collect();
    m.expect_instances(&extra);
    for n in names.iter().take(5) {
        m.record_poll(&poll(n, 99, Ok(InstanceSnapshot::default())));
    }
    let second = m.encode();
    let keep = |text: &str| -> Vec<String> {
        text.lines()
            .filter(|l| !l.contains("pgm-x") && !l.starts_with('#'))
            .map(|l| l.rsplit_once(' ').unwrap().0.to_string())
            .collect()
    };
    assert_eq!(keep(&first), keep(&second));
    // Sorted by instance within a family, buckets in le order within a series.
    let failures: Vec<&str> = first
        .lines()
        .filter(|l| l.starts_with("migtop_poll_failures_total"))
        .collect();
    let mut sorted = failures.clone();
    sorted.sort();
    assert_eq!(failures, sorted);
    let buckets: Vec<&str> = first
        .lines()
        .filter(|l| l.starts_with("migtop_poll_duration_seconds") && l.contains("\"pgm-00\""))
        .collect();
    assert!(
        buckets
            .last()
            .unwrap()
            .starts_with("migtop_poll_duration_seconds_count")
            || buckets
                .last()
                .unwrap()
                .starts_with("migtop_poll_duration_seconds_sum"),
        "{buckets:?}"
    );
    assert!(
        buckets.iter().position(|l| l.contains("+Inf")).unwrap()
            > buckets
                .iter()
                .position(|l| l.contains("le=\"0.25\""))
                .unwrap()
    );
}

#[test]
fn polls_are_counted() {
    let m = Metrics::new();
    let throttled = ApiError::Api {
        code: "Throttling\nUser".into(),
        message: "slow down".into(),
        request_id: None,
        http_status: 400,
    };
    m.record_poll(&poll("pgm-1", 0, Err(throttled.clone())));
    m.record_poll(&poll("pgm-1", 5, Err(throttled)));
    m.record_poll(&poll("pgm-1", 10, Ok(InstanceSnapshot::default())));
    assert_eq!(
        value(
            &m,
            r#"migtop_poll_errors_total{instance="pgm-1",code="Throttling�User"}"#
        )
        .as_deref(),
        Some("2")
    );
    assert_eq!(
        value(
            &m,
            r#"migtop_last_poll_success_timestamp_seconds{instance="pgm-1"}"#
        )
        .as_deref(),
        Some("1700000010.3")
    );
    assert_eq!(
        value(
            &m,
            r#"migtop_poll_duration_seconds_count{instance="pgm-1"}"#
        )
        .as_deref(),
        Some("3")
    );
    assert_eq!(
        value(
            &m,
            r#"migtop_poll_duration_seconds_bucket{le="0.25",instance="pgm-1"}"#
        )
        .or_else(|| value(
            &m,
            r#"migtop_poll_duration_seconds_bucket{instance="pgm-1",le="0.25"}"#
        ))
        .as_deref(),
        Some("0")
    );
}

#[test]
fn the_dashboard_state_is_exported_as_judged() {
    let mut config = AppConfig::new(vec!["pgm-1".into()]);
    config.interval = std::time::Duration::from_secs(5);
    let mut app = App::new(config, t(0));
    let snap = |tasks: Vec<Task>| InstanceSnapshot {
        instance: "pgm-1".into(),
        tasks,
        ..Default::default()
    };
    let m = Metrics::new();
    for i in 0..10 {
        let ev = PollEvent::Finished(poll(
            "pgm-1",
            i * 5,
            Ok(snap(vec![task("pgm-1", 7, "orders", "increment")])),
        ));
        m.observe_event(&ev);
        app.update(Action::Poll(ev));
        m.observe_app(&app);
    }
    // The dashboard's verdict, whatever it is, is the one exported.
    let entry = app.tasks().values().next().unwrap();
    let want = verdict_label(entry.verdict.kind());
    assert_eq!(
        value(
            &m,
            &format!("migtop_task_verdict{{{L},verdict=\"{want}\"}}")
        )
        .as_deref(),
        Some("1")
    );
    // The task leaves the listing: its series go.
    let ev = PollEvent::Finished(poll("pgm-1", 60, Ok(snap(vec![]))));
    m.observe_event(&ev);
    app.update(Action::Poll(ev));
    m.observe_app(&app);
    assert!(!m.encode().contains("orders"));
    assert!(
        m.encode()
            .contains("migtop_last_poll_success_timestamp_seconds{instance=\"pgm-1\"}")
    );
}

#[test]
fn a_finished_task_is_finished_not_not_ready() {
    let m = Metrics::new();
    let tk = task("pgm-1", 7, "orders", "success");
    let finished = Verdict::NotReady(vec![Reason::Stage(Some(Stage::Success))]);
    m.set_tasks(&[TaskReading::new(&tk, None, &finished, t(0))]);
    for (v, want) in [
        ("not_ready", "0"),
        ("in_sync", "0"),
        ("drained", "0"),
        ("switching", "0"),
        ("finished", "1"),
    ] {
        assert_eq!(
            value(&m, &format!("migtop_task_verdict{{{L},verdict=\"{v}\"}}")).as_deref(),
            Some(want),
            "{v}"
        );
    }
}

#[test]
fn the_checklist_is_counted_by_severity_once_read() {
    use crate::probe::checklist::{Finding, RelKind};
    let m = Metrics::new();
    m.set_checklists(std::iter::empty());
    assert!(!m.encode().contains("migtop_source_check_items{"));
    let c = Checklist::new(
        t(0),
        vec!["postgres".into()],
        vec![
            Finding::Unlogged {
                database: "postgres".into(),
                schema: "public".into(),
                name: "a".into(),
                relkind: RelKind::Table,
                bytes: 8192,
                rows: None,
            },
            Finding::Unlogged {
                database: "shop".into(),
                schema: "public".into(),
                name: "b".into(),
                relkind: RelKind::Table,
                bytes: 8192,
                rows: None,
            },
            Finding::LogicalSlot {
                name: "cdc".into(),
                plugin: None,
                database: None,
                active: true,
            },
        ],
    );
    m.set_checklists([&c].into_iter());
    for (s, want) in [
        ("loses_data", "2"),
        ("breaks_consumers", "1"),
        ("blocks_drained", "0"),
    ] {
        assert_eq!(
            value(
                &m,
                &format!("migtop_source_check_items{{severity=\"{s}\"}}")
            )
            .as_deref(),
            Some(want),
            "{s}"
        );
    }
}
