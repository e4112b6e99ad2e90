//! The dashboard's event loop: pollers, state and screen tied together (used by `watch`,
//! `demo` and `lab`).

use std::io::IsTerminal;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use chrono::Utc;
use crossterm::event::{Event, EventStream};
use futures::StreamExt;
use futures::future::BoxFuture;
use tokio::sync::mpsc;

use crate::aliyun::{ApiError, RdsClient};
use crate::app::{Action, App, AppConfig, Effect, LabCommand};
use crate::error::{EXIT_OK, UsageError};
use crate::poller::{Poller, SnapshotSource};
use crate::probe::Probe;
use crate::signals::{StopSignal, StopSignals};
use crate::tui::{self, Tui};

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

/// Runs the dashboard until the DBA quits or a signal ends it; the terminal is restored in
/// every case. With `probe`, the source is read after every successful poll and the true lag
/// shown next to the reported one (`config` names its target: see the commands' builder).
/// With `lab`, the lab keys' effects go to it.
pub async fn run(
    source: Arc<dyn SnapshotSource>,
    client: Option<RdsClient>,
    probe: Option<Box<dyn Probe>>,
    lab: Option<Arc<dyn LabControl>>,
    config: AppConfig,
) -> anyhow::Result<i32> {
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
    let mut events = EventStream::new();
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    // The signal that ended the session, for the exit code 128 + n.
    let mut ended_by: Option<StopSignal> = None;

    loop {
        if app.quit || tui::panicked() {
            break;
        }
        if app.take_dirty() {
            tui.draw(&app)?;
        }
        let effects = tokio::select! {
            ev = events.next() => match ev {
                Some(Ok(Event::Key(k))) => app.on_key(k),
                Some(Ok(Event::Resize(w, h))) => app.update(Action::Resize(w, h)),
                Some(Ok(_)) => Vec::new(),
                Some(Err(e)) => {
                    tracing::error!("terminal input failed: {e}");
                    break;
                }
                None => break,
            },
            Some(ev) = poll_rx.recv() => app.update(Action::Poll(ev)),
            Some(res) = switch_rx.recv() => app.update(Action::SwitchoverDone(res)),
            Some(res) = lab_rx.recv() => app.update(Action::LabDone(res)),
            _ = tick.tick() => app.update(Action::Tick(Utc::now())),
            sig = signals.recv() => { ended_by = Some(sig); break }
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
