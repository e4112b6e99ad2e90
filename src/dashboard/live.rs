//! The live session (`watch`, `demo`, `lab`): pollers, the API's and the lab's answers and
//! the wall clock feed the app; its effects go to the pollers, the API and the lab.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use crossterm::event::Event;
use futures::future::BoxFuture;
use tokio::sync::mpsc;

use super::tui::Tui;
use super::{Fed, Session};
use crate::aliyun::{ApiError, RdsClient};
use crate::app::{Action, App, AppConfig, Effect, LabCommand, Overlay};
use crate::metrics::Metrics;
use crate::poller::{PollEvent, Poller, SnapshotSource};
use crate::probe::Probe;
use crate::recording::writer::{RecordWriter, WriterError};
use crate::recording::{Entry, Recorder, SwitchoverRecord};

/// What the lab's keys act on, provided by `migtop lab`: the app only emits [`Effect::Lab`],
/// the session hands it over and feeds the answer back as [`Action::LabDone`].
pub trait LabControl: Send + Sync {
    /// Carries out `cmd`; says what it did, or why it could not.
    fn apply(&self, cmd: LabCommand) -> BoxFuture<'static, Result<String, String>>;
}

/// What a dashboard session has besides the screen and the API: `recorder` gets every
/// finished poll and every switchover answer, written off the event loop (if writing fails,
/// the dashboard says so and goes on without recording); `metrics` is kept current from the
/// same poll results and state (a few map operations in this loop; scrapes are answered on
/// the server's own task); `lab` carries out the lab keys.
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
    let mut live = Live::start(source, client, probe, config, extras);
    let code = super::run_session(&mut live).await;
    live.finish().await;
    code
}

/// The switchover sent and not yet answered: instance, task id, when (for the recording).
type PendingSwitch = (String, Option<i64>, DateTime<Utc>);

/// A live dashboard session.
struct Live {
    app: App,
    poller: Poller,
    poll_rx: mpsc::Receiver<PollEvent>,
    client: Option<RdsClient>,
    switch_tx: mpsc::UnboundedSender<Result<serde_json::Value, ApiError>>,
    switch_rx: mpsc::UnboundedReceiver<Result<serde_json::Value, ApiError>>,
    pending_switch: Option<PendingSwitch>,
    lab: Option<Arc<dyn LabControl>>,
    lab_tx: mpsc::UnboundedSender<Result<String, String>>,
    lab_rx: mpsc::UnboundedReceiver<Result<String, String>>,
    recorder: Option<RecordWriter>,
    metrics: Option<Arc<Metrics>>,
    tick: tokio::time::Interval,
}

impl Live {
    /// Starts the pollers (and the recording's writer); nothing is drawn yet.
    fn start(
        source: Arc<dyn SnapshotSource>,
        client: Option<RdsClient>,
        probe: Option<Box<dyn Probe>>,
        config: AppConfig,
        extras: Extras,
    ) -> Live {
        let probe = probe.map(|p| Arc::new(tokio::sync::Mutex::new(p)));
        let (poll_tx, poll_rx) = mpsc::channel(256);
        let poller = Poller::spawn(source, &config.instances, config.interval, probe, poll_tx);
        let (switch_tx, switch_rx) = mpsc::unbounded_channel();
        let (lab_tx, lab_rx) = mpsc::unbounded_channel();
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        Live {
            app: App::new(config, Utc::now()),
            poller,
            poll_rx,
            client,
            switch_tx,
            switch_rx,
            pending_switch: None,
            lab: extras.lab,
            lab_tx,
            lab_rx,
            recorder: extras.recorder.map(RecordWriter::spawn),
            metrics: extras.metrics,
            tick,
        }
    }

    /// Stops the pollers and writes what is still queued for the recording.
    async fn finish(self) {
        drop(self.poller);
        if let Some(w) = self.recorder {
            w.finish().await;
        }
    }

    fn on_poll(&mut self, ev: PollEvent) -> Vec<Effect> {
        if let PollEvent::Finished(r) = &ev {
            let sent = self.recorder.as_mut().map(|w| w.send_poll(r));
            if let Some(Err(e)) = sent {
                self.stop_recording(e);
            }
        }
        if let Some(m) = &self.metrics {
            m.observe_event(&ev);
        }
        let effects = self.app.update(Action::Poll(ev));
        if let Some(m) = &self.metrics {
            m.observe_app(&self.app);
        }
        effects
    }

    fn on_switch_answer(&mut self, res: Result<serde_json::Value, ApiError>) -> Vec<Effect> {
        if let Some((instance, task_id, requested)) = self.pending_switch.take() {
            let entry = switchover_entry(instance, task_id, requested, &res);
            let sent = self.recorder.as_mut().map(|w| w.send(entry));
            if let Some(Err(e)) = sent {
                self.stop_recording(e);
            }
        }
        self.app.update(Action::SwitchoverDone(res))
    }

    fn on_tick(&mut self) -> Vec<Effect> {
        let effects = self.app.update(Action::Tick(Utc::now()));
        if let Some(m) = &self.metrics {
            m.observe_app(&self.app);
        }
        effects
    }

    /// A recording that cannot be written stops, and the dashboard says so and goes on.
    fn stop_recording(&mut self, e: WriterError) {
        tracing::error!("{e}");
        self.recorder = None;
        // A notice has no effects.
        let _ = self.app.update(Action::Notice {
            title: "Recording stopped".into(),
            text: format!("{e}. The dashboard goes on without recording."),
        });
    }

    fn lab(&mut self, cmd: LabCommand) {
        match &self.lab {
            Some(lab) => {
                let done = lab.apply(cmd);
                let tx = self.lab_tx.clone();
                tokio::spawn(async move {
                    let _ = tx.send(done.await);
                });
            }
            None => {
                let _ = self.lab_tx.send(Err("no lab in this session".into()));
            }
        }
    }

    fn switchover(&mut self, instance: String) {
        let Some(client) = &self.client else {
            let _ = self.switch_tx.send(Err(ApiError::BadResponse {
                http_status: 0,
                message: "no API client in this session".into(),
            }));
            return;
        };
        let task_id = match self.app.overlay() {
            Some(Overlay::Switchover(d)) => {
                d.task_key.rsplit('/').next().and_then(|id| id.parse().ok())
            }
            _ => None,
        };
        self.pending_switch = Some((instance.clone(), task_id, Utc::now()));
        let client = client.clone();
        let tx = self.switch_tx.clone();
        tracing::warn!(instance = %instance, "switchover requested");
        tokio::spawn(async move {
            let res = client.activate_migration_target(&instance).await;
            tracing::warn!(instance = %instance, ok = res.is_ok(), "switchover answered");
            let _ = tx.send(res);
        });
    }
}

/// Resolves when the recording's writer fails; never without one.
async fn writer_failed(w: &mut Option<RecordWriter>) -> WriterError {
    match w {
        Some(w) => w.failed().await,
        None => std::future::pending().await,
    }
}

impl Session for Live {
    fn app(&self) -> &App {
        &self.app
    }

    fn take_dirty(&mut self) -> bool {
        self.app.take_dirty()
    }

    fn is_dirty(&self) -> bool {
        self.app.is_dirty()
    }

    fn on_input(&mut self, ev: Event) -> Vec<Effect> {
        match ev {
            Event::Key(k) => self.app.on_key(k),
            Event::Mouse(m) => self.app.on_mouse(m),
            Event::Resize(w, h) => self.app.update(Action::Resize(w, h)),
            _ => Vec::new(),
        }
    }

    async fn next(&mut self) -> Fed {
        let (effects, urgent) = tokio::select! {
            Some(ev) = self.poll_rx.recv() => (self.on_poll(ev), false),
            Some(res) = self.switch_rx.recv() => (self.on_switch_answer(res), true),
            Some(res) = self.lab_rx.recv() => (self.app.update(Action::LabDone(res)), true),
            e = writer_failed(&mut self.recorder) => {
                self.stop_recording(e);
                (Vec::new(), true)
            }
            _ = self.tick.tick() => (self.on_tick(), true),
        };
        Fed { effects, urgent }
    }

    fn effect(&mut self, effect: Effect) {
        match effect {
            Effect::Poller(ctl) => self.poller.send(ctl),
            Effect::Lab(cmd) => self.lab(cmd),
            Effect::Switchover { instance } => self.switchover(instance),
            // The loop rings the bell; nothing else reaches here.
            Effect::Bell => {}
        }
    }

    fn draw(&self, tui: &mut Tui) -> std::io::Result<()> {
        tui.draw(&self.app)
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
