//! The cutover's own checks, pure: the check at the moment of the switch (did anything write
//! since the judged window; has the standby received what the source holds now) and the proof
//! after it (the new primary holds everything up to the token).
//!
//! Both rest on the source's and the target's own readings, never on the API alone: the API
//! reports what the standby received, not what the source committed.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::model::Lsn;
use crate::probe::SourceSample;
use crate::probe::admin::TargetFacts;
use crate::verdict::history::SampleData;

/// The source as read at one moment: when, its WAL position and its next transaction id.
/// Taken at the judged window's end it is what the switch is checked against; taken under
/// the fence once no xid moves, its position is the **token**.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceMark {
    pub at: DateTime<Utc>,
    pub lsn: Lsn,
    pub next_xid: u64,
    /// The source's timeline, when it was read.
    pub timeline: Option<u32>,
}

impl SourceMark {
    /// The mark of a reading, when it has a next xid and no transaction holding one was open
    /// (an open one could still commit after it).
    pub fn of(reading: &SourceSample) -> Option<SourceMark> {
        if reading.in_recovery || reading.xid_in_progress != Some(false) {
            return None;
        }
        Some(SourceMark {
            at: reading.at,
            lsn: reading.lsn,
            next_xid: reading.next_xid?,
            timeline: reading.timeline,
        })
    }

    /// The mark of a task's newest sample (its source reading).
    pub fn of_sample(data: &SampleData) -> Option<SourceMark> {
        data.reading.as_ref().and_then(SourceMark::of)
    }
}

/// What the check at the moment of the switch found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SwitchCheck {
    /// Nothing wrote since the judged window and the standby has received the source's
    /// position: the switch may be sent.
    Clear,
    /// The next xid moved, or a transaction holding one is open: something wrote (or may
    /// commit) after the judgement. Refuse.
    Wrote {
        judged_xid: u64,
        now_xid: u64,
        in_progress: bool,
    },
    /// Only the position moved (housekeeping WAL) and the standby has not received it yet:
    /// wait for it, or give up.
    NotReceived { source: Lsn, received: Option<Lsn> },
    /// The source cannot vouch for itself now (no next xid, in recovery, another timeline).
    Unknown(String),
}

impl SwitchCheck {
    /// Whether the switch must be refused outright (not merely waited for).
    pub fn refuses(&self) -> bool {
        matches!(self, SwitchCheck::Wrote { .. } | SwitchCheck::Unknown(_))
    }
}

impl fmt::Display for SwitchCheck {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SwitchCheck::Clear => write!(f, "clear: nothing wrote and the standby received it all"),
            SwitchCheck::Wrote {
                judged_xid,
                now_xid,
                in_progress,
            } => {
                if now_xid != judged_xid {
                    write!(
                        f,
                        "the source wrote since it was judged: next xid {judged_xid} → {now_xid}"
                    )
                } else {
                    debug_assert!(*in_progress);
                    write!(f, "a transaction holding an xid is open on the source")
                }
            }
            SwitchCheck::NotReceived { source, received } => match received {
                Some(r) => write!(
                    f,
                    "the standby has received {r}, the source is at {source} ({} B of housekeeping WAL)",
                    source.bytes_since(*r)
                ),
                None => write!(
                    f,
                    "the standby's received position is unknown, the source is at {source}"
                ),
            },
            SwitchCheck::Unknown(why) => write!(f, "the source cannot confirm it: {why}"),
        }
    }
}

/// The check at the switch: the source read `now`, the standby's received position read
/// after it (so `received ≥ now.lsn` means it had everything the source had written then).
pub fn check_at_switch(
    judged: &SourceMark,
    now: &SourceSample,
    received: Option<Lsn>,
) -> SwitchCheck {
    if now.in_recovery {
        return SwitchCheck::Unknown("the source is in recovery (promoted away?)".into());
    }
    if judged.timeline.is_some() && now.timeline.is_some() && judged.timeline != now.timeline {
        return SwitchCheck::Unknown(format!(
            "its timeline moved from {} to {}",
            judged.timeline.unwrap_or_default(),
            now.timeline.unwrap_or_default()
        ));
    }
    let (Some(xid), Some(in_progress)) = (now.next_xid, now.xid_in_progress) else {
        return SwitchCheck::Unknown("its next transaction id could not be read".into());
    };
    if now.lsn < judged.lsn {
        return SwitchCheck::Unknown(format!(
            "its position went back from {} to {} (another server?)",
            judged.lsn, now.lsn
        ));
    }
    if xid != judged.next_xid || in_progress {
        return SwitchCheck::Wrote {
            judged_xid: judged.next_xid,
            now_xid: xid,
            in_progress,
        };
    }
    match received {
        Some(r) if r >= now.lsn => SwitchCheck::Clear,
        received => SwitchCheck::NotReceived {
            source: now.lsn,
            received,
        },
    }
}

/// What the new primary said about itself after the switch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TargetReading {
    /// `pg_is_in_recovery()`.
    pub in_recovery: bool,
    /// The timeline it writes on now.
    pub timeline: Option<u32>,
    /// Where its timeline began: the end of what it replayed from the source.
    pub switch_point: Option<Lsn>,
    /// Where `switch_point` was read: the timeline history file, or
    /// `pg_last_wal_replay_lsn()` (static after promotion) when the file is not readable.
    pub switch_point_from: String,
}

impl TargetReading {
    /// The reading of what the target said: the switch point from its timeline history file
    /// when the role could read it, else from `pg_last_wal_replay_lsn()`.
    pub fn of(f: &TargetFacts) -> TargetReading {
        let from_history = f.history.as_deref().and_then(history_switch_point);
        let (switch_point, from) = match (from_history, f.replayed) {
            (Some(p), _) => (Some(p), "the timeline history file".to_string()),
            (None, r) => (
                r,
                match &f.history_error {
                    Some(e) => format!("pg_last_wal_replay_lsn() (the history file: {e})"),
                    None => "pg_last_wal_replay_lsn()".to_string(),
                },
            ),
        };
        TargetReading {
            in_recovery: f.in_recovery,
            timeline: f.timeline,
            switch_point,
            switch_point_from: from,
        }
    }
}

/// The proof after the switch: the target is out of recovery, on a timeline newer than the
/// source's, and its timeline began at or past the token. Every failure, in words.
pub fn verify(
    token: Lsn,
    source_timeline: Option<u32>,
    t: &TargetReading,
) -> Result<(), Vec<String>> {
    let mut failed = Vec::new();
    if t.in_recovery {
        failed.push("the target is still in recovery (not promoted)".to_string());
    }
    match (t.timeline, source_timeline) {
        (None, _) => failed.push("the target's timeline could not be read".to_string()),
        (Some(new), Some(old)) if new <= old => failed.push(format!(
            "the target is on timeline {new}, not past the source's {old}"
        )),
        _ => {}
    }
    match t.switch_point {
        None => failed.push("the target's timeline switch point could not be read".to_string()),
        Some(p) if p < token => failed.push(format!(
            "the target's timeline began at {p}, {} B before the token {token}",
            token.bytes_since(p)
        )),
        Some(_) => {}
    }
    if failed.is_empty() {
        Ok(())
    } else {
        Err(failed)
    }
}

/// Parses a timeline history file (`<parent tli>\t<switch point>\t<reason>` per line) and
/// returns the switch point of its last line: where the newest timeline began.
pub fn history_switch_point(text: &str) -> Option<Lsn> {
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        .filter_map(|l| l.split_whitespace().nth(1)?.parse::<Lsn>().ok())
        .next_back()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reading(lsn: &str, xid: Option<u64>, busy: bool) -> SourceSample {
        SourceSample {
            at: DateTime::from_timestamp(1_700_000_000, 0).unwrap(),
            lsn: lsn.parse().unwrap(),
            in_recovery: false,
            timeline: Some(1),
            server_version: Some(150000),
            round_trip_ms: 1,
            next_xid: xid,
            xid_in_progress: xid.map(|_| busy),
            wal_sender_timeout: None,
            simulated: false,
        }
    }

    fn judged() -> SourceMark {
        SourceMark::of(&reading("0/5000000", Some(900), false)).unwrap()
    }

    #[test]
    fn a_mark_needs_a_next_xid_and_nothing_open() {
        assert!(SourceMark::of(&reading("0/1", Some(1), true)).is_none());
        assert!(SourceMark::of(&reading("0/1", None, false)).is_none());
        let m = judged();
        assert_eq!((m.lsn.to_string(), m.next_xid), ("0/5000000".into(), 900));
    }

    #[test]
    fn a_write_after_the_judgement_refuses() {
        let now = reading("0/5001000", Some(901), false);
        let c = check_at_switch(&judged(), &now, Some("0/6000000".parse().unwrap()));
        assert!(c.refuses(), "{c}");
        assert!(c.to_string().contains("next xid 900 → 901"), "{c}");
        // Same xid, but one is held (a writer that has not committed): refused too.
        let open = reading("0/5000000", Some(900), true);
        let c = check_at_switch(&judged(), &open, Some("0/5000000".parse().unwrap()));
        assert!(c.refuses() && c.to_string().contains("open"), "{c}");
    }

    #[test]
    fn housekeeping_wal_must_be_received_first() {
        let now = reading("0/5000100", Some(900), false);
        let c = check_at_switch(&judged(), &now, Some("0/5000000".parse().unwrap()));
        assert!(!c.refuses());
        assert!(matches!(c, SwitchCheck::NotReceived { .. }), "{c}");
        assert!(c.to_string().contains("256 B"), "{c}");
        assert!(matches!(
            check_at_switch(&judged(), &now, None),
            SwitchCheck::NotReceived { received: None, .. }
        ));
        let c = check_at_switch(&judged(), &now, Some("0/5000100".parse().unwrap()));
        assert_eq!(c, SwitchCheck::Clear);
    }

    #[test]
    fn a_source_that_cannot_vouch_refuses() {
        let mut r = reading("0/5000000", None, false);
        assert!(check_at_switch(&judged(), &r, None).refuses());
        r.next_xid = Some(900);
        r.xid_in_progress = Some(false);
        r.in_recovery = true;
        assert!(check_at_switch(&judged(), &r, None).refuses());
        r.in_recovery = false;
        r.timeline = Some(2);
        assert!(check_at_switch(&judged(), &r, None).refuses());
        let back = reading("0/4000000", Some(900), false);
        assert!(check_at_switch(&judged(), &back, None).refuses());
    }

    fn promoted(tli: u32, at: &str) -> TargetReading {
        TargetReading {
            in_recovery: false,
            timeline: Some(tli),
            switch_point: Some(at.parse().unwrap()),
            switch_point_from: "history".into(),
        }
    }

    #[test]
    fn verification_names_every_failure() {
        let token: Lsn = "0/5000000".parse().unwrap();
        assert_eq!(verify(token, Some(1), &promoted(2, "0/5000000")), Ok(()));
        assert_eq!(verify(token, Some(1), &promoted(2, "0/5000A00")), Ok(()));
        let short = verify(token, Some(1), &promoted(2, "0/4FFFF00")).unwrap_err();
        assert_eq!(
            short,
            vec!["the target's timeline began at 0/4FFFF00, 256 B before the token 0/5000000"]
        );
        let mut standby = promoted(1, "0/5000000");
        standby.in_recovery = true;
        standby.switch_point = None;
        let e = verify(token, Some(1), &standby).unwrap_err();
        assert_eq!(e.len(), 3, "{e:?}");
        assert!(e[0].contains("still in recovery") && e[1].contains("timeline 1"));
    }

    #[test]
    fn history_files() {
        assert_eq!(
            history_switch_point("1\t0/3000158\tno recovery target specified\n"),
            Some("0/3000158".parse().unwrap())
        );
        let two = "1\t0/3000158\tno recovery target specified\n\n2\t0/5000000\tno recovery target specified\n";
        assert_eq!(
            history_switch_point(two),
            Some("0/5000000".parse().unwrap())
        );
        assert_eq!(history_switch_point(""), None);
        assert_eq!(history_switch_point("garbage"), None);
    }
}
