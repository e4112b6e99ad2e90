//! For the scripted commands (`wait`, `switchover`): the simulator running in real time
//! (faster with `speed`) and the real binary against it.

use std::path::Path;

use migtop::aliyun::Credentials;
use migtop::sim::{self, Scenario, ScenarioOptions, SimHandle};

/// The AccessKey id the simulator accepts and the binary signs with.
pub const KEY_ID: &str = "LTAI5tSCRIPTTEST";
/// Its secret.
pub const SECRET: &str = "script-test-secret";

/// A simulator serving `scenario` (the built-in one with `None`), time `speed` times faster.
pub async fn sim(scenario: Option<&str>, speed: f64) -> SimHandle {
    let scenario = match scenario {
        Some(text) => Scenario::from_json(text, "test").expect("scenario"),
        None => Scenario::builtin(),
    };
    sim::start_scenario(
        &scenario,
        ScenarioOptions {
            listen: "127.0.0.1:0".parse().unwrap(),
            speed,
            seed: 1,
            credentials: Credentials {
                access_key_id: KEY_ID.into(),
                access_key_secret: SECRET.to_string().into(),
                security_token: None,
                origin: "test".into(),
            },
            extra_faults: vec![],
            shape: None,
            sts: Default::default(),
        },
    )
    .await
    .expect("simulator starts")
}

/// Runs the binary with `args` (stdin not a terminal); its exit code, stdout and stderr.
pub async fn migtop(home: &Path, args: &[&str]) -> (i32, String, String) {
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_migtop"))
        .args(args)
        .env_clear()
        .env("HOME", home)
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("ALIBABA_CLOUD_ACCESS_KEY_ID", KEY_ID)
        .env("ALIBABA_CLOUD_ACCESS_KEY_SECRET", SECRET)
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

/// A loopback port free a moment ago (for a `--metrics-listen` the test then scrapes).
pub fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// Scrapes `http://127.0.0.1:PORT/metrics` until it shows task verdicts (10 s at most); the
/// last body, empty if nothing answered.
pub async fn scrape_task_metrics(port: u16) -> String {
    let url = format!("http://127.0.0.1:{port}/metrics");
    let mut body = String::new();
    for _ in 0..50 {
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        if let Ok(r) = reqwest::get(&url).await {
            body = r.text().await.unwrap_or_default();
            if body.contains("migtop_task_verdict") {
                break;
            }
        }
    }
    body
}
