//! Schema migrations: the SQL files in `crates/server/migrations/postgres/`, applied in order
//! inside one transaction that first takes a transaction-scoped advisory lock, so nodes
//! starting together wait for each other instead of racing. Applied versions are rows of
//! `schema_migrations`.

use deadpool_postgres::Client;

use crate::store::StoreError;

/// `(version, sql)` in order; a version is never edited once released, only added after.
const MIGRATIONS: &[(i32, &str)] = &[
    (
        1,
        include_str!("../../../migrations/postgres/0001_init.sql"),
    ),
    (
        2,
        include_str!("../../../migrations/postgres/0002_message_functions.sql"),
    ),
];

/// The advisory lock key every node migrates under ("hongyan" in ASCII).
pub const LOCK_KEY: i64 = 0x0068_6f6e_6779_616e;

/// The schema version this build writes.
pub fn latest_version() -> i32 {
    MIGRATIONS.last().map_or(0, |(v, _)| *v)
}

/// Brings the database's schema up to [`latest_version`]; refuses a newer database.
pub async fn migrate(client: &mut Client) -> Result<(), StoreError> {
    let tx = client.transaction().await?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&LOCK_KEY])
        .await?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
             version    INTEGER PRIMARY KEY,
             applied_at BIGINT  NOT NULL
         )",
    )
    .await?;
    let current: i32 = tx
        .query_one(
            "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
            &[],
        )
        .await?
        .get(0);
    if current > latest_version() {
        return Err(StoreError::PostgresSetup(format!(
            "database schema version {current} is newer than this server ({})",
            latest_version()
        )));
    }
    for (version, sql) in MIGRATIONS.iter().filter(|(v, _)| *v > current) {
        tx.batch_execute(sql).await?;
        tx.execute(
            "INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)",
            &[version, &hongyan_protocol::now_ms()],
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}
