//! The signed RPC client for the RDS OpenAPI (version 2014-08-15).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use rand::Rng;
use secrecy::ExposeSecret;
use serde_json::Value;

use super::body;
use super::credentials::{Credentials, Provider, Source};
use super::error::{ApiError, chain};
use super::sign;
use crate::model::{Page, Task};

/// The RDS API version every call names.
pub const API_VERSION: &str = "2014-08-15";
/// Entries asked for per page.
pub const PAGE_SIZE: usize = 100;
/// A safety stop against a server that never reaches TotalSize.
pub const MAX_PAGES: usize = 500;
/// The most tasks one poll of one instance keeps: twice the tasks an instance holds (the
/// simulator's quota is 1,000), and a server that always promises one
/// more page must not fill memory first (50,000 tasks took 405 MB; 2,000 with a 1 KB
/// `Detail` each take under 100 MB through `status -o json`).
pub const MAX_TASKS_PER_POLL: usize = 2_000;
/// The most response bytes one poll of one instance reads over all its pages: three pages at
/// the body cap. What is decoded from them is kept, so this bounds a poll's memory.
pub const MAX_POLL_BYTES: usize = 3 * body::MAX_BODY_BYTES;

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
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct InstanceSnapshot {
    pub instance: String,
    /// RequestId of the last page read.
    pub request_id: Option<String>,
    pub tasks: Vec<Task>,
    /// Items that could not be decoded (the rest are in `tasks`).
    pub item_errors: Vec<String>,
    /// What went oddly in this read; `None` (the usual case) keeps snapshots small.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notes: Option<Box<ReadNotes>>,
}

/// What the DBA should know about one read beyond its tasks.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct ReadNotes {
    /// One sentence each: merged duplicates, replaced bytes, pages that did not add up.
    pub warnings: Vec<String>,
    /// The pages did not add up (TotalSize never reached): tasks may be missing.
    pub incomplete: bool,
}

impl InstanceSnapshot {
    /// The read's warnings, one sentence each.
    pub fn warnings(&self) -> &[String] {
        self.notes.as_ref().map_or(&[], |n| &n.warnings)
    }

    /// True when the pages did not add up and tasks may be missing.
    pub fn incomplete(&self) -> bool {
        self.notes.as_ref().is_some_and(|n| n.incomplete)
    }
}

/// A signed client for one endpoint and one set of credentials. Cheap to clone.
#[derive(Clone)]
pub struct RdsClient {
    http: reqwest::Client,
    config: Arc<ClientConfig>,
    credentials: Arc<Provider>,
}

impl RdsClient {
    /// Builds the HTTP client (rustls, request timeout from `config`). Redirects are never
    /// followed (a signed request must not be re-sent to another host), and a plain-`http` or
    /// loopback endpoint never goes through a proxy (the signed request would travel in
    /// clear text through it); `HTTPS_PROXY` and the like still apply to remote https.
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
        let mut builder = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.timeout.min(Duration::from_secs(10)))
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("migtop/", env!("CARGO_PKG_VERSION")));
        if bypasses_proxies(&config.endpoint) {
            builder = builder.no_proxy();
        }
        let http = builder.build()?;
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
            chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
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
    ) -> Result<body::Decoded, ApiError> {
        let credentials = self.credentials.current().await?;
        let signed = self.signed_params(&credentials, "POST", action, params);
        let form = signed
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
            .body(form)
            .send()
            .await
            .map_err(|e| self.transport_error(&endpoint, e))?;
        let status = resp.status().as_u16();
        if resp.status().is_redirection() {
            return Err(ApiError::BadResponse {
                http_status: status,
                message: format!(
                    "the endpoint answered with a redirect (HTTP {status}); migtop refuses redirects so that a signed request is never re-sent elsewhere: use the final endpoint with --endpoint"
                ),
            });
        }
        let bytes = match body::read_capped(resp, body::MAX_BODY_BYTES).await {
            Ok(b) => b,
            Err(body::ReadError::TooLarge { cap }) => {
                return Err(ApiError::BadResponse {
                    http_status: status,
                    message: body::ReadError::TooLarge { cap }.to_string(),
                });
            }
            Err(body::ReadError::Timeout) => {
                return Err(ApiError::Timeout {
                    endpoint,
                    seconds: self.config.timeout.as_secs_f64(),
                    attempts: 1,
                });
            }
            Err(body::ReadError::Transport(message)) => {
                return Err(ApiError::Network { endpoint, message });
            }
        };
        let parsed = body::parse(&bytes);
        // Error messages quote the server's string to sign: it holds the AccessKey id and, with
        // STS credentials, the security token (percent-encoded once or twice).
        let redact = |s: &str| redact_credentials(s, &credentials);
        match parsed {
            Ok(body::Decoded {
                value: Value::Object(o),
                ..
            }) if status >= 300
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
            Ok(d) if status < 300 => Ok(d),
            Ok(_) | Err(_) => {
                // Masked before it is cut, so a secret cut in half is still found whole.
                let body_text = redact(&String::from_utf8_lossy(&bytes));
                let snippet: String = body_text.chars().take(120).collect();
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
        let deadline = tokio::time::Instant::now() + self.config.timeout;
        let attempts = AtomicU32::new(0);
        self.within(
            deadline,
            &attempts,
            self.call_until(action, params, deadline, &attempts),
        )
        .await
        .map(|d| d.value)
    }

    /// Calls `action`, retrying retryable failures as long as a retry can still start and
    /// wait out its back-off before `deadline`.
    async fn call_until(
        &self,
        action: &str,
        params: &BTreeMap<String, String>,
        deadline: tokio::time::Instant,
        attempts: &AtomicU32,
    ) -> Result<body::Decoded, ApiError> {
        let mut failures = 0;
        let mut renewed = false;
        loop {
            attempts.fetch_add(1, Ordering::Relaxed);
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
                    if tokio::time::Instant::now() + delay >= deadline {
                        return Err(counted(e, attempts));
                    }
                    tracing::debug!(action, code = e.code(), ?delay, "retrying");
                    failures += 1;
                    tokio::time::sleep(delay).await;
                }
                // Say how many tries the time went on, not only one try's timeout.
                Err(e) => return Err(counted(e, attempts)),
            }
        }
    }

    /// Runs `f` until `deadline`: `--timeout` is one deadline for a whole poll, every page
    /// and retry included, not a per-attempt limit.
    async fn within<T>(
        &self,
        deadline: tokio::time::Instant,
        attempts: &AtomicU32,
        f: impl std::future::Future<Output = Result<T, ApiError>>,
    ) -> Result<T, ApiError> {
        match tokio::time::timeout_at(deadline, f).await {
            Ok(r) => r,
            Err(_) => Err(ApiError::Timeout {
                endpoint: self
                    .config
                    .endpoint
                    .as_str()
                    .trim_end_matches('/')
                    .to_string(),
                seconds: self.config.timeout.as_secs_f64(),
                attempts: attempts.load(Ordering::Relaxed),
            }),
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
        let deadline = tokio::time::Instant::now() + self.config.timeout;
        let attempts = AtomicU32::new(0);
        self.within(
            deadline,
            &attempts,
            self.read_pages(action, instance, filter, deadline, &attempts),
        )
        .await
    }

    async fn read_pages(
        &self,
        action: &str,
        instance: &str,
        filter: &TaskFilter,
        deadline: tokio::time::Instant,
        attempts: &AtomicU32,
    ) -> Result<InstanceSnapshot, ApiError> {
        let mut snap = InstanceSnapshot {
            instance: instance.to_string(),
            ..Default::default()
        };
        let mut pages = Pages::default();
        let mut lossy = false;
        let mut notes = ReadNotes::default();
        let mut read_bytes = 0usize;
        let mut capped = None;
        for page_number in 1..=MAX_PAGES {
            let mut p = BTreeMap::new();
            p.insert("DBInstanceName".to_string(), instance.to_string());
            p.insert("PageNumber".to_string(), page_number.to_string());
            p.insert("PageSize".to_string(), PAGE_SIZE.to_string());
            filter.apply(&mut p);
            let body = self.call_until(action, &p, deadline, attempts).await?;
            lossy |= body.lossy;
            read_bytes += body.size;
            let page = Page::from_json(instance, &body.value).map_err(|message| {
                ApiError::BadResponse {
                    http_status: 200,
                    message,
                }
            })?;
            snap.request_id = page.request_id.clone().or(snap.request_id);
            snap.item_errors.extend(page.item_errors.iter().cloned());
            match pages.add(page, &mut snap.tasks) {
                Next::More => {}
                Next::Done => break,
                Next::Stuck => {
                    notes.incomplete = true;
                    break;
                }
            }
            if snap.tasks.len() >= MAX_TASKS_PER_POLL || read_bytes >= MAX_POLL_BYTES {
                snap.tasks.truncate(MAX_TASKS_PER_POLL);
                notes.incomplete = true;
                capped = Some(format!(
                    "stopped at migtop's limit for one poll ({MAX_TASKS_PER_POLL} tasks, {} MiB of responses) after {} tasks in {} MiB; some tasks may be missing",
                    MAX_POLL_BYTES / (1024 * 1024),
                    snap.tasks.len(),
                    read_bytes / (1024 * 1024)
                ));
                break;
            }
            if page_number == MAX_PAGES {
                notes.incomplete = true;
            }
        }
        if let Some(w) = capped {
            notes.warnings.push(w);
        } else if notes.incomplete {
            notes.warnings.push(format!(
                "the pages did not add up: stopped after {} pages with {} tasks read of the {} the server announced (TotalSize); some tasks may be missing",
                pages.pages,
                snap.tasks.len(),
                pages
                    .total
                    .map_or_else(|| "?".to_string(), |t| t.to_string())
            ));
        }
        if pages.duplicates > 0 {
            notes.warnings.push(format!(
                "the server listed {} task(s) more than once ({} entries in all); each TaskId is shown once, as last read",
                pages.duplicated_ids,
                pages.duplicates + pages.duplicated_ids
            ));
        }
        if lossy {
            notes.warnings.push(
                "the response held bytes that are not valid UTF-8; they are shown as \u{fffd}"
                    .into(),
            );
        }
        for w in &notes.warnings {
            tracing::warn!(instance, "{w}");
        }
        if notes != ReadNotes::default() {
            snap.notes = Some(Box::new(notes));
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
        self.call_once("ActivateMigrationTargetInstance", &p)
            .await
            .map(|d| d.value)
    }
}

/// Whether requests to `endpoint` must skip any proxy: plain `http` (the signed request would
/// cross the proxy in clear text) and loopback (as curl does for `NO_PROXY=localhost`).
fn bypasses_proxies(endpoint: &reqwest::Url) -> bool {
    if endpoint.scheme() != "https" {
        return true;
    }
    match endpoint.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(a)) => a.is_loopback(),
        Some(url::Host::Ipv6(a)) => a.is_loopback(),
        None => true,
    }
}

/// What reading one more page says about the pagination.
enum Next {
    More,
    Done,
    /// TotalSize is not reached, yet the server has nothing new to give.
    Stuck,
}

/// The pages read so far: tasks merged by TaskId, and whether TotalSize is in reach.
#[derive(Default)]
struct Pages {
    pages: usize,
    /// Entries read, repeats included.
    items: usize,
    /// Distinct entries read (tasks by TaskId, plus entries without one).
    distinct: usize,
    total: Option<usize>,
    /// Where each TaskId's task sits in the task list.
    index: std::collections::HashMap<i64, usize>,
    /// Entries that repeated a TaskId already read, and how many TaskIds were repeated.
    duplicates: usize,
    duplicated_ids: usize,
    repeated: std::collections::HashSet<i64>,
}

impl Pages {
    /// Adds `page`'s tasks to `tasks` (a repeated TaskId replaces the earlier entry) and says
    /// whether to read on.
    fn add(&mut self, page: Page, tasks: &mut Vec<Task>) -> Next {
        self.pages += 1;
        self.items += page.item_count;
        if let Some(t) = page.total_size {
            self.total = Some(t.max(0) as usize);
        }
        let mut new = 0;
        for t in page.tasks {
            match t
                .task_id
                .and_then(|id| self.index.get(&id).map(|i| (id, *i)))
            {
                Some((id, i)) => {
                    self.duplicates += 1;
                    if self.repeated.insert(id) {
                        self.duplicated_ids += 1;
                    }
                    tasks[i] = t;
                }
                None => {
                    if let Some(id) = t.task_id {
                        self.index.insert(id, tasks.len());
                    }
                    tasks.push(t);
                    new += 1;
                }
            }
        }
        let new = new + page.item_errors.len();
        self.distinct += new;
        match self.total {
            // A server may count its repeats in TotalSize; either count reaching it is the end.
            Some(t) if self.distinct >= t || self.items >= t => Next::Done,
            Some(_) if page.item_count == 0 || new == 0 => Next::Stuck,
            Some(_) => Next::More,
            None if page.item_count >= PAGE_SIZE && new > 0 => Next::More,
            None => Next::Done,
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

/// Masks the AccessKey id and the STS token wherever a server quotes them.
fn redact_credentials(s: &str, credentials: &Credentials) -> String {
    let s = crate::util::redact::access_key(s, &credentials.access_key_id);
    match &credentials.security_token {
        Some(t) => crate::util::redact::secret(&s, t.expose_secret()),
        None => s,
    }
}

/// A timeout says how many tries the poll made, not only that the last one timed out.
fn counted(e: ApiError, attempts: &AtomicU32) -> ApiError {
    match e {
        ApiError::Timeout {
            endpoint, seconds, ..
        } => ApiError::Timeout {
            endpoint,
            seconds,
            attempts: attempts.load(Ordering::Relaxed),
        },
        e => e,
    }
}
