//! A tiny scripted HTTP server on loopback, and the reference response it usually answers with.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::IntoResponse;

/// One request as the server saw it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    pub headers: HeaderMap,
    pub params: BTreeMap<String, String>,
}

/// A canned answer: status and body, chosen per request by the script.
pub type Script = Arc<dyn Fn(&Seen, usize) -> (u16, String) + Send + Sync>;

/// Starts a server answering every request with `script(request, index)`.
pub async fn serve(script: Script) -> (SocketAddr, Arc<Mutex<Vec<Seen>>>) {
    let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
    let log = seen.clone();
    let app = axum::Router::new().fallback(
        move |method: Method, uri: axum::http::Uri, headers: HeaderMap, body: Bytes| {
            let log = log.clone();
            let script = script.clone();
            async move {
                let mut params = BTreeMap::new();
                for part in [
                    uri.query().unwrap_or(""),
                    std::str::from_utf8(&body).unwrap_or(""),
                ] {
                    for (k, v) in url::form_urlencoded::parse(part.as_bytes()) {
                        params.insert(k.into_owned(), v.into_owned());
                    }
                }
                let s = Seen {
                    method: method.to_string(),
                    headers,
                    params,
                };
                let n = {
                    let mut l = log.lock().unwrap();
                    l.push(s.clone());
                    l.len() - 1
                };
                let (status, body) = script(&s, n);
                (
                    StatusCode::from_u16(status).unwrap(),
                    [("content-type", "application/json")],
                    body,
                )
                    .into_response()
            }
        },
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (addr, seen)
}

/// The reference JSON sample, byte for byte.
pub fn sample() -> String {
    std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/doc-sample-response.json"
    ))
    .unwrap()
}

/// An error body in the service's shape.
pub fn error_body(code: &str, message: &str, request_id: &str) -> String {
    serde_json::json!({"RequestId": request_id, "HostId": "rds.aliyuncs.com", "Code": code, "Message": message, "Recommend": "https://api.aliyun.com/troubleshoot?q=".to_string() + code}).to_string()
}
