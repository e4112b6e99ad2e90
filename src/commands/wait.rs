//! `migtop wait`: polls one task until a condition holds, for scripts and CI.
//!
//! The condition is a stage, or the dashboard's verdict (IN SYNC, DRAINED) as its own state
//! judges it ([`crate::app::headless`]). Exit codes: 0 met, 3 `--timeout`, 4 the task can no longer
//! get there (a failed precheck keeps it in precheck, its stage is past the target, or it is
//! gone), 1 `--max-errors` failed polls in a row, 2 usage or a filter matching no task or
//! several. One line per poll goes to stderr.

use std::time::Duration;

use tokio::time::Instant;

use super::script::{Seen, Session, stamp};
use crate::app::TaskEntry;
use crate::cli::{UntilArgs, WaitArgs};
use crate::model::Stage;
use crate::util::error::{
    EXIT_API, EXIT_OK, EXIT_TIMEOUT, EXIT_UNREACHABLE, EXIT_USAGE, UsageError, say,
};
use crate::verdict::readiness::VerdictKind;

/// What `wait` waits for.
#[derive(Debug, Clone, PartialEq)]
pub enum Until {
    Stage(Stage),
    InSync,
    Drained,
}

impl Until {
    /// From the flags (clap makes sure exactly one is given).
    pub fn from_args(u: &UntilArgs) -> Until {
        match (&u.stage, u.in_sync) {
            (Some(s), _) => Until::Stage(s.clone()),
            (None, true) => Until::InSync,
            (None, false) => Until::Drained,
        }
    }

    /// The target's stage: the stage itself, or increment for a verdict.
    fn stage(&self) -> Stage {
        match self {
            Until::Stage(s) => s.clone(),
            Until::InSync | Until::Drained => Stage::Increment,
        }
    }
}

impl std::fmt::Display for Until {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Until::Stage(s) => write!(f, "stage {s}"),
            Until::InSync => write!(f, "IN SYNC"),
            Until::Drained => write!(f, "DRAINED"),
        }
    }
}

/// Whether the task meets the condition now.
pub fn met(until: &Until, e: &TaskEntry) -> bool {
    match until {
        Until::Stage(s) => e.task.stage.as_ref() == Some(s),
        Until::InSync => matches!(e.verdict.kind(), VerdictKind::InSync | VerdictKind::Drained),
        Until::Drained => e.verdict.kind() == VerdictKind::Drained,
    }
}

/// Why the task can no longer meet the condition, if it cannot: its stage is past the
/// target's, or a failed precheck keeps it in precheck for good.
pub fn unreachable(until: &Until, e: &TaskEntry) -> Option<String> {
    let stage = e.task.stage.as_ref()?;
    let target = until.stage();
    if stage.index()? > target.index()? {
        return Some(format!(
            "task {} is in stage {stage}, past {target}: it can no longer reach {until}",
            e.task.display_name()
        ));
    }
    let failed = e.task.precheck.counts.fail;
    if *stage == Stage::Precheck && target != Stage::Precheck && failed > 0 {
        return Some(format!(
            "task {} failed its precheck ({failed} failed check{}): it stays in precheck and can never reach {until}",
            e.task.display_name(),
            if failed == 1 { "" } else { "s" }
        ));
    }
    None
}

/// `migtop wait`.
pub async fn run(mut args: WaitArgs) -> anyhow::Result<i32> {
    // `--cutover NAME`: instance, endpoint, filters, source and thresholds from the config
    // file.
    super::cutover::apply(
        &mut args.api,
        super::cutover::Knobs::script(&mut args.script),
    )?;
    let until = Until::from_args(&args.until);
    if until == Until::Drained && args.api.source_dsn.as_ref().is_none_or(|d| d.is_empty()) {
        return Err(UsageError(
            "--drained needs --source-dsn (or MIGTOP_SOURCE_DSN): the API only reports what \
             the standby received, so only the source itself can confirm that nothing is left \
             to send"
                .into(),
        )
        .into());
    }
    let mut s = Session::open(&args.api, &args.script)?;
    // The metrics server, when asked for, lives exactly as long as the wait.
    let server = s.serve_metrics(args.script.metrics_listen).await?;
    let code = wait(&args, until, &mut s).await;
    if let Some(server) = server {
        server.shutdown().await;
    }
    code
}

/// Polls until the condition holds, can no longer hold, or time or patience runs out.
async fn wait(args: &WaitArgs, until: Until, s: &mut Session) -> anyhow::Result<i32> {
    let deadline = args.timeout.map(|t| Instant::now() + t);
    let max_errors = args.script.max_errors;
    say(format_args!(
        "{} waiting for {until} on {}{}",
        stamp(chrono::Utc::now()),
        s.instance,
        args.timeout
            .map(|t| format!(" (at most {})", crate::util::units::duration(t)))
            .unwrap_or_default()
    ));
    loop {
        let next = Instant::now() + args.script.interval();
        let seen = s.poll().await;
        if let Some(line) = s.line(&seen, max_errors) {
            say(format_args!("{line}"));
        }
        match seen {
            Seen::NoMatch(m) => {
                say(format_args!("migtop: {m}"));
                return Ok(EXIT_USAGE);
            }
            Seen::Gone => {
                say(format_args!(
                    "migtop: the task is no longer listed by {}: it can no longer reach {until}",
                    s.instance
                ));
                return Ok(EXIT_UNREACHABLE);
            }
            Seen::Final(e) => {
                say(format_args!("migtop: {e} This is final: not retried."));
                return Ok(EXIT_API);
            }
            Seen::Error(e) if s.errors >= max_errors => {
                say(format_args!(
                    "migtop: {max_errors} failed polls in a row, giving up; the last: {e}"
                ));
                return Ok(EXIT_API);
            }
            Seen::Error(_) => {}
            Seen::Task => {
                let e = s
                    .key
                    .as_deref()
                    .and_then(|k| s.judge.task(k))
                    .expect("a task seen is judged");
                if met(&until, e) {
                    say(format_args!(
                        "migtop: task {} is {until}",
                        e.task.display_name()
                    ));
                    return Ok(EXIT_OK);
                }
                if let Some(why) = unreachable(&until, e) {
                    say(format_args!("migtop: {why}"));
                    return Ok(EXIT_UNREACHABLE);
                }
            }
        }
        // The last poll is at the deadline itself.
        let wake = match deadline {
            Some(d) if Instant::now() >= d => {
                say(format_args!(
                    "migtop: timed out after {} waiting for {until}",
                    crate::util::units::duration(args.timeout.unwrap_or(Duration::ZERO))
                ));
                return Ok(EXIT_TIMEOUT);
            }
            Some(d) => next.min(d),
            None => next,
        };
        tokio::time::sleep_until(wake).await;
    }
}
