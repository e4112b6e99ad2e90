//! Helpers shared by the simulator's integration tests: an in-process simulator on a manual
//! clock, and hand-signed requests (v1 and V3) whose every part a test can bend.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use migtop::aliyun::{ClientConfig, Credentials, RdsClient, RetryPolicy, sign, sign_v3};
use migtop::sim::{
    FaultSpec, ManualClock, Scenario, ScenarioSource, ServerConfig, Shape, SimHandle,
};
use serde_json::Value;

pub const KEY_ID: &str = "LTAI5tTestKeyId";
pub const SECRET: &str = "test-secret";

pub fn creds() -> Credentials {
    Credentials {
        access_key_id: KEY_ID.into(),
        access_key_secret: SECRET.to_string().into(),
        security_token: None,
        origin: "test".into(),
    }
}

pub fn epoch() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 6, 11, 2, 0, 0).unwrap()
}

/// A simulator on a manual clock (time moves only when the test says so).
pub struct Sim {
    pub handle: SimHandle,
    pub clock: Arc<ManualClock>,
}

impl Sim {
    pub fn endpoint(&self) -> String {
        self.handle.endpoint()
    }

    pub fn advance(&self, secs: f64) {
        self.clock.advance(secs);
    }
}

pub async fn sim_with(scenario: Scenario, faults: Vec<FaultSpec>, credentials: Credentials) -> Sim {
    let clock = Arc::new(ManualClock::new(epoch()));
    let source = Arc::new(ScenarioSource::new(&scenario, 1, clock.clone()));
    let shape = scenario.shape;
    let handle = migtop::sim::start_with_config(
        ServerConfig {
            listen: "127.0.0.1:0".parse().unwrap(),
            credentials,
            shape,
            faults,
            seed: 1,
            clock: clock.clone(),
        },
        source,
    )
    .await
    .expect("simulator starts");
    Sim { handle, clock }
}

pub async fn sim() -> Sim {
    sim_with(Scenario::builtin(), vec![], creds()).await
}

pub fn shape_default() -> Shape {
    Shape::sample()
}

/// migtop's own client for the simulator, with retries off unless asked for.
pub fn client(endpoint: &str, timeout: Duration, attempts: u32) -> RdsClient {
    client_with(endpoint, timeout, attempts, creds())
}

pub fn client_with(endpoint: &str, timeout: Duration, attempts: u32, c: Credentials) -> RdsClient {
    RdsClient::new(
        ClientConfig {
            endpoint: endpoint.parse().unwrap(),
            timeout,
            retry: RetryPolicy {
                max_attempts: attempts,
                base: Duration::from_millis(10),
                cap: Duration::from_millis(50),
            },
            region: None,
        },
        c,
    )
    .unwrap()
}

pub fn stamp(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// The common v1 params for `action`, plus `extra`, signed for `method` with `secret`.
pub fn v1_params(
    method: &str,
    action: &str,
    extra: &[(&str, &str)],
    secret: &str,
    when: DateTime<Utc>,
    nonce: &str,
) -> BTreeMap<String, String> {
    let mut p: BTreeMap<String, String> = BTreeMap::new();
    for (k, v) in [
        ("Action", action),
        ("Version", "2014-08-15"),
        ("Format", "JSON"),
        ("AccessKeyId", KEY_ID),
        ("SignatureMethod", "HMAC-SHA1"),
        ("SignatureVersion", "1.0"),
        ("SignatureNonce", nonce),
    ] {
        p.insert(k.into(), v.into());
    }
    p.insert("Timestamp".into(), stamp(when));
    for (k, v) in extra {
        p.insert(k.to_string(), v.to_string());
    }
    let s = sign::sign(secret, method, &p);
    p.insert("Signature".into(), s);
    p
}

pub fn encode(p: &BTreeMap<String, String>) -> String {
    p.iter()
        .map(|(k, v)| format!("{}={}", sign::percent_encode(k), sign::percent_encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

pub fn nonce() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// Sends params by GET (query) or POST (form body); returns status and JSON (or raw text).
pub async fn send(endpoint: &str, method: &str, p: &BTreeMap<String, String>) -> (u16, Value) {
    let http = reqwest::Client::new();
    let req = if method == "GET" {
        http.get(format!("{endpoint}/?{}", encode(p)))
    } else {
        http.post(format!("{endpoint}/"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(encode(p))
    };
    let resp = req.send().await.expect("response");
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// A v1 call with fresh nonce and time.
pub async fn call_v1(endpoint: &str, action: &str, extra: &[(&str, &str)]) -> (u16, Value) {
    let p = v1_params("POST", action, extra, SECRET, Utc::now(), &nonce());
    send(endpoint, "POST", &p).await
}

/// A V3 request as alibabacloud_tea_openapi sends it: params in the query string.
pub struct V3 {
    pub action: String,
    pub query: BTreeMap<String, String>,
    pub secret: String,
    pub key_id: String,
    pub date: DateTime<Utc>,
    pub nonce: String,
    pub token: Option<String>,
}

impl V3 {
    pub fn new(action: &str, query: &[(&str, &str)]) -> V3 {
        V3 {
            action: action.into(),
            query: query
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            secret: SECRET.into(),
            key_id: KEY_ID.into(),
            date: Utc::now(),
            nonce: nonce(),
            token: None,
        }
    }

    pub async fn send(&self, endpoint: &str) -> (u16, Value) {
        let host = endpoint.trim_start_matches("http://").to_string();
        let hash = sign_v3::hex_sha256(b"");
        let mut headers: Vec<(String, String)> = vec![
            ("host".into(), host),
            ("x-acs-action".into(), self.action.clone()),
            ("x-acs-version".into(), "2014-08-15".into()),
            ("x-acs-date".into(), stamp(self.date)),
            ("x-acs-signature-nonce".into(), self.nonce.clone()),
            ("x-acs-content-sha256".into(), hash.clone()),
            ("accept".into(), "application/json".into()),
        ];
        if let Some(t) = &self.token {
            headers.push(("x-acs-security-token".into(), t.clone()));
        }
        let auth = sign_v3::authorize(
            &self.key_id,
            &self.secret,
            "POST",
            "/",
            &self.query,
            &headers,
            &hash,
        );
        let mut req = reqwest::Client::new().post(format!(
            "{endpoint}/?{}",
            sign_v3::canonical_query(&self.query)
        ));
        for (k, v) in headers.iter().filter(|(k, _)| k != "host") {
            req = req.header(k, v);
        }
        let resp = req.header("authorization", auth).send().await.unwrap();
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }
}

/// Asserts the real error body shape and returns its Code.
pub fn error_code(body: &Value) -> String {
    let o = body
        .as_object()
        .unwrap_or_else(|| panic!("not an object: {body}"));
    for k in ["RequestId", "HostId", "Code", "Message", "Recommend"] {
        assert!(o.contains_key(k), "{k} missing in {body}");
    }
    o["Code"].as_str().unwrap().to_string()
}
