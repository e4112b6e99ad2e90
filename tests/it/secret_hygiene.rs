//! Issue 10, item 8: no secret reaches any output. Unique markers for SourcePassword, the
//! Conninfo password, the AccessKey secret, the STS token and the DSN password go through
//! every output path: the `status` table and JSON and every error message (the real binary
//! against a loopback server whose answers carry the markers), the dashboard as the real
//! binary draws it (in a pseudo-terminal, with `--log-file` at `MIGTOP_LOG=trace`), the
//! dashboard's screens through the test backend, and a forced panic's message.

use std::io::Write;
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use migtop::aliyun::Credentials;
use migtop::app::{Action, AppConfig};
use migtop::probe::SourceDsn;
use tokio::process::Command;

use crate::support::{dashboard, http};

const SOURCE_PASSWORD: &str = "MkSourcePw4417";
const CONNINFO_PASSWORD: &str = "MkConninfoPw4417";
const AK_SECRET: &str = "MkAkSecret4417";
const STS_TOKEN: &str = "MkStsToken4417";
const DSN_PASSWORD: &str = "MkDsnPw4417";
const KEY_ID: &str = "LTAI5tHygieneKey";

const MARKERS: [(&str, &str); 5] = [
    ("SourcePassword", SOURCE_PASSWORD),
    ("Conninfo password", CONNINFO_PASSWORD),
    ("AccessKey secret", AK_SECRET),
    ("STS token", STS_TOKEN),
    ("DSN password", DSN_PASSWORD),
];

/// Everything seen, by where it was seen.
#[derive(Default)]
struct Outputs(Vec<(String, String)>);

impl Outputs {
    fn add(&mut self, what: impl Into<String>, text: impl Into<String>) {
        self.0.push((what.into(), text.into()));
    }

    fn assert_no_marker(&self) {
        let mut leaks = Vec::new();
        for (what, text) in &self.0 {
            for (secret, marker) in MARKERS {
                // Case-insensitive, and percent-encoded forms are the same text here.
                if text.to_lowercase().contains(&marker.to_lowercase()) {
                    leaks.push(format!("{secret} in {what}"));
                }
            }
        }
        assert!(leaks.is_empty(), "leaked: {leaks:#?}");
    }
}

/// A task item carrying the SourcePassword and a Conninfo password.
fn item(id: i64, name: &str) -> serde_json::Value {
    let mut it = dashboard::item(
        id,
        name,
        "increment",
        "streaming",
        Some(dashboard::pos(0x5_0000_0000, 1024)),
        "[Check a]\\nCheck a: warning(warning:something odd)\\n",
    );
    it["SourcePassword"] = SOURCE_PASSWORD.into();
    let ri = serde_json::json!({
        "Status": "streaming", "ReceivedLsn": "5/0", "LatestEndLsn": "5/0", "ReplayLsn": "5/0",
        "Synced": "true",
        "Conninfo": format!("user=migrator password={CONNINFO_PASSWORD} host=10.1.2.3 port=5432"),
    });
    it["ReplicationInfo"] = ri.to_string().into();
    it
}

/// The loopback server: `pgm-ok` answers with the markers in its tasks; `pgm-auth` fails
/// authentication quoting the string to sign (the AccessKey id and STS token, as a real
/// SignatureDoesNotMatch does); `pgm-api` fails with a message quoting the token as sent.
async fn server() -> String {
    let script: http::Script = Arc::new(|seen, _| {
        let instance = seen
            .params
            .get("DBInstanceName")
            .cloned()
            .unwrap_or_default();
        let token = seen
            .params
            .get("SecurityToken")
            .cloned()
            .unwrap_or_default();
        let key = seen.params.get("AccessKeyId").cloned().unwrap_or_default();
        match instance.as_str() {
            "pgm-auth" => (
                400,
                http::error_body(
                    "SignatureDoesNotMatch",
                    &format!(
                        "Specified signature is not matched with our calculation. server string to sign is:POST&%2F&AccessKeyId%3D{key}%26SecurityToken%3D{token}"
                    ),
                    "REQ-AUTH",
                ),
            ),
            "pgm-api" => (
                403,
                http::error_body(
                    "Forbidden.RAM",
                    &format!("User {key} with token {token} is not authorized"),
                    "REQ-API",
                ),
            ),
            _ => {
                let items = vec![item(7, "orders"), item(8, "billing")];
                let body = serde_json::json!({
                    "TotalSize": 2, "PageNumber": 1, "PageSize": 30, "RequestId": "REQ-OK",
                    "Items": items,
                });
                (200, body.to_string())
            }
        }
    });
    let (addr, _) = http::serve(script).await;
    format!("http://{addr}")
}

fn command(home: &std::path::Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_migtop"));
    c.env_clear()
        .env("HOME", home)
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("ALIBABA_CLOUD_ACCESS_KEY_ID", KEY_ID)
        .env("ALIBABA_CLOUD_ACCESS_KEY_SECRET", AK_SECRET)
        .env("ALIBABA_CLOUD_SECURITY_TOKEN", STS_TOKEN)
        .env("MIGTOP_LOG", "trace");
    c
}

async fn run(home: &std::path::Path, args: &[&str], seen: &mut Outputs) -> i32 {
    let out = command(home).args(args).output().await.unwrap();
    let label = args.join(" ");
    seen.add(
        format!("stdout of {label}"),
        String::from_utf8_lossy(&out.stdout),
    );
    seen.add(
        format!("stderr of {label}"),
        String::from_utf8_lossy(&out.stderr),
    );
    out.status.code().unwrap_or(-1)
}

/// A DSN whose source is not there (connection refused at once).
fn dsn() -> String {
    format!("postgres://monitor:{DSN_PASSWORD}@127.0.0.1:1/postgres?connect_timeout=2")
}

#[tokio::test(flavor = "multi_thread")]
async fn no_secret_in_any_output() {
    let endpoint = server().await;
    let home = tempfile::tempdir().unwrap();
    let mut seen = Outputs::default();
    let dsn = dsn();
    let instances = ["-i", "pgm-ok", "-i", "pgm-auth", "-i", "pgm-api"];

    // status: table and JSON, with the auth and API errors and the failed source probe.
    for output in ["table", "json"] {
        let mut args = vec!["status", "--endpoint", &endpoint, "--source-dsn", &dsn];
        args.extend(instances);
        args.extend(["-o", output]);
        let code = run(home.path(), &args, &mut seen).await;
        assert_eq!(code, 1, "{:?}", seen.0.last());
    }
    let table = &seen.0[0].1;
    assert!(
        table.contains("orders"),
        "the table shows the tasks: {table}"
    );
    assert!(
        seen.0[1].1.contains("SignatureDoesNotMatch"),
        "the auth error is reported: {}",
        seen.0[1].1
    );
    // Bad DSNs (both forms) are usage errors that quote the DSN.
    for bad in [
        format!("postgres://monitor:{DSN_PASSWORD}@127.0.0.1:notaport/postgres"),
        format!("host=127.0.0.1 port=notaport password={DSN_PASSWORD}"),
        format!("postgres://monitor:{DSN_PASSWORD}@127.0.0.1/db?sslmode=bogus"),
    ] {
        let args = [
            "status",
            "--endpoint",
            &endpoint,
            "-i",
            "pgm-ok",
            "--source-dsn",
            &bad,
        ];
        assert_eq!(run(home.path(), &args, &mut seen).await, 2, "{bad}");
    }
    // The same DSN from the environment.
    let out = command(home.path())
        .args(["status", "--endpoint", &endpoint, "-i", "pgm-ok"])
        .env("MIGTOP_SOURCE_DSN", &dsn)
        .output()
        .await
        .unwrap();
    seen.add(
        "stdout, DSN from the environment",
        String::from_utf8_lossy(&out.stdout),
    );
    seen.add(
        "stderr, DSN from the environment",
        String::from_utf8_lossy(&out.stderr),
    );

    // The dashboard as the binary draws it, in a pseudo-terminal, logging at trace level.
    let log = home.path().join("watch.log");
    let screen = watch_in_a_pty(&endpoint, &dsn, &log).await;
    assert!(
        screen.contains("orders"),
        "the dashboard drew the tasks: {screen:?}"
    );
    seen.add("the watch pseudo-terminal", screen);
    let log_text = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(
        log_text.contains("TRACE"),
        "the log is at trace level: {log_text}"
    );
    assert!(log_text.contains("SignatureDoesNotMatch"), "{log_text}");
    seen.add("the --log-file at trace", log_text);

    dashboard_screens(&mut seen);
    forced_panic(&mut seen);
    seen.assert_no_marker();
}

/// `migtop watch` in `script`'s pseudo-terminal at 120x40 for a few seconds; what it wrote.
async fn watch_in_a_pty(endpoint: &str, dsn: &str, log: &std::path::Path) -> String {
    let _heavy = crate::support::machine::heavy().await;
    let cmd = format!(
        "stty cols 120 rows 40; exec {} watch --endpoint {endpoint} -i pgm-ok -i pgm-auth -i pgm-api --interval 1s --allow-switchover --log-file {}",
        env!("CARGO_BIN_EXE_migtop"),
        log.display()
    );
    let mut child = std::process::Command::new("script")
        .args(["-q", "-e", "-c", &cmd, "/dev/null"])
        .env_clear()
        .env("HOME", log.parent().unwrap())
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("TERM", "xterm-256color")
        .env("ALIBABA_CLOUD_ACCESS_KEY_ID", KEY_ID)
        .env("ALIBABA_CLOUD_ACCESS_KEY_SECRET", AK_SECRET)
        .env("ALIBABA_CLOUD_SECURITY_TOKEN", STS_TOKEN)
        .env("MIGTOP_LOG", "trace")
        .env("MIGTOP_SOURCE_DSN", dsn)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("script(1) runs");
    let mut stdin = child.stdin.take().unwrap();
    // Screens: table and log, help, the switchover dialog, details of each task.
    let keys: &[(&[u8], u64)] = &[
        (b"", 3000),
        (b"?", 300),
        (b"?", 300),
        (b"j", 300),
        (b"S", 500),
        (b"\x1b", 300),
        (b"\t", 300),
        (b"G", 300),
        (b"q", 0),
    ];
    for (k, wait) in keys {
        std::thread::sleep(Duration::from_millis(*wait));
        let _ = stdin.write_all(k);
        let _ = stdin.flush();
    }
    drop(stdin);
    let out = tokio::task::spawn_blocking(move || child.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    let mut all = String::from_utf8_lossy(&out.stdout).into_owned();
    all.push_str(&String::from_utf8_lossy(&out.stderr));
    all
}

/// The dashboard's screens through the test backend: table with details and log, help, the
/// switchover dialog, the search, at two sizes.
fn dashboard_screens(seen: &mut Outputs) {
    let mut config = AppConfig::new(vec!["pgm-demo-east".into(), "pgm-demo-west".into()]);
    config.allow_switchover = true;
    config.source_probe = Some(SourceDsn::new(dsn()).redacted().to_string());
    let mut app = migtop::app::App::new(config, dashboard::t0());
    dashboard::ok(
        &mut app,
        "pgm-demo-east",
        0,
        vec![item(7, "orders"), item(8, "billing")],
    );
    dashboard::fail(
        &mut app,
        "pgm-demo-west",
        0,
        migtop::aliyun::ApiError::Api {
            code: "SignatureDoesNotMatch".into(),
            message: format!("string to sign AccessKeyId%3D{KEY_ID}"),
            request_id: Some("REQ".into()),
            http_status: 400,
        },
        5,
    );
    dashboard::select_task(&mut app, 7);
    let mut shot = |app: &mut migtop::app::App, what: &str| {
        for (w, h) in [(160, 50), (80, 24)] {
            let t = dashboard::render(app, w, h);
            seen.add(
                format!("dashboard {what} at {w}x{h}"),
                dashboard::screen(&t),
            );
        }
    };
    shot(&mut app, "table, details and log");
    app.update(Action::ToggleHelp);
    shot(&mut app, "help");
    app.update(Action::Escape);
    app.update(Action::Switchover);
    assert!(app.overlay().is_some(), "the switchover dialog opens");
    shot(&mut app, "switchover dialog");
    app.update(Action::Escape);
    app.update(Action::Down);
    shot(&mut app, "second task");
    app.update(Action::Last);
    shot(&mut app, "failed instance");
    seen.add("dashboard state (Debug)", format!("{app:?}"));
}

/// A panic whose message holds every secret-bearing value migtop keeps, as an `unwrap` or
/// `expect` on them would print: the parsed command line (with the DSN), the credentials,
/// the DSN, and a decoded task.
fn forced_panic(seen: &mut Outputs) {
    let dsn = dsn();
    let cli =
        migtop::cli::Cli::try_parse_from(["migtop", "watch", "-i", "pgm-x", "--source-dsn", &dsn])
            .unwrap();
    let creds = Credentials {
        access_key_id: KEY_ID.into(),
        access_key_secret: AK_SECRET.to_string().into(),
        security_token: Some(STS_TOKEN.to_string().into()),
        origin: "test".into(),
    };
    let task = migtop::model::Task::from_value("pgm-x", &item(7, "orders")).unwrap();
    let source = SourceDsn::new(dsn.clone());
    let resolved = source.resolve().map(|r| format!("{:?}", r.config));
    let caught = std::panic::catch_unwind(|| {
        panic!("forced: {cli:?} {creds:?} {source:?} {source} {task:?} {resolved:?}")
    })
    .unwrap_err();
    let message = caught.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(message.starts_with("forced:"), "{message}");
    seen.add("a forced panic's message", message);
}
