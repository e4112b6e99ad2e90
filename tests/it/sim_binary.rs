//! The real binary: `migtop simulate` announces itself, `migtop status` against it shows
//! every default-scenario task with no password anywhere, and SIGTERM stops it with exit 0.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_migtop");
const KEY_ID: &str = "LTAI5tBinaryTestKey";
const SECRET: &str = "binary-test-secret-5b1c";
/// Every SourcePassword of the default scenario.
const PASSWORDS: [&str; 5] = ["20240611", "886421", "Lg-7f3a91c2", "314159", "123456"];

fn command(home: &Path) -> Command {
    let mut c = Command::new(BIN);
    c.env("HOME", home)
        .env("ALIBABA_CLOUD_ACCESS_KEY_ID", KEY_ID)
        .env("ALIBABA_CLOUD_ACCESS_KEY_SECRET", SECRET)
        .env_remove("ALIBABA_CLOUD_SECURITY_TOKEN")
        .env_remove("ALIBABA_CLOUD_PROFILE")
        .env_remove("ALIBABA_CLOUD_REGION_ID")
        .stdin(Stdio::null());
    c
}

/// Kills the simulator if a test fails before stopping it.
struct Guard(Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn status_json(home: &Path, endpoint: &str, instances: &[&str]) -> (Value, String) {
    let mut c = command(home);
    c.args(["status", "--endpoint", endpoint, "--output", "json"]);
    for i in instances {
        c.args(["-i", i]);
    }
    let out = c.output().unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(out.status.success(), "status failed: {stderr}");
    (
        serde_json::from_str(&stdout).unwrap(),
        format!("{stdout}{stderr}"),
    )
}

fn tasks(doc: &Value) -> Vec<&Value> {
    doc["instances"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|i| i["tasks"].as_array().unwrap())
        .collect()
}

fn no_password_anywhere(v: &Value) {
    match v {
        Value::String(s) => assert!(!PASSWORDS.contains(&s.as_str()), "a password value: {s}"),
        Value::Number(n) => assert!(
            !PASSWORDS.contains(&n.to_string().as_str()),
            "a password value: {n}"
        ),
        Value::Array(a) => a.iter().for_each(no_password_anywhere),
        Value::Object(o) => {
            for (k, v) in o {
                assert!(!k.to_ascii_lowercase().contains("password"), "key {k}");
                no_password_anywhere(v);
            }
        }
        _ => {}
    }
}

#[test]
fn simulate_then_status_shows_every_task_without_passwords() {
    let home = tempfile::tempdir().unwrap();
    let log = home.path().join("sim.err");
    let mut child = command(home.path())
        .args(["simulate", "--speed", "100"])
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let pid = child.id();
    let guard = Guard(child);
    let rx = crate::support::lines::lines(stdout);
    let next = || {
        rx.recv_timeout(Duration::from_secs(30))
            .expect("a line from simulate")
    };
    let first = next();
    let endpoint = first
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("first line: {first:?}"))
        .to_string();
    assert!(endpoint.starts_with("http://127.0.0.1:"), "{endpoint}");
    let second = next();
    let instances: Vec<String> = second
        .strip_prefix("instances: ")
        .unwrap_or_else(|| panic!("second line: {second:?}"))
        .split(' ')
        .map(str::to_string)
        .collect();
    assert_eq!(instances.len(), 5);
    let third = next();
    assert!(
        third.contains(KEY_ID) && third.contains("environment"),
        "{third}"
    );
    assert!(!third.contains(SECRET));

    let ids: Vec<&str> = instances.iter().map(String::as_str).collect();
    let (doc, text) = status_json(home.path(), &endpoint, &ids);
    let mut names: Vec<&str> = tasks(&doc)
        .iter()
        .map(|t| t["task_name"].as_str().unwrap())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "bi-migrate",
            "crm-migrate",
            "crm-precheck",
            "erp-migrate",
            "erp-precheck-1",
            "hr-migrate",
            "log-migrate"
        ]
    );
    no_password_anywhere(&doc);
    for p in ["Lg-7f3a91c2", "SourcePassword", SECRET] {
        assert!(!text.contains(p), "{p} in status output");
    }

    // Time runs 100x: a moment later LSNs have moved forward and no stage went back.
    std::thread::sleep(Duration::from_millis(1500));
    let (later, _) = status_json(home.path(), &endpoint, &ids);
    let lsn = |t: &Value, k: &str| {
        t["lsn"][k]
            .as_str()
            .map(|s| s.parse::<migtop::model::Lsn>().unwrap())
    };
    let mut moved = 0;
    for (a, b) in tasks(&doc).iter().zip(tasks(&later)) {
        assert_eq!(a["task_name"], b["task_name"]);
        assert!(
            b["stage_index"].as_u64() >= a["stage_index"].as_u64(),
            "{} went back",
            a["task_name"]
        );
        if let (Some(x), Some(y)) = (lsn(a, "replay"), lsn(b, "replay")) {
            assert!(y >= x, "{} replay went back", a["task_name"]);
            moved += usize::from(y > x);
        }
    }
    assert!(moved >= 2, "only {moved} tasks moved");

    // SIGTERM: a clean exit 0, and nothing secret in the simulator's own output.
    let killed = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let mut guard = guard;
    let mut code = None;
    for _ in 0..100 {
        if let Some(s) = guard.0.try_wait().unwrap() {
            code = Some(s);
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let code = code.expect("simulate stops on SIGTERM");
    assert_eq!(code.code(), Some(0));
    let sim_log = std::fs::read_to_string(&log).unwrap();
    for p in PASSWORDS.iter().chain([&SECRET]) {
        assert!(!sim_log.contains(p), "{p} in the simulator's log");
    }
}

#[test]
fn bad_scenarios_and_flags_are_usage_errors() {
    let home = tempfile::tempdir().unwrap();
    let bad = home.path().join("bad.json");
    std::fs::write(
        &bad,
        "{\"instances\": [{\"id\": \"a\", \"tasks\": [{\"id\": 1}]}]}",
    )
    .unwrap();
    let out = command(home.path())
        .args(["simulate", "--scenario"])
        .arg(&bad)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("bad.json") && err.contains("missing field"),
        "{err}"
    );
    let out = command(home.path())
        .args(["simulate", "--fault", "explode"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown fault"));
}

/// With nothing configured, `simulate` accepts the demo pair and its `try:` line carries it:
/// pasted into a shell with no credentials, the line works.
#[test]
fn the_printed_try_line_works_when_pasted() {
    let home = tempfile::tempdir().unwrap();
    let mut child = Command::new(BIN)
        .args(["simulate"])
        .env_clear()
        .env("HOME", home.path())
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let _guard = Guard(child);
    let rx = crate::support::lines::lines(stdout);
    let try_line = loop {
        let line = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("a try: line from simulate");
        if let Some(rest) = line.strip_prefix("try: ") {
            break rest.to_string();
        }
    };
    assert!(
        try_line.contains("ALIBABA_CLOUD_ACCESS_KEY_ID="),
        "{try_line}"
    );
    // migtop is not on PATH (as after `cargo run`): the line names the binary by its path.
    assert!(try_line.contains(BIN), "{try_line}");
    let out = Command::new("sh")
        .args(["-c", &try_line])
        .env_clear()
        .env("HOME", home.path())
        .env("PATH", "/usr/bin:/bin")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{try_line}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}
