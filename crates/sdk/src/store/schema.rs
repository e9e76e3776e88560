//! Schema and migrations, versioned with `PRAGMA user_version`.

use rusqlite::Connection;

/// The schema version this build writes.
pub const VERSION: i32 = 3;

const V1: &str = "
CREATE TABLE IF NOT EXISTS messages (
    id              TEXT PRIMARY KEY,
    conversation_id TEXT NOT NULL,
    sender          TEXT NOT NULL,
    recipient       TEXT NOT NULL,
    typeu           INTEGER NOT NULL,
    content         TEXT NOT NULL,
    sent_at         INTEGER NOT NULL,
    seq             INTEGER,
    status          TEXT NOT NULL,
    fail_code       INTEGER,
    fail_reason     TEXT,
    outgoing        INTEGER NOT NULL,
    stored_at       INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS messages_by_conversation
    ON messages (conversation_id, sent_at, id);
CREATE TABLE IF NOT EXISTS conversations (
    id              TEXT PRIMARY KEY,
    last_message_id TEXT,
    last_text       TEXT,
    last_at         INTEGER NOT NULL DEFAULT 0,
    unread          INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS conversations_by_activity ON conversations (last_at);
CREATE TABLE IF NOT EXISTS outbox (
    id           TEXT PRIMARY KEY,
    envelope     TEXT NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    last_sent_at INTEGER NOT NULL DEFAULT 0,
    -- 1 = shown as failed after QoS gave up on this connection; resent after the next login.
    parked       INTEGER NOT NULL DEFAULT 0,
    created_at   INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS sync_state (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
";

/// The version-1 schema, for migration tests.
#[cfg(test)]
pub(crate) const V1_FOR_TESTS: &str = V1;

/// Version 2 (issue 5): per-message unread flag (read receipts, removing an unread notice),
/// caches of friends, pending friend requests, groups and user names, and the ids of server
/// events already applied (a friend event can arrive live and again by sync).
const V2: &str = "
ALTER TABLE messages ADD COLUMN unread INTEGER NOT NULL DEFAULT 0;
CREATE INDEX IF NOT EXISTS messages_unread ON messages (conversation_id) WHERE unread = 1;
CREATE TABLE IF NOT EXISTS friends (
    user_id TEXT PRIMARY KEY,
    body    TEXT NOT NULL           -- JSON api::Friend
);
CREATE TABLE IF NOT EXISTS friend_requests (
    id       INTEGER PRIMARY KEY,
    incoming INTEGER NOT NULL,
    body     TEXT NOT NULL          -- JSON api::FriendRequest (pending ones only)
);
CREATE TABLE IF NOT EXISTS chat_groups (
    group_id TEXT PRIMARY KEY,
    body     TEXT NOT NULL          -- JSON api::Group
);
CREATE TABLE IF NOT EXISTS users (
    user_id  TEXT PRIMARY KEY,
    username TEXT NOT NULL,
    nickname TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS seen_events (
    id      TEXT PRIMARY KEY,
    seen_at INTEGER NOT NULL
);
";

/// The version-2 schema, for migration tests.
#[cfg(test)]
pub(crate) const V2_FOR_TESTS: &str = V2;

/// Version 3 (issue 7): image messages whose files are still uploading. Such a message is
/// stored (status `sending`) with a row here and no outbox row: its envelope joins the
/// outbox only once the upload succeeded, so the engine never sends a message that points
/// at media the server does not have.
const V3: &str = "
CREATE TABLE IF NOT EXISTS uploads (
    message_id TEXT PRIMARY KEY,
    files      TEXT NOT NULL,   -- JSON [{sha256, size}]: the thumbnail first, then the image
    state      TEXT NOT NULL,   -- 'pending' (upload to run) or 'failed' (waits for retry)
    created_at INTEGER NOT NULL
);
";

/// Applies connection settings and brings the schema to [`VERSION`].
pub fn migrate(conn: &mut Connection) -> rusqlite::Result<()> {
    // journal_mode returns a row; in-memory databases answer "memory".
    let _mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
    conn.execute_batch(
        "PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;",
    )?;
    let current: i32 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if current > VERSION {
        return Err(rusqlite::Error::ToSqlConversionFailure(
            format!("store schema {current} is newer than this build ({VERSION})").into(),
        ));
    }
    if current < 1 {
        let tx = conn.transaction()?;
        tx.execute_batch(V1)?;
        tx.pragma_update(None, "user_version", 1)?;
        tx.commit()?;
    }
    if current < 2 {
        let tx = conn.transaction()?;
        tx.execute_batch(V2)?;
        tx.pragma_update(None, "user_version", 2)?;
        tx.commit()?;
    }
    if current < 3 {
        let tx = conn.transaction()?;
        tx.execute_batch(V3)?;
        tx.pragma_update(None, "user_version", 3)?;
        tx.commit()?;
    }
    Ok(())
}
