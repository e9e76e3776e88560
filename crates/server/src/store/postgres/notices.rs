//! Notices (the public mailbox, read diffusion), with the SQLite backend's semantics
//! (`store::notices`): every change (create, publish to all, recall) takes the next value of
//! the global counter `rev`, and a reader asks "what changed for me after cursor C".
//!
//! With many nodes writing, a cursor must never move past a change that commits later with
//! a lower rev. So rev allocation is serialised: a writer takes the transaction-scoped
//! advisory lock [`REV_LOCK`] before reading `MAX(rev) + 1`, and holds it until it commits.
//! Writers therefore commit in rev order (PostgreSQL makes a commit visible before it
//! releases the transaction's locks), and any rev a reader sees committed has every lower
//! rev committed before it: `MAX(rev)` is a safe bound for the cursor. Notice writes are
//! rare admin actions, so serialising them costs nothing that matters.

use deadpool_postgres::{GenericClient, Transaction};
use hongyan_protocol::{
    api::{Audience, Notice},
    now_ms,
};
use tokio_postgres::Row;

use super::PostgresStore;
use crate::store::{notices::PAGE_LIMIT, StoreError};

/// The advisory lock every notice writer holds from allocating its rev to its commit
/// ("notices" in ASCII; [`super::migrate::LOCK_KEY`] is another key).
pub const REV_LOCK: i64 = 0x006e_6f74_6963_6573;

/// Takes [`REV_LOCK`] and allocates the next rev.
async fn next_rev(tx: &Transaction<'_>) -> Result<i64, StoreError> {
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&REV_LOCK])
        .await?;
    // A fresh statement after the lock: it sees the previous holder's commit.
    Ok(tx
        .query_one("SELECT COALESCE(MAX(rev), 0) + 1 FROM notices", &[])
        .await?
        .get(0))
}

/// A notice, its rev and its whitelist (empty for "all").
const NOTICE_SELECT: &str = "SELECT n.id, n.title, n.body, n.published_at, n.recalled, n.rev,
        n.audience_all,
        ARRAY(SELECT a.user_id FROM notice_audience a WHERE a.notice_id = n.id
              ORDER BY a.user_id)
     FROM notices n";

/// The notice as users see it (no audience) and its rev.
fn notice_row(r: &Row) -> (Notice, i64) {
    (
        Notice {
            id: r.get(0),
            title: r.get(1),
            body: r.get(2),
            published_at: r.get(3),
            recalled: r.get(4),
            audience: None,
        },
        r.get(5),
    )
}

/// The notice with its audience (admin answers).
fn admin_row(r: &Row) -> Notice {
    let (mut notice, _) = notice_row(r);
    let all: bool = r.get(6);
    let ids: Vec<i64> = r.get(7);
    notice.audience = Some(if all {
        Audience::All
    } else {
        Audience::Users(ids.iter().map(i64::to_string).collect())
    });
    notice
}

async fn admin_view(client: &impl GenericClient, id: i64) -> Result<Notice, StoreError> {
    client
        .query_opt(&format!("{NOTICE_SELECT} WHERE n.id = $1"), &[&id])
        .await?
        .map(|r| admin_row(&r))
        .ok_or(StoreError::NotFound)
}

impl PostgresStore {
    /// Creates a notice for `audience` (user ids must exist). Returns it with its audience.
    pub async fn create_notice(
        &self,
        title: String,
        body: String,
        audience: Vec<i64>,
        all: bool,
    ) -> Result<Notice, StoreError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        if !all {
            // Checked first, so a refused notice takes neither the rev lock nor an id.
            let wanted = dedup(&audience);
            let found: i64 = tx
                .query_one("SELECT COUNT(*) FROM users WHERE id = ANY($1)", &[&wanted])
                .await?
                .get(0);
            if found as usize != wanted.len() {
                return Err(StoreError::NoSuchUser);
            }
        }
        let rev = next_rev(&tx).await?;
        let now = now_ms();
        let id: i64 = tx
            .query_one(
                "INSERT INTO notices (title, body, audience_all, created_at, published_at, rev)
                 VALUES ($1, $2, $3, $4, $4, $5) RETURNING id",
                &[&title, &body, &all, &now, &rev],
            )
            .await?
            .get(0);
        if !all {
            tx.execute(
                "INSERT INTO notice_audience (notice_id, user_id)
                 SELECT $1, u FROM unnest($2::BIGINT[]) AS u ON CONFLICT DO NOTHING",
                &[&id, &audience],
            )
            .await?;
        }
        let notice = admin_view(&tx, id).await?;
        tx.commit().await?;
        Ok(notice)
    }

    /// Makes notice `id` visible to everyone (a new change: every cursor sees it again).
    pub async fn publish_notice(&self, id: i64) -> Result<Notice, StoreError> {
        self.change_notice(id, Change::Publish).await
    }

    /// Recalls notice `id` everywhere. Returns its audience before the recall.
    pub async fn recall_notice(&self, id: i64) -> Result<Notice, StoreError> {
        self.change_notice(id, Change::Recall).await
    }

    /// Makes `change` to notice `id` at a new rev; [`StoreError::NotFound`] if there is no
    /// such notice or it was recalled.
    async fn change_notice(&self, id: i64, change: Change) -> Result<Notice, StoreError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let rev = next_rev(&tx).await?;
        let changed = match change {
            Change::Publish => {
                tx.execute(
                    "UPDATE notices SET audience_all = TRUE, published_at = $3, rev = $2
                     WHERE id = $1 AND NOT recalled",
                    &[&id, &rev, &now_ms()],
                )
                .await?
            }
            Change::Recall => {
                tx.execute(
                    "UPDATE notices SET recalled = TRUE, rev = $2 WHERE id = $1 AND NOT recalled",
                    &[&id, &rev],
                )
                .await?
            }
        };
        if changed == 0 {
            return Err(StoreError::NotFound);
        }
        let notice = admin_view(&tx, id).await?;
        tx.commit().await?;
        Ok(notice)
    }

    /// Every notice with its audience, newest first (admin).
    pub async fn all_notices(&self) -> Result<Vec<Notice>, StoreError> {
        let client = self.client().await?;
        let rows = client
            .query(&format!("{NOTICE_SELECT} ORDER BY n.id DESC"), &[])
            .await?;
        Ok(rows.iter().map(admin_row).collect())
    }

    /// The notices visible to `user` that changed after `cursor`, oldest change first, and
    /// the cursor to pass next time. The bound is read first and the rows are limited to it,
    /// so a change committed in between is returned next time, never skipped (see the
    /// module docs for why `MAX(rev)` is safe with many writers).
    pub async fn notices_after(
        &self,
        user: i64,
        cursor: i64,
    ) -> Result<(Vec<Notice>, i64), StoreError> {
        let client = self.client().await?;
        let newest: i64 = client
            .query_one("SELECT COALESCE(MAX(rev), 0) FROM notices", &[])
            .await?
            .get(0);
        let rows = client
            .query(
                &format!(
                    "{NOTICE_SELECT} WHERE n.rev > $2 AND n.rev <= $3
                       AND (n.audience_all OR EXISTS (SELECT 1 FROM notice_audience a
                            WHERE a.notice_id = n.id AND a.user_id = $1))
                     ORDER BY n.rev LIMIT $4"
                ),
                &[&user, &cursor, &newest, &i64::from(PAGE_LIMIT)],
            )
            .await?;
        let rows: Vec<(Notice, i64)> = rows.iter().map(notice_row).collect();
        // A full page ends at its last row; the rest comes with the next call.
        let next = if rows.len() as u32 == PAGE_LIMIT {
            rows.last().map_or(newest, |r| r.1)
        } else {
            newest.max(cursor)
        };
        Ok((rows.into_iter().map(|r| r.0).collect(), next))
    }
}

/// A change to an existing notice.
#[derive(Debug, Clone, Copy)]
enum Change {
    Publish,
    Recall,
}

/// `ids` without repeats.
fn dedup(ids: &[i64]) -> Vec<i64> {
    let mut out = ids.to_vec();
    out.sort_unstable();
    out.dedup();
    out
}
