//! `--record`, `replay` and `report` as a DBA runs them: the real binary against an
//! in-process simulator, with secrets in every place one could leak from.

use std::path::Path;
use std::process::{Command, Output, Stdio};

use migtop::aliyun::Credentials;
use migtop::recording::Recording;
use quick_xml::Reader;
use quick_xml::events::Event;

use crate::support::sim::sim_with;

const BIN: &str = env!("CARGO_BIN_EXE_migtop");
const KEY_ID: &str = "LTAI5tRecordCli";
const SECRET: &str = "AKSECRET-CLI-MARK-5522";
const TOKEN: &str = "STSTOKEN-CLI-MARK-6633";
const DSN_PASSWORD: &str = "DSNPW-CLI-MARK-7744";
/// Every SourcePassword of the built-in scenario.
const PASSWORDS: [&str; 5] = ["20240611", "886421", "Lg-7f3a91c2", "314159", "123456"];

fn credentials() -> Credentials {
    Credentials {
        access_key_id: KEY_ID.into(),
        access_key_secret: SECRET.to_string().into(),
        security_token: Some(TOKEN.to_string().into()),
        origin: "test".into(),
    }
}

fn migtop(home: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .env_clear()
        .env("HOME", home)
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("ALIBABA_CLOUD_ACCESS_KEY_ID", KEY_ID)
        .env("ALIBABA_CLOUD_ACCESS_KEY_SECRET", SECRET)
        .env("ALIBABA_CLOUD_SECURITY_TOKEN", TOKEN)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn assert_no_secret(what: &str, s: &str) {
    for m in [SECRET, TOKEN, DSN_PASSWORD, "SourcePassword"] {
        assert!(!s.contains(m), "{m} leaked into {what}");
    }
}

/// Whether `html` is well-formed markup; returns the number of `<svg>` elements.
fn svg_count(html: &str) -> usize {
    let mut r = Reader::from_str(html);
    let mut n = 0;
    loop {
        match r.read_event().expect("the page is well-formed") {
            Event::Start(e) if e.name().as_ref() == b"svg" => n += 1,
            Event::Eof => return n,
            _ => {}
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn status_records_and_report_renders() {
    let sim = sim_with(migtop::sim::Scenario::builtin(), vec![], credentials()).await;
    let endpoint = sim.endpoint();
    let home = tempfile::tempdir().unwrap();
    let rec = home.path().join("cutover.jsonl");
    let rec_s = rec.to_str().unwrap().to_string();
    let dsn = format!("postgres://repl:{DSN_PASSWORD}@127.0.0.1:1/postgres");
    let mut args = vec!["status", "--endpoint", &endpoint, "--record", &rec_s];
    args.extend(["--source-dsn", &dsn, "--timeout", "3s"]);
    for i in &sim.handle.instances {
        args.extend(["-i", i.as_str()]);
    }
    // Three runs append to one file.
    for _ in 0..3 {
        let h = home.path().to_path_buf();
        let a: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        let out = tokio::task::spawn_blocking(move || {
            let a: Vec<&str> = a.iter().map(String::as_str).collect();
            migtop(&h, &a)
        })
        .await
        .unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        sim.advance(5.0);
    }
    let file = std::fs::read_to_string(&rec).unwrap();
    assert_eq!(file.lines().count(), 3 * sim.handle.instances.len());
    assert_no_secret("the recording", &file);
    for p in PASSWORDS {
        assert!(!file.contains(&format!("\"{p}\"")), "{p} leaked");
    }
    let recording = Recording::read(&rec).unwrap();
    assert!(recording.warnings.is_empty(), "{:?}", recording.warnings);
    assert_eq!(
        recording.probe_target().as_deref(),
        Some("postgres://repl:********@127.0.0.1:1/postgres")
    );

    // The report: one page, one chart per task, nothing loaded from elsewhere.
    let page = home.path().join("ticket.html");
    let out = migtop(
        home.path(),
        &["report", &rec_s, "-o", page.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let html = std::fs::read_to_string(&page).unwrap();
    assert_no_secret("the report", &html);
    assert!(!html.to_lowercase().contains("<script"));
    assert_eq!(svg_count(&html), 7, "one chart per task of the scenario");
    // Without -o, the page goes next to the recording.
    let out = migtop(home.path(), &["report", &rec_s]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(home.path().join("cutover.html").exists());
    sim.handle.shutdown().await;
}

#[test]
fn bad_files_and_no_terminal_are_usage_errors() {
    let home = tempfile::tempdir().unwrap();
    let notes = home.path().join("notes.txt");
    std::fs::write(&notes, "not a recording\n").unwrap();
    let n = notes.to_str().unwrap();
    for args in [
        vec!["report", n],
        vec!["replay", n],
        vec!["report", "/nonexistent/rec.jsonl"],
    ] {
        let out = migtop(home.path(), &args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", text(&out));
        assert!(text(&out).contains("recording"), "{}", text(&out));
    }
    // A real recording, but no terminal for the dashboard.
    let rec = home.path().join("r.jsonl");
    std::fs::write(
        &rec,
        r#"{"v":1,"kind":"poll","instance":"pgm-1","started":"2026-03-01T06:40:00Z","at":"2026-03-01T06:40:00Z","snapshot":{"instance":"pgm-1","tasks":[]}}
"#,
    )
    .unwrap();
    let out = migtop(home.path(), &["replay", rec.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("terminal"), "{}", text(&out));
    // --record to a place that cannot be written is refused before anything is polled.
    let out = migtop(
        home.path(),
        &[
            "status",
            "-i",
            "pgm-1",
            "--endpoint",
            "http://127.0.0.1:1",
            "--record",
            "/nonexistent/dir/r.jsonl",
        ],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("recording"), "{}", text(&out));
}
