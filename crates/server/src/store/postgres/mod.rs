//! The PostgreSQL backend (docs/DEPLOY.md, "Storage backend"): a `deadpool-postgres` pool of
//! `tokio-postgres` connections; every write is one transaction that commits before the method
//! returns. Many server nodes may share one database: the schema is migrated under an advisory
//! lock ([`migrate`]) and mailbox seqs are allocated under the `users` row lock ([`mailbox`]).
//!
//! Every [`crate::store::Storage`] method exists as an inherent method here, one file per area
//! like the SQLite backend (accounts, 1:1 mailbox, friends, groups, group fan-out, notices,
//! media); `storage.rs` implements the trait by delegating to them. How concurrent writers
//! on many nodes are kept apart: [`fanout`] (row locks in id order) and [`notices`] (rev).

mod accounts;
pub mod fanout;
mod friends;
mod groups;
mod mailbox;
mod media;
pub mod migrate;
pub mod notices;
mod storage;

use std::time::Duration;

use deadpool_postgres::{
    Manager, ManagerConfig, Object, Pool, PoolError, RecyclingMethod, Runtime,
};
use tokio_postgres::{error::SqlState, NoTls};

use super::StoreError;

/// Most connections one node keeps open.
pub const POOL_SIZE: usize = 16;
/// How long opening one connection (TCP and PostgreSQL's startup) may take, unless the URL
/// sets a longer `connect_timeout`: a database that accepts but never answers is an error,
/// not a node hanging at start or a call hanging forever.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a call waits for a free pooled connection before it fails.
pub const WAIT_TIMEOUT: Duration = Duration::from_secs(10);

/// Handle to a PostgreSQL database. Clone freely (the pool is shared).
#[derive(Clone)]
pub struct PostgresStore {
    pool: Pool,
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Not the URL: it may carry a password.
        f.debug_struct("PostgresStore")
            .field("pool", &self.pool.status())
            .finish()
    }
}

impl PostgresStore {
    /// Connects to `url` (`postgres://user[:password]@host:port/db`), brings the schema up
    /// to date and keeps a pool of up to [`POOL_SIZE`] connections.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let mut config: tokio_postgres::Config = url
            .parse()
            .map_err(|e| StoreError::PostgresSetup(format!("bad PostgreSQL URL: {e}")))?;
        let connect_timeout = match config.get_connect_timeout() {
            Some(t) => (*t).max(CONNECT_TIMEOUT),
            None => {
                config.connect_timeout(CONNECT_TIMEOUT);
                CONNECT_TIMEOUT
            }
        };
        let manager = Manager::from_config(
            config,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(POOL_SIZE)
            .runtime(Runtime::Tokio1)
            .create_timeout(Some(connect_timeout))
            .wait_timeout(Some(WAIT_TIMEOUT))
            .build()
            .map_err(|e| StoreError::PostgresSetup(e.to_string()))?;
        let store = Self { pool };
        let mut client = store.client().await?;
        migrate::migrate(&mut client).await?;
        drop(client);
        Ok(store)
    }

    /// Closes the pool: later calls fail with [`StoreError::Closed`].
    pub async fn close(&self) {
        self.pool.close();
    }

    /// A pooled connection.
    async fn client(&self) -> Result<Object, StoreError> {
        self.pool.get().await.map_err(pool_error)
    }
}

/// SQLSTATEs the message functions (migration 0002) raise for a refusal.
const REFUSED_NOT_ALLOWED: &str = "HY101";
const REFUSED_NO_SUCH_USER: &str = "HY107";

/// A driver error, or the [`StoreError`] a server-side function refused with.
fn refusal_or(e: tokio_postgres::Error) -> StoreError {
    match e.code().map(SqlState::code) {
        Some(REFUSED_NOT_ALLOWED) => StoreError::NotAllowed,
        Some(REFUSED_NO_SUCH_USER) => StoreError::NoSuchUser,
        _ => StoreError::Postgres(e),
    }
}

fn pool_error(e: PoolError) -> StoreError {
    match e {
        PoolError::Closed => StoreError::Closed,
        PoolError::Backend(e) => StoreError::Postgres(e),
        e => StoreError::PostgresSetup(e.to_string()),
    }
}
