//! The dashboard's event loop: pollers, state and screen tied together (used by `watch`,
//! `demo` and `lab`).

pub mod tui;

use std::io::IsTerminal;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use chrono::{DateTime, Utc};
use crossterm::event::Event;
use futures::future::BoxFuture;
use tokio::sync::mpsc;

use crate::aliyun::{ApiError, RdsClient};
use crate::app::{Action, App, AppConfig, Effect, LabCommand, Overlay};
use crate::metrics::Metrics;
use crate::poller::{PollEvent, Poller, SnapshotSource};
use crate::probe::Probe;
use crate::recording::{Entry, Recorder, RecordingError, SwitchoverRecord};
use crate::util::error::{EXIT_OK, UsageError};
use crate::util::signals::{StopSignal, StopSignals};
use tui::Tui;

/// How long a change from the pollers may wait for others to share its frame. The pollers
/// run in step, so one round of polls (a request out, its answer, the next time, for every
/// instance) arrives within a few milliseconds on a near endpoint: drawn as it comes, that
/// was three frames per instance per round. Keys, resizes and the clock draw at once.
const FRAME_SETTLE: Duration = Duration::from_millis(40);

/// Refuses to open the dashboard without a terminal on stdin and stdout.
pub fn require_terminal() -> Result<(), UsageError> {
    if !std::io::stdout().is_terminal() || !std::io::stdin().is_terminal() {
        return Err(UsageError(
            "the dashboard needs a terminal; for scripts use `migtop status` (with --output json)"
                .into(),
        ));
    }
    Ok(())
}

/// What the lab's keys act on, provided by `migtop lab`: the app only emits [`Effect::Lab`],
/// this loop hands it over and feeds the answer back as [`Action::LabDone`].
pub trait LabControl: Send + Sync {
    /// Carries out `cmd`; says what it did, or why it could not.
    fn apply(&self, cmd: LabCommand) -> BoxFuture<'static, Result<String, String>>;
}

/// What a dashboard session has besides the screen and the API: `recorder` gets every
/// finished poll and every switchover answer (if writing fails, the dashboard says so and goes
/// on without recording); `metrics` is kept current from the same poll results and state (a
/// few map operations in this loop; scrapes are answered on the server's own task); `lab`
/// carries out the lab keys.
#[derive(Default)]
pub struct Extras {
    pub recorder: Option<Recorder>,
    pub metrics: Option<Arc<Metrics>>,
    pub lab: Option<Arc<dyn LabControl>>,
}

/// Runs the dashboard until the DBA quits or a signal ends it; the terminal is restored in
/// every case. With `probe`, the source is read after every successful poll and the true lag
/// shown next to the reported one (`config` names its target: see the commands' builder).
/// See [`Extras`] for what else a session may have.
pub async fn run(
    source: Arc<dyn SnapshotSource>,
    client: Option<RdsClient>,
    probe: Option<Box<dyn Probe>>,
    config: AppConfig,
    extras: Extras,
) -> anyhow::Result<i32> {
    let Extras {
        mut recorder,
        metrics,
        lab,
    } = extras;
    let probe = probe.map(|p| Arc::new(tokio::sync::Mutex::new(p)));
    let (poll_tx, mut poll_rx) = mpsc::channel(256);
    let poller = Poller::spawn(source, &config.instances, config.interval, probe, poll_tx);
    let (switch_tx, mut switch_rx) =
        mpsc::unbounded_channel::<Result<serde_json::Value, ApiError>>();
    let (lab_tx, mut lab_rx) = mpsc::unbounded_channel::<Result<String, String>>();
    let mut signals = StopSignals::listen()?;

    let mut app = App::new(config, Utc::now());
    let mut tui = Tui::enter().context("cannot set up the terminal")?;
    if let Ok((w, h)) = tui.size() {
        app.update(Action::Resize(w, h));
    }
    let mut events = tui::Input::spawn();
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    // The signal that ended the session, for the exit code 128 + n.
    let mut ended_by: Option<StopSignal> = None;
    // The switchover sent and not yet answered: instance, task id, when (for the recording).
    let mut pending_switch: Option<(String, Option<i64>, DateTime<Utc>)> = None;
    // When the changes waiting for a frame get one; `None` while none waits.
    let mut frame_due: Option<tokio::time::Instant> = None;
    // Whether the last event should be seen at once (all but the pollers').
    let mut urgent = true;

    loop {
        if app.quit() || tui::panicked() {
            break;
        }
        if app.is_dirty() {
            let now = tokio::time::Instant::now();
            if urgent || frame_due.is_some_and(|due| due <= now) {
                app.take_dirty();
                frame_due = None;
                tui.draw(&app)?;
            } else if frame_due.is_none() {
                frame_due = Some(now + FRAME_SETTLE);
            }
        }
        urgent = true;
        let effects = tokio::select! {
            ev = events.next() => match ev {
                Some(Ok(Event::Key(k))) => app.on_key(k),
                Some(Ok(Event::Mouse(m))) => app.on_mouse(m),
                Some(Ok(Event::Resize(w, h))) => app.update(Action::Resize(w, h)),
                Some(Ok(_)) => Vec::new(),
                Some(Err(e)) => {
                    tracing::error!("terminal input failed: {e}");
                    break;
                }
                None => break,
            },
            Some(ev) = poll_rx.recv() => {
                urgent = false;
                if let PollEvent::Finished(r) = &ev {
                    record(&mut recorder, &mut app, |rec| rec.append(r));
                }
                if let Some(m) = &metrics {
                    m.observe_event(&ev);
                }
                let effects = app.update(Action::Poll(ev));
                if let Some(m) = &metrics {
                    m.observe_app(&app);
                }
                effects
            }
            Some(res) = switch_rx.recv() => {
                if let Some((instance, task_id, requested)) = pending_switch.take() {
                    let entry = switchover_entry(instance, task_id, requested, &res);
                    record(&mut recorder, &mut app, |rec| rec.append_entry(&entry));
                }
                app.update(Action::SwitchoverDone(res))
            }
            Some(res) = lab_rx.recv() => app.update(Action::LabDone(res)),
            _ = tick.tick() => {
                let effects = app.update(Action::Tick(Utc::now()));
                if let Some(m) = &metrics {
                    m.observe_app(&app);
                }
                effects
            }
            sig = signals.recv() => { ended_by = Some(sig); break }
            _ = tokio::time::sleep_until(frame_due.unwrap_or_else(tokio::time::Instant::now)),
                if frame_due.is_some() => Vec::new(),
        };
        for effect in effects {
            match effect {
                Effect::Poller(ctl) => poller.send(ctl),
                Effect::Bell => {
                    let _ = tui.bell();
                }
                Effect::Lab(cmd) => match &lab {
                    Some(lab) => {
                        let done = lab.apply(cmd);
                        let tx = lab_tx.clone();
                        tokio::spawn(async move {
                            let _ = tx.send(done.await);
                        });
                    }
                    None => {
                        let _ = lab_tx.send(Err("no lab in this session".into()));
                    }
                },
                Effect::Switchover { instance } => match &client {
                    Some(client) => {
                        let task_id = match &app.overlay() {
                            Some(Overlay::Switchover(d)) => {
                                d.task_key.rsplit('/').next().and_then(|id| id.parse().ok())
                            }
                            _ => None,
                        };
                        pending_switch = Some((instance.clone(), task_id, Utc::now()));
                        let client = client.clone();
                        let tx = switch_tx.clone();
                        tracing::warn!(instance = %instance, "switchover requested");
                        tokio::spawn(async move {
                            let res = client.activate_migration_target(&instance).await;
                            tracing::warn!(instance = %instance, ok = res.is_ok(), "switchover answered");
                            let _ = tx.send(res);
                        });
                    }
                    None => {
                        let _ = switch_tx.send(Err(ApiError::BadResponse {
                            http_status: 0,
                            message: "no API client in this session".into(),
                        }));
                    }
                },
            }
        }
    }
    drop(poller);
    tui.restore();
    if tui::panicked() {
        anyhow::bail!("internal error (see the message above); the terminal was restored");
    }
    if let Some(sig) = ended_by {
        tracing::info!("ended by {}", sig.name());
        return Ok(sig.exit_code());
    }
    Ok(EXIT_OK)
}

/// Appends to the recording with `write`; a failure stops the recording and says so on screen
/// (the dashboard itself goes on).
fn record(
    recorder: &mut Option<Recorder>,
    app: &mut App,
    write: impl FnOnce(&mut Recorder) -> Result<(), RecordingError>,
) {
    let Some(rec) = recorder.as_mut() else { return };
    if let Err(e) = write(rec) {
        tracing::error!("{e}");
        app.update(Action::Notice {
            title: "Recording stopped".into(),
            text: format!("{e}. The dashboard goes on without recording."),
        });
        *recorder = None;
    }
}

/// A switchover's answer as a line of the recording.
fn switchover_entry(
    instance: String,
    task_id: Option<i64>,
    requested: DateTime<Utc>,
    res: &Result<serde_json::Value, ApiError>,
) -> Entry {
    let message = match res {
        Ok(v) => match crate::model::value::text(v.get("RequestId")) {
            Some(id) => format!("ActivateMigrationTargetInstance accepted, request id {id}"),
            None => "ActivateMigrationTargetInstance accepted".to_string(),
        },
        Err(e) => e.to_string(),
    };
    Entry::Switchover(SwitchoverRecord {
        instance,
        task_id,
        requested,
        at: Utc::now(),
        accepted: res.is_ok(),
        message,
        origin: "dashboard".into(),
    })
}
