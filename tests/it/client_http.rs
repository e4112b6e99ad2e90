//! The client against a scripted loopback server: method, params, signature, paging, errors.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use migtop::aliyun::sign;
use migtop::aliyun::{ApiError, ClientConfig, Credentials, RdsClient, RetryPolicy, TaskFilter};
use migtop::model::{Lsn, Stage};

use crate::support::http;

const SECRET: &str = "test-secret";
const KEY_ID: &str = "LTAI5tTESTKEYID";

fn client(addr: std::net::SocketAddr, token: Option<&str>) -> RdsClient {
    let config = ClientConfig {
        endpoint: format!("http://{addr}").parse().unwrap(),
        timeout: Duration::from_millis(800),
        retry: RetryPolicy {
            max_attempts: 3,
            base: Duration::from_millis(10),
            cap: Duration::from_millis(40),
        },
        region: Some("cn-hangzhou".into()),
    };
    let creds = Credentials {
        access_key_id: KEY_ID.into(),
        access_key_secret: SECRET.to_string().into(),
        security_token: token.map(|t| t.to_string().into()),
        origin: "test".into(),
    };
    RdsClient::new(config, creds).unwrap()
}

#[tokio::test]
async fn request_is_signed_post_with_every_common_param() {
    let (addr, seen) = http::serve(Arc::new(|_, _| (200, http::sample()))).await;
    let filter = TaskFilter {
        task_id: Some(440437220),
        task_name: Some("n a*m~e".into()),
        source_ip: Some("172.16.0.1".into()),
        source_port: Some(5432),
    };
    let snap = client(addr, Some("sts-token"))
        .describe_tasks("pgm-bp102g323jd4", &filter)
        .await
        .unwrap();
    assert_eq!(snap.tasks.len(), 1);
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 1);
    let req = &seen[0];
    assert_eq!(req.method, "POST");
    let p = &req.params;
    for (k, v) in [
        ("Action", "DescribeCloudMigrationResult"),
        ("Version", "2014-08-15"),
        ("Format", "JSON"),
        ("AccessKeyId", KEY_ID),
        ("SignatureMethod", "HMAC-SHA1"),
        ("SignatureVersion", "1.0"),
        ("SecurityToken", "sts-token"),
        ("RegionId", "cn-hangzhou"),
        ("DBInstanceName", "pgm-bp102g323jd4"),
        ("PageNumber", "1"),
        ("PageSize", "100"),
        ("TaskId", "440437220"),
        ("TaskName", "n a*m~e"),
        ("SourceIpAddress", "172.16.0.1"),
        ("SourcePort", "5432"),
    ] {
        assert_eq!(p.get(k).map(String::as_str), Some(v), "param {k}");
    }
    assert_eq!(p["SignatureNonce"].len(), 36);
    let ts = chrono::NaiveDateTime::parse_from_str(&p["Timestamp"], "%Y-%m-%dT%H:%M:%SZ").unwrap();
    assert!((chrono::Utc::now().naive_utc() - ts).num_seconds().abs() < 60);
    let mut unsigned: BTreeMap<String, String> = p.clone();
    let got = unsigned.remove("Signature").unwrap();
    assert_eq!(
        got,
        sign::sign(SECRET, "POST", &unsigned),
        "signature must verify"
    );
    assert_eq!(
        req.headers["content-type"],
        "application/x-www-form-urlencoded"
    );
}

#[tokio::test]
async fn reference_sample_decodes_with_all_its_quirks() {
    let (addr, _) = http::serve(Arc::new(|_, _| (200, http::sample()))).await;
    let snap = client(addr, None)
        .describe_tasks("pgm-bp102g323jd4", &TaskFilter::default())
        .await
        .unwrap();
    assert_eq!(
        snap.request_id.as_deref(),
        Some("1B983C48-9793-5EAA-8F7F-00EAEC517675")
    );
    let t = &snap.tasks[0];
    assert_eq!(t.task_id, Some(440437220));
    assert_eq!(t.stage, Some(Stage::Increment));
    let r = t.replication.as_ref().unwrap();
    assert_eq!(r.replay_lsn, Some(Lsn(0x3000148)));
    assert_eq!(r.lag_bytes(), Some(0));
    assert_eq!(t.precheck.counts.warning, 1);
    assert_eq!(t.precheck.counts.success, 11);
    assert_eq!(t.source.port, Some(5432));
    assert!(
        !format!("{t:?}").contains("123456"),
        "SourcePassword must not be kept"
    );
}

#[tokio::test]
async fn pages_are_read_until_total_size() {
    // 230 tasks served 100 at a time.
    let (addr, seen) = http::serve(Arc::new(|s, _| {
        let page: usize = s.params["PageNumber"].parse().unwrap();
        let size: usize = s.params["PageSize"].parse().unwrap();
        let items: Vec<_> = ((page - 1) * size..(page * size).min(230))
            .map(|i| serde_json::json!({"TaskId": i, "MigrateStage": "increment"}))
            .collect();
        (200, serde_json::json!({"TotalSize": 230, "PageNumber": page, "PageSize": size, "RequestId": format!("R{page}"), "Items": items}).to_string())
    }))
    .await;
    let snap = client(addr, None)
        .describe_tasks("pgm-1", &TaskFilter::default())
        .await
        .unwrap();
    assert_eq!(snap.tasks.len(), 230);
    assert_eq!(seen.lock().unwrap().len(), 3);
    assert_eq!(snap.request_id.as_deref(), Some("R3"));
    let ids: Vec<i64> = snap.tasks.iter().map(|t| t.task_id.unwrap()).collect();
    assert_eq!(ids, (0..230).collect::<Vec<_>>());
}

#[tokio::test]
async fn a_server_that_never_reaches_total_size_does_not_loop_forever() {
    let (addr, seen) = http::serve(Arc::new(|_, _| {
        (200, r#"{"TotalSize": 5, "Items": []}"#.into())
    }))
    .await;
    let snap = client(addr, None)
        .describe_tasks("pgm-1", &TaskFilter::default())
        .await
        .unwrap();
    assert!(snap.tasks.is_empty());
    assert_eq!(seen.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn permanent_errors_are_not_retried_and_keep_code_message_request_id() {
    let (addr, seen) = http::serve(Arc::new(|_, _| {
        (
            404,
            http::error_body(
                "InvalidDBInstanceName.NotFound",
                "The database instance does not exist.",
                "REQ-404",
            ),
        )
    }))
    .await;
    let err = client(addr, None)
        .describe_tasks("pgm-nope", &TaskFilter::default())
        .await
        .unwrap_err();
    assert_eq!(seen.lock().unwrap().len(), 1);
    match &err {
        ApiError::Api {
            code,
            message,
            request_id,
            http_status,
        } => {
            assert_eq!(code, "InvalidDBInstanceName.NotFound");
            assert_eq!(message, "The database instance does not exist.");
            assert_eq!(request_id.as_deref(), Some("REQ-404"));
            assert_eq!(*http_status, 404);
        }
        other => panic!("{other:?}"),
    }
    assert!(!err.is_retryable());
}

#[tokio::test]
async fn signature_errors_have_the_access_key_redacted() {
    let (addr, _) = http::serve(Arc::new(|_, _| {
        (400, http::error_body("SignatureDoesNotMatch", &format!("Specified signature is not matched with our calculation. server string to sign is:POST&%2F&AccessKeyId%3D{KEY_ID}"), "REQ-SIG"))
    }))
    .await;
    let err = client(addr, None)
        .describe_tasks("pgm-1", &TaskFilter::default())
        .await
        .unwrap_err();
    let text = format!(
        "{err} {err:?} {}",
        serde_json::to_string(&err.to_json()).unwrap()
    );
    assert!(!text.contains(KEY_ID), "{text}");
    assert!(text.contains("LTAI****"), "{text}");
}

#[tokio::test]
async fn throttling_and_5xx_are_retried_with_fresh_nonces() {
    let (addr, seen) = http::serve(Arc::new(|_, n| match n {
        0 => (
            400,
            http::error_body(
                "Throttling.User",
                "Request was denied due to user flow control.",
                "R0",
            ),
        ),
        1 => (503, "<html>bad gateway</html>".into()),
        _ => (200, http::sample()),
    }))
    .await;
    let snap = client(addr, None)
        .describe_tasks("pgm-1", &TaskFilter::default())
        .await
        .unwrap();
    assert_eq!(snap.tasks.len(), 1);
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 3);
    assert_ne!(
        seen[0].params["SignatureNonce"],
        seen[1].params["SignatureNonce"]
    );
    assert_ne!(
        seen[1].params["SignatureNonce"],
        seen[2].params["SignatureNonce"]
    );
}

#[tokio::test]
async fn retries_give_up_after_max_attempts() {
    let (addr, seen) = http::serve(Arc::new(|_, _| {
        (500, http::error_body("InternalError", "oops", "R"))
    }))
    .await;
    let err = client(addr, None)
        .describe_tasks("pgm-1", &TaskFilter::default())
        .await
        .unwrap_err();
    assert_eq!(err.code(), "InternalError");
    assert_eq!(seen.lock().unwrap().len(), 3);
}

#[tokio::test]
async fn malformed_bodies_are_bad_responses_not_panics() {
    for body in ["", "{\"TotalSize\": 1, \"Items\": [", "[1,2,3]", "null"] {
        let b = body.to_string();
        let (addr, _) = http::serve(Arc::new(move |_, _| (200, b.clone()))).await;
        let err = client(addr, None)
            .describe_tasks("pgm-1", &TaskFilter::default())
            .await
            .unwrap_err();
        assert_eq!(err.code(), "BadResponse", "{body:?}");
    }
}

#[tokio::test]
async fn a_hanging_server_times_out() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    // Accept and never answer.
    tokio::spawn(async move {
        let mut held = Vec::new();
        loop {
            if let Ok((s, _)) = listener.accept().await {
                held.push(s);
            }
        }
    });
    let started = std::time::Instant::now();
    let err = client(addr, None)
        .describe_tasks("pgm-1", &TaskFilter::default())
        .await
        .unwrap_err();
    assert_eq!(err.code(), "Timeout", "{err}");
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[tokio::test]
async fn signature_errors_never_echo_the_sts_token() {
    let token = "CAIS+sts/Token==";
    let quoted = sign::percent_encode(&sign::percent_encode(token));
    let message = format!(
        "Specified signature is not matched with our calculation. server string to sign is:POST&%2F&AccessKeyId%3D{KEY_ID}%26SecurityToken%3D{quoted}"
    );
    let (addr, _) = http::serve(Arc::new(move |_, _| {
        (
            400,
            http::error_body("SignatureDoesNotMatch", &message, "REQ-STS"),
        )
    }))
    .await;
    let err = client(addr, Some(token))
        .describe_tasks("pgm-1", &TaskFilter::default())
        .await
        .unwrap_err();
    let text = format!(
        "{err} {err:?} {}",
        serde_json::to_string(&err.to_json()).unwrap()
    );
    assert!(!text.contains(&quoted) && !text.contains("sts"), "{text}");
    assert!(text.contains("SecurityToken%3D********"), "{text}");
}
