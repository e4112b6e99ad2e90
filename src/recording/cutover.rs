//! The cutover's evidence in a recording: one line per step `migtop switchover` carried out
//! (fence on and off, the token, the check at the switch, the activation's request id, the
//! verification), so the report can put them on a timeline next to the polls.
//!
//! ```text
//! {"v":1,"kind":"cutover","instance":"pgm-1","task_id":7,"at":"…","event":{"step":"token","lsn":"0/5000000","next_xid":900}}
//! ```

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::model::Lsn;

/// One step of a cutover, when it happened.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CutoverRecord {
    pub instance: String,
    /// The task switched over, when known.
    #[serde(default)]
    pub task_id: Option<i64>,
    pub at: DateTime<Utc>,
    pub event: CutoverEvent,
}

/// What happened. Texts are migtop's own sentences (server text already made printable).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum CutoverEvent {
    /// The source was made read-only (`default_transaction_read_only = on`, reloaded).
    FenceOn,
    /// The fence was lifted, and why.
    FenceOff { reason: String },
    /// The source's position once no xid moved under the fence.
    Token { lsn: Lsn, next_xid: u64 },
    /// The check immediately before ActivateMigrationTargetInstance.
    SwitchCheck {
        /// When the verdict was judged (the source reading it rests on).
        judged_at: DateTime<Utc>,
        judged_lsn: Lsn,
        judged_xid: u64,
        /// The source read at the check.
        source_lsn: Option<Lsn>,
        next_xid: Option<u64>,
        /// What the standby had received then.
        received: Option<Lsn>,
        passed: bool,
        text: String,
    },
    /// ActivateMigrationTargetInstance's answer.
    Activation {
        accepted: bool,
        request_id: Option<String>,
    },
    /// The proof on the new primary after the switch.
    Verification { passed: bool, text: String },
}

impl CutoverEvent {
    /// A short name of the step, for tables.
    pub fn step(&self) -> &'static str {
        match self {
            CutoverEvent::FenceOn => "fence on",
            CutoverEvent::FenceOff { .. } => "fence off",
            CutoverEvent::Token { .. } => "token",
            CutoverEvent::SwitchCheck { .. } => "check at the switch",
            CutoverEvent::Activation { .. } => "activation",
            CutoverEvent::Verification { .. } => "verification",
        }
    }

    /// Whether the step passed: `None` for steps that are not checks.
    pub fn passed(&self) -> Option<bool> {
        match self {
            CutoverEvent::SwitchCheck { passed, .. }
            | CutoverEvent::Verification { passed, .. } => Some(*passed),
            CutoverEvent::Activation { accepted, .. } => Some(*accepted),
            _ => None,
        }
    }

    /// The step in one sentence.
    pub fn text(&self) -> String {
        let or = |l: &Option<Lsn>| l.map(|l| l.to_string()).unwrap_or_else(|| "unknown".into());
        match self {
            CutoverEvent::FenceOn => {
                "the source refuses new writes (default_transaction_read_only = on, reloaded)"
                    .into()
            }
            CutoverEvent::FenceOff { reason } => format!("the fence was lifted: {reason}"),
            CutoverEvent::Token { lsn, next_xid } => {
                format!(
                    "token {lsn}: the source's position once no xid moved (next xid {next_xid})"
                )
            }
            CutoverEvent::SwitchCheck {
                judged_at,
                judged_lsn,
                judged_xid,
                source_lsn,
                next_xid,
                received,
                text,
                ..
            } => format!(
                "judged at {} (source {judged_lsn}, next xid {judged_xid}); at the switch: source {}, next xid {}, standby received {}: {text}",
                judged_at.format("%H:%M:%S%.3f"),
                or(source_lsn),
                next_xid
                    .map(|x| x.to_string())
                    .unwrap_or_else(|| "unknown".into()),
                or(received),
            ),
            CutoverEvent::Activation {
                accepted,
                request_id,
            } => format!(
                "ActivateMigrationTargetInstance {}{}",
                if *accepted { "accepted" } else { "refused" },
                request_id
                    .as_deref()
                    .map(|r| format!(", request id {r}"))
                    .unwrap_or_default()
            ),
            CutoverEvent::Verification { text, .. } => text.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recording::{Entry, Recording, encode};

    #[test]
    fn cutover_lines_round_trip() {
        let at = DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        let events = [
            CutoverEvent::FenceOn,
            CutoverEvent::Token {
                lsn: "0/5000000".parse().unwrap(),
                next_xid: 900,
            },
            CutoverEvent::SwitchCheck {
                judged_at: at,
                judged_lsn: "0/5000000".parse().unwrap(),
                judged_xid: 900,
                source_lsn: Some("0/5000100".parse().unwrap()),
                next_xid: Some(900),
                received: None,
                passed: false,
                text: "the standby's received position is unknown".into(),
            },
            CutoverEvent::Activation {
                accepted: true,
                request_id: Some("REQ-1".into()),
            },
            CutoverEvent::Verification {
                passed: true,
                text: "verified".into(),
            },
            CutoverEvent::FenceOff {
                reason: "refused".into(),
            },
        ];
        for event in events {
            let e = Entry::Cutover(CutoverRecord {
                instance: "pgm-1".into(),
                task_id: Some(7),
                at,
                event,
            });
            let line = encode(&e);
            assert!(line.contains("\"kind\":\"cutover\""), "{line}");
            assert_eq!(Recording::parse(&line).entries, vec![e]);
        }
    }
}
