//! Issue 19, items 1 and 2, through the real binary: positions and times at the edges of
//! their domain are never believed (`status`, `wait`), and text that lies about its own shape
//! (bidi controls, invisible characters, look-alike letters) reaches the terminal marked.

use std::sync::Arc;

use chrono::{Duration as Days, Utc};

use crate::support::http;

/// The reference sample with `over` written over its ReplicationInfo fields.
fn with_replication(over: &serde_json::Value) -> String {
    let mut v: serde_json::Value = serde_json::from_str(&http::sample()).unwrap();
    let raw = v["Items"]["ReplicationInfo"]
        .as_str()
        .unwrap()
        .replace("\\\"", "\"");
    let mut info: serde_json::Value = serde_json::from_str(&raw).unwrap();
    for (k, val) in over.as_object().unwrap() {
        info[k] = val.clone();
    }
    v["Items"]["ReplicationInfo"] = info.to_string().into();
    v.to_string()
}

/// A receipt time `secs` from now on migtop's clock, in the API's form.
fn receipt_in(secs: i64) -> String {
    (Utc::now() + Days::seconds(secs))
        .format("%Y-%m-%d %H:%M:%S%.6f+00")
        .to_string()
}

async fn migtop(args: &[&str]) -> (i32, String, String) {
    let home = tempfile::tempdir().unwrap();
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_migtop"))
        .args(args)
        .env_clear()
        .env("HOME", home.path())
        .env("ALIBABA_CLOUD_ACCESS_KEY_ID", "LTAI5tEDGES")
        .env("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "edges-test-secret")
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true)
        .output()
        .await
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

/// `status -o json` against a server answering `body`: the one task's JSON.
async fn status_json(body: String) -> serde_json::Value {
    let (addr, _) = http::serve(Arc::new(move |_, _| (200, body.clone()))).await;
    let endpoint = format!("http://{addr}");
    let (code, out, err) = migtop(&[
        "status",
        "--endpoint",
        &endpoint,
        "-i",
        "pgm-edge",
        "-o",
        "json",
    ])
    .await;
    assert_eq!(code, 0, "{err}");
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    doc["instances"][0]["tasks"][0].clone()
}

#[tokio::test(flavor = "multi_thread")]
async fn zero_zero_is_no_position_and_never_ready() {
    let t = status_json(with_replication(&serde_json::json!({
        "LatestEndLsn": "0/0", "ReceivedLsn": "0/0", "ReplayLsn": "0/0",
        "LastMsgReceiptTime": receipt_in(0),
    })))
    .await;
    assert_eq!(t["lag_bytes"], serde_json::Value::Null, "{t}");
    assert_eq!(t["lsn"]["replay"], serde_json::Value::Null, "{t}");
    assert!(
        t["blockers"]
            .as_array()
            .unwrap()
            .iter()
            .any(|b| b.to_string().contains("lag unknown")),
        "{t}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn replay_ahead_of_received_is_no_lag_of_zero_nor_16_eib() {
    let body = with_replication(&serde_json::json!({
        "LatestEndLsn": "0/3000148", "ReceivedLsn": "0/3000148", "ReplayLsn": "0/4000000",
        "LastMsgReceiptTime": receipt_in(0),
    }));
    let t = status_json(body.clone()).await;
    assert_eq!(t["lag_bytes"], serde_json::Value::Null, "{t}");
    assert!(!t["blockers"].as_array().unwrap().is_empty(), "{t}");
    // The table: not READY, and no absurd figure.
    let (addr, _) = http::serve(Arc::new(move |_, _| (200, body.clone()))).await;
    let endpoint = format!("http://{addr}");
    let (code, out, err) = migtop(&["status", "--endpoint", &endpoint, "-i", "pgm-edge"]).await;
    assert_eq!(code, 0, "{err}");
    let row = out.lines().find(|l| l.starts_with("pgm-edge")).unwrap();
    assert!(row.trim_end().ends_with("lag unknown"), "{out}");
    assert!(!out.contains("PiB") && !out.contains("EiB"), "{out}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_negative_replay_lag_is_not_shown() {
    let t = status_json(with_replication(&serde_json::json!({"ReplayLag": "-12.5"}))).await;
    assert_eq!(t["replay_lag_seconds"], serde_json::Value::Null, "{t}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_receipt_time_from_the_future_is_a_reason() {
    let t = status_json(with_replication(&serde_json::json!({
        "LastMsgReceiptTime": receipt_in(86_400),
    })))
    .await;
    let blockers = t["blockers"].to_string();
    assert!(
        blockers.contains("LastMsgReceiptTime is 1d") || blockers.contains("ahead of this clock"),
        "{t}"
    );
}

/// `wait --in-sync` on a link whose receipt times jump `ahead` seconds on every other poll.
async fn wait_in_sync(ahead: i64) -> (i32, String) {
    let script: http::Script = Arc::new(move |_, n| {
        let off = if n % 2 == 0 { ahead } else { 0 };
        (
            200,
            with_replication(&serde_json::json!({ "LastMsgReceiptTime": receipt_in(off) })),
        )
    });
    let (addr, _) = http::serve(script).await;
    let endpoint = format!("http://{addr}");
    let (code, _, err) = migtop(&[
        "wait",
        "--endpoint",
        &endpoint,
        "-i",
        "pgm-edge",
        "--in-sync",
        "--interval",
        "1s",
        "--stable-for",
        "2s",
        "--timeout",
        "7s",
    ])
    .await;
    (code, err)
}

#[tokio::test(flavor = "multi_thread")]
async fn wait_in_sync_never_passes_on_times_that_jump_a_day_ahead_and_back() {
    // The control: the same link with honest times is IN SYNC within the timeout.
    let (code, err) = wait_in_sync(0).await;
    assert_eq!(code, 0, "{err}");
    let (code, err) = wait_in_sync(86_400).await;
    assert_eq!(code, 3, "{err}");
    assert!(
        err.contains("ahead of this clock") || err.contains("ahead"),
        "{err}"
    );
}

/// The reference sample with `name` as the task's name and target instance.
fn named(name: &str) -> String {
    let mut v: serde_json::Value = serde_json::from_str(&http::sample()).unwrap();
    v["Items"]["TaskName"] = name.into();
    v["Items"]["TargetInstanceName"] = name.into();
    v.to_string()
}

const INVISIBLE: &[char] = &[
    '\u{202a}',
    '\u{202b}',
    '\u{202c}',
    '\u{202d}',
    '\u{202e}',
    '\u{2066}',
    '\u{2067}',
    '\u{2068}',
    '\u{2069}',
    '\u{200b}',
    '\u{200c}',
    '\u{200d}',
    '\u{200e}',
    '\u{200f}',
    '\u{feff}',
    '\u{2060}',
    '\u{00ad}',
    '\u{061c}',
    '\u{e0041}',
];

#[tokio::test(flavor = "multi_thread")]
async fn bidi_and_invisible_characters_reach_the_table_as_markers_and_json_escaped() {
    let name: String = INVISIBLE
        .iter()
        .map(|c| format!("x{c}"))
        .collect::<String>()
        + "gpj.exe";
    let body = named(&name);
    let (addr, _) = http::serve(Arc::new(move |_, _| (200, body.clone()))).await;
    let endpoint = format!("http://{addr}");
    let (code, out, err) = migtop(&["status", "--endpoint", &endpoint, "-i", "pgm-edge"]).await;
    assert_eq!(code, 0, "{err}");
    for c in INVISIBLE {
        assert!(!out.contains(*c) && !err.contains(*c), "{c:?} in {out:?}");
    }
    assert!(out.contains("x<U+202A>x<U+202B>"), "{out}");
    let (code, out, err) = migtop(&[
        "status",
        "--endpoint",
        &endpoint,
        "-i",
        "pgm-edge",
        "-o",
        "json",
    ])
    .await;
    assert_eq!(code, 0, "{err}");
    for c in INVISIBLE {
        assert!(!out.contains(*c), "{c:?} raw in the JSON");
    }
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(doc["instances"][0]["tasks"][0]["task_name"], name.as_str());
}

#[tokio::test(flavor = "multi_thread")]
async fn an_instance_id_with_an_invisible_or_look_alike_character_is_named_at_start() {
    let (addr, _) = http::serve(Arc::new(|_, _| (200, http::sample()))).await;
    let endpoint = format!("http://{addr}");
    for (id, want) in [
        ("pgm-\u{200b}x", "pgm-<U+200B>x holds invisible characters"),
        ("pgm-\u{430}x", "U+0430"),
    ] {
        let (code, _, err) = migtop(&["status", "--endpoint", &endpoint, "-i", id]).await;
        assert_eq!(code, 0, "{err}");
        assert!(err.contains(want), "{id:?}: {err}");
        assert!(!err.contains('\u{200b}'), "{err:?}");
    }
}
