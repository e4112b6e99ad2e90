//! Recordings end to end through the library: five minutes of the built-in scenario polled
//! over HTTP as `watch` polls it, recorded, then replayed (the same screens as the live
//! dashboard showed) and reported; no secret reaches the file, the screens or the page.

use std::path::Path;
use std::time::Duration;

use insta::assert_snapshot;
use migtop::aliyun::{ApiError, Credentials, TaskFilter};
use migtop::app::{Action, App, AppConfig};
use migtop::poller::{PollEvent, PollResult};
use migtop::probe::{SourceDsn, SourceProbe};
use migtop::recording::player::{self, Player};
use migtop::recording::report;
use migtop::recording::{Recorder, Recording};
use migtop::sim::{Clock, FaultSpec, Scenario};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use serde_json::Value;

use crate::support::sim::{client_with, sim_with};

/// Secrets that must never reach a recording, a replayed screen or a report.
const SECRET: &str = "AKSECRET-MARK-3141";
const TOKEN: &str = "STSTOKEN-MARK-2718";
const DSN_PASSWORD: &str = "DSNPW-MARK-9044";
const SOURCE_PASSWORD: &str = "SRCPW-MARK-";

fn credentials() -> Credentials {
    Credentials {
        access_key_id: "LTAI5tRecordTest".into(),
        access_key_secret: SECRET.to_string().into(),
        security_token: Some(TOKEN.to_string().into()),
        origin: "test".into(),
    }
}

/// The built-in scenario with a marker as every task's SourcePassword.
fn scenario() -> Scenario {
    let text = include_str!("../../assets/scenarios/default.json");
    let mut v: Value = serde_json::from_str(text).unwrap();
    let mut n = 0;
    for inst in v["instances"].as_array_mut().unwrap() {
        for task in inst["tasks"].as_array_mut().unwrap() {
            n += 1;
            task["source"]["password"] = Value::String(format!("{SOURCE_PASSWORD}{n}"));
        }
    }
    Scenario::from_json(&v.to_string(), "test").unwrap()
}

/// Poll interval of the session, in simulated seconds.
const INTERVAL: i64 = 5;
/// Polls of each instance: five minutes.
const ROUNDS: usize = 60;

/// The request ids the simulator makes up are random; numbered instead, so screens that
/// show them are the same on every run.
fn steady_ids(r: &mut PollResult, n: usize) {
    match &mut r.result {
        Ok(s) => s.request_id = Some(format!("REQ-{n:04}")),
        Err(ApiError::Api { request_id, .. }) => *request_id = Some(format!("REQ-{n:04}")),
        Err(_) => {}
    }
}

fn render(app: &mut App, w: u16, h: u16) -> String {
    app.update(Action::Resize(w, h));
    draw(app, w, h, migtop::ui::draw)
}

/// A replay's screen: the dashboard with the replay's footer.
fn render_replay(p: &mut Player, w: u16, h: u16) -> String {
    p.resize(w, h);
    let paused = p.paused();
    draw(p.app(), w, h, |f, app| {
        migtop::ui::replay_bar::draw_replay(f, app, paused)
    })
}

fn draw(app: &App, w: u16, h: u16, render: impl FnOnce(&mut ratatui::Frame, &App)) -> String {
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| render(f, app)).unwrap();
    let buf = t.backend().buffer();
    let mut out = String::new();
    for y in 0..buf.area.height {
        for x in 0..buf.area.width {
            out.push_str(buf[(x, y)].symbol());
        }
        out.push('\n');
    }
    out
}

/// The screen without its first and last lines (the header's label and the footer's keys,
/// where live and replay differ on purpose).
fn body(screen: &str) -> String {
    let lines: Vec<&str> = screen.lines().collect();
    lines[1..lines.len() - 1].join("\n")
}

/// The positions (entries played) where screens are compared.
const POSITIONS: [usize; 3] = [15, 120, 300];

/// Records a session into `path` as the dashboard's pollers report it, feeding a live
/// dashboard at the same time; returns the live screens at [`POSITIONS`].
async fn record(path: &Path) -> Vec<String> {
    // Throttled for a while, so the recording holds errors too.
    let faults = vec![FaultSpec::parse_flag("throttling:1@100s..112s").unwrap()];
    let sim = sim_with(scenario(), faults, credentials()).await;
    let client = client_with(&sim.endpoint(), Duration::from_secs(5), 1, credentials());
    let instances = sim.handle.instances.clone();
    // A source probe that cannot connect: its (redacted) target and error are recorded.
    let dsn: SourceDsn = format!("postgres://repl:{DSN_PASSWORD}@127.0.0.1:1/postgres")
        .parse()
        .unwrap();
    let mut probe = SourceProbe::new(dsn, Duration::from_secs(2)).unwrap();
    let mut config = AppConfig::new(instances.clone());
    config.interval = Duration::from_secs(INTERVAL as u64);
    config.source_probe = Some(probe.target().to_string());
    let start = sim.clock.at(0.0);
    let mut live = App::new(config, start);
    let mut recorder = Recorder::open(path).unwrap();
    let mut screens = Vec::new();
    let mut n = 0;
    for round in 0..ROUNDS {
        let t = (round as i64 * INTERVAL) as f64;
        sim.clock.set(t);
        for inst in &instances {
            let started = sim.clock.at(t);
            live.update(Action::Poll(PollEvent::Started {
                instance: inst.clone(),
                at: started,
            }));
            let result = client.describe_tasks(inst, &TaskFilter::default()).await;
            let source = match &result {
                Ok(_) => Some(probe.report().await),
                Err(_) => None,
            };
            let mut r = PollResult {
                instance: inst.clone(),
                started,
                at: started,
                result,
                source,
            };
            n += 1;
            steady_ids(&mut r, n);
            recorder.append(&r).unwrap();
            live.update(Action::Poll(PollEvent::Finished(r)));
            live.update(Action::Poll(PollEvent::Scheduled {
                instance: inst.clone(),
                next: Some(started + chrono::Duration::seconds(INTERVAL)),
            }));
            if POSITIONS.contains(&n) {
                screens.push(render(&mut live, 120, 40));
            }
        }
    }
    sim.handle.shutdown().await;
    screens
}

fn assert_no_secret(what: &str, text: &str) {
    for m in [
        SECRET,
        TOKEN,
        DSN_PASSWORD,
        SOURCE_PASSWORD,
        "SourcePassword",
    ] {
        assert!(!text.contains(m), "{m} leaked into {what}");
    }
}

fn player(rec: Recording) -> Player {
    let mut base = AppConfig::new(vec![]);
    base.interval = player::guess_interval(&rec).unwrap();
    let config = player::app_config(&rec, base);
    Player::new(rec, config, 1.0)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_recorded_session_replays_with_the_same_screens_and_reports() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("session.jsonl");
    let live = record(&path).await;

    let text = std::fs::read_to_string(&path).unwrap();
    assert_eq!(text.lines().count(), ROUNDS * 5);
    assert_no_secret("the recording", &text);
    assert!(
        text.contains("Throttling"),
        "the throttled polls are recorded"
    );
    assert!(
        text.contains("repl:********@127.0.0.1"),
        "the probe's redacted target"
    );

    let rec = Recording::read(&path).unwrap();
    assert!(rec.warnings.is_empty(), "{:?}", rec.warnings);
    assert_eq!(player::guess_interval(&rec), Some(Duration::from_secs(5)));
    let mut p = player(rec.clone());
    for (i, pos) in POSITIONS.iter().enumerate() {
        p.seek(*pos);
        let screen = render_replay(&mut p, 120, 40);
        assert_eq!(
            body(&screen),
            body(&live[i]),
            "replay differs at entry {pos}"
        );
        assert!(screen.lines().next().unwrap().contains("replay"));
        assert!(screen.lines().last().unwrap().contains("Space"));
        assert_no_secret("a replayed screen", &screen);
        assert_snapshot!(format!("replay_at_{pos}_120x40"), screen);
    }
    // Stepping back from the end lands on the same screen as seeking there.
    p.seek(rec.entries.len());
    for _ in 0..(rec.entries.len() - POSITIONS[1]) {
        p.on_key(crate::support::keys::key(crossterm::event::KeyCode::Left));
    }
    assert_eq!(body(&render_replay(&mut p, 120, 40)), body(&live[1]));
    // The stage changes (bi004's basebackup ends) and verdict changes are jump marks.
    assert!(p.marks().len() >= 3, "{:?}", p.marks());

    let r = report::build(
        &rec,
        &report::ReportConfig {
            readiness: Default::default(),
            local_offset: chrono::FixedOffset::east_opt(0).unwrap(),
            interval: None,
            title: "session.jsonl".into(),
        },
    );
    let html = report::html::render(&r);
    assert_no_secret("the report", &html);
    // Every task of the scenario, crm-migrate DRAINED (no probe reading: the reported lag).
    assert_eq!(r.tasks.len(), 7);
    let crm = r.tasks.iter().find(|t| t.name == "crm-migrate").unwrap();
    assert!(crm.summary.first_in_sync.is_some());
    let bi = r.tasks.iter().find(|t| t.name == "bi-migrate").unwrap();
    let stages: Vec<&str> = bi
        .stages
        .iter()
        .map(|s| s.value.as_ref().map_or("?", |s| s.as_str()))
        .collect();
    assert_eq!(stages, ["basebackup", "startup", "increment"]);
    let log = r.tasks.iter().find(|t| t.name == "log-migrate").unwrap();
    assert!(
        log.events
            .iter()
            .any(|e| e.kind == report::EventKind::Disconnect)
    );
    assert!(
        crm.events
            .iter()
            .any(|e| e.kind == report::EventKind::Error && e.text.contains("Throttling"))
    );
}
