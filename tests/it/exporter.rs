//! `migtop exporter` end to end: the real binary against `migtop simulate`, its exposition
//! checked by `promtool check metrics`, the shipped alerting rules by `promtool check rules` and
//! `promtool test rules`, the Grafana dashboard against the metric names, and a real Prometheus
//! server scraping the exporter and answering a query.
//!
//! promtool and prometheus come from Debian's `prometheus` package (`.ci/install-prometheus`).
//! Without them the tests that need them say so and pass, unless `CI` is set: there they fail.

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::e2e_tmux::Tmux;

const BIN: &str = env!("CARGO_BIN_EXE_migtop");
const KEY_ID: &str = "LTAI5tExporterTestKey";
const SECRET: &str = "exporter-test-secret-9d2e";
/// Every SourcePassword of the default scenario: none may reach a label.
const PASSWORDS: [&str; 5] = ["20240611", "886421", "Lg-7f3a91c2", "314159", "123456"];

fn manifest() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The Prometheus tool `name` on PATH (a printed skip without it, a failure under CI: see
/// [`crate::support::tools`]).
fn tool(name: &str) -> Option<PathBuf> {
    crate::support::tools::on_path(
        name,
        "Debian package `prometheus`; run .ci/install-prometheus",
    )
}

/// A child process killed (by its PID) when the test ends, however it ends.
struct Guard(Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn migtop(home: &Path) -> Command {
    let mut c = Command::new(BIN);
    c.env("HOME", home)
        .env("ALIBABA_CLOUD_ACCESS_KEY_ID", KEY_ID)
        .env("ALIBABA_CLOUD_ACCESS_KEY_SECRET", SECRET)
        .env_remove("ALIBABA_CLOUD_SECURITY_TOKEN")
        .env_remove("ALIBABA_CLOUD_PROFILE")
        .env_remove("ALIBABA_CLOUD_REGION_ID")
        .env_remove("MIGTOP_SOURCE_DSN")
        .stdin(Stdio::null());
    c
}

/// Starts `cmd` (its stderr as the caller set it) and returns it with the first `n` lines of
/// its stdout (bounded wait).
fn spawn_reading(cmd: &mut Command, n: usize) -> (Guard, Vec<String>) {
    let mut child = cmd.stdout(Stdio::piped()).spawn().unwrap();
    let stdout = child.stdout.take().unwrap();
    let guard = Guard(child);
    let rx = crate::support::lines::lines(stdout);
    let lines = (0..n)
        .map(|_| {
            rx.recv_timeout(Duration::from_secs(30))
                .expect("a line on stdout within 30 s")
        })
        .collect();
    (guard, lines)
}

/// `migtop simulate` at a high speed: (process, endpoint, instances).
fn simulator(home: &Path) -> (Guard, String, Vec<String>) {
    let mut c = migtop(home);
    c.args(["simulate", "--listen", "127.0.0.1:0", "--speed", "100"]);
    let log = std::fs::File::create(home.join("simulate.log")).unwrap();
    let (guard, lines) = spawn_reading(c.stderr(log), 2);
    let endpoint = lines[0].strip_prefix("listening on ").unwrap().to_string();
    let instances = lines[1]
        .strip_prefix("instances: ")
        .unwrap()
        .split(' ')
        .map(str::to_string)
        .collect();
    (guard, endpoint, instances)
}

/// `migtop exporter` on a free port against `endpoint`: (process, address of /metrics).
fn exporter(home: &Path, endpoint: &str, instances: &[String]) -> (Guard, SocketAddr) {
    let mut c = migtop(home);
    c.args([
        "exporter",
        "--endpoint",
        endpoint,
        "--listen",
        "127.0.0.1:0",
        "--interval",
        "1s",
    ]);
    for i in instances {
        c.args(["-i", i]);
    }
    // Its log (poll errors) is kept for a failing test to show.
    let log = std::fs::File::create(home.join("exporter.log")).unwrap();
    let (guard, lines) = spawn_reading(c.stderr(log), 1);
    let url = lines[0]
        .strip_prefix("serving metrics on http://")
        .and_then(|s| s.strip_suffix("/metrics"))
        .unwrap_or_else(|| panic!("unexpected first line {:?}", lines[0]));
    (guard, url.parse().unwrap())
}

/// A plain HTTP/1.0 GET: (status, body).
fn get(addr: SocketAddr, path: &str) -> std::io::Result<(u16, String)> {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(5))?;
    s.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(s, "GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n")?;
    let mut raw = String::new();
    s.read_to_string(&mut raw)?;
    let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((&raw, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    Ok((status, body.to_string()))
}

/// Polls `check` every 250 ms until it gives a value, at most `limit`.
fn wait_for<T>(what: &str, limit: Duration, check: impl FnMut() -> Option<T>) -> T {
    wait_or_explain(what, limit, check, String::new)
}

/// [`wait_for`], with `explain()` (what the processes say about themselves) in the failure.
fn wait_or_explain<T>(
    what: &str,
    limit: Duration,
    mut check: impl FnMut() -> Option<T>,
    explain: impl FnOnce() -> String,
) -> T {
    let start = Instant::now();
    loop {
        if let Some(v) = check() {
            return v;
        }
        if start.elapsed() >= limit {
            panic!("timed out after {limit:?}: {what}\n{}", explain());
        }
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// Runs a promtool command, failing the test with its output when it fails.
fn promtool(promtool: &Path, args: &[&str], stdin: Option<&str>, dir: &Path) -> String {
    let mut child = Command::new(promtool)
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin.unwrap_or("").as_bytes()).unwrap();
    drop(input);
    let out = child.wait_with_output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "promtool {args:?} failed:\n{text}");
    text
}

/// The metric names of an exposition (histograms with their series suffixes).
fn names(exposition: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for l in exposition.lines() {
        if let Some(rest) = l.strip_prefix("# TYPE ") {
            let mut parts = rest.split(' ');
            let name = parts.next().unwrap().to_string();
            if parts.next() == Some("histogram") {
                for s in ["_bucket", "_sum", "_count"] {
                    out.insert(format!("{name}{s}"));
                }
            }
            out.insert(name);
        }
    }
    out
}

/// The exposition of a running exporter, once every task family has appeared.
fn scrape_until_complete(addr: SocketAddr, home: &Path) -> String {
    wait_or_explain(
        "every metric family in /metrics",
        Duration::from_secs(30),
        || {
            let (status, body) = get(addr, "/metrics").ok()?;
            assert_eq!(status, 200);
            let n = names(&body);
            [
                "migtop_task_stage_index",
                "migtop_task_lag_bytes",
                "migtop_task_transport_bytes",
                "migtop_task_apply_bytes",
                "migtop_task_streaming",
                "migtop_task_verdict",
                "migtop_task_precheck_checks",
                "migtop_poll_errors_total",
                "migtop_poll_failures_total",
                "migtop_last_poll_success_timestamp_seconds",
                "migtop_poll_duration_seconds",
            ]
            .iter()
            .all(|m| n.contains(*m))
            .then_some(body)
        },
        || {
            let body = get(addr, "/metrics").map(|(_, b)| names(&b));
            format!("families: {body:?}\n{}", exporter_log(home))
        },
    )
}

/// The newest lines of the log of [`exporter`] run with `home`, newest first.
fn exporter_log(home: &Path) -> String {
    let log = std::fs::read_to_string(home.join("exporter.log")).unwrap_or_default();
    let tail: Vec<&str> = log.lines().rev().take(8).collect();
    let sim = std::fs::read_to_string(home.join("simulate.log")).unwrap_or_default();
    let sim: Vec<&str> = sim.lines().rev().take(12).collect();
    format!(
        "exporter log (newest first):\n{}\nsimulator's stderr (newest first):\n{}",
        tail.join("\n"),
        sim.join("\n")
    )
}

#[test]
fn the_exposition_passes_promtool_and_holds_no_secret() {
    let _heavy = crate::support::machine::heavy_blocking();
    let home = tempfile::tempdir().unwrap();
    let (_sim, endpoint, mut instances) = simulator(home.path());
    // One instance that does not exist, for the error counter.
    instances.push("pgm-doesnotexist".into());
    let (_exp, addr) = exporter(home.path(), &endpoint, &instances);
    let body = scrape_until_complete(addr, home.path());
    assert!(
        body.contains(
            r#"migtop_poll_errors_total{instance="pgm-doesnotexist",code="InvalidDBInstanceName.NotFound"}"#
        ),
        "{body}"
    );
    // Known in advance, so at 0 for the instances that never failed (issue 19, item 6).
    for i in &instances[..instances.len() - 1] {
        assert!(
            body.contains(&format!("migtop_poll_failures_total{{instance=\"{i}\"}} 0")),
            "{i}: {body}"
        );
    }
    for secret in PASSWORDS.iter().chain([&SECRET]) {
        assert!(!body.contains(secret), "{secret} in the exposition");
    }
    assert!(!body.to_lowercase().contains("password"));
    let Some(promtool_bin) = tool("promtool") else {
        return;
    };
    let out = promtool(
        &promtool_bin,
        &["check", "metrics"],
        Some(&body),
        home.path(),
    );
    assert!(out.trim().is_empty(), "promtool lint findings:\n{out}");
}

#[test]
fn the_alerting_rules_pass_promtool_check_and_their_unit_tests() {
    let Some(promtool_bin) = tool("promtool") else {
        return;
    };
    let dir = manifest().join("assets/prometheus");
    let out = promtool(&promtool_bin, &["check", "rules", "alerts.yml"], None, &dir);
    assert!(out.contains("SUCCESS"), "{out}");
    let out = promtool(
        &promtool_bin,
        &["test", "rules", "alerts.test.yml"],
        None,
        &dir,
    );
    assert!(out.contains("SUCCESS"), "{out}");
}

/// Every `migtop_…` name in `text`.
fn referenced(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut rest = text;
    while let Some(i) = rest.find("migtop_") {
        let tail = &rest[i..];
        let end = tail
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(tail.len());
        out.insert(tail[..end].to_string());
        rest = &tail[end..];
    }
    out
}

/// Every metric the registry can export, from a registry with one of everything in it.
fn exported_names() -> BTreeSet<String> {
    use migtop::metrics::{Metrics, TaskLabels, TaskReading};
    let m = Metrics::new();
    m.set_tasks(&[TaskReading {
        labels: TaskLabels::new("pgm-1", Some(1), Some("t")),
        stage_index: Some(4),
        lag_reported: Some(1),
        lag_true: Some(1),
        lag_reported_lower_bound: true,
        not_received: Some(1),
        not_replayed: Some(1),
        streaming: Some(true),
        verdict: migtop::verdict::readiness::VerdictKind::InSync,
        seconds_since_source_message: Some(1.0),
        precheck: Some(Default::default()),
    }]);
    let checklist = migtop::probe::Checklist::new(chrono::Utc::now(), vec![], vec![]);
    m.set_checklists([&checklist].into_iter());
    let now = chrono::Utc::now();
    let poll = |result| migtop::poller::PollResult {
        instance: "pgm-1".into(),
        started: now,
        at: now,
        result,
        source: None,
    };
    m.record_poll(&poll(Ok(Default::default())));
    m.record_poll(&poll(Err(migtop::aliyun::ApiError::Timeout {
        endpoint: "x".into(),
        seconds: 1.0,
        attempts: 1,
    })));
    names(&m.encode())
}

#[test]
fn the_dashboard_and_the_rules_use_only_exported_metrics() {
    let exported = exported_names();
    let dash = std::fs::read_to_string(manifest().join("assets/grafana/migtop.json")).unwrap();
    let doc: Value = serde_json::from_str(&dash).expect("the Grafana dashboard is valid JSON");
    assert_eq!(doc["uid"], "migtop");
    let panels = doc["panels"].as_array().unwrap();
    assert!(panels.len() >= 8);
    let mut used = BTreeSet::new();
    for p in panels {
        assert!(p["title"].is_string() && p["gridPos"].is_object(), "{p}");
        for t in p["targets"].as_array().unwrap() {
            used.extend(referenced(t["expr"].as_str().unwrap()));
        }
    }
    for name in &used {
        assert!(
            exported.contains(name),
            "the dashboard uses {name}, which is not exported"
        );
    }
    let rules = std::fs::read_to_string(manifest().join("assets/prometheus/alerts.yml")).unwrap();
    for name in referenced(&rules) {
        assert!(
            exported.contains(&name),
            "alerts.yml uses {name}, which is not exported"
        );
    }
    // Every task metric is on the dashboard.
    for name in exported.iter().filter(|n| n.starts_with("migtop_task_")) {
        assert!(used.contains(name), "{name} is on no panel");
    }
}

#[test]
fn a_listen_address_in_use_is_a_usage_error() {
    let home = tempfile::tempdir().unwrap();
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let out = migtop(home.path())
        .args([
            "exporter",
            "-i",
            "pgm-1",
            "--endpoint",
            "http://127.0.0.1:9",
        ])
        .args(["--listen", &addr])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("cannot serve metrics on {addr}")),
        "{stderr}"
    );
    let out = migtop(home.path())
        .args(["exporter", "-i", "pgm-1", "--listen", "localhost"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn a_real_prometheus_scrapes_the_exporter() {
    let Some(prometheus) = tool("prometheus") else {
        return;
    };
    let _heavy = crate::support::machine::heavy_blocking();
    let home = tempfile::tempdir().unwrap();
    let (_sim, endpoint, instances) = simulator(home.path());
    let (_exp, addr) = exporter(home.path(), &endpoint, &instances);
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("prometheus.yml");
    let rules = manifest().join("assets/prometheus/alerts.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n\
             rule_files:\n  - {rules}\n\
             scrape_configs:\n  - job_name: migtop\n    honor_labels: true\n    \
             static_configs:\n      - targets: ['{addr}']\n",
            rules = rules.display()
        ),
    )
    .unwrap();
    let port = free_port();
    let web: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let child = Command::new(prometheus)
        .arg(format!("--config.file={}", config.display()))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.path().join("data").display()
        ))
        .arg(format!("--web.listen-address={web}"))
        .arg("--log.level=warn")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let _prom = Guard(child);
    wait_for("Prometheus ready", Duration::from_secs(60), || {
        get(web, "/-/ready").ok().filter(|(s, _)| *s == 200)
    });
    let result = wait_or_explain(
        "Prometheus has migtop_task_stage_index",
        Duration::from_secs(60),
        || {
            let (status, body) = get(web, "/api/v1/query?query=migtop_task_stage_index").ok()?;
            assert_eq!(status, 200, "{body}");
            let doc: Value = serde_json::from_str(&body).unwrap();
            assert_eq!(doc["status"], "success", "{body}");
            let r = doc["data"]["result"].as_array()?.clone();
            (!r.is_empty()).then_some(r)
        },
        // A flake seen once in CI: say whether Prometheus scraped, and what the exporter had.
        || {
            let targets = get(web, "/api/v1/targets").map(|(_, b)| b);
            let metrics = get(addr, "/metrics").map(|(s, b)| {
                let head: String = b
                    .lines()
                    .filter(|l| !l.starts_with('#'))
                    .take(15)
                    .collect::<Vec<_>>()
                    .join("\n");
                format!("HTTP {s}\n{head}")
            });
            format!(
                "Prometheus targets: {targets:?}\nexporter /metrics: {metrics:?}\n{}",
                exporter_log(home.path())
            )
        },
    );
    for series in &result {
        let m = &series["metric"];
        // honor_labels keeps migtop's `instance` (the RDS instance), not the scrape target.
        let inst = m["instance"].as_str().unwrap();
        assert!(instances.iter().any(|i| i == inst), "{series}");
        assert_eq!(m["job"], "migtop");
        let v: f64 = series["value"][1].as_str().unwrap().parse().unwrap();
        assert!((1.0..=6.0).contains(&v), "{series}");
    }
    // The shipped rules run on the scraped data: the scenario has a task whose precheck failed.
    wait_for(
        "MigtopPrecheckFailed firing in Prometheus",
        Duration::from_secs(60),
        || {
            let (_, body) = get(web, "/api/v1/alerts").ok()?;
            let doc: Value = serde_json::from_str(&body).ok()?;
            doc["data"]["alerts"]
                .as_array()?
                .iter()
                .any(|a| {
                    a["labels"]["alertname"] == "MigtopPrecheckFailed" && a["state"] == "firing"
                })
                .then_some(())
        },
    );
}

#[test]
fn watch_serves_the_dashboards_figures_as_metrics() {
    let _machine = crate::support::machine::quiet();
    let home = tempfile::tempdir().unwrap();
    let (_sim, endpoint, instances) = simulator(home.path());
    let port = free_port();
    let cmd = format!(
        "env HOME={home} ALIBABA_CLOUD_ACCESS_KEY_ID={KEY_ID} ALIBABA_CLOUD_ACCESS_KEY_SECRET={SECRET} \
         {BIN} watch --endpoint {endpoint} -i {inst} --interval 1s --no-bell \
         --metrics-listen 127.0.0.1:{port}",
        home = home.path().display(),
        inst = instances[0],
    );
    let Some(t) = Tmux::start("metrics", (120, 40), &cmd) else {
        return;
    };
    let screen = wait_for("the dashboard with tasks", Duration::from_secs(30), || {
        let s = t.capture(false);
        s.contains("Tasks (").then_some(s)
    });
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let body = wait_or_explain(
        "task metrics from watch",
        Duration::from_secs(30),
        || {
            let (_, body) = get(addr, "/metrics").ok()?;
            body.contains("migtop_task_stage_index{").then_some(body)
        },
        || {
            let metrics = get(addr, "/metrics").map(|(s, b)| {
                let head: Vec<&str> = b.lines().filter(|l| !l.starts_with('#')).take(15).collect();
                format!("HTTP {s}\n{}", head.join("\n"))
            });
            format!("screen:\n{}\n/metrics: {metrics:?}", t.capture(false))
        },
    );
    // Every task on the exposition is on the screen, under the instance polled.
    for line in body
        .lines()
        .filter(|l| l.starts_with("migtop_task_stage_index{"))
    {
        assert!(
            line.contains(&format!("instance=\"{}\"", instances[0])),
            "{line}"
        );
        let name = line
            .split("task_name=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap();
        // The frame of a round of polls may follow the metrics by a moment (it waits up to
        // 40 ms for the round's other polls).
        if !screen.contains(name) {
            t.wait_for(&format!("{name} on screen"), Duration::from_secs(10), |s| {
                s.contains(name)
            });
        }
    }
    // The dashboard still answers keys while scraped, and quits cleanly.
    t.quit_with("q");
    assert!(
        get(addr, "/metrics").is_err(),
        "the metrics server stops with watch"
    );
}
