//! Issue 10, items 4 and 5: what a hostile server sends never reaches the terminal raw, and
//! odd input never panics. Each escape goes through each output path: the `status` table and
//! stderr (the real binary against a loopback server), the dashboard (test backend) and the
//! log (a trace-level subscriber like `--log-file`'s).

use std::sync::Arc;
use std::time::Duration;

use tokio::process::Command;

use crate::support::{dashboard, http};

/// Escapes a server might send, each with a payload that must not survive either.
const ESCAPES: &[&str] = &[
    "\x1b]52;c;Q0xJUEJPQVJE\x07",
    "\x1b]52;c;Q0xJUEJPQVJE\x1b\\",
    "\x1b[2J",
    "\x1b[?1049l",
    "\x07",
    "\u{9b}2J",
    "\u{9d}0;TITLE\u{9c}",
    "\x7f",
    "\x1bP+q544e\x1b\\",
];

/// Text no output may show: the payloads of [`ESCAPES`].
const PAYLOADS: &[&str] = &[
    "52;c;",
    "Q0xJUEJPQVJE",
    "[2J",
    "?1049l",
    "0;TITLE",
    "+q544e",
];

fn hostile(label: &str) -> String {
    let mut s = label.to_string();
    for e in ESCAPES {
        s.push_str(e);
        s.push('.');
    }
    s
}

/// Fails when `out` holds a control character (other than a line feed) or an escape's payload.
fn assert_clean(what: &str, out: &str) {
    if let Some(c) = out.chars().find(|c| c.is_control() && *c != '\n') {
        panic!("{what}: control character {c:?} in {out:?}");
    }
    for p in PAYLOADS {
        assert!(!out.contains(p), "{what}: {p:?} in {out:?}");
    }
}

async fn migtop(args: &[&str]) -> (i32, String, String) {
    let home = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_migtop"))
        .args(args)
        .env_clear()
        .env("HOME", home.path())
        .env("ALIBABA_CLOUD_ACCESS_KEY_ID", "LTAI5tHOSTILE")
        .env("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "hostile-test-secret")
        .output()
        .await
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

/// The reference sample with hostile text in every field the table shows.
fn hostile_sample() -> String {
    let mut v: serde_json::Value = serde_json::from_str(&http::sample()).unwrap();
    let item = &mut v["Items"];
    item["TaskName"] = hostile("name").into();
    item["MigrateStage"] = hostile("stage").into();
    item["ReplicationState"] = hostile("state").into();
    v.to_string()
}

async fn status(body: String, status_code: u16, extra: &[&str]) -> (i32, String, String) {
    let (addr, _) = http::serve(Arc::new(move |_, _| (status_code, body.clone()))).await;
    let endpoint = format!("http://{addr}");
    let mut args = vec!["status", "--endpoint", &endpoint, "-i", "pgm-hostile"];
    args.extend_from_slice(extra);
    migtop(&args).await
}

#[tokio::test(flavor = "multi_thread")]
async fn the_status_table_strips_escapes_from_task_fields() {
    let (code, out, err) = status(hostile_sample(), 200, &[]).await;
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("name."), "{out}");
    assert_clean("table", &out);
    assert_clean("stderr", &err);
}

#[tokio::test(flavor = "multi_thread")]
async fn json_keeps_the_text_escaped() {
    let (code, out, err) = status(hostile_sample(), 200, &["-o", "json"]).await;
    assert_eq!(code, 0, "{err}");
    // serde escapes control characters: the document has none, and keeps the text exactly.
    assert!(!out.chars().any(|c| c.is_control() && c != '\n'), "{out:?}");
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        doc["instances"][0]["tasks"][0]["task_name"],
        hostile("name")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn error_codes_messages_and_request_ids_reach_stderr_stripped() {
    let body = http::error_body(&hostile("Code"), &hostile("message"), &hostile("request"));
    let (code, out, err) = status(body, 400, &[]).await;
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("Code.") && err.contains("message."), "{err}");
    assert_clean("stderr", &err);
    assert_clean("stdout", &out);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_task_name_of_70000_characters_is_cut_not_a_panic() {
    let mut v: serde_json::Value = serde_json::from_str(&http::sample()).unwrap();
    v["Items"]["TaskName"] = "n".repeat(70_000).into();
    let (code, out, err) = status(v.to_string(), 200, &[]).await;
    assert_eq!(code, 0, "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(out.contains("nnn…"), "{out}");
    assert!(out.lines().all(|l| l.chars().count() < 300), "{out}");
}

#[tokio::test(flavor = "multi_thread")]
async fn absurd_durations_and_sizes_are_usage_errors() {
    for args in [
        &["watch", "-i", "x", "--stable-for", "300000years"][..],
        &["demo", "--stable-for", "300000years"],
        &["watch", "-i", "x", "--stable-for", "1e300"],
        &["watch", "-i", "x", "--interval", "300000years"],
        &["watch", "-i", "x", "--max-lag", "16EiB"],
        &["status", "-i", "x", "--timeout", "300000years"],
        &["demo", "--speed", "1e300"],
        &["demo", "--speed", "NaN"],
        &["lab", "--link-rate", "16EiB"],
    ] {
        let (code, _, err) = migtop(args).await;
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }
}

#[test]
fn the_dashboard_shows_no_escape() {
    let bad = |l: &str| hostile(l);
    let mut app = dashboard::app();
    let mut item = dashboard::item(
        7,
        &bad("name"),
        "increment",
        "streaming",
        Some(dashboard::pos(0x5_0000_0000, 1024)),
        &format!(
            "[{}]\\nCheck {}: warning(warning:{})\\n2026-02-28 17:00:29 --- {}\\n",
            bad("section"),
            bad("check"),
            bad("why"),
            bad("progress")
        ),
    );
    item["SourceIpAddress"] = bad("ip").into();
    item["SourceAccount"] = bad("account").into();
    item["TargetInstanceName"] = bad("target").into();
    dashboard::ok(&mut app, "pgm-demo-east", 0, vec![item]);
    dashboard::fail(
        &mut app,
        "pgm-demo-west",
        0,
        migtop::aliyun::ApiError::Api {
            code: bad("Code"),
            message: bad("message"),
            request_id: Some(bad("request")),
            http_status: 400,
        },
        5,
    );
    dashboard::select_task(&mut app, 7);
    for (w, h) in [(120, 40), (80, 24)] {
        let t = dashboard::render(&mut app, w, h);
        let screen = dashboard::screen(&t);
        assert!(screen.contains("name."), "{screen}");
        assert_clean("dashboard", &screen);
    }
    // The failed instance's error, where the dashboard shows it.
    app.on_key(crate::support::keys::key(crossterm::event::KeyCode::End));
    let screen = dashboard::screen(&dashboard::render(&mut app, 120, 40));
    assert_clean("dashboard error", &screen);
}

#[tokio::test]
async fn the_log_strips_escapes_from_server_text() {
    use migtop::poller::{ApiSource, Poller};
    let body = http::error_body(&hostile("Code"), &hostile("message"), &hostile("request"));
    let (addr, _) = http::serve(Arc::new(move |_, _| (400, body.clone()))).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("migtop.log");
    let file = std::fs::File::create(&path).unwrap();
    let subscriber = migtop::util::logging::file_subscriber(file, "trace".parse().unwrap());
    let _guard = tracing::subscriber::set_default(subscriber);
    let (tx, mut rx) = tokio::sync::mpsc::channel(16);
    let source = ApiSource {
        client: crate::support::sim::client(&format!("http://{addr}"), Duration::from_secs(5), 1),
        filter: Default::default(),
    };
    let _poller = Poller::spawn(
        Arc::new(source),
        &["pgm-hostile".to_string()],
        Duration::from_secs(60),
        None,
        tx,
    );
    while let Some(ev) = rx.recv().await {
        if let migtop::poller::PollEvent::Finished(_) = ev {
            break;
        }
    }
    let log = std::fs::read_to_string(&path).unwrap();
    assert!(log.contains("message."), "{log}");
    assert_clean("log", &log);
}
