//! `migtop switchover`: the scripted twin of the dashboard's `S`, in steps.
//!
//! 1. **judge**: polls the task for a full `--stable-for` window and judges it as the
//!    dashboard does; refuses (exit 5, every reason) unless the verdict meets `--require`
//!    (with `--fence`: IN SYNC, since a source that writes is DRAINED only under the fence);
//! 2. **preflight refusals** that do not depend on the verdict (the source checklist's);
//! 3. **confirm**: the typed instance id on a terminal unless `--yes` (and refuses without a
//!    terminal and without `--yes`, exit 2), then judges once more;
//! 4. with `--fence` (`fenced`): the fence, DRAINED under it, the token, the standby's replay
//!    of it;
//! 5. the **check at the switch** ([`check`]) with `--require drained`;
//! 6. **activate**: ActivateMigrationTargetInstance, once (exit 1 with the API's code when
//!    refused);
//! 7. **wait** until the task reaches `success` (exit 0, or 3 past `--timeout`);
//! 8. **verify** the new primary with `--target-dsn` (exit 1 naming what failed).
//!
//! Each step says what it did on stderr and, with `--record`, as a `cutover` line.

pub mod check;
mod fenced;

use std::io::{BufRead, IsTerminal, Write};
use std::time::Duration;

use chrono::Utc;
use tokio::time::Instant;

use super::script::{Seen, Session, stamp};
use crate::aliyun::ApiError;
use crate::app::TaskEntry;
use crate::cli::{Require, SwitchoverArgs};
use crate::model::Stage;
use crate::probe::admin::Db;
use crate::recording::cutover::{CutoverEvent, CutoverRecord};
use crate::recording::{Entry, SwitchoverRecord};
use crate::util::error::{
    EXIT_API, EXIT_OK, EXIT_REFUSED, EXIT_TIMEOUT, EXIT_USAGE, UsageError, say,
};
use crate::verdict::cutover::{self, SourceMark, TargetReading};
use crate::verdict::readiness::{Verdict, VerdictKind};
use crate::verdict::words;

/// Whether the verdict meets the requirement.
pub fn meets(require: Require, e: &TaskEntry) -> bool {
    match require {
        Require::Drained => e.verdict.kind() == VerdictKind::Drained,
        Require::InSync => matches!(e.verdict.kind(), VerdictKind::InSync | VerdictKind::Drained),
    }
}

fn required_label(require: Require) -> &'static str {
    match require {
        Require::Drained => "DRAINED",
        Require::InSync => "IN SYNC",
    }
}

/// Why the task does not meet the requirement, in the dashboard's words.
pub fn refusal(require: Require, e: &TaskEntry) -> Vec<String> {
    let reasons: Vec<String> = e.verdict.reasons().iter().map(|r| r.to_string()).collect();
    if reasons.is_empty() {
        let why = match &e.verdict {
            Verdict::InSync { not_drained, .. } => format!(": {not_drained}"),
            _ => String::new(),
        };
        vec![format!(
            "the verdict is {}, not {}{why}",
            e.verdict.label(),
            required_label(require)
        )]
    } else {
        reasons
    }
}

/// One poll, its CI line printed: what it saw, or the code the command ends with when the
/// poll says so ([`settle`]).
async fn poll_said(s: &mut Session, max_errors: u32) -> Result<Seen, i32> {
    let seen = s.poll().await;
    if let Some(line) = s.line(&seen, max_errors) {
        say(format_args!("{line}"));
    }
    match settle(s, &seen, max_errors) {
        Some(code) => Err(code),
        None => Ok(seen),
    }
}

/// Polls until the outcome of `seen` is a task, or says how the command ends.
fn settle(s: &Session, seen: &Seen, max_errors: u32) -> Option<i32> {
    match seen {
        Seen::Task => None,
        Seen::NoMatch(m) => {
            say(format_args!("migtop: {m}"));
            Some(EXIT_USAGE)
        }
        Seen::Gone => {
            say(format_args!(
                "migtop: the task is no longer listed by {}",
                s.instance
            ));
            Some(EXIT_REFUSED)
        }
        Seen::Final(e) => {
            say(format_args!("migtop: {e} This is final: not retried."));
            Some(EXIT_API)
        }
        Seen::Error(e) if s.errors >= max_errors => {
            say(format_args!(
                "migtop: {max_errors} failed polls in a row, giving up; the last: {e}"
            ));
            Some(EXIT_API)
        }
        Seen::Error(_) => None,
    }
}

fn entry(s: &Session) -> Option<&TaskEntry> {
    s.key.as_deref().and_then(|k| s.judge.task(k))
}

/// How a step ends: go on with its value, or end the command with an exit code (the step
/// said why).
pub enum Flow<T> {
    Go(T),
    Exit(i32),
}

/// The value of a step that goes on; otherwise returns its exit code from the caller.
macro_rules! go {
    ($step:expr) => {
        match $step? {
            Flow::Go(v) => v,
            Flow::Exit(code) => return Ok(Flow::Exit(code)),
        }
    };
}
use go;

/// `migtop switchover`.
pub async fn run(mut args: SwitchoverArgs) -> anyhow::Result<i32> {
    // `--cutover NAME`: instance, endpoint, filters, source and thresholds from the config
    // file.
    super::cutover::apply(
        &mut args.api,
        super::cutover::Knobs::script(&mut args.script),
    )?;
    let require = args.require;
    if require == Require::Drained && args.api.source_dsn.as_ref().is_none_or(|d| d.is_empty()) {
        return Err(UsageError(
            "--require drained needs --source-dsn (or MIGTOP_SOURCE_DSN): the API only reports \
             what the standby received, so only the source itself can confirm DRAINED"
                .into(),
        )
        .into());
    }
    if require != Require::Drained && (args.fence || args.target_dsn.is_some()) {
        return Err(UsageError(
            "--fence and --target-dsn need --require drained: the token and the proof after the \
             switch are the source's own position once nothing writes"
                .into(),
        )
        .into());
    }
    let tty = std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
    if !args.yes && !tty {
        return Err(UsageError(
            "no terminal to type the instance id on: pass --yes to switch over without it".into(),
        )
        .into());
    }
    if let Some(t) = &args.target_dsn {
        // A DSN that cannot be used is found now, not after the switch.
        t.resolve()
            .map_err(|e| UsageError(format!("--target-dsn: {}", e.0)))?;
    }
    let mut s = Session::open(&args.api, &args.script)?;
    // The metrics server, when asked for, lives exactly as long as the command.
    let server = s.serve_metrics(args.script.metrics_listen).await?;
    let code = switch(&args, &mut s).await;
    if let Some(server) = server {
        server.shutdown().await;
    }
    code
}

/// The steps: judge → preflight refusals → confirm → (fence → token) → check at the switch →
/// activate → wait for success → verify.
async fn switch(args: &SwitchoverArgs, s: &mut Session) -> anyhow::Result<i32> {
    let flow = if args.fence {
        fenced::switch(args, s).await?
    } else {
        unfenced(args, s).await?
    };
    Ok(match flow {
        Flow::Go(code) | Flow::Exit(code) => code,
    })
}

/// Without a fence: the judged window is checked against the source at the switch.
async fn unfenced(args: &SwitchoverArgs, s: &mut Session) -> anyhow::Result<Flow<i32>> {
    let judged = go!(judge(args, args.require, s).await);
    go!(preflight(args, s, &judged));
    go!(confirm(args, args.require, s, &judged).await);
    // What the switch is checked against: the source's reading the verdict rests on
    // (read again after typing, when the instance id was typed).
    let mark = entry(s)
        .and_then(|e| e.history.latest())
        .and_then(|(_, d)| SourceMark::of_sample(d));
    let at_switch = match (args.require, mark) {
        (Require::Drained, Some(mark)) => {
            let deadline = Instant::now() + args.timeout;
            match check::at_switch(
                s,
                &mark,
                deadline,
                args.script.max_errors,
                args.script.interval(),
            )
            .await
            {
                Ok(now) => Some(now),
                Err(refusal) => {
                    say(format_args!(
                        "migtop: refused at the switch: {}",
                        refusal.why
                    ));
                    return Ok(Flow::Exit(refusal.code));
                }
            }
        }
        (Require::Drained, None) => {
            say(format_args!(
                "migtop: refused: the source reading DRAINED rests on is gone; nothing sent"
            ));
            return Ok(Flow::Exit(EXIT_REFUSED));
        }
        (Require::InSync, _) => None,
    };
    go!(activate(s, &judged).await);
    let code = go!(wait_success(args, s).await);
    match at_switch {
        Some(token) => verify(args, s, &judged, &token).await,
        None => Ok(Flow::Go(code)),
    }
}

/// The task being switched over, as judged.
pub struct Judged {
    pub name: String,
    pub task_id: Option<i64>,
}

/// The stable window: polls until the task's samples span `--stable-for` or `gate` holds,
/// then refuses (exit 5, every reason) unless it holds.
async fn judge(
    args: &SwitchoverArgs,
    gate: Require,
    s: &mut Session,
) -> anyhow::Result<Flow<Judged>> {
    let max_errors = args.script.max_errors;
    let interval = args.script.interval();
    let window =
        chrono::Duration::from_std(args.script.stable_for()).unwrap_or(chrono::Duration::MAX);
    say(format_args!(
        "{} judging {} over {} before a switchover (requires {}{})",
        stamp(Utc::now()),
        s.instance,
        crate::util::units::duration(args.script.stable_for()),
        required_label(gate),
        if args.fence {
            ", then DRAINED under the fence"
        } else {
            ""
        }
    ));
    let mut first: Option<chrono::DateTime<Utc>> = None;
    loop {
        let next = Instant::now() + interval;
        if let Err(code) = poll_said(s, max_errors).await {
            return Ok(Flow::Exit(code));
        }
        if let Some(e) = entry(s) {
            let last = e.history.latest().map(|(at, _)| *at);
            let first = *first.get_or_insert(last.unwrap_or_else(Utc::now));
            let spanned = last.is_some_and(|l| l - first >= window);
            // Past increment (or before it) nothing will change within the window.
            let hopeless = e
                .task
                .stage
                .as_ref()
                .is_some_and(|st| *st != Stage::Increment);
            if meets(gate, e) || spanned || hopeless {
                break;
            }
        }
        tokio::time::sleep_until(next).await;
    }
    let e = entry(s).expect("the window ended on a task");
    if !meets(gate, e) {
        // Every blocker on the headline, terse; then each in full.
        let why = match &e.verdict {
            Verdict::InSync { not_drained, .. } => not_drained.to_string(),
            v => words::blockers(v),
        };
        say(format_args!(
            "migtop: refused: task {} is {}, not {}: {why}:",
            e.task.display_name(),
            e.verdict.label(),
            required_label(gate)
        ));
        for r in refusal(gate, e) {
            say(format_args!("  - {r}"));
        }
        return Ok(Flow::Exit(EXIT_REFUSED));
    }
    Ok(Flow::Go(Judged {
        name: e.task.display_name(),
        task_id: e.task.task_id,
    }))
}

/// Refusals that do not depend on the verdict, before anything is changed or sent, run
/// after the judgement and again after the typed confirmation's fresh poll (the checklist
/// may have been read again meanwhile): the source checklist's *loses data* items, against
/// `args.require` (not the fence's IN SYNC gate), unless `--accept-loss` accepts them.
fn preflight(args: &SwitchoverArgs, s: &Session, judged: &Judged) -> anyhow::Result<Flow<()>> {
    let checklist = s.judge.app().checklist_for(&s.instance);
    match super::loss_gate::check(args.require, &args.accept_loss, &judged.name, checklist) {
        Some(code) => Ok(Flow::Exit(code)),
        None => Ok(Flow::Go(())),
    }
}

/// Asks for the instance id on the terminal unless `--yes`, then judges once more on fresh
/// data (typing took time), the preflight refusals included.
async fn confirm(
    args: &SwitchoverArgs,
    gate: Require,
    s: &mut Session,
    judged: &Judged,
) -> anyhow::Result<Flow<()>> {
    if args.yes {
        return Ok(Flow::Go(()));
    }
    let max_errors = args.script.max_errors;
    let name = entry(s).map(|e| e.task.display_name()).unwrap_or_default();
    let instance = s.instance.clone();
    let what = if args.fence {
        "fence the source, then ActivateMigrationTargetInstance"
    } else {
        "ActivateMigrationTargetInstance"
    };
    let typed = tokio::task::spawn_blocking(move || -> std::io::Result<String> {
        let mut err = std::io::stderr().lock();
        write!(
            err,
            "Switch over task {name} of {instance} ({what})? Type the instance id to confirm: "
        )?;
        err.flush()?;
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        Ok(line)
    })
    .await??;
    if typed.trim() != s.instance {
        say(format_args!(
            "migtop: not confirmed (type {} exactly); nothing sent",
            s.instance
        ));
        return Ok(Flow::Exit(EXIT_REFUSED));
    }
    let seen = match poll_said(s, max_errors).await {
        Ok(seen) => seen,
        Err(code) => return Ok(Flow::Exit(code)),
    };
    let fresh = matches!(seen, Seen::Task);
    match entry(s) {
        Some(e) if fresh && meets(gate, e) => preflight(args, s, judged),
        Some(e) => {
            say(format_args!(
                "migtop: refused: task {} is no longer {}; nothing sent:",
                e.task.display_name(),
                required_label(gate)
            ));
            for r in refusal(gate, e) {
                say(format_args!("  - {r}"));
            }
            Ok(Flow::Exit(EXIT_REFUSED))
        }
        None => Ok(Flow::Exit(EXIT_REFUSED)),
    }
}

/// Appends a cutover step to the recording.
fn evidence(s: &mut Session, task_id: Option<i64>, event: CutoverEvent) {
    let record = CutoverRecord {
        instance: s.instance.clone(),
        task_id,
        at: Utc::now(),
        event,
    };
    s.record(&Entry::Cutover(record));
}

/// Whether an activation that failed was surely not carried out (the API answered with an
/// error, or the request never left): only then may a fence be lifted.
pub enum Activation {
    Accepted,
    /// Refused by the API: nothing was switched.
    Refused,
    /// No answer: whether the switch happens is unknown.
    Unknown,
}

/// Calls ActivateMigrationTargetInstance once and records the answer.
async fn activate(s: &mut Session, judged: &Judged) -> anyhow::Result<Flow<()>> {
    match send(s, judged).await {
        Activation::Accepted => Ok(Flow::Go(())),
        _ => Ok(Flow::Exit(EXIT_API)),
    }
}

/// Sends the switchover and says how it went.
async fn send(s: &mut Session, judged: &Judged) -> Activation {
    let requested = Utc::now();
    say(format_args!(
        "{} calling ActivateMigrationTargetInstance on {}",
        stamp(requested),
        s.instance
    ));
    let answer = s.client.activate_migration_target(&s.instance).await;
    let request_id = match &answer {
        Ok(v) => crate::model::value::text(v.get("RequestId")),
        Err(e) => e.request_id().map(str::to_string),
    };
    let sent = check::stamp_ms(requested);
    let message = match (&answer, &request_id) {
        (Ok(_), Some(id)) => {
            format!("ActivateMigrationTargetInstance accepted, request id {id} (sent at {sent})")
        }
        (Ok(_), None) => format!("ActivateMigrationTargetInstance accepted (sent at {sent})"),
        (Err(e), _) => e.to_string(),
    };
    s.record(&Entry::Switchover(SwitchoverRecord {
        instance: s.instance.clone(),
        task_id: judged.task_id,
        requested,
        at: Utc::now(),
        accepted: answer.is_ok(),
        message: message.clone(),
        origin: "switchover".into(),
    }));
    evidence(
        s,
        judged.task_id,
        CutoverEvent::Activation {
            accepted: answer.is_ok(),
            request_id,
        },
    );
    match answer {
        Ok(_) => {
            say(format_args!("{} {message}", stamp(Utc::now())));
            Activation::Accepted
        }
        Err(e) => {
            say(format_args!(
                "migtop: switchover refused by the API: {message}"
            ));
            match e {
                ApiError::Api { .. } | ApiError::Credentials { .. } => Activation::Refused,
                _ => Activation::Unknown,
            }
        }
    }
}

/// Polls until the task reaches `success` (exit 0), or `--timeout` passes (exit 3).
async fn wait_success(args: &SwitchoverArgs, s: &mut Session) -> anyhow::Result<Flow<i32>> {
    let max_errors = args.script.max_errors;
    let interval = args.script.interval();
    let deadline = Instant::now() + args.timeout;
    loop {
        let next = Instant::now() + interval;
        let seen = s.poll().await;
        if let Some(line) = s.line(&seen, max_errors) {
            say(format_args!("{line}"));
        }
        match &seen {
            Seen::Task => {
                if let Some(e) = entry(s)
                    && e.task.stage == Some(Stage::Success)
                {
                    say(format_args!(
                        "migtop: task {} reached success",
                        e.task.display_name()
                    ));
                    return Ok(Flow::Go(EXIT_OK));
                }
            }
            Seen::Gone => {
                say(format_args!(
                    "migtop: the task is no longer listed by {}; whether the switchover succeeded is unknown",
                    s.instance
                ));
                return Ok(Flow::Exit(EXIT_API));
            }
            _ => {
                if let Some(code) = settle(s, &seen, max_errors) {
                    return Ok(Flow::Exit(code));
                }
            }
        }
        if Instant::now() >= deadline {
            say(format_args!(
                "migtop: the switchover was accepted, but the task did not reach success within {}",
                crate::util::units::duration(args.timeout)
            ));
            return Ok(Flow::Exit(EXIT_TIMEOUT));
        }
        tokio::time::sleep_until(next.min(deadline)).await;
    }
}

/// How long the new primary is given to show itself promoted after `success`.
const VERIFY_FOR: Duration = Duration::from_secs(30);

/// The proof after the switch (`--target-dsn`): the new primary is out of recovery, on a new
/// timeline that began at or past the token. Exit 1 naming every failure.
async fn verify(
    args: &SwitchoverArgs,
    s: &mut Session,
    judged: &Judged,
    token: &SourceMark,
) -> anyhow::Result<Flow<i32>> {
    let Some(dsn) = &args.target_dsn else {
        say(format_args!(
            "migtop: the new primary was not checked (give --target-dsn to prove it holds everything up to {})",
            token.lsn
        ));
        return Ok(Flow::Go(EXIT_OK));
    };
    let timeout = args.api.timeout;
    let deadline = Instant::now() + VERIFY_FOR;
    let failed = loop {
        let failed = match Db::connect(dsn, timeout).await {
            Ok(db) => match db.target_facts().await {
                Ok(facts) => {
                    let reading = TargetReading::of(&facts);
                    match cutover::verify(token.lsn, token.timeline, &reading) {
                        Ok(()) => {
                            let text = format!(
                                "verified: the new primary holds everything up to {} (timeline {} began at {}, read from {})",
                                token.lsn,
                                reading.timeline.unwrap_or_default(),
                                reading
                                    .switch_point
                                    .map(|l| l.to_string())
                                    .unwrap_or_default(),
                                reading.switch_point_from
                            );
                            say(format_args!("{} {text}", stamp(Utc::now())));
                            evidence(
                                s,
                                judged.task_id,
                                CutoverEvent::Verification { passed: true, text },
                            );
                            return Ok(Flow::Go(EXIT_OK));
                        }
                        Err(failed) => failed,
                    }
                }
                Err(e) => vec![e.to_string()],
            },
            Err(e) => vec![e.to_string()],
        };
        if Instant::now() >= deadline {
            break failed;
        }
        tokio::time::sleep(args.script.interval().min(Duration::from_secs(2))).await;
    };
    let text = format!(
        "NOT verified: the new primary {} does not show it holds everything up to {}: {}",
        dsn.redacted(),
        token.lsn,
        failed.join("; ")
    );
    say(format_args!("migtop: {text}"));
    evidence(
        s,
        judged.task_id,
        CutoverEvent::Verification {
            passed: false,
            text,
        },
    );
    Ok(Flow::Exit(EXIT_API))
}
