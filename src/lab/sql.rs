//! One lazily opened session per lab server, reopened when the server dropped it.

use tokio::sync::Mutex;
use tokio::task::JoinHandle;
use tokio_postgres::{Client, NoTls, Row};

struct Open {
    client: Client,
    conn: JoinHandle<()>,
}

impl Drop for Open {
    fn drop(&mut self) {
        self.conn.abort();
    }
}

/// A session to one lab server.
pub struct Sql {
    conninfo: String,
    /// Run once per new session (e.g. `SET TIME ZONE ...`).
    setup: String,
    open: Mutex<Option<Open>>,
}

impl Sql {
    /// A session to `conninfo`, running `setup` (may be empty) on every new connection.
    pub fn new(conninfo: String, setup: impl Into<String>) -> Sql {
        Sql {
            conninfo,
            setup: setup.into(),
            open: Mutex::new(None),
        }
    }

    async fn connect(&self) -> Result<Open, tokio_postgres::Error> {
        let (client, connection) = tokio_postgres::connect(&self.conninfo, NoTls).await?;
        let conn = tokio::spawn(async move {
            let _ = connection.await;
        });
        let open = Open { client, conn };
        if !self.setup.is_empty() {
            open.client.batch_execute(&self.setup).await?;
        }
        Ok(open)
    }

    /// Runs a query; a closed session is reopened and the query tried once more.
    pub async fn query(
        &self,
        sql: &str,
        params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
    ) -> Result<Vec<Row>, tokio_postgres::Error> {
        let mut guard = self.open.lock().await;
        if let Some(o) = guard.as_ref() {
            match o.client.query(sql, params).await {
                Ok(rows) => return Ok(rows),
                Err(e) if !o.client.is_closed() => return Err(e),
                Err(_) => *guard = None,
            }
        }
        let o = self.connect().await?;
        let rows = o.client.query(sql, params).await;
        *guard = Some(o);
        rows
    }

    /// Runs a query expected to return exactly one row.
    pub async fn one(
        &self,
        sql: &str,
        params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
    ) -> anyhow::Result<Row> {
        let mut rows = self
            .query(sql, params)
            .await
            .map_err(|e| anyhow::anyhow!("{}", crate::probe::error_text(&e)))?;
        if rows.len() != 1 {
            anyhow::bail!("expected one row from {sql:?}, got {}", rows.len());
        }
        Ok(rows.remove(0))
    }

    /// Runs `f` with the session's client; a closed session is reopened and `f` tried once more.
    pub async fn with_client<T, F>(&self, f: F) -> anyhow::Result<T>
    where
        F: AsyncFn(&Client) -> Result<T, tokio_postgres::Error>,
    {
        let text = |e: tokio_postgres::Error| anyhow::anyhow!("{}", crate::probe::error_text(&e));
        let mut guard = self.open.lock().await;
        if let Some(o) = guard.as_ref() {
            match f(&o.client).await {
                Ok(v) => return Ok(v),
                Err(e) if !o.client.is_closed() => return Err(text(e)),
                Err(_) => *guard = None,
            }
        }
        let o = self.connect().await.map_err(text)?;
        let result = f(&o.client).await.map_err(text);
        *guard = Some(o);
        result
    }
}
