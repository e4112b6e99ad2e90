//! `migtop lab`: a real PostgreSQL primary and streaming standby on loopback, write load
//! with pgbench, a replay pause, a link cut and a link freeze on a schedule, the simulator API serving the
//! standby as an RDS migration task, and the dashboard on it (or, with `--serve`, only the
//! API, for other tools).
//!
//! Cleanup: on `q`, Ctrl-C, SIGTERM, SIGHUP or an error the session is stopped (see
//! [`LabSession::stop`]); the terminal is given back first when the dashboard was open.

use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use super::dashboard_config::{DEMO_INTERVAL, app_config, speed_label};
use super::simulate::served_credentials;
use futures::future::BoxFuture;

use crate::aliyun::Credentials;
use crate::app::LabCommand;
use crate::cli::LabArgs;
use crate::dashboard::LabControl;
use crate::lab::session::{LabSession, SessionConfig, find_binaries};
use crate::lab::{Lab, LinkMode};
use crate::poller::ApiSource;
use crate::probe::{Probe, SourceDsn, SourceProbe};
use crate::util::error::UsageError;
use crate::util::logging;
use crate::util::signals::StopSignals;
use crate::{dashboard, sim};

/// `migtop lab`.
pub async fn run(args: LabArgs) -> anyhow::Result<i32> {
    let bin = find_binaries()?;
    if args.serve {
        // tokio-postgres reports the servers' shutdown notices at info: noise here.
        logging::to_stderr("info,tokio_postgres=warn");
    } else {
        if dashboard::require_terminal().is_err() {
            return Err(UsageError(
                "the dashboard needs a terminal; `migtop lab --serve` only serves the API".into(),
            )
            .into());
        }
        logging::to_file(args.ui.log_file.as_deref())?;
    }
    // Opened before the lab starts, so a path that cannot be written stops nothing halfway.
    let recorder = if args.serve {
        None
    } else {
        super::record::open(args.ui.record.as_deref())?
    };
    let (credentials, origin) = if args.serve {
        served_credentials()?
    } else {
        (
            sim::demo_credentials(),
            "the built-in demo pair".to_string(),
        )
    };
    // Listened to from the start so none is lost while the lab comes up.
    let mut signals = StopSignals::listen()?;
    eprintln!(
        "migtop lab: starting a PostgreSQL {} primary and streaming standby…",
        bin.major
    );
    let config = SessionConfig {
        speed: args.speed,
        listen: args.listen,
        link_rate: args.link_rate,
        faults: !args.no_faults,
        instance: args.instance.clone(),
        writer_tps: args.writer_tps,
        fixtures: crate::lab::Fixtures {
            unlogged: !args.no_unlogged,
            logical_slot: !args.no_logical_slot,
            prepared: args.prepared_xact,
        },
    };
    // A signal while the lab comes up drops the start, which removes what was made so far.
    let mut session = tokio::select! {
        r = LabSession::start(config, credentials.clone()) => r?,
        sig = signals.recv() => {
            eprintln!("migtop lab: interrupted while starting; cleaned up");
            return Ok(sig.exit_code());
        }
    };
    let summary = match session.start_timeline().await {
        Ok(summary) => summary,
        Err(e) => {
            session.stop().await?;
            return Err(e);
        }
    };
    tracing::info!("lab: {summary}");

    let outcome = if args.serve {
        serve(&session, &credentials, &origin, &summary, &mut signals).await
    } else {
        run_dashboard(&args, &session, recorder).await
    };
    let stopped = session.stop().await;
    let code = outcome?;
    stopped?;
    Ok(code)
}

/// `--serve`: the simulator's lines, where the servers are, then wait for a signal.
async fn serve(
    session: &LabSession,
    credentials: &Credentials,
    origin: &str,
    summary: &str,
    signals: &mut StopSignals,
) -> anyhow::Result<i32> {
    let api = &session.api;
    let lab = &session.lab;
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "listening on {}", api.endpoint())?;
        writeln!(out, "instances: {}", api.instances.join(" "))?;
        writeln!(out, "primary: {}", lab.primary_dsn())?;
        writeln!(out, "standby: {}", lab.standby_dsn())?;
        writeln!(
            out,
            "accepts AccessKey id {} ({origin})",
            credentials.access_key_id
        )?;
        writeln!(
            out,
            "lab: {} in {}; {summary}; stop with Ctrl-C",
            lab.version(),
            lab.dir().display()
        )?;
        // Everything the line needs: the binary's path, the demo pair when it is the one
        // accepted (other credentials are the caller's own, in the environment it shares).
        let endpoint = api.endpoint();
        let dsn = lab.primary_dsn();
        writeln!(
            out,
            "{}",
            super::try_line::try_line(
                &credentials.access_key_id,
                &[
                    "watch",
                    "--endpoint",
                    &endpoint,
                    "-i",
                    session.source.instance(),
                    "--source-dsn",
                    &dsn,
                ],
            )
        )?;
        out.flush()?;
    }
    let sig = signals.recv().await;
    tracing::info!("lab: signal {}, stopping", sig.number());
    // Like `migtop simulate`: a signal is how a server is meant to stop.
    Ok(0)
}

/// The dashboard on the lab, through the real client, with the source probe on the primary.
async fn run_dashboard(
    args: &LabArgs,
    session: &LabSession,
    recorder: Option<crate::recording::Recorder>,
) -> anyhow::Result<i32> {
    let client = session.api.client()?;
    let source = Arc::new(ApiSource {
        client: client.clone(),
        filter: Default::default(),
    });
    let dsn = SourceDsn::new(format!("{}?sslmode=disable", session.lab.primary_dsn()));
    let probe = SourceProbe::new(dsn, Duration::from_secs(5))
        .map_err(|e| anyhow::anyhow!("cannot probe the lab's primary: {e}"))?;
    let config = app_config(
        "lab",
        &args.ui,
        DEMO_INTERVAL,
        vec![session.source.instance().to_string()],
        Some(speed_label("lab", args.speed)),
        Some(&probe),
    );
    let keys = Arc::new(LabKeys(session.lab.clone()));
    dashboard::run(
        source,
        Some(client),
        Some(Box::new(probe) as Box<dyn Probe>),
        config,
        dashboard::Extras {
            recorder,
            metrics: None,
            lab: Some(keys),
        },
    )
    .await
}

/// The lab dashboard's keys, carried out on the lab.
struct LabKeys(Arc<Lab>);

impl LabControl for LabKeys {
    fn apply(&self, cmd: LabCommand) -> BoxFuture<'static, Result<String, String>> {
        let lab = self.0.clone();
        Box::pin(async move {
            let said = match cmd {
                LabCommand::ToggleFreeze if lab.link_mode() == LinkMode::Frozen => {
                    lab.restore_link();
                    "link thawed"
                }
                LabCommand::ToggleFreeze => {
                    lab.freeze_link();
                    "link frozen (F thaws)"
                }
                LabCommand::ToggleCut if lab.link_mode() == LinkMode::Cut => {
                    lab.restore_link();
                    "link restored"
                }
                LabCommand::ToggleCut => {
                    lab.cut_link();
                    "link cut (C restores)"
                }
                LabCommand::DropFixtures => {
                    lab.drop_fixtures().await.map_err(|e| format!("{e:#}"))?;
                    "dropped the unlogged tables and the logical slot; committed the prepared transaction"
                }
                LabCommand::ToggleReplayPause => {
                    let paused = lab
                        .read_standby()
                        .await
                        .map_err(|e| format!("{e:#}"))?
                        .replay_paused;
                    if paused == Some(true) {
                        lab.resume_replay().await.map_err(|e| format!("{e:#}"))?;
                        "replay resumed"
                    } else {
                        lab.pause_replay().await.map_err(|e| format!("{e:#}"))?;
                        "replay paused (P resumes)"
                    }
                }
            };
            tracing::info!("lab key: {said}");
            Ok(said.to_string())
        })
    }
}
