//! `migtop switchover`: the scripted twin of the dashboard's `S`.
//!
//! It polls the task for a full `--stable-for` window and judges it as the dashboard does;
//! refuses (exit 5, every reason) unless the verdict meets `--require`; asks for the
//! instance id on a terminal unless `--yes` (and refuses without a terminal and without
//! `--yes`, exit 2); calls ActivateMigrationTargetInstance (exit 1 with the API's code when
//! refused); then polls until the task reaches `success` (exit 0, or 3 past `--timeout`).

use std::io::{BufRead, IsTerminal, Write};

use chrono::Utc;
use tokio::time::Instant;

use super::script::{Seen, Session, stamp};
use crate::app::TaskEntry;
use crate::cli::{Require, SwitchoverArgs};
use crate::model::Stage;
use crate::recording::{Entry, SwitchoverRecord};
use crate::util::error::{
    EXIT_API, EXIT_OK, EXIT_REFUSED, EXIT_TIMEOUT, EXIT_USAGE, UsageError, say,
};
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
    let tty = std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
    if !args.yes && !tty {
        return Err(UsageError(
            "no terminal to type the instance id on: pass --yes to switch over without it".into(),
        )
        .into());
    }
    let mut s = Session::open(&args.api, &args.script)?;
    // The metrics server, when asked for, lives exactly as long as the command.
    let server = s.serve_metrics(args.script.metrics_listen).await?;
    let code = switch(&args, require, &mut s).await;
    if let Some(server) = server {
        server.shutdown().await;
    }
    code
}

/// Judges over the stable window, asks, calls the switchover and follows it to success.
async fn switch(args: &SwitchoverArgs, require: Require, s: &mut Session) -> anyhow::Result<i32> {
    let max_errors = args.script.max_errors;
    let interval = args.script.interval();
    let window =
        chrono::Duration::from_std(args.script.stable_for()).unwrap_or(chrono::Duration::MAX);
    say(format_args!(
        "{} judging {} over {} before a switchover (requires {})",
        stamp(Utc::now()),
        s.instance,
        crate::util::units::duration(args.script.stable_for()),
        required_label(require)
    ));
    // The stable window: poll until the task's samples span --stable-for, or the
    // requirement already holds.
    let mut first: Option<chrono::DateTime<Utc>> = None;
    loop {
        let next = Instant::now() + interval;
        let seen = s.poll().await;
        if let Some(line) = s.line(&seen, max_errors) {
            say(format_args!("{line}"));
        }
        if let Some(code) = settle(s, &seen, max_errors) {
            return Ok(code);
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
            if meets(require, e) || spanned || hopeless {
                break;
            }
        }
        tokio::time::sleep_until(next).await;
    }
    let e = entry(s).expect("the window ended on a task");
    let name = e.task.display_name();
    let task_id = e.task.task_id;
    let checklist = s.judge.app().checklist_for(&e.task.instance);
    if !meets(require, e) {
        // Every blocker on the headline, terse; then each in full.
        let why = match &e.verdict {
            Verdict::InSync { not_drained, .. } => not_drained.to_string(),
            v => words::blockers(v),
        };
        say(format_args!(
            "migtop: refused: task {name} is {}, not {}: {why}:",
            e.verdict.label(),
            required_label(require)
        ));
        for r in refusal(require, e) {
            say(format_args!("  - {r}"));
        }
        return Ok(EXIT_REFUSED);
    }
    if let Some(code) = super::loss_gate::check(require, &args.accept_loss, &name, checklist) {
        return Ok(code);
    }
    if !args.yes {
        let instance = s.instance.clone();
        let typed = tokio::task::spawn_blocking(move || -> std::io::Result<String> {
            let mut err = std::io::stderr().lock();
            write!(
                err,
                "Switch over task {name} of {instance} (ActivateMigrationTargetInstance)? Type the instance id to confirm: "
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
            return Ok(EXIT_REFUSED);
        }
        // Typing took time: judge once more on fresh data before sending.
        let seen = s.poll().await;
        if let Some(line) = s.line(&seen, max_errors) {
            say(format_args!("{line}"));
        }
        if let Some(code) = settle(s, &seen, max_errors) {
            return Ok(code);
        }
        let fresh = matches!(seen, Seen::Task);
        match entry(s) {
            Some(e) if fresh && meets(require, e) => {
                // The checklist may have been read again while the id was typed.
                let checklist = s.judge.app().checklist_for(&e.task.instance);
                let name = e.task.display_name();
                if let Some(code) =
                    super::loss_gate::check(require, &args.accept_loss, &name, checklist)
                {
                    return Ok(code);
                }
            }
            Some(e) => {
                say(format_args!(
                    "migtop: refused: task {} is no longer {}; nothing sent:",
                    e.task.display_name(),
                    required_label(require)
                ));
                for r in refusal(require, e) {
                    say(format_args!("  - {r}"));
                }
                return Ok(EXIT_REFUSED);
            }
            None => return Ok(EXIT_REFUSED),
        }
    }
    let requested = Utc::now();
    say(format_args!(
        "{} calling ActivateMigrationTargetInstance on {}",
        stamp(requested),
        s.instance
    ));
    let answer = s.client.activate_migration_target(&s.instance).await;
    let message = match &answer {
        Ok(v) => match crate::model::value::text(v.get("RequestId")) {
            Some(id) => format!("ActivateMigrationTargetInstance accepted, request id {id}"),
            None => "ActivateMigrationTargetInstance accepted".to_string(),
        },
        Err(e) => e.to_string(),
    };
    s.record(&Entry::Switchover(SwitchoverRecord {
        instance: s.instance.clone(),
        task_id,
        requested,
        at: Utc::now(),
        accepted: answer.is_ok(),
        message: message.clone(),
        origin: "switchover".into(),
    }));
    if answer.is_err() {
        say(format_args!(
            "migtop: switchover refused by the API: {message}"
        ));
        return Ok(EXIT_API);
    }
    say(format_args!("{} {message}", stamp(Utc::now())));
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
                    return Ok(EXIT_OK);
                }
            }
            Seen::Gone => {
                say(format_args!(
                    "migtop: the task is no longer listed by {}; whether the switchover succeeded is unknown",
                    s.instance
                ));
                return Ok(EXIT_API);
            }
            _ => {
                if let Some(code) = settle(s, &seen, max_errors) {
                    return Ok(code);
                }
            }
        }
        if Instant::now() >= deadline {
            say(format_args!(
                "migtop: the switchover was accepted, but the task did not reach success within {}",
                crate::util::units::duration(args.timeout)
            ));
            return Ok(EXIT_TIMEOUT);
        }
        tokio::time::sleep_until(next.min(deadline)).await;
    }
}
