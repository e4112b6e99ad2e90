//! Data collection: one task per instance polls on an interval and reports over a channel.
//!
//! The UI never waits on a request: it only reads [`PollEvent`]s, and a hanging request only
//! holds up its own instance's next poll.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::aliyun::{ApiError, InstanceSnapshot, RdsClient, TaskFilter};
use crate::probe::admin::Db;
use crate::probe::{Probe, ProbeError, ProbeReport, SourceDsn, wal_receiver, walsenders};

/// The source probe, shared by every instance's poller (one session to the source).
pub type SharedProbe = Arc<tokio::sync::Mutex<Box<dyn Probe>>>;

/// Where snapshots come from: the RDS API in production, anything in tests.
pub trait SnapshotSource: Send + Sync + 'static {
    /// Every task of `instance`, or why they could not be read.
    fn fetch(&self, instance: &str) -> BoxFuture<'static, Result<InstanceSnapshot, ApiError>>;
}

/// The RDS OpenAPI as a [`SnapshotSource`].
#[derive(Clone)]
pub struct ApiSource {
    pub client: RdsClient,
    pub filter: TaskFilter,
}

impl SnapshotSource for ApiSource {
    fn fetch(&self, instance: &str) -> BoxFuture<'static, Result<InstanceSnapshot, ApiError>> {
        let client = self.client.clone();
        let filter = self.filter.clone();
        let instance = instance.to_string();
        Box::pin(async move { client.describe_tasks(&instance, &filter).await })
    }
}

/// Physical standbys read from PostgreSQL itself, without a cloud API: each `--primary` is an
/// instance whose walsenders are its tasks ([`crate::probe::walsenders`]); each `--standby`
/// an instance whose one task is its own WAL receiver ([`crate::probe::wal_receiver`]).
pub struct NativeSource {
    /// Each server by its instance name, with its session (opened on first use, and again
    /// after it died).
    servers: std::collections::BTreeMap<String, Arc<Server>>,
}

/// Which side of the stream a server is read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Primary,
    Standby,
}

struct Server {
    side: Side,
    dsn: SourceDsn,
    timeout: Duration,
    db: tokio::sync::Mutex<Option<Db>>,
}

impl NativeSource {
    /// A source of `(instance name, side, DSN)`; each reading must finish within `timeout`.
    pub fn new(servers: Vec<(String, Side, SourceDsn)>, timeout: Duration) -> NativeSource {
        let servers = servers
            .into_iter()
            .map(|(name, side, dsn)| {
                let s = Server {
                    side,
                    dsn,
                    timeout,
                    db: tokio::sync::Mutex::new(None),
                };
                (name, Arc::new(s))
            })
            .collect();
        NativeSource { servers }
    }
}

impl Server {
    async fn read(&self, instance: &str) -> Result<InstanceSnapshot, ProbeError> {
        let mut db = self.db.lock().await;
        if db.as_ref().is_none_or(Db::is_closed) {
            *db = Some(Db::connect(&self.dsn, self.timeout).await?);
        }
        let session = db.as_ref().expect("opened above");
        let tasks = match self.side {
            Side::Primary => walsenders::read(session)
                .await
                .map(|r| walsenders::to_tasks(instance, &r)),
            Side::Standby => wal_receiver::read(session)
                .await
                .map(|r| vec![wal_receiver::to_task(instance, &r)]),
        };
        let tasks = match tasks {
            Ok(t) => t,
            Err(e) => {
                // The next poll opens a new session rather than trusting this one.
                *db = None;
                return Err(e);
            }
        };
        Ok(InstanceSnapshot {
            instance: instance.to_string(),
            request_id: None,
            tasks,
            item_errors: Vec::new(),
            notes: None,
        })
    }
}

impl SnapshotSource for NativeSource {
    fn fetch(&self, instance: &str) -> BoxFuture<'static, Result<InstanceSnapshot, ApiError>> {
        let server = self.servers.get(instance).cloned();
        let instance = instance.to_string();
        Box::pin(async move {
            let Some(server) = server else {
                return Err(ApiError::Network {
                    endpoint: instance.clone(),
                    message: "no server of that name".into(),
                });
            };
            server.read(&instance).await.map_err(|e| match e {
                ProbeError::Timeout { target, secs } => ApiError::Timeout {
                    endpoint: target,
                    seconds: secs as f64,
                    attempts: 1,
                },
                other => ApiError::Network {
                    endpoint: server.dsn.redacted().to_string(),
                    message: other.to_string(),
                },
            })
        })
    }
}

/// The outcome of one poll of one instance.
#[derive(Debug, Clone)]
pub struct PollResult {
    pub instance: String,
    /// When the request was sent.
    pub started: DateTime<Utc>,
    /// When the answer (or the error) came.
    pub at: DateTime<Utc>,
    pub result: Result<InstanceSnapshot, ApiError>,
    /// The source probe's reading taken right after a successful answer (`None` without a
    /// probe or after a failed poll). Read after the API, so the true lag it gives can only
    /// be overstated by what the source wrote in between, never understated.
    pub source: Option<ProbeReport>,
}

/// What the pollers tell the UI.
// A few events a second go through a channel: boxing the large one would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum PollEvent {
    /// A request for `instance` went out.
    Started { instance: String, at: DateTime<Utc> },
    /// A request finished.
    Finished(PollResult),
    /// When `instance` will be polled next; `None` while paused.
    Scheduled {
        instance: String,
        next: Option<DateTime<Utc>>,
    },
}

/// Instructions from the UI to every poller.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Control {
    /// Poll now (even while paused), unless a request is already out.
    PollNow,
    /// Stop or resume the schedule.
    Pause(bool),
    /// Poll on a new interval from now on.
    Interval(Duration),
}

/// The running pollers; dropping this stops them.
pub struct Poller {
    controls: Vec<mpsc::UnboundedSender<Control>>,
    tasks: Vec<JoinHandle<()>>,
}

/// The longest wait between attempts after repeated failures.
const MAX_BACKOFF: Duration = Duration::from_secs(60);

/// Delay before the next poll after `failures` failures in a row.
pub fn backoff(interval: Duration, failures: u32) -> Duration {
    if failures <= 1 {
        return interval;
    }
    let cap = MAX_BACKOFF.max(interval);
    interval
        .saturating_mul(1u32 << (failures - 1).min(10))
        .min(cap)
}

impl Poller {
    /// Starts one polling task per instance; events go to `tx`. With `probe`, the source is
    /// read after each successful poll, in the polling task (never in the UI's).
    pub fn spawn(
        source: Arc<dyn SnapshotSource>,
        instances: &[String],
        interval: Duration,
        probe: Option<SharedProbe>,
        tx: mpsc::Sender<PollEvent>,
    ) -> Poller {
        let mut controls = Vec::new();
        let mut tasks = Vec::new();
        for instance in instances {
            let (ctl_tx, ctl_rx) = mpsc::unbounded_channel();
            controls.push(ctl_tx);
            tasks.push(tokio::spawn(run_one(
                source.clone(),
                probe.clone(),
                instance.clone(),
                interval,
                ctl_rx,
                tx.clone(),
            )));
        }
        Poller { controls, tasks }
    }

    /// Sends `c` to every instance's poller.
    pub fn send(&self, c: Control) {
        for ctl in &self.controls {
            let _ = ctl.send(c);
        }
    }
}

impl Drop for Poller {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

/// A request in flight, followed by the source probe when it succeeds.
type Fetch = BoxFuture<'static, (Result<InstanceSnapshot, ApiError>, Option<ProbeReport>)>;

/// The poll of `instance`, then (after a success) one reading of the source.
fn fetch(source: &Arc<dyn SnapshotSource>, probe: Option<SharedProbe>, instance: &str) -> Fetch {
    let request = source.fetch(instance);
    let instance = instance.to_string();
    Box::pin(async move {
        let result = request.await;
        let report = match (&result, probe) {
            (Ok(_), Some(p)) => Some(p.lock().await.report(&instance).await),
            _ => None,
        };
        (result, report)
    })
}

fn wall(at: Instant) -> DateTime<Utc> {
    let now = Instant::now();
    let utc = Utc::now();
    if at >= now {
        utc + chrono::Duration::from_std(at - now).unwrap_or_default()
    } else {
        utc - chrono::Duration::from_std(now - at).unwrap_or_default()
    }
}

async fn run_one(
    source: Arc<dyn SnapshotSource>,
    probe: Option<SharedProbe>,
    instance: String,
    mut interval: Duration,
    mut ctl: mpsc::UnboundedReceiver<Control>,
    tx: mpsc::Sender<PollEvent>,
) {
    let mut paused = false;
    let mut forced = false;
    let mut failures = 0u32;
    let mut next = Instant::now();
    let mut last_start: Option<Instant> = None;
    let mut inflight: Option<(Fetch, DateTime<Utc>)> = None;
    loop {
        let due = (!paused || forced) && inflight.is_none();
        let mut reschedule = false;
        tokio::select! {
            c = ctl.recv() => match c {
                None => return,
                Some(Control::PollNow) => {
                    if inflight.is_none() {
                        forced = true;
                        next = Instant::now();
                    }
                }
                Some(Control::Pause(p)) => {
                    paused = p;
                    reschedule = true;
                }
                Some(Control::Interval(d)) => {
                    interval = d;
                    if let Some(s) = last_start {
                        next = s + backoff(interval, failures);
                    }
                    reschedule = true;
                }
            },
            _ = tokio::time::sleep_until(next), if due => {
                forced = false;
                let started = Utc::now();
                last_start = Some(Instant::now());
                inflight = Some((fetch(&source, probe.clone(), &instance), started));
                let ev = PollEvent::Started { instance: instance.clone(), at: started };
                if tx.send(ev).await.is_err() {
                    return;
                }
            }
            (result, report) = async { (&mut inflight.as_mut().expect("guarded").0).await }, if inflight.is_some() => {
                let (_, started) = inflight.take().expect("guarded");
                match &result {
                    Ok(_) => failures = 0,
                    Err(e) => {
                        failures += 1;
                        // The server's words, made printable: a log is read in a terminal too.
                        let said = crate::util::text::printable(&e.to_string()).into_owned();
                        let code = crate::util::text::printable(e.code()).into_owned();
                        tracing::warn!(instance = %instance, %code, "poll failed: {said}");
                    }
                }
                let start = last_start.unwrap_or_else(Instant::now);
                next = (start + backoff(interval, failures)).max(Instant::now());
                let ev = PollEvent::Finished(PollResult {
                    instance: instance.clone(),
                    started,
                    at: Utc::now(),
                    result,
                    source: report,
                });
                if tx.send(ev).await.is_err() {
                    return;
                }
                reschedule = true;
            }
        }
        if reschedule {
            let ev = PollEvent::Scheduled {
                instance: instance.clone(),
                next: (!paused && inflight.is_none()).then(|| wall(next)),
            };
            if tx.send(ev).await.is_err() {
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    struct Counting {
        calls: AtomicUsize,
        /// An instance whose requests never complete.
        hang: Option<&'static str>,
    }

    impl SnapshotSource for Counting {
        fn fetch(&self, instance: &str) -> BoxFuture<'static, Result<InstanceSnapshot, ApiError>> {
            self.calls.fetch_add(1, Ordering::SeqCst);
            let hang = self.hang == Some(instance);
            let instance = instance.to_string();
            Box::pin(async move {
                if hang {
                    futures::future::pending::<()>().await;
                }
                Ok(InstanceSnapshot {
                    instance,
                    ..Default::default()
                })
            })
        }
    }

    async fn next_finished(rx: &mut mpsc::Receiver<PollEvent>) -> PollResult {
        loop {
            if let PollEvent::Finished(r) = rx.recv().await.unwrap() {
                return r;
            }
        }
    }

    #[tokio::test(start_paused = true)]
    async fn polls_on_the_interval_and_on_demand() {
        let src = Arc::new(Counting {
            calls: AtomicUsize::new(0),
            hang: None,
        });
        let (tx, mut rx) = mpsc::channel(64);
        let p = Poller::spawn(src.clone(), &["a".into()], Duration::from_secs(5), None, tx);
        next_finished(&mut rx).await;
        assert_eq!(src.calls.load(Ordering::SeqCst), 1);
        next_finished(&mut rx).await;
        assert_eq!(src.calls.load(Ordering::SeqCst), 2);
        p.send(Control::Pause(true));
        tokio::time::sleep(Duration::from_secs(60)).await;
        assert_eq!(src.calls.load(Ordering::SeqCst), 2);
        p.send(Control::PollNow);
        let r = next_finished(&mut rx).await;
        assert_eq!(r.instance, "a");
        assert_eq!(src.calls.load(Ordering::SeqCst), 3);
    }

    #[tokio::test(start_paused = true)]
    async fn a_hanging_instance_does_not_hold_up_another() {
        let hanging = Arc::new(Counting {
            calls: AtomicUsize::new(0),
            hang: Some("a"),
        });
        let (tx, mut rx) = mpsc::channel(64);
        let _p = Poller::spawn(
            hanging,
            &["a".into(), "b".into()],
            Duration::from_secs(5),
            None,
            tx,
        );
        // "a" hangs forever; "b" keeps reporting on time.
        let r = next_finished(&mut rx).await;
        assert_eq!(r.instance, "b");
        let r = next_finished(&mut rx).await;
        assert_eq!(r.instance, "b");
    }

    #[test]
    fn backoff_grows_and_caps() {
        let i = Duration::from_secs(5);
        assert_eq!(backoff(i, 0), i);
        assert_eq!(backoff(i, 1), i);
        assert_eq!(backoff(i, 2), Duration::from_secs(10));
        assert_eq!(backoff(i, 9), Duration::from_secs(60));
        assert_eq!(
            backoff(Duration::from_secs(300), 5),
            Duration::from_secs(300)
        );
    }
}
