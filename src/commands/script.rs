//! What the scripted commands (`wait`, `switchover`) share: one instance, one task, polled
//! on an interval, judged by the dashboard's own state ([`Judge`]), recorded with
//! `--record`, and told on stderr one line per poll (for CI logs).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};

use super::{api, record};
use crate::aliyun::{RdsClient, TaskFilter};
use crate::app::headless::Judge;
use crate::cli::{ApiArgs, ScriptArgs};
use crate::metrics::{Metrics, MetricsServer};
use crate::poller::PollResult;
use crate::probe::SourceProbe;
use crate::recording::{Entry, Recorder};
use crate::util::error::{UsageError, say};
use crate::util::units;
use crate::verdict::readiness::ReadinessConfig;
use crate::verdict::words;

/// Default poll interval of `wait` and `switchover`.
pub const SCRIPT_INTERVAL: Duration = Duration::from_secs(5);

// The flags' built-in defaults, applied after the config file had its say.
impl ScriptArgs {
    /// The poll interval: the flag's or the config file's, else [`SCRIPT_INTERVAL`].
    pub fn interval(&self) -> Duration {
        self.interval.unwrap_or(SCRIPT_INTERVAL)
    }

    /// The stable window: the flag's or the config file's, else the readiness default.
    pub fn stable_for(&self) -> Duration {
        self.readiness().stable_for
    }

    /// The readiness rules' thresholds, defaults filled.
    pub fn readiness(&self) -> ReadinessConfig {
        self.thresholds.readiness()
    }
}

/// The one task a scripted command follows, polled and judged.
pub struct Session {
    pub client: RdsClient,
    pub instance: String,
    filter: TaskFilter,
    probe: Option<SourceProbe>,
    recorder: Option<Recorder>,
    pub judge: Judge,
    /// The task's key, once the first successful poll has picked it.
    pub key: Option<String>,
    /// Failed polls in a row.
    pub errors: u32,
    /// Where every poll and the judged tasks are exposed (`--metrics-listen`).
    pub metrics: Option<Arc<Metrics>>,
}

/// What one poll said about the task.
pub enum Seen {
    /// The task was read; the judge has taken it in.
    Task,
    /// The poll failed (or could not be trusted to list every task): one more error.
    Error(String),
    /// The poll failed in a way no retry can change
    /// ([`crate::aliyun::ApiError::is_final`]: a mistyped
    /// instance id): the command ends at once.
    Final(String),
    /// The filter matched no task, or several, on the first successful poll.
    NoMatch(String),
    /// The task followed so far is no longer listed.
    Gone,
}

impl Session {
    /// Builds the client, probe and recorder from the flags; exactly one instance.
    pub fn open(api_args: &ApiArgs, script: &ScriptArgs) -> Result<Session, UsageError> {
        let instance = match api_args.instances.as_slice() {
            [one] => one.clone(),
            [] => return Err(UsageError("name the instance with -i ID".into())),
            _ => {
                return Err(UsageError(
                    "this command follows one task: name exactly one instance with -i ID".into(),
                ));
            }
        };
        let client = api::client(api_args)?;
        let probe = api::source_probe(api_args)?;
        let recorder = record::open(script.record.as_deref())?;
        let mut s = Session::with(
            client,
            instance,
            probe,
            script.interval(),
            script.readiness(),
        );
        s.filter = api::filter(api_args);
        s.recorder = recorder;
        Ok(s)
    }

    /// A session on a client and probe built elsewhere (the lab tests): every task of
    /// `instance`, no recording.
    pub fn with(
        client: RdsClient,
        instance: String,
        probe: Option<SourceProbe>,
        interval: Duration,
        readiness: ReadinessConfig,
    ) -> Session {
        let judge = Judge::new(
            vec![instance.clone()],
            interval,
            readiness,
            probe.as_ref().map(|p| p.target().to_string()),
            Utc::now(),
        );
        Session {
            client,
            instance,
            filter: TaskFilter::default(),
            probe,
            recorder: None,
            judge,
            key: None,
            errors: 0,
            metrics: None,
        }
    }

    /// Serves this session's polls as Prometheus metrics when `--metrics-listen` asks; the
    /// caller keeps the server exactly as long as the command runs, then shuts it down.
    pub async fn serve_metrics(
        &mut self,
        listen: Option<SocketAddr>,
    ) -> Result<Option<MetricsServer>, UsageError> {
        let Some(listen) = listen else {
            return Ok(None);
        };
        let (registry, server) = super::metrics_endpoint::start(listen).await?;
        registry.expect_instances(std::slice::from_ref(&self.instance));
        self.metrics = Some(registry);
        Ok(Some(server))
    }

    /// Whether the source is read after every poll (`--source-dsn`).
    pub fn probed(&self) -> bool {
        self.probe.is_some()
    }

    /// Polls once (then reads the source after a success), records it and feeds the judge.
    pub async fn poll(&mut self) -> Seen {
        let started = Utc::now();
        let result = self
            .client
            .describe_tasks(&self.instance, &self.filter)
            .await;
        let at = Utc::now();
        let source = match (&result, self.probe.as_mut()) {
            (Ok(_), Some(p)) => Some(p.report().await),
            _ => None,
        };
        let poll = PollResult {
            instance: self.instance.clone(),
            started,
            at,
            result,
            source,
        };
        if let Some(Err(e)) = poll.source.as_ref().map(|s| &s.result) {
            say(format_args!("{} source probe: {e}", stamp(at)));
        }
        self.record_poll(&poll);
        let seen = match &poll.result {
            Err(e) if e.is_final() => Seen::Final(e.to_string()),
            Err(e) => Seen::Error(e.to_string()),
            Ok(snap) => {
                let listed = |k: &str| snap.tasks.iter().any(|t| t.key() == k);
                // A read that may have missed tasks cannot say one is gone.
                let partial = snap.incomplete() || !snap.item_errors.is_empty();
                match &self.key {
                    Some(k) if listed(k) => Seen::Task,
                    Some(_) if partial => Seen::Error(
                        "the task is missing from an incomplete read (pages did not add up or an item was unreadable)".into(),
                    ),
                    Some(_) => Seen::Gone,
                    None if partial => Seen::Error(
                        "an incomplete read (pages did not add up or an item was unreadable) cannot pick the task".into(),
                    ),
                    None => match snap.tasks.as_slice() {
                        [one] => {
                            self.key = Some(one.key());
                            Seen::Task
                        }
                        [] => Seen::NoMatch(format!(
                            "no migration task of {} matches the filters",
                            self.instance
                        )),
                        several => Seen::NoMatch(format!(
                            "{} tasks of {} match ({}): pick one with --task-id or --task-name",
                            several.len(),
                            self.instance,
                            several
                                .iter()
                                .map(|t| match t.task_id {
                                    Some(id) => format!("{id} {}", t.display_name()),
                                    None => t.display_name(),
                                })
                                .collect::<Vec<_>>()
                                .join(", ")
                        )),
                    },
                }
            }
        };
        self.errors = match seen {
            Seen::Error(_) => self.errors + 1,
            _ => 0,
        };
        if let Some(m) = &self.metrics {
            m.record_poll(&poll);
        }
        self.judge.feed(poll);
        self.judge.tick(Utc::now());
        if let Some(m) = &self.metrics {
            m.observe_app(self.judge.app());
        }
        seen
    }

    /// Appends an entry to the recording; a failure stops recording, with one line.
    pub fn record(&mut self, entry: &Entry) {
        if let Some(rec) = self.recorder.as_mut()
            && let Err(e) = rec.append_entry(entry)
        {
            say(format_args!("migtop: {e}; going on without recording"));
            self.recorder = None;
        }
    }

    fn record_poll(&mut self, poll: &PollResult) {
        if let Some(rec) = self.recorder.as_mut()
            && let Err(e) = rec.append(poll)
        {
            say(format_args!("migtop: {e}; going on without recording"));
            self.recorder = None;
        }
    }

    /// The CI log line of the last poll: time, stage, state, lag and the verdict in words
    /// ([`words::headline`]: every blocker, or what DRAINED loses by the source's checklist);
    /// a failed poll: the error; none when the poll ends the command (it says why itself).
    pub fn line(&self, seen: &Seen, max_errors: u32) -> Option<String> {
        let now = stamp(Utc::now());
        Some(match seen {
            Seen::Error(e) => format!(
                "{now} poll failed ({}/{max_errors} in a row): {e}",
                self.errors
            ),
            Seen::NoMatch(_) | Seen::Gone | Seen::Final(_) => return None,
            Seen::Task => {
                let e = self.key.as_deref().and_then(|k| self.judge.task(k))?;
                let text = |v: Option<String>| v.unwrap_or_else(|| "unknown".into());
                let verdict =
                    words::headline(&e.verdict, self.judge.app().checklist_for(&e.task.instance));
                format!(
                    "{now} task {} stage {} state {} lag {} {verdict}",
                    e.task.display_name(),
                    text(e.task.stage.as_ref().map(|s| s.to_string())),
                    text(e.task.replication_state.as_ref().map(|s| s.to_string())),
                    text(
                        e.judged_lag()
                            .map(|l| units::lag(l, e.lag_is_lower_bound()))
                    ),
                )
            }
        })
    }
}

/// A time for the log lines: UTC, to the second.
pub fn stamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}
