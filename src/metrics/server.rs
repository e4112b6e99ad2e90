//! The HTTP endpoint Prometheus scrapes: `GET /metrics`, plus a pointer to it at `/`.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpStream};

use super::{CONTENT_TYPE, Metrics};
use crate::util::accept::ServerHandle;

/// A slow or idle client is dropped after this long without a complete request head.
const HEADER_TIMEOUT: Duration = Duration::from_secs(10);

/// The running `/metrics` server; dropping it stops the server.
pub type MetricsServer = ServerHandle;

/// Binds `addr` and serves `metrics` on a tokio task. Binding errors (address in use, no
/// permission) are returned, not logged.
pub async fn serve(addr: SocketAddr, metrics: Arc<Metrics>) -> std::io::Result<MetricsServer> {
    let listener = TcpListener::bind(addr).await?;
    ServerHandle::spawn(listener, "metrics", move |stream| {
        connection(stream, metrics.clone())
    })
}

async fn connection(stream: TcpStream, metrics: Arc<Metrics>) {
    let service = hyper::service::service_fn(move |req| {
        let metrics = metrics.clone();
        async move { Ok::<_, Infallible>(handle(&metrics, &req)) }
    });
    let _ = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_TIMEOUT)
        .serve_connection(TokioIo::new(stream), service)
        .await;
}

fn response(status: StatusCode, content_type: &str, body: String) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .header("content-type", content_type)
        .body(Full::new(Bytes::from(body)))
        .unwrap_or_else(|_| Response::new(Full::new(Bytes::new())))
}

/// Answers one request. HEAD gets the headers of GET (hyper drops the body).
pub(crate) fn handle(metrics: &Metrics, req: &Request<Incoming>) -> Response<Full<Bytes>> {
    route(metrics, req.method(), req.uri().path())
}

fn route(metrics: &Metrics, method: &Method, path: &str) -> Response<Full<Bytes>> {
    if method != Method::GET && method != Method::HEAD {
        let mut r = response(
            StatusCode::METHOD_NOT_ALLOWED,
            "text/plain; charset=utf-8",
            "only GET and HEAD\n".into(),
        );
        r.headers_mut().insert(
            "allow",
            hyper::header::HeaderValue::from_static("GET, HEAD"),
        );
        return r;
    }
    match path {
        "/metrics" => response(StatusCode::OK, CONTENT_TYPE, metrics.encode()),
        "/" => response(
            StatusCode::OK,
            "text/plain; charset=utf-8",
            "migtop exporter: the metrics are at /metrics\n".into(),
        ),
        _ => response(
            StatusCode::NOT_FOUND,
            "text/plain; charset=utf-8",
            "not found; the metrics are at /metrics\n".into(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    async fn body(r: Response<Full<Bytes>>) -> String {
        let b = r.into_body().collect().await.unwrap().to_bytes();
        String::from_utf8(b.to_vec()).unwrap()
    }

    #[tokio::test]
    async fn routes() {
        let m = Metrics::new();
        assert_eq!(body(route(&m, &Method::GET, "/metrics")).await, "");
        m.set_tasks(&[crate::metrics::TaskReading {
            labels: crate::metrics::TaskLabels::new("pgm-1", Some(7), None),
            stage_index: Some(4),
            lag_reported: None,
            lag_true: None,
            lag_reported_lower_bound: false,
            not_received: None,
            not_replayed: None,
            streaming: None,
            verdict: crate::verdict::readiness::VerdictKind::NotReady,
            seconds_since_source_message: None,
            precheck: None,
        }]);
        let r = route(&m, &Method::GET, "/metrics");
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(r.headers()["content-type"], CONTENT_TYPE);
        assert!(
            body(r)
                .await
                .contains("# TYPE migtop_task_stage_index gauge")
        );
        assert_eq!(route(&m, &Method::GET, "/").status(), StatusCode::OK);
        assert_eq!(
            route(&m, &Method::GET, "/nope").status(),
            StatusCode::NOT_FOUND
        );
        let r = route(&m, &Method::POST, "/metrics");
        assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(r.headers()["allow"], "GET, HEAD");
    }

    #[tokio::test]
    async fn serves_over_http_and_stops() {
        let m = Arc::new(Metrics::new());
        let server = serve("127.0.0.1:0".parse().unwrap(), m.clone())
            .await
            .unwrap();
        let addr = server.local_addr();
        let url = format!("http://{addr}/metrics");
        let r = reqwest::get(&url).await.unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.text().await.unwrap(), m.encode());
        server.shutdown().await;
        assert!(tokio::net::TcpStream::connect(addr).await.is_err());
    }

    #[tokio::test]
    async fn a_taken_port_is_an_error() {
        let m = Arc::new(Metrics::new());
        let first = serve("127.0.0.1:0".parse().unwrap(), m.clone())
            .await
            .unwrap();
        let e = serve(first.local_addr(), m).await.err().unwrap();
        assert_eq!(e.kind(), std::io::ErrorKind::AddrInUse);
    }
}
