//! Each fault kind, at a rate and in a window, as migtop's client sees it.

use std::time::{Duration, Instant};

use migtop::aliyun::{ApiError, TaskFilter};
use migtop::sim::quantity::Secs;
use migtop::sim::{FaultKind, FaultSpec, Scenario};

use crate::support::rpc::*;
use crate::support::sim::*;

const ERP: &str = "pgm-bp1demo00erp01";

async fn with_fault(spec: FaultSpec) -> Sim {
    sim_with(Scenario::builtin(), vec![spec], creds()).await
}

async fn read(s: &Sim, timeout: Duration) -> Result<usize, ApiError> {
    client(&s.endpoint(), timeout, 1)
        .describe_tasks(ERP, &TaskFilter::default())
        .await
        .map(|snap| snap.tasks.len())
}

#[tokio::test]
async fn latency_delays_but_answers() {
    let mut f = FaultSpec::always(FaultKind::Latency);
    f.delay = Some(Secs(0.3));
    let s = with_fault(f).await;
    let t0 = Instant::now();
    assert_eq!(read(&s, Duration::from_secs(5)).await.unwrap(), 2);
    assert!(t0.elapsed() >= Duration::from_millis(300));
}

#[tokio::test]
async fn hang_outlasts_the_client_timeout() {
    let mut f = FaultSpec::always(FaultKind::Hang);
    f.delay = Some(Secs(30.0));
    let s = with_fault(f).await;
    let t0 = Instant::now();
    let e = read(&s, Duration::from_millis(500)).await.unwrap_err();
    assert!(matches!(e, ApiError::Timeout { .. }), "{e:?}");
    assert!(t0.elapsed() < Duration::from_secs(10));
    // Shutting down does not wait for the hanging request.
    let t1 = Instant::now();
    s.handle.shutdown().await;
    assert!(t1.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn server_errors_carry_their_status() {
    let s = with_fault(FaultSpec::always(FaultKind::ServerError)).await;
    match read(&s, Duration::from_secs(5)).await.unwrap_err() {
        ApiError::Api {
            code, http_status, ..
        } => {
            assert_eq!((code.as_str(), http_status), ("ServiceUnavailable", 503))
        }
        other => panic!("{other:?}"),
    }
    let mut f = FaultSpec::always(FaultKind::ServerError);
    f.status = Some(500);
    let s = with_fault(f).await;
    let e = read(&s, Duration::from_secs(5)).await.unwrap_err();
    assert_eq!(e.code(), "InternalError");
    assert!(e.is_retryable());
}

#[tokio::test]
async fn throttling_is_throttling_user() {
    let s = with_fault(FaultSpec::always(FaultKind::Throttling)).await;
    let e = read(&s, Duration::from_secs(5)).await.unwrap_err();
    assert_eq!(e.code(), "Throttling.User");
    assert!(e.is_retryable());
    let (status, body) = Describe::page(ERP).call(&s.endpoint()).await;
    assert_eq!(
        (status, error_code(&body).as_str()),
        (400, "Throttling.User")
    );
}

#[tokio::test]
async fn malformed_and_truncated_bodies_are_bad_responses() {
    for kind in [FaultKind::Malformed, FaultKind::Truncated] {
        let s = with_fault(FaultSpec::always(kind)).await;
        let e = read(&s, Duration::from_secs(5)).await.unwrap_err();
        assert!(
            matches!(
                e,
                ApiError::BadResponse {
                    http_status: 200,
                    ..
                }
            ),
            "{kind:?}: {e:?}"
        );
        let (status, body) = Describe::page(ERP).call(&s.endpoint()).await;
        assert_eq!(status, 200);
        let text = body.as_str().expect("not JSON");
        match kind {
            FaultKind::Malformed => assert!(text.starts_with("<html>")),
            _ => assert!(text.starts_with("{\"") && !text.ends_with('}')),
        }
    }
}

#[tokio::test]
async fn resets_are_network_errors() {
    let s = with_fault(FaultSpec::always(FaultKind::Reset)).await;
    let e = read(&s, Duration::from_secs(5)).await.unwrap_err();
    assert!(matches!(e, ApiError::Network { .. }), "{e:?}");
    // The server keeps serving new connections afterwards.
    let e = read(&s, Duration::from_secs(5)).await.unwrap_err();
    assert_eq!(e.code(), "NetworkError");
}

#[tokio::test]
async fn windows_are_in_simulated_time() {
    let mut f = FaultSpec::always(FaultKind::Throttling);
    f.from = Some(Secs(10.0));
    f.to = Some(Secs(20.0));
    let s = with_fault(f).await;
    assert!(read(&s, Duration::from_secs(5)).await.is_ok());
    s.advance(12.0);
    assert_eq!(
        read(&s, Duration::from_secs(5)).await.unwrap_err().code(),
        "Throttling.User"
    );
    s.advance(10.0);
    assert!(read(&s, Duration::from_secs(5)).await.is_ok());
}

#[tokio::test]
async fn rates_mix_failures_and_successes_and_retries_recover() {
    let mut f = FaultSpec::always(FaultKind::ServerError);
    f.rate = 0.5;
    let s = with_fault(f).await;
    let mut ok = 0;
    for _ in 0..40 {
        if read(&s, Duration::from_secs(5)).await.is_ok() {
            ok += 1;
        }
    }
    assert!((5..35).contains(&ok), "{ok} of 40");
    // With retries, every read gets through eventually (probability of 8 failures in a row
    // is tiny, and the sequence is fixed by the seed).
    let c = client(&s.endpoint(), Duration::from_secs(5), 8);
    for _ in 0..10 {
        c.describe_tasks(ERP, &TaskFilter::default()).await.unwrap();
    }
}

#[tokio::test]
async fn faults_come_after_authentication_and_respect_actions() {
    let mut f = FaultSpec::always(FaultKind::Throttling);
    f.actions = vec!["DescribeCloudMigrationPrecheckResult".into()];
    let s = with_fault(f).await;
    assert!(read(&s, Duration::from_secs(5)).await.is_ok());
    let c = client(&s.endpoint(), Duration::from_secs(5), 1);
    let e = c
        .describe_prechecks(ERP, &TaskFilter::default())
        .await
        .unwrap_err();
    assert_eq!(e.code(), "Throttling.User");
    let s = with_fault(FaultSpec::always(FaultKind::Reset)).await;
    let p = Describe::page(ERP).with("PageSize", "1").signed(
        "POST",
        "wrong",
        chrono::Utc::now(),
        &nonce(),
    );
    let (status, body) = send(&s.endpoint(), "POST", &p).await;
    assert_eq!(
        (status, error_code(&body).as_str()),
        (400, "SignatureDoesNotMatch")
    );
}

#[test]
fn fault_flags_and_scenario_faults_parse() {
    let f = FaultSpec::parse_flag("throttling:0.2@10s..20s").unwrap();
    assert_eq!(
        (f.kind, f.rate, f.from, f.to),
        (
            FaultKind::Throttling,
            0.2,
            Some(Secs(10.0)),
            Some(Secs(20.0))
        )
    );
    let s = Scenario::from_json(
        r#"{"instances": [{"id": "a"}], "faults": [
            {"kind": "latency", "rate": 0.5, "delay": "800ms"},
            {"kind": "hang", "from": "1m", "to": "2m", "delay": "2m"},
            {"kind": "server_error", "status": 502, "actions": ["DescribeCloudMigrationResult"]},
            {"kind": "throttling", "rate": 0.1},
            {"kind": "malformed", "rate": 0.05},
            {"kind": "truncated", "rate": 0.05},
            {"kind": "reset", "from": 30, "to": 40}
        ]}"#,
        "t",
    )
    .unwrap();
    assert_eq!(s.faults.len(), 7);
    assert!(
        Scenario::from_json(
            r#"{"instances": [{"id": "a"}], "faults": [{"kind": "reset", "rate": 3}]}"#,
            "t"
        )
        .is_err()
    );
    assert!(
        Scenario::from_json(
            r#"{"instances": [{"id": "a"}], "faults": [{"kind": "explode"}]}"#,
            "t"
        )
        .is_err()
    );
}
