//! Prometheus metrics: what the pollers read and the verdicts the dashboard's state judged, as a
//! registry that `/metrics` encodes in the Prometheus text format.
//!
//! The figures come from the same decoding and readiness rules as the dashboard: a
//! [`TaskReading`] is built from a task, its latest sample and its verdict, and
//! [`Metrics::observe_app`] takes them all from an [`App`]. Unknown values are absent from the
//! exposition, never 0; tasks that disappear are removed.
//!
//! A command that exposes metrics (`exporter`, `watch --metrics-listen`, `wait`):
//! 1. `let metrics = Arc::new(Metrics::new());` and `serve(addr, metrics.clone())` (keep the
//!    returned [`MetricsServer`] alive; an error is the address that cannot be bound);
//! 2. for every [`PollEvent`](crate::poller::PollEvent): [`Metrics::observe_event`] (counts
//!    finished polls), then update the state;
//! 3. after every state change and every tick: [`Metrics::observe_app`] with the [`App`], or
//!    [`Metrics::set_tasks`] with a [`TaskReading`] per task when there is no `App`.

pub mod feed;
pub mod server;

use std::collections::HashSet;
use std::sync::Mutex;
use std::sync::atomic::AtomicU64;

use chrono::{DateTime, Utc};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use crate::app::App;
use crate::model::{ReplicationState, SeverityCounts, Task};
use crate::poller::PollResult;
use crate::probe::Checklist;
use crate::probe::checklist::Severity;
use crate::verdict::history::SampleData;
use crate::verdict::readiness::{self, Verdict, VerdictKind};

pub use server::{MetricsServer, serve};

/// The `Content-Type` of the exposition (Prometheus text format 0.0.4).
pub const CONTENT_TYPE: &str = prometheus_client::encoding::prometheus_text::CONTENT_TYPE;

/// Longest label value kept from the server (task names, error codes), in characters.
const MAX_LABEL_CHARS: usize = 128;

/// How far in the future LastMsgReceiptTime may lie and still count as clock skew (read as 0):
/// the verdict's own allowance ([`crate::verdict::readiness::CLOCK_SKEW_ALLOWED`]), so the
/// metric never says "just now" of a time the verdict calls broken.
const MAX_SKEW_SECS: f64 = crate::verdict::readiness::CLOCK_SKEW_ALLOWED.as_secs() as f64;

/// Upper bounds of the poll duration histogram's buckets, seconds.
const POLL_BUCKETS: [f64; 11] = [0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 30.0, 60.0];

/// A label value from outside (the server, the command line) made safe for the exposition:
/// control characters become U+FFFD (the encoder escapes `\`, `"` and newlines, but a carriage
/// return or NUL would still reach scrapers raw) and the length is bounded.
pub fn label_value(s: &str) -> String {
    s.chars()
        .take(MAX_LABEL_CHARS)
        .map(|c| if c.is_control() { '\u{FFFD}' } else { c })
        .collect()
}

/// The labels that name a task.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct TaskLabels {
    pub instance: String,
    /// TaskId, empty when the API gave none.
    pub task_id: String,
    /// TaskName, empty when the API gave none.
    pub task_name: String,
}

impl TaskLabels {
    /// The labels of a task (values made safe with [`label_value`]).
    pub fn new(instance: &str, task_id: Option<i64>, task_name: Option<&str>) -> TaskLabels {
        TaskLabels {
            instance: label_value(instance),
            task_id: task_id.map(|i| i.to_string()).unwrap_or_default(),
            task_name: task_name.map(label_value).unwrap_or_default(),
        }
    }
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct LagLabels {
    #[prometheus(flatten)]
    task: TaskLabels,
    kind: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct VerdictLabels {
    #[prometheus(flatten)]
    task: TaskLabels,
    verdict: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CheckLabels {
    #[prometheus(flatten)]
    task: TaskLabels,
    result: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct SeverityLabels {
    severity: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct InstanceLabels {
    instance: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ErrorLabels {
    instance: String,
    code: String,
}

/// The `verdict` label value of a verdict kind.
pub fn verdict_label(kind: VerdictKind) -> &'static str {
    kind.key()
}

const VERDICTS: [VerdictKind; 5] = VerdictKind::ALL;

/// Everything exported about one task; `None` is unknown and absent from the exposition.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskReading {
    pub labels: TaskLabels,
    /// Position 1..=6 of the stage (`None` for an unknown stage).
    pub stage_index: Option<u8>,
    /// max(LatestEndLsn, ReceivedLsn) − ReplayLsn as RDS reports it.
    pub lag_reported: Option<u64>,
    /// The source's own position − ReplayLsn (with `--source-dsn` only).
    pub lag_true: Option<u64>,
    /// `lag_reported` is only a lower bound
    /// ([`crate::verdict::readiness::reported_lag_is_lower_bound`]).
    pub lag_reported_lower_bound: bool,
    /// Not received: LatestEndLsn − ReceivedLsn.
    pub not_received: Option<u64>,
    /// Not replayed: ReceivedLsn − ReplayLsn.
    pub not_replayed: Option<u64>,
    /// Whether ReplicationState is `streaming`.
    pub streaming: Option<bool>,
    pub verdict: VerdictKind,
    /// Now − LastMsgReceiptTime, never below 0 (clock skew); `None` when the time lies more
    /// than a minute in the future.
    pub seconds_since_source_message: Option<f64>,
    /// Check results of the precheck log; `None` when the log holds no check.
    pub precheck: Option<SeverityCounts>,
}

impl TaskReading {
    /// The reading of `task`, with `data` its latest sample (for the true lag) and `verdict`
    /// what readiness judged; `now` is the time ages are measured against.
    pub fn new(
        task: &Task,
        data: Option<&SampleData>,
        verdict: &Verdict,
        now: DateTime<Utc>,
    ) -> TaskReading {
        let r = task.replication.as_ref();
        let counts = task.precheck.counts;
        let checks = counts.success + counts.warning + counts.fail + counts.other;
        TaskReading {
            labels: TaskLabels::new(&task.instance, task.task_id, task.task_name.as_deref()),
            stage_index: task.stage.as_ref().and_then(|s| s.index()),
            lag_reported: task.lag_bytes(),
            lag_true: data.and_then(|d| d.true_lag()),
            lag_reported_lower_bound: match data {
                Some(d) => readiness::reported_lag_is_lower_bound(d, verdict.reasons()),
                None => {
                    readiness::reported_lag_is_lower_bound(&SampleData::of(task), verdict.reasons())
                }
            },
            not_received: r.and_then(|r| r.not_received_bytes()),
            not_replayed: r.and_then(|r| r.not_replayed_bytes()),
            streaming: task
                .replication_state
                .as_ref()
                .map(|s| *s == ReplicationState::Streaming),
            verdict: verdict.kind(),
            seconds_since_source_message: r.and_then(|r| r.last_msg_receipt_time).and_then(|t| {
                let age = (now - t.with_timezone(&Utc)).num_milliseconds() as f64 / 1000.0;
                // A little in the future is clock skew; far in the future, the clocks
                // disagree too much to say how long ago it was.
                (age > -MAX_SKEW_SECS).then_some(age.max(0.0))
            }),
            precheck: (checks > 0).then_some(counts),
        }
    }
}

type U64Gauge = Gauge<u64, AtomicU64>;
type F64Gauge = Gauge<f64, AtomicU64>;

/// The registry and every metric family migtop exports. Shared between the pollers' side
/// (which updates it) and the HTTP server (which encodes it).
pub struct Metrics {
    registry: Registry,
    /// The task label sets exposed now; also serialises updates and encoding, so a scrape never
    /// sees half of an update.
    exposed: Mutex<HashSet<TaskLabels>>,
    stage_index: Family<TaskLabels, U64Gauge>,
    lag_bytes: Family<LagLabels, U64Gauge>,
    lag_lower_bound: Family<TaskLabels, U64Gauge>,
    transport_bytes: Family<TaskLabels, U64Gauge>,
    apply_bytes: Family<TaskLabels, U64Gauge>,
    streaming: Family<TaskLabels, U64Gauge>,
    verdict: Family<VerdictLabels, U64Gauge>,
    seconds_since_source_message: Family<TaskLabels, F64Gauge>,
    precheck_checks: Family<CheckLabels, U64Gauge>,
    poll_errors: Family<ErrorLabels, Counter>,
    poll_failures: Family<InstanceLabels, Counter>,
    last_success: Family<InstanceLabels, F64Gauge>,
    poll_duration: Family<InstanceLabels, Histogram, fn() -> Histogram>,
    source_checks: Family<SeverityLabels, U64Gauge>,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

fn poll_histogram() -> Histogram {
    Histogram::new(POLL_BUCKETS)
}

/// Sets `family[labels]` to `value`, or removes the series when the value is unknown.
fn put<L, N, A>(family: &Family<L, Gauge<N, A>>, labels: &L, value: Option<N>)
where
    L: Clone + std::hash::Hash + Eq,
    A: prometheus_client::metrics::gauge::Atomic<N> + Default,
{
    match value {
        Some(v) => {
            family.get_or_create(labels).set(v);
        }
        None => {
            family.remove(labels);
        }
    }
}

impl Metrics {
    /// An empty registry with every family registered.
    pub fn new() -> Metrics {
        let mut m = Metrics {
            registry: Registry::default(),
            exposed: Mutex::new(HashSet::new()),
            stage_index: Family::default(),
            lag_bytes: Family::default(),
            lag_lower_bound: Family::default(),
            transport_bytes: Family::default(),
            apply_bytes: Family::default(),
            streaming: Family::default(),
            verdict: Family::default(),
            seconds_since_source_message: Family::default(),
            precheck_checks: Family::default(),
            poll_errors: Family::default(),
            poll_failures: Family::default(),
            last_success: Family::default(),
            poll_duration: Family::new_with_constructor(poll_histogram),
            source_checks: Family::default(),
        };
        let r = &mut m.registry;
        r.register(
            "migtop_task_stage_index",
            "Migration stage as its position: 1 precheck, 2 basebackup, 3 startup, 4 increment, 5 switch, 6 success",
            m.stage_index.clone(),
        );
        r.register(
            "migtop_task_lag_bytes",
            "Bytes the standby has not replayed: kind=reported from RDS (max(LatestEndLsn, ReceivedLsn) - ReplayLsn), kind=true from the source's own position (--source-dsn)",
            m.lag_bytes.clone(),
        );
        r.register(
            "migtop_task_lag_lower_bound",
            "1 when the reported lag is only a lower bound (the standby is not streaming, or has heard nothing from the source for longer than its keepalive period): the source may be further ahead",
            m.lag_lower_bound.clone(),
        );
        r.register(
            "migtop_task_transport_bytes",
            "Bytes the source announced but the standby has not received (LatestEndLsn - ReceivedLsn)",
            m.transport_bytes.clone(),
        );
        r.register(
            "migtop_task_apply_bytes",
            "Bytes received but not yet replayed (ReceivedLsn - ReplayLsn)",
            m.apply_bytes.clone(),
        );
        r.register(
            "migtop_task_streaming",
            "1 when ReplicationState is streaming, 0 otherwise",
            m.streaming.clone(),
        );
        r.register(
            "migtop_task_verdict",
            "Switchover readiness: 1 for the current verdict, 0 for the others",
            m.verdict.clone(),
        );
        r.register(
            "migtop_task_seconds_since_source_message",
            "Seconds since the standby last received a message from the source (LastMsgReceiptTime)",
            m.seconds_since_source_message.clone(),
        );
        r.register(
            "migtop_task_precheck_checks",
            "Precheck log checks by result (success, warning, fail, other)",
            m.precheck_checks.clone(),
        );
        r.register(
            "migtop_poll_errors",
            "Failed polls of DescribeCloudMigrationResult by error code",
            m.poll_errors.clone(),
        );
        r.register(
            "migtop_poll_failures",
            "Failed polls of DescribeCloudMigrationResult, every code: 0 from the start for each instance, so increase() sees the first failure",
            m.poll_failures.clone(),
        );
        r.register(
            "migtop_last_poll_success_timestamp_seconds",
            "Unix time of the last successful poll of the instance",
            m.last_success.clone(),
        );
        r.register(
            "migtop_poll_duration_seconds",
            "Duration of a poll (the API request, and the source probe after a success)",
            m.poll_duration.clone(),
        );
        r.register(
            "migtop_source_check_items",
            "Items of the source's checklist (--source-dsn) by severity: loses_data (unlogged relations, or what could not be read for them), breaks_consumers (logical slots, subscriptions), blocks_drained (prepared transactions, sessions holding an xid); absent before the checklist is read",
            m.source_checks.clone(),
        );
        m
    }

    /// Sets the checklist's item counts (summed over the sources, one with a real probe), or
    /// removes them while no checklist has been read.
    pub fn set_checklists<'a>(&self, checklists: impl Iterator<Item = &'a Checklist>) {
        let _guard = self.lock();
        let mut counts: Option<[u64; 3]> = None;
        for c in checklists {
            let n = counts.get_or_insert([0; 3]);
            for (i, s) in Severity::ALL.iter().enumerate() {
                n[i] += c.count(*s) as u64;
            }
        }
        for (i, s) in Severity::ALL.iter().enumerate() {
            let labels = SeverityLabels { severity: s.key() };
            put(&self.source_checks, &labels, counts.map(|n| n[i]));
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashSet<TaskLabels>> {
        // A panic elsewhere while holding the lock leaves consistent-enough data behind.
        self.exposed.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Starts the series known in advance at 0 for each of `instances` (the Prometheus
    /// guideline: a counter that appears only at its first increment hides that increment
    /// from `increase()`): the per-instance failure total and poll-duration histogram. (The
    /// last success's time is not: 0 would read as 1970, a poll 56 years stale.)
    pub fn expect_instances(&self, instances: &[String]) {
        let _guard = self.lock();
        for i in instances {
            let labels = InstanceLabels {
                instance: label_value(i),
            };
            let _ = self.poll_failures.get_or_create(&labels);
            let _ = self.poll_duration.get_or_create(&labels);
        }
    }

    /// Counts one finished poll: its duration, its error code or the time of its success.
    pub fn record_poll(&self, r: &PollResult) {
        let _guard = self.lock();
        let instance = InstanceLabels {
            instance: label_value(&r.instance),
        };
        let secs = (r.at - r.started).num_milliseconds().max(0) as f64 / 1000.0;
        self.poll_duration.get_or_create(&instance).observe(secs);
        match &r.result {
            Ok(_) => {
                let ts = r.at.timestamp_millis() as f64 / 1000.0;
                self.last_success.get_or_create(&instance).set(ts);
            }
            Err(e) => {
                self.poll_failures.get_or_create(&instance).inc();
                self.poll_errors
                    .get_or_create(&ErrorLabels {
                        instance: instance.instance,
                        code: label_value(e.code()),
                    })
                    .inc();
            }
        }
    }

    /// Replaces every task series with `tasks`: values are set, unknown values removed, and
    /// the series of tasks not in `tasks` dropped.
    pub fn set_tasks(&self, tasks: &[TaskReading]) {
        let mut exposed = self.lock();
        let now: HashSet<TaskLabels> = tasks.iter().map(|t| t.labels.clone()).collect();
        for gone in exposed.difference(&now) {
            self.remove_task(gone);
        }
        for t in tasks {
            self.put_task(t);
        }
        *exposed = now;
    }

    fn put_task(&self, t: &TaskReading) {
        let l = &t.labels;
        put(&self.stage_index, l, t.stage_index.map(u64::from));
        for (kind, v) in [("reported", t.lag_reported), ("true", t.lag_true)] {
            let labels = LagLabels {
                task: l.clone(),
                kind,
            };
            put(&self.lag_bytes, &labels, v);
        }
        put(
            &self.lag_lower_bound,
            l,
            // Only beside a reported lag.
            t.lag_reported
                .map(|_| u64::from(t.lag_reported_lower_bound)),
        );
        put(&self.transport_bytes, l, t.not_received);
        put(&self.apply_bytes, l, t.not_replayed);
        put(&self.streaming, l, t.streaming.map(u64::from));
        for kind in VERDICTS {
            let labels = VerdictLabels {
                task: l.clone(),
                verdict: verdict_label(kind),
            };
            put(&self.verdict, &labels, Some(u64::from(kind == t.verdict)));
        }
        put(
            &self.seconds_since_source_message,
            l,
            t.seconds_since_source_message,
        );
        let counts = t.precheck;
        for (result, pick) in CHECK_RESULTS {
            let labels = CheckLabels {
                task: l.clone(),
                result,
            };
            put(
                &self.precheck_checks,
                &labels,
                counts.map(|c| pick(&c) as u64),
            );
        }
    }

    fn remove_task(&self, l: &TaskLabels) {
        self.stage_index.remove(l);
        for kind in ["reported", "true"] {
            self.lag_bytes.remove(&LagLabels {
                task: l.clone(),
                kind,
            });
        }
        self.lag_lower_bound.remove(l);
        self.transport_bytes.remove(l);
        self.apply_bytes.remove(l);
        self.streaming.remove(l);
        for kind in VERDICTS {
            self.verdict.remove(&VerdictLabels {
                task: l.clone(),
                verdict: verdict_label(kind),
            });
        }
        self.seconds_since_source_message.remove(l);
        for (result, _) in CHECK_RESULTS {
            self.precheck_checks.remove(&CheckLabels {
                task: l.clone(),
                result,
            });
        }
    }

    /// Every task of the dashboard state, as the dashboard judges it, measured at `app.now`.
    pub fn observe_app(&self, app: &App) {
        let readings: Vec<TaskReading> = app
            .tasks()
            .values()
            .map(|e| {
                let data = e.history.latest().map(|(_, d)| d);
                TaskReading::new(&e.task, data, &e.verdict, app.now())
            })
            .collect();
        self.set_tasks(&readings);
        self.set_checklists(app.checklists());
    }

    /// The exposition in the Prometheus text format, its series in a stable order from
    /// scrape to scrape (see [`stable_order`]).
    pub fn encode(&self) -> String {
        let _guard = self.lock();
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::prometheus_text::encode(&mut out, &self.registry);
        stable_order(&out)
    }
}

/// `text` with the series of each family sorted by their labels. The registry keeps series
/// in hash maps, whose order changes as series come and go; a diff of two scrapes, or a
/// reader looking for one instance, should not see them shuffle. The sort is stable and its
/// key leaves out `le`, so a histogram's buckets, `_sum` and `_count` stay together and in
/// order.
pub fn stable_order(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut series: Vec<&str> = Vec::new();
    let flush = |series: &mut Vec<&str>, out: &mut String| {
        series.sort_by_key(|l| series_key(l));
        for l in series.drain(..) {
            out.push_str(l);
            out.push('\n');
        }
    };
    for line in text.lines() {
        if line.starts_with('#') {
            flush(&mut series, &mut out);
            out.push_str(line);
            out.push('\n');
        } else {
            series.push(line);
        }
    }
    flush(&mut series, &mut out);
    out
}

/// The label set of a sample line without its `le` label.
fn series_key(line: &str) -> String {
    let Some(open) = line.find('{') else {
        return String::new();
    };
    let close = line.rfind('}').unwrap_or(line.len());
    line[open + 1..close.max(open + 1)]
        .split("\",")
        .filter(|kv| !kv.starts_with("le="))
        .collect::<Vec<_>>()
        .join("\",")
}

/// The `result` label values of the precheck counts.
type Pick = fn(&SeverityCounts) -> usize;
const CHECK_RESULTS: [(&str, Pick); 4] = [
    ("success", |c| c.success),
    ("warning", |c| c.warning),
    ("fail", |c| c.fail),
    ("other", |c| c.other),
];

#[cfg(test)]
mod tests;
