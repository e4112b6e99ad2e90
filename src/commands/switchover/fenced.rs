//! `switchover --fence`: the source is made to refuse new writes before the switch.
//!
//! Privileges first (nothing changes without them); then the fence
//! (`default_transaction_read_only = on`, reloaded); the sessions still holding a transaction
//! id are listed (and ended with `--fence-terminate`); DRAINED is awaited under the fence; its
//! source position is the **token**; the standby must replay up to it; the check at the
//! switch; then ActivateMigrationTargetInstance. Every way out before the activation (a
//! refusal, `--timeout`, an error, Ctrl-C, SIGTERM, SIGHUP) lifts the fence again; after it
//! the fence stays (a second writable primary is the worst outcome) and the command that lifts
//! it is printed.

use std::collections::HashSet;

use chrono::Utc;
use tokio::time::Instant;

use super::{
    Activation, Flow, Judged, check, confirm, entry, evidence, judge, preflight, send, settle,
    verify, wait_success,
};
use crate::cli::{Require, SwitchoverArgs};
use crate::commands::script::{Session, stamp};
use crate::probe::SourceDsn;
use crate::probe::admin::{AdminError, Db, lift_command};
use crate::recording::cutover::CutoverEvent;
use crate::util::error::{EXIT_API, EXIT_REFUSED, EXIT_TIMEOUT, say};
use crate::util::signals::StopSignals;
use crate::util::units;
use crate::verdict::cutover::SourceMark;
use crate::verdict::readiness::VerdictKind;

/// The fence's session on the source.
struct Fence {
    db: Db,
    dsn: SourceDsn,
    timeout: std::time::Duration,
}

impl Fence {
    /// Connects and checks that the fence can be raised and lifted: the role's privileges,
    /// and a source not already read-only (whose fence migtop would not know to keep).
    /// Changes nothing.
    async fn prepare(dsn: &SourceDsn, timeout: std::time::Duration) -> Result<Fence, Vec<String>> {
        let db = Db::connect(dsn, timeout)
            .await
            .map_err(|e| vec![e.to_string()])?;
        let privileges = db.privileges().await.map_err(|e| vec![e.to_string()])?;
        let missing = privileges.missing();
        if !missing.is_empty() {
            return Err(missing);
        }
        let (value, source) = db
            .read_only_setting()
            .await
            .map_err(|e| vec![e.to_string()])?;
        if value == "on" {
            return Err(vec![format!(
                "default_transaction_read_only is already on (from {source}): a fence migtop did not raise, and would not know whether to lift"
            )]);
        }
        Ok(Fence {
            db,
            dsn: dsn.clone(),
            timeout,
        })
    }

    /// Lifts the fence, on a new session if the first one is gone.
    async fn lift(&mut self) -> Result<(), AdminError> {
        if self.db.lift().await.is_ok() {
            return Ok(());
        }
        self.db = Db::connect(&self.dsn, self.timeout).await?;
        self.db.lift().await
    }
}

/// How the fenced part before the activation ended.
enum Before {
    /// The token, the standby replayed it, and the check at the switch passed.
    Ready(SourceMark),
    /// Not switched: the exit code and why (the fence is to be lifted).
    Stop(i32, String),
}

/// Judge (IN SYNC: a source that writes cannot be DRAINED before it is fenced), confirm,
/// fence, DRAINED under the fence, the token, the standby's replay, the check, activate, and
/// follow the switch; lifts the fence on every way out before the activation.
pub async fn switch(args: &SwitchoverArgs, s: &mut Session) -> anyhow::Result<Flow<i32>> {
    let judged = super::go!(judge(args, Require::InSync, s).await);
    super::go!(preflight(args, s, &judged));
    super::go!(confirm(args, Require::InSync, s, &judged).await);
    let dsn = args
        .api
        .source_dsn
        .clone()
        .expect("--require drained has a source DSN");
    let mut fence = match Fence::prepare(&dsn, args.api.timeout).await {
        Ok(f) => f,
        Err(why) => {
            say(format_args!(
                "migtop: refused: cannot fence the source {}; nothing was changed:",
                dsn.redacted()
            ));
            for w in why {
                say(format_args!("  - {w}"));
            }
            return Ok(Flow::Exit(EXIT_REFUSED));
        }
    };
    // From here on Ctrl-C, SIGTERM and SIGHUP must lift the fence, not kill the process.
    let mut signals = StopSignals::listen()?;
    if let Err(e) = fence.db.fence().await {
        // ALTER SYSTEM may have gone through before the reload failed: undo it too.
        lift(&mut fence, s, &judged, &format!("raising it failed: {e}")).await;
        return Ok(Flow::Exit(EXIT_API));
    }
    say(format_args!(
        "{} fence on: the source {} refuses new writes (default_transaction_read_only = on, reloaded); a session can still override it",
        stamp(Utc::now()),
        dsn.redacted()
    ));
    evidence(s, judged.task_id, CutoverEvent::FenceOn);
    let deadline = Instant::now() + args.timeout;
    let before = tokio::select! {
        b = until_switch(args, s, &fence, deadline) => b,
        sig = signals.recv() => Before::Stop(sig.exit_code(), format!("{} before the switch", sig.name())),
    };
    let token = match before {
        Before::Ready(token) => token,
        Before::Stop(code, why) => {
            say(format_args!("migtop: not switched: {why}"));
            lift(&mut fence, s, &judged, &why).await;
            return Ok(Flow::Exit(code));
        }
    };
    match send(s, &judged).await {
        Activation::Accepted => {}
        Activation::Refused => {
            lift(&mut fence, s, &judged, "the API refused the switchover").await;
            return Ok(Flow::Exit(EXIT_API));
        }
        Activation::Unknown => {
            say(format_args!(
                "migtop: whether the switchover is carried out is unknown, so the fence stays; once the source may take writes again, lift it with: {}",
                lift_command(dsn.redacted())
            ));
            return Ok(Flow::Exit(EXIT_API));
        }
    }
    say(format_args!(
        "migtop: the fence stays on the old primary (it must not take writes now that the new one does); to lift it: {}",
        lift_command(dsn.redacted())
    ));
    let after = async {
        let code = super::go!(wait_success(args, s).await);
        match verify(args, s, &judged, &token).await? {
            Flow::Go(_) => Ok(Flow::Go(code)),
            exit => Ok(exit),
        }
    };
    tokio::select! {
        r = after => r,
        sig = signals.recv() => {
            say(format_args!(
                "migtop: {}: stopped following the switchover; it was sent, and the fence stays",
                sig.name()
            ));
            Ok(Flow::Exit(sig.exit_code()))
        }
    }
}

/// Lifts the fence and says so, or says loudly that it could not and how to do it by hand.
async fn lift(fence: &mut Fence, s: &mut Session, judged: &Judged, reason: &str) {
    match fence.lift().await {
        Ok(()) => {
            say(format_args!(
                "{} fence lifted ({reason}): the source takes writes again",
                stamp(Utc::now())
            ));
            evidence(
                s,
                judged.task_id,
                CutoverEvent::FenceOff {
                    reason: reason.to_string(),
                },
            );
        }
        Err(e) => say(format_args!(
            "migtop: COULD NOT LIFT THE FENCE ({e}): the source still refuses writes; lift it with: {}",
            lift_command(fence.dsn.redacted())
        )),
    }
}

/// Under the fence, up to the moment of the switch: DRAINED, the token, the standby's replay
/// of it, the check.
async fn until_switch(
    args: &SwitchoverArgs,
    s: &mut Session,
    fence: &Fence,
    deadline: Instant,
) -> Before {
    let token = match drained(args, s, fence, deadline).await {
        Ok(token) => token,
        Err(stop) => return stop,
    };
    say(format_args!(
        "{} token {}: the source's position once no xid moves (next xid {})",
        stamp(Utc::now()),
        token.lsn,
        token.next_xid
    ));
    let task_id = entry(s).and_then(|e| e.task.task_id);
    evidence(
        s,
        task_id,
        CutoverEvent::Token {
            lsn: token.lsn,
            next_xid: token.next_xid,
        },
    );
    if let Err(stop) = replayed(args, s, &token, deadline).await {
        return stop;
    }
    match check::at_switch(
        s,
        &token,
        deadline,
        args.script.max_errors,
        args.script.interval(),
    )
    .await
    {
        Ok(_) => Before::Ready(token),
        Err(r) => Before::Stop(r.code, format!("refused at the switch: {}", r.why)),
    }
}

/// Polls until DRAINED under the fence, listing (or ending) the sessions that hold an xid;
/// the token is the source's reading DRAINED rests on.
async fn drained(
    args: &SwitchoverArgs,
    s: &mut Session,
    fence: &Fence,
    deadline: Instant,
) -> Result<SourceMark, Before> {
    let max_errors = args.script.max_errors;
    let interval = args.script.interval();
    let mut shown: Vec<i32> = Vec::new();
    let mut ended: HashSet<i32> = HashSet::new();
    let mut prepared_shown: HashSet<String> = HashSet::new();
    loop {
        let next = Instant::now() + interval;
        if let Err(code) = super::poll_said(s, max_errors).await {
            return Err(Before::Stop(code, "the task could not be read".into()));
        }
        let drained_mark = entry(s)
            .filter(|e| e.verdict.kind() == VerdictKind::Drained)
            .and_then(|e| e.history.latest())
            .and_then(|(_, d)| SourceMark::of_sample(d));
        if let Some(mark) = drained_mark {
            return Ok(mark);
        }
        match fence.db.xid_holders().await {
            Ok(holders) => {
                let pids: Vec<i32> = holders.iter().map(|h| h.pid).collect();
                if pids != shown {
                    if holders.is_empty() {
                        say(format_args!("  no session holds a transaction id any more"));
                    }
                    for h in &holders {
                        say(format_args!("  holds a transaction id: {h}"));
                    }
                    shown = pids;
                }
                if args.fence_terminate {
                    // Only applications' sessions: autovacuum and other server processes
                    // finish on their own.
                    for h in holders.iter().filter(|h| h.is_client()) {
                        if !ended.insert(h.pid) {
                            continue;
                        }
                        match fence.db.terminate(h.pid).await {
                            Ok(_) => say(format_args!(
                                "  terminated pid {} (--fence-terminate)",
                                h.pid
                            )),
                            Err(e) => say(format_args!("  could not terminate pid {}: {e}", h.pid)),
                        }
                    }
                }
            }
            Err(e) => say(format_args!(
                "  cannot list the sessions holding a transaction id: {e}"
            )),
        }
        if let Ok(prepared) = fence.db.prepared().await {
            for p in prepared {
                if prepared_shown.insert(p.gid.clone()) {
                    say(format_args!(
                        "  prepared transaction {:?} in {} holds a transaction id until COMMIT PREPARED or ROLLBACK PREPARED (no session to end)",
                        p.gid, p.database
                    ));
                }
            }
        }
        if Instant::now() >= deadline {
            let why = entry(s)
                .map(|e| super::refusal(Require::Drained, e).join(", "))
                .unwrap_or_default();
            return Err(Before::Stop(
                EXIT_TIMEOUT,
                format!(
                    "not DRAINED under the fence within {} (--timeout): {why}",
                    units::duration(args.timeout)
                ),
            ));
        }
        tokio::time::sleep_until(next.min(deadline)).await;
    }
}

/// Polls until the standby has replayed up to the token (its ReplayLsn, in bytes).
async fn replayed(
    args: &SwitchoverArgs,
    s: &mut Session,
    token: &SourceMark,
    deadline: Instant,
) -> Result<(), Before> {
    let max_errors = args.script.max_errors;
    let interval = args
        .script
        .interval()
        .min(std::time::Duration::from_secs(1));
    loop {
        let next = Instant::now() + interval;
        let seen = s.poll().await;
        if let Some(code) = settle(s, &seen, max_errors) {
            return Err(Before::Stop(code, "the task could not be read".into()));
        }
        let replay = entry(s)
            .and_then(|e| e.history.latest())
            .and_then(|(_, d)| d.replay);
        match replay {
            Some(r) if r >= token.lsn => {
                say(format_args!(
                    "{} the standby replayed {r}, at or past the token {}",
                    stamp(Utc::now()),
                    token.lsn
                ));
                return Ok(());
            }
            Some(r) => say(format_args!(
                "{} the standby replayed {r}: {} short of the token {}",
                stamp(Utc::now()),
                units::bytes(token.lsn.bytes_since(r)),
                token.lsn
            )),
            None => {}
        }
        if Instant::now() >= deadline {
            return Err(Before::Stop(
                EXIT_TIMEOUT,
                format!(
                    "the standby did not replay up to the token {} within {} (--timeout); it replayed {}",
                    token.lsn,
                    units::duration(args.timeout),
                    replay
                        .map(|r| r.to_string())
                        .unwrap_or_else(|| "unknown".into())
                ),
            ));
        }
        tokio::time::sleep_until(next.min(deadline)).await;
    }
}
