//! What the source's checklist finds in the lab: unlogged tables with rows in two databases,
//! a logical replication slot, and optionally a prepared transaction left open. Physical
//! replication carries none of the tables' rows, so the promoted standby has them empty.

use anyhow::Context;
use tokio_postgres::NoTls;

use super::{Lab, pg};

/// The unlogged table made in the `postgres` database.
pub const UNLOGGED_TABLE: &str = "orders_cache";
/// The second database, which holds an unlogged table too.
pub const SECOND_DB: &str = "shop";
/// The unlogged table made in [`SECOND_DB`].
pub const SECOND_TABLE: &str = "cart_cache";
/// The logical slot's name.
pub const LOGICAL_SLOT: &str = "migtop_lab_cdc";
/// The prepared transaction's gid.
pub const PREPARED_GID: &str = "migtop_lab_prepared";
/// Rows in each unlogged table.
pub const ROWS: i64 = 50_000;

/// Which of the checklist's objects the lab makes at start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Fixtures {
    /// Unlogged tables with rows in `postgres` and in [`SECOND_DB`].
    pub unlogged: bool,
    /// A logical slot ([`LOGICAL_SLOT`], `test_decoding`).
    pub logical_slot: bool,
    /// A prepared transaction left open ([`PREPARED_GID`]): DRAINED waits for it.
    pub prepared: bool,
}

impl Fixtures {
    /// Everything but the prepared transaction: what `migtop lab` makes by default.
    pub fn lab_default() -> Fixtures {
        Fixtures {
            unlogged: true,
            logical_slot: true,
            prepared: false,
        }
    }
}

fn unlogged_sql(table: &str) -> String {
    format!(
        "CREATE UNLOGGED TABLE IF NOT EXISTS {table} (id bigint PRIMARY KEY, payload text); \
         INSERT INTO {table} SELECT g, md5(g::text) FROM generate_series(1, {ROWS}) g \
           ON CONFLICT DO NOTHING; \
         ANALYZE {table}"
    )
}

async fn session(port: u16, db: &str) -> anyhow::Result<tokio_postgres::Client> {
    let conninfo = pg::conninfo(port).replace("dbname=postgres", &format!("dbname={db}"));
    let (client, conn) = tokio_postgres::connect(&conninfo, NoTls)
        .await
        .with_context(|| format!("cannot connect to the primary's database {db}"))?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    Ok(client)
}

impl Lab {
    /// Makes what `f` asks for on the primary (each step is idempotent).
    pub async fn create_fixtures(&self, f: Fixtures) -> anyhow::Result<()> {
        if f.unlogged {
            self.create_unlogged().await?;
        }
        if f.logical_slot {
            self.create_logical_slot().await?;
        }
        if f.prepared {
            self.prepare_transaction().await?;
        }
        Ok(())
    }

    /// Unlogged tables of [`ROWS`] rows in `postgres` and in [`SECOND_DB`] (made if missing).
    pub async fn create_unlogged(&self) -> anyhow::Result<()> {
        let pg = session(self.primary_port, "postgres").await?;
        let exists = pg
            .query_opt(
                "SELECT 1 FROM pg_database WHERE datname = $1",
                &[&SECOND_DB],
            )
            .await?
            .is_some();
        if !exists {
            pg.batch_execute(&format!("CREATE DATABASE {SECOND_DB}"))
                .await
                .map_err(|e| anyhow::anyhow!("{}", crate::probe::error_text(&e)))?;
        }
        pg.batch_execute(&unlogged_sql(UNLOGGED_TABLE))
            .await
            .map_err(|e| anyhow::anyhow!("{}", crate::probe::error_text(&e)))?;
        let shop = session(self.primary_port, SECOND_DB).await?;
        shop.batch_execute(&unlogged_sql(SECOND_TABLE))
            .await
            .map_err(|e| anyhow::anyhow!("{}", crate::probe::error_text(&e)))?;
        Ok(())
    }

    /// Drops the unlogged tables (the second database stays, empty).
    pub async fn drop_unlogged(&self) -> anyhow::Result<()> {
        let pg = session(self.primary_port, "postgres").await?;
        pg.batch_execute(&format!("DROP TABLE IF EXISTS {UNLOGGED_TABLE}"))
            .await?;
        if pg
            .query_opt(
                "SELECT 1 FROM pg_database WHERE datname = $1",
                &[&SECOND_DB],
            )
            .await?
            .is_some()
        {
            let shop = session(self.primary_port, SECOND_DB).await?;
            shop.batch_execute(&format!("DROP TABLE IF EXISTS {SECOND_TABLE}"))
                .await?;
        }
        Ok(())
    }

    /// A logical slot on the primary (`test_decoding`, no consumer).
    pub async fn create_logical_slot(&self) -> anyhow::Result<()> {
        self.primary
            .query(
                "SELECT pg_create_logical_replication_slot($1, 'test_decoding') \
                  WHERE NOT EXISTS (SELECT 1 FROM pg_replication_slots WHERE slot_name = $1)",
                &[&LOGICAL_SLOT],
            )
            .await
            .map_err(|e| anyhow::anyhow!("{}", crate::probe::error_text(&e)))?;
        Ok(())
    }

    /// Drops the logical slot, if there is one.
    pub async fn drop_logical_slot(&self) -> anyhow::Result<()> {
        self.primary
            .query(
                "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots \
                  WHERE slot_name = $1",
                &[&LOGICAL_SLOT],
            )
            .await
            .map_err(|e| anyhow::anyhow!("{}", crate::probe::error_text(&e)))?;
        Ok(())
    }

    /// Leaves a prepared transaction open (it wrote one row, so it holds an xid).
    pub async fn prepare_transaction(&self) -> anyhow::Result<()> {
        let pg = session(self.primary_port, "postgres").await?;
        let open = prepared_open(&pg).await?;
        if open {
            return Ok(());
        }
        pg.batch_execute(&format!(
            "CREATE TABLE IF NOT EXISTS migtop_lab_prepared (id int); \
             BEGIN; INSERT INTO migtop_lab_prepared VALUES (1); \
             PREPARE TRANSACTION '{PREPARED_GID}'"
        ))
        .await
        .map_err(|e| anyhow::anyhow!("{}", crate::probe::error_text(&e)))?;
        Ok(())
    }

    /// Commits the prepared transaction, if one is open.
    pub async fn finish_prepared(&self) -> anyhow::Result<()> {
        let pg = session(self.primary_port, "postgres").await?;
        let open = prepared_open(&pg).await?;
        if open {
            pg.batch_execute(&format!("COMMIT PREPARED '{PREPARED_GID}'"))
                .await?;
        }
        Ok(())
    }

    /// Drops everything [`Lab::create_fixtures`] may have made (the `U` key).
    pub async fn drop_fixtures(&self) -> anyhow::Result<()> {
        self.drop_unlogged().await?;
        self.drop_logical_slot().await?;
        self.finish_prepared().await
    }
}

/// Whether the lab's prepared transaction is open on `pg`.
async fn prepared_open(pg: &tokio_postgres::Client) -> anyhow::Result<bool> {
    Ok(pg
        .query_opt(
            "SELECT 1 FROM pg_prepared_xacts WHERE gid = $1",
            &[&PREPARED_GID],
        )
        .await?
        .is_some())
}
