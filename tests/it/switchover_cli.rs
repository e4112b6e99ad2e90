//! `migtop switchover` against the simulator running in real time: refusals (exit 5 with the
//! reasons, exit 2 for usage) and a promotion to `success` (exit 0), recorded.

use crate::support::script::{SECRET, free_port, migtop, scrape_task_metrics, sim};

const CRM: &str = "pgm-bp1demo00crm02";
const CRM_MIGRATE: &str = "440437202";
const ERP: &str = "pgm-bp1demo00erp01";
const ERP_MIGRATE: &str = "440437102";

#[tokio::test(flavor = "multi_thread")]
async fn a_task_that_is_not_ready_is_refused_with_its_reasons() {
    // erp-migrate starts 2.5 GiB behind: catching up, far above --max-lag.
    let s = sim(None, 1.0).await;
    let home = tempfile::tempdir().unwrap();
    let ep = s.endpoint();
    let (code, _, err) = migtop(
        home.path(),
        &[
            "switchover",
            "--endpoint",
            &ep,
            "-i",
            ERP,
            "--task-id",
            ERP_MIGRATE,
            "--require",
            "in-sync",
            "--yes",
            "--interval",
            "1s",
            "--stable-for",
            "2s",
        ],
    )
    .await;
    assert_eq!(code, 5, "{err}");
    assert!(
        err.contains("refused: task erp-migrate is NOT READY, not IN SYNC"),
        "{err}"
    );
    assert!(
        err.contains("  - lag ") && err.contains("> 16.0 MiB"),
        "{err}"
    );
    assert!(
        !err.contains("calling ActivateMigrationTargetInstance"),
        "{err}"
    );
    // Nothing was sent: the task is still in increment.
    let (_, out, _) = migtop(
        home.path(),
        &[
            "status",
            "--endpoint",
            &ep,
            "-i",
            ERP,
            "--task-id",
            ERP_MIGRATE,
            "-o",
            "json",
        ],
    )
    .await;
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(doc["instances"][0]["tasks"][0]["stage"], "increment");
}

#[tokio::test(flavor = "multi_thread")]
async fn usage_refusals_exit_2_before_polling() {
    let s = sim(None, 1.0).await;
    let home = tempfile::tempdir().unwrap();
    let ep = s.endpoint();
    // DRAINED needs the source.
    let (code, _, err) = migtop(
        home.path(),
        &[
            "switchover",
            "--endpoint",
            &ep,
            "-i",
            CRM,
            "--task-id",
            CRM_MIGRATE,
            "--require",
            "drained",
            "--yes",
        ],
    )
    .await;
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("--require drained needs --source-dsn"),
        "{err}"
    );
    // No terminal to confirm on, and no --yes.
    let (code, _, err) = migtop(
        home.path(),
        &[
            "switchover",
            "--endpoint",
            &ep,
            "-i",
            CRM,
            "--task-id",
            CRM_MIGRATE,
            "--require",
            "in-sync",
        ],
    )
    .await;
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("pass --yes"), "{err}");
    // Several tasks match.
    let (code, _, err) = migtop(
        home.path(),
        &[
            "switchover",
            "--endpoint",
            &ep,
            "-i",
            CRM,
            "--require",
            "in-sync",
            "--yes",
            "--interval",
            "1s",
        ],
    )
    .await;
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("2 tasks of"), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn in_sync_with_yes_promotes_and_records_the_switchover() {
    // crm-migrate is caught up within seconds and stays so.
    let s = sim(None, 20.0).await;
    let home = tempfile::tempdir().unwrap();
    let rec = home.path().join("cutover.jsonl");
    let ep = s.endpoint();
    // As a cutover script does: wait until IN SYNC, then switch over.
    let (code, _, err) = migtop(
        home.path(),
        &[
            "wait",
            "--endpoint",
            &ep,
            "-i",
            CRM,
            "--task-id",
            CRM_MIGRATE,
            "--in-sync",
            "--interval",
            "1s",
            "--stable-for",
            "3s",
            "--timeout",
            "1m",
        ],
    )
    .await;
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = migtop(
        home.path(),
        &[
            "switchover",
            "--endpoint",
            &ep,
            "-i",
            CRM,
            "--task-id",
            CRM_MIGRATE,
            "--require",
            "in-sync",
            "--yes",
            "--interval",
            "1s",
            "--stable-for",
            "3s",
            "--timeout",
            "2m",
            "--record",
            rec.to_str().unwrap(),
        ],
    )
    .await;
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("calling ActivateMigrationTargetInstance on pgm-bp1demo00crm02"),
        "{err}"
    );
    assert!(
        err.contains("ActivateMigrationTargetInstance accepted"),
        "{err}"
    );
    assert!(err.contains("reached success"), "{err}");
    let (_, out, _) = migtop(
        home.path(),
        &[
            "status",
            "--endpoint",
            &ep,
            "-i",
            CRM,
            "--task-id",
            CRM_MIGRATE,
            "-o",
            "json",
        ],
    )
    .await;
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    let task = &doc["instances"][0]["tasks"][0];
    assert_eq!(task["stage"], "success");
    assert_eq!(
        task["blockers"],
        serde_json::json!(["migration finished (success)"])
    );
    let text = std::fs::read_to_string(&rec).unwrap();
    let recording = migtop::recording::Recording::parse(&text);
    let switchovers: Vec<_> = recording
        .entries
        .iter()
        .filter_map(|e| match e {
            migtop::recording::Entry::Switchover(s) => Some(s),
            _ => None,
        })
        .collect();
    assert_eq!(switchovers.len(), 1, "{text}");
    assert!(switchovers[0].accepted);
    assert_eq!(switchovers[0].origin, "switchover");
    assert_eq!(switchovers[0].task_id, Some(440437202));
    assert!(recording.polls().count() >= 4);
    assert!(!text.contains(SECRET) && !err.contains(SECRET));
}

/// Against the real PostgreSQL lab: once the lab stops writing and the standby has replayed
/// everything, `wait --drained` then `switchover --require drained --yes` promote the standby.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lab_drained_switchover_promotes_the_standby() {
    use std::os::unix::fs::PermissionsExt;
    use tokio::io::AsyncBufReadExt;

    use crate::support::{machine, pg};

    let _machine = machine::heavy().await;
    if !pg::have_pg() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_migtop"));
    cmd.env_clear()
        .env("HOME", tmp.path())
        .env("TMPDIR", tmp.path())
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env(
            "ALIBABA_CLOUD_ACCESS_KEY_ID",
            crate::support::script::KEY_ID,
        )
        .env("ALIBABA_CLOUD_ACCESS_KEY_SECRET", SECRET)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        // No unlogged tables: DRAINED then loses nothing, and `--require drained` switches
        // (with them it refuses: see lab_checklist).
        .args(["lab", "--serve", "--speed", "4", "--no-unlogged"]);
    if let Some(dir) = std::env::var_os("MIGTOP_PG_BINDIR") {
        cmd.env("MIGTOP_PG_BINDIR", dir);
    }
    let mut lab = cmd.spawn().unwrap();
    let mut out = tokio::io::BufReader::new(lab.stdout.take().unwrap()).lines();
    let lines: Vec<String> = tokio::time::timeout(std::time::Duration::from_secs(90), async {
        let mut v = Vec::new();
        while v.len() < 4 {
            match out.next_line().await.unwrap() {
                Some(l) => v.push(l),
                None => break,
            }
        }
        v
    })
    .await
    .expect("the lab printed where it is");
    let endpoint = lines[0].strip_prefix("listening on ").unwrap().to_string();
    let primary = lines[2].strip_prefix("primary: ").unwrap().to_string();
    let standby = lines[3].strip_prefix("standby: ").unwrap().to_string();
    let instance = migtop::lab::source::LAB_INSTANCE;
    let common = [
        "--endpoint",
        &endpoint,
        "-i",
        instance,
        "--source-dsn",
        &primary,
        "--interval",
        "1s",
        "--stable-for",
        "5s",
    ];
    // The lab stops writing ~14 s after start at --speed 4, then drains.
    let mut wait = vec!["wait", "--drained", "--timeout", "5m"];
    wait.extend_from_slice(&common);
    let (code, _, err) = migtop(tmp.path(), &wait).await;
    assert_eq!(code, 0, "{err}");
    let mut switch = vec![
        "switchover",
        "--require",
        "drained",
        "--yes",
        "--timeout",
        "3m",
    ];
    switch.extend_from_slice(&common);
    let (code, _, err) = migtop(tmp.path(), &switch).await;
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("reached success"), "{err}");
    // The standby left recovery: it is the new primary.
    let client = pg::connect(&standby).await;
    let row = client
        .query_one("select pg_is_in_recovery()", &[])
        .await
        .unwrap();
    assert!(!row.get::<_, bool>(0), "the standby is still in recovery");
    drop(client);
    // SIGTERM: the lab stops both servers and removes its directory.
    if let Some(pid) = lab.id() {
        // SAFETY: kill(2) on the pid of our own child process.
        unsafe {
            libc::kill(pid as i32, libc::SIGTERM);
        }
    }
    tokio::time::timeout(std::time::Duration::from_secs(30), lab.wait())
        .await
        .expect("migtop lab exits after SIGTERM")
        .unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn metrics_listen_exposes_the_task_while_judging() {
    let s = sim(None, 1.0).await;
    let home = tempfile::tempdir().unwrap();
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let ep = s.endpoint();
    let dir = home.path().to_path_buf();
    let judging = tokio::spawn(async move {
        migtop(
            &dir,
            &[
                "switchover",
                "--endpoint",
                &ep,
                "-i",
                ERP,
                "--task-id",
                ERP_MIGRATE,
                "--require",
                "in-sync",
                "--yes",
                "--interval",
                "1s",
                "--stable-for",
                "4s",
                "--metrics-listen",
                &listen,
            ],
        )
        .await
    });
    let body = scrape_task_metrics(port).await;
    assert!(
        body.contains("migtop_task_stage_index{") && body.contains("task_name=\"erp-migrate\""),
        "{body}"
    );
    let (code, _, err) = judging.await.unwrap();
    assert_eq!(code, 5, "refused (far above --max-lag): {err}");
    assert!(
        reqwest::get(format!("http://127.0.0.1:{port}/metrics"))
            .await
            .is_err(),
        "the metrics server stops with the command"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_fence_and_the_proof_need_require_drained() {
    let s = sim(None, 1.0).await;
    let home = tempfile::tempdir().unwrap();
    let ep = s.endpoint();
    let base = [
        "switchover",
        "--endpoint",
        ep.as_str(),
        "-i",
        CRM,
        "--task-id",
        CRM_MIGRATE,
        "--yes",
    ];
    let run = |extra: &'static [&'static str]| {
        let mut args: Vec<&str> = base.to_vec();
        args.extend_from_slice(extra);
        let home = home.path().to_path_buf();
        async move { migtop(&home, &args).await }
    };
    for extra in [
        &["--require", "in-sync", "--fence"][..],
        &[
            "--require",
            "in-sync",
            "--target-dsn",
            "postgres://u:hunter2-secret@127.0.0.1:1/postgres",
        ][..],
    ] {
        let (code, _, err) = run(extra).await;
        assert_eq!(code, 2, "{extra:?}: {err}");
        assert!(err.contains("need --require drained"), "{err}");
        assert!(!err.contains("hunter2"), "{err}");
        assert!(!err.contains("calling ActivateMigrationTargetInstance"));
    }
    // A target DSN that cannot be used is a usage error before anything is polled or sent,
    // quoted without its password.
    let (code, _, err) = run(&[
        "--require",
        "drained",
        "--source-dsn",
        "postgres://u@127.0.0.1:1/postgres",
        "--fence",
        "--target-dsn",
        "postgres://u:hunter2-secret@127.0.0.1:notaport/postgres",
    ])
    .await;
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("--target-dsn: ") && err.contains("port"),
        "{err}"
    );
    assert!(!err.contains("hunter2"), "{err}");
    assert!(!err.contains("fence on"), "{err}");
    // --fence-terminate only with --fence (clap's own usage error).
    let (code, _, err) = run(&["--require", "in-sync", "--fence-terminate"]).await;
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--fence"), "{err}");
}
