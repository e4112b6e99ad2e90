//! The source's checklist: what a physical switchover does not carry, or waits on, found in
//! the source's own catalogs.
//!
//! Physical replication carries every WAL record, but unlogged relations write none: after
//! promotion RDS resets them to their empty init fork. Logical replication slots stay behind
//! with the old primary, and subscriptions defined on the source come along only as catalog
//! rows. Prepared transactions and sessions holding a transaction id keep DRAINED from
//! holding; the checklist names them. Each item says how bad it is ([`Severity`]); what could
//! not be read is an item too ([`Finding::Unreadable`]), never a clean bill.
//!
//! The rules that turn catalog rows into items are pure ([`rules`]); [`read`] runs the
//! queries, in every database that accepts connections.

pub mod read;
pub mod rules;

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::util::units;

/// How bad an item is for a switchover.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Data the switchover does not carry: RDS will not have it.
    LosesData,
    /// Something that reads from or writes to the source stops working after the switch.
    BreaksConsumers,
    /// Keeps DRAINED from holding until it ends.
    BlocksDrained,
}

impl Severity {
    /// Every severity, worst first.
    pub const ALL: [Severity; 3] = [
        Severity::LosesData,
        Severity::BreaksConsumers,
        Severity::BlocksDrained,
    ];

    /// In words: `loses data`, `breaks consumers`, `blocks DRAINED`.
    pub fn label(self) -> &'static str {
        match self {
            Severity::LosesData => "loses data",
            Severity::BreaksConsumers => "breaks consumers",
            Severity::BlocksDrained => "blocks DRAINED",
        }
    }

    /// The `severity` label value of the exporter and the JSON: `loses_data`, ...
    pub fn key(self) -> &'static str {
        match self {
            Severity::LosesData => "loses_data",
            Severity::BreaksConsumers => "breaks_consumers",
            Severity::BlocksDrained => "blocks_drained",
        }
    }
}

/// The kinds of relation that hold data and can be unlogged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RelKind {
    Table,
    Sequence,
    MaterializedView,
}

impl RelKind {
    /// `table`, `sequence`, `materialized view`.
    pub fn noun(self) -> &'static str {
        match self {
            RelKind::Table => "table",
            RelKind::Sequence => "sequence",
            RelKind::MaterializedView => "materialized view",
        }
    }

    /// The plural noun.
    pub fn plural(self) -> &'static str {
        match self {
            RelKind::Table => "tables",
            RelKind::Sequence => "sequences",
            RelKind::MaterializedView => "materialized views",
        }
    }
}

/// One thing the checklist found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Finding {
    /// An unlogged relation that holds data: it will be empty on RDS.
    Unlogged {
        database: String,
        schema: String,
        name: String,
        relkind: RelKind,
        /// Its size with indexes and TOAST.
        bytes: u64,
        /// The planner's row estimate (`reltuples`); `None` when never counted.
        rows: Option<u64>,
    },
    /// Unlogged relations beyond the [`rules::MAX_UNLOGGED_PER_DATABASE`] largest of a
    /// database, counted but not named (a checklist stays small on any schema).
    MoreUnlogged {
        database: String,
        count: usize,
        /// Their total size with indexes and TOAST.
        bytes: u64,
    },
    /// A logical replication slot: not carried to RDS, its consumer stops.
    LogicalSlot {
        name: String,
        plugin: Option<String>,
        database: Option<String>,
        active: bool,
    },
    /// A subscription defined on the source (the source consumes another server).
    Subscription {
        name: String,
        database: Option<String>,
        enabled: bool,
    },
    /// A prepared transaction: it holds a transaction id until committed or rolled back.
    Prepared {
        gid: String,
        database: String,
        age_secs: u64,
    },
    /// A session holding a transaction id (it wrote and has not ended).
    XidSession {
        pid: i32,
        user: Option<String>,
        application: Option<String>,
        client: Option<String>,
        /// How long its transaction has been open.
        age_secs: Option<u64>,
        /// The start of its current (or last) query.
        query: Option<String>,
    },
    /// Something the checklist could not read; it counts as what it could have found.
    Unreadable {
        what: String,
        reason: String,
        severity: Severity,
    },
}

/// How much of a query a [`Finding::XidSession`] keeps.
pub const QUERY_CHARS: usize = 60;

impl Finding {
    /// How bad it is.
    pub fn severity(&self) -> Severity {
        match self {
            Finding::Unlogged { .. } | Finding::MoreUnlogged { .. } => Severity::LosesData,
            Finding::LogicalSlot { .. } | Finding::Subscription { .. } => Severity::BreaksConsumers,
            Finding::Prepared { .. } | Finding::XidSession { .. } => Severity::BlocksDrained,
            Finding::Unreadable { severity, .. } => *severity,
        }
    }

    /// A short name of what was found, e.g. `shop.public.cart_cache` (for refusals).
    pub fn subject(&self) -> String {
        match self {
            Finding::Unlogged {
                database,
                schema,
                name,
                ..
            } => format!("{database}.{schema}.{name}"),
            Finding::MoreUnlogged {
                database, count, ..
            } => format!("{database}: {count} more"),
            Finding::LogicalSlot { name, .. } | Finding::Subscription { name, .. } => name.clone(),
            Finding::Prepared { gid, .. } => gid.clone(),
            Finding::XidSession { pid, .. } => format!("pid {pid}"),
            Finding::Unreadable { what, .. } => what.clone(),
        }
    }
}

fn opt(v: &Option<String>) -> &str {
    v.as_deref().filter(|s| !s.is_empty()).unwrap_or("?")
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Finding::Unlogged {
                database,
                schema,
                name,
                relkind,
                bytes,
                rows,
            } => {
                write!(
                    f,
                    "unlogged {} {schema}.{name} in {database} ({}",
                    relkind.noun(),
                    units::bytes(*bytes)
                )?;
                if let Some(rows) = rows {
                    let s = if *rows == 1 { "" } else { "s" };
                    write!(f, ", ~{} row{s}", count(*rows))?;
                }
                write!(f, "): will be empty on RDS")
            }
            Finding::MoreUnlogged {
                database,
                count: n,
                bytes,
            } => write!(
                f,
                "{} more unlogged relations in {database} ({}): will be empty on RDS",
                count(*n as u64),
                units::bytes(*bytes)
            ),
            Finding::LogicalSlot {
                name,
                plugin,
                database,
                active,
            } => write!(
                f,
                "logical slot {name} ({}, {}{}): not carried to RDS",
                opt(plugin),
                if *active { "active" } else { "inactive" },
                database
                    .as_ref()
                    .map(|d| format!(", database {d}"))
                    .unwrap_or_default()
            ),
            Finding::Subscription {
                name,
                database,
                enabled,
            } => write!(
                f,
                "subscription {name} in {} ({}): defined on the source, check it on RDS",
                opt(database),
                if *enabled { "enabled" } else { "disabled" }
            ),
            Finding::Prepared {
                gid,
                database,
                age_secs,
            } => write!(
                f,
                "prepared transaction {gid} in {database}, {} old",
                units::duration(std::time::Duration::from_secs(*age_secs))
            ),
            Finding::XidSession {
                pid,
                user,
                application,
                client,
                age_secs,
                query,
            } => {
                write!(f, "pid {pid} {}", opt(user))?;
                if let Some(a) = application.as_deref().filter(|a| !a.is_empty()) {
                    write!(f, " ({a})")?;
                }
                if let Some(c) = client.as_deref().filter(|c| !c.is_empty()) {
                    write!(f, " from {c}")?;
                }
                write!(f, " holds an xid")?;
                if let Some(age) = age_secs {
                    write!(
                        f,
                        ", {} old",
                        units::duration(std::time::Duration::from_secs(*age))
                    )?;
                }
                if let Some(q) = query.as_deref().filter(|q| !q.is_empty()) {
                    write!(f, ": {q}")?;
                }
                Ok(())
            }
            Finding::Unreadable { what, reason, .. } => write!(f, "cannot read {what}: {reason}"),
        }
    }
}

/// `41200` as `41,200`.
pub fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// One reading of the checklist.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Checklist {
    /// When it was read (local clock).
    pub at: DateTime<Utc>,
    /// The databases read (those accepting connections, templates aside).
    pub databases: Vec<String>,
    /// What was found, worst first.
    pub items: Vec<Finding>,
    /// Read from a simulator, not a real server.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub simulated: bool,
}

impl Checklist {
    /// A checklist of `items`, sorted worst first (stable within a severity).
    pub fn new(at: DateTime<Utc>, databases: Vec<String>, mut items: Vec<Finding>) -> Checklist {
        items.sort_by_key(|i| i.severity());
        Checklist {
            at,
            databases,
            items,
            simulated: false,
        }
    }

    /// The items of one severity.
    pub fn of(&self, severity: Severity) -> impl Iterator<Item = &Finding> {
        self.items.iter().filter(move |i| i.severity() == severity)
    }

    /// How many items have this severity.
    pub fn count(&self, severity: Severity) -> usize {
        self.of(severity).count()
    }

    /// Whether an item says a switchover loses data (or could not rule it out).
    pub fn loses_data(&self) -> bool {
        self.count(Severity::LosesData) > 0
    }

    /// What the switchover loses, in one phrase, e.g. `2 unlogged tables (3.40 MiB) will be
    /// empty on RDS`; `None` when no item loses data.
    pub fn loss_summary(&self) -> Option<String> {
        rules::loss_summary(&self.items)
    }

    /// Applies `f` to every string read from the server (names, queries, reasons), e.g. to
    /// make them printable.
    pub fn texts_mut(&mut self, mut f: impl FnMut(&mut String)) {
        let opt = |s: &mut Option<String>, f: &mut dyn FnMut(&mut String)| {
            if let Some(s) = s {
                f(s)
            }
        };
        self.databases.iter_mut().for_each(&mut f);
        for i in &mut self.items {
            match i {
                Finding::Unlogged {
                    database,
                    schema,
                    name,
                    ..
                } => {
                    f(database);
                    f(schema);
                    f(name);
                }
                Finding::MoreUnlogged { database, .. } => f(database),
                Finding::LogicalSlot {
                    name,
                    plugin,
                    database,
                    ..
                } => {
                    f(name);
                    opt(plugin, &mut f);
                    opt(database, &mut f);
                }
                Finding::Subscription { name, database, .. } => {
                    f(name);
                    opt(database, &mut f);
                }
                Finding::Prepared { gid, database, .. } => {
                    f(gid);
                    f(database);
                }
                Finding::XidSession {
                    user,
                    application,
                    client,
                    query,
                    ..
                } => {
                    opt(user, &mut f);
                    opt(application, &mut f);
                    opt(client, &mut f);
                    opt(query, &mut f);
                }
                Finding::Unreadable { what, reason, .. } => {
                    f(what);
                    f(reason);
                }
            }
        }
    }

    /// The counts per severity in words, e.g. `2 loses data, 1 breaks consumers`; `clean`
    /// when there is nothing.
    pub fn counts_text(&self) -> String {
        let parts: Vec<String> = Severity::ALL
            .iter()
            .filter_map(|s| {
                let n = self.count(*s);
                (n > 0).then(|| format!("{n} {}", s.label()))
            })
            .collect();
        if parts.is_empty() {
            "clean".into()
        } else {
            parts.join(", ")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(db: &str, name: &str, bytes: u64, rows: Option<u64>) -> Finding {
        Finding::Unlogged {
            database: db.into(),
            schema: "public".into(),
            name: name.into(),
            relkind: RelKind::Table,
            bytes,
            rows,
        }
    }

    #[test]
    fn items_say_what_they_found() {
        assert_eq!(
            table("shop", "cart_cache", 3 << 20, Some(41200)).to_string(),
            "unlogged table public.cart_cache in shop (3.00 MiB, ~41,200 rows): will be empty on RDS"
        );
        let slot = Finding::LogicalSlot {
            name: "debezium".into(),
            plugin: Some("pgoutput".into()),
            database: Some("shop".into()),
            active: true,
        };
        assert_eq!(
            slot.to_string(),
            "logical slot debezium (pgoutput, active, database shop): not carried to RDS"
        );
        let s = Finding::XidSession {
            pid: 4242,
            user: Some("app".into()),
            application: Some("orders-api".into()),
            client: Some("10.0.3.17".into()),
            age_secs: Some(75),
            query: Some("UPDATE orders SET".into()),
        };
        assert_eq!(
            s.to_string(),
            "pid 4242 app (orders-api) from 10.0.3.17 holds an xid, 1m15s old: UPDATE orders SET"
        );
        assert_eq!(s.severity(), Severity::BlocksDrained);
        let p = Finding::Prepared {
            gid: "tx1".into(),
            database: "postgres".into(),
            age_secs: 5,
        };
        assert_eq!(
            p.to_string(),
            "prepared transaction tx1 in postgres, 5s old"
        );
        let u = Finding::Unreadable {
            what: "database hr".into(),
            reason: "permission denied for database hr".into(),
            severity: Severity::LosesData,
        };
        assert_eq!(
            u.to_string(),
            "cannot read database hr: permission denied for database hr"
        );
        assert_eq!(u.severity(), Severity::LosesData);
    }

    #[test]
    fn worst_first_and_counted() {
        let c = Checklist::new(
            DateTime::from_timestamp(0, 0).unwrap(),
            vec!["postgres".into()],
            vec![
                Finding::Prepared {
                    gid: "g".into(),
                    database: "postgres".into(),
                    age_secs: 1,
                },
                table("postgres", "a", 10, None),
            ],
        );
        assert_eq!(c.items[0].severity(), Severity::LosesData);
        assert_eq!(c.counts_text(), "1 loses data, 1 blocks DRAINED");
        assert!(c.loses_data());
        let clean = Checklist::new(DateTime::from_timestamp(0, 0).unwrap(), vec![], vec![]);
        assert_eq!(clean.counts_text(), "clean");
        assert_eq!(clean.loss_summary(), None);
    }

    #[test]
    fn thousands() {
        assert_eq!(count(0), "0");
        assert_eq!(count(999), "999");
        assert_eq!(count(1000), "1,000");
        assert_eq!(count(1234567), "1,234,567");
    }
}
