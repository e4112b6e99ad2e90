//! `migtop wait` against the simulator running in real time: each exit code for its case.

use crate::support::script::{free_port, migtop, scrape_task_metrics, sim};

/// The built-in scenario's instances and tasks used here.
const CRM: &str = "pgm-bp1demo00crm02";
const CRM_MIGRATE: &str = "440437202";
const ERP: &str = "pgm-bp1demo00erp01";
const ERP_PRECHECK_FAILED: &str = "440437101";
const HR: &str = "pgm-bp1demo00hr005";

/// One task in startup for 20 simulated seconds, then increment.
const STARTING: &str = r#"{
  "name": "starting",
  "instances": [{ "id": "pgm-starting01", "tasks": [
    { "id": 7, "name": "starting", "source": { "ip": "10.0.0.1", "password": "pw-starting-9" },
      "stage": "startup", "startup": { "duration": "20s" } } ] }]
}"#;

async fn wait(endpoint: &str, args: &[&str]) -> (i32, String) {
    let home = tempfile::tempdir().unwrap();
    let mut all = vec!["wait", "--endpoint", endpoint, "--interval", "1s"];
    all.extend_from_slice(args);
    let (code, out, err) = migtop(home.path(), &all).await;
    assert!(out.is_empty(), "wait prints nothing on stdout: {out}");
    (code, err)
}

#[tokio::test(flavor = "multi_thread")]
async fn exit_0_when_the_condition_holds() {
    let s = sim(None, 20.0).await;
    let (code, err) = wait(
        &s.endpoint(),
        &[
            "-i",
            CRM,
            "--task-id",
            CRM_MIGRATE,
            "--in-sync",
            "--stable-for",
            "3s",
            "--timeout",
            "60s",
        ],
    )
    .await;
    assert_eq!(code, 0, "{err}");
    // One line per poll: time, stage, state, lag, verdict with its first reason.
    let polls: Vec<&str> = err.lines().filter(|l| l.contains(" stage ")).collect();
    assert!(polls.len() >= 3, "{err}");
    assert!(
        polls[0].contains("task crm-migrate stage increment state streaming lag ")
            && polls[0].contains(" NOT READY: "),
        "{err}"
    );
    assert!(
        polls
            .iter()
            .any(|l| l.ends_with("NOT READY: in sync 0s of 3s")),
        "{err}"
    );
    assert!(err.lines().last().unwrap().contains("is IN SYNC"), "{err}");

    let s = sim(Some(STARTING), 10.0).await;
    let (code, err) = wait(
        &s.endpoint(),
        &[
            "-i",
            "pgm-starting01",
            "--stage",
            "increment",
            "--timeout",
            "60s",
        ],
    )
    .await;
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("stage startup") && err.contains("is stage increment"),
        "{err}"
    );
    assert!(!err.contains("pw-starting-9"));
}

#[tokio::test(flavor = "multi_thread")]
async fn exit_3_on_timeout() {
    let s = sim(None, 1.0).await;
    let started = std::time::Instant::now();
    let (code, err) = wait(
        &s.endpoint(),
        &[
            "-i",
            CRM,
            "--task-id",
            CRM_MIGRATE,
            "--in-sync",
            "--stable-for",
            "1h",
            "--timeout",
            "3s",
        ],
    )
    .await;
    assert_eq!(code, 3, "{err}");
    assert!(
        err.contains("timed out after 3s waiting for IN SYNC"),
        "{err}"
    );
    assert!(started.elapsed().as_secs() < 30);
}

#[tokio::test(flavor = "multi_thread")]
async fn exit_4_when_the_task_cannot_get_there() {
    let s = sim(None, 1.0).await;
    // A failed precheck keeps the task in precheck for good.
    let (code, err) = wait(
        &s.endpoint(),
        &[
            "-i",
            ERP,
            "--task-id",
            ERP_PRECHECK_FAILED,
            "--stage",
            "increment",
        ],
    )
    .await;
    assert_eq!(code, 4, "{err}");
    assert!(err.contains("failed its precheck"), "{err}");
    // Past the target: a finished migration is never IN SYNC again.
    let (code, err) = wait(&s.endpoint(), &["-i", HR, "--in-sync"]).await;
    assert_eq!(code, 4, "{err}");
    assert!(err.contains("in stage success, past increment"), "{err}");
    let (code, err) = wait(&s.endpoint(), &["-i", HR, "--stage", "startup"]).await;
    assert_eq!(code, 4, "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn exit_2_for_usage_and_filters_matching_no_task_or_several() {
    let s = sim(None, 1.0).await;
    let ep = s.endpoint();
    // DRAINED cannot be known without the source.
    let (code, err) = wait(&ep, &["-i", CRM, "--task-id", CRM_MIGRATE, "--drained"]).await;
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--drained needs --source-dsn"), "{err}");
    let (code, err) = wait(&ep, &["-i", CRM, "--in-sync"]).await;
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("2 tasks of pgm-bp1demo00crm02 match"), "{err}");
    let (code, err) = wait(&ep, &["-i", CRM, "--task-id", "9", "--in-sync"]).await;
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("no migration task"), "{err}");
    let (code, err) = wait(&ep, &["-i", CRM, "--stage", "nowhere"]).await;
    assert_eq!(code, 2, "{err}");
    let (code, err) = wait(&ep, &["-i", CRM, "-i", ERP, "--in-sync"]).await;
    assert_eq!(code, 2, "{err}");
    let (code, _) = wait(&ep, &["-i", CRM, "--in-sync", "--drained"]).await;
    assert_eq!(code, 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn exit_1_after_max_errors_failed_polls() {
    // Nothing listens there: every poll fails.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let (code, err) = wait(
        &endpoint,
        &[
            "-i",
            CRM,
            "--in-sync",
            "--max-errors",
            "2",
            "--poll-timeout",
            "2s",
        ],
    )
    .await;
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("poll failed (1/2 in a row)"), "{err}");
    assert!(err.contains("2 failed polls in a row, giving up"), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn metrics_listen_exposes_the_task_while_waiting() {
    let s = sim(None, 1.0).await;
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let ep = s.endpoint();
    let waiting = tokio::spawn(async move {
        wait(
            &ep,
            &[
                "-i",
                CRM,
                "--task-id",
                CRM_MIGRATE,
                "--in-sync",
                "--stable-for",
                "1h",
                "--timeout",
                "5s",
                "--metrics-listen",
                &listen,
            ],
        )
        .await
    });
    let body = scrape_task_metrics(port).await;
    assert!(
        body.contains("migtop_task_stage_index{") && body.contains("task_name=\"crm-migrate\""),
        "{body}"
    );
    let (code, err) = waiting.await.unwrap();
    assert_eq!(code, 3, "{err}");
}

/// Issue 19, item 7: a mistyped `-i` is final. `wait` and `switchover` say so after the first
/// answer instead of retrying `InvalidDBInstanceName.NotFound` until `--max-errors`.
#[tokio::test(flavor = "multi_thread")]
async fn a_not_found_instance_is_final_at_once() {
    use std::sync::Arc;

    use crate::support::http;
    let body = http::error_body(
        "InvalidDBInstanceName.NotFound",
        "Specified instance does not exist or not support.",
        "REQ-1",
    );
    let (addr, seen) = http::serve(Arc::new(move |_, _| (404, body.clone()))).await;
    let endpoint = format!("http://{addr}");
    for cmd in ["wait", "switchover"] {
        let home = tempfile::tempdir().unwrap();
        let started = std::time::Instant::now();
        let mut args = vec![
            cmd,
            "--endpoint",
            &endpoint,
            "-i",
            "pgm-typo",
            "--interval",
            "1s",
        ];
        if cmd == "wait" {
            args.push("--in-sync");
        } else {
            args.extend(["--yes", "--require", "in-sync"]);
        }
        let (code, _, err) = migtop(home.path(), &args).await;
        assert_eq!(code, 1, "{cmd}: {err}");
        assert!(
            err.contains("InvalidDBInstanceName.NotFound") && err.contains("final"),
            "{err}"
        );
        assert!(!err.contains("in a row"), "{cmd} retried: {err}");
        assert!(
            started.elapsed() < std::time::Duration::from_secs(5),
            "{cmd}: {:?}",
            started.elapsed()
        );
    }
    assert_eq!(seen.lock().unwrap().len(), 2, "one request each");
}
