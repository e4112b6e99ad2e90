//! The dashboard's state, in one place, and every way it changes (`Action` → `update`).
//!
//! Nothing here does I/O: side effects (poller control, the switchover call, the bell,
//! quitting) are returned as [`Command`]s for the event loop to carry out.

use std::collections::HashMap;
use std::time::Duration;

use chrono::{DateTime, FixedOffset, Utc};
use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use ratatui::layout::Rect;

use crate::aliyun::{ApiError, InstanceSnapshot};
use crate::history::{History, Sample, SampleData, SourceHistory};
use crate::model::{ReplicationState, Stage, Task};
use crate::poller::{Control, PollEvent, PollResult};
use crate::readiness::{self, ReadinessConfig, Verdict, VerdictKind};
use crate::ui;

/// Data older than this many intervals is stale.
pub const STALE_INTERVALS: u32 = 3;

/// The poll intervals `+` and `-` step through.
pub const INTERVAL_STEPS: [u64; 16] = [
    1, 2, 3, 5, 10, 15, 20, 30, 45, 60, 120, 300, 600, 900, 1800, 3600,
];

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

/// The state of the switchover dialog.
#[derive(Debug, Clone, PartialEq)]
pub enum SwitchPhase {
    /// Waiting for the DBA to type the instance id.
    Typing,
    /// ActivateMigrationTargetInstance has been sent.
    Sending,
    /// The API's answer, in words: Ok for accepted, Err for refused.
    Done(Result<String, String>),
}

/// The switchover confirmation dialog.
#[derive(Debug, Clone, PartialEq)]
pub struct SwitchDialog {
    pub task_key: String,
    pub instance: String,
    pub typed: String,
    pub phase: SwitchPhase,
    /// Shown under the input after a wrong confirmation.
    pub hint: Option<String>,
}

/// Something drawn over the dashboard.
#[derive(Debug, Clone, PartialEq)]
pub enum Overlay {
    Help,
    Notice { title: String, text: String },
    Switchover(SwitchDialog),
}

/// A search in the precheck log.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Search {
    pub query: String,
    /// Indices of matching log lines (logical lines of `Detail`).
    pub matches: Vec<usize>,
    /// Index into `matches` of the current match.
    pub current: Option<usize>,
}

/// The precheck log panel's view state.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LogView {
    /// First visible display row (ignored while following or placed automatically).
    pub scroll: usize,
    /// The DBA has not scrolled this task's log yet: it opens at the first warning or failure.
    pub auto: bool,
    /// Keep the newest lines in view as the log grows.
    pub follow: bool,
    pub search: Option<Search>,
    /// The search being typed after `/`.
    pub input: Option<String>,
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
    Escape,
    Quit,
    Switchover,
    DialogChar(char),
    DialogBackspace,
    DialogConfirm,
    SwitchoverDone(Result<serde_json::Value, ApiError>),
    Poll(PollEvent),
    Tick(DateTime<Utc>),
    Resize(u16, u16),
}

/// A side effect for the event loop.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    Poller(Control),
    /// Call ActivateMigrationTargetInstance for this instance.
    Switchover {
        instance: String,
    },
    /// Ring the terminal bell.
    Bell,
    Quit,
}

/// The whole dashboard state.
#[derive(Debug, Clone)]
pub struct App {
    pub config: AppConfig,
    /// The time everything is drawn against.
    pub now: DateTime<Utc>,
    pub started: DateTime<Utc>,
    /// The terminal size, for paging and keeping the selection in view.
    pub size: (u16, u16),
    pub interval: Duration,
    pub paused: bool,
    pub instances: Vec<InstanceStatus>,
    /// The source probe's readings, when one is configured.
    pub source: Option<SourceHistory>,
    pub tasks: HashMap<String, TaskEntry>,
    pub rows: Vec<RowRef>,
    pub selected: usize,
    /// First task row shown in the table.
    pub task_offset: usize,
    pub focus: Focus,
    pub log: LogView,
    pub overlay: Option<Overlay>,
    pub quit: bool,
    dirty: bool,
}

impl App {
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
            quit: false,
            dirty: true,
        };
        app.rebuild_rows();
        app
    }

    /// Whether something changed since the last [`App::take_dirty`].
    pub fn take_dirty(&mut self) -> bool {
        std::mem::take(&mut self.dirty)
    }

    /// The selected row's task, if it is a task.
    pub fn selected_task(&self) -> Option<&TaskEntry> {
        match self.rows.get(self.selected)? {
            RowRef::Task(k) => self.tasks.get(k),
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

    /// How much history each task keeps.
    fn keep(&self) -> Duration {
        (self.config.readiness.stable_for * 2)
            .max(Duration::from_secs(600))
            .max(self.interval * 200)
    }

    /// The precheck log of the selected task, wrapped for the current log panel width, and the
    /// panel's inner height.
    fn log_geometry(&self) -> Option<(Vec<ui::precheck_log::LogRow>, usize)> {
        let entry = self.selected_task()?;
        let layout = ui::layout::compute(Rect::new(0, 0, self.size.0, self.size.1), self);
        let inner = ui::layout::log_inner(layout.log?);
        let rows = ui::precheck_log::wrap(&entry.task.precheck, inner.width as usize);
        Some((rows, inner.height as usize))
    }

    /// The first log row to show, given the wrapped rows and the viewport height: the tail
    /// when following; where the DBA scrolled to; else the section of the first warning or
    /// failure, so problems are in view when a task is selected.
    pub fn log_scroll(&self, rows: &[ui::precheck_log::LogRow], height: usize) -> usize {
        let max = rows.len().saturating_sub(height);
        if self.log.follow {
            return max;
        }
        if self.log.auto
            && let Some(entry) = self.selected_task()
        {
            // Stay at the top when the problem (and a little after it) is visible from there.
            return match ui::precheck_log::first_problem_row(&entry.task.precheck, rows) {
                Some(row) if row + 4 > height => row.min(max),
                _ => 0,
            };
        }
        self.log.scroll.min(max)
    }

    /// Task rows the table can show at the current size.
    fn visible_task_rows(&self) -> usize {
        let layout = ui::layout::compute(Rect::new(0, 0, self.size.0, self.size.1), self);
        layout.tasks.height.saturating_sub(3).max(1) as usize
    }

    fn keep_selection_visible(&mut self) {
        let visible = self.visible_task_rows();
        if self.selected < self.task_offset {
            self.task_offset = self.selected;
        } else if self.selected >= self.task_offset + visible {
            self.task_offset = self.selected + 1 - visible;
        }
        let max_offset = self.rows.len().saturating_sub(visible);
        self.task_offset = self.task_offset.min(max_offset);
    }

    /// Maps a key to an action in the current mode, then applies it.
    pub fn on_key(&mut self, key: KeyEvent) -> Vec<Command> {
        match self.key_action(key) {
            Some(a) => self.update(a),
            None => Vec::new(),
        }
    }

    /// The action a key means right now, if any.
    pub fn key_action(&self, key: KeyEvent) -> Option<Action> {
        if key.kind == KeyEventKind::Release {
            return None;
        }
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        if ctrl && matches!(key.code, KeyCode::Char('c')) {
            return Some(Action::Quit);
        }
        match &self.overlay {
            Some(Overlay::Switchover(_)) => {
                return match key.code {
                    KeyCode::Esc => Some(Action::Escape),
                    KeyCode::Enter => Some(Action::DialogConfirm),
                    KeyCode::Backspace => Some(Action::DialogBackspace),
                    KeyCode::Char(c) if !ctrl => Some(Action::DialogChar(c)),
                    _ => None,
                };
            }
            Some(Overlay::Help) | Some(Overlay::Notice { .. }) => {
                return match key.code {
                    KeyCode::Esc | KeyCode::Enter | KeyCode::Char('?') => Some(Action::Escape),
                    KeyCode::Char('q') => Some(Action::Quit),
                    _ => None,
                };
            }
            None => {}
        }
        if self.log.input.is_some() {
            return match key.code {
                KeyCode::Esc => Some(Action::SearchCancel),
                KeyCode::Enter => Some(Action::SearchSubmit),
                KeyCode::Backspace => Some(Action::SearchBackspace),
                KeyCode::Char(c) if !ctrl => Some(Action::SearchChar(c)),
                _ => None,
            };
        }
        let log = self.focus == Focus::Log;
        Some(match key.code {
            KeyCode::Char('u') if ctrl => Action::ScrollHalfPages(-1),
            KeyCode::Char('d') if ctrl => Action::ScrollHalfPages(1),
            KeyCode::Char('b') if ctrl => Action::ScrollPages(-1),
            KeyCode::Char('f') if ctrl => Action::ScrollPages(1),
            _ if ctrl => return None,
            KeyCode::Char('q') => Action::Quit,
            KeyCode::Char('?') => Action::ToggleHelp,
            KeyCode::Esc => Action::Escape,
            KeyCode::Tab | KeyCode::BackTab => Action::FocusNext,
            KeyCode::Up | KeyCode::Char('k') if log => Action::ScrollLines(-1),
            KeyCode::Down | KeyCode::Char('j') if log => Action::ScrollLines(1),
            KeyCode::Up | KeyCode::Char('k') => Action::Up,
            KeyCode::Down | KeyCode::Char('j') => Action::Down,
            KeyCode::Home | KeyCode::Char('g') if log => Action::LogTop,
            KeyCode::End | KeyCode::Char('G') if log => Action::LogBottom,
            KeyCode::Home | KeyCode::Char('g') => Action::First,
            KeyCode::End | KeyCode::Char('G') => Action::Last,
            KeyCode::PageUp => Action::ScrollPages(-1),
            KeyCode::PageDown => Action::ScrollPages(1),
            KeyCode::Char('/') => Action::SearchStart,
            KeyCode::Char('n') => Action::NextMatch,
            KeyCode::Char('N') => Action::PrevMatch,
            KeyCode::Char('f') => Action::ToggleFollow,
            KeyCode::Char('r') => Action::PollNow,
            KeyCode::Char('p') | KeyCode::Char(' ') => Action::TogglePause,
            KeyCode::Char('+') | KeyCode::Char('=') => Action::IntervalUp,
            KeyCode::Char('-') | KeyCode::Char('_') => Action::IntervalDown,
            KeyCode::Char('S') => Action::Switchover,
            _ => return None,
        })
    }

    /// Applies one action; returns the side effects to carry out.
    pub fn update(&mut self, action: Action) -> Vec<Command> {
        let mut out = Vec::new();
        // Everything but a no-op tick changes what is drawn.
        let mut dirty = true;
        match action {
            Action::Up => self.select(self.selected.saturating_sub(1)),
            Action::Down => self.select(self.selected + 1),
            Action::First => self.select(0),
            Action::Last => self.select(self.rows.len().saturating_sub(1)),
            Action::FocusNext => {
                self.focus = match self.focus {
                    Focus::Tasks => Focus::Log,
                    Focus::Log => Focus::Tasks,
                }
            }
            Action::ScrollLines(n) => self.scroll_log(n),
            Action::ScrollPages(n) => {
                let h = self.log_geometry().map_or(1, |(_, h)| h.max(2) - 1);
                self.scroll_log(n * h as i64);
            }
            Action::ScrollHalfPages(n) => {
                let h = self.log_geometry().map_or(1, |(_, h)| (h / 2).max(1));
                self.scroll_log(n * h as i64);
            }
            Action::LogTop => {
                self.log.follow = false;
                self.log.auto = false;
                self.log.scroll = 0;
            }
            Action::LogBottom => {
                if let Some((rows, h)) = self.log_geometry() {
                    self.log.scroll = rows.len().saturating_sub(h);
                    self.log.auto = false;
                }
            }
            Action::SearchStart => {
                self.focus = Focus::Log;
                self.log.input = Some(String::new());
            }
            Action::SearchChar(c) => {
                if let Some(s) = &mut self.log.input
                    && s.chars().count() < 200
                {
                    s.push(c);
                }
            }
            Action::SearchBackspace => {
                if let Some(s) = &mut self.log.input {
                    s.pop();
                }
            }
            Action::SearchCancel => self.log.input = None,
            Action::SearchSubmit => {
                let query = self.log.input.take().unwrap_or_default();
                if query.trim().is_empty() {
                    self.log.search = None;
                } else {
                    self.log.search = Some(Search {
                        query,
                        ..Default::default()
                    });
                    self.refresh_matches();
                    self.jump_to_match(0, true);
                }
            }
            Action::NextMatch => self.jump_to_match(1, false),
            Action::PrevMatch => self.jump_to_match(-1, false),
            Action::ToggleFollow => {
                if self.log.follow {
                    // Stay where the tail was rather than jumping back up.
                    if let Some((rows, h)) = self.log_geometry() {
                        self.log.scroll = rows.len().saturating_sub(h);
                    }
                    self.log.follow = false;
                    self.log.auto = false;
                } else {
                    self.log.follow = true;
                }
            }
            Action::PollNow => out.push(Command::Poller(Control::PollNow)),
            Action::TogglePause => {
                self.paused = !self.paused;
                out.push(Command::Poller(Control::Pause(self.paused)));
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
                    out.push(Command::Poller(Control::Interval(self.interval)));
                }
            }
            Action::ToggleHelp => {
                self.overlay = match self.overlay {
                    Some(Overlay::Help) => None,
                    _ => Some(Overlay::Help),
                }
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
            Action::Quit => {
                self.quit = true;
                out.push(Command::Quit);
            }
            Action::Switchover => self.open_switchover(),
            Action::DialogChar(c) => {
                if let Some(Overlay::Switchover(d)) = &mut self.overlay
                    && d.phase == SwitchPhase::Typing
                    && d.typed.chars().count() < 128
                {
                    d.typed.push(c);
                    d.hint = None;
                }
            }
            Action::DialogBackspace => {
                if let Some(Overlay::Switchover(d)) = &mut self.overlay
                    && d.phase == SwitchPhase::Typing
                {
                    d.typed.pop();
                    d.hint = None;
                }
            }
            Action::DialogConfirm => {
                // Re-checked at the moment of sending: the task may have moved on meanwhile.
                let still_increment = match &self.overlay {
                    Some(Overlay::Switchover(d)) => self
                        .tasks
                        .get(&d.task_key)
                        .is_some_and(|e| e.task.stage == Some(Stage::Increment)),
                    _ => false,
                };
                if let Some(Overlay::Switchover(d)) = &mut self.overlay {
                    match d.phase {
                        SwitchPhase::Typing if !still_increment => {
                            d.hint = Some(
                                "the task is no longer in stage increment; not sent".to_string(),
                            );
                        }
                        SwitchPhase::Typing if d.typed.trim() == d.instance => {
                            d.phase = SwitchPhase::Sending;
                            out.push(Command::Switchover {
                                instance: d.instance.clone(),
                            });
                        }
                        SwitchPhase::Typing => {
                            d.hint = Some(format!("type {} exactly to confirm", d.instance));
                        }
                        SwitchPhase::Sending => {}
                        SwitchPhase::Done(_) => self.overlay = None,
                    }
                }
            }
            Action::SwitchoverDone(result) => {
                let ok = result.is_ok();
                let answer = switchover_answer(result);
                match &mut self.overlay {
                    Some(Overlay::Switchover(d)) if d.phase == SwitchPhase::Sending => {
                        d.phase = SwitchPhase::Done(answer);
                    }
                    _ => {
                        let (title, text) = match answer {
                            Ok(t) => ("Switchover accepted".to_string(), t),
                            Err(t) => ("Switchover refused".to_string(), t),
                        };
                        self.overlay = Some(Overlay::Notice { title, text });
                    }
                }
                if ok {
                    out.push(Command::Poller(Control::PollNow));
                }
            }
            Action::Poll(ev) => self.on_poll(ev, &mut out),
            Action::Tick(now) => {
                // Countdowns and ages are shown in whole seconds: redraw when one moves.
                dirty = now.timestamp() != self.now.timestamp();
                self.now = now;
                self.refresh_verdicts(&mut out);
            }
            Action::Resize(w, h) => {
                self.size = (w, h);
                self.keep_selection_visible();
            }
        }
        if !self.config.bell {
            out.retain(|c| *c != Command::Bell);
        } else if out.iter().filter(|c| **c == Command::Bell).count() > 1 {
            // One bell per update is enough to flag the window.
            let mut seen = false;
            out.retain(|c| {
                let bell = *c == Command::Bell;
                let keep = !(bell && seen);
                seen |= bell;
                keep
            });
        }
        self.dirty |= dirty;
        out
    }

    fn select(&mut self, idx: usize) {
        let idx = idx.min(self.rows.len().saturating_sub(1));
        if idx != self.selected {
            self.selected = idx;
            self.log.scroll = 0;
            self.log.auto = true;
            self.refresh_matches();
            if let Some(s) = &mut self.log.search {
                s.current = None;
            }
        }
        self.keep_selection_visible();
    }

    fn scroll_log(&mut self, n: i64) {
        let Some((rows, h)) = self.log_geometry() else {
            return;
        };
        let max = rows.len().saturating_sub(h);
        let cur = self.log_scroll(&rows, h) as i64;
        let next = (cur + n).clamp(0, max as i64) as usize;
        if n < 0 {
            // Scrolling up leaves the tail.
            self.log.follow = false;
        }
        self.log.scroll = next;
        self.log.auto = false;
    }

    fn refresh_matches(&mut self) {
        let Some(search) = &self.log.search else {
            return;
        };
        let query = search.query.to_lowercase();
        let matches: Vec<usize> = match self.selected_task() {
            Some(e) => e
                .task
                .precheck
                .lines
                .iter()
                .enumerate()
                .filter(|(_, l)| {
                    ui::precheck_log::line_text(l)
                        .to_lowercase()
                        .contains(&query)
                })
                .map(|(i, _)| i)
                .collect(),
            None => Vec::new(),
        };
        if let Some(s) = &mut self.log.search {
            if s.current.is_some_and(|c| c >= matches.len()) {
                s.current = None;
            }
            s.matches = matches;
        }
    }

    /// Moves to the next (`dir` 1) or previous (-1) match; `first` picks the first match at or
    /// after the top of the view.
    fn jump_to_match(&mut self, dir: i64, first: bool) {
        let Some((rows, h)) = self.log_geometry() else {
            return;
        };
        let top = self.log_scroll(&rows, h);
        let Some(search) = &mut self.log.search else {
            return;
        };
        if search.matches.is_empty() {
            search.current = None;
            return;
        }
        let n = search.matches.len();
        let row_of = |line: usize| rows.iter().position(|r| r.line == line).unwrap_or(0);
        let idx = match (search.current, first) {
            (Some(c), false) => (c as i64 + dir).rem_euclid(n as i64) as usize,
            _ => {
                let after = search.matches.iter().position(|m| row_of(*m) >= top);
                match (after, dir) {
                    (Some(i), d) if d >= 0 => i,
                    (Some(i), _) => (i + n - 1) % n,
                    (None, d) if d >= 0 => 0,
                    (None, _) => n - 1,
                }
            }
        };
        search.current = Some(idx);
        let row = row_of(search.matches[idx]);
        if row < top || row >= top + h {
            self.log.scroll = row.saturating_sub(h / 3).min(rows.len().saturating_sub(h));
        } else {
            self.log.scroll = top;
        }
        self.log.follow = false;
        self.log.auto = false;
    }

    fn open_switchover(&mut self) {
        if !self.config.allow_switchover {
            self.overlay = Some(Overlay::Notice {
                title: "Switchover disabled".into(),
                text: "migtop calls ActivateMigrationTargetInstance only when started with \
                       --allow-switchover, e.g. `migtop watch --allow-switchover -i ID`."
                    .into(),
            });
            return;
        }
        let Some(entry) = self.selected_task() else {
            self.overlay = Some(Overlay::Notice {
                title: "No task selected".into(),
                text: "Select a task in stage increment first.".into(),
            });
            return;
        };
        if entry.task.stage != Some(Stage::Increment) {
            let stage = entry
                .task
                .stage
                .as_ref()
                .map_or("unknown".to_string(), |s| s.to_string());
            self.overlay = Some(Overlay::Notice {
                title: "Switchover not possible".into(),
                text: format!(
                    "A switchover is only possible in stage increment; task {} is in stage {stage}.",
                    entry.task.display_name()
                ),
            });
            return;
        }
        self.overlay = Some(Overlay::Switchover(SwitchDialog {
            task_key: entry.task.key(),
            instance: entry.task.instance.clone(),
            typed: String::new(),
            phase: SwitchPhase::Typing,
            hint: None,
        }));
    }

    fn on_poll(&mut self, ev: PollEvent, out: &mut Vec<Command>) {
        match ev {
            PollEvent::Started { instance, at } => {
                if let Some(i) = self.instances.iter_mut().find(|i| i.name == instance) {
                    i.polling_since = Some(at);
                    i.next_poll = None;
                }
            }
            PollEvent::Scheduled { instance, next } => {
                if let Some(i) = self.instances.iter_mut().find(|i| i.name == instance) {
                    i.next_poll = next;
                }
            }
            PollEvent::Finished(r) => self.on_result(r, out),
        }
    }

    fn on_result(&mut self, r: PollResult, out: &mut Vec<Command>) {
        if r.at > self.now {
            self.now = r.at;
        }
        let Some(idx) = self.instances.iter().position(|i| i.name == r.instance) else {
            return;
        };
        let keep = self.keep();
        let inst = &mut self.instances[idx];
        inst.polling_since = None;
        match r.result {
            Ok(snap) => {
                inst.last_ok = Some(r.at);
                inst.last_error = None;
                inst.failures = 0;
                inst.request_id = snap.request_id.clone();
                inst.item_errors = snap.item_errors.clone();
                let sample = match (&mut self.source, r.source) {
                    (Some(src), Some(report)) => {
                        src.push(r.at, report, keep);
                        src.sample().cloned()
                    }
                    _ => None,
                };
                self.apply_snapshot(snap, r.at, keep, sample.as_ref(), out);
            }
            Err(e) => {
                inst.last_error = Some((r.at, e));
                inst.failures += 1;
                for entry in self.tasks.values_mut() {
                    if entry.task.instance == r.instance {
                        entry.history.push(
                            Sample {
                                at: r.at,
                                data: None,
                            },
                            keep,
                        );
                    }
                }
            }
        }
        self.rebuild_rows();
        self.refresh_verdicts(out);
        self.refresh_matches();
    }

    fn apply_snapshot(
        &mut self,
        snap: InstanceSnapshot,
        at: DateTime<Utc>,
        keep: Duration,
        source: Option<&crate::probe::SourceSample>,
        out: &mut Vec<Command>,
    ) {
        let probed = self.source.is_some();
        let mut seen = Vec::new();
        for task in snap.tasks {
            let key = task.key();
            seen.push(key.clone());
            let sample = Sample {
                at,
                data: Some(SampleData::probed(&task, probed, source)),
            };
            match self.tasks.get_mut(&key) {
                Some(entry) => {
                    if entry.task.stage != task.stage {
                        entry.stage_since = at;
                        entry.stage_since_exact = true;
                        out.push(Command::Bell);
                    }
                    if task.replication_state == Some(ReplicationState::Disconnect)
                        && entry.task.replication_state != Some(ReplicationState::Disconnect)
                    {
                        out.push(Command::Bell);
                    }
                    entry.task = task;
                    entry.history.push(sample, keep);
                }
                None => {
                    let mut history = History::default();
                    history.push(sample, keep);
                    self.tasks.insert(
                        key,
                        TaskEntry {
                            task,
                            history,
                            first_seen: at,
                            stage_since: at,
                            stage_since_exact: false,
                            verdict: Verdict::NotReady(vec![readiness::Reason::NoData]),
                        },
                    );
                }
            }
        }
        // Tasks no longer listed for this instance are gone.
        self.tasks
            .retain(|k, e| e.task.instance != snap.instance || seen.contains(k));
    }

    fn refresh_verdicts(&mut self, out: &mut Vec<Command>) {
        let stale: HashMap<String, Option<Duration>> = self
            .instances
            .iter()
            .map(|i| (i.name.clone(), self.stale_age(i)))
            .collect();
        let cfg = self.config.readiness;
        for entry in self.tasks.values_mut() {
            let samples: Vec<&Sample> = entry.history.samples().iter().collect();
            let st = stale.get(&entry.task.instance).copied().flatten();
            let v = readiness::evaluate(&samples, st, &cfg);
            let (old, new) = (entry.verdict.kind(), v.kind());
            if old != new
                && (new == VerdictKind::Drained
                    || (new == VerdictKind::InSync && old == VerdictKind::NotReady))
            {
                out.push(Command::Bell);
            }
            entry.verdict = v;
        }
    }

    fn rebuild_rows(&mut self) {
        let selected_key = self.rows.get(self.selected).cloned();
        let mut rows = Vec::new();
        for (idx, inst) in self.instances.iter().enumerate() {
            let mut keys: Vec<(&TaskEntry, &String)> = self
                .tasks
                .iter()
                .filter(|(_, e)| e.task.instance == inst.name)
                .map(|(k, e)| (e, k))
                .collect();
            keys.sort_by(|a, b| {
                (a.0.task.task_id, &a.0.task.task_name, a.1).cmp(&(
                    b.0.task.task_id,
                    &b.0.task.task_name,
                    b.1,
                ))
            });
            if keys.is_empty() {
                rows.push(RowRef::Instance(idx));
            } else {
                rows.extend(keys.into_iter().map(|(_, k)| RowRef::Task(k.clone())));
            }
        }
        self.rows = rows;
        if let Some(k) = selected_key {
            if let Some(pos) = self.rows.iter().position(|r| *r == k) {
                self.selected = pos;
            } else if let RowRef::Task(key) = &k {
                // The task vanished; stay on its instance.
                let inst = key.split('/').next().unwrap_or("");
                if let Some(pos) = self.rows.iter().position(|r| match r {
                    RowRef::Task(k2) => k2.split('/').next() == Some(inst),
                    RowRef::Instance(i) => self.instances[*i].name == inst,
                }) {
                    self.selected = pos;
                }
            }
        }
        self.selected = self.selected.min(self.rows.len().saturating_sub(1));
        self.keep_selection_visible();
    }
}

fn switchover_answer(result: Result<serde_json::Value, ApiError>) -> Result<String, String> {
    match result {
        Ok(v) => {
            let field = |k: &str| crate::model::value::text(v.get(k));
            let mut parts = vec!["ActivateMigrationTargetInstance accepted".to_string()];
            if let Some(t) = field("TaskId") {
                parts.push(format!("task {t}"));
            }
            if let Some(r) = field("RequestId") {
                parts.push(format!("request id {r}"));
            }
            Ok(parts.join(", ") + ".")
        }
        Err(e) => Err(e.to_string()),
    }
}
