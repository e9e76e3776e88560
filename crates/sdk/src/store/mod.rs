//! The local SQLite store: one file per account
//! (`<data_dir>/<host_port>/<user_id>/store.sqlite3`), WAL mode, `synchronous=NORMAL`.
//!
//! [`Store`] is a cheap-to-clone handle around one connection behind a mutex. Its methods
//! block; async code calls them through [`Store::call`], which runs them on tokio's blocking
//! pool so SQLite never stalls the runtime. Benchmarks may use it directly, including raw
//! SQL on the same file through [`Store::with_connection`].
//!
//! Tables: `messages` (id = fp, the dedup key; index `(conversation_id, sent_at, id)` for
//! keyset history), `conversations` (last message, unread count), `outbox` (unacked own
//! messages with their envelope, attempts and last send time: it survives restarts) and
//! `sync_state` (the mailbox seq cursor, the notices cursor). Version 2 adds a per-message
//! unread flag and caches of friends, friend requests, groups and user names
//! (`store/social.rs`, `store/users.rs`). Version 3 adds `uploads`: image messages held
//! back from the outbox until their files are on the server (`store/uploads.rs`).

mod conversations;
mod messages;
mod outbox;
pub mod schema;
mod search;
mod social;
mod uploads;
mod users;

use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};

use rusqlite::{Connection, OptionalExtension};

use crate::error::{Error, Result};

pub use outbox::OutboxEntry;
pub use search::{IndexRow, JournalEntry, MAX_AROUND};
pub use uploads::{PendingUpload, UploadFile};

/// The file name of an account's store.
pub const FILE_NAME: &str = "store.sqlite3";

const CURSOR_KEY: &str = "mailbox_seq";

/// Handle to one account's store.
#[derive(Clone)]
pub struct Store {
    conn: Arc<Mutex<Connection>>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").finish_non_exhaustive()
    }
}

impl Store {
    /// Opens (creating if needed) the store at `path` and migrates it.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        Self::from_connection(Connection::open(path)?)
    }

    /// A private in-memory store (tests, benchmarks).
    pub fn open_in_memory() -> Result<Self> {
        Self::from_connection(Connection::open_in_memory()?)
    }

    fn from_connection(mut conn: Connection) -> Result<Self> {
        schema::migrate(&mut conn)?;
        Ok(Self {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock leaves SQLite consistent (transactions roll back).
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Runs `f` with the raw connection (for benchmarks and ad-hoc queries).
    pub fn with_connection<T>(&self, f: impl FnOnce(&mut Connection) -> T) -> T {
        f(&mut self.lock())
    }

    /// Runs a blocking store operation on tokio's blocking pool.
    pub async fn call<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Store) -> Result<T> + Send + 'static,
    {
        let store = self.clone();
        tokio::task::spawn_blocking(move || f(&store)).await?
    }

    /// The mailbox seq up to which everything is stored (0 = nothing yet).
    pub fn sync_cursor(&self) -> Result<i64> {
        Ok(self
            .state(CURSOR_KEY)?
            .and_then(|v| v.parse().ok())
            .unwrap_or(0))
    }

    /// Moves the cursor forward to `seq` (never backwards). Returns the cursor after.
    pub fn advance_sync_cursor(&self, seq: i64) -> Result<i64> {
        let conn = self.lock();
        conn.execute(
            "INSERT INTO sync_state (key, value) VALUES (?1, ?2)
             ON CONFLICT(key) DO UPDATE SET value = excluded.value
             WHERE CAST(sync_state.value AS INTEGER) < CAST(excluded.value AS INTEGER)",
            (CURSOR_KEY, seq.to_string()),
        )?;
        let v: String = conn.query_row(
            "SELECT value FROM sync_state WHERE key = ?1",
            [CURSOR_KEY],
            |r| r.get(0),
        )?;
        v.parse()
            .map_err(|_| Error::Protocol(format!("bad stored cursor {v:?}")))
    }

    /// A value from `sync_state`.
    pub fn state(&self, key: &str) -> Result<Option<String>> {
        Ok(self
            .lock()
            .query_row("SELECT value FROM sync_state WHERE key = ?1", [key], |r| {
                r.get(0)
            })
            .optional()?)
    }

    /// Sets a value in `sync_state`.
    pub fn set_state(&self, key: &str, value: &str) -> Result<()> {
        self.lock().execute(
            "INSERT INTO sync_state (key, value) VALUES (?1, ?2)
             ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, value),
        )?;
        Ok(())
    }
}

#[cfg(test)]
mod tests;
