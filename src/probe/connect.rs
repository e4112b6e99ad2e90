//! Opening a session with a DSN: libpq's rules (the environment, `~/.pgpass`), TLS as its
//! `sslmode` says, and errors that never carry the password. The source probe, the
//! checklist's per-database sessions and the cutover's admin sessions all open theirs here.

use secrecy::ExposeSecret;
use tokio::task::JoinHandle;
use tokio_postgres::Client;

use super::{ProbeError, SourceDsn, dsn, error_text, tls};

/// A session with `dsn` (on `dbname` instead of the DSN's when given) and the task that
/// drives its connection, which the caller ends when it drops the session. `what` names
/// the session in the debug log when it ends.
pub async fn open(
    dsn: &SourceDsn,
    dbname: Option<&str>,
    what: &'static str,
) -> Result<(Client, JoinHandle<()>), ProbeError> {
    let resolved = dsn.resolve().map_err(|e| ProbeError::Config(e.0))?;
    let (mode, tls) = tls::connector(resolved.ssl_mode, &resolved.root_cert)
        .map_err(|e| ProbeError::Config(e.0))?;
    let mut config = resolved.config;
    config.ssl_mode(mode);
    if let Some(db) = dbname {
        config.dbname(db);
    }
    let (client, connection) = config.connect(tls).await.map_err(|e| ProbeError::Connect {
        target: dsn.redacted().to_string(),
        reason: scrub(dsn, &error_text(&e)),
    })?;
    let conn = tokio::spawn(async move {
        if let Err(e) = connection.await {
            tracing::debug!("{what} session ended: {e}");
        }
    });
    Ok((client, conn))
}

/// `text` without the DSN's password (a server may quote it back).
pub fn scrub(dsn: &SourceDsn, text: &str) -> String {
    dsn::scrub_password(text, dsn.secret().expose_secret())
}
