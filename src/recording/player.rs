//! Replaying a recording through the dashboard's own state: the same [`App`], fed the recorded
//! polls in order, with the recording's clock as "now".
//!
//! [`Player`] holds no terminal and does no I/O: the event loop gives it the wall time that
//! passed and the keys; it moves the recording's clock and feeds the app. Stepping back
//! rebuilds the app from the nearest checkpoint (the app's state only moves forward).

use std::collections::HashMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use crate::app::{Action, App, AppConfig};
use crate::model::Stage;
use crate::poller::PollEvent;
use crate::recording::{Entry, Recording};
use crate::verdict::readiness::VerdictKind;

/// The slowest and fastest replay speeds.
pub const SPEED_RANGE: (f64, f64) = (0.01, 10000.0);

/// The poll interval of a recording, guessed from the gaps between the polls of each
/// instance (their median, to the second); `None` with fewer than two polls of an instance.
pub fn guess_interval(rec: &Recording) -> Option<Duration> {
    let mut last: HashMap<&str, DateTime<Utc>> = HashMap::new();
    let mut gaps: Vec<i64> = Vec::new();
    for p in rec.polls() {
        if let Some(prev) = last.insert(&p.instance, p.started) {
            let ms = (p.started - prev).num_milliseconds();
            if ms > 0 {
                gaps.push(ms);
            }
        }
    }
    if gaps.is_empty() {
        return None;
    }
    gaps.sort_unstable();
    let median = gaps[gaps.len() / 2];
    let secs = ((median as f64) / 1000.0).round().clamp(1.0, 3600.0);
    Some(Duration::from_secs(secs as u64))
}

/// The dashboard settings for a recording: its instances and probe, `base` for the rest.
pub fn app_config(rec: &Recording, mut base: AppConfig) -> AppConfig {
    base.instances = rec.instances();
    base.source_probe = rec.probe_target();
    base.allow_switchover = false;
    base.bell = false;
    base.command = "replay".into();
    base
}

/// For each entry, when the next poll of the same instance started (the dashboard's
/// "next in" countdown), if there is one.
fn next_starts(entries: &[Entry]) -> Vec<Option<DateTime<Utc>>> {
    let mut next: HashMap<&str, DateTime<Utc>> = HashMap::new();
    let mut out = vec![None; entries.len()];
    for (i, e) in entries.iter().enumerate().rev() {
        if let Entry::Poll(p) = e {
            out[i] = next.get(p.instance.as_str()).copied();
            next.insert(&p.instance, p.started);
        }
    }
    out
}

/// Feeds entry `e` to `app` as the pollers would have: the finished poll, then the schedule.
pub fn feed(app: &mut App, e: &Entry, next_start: Option<DateTime<Utc>>) {
    if let Entry::Poll(p) = e {
        app.update(Action::Poll(PollEvent::Finished(p.to_poll_result())));
        app.update(Action::Poll(PollEvent::Scheduled {
            instance: p.instance.clone(),
            next: next_start,
        }));
    }
}

/// What each task looks like for change detection: stage and verdict.
fn task_marks(app: &App) -> HashMap<String, (Option<Stage>, VerdictKind)> {
    app.tasks()
        .iter()
        .map(|(k, e)| (k.clone(), (e.task.stage.clone(), e.verdict.kind())))
        .collect()
}

/// The dashboard on a recording.
pub struct Player {
    entries: Vec<Entry>,
    next_start: Vec<Option<DateTime<Utc>>>,
    app: App,
    /// How many entries the app has been fed.
    applied: usize,
    /// The recording's clock: what the dashboard takes as "now".
    clock: DateTime<Utc>,
    paused: bool,
    speed: f64,
    /// The app after `n` entries, every so many entries (always one at 0).
    checkpoints: Vec<(usize, App)>,
    /// Entry counts right after which a task's stage or verdict changed.
    marks: Vec<usize>,
    /// Gaps longer than this (another run appended later) are skipped, not waited out.
    gap_skip: chrono::Duration,
    /// The replay's own state (label, pause) changed since the last draw.
    dirty: bool,
}

impl Player {
    /// A player at the start of `rec` (nothing fed yet), playing at `speed`.
    pub fn new(rec: Recording, config: AppConfig, speed: f64) -> Player {
        let entries = rec.entries;
        let next_start = next_starts(&entries);
        let start = entries.first().map(Entry::at).unwrap_or_else(Utc::now);
        let gap_skip =
            chrono::Duration::from_std((config.interval * 10).max(Duration::from_secs(60)))
                .unwrap_or(chrono::Duration::MAX);
        let fresh = App::new(config, start);
        // One pass to find the changes and keep checkpoints (at most about 32 of them).
        let every = (entries.len() / 32).max(64);
        let mut checkpoints = vec![(0, fresh.clone())];
        let mut marks = Vec::new();
        let mut scratch = fresh.clone();
        let mut before = task_marks(&scratch);
        for (i, e) in entries.iter().enumerate() {
            feed(&mut scratch, e, next_start[i]);
            let after = task_marks(&scratch);
            let changed = after
                .iter()
                .any(|(k, v)| before.get(k).is_some_and(|old| old != v));
            if changed {
                marks.push(i + 1);
            }
            before = after;
            if (i + 1) % every == 0 {
                checkpoints.push((i + 1, scratch.clone()));
            }
        }
        let mut p = Player {
            entries,
            next_start,
            app: fresh,
            applied: 0,
            clock: start,
            paused: false,
            speed: speed.clamp(SPEED_RANGE.0, SPEED_RANGE.1),
            checkpoints,
            marks,
            gap_skip,
            dirty: true,
        };
        // Start on the first poll, so there is something to see at once.
        p.forward_to(1);
        p.relabel();
        p
    }

    /// The dashboard state to draw.
    pub fn app(&self) -> &App {
        &self.app
    }

    /// The terminal was resized.
    pub fn resize(&mut self, w: u16, h: u16) {
        self.app.update(Action::Resize(w, h));
    }

    /// How many entries have been played.
    pub fn position(&self) -> usize {
        self.applied
    }

    /// How many entries the recording has.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the recording has no entries.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The recording's clock.
    pub fn clock(&self) -> DateTime<Utc> {
        self.clock
    }

    /// Whether playing is paused (by the DBA or at the end).
    pub fn paused(&self) -> bool {
        self.paused
    }

    /// The entry counts right after a stage or verdict change.
    pub fn marks(&self) -> &[usize] {
        &self.marks
    }

    /// Whether something changed since the last call: the app or the replay's own state.
    pub fn take_dirty(&mut self) -> bool {
        let app = self.app.take_dirty();
        std::mem::take(&mut self.dirty) || app
    }

    /// Whether something changed since the last [`Player::take_dirty`], without clearing it.
    pub fn is_dirty(&self) -> bool {
        self.dirty || self.app.is_dirty()
    }

    /// Whether the DBA asked to quit.
    pub fn quit(&self) -> bool {
        self.app.quit()
    }

    /// Lets `real` wall time pass: the clock moves `speed` times as far and every entry up to
    /// it is played. Stops (paused) at the end.
    pub fn advance(&mut self, real: Duration) {
        if self.paused || self.entries.is_empty() {
            return;
        }
        let step = chrono::Duration::from_std(real.mul_f64(self.speed)).unwrap_or_default();
        let mut clock = self.clock + step;
        if let Some(next) = self.entries.get(self.applied)
            && next.at() - clock > self.gap_skip
        {
            // A long silence (e.g. another run appended later): jump to just before it.
            clock = next.at() - chrono::Duration::seconds(1);
        }
        let mut n = self.applied;
        while n < self.entries.len() && self.entries[n].at() <= clock {
            n += 1;
        }
        self.forward_to(n);
        self.clock = clock.max(self.clock);
        if self.applied >= self.entries.len() {
            self.paused = true;
            self.clock = self.entries[self.entries.len() - 1].at();
        }
        self.app.update(Action::Tick(self.clock));
        self.relabel();
    }

    /// Plays forward until `n` entries are applied.
    fn forward_to(&mut self, n: usize) {
        let n = n.min(self.entries.len());
        while self.applied < n {
            let i = self.applied;
            feed(&mut self.app, &self.entries[i], self.next_start[i]);
            self.applied += 1;
            self.clock = self.clock.max(self.entries[i].at());
        }
    }

    /// Moves to exactly `n` entries applied, forwards or backwards, keeping what the DBA
    /// looks at (selection, focus, log position, size).
    pub fn seek(&mut self, n: usize) {
        let n = n.min(self.entries.len());
        if n >= self.applied {
            self.forward_to(n);
        } else {
            let (at, base) = self
                .checkpoints
                .iter()
                .rev()
                .find(|(at, _)| *at <= n)
                .expect("a checkpoint at 0");
            let mut app = base.clone();
            for i in *at..n {
                feed(&mut app, &self.entries[i], self.next_start[i]);
            }
            // Keep what the DBA looks at (selection, focus, log position, size).
            app.update(Action::RestoreView(Box::new(self.app.view_state())));
            self.app = app;
            self.applied = n;
        }
        self.clock = match n {
            0 => self.entries.first().map(Entry::at).unwrap_or(self.clock),
            _ => self.entries[n - 1].at(),
        };
        self.app.update(Action::Tick(self.clock));
        self.relabel();
    }

    /// Maps a key: the replay's own keys first, the rest to the dashboard (minus what would
    /// talk to the API).
    pub fn on_key(&mut self, key: KeyEvent) {
        if key.kind == KeyEventKind::Release {
            return;
        }
        let plain = !key.modifiers.contains(KeyModifiers::CONTROL);
        let dialog_open = self.app.overlay().is_some() || self.app.log().input.is_some();
        if plain && !dialog_open {
            match key.code {
                KeyCode::Char(' ') | KeyCode::Char('p') => {
                    if self.applied >= self.entries.len() && self.paused {
                        // At the end, play again from the start.
                        self.seek(1);
                    }
                    self.paused = !self.paused;
                    self.relabel();
                    return;
                }
                KeyCode::Right | KeyCode::Char('l') => {
                    self.paused = true;
                    self.seek(self.applied + 1);
                    return;
                }
                KeyCode::Left | KeyCode::Char('h') => {
                    self.paused = true;
                    self.seek(self.applied.saturating_sub(1).max(1));
                    return;
                }
                KeyCode::Char(']') => {
                    self.paused = true;
                    let next = self.marks.iter().find(|m| **m > self.applied).copied();
                    self.seek(next.unwrap_or(self.entries.len()));
                    return;
                }
                KeyCode::Char('[') => {
                    self.paused = true;
                    let prev = self
                        .marks
                        .iter()
                        .rev()
                        .find(|m| **m < self.applied)
                        .copied();
                    self.seek(prev.unwrap_or(1));
                    return;
                }
                KeyCode::Char('+') | KeyCode::Char('=') => {
                    self.speed = (self.speed * 2.0).min(SPEED_RANGE.1);
                    self.relabel();
                    return;
                }
                KeyCode::Char('-') | KeyCode::Char('_') => {
                    self.speed = (self.speed / 2.0).max(SPEED_RANGE.0);
                    self.relabel();
                    return;
                }
                KeyCode::Char('r') => return,
                KeyCode::Char('S') => {
                    self.app.update(Action::Notice {
                        title: "Replay".into(),
                        text: "This is a recording: nothing is sent to the API.".into(),
                    });
                    return;
                }
                _ => {}
            }
        }
        // Effects (poller control, bell, switchover) have nowhere to go in a replay, and
        // pausing is the replay's own (above): polling's badge must not claim it.
        match self.app.key_action(key) {
            Some(Action::TogglePause) | None => {}
            Some(action) => {
                let _ = self.app.update(action);
            }
        }
    }

    /// The header label: replay, the recording's time, speed and position.
    fn relabel(&mut self) {
        self.dirty = true;
        let local = self
            .clock
            .with_timezone(&self.app.config().local_offset)
            .format("%H:%M:%S");
        let state = if self.applied >= self.entries.len() && self.paused {
            "end".to_string()
        } else if self.paused {
            "paused".to_string()
        } else {
            format!("×{}", trim_float(self.speed))
        };
        self.app.update(Action::SetLabel(Some(format!(
            "replay {local} {state} {}/{}",
            self.applied,
            self.entries.len()
        ))));
    }
}

fn trim_float(v: f64) -> String {
    let s = format!("{v:.2}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aliyun::InstanceSnapshot;
    use crate::app::Overlay;
    use crate::model::Page;
    use crate::poller::PollResult;
    use crate::recording::{PollRecord, encode};
    use serde_json::json;

    fn t(s: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_780_000_000 + s, 0).unwrap()
    }

    fn lsn(v: u64) -> String {
        format!("{:X}/{:X}", v >> 32, v & 0xFFFF_FFFF)
    }

    /// A poll at `s` seconds of one task in `stage` with `lag` bytes and the source at `end`.
    fn poll(s: i64, stage: &str, end: u64, lag: u64) -> Entry {
        let ri = json!({
            "Status": "streaming", "ReceivedLsn": lsn(end), "LatestEndLsn": lsn(end),
            "ReplayLsn": lsn(end - lag), "Synced": "true", "ReceivedTli": "1",
        })
        .to_string();
        let body = json!({"Items": [{"TaskId": 1, "TaskName": "t", "MigrateStage": stage,
            "ReplicationState": "streaming", "ReplicationInfo": ri}]});
        let page = Page::from_json("pgm-1", &body).unwrap();
        Entry::Poll(PollRecord::from(&PollResult {
            instance: "pgm-1".into(),
            started: t(s),
            at: t(s),
            result: Ok(InstanceSnapshot {
                instance: "pgm-1".into(),
                request_id: None,
                tasks: page.tasks,
                item_errors: vec![],
                ..Default::default()
            }),
            source: None,
        }))
    }

    /// Two minutes at 5 s: basebackup, then increment with the lag falling, then drained.
    fn recording() -> Recording {
        let mut text = String::new();
        for i in 0..24 {
            let s = i * 5;
            let e = match s {
                0..=10 => poll(s, "basebackup", 1 << 30, 0),
                _ => {
                    let lag = (100u64 << 20).saturating_sub(s as u64 * (2 << 20));
                    poll(
                        s,
                        "increment",
                        (1 << 30) + (s.min(80) as u64) * 4096,
                        lag.min(1 << 20) * (s < 80) as u64,
                    )
                }
            };
            text.push_str(&encode(&e));
        }
        Recording::parse(&text)
    }

    fn player() -> Player {
        let rec = recording();
        let mut c = AppConfig::new(vec![]);
        c.interval = guess_interval(&rec).unwrap();
        Player::new(rec.clone(), app_config(&rec, c), 1.0)
    }

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    #[test]
    fn plus_is_faster_as_the_help_says() {
        let mut p = player();
        p.on_key(key(KeyCode::Char('+')));
        assert!(p.app().config().label.as_deref().unwrap().contains("×2"));
        p.on_key(key(KeyCode::Char('-')));
        p.on_key(key(KeyCode::Char('-')));
        assert!(p.app().config().label.as_deref().unwrap().contains("×0.5"));
        // ui::help::REPLAY_KEYS says "+/-  replay: faster / slower" (tested there).
    }

    #[test]
    fn the_interval_is_guessed_from_the_polls() {
        assert_eq!(guess_interval(&recording()), Some(Duration::from_secs(5)));
        assert_eq!(guess_interval(&Recording::default()), None);
    }

    #[test]
    fn plays_at_the_recordings_clock() {
        let mut p = player();
        assert_eq!(p.position(), 1);
        assert_eq!(p.app().now(), t(0));
        p.advance(Duration::from_secs(12));
        assert_eq!(p.position(), 3, "polls at 0, 5 and 10 s");
        assert_eq!(p.app().now(), t(12));
        let inst = &p.app().instances()[0];
        assert_eq!(
            inst.next_poll,
            Some(t(15)),
            "the countdown follows the recording"
        );
        p.advance(Duration::from_secs(1000));
        assert_eq!(p.position(), p.len());
        assert!(p.paused());
        assert!(p.app().config().label.as_deref().unwrap().contains("end"));
    }

    #[test]
    fn stepping_back_gives_the_same_state_as_playing_forward() {
        let mut a = player();
        a.seek(20);
        let mut b = player();
        b.seek(23);
        b.on_key(key(KeyCode::Left));
        b.on_key(key(KeyCode::Left));
        b.on_key(key(KeyCode::Left));
        assert_eq!(b.position(), 20);
        assert!(b.paused());
        let (ta, tb) = (a.app().tasks(), b.app().tasks());
        assert_eq!(ta.len(), tb.len());
        for (k, e) in ta {
            assert_eq!(e.verdict, tb[k].verdict);
            assert_eq!(e.history.samples(), tb[k].history.samples());
        }
        assert_eq!(a.app().now(), b.app().now());
    }

    #[test]
    fn brackets_jump_between_changes() {
        let mut p = player();
        let marks = p.marks().to_vec();
        assert!(marks.len() >= 2, "{marks:?}");
        // The stage change basebackup → increment comes with the 4th poll.
        assert_eq!(marks[0], 4);
        p.on_key(key(KeyCode::Char(']')));
        assert_eq!(p.position(), 4);
        let e = p.app().tasks().values().next().unwrap();
        assert_eq!(e.task.stage, Some(Stage::Increment));
        p.on_key(key(KeyCode::Char(']')));
        assert_eq!(p.position(), marks[1]);
        p.on_key(key(KeyCode::Char('[')));
        assert_eq!(p.position(), 4);
        p.on_key(key(KeyCode::Char('[')));
        assert_eq!(p.position(), 1);
    }

    #[test]
    fn space_pauses_and_nothing_reaches_the_api() {
        let mut p = player();
        while p.take_dirty() {}
        p.on_key(key(KeyCode::Char(' ')));
        assert!(p.paused());
        assert!(p.take_dirty(), "the label changed: redraw");
        p.advance(Duration::from_secs(60));
        assert_eq!(p.position(), 1);
        while p.take_dirty() {}
        p.on_key(key(KeyCode::Char('S')));
        assert!(matches!(p.app().overlay(), Some(Overlay::Notice { .. })));
        assert!(p.take_dirty(), "the notice is drawn, not left invisible");
        p.on_key(key(KeyCode::Esc));
        assert!(p.app().overlay().is_none());
        assert!(p.take_dirty(), "closing it is drawn too");
        p.on_key(key(KeyCode::Char(' ')));
        assert!(!p.paused());
        p.on_key(key(KeyCode::Char('+')));
        p.advance(Duration::from_secs(5));
        assert_eq!(p.position(), 3, "twice as fast: 10 s of recording");
    }
}
