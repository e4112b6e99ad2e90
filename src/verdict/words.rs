//! The verdict in words, with the source's checklist: one vocabulary for every output.
//!
//! DRAINED says the standby replayed everything the source logged; what the source never
//! logs (unlogged relations) is not in it. So "loses nothing" is said only when the
//! checklist was read and has no *loses data* item; otherwise DRAINED names the loss, e.g.
//! `DRAINED · 2 unlogged tables (3.40 MiB) will be empty on RDS`.

use crate::probe::checklist::{Checklist, Finding, Severity};
use crate::verdict::readiness::{NotDrained, Verdict, VerdictKind};

/// What a switchover loses beyond what DRAINED covers, by the checklist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Loss {
    /// The checklist was read and no item loses data.
    Nothing,
    /// No checklist yet: what unlogged data there is, is unknown.
    Unchecked,
    /// The checklist's *loses data* items, in one phrase.
    Loses(String),
}

/// The loss by `checklist` (`None`: not read yet).
pub fn loss(checklist: Option<&Checklist>) -> Loss {
    match checklist {
        None => Loss::Unchecked,
        Some(c) => match c.loss_summary() {
            Some(s) => Loss::Loses(s),
            None => Loss::Nothing,
        },
    }
}

/// What DRAINED means for a switchover now: `loses nothing` (`(simulated)` when the
/// confirmation came from the simulator), or what it loses, or that it was not checked.
pub fn drained_words(simulated: bool, checklist: Option<&Checklist>) -> String {
    match loss(checklist) {
        Loss::Nothing if simulated => "loses nothing (simulated)".into(),
        Loss::Nothing => "loses nothing".into(),
        Loss::Unchecked => "source checklist not read yet: unlogged data unchecked".into(),
        Loss::Loses(s) => s,
    }
}

/// Every blocker of a verdict, terse and comma-separated (empty when it has none).
pub fn blockers(v: &Verdict) -> String {
    v.reasons()
        .iter()
        .map(|r| r.short())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The verdict in one line: `DRAINED · loses nothing`, `DRAINED · 2 unlogged tables (…) will
/// be empty on RDS`, `IN SYNC · not DRAINED: source still writing`, `NOT READY: state
/// catchup, not Synced, lag > 16.0 MiB` (every blocker), `SWITCHING`, `FINISHED`.
pub fn headline(v: &Verdict, checklist: Option<&Checklist>) -> String {
    match (v, v.kind()) {
        (Verdict::Drained { simulated, .. }, _) => {
            format!("DRAINED · {}", drained_words(*simulated, checklist))
        }
        (Verdict::InSync { not_drained, .. }, _) => {
            format!(
                "IN SYNC · not DRAINED: {not_drained}{}",
                writers(not_drained, checklist)
            )
        }
        (_, k @ (VerdictKind::Switching | VerdictKind::Finished)) => k.label().to_string(),
        (v, _) => format!("NOT READY: {}", blockers(v)),
    }
}

/// Who keeps the source writing, by the checklist's *blocks DRAINED* items, e.g. ` (prepared
/// transaction g1, pid 4242)`; empty unless the source is writing and the checklist names
/// someone.
pub fn writers(not_drained: &NotDrained, checklist: Option<&Checklist>) -> String {
    const SHOWN: usize = 3;
    if *not_drained != NotDrained::SourceWriting {
        return String::new();
    }
    let Some(c) = checklist else {
        return String::new();
    };
    let who: Vec<String> = c
        .of(Severity::BlocksDrained)
        .map(|f| match f {
            Finding::Prepared { gid, .. } => format!("prepared transaction {gid}"),
            other => other.subject(),
        })
        .collect();
    if who.is_empty() {
        return String::new();
    }
    let more = who.len().saturating_sub(SHOWN);
    let mut text = who.into_iter().take(SHOWN).collect::<Vec<_>>().join(", ");
    if more > 0 {
        text.push_str(&format!(", +{more} more"));
    }
    format!(" ({text})")
}

/// What `--accept-loss` accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AcceptLoss {
    /// Unlogged relations (and what could not be read for them) will be empty on RDS.
    Unlogged,
}

/// Why a switchover that requires DRAINED must not go ahead by the checklist: one line per
/// *loses data* item (and one when the checklist was never read), unless `accept` holds
/// [`AcceptLoss::Unlogged`]. `Ok` with the lines to print as warnings when accepted.
pub fn loss_refusal(
    checklist: Option<&Checklist>,
    accept: &[AcceptLoss],
) -> Result<Vec<String>, Vec<String>> {
    let lines: Vec<String> = match checklist {
        None => vec!["the source checklist was not read: unlogged data unchecked".into()],
        Some(c) => c.of(Severity::LosesData).map(|i| i.to_string()).collect(),
    };
    if lines.is_empty() || accept.contains(&AcceptLoss::Unlogged) {
        Ok(lines)
    } else {
        Err(lines)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use chrono::DateTime;

    use super::*;
    use crate::model::Stage;
    use crate::probe::checklist::{Finding, RelKind};
    use crate::verdict::readiness::Reason;

    const MIB: u64 = 1024 * 1024;

    fn checklist(items: Vec<Finding>) -> Checklist {
        Checklist::new(
            DateTime::from_timestamp(0, 0).unwrap(),
            vec!["postgres".into()],
            items,
        )
    }

    fn unlogged(db: &str, name: &str, bytes: u64) -> Finding {
        Finding::Unlogged {
            database: db.into(),
            schema: "public".into(),
            name: name.into(),
            relkind: RelKind::Table,
            bytes,
            rows: Some(10),
        }
    }

    fn drained() -> Verdict {
        Verdict::Drained {
            stable: Duration::from_secs(30),
            simulated: false,
        }
    }

    #[test]
    fn loses_nothing_only_when_drained_and_nothing_is_unlogged() {
        let clean = checklist(vec![Finding::LogicalSlot {
            name: "cdc".into(),
            plugin: None,
            database: None,
            active: true,
        }]);
        assert_eq!(
            headline(&drained(), Some(&clean)),
            "DRAINED · loses nothing"
        );
        let sim = Verdict::Drained {
            stable: Duration::from_secs(30),
            simulated: true,
        };
        assert_eq!(
            headline(&sim, Some(&clean)),
            "DRAINED · loses nothing (simulated)"
        );
        let lossy = checklist(vec![
            unlogged("postgres", "a", 2 * MIB),
            unlogged("shop", "b", 1433 * 1024),
        ]);
        assert_eq!(
            headline(&drained(), Some(&lossy)),
            "DRAINED · 2 unlogged tables (3.40 MiB) will be empty on RDS"
        );
        let unread = headline(&drained(), None);
        assert!(!unread.contains("loses nothing"), "{unread}");
        let denied = checklist(vec![Finding::Unreadable {
            what: "database hr".into(),
            reason: "permission denied for database hr".into(),
            severity: Severity::LosesData,
        }]);
        let h = headline(&drained(), Some(&denied));
        assert!(!h.contains("loses nothing"), "{h}");
        assert!(h.contains("database hr unreadable"), "{h}");
        // Blocking items do not touch the loss: DRAINED already waits for them.
        let blocked = checklist(vec![Finding::Prepared {
            gid: "g".into(),
            database: "postgres".into(),
            age_secs: 3,
        }]);
        assert_eq!(loss(Some(&blocked)), Loss::Nothing);
    }

    #[test]
    fn the_other_verdicts_in_words() {
        let in_sync = Verdict::InSync {
            lag: 0,
            stable: Duration::from_secs(30),
            not_drained: NotDrained::SourceWriting,
        };
        assert_eq!(
            headline(&in_sync, None),
            "IN SYNC · not DRAINED: source still writing"
        );
        // Who is writing, by the checklist.
        let writing = checklist(vec![
            Finding::Prepared {
                gid: "g1".into(),
                database: "postgres".into(),
                age_secs: 9,
            },
            Finding::XidSession {
                pid: 4242,
                user: None,
                application: None,
                client: None,
                age_secs: None,
                query: None,
            },
        ]);
        assert_eq!(
            headline(&in_sync, Some(&writing)),
            "IN SYNC · not DRAINED: source still writing (prepared transaction g1, pid 4242)"
        );
        let not_ready = Verdict::NotReady(vec![
            Reason::NotSynced(Some(false)),
            Reason::LagAbove {
                lag: 416 * MIB,
                max: 16 * MIB,
                lower_bound: false,
            },
        ]);
        assert_eq!(
            headline(&not_ready, None),
            "NOT READY: not Synced, lag > 16.0 MiB"
        );
        let finished = Verdict::NotReady(vec![Reason::Stage(Some(Stage::Success))]);
        assert_eq!(headline(&finished, None), "FINISHED");
        let switching = Verdict::NotReady(vec![Reason::Stage(Some(Stage::Switch))]);
        assert_eq!(headline(&switching, None), "SWITCHING");
    }

    #[test]
    fn a_loss_refuses_unless_accepted() {
        let lossy = checklist(vec![
            unlogged("postgres", "orders_cache", MIB),
            unlogged("shop", "cart_cache", MIB),
        ]);
        let refused = loss_refusal(Some(&lossy), &[]).unwrap_err();
        assert_eq!(refused.len(), 2);
        assert!(refused[0].contains("public.orders_cache in postgres"));
        assert!(refused[1].contains("public.cart_cache in shop"));
        let accepted = loss_refusal(Some(&lossy), &[AcceptLoss::Unlogged]).unwrap();
        assert_eq!(accepted.len(), 2, "accepted losses are still named");
        assert_eq!(loss_refusal(Some(&checklist(vec![])), &[]), Ok(vec![]));
        assert!(
            loss_refusal(None, &[]).is_err(),
            "never read is no clean bill"
        );
    }
}
