//! The HTTP side: accept loop, authentication, faults, operations, pagination, filters and
//! error bodies, shared by every [`TaskSource`].

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming as HyperBody;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;

use super::auth::{Incoming, Verified, Verifier};
use super::clock::Clock;
use super::error::SimError;
use super::faults::{self, FaultSpec, Faults, Outcome};
use super::render::{self, ItemKind, Shape};
use super::source::{NewTask, Password, SourceView, TaskSource, TaskView};
use crate::aliyun::Credentials;
use crate::model::Stage;
use crate::util::accept::ServerHandle;

/// Largest request body accepted.
const MAX_BODY: usize = 1 << 20;
/// Largest page size; larger requests get this many.
pub const MAX_PAGE_SIZE: i64 = 100;
/// `HostId` when the request names no host.
const DEFAULT_HOST: &str = "rds.aliyuncs.com";

/// How to run the server.
pub struct ServerConfig {
    pub listen: SocketAddr,
    /// The AccessKey requests must be signed with.
    pub credentials: Credentials,
    pub shape: Shape,
    pub faults: Vec<FaultSpec>,
    /// Seeds the fault rolls.
    pub seed: u64,
    /// Simulated time, for fault windows.
    pub clock: Arc<dyn Clock>,
}

/// Shared request-handling state.
struct ServerState {
    verifier: Verifier,
    source: Arc<dyn TaskSource>,
    shape: Shape,
    faults: Faults,
    clock: Arc<dyn Clock>,
}

/// A running server: where it listens and how to stop it.
/// Binds and starts serving on a tokio task; `sts` issues the temporary keys it accepts.
pub(crate) async fn serve(
    config: ServerConfig,
    source: Arc<dyn TaskSource>,
    sts: Arc<super::sts::Sts>,
) -> std::io::Result<ServerHandle> {
    let listener = TcpListener::bind(config.listen).await?;
    let app = Arc::new(ServerState {
        verifier: Verifier::with_sts(config.credentials, sts),
        source,
        shape: config.shape,
        faults: Faults::new(config.faults, config.seed),
        clock: config.clock,
    });
    ServerHandle::spawn(listener, "simulator", move |stream| {
        let _ = stream.set_nodelay(true);
        connection(stream, app.clone())
    })
}

/// Lets a handler reset its connection (a fault): the connection task drops the socket with
/// SO_LINGER 0, which sends RST.
#[derive(Default)]
struct Kill {
    notify: Notify,
    reset: AtomicBool,
}

/// A TCP stream that resets instead of closing when its [`Kill`] says so.
struct Stream {
    inner: TcpStream,
    kill: Arc<Kill>,
}

impl Drop for Stream {
    fn drop(&mut self) {
        if self.kill.reset.load(Ordering::SeqCst) {
            let _ = socket2::SockRef::from(&self.inner).set_linger(Some(Duration::ZERO));
        }
    }
}

impl AsyncRead for Stream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for Stream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

async fn connection(stream: TcpStream, app: Arc<ServerState>) {
    let kill = Arc::new(Kill::default());
    let io = TokioIo::new(Stream {
        inner: stream,
        kill: kill.clone(),
    });
    let k = kill.clone();
    let service = hyper::service::service_fn(move |req| {
        let app = app.clone();
        let kill = k.clone();
        async move { Ok::<_, Infallible>(handle(app, kill, req).await) }
    });
    let conn = hyper::server::conn::http1::Builder::new()
        .keep_alive(true)
        .serve_connection(io, service);
    tokio::select! {
        _ = conn => {}
        _ = kill.notify.notified() => {}
    }
}

fn json_response(status: u16, body: String, request_id: &str) -> Response<Full<Bytes>> {
    Response::builder()
        .status(StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
        .header("content-type", "application/json;charset=utf-8")
        .header("x-acs-request-id", request_id)
        .body(Full::new(Bytes::from(body)))
        .unwrap_or_else(|_| Response::new(Full::new(Bytes::new())))
}

fn error_response(e: &SimError, request_id: &str, host: &str) -> Response<Full<Bytes>> {
    json_response(e.status, e.body(request_id, host).to_string(), request_id)
}

async fn handle(
    app: Arc<ServerState>,
    kill: Arc<Kill>,
    req: Request<HyperBody>,
) -> Response<Full<Bytes>> {
    let request_id = uuid::Uuid::new_v4().to_string().to_uppercase();
    let (parts, body) = req.into_parts();
    let headers: Vec<(String, String)> = parts
        .headers
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let host = parts
        .headers
        .get("host")
        .and_then(|h| h.to_str().ok())
        .unwrap_or(DEFAULT_HOST)
        .to_string();
    let body = match Limited::new(body, MAX_BODY).collect().await {
        Ok(b) => b.to_bytes().to_vec(),
        Err(_) => {
            let e = SimError::new(
                "InvalidParameter",
                "The request body is too large or unreadable.",
                400,
            );
            return error_response(&e, &request_id, &host);
        }
    };
    if super::metadata::is_metadata_path(parts.uri.path()) {
        return super::metadata::answer(app.verifier.sts(), &parts, &request_id);
    }
    let incoming = Incoming {
        method: parts.method.as_str().to_string(),
        path: parts.uri.path().to_string(),
        query: parts.uri.query().unwrap_or("").to_string(),
        headers,
        body,
    };
    let verified = match app.verifier.verify(&incoming, chrono::Utc::now()) {
        Ok(v) => v,
        Err(e) => {
            tracing::info!(method = %incoming.method, code = %e.code, status = e.status, "rejected");
            return error_response(&e, &request_id, &host);
        }
    };
    let plan = app.faults.plan(&verified.action, app.clock.now());
    if !plan.delay.is_zero() {
        tokio::time::sleep(plan.delay).await;
    }
    let result = match &plan.outcome {
        Some(Outcome::Error(e)) => Err(e.clone()),
        Some(Outcome::Reset) => {
            tracing::info!(action = %verified.action, "fault: connection reset");
            kill.reset.store(true, Ordering::SeqCst);
            kill.notify.notify_one();
            return std::future::pending().await;
        }
        _ => app.dispatch(&verified, &request_id).await,
    };
    let instance = verified
        .params
        .get("DBInstanceName")
        .map(String::as_str)
        .unwrap_or("-");
    match result {
        Ok(v) => {
            tracing::info!(action = %verified.action, instance, status = 200, "ok");
            let text = v.to_string();
            let text = match plan.outcome {
                Some(Outcome::Malformed) => faults::MALFORMED_BODY.to_string(),
                Some(Outcome::Truncated) => faults::truncate(&text),
                _ => text,
            };
            json_response(200, text, &request_id)
        }
        Err(e) => {
            tracing::info!(action = %verified.action, instance, code = %e.code, status = e.status, "error");
            error_response(&e, &request_id, &host)
        }
    }
}

/// A required parameter, non-empty.
fn required<'a>(p: &'a BTreeMap<String, String>, name: &str) -> Result<&'a str, SimError> {
    p.get(name)
        .map(|v| v.trim())
        .filter(|v| !v.is_empty())
        .ok_or_else(|| SimError::missing_parameter(name))
}

/// An optional integer parameter.
fn int<T: std::str::FromStr>(
    p: &BTreeMap<String, String>,
    name: &str,
) -> Result<Option<T>, SimError> {
    match p.get(name).map(|v| v.trim()).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => v
            .parse()
            .map(Some)
            .map_err(|_| SimError::invalid_parameter(name, "not an integer in range")),
    }
}

impl ServerState {
    async fn dispatch(&self, v: &Verified, request_id: &str) -> Result<Value, SimError> {
        match v.action.as_str() {
            "DescribeCloudMigrationResult" => {
                self.describe(&v.params, ItemKind::Migration, request_id)
                    .await
            }
            "DescribeCloudMigrationPrecheckResult" => {
                self.describe(&v.params, ItemKind::Precheck, request_id)
                    .await
            }
            "ActivateMigrationTargetInstance" => self.activate(&v.params, request_id).await,
            "AssumeRole" => {
                self.verifier
                    .sts()
                    .assume_role(&v.params, request_id, chrono::Utc::now())
            }
            "CreateCloudMigrationTask" => self.create(&v.params, false, request_id).await,
            "CreateCloudMigrationPrecheckTask" => self.create(&v.params, true, request_id).await,
            other => Err(SimError::unknown_action(other)),
        }
    }

    async fn tasks(&self, instance: &str) -> Result<Vec<TaskView>, SimError> {
        self.source
            .tasks(instance)
            .await
            .ok_or_else(SimError::instance_not_found)
    }

    async fn describe(
        &self,
        p: &BTreeMap<String, String>,
        kind: ItemKind,
        request_id: &str,
    ) -> Result<Value, SimError> {
        let instance = required(p, "DBInstanceName")?;
        required(p, "PageNumber")?;
        required(p, "PageSize")?;
        let page_number: i64 = int(p, "PageNumber")?.unwrap_or(1);
        let page_size: i64 = int(p, "PageSize")?.unwrap_or(10);
        if page_number < 1 {
            return Err(SimError::invalid_parameter(
                "PageNumber",
                "must be 1 or more",
            ));
        }
        if page_size < 1 {
            return Err(SimError::invalid_parameter("PageSize", "must be 1 or more"));
        }
        let page_size = page_size.min(MAX_PAGE_SIZE);
        let task_id: Option<i64> = int(p, "TaskId")?;
        let source_port: Option<u16> = int(p, "SourcePort")?;
        let task_name = p.get("TaskName").filter(|v| !v.is_empty());
        let source_ip = p.get("SourceIpAddress").filter(|v| !v.is_empty());
        let tasks = self.tasks(instance).await?;
        let matching: Vec<&TaskView> = tasks
            .iter()
            .filter(|t| task_id.is_none_or(|id| t.task_id == id))
            .filter(|t| task_name.is_none_or(|n| &t.task_name == n))
            .filter(|t| source_ip.is_none_or(|ip| &t.source.ip == ip))
            .filter(|t| source_port.is_none_or(|port| t.source.port == port))
            .collect();
        let skip =
            usize::try_from((page_number - 1).saturating_mul(page_size)).unwrap_or(usize::MAX);
        let items: Vec<Value> = matching
            .iter()
            .skip(skip)
            .take(page_size as usize)
            .map(|t| render::item(t, kind, &self.shape))
            .collect();
        Ok(render::page(
            items,
            matching.len(),
            page_number,
            page_size,
            request_id,
            &self.shape,
        ))
    }

    async fn activate(
        &self,
        p: &BTreeMap<String, String>,
        request_id: &str,
    ) -> Result<Value, SimError> {
        let instance = required(p, "DBInstanceName")?;
        let mode = required(p, "SwitchTimeMode")?;
        if mode != "0" {
            return Err(SimError::invalid_parameter(
                "SwitchTimeMode",
                "only 0 (switch over now) is supported",
            ));
        }
        let force = match p.get("ForceSwitch").map(|v| v.trim()) {
            None | Some("") | Some("0") => false,
            Some("1") => true,
            Some(_) => return Err(SimError::invalid_parameter("ForceSwitch", "must be 0 or 1")),
        };
        let wanted: Option<i64> = int(p, "TaskId")?;
        let tasks = self.tasks(instance).await?;
        let task = pick_switch_task(&tasks, wanted)?;
        if task.stage != Stage::Increment {
            return Err(SimError::invalid_migrate_status());
        }
        if !force && task.lag_bytes() != Some(0) {
            return Err(SimError::invalid_migrate_status());
        }
        self.source.activate(instance, task.task_id).await?;
        Ok(json!({
            "DBInstanceName": instance,
            "RequestId": request_id,
            "TaskId": task.task_id,
            "SourceIpAddress": task.source.ip,
            "SourcePort": task.source.port,
        }))
    }

    async fn create(
        &self,
        p: &BTreeMap<String, String>,
        precheck_only: bool,
        request_id: &str,
    ) -> Result<Value, SimError> {
        let instance = required(p, "DBInstanceName")?;
        let mut fields = BTreeMap::new();
        for name in [
            "SourceIpAddress",
            "SourcePort",
            "SourceAccount",
            "SourcePassword",
            "SourceCategory",
            "TaskName",
        ] {
            fields.insert(name, required(p, name)?);
        }
        let port: u16 = int(p, "SourcePort")?.unwrap_or(5432);
        let category = fields["SourceCategory"];
        if !["ecsonvpc", "idconvpc", "internet"].contains(&category.to_ascii_lowercase().as_str()) {
            return Err(SimError::invalid_parameter(
                "SourceCategory",
                "use ecsOnVpc, idcOnVpc or internet",
            ));
        }
        self.tasks(instance).await?;
        let task_name = fields["TaskName"].to_string();
        let id = self
            .source
            .create_task(
                instance,
                NewTask {
                    task_name: task_name.clone(),
                    precheck_only,
                    source: SourceView {
                        category: category.to_string(),
                        ip: fields["SourceIpAddress"].to_string(),
                        port,
                        account: fields["SourceAccount"].to_string(),
                        password: Password::new(fields["SourcePassword"]),
                    },
                },
            )
            .await?;
        Ok(json!({
            "DBInstanceName": instance,
            "RequestId": request_id,
            "TaskId": id,
            "TaskName": task_name,
        }))
    }
}

/// The task a switchover applies to: `TaskId` if given, else the instance's most recent task
/// that is migrating (past precheck, not finished).
fn pick_switch_task(tasks: &[TaskView], wanted: Option<i64>) -> Result<&TaskView, SimError> {
    if let Some(id) = wanted {
        return tasks
            .iter()
            .find(|t| t.task_id == id)
            .ok_or_else(SimError::invalid_migrate_task);
    }
    let migrating = tasks.iter().rev().find(|t| {
        matches!(
            t.stage,
            Stage::Basebackup | Stage::Startup | Stage::Increment | Stage::Switch
        )
    });
    if let Some(t) = migrating {
        return Ok(t);
    }
    if tasks.iter().any(|t| t.stage == Stage::Precheck) {
        return Err(SimError::invalid_migrate_status());
    }
    Err(SimError::invalid_migrate_task())
}
