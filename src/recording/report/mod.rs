//! `migtop report`: a recording turned into one self-contained HTML page for the change ticket.
//!
//! [`build`] replays the recording through the dashboard's own state (so the verdicts are the
//! `readiness` rules exactly as the dashboard applied them) and collects, per task, the lag
//! series, the stage timeline, the events and a summary; [`html::render`] writes the page with
//! inline CSS and inline SVG charts ([`svg`]), nothing fetched from elsewhere.

pub mod html;
pub mod svg;

use std::collections::HashMap;
use std::time::Duration;

use chrono::{DateTime, FixedOffset, Utc};

use crate::aliyun::{ApiError, InstanceSnapshot};
use crate::app::{App, AppConfig};
use crate::model::{Lsn, ReplicationState, Stage};
use crate::probe::Checklist;
use crate::recording::player;
use crate::recording::{Entry, Outcome, PollRecord, Recording, SwitchoverRecord};
use crate::verdict::readiness::{ReadinessConfig, Verdict, VerdictKind};

/// How to judge and show a recording.
#[derive(Debug, Clone)]
pub struct ReportConfig {
    pub readiness: ReadinessConfig,
    /// The zone times are shown in.
    pub local_offset: FixedOffset,
    /// The poll interval (staleness is judged against it); guessed from the polls if `None`.
    pub interval: Option<Duration>,
    /// What the recording is called in the page (its file name).
    pub title: String,
}

/// What kind of thing happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    /// The task appears in the recording.
    FirstSeen,
    Stage,
    /// The replication state changed (other than a disconnect or a reconnect).
    State,
    Disconnect,
    Reconnect,
    /// ReceiveStartLsn moved: the WAL receiver started streaming again.
    ReceiverRestart,
    Verdict,
    /// Polls of the task's instance failed (consecutive failures with one code are one event).
    Error,
    /// The source probe failed (consecutive failures are one event).
    ProbeError,
    /// Polls succeeded again after failures.
    Recovered,
    Switchover,
    /// The task was no longer listed.
    Gone,
    /// The source checklist was read and said something new (its counts or its loss).
    Checklist,
}

impl EventKind {
    /// The word in the events table (and its CSS class).
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::FirstSeen => "first seen",
            EventKind::Stage => "stage",
            EventKind::State => "state",
            EventKind::Disconnect => "disconnect",
            EventKind::Reconnect => "reconnect",
            EventKind::ReceiverRestart => "receiver restart",
            EventKind::Verdict => "verdict",
            EventKind::Error => "error",
            EventKind::ProbeError => "probe error",
            EventKind::Recovered => "recovered",
            EventKind::Switchover => "switchover",
            EventKind::Gone => "gone",
            EventKind::Checklist => "checklist",
        }
    }
}

/// One row of a task's events table.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub at: DateTime<Utc>,
    pub kind: EventKind,
    /// Server text included as is; the page escapes it.
    pub text: String,
}

/// One poll of one task: the chart's point and the verdict after it.
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    pub at: DateTime<Utc>,
    /// The lag the API reported; `None` when unknown or the poll failed.
    pub reported: Option<u64>,
    /// Source position − ReplayLsn, when the source probe read the source.
    pub true_lag: Option<u64>,
    pub stage: Option<Stage>,
    pub verdict: VerdictKind,
    /// The poll failed (a gap in the chart).
    pub failed: bool,
    /// The reported lag is only a lower bound: the standby was not streaming or its link was
    /// silent ([`crate::verdict::readiness::reported_lag_is_lower_bound`]), so the source may have
    /// written more than it announced.
    pub lower_bound: bool,
}

/// A stretch of time in one stage (or one verdict).
#[derive(Debug, Clone, PartialEq)]
pub struct Span<T> {
    pub value: T,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    /// The stretch began before the recording did (its start is when it was first seen).
    pub open_start: bool,
    /// The stretch was still going when the recording (or the task) ended.
    pub open_end: bool,
}

impl<T> Span<T> {
    /// How long the stretch lasted, as far as the recording saw.
    pub fn duration(&self) -> Duration {
        (self.to - self.from).to_std().unwrap_or_default()
    }
}

/// When the switchover happened and how that is known.
#[derive(Debug, Clone, PartialEq)]
pub struct Switchover {
    pub at: DateTime<Utc>,
    /// `true`: migtop sent it and the API accepted it; `false`: only seen as the stage moving
    /// to switch/success (between the previous poll and `at`).
    pub sent_by_migtop: bool,
    /// The verdict just before it.
    pub verdict_before: Option<VerdictKind>,
    /// How long the verdict had been DRAINED when it happened.
    pub drained_for: Option<Duration>,
}

/// The figures a change ticket asks for.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Summary {
    /// Time in each stage, in the order first seen; `bool`: a lower bound (the stage began
    /// before the recording or had not ended when it stopped).
    pub time_in_stage: Vec<(Stage, Duration, bool)>,
    pub max_reported: Option<(u64, DateTime<Utc>)>,
    /// The max reported lag was read while not streaming: the real lag was at least that.
    pub max_reported_lower_bound: bool,
    pub max_true: Option<(u64, DateTime<Utc>)>,
    /// First time the verdict was IN SYNC (or DRAINED).
    pub first_in_sync: Option<DateTime<Utc>>,
    pub first_drained: Option<DateTime<Utc>>,
    pub switchover: Option<Switchover>,
    pub polls: usize,
    pub failed_polls: usize,
}

/// Everything the page shows about one task.
#[derive(Debug, Clone)]
pub struct TaskReport {
    pub key: String,
    pub instance: String,
    pub task_id: Option<i64>,
    pub name: String,
    pub points: Vec<Point>,
    pub stages: Vec<Span<Option<Stage>>>,
    pub verdicts: Vec<Span<VerdictKind>>,
    pub events: Vec<Event>,
    pub summary: Summary,
    /// The last verdict in full (with its reasons).
    pub last_verdict: Verdict,
    /// The newest source checklist of its source, when the recording has one.
    pub checklist: Option<Checklist>,
}

/// One step of a cutover migtop carried out (fence, token, checks, activation), from the
/// recording's `cutover` lines.
#[derive(Debug, Clone, PartialEq)]
pub struct Evidence {
    pub at: DateTime<Utc>,
    pub instance: String,
    pub task_id: Option<i64>,
    /// The step's short name (`fence on`, `token`, ...).
    pub step: &'static str,
    /// For checks: whether it passed.
    pub passed: Option<bool>,
    pub text: String,
}

/// The whole report.
#[derive(Debug, Clone)]
pub struct Report {
    pub title: String,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub local_offset: FixedOffset,
    pub instances: Vec<String>,
    pub polls: usize,
    pub failed_polls: usize,
    pub interval: Duration,
    pub interval_guessed: bool,
    pub readiness: ReadinessConfig,
    /// The source probe's target (redacted), when the recording has readings.
    pub probe: Option<String>,
    pub tasks: Vec<TaskReport>,
    /// Failures of instances that never listed a task, as (instance, event).
    pub instance_events: Vec<(String, Event)>,
    /// Lines of the recording that were skipped, and the like.
    pub warnings: Vec<String>,
    /// The cutover's steps, in time order ("Cutover evidence").
    pub evidence: Vec<Evidence>,
}

/// A task while the recording is read.
struct Building {
    report: TaskReport,
    last_stage: Option<Option<Stage>>,
    last_state: Option<Option<ReplicationState>>,
    last_receive_start: Option<Lsn>,
    last_verdict: Option<VerdictKind>,
    gone: bool,
}

/// A run of consecutive failures of one kind, reported as one event when it ends.
struct FailureRun {
    kind: EventKind,
    code: String,
    text: String,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    count: usize,
}

impl FailureRun {
    fn event(&self, offset: &FixedOffset) -> Event {
        let text = if self.count == 1 {
            self.text.clone()
        } else {
            format!(
                "{} failures in a row until {}: {}",
                self.count,
                self.to.with_timezone(offset).format("%H:%M:%S"),
                self.text
            )
        };
        Event {
            at: self.from,
            kind: self.kind,
            text,
        }
    }
}

/// A checklist in one event line: its counts, and what a switchover loses.
fn checklist_event_text(c: &Checklist) -> String {
    let mut text = format!("source checklist: {}", c.counts_text());
    if let Some(loss) = c.loss_summary() {
        text.push_str(&format!("; {loss}"));
    }
    text
}

/// Reads the recording through the dashboard's state and collects the report.
pub fn build(rec: &Recording, cfg: &ReportConfig) -> Report {
    let guessed = player::guess_interval(rec);
    let interval = cfg.interval.or(guessed).unwrap_or(Duration::from_secs(5));
    let mut base = AppConfig::new(vec![]);
    base.interval = interval;
    base.readiness = cfg.readiness;
    base.local_offset = cfg.local_offset;
    let app_config = player::app_config(rec, base);
    let from = rec.entries.first().map(Entry::at).unwrap_or_else(Utc::now);
    let to = rec.entries.last().map(Entry::at).unwrap_or(from);
    let mut b = Builder {
        app: App::new(app_config, from),
        offset: cfg.local_offset,
        tick: chrono::Duration::from_std(interval).unwrap_or(chrono::Duration::seconds(5)),
        last_at: from,
        order: Vec::new(),
        tasks: HashMap::new(),
        api_runs: HashMap::new(),
        probe_runs: HashMap::new(),
        instance_events: Vec::new(),
        last_checklist: HashMap::new(),
        evidence: Vec::new(),
        polls: 0,
        failed_polls: 0,
    };
    for entry in &rec.entries {
        b.run_clock_to(entry.at());
        match entry {
            Entry::Poll(p) => b.on_poll(entry, p),
            Entry::Switchover(s) => b.on_switchover(s),
            Entry::Cutover(c) => b.evidence.push(Evidence {
                at: c.at,
                instance: c.instance.clone(),
                task_id: c.task_id,
                step: c.event.step(),
                passed: c.event.passed(),
                text: c.event.text(),
            }),
        }
    }
    b.end_runs();
    let reports = b
        .order
        .iter()
        .map(|k| {
            let mut t = b.tasks.remove(k).expect("known");
            if let Some(e) = b.app.tasks().get(k) {
                t.report.last_verdict = e.verdict.clone();
            }
            t.report.checklist = b.app.checklist_for(&t.report.instance).cloned();
            finish(t.report, to)
        })
        .collect();
    Report {
        title: cfg.title.clone(),
        from,
        to,
        local_offset: cfg.local_offset,
        instances: rec.instances(),
        polls: b.polls,
        failed_polls: b.failed_polls,
        interval,
        interval_guessed: cfg.interval.is_none() && guessed.is_some(),
        readiness: cfg.readiness,
        probe: rec.probe_target(),
        tasks: reports,
        instance_events: b.instance_events,
        warnings: rec.warnings.clone(),
        evidence: b.evidence,
    }
}

/// The report while the recording is read through the dashboard's state.
struct Builder {
    app: App,
    offset: FixedOffset,
    /// The poll interval, the step of the clock between polls.
    tick: chrono::Duration,
    /// The latest time fed to the app.
    last_at: DateTime<Utc>,
    /// Task keys in the order they were first seen.
    order: Vec<String>,
    tasks: HashMap<String, Building>,
    /// Runs of failed polls and of failed probe readings, by instance.
    api_runs: HashMap<String, FailureRun>,
    probe_runs: HashMap<String, FailureRun>,
    instance_events: Vec<(String, Event)>,
    /// What the last checklist event of each instance said: a new one only when it changes.
    last_checklist: HashMap<String, String>,
    evidence: Vec<Evidence>,
    polls: usize,
    failed_polls: usize,
}

impl Builder {
    /// Between polls, the clock runs on: staleness can change a verdict without a poll.
    fn run_clock_to(&mut self, at: DateTime<Utc>) {
        let gap = at - self.last_at;
        if gap > self.tick {
            let steps = (gap.num_milliseconds() / self.tick.num_milliseconds().max(1)).min(120);
            let step = gap / (steps as i32 + 1);
            for k in 1..=steps {
                let t = self.last_at + step * (k as i32);
                self.app.update(crate::app::Action::Tick(t));
                note_verdicts(&self.app, &mut self.tasks, t);
            }
        }
        self.last_at = self.last_at.max(at);
    }

    /// The keys of the tasks of `instance` seen so far.
    fn keys_of(&self, instance: &str) -> Vec<String> {
        self.order
            .iter()
            .filter(|k| self.tasks[*k].report.instance == instance)
            .cloned()
            .collect()
    }

    fn on_poll(&mut self, entry: &Entry, p: &PollRecord) {
        self.polls += 1;
        player::feed(&mut self.app, entry, None);
        let keys = self.keys_of(&p.instance);
        self.on_probe_reading(p, &keys);
        match &p.outcome {
            Outcome::Snapshot(snap) => {
                self.on_snapshot(p, snap, &keys);
                // After the snapshot, so the tasks it listed first get the event too.
                self.on_checklist(p);
            }
            Outcome::Error(e) => self.on_failed_poll(p, e, &keys),
        }
        note_verdicts(&self.app, &mut self.tasks, p.at);
    }

    /// A checklist event when the source's checklist says something new.
    fn on_checklist(&mut self, p: &PollRecord) {
        let Some(c) = p.source.as_ref().and_then(|s| s.checklist.as_deref()) else {
            return;
        };
        let said = checklist_event_text(c);
        if self.last_checklist.get(&p.instance) == Some(&said) {
            return;
        }
        self.last_checklist.insert(p.instance.clone(), said.clone());
        let ev = Event {
            at: p.at,
            kind: EventKind::Checklist,
            text: said,
        };
        let keys = self.keys_of(&p.instance);
        if keys.is_empty() {
            self.instance_events.push((p.instance.clone(), ev));
        } else {
            push_to(&mut self.tasks, &keys, ev);
        }
    }

    /// Probe failures, collapsed per run; a failed poll has no reading and neither ends nor
    /// extends a run.
    fn on_probe_reading(&mut self, p: &PollRecord, keys: &[String]) {
        let Some(source) = &p.source else { return };
        match &source.error {
            Some(e) => extend_run(
                &mut self.probe_runs,
                &p.instance,
                EventKind::ProbeError,
                format!("{:?}", std::mem::discriminant(e)),
                e.to_string(),
                p.at,
            ),
            None => {
                if let Some(run) = self.probe_runs.remove(&p.instance) {
                    push_to(&mut self.tasks, keys, run.event(&self.offset));
                }
            }
        }
    }

    fn on_snapshot(&mut self, p: &PollRecord, snap: &InstanceSnapshot, keys: &[String]) {
        if let Some(run) = self.api_runs.remove(&p.instance) {
            let ev = run.event(&self.offset);
            if keys.is_empty() {
                self.instance_events.push((p.instance.clone(), ev));
            } else {
                push_to(&mut self.tasks, keys, ev);
            }
            push_to(
                &mut self.tasks,
                keys,
                Event {
                    at: p.at,
                    kind: EventKind::Recovered,
                    text: format!(
                        "polls of {} succeed again after {} failure{}",
                        p.instance,
                        run.count,
                        if run.count == 1 { "" } else { "s" }
                    ),
                },
            );
        }
        let mut seen = Vec::new();
        for task in &snap.tasks {
            let key = task.key();
            seen.push(key.clone());
            let order = &mut self.order;
            let b = self.tasks.entry(key.clone()).or_insert_with(|| {
                order.push(key.clone());
                Building::new(key.clone(), task)
            });
            observe(b, &self.app, task, p.at);
        }
        for k in keys {
            let b = self.tasks.get_mut(k).expect("known");
            if !seen.contains(k) && !b.gone {
                b.gone = true;
                b.report.events.push(Event {
                    at: p.at,
                    kind: EventKind::Gone,
                    text: format!("no longer listed by {}", p.instance),
                });
            }
        }
    }

    fn on_failed_poll(&mut self, p: &PollRecord, e: &ApiError, keys: &[String]) {
        self.failed_polls += 1;
        extend_run(
            &mut self.api_runs,
            &p.instance,
            EventKind::Error,
            e.code().to_string(),
            e.to_string(),
            p.at,
        );
        for k in keys {
            let b = self.tasks.get_mut(k).expect("known");
            if !b.gone {
                let verdict = self.app.tasks().get(k).map(|e| e.verdict.kind());
                b.report.points.push(Point {
                    at: p.at,
                    reported: None,
                    true_lag: None,
                    stage: b.last_stage.clone().flatten(),
                    verdict: verdict.unwrap_or(VerdictKind::NotReady),
                    failed: true,
                    lower_bound: false,
                });
            }
        }
    }

    fn on_switchover(&mut self, s: &SwitchoverRecord) {
        let keys: Vec<String> = self
            .order
            .iter()
            .filter(|k| {
                let r = &self.tasks[*k].report;
                r.instance == s.instance && (s.task_id.is_none() || r.task_id == s.task_id)
            })
            .cloned()
            .collect();
        let origin = if s.origin.is_empty() {
            String::new()
        } else {
            format!(" from {}", s.origin)
        };
        let ev = Event {
            at: s.at,
            kind: EventKind::Switchover,
            text: format!(
                "ActivateMigrationTargetInstance sent{origin}: {} ({})",
                if s.accepted { "accepted" } else { "refused" },
                s.message
            ),
        };
        if keys.is_empty() {
            self.instance_events.push((s.instance.clone(), ev));
            return;
        }
        for k in &keys {
            let b = self.tasks.get_mut(k).expect("known");
            b.report.events.push(ev.clone());
            if s.accepted && b.report.summary.switchover.is_none() {
                b.report.summary.switchover = Some(Switchover {
                    at: s.at,
                    sent_by_migtop: true,
                    verdict_before: b.last_verdict,
                    drained_for: None,
                });
            }
        }
    }

    /// Failures still going on at the end.
    fn end_runs(&mut self) {
        let runs: Vec<(String, FailureRun)> = self
            .api_runs
            .drain()
            .chain(self.probe_runs.drain())
            .collect();
        for (inst, run) in runs {
            let keys = self.keys_of(&inst);
            if keys.is_empty() {
                self.instance_events.push((inst, run.event(&self.offset)));
            } else {
                push_to(&mut self.tasks, &keys, run.event(&self.offset));
            }
        }
        self.instance_events.sort_by_key(|(_, e)| e.at);
    }
}

impl Building {
    /// A task first seen as `task`.
    fn new(key: String, task: &crate::model::Task) -> Building {
        Building {
            report: TaskReport {
                key,
                instance: task.instance.clone(),
                task_id: task.task_id,
                name: task.display_name(),
                points: Vec::new(),
                stages: Vec::new(),
                verdicts: Vec::new(),
                events: Vec::new(),
                summary: Summary::default(),
                last_verdict: Verdict::NotReady(vec![]),
                checklist: None,
            },
            last_stage: None,
            last_state: None,
            last_receive_start: None,
            last_verdict: None,
            gone: false,
        }
    }
}

fn push_to(tasks: &mut HashMap<String, Building>, keys: &[String], ev: Event) {
    for k in keys {
        if let Some(b) = tasks.get_mut(k) {
            b.report.events.push(ev.clone());
        }
    }
}

fn extend_run(
    runs: &mut HashMap<String, FailureRun>,
    instance: &str,
    kind: EventKind,
    code: String,
    text: String,
    at: DateTime<Utc>,
) {
    match runs.get_mut(instance) {
        Some(run) if run.code == code => {
            run.count += 1;
            run.to = at;
        }
        _ => {
            runs.insert(
                instance.to_string(),
                FailureRun {
                    kind,
                    code,
                    text,
                    from: at,
                    to: at,
                    count: 1,
                },
            );
        }
    }
}

/// Takes in one poll of one task: its point and what changed.
fn observe(b: &mut Building, app: &App, task: &crate::model::Task, at: DateTime<Utc>) {
    let entry = app.tasks().get(&task.key());
    let data = entry.and_then(|e| e.history.latest()).map(|(_, d)| d);
    let verdict = entry.map_or(VerdictKind::NotReady, |e| e.verdict.kind());
    let r = &mut b.report;
    if b.gone {
        b.gone = false;
        r.events.push(Event {
            at,
            kind: EventKind::FirstSeen,
            text: "listed again".into(),
        });
    }
    let stage_name =
        |s: &Option<Stage>| s.as_ref().map_or("unknown".to_string(), |s| s.to_string());
    let state_name =
        |s: &Option<ReplicationState>| s.as_ref().map_or("unknown".to_string(), |s| s.to_string());
    match &b.last_stage {
        None => r.events.push(Event {
            at,
            kind: EventKind::FirstSeen,
            text: format!(
                "stage {}, state {}",
                stage_name(&task.stage),
                state_name(&task.replication_state)
            ),
        }),
        Some(old) if *old != task.stage => r.events.push(Event {
            at,
            kind: EventKind::Stage,
            text: format!("{} → {}", stage_name(old), stage_name(&task.stage)),
        }),
        _ => {}
    }
    if let Some(old) = &b.last_state
        && *old != task.replication_state
    {
        let kind = if task.replication_state == Some(ReplicationState::Disconnect) {
            EventKind::Disconnect
        } else if *old == Some(ReplicationState::Disconnect) {
            EventKind::Reconnect
        } else {
            EventKind::State
        };
        r.events.push(Event {
            at,
            kind,
            text: format!(
                "{} → {}",
                state_name(old),
                state_name(&task.replication_state)
            ),
        });
    }
    let receive_start = task.replication.as_ref().and_then(|i| i.receive_start_lsn);
    if let (Some(old), Some(new)) = (b.last_receive_start, receive_start)
        && old != new
    {
        r.events.push(Event {
            at,
            kind: EventKind::ReceiverRestart,
            text: format!("the WAL receiver streams again from {new} (was {old})"),
        });
    }
    if matches!(task.stage, Some(Stage::Switch | Stage::Success))
        && r.summary.switchover.is_none()
        && !matches!(
            b.last_stage,
            None | Some(Some(Stage::Switch | Stage::Success))
        )
    {
        r.summary.switchover = Some(Switchover {
            at,
            sent_by_migtop: false,
            verdict_before: b.last_verdict,
            drained_for: None,
        });
    }
    b.last_stage = Some(task.stage.clone());
    b.last_state = Some(task.replication_state.clone());
    b.last_receive_start = receive_start.or(b.last_receive_start);
    let reported = data.and_then(|d| d.lag);
    // A standby that is not streaming, or whose link went silent, has only heard of part of
    // what the source wrote (the dashboard's rule, judged on the same samples).
    let lower_bound = reported.is_some() && entry.is_some_and(|e| e.reported_lag_is_lower_bound());
    r.points.push(Point {
        at,
        reported,
        true_lag: data.and_then(|d| d.true_lag()),
        stage: task.stage.clone(),
        verdict,
        failed: false,
        lower_bound,
    });
}

/// Adds an event for every task whose verdict kind changed.
fn note_verdicts(app: &App, tasks: &mut HashMap<String, Building>, at: DateTime<Utc>) {
    for (k, b) in tasks.iter_mut() {
        if b.gone {
            continue;
        }
        let Some(e) = app.tasks().get(k) else {
            continue;
        };
        let kind = e.verdict.kind();
        if b.last_verdict != Some(kind) {
            let reasons = e
                .verdict
                .reasons()
                .iter()
                .map(|r| r.to_string())
                .collect::<Vec<_>>()
                .join("; ");
            let text = match (&b.last_verdict, reasons.is_empty()) {
                (Some(old), true) => format!("{} → {}", label(*old), e.verdict.label()),
                (Some(old), false) => {
                    format!("{} → {}: {reasons}", label(*old), e.verdict.label())
                }
                (None, true) => e.verdict.label().to_string(),
                (None, false) => format!("{}: {reasons}", e.verdict.label()),
            };
            b.report.events.push(Event {
                at,
                kind: EventKind::Verdict,
                text,
            });
            b.report.verdicts.push(Span {
                value: kind,
                from: at,
                to: at,
                open_start: false,
                open_end: false,
            });
            b.last_verdict = Some(kind);
        }
        if let Some(last) = b.report.verdicts.last_mut() {
            last.to = at;
        }
    }
}

/// The label of a verdict kind.
pub fn label(k: VerdictKind) -> &'static str {
    k.label()
}

/// Stage spans, summary figures and event order, once every poll is in.
fn finish(mut r: TaskReport, recording_end: DateTime<Utc>) -> TaskReport {
    r.events.sort_by_key(|e| e.at);
    let last_seen = r.points.last().map_or(recording_end, |p| p.at);
    // Stage spans from the polls that had data.
    let mut stages: Vec<Span<Option<Stage>>> = Vec::new();
    for p in r.points.iter().filter(|p| !p.failed) {
        match stages.last_mut() {
            Some(s) if s.value == p.stage => s.to = p.at,
            _ => {
                if let Some(s) = stages.last_mut() {
                    s.to = p.at;
                }
                stages.push(Span {
                    value: p.stage.clone(),
                    from: p.at,
                    to: p.at,
                    open_start: stages.is_empty(),
                    open_end: false,
                });
            }
        }
    }
    if let Some(s) = stages.last_mut() {
        s.to = last_seen;
        // A finished migration's last stage has no end to wait for.
        s.open_end = s.value != Some(Stage::Success);
    }
    if let Some(v) = r.verdicts.last_mut() {
        v.to = last_seen;
        v.open_end = true;
    }
    let mut summary = std::mem::take(&mut r.summary);
    for s in &stages {
        let Some(stage) = &s.value else { continue };
        let lower_bound = s.open_start || s.open_end;
        match summary
            .time_in_stage
            .iter_mut()
            .find(|(st, ..)| st == stage)
        {
            Some((_, d, lb)) => {
                *d += s.duration();
                *lb |= lower_bound;
            }
            None => summary
                .time_in_stage
                .push((stage.clone(), s.duration(), lower_bound)),
        }
    }
    let max_by = |f: &dyn Fn(&Point) -> Option<u64>| {
        r.points
            .iter()
            .filter_map(|p| f(p).map(|v| (v, p.at)))
            .fold(
                None,
                |best: Option<(u64, DateTime<Utc>)>, (v, at)| match best {
                    Some((b, _)) if b >= v => best,
                    _ => Some((v, at)),
                },
            )
    };
    summary.max_reported = max_by(&|p| p.reported);
    summary.max_reported_lower_bound = summary
        .max_reported
        .is_some_and(|(_, at)| r.points.iter().any(|p| p.at == at && p.lower_bound));
    summary.max_true = max_by(&|p| p.true_lag);
    summary.first_in_sync = r
        .verdicts
        .iter()
        .find(|v| v.value != VerdictKind::NotReady)
        .map(|v| v.from);
    summary.first_drained = r
        .verdicts
        .iter()
        .find(|v| v.value == VerdictKind::Drained)
        .map(|v| v.from);
    if let Some(sw) = &mut summary.switchover {
        // The DRAINED stretch the switchover came out of, if it did.
        let before = r.verdicts.iter().rev().find(|v| v.from < sw.at);
        if let Some(v) = before
            && v.value == VerdictKind::Drained
        {
            sw.verdict_before = Some(VerdictKind::Drained);
            sw.drained_for = (sw.at - v.from).to_std().ok();
        }
    }
    summary.polls = r.points.len();
    summary.failed_polls = r.points.iter().filter(|p| p.failed).count();
    r.summary = summary;
    r.stages = stages;
    r
}

/// Escapes text for HTML content and attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // Control characters have no place in a page (and break XML parsers).
            c if c.is_control() && c != '\n' && c != '\t' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests;
