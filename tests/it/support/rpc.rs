//! Hand-signed RPC requests (signature v1 and V3) whose every part a test can bend, and the
//! DescribeCloudMigrationResult page most tests ask for.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use migtop::aliyun::sign;
use migtop::sim::sign_v3;
use serde_json::Value;

use super::sim::{KEY_ID, SECRET};

/// The action every page of tasks is read with.
pub const DESCRIBE: &str = "DescribeCloudMigrationResult";

fn stamp(t: DateTime<Utc>) -> String {
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

fn encode(p: &BTreeMap<String, String>) -> String {
    p.iter()
        .map(|(k, v)| format!("{}={}", sign::percent_encode(k), sign::percent_encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// A fresh signature nonce.
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

/// The params of one DescribeCloudMigrationResult page: page 1 of 10 of an instance's tasks
/// unless the test changes them.
#[derive(Debug, Clone)]
pub struct Describe<'a> {
    params: Vec<(&'a str, &'a str)>,
}

impl<'a> Describe<'a> {
    /// Page 1, 10 tasks a page, of `instance`'s tasks.
    pub fn page(instance: &'a str) -> Self {
        Describe {
            params: vec![
                ("DBInstanceName", instance),
                ("PageNumber", "1"),
                ("PageSize", "10"),
            ],
        }
    }

    /// Sets `key` (replacing it, or adding it after the others).
    pub fn with(mut self, key: &'a str, value: &'a str) -> Self {
        match self.params.iter_mut().find(|(k, _)| *k == key) {
            Some(p) => p.1 = value,
            None => self.params.push((key, value)),
        }
        self
    }

    /// Leaves `key` out.
    pub fn without(mut self, key: &str) -> Self {
        self.params.retain(|(k, _)| *k != key);
        self
    }

    /// Sends it as a v1 POST with fresh nonce and time.
    pub async fn call(&self, endpoint: &str) -> (u16, Value) {
        call_v1(endpoint, DESCRIBE, &self.params).await
    }

    /// Its v1 params, signed for `method` with `secret` at `when`.
    pub fn signed(
        &self,
        method: &str,
        secret: &str,
        when: DateTime<Utc>,
        nonce: &str,
    ) -> BTreeMap<String, String> {
        v1_params(method, DESCRIBE, &self.params, secret, when, nonce)
    }

    /// A V3 request for it.
    pub fn v3(&self) -> V3 {
        V3::new(DESCRIBE, &self.params)
    }
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
    /// `action` with `query`, signed with the simulator's key, now, with a fresh nonce.
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

    /// Signs and sends it; returns status and JSON (or raw text).
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
