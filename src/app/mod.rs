//! The dashboard's state, in one place, and every way it changes (`Action` → `update`).
//! Keys become actions in `keys`, poll results are taken in by `ingest`, the task table's
//! rows and selection live in `selection`, the precheck log's view in `log_view`, the
//! switchover dialog in `switchover`; the header's alert is decided in `alert`.
//!
//! Nothing here does I/O: side effects (poller control, the switchover call, the bell) are
//! returned as [`Effect`]s for the event loop to carry out; quitting is the `quit` flag.

mod alert;
pub mod headless;
mod ingest;
mod keys;
mod log_view;
mod mouse;
mod printable;
mod selection;
mod switchover;
pub mod view;

#[cfg(test)]
pub(crate) mod fixtures;

use std::collections::HashMap;
use std::time::Duration;

use chrono::{DateTime, FixedOffset, Utc};
use ratatui::layout::Rect;

use crate::aliyun::ApiError;
use crate::app::view::layout::{self, AppLayout, LayoutInput};
use crate::model::Task;
use crate::poller::{Control, PollEvent};
use crate::probe::Checklist;
use crate::verdict::history::{History, SampleData, SourceHistory};
use crate::verdict::readiness::{self, ReadinessConfig, Verdict};

pub use log_view::{LogView, LogWindow, Search};
pub use switchover::{SwitchDialog, SwitchPhase};

/// Data older than this many intervals is stale.
pub const STALE_INTERVALS: u32 = 3;

/// The poll intervals `+` and `-` step through.
pub const INTERVAL_STEPS: [u64; 16] = [
    1, 2, 3, 5, 10, 15, 20, 30, 45, 60, 120, 300, 600, 900, 1800, 3600,
];

/// Upper bound of [`App::help_scroll`] (the help is a few dozen lines long).
const HELP_SCROLL_MAX: u16 = 64;

/// Settings fixed for the session.
#[derive(Debug, Clone)]
pub struct AppConfig {
    pub instances: Vec<String>,
    pub interval: Duration,
    pub readiness: ReadinessConfig,
    pub allow_switchover: bool,
    pub bell: bool,
    pub color: bool,
    /// The offset local times are shown in (fixed so renders are deterministic).
    pub local_offset: FixedOffset,
    /// Shown in the header, e.g. `demo` when talking to the built-in simulator.
    pub label: Option<String>,
    /// The source probe's target (the DSN, redacted) when `--source-dsn` is given.
    pub source_probe: Option<String>,
    /// The sub-command running the dashboard (`watch`, `demo`, `lab`), named in hints.
    pub command: String,
    /// `migtop lab`: the keys that freeze, cut and pause the lab's replication work.
    pub lab_keys: bool,
}

impl AppConfig {
    /// A configuration with the defaults of the command line.
    pub fn new(instances: Vec<String>) -> AppConfig {
        AppConfig {
            instances,
            interval: Duration::from_secs(5),
            readiness: ReadinessConfig::default(),
            allow_switchover: false,
            bell: true,
            color: true,
            local_offset: FixedOffset::east_opt(0).expect("zero offset"),
            label: None,
            source_probe: None,
            command: "watch".into(),
            lab_keys: false,
        }
    }
}

/// What is known about polling one instance.
#[derive(Debug, Clone)]
pub struct InstanceStatus {
    pub name: String,
    pub last_ok: Option<DateTime<Utc>>,
    pub polling_since: Option<DateTime<Utc>>,
    pub next_poll: Option<DateTime<Utc>>,
    /// The last failure, cleared by the next success.
    pub last_error: Option<(DateTime<Utc>, ApiError)>,
    pub failures: u32,
    pub request_id: Option<String>,
    /// Items of the last answer that could not be decoded.
    pub item_errors: Vec<String>,
}

/// One task as followed across polls.
#[derive(Debug, Clone)]
pub struct TaskEntry {
    pub task: Task,
    pub history: History,
    pub first_seen: DateTime<Utc>,
    /// When the current stage began, as far as migtop saw it.
    pub stage_since: DateTime<Utc>,
    /// Whether `stage_since` is a stage change migtop saw (else: when it first saw the task).
    pub stage_since_exact: bool,
    pub verdict: Verdict,
    /// Changes whenever the task's `Detail` does: what the wrapped log and the search
    /// matches are cached against.
    pub log_rev: u64,
    /// What `verdict` was judged from (see [`Judged`]); `None` before the first judgement.
    pub judged: Option<Judged>,
}

/// Everything [`crate::verdict::readiness::evaluate`] reads, for one task: while these stay the same
/// the verdict does too, so a poll of one instance or a tick re-judges only the tasks whose
/// inputs moved (with 1,000 tasks, re-judging all of them on every poll result and tick was
/// most of the dashboard's CPU).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Judged {
    /// [`crate::verdict::history::History::revision`].
    pub history: u64,
    /// The instance's stale age, when it is stale.
    pub stale: Option<Duration>,
    pub config: ReadinessConfig,
}

impl TaskEntry {
    /// The lag the verdict judges (see [`crate::verdict::history::SampleData::judged_lag`]) as of the latest successful
    /// poll: the one figure the table, the verdict and the switchover dialog show.
    pub fn judged_lag(&self) -> Option<u64> {
        match self.history.latest() {
            Some((_, d)) => d.judged_lag(),
            None => self.task.lag_bytes(),
        }
    }

    /// Whether [`Self::judged_lag`] is only a lower bound ([`readiness::lag_is_lower_bound`]):
    /// shown as `≥ X`, never "caught up", no ETA.
    pub fn lag_is_lower_bound(&self) -> bool {
        self.bound(readiness::lag_is_lower_bound)
    }

    /// Whether the lag RDS reports is only a lower bound
    /// ([`readiness::reported_lag_is_lower_bound`]).
    pub fn reported_lag_is_lower_bound(&self) -> bool {
        self.bound(readiness::reported_lag_is_lower_bound)
    }

    fn bound(&self, rule: fn(&SampleData, &[readiness::Reason]) -> bool) -> bool {
        let reasons = self.verdict.reasons();
        match self.history.latest() {
            Some((_, d)) => rule(d, reasons),
            None => rule(&SampleData::of(&self.task), reasons),
        }
    }
}

/// A line of the task table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RowRef {
    /// A task, by key.
    Task(String),
    /// An instance without tasks to show (no data yet, an error, or no tasks).
    Instance(usize),
}

/// Which panel the arrow keys act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Focus {
    Tasks,
    Log,
}

/// Something drawn over the dashboard.
#[derive(Debug, Clone, PartialEq)]
pub enum Overlay {
    Help,
    Notice {
        title: String,
        text: String,
    },
    Switchover(SwitchDialog),
    /// The source's checklist for the selected task (`c`).
    Checklist,
}

/// What the DBA looks at, apart from the data: carried from one state of a session to
/// another built at a different point (the replay rebuilds the app when it steps back).
#[derive(Debug, Clone)]
pub struct ViewState {
    size: (u16, u16),
    focus: Focus,
    log: LogView,
    overlay: Option<Overlay>,
    label: Option<String>,
    selected: Option<RowRef>,
    task_offset: usize,
}

/// What the lab dashboard's keys ask of the lab (each one toggles).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LabCommand {
    /// Freeze the link (the walsender stops sending, the connection stays up), or thaw it.
    ToggleFreeze,
    /// Cut the link, or restore it.
    ToggleCut,
    /// Pause replay on the standby, or resume it.
    ToggleReplayPause,
    /// Drop what the source checklist finds (unlogged tables, the logical slot) and commit
    /// the prepared transaction.
    DropFixtures,
}

/// Every way the state changes.
#[derive(Debug, Clone)]
pub enum Action {
    Up,
    Down,
    First,
    Last,
    FocusNext,
    ScrollLines(i64),
    ScrollPages(i64),
    ScrollHalfPages(i64),
    LogTop,
    LogBottom,
    SearchStart,
    SearchChar(char),
    SearchBackspace,
    SearchSubmit,
    SearchCancel,
    NextMatch,
    PrevMatch,
    ToggleFollow,
    PollNow,
    TogglePause,
    IntervalUp,
    IntervalDown,
    ToggleHelp,
    /// Open or close the source's checklist.
    ToggleChecklist,
    /// Scroll the help overlay by this many lines (it scrolls when it does not fit).
    HelpScroll(i32),
    /// Select this row of the task list (a click), focusing the list.
    SelectRow(usize),
    /// Focus the log (a click on it).
    FocusLog,
    Escape,
    Quit,
    Switchover,
    DialogChar(char),
    DialogBackspace,
    DialogConfirm,
    SwitchoverDone(Result<serde_json::Value, ApiError>),
    /// A lab key (only with [`AppConfig::lab_keys`]).
    Lab(LabCommand),
    /// What the lab did about a [`LabCommand`], or why it could not.
    LabDone(Result<String, String>),
    /// Show a message over the dashboard (closed with Esc or Enter).
    Notice {
        title: String,
        text: String,
    },
    /// Set the header's label (the replay shows its clock, speed and position there).
    SetLabel(Option<String>),
    /// Take over what the DBA looked at in another state of the same session (see
    /// [`App::view_state`]); the selection follows its row when that row still exists.
    RestoreView(Box<ViewState>),
    Poll(PollEvent),
    Tick(DateTime<Utc>),
    Resize(u16, u16),
}

/// A side effect for the event loop to carry out.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    Poller(Control),
    /// Call ActivateMigrationTargetInstance for this instance.
    Switchover {
        instance: String,
    },
    /// Ring the terminal bell.
    Bell,
    /// Ask the lab (`migtop lab`) to do this.
    Lab(LabCommand),
}

/// The whole dashboard state.
#[derive(Debug, Clone)]
pub struct App {
    config: AppConfig,
    /// The time everything is drawn against.
    now: DateTime<Utc>,
    started: DateTime<Utc>,
    /// The terminal size, for paging and keeping the selection in view.
    size: (u16, u16),
    interval: Duration,
    paused: bool,
    instances: Vec<InstanceStatus>,
    /// The source probe's readings, when one is configured.
    source: Option<SourceHistory>,
    /// The same readings by the instance whose poll they followed: a simulated probe lends
    /// each instance its own source, and rates must not mix two sources' positions.
    source_by_instance: HashMap<String, SourceHistory>,
    /// The newest checklist of each source, by the probe's (redacted) target.
    checklists: HashMap<String, Checklist>,
    tasks: HashMap<String, TaskEntry>,
    rows: Vec<RowRef>,
    selected: usize,
    /// First task row shown in the table.
    task_offset: usize,
    focus: Focus,
    log: LogView,
    overlay: Option<Overlay>,
    /// First line of the help overlay shown (the drawing clamps it to the help's length).
    help_scroll: u16,
    /// What the last lab key did (shown in the header), in lab mode.
    lab_note: Option<String>,
    quit: bool,
    dirty: bool,
    /// The selected task's log wrapped to the panel, kept until the log or the width changes
    /// (wrapping a 50 MB Detail on every key would take seconds).
    wrapped: std::cell::RefCell<log_view::WrapCache>,
    /// The revision the next changed `Detail` gets (see [`TaskEntry::log_rev`]).
    next_log_rev: u64,
}

impl App {
    /// The session's settings.
    pub fn config(&self) -> &AppConfig {
        &self.config
    }

    /// The time everything is drawn against (the last tick's).
    pub fn now(&self) -> DateTime<Utc> {
        self.now
    }

    /// When the session started.
    pub fn started(&self) -> DateTime<Utc> {
        self.started
    }

    /// The terminal size (columns, rows).
    pub fn size(&self) -> (u16, u16) {
        self.size
    }

    /// The poll interval now in force.
    pub fn interval(&self) -> Duration {
        self.interval
    }

    /// Whether polling is paused (the header's badge).
    pub fn paused(&self) -> bool {
        self.paused
    }

    /// What is known about polling each instance, in the configured order.
    pub fn instances(&self) -> &[InstanceStatus] {
        &self.instances
    }

    /// The source probe's readings, when one is configured.
    pub fn source(&self) -> Option<&SourceHistory> {
        self.source.as_ref()
    }

    /// Every task seen, by key.
    pub fn tasks(&self) -> &HashMap<String, TaskEntry> {
        &self.tasks
    }

    /// The task table's lines, in order.
    pub fn rows(&self) -> &[RowRef] {
        &self.rows
    }

    /// The index of the selected row.
    pub fn selected(&self) -> usize {
        self.selected
    }

    /// The first task row shown in the table.
    pub fn task_offset(&self) -> usize {
        self.task_offset
    }

    /// Which panel the arrow keys act on.
    pub fn focus(&self) -> Focus {
        self.focus
    }

    /// The precheck log's scroll, follow and search state.
    pub fn log(&self) -> &LogView {
        &self.log
    }

    /// What is drawn over the dashboard, if anything.
    pub fn overlay(&self) -> Option<&Overlay> {
        self.overlay.as_ref()
    }

    /// The first line of the help overlay shown.
    pub fn help_scroll(&self) -> u16 {
        self.help_scroll
    }

    /// What the last lab key did (shown in the header), in lab mode.
    pub fn lab_note(&self) -> Option<&str> {
        self.lab_note.as_deref()
    }

    /// Whether the DBA asked to quit.
    pub fn quit(&self) -> bool {
        self.quit
    }
    /// The source readings that followed polls of `instance` (all of them when the probe has
    /// not been read for it yet).
    pub fn source_for(&self, instance: &str) -> Option<&SourceHistory> {
        self.source
            .as_ref()
            .map(|all| self.source_by_instance.get(instance).unwrap_or(all))
    }

    /// The source readings that followed polls of `instance` only (`None` before the first):
    /// what a panel about one task shows, never another instance's source.
    pub fn source_of(&self, instance: &str) -> Option<&SourceHistory> {
        self.source_by_instance.get(instance)
    }

    /// The newest checklist of the source `instance`'s readings come from, once read.
    pub fn checklist_for(&self, instance: &str) -> Option<&Checklist> {
        self.checklists.get(&self.source_for(instance)?.target)
    }

    /// Every source's newest checklist (one with a real probe; one per instance with the
    /// simulator's).
    pub fn checklists(&self) -> impl Iterator<Item = &Checklist> {
        self.checklists.values()
    }

    /// A fresh dashboard at time `now`, before any poll.
    pub fn new(config: AppConfig, now: DateTime<Utc>) -> App {
        let instances = config
            .instances
            .iter()
            .map(|name| InstanceStatus {
                name: name.clone(),
                last_ok: None,
                polling_since: None,
                next_poll: None,
                last_error: None,
                failures: 0,
                request_id: None,
                item_errors: Vec::new(),
            })
            .collect();
        let source = config.source_probe.clone().map(SourceHistory::new);
        let mut app = App {
            source,
            source_by_instance: HashMap::new(),
            checklists: HashMap::new(),
            interval: config.interval,
            config,
            now,
            started: now,
            size: (80, 24),
            paused: false,
            instances,
            tasks: HashMap::new(),
            rows: Vec::new(),
            selected: 0,
            task_offset: 0,
            focus: Focus::Tasks,
            log: LogView {
                auto: true,
                ..Default::default()
            },
            overlay: None,
            help_scroll: 0,
            lab_note: None,
            quit: false,
            dirty: true,
            wrapped: Default::default(),
            next_log_rev: 0,
        };
        app.rebuild_rows();
        app
    }

    /// What the DBA looks at, for [`Action::RestoreView`] on another state of this session.
    pub fn view_state(&self) -> ViewState {
        ViewState {
            size: self.size,
            focus: self.focus,
            log: self.log.clone(),
            overlay: self.overlay.clone(),
            label: self.config.label.clone(),
            selected: self.rows.get(self.selected).cloned(),
            task_offset: self.task_offset,
        }
    }

    /// Whether something changed since the last [`App::take_dirty`].
    pub fn take_dirty(&mut self) -> bool {
        std::mem::take(&mut self.dirty)
    }

    /// Whether something changed since the last [`App::take_dirty`], without clearing it.
    pub fn is_dirty(&self) -> bool {
        self.dirty
    }

    /// The selected row's task, if it is a task.
    pub fn selected_task(&self) -> Option<&TaskEntry> {
        match self.rows.get(self.selected)? {
            RowRef::Task(k) => self.tasks.get(k),
            RowRef::Instance(_) => None,
        }
    }

    /// The selected row's task with its key, if it is a task.
    pub fn selected_entry(&self) -> Option<(&str, &TaskEntry)> {
        match self.rows.get(self.selected)? {
            RowRef::Task(k) => self.tasks.get(k).map(|e| (k.as_str(), e)),
            RowRef::Instance(_) => None,
        }
    }

    /// The instance of the selected row.
    pub fn selected_instance(&self) -> Option<&InstanceStatus> {
        match self.rows.get(self.selected)? {
            RowRef::Task(k) => {
                let t = self.tasks.get(k)?;
                self.instances.iter().find(|i| i.name == t.task.instance)
            }
            RowRef::Instance(i) => self.instances.get(*i),
        }
    }

    /// How old `inst`'s data is when that is more than [`STALE_INTERVALS`] intervals.
    pub fn stale_age(&self, inst: &InstanceStatus) -> Option<Duration> {
        let age = (self.now - inst.last_ok?).to_std().unwrap_or_default();
        (age > self.interval * STALE_INTERVALS).then_some(age)
    }

    /// The stale age of the instance a task belongs to.
    pub fn task_stale_age(&self, task: &Task) -> Option<Duration> {
        self.instances
            .iter()
            .find(|i| i.name == task.instance)
            .and_then(|i| self.stale_age(i))
    }

    /// How long the rate and marker windows look back.
    pub fn trend_window(&self) -> Duration {
        (self.interval * 6).max(Duration::from_secs(30))
    }

    /// What the layout needs to know about the state, for a pane `width` columns wide.
    pub fn layout_input(&self, width: u16) -> LayoutInput {
        LayoutInput {
            alert_rows: self.alert().map_or(0, |a| a.rows(width)),
            probed: self.source.is_some(),
            task_rows: self.rows.len(),
        }
    }

    /// The layout at the current terminal size.
    pub fn layout(&self) -> AppLayout {
        let (w, h) = self.size;
        layout::compute(Rect::new(0, 0, w, h), &self.layout_input(w))
    }

    /// Applies one action; returns the side effects to carry out.
    pub fn update(&mut self, action: Action) -> Vec<Effect> {
        let mut out = Vec::new();
        // Everything but a no-op tick changes what is drawn.
        let mut dirty = true;
        match action {
            Action::Up => self.select(self.selected.saturating_sub(1)),
            Action::Down => self.select(self.selected + 1),
            Action::First => self.select(0),
            Action::SelectRow(i) => self.select_row(i),
            Action::FocusLog => self.focus = Focus::Log,
            Action::Last => self.select(self.rows.len().saturating_sub(1)),
            Action::FocusNext => {
                self.focus = match self.focus {
                    Focus::Tasks => Focus::Log,
                    Focus::Log => Focus::Tasks,
                }
            }
            Action::ScrollLines(_)
            | Action::ScrollPages(_)
            | Action::ScrollHalfPages(_)
            | Action::LogTop
            | Action::LogBottom
            | Action::SearchStart
            | Action::SearchChar(_)
            | Action::SearchBackspace
            | Action::SearchSubmit
            | Action::SearchCancel
            | Action::NextMatch
            | Action::PrevMatch
            | Action::ToggleFollow => self.update_log(action),
            Action::PollNow => out.push(Effect::Poller(Control::PollNow)),
            Action::TogglePause => {
                self.paused = !self.paused;
                out.push(Effect::Poller(Control::Pause(self.paused)));
            }
            Action::IntervalUp | Action::IntervalDown => {
                let cur = self.interval.as_secs();
                let next = if matches!(action, Action::IntervalUp) {
                    INTERVAL_STEPS.iter().copied().find(|s| *s > cur)
                } else {
                    INTERVAL_STEPS.iter().rev().copied().find(|s| *s < cur)
                };
                if let Some(s) = next {
                    self.interval = Duration::from_secs(s);
                    out.push(Effect::Poller(Control::Interval(self.interval)));
                }
            }
            Action::ToggleHelp => {
                self.help_scroll = 0;
                self.overlay = match self.overlay {
                    Some(Overlay::Help) => None,
                    _ => Some(Overlay::Help),
                }
            }
            Action::ToggleChecklist => {
                self.overlay = match self.overlay {
                    Some(Overlay::Checklist) => None,
                    _ => Some(Overlay::Checklist),
                }
            }
            Action::HelpScroll(n) => {
                // Bounded by what the help could need; the drawing clamps to what it has.
                let max = self.size.1.max(HELP_SCROLL_MAX);
                self.help_scroll = (self.help_scroll as i32 + n).clamp(0, max as i32) as u16;
            }
            Action::Escape => {
                if self.overlay.is_some() {
                    self.overlay = None;
                } else if self.log.search.is_some() {
                    self.log.search = None;
                } else {
                    self.focus = Focus::Tasks;
                }
            }
            Action::Quit => self.quit = true,
            Action::Switchover
            | Action::DialogChar(_)
            | Action::DialogBackspace
            | Action::DialogConfirm
            | Action::SwitchoverDone(_) => self.update_switchover(action, &mut out),
            Action::Lab(c) => {
                if self.config.lab_keys {
                    out.push(Effect::Lab(c));
                }
            }
            Action::LabDone(r) => {
                self.lab_note = Some(r.unwrap_or_else(|e| format!("lab key failed: {e}")));
            }
            Action::Notice { title, text } => self.overlay = Some(Overlay::Notice { title, text }),
            Action::SetLabel(label) => self.config.label = label,
            Action::RestoreView(view) => self.restore_view(*view),
            Action::Poll(ev) => self.on_poll(ev, &mut out),
            Action::Tick(now) => dirty = self.on_tick(now, &mut out),
            Action::Resize(w, h) => {
                self.size = (w, h);
                self.keep_selection_visible();
            }
        }
        self.ring_once(&mut out);
        self.dirty |= dirty;
        out
    }

    /// See [`Action::RestoreView`].
    fn restore_view(&mut self, view: ViewState) {
        self.focus = view.focus;
        self.log = view.log;
        self.overlay = view.overlay;
        self.config.label = view.label;
        if let Some(pos) = view
            .selected
            .and_then(|k| self.rows.iter().position(|r| *r == k))
        {
            self.selected = pos;
        }
        self.task_offset = view.task_offset;
        // As a resize does: the selection stays in view at the new size.
        self.size = view.size;
        self.keep_selection_visible();
    }

    /// At most one bell per update (enough to flag the window), none without `bell`.
    fn ring_once(&self, out: &mut Vec<Effect>) {
        if !self.config.bell {
            out.retain(|c| *c != Effect::Bell);
        } else if out.iter().filter(|c| **c == Effect::Bell).count() > 1 {
            let mut seen = false;
            out.retain(|c| {
                let bell = *c == Effect::Bell;
                let keep = !(bell && seen);
                seen |= bell;
                keep
            });
        }
    }
}
