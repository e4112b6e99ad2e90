//! The paths that run on every poll or every frame. Targets and results: BENCHMARKS.md.

mod support;

use std::collections::BTreeMap;
use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use migtop::model::Page;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

/// A page of 100 tasks, each the reference sample with its quirks.
fn hundred_task_page() -> String {
    let sample: serde_json::Value =
        serde_json::from_str(include_str!("../tests/fixtures/doc-sample-response.json")).unwrap();
    let items: Vec<serde_json::Value> = (0..100)
        .map(|i| {
            let mut t = sample["Items"].clone();
            t["TaskId"] = (440437220 + i).into();
            t
        })
        .collect();
    serde_json::json!({"TotalSize": 100, "PageNumber": 1, "PageSize": 100, "RequestId": "R", "Items": items})
        .to_string()
}

fn decode(c: &mut Criterion) {
    let body = hundred_task_page();
    c.bench_function("decode a page of 100 tasks (JSON text to Tasks)", |b| {
        b.iter(|| {
            let v: serde_json::Value = serde_json::from_str(black_box(&body)).unwrap();
            Page::from_json("pgm-bench", &v).unwrap()
        })
    });
}

fn sign(c: &mut Criterion) {
    let params: BTreeMap<String, String> = [
        ("Action", "DescribeCloudMigrationResult"),
        ("DBInstanceName", "pgm-bp102g323jd4"),
        ("PageNumber", "1"),
        ("PageSize", "100"),
        ("AccessKeyId", "LTAI5tBenchKeyId"),
        ("Format", "JSON"),
        ("SignatureMethod", "HMAC-SHA1"),
        ("SignatureNonce", "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf"),
        ("SignatureVersion", "1.0"),
        ("Timestamp", "2026-11-28T00:00:00Z"),
        ("Version", "2014-08-15"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    c.bench_function("sign a request (v1, HMAC-SHA1)", |b| {
        b.iter(|| migtop::aliyun::sign::sign("secret", "POST", black_box(&params)))
    });
}

fn frame(c: &mut Criterion) {
    // Two instances polled for 10 minutes: full history, sparkline and log.
    let mut app = support::polled_app(600);
    for (w, h) in [(80u16, 24u16), (120, 40)] {
        app.update(migtop::app::Action::Resize(w, h));
        let mut term = Terminal::new(TestBackend::new(w, h)).unwrap();
        c.bench_function(&format!("draw one dashboard frame at {w}x{h}"), |b| {
            b.iter(|| {
                term.draw(|f| migtop::ui::draw(f, black_box(&app)))
                    .unwrap()
                    .area
            })
        });
    }
}

/// An app that has polled one instance with 100 tasks ten times.
fn hundred_task_app() -> migtop::app::App {
    use migtop::app::{Action, App, AppConfig};
    use migtop::poller::{PollEvent, PollResult};
    let v: serde_json::Value = serde_json::from_str(&hundred_task_page()).unwrap();
    let page = Page::from_json("pgm-bench", &v).unwrap();
    let t0 = chrono::DateTime::from_timestamp(1_800_000_000, 0).unwrap();
    let mut app = App::new(AppConfig::new(vec!["pgm-bench".into()]), t0);
    for i in 0..10 {
        let at = t0 + chrono::Duration::seconds(5 * i);
        app.update(Action::Poll(PollEvent::Finished(PollResult {
            instance: "pgm-bench".into(),
            started: at,
            at,
            result: Ok(migtop::aliyun::InstanceSnapshot {
                instance: "pgm-bench".into(),
                tasks: page.tasks.clone(),
                ..Default::default()
            }),
            source: None,
        })));
    }
    app
}

fn metrics(c: &mut Criterion) {
    let app = hundred_task_app();
    let m = migtop::metrics::Metrics::new();
    m.observe_app(&app);
    c.bench_function("update the metrics from an app with 100 tasks", |b| {
        b.iter(|| m.observe_app(black_box(&app)))
    });
    c.bench_function("encode /metrics with 100 tasks", |b| {
        b.iter(|| m.encode().len())
    });
}

criterion_group!(benches, decode, sign, frame, metrics);
criterion_main!(benches);
