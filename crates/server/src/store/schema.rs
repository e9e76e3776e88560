//! The SQLite schema, versioned with `PRAGMA user_version`.

use rusqlite::Connection;

/// Migrations in order; `MIGRATIONS[i]` takes the database from version `i` to `i + 1`.
const MIGRATIONS: &[&str] = &[
    // 1: accounts, tokens, mailboxes, sender dedup.
    r#"
    CREATE TABLE users (
        id            INTEGER PRIMARY KEY,
        username      TEXT    NOT NULL UNIQUE COLLATE NOCASE,
        nickname      TEXT    NOT NULL,
        password_hash TEXT    NOT NULL,
        disabled      INTEGER NOT NULL DEFAULT 0,
        created_at    INTEGER NOT NULL,
        last_seq      INTEGER NOT NULL DEFAULT 0
    );
    CREATE TABLE tokens (
        hash       TEXT    PRIMARY KEY,
        user_id    INTEGER NOT NULL REFERENCES users(id),
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE INDEX tokens_user ON tokens(user_id);
    CREATE TABLE mailbox (
        user_id INTEGER NOT NULL,
        seq     INTEGER NOT NULL,
        fp      TEXT    NOT NULL,
        from_id INTEGER NOT NULL,
        to_id   TEXT    NOT NULL,
        typeu   INTEGER NOT NULL,
        content TEXT    NOT NULL,
        sm      INTEGER NOT NULL,
        PRIMARY KEY (user_id, seq)
    ) WITHOUT ROWID;
    CREATE TABLE sent (
        from_id INTEGER NOT NULL,
        fp      TEXT    NOT NULL,
        seq     INTEGER NOT NULL,
        sm      INTEGER NOT NULL,
        PRIMARY KEY (from_id, fp)
    ) WITHOUT ROWID;
    "#,
    // 2: friends, friend requests, administrators.
    r#"
    ALTER TABLE users ADD COLUMN is_admin INTEGER NOT NULL DEFAULT 0;
    CREATE TABLE friends (
        user_id   INTEGER NOT NULL,
        friend_id INTEGER NOT NULL,
        since     INTEGER NOT NULL,
        PRIMARY KEY (user_id, friend_id)
    ) WITHOUT ROWID;
    CREATE TABLE friend_requests (
        id         INTEGER PRIMARY KEY,
        from_id    INTEGER NOT NULL,
        to_id      INTEGER NOT NULL,
        message    TEXT    NOT NULL,
        status     TEXT    NOT NULL,
        created_at INTEGER NOT NULL
    );
    CREATE INDEX friend_requests_to ON friend_requests(to_id, status);
    CREATE INDEX friend_requests_from ON friend_requests(from_id, status);
    "#,
    // 3: groups. AUTOINCREMENT: a deleted group's id is never handed out again.
    r#"
    CREATE TABLE chat_groups (
        id         INTEGER PRIMARY KEY AUTOINCREMENT,
        name       TEXT    NOT NULL,
        owner_id   INTEGER NOT NULL,
        created_at INTEGER NOT NULL
    );
    CREATE TABLE group_members (
        group_id  INTEGER NOT NULL,
        user_id   INTEGER NOT NULL,
        joined_at INTEGER NOT NULL,
        PRIMARY KEY (group_id, user_id)
    ) WITHOUT ROWID;
    CREATE INDEX group_members_user ON group_members(user_id);
    "#,
    // 4: notices (public mailbox, read diffusion); `rev` is a global change counter.
    r#"
    CREATE TABLE notices (
        id           INTEGER PRIMARY KEY,
        title        TEXT    NOT NULL,
        body         TEXT    NOT NULL,
        audience_all INTEGER NOT NULL,
        created_at   INTEGER NOT NULL,
        published_at INTEGER NOT NULL,
        recalled     INTEGER NOT NULL DEFAULT 0,
        rev          INTEGER NOT NULL
    );
    CREATE UNIQUE INDEX notices_rev ON notices(rev);
    CREATE TABLE notice_audience (
        notice_id INTEGER NOT NULL,
        user_id   INTEGER NOT NULL,
        PRIMARY KEY (notice_id, user_id)
    ) WITHOUT ROWID;
    "#,
    // 5: a group message's body is stored once; each member's mailbox row references it
    // (`content` is then empty). Measured in crates/bench/benches/fanout.rs.
    r#"
    CREATE TABLE bodies (
        id      INTEGER PRIMARY KEY,
        content TEXT    NOT NULL
    );
    ALTER TABLE mailbox ADD COLUMN body_id INTEGER;
    "#,
    // 6: uploaded media (docs/MEDIA.md), content-addressed: the file is
    // <data-dir>/media/<sha[0..2]>/<sha>. `uploader` is who completed it first.
    r#"
    CREATE TABLE media (
        sha256     TEXT    PRIMARY KEY,
        mime       TEXT    NOT NULL,
        size       INTEGER NOT NULL,
        uploader   INTEGER NOT NULL,
        created_at INTEGER NOT NULL
    ) WITHOUT ROWID;
    "#,
];

/// First user id handed out.
pub const FIRST_USER_ID: i64 = 10001;

/// The schema version this build writes.
pub fn latest_version() -> i64 {
    MIGRATIONS.len() as i64
}

/// Connection-level settings for every connection.
pub fn configure(conn: &Connection) -> rusqlite::Result<()> {
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    conn.execute_batch("PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;")
}

/// Turns on WAL and brings the schema up to date. Runs on the writer connection only.
pub fn migrate(conn: &mut Connection) -> rusqlite::Result<()> {
    conn.pragma_update(None, "journal_mode", "WAL")?;
    configure(conn)?;
    // The writer: a bigger page cache and fewer (fsyncing) checkpoints.
    conn.execute_batch("PRAGMA cache_size = -32000; PRAGMA wal_autocheckpoint = 8192;")?;
    let current: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if current > latest_version() {
        return Err(rusqlite::Error::InvalidParameterName(format!(
            "database schema version {current} is newer than this server ({})",
            latest_version()
        )));
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(current as usize) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", (i + 1) as i64)?;
        tx.commit()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrates_once_and_is_idempotent() {
        let mut conn = Connection::open_in_memory().expect("open");
        migrate(&mut conn).expect("first");
        migrate(&mut conn).expect("second");
        let v: i64 = conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .expect("version");
        assert_eq!(v, latest_version());
    }
}
