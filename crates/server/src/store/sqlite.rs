//! The embedded SQLite backend: one writer thread with group commit, pooled read connections.

use std::{
    path::{Path, PathBuf},
    sync::{Arc, Mutex},
    thread::JoinHandle,
};

use hongyan_protocol::now_ms;
use rusqlite::{params, Connection, OpenFlags, OptionalExtension};
use tokio::sync::{mpsc, oneshot};

use super::{schema, ChatOutcome, MailboxRow, NewChat, StoreError, TokenInfo, UserRecord};

/// Most write commands committed in one transaction.
pub const MAX_BATCH: usize = 256;
/// Write commands that may wait for the writer before senders feel backpressure.
const QUEUE_DEPTH: usize = 8192;
/// Idle read connections kept open.
const READ_POOL: usize = 4;
/// Database file name inside the data dir.
pub const DB_FILE: &str = "hongyan.db";

/// Called with the commit's outcome once the transaction holding the job has ended.
type Completion = Box<dyn FnOnce(Result<(), String>) + Send>;
/// A write: runs on the writer connection inside the open transaction.
type Job = Box<dyn FnOnce(&Connection) -> Completion + Send>;

enum Command {
    Job(Job),
    Shutdown(oneshot::Sender<()>),
}

/// Handle to the store. Clone freely.
#[derive(Clone)]
pub struct SqliteStore {
    inner: Arc<Inner>,
}

struct Inner {
    writer: mpsc::Sender<Command>,
    path: PathBuf,
    readers: Mutex<Vec<Connection>>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.inner.path)
            .finish()
    }
}

impl SqliteStore {
    /// Opens (creating if needed) the database in `data_dir` and starts the writer thread.
    /// Blocking; call it once at startup.
    pub fn open(data_dir: &Path) -> Result<Self, StoreError> {
        std::fs::create_dir_all(data_dir)?;
        let path = data_dir.join(DB_FILE);
        let mut conn = Connection::open(&path)?;
        schema::migrate(&mut conn)?;
        let (tx, rx) = mpsc::channel(QUEUE_DEPTH);
        let thread = std::thread::Builder::new()
            .name("hongyan-store-writer".into())
            .spawn(move || writer_loop(conn, rx))?;
        Ok(Self {
            inner: Arc::new(Inner {
                writer: tx,
                path,
                readers: Mutex::new(Vec::new()),
                thread: Mutex::new(Some(thread)),
            }),
        })
    }

    /// Path of the database file.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Commits everything queued so far, stops the writer and waits for it. Later writes
    /// fail with [`StoreError::Closed`].
    pub async fn close(&self) {
        let (tx, rx) = oneshot::channel();
        if self.inner.writer.send(Command::Shutdown(tx)).await.is_ok() {
            let _ = rx.await;
        }
        let handle = self
            .inner
            .thread
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        if let Some(handle) = handle {
            let _ = tokio::task::spawn_blocking(move || handle.join()).await;
        }
    }

    /// Runs `f` on the writer connection inside a savepoint of the current group
    /// transaction, and answers only after that transaction committed.
    pub(super) async fn write<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let (tx, rx) = oneshot::channel::<Result<T, StoreError>>();
        let job: Job = Box::new(move |conn: &Connection| {
            let result = in_savepoint(conn, f);
            Box::new(move |commit: Result<(), String>| {
                let answer = match commit {
                    Ok(()) => result,
                    Err(e) => Err(StoreError::Commit(e)),
                };
                let _ = tx.send(answer);
            })
        });
        self.inner
            .writer
            .send(Command::Job(job))
            .await
            .map_err(|_| StoreError::Closed)?;
        rx.await.map_err(|_| StoreError::Closed)?
    }

    /// Runs `f` on a read-only connection on the blocking pool.
    pub(super) async fn read<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || {
            let pooled = inner
                .readers
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .pop();
            let conn = match pooled {
                Some(c) => c,
                None => {
                    let c = Connection::open_with_flags(
                        &inner.path,
                        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
                    )?;
                    schema::configure(&c)?;
                    c
                }
            };
            let result = f(&conn);
            let mut pool = inner.readers.lock().unwrap_or_else(|e| e.into_inner());
            if pool.len() < READ_POOL {
                pool.push(conn);
            }
            result
        })
        .await
        .map_err(|_| StoreError::Closed)?
    }

    // ---- accounts -------------------------------------------------------------------

    /// Creates an account; ids start at [`schema::FIRST_USER_ID`].
    pub async fn create_user(
        &self,
        username: String,
        nickname: String,
        password_hash: String,
    ) -> Result<i64, StoreError> {
        self.write(move |conn| {
            let taken: bool = conn
                .prepare_cached("SELECT 1 FROM users WHERE username = ?1")?
                .exists([&username])?;
            if taken {
                return Err(StoreError::UsernameTaken);
            }
            let id: i64 = conn
                .prepare_cached(
                    "INSERT INTO users (id, username, nickname, password_hash, created_at)
                     VALUES ((SELECT COALESCE(MAX(id) + 1, ?1) FROM users), ?2, ?3, ?4, ?5)
                     RETURNING id",
                )?
                .query_row(
                    params![
                        schema::FIRST_USER_ID,
                        username,
                        nickname,
                        password_hash,
                        now_ms()
                    ],
                    |r| r.get(0),
                )?;
            Ok(id)
        })
        .await
    }

    /// Enables or disables an account. `false` if there is no such user.
    pub async fn set_disabled(&self, user_id: i64, disabled: bool) -> Result<bool, StoreError> {
        self.write(move |conn| {
            Ok(conn
                .prepare_cached("UPDATE users SET disabled = ?2 WHERE id = ?1")?
                .execute(params![user_id, disabled])?
                > 0)
        })
        .await
    }

    /// Grants or revokes administrator rights. `false` if there is no such user.
    pub async fn set_admin(&self, user_id: i64, admin: bool) -> Result<bool, StoreError> {
        self.write(move |conn| {
            Ok(conn
                .prepare_cached("UPDATE users SET is_admin = ?2 WHERE id = ?1")?
                .execute(params![user_id, admin])?
                > 0)
        })
        .await
    }

    pub async fn user_by_username(
        &self,
        username: String,
    ) -> Result<Option<UserRecord>, StoreError> {
        self.read(move |conn| {
            Ok(conn
                .prepare_cached(&format!("{USER_SELECT} WHERE username = ?1"))?
                .query_row([username], user_row)
                .optional()?)
        })
        .await
    }

    pub async fn user_by_id(&self, user_id: i64) -> Result<Option<UserRecord>, StoreError> {
        self.read(move |conn| {
            Ok(conn
                .prepare_cached(&format!("{USER_SELECT} WHERE id = ?1"))?
                .query_row([user_id], user_row)
                .optional()?)
        })
        .await
    }

    /// Whether `user_id` names an account.
    pub async fn user_exists(&self, user_id: i64) -> Result<bool, StoreError> {
        self.read(move |conn| {
            Ok(conn
                .prepare_cached("SELECT 1 FROM users WHERE id = ?1")?
                .exists([user_id])?)
        })
        .await
    }

    /// Accounts whose username starts with `prefix` (case-insensitive), by username.
    pub async fn search_users(
        &self,
        prefix: String,
        limit: u32,
    ) -> Result<Vec<UserRecord>, StoreError> {
        self.read(move |conn| {
            let pattern = format!("{}%", escape_like(&prefix));
            let mut stmt = conn.prepare_cached(&format!(
                "{USER_SELECT} WHERE username LIKE ?1 ESCAPE '\\' ORDER BY username LIMIT ?2"
            ))?;
            let rows = stmt.query_map(params![pattern, limit], user_row)?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
        .await
    }

    // ---- tokens ---------------------------------------------------------------------

    /// Stores a token by its hash.
    pub async fn insert_token(
        &self,
        hash: String,
        user_id: i64,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        self.write(move |conn| {
            conn.prepare_cached(
                "INSERT INTO tokens (hash, user_id, created_at, expires_at) VALUES (?1, ?2, ?3, ?4)",
            )?
            .execute(params![hash, user_id, now_ms(), expires_at])?;
            Ok(())
        })
        .await
    }

    /// Revokes a token. `false` if it was not there.
    pub async fn delete_token(&self, hash: String) -> Result<bool, StoreError> {
        self.write(move |conn| {
            Ok(conn
                .prepare_cached("DELETE FROM tokens WHERE hash = ?1")?
                .execute([hash])?
                > 0)
        })
        .await
    }

    /// The owner of a token that has not expired at `now_ms`.
    pub async fn token_user(
        &self,
        hash: String,
        now_ms: i64,
    ) -> Result<Option<TokenInfo>, StoreError> {
        self.read(move |conn| {
            Ok(conn
                .prepare_cached(
                    "SELECT t.user_id, t.expires_at, u.disabled, u.is_admin FROM tokens t
                     JOIN users u ON u.id = t.user_id
                     WHERE t.hash = ?1 AND t.expires_at > ?2",
                )?
                .query_row(params![hash, now_ms], |r| {
                    Ok(TokenInfo {
                        user_id: r.get(0)?,
                        expires_at: r.get(1)?,
                        disabled: r.get(2)?,
                        is_admin: r.get(3)?,
                    })
                })
                .optional()?)
        })
        .await
    }

    // ---- mailbox --------------------------------------------------------------------

    /// Stores a chat message: deduplicates on `(from, fp)`, allocates the recipient's next
    /// seq, writes the recipient's copy and (unless it is a note to self) the sender's copy.
    /// All in one transaction; the answer arrives after commit.
    pub async fn store_chat(&self, msg: NewChat) -> Result<ChatOutcome, StoreError> {
        self.write(move |conn| store_chat_sync(conn, &msg)).await
    }

    /// The newest seq in `user_id`'s mailbox (0 when empty).
    pub async fn last_seq(&self, user_id: i64) -> Result<i64, StoreError> {
        self.read(move |conn| {
            Ok(conn
                .prepare_cached("SELECT last_seq FROM users WHERE id = ?1")?
                .query_row([user_id], |r| r.get(0))
                .optional()?
                .unwrap_or(0))
        })
        .await
    }

    /// Up to `limit` mailbox rows of `user_id` with seq > `after`, in seq order.
    pub async fn mailbox_after(
        &self,
        user_id: i64,
        after: i64,
        limit: u32,
    ) -> Result<Vec<MailboxRow>, StoreError> {
        self.read(move |conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT m.seq, m.fp, m.from_id, m.to_id, m.typeu,
                        COALESCE(b.content, m.content), m.sm
                 FROM mailbox m LEFT JOIN bodies b ON b.id = m.body_id
                 WHERE m.user_id = ?1 AND m.seq > ?2 ORDER BY m.seq LIMIT ?3",
            )?;
            let rows = stmt.query_map(params![user_id, after, limit], |r| {
                Ok(MailboxRow {
                    seq: r.get(0)?,
                    fp: r.get(1)?,
                    from: r.get(2)?,
                    to: r.get(3)?,
                    typeu: r.get(4)?,
                    content: r.get(5)?,
                    sm: r.get(6)?,
                })
            })?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
        .await
    }
}

const USER_SELECT: &str =
    "SELECT id, username, nickname, password_hash, disabled, created_at FROM users";

fn user_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<UserRecord> {
    Ok(UserRecord {
        id: r.get(0)?,
        username: r.get(1)?,
        nickname: r.get(2)?,
        password_hash: r.get(3)?,
        disabled: r.get(4)?,
        created_at: r.get(5)?,
    })
}

/// Escapes LIKE's wildcards (and the escape character `\`) in user input.
pub(super) fn escape_like(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

pub(super) fn next_seq(conn: &Connection, user_id: i64) -> Result<i64, StoreError> {
    conn.prepare_cached(
        "UPDATE users SET last_seq = last_seq + 1 WHERE id = ?1 RETURNING last_seq",
    )?
    .query_row([user_id], |r| r.get(0))
    .optional()?
    .ok_or(StoreError::NoSuchUser)
}

fn store_chat_sync(conn: &Connection, msg: &NewChat) -> Result<ChatOutcome, StoreError> {
    let seen = conn
        .prepare_cached("SELECT seq, sm FROM sent WHERE from_id = ?1 AND fp = ?2")?
        .query_row(params![msg.from, msg.fp], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    if let Some((seq, sm)) = seen {
        return Ok(ChatOutcome::Duplicate { seq, sm });
    }
    if msg.friends_only
        && msg.to != msg.from
        && !super::friends::are_friends(conn, msg.from, msg.to)?
    {
        // Only on this failure path: tell a missing recipient (1107) from a stranger (1101).
        let exists = conn
            .prepare_cached("SELECT 1 FROM users WHERE id = ?1")?
            .exists([msg.to])?;
        return Err(if exists {
            StoreError::NotAllowed
        } else {
            StoreError::NoSuchUser
        });
    }
    let sm = now_ms();
    let to = msg.to.to_string();
    let seq = next_seq(conn, msg.to)?;
    let mut insert = conn.prepare_cached(
        "INSERT INTO mailbox (user_id, seq, fp, from_id, to_id, typeu, content, sm)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?;
    insert.execute(params![
        msg.to,
        seq,
        msg.fp,
        msg.from,
        to,
        msg.typeu,
        msg.content,
        sm
    ])?;
    if msg.to != msg.from {
        let own = next_seq(conn, msg.from)?;
        insert.execute(params![
            msg.from,
            own,
            msg.fp,
            msg.from,
            to,
            msg.typeu,
            msg.content,
            sm
        ])?;
    }
    conn.prepare_cached("INSERT INTO sent (from_id, fp, seq, sm) VALUES (?1, ?2, ?3, ?4)")?
        .execute(params![msg.from, msg.fp, seq, sm])?;
    Ok(ChatOutcome::Stored { seq, sm })
}

/// Runs `f` in a savepoint so a failing command does not spoil the rest of the group.
fn in_savepoint<T>(
    conn: &Connection,
    f: impl FnOnce(&Connection) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    conn.prepare_cached("SAVEPOINT job")?.execute([])?;
    let result = f(conn);
    if result.is_err() {
        conn.prepare_cached("ROLLBACK TO job")?.execute([])?;
    }
    conn.prepare_cached("RELEASE job")?.execute([])?;
    result
}

fn writer_loop(conn: Connection, mut rx: mpsc::Receiver<Command>) {
    let mut batch: Vec<Command> = Vec::with_capacity(MAX_BATCH);
    let mut done: Vec<Completion> = Vec::with_capacity(MAX_BATCH);
    let mut shutdown = None;
    while shutdown.is_none() {
        let Some(first) = rx.blocking_recv() else {
            break;
        };
        batch.push(first);
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(cmd) => batch.push(cmd),
                Err(_) => break,
            }
        }
        let began = conn
            .execute_batch("BEGIN IMMEDIATE")
            .map_err(|e| e.to_string());
        for cmd in batch.drain(..) {
            match cmd {
                Command::Job(job) => match &began {
                    Ok(()) => done.push(job(&conn)),
                    // The jobs are dropped unrun; their callers see `Closed`-like errors.
                    Err(e) => tracing::error!(error = %e, "store: cannot begin a transaction"),
                },
                Command::Shutdown(tx) => shutdown = Some(tx),
            }
        }
        if began.is_ok() {
            let committed = conn.execute_batch("COMMIT").map_err(|e| e.to_string());
            if let Err(e) = &committed {
                tracing::error!(error = %e, "store: commit failed");
                let _ = conn.execute_batch("ROLLBACK");
            }
            for completion in done.drain(..) {
                completion(committed.clone());
            }
        }
    }
    rx.close();
    if let Err(e) = conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)") {
        tracing::warn!(error = %e, "store: checkpoint at shutdown failed");
    }
    drop(conn);
    if let Some(tx) = shutdown {
        let _ = tx.send(());
    }
    tracing::debug!("store writer stopped");
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn store() -> (tempfile::TempDir, SqliteStore) {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = SqliteStore::open(dir.path()).expect("open");
        (dir, store)
    }

    async fn user(store: &SqliteStore, name: &str) -> i64 {
        store
            .create_user(name.into(), name.into(), "hash".into())
            .await
            .expect("create")
    }

    fn chat(from: i64, to: i64, fp: &str) -> NewChat {
        NewChat {
            from,
            to,
            fp: fp.into(),
            typeu: 1,
            content: format!("body {fp}"),
            friends_only: false,
        }
    }

    #[tokio::test]
    async fn user_ids_start_at_10001_and_names_are_unique_ignoring_case() {
        let (_d, store) = store().await;
        assert_eq!(user(&store, "alice").await, 10001);
        assert_eq!(user(&store, "bob").await, 10002);
        let dup = store
            .create_user("ALICE".into(), "x".into(), "h".into())
            .await;
        assert!(matches!(dup, Err(StoreError::UsernameTaken)), "{dup:?}");
        // The failed insert did not spoil the group: the next one works.
        assert_eq!(user(&store, "carol").await, 10003);
        let found = store.user_by_username("Alice".into()).await.expect("read");
        assert_eq!(found.map(|u| u.id), Some(10001));
        let hits = store.search_users("b".into(), 20).await.expect("search");
        assert_eq!(hits.len(), 1);
        assert!(store
            .search_users("%".into(), 20)
            .await
            .expect("s")
            .is_empty());
    }

    #[tokio::test]
    async fn seqs_are_per_user_and_increase() {
        let (_d, store) = store().await;
        let a = user(&store, "alice").await;
        let b = user(&store, "bob").await;
        let first = store.store_chat(chat(a, b, "f1")).await.expect("store");
        let second = store.store_chat(chat(a, b, "f2")).await.expect("store");
        let third = store.store_chat(chat(b, a, "f3")).await.expect("store");
        assert!(matches!(first, ChatOutcome::Stored { seq: 1, .. }));
        assert!(matches!(second, ChatOutcome::Stored { seq: 2, .. }));
        // a's mailbox already holds its own two sent copies.
        assert!(matches!(third, ChatOutcome::Stored { seq: 3, .. }));
        assert_eq!(store.last_seq(a).await.expect("seq"), 3);
        assert_eq!(store.last_seq(b).await.expect("seq"), 3);
        let rows = store.mailbox_after(b, 0, 100).await.expect("rows");
        let fps: Vec<_> = rows.iter().map(|r| r.fp.as_str()).collect();
        assert_eq!(fps, ["f1", "f2", "f3"]);
        let env = rows[0].to_envelope();
        assert_eq!(
            (env.seq, env.from.as_str(), env.to.as_str()),
            (Some(1), "10001", "10002")
        );
        assert_eq!(store.mailbox_after(b, 2, 100).await.expect("rows").len(), 1);
    }

    #[tokio::test]
    async fn duplicate_fp_is_not_stored_twice() {
        let (_d, store) = store().await;
        let a = user(&store, "alice").await;
        let b = user(&store, "bob").await;
        let first = store.store_chat(chat(a, b, "same")).await.expect("store");
        let again = store.store_chat(chat(a, b, "same")).await.expect("store");
        assert_eq!(
            again,
            ChatOutcome::Duplicate {
                seq: first.seq(),
                sm: first.sm()
            }
        );
        assert_eq!(store.mailbox_after(b, 0, 100).await.expect("rows").len(), 1);
        // Another sender may reuse the fp.
        let other = store.store_chat(chat(b, a, "same")).await.expect("store");
        assert!(matches!(other, ChatOutcome::Stored { .. }));
    }

    #[tokio::test]
    async fn unknown_recipient_stores_nothing() {
        let (_d, store) = store().await;
        let a = user(&store, "alice").await;
        let err = store.store_chat(chat(a, 99999, "x")).await;
        assert!(matches!(err, Err(StoreError::NoSuchUser)), "{err:?}");
        assert_eq!(store.last_seq(a).await.expect("seq"), 0);
        // The fp was not burnt.
        let b = user(&store, "bob").await;
        assert!(matches!(
            store.store_chat(chat(a, b, "x")).await.expect("store"),
            ChatOutcome::Stored { .. }
        ));
    }

    #[tokio::test]
    async fn tokens_expire_and_revoke() {
        let (_d, store) = store().await;
        let a = user(&store, "alice").await;
        let now = now_ms();
        store
            .insert_token("live".into(), a, now + 60_000)
            .await
            .expect("insert");
        store
            .insert_token("old".into(), a, now - 1)
            .await
            .expect("insert");
        let live = store.token_user("live".into(), now).await.expect("read");
        assert_eq!(live.map(|t| t.user_id), Some(a));
        assert_eq!(
            store.token_user("old".into(), now).await.expect("read"),
            None
        );
        assert_eq!(
            store.token_user("nope".into(), now).await.expect("read"),
            None
        );
        assert!(store.set_disabled(a, true).await.expect("disable"));
        assert!(
            store
                .token_user("live".into(), now)
                .await
                .expect("r")
                .expect("t")
                .disabled
        );
        assert!(store.delete_token("live".into()).await.expect("delete"));
        assert_eq!(
            store.token_user("live".into(), now).await.expect("read"),
            None
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_writes_group_commit_and_survive_reopen() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = SqliteStore::open(dir.path()).expect("open");
        let a = user(&store, "alice").await;
        let b = user(&store, "bob").await;
        let mut tasks = Vec::new();
        for i in 0..500 {
            let s = store.clone();
            tasks.push(tokio::spawn(async move {
                s.store_chat(chat(a, b, &format!("fp{i}"))).await
            }));
        }
        let mut seqs = Vec::new();
        for t in tasks {
            seqs.push(t.await.expect("join").expect("store").seq());
        }
        seqs.sort_unstable();
        assert_eq!(seqs, (1..=500).collect::<Vec<_>>());
        store.close().await;
        assert!(matches!(
            store.store_chat(chat(a, b, "late")).await,
            Err(StoreError::Closed)
        ));
        let reopened = SqliteStore::open(dir.path()).expect("reopen");
        assert_eq!(reopened.last_seq(b).await.expect("seq"), 500);
        reopened.close().await;
    }

    /// Group-commit throughput: `cargo test -p hongyan-server --release -- --ignored
    /// store_throughput --nocapture`.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    #[ignore = "benchmark"]
    async fn store_throughput() {
        let (_d, store) = store().await;
        let mut users = Vec::new();
        for i in 0..200 {
            users.push(user(&store, &format!("u{i}")).await);
        }
        let per_sender = 500;
        let started = std::time::Instant::now();
        let mut tasks = Vec::new();
        for (i, &from) in users.iter().enumerate() {
            let to = users[(i + 1) % users.len()];
            let s = store.clone();
            tasks.push(tokio::spawn(async move {
                for n in 0..per_sender {
                    s.store_chat(chat(from, to, &format!("{from}-{n}")))
                        .await
                        .expect("store");
                }
            }));
        }
        for t in tasks {
            t.await.expect("join");
        }
        let total = users.len() * per_sender;
        let secs = started.elapsed().as_secs_f64();
        println!(
            "store_chat: {total} messages in {secs:.2}s = {:.0} msg/s",
            total as f64 / secs
        );
        store.close().await;
    }
}
