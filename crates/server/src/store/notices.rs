//! Notices: the public mailbox (read diffusion). A notice is stored once; who may see it is
//! "all" or a whitelist. Every change (create, publish to all, recall) takes the next value
//! of a global counter `rev`, so "what changed for me after cursor C" is one indexed query,
//! and a whitelisted pre-release that is later published reaches users whose cursor has
//! already moved past its creation.

use hongyan_protocol::{
    api::{Audience, Notice},
    now_ms,
};
use rusqlite::{params, Connection, OptionalExtension};

use super::{SqliteStore, StoreError};

/// Most notices one page returns.
pub const PAGE_LIMIT: u32 = 500;

fn next_rev(conn: &Connection) -> Result<i64, StoreError> {
    Ok(conn
        .prepare_cached("SELECT COALESCE(MAX(rev), 0) + 1 FROM notices")?
        .query_row([], |r| r.get(0))?)
}

const NOTICE_SELECT: &str =
    "SELECT n.id, n.title, n.body, n.published_at, n.recalled, n.rev, n.audience_all FROM notices n";

/// (notice, rev, audience_all)
fn notice_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<(Notice, i64, bool)> {
    Ok((
        Notice {
            id: r.get(0)?,
            title: r.get(1)?,
            body: r.get(2)?,
            published_at: r.get(3)?,
            recalled: r.get(4)?,
            audience: None,
        },
        r.get(5)?,
        r.get(6)?,
    ))
}

fn audience_of(conn: &Connection, id: i64, all: bool) -> Result<Audience, StoreError> {
    if all {
        return Ok(Audience::All);
    }
    let ids = conn
        .prepare_cached(
            "SELECT user_id FROM notice_audience WHERE notice_id = ?1 ORDER BY user_id",
        )?
        .query_map([id], |r| Ok(r.get::<_, i64>(0)?.to_string()))?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Audience::Users(ids))
}

fn admin_view(conn: &Connection, id: i64) -> Result<Notice, StoreError> {
    let (mut notice, _, all) = conn
        .prepare_cached(&format!("{NOTICE_SELECT} WHERE n.id = ?1"))?
        .query_row([id], notice_row)
        .optional()?
        .ok_or(StoreError::NotFound)?;
    notice.audience = Some(audience_of(conn, id, all)?);
    Ok(notice)
}

impl SqliteStore {
    /// Creates a notice for `audience` (user ids must exist). Returns it with its audience.
    pub async fn create_notice(
        &self,
        title: String,
        body: String,
        audience: Vec<i64>,
        all: bool,
    ) -> Result<Notice, StoreError> {
        self.write(move |conn| {
            let now = now_ms();
            let rev = next_rev(conn)?;
            let id: i64 = conn
                .prepare_cached(
                    "INSERT INTO notices (title, body, audience_all, created_at, published_at, rev)
                     VALUES (?1, ?2, ?3, ?4, ?4, ?5) RETURNING id",
                )?
                .query_row(params![title, body, all, now, rev], |r| r.get(0))?;
            if !all {
                let mut insert = conn.prepare_cached(
                    "INSERT OR IGNORE INTO notice_audience (notice_id, user_id) VALUES (?1, ?2)",
                )?;
                for user in &audience {
                    let exists = conn
                        .prepare_cached("SELECT 1 FROM users WHERE id = ?1")?
                        .exists([user])?;
                    if !exists {
                        return Err(StoreError::NoSuchUser);
                    }
                    insert.execute(params![id, user])?;
                }
            }
            admin_view(conn, id)
        })
        .await
    }

    /// Makes notice `id` visible to everyone (a new change: every cursor sees it again).
    pub async fn publish_notice(&self, id: i64) -> Result<Notice, StoreError> {
        self.write(move |conn| {
            let rev = next_rev(conn)?;
            let changed = conn
                .prepare_cached(
                    "UPDATE notices SET audience_all = 1, published_at = ?2, rev = ?3
                     WHERE id = ?1 AND recalled = 0",
                )?
                .execute(params![id, now_ms(), rev])?;
            if changed == 0 {
                return Err(StoreError::NotFound);
            }
            admin_view(conn, id)
        })
        .await
    }

    /// Recalls notice `id` everywhere. Returns its audience before the recall.
    pub async fn recall_notice(&self, id: i64) -> Result<Notice, StoreError> {
        self.write(move |conn| {
            let rev = next_rev(conn)?;
            let changed = conn
                .prepare_cached(
                    "UPDATE notices SET recalled = 1, rev = ?2 WHERE id = ?1 AND recalled = 0",
                )?
                .execute(params![id, rev])?;
            if changed == 0 {
                return Err(StoreError::NotFound);
            }
            admin_view(conn, id)
        })
        .await
    }

    /// Every notice with its audience, newest first (admin).
    pub async fn all_notices(&self) -> Result<Vec<Notice>, StoreError> {
        self.read(move |conn| {
            let rows = conn
                .prepare_cached(&format!("{NOTICE_SELECT} ORDER BY n.id DESC"))?
                .query_map([], notice_row)?
                .collect::<Result<Vec<_>, _>>()?;
            rows.into_iter()
                .map(|(mut n, _, all)| {
                    n.audience = Some(audience_of(conn, n.id, all)?);
                    Ok(n)
                })
                .collect()
        })
        .await
    }

    /// The notices visible to `user` that changed after `cursor`, oldest change first, and
    /// the cursor to pass next time. The cursor is read first and the rows are bounded by
    /// it, so a change committed in between is returned next time, never skipped.
    pub async fn notices_after(
        &self,
        user: i64,
        cursor: i64,
    ) -> Result<(Vec<Notice>, i64), StoreError> {
        self.read(move |conn| {
            let newest: i64 = conn
                .prepare_cached("SELECT COALESCE(MAX(rev), 0) FROM notices")?
                .query_row([], |r| r.get(0))?;
            let rows = conn
                .prepare_cached(&format!(
                    "{NOTICE_SELECT} WHERE n.rev > ?2 AND n.rev <= ?3
                       AND (n.audience_all = 1 OR EXISTS (SELECT 1 FROM notice_audience a
                            WHERE a.notice_id = n.id AND a.user_id = ?1))
                     ORDER BY n.rev LIMIT ?4"
                ))?
                .query_map(params![user, cursor, newest, PAGE_LIMIT], notice_row)?
                .collect::<Result<Vec<_>, _>>()?;
            // A full page ends at its last row; the rest comes with the next call.
            let next = if rows.len() as u32 == PAGE_LIMIT {
                rows.last().map_or(newest, |r| r.1)
            } else {
                newest.max(cursor)
            };
            Ok((rows.into_iter().map(|r| r.0).collect(), next))
        })
        .await
    }
}
