//! The replication link of the lab: a loopback TCP relay between the standby's WAL receiver
//! and the primary, which can be cut, stalled or slowed like the network between a
//! self-managed source and RDS. It needs no privileges and no iptables.
//!
//! - **cut**: live connections are closed and new ones are closed on accept, as when a
//!   firewall starts rejecting: the receiver stops at once and keeps retrying
//!   (`wal_retrieve_retry_interval`), and the primary's walsender goes away.
//! - **stall**: connections stay open but nothing moves, as a silent network drop: the
//!   receiver still says `streaming` until `wal_receiver_timeout`, LatestEndLsn freezes while
//!   the source writes on; only the source probe sees the true lag.
//! - **freeze**: the primary's walsender stops sending (as under `kill -STOP`): nothing goes
//!   from the primary to the standby, the standby's replies still get through and both
//!   connections stay open, so the receiver says `streaming` until `wal_receiver_timeout`
//!   while LatestEndLsn and LastMsgReceiptTime stand still.
//! - **rate**: primary-to-standby bytes are paced to a bandwidth, so bursts of writes show as
//!   real not-received lag (LatestEndLsn ahead of ReceivedLsn) that drains afterwards.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde::Serialize;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UnixStream};
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};
use tokio::time::Instant;

/// What the link lets through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LinkMode {
    /// Bytes flow (paced if a rate is set).
    Up,
    /// Connections stay open, nothing flows.
    Stalled,
    /// Connections stay open, nothing flows from the primary to the standby (the standby's
    /// replies still do).
    Frozen,
    /// Connections are closed and refused.
    Cut,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct LinkState {
    mode: LinkMode,
    /// Primary-to-standby bandwidth in bytes per second; `None` is unlimited.
    rate: Option<u64>,
}

/// Byte and connection counters of the link.
#[derive(Debug, Default)]
struct Counters {
    to_standby: AtomicU64,
    to_primary: AtomicU64,
    accepted: AtomicU64,
    refused: AtomicU64,
}

/// A snapshot of the link's counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct LinkStats {
    pub bytes_to_standby: u64,
    pub bytes_to_primary: u64,
    pub connections_accepted: u64,
    pub connections_refused: u64,
}

/// Where the relay connects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Upstream {
    Tcp(SocketAddr),
    /// A Unix socket path (`DIR/.s.PGSQL.PORT`). Preferred: its send buffer is fixed (about
    /// 200 KiB) where loopback TCP autotunes the walsender's up to megabytes, in which a slow
    /// link's backlog would hide from LatestEndLsn for tens of seconds.
    Unix(std::path::PathBuf),
}

/// Socket buffer size of the relay's connections (the kernel doubles it).
const SOCKET_BUFFER: u32 = 64 * 1024;

/// Caps the send buffer of an accepted connection.
fn cap_send_buffer(s: &TcpStream) -> std::io::Result<()> {
    socket2::SockRef::from(s).set_send_buffer_size(SOCKET_BUFFER as usize)
}

/// A running relay; dropping it closes every connection.
pub struct Link {
    addr: SocketAddr,
    upstream: Upstream,
    ctl: watch::Sender<LinkState>,
    counters: Arc<Counters>,
    task: JoinHandle<()>,
}

impl Link {
    /// Listens on a free loopback port and relays to `upstream`.
    pub async fn start(upstream: Upstream) -> std::io::Result<Link> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let (ctl, rx) = watch::channel(LinkState {
            mode: LinkMode::Up,
            rate: None,
        });
        let counters = Arc::new(Counters::default());
        let task = tokio::spawn(serve(listener, upstream.clone(), rx, counters.clone()));
        Ok(Link {
            addr,
            upstream,
            ctl,
            counters,
            task,
        })
    }

    /// The port the standby connects to.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Where the relay connects.
    pub fn upstream(&self) -> &Upstream {
        &self.upstream
    }

    /// Sets what the link lets through; takes effect at once on live connections.
    pub fn set_mode(&self, mode: LinkMode) {
        self.ctl.send_modify(|s| s.mode = mode);
    }

    /// The current mode.
    pub fn mode(&self) -> LinkMode {
        self.ctl.borrow().mode
    }

    /// Caps primary-to-standby bandwidth (bytes per second); `None` removes the cap.
    pub fn set_rate(&self, bytes_per_sec: Option<u64>) {
        let rate = bytes_per_sec.map(|r| r.max(1024));
        self.ctl.send_modify(|s| s.rate = rate);
    }

    /// The bandwidth cap, if any.
    pub fn rate(&self) -> Option<u64> {
        self.ctl.borrow().rate
    }

    /// Bytes and connections so far.
    pub fn stats(&self) -> LinkStats {
        LinkStats {
            bytes_to_standby: self.counters.to_standby.load(Ordering::Relaxed),
            bytes_to_primary: self.counters.to_primary.load(Ordering::Relaxed),
            connections_accepted: self.counters.accepted.load(Ordering::Relaxed),
            connections_refused: self.counters.refused.load(Ordering::Relaxed),
        }
    }
}

impl Drop for Link {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve(
    listener: TcpListener,
    upstream: Upstream,
    ctl: watch::Receiver<LinkState>,
    counters: Arc<Counters>,
) {
    // Owned here so that aborting this task drops (and aborts) every relay.
    let mut relays = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((client, _)) => {
                    if ctl.borrow().mode == LinkMode::Cut {
                        counters.refused.fetch_add(1, Ordering::Relaxed);
                        drop(client);
                        continue;
                    }
                    counters.accepted.fetch_add(1, Ordering::Relaxed);
                    relays.spawn(relay(client, upstream.clone(), ctl.clone(), counters.clone()));
                }
                // Out of descriptors and the like: don't spin.
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            },
            Some(_) = relays.join_next(), if !relays.is_empty() => {}
        }
    }
}

async fn relay(
    client: TcpStream,
    upstream: Upstream,
    ctl: watch::Receiver<LinkState>,
    counters: Arc<Counters>,
) {
    let _ = client.set_nodelay(true);
    let _ = cap_send_buffer(&client);
    match upstream {
        Upstream::Unix(path) => {
            if let Ok(server) = UnixStream::connect(path).await {
                join(client, server, ctl, &counters).await;
            }
        }
        Upstream::Tcp(addr) => {
            // Small fixed buffers on our side at least (see `Upstream::Unix`).
            let server = async {
                let sock = tokio::net::TcpSocket::new_v4()?;
                sock.set_recv_buffer_size(SOCKET_BUFFER)?;
                sock.connect(addr).await
            };
            if let Ok(server) = server.await {
                let _ = server.set_nodelay(true);
                join(client, server, ctl, &counters).await;
            }
        }
    }
}

/// Pumps both directions until either ends; then both are closed.
async fn join<S>(client: TcpStream, server: S, ctl: watch::Receiver<LinkState>, counters: &Counters)
where
    S: AsyncRead + AsyncWrite,
{
    let (client_r, client_w) = client.into_split();
    let (server_r, server_w) = tokio::io::split(server);
    tokio::select! {
        _ = pump(server_r, client_w, ctl.clone(), true, &counters.to_standby) => {}
        _ = pump(client_r, server_w, ctl, false, &counters.to_primary) => {}
    }
}

/// Waits while this direction is held (stalled, or frozen toward the standby); false once
/// the link is cut (or the lab is gone).
async fn wait_up(ctl: &mut watch::Receiver<LinkState>, to_standby: bool) -> bool {
    loop {
        let mode = ctl.borrow_and_update().mode;
        match mode {
            LinkMode::Up => return true,
            LinkMode::Frozen if !to_standby => return true,
            LinkMode::Cut => return false,
            LinkMode::Stalled | LinkMode::Frozen => {
                if ctl.changed().await.is_err() {
                    return false;
                }
            }
        }
    }
}

async fn pump(
    mut from: impl AsyncRead + Unpin,
    mut to: impl AsyncWrite + Unpin,
    mut ctl: watch::Receiver<LinkState>,
    to_standby: bool,
    counter: &AtomicU64,
) {
    let mut buf = vec![0u8; 16 * 1024];
    let mut next_send = Instant::now();
    loop {
        if !wait_up(&mut ctl, to_standby).await {
            return;
        }
        let rate = if to_standby { ctl.borrow().rate } else { None };
        // Small chunks under a cap keep the pacing smooth (about 20 sends a second).
        let chunk = rate.map_or(buf.len(), |r| {
            (r / 20).clamp(512, buf.len() as u64) as usize
        });
        let n = tokio::select! {
            r = from.read(&mut buf[..chunk]) => match r {
                Ok(0) | Err(_) => return,
                Ok(n) => n,
            },
            changed = ctl.changed() => {
                if changed.is_err() {
                    return;
                }
                continue;
            }
        };
        // Held or cut while the bytes were in hand: hold them, or drop the connection.
        if !wait_up(&mut ctl, to_standby).await {
            return;
        }
        if let Some(rate) = rate {
            let now = Instant::now();
            if next_send < now {
                next_send = now;
            }
            next_send += Duration::from_secs_f64(n as f64 / rate as f64);
            tokio::time::sleep_until(next_send).await;
        }
        if to.write_all(&buf[..n]).await.is_err() {
            return;
        }
        counter.fetch_add(n as u64, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An echo server upstream.
    async fn echo() -> SocketAddr {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((s, _)) = l.accept().await {
                tokio::spawn(async move {
                    let (mut r, mut w) = s.into_split();
                    let _ = tokio::io::copy(&mut r, &mut w).await;
                });
            }
        });
        addr
    }

    async fn roundtrip(s: &mut TcpStream, msg: &[u8]) -> std::io::Result<Vec<u8>> {
        s.write_all(msg).await?;
        let mut got = vec![0u8; msg.len()];
        s.read_exact(&mut got).await?;
        Ok(got)
    }

    #[tokio::test]
    async fn relays_cuts_and_restores() {
        let link = Link::start(Upstream::Tcp(echo().await)).await.unwrap();
        let mut s = TcpStream::connect(("127.0.0.1", link.port()))
            .await
            .unwrap();
        assert_eq!(roundtrip(&mut s, b"hello").await.unwrap(), b"hello");

        link.set_mode(LinkMode::Cut);
        // The live connection is closed...
        let mut b = [0u8; 1];
        let n = tokio::time::timeout(Duration::from_secs(2), s.read(&mut b))
            .await
            .unwrap()
            .unwrap_or(0);
        assert_eq!(n, 0);
        // ...and new ones are closed at once.
        let mut s2 = TcpStream::connect(("127.0.0.1", link.port()))
            .await
            .unwrap();
        let r = tokio::time::timeout(Duration::from_secs(2), roundtrip(&mut s2, b"x"))
            .await
            .unwrap();
        assert!(r.is_err());
        assert!(link.stats().connections_refused >= 1);

        link.set_mode(LinkMode::Up);
        let mut s3 = TcpStream::connect(("127.0.0.1", link.port()))
            .await
            .unwrap();
        assert_eq!(roundtrip(&mut s3, b"again").await.unwrap(), b"again");
    }

    #[tokio::test]
    async fn stall_holds_bytes_until_resumed() {
        let link = Link::start(Upstream::Tcp(echo().await)).await.unwrap();
        let mut s = TcpStream::connect(("127.0.0.1", link.port()))
            .await
            .unwrap();
        assert_eq!(roundtrip(&mut s, b"a").await.unwrap(), b"a");
        link.set_mode(LinkMode::Stalled);
        s.write_all(b"held").await.unwrap();
        let mut got = [0u8; 4];
        let r = tokio::time::timeout(Duration::from_millis(300), s.read_exact(&mut got)).await;
        assert!(r.is_err(), "bytes went through a stalled link");
        link.set_mode(LinkMode::Up);
        tokio::time::timeout(Duration::from_secs(2), s.read_exact(&mut got))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(&got, b"held");
    }

    #[tokio::test]
    async fn freeze_holds_only_what_goes_to_the_standby() {
        // Upstream counts what reaches it and answers each chunk with one byte.
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        let (seen_tx, mut seen) = tokio::sync::mpsc::unbounded_channel();
        tokio::spawn(async move {
            let (mut s, _) = l.accept().await.unwrap();
            let mut b = [0u8; 64];
            while let Ok(n @ 1..) = s.read(&mut b).await {
                let _ = seen_tx.send(n);
                if s.write_all(b"!").await.is_err() {
                    return;
                }
            }
        });
        let link = Link::start(Upstream::Tcp(addr)).await.unwrap();
        let mut s = TcpStream::connect(("127.0.0.1", link.port()))
            .await
            .unwrap();
        assert_eq!(roundtrip(&mut s, b"a").await.unwrap(), b"!");
        let _ = seen.recv().await;
        link.set_mode(LinkMode::Frozen);
        // The standby's bytes still reach the primary...
        s.write_all(b"reply").await.unwrap();
        let n = tokio::time::timeout(Duration::from_secs(2), seen.recv())
            .await
            .unwrap();
        assert_eq!(n, Some(5));
        // ...but nothing comes back while frozen, and the connection stays open.
        let mut got = [0u8; 1];
        let r = tokio::time::timeout(Duration::from_millis(300), s.read_exact(&mut got)).await;
        assert!(
            r.is_err(),
            "bytes reached the standby through a frozen link"
        );
        link.set_mode(LinkMode::Up);
        tokio::time::timeout(Duration::from_secs(2), s.read_exact(&mut got))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(&got, b"!");
        assert_eq!(link.stats().connections_accepted, 1);
    }

    #[tokio::test]
    async fn relays_to_a_unix_socket() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("echo.sock");
        let l = tokio::net::UnixListener::bind(&path).unwrap();
        tokio::spawn(async move {
            while let Ok((s, _)) = l.accept().await {
                tokio::spawn(async move {
                    let (mut r, mut w) = s.into_split();
                    let _ = tokio::io::copy(&mut r, &mut w).await;
                });
            }
        });
        let link = Link::start(Upstream::Unix(path)).await.unwrap();
        let mut s = TcpStream::connect(("127.0.0.1", link.port()))
            .await
            .unwrap();
        assert_eq!(roundtrip(&mut s, b"via unix").await.unwrap(), b"via unix");
        assert_eq!(link.stats().bytes_to_primary, 8);
    }

    #[tokio::test]
    async fn rate_paces_the_downstream() {
        let link = Link::start(Upstream::Tcp(echo().await)).await.unwrap();
        link.set_rate(Some(64 * 1024));
        let mut s = TcpStream::connect(("127.0.0.1", link.port()))
            .await
            .unwrap();
        let msg = vec![7u8; 32 * 1024];
        let t = std::time::Instant::now();
        assert_eq!(roundtrip(&mut s, &msg).await.unwrap(), msg);
        let secs = t.elapsed().as_secs_f64();
        // 32 KiB at 64 KiB/s: about half a second, not instant.
        assert!(secs > 0.35, "took {secs}");
        assert!(secs < 3.0, "took {secs}");
        assert_eq!(link.stats().bytes_to_standby, 32 * 1024);
    }
}
