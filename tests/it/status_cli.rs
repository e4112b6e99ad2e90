//! `migtop status` as a DBA runs it: the real binary against a loopback server.

use std::sync::Arc;

use tokio::process::Command;

use crate::support::http;

const SECRET: &str = "cli-test-secret";

async fn migtop(args: &[&str]) -> (i32, String, String) {
    let home = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_migtop"))
        .args(args)
        .env_clear()
        .env("HOME", home.path())
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("ALIBABA_CLOUD_ACCESS_KEY_ID", "LTAI5tCLITEST")
        .env("ALIBABA_CLOUD_ACCESS_KEY_SECRET", SECRET)
        .output()
        .await
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn json_output_of_the_reference_sample() {
    let (addr, _) = http::serve(Arc::new(|_, _| (200, http::sample()))).await;
    let endpoint = format!("http://{addr}");
    let (code, out, err) = migtop(&[
        "status",
        "--endpoint",
        &endpoint,
        "-i",
        "pgm-bp102g323jd4",
        "--output",
        "json",
    ])
    .await;
    assert_eq!(code, 0, "stderr: {err}");
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    let inst = &doc["instances"][0];
    assert_eq!(inst["instance"], "pgm-bp102g323jd4");
    assert_eq!(inst["request_id"], "1B983C48-9793-5EAA-8F7F-00EAEC517675");
    assert!(inst["error"].is_null());
    let t = &inst["tasks"][0];
    assert_eq!(t["task_id"], 440437220);
    assert_eq!(t["stage"], "increment");
    assert_eq!(t["stage_index"], 4);
    assert_eq!(t["replication_state"], "streaming");
    assert_eq!(t["lag_bytes"], 0);
    assert_eq!(t["transport_bytes"], 0);
    assert_eq!(t["apply_bytes"], 0);
    assert_eq!(t["synced"], true);
    assert_eq!(t["lsn"]["receive_start"], "0/3000000");
    assert_eq!(t["lsn"]["replay"], "0/3000148");
    assert_eq!(
        t["precheck"],
        serde_json::json!({"success": 11, "warning": 1, "fail": 0})
    );
    assert_eq!(t["source"]["port"], 5432);
    assert_eq!(t["created"], "2022-02-25T08:53:13Z");
    for leak in ["123456", "SourcePassword", "password", SECRET] {
        assert!(!out.contains(leak) && !err.contains(leak), "{leak} leaked");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn table_output_is_compact() {
    let (addr, _) = http::serve(Arc::new(|_, _| (200, http::sample()))).await;
    let endpoint = format!("http://{addr}");
    let (code, out, _) =
        migtop(&["status", "--endpoint", &endpoint, "-i", "pgm-bp102g323jd4"]).await;
    assert_eq!(code, 0);
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines[0].starts_with("INSTANCE"), "{out}");
    assert!(
        lines[1].contains("440437220")
            && lines[1].contains("increment (4/6)")
            && lines[1].contains("0 B"),
        "{out}"
    );
    assert!(!out.contains("123456"));
}

#[tokio::test(flavor = "multi_thread")]
async fn api_error_prints_code_message_request_id_and_exits_1() {
    let (addr, _) = http::serve(Arc::new(|s, _| {
        if s.params["DBInstanceName"] == "pgm-good" {
            (200, http::sample())
        } else {
            (
                404,
                http::error_body(
                    "InvalidDBInstanceName.NotFound",
                    "The database instance does not exist.",
                    "REQ-NF-1",
                ),
            )
        }
    }))
    .await;
    let endpoint = format!("http://{addr}");
    let (code, out, err) = migtop(&[
        "status",
        "--endpoint",
        &endpoint,
        "-i",
        "pgm-good",
        "-i",
        "pgm-missing",
        "--output",
        "json",
    ])
    .await;
    assert_eq!(code, 1);
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        doc["instances"][0]["tasks"].as_array().unwrap().len(),
        1,
        "what was read is still printed"
    );
    let e = &doc["instances"][1]["error"];
    assert_eq!(e["code"], "InvalidDBInstanceName.NotFound");
    assert_eq!(e["message"], "The database instance does not exist.");
    assert_eq!(e["request_id"], "REQ-NF-1");
    assert_eq!(e["http_status"], 404);
    assert_eq!(err.lines().count(), 1, "one sentence: {err}");
    for part in [
        "pgm-missing",
        "InvalidDBInstanceName.NotFound",
        "The database instance does not exist",
        "REQ-NF-1",
    ] {
        assert!(err.contains(part), "{part} missing from {err}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn usage_and_configuration_errors_exit_2() {
    let (code, _, err) = migtop(&["status", "--endpoint", "http://10.1.2.3", "-i", "x"]).await;
    assert_eq!(code, 2);
    assert!(err.contains("--allow-insecure-http"), "{err}");
    let (code, _, err) = migtop(&["status"]).await;
    assert_eq!(code, 2);
    assert!(err.contains("-i"), "{err}");
    let (code, _, _) = migtop(&["status", "-i", "x", "--output", "yaml"]).await;
    assert_eq!(code, 2);
    let (code, _, _) = migtop(&["status", "-i", "x", "--timeout", "soon"]).await;
    assert_eq!(code, 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn missing_credentials_are_a_clear_usage_error() {
    let home = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_migtop"))
        .args(["status", "-i", "pgm-1", "--endpoint", "http://127.0.0.1:9"])
        .env_clear()
        .env("HOME", home.path())
        .output()
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("ALIBABA_CLOUD_ACCESS_KEY_ID") && err.contains(".aliyun/config.json"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn unreachable_endpoint_is_a_network_error_exit_1() {
    // Port 9 (discard) on loopback is closed here: connection refused, retried, then reported.
    let (code, out, err) = migtop(&[
        "status",
        "--endpoint",
        "http://127.0.0.1:9",
        "-i",
        "pgm-1",
        "--output",
        "json",
        "--timeout",
        "2s",
    ])
    .await;
    assert_eq!(code, 1, "{err}");
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(doc["instances"][0]["error"]["code"], "NetworkError");
    assert!(err.contains("pgm-1"));
}
