//! The headless loop of `migtop exporter`: pollers feed the dashboard's state (without a
//! screen), and the state feeds the metrics, so verdicts are judged exactly as on screen.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use tokio::sync::mpsc;

use crate::app::{Action, App, AppConfig};
use crate::poller::{PollEvent, Poller, SnapshotSource};
use crate::probe::Probe;
use crate::recording::Recorder;
use crate::recording::writer::RecordWriter;

use super::Metrics;

impl Metrics {
    /// Counts a poller event (only finished polls count).
    pub fn observe_event(&self, ev: &PollEvent) {
        if let PollEvent::Finished(r) = ev {
            self.record_poll(r);
        }
    }
}

/// Polls `config.instances` from `source` (reading the source through `probe` after each
/// successful poll) and keeps `metrics` current (and `recorder`, when given, appended to)
/// until `stop` resolves. Ages such as the time
/// since the source's last message are refreshed every second between polls.
pub async fn run(
    source: Arc<dyn SnapshotSource>,
    probe: Option<Box<dyn Probe>>,
    config: AppConfig,
    metrics: Arc<Metrics>,
    recorder: Option<Recorder>,
    stop: impl Future<Output = ()>,
) {
    // Written off this loop, as the dashboard's: a slow disk must not delay the metrics.
    let mut recorder = recorder.map(RecordWriter::spawn);
    let probe = probe.map(|p| Arc::new(tokio::sync::Mutex::new(p)));
    let (tx, mut rx) = mpsc::channel(256);
    let poller = Poller::spawn(source, &config.instances, config.interval, probe, tx);
    let mut app = App::new(config, Utc::now());
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    tokio::pin!(stop);
    loop {
        tokio::select! {
            _ = &mut stop => break,
            ev = rx.recv() => match ev {
                Some(ev) => {
                    metrics.observe_event(&ev);
                    if let (Some(rec), PollEvent::Finished(r)) = (&mut recorder, &ev)
                        && let Err(e) = rec.send_poll(r)
                    {
                        // A headless service keeps serving metrics; the log says why the
                        // recording stopped.
                        tracing::error!("recording stopped: {e}");
                        recorder = None;
                    }
                    app.update(Action::Poll(ev));
                }
                None => break,
            },
            _ = tick.tick() => {
                app.update(Action::Tick(Utc::now()));
            }
        }
        metrics.observe_app(&app);
    }
    drop(poller);
    if let Some(w) = recorder {
        w.finish().await;
    }
}
