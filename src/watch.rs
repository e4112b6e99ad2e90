//! `migtop watch` and `migtop demo`: the event loop that ties pollers, state and screen.

use std::io::IsTerminal;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use chrono::{Local, Utc};
use crossterm::event::{Event, EventStream};
use futures::StreamExt;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::mpsc;

use crate::aliyun::{ApiError, RdsClient};
use crate::app::{Action, App, AppConfig, Command};
use crate::cli::{DemoArgs, EXIT_OK, UiArgs, UsageError, WatchArgs};
use crate::metrics::Metrics;
use crate::poller::{ApiSource, Poller, TaskSource};
use crate::probe::SourceProbe;
use crate::readiness::ReadinessConfig;
use crate::sim;
use crate::tui::{self, Tui};

/// Default poll interval of `watch`.
pub const WATCH_INTERVAL: Duration = Duration::from_secs(5);
/// Default poll interval of `demo` (the simulator is cheap to ask).
pub const DEMO_INTERVAL: Duration = Duration::from_secs(2);

/// Whether colour is wanted: not with `--no-color`, not with a non-empty `NO_COLOR`.
pub fn color_enabled(no_color_flag: bool, no_color_env: Option<&str>) -> bool {
    !no_color_flag && no_color_env.is_none_or(|v| v.is_empty())
}

/// The dashboard settings from the command line.
pub fn app_config(ui: &UiArgs, instances: Vec<String>, default_interval: Duration) -> AppConfig {
    let no_color_env = std::env::var("NO_COLOR").ok();
    AppConfig {
        instances,
        interval: ui.interval.unwrap_or(default_interval),
        readiness: ReadinessConfig {
            max_lag: ui.max_lag,
            stable_for: ui.stable_for,
        },
        allow_switchover: ui.allow_switchover,
        bell: !ui.no_bell,
        color: color_enabled(ui.no_color, no_color_env.as_deref()),
        local_offset: *Local::now().offset(),
        label: None,
        source_probe: None,
    }
}

/// Sends tracing output to `path`, never to the screen. Without a path nothing is logged.
pub fn init_logging(path: Option<&Path>) -> anyhow::Result<()> {
    let Some(path) = path else { return Ok(()) };
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|e| UsageError(format!("cannot open the log file {}: {e}", path.display())))?;
    let filter = tracing_subscriber::EnvFilter::try_from_env("MIGTOP_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("migtop=info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(false)
        .with_writer(std::sync::Mutex::new(file))
        .try_init();
    Ok(())
}

/// Refuses to open the dashboard without a terminal on stdin and stdout.
pub fn require_terminal() -> anyhow::Result<()> {
    if !std::io::stdout().is_terminal() || !std::io::stdin().is_terminal() {
        return Err(UsageError(
            "the dashboard needs a terminal; for scripts use `migtop status` (with --output json)"
                .into(),
        )
        .into());
    }
    Ok(())
}

/// `migtop watch`: the dashboard against the real API.
pub async fn run(args: WatchArgs) -> anyhow::Result<i32> {
    let client = args.api.client()?;
    let probe = args.api.source_probe()?;
    require_terminal()?;
    init_logging(args.ui.log_file.as_deref())?;
    let source = Arc::new(ApiSource {
        client: client.clone(),
        filter: args.api.filter(),
    });
    let config = app_config(&args.ui, args.api.instances.clone(), WATCH_INTERVAL);
    let Some(listen) = args.metrics_listen else {
        return dashboard(source, Some(client), probe, config).await;
    };
    let metrics = Arc::new(Metrics::new());
    let server = crate::exporter::serve_metrics(listen, metrics.clone()).await?;
    let code = dashboard_with_metrics(source, Some(client), probe, config, Some(metrics)).await;
    server.shutdown().await;
    code
}

/// `migtop demo`: the simulator in-process, the dashboard against it over real HTTP.
pub async fn demo(args: DemoArgs) -> anyhow::Result<i32> {
    require_terminal()?;
    init_logging(args.ui.log_file.as_deref())?;
    let handle = sim::start(sim::SimOptions {
        listen: "127.0.0.1:0".parse().expect("valid address"),
        scenario: args.scenario.clone(),
        speed: args.speed,
        seed: args.seed,
        credentials: None,
    })
    .await
    .context("cannot start the built-in simulator")?;
    let client = handle.client()?;
    let source = Arc::new(ApiSource {
        client: client.clone(),
        filter: Default::default(),
    });
    let mut config = app_config(&args.ui, handle.instances.clone(), DEMO_INTERVAL);
    config.label = Some(if args.speed == 1.0 {
        "demo".to_string()
    } else {
        format!("demo ×{}", args.speed)
    });
    let code = dashboard(source, Some(client), None, config).await;
    handle.shutdown().await;
    code
}

/// Runs the dashboard until the DBA quits or a signal ends it; the terminal is restored in
/// every case. With `probe`, the source is read after every successful poll and the true lag
/// shown next to the reported one.
pub async fn dashboard(
    source: Arc<dyn TaskSource>,
    client: Option<RdsClient>,
    probe: Option<SourceProbe>,
    config: AppConfig,
) -> anyhow::Result<i32> {
    dashboard_with_metrics(source, client, probe, config, None).await
}

/// [`dashboard`], also keeping `metrics` current from the same poll results and state (the
/// update is a few map operations in this loop; scrapes are answered on another task).
pub async fn dashboard_with_metrics(
    source: Arc<dyn TaskSource>,
    client: Option<RdsClient>,
    probe: Option<SourceProbe>,
    mut config: AppConfig,
    metrics: Option<Arc<Metrics>>,
) -> anyhow::Result<i32> {
    config.source_probe = probe.as_ref().map(|p| p.target().to_string());
    let probe = probe.map(|p| Arc::new(tokio::sync::Mutex::new(p)));
    let (poll_tx, mut poll_rx) = mpsc::channel(256);
    let poller = Poller::spawn(source, &config.instances, config.interval, probe, poll_tx);
    let (switch_tx, mut switch_rx) =
        mpsc::unbounded_channel::<Result<serde_json::Value, ApiError>>();
    let mut sigterm = signal(SignalKind::terminate())?;
    let mut sighup = signal(SignalKind::hangup())?;
    let mut sigint = signal(SignalKind::interrupt())?;

    let mut app = App::new(config, Utc::now());
    let mut tui = Tui::enter().context("cannot set up the terminal")?;
    if let Ok((w, h)) = tui.size() {
        app.update(Action::Resize(w, h));
    }
    let mut events = EventStream::new();
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    // The signal that ended the session, as (name, number), for the exit code 128 + n.
    let mut ended_by: Option<(&str, i32)> = None;

    loop {
        if app.quit || tui::panicked() {
            break;
        }
        if app.take_dirty() {
            tui.draw(&app)?;
        }
        let commands = tokio::select! {
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
            Some(ev) = poll_rx.recv() => {
                if let Some(m) = &metrics {
                    m.observe_event(&ev);
                }
                let commands = app.update(Action::Poll(ev));
                if let Some(m) = &metrics {
                    m.observe_app(&app);
                }
                commands
            }
            Some(res) = switch_rx.recv() => app.update(Action::SwitchoverDone(res)),
            _ = tick.tick() => {
                let commands = app.update(Action::Tick(Utc::now()));
                if let Some(m) = &metrics {
                    m.observe_app(&app);
                }
                commands
            }
            _ = sigterm.recv() => { ended_by = Some(("SIGTERM", 15)); break }
            _ = sighup.recv() => { ended_by = Some(("SIGHUP", 1)); break }
            _ = sigint.recv() => { ended_by = Some(("SIGINT", 2)); break }
        };
        for c in commands {
            match c {
                Command::Poller(ctl) => poller.send(ctl),
                Command::Bell => {
                    let _ = tui.bell();
                }
                Command::Switchover { instance } => match &client {
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
                Command::Quit => {}
            }
        }
    }
    drop(poller);
    tui.restore();
    if tui::panicked() {
        anyhow::bail!("internal error (see the message above); the terminal was restored");
    }
    if let Some((name, n)) = ended_by {
        tracing::info!("ended by {name}");
        return Ok(128 + n);
    }
    Ok(EXIT_OK)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_color_rules() {
        assert!(color_enabled(false, None));
        assert!(color_enabled(false, Some("")));
        assert!(!color_enabled(false, Some("1")));
        assert!(!color_enabled(true, None));
    }
}
