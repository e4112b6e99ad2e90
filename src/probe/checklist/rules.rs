//! The checklist's rules: catalog rows (as read, untyped) to items. Pure, so every rule is
//! unit-tested without a server.

use super::{Finding, QUERY_CHARS, RelKind, Severity};
use crate::util::units;

/// One row of `pg_class` with `relpersistence = 'u'`.
#[derive(Debug, Clone, PartialEq)]
pub struct RelRow {
    pub schema: String,
    pub name: String,
    /// `relkind`: `r` table, `S` sequence, `m` materialized view, `i` index, `p` ...
    pub relkind: String,
    /// `pg_relation_size`: the main fork alone.
    pub main_bytes: i64,
    /// `pg_total_relation_size`: with indexes and TOAST.
    pub total_bytes: i64,
    /// `reltuples`: -1 when never counted (PostgreSQL 14+).
    pub reltuples: f64,
    /// `relispopulated` (false for a materialized view made `WITH NO DATA`).
    pub populated: bool,
}

/// How many unlogged relations of one database are named; the rest (the smallest) are one
/// [`Finding::MoreUnlogged`].
pub const MAX_UNLOGGED_PER_DATABASE: usize = 100;

/// The unlogged relations of `database` that hold data, from its rows: the
/// [`MAX_UNLOGGED_PER_DATABASE`] largest by name, the rest counted.
///
/// A table holds data when its main fork has a page (an empty one with indexes still has
/// index pages, hence the main fork); a materialized view when populated and not empty; a
/// sequence always (its state is data: reset, it hands out numbers again). Indexes and
/// partitioned parents hold nothing of their own (their partitions are listed themselves).
pub fn unlogged(database: &str, rows: &[RelRow]) -> Vec<Finding> {
    let mut found = holding_data(database, rows);
    if found.len() <= MAX_UNLOGGED_PER_DATABASE {
        return found;
    }
    let size = |f: &Finding| match f {
        Finding::Unlogged { bytes, .. } => *bytes,
        _ => 0,
    };
    // The largest first for the cut; named ones back in their order afterwards.
    let mut order: Vec<usize> = (0..found.len()).collect();
    order.sort_by_key(|i| std::cmp::Reverse(size(&found[*i])));
    let mut keep = vec![false; found.len()];
    for i in &order[..MAX_UNLOGGED_PER_DATABASE] {
        keep[*i] = true;
    }
    let (mut count, mut bytes) = (0usize, 0u64);
    let mut i = 0;
    found.retain(|f| {
        let k = keep[i];
        i += 1;
        if !k {
            count += 1;
            bytes = bytes.saturating_add(size(f));
        }
        k
    });
    found.push(Finding::MoreUnlogged {
        database: database.to_string(),
        count,
        bytes,
    });
    found
}

fn holding_data(database: &str, rows: &[RelRow]) -> Vec<Finding> {
    rows.iter()
        .filter_map(|r| {
            let relkind = match r.relkind.as_str() {
                "r" if r.main_bytes > 0 => RelKind::Table,
                "m" if r.populated && r.main_bytes > 0 => RelKind::MaterializedView,
                "S" => RelKind::Sequence,
                _ => return None,
            };
            // 0 rows counted over pages that exist is a count never taken (before 14).
            let rows = (relkind != RelKind::Sequence
                && r.reltuples >= 0.0
                && !(r.reltuples == 0.0 && r.main_bytes > 0))
                .then(|| r.reltuples.round() as u64);
            Some(Finding::Unlogged {
                database: database.to_string(),
                schema: r.schema.clone(),
                name: r.name.clone(),
                relkind,
                bytes: r.total_bytes.max(0) as u64,
                rows,
            })
        })
        .collect()
}

/// One row of `pg_replication_slots`.
#[derive(Debug, Clone, PartialEq)]
pub struct SlotRow {
    pub name: String,
    /// `physical` or `logical`.
    pub slot_type: String,
    pub plugin: Option<String>,
    pub database: Option<String>,
    pub active: bool,
}

/// The logical slots (a physical one is how RDS itself, or another standby, streams).
pub fn slots(rows: &[SlotRow]) -> Vec<Finding> {
    rows.iter()
        .filter(|r| r.slot_type == "logical")
        .map(|r| Finding::LogicalSlot {
            name: r.name.clone(),
            plugin: r.plugin.clone(),
            database: r.database.clone(),
            active: r.active,
        })
        .collect()
}

/// One row of `pg_subscription` (with its database's name).
#[derive(Debug, Clone, PartialEq)]
pub struct SubscriptionRow {
    pub name: String,
    pub database: Option<String>,
    pub enabled: bool,
}

/// Every subscription: the source consumes another server, and RDS gets the definition only.
pub fn subscriptions(rows: &[SubscriptionRow]) -> Vec<Finding> {
    rows.iter()
        .map(|r| Finding::Subscription {
            name: r.name.clone(),
            database: r.database.clone(),
            enabled: r.enabled,
        })
        .collect()
}

/// One row of `pg_prepared_xacts`, its age in seconds.
#[derive(Debug, Clone, PartialEq)]
pub struct PreparedRow {
    pub gid: String,
    pub database: String,
    pub age_secs: Option<f64>,
}

/// Every prepared transaction (each holds an xid until committed or rolled back); an age
/// below zero (the clocks of a restored server) or unknown reads 0.
pub fn prepared(rows: &[PreparedRow]) -> Vec<Finding> {
    rows.iter()
        .map(|r| Finding::Prepared {
            gid: r.gid.clone(),
            database: r.database.clone(),
            age_secs: r.age_secs.filter(|a| *a >= 0.0).map_or(0, |a| a as u64),
        })
        .collect()
}

/// One row of `pg_stat_activity`, as a role without `pg_read_all_stats` may see it.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionRow {
    pub pid: i32,
    /// `backend_xid` is set: the session wrote and its transaction is open.
    pub holds_xid: bool,
    pub user: Option<String>,
    pub application: Option<String>,
    pub client: Option<String>,
    pub xact_age_secs: Option<f64>,
    pub query: Option<String>,
    /// The row reads `<insufficient privilege>`: its xid is hidden from this role.
    pub hidden: bool,
}

/// What PostgreSQL shows for another role's session without `pg_read_all_stats`.
pub const INSUFFICIENT_PRIVILEGE: &str = "<insufficient privilege>";

/// The sessions holding an xid; sessions this role cannot see are one item saying so.
pub fn sessions(rows: &[SessionRow]) -> Vec<Finding> {
    let mut out: Vec<Finding> = rows
        .iter()
        .filter(|r| r.holds_xid && !r.hidden)
        .map(|r| Finding::XidSession {
            pid: r.pid,
            user: r.user.clone(),
            application: r.application.clone(),
            client: r.client.clone(),
            age_secs: r.xact_age_secs.filter(|a| *a >= 0.0).map(|a| a as u64),
            query: r.query.as_deref().map(query_start),
        })
        .collect();
    let hidden = rows.iter().filter(|r| r.hidden).count();
    if hidden > 0 {
        out.push(Finding::Unreadable {
            what: format!(
                "{hidden} session{} of other roles",
                if hidden == 1 { "" } else { "s" }
            ),
            reason: "permission denied (grant pg_read_all_stats to see their transactions)".into(),
            severity: Severity::BlocksDrained,
        });
    }
    out
}

/// The start of a query on one line, at most [`QUERY_CHARS`] characters. Everything from a
/// `password` on is masked: another session's `ALTER ROLE ... PASSWORD '...'` or a dblink
/// conninfo must not reach the screen, a log or a recording.
pub fn query_start(q: &str) -> String {
    let mut one_line: String = q.split_whitespace().collect::<Vec<_>>().join(" ");
    if let Some(i) = one_line.to_ascii_lowercase().find("password") {
        one_line.truncate(i + "password".len());
        one_line.push_str(" ********");
    }
    let mut out: String = one_line.chars().take(QUERY_CHARS).collect();
    if one_line.chars().count() > QUERY_CHARS {
        out.push('…');
    }
    out
}

/// What the switchover loses, in one phrase: the unlogged relations counted by kind with
/// their total size, then what could not be read. `None` without a *loses data* item.
pub fn loss_summary(items: &[Finding]) -> Option<String> {
    let mut kinds: Vec<(RelKind, usize)> = Vec::new();
    let mut bytes = 0u64;
    let mut unreadable = Vec::new();
    let mut more = 0usize;
    for i in items {
        match i {
            Finding::MoreUnlogged {
                count, bytes: b, ..
            } => {
                more += count;
                bytes = bytes.saturating_add(*b);
            }
            Finding::Unlogged {
                relkind, bytes: b, ..
            } => {
                bytes = bytes.saturating_add(*b);
                match kinds.iter_mut().find(|(k, _)| k == relkind) {
                    Some((_, n)) => *n += 1,
                    None => kinds.push((*relkind, 1)),
                }
            }
            Finding::Unreadable {
                what,
                severity: Severity::LosesData,
                ..
            } => unreadable.push(what.as_str()),
            _ => {}
        }
    }
    let mut parts = Vec::new();
    if !kinds.is_empty() || more > 0 {
        let mut list: Vec<String> = kinds
            .iter()
            .map(|(k, n)| {
                format!(
                    "{n} unlogged {}",
                    if *n == 1 { k.noun() } else { k.plural() }
                )
            })
            .collect();
        if more > 0 {
            list.push(format!(
                "{} more unlogged relations",
                super::count(more as u64)
            ));
        }
        parts.push(format!(
            "{} ({}) will be empty on RDS",
            list.join(", "),
            units::bytes(bytes)
        ));
    }
    if !unreadable.is_empty() {
        parts.push(format!(
            "{} unreadable: unlogged data unknown",
            unreadable.join(", ")
        ));
    }
    (!parts.is_empty()).then(|| parts.join("; "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rel(name: &str, relkind: &str, main: i64, total: i64, tuples: f64) -> RelRow {
        RelRow {
            schema: "public".into(),
            name: name.into(),
            relkind: relkind.into(),
            main_bytes: main,
            total_bytes: total,
            reltuples: tuples,
            populated: true,
        }
    }

    #[test]
    fn unlogged_relations_that_hold_data() {
        let rows = [
            rel("orders_cache", "r", 8192 * 400, 8192 * 500, 50000.0),
            // Empty: only its primary key's metapage.
            rel("empty", "r", 0, 8192, 0.0),
            rel("orders_cache_pkey", "i", 8192 * 100, 8192 * 100, 50000.0),
            rel("ticket_seq", "S", 8192, 8192, 1.0),
            rel("parent", "p", 0, 0, -1.0),
            rel("never_counted", "r", 8192, 8192, -1.0),
            rel("old_server_uncounted", "r", 8192, 8192, 0.0),
            RelRow {
                populated: false,
                ..rel("mv_no_data", "m", 0, 0, 0.0)
            },
            rel("mv", "m", 8192, 16384, 10.0),
        ];
        let found = unlogged("shop", &rows);
        let names: Vec<String> = found.iter().map(|f| f.subject()).collect();
        assert_eq!(
            names,
            [
                "shop.public.orders_cache",
                "shop.public.ticket_seq",
                "shop.public.never_counted",
                "shop.public.old_server_uncounted",
                "shop.public.mv"
            ]
        );
        match &found[0] {
            Finding::Unlogged {
                bytes,
                rows,
                relkind,
                ..
            } => {
                assert_eq!(*bytes, 8192 * 500, "indexes and TOAST count");
                assert_eq!(*rows, Some(50000));
                assert_eq!(*relkind, RelKind::Table);
            }
            other => panic!("{other:?}"),
        }
        let rows_of = |i: usize| match &found[i] {
            Finding::Unlogged { rows, .. } => *rows,
            _ => unreachable!(),
        };
        assert_eq!(rows_of(1), None, "a sequence has no rows");
        assert_eq!(rows_of(2), None, "never counted");
        assert_eq!(rows_of(3), None, "0 over existing pages is no count");
        assert!(found.iter().all(|f| f.severity() == Severity::LosesData));
    }

    #[test]
    fn a_huge_schema_names_the_largest_and_counts_the_rest() {
        let rows: Vec<RelRow> = (0..MAX_UNLOGGED_PER_DATABASE as i64 + 5)
            .map(|i| {
                rel(
                    &format!("t{i:03}"),
                    "r",
                    8192 * (i + 1),
                    8192 * (i + 1),
                    1.0,
                )
            })
            .collect();
        let found = unlogged("shop", &rows);
        assert_eq!(found.len(), MAX_UNLOGGED_PER_DATABASE + 1);
        // The five smallest (t000..t004) are counted, in order the named ones stay sorted.
        assert_eq!(found[0].subject(), "shop.public.t005");
        let last = found.last().unwrap();
        assert_eq!(
            last.to_string(),
            "5 more unlogged relations in shop (120 KiB): will be empty on RDS"
        );
        assert_eq!(last.severity(), Severity::LosesData);
        let summary = loss_summary(&found).unwrap();
        assert!(
            summary.starts_with("100 unlogged tables, 5 more unlogged relations ("),
            "{summary}"
        );
    }

    #[test]
    fn only_logical_slots() {
        let rows = [
            SlotRow {
                name: "migtop_standby".into(),
                slot_type: "physical".into(),
                plugin: None,
                database: None,
                active: true,
            },
            SlotRow {
                name: "cdc".into(),
                slot_type: "logical".into(),
                plugin: Some("pgoutput".into()),
                database: Some("shop".into()),
                active: false,
            },
        ];
        let found = slots(&rows);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].subject(), "cdc");
        assert_eq!(found[0].severity(), Severity::BreaksConsumers);
    }

    #[test]
    fn subscriptions_and_prepared_transactions_are_all_listed() {
        let subs = subscriptions(&[SubscriptionRow {
            name: "from_legacy".into(),
            database: None,
            enabled: false,
        }]);
        assert_eq!(
            subs[0].to_string(),
            "subscription from_legacy in ? (disabled): defined on the source, check it on RDS"
        );
        assert_eq!(subs[0].severity(), Severity::BreaksConsumers);
        let p = prepared(&[
            PreparedRow {
                gid: "a".into(),
                database: "postgres".into(),
                age_secs: Some(754.9),
            },
            PreparedRow {
                gid: "b".into(),
                database: "postgres".into(),
                age_secs: Some(-3.0),
            },
        ]);
        assert_eq!(
            p[0].to_string(),
            "prepared transaction a in postgres, 12m34s old"
        );
        assert_eq!(
            p[1].to_string(),
            "prepared transaction b in postgres, 0s old"
        );
        assert!(p.iter().all(|f| f.severity() == Severity::BlocksDrained));
    }

    #[test]
    fn sessions_holding_an_xid_and_hidden_ones() {
        let row = |pid, holds_xid, hidden| SessionRow {
            pid,
            holds_xid,
            user: Some("app".into()),
            application: Some("api".into()),
            client: Some("10.0.0.9".into()),
            xact_age_secs: Some(12.7),
            query: Some("UPDATE  orders\n   SET paid = true WHERE id = 1".into()),
            hidden,
        };
        let found = sessions(&[row(1, true, false), row(2, false, false)]);
        assert_eq!(found.len(), 1);
        assert_eq!(
            found[0].to_string(),
            "pid 1 app (api) from 10.0.0.9 holds an xid, 12s old: UPDATE orders SET paid = true WHERE id = 1"
        );
        // Hidden sessions are never "clean": one item says they could not be read.
        let found = sessions(&[row(3, false, true), row(4, false, true)]);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].severity(), Severity::BlocksDrained);
        assert!(
            found[0]
                .to_string()
                .starts_with("cannot read 2 sessions of other roles: permission denied")
        );
    }

    #[test]
    fn long_queries_are_cut() {
        let q = "SELECT ".to_string() + &"x, ".repeat(40);
        let s = query_start(&q);
        assert_eq!(s.chars().count(), QUERY_CHARS + 1);
        assert!(s.ends_with('…'));
        assert_eq!(query_start("SELECT 1"), "SELECT 1");
        assert_eq!(
            query_start("ALTER ROLE app\n PASSWORD 'hunter2'"),
            "ALTER ROLE app PASSWORD ********"
        );
        let dblink = query_start("SELECT dblink('host=h password=hunter2 user=u', 'x')");
        assert!(!dblink.contains("hunter2"), "{dblink}");
    }

    #[test]
    fn the_loss_in_one_phrase() {
        let t = |db: &str, n: &str, kind, bytes| Finding::Unlogged {
            database: db.into(),
            schema: "public".into(),
            name: n.into(),
            relkind: kind,
            bytes,
            rows: None,
        };
        let mib = 1024 * 1024;
        let items = vec![
            t("postgres", "a", RelKind::Table, 2 * mib),
            t("shop", "b", RelKind::Table, 1433 * 1024),
        ];
        assert_eq!(
            loss_summary(&items).unwrap(),
            "2 unlogged tables (3.40 MiB) will be empty on RDS"
        );
        let items = vec![
            t("postgres", "a", RelKind::Table, mib),
            t("postgres", "s", RelKind::Sequence, 8192),
            Finding::Unreadable {
                what: "database hr".into(),
                reason: "permission denied".into(),
                severity: Severity::LosesData,
            },
        ];
        assert_eq!(
            loss_summary(&items).unwrap(),
            "1 unlogged table, 1 unlogged sequence (1.01 MiB) will be empty on RDS; database hr unreadable: unlogged data unknown"
        );
        let consumers = vec![Finding::Subscription {
            name: "s".into(),
            database: None,
            enabled: true,
        }];
        assert_eq!(loss_summary(&consumers), None);
    }
}
