//! The check at the moment of the switch: immediately before ActivateMigrationTargetInstance
//! the source is read again. A next xid that moved since the judged window refuses; a
//! position that moved alone (housekeeping WAL) must first have reached the standby.

use chrono::Utc;
use tokio::time::Instant;

use super::{entry, settle};
use crate::commands::script::{Seen, Session, stamp};
use crate::recording::Entry;
use crate::recording::cutover::{CutoverEvent, CutoverRecord};
use crate::util::error::{EXIT_REFUSED, say};
use crate::verdict::cutover::{SourceMark, SwitchCheck, check_at_switch};

/// Why the switch was not sent, and the exit code.
#[derive(Debug)]
pub struct Refusal {
    pub code: i32,
    pub why: String,
}

/// Polls (the API, then the source) until nothing wrote since `judged` and the standby has
/// received the source's position, and returns the source as it was then; or refuses. Every
/// attempt is one line; the outcome is recorded.
pub async fn at_switch(
    s: &mut Session,
    judged: &SourceMark,
    deadline: Instant,
    max_errors: u32,
    interval: std::time::Duration,
) -> Result<SourceMark, Refusal> {
    // Housekeeping WAL reaches a live standby within milliseconds: a short pause will do.
    let pause = interval.min(std::time::Duration::from_secs(1));
    loop {
        let seen = s.poll().await;
        if let Some(code) = settle(s, &seen, max_errors) {
            return Err(Refusal {
                code,
                why: "the task could not be read at the switch".into(),
            });
        }
        let latest = entry(s).and_then(|e| e.history.latest().map(|(_, d)| d.clone()));
        let task_id = entry(s).and_then(|e| e.task.task_id);
        let reading = latest.as_ref().and_then(|d| d.reading.clone());
        let received = latest.as_ref().and_then(|d| d.received);
        if let (Seen::Task, Some(now)) = (&seen, reading) {
            let check = check_at_switch(judged, &now, received);
            let line = format!(
                "check at the switch: judged at {} (source {}, next xid {}); the source at {}: {}, next xid {}; the standby received {}: {check}",
                stamp_ms(judged.at),
                judged.lsn,
                judged.next_xid,
                stamp_ms(now.at),
                now.lsn,
                now.next_xid
                    .map(|x| x.to_string())
                    .unwrap_or_else(|| "unknown".into()),
                received
                    .map(|r| r.to_string())
                    .unwrap_or_else(|| "unknown".into()),
            );
            say(format_args!("{} {line}", stamp(Utc::now())));
            let late = Instant::now() >= deadline;
            let outcome = match &check {
                SwitchCheck::Clear => Some(Ok(SourceMark {
                    at: now.at,
                    lsn: now.lsn,
                    next_xid: judged.next_xid,
                    timeline: now.timeline,
                })),
                c if c.refuses() => Some(Err(c.to_string())),
                c if late => Some(Err(format!("gave up waiting: {c}"))),
                _ => None,
            };
            if let Some(outcome) = outcome {
                let passed = outcome.is_ok();
                let record = CutoverRecord {
                    instance: s.instance.clone(),
                    task_id,
                    at: Utc::now(),
                    event: CutoverEvent::SwitchCheck {
                        judged_at: judged.at,
                        judged_lsn: judged.lsn,
                        judged_xid: judged.next_xid,
                        source_lsn: Some(now.lsn),
                        next_xid: now.next_xid,
                        received,
                        passed,
                        text: check.to_string(),
                    },
                };
                s.record(&Entry::Cutover(record));
                return outcome.map_err(|why| Refusal {
                    code: EXIT_REFUSED,
                    why,
                });
            }
        } else if Instant::now() >= deadline {
            return Err(Refusal {
                code: EXIT_REFUSED,
                why: "the source or the task could not be read at the switch".into(),
            });
        }
        tokio::time::sleep(pause).await;
    }
}

/// A time to the millisecond, for the judged instant.
pub fn stamp_ms(t: chrono::DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}
