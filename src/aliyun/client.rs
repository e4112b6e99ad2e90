//! The signed RPC client for the RDS OpenAPI (version 2014-08-15).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use rand::Rng;
use secrecy::ExposeSecret;
use serde_json::Value;

use super::credentials::{Credentials, Provider, Source};
use super::error::ApiError;
use super::sign;
use crate::model::{Page, Task};

/// The RDS API version every call names.
pub const API_VERSION: &str = "2014-08-15";
/// Entries asked for per page.
pub const PAGE_SIZE: usize = 100;
/// A safety stop against a server that never reaches TotalSize.
const MAX_PAGES: usize = 500;

/// How often and how patiently to retry retryable failures.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Attempts in all, the first included.
    pub max_attempts: u32,
    pub base: Duration,
    pub cap: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 3,
            base: Duration::from_millis(300),
            cap: Duration::from_secs(5),
        }
    }
}

impl RetryPolicy {
    /// Delay before attempt `n + 1` after `n` failures: capped exponential with jitter in [½, 1].
    pub fn delay(&self, failures: u32) -> Duration {
        let exp = self
            .base
            .saturating_mul(1u32 << failures.min(16))
            .min(self.cap);
        exp.mul_f64(rand::rng().random_range(0.5..=1.0))
    }
}

/// Connection settings for [`RdsClient`].
#[derive(Debug, Clone)]
pub struct ClientConfig {
    pub endpoint: reqwest::Url,
    pub timeout: Duration,
    pub retry: RetryPolicy,
    /// Sent as `RegionId` when known.
    pub region: Option<String>,
}

/// Filters of `DescribeCloudMigrationResult`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TaskFilter {
    pub task_id: Option<i64>,
    pub task_name: Option<String>,
    pub source_ip: Option<String>,
    pub source_port: Option<u16>,
}

impl TaskFilter {
    fn apply(&self, p: &mut BTreeMap<String, String>) {
        if let Some(v) = self.task_id {
            p.insert("TaskId".into(), v.to_string());
        }
        if let Some(v) = &self.task_name {
            p.insert("TaskName".into(), v.clone());
        }
        if let Some(v) = &self.source_ip {
            p.insert("SourceIpAddress".into(), v.clone());
        }
        if let Some(v) = self.source_port {
            p.insert("SourcePort".into(), v.to_string());
        }
    }
}

/// Every task of one instance as read in one poll.
#[derive(Debug, Clone, Default)]
pub struct InstanceSnapshot {
    pub instance: String,
    /// RequestId of the last page read.
    pub request_id: Option<String>,
    pub tasks: Vec<Task>,
    /// Items that could not be decoded (the rest are in `tasks`).
    pub item_errors: Vec<String>,
}

/// A signed client for one endpoint and one set of credentials. Cheap to clone.
#[derive(Clone)]
pub struct RdsClient {
    http: reqwest::Client,
    config: Arc<ClientConfig>,
    credentials: Arc<Provider>,
}

impl RdsClient {
    /// Builds the HTTP client (rustls, request timeout from `config`).
    pub fn new(config: ClientConfig, credentials: Credentials) -> anyhow::Result<RdsClient> {
        Self::with_provider(config, Arc::new(Provider::fixed(credentials)))
    }

    /// A client whose credentials come from `source` (fetched and renewed as needed).
    pub fn from_source(config: ClientConfig, source: Source) -> anyhow::Result<RdsClient> {
        let provider = Provider::new(source, config.timeout)?;
        Self::with_provider(config, Arc::new(provider))
    }

    /// Like [`RdsClient::new`], asking `credentials` for current credentials on every attempt
    /// (temporary ones are renewed before they expire).
    pub fn with_provider(
        config: ClientConfig,
        credentials: Arc<Provider>,
    ) -> anyhow::Result<RdsClient> {
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.timeout.min(Duration::from_secs(10)))
            .user_agent(concat!("migtop/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(RdsClient {
            http,
            config: Arc::new(config),
            credentials,
        })
    }

    /// The endpoint this client talks to.
    pub fn endpoint(&self) -> &reqwest::Url {
        &self.config.endpoint
    }

    /// The full, signed parameter set for one attempt (fresh nonce and timestamp).
    pub fn signed_params(
        &self,
        c: &Credentials,
        method: &str,
        action: &str,
        params: &BTreeMap<String, String>,
    ) -> BTreeMap<String, String> {
        let mut p = params.clone();
        p.insert("Action".into(), action.into());
        p.insert("Version".into(), API_VERSION.into());
        p.insert("Format".into(), "JSON".into());
        p.insert("AccessKeyId".into(), c.access_key_id.clone());
        p.insert("SignatureMethod".into(), "HMAC-SHA1".into());
        p.insert("SignatureVersion".into(), "1.0".into());
        p.insert("SignatureNonce".into(), uuid::Uuid::new_v4().to_string());
        p.insert(
            "Timestamp".into(),
            chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        );
        if let Some(t) = &c.security_token {
            p.insert("SecurityToken".into(), t.expose_secret().to_string());
        }
        if let Some(r) = &self.config.region {
            p.entry("RegionId".into()).or_insert_with(|| r.clone());
        }
        let signature = sign::sign(c.access_key_secret.expose_secret(), method, &p);
        p.insert("Signature".into(), signature);
        p
    }

    /// One POST with form-encoded params (so nothing secret-adjacent lands in URLs or logs).
    async fn call_once(
        &self,
        action: &str,
        params: &BTreeMap<String, String>,
    ) -> Result<Value, ApiError> {
        let credentials = self.credentials.current().await?;
        let signed = self.signed_params(&credentials, "POST", action, params);
        let body = signed
            .iter()
            .map(|(k, v)| format!("{}={}", sign::percent_encode(k), sign::percent_encode(v)))
            .collect::<Vec<_>>()
            .join("&");
        let endpoint = self
            .config
            .endpoint
            .as_str()
            .trim_end_matches('/')
            .to_string();
        let resp = self
            .http
            .post(self.config.endpoint.clone())
            .header(
                reqwest::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .header(reqwest::header::ACCEPT, "application/json")
            .body(body)
            .send()
            .await
            .map_err(|e| self.transport_error(&endpoint, e))?;
        let status = resp.status().as_u16();
        let bytes = resp
            .bytes()
            .await
            .map_err(|e| self.transport_error(&endpoint, e))?;
        let parsed = parse_body(&bytes);
        // Error messages quote the server's string to sign: it holds the AccessKey id and, with
        // STS credentials, the security token (percent-encoded once or twice).
        let redact = |s: &str| {
            let s = crate::redact::access_key(s, &credentials.access_key_id);
            match &credentials.security_token {
                Some(t) => crate::redact::secret(&s, t.expose_secret()),
                None => s,
            }
        };
        match parsed {
            Ok(Value::Object(o))
                if status >= 300
                    || (o.contains_key("Code")
                        && !o.contains_key("Items")
                        && !o.contains_key("TotalSize")
                        && !o.contains_key("TaskId")) =>
            {
                let text = |k: &str| crate::model::value::text(o.get(k));
                Err(ApiError::Api {
                    code: text("Code").unwrap_or_else(|| format!("HTTP{status}")),
                    message: redact(&text("Message").unwrap_or_else(|| "(no message)".into())),
                    request_id: text("RequestId"),
                    http_status: status,
                })
            }
            Ok(v) if status < 300 => Ok(v),
            Ok(_) | Err(_) => {
                let snippet: String = String::from_utf8_lossy(&bytes).chars().take(120).collect();
                let what = match parsed {
                    Err(e) => format!("{e}; body starts {snippet:?}"),
                    Ok(_) => format!("unexpected body {snippet:?}"),
                };
                Err(ApiError::BadResponse {
                    http_status: status,
                    message: redact(&what),
                })
            }
        }
    }

    fn transport_error(&self, endpoint: &str, e: reqwest::Error) -> ApiError {
        if e.is_timeout() {
            return ApiError::Timeout {
                endpoint: endpoint.into(),
                seconds: self.config.timeout.as_secs_f64(),
                attempts: 1,
            };
        }
        if e.is_decode() || e.is_body() {
            return ApiError::BadResponse {
                http_status: e.status().map(|s| s.as_u16()).unwrap_or(0),
                message: chain(&e.without_url()),
            };
        }
        let message = if e.is_connect() {
            format!("cannot connect ({})", root_cause(&e))
        } else {
            chain(&e.without_url())
        };
        ApiError::Network {
            endpoint: endpoint.into(),
            message,
        }
    }

    /// Calls `action`, retrying retryable failures per the retry policy.
    pub async fn call(
        &self,
        action: &str,
        params: &BTreeMap<String, String>,
    ) -> Result<Value, ApiError> {
        let mut failures = 0;
        let mut renewed = false;
        loop {
            match self.call_once(action, params).await {
                Ok(v) => return Ok(v),
                // Temporary credentials the service calls expired: fetch new ones, once.
                Err(ApiError::Api { code, .. })
                    if code == "InvalidSecurityToken.Expired"
                        && !renewed
                        && self.credentials.is_refreshable() =>
                {
                    renewed = true;
                    tracing::debug!(action, "security token expired; renewing credentials");
                    self.credentials.invalidate().await;
                }
                Err(e) if e.is_retryable() && failures + 1 < self.config.retry.max_attempts => {
                    let delay = self.config.retry.delay(failures);
                    tracing::debug!(action, code = e.code(), ?delay, "retrying");
                    failures += 1;
                    tokio::time::sleep(delay).await;
                }
                // Say how many tries the time went on, not only one try's timeout.
                Err(ApiError::Timeout {
                    endpoint, seconds, ..
                }) => {
                    return Err(ApiError::Timeout {
                        endpoint,
                        seconds,
                        attempts: failures + 1,
                    });
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Every task of `instance` matching `filter`, reading all pages.
    pub async fn describe_tasks(
        &self,
        instance: &str,
        filter: &TaskFilter,
    ) -> Result<InstanceSnapshot, ApiError> {
        self.describe("DescribeCloudMigrationResult", instance, filter)
            .await
    }

    /// The precheck results of `instance` (same item shape, fewer fields).
    pub async fn describe_prechecks(
        &self,
        instance: &str,
        filter: &TaskFilter,
    ) -> Result<InstanceSnapshot, ApiError> {
        self.describe("DescribeCloudMigrationPrecheckResult", instance, filter)
            .await
    }

    async fn describe(
        &self,
        action: &str,
        instance: &str,
        filter: &TaskFilter,
    ) -> Result<InstanceSnapshot, ApiError> {
        let mut snap = InstanceSnapshot {
            instance: instance.to_string(),
            ..Default::default()
        };
        let mut read = 0usize;
        for page_number in 1..=MAX_PAGES {
            let mut p = BTreeMap::new();
            p.insert("DBInstanceName".to_string(), instance.to_string());
            p.insert("PageNumber".to_string(), page_number.to_string());
            p.insert("PageSize".to_string(), PAGE_SIZE.to_string());
            filter.apply(&mut p);
            let body = self.call(action, &p).await?;
            let page =
                Page::from_json(instance, &body).map_err(|message| ApiError::BadResponse {
                    http_status: 200,
                    message,
                })?;
            read += page.item_count;
            snap.request_id = page.request_id.or(snap.request_id);
            snap.tasks.extend(page.tasks);
            snap.item_errors.extend(page.item_errors);
            let total = page.total_size.map(|t| t.max(0) as usize);
            let more = match total {
                Some(t) => read < t && page.item_count > 0,
                None => page.item_count >= PAGE_SIZE,
            };
            if !more {
                break;
            }
        }
        Ok(snap)
    }

    /// The switchover: `ActivateMigrationTargetInstance` with SwitchTimeMode=0 (now).
    pub async fn activate_migration_target(&self, instance: &str) -> Result<Value, ApiError> {
        let mut p = BTreeMap::new();
        p.insert("DBInstanceName".to_string(), instance.to_string());
        p.insert("SwitchTimeMode".to_string(), "0".to_string());
        p.insert("ForceSwitch".to_string(), "1".to_string());
        // Not retried: a switchover must not be sent twice by accident.
        self.call_once("ActivateMigrationTargetInstance", &p).await
    }
}

/// Reads a response body: JSON as asked for, or the service's XML form (some proxies and
/// older gateways ignore `Format`). Anything else is an error naming what it was.
fn parse_body(bytes: &[u8]) -> Result<Value, String> {
    match serde_json::from_slice::<Value>(bytes) {
        Ok(v) => Ok(v),
        Err(json_err) => {
            let text = String::from_utf8_lossy(bytes);
            let looks_like_api_xml =
                text.trim_start().starts_with('<') && text.contains("<RequestId>");
            if looks_like_api_xml {
                crate::model::xml::to_json(&text)
            } else {
                Err(format!("not JSON ({json_err})"))
            }
        }
    }
}

/// The innermost cause of an error (e.g. "Connection refused (os error 111)").
fn root_cause(e: &dyn std::error::Error) -> String {
    let mut cur = e;
    while let Some(next) = cur.source() {
        cur = next;
    }
    cur.to_string()
}

/// An error and its causes in one line.
fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        let t = c.to_string();
        if !s.contains(&t) {
            s.push_str(": ");
            s.push_str(&t);
        }
        cur = c.source();
    }
    s
}
