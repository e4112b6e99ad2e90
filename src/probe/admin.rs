//! The soft fence on the source, and the reading of the new primary after the switch: sessions
//! apart from the probe's (which only reads), opened with the same DSN rules and TLS.
//!
//! The fence is `ALTER SYSTEM SET default_transaction_read_only = on` and a reload: every
//! transaction that starts afterwards is read-only unless its session overrides the setting
//! (`SET default_transaction_read_only = off`, or `BEGIN READ WRITE`) — a soft fence, which
//! is why the cutover still waits for the next xid to stand still under it.

use std::time::Duration;

use tokio::task::JoinHandle;
use tokio_postgres::Client;

use super::connect::scrub;
use super::{ProbeError, SourceDsn, error_text};
use crate::model::Lsn;

/// Why a step on a cutover session failed; the text names the server by its redacted DSN
/// only, and the statement that failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AdminError {
    /// No session could be had (configuration, connection, time).
    #[error(transparent)]
    Open(#[from] ProbeError),
    /// A statement failed or took too long.
    #[error("{target}: {what} failed: {reason}")]
    Step {
        target: String,
        what: &'static str,
        reason: String,
    },
}

/// A reading that needed a session (the standbys read without a cloud API) fails as a probe
/// does: the statement's failure is a query error.
impl From<AdminError> for ProbeError {
    fn from(e: AdminError) -> ProbeError {
        match e {
            AdminError::Open(p) => p,
            AdminError::Step {
                target,
                what,
                reason,
            } => ProbeError::Query {
                target,
                reason: format!("{what}: {reason}"),
            },
        }
    }
}

/// The setting the fence turns on.
pub const FENCE_SETTING: &str = "default_transaction_read_only";

/// The statements that lift the fence, in order (each outside a transaction block).
pub const LIFT_SQL: [&str; 2] = [
    "ALTER SYSTEM RESET default_transaction_read_only",
    "SELECT pg_reload_conf()",
];

/// The exact command a DBA runs to lift the fence by hand (the DSN redacted: the password
/// comes from PGPASSWORD or ~/.pgpass, as for migtop).
pub fn lift_command(redacted_dsn: &str) -> String {
    format!(
        "psql '{}' -c '{}' -c '{}'",
        redacted_dsn.replace('\'', "'\\''"),
        LIFT_SQL[0],
        LIFT_SQL[1]
    )
}

/// One session on a server, its driver task ended when dropped.
pub struct Db {
    client: Client,
    conn: JoinHandle<()>,
    dsn: SourceDsn,
    timeout: Duration,
    /// `server_version_num`.
    pub version: u32,
}

impl Drop for Db {
    fn drop(&mut self) {
        self.conn.abort();
    }
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db")
            .field("dsn", &self.dsn)
            .field("version", &self.version)
            .finish()
    }
}

/// Who the fence's role is and what it may do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Privileges {
    pub user: String,
    pub superuser: bool,
    /// `server_version_num`.
    pub version: u32,
    /// PostgreSQL 15+: `ALTER SYSTEM` on `default_transaction_read_only` was granted.
    pub alter_system: bool,
    /// Member of `pg_signal_backend` (may end other roles' sessions).
    pub signal_backend: bool,
    /// May call `pg_reload_conf()`.
    pub reload: bool,
    /// Member of `pg_read_all_stats` (sees other roles' transaction ids).
    pub read_all_stats: bool,
}

impl Privileges {
    /// What the fence lacks, in words; empty when it can be raised and lifted.
    pub fn missing(&self) -> Vec<String> {
        if self.superuser {
            return vec![];
        }
        let mut m = Vec::new();
        if self.version < 150000 {
            m.push(format!(
                "role {} is not a superuser, and before PostgreSQL 15 only a superuser may ALTER SYSTEM",
                self.user
            ));
            return m;
        }
        if !self.alter_system {
            m.push(format!(
                "role {} may not ALTER SYSTEM SET {FENCE_SETTING} (GRANT ALTER SYSTEM ON PARAMETER {FENCE_SETTING} TO {})",
                self.user, self.user
            ));
        }
        if !self.signal_backend {
            m.push(format!(
                "role {} is not a member of pg_signal_backend (GRANT pg_signal_backend TO {})",
                self.user, self.user
            ));
        }
        if !self.reload {
            m.push(format!(
                "role {} may not call pg_reload_conf() (GRANT EXECUTE ON FUNCTION pg_reload_conf() TO {})",
                self.user, self.user
            ));
        }
        if !self.read_all_stats {
            m.push(format!(
                "role {} cannot see other roles' transactions (GRANT pg_read_all_stats TO {})",
                self.user, self.user
            ));
        }
        m
    }
}

/// A session on the source that holds a transaction id (it wrote, and has not ended).
#[derive(Debug, Clone, PartialEq)]
pub struct XidHolder {
    pub pid: i32,
    /// `client backend`, `autovacuum worker`, ...
    pub backend_type: Option<String>,
    pub user: Option<String>,
    pub application: Option<String>,
    pub client: Option<String>,
    /// Seconds since its transaction began.
    pub age_secs: Option<f64>,
    /// The start of its current (or last) query, one line.
    pub query: Option<String>,
}

impl XidHolder {
    /// An application's session (not autovacuum or another server process): the only kind
    /// `--fence-terminate` ends.
    pub fn is_client(&self) -> bool {
        self.backend_type
            .as_deref()
            .is_none_or(|k| k == "client backend")
    }
}

impl std::fmt::Display for XidHolder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let or = |v: &Option<String>| v.clone().unwrap_or_else(|| "?".into());
        if let Some(kind) = self
            .backend_type
            .as_deref()
            .filter(|k| *k != "client backend")
        {
            write!(f, "{kind} ")?;
        }
        write!(
            f,
            "pid {} user {} application {} client {} open {} query {:?}",
            self.pid,
            or(&self.user),
            or(&self.application),
            or(&self.client),
            self.age_secs
                .map(|s| crate::util::units::duration(Duration::from_secs_f64(s.max(0.0))))
                .unwrap_or_else(|| "?".into()),
            or(&self.query)
        )
    }
}

/// What the new primary said about itself after the switch, as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetFacts {
    /// `pg_is_in_recovery()`.
    pub in_recovery: bool,
    /// The timeline of its current WAL file (`None` in recovery).
    pub timeline: Option<u32>,
    /// The timeline's history file, when the role may read it.
    pub history: Option<String>,
    /// Why the history file could not be read.
    pub history_error: Option<String>,
    /// `pg_last_wal_replay_lsn()`: after promotion, the end of what it replayed.
    pub replayed: Option<Lsn>,
}

/// A prepared transaction (it holds an xid until COMMIT/ROLLBACK PREPARED; no session to end).
#[derive(Debug, Clone, PartialEq)]
pub struct Prepared {
    pub gid: String,
    pub database: String,
    pub age_secs: Option<f64>,
}

const PRIVILEGES_SQL: &str = "SELECT current_user::text, r.rolsuper, \
       pg_has_role(current_user, 'pg_signal_backend', 'MEMBER'), \
       has_function_privilege('pg_reload_conf()', 'EXECUTE'), \
       pg_has_role(current_user, 'pg_read_all_stats', 'MEMBER') \
     FROM pg_roles r WHERE r.rolname = current_user";

const PARAMETER_SQL: &str =
    "SELECT has_parameter_privilege('default_transaction_read_only', 'ALTER SYSTEM')";

const HOLDERS_SQL: &str = "SELECT pid, usename::text, application_name, client_addr::text, \
       extract(epoch FROM now() - xact_start)::float8, \
       left(regexp_replace(query, '\\s+', ' ', 'g'), 80), backend_type \
     FROM pg_stat_activity \
     WHERE backend_xid IS NOT NULL AND pid <> pg_backend_pid() ORDER BY xact_start";

const PREPARED_SQL: &str = "SELECT gid, database::text, \
       extract(epoch FROM now() - prepared)::float8 FROM pg_prepared_xacts ORDER BY prepared";

impl Db {
    /// Opens a session with `dsn` (its rules, `~/.pgpass`, TLS) within `timeout`. The session
    /// itself is never read-only, whatever the fence: it must be able to lift it.
    pub async fn connect(dsn: &SourceDsn, timeout: Duration) -> Result<Db, AdminError> {
        let target = dsn.redacted().to_string();
        let secs = timeout.as_secs().max(1);
        let open = async {
            let (client, conn) = super::connect::open(dsn, None, "admin").await?;
            let mut db = Db {
                client,
                conn,
                dsn: dsn.clone(),
                timeout,
                version: 0,
            };
            db.client
                .batch_execute("SET default_transaction_read_only = off")
                .await
                .map_err(|e| db.error("SET default_transaction_read_only = off", &e))?;
            let row = db
                .client
                .query_one("SELECT current_setting('server_version_num')::int", &[])
                .await
                .map_err(|e| db.error("reading server_version_num", &e))?;
            db.version = u32::try_from(row.get::<_, i32>(0)).unwrap_or(0);
            Ok(db)
        };
        tokio::time::timeout(timeout, open)
            .await
            .unwrap_or(Err(AdminError::Open(ProbeError::Timeout { target, secs })))
    }

    /// The DSN, redacted.
    pub fn target(&self) -> &str {
        self.dsn.redacted()
    }

    fn error(&self, what: &'static str, e: &tokio_postgres::Error) -> AdminError {
        AdminError::Step {
            target: self.target().to_string(),
            what,
            reason: scrub(&self.dsn, &error_text(e)),
        }
    }

    /// Runs one statement within the session's timeout; `what` names it in the error.
    async fn bounded<T>(
        &self,
        what: &'static str,
        f: impl std::future::Future<Output = Result<T, tokio_postgres::Error>>,
    ) -> Result<T, AdminError> {
        match tokio::time::timeout(self.timeout, f).await {
            Ok(r) => r.map_err(|e| self.error(what, &e)),
            Err(_) => Err(AdminError::Step {
                target: self.target().to_string(),
                what,
                reason: format!("no answer within {} s", self.timeout.as_secs().max(1)),
            }),
        }
    }

    /// Runs one read-only query within the session's deadline; `what` names it in the error.
    pub async fn query(
        &self,
        what: &'static str,
        sql: &str,
    ) -> Result<Vec<tokio_postgres::Row>, AdminError> {
        self.bounded(what, self.client.query(sql, &[])).await
    }

    /// The session died (server restart, idle timeout, terminated): open a new one.
    pub fn is_closed(&self) -> bool {
        self.client.is_closed()
    }

    /// The role and what it may do for the fence.
    pub async fn privileges(&self) -> Result<Privileges, AdminError> {
        let row = self
            .bounded(
                "reading the role's privileges",
                self.client.query_one(PRIVILEGES_SQL, &[]),
            )
            .await?;
        let alter_system = if self.version >= 150000 {
            self.bounded(
                "has_parameter_privilege",
                self.client.query_one(PARAMETER_SQL, &[]),
            )
            .await?
            .get::<_, bool>(0)
        } else {
            false
        };
        Ok(Privileges {
            user: row.get(0),
            superuser: row.get(1),
            version: self.version,
            alter_system,
            signal_backend: row.get(2),
            reload: row.get(3),
            read_all_stats: row.get(4),
        })
    }

    /// `default_transaction_read_only` as the server has it now (`on`/`off`) and where it
    /// comes from (`default`, `configuration file`, ...).
    pub async fn read_only_setting(&self) -> Result<(String, String), AdminError> {
        let row = self
            .bounded("reading default_transaction_read_only", self.client.query_one(
                "SELECT reset_val, source FROM pg_settings WHERE name = 'default_transaction_read_only'",
                &[],
            ))
            .await?;
        Ok((row.get(0), row.get(1)))
    }

    /// Raises the fence: new transactions are read-only from the reload on.
    pub async fn fence(&self) -> Result<(), AdminError> {
        self.bounded(
            "ALTER SYSTEM SET default_transaction_read_only = on",
            self.client
                .batch_execute("ALTER SYSTEM SET default_transaction_read_only = on"),
        )
        .await?;
        self.reload().await
    }

    async fn reload(&self) -> Result<(), AdminError> {
        let ok: bool = self
            .bounded(
                "pg_reload_conf()",
                self.client.query_one("SELECT pg_reload_conf()", &[]),
            )
            .await?
            .get(0);
        if ok {
            Ok(())
        } else {
            Err(AdminError::Step {
                target: self.target().to_string(),
                what: "pg_reload_conf()",
                reason: "it returned false".into(),
            })
        }
    }

    /// Lifts the fence (`ALTER SYSTEM RESET`, reload).
    pub async fn lift(&self) -> Result<(), AdminError> {
        self.bounded(LIFT_SQL[0], self.client.batch_execute(LIFT_SQL[0]))
            .await?;
        self.reload().await
    }

    /// The sessions holding a transaction id, oldest transaction first.
    pub async fn xid_holders(&self) -> Result<Vec<XidHolder>, AdminError> {
        let rows = self
            .bounded(
                "listing the sessions holding an xid",
                self.client.query(HOLDERS_SQL, &[]),
            )
            .await?;
        Ok(rows
            .iter()
            .map(|r| XidHolder {
                pid: r.get(0),
                backend_type: r.get(6),
                user: r.get(1),
                application: r.get::<_, Option<String>>(2).filter(|a| !a.is_empty()),
                client: r.get(3),
                age_secs: r.get(4),
                query: r
                    .get::<_, Option<String>>(5)
                    .map(|q| crate::util::text::printable(&q).into_owned()),
            })
            .collect())
    }

    /// The prepared transactions.
    pub async fn prepared(&self) -> Result<Vec<Prepared>, AdminError> {
        let rows = self
            .bounded(
                "listing the prepared transactions",
                self.client.query(PREPARED_SQL, &[]),
            )
            .await?;
        Ok(rows
            .iter()
            .map(|r| Prepared {
                gid: crate::util::text::printable(&r.get::<_, String>(0)).into_owned(),
                database: r.get(1),
                age_secs: r.get(2),
            })
            .collect())
    }

    /// Ends a session (`pg_terminate_backend`); false when it was already gone.
    pub async fn terminate(&self, pid: i32) -> Result<bool, AdminError> {
        Ok(self
            .bounded(
                "pg_terminate_backend",
                self.client
                    .query_one("SELECT pg_terminate_backend($1)", &[&pid]),
            )
            .await?
            .get(0))
    }

    /// Reads what the new primary says about itself: recovery, its timeline and where that
    /// timeline began (the history file when readable, else `pg_last_wal_replay_lsn()`,
    /// which stays at the end of recovery once promoted).
    pub async fn target_facts(&self) -> Result<TargetFacts, AdminError> {
        let row = self
            .bounded(
                "reading recovery and timeline",
                self.client.query_one(
                    "SELECT pg_is_in_recovery(), \
                   CASE WHEN pg_is_in_recovery() THEN NULL \
                        ELSE pg_walfile_name(pg_current_wal_lsn()) END, \
                   pg_last_wal_replay_lsn()::text",
                    &[],
                ),
            )
            .await?;
        let in_recovery: bool = row.get(0);
        let walfile: Option<String> = row.get(1);
        let timeline = walfile
            .as_deref()
            .and_then(|w| w.get(..8))
            .and_then(|t| u32::from_str_radix(t, 16).ok());
        let replayed = row
            .get::<_, Option<String>>(2)
            .and_then(|l| l.parse::<Lsn>().ok());
        let mut history = None;
        let mut history_error = None;
        if let Some(tli) = timeline.filter(|t| *t > 1) {
            let path = format!("pg_wal/{tli:08X}.history");
            match self
                .bounded(
                    "reading the timeline history file",
                    self.client.query_one("SELECT pg_read_file($1)", &[&path]),
                )
                .await
            {
                Ok(r) => history = Some(r.get::<_, String>(0)),
                Err(AdminError::Step { reason, .. }) => history_error = Some(reason),
                Err(e) => history_error = Some(e.to_string()),
            }
        }
        Ok(TargetFacts {
            in_recovery,
            timeline,
            history,
            history_error,
            replayed,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn role(superuser: bool, version: u32) -> Privileges {
        Privileges {
            user: "app".into(),
            superuser,
            version,
            alter_system: false,
            signal_backend: false,
            reload: false,
            read_all_stats: false,
        }
    }

    #[test]
    fn what_the_fence_needs() {
        assert!(role(true, 120000).missing().is_empty());
        let old = role(false, 140000).missing();
        assert_eq!(old.len(), 1);
        assert!(old[0].contains("before PostgreSQL 15"), "{old:?}");
        let none = role(false, 150000).missing();
        assert_eq!(none.len(), 4, "{none:?}");
        assert!(
            none[0]
                .contains("GRANT ALTER SYSTEM ON PARAMETER default_transaction_read_only TO app")
        );
        let granted = Privileges {
            alter_system: true,
            signal_backend: true,
            reload: true,
            read_all_stats: true,
            ..role(false, 150000)
        };
        assert!(granted.missing().is_empty());
    }

    #[test]
    fn the_lifting_command_is_quoted() {
        let c = lift_command("host=h user=o'neil password=********");
        assert_eq!(
            c,
            "psql 'host=h user=o'\\''neil password=********' -c 'ALTER SYSTEM RESET default_transaction_read_only' -c 'SELECT pg_reload_conf()'"
        );
    }

    #[tokio::test]
    async fn an_unreachable_server_is_named_without_the_password() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let dsn = SourceDsn::new(format!(
            "postgres://admin:hunter2-secret@127.0.0.1:{port}/postgres?sslmode=disable"
        ));
        let e = Db::connect(&dsn, Duration::from_secs(5)).await.unwrap_err();
        let text = e.to_string();
        assert!(
            matches!(e, AdminError::Open(ProbeError::Connect { .. })),
            "{e:?}"
        );
        assert!(!text.contains("hunter2") && !format!("{e:?}").contains("hunter2"));
        assert!(text.contains(&format!("127.0.0.1:{port}")), "{text}");
    }
}
