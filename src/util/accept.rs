//! The accept loop of migtop's HTTP servers (the simulator, `/metrics`): a task per
//! connection, a back-off when accepting fails, and every connection ended on stop.

use std::future::Future;
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::JoinSet;

/// Accepts on `listener` until `stop` fires (or its sender is dropped), handing each
/// connection to `serve` on its own task; `what` names the server in warnings.
pub async fn run<F, Fut>(
    listener: TcpListener,
    mut stop: oneshot::Receiver<()>,
    what: &'static str,
    serve: F,
) where
    F: Fn(TcpStream) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let mut conns = JoinSet::new();
    loop {
        tokio::select! {
            _ = &mut stop => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _peer)) => {
                    conns.spawn(serve(stream));
                }
                Err(e) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    tracing::warn!(error = %e, "{what}: accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            },
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
        }
    }
    conns.abort_all();
    while conns.join_next().await.is_some() {}
}
