//! Reading the checklist: the cluster-wide views once, then the unlogged relations of every
//! database that accepts connections. Every query is a plain `SELECT` on catalogs and
//! statistics views: nothing assigns an xid, nothing needs more than `CONNECT`, except what
//! PostgreSQL hides from a role without `pg_read_all_stats` (said as an item).

use tokio_postgres::Client;

use super::rules::{self, PreparedRow, RelRow, SessionRow, SlotRow, SubscriptionRow};
use super::{Finding, Severity};
use crate::probe::error_text;

/// How many databases one reading visits at most (each is a new session); the rest are an
/// item saying they were not read.
pub const MAX_DATABASES: usize = 100;

/// Every database that accepts connections. Templates are left out: a session on
/// `template1` makes `CREATE DATABASE` fail on the source while it lasts.
pub const DATABASES_SQL: &str = "SELECT datname::text FROM pg_database \
     WHERE datallowconn AND NOT datistemplate ORDER BY datname";

/// The unlogged relations of the current database that can hold data.
pub const UNLOGGED_SQL: &str = "SELECT n.nspname::text, c.relname::text, c.relkind::text, \
       coalesce(pg_relation_size(c.oid), 0), coalesce(pg_total_relation_size(c.oid), 0), \
       c.reltuples::float8, c.relispopulated \
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
 WHERE c.relpersistence = 'u' AND c.relkind IN ('r', 'S', 'm') ORDER BY 1, 2";

/// Every replication slot (the rules keep the logical ones).
pub const SLOTS_SQL: &str = "SELECT slot_name::text, slot_type, plugin::text, database::text, \
       active FROM pg_replication_slots ORDER BY slot_name";

/// Subscriptions (PostgreSQL 10+), with only the columns every role may read.
pub const SUBSCRIPTIONS_SQL: &str = "SELECT s.subname::text, d.datname::text, s.subenabled \
  FROM pg_subscription s LEFT JOIN pg_database d ON d.oid = s.subdbid ORDER BY 1";

/// Prepared transactions and their age.
pub const PREPARED_SQL: &str = "SELECT gid, database::text, \
       extract(epoch FROM now() - prepared)::float8 FROM pg_prepared_xacts ORDER BY prepared";

/// Every session but this one (PostgreSQL 10+ has `backend_type`). A row this
/// role may not read has `backend_type` NULL too, so those are kept: they say what is hidden.
/// Background processes have no role (`usesysid` NULL) and hold no xid of their own.
fn sessions_sql(version: u32) -> String {
    format!(
        "SELECT pid, backend_xid IS NOT NULL, usename::text, application_name, \
       host(client_addr), extract(epoch FROM now() - xact_start)::float8, query, \
       coalesce(query = '{}', false) \
  FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND usesysid IS NOT NULL{} \
 ORDER BY xact_start",
        rules::INSUFFICIENT_PRIVILEGE,
        if version >= 100000 {
            " AND (backend_type IS NULL OR backend_type = 'client backend')"
        } else {
            ""
        }
    )
}

fn unreadable(what: &str, reason: String, severity: Severity) -> Finding {
    Finding::Unreadable {
        what: what.to_string(),
        reason,
        severity,
    }
}

/// The cluster-wide items (slots, subscriptions, prepared transactions, sessions) and the
/// databases to read, through `client` on a server of `version`.
pub async fn cluster(client: &Client, version: u32) -> (Vec<String>, Vec<Finding>) {
    let mut items = Vec::new();
    let databases = match client.query(DATABASES_SQL, &[]).await {
        Ok(rows) => rows
            .iter()
            .filter_map(|r| r.try_get::<_, String>(0).ok())
            .collect(),
        Err(e) => {
            items.push(unreadable(
                "the list of databases",
                error_text(&e),
                Severity::LosesData,
            ));
            Vec::new()
        }
    };
    match client.query(SLOTS_SQL, &[]).await {
        Ok(rows) => {
            let rows: Vec<SlotRow> = rows
                .iter()
                .map(|r| SlotRow {
                    name: r.try_get(0).unwrap_or_default(),
                    slot_type: r.try_get(1).unwrap_or_default(),
                    plugin: r.try_get(2).unwrap_or(None),
                    database: r.try_get(3).unwrap_or(None),
                    active: r.try_get(4).unwrap_or(false),
                })
                .collect();
            items.extend(rules::slots(&rows));
        }
        Err(e) => items.push(unreadable(
            "replication slots",
            error_text(&e),
            Severity::BreaksConsumers,
        )),
    }
    if version >= 100000 {
        match client.query(SUBSCRIPTIONS_SQL, &[]).await {
            Ok(rows) => {
                let rows: Vec<SubscriptionRow> = rows
                    .iter()
                    .map(|r| SubscriptionRow {
                        name: r.try_get(0).unwrap_or_default(),
                        database: r.try_get(1).unwrap_or(None),
                        enabled: r.try_get(2).unwrap_or(false),
                    })
                    .collect();
                items.extend(rules::subscriptions(&rows));
            }
            Err(e) => items.push(unreadable(
                "subscriptions",
                error_text(&e),
                Severity::BreaksConsumers,
            )),
        }
    }
    match client.query(PREPARED_SQL, &[]).await {
        Ok(rows) => {
            let rows: Vec<PreparedRow> = rows
                .iter()
                .map(|r| PreparedRow {
                    gid: r.try_get(0).unwrap_or_default(),
                    database: r.try_get(1).unwrap_or_default(),
                    age_secs: r.try_get(2).unwrap_or(None),
                })
                .collect();
            items.extend(rules::prepared(&rows));
        }
        Err(e) => items.push(unreadable(
            "prepared transactions",
            error_text(&e),
            Severity::BlocksDrained,
        )),
    }
    match client.query(&sessions_sql(version), &[]).await {
        Ok(rows) => {
            let rows: Vec<SessionRow> = rows
                .iter()
                .map(|r| SessionRow {
                    pid: r.try_get(0).unwrap_or_default(),
                    holds_xid: r.try_get(1).unwrap_or(false),
                    user: r.try_get(2).unwrap_or(None),
                    application: r.try_get(3).unwrap_or(None),
                    client: r.try_get(4).unwrap_or(None),
                    xact_age_secs: r.try_get(5).unwrap_or(None),
                    query: r.try_get(6).unwrap_or(None),
                    hidden: r.try_get(7).unwrap_or(false),
                })
                .collect();
            items.extend(rules::sessions(&rows));
        }
        Err(e) => items.push(unreadable(
            "sessions",
            error_text(&e),
            Severity::BlocksDrained,
        )),
    }
    (databases, items)
}

/// The unlogged relations of `database`, through a session on it.
pub async fn database(client: &Client, database: &str) -> Vec<Finding> {
    match client.query(UNLOGGED_SQL, &[]).await {
        Ok(rows) => {
            let rows: Vec<RelRow> = rows
                .iter()
                .map(|r| RelRow {
                    schema: r.try_get(0).unwrap_or_default(),
                    name: r.try_get(1).unwrap_or_default(),
                    relkind: r.try_get(2).unwrap_or_default(),
                    main_bytes: r.try_get(3).unwrap_or(0),
                    total_bytes: r.try_get(4).unwrap_or(0),
                    reltuples: r.try_get(5).unwrap_or(-1.0),
                    populated: r.try_get(6).unwrap_or(true),
                })
                .collect();
            rules::unlogged(database, &rows)
        }
        Err(e) => vec![unreadable(
            &format!("database {database}"),
            error_text(&e),
            Severity::LosesData,
        )],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_queries_only_read() {
        for sql in [
            DATABASES_SQL,
            UNLOGGED_SQL,
            SLOTS_SQL,
            SUBSCRIPTIONS_SQL,
            PREPARED_SQL,
            &sessions_sql(150000),
        ] {
            assert!(sql.starts_with("SELECT "), "{sql}");
            assert!(!sql.contains("txid_current()") && !sql.contains("pg_current_xact_id"));
        }
        assert!(sessions_sql(150000).contains("backend_type"));
        assert!(!sessions_sql(90600).contains("backend_type"));
        assert!(DATABASES_SQL.contains("NOT datistemplate"));
    }
}
