//! The `/metrics` endpoint a command starts: `exporter`, and `--metrics-listen` of `watch`,
//! `wait` and `switchover`.

use std::net::SocketAddr;
use std::sync::Arc;

use crate::metrics::{self, Metrics, MetricsServer};
use crate::util::error::UsageError;

/// A fresh registry served on `addr`. An address that cannot be bound (in use, no permission)
/// is a usage error naming it, before anything else starts. Keep the server alive as long as
/// the metrics should be served (dropping it stops it).
pub async fn start(addr: SocketAddr) -> Result<(Arc<Metrics>, MetricsServer), UsageError> {
    let registry = Arc::new(Metrics::new());
    let server = metrics::serve(addr, registry.clone())
        .await
        .map_err(|e| UsageError(format!("cannot serve metrics on {addr}: {e}")))?;
    Ok((registry, server))
}
