//! The accept loop of migtop's HTTP servers (the simulator, `/metrics`): a task per
//! connection, a back-off when accepting fails, and every connection ended on stop; and
//! [`ServerHandle`], the one way such a server is stopped (shut down, or dropped).

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::{JoinHandle, JoinSet};

/// A server running the accept loop on a task of its own; dropping it stops the server (the task
/// ends on its own), [`ServerHandle::shutdown`] also waits until every connection is closed.
#[derive(Debug)]
pub struct ServerHandle {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl ServerHandle {
    /// Serves `listener` with the accept loop on a new task; `what` names the server in warnings.
    pub fn spawn<F, Fut>(
        listener: TcpListener,
        what: &'static str,
        serve: F,
    ) -> std::io::Result<ServerHandle>
    where
        F: Fn(TcpStream) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let addr = listener.local_addr()?;
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(run(listener, stopped, what, serve));
        Ok(ServerHandle {
            addr,
            stop: Some(stop),
            task: Some(task),
        })
    }

    /// The address it listens on (the real port when asked for port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops accepting, closes every connection and waits for the server task to end.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for ServerHandle {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Accepts on `listener` until `stop` fires (or its sender is dropped), handing each
/// connection to `serve` on its own task; `what` names the server in warnings.
async fn run<F, Fut>(
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

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    async fn echo_server() -> ServerHandle {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        ServerHandle::spawn(listener, "test", |mut s: TcpStream| async move {
            let mut b = [0u8; 1];
            while s.read_exact(&mut b).await.is_ok() {
                let _ = s.write_all(&b).await;
            }
        })
        .unwrap()
    }

    #[tokio::test]
    async fn shutdown_closes_open_connections_and_the_listener() {
        let server = echo_server().await;
        let addr = server.local_addr();
        let mut c = TcpStream::connect(addr).await.unwrap();
        c.write_all(b"x").await.unwrap();
        let mut b = [0u8; 1];
        c.read_exact(&mut b).await.unwrap();
        server.shutdown().await;
        // The connection's task was ended: the client reads end of file.
        let n = tokio::time::timeout(Duration::from_secs(5), c.read(&mut b))
            .await
            .unwrap()
            .unwrap_or(0);
        assert_eq!(n, 0);
        assert!(
            TcpStream::connect(addr).await.is_err(),
            "no longer listening"
        );
    }

    #[tokio::test]
    async fn dropping_the_handle_stops_the_server() {
        let server = echo_server().await;
        let addr = server.local_addr();
        drop(server);
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        while TcpStream::connect(addr).await.is_ok() {
            assert!(tokio::time::Instant::now() < deadline, "still listening");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}
