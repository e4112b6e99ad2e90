//! PostgreSQL for the lab tests: finding it, connecting, its own LSN arithmetic, and polling

//! for a condition.
use std::future::Future;
use std::time::Duration;

use migtop::model::Lsn;
use tokio_postgres::{Client, NoTls};

/// Whether PostgreSQL is there: a printed skip without it, a failure under CI (see
/// [`super::tools`]).
pub fn have_pg() -> bool {
    super::tools::postgres().is_some()
}

/// A connection to `dsn`, its driver running on the test runtime.
pub async fn connect(dsn: &str) -> Client {
    let (client, conn) = tokio_postgres::connect(dsn, NoTls).await.unwrap();
    tokio::spawn(conn);
    client
}

/// The primary's `pg_current_wal_lsn()`.
pub async fn current_lsn(pg: &Client) -> Lsn {
    let s: String = pg
        .query_one("SELECT pg_current_wal_lsn()::text", &[])
        .await
        .unwrap()
        .get(0);
    s.parse().unwrap()
}

/// PostgreSQL's own `pg_wal_lsn_diff(a, b)`, computed on the primary.
pub async fn pg_diff(pg: &Client, a: Lsn, b: Lsn) -> i64 {
    pg.query_one(
        "SELECT pg_wal_lsn_diff($1::text::pg_lsn, $2::text::pg_lsn)::bigint",
        &[&a.to_string(), &b.to_string()],
    )
    .await
    .unwrap()
    .get(0)
}

/// PostgreSQL's `pg_wal_lsn_diff(greatest(a, b), c)`.
pub async fn pg_diff_greatest(pg: &Client, a: Lsn, b: Lsn, c: Lsn) -> i64 {
    pg.query_one(
        "SELECT pg_wal_lsn_diff(greatest($1::text::pg_lsn, $2::text::pg_lsn), $3::text::pg_lsn)::bigint",
        &[&a.to_string(), &b.to_string(), &c.to_string()],
    )
    .await
    .unwrap()
    .get(0)
}

/// Polls `f` until it returns `Some`, or panics after `timeout` naming `what`.
pub async fn eventually<T, F, Fut>(what: &str, timeout: Duration, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out after {timeout:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
