//! Big inputs (issue 10, item 6): 1,000 tasks, one with a 50 MB Detail. Targets and results:
//! BENCHMARKS.md.

use std::hint::black_box;
use std::time::Duration;

use chrono::{DateTime, Utc};
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use migtop::aliyun::InstanceSnapshot;
use migtop::app::{Action, App, AppConfig, Focus};
use migtop::model::Page;
use migtop::poller::{PollEvent, PollResult};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use serde_json::{Value, json};

const TASKS: usize = 1_000;
const DETAIL_BYTES: usize = 50 * 1024 * 1024;
const INSTANCE: &str = "pgm-big";

/// A Detail of about `bytes`: checks, warnings, progress lines, some longer than a row.
fn big_detail(bytes: usize) -> String {
    let mut d = String::with_capacity(bytes + 200);
    let mut i = 0u64;
    while d.len() < bytes {
        match i % 5 {
            0 => d.push_str(&format!("[Check step {i}]\\n")),
            1 => d.push_str(&format!("Check item {i} on the source: success\\n")),
            2 => d.push_str(&format!(
                "Check wal keep size {i}: warning(warning:wal_keep_size 0 may let the source recycle WAL the standby still needs, step {i})\\n"
            )),
            3 => d.push_str(&format!(
                "2026-02-28 17:00:29 --- Synchronize data from source to RDS, batch {i}\\n"
            )),
            _ => d.push_str(&format!("free text line {i}\\n")),
        }
        i += 1;
    }
    d
}

fn item(id: usize, detail: &str) -> Value {
    let lsn = format!("5/{:X}", id * 4096);
    json!({
        "TaskId": id, "TaskName": format!("task-{id}"), "MigrateStage": "increment",
        "ReplicationState": "streaming",
        "ReplicationInfo": json!({"ReceivedLsn": lsn, "LatestEndLsn": lsn, "ReplayLsn": lsn,
            "Synced": "true", "Status": "streaming"}).to_string(),
        "SourceIpAddress": "10.1.2.3", "SourcePort": 5432, "SourceAccount": "migrator",
        "GmtCreated": "2026-02-28T08:53:13Z", "Detail": detail,
    })
}

/// The JSON text of one page of `n` tasks, the first with `big` as its Detail.
fn page_text(n: usize, big: &str) -> String {
    let small = "[Check rds empty]\\nCheck rds databases: success\\n";
    let items: Vec<Value> = (0..n)
        .map(|i| item(i + 1, if i == 0 { big } else { small }))
        .collect();
    json!({"TotalSize": n, "PageNumber": 1, "PageSize": n, "RequestId": "R", "Items": items})
        .to_string()
}

fn t0() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-03-01T06:40:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

fn snapshot(body: &str) -> InstanceSnapshot {
    let v: Value = serde_json::from_str(body).unwrap();
    let page = Page::from_json(INSTANCE, &v).unwrap();
    InstanceSnapshot {
        instance: INSTANCE.into(),
        request_id: page.request_id,
        tasks: page.tasks,
        item_errors: page.item_errors,
        ..Default::default()
    }
}

/// A dashboard at 120x40 that has ingested `snap`, the big task selected, the log focused.
fn app_with(snap: InstanceSnapshot) -> App {
    let mut c = AppConfig::new(vec![INSTANCE.into()]);
    c.interval = Duration::from_secs(5);
    let mut app = App::new(c, t0());
    app.update(Action::Resize(120, 40));
    app.update(Action::Poll(PollEvent::Finished(PollResult {
        instance: INSTANCE.into(),
        started: t0(),
        at: t0(),
        result: Ok(snap),
        source: None,
    })));
    app.update(Action::First);
    app
}

fn big(c: &mut Criterion) {
    let detail = big_detail(DETAIL_BYTES);
    let body = page_text(TASKS, &detail);
    let small_body = page_text(TASKS, "[Check rds empty]\\nCheck rds databases: success\\n");

    let mut g = c.benchmark_group("big inputs");
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(10));

    g.bench_function("decode 1,000 tasks (JSON text to Tasks)", |b| {
        b.iter(|| snapshot(black_box(&small_body)))
    });

    let snap = snapshot(&body);
    g.bench_function(
        "first frame: 1,000 tasks + 50 MB Detail ingested and drawn at 120x40",
        |b| {
            // The snapshot arrives from the poller moved, not cloned, and the app outlives the
            // frame: the clone and the drop are the harness's, outside the timing.
            b.iter_batched(
                || snap.clone(),
                |snap| {
                    let app = app_with(snap);
                    let mut term = Terminal::new(TestBackend::new(120, 40)).unwrap();
                    term.draw(|f| migtop::ui::draw(f, &app)).unwrap();
                    app
                },
                BatchSize::LargeInput,
            )
        },
    );

    let mut app = app_with(snap.clone());
    let mut term = Terminal::new(TestBackend::new(120, 40)).unwrap();
    term.draw(|f| migtop::ui::draw(f, &app)).unwrap();
    assert_eq!(app.focus(), Focus::Tasks);
    g.bench_function(
        "key: scroll the 50 MB log one page and draw (1,000 tasks)",
        |b| {
            let mut dir = 1;
            b.iter(|| {
                // Back and forth, so every press moves.
                dir = -dir;
                app.update(Action::ScrollPages(dir));
                term.draw(|f| migtop::ui::draw(f, black_box(&app))).unwrap();
            })
        },
    );
    g.bench_function("key: move the selection and draw (1,000 tasks)", |b| {
        let mut down = true;
        b.iter(|| {
            // Down then up: between a small task and the one with the 50 MB Detail.
            app.update(if down { Action::Down } else { Action::Up });
            down = !down;
            term.draw(|f| migtop::ui::draw(f, black_box(&app))).unwrap();
        })
    });
    app.update(Action::First);
    app.update(Action::SearchStart);
    for ch in "batch 1234".chars() {
        app.update(Action::SearchChar(ch));
    }
    app.update(Action::SearchSubmit);
    g.bench_function("key: next search match in the 50 MB log and draw", |b| {
        b.iter(|| {
            app.update(Action::NextMatch);
            term.draw(|f| migtop::ui::draw(f, black_box(&app))).unwrap();
        })
    });
    g.finish();
}

criterion_group!(benches, big);
criterion_main!(benches);
