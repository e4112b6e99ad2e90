//! `migtop lab`: the real binary serving a real PostgreSQL standby as an RDS migration task,
//! checked against PostgreSQL's own arithmetic; activation through the API promotes the
//! standby; SIGTERM leaves nothing behind. And the lab's task source in-process.
//!
//! Needs PostgreSQL server binaries (`.ci/install-postgres`): without them a printed skip, a
//! failure under CI (`support::tools`).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use migtop::aliyun::{ClientConfig, Credentials, RdsClient, RetryPolicy, TaskFilter};
use migtop::lab::source::{LAB_INSTANCE, LAB_TASK_ID, LabSource, LabTaskOptions};
use migtop::lab::{Lab, LabOptions};
use migtop::model::{Lsn, ReplicationState, Stage};
use tokio::io::AsyncBufReadExt;

use crate::support::machine;
use crate::support::pg::*;

const WAIT: Duration = Duration::from_secs(30);
const KEY_ID: &str = "LTAI5tLABCMDTEST";
const SECRET: &str = "lab-cmd-secret";

/// A task's Detail as text, one line per entry.
fn detail(t: &migtop::model::Task) -> String {
    use migtop::model::DetailLine;
    t.precheck
        .lines
        .iter()
        .map(|l| match l {
            DetailLine::Section(s) => format!("[{s}]"),
            DetailLine::Check { name, status, .. } => format!("{name}: {status}"),
            DetailLine::Progress { text, .. } => text.clone(),
            DetailLine::Text(t) => t.clone(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn client(endpoint: &str) -> RdsClient {
    RdsClient::new(
        ClientConfig {
            endpoint: endpoint.parse().unwrap(),
            timeout: Duration::from_secs(10),
            retry: RetryPolicy::default(),
            region: None,
        },
        Credentials {
            access_key_id: KEY_ID.into(),
            access_key_secret: SECRET.to_string().into(),
            security_token: None,
            origin: "test".into(),
        },
    )
    .unwrap()
}

/// The binary with a clean environment: a throwaway HOME, credentials in the environment,
/// labs made under `tmp`.
pub(crate) fn migtop(tmp: &Path) -> tokio::process::Command {
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_migtop"));
    cmd.env_clear()
        .env("HOME", tmp)
        .env("TMPDIR", tmp)
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("ALIBABA_CLOUD_ACCESS_KEY_ID", KEY_ID)
        .env("ALIBABA_CLOUD_ACCESS_KEY_SECRET", SECRET)
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true);
    if let Some(dir) = std::env::var_os("MIGTOP_PG_BINDIR") {
        cmd.env("MIGTOP_PG_BINDIR", dir);
    }
    cmd
}

/// A parent directory the servers' user (postgres, when running as root) can enter.
pub(crate) fn reachable_tempdir() -> tempfile::TempDir {
    use std::os::unix::fs::PermissionsExt;
    let d = tempfile::tempdir().unwrap();
    std::fs::set_permissions(d.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    d
}

/// The postmaster pid of a data directory.
fn postmaster_pid(data: &Path) -> i32 {
    std::fs::read_to_string(data.join("postmaster.pid"))
        .unwrap()
        .lines()
        .next()
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

pub(crate) fn port_of(dsn: &str) -> u16 {
    dsn.rsplit_once(':')
        .unwrap()
        .1
        .split('/')
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

fn refuses(port: u16) -> bool {
    std::net::TcpStream::connect(("127.0.0.1", port)).is_err()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lab_serve_figures_activation_and_cleanup() {
    let _machine = machine::heavy().await;
    if !have_pg() {
        return;
    }
    let started = std::time::Instant::now();
    let tmp = reachable_tempdir();
    let mut child = migtop(tmp.path())
        .args(["lab", "--serve", "--speed", "4"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let mut err = tokio::io::BufReader::new(child.stderr.take().unwrap()).lines();
    let errors = tokio::spawn(async move {
        let mut all = String::new();
        while let Ok(Some(l)) = err.next_line().await {
            all.push_str(&l);
            all.push('\n');
        }
        all
    });
    let lines: Vec<String> = tokio::time::timeout(Duration::from_secs(60), async {
        let mut v = Vec::new();
        while v.len() < 7 {
            match out.next_line().await.unwrap() {
                Some(l) => v.push(l),
                None => break,
            }
        }
        v
    })
    .await
    .expect("migtop lab --serve printed its lines in time");
    assert!(lines.len() >= 7, "stdout: {lines:?}");
    // The try: line pastes as is: the binary by its path (not on PATH after `cargo run`),
    // the endpoint, the instance and the source DSN (issue 19, item 7).
    let try_line = lines[6]
        .strip_prefix("try: ")
        .unwrap_or_else(|| panic!("{lines:?}"));
    assert!(
        try_line.contains(&format!(
            "{} watch --endpoint {}",
            env!("CARGO_BIN_EXE_migtop"),
            lines[0].strip_prefix("listening on ").unwrap()
        )) && try_line.contains(&format!(
            "-i {LAB_INSTANCE} --source-dsn {}",
            lines[2].strip_prefix("primary: ").unwrap()
        )),
        "{try_line}"
    );
    eprintln!("lab up in {:?}: {lines:#?}", started.elapsed());
    // Exactly the simulator's lines, then the servers, then the key id.
    let endpoint = lines[0]
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("{lines:?}"));
    assert!(endpoint.starts_with("http://127.0.0.1:"), "{endpoint}");
    assert_eq!(lines[1], format!("instances: {LAB_INSTANCE}"));
    let primary = lines[2].strip_prefix("primary: ").unwrap();
    let standby = lines[3].strip_prefix("standby: ").unwrap();
    for dsn in [primary, standby] {
        assert!(
            dsn.starts_with("postgres://postgres@127.0.0.1:") && dsn.ends_with("/postgres"),
            "{dsn}"
        );
    }
    assert!(
        lines[4].starts_with(&format!("accepts AccessKey id {KEY_ID} (")),
        "{}",
        lines[4]
    );
    assert!(!lines.concat().contains(SECRET));
    // The lab's directory, under TMPDIR.
    let dirs: Vec<PathBuf> = std::fs::read_dir(tmp.path())
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("migtop-lab-")
        })
        .collect();
    assert_eq!(dirs.len(), 1, "{dirs:?}");
    let dir = dirs[0].clone();
    assert!(
        lines[5].contains(&dir.display().to_string()),
        "{}",
        lines[5]
    );
    let pids = [
        postmaster_pid(&dir.join("primary")),
        postmaster_pid(&dir.join("standby")),
    ];
    let pg = connect(primary).await;
    let sb = connect(standby).await;

    // `migtop status --source-dsn` on the lab while pgbench writes: every figure equals
    // PostgreSQL's pg_wal_lsn_diff of the same LSNs.
    let source = format!("{primary}?sslmode=disable");
    let t = eventually("a task with lag under the write load", WAIT, || {
        let mut cmd = migtop(tmp.path());
        cmd.args([
            "status",
            "--endpoint",
            endpoint,
            "-i",
            LAB_INSTANCE,
            "--source-dsn",
            &source,
            "-o",
            "json",
        ]);
        async move {
            let out = cmd.output().await.unwrap();
            assert_eq!(
                out.status.code(),
                Some(0),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
            let t = doc["instances"][0]["tasks"][0].clone();
            let busy = t["true_lag_bytes"].as_u64().unwrap_or(0) > 0
                && t["lag_bytes"].as_u64().unwrap_or(0) > 0;
            busy.then_some(t)
        }
    })
    .await;
    eprintln!("status: {t}");
    assert_eq!(t["task_id"], LAB_TASK_ID);
    assert_eq!(t["stage"], "increment");
    assert_eq!(t["source"]["port"], port_of(primary));
    let lsn = |v: &serde_json::Value| v.as_str().unwrap().parse::<Lsn>().unwrap();
    let (src, replay) = (lsn(&t["source_lsn"]), lsn(&t["lsn"]["replay"]));
    let (latest, received) = (lsn(&t["lsn"]["latest_end"]), lsn(&t["lsn"]["received"]));
    assert_eq!(
        t["true_lag_bytes"].as_i64().unwrap(),
        pg_diff(&pg, src, replay).await
    );
    assert_eq!(
        t["lag_bytes"].as_i64().unwrap(),
        pg_diff_greatest(&pg, latest, received, replay).await
    );
    assert_eq!(
        t["transport_bytes"].as_i64().unwrap(),
        pg_diff(&pg, latest, received).await
    );
    assert_eq!(
        t["apply_bytes"].as_i64().unwrap(),
        pg_diff(&pg, received, replay).await
    );
    let now = current_lsn(&pg).await;
    assert!(src <= now, "the probe read the primary");

    // ActivateMigrationTargetInstance promotes the standby: switch, then success.
    let api = client(endpoint);
    let answer = api.activate_migration_target(LAB_INSTANCE).await.unwrap();
    assert_eq!(answer["TaskId"], LAB_TASK_ID);
    assert_eq!(answer["SourcePort"], port_of(primary));
    let task = eventually("stage success", WAIT, || {
        let api = api.clone();
        async move {
            let snap = api
                .describe_tasks(LAB_INSTANCE, &TaskFilter::default())
                .await
                .unwrap();
            let t = snap.tasks.into_iter().next().unwrap();
            (t.stage == Some(Stage::Success)).then_some(t)
        }
    })
    .await;
    assert_eq!(task.replication_state, Some(ReplicationState::Finish));
    assert!(task.switch_time.is_some());
    assert!(detail(&task).contains("[Switch RDS instance]"));
    let in_recovery: bool = sb
        .query_one("SELECT pg_is_in_recovery()", &[])
        .await
        .unwrap()
        .get(0);
    assert!(!in_recovery, "the standby was promoted");
    // Only once: no migration is running any more.
    let again = api
        .activate_migration_target(LAB_INSTANCE)
        .await
        .unwrap_err();
    assert_eq!(again.code(), "InvalidMigrateTask");

    // SIGTERM: the API and both servers stop, the directory goes.
    let api_port = port_of(endpoint);
    drop((pg, sb));
    // SAFETY: signalling our own child.
    unsafe {
        libc::kill(child.id().unwrap() as i32, libc::SIGTERM);
    }
    let status = tokio::time::timeout(WAIT, child.wait())
        .await
        .expect("migtop lab exits after SIGTERM")
        .unwrap();
    let stderr = errors.await.unwrap();
    assert_eq!(status.code(), Some(0), "stderr: {stderr}");
    assert!(!dir.exists(), "{} left behind", dir.display());
    for p in pids {
        assert!(
            !migtop::lab::guard::alive(p),
            "server pid {p} still running"
        );
    }
    for port in [api_port, port_of(primary), port_of(standby)] {
        assert!(refuses(port), "port {port} still answers");
    }
    assert!(!stderr.contains(SECRET));
    eprintln!("whole test: {:?}", started.elapsed());
}

#[tokio::test]
async fn lab_without_postgres_is_a_clear_usage_error() {
    let tmp = tempfile::tempdir().unwrap();
    let out = migtop(tmp.path())
        .args(["lab", "--serve"])
        .env("MIGTOP_PG_BINDIR", tmp.path().join("no-postgres-here"))
        .output()
        .await
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    for hint in [
        ".ci/install-postgres",
        "apt install postgresql-15",
        "MIGTOP_PG_BINDIR",
    ] {
        assert!(err.contains(hint), "{hint} missing: {err}");
    }
    assert!(out.stdout.is_empty(), "nothing served");
}

/// The lab's task source in-process: Detail like RDS writes it, a cut link as `disconnect`
/// with its Detail lines, through the simulator's API.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lab_source_reports_disconnects_like_rds() {
    let _machine = machine::heavy().await;
    if !have_pg() {
        return;
    }
    let lab = Arc::new(Lab::start(LabOptions::default()).await.unwrap());
    let source = Arc::new(
        LabSource::new(lab.clone(), LabTaskOptions::default())
            .await
            .unwrap(),
    );
    let handle = migtop::sim::start_with_source(
        "127.0.0.1:0".parse().unwrap(),
        Credentials {
            access_key_id: KEY_ID.into(),
            access_key_secret: SECRET.to_string().into(),
            security_token: None,
            origin: "test".into(),
        },
        source.clone(),
    )
    .await
    .unwrap();
    assert_eq!(handle.instances, [LAB_INSTANCE]);
    let api = client(&handle.endpoint());
    let read = || {
        let api = api.clone();
        async move {
            let snap = api
                .describe_tasks(LAB_INSTANCE, &TaskFilter::default())
                .await
                .unwrap();
            snap.tasks.into_iter().next().unwrap()
        }
    };
    let t = read().await;
    assert_eq!(t.stage, Some(Stage::Increment));
    assert_eq!(t.source.port, Some(i64::from(lab.primary_port())));
    let text = detail(&t);
    for section in [
        "[Check rds empty]",
        "[Check source version]",
        "Check major version consistent: success",
        "[Backup data]",
        "[Start RDS instance]",
        "[Synchronize data]",
    ] {
        assert!(text.contains(section), "{section} missing: {text}");
    }
    assert_eq!(t.precheck.counts.fail, 0, "{text}");
    let r = t.replication.as_ref().unwrap();
    assert_eq!(r.synced, Some(true));
    assert!(r.conninfo.as_deref().unwrap_or("").contains("port="));

    lab.cut_link();
    let t = eventually("disconnect through the API", WAIT, || {
        let read = read();
        async move {
            let t = read.await;
            (t.replication_state == Some(ReplicationState::Disconnect)).then_some(t)
        }
    })
    .await;
    assert!(
        detail(&t).contains("Replication connection to source lost, retrying"),
        "{}",
        detail(&t)
    );
    lab.restore_link();
    let t = eventually("streaming again", WAIT, || {
        let read = read();
        async move {
            let t = read.await;
            (t.replication_state == Some(ReplicationState::Streaming)).then_some(t)
        }
    })
    .await;
    assert!(
        detail(&t).contains("Replication connection to source restored, streaming from "),
        "{}",
        detail(&t)
    );
    handle.shutdown().await;
    drop(source);
    let dir = lab.dir().to_path_buf();
    lab.close().await.unwrap();
    assert!(!dir.exists());
}
