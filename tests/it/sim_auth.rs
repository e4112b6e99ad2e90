//! Authentication like the real endpoint: each error code, status and body shape, for
//! signature v1 (GET and POST) and V3.

use chrono::{Duration, Utc};

use crate::support::rpc::*;
use crate::support::sim::*;

const ERP: &str = "pgm-bp1demo00erp01";

#[tokio::test]
async fn v1_get_and_post_and_v3_are_accepted() {
    let s = sim().await;
    for method in ["GET", "POST"] {
        let p = Describe::page(ERP).signed(method, SECRET, Utc::now(), &nonce());
        let (status, body) = send(&s.endpoint(), method, &p).await;
        assert_eq!(status, 200, "{method}: {body}");
        assert_eq!(body["TotalSize"], 2);
    }
    let (status, body) = Describe::page(ERP).v3().send(&s.endpoint()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["Items"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn wrong_secret_is_signature_does_not_match() {
    let s = sim().await;
    let p = Describe::page(ERP).signed("POST", "wrong", Utc::now(), &nonce());
    let (status, body) = send(&s.endpoint(), "POST", &p).await;
    assert_eq!(
        (status, error_code(&body).as_str()),
        (400, "SignatureDoesNotMatch")
    );
    let msg = body["Message"].as_str().unwrap();
    assert!(msg.contains("server string to sign is:POST&%2F&"), "{msg}");
    let mut v3 = Describe::page(ERP).v3();
    v3.secret = "wrong".into();
    let (status, body) = v3.send(&s.endpoint()).await;
    assert_eq!(
        (status, error_code(&body).as_str()),
        (400, "SignatureDoesNotMatch")
    );
}

#[tokio::test]
async fn tampered_params_do_not_match() {
    let s = sim().await;
    let mut p = Describe::page(ERP).signed("POST", SECRET, Utc::now(), &nonce());
    p.insert("DBInstanceName".into(), "pgm-bp1demo00crm02".into());
    let (status, body) = send(&s.endpoint(), "POST", &p).await;
    assert_eq!(
        (status, error_code(&body).as_str()),
        (400, "SignatureDoesNotMatch")
    );
    // Signed for POST, sent as GET.
    let p = Describe::page(ERP).signed("POST", SECRET, Utc::now(), &nonce());
    let (status, _) = send(&s.endpoint(), "GET", &p).await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn missing_signature_parts_are_incomplete_signature() {
    let s = sim().await;
    for part in [
        "Signature",
        "SignatureNonce",
        "AccessKeyId",
        "SignatureMethod",
    ] {
        let mut p = Describe::page(ERP).signed("POST", SECRET, Utc::now(), &nonce());
        p.remove(part);
        let (status, body) = send(&s.endpoint(), "POST", &p).await;
        assert_eq!(
            (status, error_code(&body).as_str()),
            (400, "IncompleteSignature"),
            "without {part}"
        );
    }
    // A V3 Authorization header without a Signature.
    let resp = reqwest::Client::new()
        .post(format!("{}/?DBInstanceName={ERP}", s.endpoint()))
        .header(
            "authorization",
            format!("ACS3-HMAC-SHA256 Credential={KEY_ID},SignedHeaders=host"),
        )
        .header("x-acs-action", DESCRIBE)
        .header("x-acs-version", "2014-08-15")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 400);
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(error_code(&body), "IncompleteSignature");
}

#[tokio::test]
async fn unknown_access_key_is_not_found_404() {
    let s = sim().await;
    let mut p = Describe::page(ERP).signed("POST", SECRET, Utc::now(), &nonce());
    p.insert("AccessKeyId".into(), "LTAIsomebodyElse".into());
    let s2 = migtop::aliyun::sign::sign(SECRET, "POST", &p);
    p.insert("Signature".into(), s2);
    let (status, body) = send(&s.endpoint(), "POST", &p).await;
    assert_eq!(
        (status, error_code(&body).as_str()),
        (404, "InvalidAccessKeyId.NotFound")
    );
    let mut v3 = Describe::page(ERP).v3();
    v3.key_id = "LTAIsomebodyElse".into();
    let (status, body) = v3.send(&s.endpoint()).await;
    assert_eq!(
        (status, error_code(&body).as_str()),
        (404, "InvalidAccessKeyId.NotFound")
    );
}

#[tokio::test]
async fn clocks_off_by_more_than_15_minutes_are_expired() {
    let s = sim().await;
    for skew in [Duration::minutes(-20), Duration::minutes(20)] {
        let p = Describe::page(ERP).signed("POST", SECRET, Utc::now() + skew, &nonce());
        let (status, body) = send(&s.endpoint(), "POST", &p).await;
        assert_eq!(
            (status, error_code(&body).as_str()),
            (400, "InvalidTimeStamp.Expired")
        );
        let mut v3 = Describe::page(ERP).v3();
        v3.date = Utc::now() + skew;
        let (status, body) = v3.send(&s.endpoint()).await;
        assert_eq!(
            (status, error_code(&body).as_str()),
            (400, "InvalidTimeStamp.Expired")
        );
    }
    // Ten minutes off is still fine.
    let p =
        Describe::page(ERP).signed("POST", SECRET, Utc::now() - Duration::minutes(10), &nonce());
    assert_eq!(send(&s.endpoint(), "POST", &p).await.0, 200);
    let mut p = Describe::page(ERP).signed("POST", SECRET, Utc::now(), &nonce());
    p.insert("Timestamp".into(), "11 June 2024".into());
    let sig = migtop::aliyun::sign::sign(SECRET, "POST", &p);
    p.insert("Signature".into(), sig);
    let (status, body) = send(&s.endpoint(), "POST", &p).await;
    assert_eq!(
        (status, error_code(&body).as_str()),
        (400, "InvalidTimeStamp.Format")
    );
}

#[tokio::test]
async fn a_nonce_works_once() {
    let s = sim().await;
    let p = Describe::page(ERP).signed("POST", SECRET, Utc::now(), "fixed-nonce-1");
    assert_eq!(send(&s.endpoint(), "POST", &p).await.0, 200);
    let (status, body) = send(&s.endpoint(), "POST", &p).await;
    assert_eq!(
        (status, error_code(&body).as_str()),
        (400, "SignatureNonceUsed")
    );
    let mut v3 = Describe::page(ERP).v3();
    v3.nonce = "fixed-nonce-2".into();
    assert_eq!(v3.send(&s.endpoint()).await.0, 200);
    let (status, body) = v3.send(&s.endpoint()).await;
    assert_eq!(
        (status, error_code(&body).as_str()),
        (400, "SignatureNonceUsed")
    );
}

#[tokio::test]
async fn missing_required_params_are_missing_parameter() {
    let s = sim().await;
    for name in ["DBInstanceName", "PageNumber", "PageSize"] {
        let (status, body) = Describe::page(ERP).without(name).call(&s.endpoint()).await;
        assert_eq!(
            (status, error_code(&body).as_str()),
            (400, "MissingParameter")
        );
        assert!(body["Message"].as_str().unwrap().contains(name), "{body}");
    }
    let (status, body) = call_v1(
        &s.endpoint(),
        "ActivateMigrationTargetInstance",
        &[("DBInstanceName", ERP)],
    )
    .await;
    assert_eq!(
        (status, error_code(&body).as_str()),
        (400, "MissingParameter")
    );
    let (status, body) = Describe::page(ERP)
        .without("DBInstanceName")
        .v3()
        .send(&s.endpoint())
        .await;
    assert_eq!(
        (status, error_code(&body).as_str()),
        (400, "MissingParameter")
    );
}

#[tokio::test]
async fn unknown_instance_is_404_and_unknown_action_has_the_real_shape() {
    let s = sim().await;
    let (status, body) = Describe::page("pgm-nope").call(&s.endpoint()).await;
    assert_eq!(
        (status, error_code(&body).as_str()),
        (404, "InvalidDBInstanceName.NotFound")
    );
    assert_eq!(body["Message"], "The database instance does not exist.");
    assert!(body["HostId"].as_str().unwrap().starts_with("127.0.0.1:"));
    let (status, body) = Describe::page("pgm-nope").v3().send(&s.endpoint()).await;
    assert_eq!(
        (status, error_code(&body).as_str()),
        (404, "InvalidDBInstanceName.NotFound")
    );
    let (status, body) = call_v1(&s.endpoint(), "DescribeDBInstances", &[]).await;
    assert_eq!(
        (status, error_code(&body).as_str()),
        (404, "InvalidAction.NotFound")
    );
    let (status, body) = call_v1(&s.endpoint(), DESCRIBE, &[("Version", "2099-01-01")]).await;
    // Version is signed like any param; a wrong one is named.
    assert_eq!(
        (status, error_code(&body).as_str()),
        (400, "InvalidVersion")
    );
}

#[tokio::test]
async fn sts_credentials_need_their_token() {
    let mut c = creds();
    c.security_token = Some("sts-token-1".to_string().into());
    let s = sim_with(migtop::sim::Scenario::builtin(), vec![], c).await;
    let (status, body) = Describe::page(ERP).call(&s.endpoint()).await;
    assert_eq!(
        (status, error_code(&body).as_str()),
        (400, "MissingSecurityToken")
    );
    let with_token = Describe::page(ERP).with("SecurityToken", "sts-token-1");
    assert_eq!(with_token.call(&s.endpoint()).await.0, 200);
    let mut v3 = Describe::page(ERP).v3();
    v3.token = Some("sts-token-2".into());
    let (status, body) = v3.send(&s.endpoint()).await;
    assert_eq!(
        (status, error_code(&body).as_str()),
        (400, "InvalidSecurityToken.Malformed")
    );
    v3.token = Some("sts-token-1".into());
    v3.nonce = nonce();
    assert_eq!(v3.send(&s.endpoint()).await.0, 200);
}

#[tokio::test]
async fn migtop_client_reports_auth_errors_by_code() {
    let s = sim().await;
    let mut c = creds();
    c.access_key_secret = "wrong".to_string().into();
    let client = client_with(&s.endpoint(), std::time::Duration::from_secs(5), 1, c);
    let e = client
        .describe_tasks(ERP, &Default::default())
        .await
        .unwrap_err();
    assert_eq!(e.code(), "SignatureDoesNotMatch");
    // The client masks the AccessKey id the server echoes in the message.
    assert!(!e.to_string().contains(KEY_ID), "{e}");
}
